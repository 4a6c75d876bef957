package io.mucheckpoint.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * The adaptive predictor's policy, fed epochs directly with fixed costs per page (so the test
 * judges the policy, not this machine's speed): it keeps pre-copying while the copies pay for
 * themselves and backs off, exponentially, while they do not.
 */
class BackOffPredictorTest {
    private static final int PAGES = 1024;
    private static final int WORDS = PAGES / 64;

    /** The pages an epoch writes. */
    interface Schedule {
        long[] written(int epoch);
    }

    private static long[] range(int first, int count) {
        long[] b = new long[WORDS];
        for (int p = first; p < first + count; p++) b[p >>> 6] |= 1L << (p & 63);
        return b;
    }

    /** Runs {@code epochs} epochs; returns how many of them had pages pre-copied. */
    private static int epochsPrecopied(BackOffPredictor pr, Schedule s, int from, int epochs, double trapNanos, double precopyNanos) {
        long[] predicted = new long[WORDS];
        int precopied = 0;
        for (int e = from; e < from + epochs; e++) {
            long[] w = s.written(e);
            int hits = 0, waste = 0, trapped = 0;
            for (int i = 0; i < WORDS; i++) {
                hits += Long.bitCount(w[i] & predicted[i]);
                waste += Long.bitCount(predicted[i] & ~w[i]);
                trapped += Long.bitCount(w[i] & ~predicted[i]);
            }
            if (hits + waste > 0) precopied++;
            pr.learn(hits, waste, trapped > 0 ? trapNanos : Double.NaN, hits + waste > 0 ? precopyNanos : Double.NaN);
            pr.predict(w, predicted);
        }
        return precopied;
    }

    private static final Schedule STEADY = e -> range(0, 200);
    /** Two sets in alternate epochs: history names both at every boundary, so half of each copy is wasted. */
    private static final Schedule ALTERNATING = e -> range(e % 2 == 0 ? 0 : 300, 300);

    @Test
    void aSteadyWorkingSetKeepsBeingPrecopied() {
        BackOffPredictor pr = new BackOffPredictor(new HistoryPredictor(PAGES));
        int n = epochsPrecopied(pr, STEADY, 0, 200, 5000, 1000);
        assertTrue(n >= 197, "pre-copied in " + n + " of 200 epochs");
        assertEquals(0, pr.backingOff());
    }

    @Test
    void copiesThatCostMoreThanTheyGiveBackOffExponentially() {
        // Half of every copy wasted: with a trap at 1.5 copies, each hit saves 0.5 and each waste costs 1.
        BackOffPredictor pr = new BackOffPredictor(new HistoryPredictor(PAGES));
        int n = epochsPrecopied(pr, ALTERNATING, 0, 400, 1500, 1000);
        // probes after back-offs of 1, 2, 4, ..., 64, then one every 65 epochs: about a dozen
        assertTrue(n <= 16, "pre-copied in " + n + " of 400 epochs");
        int plain = epochsPrecopied(new BackOffPredictor(new HistoryPredictor(PAGES)), ALTERNATING, 0, 400, 5000, 1000);
        assertTrue(plain >= 395, "where each hit saves 4 copies, half wasted still pays: " + plain);
    }

    @Test
    void aCopyDearerThanItsTrapBacksOffEvenWhenEveryGuessIsRight() {
        BackOffPredictor pr = new BackOffPredictor(new HistoryPredictor(PAGES));
        int n = epochsPrecopied(pr, STEADY, 0, 200, 1000, 1200);
        assertTrue(n <= 12, "pre-copied in " + n + " of 200 epochs");
    }

    @Test
    void afterAWastefulPhaseASteadyOneIsPrecopiedAgain() {
        BackOffPredictor pr = new BackOffPredictor(new HistoryPredictor(PAGES));
        epochsPrecopied(pr, ALTERNATING, 0, 300, 1500, 1000);
        // within one back-off (at most 64 epochs) a probe finds the steady set paying again
        int n = epochsPrecopied(pr, STEADY, 300, 200, 1500, 1000);
        assertTrue(n >= 200 - BackOffPredictor.MAX_BACK_OFF - 4, "pre-copied in " + n + " of 200 steady epochs");
        assertEquals(0, pr.backingOff());
    }
}
