package io.mucheckpoint.cli;

import io.mucheckpoint.checkpoint.CheckpointInfo;
import io.mucheckpoint.checkpoint.EngineStats;
import io.mucheckpoint.checkpoint.chart.Chart;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;

/** {@code vmm run --stats-plot FILE.png}: the pause at each checkpoint boundary and the pages each epoch wrote, over guest time. */
final class StatsPlot {
    private StatsPlot() {}

    /** @param newest the newest checkpoint: its epoch has not ended, but its boundary's pause is known */
    static void write(Path file, String guest, EngineStats s, EpochLog log, CheckpointInfo newest) throws IOException {
        boolean dense = log.size() > 200;
        Chart pauses = new Chart("Pause at each checkpoint boundary: " + guest, "guest time (s)", "pause (ms of host time)").roundTicks()
                .note(String.format(Locale.ROOT, "%,d boundaries, interval %s, mode %s; mean %.2f ms, longest %.2f ms",
                        s.checkpoints(), s.interval(), s.mode(), s.checkpoints() == 0 ? 0 : s.pauseNanos() / 1e6 / s.checkpoints(),
                        s.maxPauseNanos() / 1e6));
        Chart pages = new Chart("Pages written in each epoch", "guest time at the epoch's start (s)", "pages (4 KiB)").roundTicks()
                .note(String.format(Locale.ROOT, "%,d pages written in %,d epochs; predictor %s", s.pagesWritten(), log.size(), s.predictor()));
        if (dense) {
            pauses.noMarkers();
            pages.noMarkers();
        }
        // The first checkpoint is taken at the start, and a rollback's target starts its epoch again,
        // without a boundary's pause: those are not points of the pause timeline.
        for (int i = 0; i < log.size(); i++) {
            if (log.pauseNanos(i) > 0) pauses.point("pause", log.guestNanos(i) / 1e9, log.pauseNanos(i) / 1e6);
            pages.point("pages written", log.guestNanos(i) / 1e9, log.written(i));
        }
        if (newest != null && newest.pauseNanos() > 0) pauses.point("pause", newest.guestNanos() / 1e9, newest.pauseNanos() / 1e6);
        if (log.size() == 0) {
            pauses.note("no epoch ended: the run was shorter than one interval (" + s.interval() + ")");
            pages.note("no epoch ended");
        }
        Chart.write(file, pauses.lines(), pages.lines());
    }
}
