package io.mucheckpoint.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mucheckpoint.vmm.Machine;
import io.mucheckpoint.vmm.MachineConfig;
import io.mucheckpoint.vmm.Workloads;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Pre-copy on the helper thread races the guest: right after each boundary hands the predicted
 * pages to the helper, and the helper has begun, the test overwrites whole predicted pages through
 * the write door from the last one down while the helper copies from the first one up, so that the
 * two meet on one page each epoch (counted: a trap that found its page being copied). So that they
 * meet whatever the scheduler does, the helper is held after claiming the first page of each batch
 * until the write to that page (the test's last of the epoch) has found it copying. Whatever the
 * interleaving, every image must be
 * the page as it was at the boundary (what a serial capture saves), and a rollback must give back
 * exactly the RAM of then.
 */
class HelperPrecopyRaceTest {
    private static final int FIRST = 4096, PAGES = 256;

    @Test
    void aWriteRacingTheHelperAlwaysSavesThePageAsItWasAtTheBoundary() throws Exception {
        Machine m = new Machine(MachineConfig.defaults(), Workloads.multiboot("mcf", "size=test"), b -> {}, b -> {});
        CheckpointEngine e = new CheckpointEngine(m, CheckpointConfig.defaults().withPredictor(CheckpointConfig.PredictorKind.LAST)
                .withKeep(4).withInterval(Interval.instructions(1_000_000_000L)));
        e.precopyOnHelper(true);
        e.start();
        HelperPrecopy.claimHook = i -> {
            if (i != 0) return;
            long before = e.helperWaits(), until = System.nanoTime() + 50_000_000L;
            while (e.helperWaits() == before && System.nanoTime() < until) Thread.onSpinWait();
        };
        try {
            race(m, e);
        } finally {
            HelperPrecopy.claimHook = null;
        }
    }

    private void race(Machine m, CheckpointEngine e) throws Exception {
        Random rnd = new Random(21);
        byte[][] model = new byte[PAGES][4096]; // what each page holds now, by the test's own account
        for (int i = 0; i < PAGES; i++) m.memory.copyPage(FIRST + i, model[i], 0);
        Map<Integer, byte[][]> atCheckpoint = new HashMap<>();
        atCheckpoint.put(e.checkpoints().get(0).id(), copy(model));
        byte[] got = new byte[4096];
        byte[] page = new byte[4096];
        int epochs = 0;
        // Until the race has been met often (or a bound, on a machine too busy to run the helper alongside).
        while (epochs < 300) {
            byte[][] atBoundary = copy(model);
            long until = System.nanoTime() + 5_000_000;
            while (epochs > 0 && !e.helperBegun() && System.nanoTime() < until) Thread.onSpinWait();
            for (int spin = rnd.nextInt(200); spin > 0; spin--) Thread.onSpinWait();
            for (int k = PAGES - 1; k >= 0; k--) { // every page every epoch, so LAST predicts them all
                // a whole page of one value, another in each epoch: a copy torn by a write shows
                java.util.Arrays.fill(page, (byte) (epochs * 7 + k + 1));
                page[rnd.nextInt(4096)] ^= (byte) 0x5A;
                m.memory.writeBytes((long) (FIRST + k) << 12, page, 0, 4096);
                model[k] = page.clone();
            }
            for (int i = 0; i < PAGES; i++) {
                assertTrue(e.newestPreImage(FIRST + i, got), "epoch " + epochs + ": page " + i + " has an image");
                assertArrayEquals(atBoundary[i], got, "epoch " + epochs + ": the image of page " + i + " is the page at the boundary");
            }
            atCheckpoint.put(e.checkpointNow().id(), copy(model));
            atCheckpoint.keySet().removeIf(id -> id < e.checkpoints().get(0).id());
            epochs++;
        }
        System.out.printf("HelperPrecopyRaceTest: %d epochs, %d writes met the helper on their page%n", epochs, e.helperWaits());
        assertTrue(e.stats().pagesPrecopied() >= (long) (epochs - 1) * PAGES, "the helper had the pages: " + e.stats().toJson());
        assertTrue(e.helperWaits() >= epochs / 2, "a write met the helper copying its page in most epochs: "
                + e.helperWaits() + " of " + epochs);
        assertEquals(List.of(), e.integrityCheck(), "every stored image matches its CRC");
        int oldest = e.checkpoints().get(0).id();
        e.rollback(oldest);
        for (int i = 0; i < PAGES; i++) {
            m.memory.copyPage(FIRST + i, got, 0);
            assertArrayEquals(atCheckpoint.get(oldest)[i], got, "page " + i + " after the rollback to checkpoint " + oldest);
        }
    }

    private static byte[][] copy(byte[][] pages) {
        byte[][] c = new byte[pages.length][];
        for (int i = 0; i < pages.length; i++) c[i] = pages[i].clone();
        return c;
    }
}
