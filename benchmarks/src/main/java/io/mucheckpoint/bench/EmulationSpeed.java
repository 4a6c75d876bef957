package io.mucheckpoint.bench;

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
 * Steady-state guest instructions per second per workload, checkpointing off: each invocation runs
 * one slice of the workload (at size=bench) in a JVM that has been warmed up; the
 * {@code instructions} counter is the throughput. This is the interpreter's speed once compiled, not
 * what a user sees from a fresh {@code vmm run}: that is benchmarks/speed.sh (docs/speed.md).
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"-XX:+UseParallelGC", "-Xmx3g"})
@Warmup(iterations = 2, time = 3)
@Measurement(iterations = 3, time = 3)
@State(Scope.Thread)
public class EmulationSpeed {
    @Param({"compress", "mcf", "gametree", "align", "quantum", "motion", "astar", "churn", "timer"})
    public String workload;

    private Machine machine;

    /** Guest instructions retired, reported by JMH per second of benchmark time. */
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    @State(Scope.Thread)
    public static class Counters {
        public long instructions;

        @Setup(Level.Iteration)
        public void clear() {
            instructions = 0;
        }
    }

    @Setup(Level.Trial)
    public void boot() {
        machine = GuestRun.machine(workload, "size=bench");
    }

    @Benchmark
    public long slice(Counters c) {
        long before = machine.cpu.icount();
        if (GuestRun.runSlice(machine, 10_000_000)) machine = GuestRun.machine(workload, "size=bench");
        long n = machine.cpu.icount() - before;
        if (n > 0) c.instructions += n;
        return n;
    }
}
