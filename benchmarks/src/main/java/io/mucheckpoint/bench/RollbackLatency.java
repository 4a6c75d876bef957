package io.mucheckpoint.bench;

import io.mucheckpoint.checkpoint.CheckpointEngine;
import io.mucheckpoint.checkpoint.CheckpointInfo;
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
 * In-place rollback time against the number of pages written since the target checkpoint, per
 * mode: verification of every image needed, writing the pages back, restoring the small state.
 */
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = {"-XX:+UseParallelGC", "-Xmx4g"})
@Warmup(iterations = 10)
@Measurement(iterations = 20)
@State(Scope.Thread)
public class RollbackLatency {
    @Param({"10", "100", "1000", "10000"})
    public int dirtyPages;

    @Param({"cow", "copy", "full"})
    public String mode;

    private Machine machine;
    private CheckpointEngine engine;
    private CheckpointInfo target;
    private final byte[] page = new byte[4096];
    private int round;

    @Setup(Level.Trial)
    public void boot() {
        machine = GuestRun.machine("compress", "size=bench");
        GuestRun.runSlice(machine, 2_000_000);
        engine = new CheckpointEngine(machine, BenchConfig.parse(mode + "-1000000000000i-none"));
        engine.start();
        // Warm the rollback path up (compiled code, as in a long run) on small rollbacks.
        int warm = mode.equals("full") ? 50 : 2000;
        for (int i = 0; i < warm; i++) {
            CheckpointInfo c = engine.checkpointNow();
            machine.memory.writePage(600 + i % 50, page, 0);
            engine.rollback(c.id());
        }
    }

    /** A fresh checkpoint, then {@code dirtyPages} distinct pages written through the memory door. */
    @Setup(Level.Invocation)
    public void dirty() {
        target = engine.checkpointNow();
        round++;
        java.util.Arrays.fill(page, (byte) round);
        int pages = machine.memory.pageCount();
        for (int i = 0; i < dirtyPages; i++) machine.memory.writePage((i * 7 + 512) % pages, page, 0);
    }

    @Benchmark
    public Object rollback() {
        return engine.rollback(target.id());
    }
}
