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
    private long delivered;
    private long position;
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
        if (position == history.length) history = Arrays.copyOf(history, history.length * 2);
        history[(int) position++] = (byte) b;
        delivered = position;
        out.write(b);
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
        positionAt.put(id, position);
    }

    /**
     * The machine went back to checkpoint {@code id}. {@code fork} = the user asked for it: what
     * follows is a new timeline and is printed again.
     */
    public void rolledBack(int id, boolean fork) {
        Long p = positionAt.get(id);
        position = p == null ? 0 : p;
        if (fork) delivered = position;
        positionAt.keySet().removeIf(k -> k > id);
    }

    /**
     * The machine was put back where the guest had printed {@code position} bytes of this timeline,
     * between checkpoints (a debugger's saved state): what follows is replay, as after a recovery.
     */
    public void replayFrom(long position) {
        if (position < 0 || position > delivered) throw new IllegalArgumentException("output position " + position + " was never reached");
        this.position = position;
    }

    /**
     * The timeline forks at output position {@code position} (a debugger wrote to the guest there,
     * or went back past such a write): output after it is printed again as it happens.
     */
    public void forkAt(long position) {
        if (position < this.position) throw new IllegalArgumentException("the fork point lies behind the guest");
        if (position < delivered) delivered = position;
    }

    /** Everything delivered so far (for tests and campaign classification). */
    public byte[] deliveredBytes() {
        return Arrays.copyOf(history, (int) delivered);
    }
}
