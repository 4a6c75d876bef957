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
 * How long the guest stands still at an epoch boundary: the small state, the dirty-log scan,
 * protecting RAM, retention, and (copy-on-write) the pre-copy of predicted pages. Before each
 * measured boundary the guest runs one 50 ms epoch (5 million instructions at the default rate).
 * The engine is warmed up first with {@link #WARM_BOUNDARIES} short epochs.
 */
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = {"-XX:+UseParallelGC", "-Xmx3g"})
@Warmup(iterations = 20)
@Measurement(iterations = 40)
@State(Scope.Thread)
public class BoundaryPause {
    @Param({"compress", "churn"})
    public String workload;

    @Param({"none", "history"})
    public String predictor;

    private Machine machine;
    private CheckpointEngine engine;

    @Setup(Level.Trial)
    public void boot() {
        machine = GuestRun.machine(workload, "size=bench");
        engine = new CheckpointEngine(machine, BenchConfig.parse("cow-1000000000000i-" + predictor));
        engine.start();
        // Boundaries come 20 times a second: measure the compiled code a long run settles into,
        // not the interpreter's first few hundred passes (docs/results.md says which this is).
        for (int i = 0; i < WARM_BOUNDARIES; i++) {
            GuestRun.runSlice(machine, 50_000);
            engine.checkpointNow();
        }
    }

    static final int WARM_BOUNDARIES = 3000;

    @Setup(Level.Invocation)
    public void runAnEpoch() {
        if (GuestRun.runSlice(machine, 5_000_000)) {
            machine = GuestRun.machine(workload, "size=bench");
            engine = new CheckpointEngine(machine, BenchConfig.parse("cow-1000000000000i-" + predictor));
            engine.start();
            GuestRun.runSlice(machine, 5_000_000);
        }
    }

    @Benchmark
    public Object boundary() {
        return engine.checkpointNow();
    }
}
