package io.mucheckpoint.bench;

import io.mucheckpoint.checkpoint.CheckpointEngine;
import io.mucheckpoint.checkpoint.EngineStats;
import io.mucheckpoint.vmm.Machine;
import io.mucheckpoint.vmm.RunResult;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The time to run a fixed stretch of a workload (its first {@code slice} instructions at
 * size=bench, from boot) with checkpointing off or in one configuration. Overhead is the ratio
 * to {@code off}, worked out by the report. Every invocation boots afresh, so each measures the
 * same instructions; the engine's own counters (pause, traps, prediction) come out as secondary
 * results. Epochs of 100 million instructions need longer runs: {@link LongEpochOverhead}.
 */
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"-XX:+UseParallelGC", "-Xmx4g"})
@Warmup(iterations = 2)
@Measurement(iterations = 4)
@State(Scope.Thread)
public class CheckpointOverhead {
    @Param({"compress", "mcf", "gametree", "align", "quantum", "motion", "astar", "churn", "timer"})
    public String workload;

    @Param({"off",
            "cow-5ms-history", "cow-10ms-history", "cow-25ms-history", "cow-50ms-history", "cow-100ms-history",
            "copy-5ms-none", "copy-10ms-none", "copy-25ms-none", "copy-50ms-none", "copy-100ms-none",
            "full-5ms-none", "full-10ms-none", "full-25ms-none", "full-50ms-none", "full-100ms-none",
            "cow-50ms-none", "cow-50ms-last", "cow-50ms-history-host"})
    public String config;

    @Param({"50000000"})
    public long slice;

    private Machine machine;
    private CheckpointEngine engine;

    /** The engine's counters for the measured invocations. */
    @AuxCounters(AuxCounters.Type.EVENTS)
    @State(Scope.Thread)
    public static class EngineCounters {
        public long checkpoints;
        public long pauseMicros;
        public long maxPauseMicros;
        public long precopyMicros;
        public long pagesTrapped;
        public long pagesPrecopied;
        public long pagesWritten;
        public long predictionHits;
        public long predictionWaste;
        public long kibHeld;

        @Setup(Level.Iteration)
        public void clear() {
            checkpoints = pauseMicros = maxPauseMicros = precopyMicros = pagesTrapped = pagesPrecopied = 0;
            pagesWritten = predictionHits = predictionWaste = kibHeld = 0;
        }

        void add(EngineStats s) {
            checkpoints += s.checkpoints();
            pauseMicros += s.pauseNanos() / 1000;
            maxPauseMicros = Math.max(maxPauseMicros, s.maxPauseNanos() / 1000);
            precopyMicros += s.precopyNanos() / 1000;
            pagesTrapped += s.pagesTrapped();
            pagesPrecopied += s.pagesPrecopied();
            pagesWritten += s.pagesWritten();
            predictionHits += s.predictionHits();
            predictionWaste += s.predictionWaste();
            kibHeld = Math.max(kibHeld, s.bytesHeld() >> 10);
        }
    }

    /** Boundaries taken before measuring, as in {@link BoundaryPause}. */
    static final int WARM_BOUNDARIES = 3000;

    /**
     * Every fork first runs the same 60 million instructions of the workload, with {@link
     * #WARM_BOUNDARIES} boundaries when checkpointing is on (a fifteenth of them in full mode), so that the JIT has compiled the
     * interpreter and the engine as it has in any run longer than a few seconds. Without this, each
     * measured half-second run would hold the engine's first, interpreted boundaries — a start-up cost
     * that a real run pays once.
     */
    @Setup(Level.Trial)
    public void warmUp() {
        Machine m = GuestRun.machine(workload, "size=bench");
        CheckpointEngine e = startEngine(m, config);
        // A full-mode boundary copies all of RAM: a few hundred of them compile that loop as well.
        int every = config.startsWith("full-") ? 15 : 1;
        for (int i = 0; i < WARM_BOUNDARIES; i++) {
            if (GuestRun.runSlice(m, 20_000)) {
                if (e != null) e.stop();
                m = GuestRun.machine(workload, "size=bench");
                e = startEngine(m, config);
            }
            if (e != null && i % every == 0) e.checkpointNow();
        }
        if (e != null) e.stop();
    }

    @Setup(Level.Invocation)
    public void boot() {
        machine = GuestRun.machine(workload, "size=bench");
        engine = startEngine(machine, config);
    }

    @Benchmark
    public long run(EngineCounters counters) {
        return runSlice(machine, engine, slice, counters);
    }

    /** A started engine for {@code config}, or null for {@code off}. */
    static CheckpointEngine startEngine(Machine machine, String config) {
        if (config.equals("off")) return null;
        CheckpointEngine e = new CheckpointEngine(machine, BenchConfig.parse(config));
        e.start();
        return e;
    }

    /** Runs the first {@code slice} instructions, through the engine if there is one; adds its counters. */
    static long runSlice(Machine machine, CheckpointEngine engine, long slice, EngineCounters counters) {
        RunResult r = engine == null ? machine.run(Long.MAX_VALUE, slice) : engine.run(Long.MAX_VALUE, slice);
        if (r.finished() && (r.kind() != RunResult.Kind.EXIT || r.exitStatus() != 0)) throw new IllegalStateException(r.message());
        if (engine != null) counters.add(engine.stats());
        return machine.cpu.icount();
    }
}
