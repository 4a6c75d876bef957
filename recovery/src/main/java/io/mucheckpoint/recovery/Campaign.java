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
                         long longestSilenceNanos, long longestSilenceInstructions) {
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

    private Golden goldenRun() throws LoadException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Machine[] machine = {null};
        long[] silence = {0, 0, 0, 0}; // the last marker's guest time and instruction; the longest gaps
        Runnable marker = () -> {
            Machine mm = machine[0];
            long now = mm.clock.nanos(), icount = mm.cpu.icount();
            silence[2] = Math.max(silence[2], now - silence[0]);
            silence[3] = Math.max(silence[3], icount - silence[1]);
            silence[0] = now;
            silence[1] = icount;
        };
        Machine m = start.machine(b -> {
            marker.run();
            out.write(b);
        });
        machine[0] = m;
        m.addGuestServicesListener(new io.mucheckpoint.vmm.dev.GuestServicesListener() {
            @Override
            public void heartbeat(int value) {
                marker.run();
            }
        });
        long[] used = new long[(m.memory.pageCount() + 63) >>> 6];
        long[] scratch = new long[used.length];
        if (!start.loadedPagesCount()) m.memory.drainDirty(scratch);
        RunResult r;
        do {
            r = m.run(Long.MAX_VALUE, m.cpu.icount() + 1_000_000);
            m.memory.drainDirty(scratch);
            for (int i = 0; i < used.length; i++) used[i] |= scratch[i];
        } while (!r.finished());
        if (r.kind() != RunResult.Kind.EXIT) throw new IllegalStateException("the golden run did not exit: " + r.message());
        List<Integer> pages = new ArrayList<>();
        for (int w = 0; w < used.length; w++) {
            for (long bits = used[w]; bits != 0; bits &= bits - 1) pages.add((w << 6) + Long.numberOfTrailingZeros(bits));
        }
        marker.run(); // the silence before the exit counts too
        return new Golden(out.toByteArray(), r.exitStatus(), m.cpu.icount(), m.clock.toNanos(m.clock.now()),
                pages.stream().mapToInt(Integer::intValue).toArray(), silence[2], silence[3]);
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
                    Result res = inject(index, plan.fault(index), null);
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

    /** Instructions between looks at {@link #stop}. */
    private static final long STOP_CHECK = 5_000_000;

    /** Runs to the budget (or the end), a slice at a time so that {@link #stop} is heard; null if stopped. */
    private RunResult runOn(Machine m, RecoveryManager recovery, long budget) {
        while (true) {
            if (stopping) return null;
            long limit = Math.min(budget, m.cpu.icount() + STOP_CHECK);
            RunResult r = recovery.run(Long.MAX_VALUE, limit);
            if (r.kind() != RunResult.Kind.LIMIT || limit == budget) return r;
        }
    }

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
        if (!consolePatterns.isEmpty()) recovery.withConsolePatterns(new ConsolePatternDetector(consolePatterns));
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
        long injectedNanos = -1, firstSharing = -1;
        HeldFault held = new HeldFault(fault);
        long budget = golden.instructions() * 3 + 50_000_000L;
        RunResult r = recovery.run(Long.MAX_VALUE, fault.icount());
        ActivationTracker.Activation activation = ActivationTracker.Activation.DORMANT;
        ActivationTracker.MemoryWatch watch = null;
        if (!r.finished() && m.cpu.icount() == fault.icount()) {
            Machine copy = Fault.isMemory(fault.target()) ? null : ActivationTracker.goldenCopy(m);
            injectedNanos = m.clock.toNanos(m.clock.now());
            firstSharing = fault.target() == Fault.Target.MEM ? engine.firstSharing((int) (fault.index() >>> 12)) : engine.checkpointsTaken();
            FaultInjector.Injected injected = FaultInjector.inject(m, fault);
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
            if (!r.finished()) r = runOn(m, recovery, budget);
        } else if (!r.finished()) {
            r = runOn(m, recovery, budget);
        }
        if (r == null) return null;
        if (watch != null) {
            activation = watch.result();
            m.memory.setAccessWatch(-1, null);
        }
        console.releaseAll(); // what was held goes out when the run ends, right or wrong
        boolean finished = r.finished();
        boolean exitOk = r.kind() == RunResult.Kind.EXIT && r.exitStatus() == golden.exitStatus();
        // The verdict is the user's: every byte the sink delivered, in order, including bytes of a
        // timeline a rollback later corrected (the console's own record is that corrected timeline).
        boolean seenOk = exitOk && Arrays.equals(out.toByteArray(), golden.output());
        boolean endedRight = exitOk && Arrays.equals(console.deliveredBytes(), golden.output());
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
        String detail = finished ? r.message() : "still running after " + budget + " instructions";
        RecoveryManager.Outcome o = first[0];
        Trace trace = new Trace(injectedNanos, firstSharing, o == null ? -1 : o.detection().icount(),
                o == null ? -1 : o.detection().guestNanos(), o == null ? null : o.detection().detector(), newestAtFirst[0],
                o == null || o.target() == null ? -1 : o.target().id(), o == null || o.target() == null ? -1 : o.target().icount(),
                rollbacks[0], recovery.reexecutedInstructions(), held.reapplied());
        return new Result(index, fault, activation, outcome, recovery.detections(), recovery.recoveries(),
                recovery.escalations(), m.cpu.icount(), detail, trace);
    }
}
