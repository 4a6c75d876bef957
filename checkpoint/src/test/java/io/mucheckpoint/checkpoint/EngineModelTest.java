package io.mucheckpoint.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mucheckpoint.vmm.GuestImage;
import io.mucheckpoint.vmm.Machine;
import io.mucheckpoint.vmm.MachineConfig;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The engine against a naive model that copies all of RAM at every checkpoint: random writes
 * through every door (the CPU's slow path, whole-page writes, device-style byte runs, the CPU
 * executing stores), random boundaries, random rollbacks, and a memory budget small enough to run
 * out. After every rollback RAM must equal the model's copy of that checkpoint, and every
 * checkpoint the engine still lists must be one the model says existed.
 */
class EngineModelTest {
    private static final long RAM = 4L << 20;

    static Machine tinyMachine() throws Exception {
        // A guest that just halts: the test drives memory itself.
        byte[] code = {(byte) 0xFA, (byte) 0xF4, (byte) 0xEB, (byte) 0xFD};
        return new Machine(MachineConfig.defaults().withRam(RAM), new GuestImage.Flat("halt", code, 0x100000), b -> {}, b -> {});
    }

    @ParameterizedTest
    @EnumSource(CheckpointConfig.Mode.class)
    void matchesAFullCopyModel(CheckpointConfig.Mode mode) throws Exception {
        long early = 0, dropped = 0;
        for (long seed = 1; seed <= 4; seed++) {
            for (CheckpointConfig.PredictorKind p : CheckpointConfig.PredictorKind.values()) {
                if (mode != CheckpointConfig.Mode.COW && p != CheckpointConfig.PredictorKind.NONE) continue;
                EngineStats st = runModel(mode, p, seed);
                early += st.earlyBoundaries();
                dropped += st.checkpointsDropped();
            }
        }
        assertTrue(dropped > 0, "the budget or --keep made the engine drop checkpoints");
        if (mode == CheckpointConfig.Mode.COW) assertTrue(early > 0, "a burst exhausted the budget within an epoch");
    }

    private EngineStats runModel(CheckpointConfig.Mode mode, CheckpointConfig.PredictorKind predictor, long seed) throws Exception {
        Random rnd = new Random(seed);
        Machine m = tinyMachine();
        int pages = m.memory.pageCount();
        // Tight budgets exercise dropping; cow's is small enough to overflow within one epoch too.
        long budget = switch (mode) {
            case COW -> (1L << 20) + rnd.nextInt(3) * (256L << 10);
            case COPY -> RAM + (6L << 20);
            case FULL -> 3 * RAM;
        };
        CheckpointConfig cfg = CheckpointConfig.defaults().withMode(mode).withPredictor(predictor)
                .withInterval(Interval.instructions(1L << 40)).withKeep(3 + rnd.nextInt(6))
                .withLatencyNanos(Long.MAX_VALUE / 4).withMemoryBudget(budget);
        CheckpointEngine engine = new CheckpointEngine(m, cfg);
        Map<Integer, byte[]> model = new LinkedHashMap<>();
        engine.addBoundaryListener(c -> model.put(c.id(), ram(m)));
        engine.start();
        int hot = 1 + rnd.nextInt(40); // a working set the predictors can learn
        for (int step = 0; step < 400; step++) {
            int op = rnd.nextInt(100);
            if (op < 70) {
                int page = rnd.nextInt(3) == 0 ? rnd.nextInt(pages) : 300 + rnd.nextInt(hot);
                write(m, rnd, page);
            } else if (op < 85) {
                engine.checkpointNow();
            } else if (op < 97) {
                List<CheckpointInfo> cps = engine.checkpoints();
                for (CheckpointInfo c : cps) assertTrue(model.containsKey(c.id()), "checkpoint " + c.id() + " was never taken");
                CheckpointInfo target = cps.get(rnd.nextInt(cps.size()));
                engine.rollback(target.id());
                assertArrayEquals(model.get(target.id()), ram(m), mode + " seed " + seed + " rollback to " + target.id());
                // Newer checkpoints no longer exist.
                model.keySet().removeIf(id -> id > target.id());
            } else {
                // A long write burst, one write per "instruction": with copy-on-write it can exhaust
                // the budget inside one epoch, and the engine must then end the epoch early.
                int n = 200 + rnd.nextInt(400);
                for (int i = 0; i < n; i++) {
                    write(m, rnd, rnd.nextInt(pages));
                    engine.run(Long.MAX_VALUE, m.cpu.icount()); // the next instruction boundary
                    assertTrue(engine.stats().bytesHeld() <= budget + 8 * 4096L, "budget respected (" + engine.stats().bytesHeld() + ")");
                }
            }
            assertTrue(engine.stats().bytesHeld() <= budget + 8 * 4096L, "budget respected (" + engine.stats().bytesHeld() + ")");
        }
        assertTrue(engine.integrityCheck().isEmpty());
        return engine.stats();
    }

    private static byte[] ram(Machine m) {
        return Arrays.copyOf(m.memory.backing(), m.memory.ramSize());
    }

    /** One write through a randomly chosen door. */
    private static void write(Machine m, Random rnd, int page) {
        int addr = page << 12;
        switch (rnd.nextInt(4)) {
            case 0 -> m.memory.write(addr + rnd.nextInt(4093), 1 + rnd.nextInt(3) / 2 * 3, rnd.nextInt());
            case 1 -> {
                byte[] b = new byte[4096];
                rnd.nextBytes(b);
                m.memory.writePage(page, b, 0);
            }
            case 2 -> {
                byte[] b = new byte[1 + rnd.nextInt(6000)];
                rnd.nextBytes(b);
                int at = Math.min(addr + rnd.nextInt(4096), m.memory.ramSize() - b.length);
                m.memory.writeBytes(at, b, 0, b.length);
            }
            default -> {
                // The CPU's own store path: TLB fill, direct-write grant, then plain stores.
                m.cpu.setReg(io.mucheckpoint.cpu.Cpu.EDI, addr + rnd.nextInt(4000));
                m.cpu.setReg(io.mucheckpoint.cpu.Cpu.EAX, rnd.nextInt());
                m.cpu.setReg(io.mucheckpoint.cpu.Cpu.ECX, 1 + rnd.nextInt(20));
                storeWithCpu(m);
            }
        }
    }

    /** Runs "cld; rep stosb; hlt" placed at 0x1000 in flat protected mode. */
    private static void storeWithCpu(Machine m) {
        m.memory.writeBytes(0x1000, new byte[] {(byte) 0xFC, (byte) 0xF3, (byte) 0xAA, (byte) 0xF4}, 0, 4);
        m.cpu.enterFlatProtectedMode();
        m.cpu.setEip(0x1000);
        m.cpu.run(m.cpu.icount() + 1000);
    }

    @ParameterizedTest
    @EnumSource(CheckpointConfig.Mode.class)
    void corruptionIsDetectedBeforeAnythingIsApplied(CheckpointConfig.Mode mode) throws Exception {
        Machine m = tinyMachine();
        CheckpointConfig cfg = CheckpointConfig.defaults().withMode(mode).withPredictor(CheckpointConfig.PredictorKind.NONE)
                .withInterval(Interval.instructions(1L << 40)).withLatencyNanos(Long.MAX_VALUE / 4).withMemoryBudget(4 * RAM);
        CheckpointEngine engine = new CheckpointEngine(m, cfg);
        Random rnd = new Random(5);
        engine.start();
        List<Integer> ids = new ArrayList<>();
        for (int k = 0; k < 4; k++) {
            for (int i = 0; i < 20; i++) write(m, rnd, 100 + rnd.nextInt(50));
            ids.add(engine.checkpointNow().id());
        }
        for (int i = 0; i < 20; i++) write(m, rnd, 100 + rnd.nextInt(50));
        // Corrupt one stored image of the checkpoint in the middle.
        int victim = ids.get(1);
        assertTrue(engine.imagesOf(victim) > 0);
        engine.corruptImage(victim, 3, 12345);
        assertEquals(List.of(victim), engine.integrityCheck());
        long before = MachineHash.of(m);
        int target = mode == CheckpointConfig.Mode.COPY ? ids.get(2) : mode == CheckpointConfig.Mode.FULL ? victim : ids.get(0);
        CheckpointUnreachableException e = assertThrows(CheckpointUnreachableException.class, () -> engine.rollback(target));
        assertEquals(List.of(victim), e.corrupt());
        assertEquals(before, MachineHash.of(m), "nothing was applied");
        assertTrue(e.getMessage().contains("unreachable"), e.getMessage());
        // The engine names a checkpoint it can still reach, and rolling back there works.
        int reachable = e.newestReachable();
        assertTrue(reachable >= 0, e.getMessage());
        if (mode == CheckpointConfig.Mode.COW) assertTrue(reachable > victim);
        if (mode == CheckpointConfig.Mode.COPY) assertTrue(reachable < victim);
        engine.rollback(reachable);
        // A corrupt saved state makes exactly that checkpoint unreachable.
        int last = engine.checkpoints().get(engine.checkpoints().size() - 1).id();
        engine.corruptState(last, 77);
        long now = MachineHash.of(m);
        CheckpointUnreachableException s = assertThrows(CheckpointUnreachableException.class, () -> engine.rollback(last));
        assertTrue(s.getMessage().contains("saved machine state"), s.getMessage());
        assertEquals(now, MachineHash.of(m));
        assertFalse(engine.integrityCheck().isEmpty());
    }

    @ParameterizedTest
    @EnumSource(CheckpointConfig.Mode.class)
    void aCheckpointThatIsGoneIsNamedAsSuch(CheckpointConfig.Mode mode) throws Exception {
        Machine m = tinyMachine();
        CheckpointEngine engine = new CheckpointEngine(m, CheckpointConfig.defaults().withMode(mode).withKeep(2)
                .withInterval(Interval.instructions(1L << 40)).withMemoryBudget(4 * RAM));
        engine.start();
        engine.checkpointNow();
        engine.checkpointNow();
        NoSuchCheckpointException e = assertThrows(NoSuchCheckpointException.class, () -> engine.rollback(0));
        assertEquals("checkpoint 0 is not retained (retained: 1-2)", e.getMessage());
    }
}
