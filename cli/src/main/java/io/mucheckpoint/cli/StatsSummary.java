package io.mucheckpoint.cli;

import io.mucheckpoint.checkpoint.CheckpointEngine;
import io.mucheckpoint.checkpoint.EngineStats;
import java.util.Locale;

/**
 * What the checkpoint engine did, for people: the summary {@code vmm run --stats} and the console's
 * {@code stats} print, and the one line {@code vmm run} ends with on a terminal. Each number says
 * what it counts.
 */
final class StatsSummary {
    private StatsSummary() {}

    /** Checkpoints taken over the engine's life, the first and those a rollback discarded included. */
    static long taken(CheckpointEngine engine) {
        return engine.checkpointsTaken();
    }

    /**
     * @param taken checkpoints taken ({@link #taken}): the engine's stats count epoch boundaries, which
     *        leaves out the one taken at the start
     * @param instructions where the guest is now (its instruction count)
     * @param executed instructions the processor executed, those re-executed after a rollback included
     * @param runningNanos host time the guest spent running (not paused)
     */
    static String format(EngineStats s, long taken, long instructions, long guestNanos, long executed, long runningNanos) {
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "checkpointing: mode %s, predictor %s, interval %s%n", s.mode(), s.predictor(), s.interval()));
        b.append(String.format(Locale.ROOT, "  run:          %,d instructions in %.3f s of guest time; %.3f s of host time running"
                        + " (%.1f M instructions/s%s)%n",
                instructions, guestNanos / 1e9, runningNanos / 1e9, runningNanos == 0 ? 0 : executed / (runningNanos / 1e3),
                executed != instructions ? String.format(Locale.ROOT, " over the %,d executed, rollbacks' re-runs included", executed) : ""));
        long boundaries = s.checkpoints();
        String how = taken == boundaries + 1 ? "the first at the start, " + String.format(Locale.ROOT, "%,d", boundaries) + " at epoch boundaries"
                : String.format(Locale.ROOT, "%,d at epoch boundaries, %,d at starts and reboots", boundaries, taken - boundaries);
        b.append(String.format(Locale.ROOT, "  checkpoints:  %,d taken (%s); %d retained now, reaching back %s of guest time in %s;"
                        + " %,d dropped%s%n",
                taken, how, s.retained(), Console.guestTime(s.coveredNanos()), bytes(s.bytesHeld()), s.checkpointsDropped(),
                s.earlyBoundaries() > 0 ? ", " + s.earlyBoundaries() + " boundaries early (memory budget)" : ""));
        b.append(String.format(Locale.ROOT, "  pauses:       the guest waited at each boundary %.1f us on average, %.1f us at the longest;"
                        + " median %.0f us, p99 %.0f us (to 10 us); without the pre-copy, mean %.1f us, max %.1f us%n",
                boundaries == 0 ? 0 : s.pauseNanos() / 1e3 / boundaries, s.maxPauseNanos() / 1e3, s.pauseP50Nanos() / 1e3,
                s.pauseP99Nanos() / 1e3, boundaries == 0 ? 0 : s.fixedNanos() / 1e3 / boundaries, s.maxFixedNanos() / 1e3));
        b.append(String.format(Locale.ROOT, "  pages:        %,d written; %,d copied at their first write (a trap, %.2f us each),"
                        + " %,d copied ahead at a boundary (%.2f us each)%n",
                s.pagesWritten(), s.pagesTrapped(), s.nanosPerTrap() / 1e3, s.pagesPrecopied(), s.nanosPerPrecopy() / 1e3));
        if (s.pagesPrecopied() > 0) {
            double saved = s.nanosSavedByPrediction();
            b.append(String.format(Locale.ROOT, "  prediction:   %.1f %% of the pages copied ahead were then written, %.1f %% of the pages"
                            + " written had been copied ahead; %s%n",
                    100 * s.precision(), 100 * s.recall(),
                    saved >= 0 ? String.format(Locale.ROOT, "that saved %.2f ms of trap time", saved / 1e6)
                            : String.format(Locale.ROOT, "copying ahead cost %.2f ms more than the traps it avoided", -saved / 1e6)));
        } else {
            b.append("  prediction:   no page was copied ahead\n");
        }
        if (s.rollbacks() > 0) {
            b.append(String.format(Locale.ROOT, "  rollbacks:    %d, %,d pages restored, mean %.2f ms, max %.2f ms%n",
                    s.rollbacks(), s.pagesRestored(), s.rollbackNanos() / 1e6 / s.rollbacks(), s.maxRollbackNanos() / 1e6));
        }
        return b.toString();
    }

    /** The one line {@code vmm run} ends with on a terminal (without --stats). */
    static String line(EngineStats s, long taken) {
        return String.format(Locale.ROOT, "vmm: %,d checkpoint%s, one every %s; %d kept, reaching %.1f ms back in %s;"
                        + " longest pause %.1f ms (--stats: more)",
                taken, taken == 1 ? "" : "s", s.interval(), s.retained(), s.coveredNanos() / 1e6, bytes(s.bytesHeld()),
                s.maxPauseNanos() / 1e6);
    }

    private static String bytes(long n) {
        return Console.bytes(n);
    }
}
