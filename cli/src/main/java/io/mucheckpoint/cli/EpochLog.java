package io.mucheckpoint.cli;

import io.mucheckpoint.checkpoint.CheckpointEngine;
import io.mucheckpoint.checkpoint.CheckpointInfo;
import java.util.Arrays;

/**
 * One row per ended epoch, as the engine reports them: the guest time of the checkpoint that began
 * it, the pause the guest had at that boundary, and the pages the epoch wrote. What
 * {@code --stats-plot} draws. Rows are appended on the guest thread and read after the run.
 */
final class EpochLog {
    private long[] guestNanos = new long[256];
    private long[] pauseNanos = new long[256];
    private int[] written = new int[256];
    private int n;

    /** Starts listening to {@code engine}'s boundaries. */
    static EpochLog of(CheckpointEngine engine) {
        EpochLog log = new EpochLog();
        engine.addEpochListener(log::add);
        return log;
    }

    void add(CheckpointInfo ended) {
        if (n == written.length) {
            guestNanos = Arrays.copyOf(guestNanos, n * 2);
            pauseNanos = Arrays.copyOf(pauseNanos, n * 2);
            written = Arrays.copyOf(written, n * 2);
        }
        guestNanos[n] = ended.guestNanos();
        pauseNanos[n] = ended.pauseNanos();
        written[n] = ended.written();
        n++;
    }

    int size() {
        return n;
    }

    long guestNanos(int i) {
        return guestNanos[i];
    }

    /** The pause at the boundary that began epoch {@code i} (0 for the first checkpoint, taken at the start without one). */
    long pauseNanos(int i) {
        return pauseNanos[i];
    }

    int written(int i) {
        return written[i];
    }
}
