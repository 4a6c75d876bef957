package io.mucheckpoint.checkpoint;

import java.util.Arrays;

/** Predicts nothing: every first write traps. */
final class NoPrediction implements DirtyPagePredictor {
    @Override
    public void predict(long[] written, long[] predicted) {
        Arrays.fill(predicted, 0L);
    }

    @Override
    public void reset() {}
}
