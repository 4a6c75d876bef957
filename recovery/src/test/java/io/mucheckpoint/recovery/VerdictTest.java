package io.mucheckpoint.recovery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mucheckpoint.checkpoint.CheckpointEngine;
import io.mucheckpoint.vmm.ConsoleCapture;
import io.mucheckpoint.vmm.Machine;
import io.mucheckpoint.vmm.RunResult;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Verdicts from what the user saw (issue 17, defects 1 and 2), with faultlab's scenario 6: EBX is
 * held through a loop, printed as "sum=…", and only then checked. A flip of bit 4 of EBX during the
 * loop prints sum=1234abdd (0x1234abcd ^ 0x10, from the program text) before the detection.
 */
class VerdictTest {
    static final int HOLD_LOOP = FaultlabTest.LABELS.get("hold_loop");
    static final long L = 50_000_000L; // covers the loop (about 2 million instructions, 20 ms)

    static Fault flipInTheHeldValue() throws Exception {
        return new Fault(Fault.Target.REG, FaultlabTest.EBX, 1 << 4, FaultlabTest.icountAt(6, HOLD_LOOP) + 1000);
    }

    @Test
    void aDetectionStopsTheRunAtTheInstructionThatDetectedIt() throws Exception {
        ConsoleCapture user = new ConsoleCapture();
        ReplayConsole console = new ReplayConsole(user, false);
        Machine m = new Machine(FaultlabTest.CONFIG, FaultlabTest.image(6), console, b -> {});
        CheckpointEngine engine = new CheckpointEngine(m, FaultlabTest.checkpoints(L, 64));
        RecoveryManager recovery = new RecoveryManager(m, engine, L, console);
        List<String> seenAtDetection = new ArrayList<>();
        recovery.addEventListener(e -> {
            if (e.kind().equals("detected")) seenAtDetection.add(user.text());
        });
        Fault f = flipInTheHeldValue();
        recovery.run(Long.MAX_VALUE, f.icount());
        FaultInjector.inject(m, f);
        RunResult r = recovery.run(Long.MAX_VALUE, Long.MAX_VALUE);
        assertEquals(RunResult.Kind.EXIT, r.kind(), r.message());
        assertEquals(1, seenAtDetection.size(), seenAtDetection.toString());
        // The guest goes on after reporting; had the run gone on, its result line would be out too.
        assertEquals("sum=1234abdd\n", seenAtDetection.get(0));
        assertEquals(1, recovery.recoveries());
    }

    @Test
    void wrongOutputBeforeTheDetectionIsNotCountedAsRecovered() throws Exception {
        Campaign c = new Campaign(FaultlabTest.CONFIG, FaultlabTest.image(6), FaultlabTest.checkpoints(L, 64), 0);
        Campaign.Result r = c.inject(0, flipInTheHeldValue(), null);
        assertEquals(Outcome.DETECTED_RECOVERED_ESCAPED, r.outcome(), r.detail());
    }

    @Test
    void withOutputCommitTheWrongLineNeverReachesTheConsole() throws Exception {
        Fault f = flipInTheHeldValue();
        Campaign immediate = new Campaign(FaultlabTest.CONFIG, FaultlabTest.image(6), FaultlabTest.checkpoints(L, 64), 0);
        assertEquals(Outcome.DETECTED_RECOVERED_ESCAPED, immediate.inject(0, f, null).outcome());
        Campaign held = new Campaign(FaultlabTest.CONFIG, FaultlabTest.image(6), FaultlabTest.checkpoints(L, 64), 0)
                .withOutputCommit(true);
        Campaign.Result r = held.inject(0, f, null);
        assertEquals(Outcome.DETECTED_RECOVERED, r.outcome(), r.detail());
        assertEquals(1, r.recoveries());
    }

    @Test
    void heldOutputGoesOutWhenItsCheckpointIsOlderThanTheBound() {
        ConsoleCapture user = new ConsoleCapture();
        long[] now = {0};
        ReplayConsole c = new ReplayConsole(user, false).withOutputCommit(10, () -> now[0]);
        c.checkpointTaken(0, 0);
        now[0] = 3;
        c.write('a');
        c.release(now[0]);
        assertEquals("", user.text(), "no checkpoint after the byte yet");
        now[0] = 5;
        c.checkpointTaken(1, 5); // the checkpoint after 'a': it may go out at 15
        now[0] = 7;
        c.write('b');
        c.release(14);
        assertEquals("", user.text());
        c.release(15);
        assertEquals("a", user.text(), "'b' waits for a checkpoint after it");
        now[0] = 20;
        c.checkpointTaken(2, 20);
        c.write('x'); // written after checkpoint 2, then rolled back to it: never shown
        c.rolledBack(2, false);
        c.write('c');
        now[0] = 30;
        c.releaseAll();
        assertEquals("abc", user.text());
        assertEquals(new ReplayConsole.HeldOutput(3, (12 + 23 + 10) / 3, 23), c.heldOutput(), "a 15-3, b 30-7, c 30-20");
    }
}
