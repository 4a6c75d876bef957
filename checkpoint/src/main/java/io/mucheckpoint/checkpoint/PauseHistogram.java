package io.mucheckpoint.checkpoint;

/**
 * Boundary pauses counted in 10 µs buckets up to 200 ms (and one bucket beyond), so that the
 * median and the 99th percentile of a run of any length come without keeping every pause and
 * without allocating at a boundary. Percentiles are the upper edge of their bucket: at most 10 µs
 * high (beyond 200 ms the exact maximum stands in).
 */
final class PauseHistogram {
    private static final long BUCKET_NANOS = 10_000;
    private static final int BUCKETS = 20_000;
    private final long[] counts = new long[BUCKETS + 1];
    private long total;
    private long max;

    void add(long nanos) {
        counts[(int) Math.min(BUCKETS, Math.max(0, nanos) / BUCKET_NANOS)]++;
        total++;
        max = Math.max(max, nanos);
    }

    /** The pause that a share {@code q} (0..1) of the boundaries did not exceed, in nanoseconds. */
    long percentile(double q) {
        if (total == 0) return 0;
        long rank = (long) Math.ceil(q * total);
        long seen = 0;
        for (int i = 0; i < counts.length; i++) {
            seen += counts[i];
            if (seen >= Math.max(1, rank)) return i == BUCKETS ? max : Math.min(max, (i + 1) * BUCKET_NANOS);
        }
        return max;
    }
}
