package io.mucheckpoint.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import io.mucheckpoint.checkpoint.chart.Chart;
import io.mucheckpoint.recovery.CampaignSummary;
import io.mucheckpoint.recovery.Outcome;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The campaign picture: outcome shares per group, and the error-latency panel once latencies are given (the hook). */
class CampaignChartTest {
    @TempDir
    Path tmp;

    private static CampaignSummary summary(int... counts) {
        Map<Outcome, Integer> m = new EnumMap<>(Outcome.class);
        int n = 0;
        for (Outcome o : Outcome.values()) {
            m.put(o, counts[o.ordinal()]);
            n += counts[o.ordinal()];
        }
        return new CampaignSummary(0, 64, n, m, n - counts[0]);
    }

    @Test
    void drawsTheLatencyPanelOnlyWhenLatenciesAreGiven() throws Exception {
        CampaignChart chart = new CampaignChart("Outcomes by workload").add("compress", summary(50, 10, 30, 4, 2, 5, 3))
                .add("mcf", summary(40, 20, 25, 1, 0, 10, 5));
        Path shares = tmp.resolve("shares.png");
        chart.write(shares);
        BufferedImage one = ImageIO.read(shares.toFile());
        assertNotNull(one);
        assertEquals(Chart.H, one.getHeight());

        chart.detectionLatencies("compress", new long[] {5_000, 50_000, 2_000_000, 2_500_000, 40_000_000, Long.MAX_VALUE})
                .detectionLatencies("mcf", new long[] {900_000, 3_000_000_000L});
        Path both = tmp.resolve("both.png");
        chart.write(both);
        BufferedImage two = ImageIO.read(both.toFile());
        assertEquals(2 * Chart.H, two.getHeight());
        if (System.getenv("VMM_KEEP_CHART") != null) java.nio.file.Files.copy(both, Path.of(System.getenv("VMM_KEEP_CHART"))); // to look at it
    }
}
