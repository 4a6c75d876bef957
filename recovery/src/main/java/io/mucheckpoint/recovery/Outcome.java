package io.mucheckpoint.recovery;

/** How one injection ended, as a campaign classifies it. */
public enum Outcome {
    /** The corrupted location was never used (overwritten first, or never touched). */
    NOT_ACTIVATED("not activated"),
    /** Used, but the output was right and nothing was detected. */
    MASKED("masked"),
    /** Detected, rolled back, and every byte the user saw was right. */
    DETECTED_RECOVERED("detected, recovered"),
    /**
     * Detected and rolled back, and the run ended with the right output, but wrong bytes had reached
     * the console before the detection: they cannot be taken back (output commit prevents this).
     */
    DETECTED_RECOVERED_ESCAPED("detected, recovered, wrong output escaped"),
    /** Detected, but recovery failed or the run's output was still wrong. */
    DETECTED_NOT_RECOVERED("detected, not recovered"),
    /** Wrong output and nothing detected: silent data corruption. */
    SDC("silent data corruption"),
    /** The guest neither finished nor was detected within the time budget. */
    HANG("hang");

    private final String label;

    Outcome(String label) {
        this.label = label;
    }

    public String label() {
        return label;
    }
}
