package io.mucheckpoint.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mucheckpoint.vmm.Machine;
import io.mucheckpoint.vmm.MachineConfig;
import io.mucheckpoint.vmm.Workloads;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/**
 * Issue 17, defect 4: pre-copy is speculation and may never displace a checkpoint. 64 MiB of RAM, a
 * 4 MiB budget (1,024 page images), two page sets written in alternate epochs: the history
 * predictor names both sets at every boundary, so a pre-copy would hold twice an epoch's writes.
 * The writes go straight through the memory's one door (no guest code), so the schedule is exact.
 */
class PrecopyBudgetTest {
    private static final long BUDGET = 4L << 20;
    private static final int BUDGET_PAGES = (int) (BUDGET / PageStore.PAGE);
    private static final int FIRST_PAGE = 4096; // 16 MiB up, far from the loaded image

    /** One run of a schedule: which pages each epoch writes. */
    private record Result(List<Integer> retainedPerBoundary, long maxHeld, EngineStats stats) {}

    private static Result run(CheckpointConfig.PredictorKind predictor, long budget, int keep, int[][] schedule, boolean checkRollback)
            throws Exception {
        Machine m = new Machine(MachineConfig.defaults(), Workloads.multiboot("mcf", "size=test"), b -> {}, b -> {});
        assertEquals(64L << 20, m.memory.ramSize());
        CheckpointEngine e = new CheckpointEngine(m, CheckpointConfig.defaults().withPredictor(predictor)
                .withMemoryBudget(budget).withKeep(keep).withInterval(Interval.instructions(1_000_000_000L)));
        e.start();
        List<Integer> retained = new ArrayList<>();
        long maxHeld = 0;
        for (int epoch = 0; epoch < schedule.length; epoch++) {
            for (int page : schedule[epoch]) m.memory.write(page << 12, 4, epoch + 1);
            maxHeld = Math.max(maxHeld, e.stats().bytesHeld());
            e.checkpointNow();
            retained.add(e.checkpoints().size());
            maxHeld = Math.max(maxHeld, e.stats().bytesHeld());
        }
        if (checkRollback) {
            // Back to the oldest checkpoint still listed: every page holds what the last epoch before it wrote.
            int oldest = e.checkpoints().get(0).id();
            e.rollback(oldest);
            int[] expected = new int[m.memory.pageCount()];
            for (int epoch = 0; epoch < oldest; epoch++) for (int page : schedule[epoch]) expected[page] = epoch + 1;
            for (int[] epochPages : schedule) {
                for (int page : epochPages) {
                    assertEquals(expected[page], m.memory.read(page << 12, 4), "page " + page + " at checkpoint " + oldest);
                }
            }
        }
        return new Result(retained, maxHeld, e.stats());
    }

    private static int[] pages(int first, int count) {
        int[] p = new int[count];
        for (int i = 0; i < count; i++) p[i] = FIRST_PAGE + first + i;
        return p;
    }

    private static int[][] alternating(int setPages, int epochs) {
        int[][] s = new int[epochs][];
        for (int i = 0; i < epochs; i++) s[i] = pages(i % 2 == 0 ? 0 : setPages, setPages);
        return s;
    }

    @ParameterizedTest(name = "{0} pages a set")
    @ValueSource(ints = {150, 300, 400})
    void speculationNeverShortensRetention(int setPages) throws Exception {
        int[][] schedule = alternating(setPages, 30);
        Result history = run(CheckpointConfig.PredictorKind.HISTORY, BUDGET, 64, schedule, true);
        Result none = run(CheckpointConfig.PredictorKind.NONE, BUDGET, 64, schedule, false);
        // Each retained epoch's log holds one set; the budget holds floor(budget / set) of them, and
        // the newest checkpoint's epoch has not begun.
        int full = BUDGET_PAGES / setPages + 1;
        for (int i = 0; i < schedule.length; i++) {
            int expect = Math.min(i + 2, full);
            assertEquals(expect, (int) history.retainedPerBoundary.get(i), "history predictor, boundary " + i + ": " + history.retainedPerBoundary);
            assertEquals(expect, (int) none.retainedPerBoundary.get(i), "no predictor, boundary " + i);
        }
        assertTrue(history.maxHeld <= BUDGET, "held " + history.maxHeld + " of " + BUDGET);
        assertTrue(history.stats.precopiesSkipped() > 0, "the short budget skipped pre-copies: " + history.stats.toJson());
    }

    @Test
    void withRoomThePredictorStillPrecopies() throws Exception {
        // 300 pages a set and a 64 MiB budget: both sets are predicted and copied every epoch, and
        // half of each copy is wasted (the other set is written).
        Result r = run(CheckpointConfig.PredictorKind.HISTORY, 64L << 20, 64, alternating(300, 12), true);
        assertTrue(r.stats.pagesPrecopied() >= 300 * 8, r.stats.toJson());
        assertTrue(r.stats.predictionHits() > 0 && r.stats.predictionWaste() > 0, r.stats.toJson());
        assertEquals(0, r.stats.checkpointsDropped());
    }

    @Test
    void aBurstBeyondTheGuessTakesBackTheUnwrittenCopiesBeforeAnyCheckpoint() throws Exception {
        // --keep 2 leaves room, so both 150-page sets are pre-copied (300 copies beside one older
        // 150-page log); then an epoch writes set A and 700 fresh pages. Without speculation that
        // epoch's 850 pages and the older log (150) fit in 1,024, so no checkpoint has to go for the
        // budget: the 150 unwritten copies of set B must make way instead.
        int[][] s = new int[12][];
        for (int i = 0; i < 12; i++) s[i] = pages(i % 2 == 0 ? 0 : 150, 150);
        int[] burst = new int[850];
        System.arraycopy(pages(0, 150), 0, burst, 0, 150);
        System.arraycopy(pages(1000, 700), 0, burst, 150, 700);
        s[10] = burst;
        Result history = run(CheckpointConfig.PredictorKind.HISTORY, BUDGET, 2, s, true);
        Result none = run(CheckpointConfig.PredictorKind.NONE, BUDGET, 2, s, false);
        assertEquals(none.retainedPerBoundary, history.retainedPerBoundary, "retention with and without prediction");
        long keepDrops = s.length + 1 - 2; // checkpoints taken, less the two kept
        assertEquals(keepDrops, none.stats.checkpointsDropped(), "no predictor: only --keep dropped anything");
        assertEquals(keepDrops, history.stats.checkpointsDropped(), history.stats.toJson());
        assertTrue(history.stats.pagesPrecopied() > 0, history.stats.toJson());
        assertTrue(history.stats.pagesReclaimed() > 0, "unwritten pre-copies were given back: " + history.stats.toJson());
        assertTrue(history.maxHeld <= BUDGET, "held " + history.maxHeld + " of " + BUDGET);
    }
}
