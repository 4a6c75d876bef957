package io.mucheckpoint.recovery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mucheckpoint.checkpoint.CheckpointEngine;
import io.mucheckpoint.checkpoint.CheckpointInfo;
import io.mucheckpoint.vmm.Machine;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Defect 3 of issue 17: a memory fault is a DRAM upset, not a write. With the faultlab "late"
 * scenario (the buffer is filled, then a long loop leaves it alone, then it is checked), a raw flip
 * in the buffer during the loop is shared by every checkpoint taken since the fill: rolling back to
 * one of them leaves the error in place. Only a checkpoint from before the fill, whose rollback
 * writes the page back from an undo log, repairs it. A flip through the memory door is repaired by
 * any rollback to before it.
 */
class RawMemoryFaultTest {
    static final int AT = FaultlabTest.BUFFER + 100;

    /** The machine at the late loop's start, under an engine, with a checkpoint taken there. */
    private record Setup(Machine m, CheckpointEngine engine, CheckpointInfo atLoop, int good) {}

    private static Setup atLoop() throws Exception {
        Machine m = new Machine(FaultlabTest.CONFIG, FaultlabTest.image(3), b -> {}, b -> {});
        CheckpointEngine engine = new CheckpointEngine(m, FaultlabTest.checkpoints(0, 64));
        long loop = FaultlabTest.icountAt(3, FaultlabTest.LATE_LOOP);
        engine.run(Long.MAX_VALUE, loop);
        assertEquals(loop, m.cpu.icount());
        CheckpointInfo c = engine.checkpointNow();
        engine.run(Long.MAX_VALUE, loop + 1000);
        return new Setup(m, engine, c, m.memory.read(AT, 1));
    }

    @Test
    void aRawFlipIsSharedByEveryCheckpointSinceThePageWasLastWritten() throws Exception {
        Setup s = atLoop();
        int page = AT >>> 12;
        int sharing = s.engine().firstSharing(page);
        assertTrue(sharing > 0 && sharing <= s.atLoop().id(), "the page was last written before the loop's checkpoint: " + sharing);
        FaultInjector.inject(s.m(), new Fault(Fault.Target.MEM, AT, 1 << 4, -1));
        assertEquals(s.good() ^ 0x10, s.m().memory.read(AT, 1));
        assertFalse(s.m().memory.isDirty(page), "a DRAM upset sets no dirty bit");
        assertTrue(s.m().memory.upsetPage(page), "but it is recorded");

        // Back to the checkpoint at the loop's start, taken after the fill and before the flip: the flip stays.
        s.engine().rollback(s.atLoop().id());
        assertEquals(s.good() ^ 0x10, s.m().memory.read(AT, 1), "the checkpoint shares the page, and so the error");

        // Back to the first checkpoint, before the fill: its undo logs hold the page, which is written back.
        s.engine().rollback(s.engine().checkpoints().get(0).id());
        assertEquals(0, s.m().memory.read(AT, 1), "before the fill the buffer held zeros");
    }

    @Test
    void goingBackThroughHistoryTakesAnUpsetBack() throws Exception {
        // A rollback the user asks for (or a debugger going backwards) moves through history: the
        // upset had not happened yet at the checkpoint, so it is undone there too.
        Setup s = atLoop();
        UpsetHistory history = new UpsetHistory(s.m());
        history.follow(s.engine());
        FaultInjector.inject(s.m(), new Fault(Fault.Target.MEM, AT, 1 << 4, -1));
        s.engine().run(Long.MAX_VALUE, s.m().cpu.icount() + 500);
        s.engine().rollback(s.atLoop().id());
        assertEquals(s.good() ^ 0x10, s.m().memory.read(AT, 1), "the engine's rollback leaves the shared upset");
        history.putBack(s.atLoop().icount(), s.atLoop().guestNanos(), s.atLoop().id());
        assertEquals(s.good(), s.m().memory.read(AT, 1), "before the upset the byte was good");
        assertEquals(0, history.size());
    }

    @Test
    void aFlipThroughTheDoorIsRepairedByARollback() throws Exception {
        Setup s = atLoop();
        FaultInjector.inject(s.m(), new Fault(Fault.Target.MEM_DOOR, AT, 1 << 4, -1));
        assertEquals(s.good() ^ 0x10, s.m().memory.read(AT, 1));
        s.engine().rollback(s.atLoop().id());
        assertEquals(s.good(), s.m().memory.read(AT, 1), "copy-on-write saved the good byte before the flip landed");
    }

    @Test
    void inACampaignARawFlipNeedsARollbackToBeforeThePageWasWritten() throws Exception {
        // The flip lands a million instructions into the loop. A first run finds when it is detected;
        // then L is chosen so that the rollback target lies between the fill and the flip.
        long loop = FaultlabTest.icountAt(3, FaultlabTest.LATE_LOOP);
        long at = loop + 1_000_000;
        Campaign.Result probe = FaultlabTest.inject(3, new Fault(Fault.Target.MEM_DOOR, AT, 1 << 4, at),
                FaultlabTest.checkpoints(0, 64), new ArrayList<>());
        Campaign.Trace t = probe.trace();
        assertTrue(t.detectIcount() > at, "the self-check notices the flip at the end");
        double nanosPerInstruction = (double) (t.detectNanos() - t.injectedNanos()) / (t.detectIcount() - at);
        long latency = t.detectNanos() - t.injectedNanos() + (long) (300_000 * nanosPerInstruction);

        List<String> door = new ArrayList<>();
        Campaign.Result d = FaultlabTest.inject(3, new Fault(Fault.Target.MEM_DOOR, AT, 1 << 4, at),
                FaultlabTest.checkpoints(latency, 64), door);
        assertEquals(Outcome.DETECTED_RECOVERED, d.outcome(), String.join("\n", door));
        assertEquals(0, d.escalations(), "through the door the first rollback repairs it\n" + String.join("\n", door));
        assertTrue(d.trace().targetIcount() > loop && d.trace().targetIcount() < at, "the target lies between fill and flip");
        assertFalse(d.trace().targetHeldError(), "the checkpoint L chose predates the error");

        List<String> raw = new ArrayList<>();
        Campaign.Result r = FaultlabTest.inject(3, new Fault(Fault.Target.MEM, AT, 1 << 4, at),
                FaultlabTest.checkpoints(latency, 64), raw);
        assertEquals(d.trace().targetId(), r.trace().targetId(), "the same checkpoint is chosen");
        assertTrue(r.trace().targetHeldError(), "the checkpoint L chose shares the upset page\n" + String.join("\n", raw));
        assertTrue(r.escalations() > 0, "the first rollback cannot repair a raw upset\n" + String.join("\n", raw));
        assertEquals(Outcome.DETECTED_RECOVERED, r.outcome(), "escalation reaches a checkpoint from before the fill\n" + String.join("\n", raw));
    }
}
