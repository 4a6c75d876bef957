package io.mucheckpoint.recovery;

import io.mucheckpoint.vmm.dev.ConsoleSink;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Console output that stays right across rollbacks (design brief, invariant 7). It remembers the
 * guest's output position at every checkpoint and a high-water mark of bytes already delivered.
 * After an automatic recovery the guest re-executes and prints again what the user has already
 * seen: those bytes are checked against what was delivered and suppressed, so every byte appears
 * once. After a rollback the user asked for, the timeline forks: output is delivered again as it
 * happens.
 */
public final class ReplayConsole implements ConsoleSink {
    private static final Logger log = LoggerFactory.getLogger(ReplayConsole.class);

    private final ConsoleSink out;
    private byte[] history = new byte[4096];
    /** Guest time at which each byte of the history was written (for the delay output commit adds). */
    private long[] writtenAt = new long[4096];
    /** Bytes the sink has delivered (the high-water mark); history[delivered, end) is held back. */
    private long delivered;
    private long end;
    private long position;
    /** Output commit: hold bytes until the checkpoint after them is this old (guest ns); -1: deliver at once. */
    private long holdNanos = -1;
    private java.util.function.LongSupplier clockNanos = () -> 0;
    /** Held output closed by a checkpoint: {end position, guest time at which it may go out}, oldest first. */
    private final java.util.ArrayDeque<long[]> seals = new java.util.ArrayDeque<>();
    private long heldBytes, heldDelaySumNanos, heldDelayMaxNanos;
    private final Map<Integer, Long> positionAt = new HashMap<>();
    private long divergences;
    private Runnable progress = () -> {};
    private java.util.function.IntConsumer printed = b -> {};
    private final boolean userFacing;

    /** A console the user watches: a divergence is worth a warning on the terminal. */
    public ReplayConsole(ConsoleSink out) {
        this(out, true);
    }

    /**
     * @param userFacing false for a campaign's injected runs, whose divergences are expected results
     *     (counted and classified), not news for the user
     */
    public ReplayConsole(ConsoleSink out, boolean userFacing) {
        this.out = out;
        this.userFacing = userFacing;
    }

    /** Called for every byte the guest outputs (a progress marker for the hang watchdog). */
    public void onProgress(Runnable r) {
        progress = r;
    }

    /**
     * Output commit (design brief, invariant 7): from now on a byte is delivered only when the first
     * checkpoint taken after it is {@code latencyNanos} of guest time old, so an error detected within
     * that bound rolls back before its output shows. {@code clockNanos} reads the guest's time.
     */
    public ReplayConsole withOutputCommit(long latencyNanos, java.util.function.LongSupplier clockNanos) {
        if (latencyNanos < 0) throw new IllegalArgumentException("the latency bound cannot be negative");
        this.holdNanos = latencyNanos;
        this.clockNanos = clockNanos;
        return this;
    }

    public boolean holdsOutput() {
        return holdNanos >= 0;
    }

    /** Called with every byte the guest prints, replayed or not (for detectors that read the console). */
    public void onPrinted(java.util.function.IntConsumer l) {
        printed = l;
    }

    @Override
    public void write(int b) {
        progress.run();
        printed.accept(b);
        if (position < delivered) {
            if (history[(int) position] == (byte) b) {
                position++;
                return;
            }
            divergences++;
            String msg = "after a rollback the guest printed different output at byte {} than it had before; "
                    + "output continues from there (the earlier bytes cannot be taken back)";
            if (userFacing) log.warn(msg, position);
            else log.debug(msg, position);
            delivered = position;
        }
        if (position == history.length) {
            history = Arrays.copyOf(history, history.length * 2);
            writtenAt = Arrays.copyOf(writtenAt, history.length);
        }
        writtenAt[(int) position] = holdNanos >= 0 ? clockNanos.getAsLong() : 0;
        history[(int) position++] = (byte) b;
        end = position;
        if (holdNanos < 0) {
            delivered = position;
            out.write(b);
        }
    }

    /** Delivers held output whose checkpoint is old enough at guest time {@code nowNanos}. */
    public void release(long nowNanos) {
        while (!seals.isEmpty() && seals.peekFirst()[1] <= nowNanos) deliverTo(seals.pollFirst()[0], nowNanos);
    }

    /** Delivers all held output (the guest exited, idles with no timer armed, or the run ends). */
    public void releaseAll() {
        seals.clear();
        deliverTo(end, clockNanos.getAsLong());
    }

    /** Guest time at which held output is next due to go out, or Long.MAX_VALUE. */
    public long nextReleaseNanos() {
        return seals.isEmpty() ? Long.MAX_VALUE : seals.peekFirst()[1];
    }

    private void deliverTo(long to, long nowNanos) {
        for (; delivered < Math.min(to, end); delivered++) {
            long delay = Math.max(0, nowNanos - writtenAt[(int) delivered]);
            heldBytes++;
            heldDelaySumNanos += delay;
            heldDelayMaxNanos = Math.max(heldDelayMaxNanos, delay);
            out.write(history[(int) delivered]);
        }
    }

    /** What output commit cost: bytes held, and their mean and longest delay in guest time (ns). */
    public record HeldOutput(long bytes, long meanDelayNanos, long maxDelayNanos) {}

    public HeldOutput heldOutput() {
        return new HeldOutput(heldBytes, heldBytes == 0 ? 0 : heldDelaySumNanos / heldBytes, heldDelayMaxNanos);
    }

    /** The guest's output position now (bytes on the current timeline). */
    public long position() {
        return position;
    }

    public long delivered() {
        return delivered;
    }

    /** Times replayed output differed from what had been delivered. */
    public long divergences() {
        return divergences;
    }

    /** A checkpoint was taken: remember where the output stood. */
    public void checkpointTaken(int id) {
        checkpointTaken(id, clockNanos.getAsLong());
    }

    /** A checkpoint was taken at guest time {@code guestNanos}: held output before it may go out L later. */
    public void checkpointTaken(int id, long guestNanos) {
        positionAt.put(id, position);
        if (holdNanos >= 0 && end > delivered && (seals.isEmpty() || seals.peekLast()[0] < end)) {
            seals.addLast(new long[] {end, guestNanos + holdNanos});
        }
        release(guestNanos);
    }

    /**
     * The machine went back to checkpoint {@code id}. {@code fork} = the user asked for it: what
     * follows is a new timeline and is printed again.
     */
    public void rolledBack(int id, boolean fork) {
        Long p = positionAt.get(id);
        position = p == null ? 0 : p;
        if (fork) delivered = Math.min(delivered, position);
        truncateHeld();
        positionAt.keySet().removeIf(k -> k > id);
    }

    /** Held output past where the guest now stands was never seen: it un-happens with the rollback. */
    private void truncateHeld() {
        end = Math.max(delivered, position);
        while (!seals.isEmpty() && seals.peekLast()[0] > end) seals.pollLast();
    }

    /**
     * The machine was put back where the guest had printed {@code position} bytes of this timeline,
     * between checkpoints (a debugger's saved state): what follows is replay, as after a recovery.
     */
    public void replayFrom(long position) {
        if (position < 0 || position > end) throw new IllegalArgumentException("output position " + position + " was never reached");
        this.position = position;
        truncateHeld();
    }

    /**
     * The timeline forks at output position {@code position} (a debugger wrote to the guest there,
     * or went back past such a write): output after it is printed again as it happens.
     */
    public void forkAt(long position) {
        if (position < this.position) throw new IllegalArgumentException("the fork point lies behind the guest");
        if (position < delivered) delivered = position;
        truncateHeld();
    }

    /**
     * Starts where a run that printed {@code prefix} (all of it delivered) stands, with the output
     * positions of the checkpoints it kept ({@code positions}: checkpoint id to bytes before it), so
     * that a rollback to one of them replays from the right byte. For a run fast-forwarded to a
     * golden checkpoint; not with output commit (held output is not part of what it takes over).
     */
    public void resumeAt(byte[] prefix, Map<Integer, Long> positions) {
        if (holdNanos >= 0) throw new IllegalStateException("a resumed console cannot take over held output");
        if (end != 0) throw new IllegalStateException("the console has printed already");
        history = Arrays.copyOf(prefix, Math.max(4096, Integer.highestOneBit(Math.max(1, prefix.length)) * 2));
        writtenAt = new long[history.length];
        position = delivered = end = prefix.length;
        positionAt.putAll(positions);
    }

    /**
     * The timeline's output as delivered so far: a byte the guest re-printed differently after a
     * rollback replaces the one the user saw, so this is not what the user saw (the sink knows that).
     */
    public byte[] deliveredBytes() {
        return Arrays.copyOf(history, (int) delivered);
    }
}
