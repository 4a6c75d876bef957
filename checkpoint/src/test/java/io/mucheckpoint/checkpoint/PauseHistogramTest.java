package io.mucheckpoint.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The pause percentiles of --stats agree with those of the sorted pauses, to one 10 µs bucket. */
class PauseHistogramTest {
    @Test
    void percentilesMatchTheSortedPausesToOneBucket() {
        Random r = new Random(5);
        long[] pauses = new long[10_000];
        PauseHistogram h = new PauseHistogram();
        for (int i = 0; i < pauses.length; i++) {
            // mostly sub-millisecond, a tail to tens of milliseconds, a few beyond the last bucket
            pauses[i] = i % 1000 == 0 ? 250_000_000L + r.nextInt(1000) : (long) (Math.exp(r.nextGaussian() * 1.5) * 300_000);
            h.add(pauses[i]);
        }
        long[] sorted = pauses.clone();
        Arrays.sort(sorted);
        for (double q : new double[] {0.5, 0.9, 0.99, 0.999}) {
            long exact = sorted[(int) Math.ceil(q * sorted.length) - 1];
            long got = h.percentile(q);
            assertTrue(got >= exact && got - exact <= 10_000, "p" + q + ": " + got + " for " + exact);
        }
        assertEquals(sorted[sorted.length - 1], h.percentile(1.0), "the maximum is exact");
        assertEquals(0, new PauseHistogram().percentile(0.99));
    }
}
