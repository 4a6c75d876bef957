package io.mucheckpoint.recovery;

import io.mucheckpoint.checkpoint.CheckpointConfig;
import io.mucheckpoint.checkpoint.CheckpointEngine;
import io.mucheckpoint.vmm.GuestImage;
import io.mucheckpoint.vmm.Machine;
import io.mucheckpoint.vmm.MachineConfig;
import io.mucheckpoint.vmm.RunResult;
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

    private final MachineConfig machineConfig;
    private final GuestImage image;
    private final CheckpointConfig checkpoints;
    private final long watchdogNanos;
    private final Golden golden;
    private boolean outputCommit;

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
                         int recoveries, int escalations, long instructions, String detail) {}

    /** @param watchdogNanos the hang watchdog of the injected runs: 0 off, {@link #WATCHDOG_AUTO} sized from the golden run */
    public Campaign(MachineConfig machineConfig, GuestImage image, CheckpointConfig checkpoints, long watchdogNanos)
            throws LoadException {
        this.machineConfig = machineConfig;
        this.image = image;
        this.checkpoints = checkpoints;
        this.golden = goldenRun();
        this.watchdogNanos = watchdogNanos == WATCHDOG_AUTO ? golden.watchdogNanos() : watchdogNanos;
    }

    /** The watchdog the injected runs use (guest ns; 0: off). */
    public long watchdogNanos() {
        return watchdogNanos;
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
        Machine m = new Machine(machineConfig, image, b -> {
            marker.run();
            out.write(b);
        }, b -> {});
        machine[0] = m;
        m.addGuestServicesListener(new io.mucheckpoint.vmm.dev.GuestServicesListener() {
            @Override
            public void heartbeat(int value) {
                marker.run();
            }
        });
        long[] used = new long[(m.memory.pageCount() + 63) >>> 6];
        long[] scratch = new long[used.length];
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
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, workers), r -> {
            Thread t = new Thread(r, "injection");
            t.setDaemon(true);
            return t;
        });
        try {
            List<Future<Result>> futures = new ArrayList<>();
            AtomicInteger done = new AtomicInteger();
            for (int i = from; i < to; i++) {
                int index = i;
                futures.add(pool.submit(() -> {
                    if (stopping) return null;
                    Result res = inject(index, plan.fault(index), null);
                    if (res != null) progress.accept(done.incrementAndGet());
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
        Machine m = new Machine(machineConfig, image, console, b -> {});
        if (outputCommit) console.withOutputCommit(checkpoints.latencyNanos(), m.clock::nanos);
        CheckpointEngine engine = new CheckpointEngine(m, checkpoints);
        RecoveryManager recovery = new RecoveryManager(m, engine, checkpoints.latencyNanos(), console).withWatchdog(watchdogNanos);
        if (events != null) recovery.addEventListener(events);
        long budget = golden.instructions() * 3 + 50_000_000L;
        RunResult r = recovery.run(Long.MAX_VALUE, fault.icount());
        ActivationTracker.Activation activation = ActivationTracker.Activation.DORMANT;
        ActivationTracker.MemoryWatch watch = null;
        if (!r.finished() && m.cpu.icount() == fault.icount()) {
            Machine copy = fault.target() == Fault.Target.MEM ? null : ActivationTracker.goldenCopy(m);
            FaultInjector.Injected injected = FaultInjector.inject(m, fault);
            if (events != null) events.accept(new RecoveryManager.Event("inject", fault + String.format(" (0x%x -> 0x%x)",
                    injected.before(), injected.after()), m.cpu.icount(), m.clock.toNanos(m.clock.now())));
            if (copy != null) {
                int[] recoveries = {recovery.recoveries()};
                RunResult[] last = {null};
                activation = ActivationTracker.lockstep(m, copy, fault, LOCKSTEP_WINDOW, () -> {
                    last[0] = recovery.run(Long.MAX_VALUE, m.cpu.icount() + 1);
                    return !last[0].finished() && recovery.recoveries() == recoveries[0];
                });
                if (last[0] != null && last[0].finished()) r = last[0];
            } else {
                watch = ActivationTracker.watchMemory(m, fault);
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
        return new Result(index, fault, activation, outcome, recovery.detections(), recovery.recoveries(),
                recovery.escalations(), m.cpu.icount(), detail);
    }
}
