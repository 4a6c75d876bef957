package io.mucheckpoint.recovery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mucheckpoint.checkpoint.CheckpointConfig;
import io.mucheckpoint.checkpoint.CheckpointEngine;
import io.mucheckpoint.checkpoint.Interval;
import io.mucheckpoint.vmm.ConsoleCapture;
import io.mucheckpoint.vmm.GuestImage;
import io.mucheckpoint.vmm.Machine;
import io.mucheckpoint.vmm.MachineConfig;
import io.mucheckpoint.vmm.RunResult;
import io.mucheckpoint.vmm.Workloads;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import org.junit.jupiter.api.Test;

/**
 * Recovery in a guest with paging, ring 3 and live x87 state: guests/kernels/pmkernel, whose output
 * the host oracle computed (guests/expected/pmkernel.txt). An error is injected while the ring-3
 * task does x87 arithmetic, just after a checkpoint taken there; it is detected a little later, and
 * the rollback puts back a ring-3 state with paging on and x87 registers in use. The run must then
 * print exactly what the oracle printed.
 */
class ProtectedModeRecoveryTest {
    static final int PG = 1 << 31;
    static final int INTERVAL = 100_000;
    static final long AFTER_CHECKPOINT = 2_000, DETECTED_AFTER = 500;

    static GuestImage image() throws Exception {
        return new GuestImage.Multiboot("pmkernel.elf", Files.readAllBytes(Workloads.guests().resolve("build/pmkernel.elf")),
                "guests/build/pmkernel.elf");
    }

    static String oracle() throws Exception {
        return Files.readString(Workloads.guests().resolve("expected/pmkernel.txt"), StandardCharsets.UTF_8);
    }

    static boolean ring3WithX87(Machine m) {
        return m.cpu.cpl() == 3 && (m.cpu.cr0() & PG) != 0 && m.cpu.save().fpu().tag() != 0xFFFF;
    }

    /** The guest's output without recovery when {@code reg} has bit 12 flipped at instruction {@code at}. */
    static String plainRunWithFlip(long at, int reg) throws Exception {
        ConsoleCapture out = new ConsoleCapture();
        Machine m = new Machine(MachineConfig.defaults(), image(), out, b -> {});
        m.run(Long.MAX_VALUE, at);
        FaultInjector.inject(m, new Fault(Fault.Target.REG, reg, 1 << 12, at));
        m.run(Long.MAX_VALUE, 100_000_000L);
        return out.text();
    }

    @Test
    void anErrorInRing3X87CodeIsRolledBackAndTheOutputIsTheOracles() throws Exception {
        ConsoleCapture user = new ConsoleCapture();
        ReplayConsole console = new ReplayConsole(user, false);
        Machine m = new Machine(MachineConfig.defaults(), image(), console, b -> {});
        console.withOutputCommit(0, m.clock::nanos);
        CheckpointEngine engine = new CheckpointEngine(m, CheckpointConfig.defaults().withInterval(Interval.instructions(INTERVAL))
                .withLatencyNanos(0).withPredictor(CheckpointConfig.PredictorKind.NONE));
        RecoveryManager recovery = new RecoveryManager(m, engine, 0, console);
        long[] ring3Checkpoint = {-1};
        engine.addBoundaryListener(c -> {
            if (ring3Checkpoint[0] < 0 && ring3WithX87(m)) ring3Checkpoint[0] = c.icount();
        });
        while (ring3Checkpoint[0] < 0) {
            assertTrue(!recovery.run(Long.MAX_VALUE, m.cpu.icount() + INTERVAL).finished(), "no checkpoint in ring 3 with x87 in use");
        }
        long at = ring3Checkpoint[0] + AFTER_CHECKPOINT;
        assertTrue(m.cpu.icount() <= at, "the search ran past the flip point");
        recovery.run(Long.MAX_VALUE, at);
        assertEquals(at, m.cpu.icount());

        // A register whose flip here changes what the guest prints: a real error, not a masked one.
        String oracle = oracle();
        Integer reg = null;
        for (int r : new int[] {0, 1, 2, 3, 5, 6, 7}) {
            if (!plainRunWithFlip(at, r).equals(oracle)) {
                reg = r;
                break;
            }
        }
        assertNotNull(reg, "no register flip at instruction " + at + " changes the output");

        FaultInjector.inject(m, new Fault(Fault.Target.REG, reg, 1 << 12, at));
        RunResult r = recovery.run(Long.MAX_VALUE, at + DETECTED_AFTER);
        assertTrue(!r.finished(), r.message());
        RecoveryManager.Outcome o = recovery.recoverNow("a test's detector");
        assertTrue(o.recovered(), o.message());
        assertEquals(ring3Checkpoint[0], o.target().icount(), "rolled back to the checkpoint before the flip");
        assertTrue(ring3WithX87(m), "the rolled-back state is in ring 3 with paging on and x87 registers in use");
        r = recovery.run(Long.MAX_VALUE, 100_000_000L);
        assertEquals(RunResult.Kind.EXIT, r.kind(), r.message());
        assertEquals(0, r.exitStatus());
        assertEquals(oracle, user.text(), "every byte the user saw, after a recovery from " + new Fault(Fault.Target.REG, reg, 1 << 12, at));
        assertNotEquals(0, recovery.recoveries());
    }
}
