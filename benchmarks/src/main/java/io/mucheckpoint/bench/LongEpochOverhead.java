package io.mucheckpoint.bench;

import io.mucheckpoint.checkpoint.CheckpointEngine;
import io.mucheckpoint.vmm.Machine;
import java.util.concurrent.TimeUnit;
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
 * Checkpoint overhead per instruction as the paper had it: epochs of 100 million guest instructions,
 * about what a native 50 ms epoch holds. {@link CheckpointOverhead}'s 50-million-instruction runs
 * would not reach a single such boundary, so these runs are five times longer, on three workloads.
 */
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"-XX:+UseParallelGC", "-Xmx4g"})
@Warmup(iterations = 1)
@Measurement(iterations = 3)
@State(Scope.Thread)
public class LongEpochOverhead {
    @Param({"compress", "mcf", "astar"})
    public String workload;

    @Param({"off", "cow-100000000i-history", "cow-50ms-history"})
    public String config;

    @Param({"250000000"})
    public long slice;

    private Machine machine;
    private CheckpointEngine engine;

    @Setup(Level.Invocation)
    public void boot() {
        machine = GuestRun.machine(workload, "size=bench");
        engine = CheckpointOverhead.startEngine(machine, config);
    }

    @Benchmark
    public long run(CheckpointOverhead.EngineCounters counters) {
        return CheckpointOverhead.runSlice(machine, engine, slice, counters);
    }
}
