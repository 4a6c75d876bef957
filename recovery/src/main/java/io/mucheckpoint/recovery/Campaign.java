package io.mucheckpoint.recovery;

import io.mucheckpoint.checkpoint.CheckpointConfig;
import io.mucheckpoint.checkpoint.CheckpointEngine;
import io.mucheckpoint.checkpoint.SnapshotFile;
import io.mucheckpoint.vmm.GuestImage;
import io.mucheckpoint.vmm.Machine;
import io.mucheckpoint.vmm.MachineConfig;
import io.mucheckpoint.vmm.RunResult;
import io.mucheckpoint.vmm.dev.ConsoleSink;
import io.mucheckpoint.vmm.load.LoadException;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;

/**
 * A fault-injection campaign: one golden run, then N injections, each from a clean start with
 * checkpointing and automatic recovery, each classified by comparing its output with the golden
 * run's. Injections are independent and run on as many workers as asked.
 */
public final class Campaign {
    /** Tracking window for processor faults, in instructions. */
    static final int LOCKSTEP_WINDOW = 100_000;

    private final Start start;
    private final CheckpointConfig checkpoints;
    private final long watchdogNanos;
    private final Golden golden;
    private boolean outputCommit;
    private List<String> consolePatterns = List.of();
    /** The golden run's checkpoints (null where they cannot be reused: see {@link #fastForwardPossible}). */
    private GoldenHistory history;
    /** Why there is no history (null if there is one). */
    private String noHistoryReason;
    /** The start's disk contents, which a golden run with a history never changes. */
    private long[] goldenDisks;
    private boolean fastForward = true;
    private boolean convergence = true;
    private boolean prune;
    /** What the def-use probe decided for the injections {@link #run} is running. */
    private volatile Map<Fault, DefUseProbe.Decision> decided = Map.of();
    private final Effort effort = new Effort();

    /** {@code watchdogNanos} that asks for a watchdog sized from the golden run. */
    public static final long WATCHDOG_AUTO = -1;
    /** The automatic watchdog: this many times the golden run's longest gap between progress markers. */
    public static final int WATCHDOG_FACTOR = 4;

    /**
     * The reference run: its output, status, length, the pages it used, and the longest stretch of
     * guest time (and of instructions) without a progress marker (a console byte or a heartbeat),
     * counting from the start and up to the exit.
     */
    public record Golden(byte[] output, int exitStatus, long instructions, long guestNanos, int[] usedPages,
                         long longestSilenceNanos, long longestSilenceInstructions, String exitMessage, long startIcount) {
        /** The hang watchdog a campaign uses unless told otherwise: a silence {@link #WATCHDOG_FACTOR} times the longest. */
        public long watchdogNanos() {
            return Math.max(1, longestSilenceNanos) * WATCHDOG_FACTOR;
        }
    }

    /** One injection's result. */
    public record Result(int index, Fault fault, ActivationTracker.Activation activation, Outcome outcome, int detections,
                         int recoveries, int escalations, long instructions, String detail, Trace trace) {}

    /**
     * When the error struck, when it was first detected and where the first rollback went, for the
     * measurements of error latency, checkpoint corruption and recovery cost (-1 where it did not
     * happen).
     *
     * @param injectedNanos guest time of the injection
     * @param firstSharing the oldest checkpoint id that holds the error (its state, or its share of
     *        a page a raw upset changed); every checkpoint from it on does
     * @param detectIcount instruction count of the first detection
     * @param detectNanos guest time of the first detection
     * @param detector the detector that fired first
     * @param newestId the newest checkpoint when the first detection was handled
     * @param targetId the checkpoint the first rollback went to
     * @param targetIcount its instruction count
     * @param rollbacks rollbacks in all (first ones and escalations)
     * @param reexecuted instructions the rollbacks undid, to be run again
     * @param reapplied times a stuck-at fault's bits were set again after the guest changed them
     */
    public record Trace(long injectedNanos, long firstSharing, long detectIcount, long detectNanos, String detector,
                        int newestId, int targetId, long targetIcount, int rollbacks, long reexecuted, long reapplied) {
        /** The newest checkpoint at the first detection already held the error. */
        public boolean newestHeldError() {
            return newestId >= 0 && firstSharing >= 0 && newestId >= firstSharing;
        }

        /** The checkpoint the latency bound chose for the first rollback already held the error. */
        public boolean targetHeldError() {
            return targetId >= 0 && firstSharing >= 0 && targetId >= firstSharing;
        }
    }

    /** Where every run of the campaign starts: a guest booted afresh, or a machine restored from a snapshot. */
    public interface Start {
        Machine machine(ConsoleSink console) throws LoadException;

        /**
         * Whether the pages the start itself wrote (a loader's) count as the guest's: memory faults
         * strike the pages the golden run used. A snapshot restores every page, so only the pages the
         * golden run then wrote count.
         */
        default boolean loadedPagesCount() {
            return true;
        }
    }

    /** Every run starts from the snapshot {@code c} (SnapshotFile), for a guest that takes long to boot. */
    public static Start fromSnapshot(SnapshotFile.Contents c) {
        return new Start() {
            @Override
            public Machine machine(ConsoleSink console) throws LoadException {
                Machine m = new Machine(c.config(), new GuestImage.Restored(c.imageName(), c.rom()), console, b -> {});
                SnapshotFile.apply(c, m);
                return m;
            }

            @Override
            public boolean loadedPagesCount() {
                return false;
            }
        };
    }

    /** @param watchdogNanos the hang watchdog of the injected runs: 0 off, {@link #WATCHDOG_AUTO} sized from the golden run */
    public Campaign(MachineConfig machineConfig, GuestImage image, CheckpointConfig checkpoints, long watchdogNanos)
            throws LoadException {
        this(console -> new Machine(machineConfig, image, console, b -> {}), checkpoints, watchdogNanos);
    }

    public Campaign(Start start, CheckpointConfig checkpoints, long watchdogNanos) throws LoadException {
        this.start = start;
        this.checkpoints = checkpoints;
        this.golden = goldenRun();
        this.watchdogNanos = watchdogNanos == WATCHDOG_AUTO ? golden.watchdogNanos() : watchdogNanos;
    }

    /** The watchdog the injected runs use (guest ns; 0: off). */
    public long watchdogNanos() {
        return watchdogNanos;
    }

    /**
     * Each injection also reads the console for these patterns (a {@link ConsolePatternDetector});
     * none by default. Refused if the golden run's own output has one: every run would be "detected".
     */
    public Campaign withConsolePatterns(List<String> patterns) {
        if (!patterns.isEmpty()) {
            ConsolePatternDetector d = new ConsolePatternDetector(patterns);
            for (byte b : golden.output()) {
                String p = d.accept(b & 0xFF);
                if (p != null) throw new IllegalArgumentException("the golden run itself printed '" + p + "': not a console pattern for this guest");
            }
        }
        consolePatterns = List.copyOf(patterns);
        return this;
    }

    public Golden golden() {
        return golden;
    }

    /**
     * Output commit for the injected runs ({@code --output-commit latency}): console output is held
     * until the checkpoint after it is older than the latency bound.
     */
    public Campaign withOutputCommit(boolean on) {
        outputCommit = on;
        return this;
    }

    /**
     * Whether an injection starts from the newest golden checkpoint that its history needs instead
     * of booting ({@code on}, the default), and whether it stops once its whole state is the golden
     * run's again at a golden checkpoint ({@code convergence}). Both leave every result as a run
     * from the start to the end gives it (CampaignFastForwardTest); off, each injection boots and
     * runs to its end.
     */
    public Campaign withFastForward(boolean on, boolean convergence) {
        this.fastForward = on;
        this.convergence = convergence;
        return this;
    }

    /**
     * Why the golden run's checkpoints cannot be reused here, or null if they can: the engine's
     * history is taken over only in copy-on-write mode with epochs of guest time or instructions
     * (host-clock epochs fall differently in every run); held output, and disk blocks where the
     * golden run wrote any, are state the golden history does not keep.
     */
    public String fastForwardUnavailable() {
        if (history == null) return noHistoryReason;
        if (outputCommit) return "output commit holds console output, which the golden history does not keep";
        return null;
    }


    /**
     * With {@code on}, {@link #run} first runs the golden run once more to find the injections whose
     * corrupted location is never read again ({@link DefUseProbe}), and gives those the result their
     * run to the end gives without running them (CampaignPruneTest).
     */
    public Campaign withPruning(boolean on) {
        this.prune = on;
        return this;
    }

    /** What the injections cost, against what booting and running each to its end would have. */
    public Effort effort() {
        return effort;
    }

    /** Work done by the injections so far (updated as they finish; safe to read from any thread). */
    public static final class Effort {
        private final java.util.concurrent.atomic.AtomicLong run = new java.util.concurrent.atomic.AtomicLong();
        private final java.util.concurrent.atomic.AtomicLong skipped = new java.util.concurrent.atomic.AtomicLong();
        private final java.util.concurrent.atomic.AtomicLong avoided = new java.util.concurrent.atomic.AtomicLong();
        private final AtomicInteger fastForwarded = new AtomicInteger();
        private final AtomicInteger converged = new AtomicInteger();
        private final AtomicInteger convergedAfterRollback = new AtomicInteger();
        private final AtomicInteger escalatedWithoutRerun = new AtomicInteger();
        private final AtomicInteger pruned = new AtomicInteger();

        /** Guest instructions the injections executed (re-executions after rollbacks included). */
        public long instructionsRun() {
            return run.get();
        }

        /** Instructions of prefix not run because an injection started from a golden checkpoint. */
        public long instructionsSkipped() {
            return skipped.get();
        }

        /** Instructions not run because an injection stopped at convergence. */
        public long instructionsAvoided() {
            return avoided.get();
        }

        public int fastForwarded() {
            return fastForwarded.get();
        }

        public int converged() {
            return converged.get();
        }

        /** Of {@link #converged}, the injections that got there after a rollback (instead of re-running to their end). */
        public int convergedAfterRollback() {
            return convergedAfterRollback.get();
        }

        /** Injections whose escalations skipped at least one rerun known to repeat the faulty run ({@link RecoveryManager#knowingRepeatsAfter}). */
        public int escalatedWithoutRerun() {
            return escalatedWithoutRerun.get();
        }

        /** Injections the def-use probe decided, which did not run at all. */
        public int pruned() {
            return pruned.get();
        }
    }

    private Golden goldenRun() throws LoadException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Machine[] machine = {null};
        long[] silence = {0, 0, 0, 0}; // the last marker's guest time and instruction; the longest gaps
        long[] progress = {0, 0}; // the last marker's ticks and instruction, as the watchdog counts them
        Runnable marker = () -> {
            Machine mm = machine[0];
            long now = mm.clock.nanos(), icount = mm.cpu.icount();
            silence[2] = Math.max(silence[2], now - silence[0]);
            silence[3] = Math.max(silence[3], icount - silence[1]);
            silence[0] = now;
            silence[1] = icount;
            progress[0] = mm.clock.now();
            progress[1] = icount;
        };
        Machine m = start.machine(b -> {
            marker.run();
            out.write(b);
        });
        machine[0] = m;
        long startIcount = m.cpu.icount();
        progress[0] = m.clock.now();
        progress[1] = m.cpu.icount();
        m.addGuestServicesListener(new io.mucheckpoint.vmm.dev.GuestServicesListener() {
            @Override
            public void heartbeat(int value) {
                marker.run();
            }
        });
        long[] used = new long[(m.memory.pageCount() + 63) >>> 6];
        long[] scratch = new long[used.length];
        m.memory.drainDirty(scratch);
        if (start.loadedPagesCount()) for (int i = 0; i < used.length; i++) used[i] |= scratch[i];
        noHistoryReason = checkpoints.mode() != CheckpointConfig.Mode.COW ? "only copy-on-write checkpoints can be taken over"
                : checkpoints.hostClock() ? "epochs of host time fall differently in every run" : null;
        goldenDisks = diskHashes(m);
        RunResult r;
        if (noHistoryReason == null) {
            // The golden run takes the checkpoints an injected run would take, and keeps them.
            GoldenHistory h = new GoldenHistory(m.memory.pageCount());
            m.addInputListener(h::delivered);
            CheckpointEngine engine = new CheckpointEngine(m, checkpoints);
            engine.addBoundaryListener(c -> {
                h.record(m, engine, c, out.size(), progress[0], progress[1]);
                if (c.id() > 0) {
                    engine.lastEpochWritten(scratch);
                    for (int i = 0; i < used.length; i++) used[i] |= scratch[i];
                }
            });
            do {
                r = engine.run(Long.MAX_VALUE, m.cpu.icount() + 1_000_000);
            } while (!r.finished());
            engine.stop();
            // Disks are the start's throughout a golden run that writes none; the history keeps no blocks.
            if (engine.blocksCaptured() == 0) history = h;
            else noHistoryReason = "the golden run wrote to a disk, and the golden history keeps no disk blocks";
        } else {
            do {
                r = m.run(Long.MAX_VALUE, m.cpu.icount() + 1_000_000);
            } while (!r.finished());
        }
        m.memory.drainDirty(scratch); // what the last epoch wrote (or the whole run without an engine)
        for (int i = 0; i < used.length; i++) used[i] |= scratch[i];
        if (r.kind() != RunResult.Kind.EXIT) throw new IllegalStateException("the golden run did not exit: " + r.message());
        List<Integer> pages = new ArrayList<>();
        for (int w = 0; w < used.length; w++) {
            for (long bits = used[w]; bits != 0; bits &= bits - 1) pages.add((w << 6) + Long.numberOfTrailingZeros(bits));
        }
        marker.run(); // the silence before the exit counts too
        return new Golden(out.toByteArray(), r.exitStatus(), m.cpu.icount(), m.clock.toNanos(m.clock.now()),
                pages.stream().mapToInt(Integer::intValue).toArray(), silence[2], silence[3], r.message(), startIcount);
    }

    /** Set by {@link #stop}: injections not yet finished are abandoned. */
    private volatile boolean stopping;

    /**
     * Stops the campaign soon (the user pressed Ctrl-C): {@link #run} returns the injections that had
     * finished; those running are abandoned within a few million instructions, not counted.
     */
    public void stop() {
        stopping = true;
    }

    public boolean stopped() {
        return stopping;
    }

    /**
     * Runs injections {@code from..to-1} of {@code plan} on {@code workers} threads; {@code progress}
     * hears each finish. After {@link #stop}, returns the finished ones only, in index order.
     */
    public List<Result> run(FaultPlan plan, int from, int to, int workers, IntConsumer progress) throws Exception {
        AtomicInteger done = new AtomicInteger();
        return run(plan, java.util.stream.IntStream.range(from, to).toArray(), workers, r -> progress.accept(done.incrementAndGet()));
    }

    /**
     * Runs the injections {@code indices} of {@code plan} on {@code workers} threads; {@code finished}
     * hears each result on its worker thread as it ends (for a journal). Returns them in the order of
     * {@code indices}; after {@link #stop}, the finished ones only: exactly those {@code finished} heard.
     */
    public List<Result> run(FaultPlan plan, int[] indices, int workers, java.util.function.Consumer<Result> finished) throws Exception {
        if (prune && !stopping) {
            List<Fault> faults = new ArrayList<>();
            for (int index : indices) faults.add(plan.fault(index));
            decided = DefUseProbe.run(start, checkpoints, golden, faults);
        }
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, workers), r -> {
            Thread t = new Thread(r, "injection");
            t.setDaemon(true);
            return t;
        });
        try {
            List<Future<Result>> futures = new ArrayList<>();
            for (int index : indices) {
                futures.add(pool.submit(() -> {
                    if (stopping) return null;
                    Result res = decidedResult(index, plan.fault(index));
                    if (res == null) res = inject(index, plan.fault(index), null);
                    if (res != null) finished.accept(res);
                    return res;
                }));
            }
            List<Result> out = new ArrayList<>();
            for (Future<Result> f : futures) {
                Result res = f.get();
                if (res != null) out.add(res);
            }
            return out;
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * The result of an injection the def-use probe decided, or null: "not activated", and the rest of
     * what its run to the end reports, which is the golden run's (no detection, the golden output,
     * the golden exit) and, for the trace, when and into what the fault struck.
     */
    private Result decidedResult(int index, Fault fault) {
        DefUseProbe.Decision d = decided.get(fault);
        if (d == null) return null;
        effort.pruned.incrementAndGet();
        effort.avoided.addAndGet(golden.instructions() - golden.startIcount());
        Trace trace = new Trace(d.injectedNanos(), d.firstSharing(), -1, -1, null, -1, -1, -1, 0, 0, 0);
        return new Result(index, fault, d.activation(), Outcome.NOT_ACTIVATED, 0, 0, 0, golden.instructions(),
                new RunResult(RunResult.Kind.EXIT, golden.exitStatus(), golden.exitMessage()).message(), trace);
    }

    /** Instructions between looks at {@link #stop}. */
    private static final long STOP_CHECK = 5_000_000;

    /**
     * Runs to the budget (an instruction count), the recovery manager's work limit, or the end, a
     * slice at a time so that {@link #stop} is heard; null if
     * stopped. With {@code converge} (may be null) it also stops at the first golden checkpoint
     * where the run's whole state is the golden run's again, returning a result that says so.
     */
    private RunResult runOn(Machine m, RecoveryManager recovery, long budget, java.util.function.IntPredicate converge) {
        int recoveries = recovery.recoveries();
        while (true) {
            if (stopping) return null;
            if (converge != null && recovery.recoveries() != recoveries) {
                // a rollback to a golden checkpoint's instruction may have put back the golden state itself
                recoveries = recovery.recoveries();
                int here = history.pointAtOrBefore(m.cpu.icount());
                if (here >= 0 && history.point(here).icount() == m.cpu.icount() && converge.test(here)) return CONVERGED;
            }
            long limit = Math.min(budget, m.cpu.icount() + STOP_CHECK);
            int j = converge == null ? -1 : history.pointAfter(m.cpu.icount());
            if (j >= 0) limit = Math.min(limit, history.point(j).icount());
            RunResult r = recovery.run(Long.MAX_VALUE, limit);
            if (r.kind() == RunResult.Kind.LIMIT && j >= 0 && m.cpu.icount() == history.point(j).icount() && converge.test(j)) {
                return CONVERGED;
            }
            if (r.kind() != RunResult.Kind.LIMIT || m.cpu.icount() >= budget || recovery.workDone()) return r;
        }
    }

    /**
     * The most instructions an injection executes, re-executions after rollbacks included: 20 times
     * the golden run, plus 100 million. A rollback resets the instruction count that the budget
     * watches, so an error that comes back after every rollback escalated through all 64 retained
     * checkpoints, a run from each, for many minutes (compress suite injection 1043); a recovery
     * that escalates back past an early error needs far less (quantum injection 18 of seed 1 at
     * L = 0: about six golden runs).
     */
    long workLimit() {
        return golden.instructions() * 20 + 100_000_000L;
    }

    /** What {@link #runOn} returns when the run became the golden run again: the rest is the golden run's. */
    private static final RunResult CONVERGED = new RunResult(RunResult.Kind.LIMIT, 0, "converged");

    /** One injection from a clean start; {@code events} (may be null) hears every recovery event. */
    public Result inject(int index, Fault fault, java.util.function.Consumer<RecoveryManager.Event> events) throws LoadException {
        return inject(index, fault, events, b -> {});
    }

    /**
     * One injection, with every byte the user would have seen passed on to {@code seen} as it is
     * delivered (for {@code vmm inject --replay}). Returns null if the campaign was stopped meanwhile.
     */
    public Result inject(int index, Fault fault, java.util.function.Consumer<RecoveryManager.Event> events,
                         io.mucheckpoint.vmm.dev.ConsoleSink seen) throws LoadException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ReplayConsole console = new ReplayConsole(b -> {
            out.write(b);
            seen.write(b);
        }, false);
        Machine m = start.machine(console);
        if (outputCommit) console.withOutputCommit(checkpoints.latencyNanos(), m.clock::nanos);
        CheckpointEngine engine = new CheckpointEngine(m, checkpoints);
        RecoveryManager recovery = new RecoveryManager(m, engine, checkpoints.latencyNanos(), console).withWatchdog(watchdogNanos);
        if (events != null) recovery.addEventListener(events);
        ConsolePatternDetector patterns = consolePatterns.isEmpty() ? null : new ConsolePatternDetector(consolePatterns);
        if (patterns != null) recovery.withConsolePatterns(patterns);
        int[] newest = {-1};
        engine.addBoundaryListener(c -> newest[0] = c.id());
        RecoveryManager.Outcome[] first = {null};
        int[] newestAtFirst = {-1};
        int[] rollbacks = {0};
        recovery.addRecoveryListener(o -> {
            if (first[0] == null) {
                first[0] = o;
                newestAtFirst[0] = newest[0];
            }
            if (o.recovered()) rollbacks[0]++;
        });
        boolean reuse = fastForward && fastForwardUnavailable() == null;
        long startIcount = m.cpu.icount();
        if (reuse) startIcount = fastForwardTo(fault, m, console, out, seen, patterns, recovery, engine);
        long injectedNanos = -1, firstSharing = -1;
        HeldFault held = new HeldFault(fault);
        long budget = golden.instructions() * 3 + 50_000_000L;
        recovery.withWorkLimit(workLimit());
        RunResult r = recovery.run(Long.MAX_VALUE, fault.icount());
        ActivationTracker.Activation activation = ActivationTracker.Activation.DORMANT;
        ActivationTracker.MemoryWatch watch = null;
        if (!r.finished() && m.cpu.icount() == fault.icount()) {
            Machine copy = Fault.isMemory(fault.target()) ? null : ActivationTracker.goldenCopy(m);
            injectedNanos = m.clock.toNanos(m.clock.now());
            firstSharing = fault.target() == Fault.Target.MEM ? engine.firstSharing((int) (fault.index() >>> 12)) : engine.checkpointsTaken();
            FaultInjector.Injected injected = FaultInjector.inject(m, fault);
            // from here a transient fault's run is deterministic: escalations through its own checkpoints need not run again
            if (reuse && convergence && !fault.stuck()) recovery.knowingRepeatsAfter(fault.icount());
            if (events != null) events.accept(new RecoveryManager.Event("inject", fault + String.format(" (0x%x -> 0x%x)",
                    injected.before(), injected.after()), m.cpu.icount(), m.clock.toNanos(m.clock.now())));
            if (copy != null) {
                int[] recoveries = {recovery.recoveries()};
                RunResult[] last = {null};
                activation = ActivationTracker.lockstep(m, copy, fault, LOCKSTEP_WINDOW, () -> {
                    last[0] = recovery.run(Long.MAX_VALUE, m.cpu.icount() + 1);
                    held.stepped(m);
                    return !last[0].finished() && recovery.recoveries() == recoveries[0];
                });
                if (last[0] != null && last[0].finished()) r = last[0];
            } else {
                watch = ActivationTracker.watchMemory(m, fault);
            }
            while (held.holding() && !r.finished()) {
                r = recovery.run(Long.MAX_VALUE, m.cpu.icount() + 1);
                held.stepped(m);
            }
            ActivationTracker.MemoryWatch w = watch;
            // A memory fault whose byte was neither read nor written yet is still undecided: the
            // golden run's next access to it decides, so the run cannot stop before that.
            java.util.function.IntPredicate converge = reuse && convergence && !held.holding()
                    ? j -> (w == null || w.result() != ActivationTracker.Activation.DORMANT) && sameAsGolden(j, m, engine, recovery, console, patterns)
                    : null;
            // From here on (not in the lockstep or a stuck-at fault's hold, whose single steps must
            // run on after a rollback as a run to the end does), a rollback returns to runOn, so
            // that it stops at the golden checkpoint after the rollback.
            if (converge != null) recovery.returningAfterRecovery();
            if (!r.finished()) r = runOn(m, recovery, budget, converge);
        } else if (!r.finished()) {
            r = runOn(m, recovery, budget, null);
        }
        if (r == null) return null;
        if (watch != null) {
            activation = watch.result();
            m.memory.setAccessWatch(-1, null);
        }
        byte[] seenBytes, endedBytes;
        long endIcount = m.cpu.icount();
        long reexecutedRun = recovery.reexecutedInstructions() - recovery.rerunsKnown(); // known reruns were counted, not run
        if (r == CONVERGED) {
            // From a golden checkpoint on, the same state runs the same way: the rest of the output
            // is the golden run's, printed through the console as the guest would print it (after a
            // rollback, what the undone timeline delivered is compared and suppressed, or diverges),
            // and the run exits as the golden one did.
            for (int i = (int) console.position(); i < golden.output().length; i++) console.write(golden.output()[i] & 0xFF);
            seenBytes = out.toByteArray();
            endedBytes = console.deliveredBytes();
            effort.converged.incrementAndGet();
            if (recovery.recoveries() > 0) effort.convergedAfterRollback.incrementAndGet();
            if (events != null) events.accept(new RecoveryManager.Event("converged", "the state is the golden run's at its checkpoint "
                    + history.point(history.pointAtOrBefore(endIcount)).id() + ": the rest of the run is the golden run's", endIcount, m.clock.toNanos(m.clock.now())));
            effort.avoided.addAndGet(golden.instructions() - endIcount);
            r = new RunResult(RunResult.Kind.EXIT, golden.exitStatus(), golden.exitMessage());
            endIcount = golden.instructions();
            effort.run.addAndGet(m.cpu.icount() - startIcount + reexecutedRun);
        } else {
            console.releaseAll(); // what was held goes out when the run ends, right or wrong
            seenBytes = out.toByteArray();
            endedBytes = console.deliveredBytes();
            effort.run.addAndGet(endIcount - startIcount + reexecutedRun);
        }
        effort.avoided.addAndGet(recovery.rerunsKnown());
        if (recovery.rerunsKnown() > 0) effort.escalatedWithoutRerun.incrementAndGet();
        boolean finished = r.finished();
        boolean exitOk = r.kind() == RunResult.Kind.EXIT && r.exitStatus() == golden.exitStatus();
        // The verdict is the user's: every byte the sink delivered, in order, including bytes of a
        // timeline a rollback later corrected (the console's own record is that corrected timeline).
        boolean seenOk = exitOk && Arrays.equals(seenBytes, golden.output());
        boolean endedRight = exitOk && Arrays.equals(endedBytes, golden.output());
        boolean detected = recovery.detections() > 0;
        Outcome outcome;
        if (detected) {
            outcome = seenOk ? Outcome.DETECTED_RECOVERED
                    : endedRight ? Outcome.DETECTED_RECOVERED_ESCAPED : Outcome.DETECTED_NOT_RECOVERED;
        } else if (!finished) {
            outcome = Outcome.HANG;
        } else if (seenOk) {
            outcome = activation == ActivationTracker.Activation.ACTIVATED ? Outcome.MASKED : Outcome.NOT_ACTIVATED;
        } else {
            outcome = Outcome.SDC;
        }
        if (activation == ActivationTracker.Activation.DORMANT && (detected || !seenOk)) {
            activation = ActivationTracker.Activation.ACTIVATED; // it did something, after the window
        }
        String detail = finished ? r.message() : recovery.workDone()
                ? String.format("still running after %,d instructions of work (%,d of them re-executed after rollbacks)",
                        m.cpu.icount() + recovery.reexecutedInstructions(), recovery.reexecutedInstructions())
                : "still running after " + budget + " instructions";
        RecoveryManager.Outcome o = first[0];
        Trace trace = new Trace(injectedNanos, firstSharing, o == null ? -1 : o.detection().icount(),
                o == null ? -1 : o.detection().guestNanos(), o == null ? null : o.detection().detector(), newestAtFirst[0],
                o == null || o.target() == null ? -1 : o.target().id(), o == null || o.target() == null ? -1 : o.target().icount(),
                rollbacks[0], recovery.reexecutedInstructions(), held.reapplied());
        return new Result(index, fault, activation, outcome, recovery.detections(), recovery.recoveries(),
                recovery.escalations(), endIcount, detail, trace);
    }

    /**
     * Puts the injection's machine, engine, console and watchdog where the golden run stood at the
     * newest checkpoint at or before the fault, with the checkpoints the golden engine kept there.
     * Returns the instruction count the run now starts from.
     */
    private long fastForwardTo(Fault fault, Machine m, ReplayConsole console, ByteArrayOutputStream out,
                               io.mucheckpoint.vmm.dev.ConsoleSink seen, ConsolePatternDetector patterns,
                               RecoveryManager recovery, CheckpointEngine engine) {
        int j = history.pointAtOrBefore(fault.icount());
        if (j < 0) return m.cpu.icount();
        GoldenHistory.Point p = history.point(j);
        history.restore(j, m);
        byte[] prefix = Arrays.copyOf(golden.output(), p.output());
        java.util.Map<Integer, Long> positions = new java.util.HashMap<>();
        for (int i = p.oldestRetained(); i <= j; i++) positions.put(history.point(i).id(), (long) history.point(i).output());
        console.resumeAt(prefix, positions);
        out.writeBytes(prefix);
        for (byte b : prefix) seen.write(b & 0xFF);
        if (patterns != null) for (byte b : prefix) patterns.accept(b & 0xFF);
        recovery.resumeProgress(p.lastProgressTicks(), p.lastProgressIcount());
        // Input the start queued (a command typed into the guest): what the golden run had delivered
        // by now is in the input log, for rollbacks to replay, and no longer in the queue.
        List<InputLog.Entry> delivered = history.inputBefore(j);
        if (m.discardInput(delivered.size()) != delivered.size()) throw new IllegalStateException("the start queued less input than the golden run delivered");
        for (InputLog.Entry e : delivered) recovery.inputLog().delivered(e.icount(), e.ticks(), e.b());
        engine.startFrom(history.seeds(j), p.predictorState());
        effort.fastForwarded.incrementAndGet();
        effort.skipped.addAndGet(p.icount() - history.point(0).icount());
        return p.icount();
    }

    /**
     * Whether the injected run, standing at golden checkpoint {@code j}'s instruction, is the golden
     * run there, so that by determinism the rest of the run is the golden run's: a checkpoint was
     * just taken at the same instruction and guest time; the processor, devices, every page of RAM
     * and the disks are equal; the guest has printed the golden output so far on its timeline and
     * has received the same input, with none of a rolled-back timeline left to replay; the watchdog's
     * last progress is no older than the golden run's (so it cannot fire where the golden run's does
     * not); the console detector, in its state, finds no pattern in the golden run's remaining
     * output; and the work limit leaves room for the rest of the run.
     *
     * <p>After a rollback the console may have delivered more than the guest has printed again (the
     * timeline the rollback undid): the rest of the golden output is then compared with it as the
     * guest re-prints it, as in the run to the end. Such an injection stops at the first golden
     * checkpoint after the rollback where its state is the golden run's, instead of running again
     * through all it had already run.
     */
    private boolean sameAsGolden(int j, Machine m, CheckpointEngine engine, RecoveryManager recovery, ReplayConsole console,
                                 ConsolePatternDetector patterns) {
        GoldenHistory.Point p = history.point(j);
        if (m.clock.now() != p.ticks()) return false;
        List<io.mucheckpoint.checkpoint.CheckpointInfo> cps = engine.checkpoints();
        if (cps.isEmpty() || cps.get(cps.size() - 1).icount() != p.icount()) return false;
        if (recovery.lastProgressTicks() < p.lastProgressTicks()) return false;
        if (console.position() != p.output() || console.delivered() < p.output()) return false;
        if (!Arrays.equals(console.deliveredBytes(), 0, p.output(), golden.output(), 0, p.output())) return false;
        if (recovery.inputLog().replaying() || recovery.inputLog().size() != p.input()) return false;
        // queued host bytes reach the guest wherever the run loop looks next, which depends on how the run is cut
        if (m.hasQueuedInput()) return false;
        // the run to the end stops when its work (instruction count plus re-executed) reaches the limit
        if (golden.instructions() + recovery.reexecutedInstructions() >= workLimit()) return false;
        if (patterns != null) {
            ConsolePatternDetector d = patterns.copy();
            for (int i = p.output(); i < golden.output().length; i++) if (d.accept(golden.output()[i] & 0xFF) != null) return false;
        }
        if (!Arrays.equals(m.saveState().encode(), p.state())) return false;
        return history.ramEquals(j, m) && Arrays.equals(diskHashes(m), goldenDisks);
    }


    private static long[] diskHashes(Machine m) {
        return m.drives.stream().mapToLong(d -> d.disk().hash()).toArray();
    }

}
