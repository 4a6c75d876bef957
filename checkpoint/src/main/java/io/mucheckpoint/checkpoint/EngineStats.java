package io.mucheckpoint.checkpoint;

/** Totals over a run (the --stats summary and --stats-json). */
public record EngineStats(String mode, String predictor, String interval, long checkpoints, int retained,
                          long bytesHeld, long coveredNanos, long pauseNanos, long maxPauseNanos,
                          long pagesTrapped, long pagesPrecopied, long pagesWritten, long predictionHits,
                          long predictionWaste, long trapNanos, long precopyNanos, long rollbacks, long rollbackNanos,
                          long maxRollbackNanos, long pagesRestored, long checkpointsDropped, long earlyBoundaries,
                          long precopiesSkipped, long pagesReclaimed, long pauseP50Nanos, long pauseP99Nanos,
                          long fixedNanos, long maxFixedNanos) {
    /** Of the pages pre-copied, the share the epoch then wrote. */
    public double precision() {
        long predictedPages = predictionHits + predictionWaste;
        return predictedPages == 0 ? 0 : (double) predictionHits / predictedPages;
    }

    /** Of the pages written, the share that had been pre-copied. */
    public double recall() {
        return pagesWritten == 0 ? 0 : (double) predictionHits / pagesWritten;
    }

    /** Mean cost of one write trap (capture included), in nanoseconds. */
    public double nanosPerTrap() {
        return pagesTrapped == 0 ? 0 : (double) trapNanos / pagesTrapped;
    }

    /** Mean cost of one pre-copied page at a boundary, in nanoseconds. */
    public double nanosPerPrecopy() {
        return pagesPrecopied == 0 ? 0 : (double) precopyNanos / pagesPrecopied;
    }

    /** Time prediction saved: each hit avoided a trap but paid a pre-copy; each waste paid a pre-copy. */
    public double nanosSavedByPrediction() {
        return predictionHits * (nanosPerTrap() - nanosPerPrecopy()) - predictionWaste * nanosPerPrecopy();
    }

    public String toJson() {
        return String.format(java.util.Locale.ROOT,
                "{\"mode\":\"%s\",\"predictor\":\"%s\",\"interval\":\"%s\",\"checkpoints\":%d,\"retained\":%d,"
                        + "\"bytesHeld\":%d,\"coveredNanos\":%d,\"pauseNanos\":%d,\"maxPauseNanos\":%d,"
                        + "\"pagesTrapped\":%d,\"pagesPrecopied\":%d,\"pagesWritten\":%d,\"predictionHits\":%d,"
                        + "\"predictionWaste\":%d,\"precision\":%.4f,\"recall\":%.4f,\"trapNanos\":%d,\"precopyNanos\":%d,"
                        + "\"nanosSavedByPrediction\":%.0f,\"rollbacks\":%d,\"rollbackNanos\":%d,\"maxRollbackNanos\":%d,"
                        + "\"pagesRestored\":%d,\"checkpointsDropped\":%d,\"earlyBoundaries\":%d,"
                        + "\"precopiesSkipped\":%d,\"pagesReclaimed\":%d,\"pauseP50Nanos\":%d,\"pauseP99Nanos\":%d,"
                        + "\"fixedNanos\":%d,\"maxFixedNanos\":%d}",
                mode, predictor, interval, checkpoints, retained, bytesHeld, coveredNanos, pauseNanos, maxPauseNanos,
                pagesTrapped, pagesPrecopied, pagesWritten, predictionHits, predictionWaste, precision(), recall(),
                trapNanos, precopyNanos, nanosSavedByPrediction(), rollbacks, rollbackNanos, maxRollbackNanos,
                pagesRestored, checkpointsDropped, earlyBoundaries, precopiesSkipped, pagesReclaimed,
                pauseP50Nanos, pauseP99Nanos, fixedNanos, maxFixedNanos);
    }
}
