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
                recovery.inputLog().replayFrom(target.icount());
                rollbacks++;
            }
        }
        assertEquals(RunResult.Kind.EXIT, r.kind(), r.message());
        if (rollBack) assertEquals(3, rollbacks);
        return user.text();
    }
}
