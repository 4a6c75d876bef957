package io.mucheckpoint.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mucheckpoint.vmm.ConsoleCapture;
import io.mucheckpoint.vmm.Machine;
import io.mucheckpoint.vmm.MachineConfig;
import io.mucheckpoint.vmm.RunResult;
import io.mucheckpoint.vmm.Workloads;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The interval and predictor change in place (the checkpoints stay), and every ended epoch is reported once. */
class ReconfigureTest {
    @Test
    void aNewIntervalKeepsTheCheckpointsAndCountsFromTheNewest() throws Exception {
        ConsoleCapture out = new ConsoleCapture();
        Machine m = new Machine(MachineConfig.defaults(), Workloads.multiboot("mcf", "size=test"), out, b -> {});
        CheckpointEngine e = new CheckpointEngine(m, CheckpointConfig.defaults().withInterval(Interval.millis(1)).withKeep(400));
        List<CheckpointInfo> epochs = new ArrayList<>();
        e.addEpochListener(epochs::add);
        e.start();
        e.run(Long.MAX_VALUE, 2_000_000);
        List<Integer> before = ids(e);
        assertEquals(21, before.size(), "0 to 20 at 1 ms (100,000 instructions)");
        e.reconfigure(Interval.instructions(500_000), CheckpointConfig.PredictorKind.LAST);
        assertEquals(before, ids(e), "the checkpoints taken so far stay, with their ids");
        e.run(Long.MAX_VALUE, 3_100_000);
        List<CheckpointInfo> all = e.checkpoints();
        assertEquals(23, all.size());
        assertEquals(2_500_000, all.get(21).icount());
        assertEquals(3_000_000, all.get(22).icount());
        assertEquals("last", e.stats().predictor());
        // An old checkpoint is still a place to go back to, and the guest runs on from it to a good end (its self-check passes).
        e.rollback(5);
        RunResult r = e.run(Long.MAX_VALUE, Long.MAX_VALUE);
        assertEquals(RunResult.Kind.EXIT, r.kind());
        assertEquals(0, r.exitStatus(), out.text());
        long written = 0;
        for (CheckpointInfo c : epochs) {
            assertTrue(c.epochClosed(), "reported once its epoch has ended");
            written += c.written();
        }
        assertEquals(e.stats().pagesWritten(), written, "every ended epoch reported, none twice");
    }

    @Test
    void aHostClockEngineRefusesAnInstructionInterval() throws Exception {
        Machine m = new Machine(MachineConfig.defaults(), Workloads.multiboot("mcf", "size=test"), b -> {}, b -> {});
        CheckpointEngine e = new CheckpointEngine(m, CheckpointConfig.defaults().withHostClock(true));
        assertThrows(IllegalArgumentException.class, () -> e.reconfigure(Interval.instructions(100_000), CheckpointConfig.PredictorKind.NONE));
    }

    private static List<Integer> ids(CheckpointEngine e) {
        List<Integer> ids = new ArrayList<>();
        for (CheckpointInfo c : e.checkpoints()) ids.add(c.id());
        return ids;
    }
}
