package io.mucheckpoint.checkpoint;

import io.mucheckpoint.vmm.Machine;
import io.mucheckpoint.vmm.MachineState;
import io.mucheckpoint.vmm.RunResult;
import io.mucheckpoint.vmm.mem.GuestMemory;
import java.util.ArrayList;
import java.util.List;
import java.util.SortedSet;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The micro-checkpoint engine: cuts the guest's run into epochs, keeps the checkpoints that the
 * error-latency window needs, and rolls the live machine back to any of them in place.
 *
 * <p>At an epoch boundary the engine records the machine's small state and, in copy-on-write mode,
 * write-protects all of RAM in O(1); the first write to each page then saves its pre-image into the
 * newest checkpoint's undo log. Pages the predictor expects to be written are copied at the
 * boundary instead. Everything runs on the machine's thread, between instructions.
 *
 * <p>Nothing is dropped silently (design brief, invariant 6): every stored image carries a CRC32C
 * that a rollback verifies before touching RAM, and when the memory budget forces older
 * checkpoints out the engine says how much of the latency window is still covered.
 */
public final class CheckpointEngine {
    private static final Logger log = LoggerFactory.getLogger(CheckpointEngine.class);
    /** Instructions run between looks at the host clock in --clock host mode. */
    private static final long HOST_CLOCK_SLICE = 50_000;

    private final Machine machine;
    private final GuestMemory memory;
    private CheckpointConfig config; // keep, latency (retune), interval and predictor (reconfigure) change in place
    private final PageStore store = new PageStore();
    private final Strategy strategy;
    private DirtyPagePredictor predictor; // reconfigure may replace it
    private final BlockUndo blocks;
    private final List<Checkpoint> ring = new ArrayList<>();
    /**
     * Emptied page sets of dropped checkpoints, for the next ones: their arrays have grown to an
     * epoch's size already, so capturing a page allocates nothing once the run is warm.
     */
    private final java.util.ArrayDeque<SavedPages> spareSets = new java.util.ArrayDeque<>();
    private final List<RollbackListener> listeners = new CopyOnWriteArrayList<>();
    private final List<java.util.function.Consumer<CheckpointInfo>> boundaryListeners = new CopyOnWriteArrayList<>();
    private final List<java.util.function.Consumer<String>> warningListeners = new CopyOnWriteArrayList<>();
    private final List<java.util.function.Consumer<CheckpointInfo>> epochListeners = new CopyOnWriteArrayList<>();
    private final long[] written;
    private final long[] predicted;
    /** Pages whose speculative pre-copy is being given back (scratch for {@link #reclaimSpeculative}). */
    private final long[] reclaim;
    /** Pre-copy on the second core (null: at the boundary, on this thread). */
    private HelperPrecopy helper;
    /** Whether the newest epoch still holds pre-copies that may be unwritten (and so reclaimable). */
    private boolean speculativeLive;
    private long intervalTicks; // reconfigure may change it
    private final Totals totals = new Totals();
    private int nextId;
    private long nextBoundaryTicks = Long.MAX_VALUE;
    private long nextBoundaryIcount = Long.MAX_VALUE;
    private long nextBoundaryHostNanos = Long.MAX_VALUE;
    private boolean forceBoundary;
    private boolean inBoundary;
    private boolean started;
    private long lastCoverageWarning = -1;
    /** The one warning that --keep covers less than L has been given (since the last retune). */
    private boolean keepShortWarned;

    /** Hears about rollbacks (the recovery layer keeps output and input consistent across them). */
    public interface RollbackListener {
        void rolledBack(CheckpointInfo target, long fromIcount);
    }

    public CheckpointEngine(Machine machine, CheckpointConfig config) {
        this.machine = machine;
        this.memory = machine.memory;
        this.config = config;
        long ram = memory.ramSize();
        switch (config.mode()) {
            case COPY -> {
                if (config.memoryBudget() < ram + (4L << 20)) {
                    throw new IllegalArgumentException("copy mode keeps a full base image: --checkpoint-memory must exceed the RAM size ("
                            + (ram >> 20) + "M) by at least 4M");
                }
                strategy = new CopyStrategy(store, memory);
            }
            case FULL -> {
                if (config.memoryBudget() < 2 * ram) {
                    throw new IllegalArgumentException("full mode keeps whole RAM images: --checkpoint-memory must be at least twice the RAM size ("
                            + (2 * ram >> 20) + "M)");
                }
                strategy = new FullStrategy(store, memory);
            }
            default -> strategy = new CowStrategy(store, memory);
        }
        this.blocks = new BlockUndo(store, machine.drives.stream().map(io.mucheckpoint.vmm.dev.VirtioBlk::disk).toList());
        this.predictor = DirtyPagePredictor.of(config.mode() == CheckpointConfig.Mode.COW
                ? config.predictor() : CheckpointConfig.PredictorKind.NONE, memory.pageCount());
        int words = (memory.pageCount() + 63) >>> 6;
        this.written = new long[words];
        this.predicted = new long[words];
        this.reclaim = new long[words];
        this.intervalTicks = ticksOf(config.interval());
        warnIfWindowShort();
    }

    private long ticksOf(Interval interval) {
        long ticks = interval.instructions() ? 0 : machine.clock.fromNanos(interval.amount());
        if (!interval.instructions() && ticks <= 0) {
            throw new IllegalArgumentException("interval " + interval + " is shorter than one guest instruction");
        }
        return ticks;
    }

    private void warnIfWindowShort() {
        keepShortWarned = false;
        if (!config.keepCaps()) return;
        long covered = config.interval().instructions()
                ? machine.clock.toNanos(config.interval().amount()) * (config.keep() - 1)
                : config.interval().amount() * (config.keep() - 1);
        if (!config.hostClock() && covered < config.latencyNanos()) {
            keepShortWarned = true;
            log.warn("--keep {} at {} intervals covers only {} ms of guest time, less than the latency bound of {} ms",
                    config.keep(), config.interval(), covered / 1_000_000, config.latencyNanos() / 1_000_000);
        }
    }

    /**
     * Changes retention in place: how many checkpoints are kept and the latency bound. The checkpoints
     * taken so far stay; a smaller keep drops the oldest now. (The interval and predictor change with
     * {@link #reconfigure}; the mode is fixed for an engine's life.)
     */
    public void retune(int keep, long latencyNanos) {
        if (keep < 1) throw new IllegalArgumentException("keep must be at least 1");
        if (latencyNanos < 0) throw new IllegalArgumentException("the latency bound cannot be negative");
        config = config.withKeep(keep).withLatencyNanos(latencyNanos);
        retain();
        warnIfWindowShort();
    }

    /**
     * Changes the epoch length and the predictor in place: the checkpoints taken so far stay, with
     * their ids; the next boundary falls one new interval after the newest checkpoint (at once if
     * that is past). A new predictor starts without history. Mode, clock and budget stay fixed.
     */
    public void reconfigure(Interval interval, CheckpointConfig.PredictorKind predictorKind) {
        if (config.hostClock() && interval.instructions()) {
            throw new IllegalArgumentException("the engine follows the host clock: give a time interval (like 50ms)");
        }
        long ticks = ticksOf(interval);
        if (predictorKind != config.predictor()) {
            predictor = DirtyPagePredictor.of(config.mode() == CheckpointConfig.Mode.COW
                    ? predictorKind : CheckpointConfig.PredictorKind.NONE, memory.pageCount());
        }
        config = config.withInterval(interval).withPredictor(predictorKind);
        intervalTicks = ticks;
        // run() reads the schedule fields raw: the old kind's deadline must not linger (it would stop every run at once).
        nextBoundaryTicks = Long.MAX_VALUE;
        nextBoundaryIcount = Long.MAX_VALUE;
        nextBoundaryHostNanos = Long.MAX_VALUE;
        if (started) scheduleAfter(newest());
        warnIfWindowShort();
    }

    /**
     * Moves the pre-copy to a helper thread, concurrently with the guest (copy-on-write only): the
     * boundary only reserves a slot for each predicted page, and a write that reaches a page before
     * the helper copies it itself ({@link HelperPrecopy}). Off by default: a fault injector's raw
     * flips, which bypass the write door, would land before or after the copy by host timing.
     */
    public void precopyOnHelper(boolean on) {
        settleHelper();
        helper = on && strategy.usesTraps() ? new HelperPrecopy(store, memory.backing(), memory.pageCount()) : null;
    }

    /** For tests: whether the helper has begun copying the open batch. */
    boolean helperBegun() {
        return helper != null && helper.begun();
    }

    /** For tests: write traps that met the helper copying their page and waited for it. */
    long helperWaits() {
        return helper == null ? 0 : helper.waits;
    }

    /**
     * Ends an open helper batch in the middle of an epoch, so that the newest log can be read: the
     * pre-copies of pages not written yet leave it (their pages are still protected, so a later
     * write captures them as usual).
     */
    private void settleHelper() {
        if (helper == null || !helper.open()) return;
        Checkpoint c = newest();
        helper.finish(c.pages);
        java.util.Arrays.fill(reclaim, 0L);
        Strategy.forEachPage(predicted, memory.pageCount(), p -> {
            if (!memory.isDirty(p)) reclaim[p >>> 6] |= 1L << (p & 63);
        });
        for (int w = 0; w < predicted.length; w++) predicted[w] &= ~reclaim[w];
        c.pages.retain(p -> !Strategy.bit(reclaim, p), store::release);
        speculativeLive = false;
    }

    public CheckpointConfig config() {
        return config;
    }

    public void addRollbackListener(RollbackListener l) {
        listeners.add(l);
    }

    /**
     * Hears every warning the engine gives while running (the memory budget ran out, the retained
     * checkpoints no longer cover the latency bound), as the one-line text it also logs.
     */
    public void addWarningListener(java.util.function.Consumer<String> l) {
        warningListeners.add(l);
    }

    private void warn(String message) {
        log.warn(message);
        for (var l : warningListeners) l.accept(message);
    }

    /** Called right after each checkpoint is taken, with the machine exactly at that checkpoint. */
    public void addBoundaryListener(java.util.function.Consumer<CheckpointInfo> l) {
        boundaryListeners.add(l);
    }

    /**
     * Called at each boundary, after the new checkpoint is taken, with the checkpoint whose epoch just
     * ended: its counters (pages written, trapped, pre-copied) are then final. It may have been
     * dropped from the ring since; this is the record of its epoch (for per-epoch statistics).
     */
    public void addEpochListener(java.util.function.Consumer<CheckpointInfo> l) {
        epochListeners.add(l);
    }

    /** Takes the first checkpoint where the machine is now and turns on capture. */
    public void start() {
        if (started) return;
        started = true;
        memory.setWriteTrap(this::trap);
        memory.drainDirty(written);
        Checkpoint first = newCheckpoint();
        ring.add(first);
        strategy.start(first);
        if (strategy.usesTraps()) memory.setProtection(true);
        blocks.capture(this::blockTrap);
        scheduleAfter(first);
        announce(first);
    }

    /**
     * A retained checkpoint as another engine can take it over: where it was taken, the machine's
     * small state then, and its undo log (pages and their pre-images). A campaign's golden run
     * records these so that each injection starts with the history the golden run had there
     * instead of re-running the prefix (issue 18's fast-forward).
     */
    public record Seed(int id, long icount, long ticks, long guestNanos, byte[] state, int[] pages, byte[][] images, int[] crcs) {}

    /**
     * The CRC32C by which the engine verifies a page image: a seed's owner may compute it once and
     * hand the images over as they are ({@link #startFrom} then takes them without copying).
     */
    public static int imageCrc(byte[] image) {
        return PageStore.crcOf(image);
    }

    /**
     * Takes the first checkpoints from {@code seeds} (oldest first) instead of the machine: the
     * machine must stand where the newest of them was taken, with the RAM and state it had then;
     * the newest's log holds the pages pre-copied at its boundary, which stay unprotected, and the
     * predictor continues from {@code predictorState} ({@link #predictorState} at that boundary).
     * From here on the engine does exactly what the engine that took them did. Copy-on-write only.
     * The images are taken without a copy and never written; each comes with its {@link #imageCrc}.
     */
    public void startFrom(List<Seed> seeds, byte[] predictorState) {
        if (started) throw new IllegalStateException("the engine has started already");
        if (config.mode() != CheckpointConfig.Mode.COW) throw new IllegalStateException("seeded starts need copy-on-write mode");
        if (helper != null) throw new IllegalStateException("seeded starts pre-copy on the machine's thread");
        if (seeds.isEmpty()) throw new IllegalArgumentException("no checkpoint to start from");
        Seed last = seeds.get(seeds.size() - 1);
        if (last.icount() != machine.cpu.icount() || last.ticks() != machine.clock.now()) {
            throw new IllegalArgumentException("the machine is not where checkpoint " + last.id() + " was taken");
        }
        started = true;
        memory.setWriteTrap(this::trap);
        memory.drainDirty(written);
        for (Seed s : seeds) {
            Checkpoint c = new Checkpoint(s.id(), s.icount(), s.ticks(), s.guestNanos(), System.nanoTime(), s.state(), blocks.drives(),
                    new SavedPages());
            for (int i = 0; i < s.pages().length; i++) c.pages.add(s.pages()[i], store.storeShared(s.images()[i], s.crcs()[i]));
            ring.add(c);
        }
        nextId = last.id() + 1;
        Checkpoint newest = newest();
        strategy.start(ring.get(0));
        memory.setProtection(true);
        java.util.Arrays.fill(predicted, 0L);
        for (int p : last.pages()) {
            memory.markCaptured(p);
            predicted[p >>> 6] |= 1L << (p & 63);
        }
        speculativeLive = last.pages().length > 0;
        newest.epoch.precopied = last.pages().length;
        predictor.restore(predictorState);
        blocks.capture(this::blockTrap);
        scheduleAfter(newest);
        announce(newest);
    }

    /** What the predictor has learnt (after this boundary's prediction), for {@link #startFrom}. */
    public byte[] predictorState() {
        return predictor.save();
    }

    /** The pages the epoch that ended at the last boundary wrote (one bit per page), into {@code dst}. */
    public void lastEpochWritten(long[] dst) {
        System.arraycopy(written, 0, dst, 0, written.length);
    }

    /** The pages in checkpoint {@code id}'s undo log now. */
    public int[] loggedPages(int id) {
        SavedPages pages = byId(id).pages;
        int[] out = new int[pages.size()];
        for (int i = 0; i < out.length; i++) out[i] = pages.page(i);
        return out;
    }

    /**
     * Forgets every checkpoint and starts afresh where the machine is now (after a reboot: the old
     * checkpoints describe a guest that no longer runs).
     */
    public void restart() {
        settleHelper();
        for (Checkpoint c : ring) {
            c.pages.releaseAll(store);
            blocks.release(c);
            spareSets.add(c.pages);
        }
        ring.clear();
        started = false;
        forceBoundary = false;
        speculativeLive = false;
        java.util.Arrays.fill(predicted, 0L);
        memory.setProtection(false);
        start();
    }

    /** Stops capturing (the checkpoints taken so far stay, but no new pre-images are saved). */
    public void stop() {
        settleHelper();
        memory.setProtection(false);
        memory.setWriteTrap(null);
        blocks.capture(null);
        started = false;
    }

    // --- running -----------------------------------------------------------------------------------

    /** A detector asked {@link #run} to return to its caller (see {@link #requestStop}). */
    private boolean stopRequested;

    /**
     * Runs the machine like {@link Machine#run}, taking epoch boundaries on the way. Returns when the
     * limit is reached or the guest stops, pauses or exits.
     */
    public RunResult run(long tickLimit, long icountLimit) {
        if (!started) start();
        while (true) {
            long ticks = Math.min(tickLimit, nextBoundaryTicks);
            long icount = Math.min(icountLimit, nextBoundaryIcount);
            if (config.hostClock()) icount = Math.min(icount, machine.cpu.icount() + HOST_CLOCK_SLICE);
            RunResult r = machine.run(ticks, icount);
            if (r.kind() == RunResult.Kind.LIMIT || r.kind() == RunResult.Kind.PAUSED || r.kind() == RunResult.Kind.IDLE) {
                if (boundaryDue()) boundary();
            }
            if (r.kind() != RunResult.Kind.LIMIT) return r;
            if (stopRequested) {
                stopRequested = false;
                return r;
            }
            if (machine.clock.now() >= tickLimit || machine.cpu.icount() >= icountLimit) return r;
        }
    }

    /**
     * Makes {@link #run} return to its caller at the end of the current instruction (a detector
     * fired: recovery must start where the error was found, not at the caller's limit). The
     * engine's own yields (an early boundary) go on running.
     */
    public void requestStop() {
        stopRequested = true;
        machine.yieldRun();
    }

    /**
     * Guest time (ticks) at which the next boundary is due, or Long.MAX_VALUE when epochs are cut by
     * instructions or the host clock. A caller driving {@link Machine#run} itself stops there and
     * then calls {@link #run} to take the checkpoint.
     */
    public long nextBoundaryTicks() {
        return config.hostClock() || config.interval().instructions() ? Long.MAX_VALUE : nextBoundaryTicks;
    }

    /** The instruction count at which the next boundary is due, or Long.MAX_VALUE (see {@link #nextBoundaryTicks}). */
    public long nextBoundaryIcount() {
        return !config.hostClock() && config.interval().instructions() ? nextBoundaryIcount : Long.MAX_VALUE;
    }

    private boolean boundaryDue() {
        if (forceBoundary) return true;
        if (config.hostClock()) return System.nanoTime() >= nextBoundaryHostNanos;
        if (config.interval().instructions()) return machine.cpu.icount() >= nextBoundaryIcount;
        return machine.clock.now() >= nextBoundaryTicks;
    }

    private void scheduleAfter(Checkpoint c) {
        if (config.hostClock()) {
            nextBoundaryHostNanos = System.nanoTime() + config.interval().amount();
        } else if (config.interval().instructions()) {
            nextBoundaryIcount = c.icount + config.interval().amount();
        } else {
            nextBoundaryTicks = c.ticks + intervalTicks;
        }
    }

    /** Takes a checkpoint now (between instructions), outside the regular schedule. */
    public CheckpointInfo checkpointNow() {
        if (!started) start();
        boundary();
        return info(newest());
    }

    private Checkpoint newest() {
        return ring.get(ring.size() - 1);
    }

    private Checkpoint newCheckpoint() {
        byte[] state = machine.saveState().encode();
        long ticks = machine.clock.now();
        SavedPages pages = spareSets.isEmpty() ? new SavedPages() : spareSets.poll();
        return new Checkpoint(nextId++, machine.cpu.icount(), ticks, machine.clock.toNanos(ticks), System.nanoTime(), state,
                blocks.drives(), pages);
    }

    private void boundary() {
        long t0 = System.nanoTime();
        inBoundary = true;
        if (forceBoundary) {
            totals.earlyBoundaries++;
            budgetBound = true;
        }
        forceBoundary = false;
        Checkpoint ended = newest();
        if (helper != null) helper.finish(ended.pages); // unwritten pre-copies then leave with strategy.boundary
        speculativeLive = false; // the ended epoch's unwritten pre-copies are dropped by strategy.boundary
        memory.drainDirty(written);
        closeEpochCounters(ended);
        Checkpoint.EpochCounters ee = ended.epoch;
        predictor.learn(ee.hits, ee.waste, ee.trapped == 0 ? Double.NaN : (double) ee.trapNanos / ee.trapped,
                ee.precopied == 0 ? Double.NaN : (double) ee.precopyNanos / ee.precopied);
        CheckpointInfo endedEpoch = epochListeners.isEmpty() ? null : info(ended);
        boolean fold = false;
        if (!strategy.usesTraps()) {
            int need = config.mode() == CheckpointConfig.Mode.FULL ? memory.pageCount() : popcount(written);
            makeRoomFor(need, ended);
            // Stop-and-copy: even alone, the base image and this epoch's changes exceed the budget.
            fold = config.mode() == CheckpointConfig.Mode.COPY
                    && store.bytesInUse() + (long) need * PageStore.PAGE > config.memoryBudget();
        }
        Checkpoint next = newCheckpoint();
        ring.add(next);
        if (fold) {
            // Keep only the new checkpoint: write the epoch's post-images into the base image in
            // place (a page at a time, so the store never holds both), as the budget allows.
            ((CopyStrategy) strategy).boundaryIntoBase(ring, next, written);
            Checkpoint dropped = ring.remove(0);
            recycle(dropped);
            totals.dropped++;
            budgetBound = true;
            warn(String.format("checkpoint memory (%dM) cannot hold the base image and the %d MiB written since checkpoint %d: "
                    + "dropped it, only the new checkpoint %d is kept", config.memoryBudget() >> 20,
                    (long) popcount(written) * PageStore.PAGE >> 20, dropped.id, next.id));
        } else {
            strategy.boundary(ring, next, written);
        }
        if (strategy.usesTraps()) {
            memory.protectAll();
            precopy(next, ended.epoch.written);
        }
        blocks.newEpoch();
        retain();
        inBoundary = false;
        scheduleAfter(next);
        next.epoch.pauseNanos = System.nanoTime() - t0;
        totals.boundaries++;
        totals.pauseNanos += next.epoch.pauseNanos;
        totals.maxPauseNanos = Math.max(totals.maxPauseNanos, next.epoch.pauseNanos);
        totals.pauses.add(next.epoch.pauseNanos);
        long fixed = next.epoch.pauseNanos - next.epoch.precopyNanos;
        totals.fixedNanos += fixed;
        totals.maxFixedNanos = Math.max(totals.maxFixedNanos, fixed);
        if (endedEpoch != null) for (var l : epochListeners) l.accept(endedEpoch);
        announce(next);
    }

    private void announce(Checkpoint c) {
        if (boundaryListeners.isEmpty()) return;
        CheckpointInfo info = info(c);
        for (var l : boundaryListeners) l.accept(info);
    }

    private void closeEpochCounters(Checkpoint ended) {
        Checkpoint.EpochCounters e = ended.epoch;
        int w = 0, hits = 0, waste = 0;
        for (int i = 0; i < written.length; i++) {
            w += Long.bitCount(written[i]);
            hits += Long.bitCount(written[i] & predicted[i]);
            waste += Long.bitCount(predicted[i] & ~written[i]);
        }
        e.written = w;
        e.hits = hits;
        e.waste = waste;
        e.closed = true;
        totals.add(e);
    }

    /**
     * Copies the predicted pages into the new epoch's log. A pre-copy is a guess: it may only use
     * room that no checkpoint needs. The epoch is expected to write about as many pages as the last
     * one ({@code expectedWrites}); unless the budget holds those and every predicted page besides,
     * nothing is pre-copied. Should the guess still leave a trap short of room, the unwritten
     * pre-copies are given back before any checkpoint is dropped ({@link #reclaimSpeculative}).
     */
    private void precopy(Checkpoint next, int expectedWrites) {
        long t = System.nanoTime();
        predictor.predict(written, predicted);
        int want = popcount(predicted);
        if (want == 0) return;
        long freePages = (config.memoryBudget() - store.bytesInUse()) / PageStore.PAGE;
        if (freePages < (long) want + expectedWrites) {
            java.util.Arrays.fill(predicted, 0L);
            next.epoch.precopySkipped = true;
            totals.precopiesSkipped++;
            return;
        }
        int[] copied = {0};
        if (helper != null) {
            // Only reserve and log here; the pages stay protected until the helper (or a write) copies them.
            Strategy.forEachPage(predicted, memory.pageCount(), p -> {
                next.pages.add(p, helper.add(p));
                copied[0]++;
            });
            helper.start();
        } else {
            Strategy.forEachPage(predicted, memory.pageCount(), p -> {
                strategy.save(p, next.pages);
                memory.markCaptured(p);
                copied[0]++;
            });
        }
        speculativeLive = true;
        next.epoch.precopied = copied[0];
        next.epoch.precopyNanos = System.nanoTime() - t;
    }

    /**
     * Gives back the newest epoch's pre-copies of pages not written yet: their images leave the
     * log and the pages are write-protected again, so a later write traps and saves the pre-image
     * as if nothing had been predicted. Returns whether any room was freed.
     */
    private boolean reclaimSpeculative() {
        if (!speculativeLive) return false;
        if (helper != null && helper.open()) {
            long before = store.bytesInUse();
            settleHelper();
            return store.bytesInUse() < before;
        }
        speculativeLive = false;
        Checkpoint c = newest();
        java.util.Arrays.fill(reclaim, 0L);
        int[] n = {0};
        Strategy.forEachPage(predicted, memory.pageCount(), p -> {
            if (memory.protectAgain(p)) {
                reclaim[p >>> 6] |= 1L << (p & 63);
                n[0]++;
            }
        });
        if (n[0] == 0) return false;
        for (int w = 0; w < predicted.length; w++) predicted[w] &= ~reclaim[w];
        c.pages.retain(p -> !Strategy.bit(reclaim, p), store::release);
        c.epoch.reclaimed += n[0];
        totals.reclaimed += n[0];
        log.debug("gave back {} unwritten pre-copies of checkpoint {} to the memory budget", n[0], c.id);
        return true;
    }

    private void trap(int page) {
        if (helper != null && helper.trap(page)) return; // a predicted page: its image is taken now
        long t = System.nanoTime();
        Checkpoint c = newest();
        makeRoomFor(1, c);
        strategy.trap(c, page);
        c.epoch.trapped++;
        c.epoch.trapNanos += System.nanoTime() - t;
    }

    private void blockTrap(int drive, int block) {
        Checkpoint c = newest();
        makeRoomFor(1, c);
        blocks.save(c, drive, block);
        c.epoch.blocksTrapped++;
        totals.blocksTrapped++;
    }

    // --- retention and the memory budget -----------------------------------------------------------

    /**
     * Drops what --keep no longer allows, oldest first. Checkpoints older than the latency window
     * stay while --keep and the budget allow: they are what escalation goes back to when an error
     * turns out older than the bound assumed.
     */
    private void retain() {
        int needed = neededByWindow();
        int limit = config.keepCaps() ? config.keep() : Math.max(config.keep(), needed);
        while (ring.size() > limit) dropOldest(null);
        if (config.keepCaps() && needed > config.keep() && !keepShortWarned && !config.hostClock()) {
            keepShortWarned = true;
            warn(String.format("--keep %d: the retained checkpoints cover %s of guest time, less than the latency bound of %s;"
                    + " a rollback by L goes to the oldest retained checkpoint", config.keep(), millis(coveredNanos()),
                    millis(config.latencyNanos())));
        }
    }

    /**
     * How many of the newest checkpoints a rollback by the latency bound needs now: from the newest
     * one taken at least L ago up to the newest (reaching a checkpoint applies every newer undo log).
     * All of them while none is that old yet. Later in the epoch the window only moves forward, so
     * what is needed at a boundary stays enough until the next.
     */
    private int neededByWindow() {
        long start = machine.clock.toNanos(machine.clock.now()) - config.latencyNanos();
        for (int i = ring.size() - 1; i >= 0; i--) if (ring.get(i).guestNanos <= start) return ring.size() - i;
        return ring.size();
    }

    /**
     * Bytes held by the checkpoints the latency window needs: those taken in the last L of guest
     * time and the newest one at or before its start.
     */
    public long bytesCovering(long latencyNanos) {
        long start = machine.clock.toNanos(machine.clock.now()) - latencyNanos;
        long bytes = 0;
        for (int i = ring.size() - 1; i >= 0; i--) {
            Checkpoint c = ring.get(i);
            bytes += strategy.bytesFor(c) + blocks.bytesFor(c) + c.state.length;
            if (c.guestNanos <= start) break;
        }
        return bytes;
    }

    /**
     * Makes room in the budget for {@code pages} more page images, dropping the oldest checkpoints
     * (never {@code keep}). If even that is not enough, the epoch ends early: the run yields at the
     * end of the current instruction and the next boundary leaves only the newest checkpoint.
     */
    private void makeRoomFor(int pages, Checkpoint keep) {
        long need = (long) pages * PageStore.PAGE;
        while (store.bytesInUse() + need > config.memoryBudget() && ring.size() > 1 && ring.get(0) != keep) {
            if (reclaimSpeculative()) continue; // a guess never displaces a checkpoint
            dropOldest("the checkpoint memory budget (" + (config.memoryBudget() >> 20) + "M)");
        }
        if (store.bytesInUse() + need > config.memoryBudget() && reclaimSpeculative()) {
            makeRoomFor(pages, keep);
            return;
        }
        if (store.bytesInUse() + need > config.memoryBudget() && !inBoundary && !forceBoundary) {
            forceBoundary = true;
            machine.yieldRun();
            warn(String.format("checkpoint memory (%dM) filled within one epoch: taking the next checkpoint early, only it will be kept",
                    config.memoryBudget() >> 20));
        }
    }

    /** A checkpoint left the ring with its images released: its page set serves the next one. */
    private void recycle(Checkpoint gone) {
        if (gone.pages.size() == 0) spareSets.add(gone.pages);
    }

    private void dropOldest(String why) {
        strategy.dropOldest(ring);
        blocks.release(ring.get(0));
        Checkpoint dropped = ring.remove(0);
        recycle(dropped);
        totals.dropped++;
        if (why == null) return;
        budgetBound = true;
        long covered = coveredNanos();
        if (covered < config.latencyNanos() && covered != lastCoverageWarning) {
            lastCoverageWarning = covered;
            warn(String.format("%s is full: dropped checkpoint %d; the retained checkpoints now cover %s of guest time, less than the latency bound of %s",
                    why, dropped.id, millis(covered), millis(config.latencyNanos())));
        } else {
            log.debug("dropped checkpoint {} ({})", dropped.id, why);
        }
    }

    /** How far back in guest time the oldest retained checkpoint reaches. */
    public long coveredNanos() {
        return machine.clock.toNanos(machine.clock.now()) - ring.get(0).guestNanos;
    }

    private static String millis(long nanos) {
        return String.format("%.1f ms", nanos / 1e6);
    }

    private static int popcount(long[] bits) {
        int n = 0;
        for (long w : bits) n += Long.bitCount(w);
        return n;
    }

    // --- rollback -----------------------------------------------------------------------------------

    /**
     * Rolls the live machine back to checkpoint {@code id}: verifies every image and the saved state
     * the rollback needs, then writes back the pages changed since, restores the small state, drops
     * the newer checkpoints and starts a new epoch there.
     *
     * @throws NoSuchCheckpointException if the checkpoint is not retained (any more)
     * @throws CheckpointUnreachableException if verification found corruption on the way; nothing was changed
     */
    public RollbackReport rollback(int id) {
        if (!started) throw new NoSuchCheckpointException(id, "no checkpoint has been taken yet");
        Checkpoint target = byId(id);
        long t0 = System.nanoTime();
        settleHelper();
        verify(target);
        long fromIcount = machine.cpu.icount();
        memory.drainDirty(written);
        boolean traps = strategy.usesTraps();
        memory.setProtection(false);
        int restored = strategy.restore(ring, target, written);
        int at = ring.indexOf(target);
        int blocksRestored = blocks.restore(ring, at);
        for (int i = at; i < ring.size(); i++) blocks.release(ring.get(i));
        blocks.newEpoch();
        strategy.afterRollback(ring, target);
        while (newest() != target) recycle(ring.remove(ring.size() - 1));
        machine.restoreState(MachineState.decode(target.state));
        memory.drainDirty(written);
        java.util.Arrays.fill(predicted, 0L);
        speculativeLive = false;
        predictor.reset();
        if (traps) memory.setProtection(true);
        target.epoch.reset();
        scheduleAfter(target);
        forceBoundary = false;
        long nanos = System.nanoTime() - t0;
        totals.rollbacks++;
        totals.rollbackNanos += nanos;
        totals.maxRollbackNanos = Math.max(totals.maxRollbackNanos, nanos);
        totals.pagesRestored += restored;
        totals.blocksRestored += blocksRestored;
        CheckpointInfo info = info(target);
        for (RollbackListener l : listeners) l.rolledBack(info, fromIcount);
        return new RollbackReport(info, restored, nanos, fromIcount);
    }

    private Checkpoint byId(int id) {
        for (Checkpoint c : ring) if (c.id == id) return c;
        String retained = ring.isEmpty() ? "none" : ring.get(0).id + "-" + newest().id;
        throw new NoSuchCheckpointException(id, "checkpoint " + id + " is not retained (retained: " + retained + ")");
    }

    private void verify(Checkpoint target) {
        boolean stateBad = !target.stateIntact();
        SortedSet<Integer> bad = strategy.corruptFor(ring, target);
        SortedSet<Integer> badBlocks = new java.util.TreeSet<>();
        for (int i = ring.indexOf(target); i < ring.size(); i++) {
            if (!blocks.intact(ring.get(i))) badBlocks.add(ring.get(i).id);
        }
        bad.addAll(badBlocks);
        if (!stateBad && bad.isEmpty()) return;
        List<String> what = new ArrayList<>();
        java.util.SortedSet<Integer> corrupt = new java.util.TreeSet<>(bad);
        java.util.SortedSet<Integer> unreachable = new java.util.TreeSet<>();
        if (stateBad) {
            what.add("the saved machine state of checkpoint " + target.id + " is corrupt");
            corrupt.add(target.id);
            unreachable.add(target.id);
        }
        if (!bad.isEmpty()) {
            what.add("stored page images of checkpoint" + (bad.size() > 1 ? "s " : " ") + join(List.copyOf(bad))
                    + " are corrupt or missing");
            for (Checkpoint c : ring) {
                for (int b : bad) {
                    // block logs are undo logs whatever the mode: a bad one cuts the chain to everything at or before it
                    if (strategy.unreachable(c, b) || (badBlocks.contains(b) && c.id <= b)) {
                        unreachable.add(c.id);
                        break;
                    }
                }
            }
        }
        throw new CheckpointUnreachableException(target.id, List.copyOf(corrupt),
                String.join(" and ", what) + ": checkpoint" + (unreachable.size() > 1 ? "s " : " ")
                        + join(List.copyOf(unreachable)) + (unreachable.size() > 1 ? " are" : " is") + " unreachable",
                newestReachable());
    }

    /**
     * The newest checkpoint a rollback could reach now, everything it needs verified (its saved
     * state and every stored image on the way), or -1. Only called once corruption has been found.
     */
    private int newestReachable() {
        java.util.Map<Checkpoint, Boolean> logOk = new java.util.IdentityHashMap<>();
        for (int i = ring.size() - 1; i >= 0; i--) {
            Checkpoint c = ring.get(i);
            if (!c.stateIntact()) continue;
            boolean ok = true;
            for (int j = i; j < ring.size() && ok; j++) ok = blocks.intact(ring.get(j));
            for (Checkpoint l : strategy.logsNeeded(ring, c)) {
                if (!logOk.computeIfAbsent(l, strategy::logIntact)) {
                    ok = false;
                    break;
                }
            }
            if (ok) return c.id;
        }
        return -1;
    }

    private static String join(List<Integer> ids) {
        return ids.stream().map(String::valueOf).reduce((a, b) -> a + ", " + b).orElse("");
    }

    /** Checks every retained checkpoint's images and state; returns the ids found corrupt. */
    public List<Integer> integrityCheck() {
        settleHelper();
        List<Integer> bad = new ArrayList<>();
        for (Checkpoint c : ring) {
            if (!c.stateIntact() || !strategy.logIntact(c) || !blocks.intact(c)) bad.add(c.id);
        }
        return bad;
    }

    // --- information ----------------------------------------------------------------------------

    /** See {@link #budgetHasBound}. */
    private boolean budgetBound;

    /**
     * Whether the memory budget has decided anything yet: dropped a checkpoint, folded one into the
     * base image or ended an epoch early. Until it has, which checkpoints are retained follows from
     * --keep and the latency window alone (recovery relies on that to know where a repeated
     * escalation goes without running it).
     */
    public boolean budgetHasBound() {
        return budgetBound;
    }

    public List<CheckpointInfo> checkpoints() {
        List<CheckpointInfo> out = new ArrayList<>(ring.size());
        for (Checkpoint c : ring) out.add(info(c));
        return out;
    }

    /** The newest retained checkpoint taken at or before guest time {@code nanos}, or null. */
    public CheckpointInfo atOrBefore(long guestNanos) {
        CheckpointInfo best = null;
        for (Checkpoint c : ring) if (c.guestNanos <= guestNanos) best = info(c);
        return best;
    }

    private CheckpointInfo info(Checkpoint c) {
        Checkpoint.EpochCounters e = c.epoch;
        return new CheckpointInfo(c.id, c.icount, c.guestNanos, c.pages.size(), strategy.bytesFor(c) + blocks.bytesFor(c) + c.state.length,
                e.pauseNanos, e.trapped, e.precopied, e.written, e.hits, e.waste, e.closed, c.state.length);
    }

    /**
     * Checkpoints taken over the engine's life: ids are given in order from 0 and never reused, so
     * this counts the first one, and those a rollback discarded (the stats count boundaries).
     */
    public int checkpointsTaken() {
        return nextId;
    }

    /**
     * Gives the next {@code n} ids away unused: the checkpoints a rerun would have taken and a
     * rollback dropped again, where recovery knows the rerun without running it. Later
     * checkpoints then get the ids they get in a run that made it.
     */
    public void skipIds(int n) {
        if (n < 0) throw new IllegalArgumentException("cannot skip " + n + " ids");
        nextId += n;
    }

    public EngineStats stats() {
        return totals.snapshot(config, ring.size(), store.bytesInUse(), coveredNanosSafe());
    }

    private long coveredNanosSafe() {
        return ring.isEmpty() ? 0 : coveredNanos();
    }

    /**
     * What page {@code page} held at the newest checkpoint, if the page has been written since and
     * this mode keeps its pre-image (copy-on-write does): copies it into {@code dst} and returns
     * true. Returns false when there is no such image, or when the stored image fails its CRC (a
     * {@link #rollback} then reports the damage). For a debugger that puts the machine back to a
     * state between the newest checkpoint and now by writing only the pages that differ.
     */
    public boolean newestPreImage(int page, byte[] dst) {
        if (!started || config.mode() != CheckpointConfig.Mode.COW) return false;
        settleHelper();
        int slot = newest().pages.slotOf(page);
        if (slot < 0 || !store.verify(slot)) return false;
        store.load(slot, dst, 0);
        return true;
    }

    /**
     * Were page {@code page} changed now behind the memory door's back (a raw upset, which no dirty
     * bit records), the id of the oldest retained checkpoint that would share the change: a rollback
     * to it or to any newer one leaves the page as it is, one to an older checkpoint writes back an
     * image saved before the change. {@link #checkpointsTaken()} if every retained checkpoint's
     * rollback rewrites the page. (Copy-on-write: the checkpoints after the newest whose undo log
     * holds the page; stop-and-copy: from the newest holding its image, unless it is dirty now;
     * full copies never share.)
     */
    public int firstSharing(int page) {
        if (!started || config.mode() == CheckpointConfig.Mode.FULL) return nextId;
        if (config.mode() == CheckpointConfig.Mode.COPY) {
            if (memory.isDirty(page)) return nextId;
            for (int i = ring.size() - 1; i > 0; i--) if (ring.get(i).pages.slotOf(page) >= 0) return ring.get(i).id;
            return ring.get(0).id;
        }
        for (int i = ring.size() - 1; i >= 0; i--) {
            if (ring.get(i).pages.slotOf(page) >= 0) return i + 1 < ring.size() ? ring.get(i + 1).id : nextId;
        }
        return ring.get(0).id;
    }

    /** The saved machine state of a retained checkpoint (for diffs and files). */
    public MachineState stateOf(int id) {
        return MachineState.decode(byId(id).state);
    }

    /** For tests of the integrity checks: flips a bit in a stored image of checkpoint {@code id}. */
    void corruptImage(int id, int index, int bit) {
        Checkpoint c = byId(id);
        store.corrupt(c.pages.slot(index % c.pages.size()), bit);
    }

    /** Disk blocks whose pre-images were kept, and written back by rollbacks, over the whole run. */
    public long blocksCaptured() {
        return totals.blocksTrapped;
    }

    public long blocksRestored() {
        return totals.blocksRestored;
    }

    /** For tests of the integrity checks: flips a bit in a stored block image of checkpoint {@code id} (drive 0). */
    void corruptBlockImage(int id, int bit) {
        SavedPages log = byId(id).blocks[0];
        for (int j = 0; j < log.size(); j++) {
            if (log.slot(j) != SavedPages.ABSENT) {
                store.corrupt(log.slot(j), bit);
                return;
            }
        }
        throw new IllegalStateException("checkpoint " + id + " holds no block image");
    }

    /** For tests: flips a bit in checkpoint {@code id}'s saved state. */
    void corruptState(int id, int bit) {
        Checkpoint c = byId(id);
        c.state[(bit >>> 3) % c.state.length] ^= (byte) (1 << (bit & 7));
    }

    int imagesOf(int id) {
        return byId(id).pages.size();
    }

    /** For tests: checkpoint {@code id}'s log loses every entry after its first {@code keep} (a truncated log). */
    void truncateLog(int id, int keep) {
        byId(id).pages.loseTail(keep);
    }

    /** For tests: the page store loses the storage of its last {@code slots} slots (a store truncated at its end). */
    void truncateStore(int slots) {
        store.truncate(Math.max(0, store.allocated() - slots));
    }

    /** For tests: how many slots the page store has handed out (its length). */
    int storeLength() {
        return store.allocated();
    }

    /** For tests: every checkpoint whose log (or image) uses a slot at or after {@code firstSlot}. */
    List<Integer> usingSlotsFrom(int firstSlot) {
        List<Integer> ids = new ArrayList<>();
        for (Checkpoint c : ring) {
            for (int j = 0; j < c.pages.size(); j++) {
                if (c.pages.slot(j) >= firstSlot) {
                    ids.add(c.id);
                    break;
                }
            }
        }
        return ids;
    }

    /** Running totals over the whole run. */
    private static final class Totals {
        long boundaries;
        long pauseNanos;
        long maxPauseNanos;
        long trapped;
        long precopied;
        long written;
        long hits;
        long waste;
        long trapNanos;
        long precopyNanos;
        long rollbacks;
        long rollbackNanos;
        long maxRollbackNanos;
        long pagesRestored;
        long blocksTrapped;
        long blocksRestored;
        long dropped;
        long earlyBoundaries;
        long precopiesSkipped;
        long reclaimed;
        long fixedNanos;
        long maxFixedNanos;
        final PauseHistogram pauses = new PauseHistogram();

        void add(Checkpoint.EpochCounters e) {
            trapped += e.trapped;
            precopied += e.precopied;
            written += e.written;
            hits += e.hits;
            waste += e.waste;
            trapNanos += e.trapNanos;
            precopyNanos += e.precopyNanos;
        }

        EngineStats snapshot(CheckpointConfig config, int retained, long bytes, long covered) {
            return new EngineStats(config.mode().name().toLowerCase(), config.predictor().name().toLowerCase(),
                    config.interval().toString(), boundaries, retained, bytes, covered, pauseNanos, maxPauseNanos,
                    trapped, precopied, written, hits, waste, trapNanos, precopyNanos, rollbacks, rollbackNanos,
                    maxRollbackNanos, pagesRestored, dropped, earlyBoundaries, precopiesSkipped, reclaimed,
                    pauses.percentile(0.5), pauses.percentile(0.99), fixedNanos, maxFixedNanos);
        }
    }
}
