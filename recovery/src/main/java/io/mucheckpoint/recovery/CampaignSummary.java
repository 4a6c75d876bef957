package io.mucheckpoint.recovery;

import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Counts per outcome with 95 % confidence intervals (Wilson score), and the coverage they imply. */
public record CampaignSummary(long latencyNanos, int keep, int injections, Map<Outcome, Integer> counts, int activated) {
    public static CampaignSummary of(long latencyNanos, int keep, List<Campaign.Result> results) {
        Map<Outcome, Integer> counts = new EnumMap<>(Outcome.class);
        for (Outcome o : Outcome.values()) counts.put(o, 0);
        int activated = 0;
        for (Campaign.Result r : results) {
            counts.merge(r.outcome(), 1, Integer::sum);
            if (r.activation() == ActivationTracker.Activation.ACTIVATED) activated++;
        }
        return new CampaignSummary(latencyNanos, keep, results.size(), counts, activated);
    }

    /** The summary of results known by their outcomes and how many were activated (read back from a journal). */
    public static CampaignSummary ofOutcomes(long latencyNanos, int keep, List<Outcome> outcomes, int activated) {
        Map<Outcome, Integer> counts = new EnumMap<>(Outcome.class);
        for (Outcome o : Outcome.values()) counts.put(o, 0);
        for (Outcome o : outcomes) counts.merge(o, 1, Integer::sum);
        return new CampaignSummary(latencyNanos, keep, outcomes.size(), counts, activated);
    }

    public int count(Outcome o) {
        return counts.getOrDefault(o, 0);
    }

    public double percent(Outcome o) {
        return injections == 0 ? 0 : 100.0 * count(o) / injections;
    }

    /** The 95 % Wilson score interval of a proportion k/n, in percent. */
    public static double[] wilson(int k, int n) {
        if (n == 0) return new double[] {0, 0};
        double z = 1.959964, p = (double) k / n, z2 = z * z;
        double centre = (p + z2 / (2 * n)) / (1 + z2 / n);
        double half = z * Math.sqrt(p * (1 - p) / n + z2 / (4.0 * n * n)) / (1 + z2 / n);
        return new double[] {100 * Math.max(0, centre - half), 100 * Math.min(1, centre + half)};
    }

    /** Runs in which an error was detected, whatever became of them. */
    public int detected() {
        return count(Outcome.DETECTED_RECOVERED) + count(Outcome.DETECTED_RECOVERED_ESCAPED) + count(Outcome.DETECTED_NOT_RECOVERED);
    }

    /** Of the errors detected, the share whose run ended right and showed the user no wrong byte. */
    public double recoveryRate() {
        int d = detected();
        return d == 0 ? 0 : 100.0 * count(Outcome.DETECTED_RECOVERED) / d;
    }

    /** The table printed at the end of a campaign. */
    public String table() {
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "%-42s %7s %8s   %s%n", "outcome", "count", "percent", "95% CI"));
        for (Outcome o : Outcome.values()) {
            double[] ci = wilson(count(o), injections);
            b.append(String.format(Locale.ROOT, "%-42s %7d %7.1f%%   %5.1f-%5.1f%%%n", o.label(), count(o), percent(o), ci[0], ci[1]));
        }
        b.append(String.format(Locale.ROOT, "%-42s %7d%n", "total", injections));
        return b.toString();
    }

    public String toJson() {
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "{\"latencyNanos\":%d,\"keep\":%d,\"injections\":%d,\"activated\":%d,\"outcomes\":{",
                latencyNanos, keep, injections, activated));
        boolean first = true;
        for (Outcome o : Outcome.values()) {
            double[] ci = wilson(count(o), injections);
            if (!first) b.append(',');
            first = false;
            b.append(String.format(Locale.ROOT, "\"%s\":{\"count\":%d,\"percent\":%.3f,\"ci95\":[%.3f,%.3f]}",
                    o.name(), count(o), percent(o), ci[0], ci[1]));
        }
        b.append("}}");
        return b.toString();
    }
}
