package io.mucheckpoint.cli;

import io.mucheckpoint.checkpoint.chart.Chart;
import io.mucheckpoint.recovery.CampaignSummary;
import io.mucheckpoint.recovery.Outcome;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The picture of a fault-injection campaign ({@code vmm inject --plot}): the share of each outcome
 * with its 95 % interval, one group of bars per workload or latency bound, and below it the
 * distribution of error latency (injection to detection) where the results carry it.
 */
final class CampaignChart {
    /** Error-latency buckets of guest time: upper bounds in nanoseconds (the last is open). */
    private static final long[] BUCKETS = {10_000L, 100_000L, 1_000_000L, 10_000_000L, 100_000_000L, 1_000_000_000L, Long.MAX_VALUE};
    private static final String[] BUCKET_LABELS = {"< 10us", "10-100us", "0.1-1ms", "1-10ms", "10-100ms", "0.1-1s", ">= 1s"};

    private final String title;
    private final List<String> groups = new ArrayList<>();
    private final List<CampaignSummary> summaries = new ArrayList<>();
    private final Map<String, long[]> latencies = new LinkedHashMap<>();

    CampaignChart(String title) {
        this.title = title;
    }

    /** One group of bars: a workload, or a latency bound of one workload's sweep. */
    CampaignChart add(String group, CampaignSummary summary) {
        groups.add(group);
        summaries.add(summary);
        return this;
    }

    /**
     * The campaign's error latency for {@code group}: the guest time from each detected injection to
     * its first detection (vmm inject takes it from each result's trace). Without any call the picture
     * shows the outcome shares alone.
     */
    CampaignChart detectionLatencies(String group, long[] nanos) {
        latencies.put(group, nanos.clone());
        return this;
    }

    void write(Path file) throws IOException {
        Chart shares = new Chart(title, "", "share of injections (%)").roundTicks()
                .note("bars: share of each outcome; whiskers: its 95 % confidence interval (Wilson)");
        for (int g = 0; g < summaries.size(); g++) {
            CampaignSummary s = summaries.get(g);
            for (Outcome o : Outcome.values()) {
                double[] ci = CampaignSummary.wilson(s.count(o), s.injections());
                shares.bar(o.label(), g, s.percent(o), ci[0], ci[1]);
            }
        }
        List<String> labels = new ArrayList<>();
        for (int g = 0; g < groups.size(); g++) labels.add(String.format(Locale.ROOT, "%s (n=%d)", groups.get(g), summaries.get(g).injections()));
        if (latencies.isEmpty()) {
            Chart.write(file, shares.bars(labels));
            return;
        }
        Chart latency = new Chart("Error latency: injection to detection", "guest time from the injection to its detection",
                "share of detections (%)").roundTicks();
        for (Map.Entry<String, long[]> e : latencies.entrySet()) {
            long[] counts = new long[BUCKETS.length];
            for (long l : e.getValue()) {
                int b = 0;
                while (b < BUCKETS.length - 1 && l >= BUCKETS[b]) b++;
                counts[b]++;
            }
            int n = e.getValue().length;
            for (int b = 0; b < BUCKETS.length; b++) latency.point(e.getKey() + " (" + n + " detected)", b, n == 0 ? 0 : 100.0 * counts[b] / n);
        }
        Chart.write(file, shares.bars(labels), latency.bars(List.of(BUCKET_LABELS)));
    }
}
