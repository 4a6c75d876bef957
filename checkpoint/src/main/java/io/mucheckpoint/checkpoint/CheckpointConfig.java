package io.mucheckpoint.checkpoint;

/**
 * How the engine checkpoints.
 *
 * @param interval distance between epoch boundaries (guest time or instructions)
 * @param hostClock cut epochs by the host's clock instead (as the paper did); positions vary run to run
 * @param mode copy-on-write undo logs, Remus-style stop-and-copy, or full copies
 * @param predictor which pages to pre-copy at a boundary (copy-on-write only)
 * @param latencyNanos the error-latency bound L: the engine keeps every checkpoint a rollback by L
 *        needs (the newest at least L old, and the newer ones reaching it goes through)
 * @param keep how many checkpoints to retain: older ones than L needs stay for escalation up to this
 *        many; with {@code keepCaps} it is also the most retained, even when L needs more
 * @param memoryBudget bytes of saved page images the engine may hold
 * @param keepCaps keep was asked for (--keep): a cap, under which L is covered only partly (said once);
 *        otherwise L raises it as far as the window needs
 */
public record CheckpointConfig(Interval interval, boolean hostClock, Mode mode, PredictorKind predictor,
                               long latencyNanos, int keep, long memoryBudget, boolean keepCaps) {
    public enum Mode { COW, COPY, FULL }

    /** ADAPTIVE: the history predictor, backing off while its pre-copies cost more than they save. */
    public enum PredictorKind { NONE, LAST, HISTORY, ADAPTIVE }

    public CheckpointConfig {
        if (keep < 1) throw new IllegalArgumentException("keep must be at least 1");
        if (latencyNanos < 0) throw new IllegalArgumentException("latency must not be negative");
        if (memoryBudget < (1 << 20)) throw new IllegalArgumentException("checkpoint memory must be at least 1M");
    }

    /** An explicit keep: a cap. */
    public CheckpointConfig(Interval interval, boolean hostClock, Mode mode, PredictorKind predictor,
                            long latencyNanos, int keep, long memoryBudget) {
        this(interval, hostClock, mode, predictor, latencyNanos, keep, memoryBudget, true);
    }

    /** 50 ms epochs, L = 200 ms, 64 checkpoints kept or as many as L needs. */
    public static CheckpointConfig defaults() {
        return new CheckpointConfig(Interval.millis(50), false, Mode.COW, PredictorKind.HISTORY, 200_000_000L, 64, 256L << 20, false);
    }

    public CheckpointConfig withInterval(Interval i) {
        return new CheckpointConfig(i, hostClock, mode, predictor, latencyNanos, keep, memoryBudget, keepCaps);
    }

    public CheckpointConfig withHostClock(boolean h) {
        return new CheckpointConfig(interval, h, mode, predictor, latencyNanos, keep, memoryBudget, keepCaps);
    }

    public CheckpointConfig withMode(Mode m) {
        return new CheckpointConfig(interval, hostClock, m, predictor, latencyNanos, keep, memoryBudget, keepCaps);
    }

    public CheckpointConfig withPredictor(PredictorKind p) {
        return new CheckpointConfig(interval, hostClock, mode, p, latencyNanos, keep, memoryBudget, keepCaps);
    }

    public CheckpointConfig withLatencyNanos(long l) {
        return new CheckpointConfig(interval, hostClock, mode, predictor, l, keep, memoryBudget, keepCaps);
    }

    /** An explicit keep, a cap even below what L needs. */
    public CheckpointConfig withKeep(int k) {
        return new CheckpointConfig(interval, hostClock, mode, predictor, latencyNanos, k, memoryBudget, true);
    }

    public CheckpointConfig withMemoryBudget(long b) {
        return new CheckpointConfig(interval, hostClock, mode, predictor, latencyNanos, keep, b, keepCaps);
    }
}
