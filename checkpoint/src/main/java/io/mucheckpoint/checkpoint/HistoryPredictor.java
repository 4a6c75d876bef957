package io.mucheckpoint.checkpoint;

/**
 * Predicts pages written in at least {@link #THRESHOLD} of the last {@link #WINDOW} epochs, which
 * keeps the steadily written working set and leaves out one-off writes that the last-epoch
 * predictor would copy for nothing. History is a 4-bit shift register per page.
 */
final class HistoryPredictor implements DirtyPagePredictor {
    static final int WINDOW = 4;
    static final int THRESHOLD = 2;

    private final byte[] history;

    HistoryPredictor(int pages) {
        history = new byte[pages];
    }

    @Override
    public void predict(long[] written, long[] predicted) {
        java.util.Arrays.fill(predicted, 0L);
        int n = history.length;
        for (int w = 0; w < predicted.length; w++) {
            long bits = written[w];
            int base = w << 6;
            if (bits == 0 && allZero(base, Math.min(n, base + 64))) continue;
            long out = 0;
            for (int i = 0; i < 64 && base + i < n; i++) {
                int h = ((history[base + i] << 1) | (int) ((bits >>> i) & 1)) & ((1 << WINDOW) - 1);
                history[base + i] = (byte) h;
                if (Integer.bitCount(h) >= THRESHOLD) out |= 1L << i;
            }
            predicted[w] = out;
        }
    }

    private boolean allZero(int from, int to) {
        for (int i = from; i < to; i++) if (history[i] != 0) return false;
        return true;
    }

    @Override
    public byte[] save() {
        return history.clone();
    }

    @Override
    public void restore(byte[] state) {
        if (state.length != history.length) throw new IllegalArgumentException("a history of " + state.length + " pages, not " + history.length);
        System.arraycopy(state, 0, history, 0, history.length);
    }

    @Override
    public void reset() {
        java.util.Arrays.fill(history, (byte) 0);
    }
}
