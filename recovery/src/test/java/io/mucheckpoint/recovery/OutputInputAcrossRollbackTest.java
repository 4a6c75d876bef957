package io.mucheckpoint.recovery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mucheckpoint.checkpoint.CheckpointConfig;
import io.mucheckpoint.checkpoint.CheckpointEngine;
import io.mucheckpoint.checkpoint.CheckpointInfo;
import io.mucheckpoint.checkpoint.Interval;
import io.mucheckpoint.vmm.ConsoleCapture;
import io.mucheckpoint.vmm.Machine;
import io.mucheckpoint.vmm.MachineConfig;
import io.mucheckpoint.vmm.RunResult;
import io.mucheckpoint.vmm.Workloads;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Design brief, invariant 7: after automatic recoveries every output byte appears once, and input is re-delivered. */
class OutputInputAcrossRollbackTest {
    @Test
    void automaticRollbacksDeliverEachOutputByteOnce() throws Exception {
        for (String w : List.of("timer", "mcf")) {
            ConsoleCapture user = new ConsoleCapture();
            ReplayConsole console = new ReplayConsole(user);
            Machine m = new Machine(MachineConfig.defaults(), Workloads.multiboot(w, "size=test"), console, b -> {});
            CheckpointEngine engine = new CheckpointEngine(m, CheckpointConfig.defaults().withInterval(Interval.instructions(1_000_000)));
            RecoveryManager recovery = new RecoveryManager(m, engine, 0, console);
            Random rnd = new Random(w.hashCode());
            int rollbacks = 0;
            RunResult r;
            while (!(r = recovery.run(Long.MAX_VALUE, m.cpu.icount() + 3_000_000)).finished()) {
                if (rollbacks < 4) {
                    List<CheckpointInfo> cps = engine.checkpoints();
                    CheckpointInfo target = cps.get(rnd.nextInt(cps.size()));
                    engine.rollback(target.id());
                    console.rolledBack(target.id(), false);
                    rollbacks++;
                }
            }
            assertEquals(RunResult.Kind.EXIT, r.kind());
            assertEquals(Workloads.expected(w, "test"), user.text(), w);
            assertEquals(0, console.divergences());
            assertTrue(rollbacks >= 3);
        }
    }

    @Test
    void aRollbackTheUserAskedForPrintsAgain() throws Exception {
        ConsoleCapture user = new ConsoleCapture();
        ReplayConsole console = new ReplayConsole(user);
        Machine m = new Machine(MachineConfig.defaults(), Workloads.multiboot("compress", "size=test"), console, b -> {});
        CheckpointEngine engine = new CheckpointEngine(m, CheckpointConfig.defaults().withInterval(Interval.instructions(1_000_000)));
        engine.addBoundaryListener(c -> console.checkpointTaken(c.id()));
        engine.start();
        engine.run(Long.MAX_VALUE, Long.MAX_VALUE);
        String once = user.text();
        engine.rollback(engine.checkpoints().get(0).id());
        console.rolledBack(engine.checkpoints().get(0).id(), true);
        engine.run(Long.MAX_VALUE, Long.MAX_VALUE);
        assertEquals(once + once, user.text(), "the forked timeline prints its output again");
    }

    @Test
    void inputIsReplayedAtTheSameInstructionsAfterAnAutomaticRollback() throws Exception {
        byte[] input = "replay me, exactly!".substring(0, 16).getBytes(StandardCharsets.US_ASCII);
        // Reference: the echo run without rollbacks.
        String reference = echoRun(input, false);
        assertTrue(reference.startsWith(new String(input, StandardCharsets.US_ASCII)), reference);
        assertEquals(reference, echoRun(input, true));
    }

    private static String echoRun(byte[] input, boolean rollBack) throws Exception {
        ConsoleCapture user = new ConsoleCapture();
        ReplayConsole console = new ReplayConsole(user);
        Machine m = new Machine(MachineConfig.defaults().withRam(8L << 20), FaultlabTest.image(4), console, b -> {});
        CheckpointEngine engine = new CheckpointEngine(m, CheckpointConfig.defaults().withInterval(Interval.instructions(30_000)));
        RecoveryManager recovery = new RecoveryManager(m, engine, 0, console);
        int fed = 0;
        int rollbacks = 0;
        RunResult r;
        while (!(r = recovery.run(Long.MAX_VALUE, m.cpu.icount() + 15_000)).finished()) {
            if (fed < input.length) m.offerInput(input[fed++]); // one byte per slice: input arrives over time
            if (rollBack && rollbacks < 3 && fed > 4 * (rollbacks + 1)) {
                List<CheckpointInfo> cps = engine.checkpoints();
                CheckpointInfo target = cps.get(0);
                engine.rollback(target.id());
                console.rolledBack(target.id(), false);
                recovery.inputLog().replayFrom(target.icount(), target.guestNanos());
                rollbacks++;
            }
        }
        assertEquals(RunResult.Kind.EXIT, r.kind(), r.message());
        if (rollBack) assertEquals(3, rollbacks);
        return user.text();
    }
    /**
     * Defect 6 of issue 17: input that arrives while the guest halts between timer ticks is replayed
     * at the same guest time, not merely at the same instruction count (the halt's start). The
     * faultlab idle echo answers each byte with the TSC it reads when the byte's interrupt wakes it;
     * after {@code recoverNow} rolls back past several bytes, the replayed answers must be the same.
     */
    @Test
    void inputArrivingDuringAHaltIsReplayedAtTheSameGuestTime() throws Exception {
        String reference = idleEcho(false);
        assertEquals(6, reference.lines().count(), reference);
        assertEquals(reference, idleEcho(true));
    }

    private static String idleEcho(boolean recover) throws Exception {
        ConsoleCapture user = new ConsoleCapture();
        ReplayConsole console = new ReplayConsole(user);
        Machine m = new Machine(MachineConfig.defaults().withRam(8L << 20), FaultlabTest.image(5), console, b -> {});
        CheckpointEngine engine = new CheckpointEngine(m, CheckpointConfig.defaults().withInterval(Interval.millis(1)));
        RecoveryManager recovery = new RecoveryManager(m, engine, 15_000_000L, console);
        byte[] input = "idle!?".getBytes(StandardCharsets.US_ASCII);
        // Slices of 2.3 ms of guest time: each ends inside a halt between two 1 ms ticks, where the next byte arrives.
        long slice = m.clock.fromNanos(2_300_000L);
        for (int i = 0; i < input.length + 4; i++) {
            RunResult r = recovery.run(m.clock.now() + slice, Long.MAX_VALUE);
            assertTrue(!r.finished(), r.message());
            if (i < input.length) m.offerInput(input[i]);
        }
        if (recover) {
            RecoveryManager.Outcome o = recovery.recoverNow("test");
            assertTrue(o.recovered(), o.message());
            assertTrue(recovery.inputLog().replaying(), "the rollback went back past logged input");
        }
        RunResult r = recovery.run(m.clock.fromNanos(40_000_000L), Long.MAX_VALUE);
        assertTrue(!r.finished(), r.message());
        assertEquals(0, console.divergences(), "the replayed guest printed what it had printed before\n" + user.text());
        return user.text();
    }
}
