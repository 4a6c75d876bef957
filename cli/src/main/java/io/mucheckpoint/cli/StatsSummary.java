package io.mucheckpoint.cli;

import io.mucheckpoint.checkpoint.EngineStats;
import java.util.Locale;

/** The short checkpointing summary {@code vmm run --stats} prints at exit. */
final class StatsSummary {
    private StatsSummary() {}

    static String format(EngineStats s, long instructions, long guestNanos, long hostNanos) {
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "checkpointing: mode %s, predictor %s, interval %s%n", s.mode(), s.predictor(), s.interval()));
        b.append(String.format(Locale.ROOT, "  run:          %,d instructions, %.3f s guest time, %.3f s host time (%.1f M instructions/s)%n",
                instructions, guestNanos / 1e9, hostNanos / 1e9, instructions / (hostNanos / 1e3)));
        b.append(String.format(Locale.ROOT, "  checkpoints:  %,d taken, %d retained covering %.1f ms, %s held, %d dropped%s%n",
                s.checkpoints(), s.retained(), s.coveredNanos() / 1e6, bytes(s.bytesHeld()), s.checkpointsDropped(),
                s.earlyBoundaries() > 0 ? ", " + s.earlyBoundaries() + " taken early (memory budget)" : ""));
        b.append(String.format(Locale.ROOT, "  pauses:       mean %.1f us, max %.1f us%n",
                s.checkpoints() == 0 ? 0 : s.pauseNanos() / 1e3 / s.checkpoints(), s.maxPauseNanos() / 1e3));
        b.append(String.format(Locale.ROOT, "  pages:        %,d written, %,d trapped (%.2f us each), %,d pre-copied (%.2f us each)%n",
                s.pagesWritten(), s.pagesTrapped(), s.nanosPerTrap() / 1e3, s.pagesPrecopied(), s.nanosPerPrecopy() / 1e3));
        b.append(String.format(Locale.ROOT, "  prediction:   precision %.1f %%, recall %.1f %%, time saved %.2f ms%n",
                100 * s.precision(), 100 * s.recall(), s.nanosSavedByPrediction() / 1e6));
        if (s.rollbacks() > 0) {
            b.append(String.format(Locale.ROOT, "  rollbacks:    %d, %,d pages restored, mean %.2f ms, max %.2f ms%n",
                    s.rollbacks(), s.pagesRestored(), s.rollbackNanos() / 1e6 / s.rollbacks(), s.maxRollbackNanos() / 1e6));
        }
        return b.toString();
    }

    private static String bytes(long n) {
        if (n >= 10L << 20) return (n >> 20) + " MiB";
        if (n >= 10L << 10) return (n >> 10) + " KiB";
        return n + " B";
    }
}
