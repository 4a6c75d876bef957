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

    /** The reference run: its output, status, length and the pages it used. */
    public record Golden(byte[] output, int exitStatus, long instructions, long guestNanos, int[] usedPages) {}

    /** One injection's result. */
    public record Result(int index, Fault fault, ActivationTracker.Activation activation, Outcome outcome, int detections,
                         int recoveries, int escalations, long instructions, String detail) {}

    public Campaign(MachineConfig machineConfig, GuestImage image, CheckpointConfig checkpoints, long watchdogNanos)
            throws LoadException {
        this.machineConfig = machineConfig;
        this.image = image;
        this.checkpoints = checkpoints;
        this.watchdogNanos = watchdogNanos;
        this.golden = goldenRun();
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
        Machine m = new Machine(machineConfig, image, out::write, b -> {});
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
        return new Golden(out.toByteArray(), r.exitStatus(), m.cpu.icount(), m.clock.toNanos(m.clock.now()),
                pages.stream().mapToInt(Integer::intValue).toArray());
    }

    /** Runs injections {@code from..to-1} of {@code plan} on {@code workers} threads; {@code progress} hears each finish. */
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
                    Result res = inject(index, plan.fault(index), null);
                    progress.accept(done.incrementAndGet());
                    return res;
                }));
            }
            List<Result> out = new ArrayList<>();
            for (Future<Result> f : futures) out.add(f.get());
            return out;
        } finally {
            pool.shutdownNow();
        }
    }

    /** One injection from a clean start; {@code events} (may be null) hears every recovery event. */
    public Result inject(int index, Fault fault, java.util.function.Consumer<RecoveryManager.Event> events) throws LoadException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ReplayConsole console = new ReplayConsole(out::write, false);
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
            if (!r.finished()) r = recovery.run(Long.MAX_VALUE, budget);
        } else if (!r.finished()) {
            r = recovery.run(Long.MAX_VALUE, budget);
        }
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
