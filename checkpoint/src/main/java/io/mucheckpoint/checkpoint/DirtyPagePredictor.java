package io.mucheckpoint.checkpoint;

/**
 * Names the pages the next epoch will probably write, so their pre-images can be copied eagerly at
 * the boundary instead of through a write trap each.
 */
interface DirtyPagePredictor {
    /**
     * Learns which pages the epoch that just ended wrote ({@code written}: one bit per page) and
     * fills {@code predicted} (same layout) with the pages to pre-copy for the next epoch.
     */
    void predict(long[] written, long[] predicted);

    /**
     * Hears how the last pre-copy went: of the pages copied ahead, {@code hits} were then written and
     * {@code waste} were not; the measured cost per trapped and per pre-copied page in that epoch
     * (NaN where none). A predictor that judges its own benefit uses it; the others ignore it.
     */
    default void learn(int hits, int waste, double trapNanosPerPage, double precopyNanosPerPage) {}

    /** Forgets the history (after a rollback the past it learnt from did not happen). */
    void reset();

    /** What it has learnt, for another engine to start from (a campaign's fast-forward); empty if nothing. */
    default byte[] save() {
        return new byte[0];
    }

    /** Takes back what {@link #save} gave, from a predictor of the same kind and size. */
    default void restore(byte[] state) {}

    static DirtyPagePredictor of(CheckpointConfig.PredictorKind kind, int pages) {
        return switch (kind) {
            case NONE -> new NoPrediction();
            case LAST -> new LastEpochPredictor();
            case HISTORY -> new HistoryPredictor(pages);
            case ADAPTIVE -> new BackOffPredictor(new HistoryPredictor(pages));
        };
    }
}
