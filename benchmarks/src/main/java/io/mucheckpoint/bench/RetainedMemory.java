package io.mucheckpoint.bench;

import io.mucheckpoint.checkpoint.CheckpointConfig;
import io.mucheckpoint.checkpoint.CheckpointEngine;
import io.mucheckpoint.vmm.Machine;
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
 * Memory the latency window needs against the latency bound L (copy-on-write, 50 ms epochs):
 * after a stretch of the workload, the bytes of page images and device state held by the
 * checkpoints from the newest back to the first one at least L old — what a rollback to "before
 * the error" needs kept. Retention itself is set by --keep and the budget, so the engine here keeps
 * everything and the counter measures the window. The time is incidental; the counters are the
 * result.
 */
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"-XX:+UseParallelGC", "-Xmx4g"})
@Warmup(iterations = 0)
@Measurement(iterations = 1)
@State(Scope.Thread)
public class RetainedMemory {
    @Param({"compress", "churn", "quantum"})
    public String workload;

    @Param({"0", "50", "100", "200", "500", "1000"})
    public long latencyMillis;

    /** Bytes the window of L needs, all bytes held, and the guest time the checkpoints cover. */
    @AuxCounters(AuxCounters.Type.EVENTS)
    @State(Scope.Thread)
    public static class Held {
        public long kibHeld;
        public long kibAllRetained;
        public long coveredMillis;
        public long retained;
    }

    @Benchmark
    public void run(Held held) {
        Machine m = GuestRun.machine(workload, "size=bench");
        CheckpointConfig cfg = BenchConfig.parse("cow-50ms-history").withLatencyNanos(latencyMillis * 1_000_000)
                .withMemoryBudget(2L << 30).withKeep(1000);
        CheckpointEngine e = new CheckpointEngine(m, cfg);
        e.start();
        e.run(Long.MAX_VALUE, 150_000_000);
        held.kibHeld = e.bytesCovering(latencyMillis * 1_000_000) >> 10;
        held.kibAllRetained = e.stats().bytesHeld() >> 10;
        held.coveredMillis = e.stats().coveredNanos() / 1_000_000;
        held.retained = e.stats().retained();
    }
}
