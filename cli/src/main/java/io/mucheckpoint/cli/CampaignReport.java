package io.mucheckpoint.cli;

import io.mucheckpoint.recovery.CampaignSummary;
import io.mucheckpoint.recovery.report.Json;
import io.mucheckpoint.recovery.report.ResultJson;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What a campaign shows its user at the end, from its results as journal entries: a table per grid
 * cell, the --json and the --plot. {@code vmm inject} (run at once or resumed) and
 * {@code vmm campaign merge} both make theirs here, from the journal header, so they are the same.
 */
final class CampaignReport {
    /** The header fields that the --json repeats at its top, in its order. */
    private static final String[] TOP = {"workload", "seed", "faults", "target", "bits", "keep", "interval", "goldenInstructions",
            "watchdogNanos", "outputCommit"};

    private final Map<String, Object> header;
    private final CampaignChart chart;
    private final List<String> runs = new ArrayList<>();

    CampaignReport(Map<String, Object> header) {
        this.header = header;
        this.chart = new CampaignChart(String.format(Locale.ROOT, "Outcomes of %d injections into %s (%s, seed %d)",
                num(header, "faults"), header.get("workload"), header.get("target"), num(header, "seed")));
    }

    static long num(Map<String, Object> header, String key) {
        return ((Number) header.get(key)).longValue();
    }

    /** The grid of a campaign, from its header: every --sweep-keep K (or the one --keep) with every latency bound. */
    static List<ResultJson.Cell> cells(Map<String, Object> header) {
        List<ResultJson.Cell> out = new ArrayList<>();
        Object sweepKeep = header.get("sweepKeep");
        List<?> keeps = sweepKeep instanceof List<?> l ? l : List.of(header.get("keep"));
        for (Object k : keeps) {
            for (Object l : (List<?>) header.get("latencies")) out.add(new ResultJson.Cell(((Number) k).intValue(), ((Number) l).longValue()));
        }
        return out;
    }

    /** A cell as progress and the chart name it: "L=10ms", or "K=4 L=10ms" in a --sweep-keep grid. */
    static String label(Map<String, Object> header, ResultJson.Cell cell) {
        return (header.get("sweepKeep") instanceof List<?> ? "K=" + cell.keep() + " " : "") + "L=" + Units.formatNanos(cell.latencyNanos());
    }

    /** One cell's results (any order): its table on {@code out}, its group of the chart and its run of the JSON. */
    void cell(PrintStream out, ResultJson.Cell cell, List<ResultJson.Entry> entries, boolean interrupted) {
        List<ResultJson.Entry> sorted = new ArrayList<>(entries);
        sorted.sort(Comparator.comparingInt(ResultJson.Entry::index));
        CampaignSummary s = CampaignSummary.ofOutcomes(cell.latencyNanos(), cell.keep(),
                sorted.stream().map(ResultJson.Entry::outcome).toList(), (int) sorted.stream().filter(ResultJson.Entry::activated).count());
        out.printf(Locale.ROOT, "%nlatency bound L = %s, keep %d, %d injections (%s, seed %d)%s:%n",
                Units.formatNanos(cell.latencyNanos()), cell.keep(), sorted.size(), header.get("target"), num(header, "seed"),
                interrupted ? ", interrupted" : "");
        out.print(s.table());
        String what = label(header, cell);
        chart.add(what, s);
        chart.detectionLatencies(what, sorted.stream()
                .filter(e -> e.num("injectedNanos") >= 0 && e.num("detectNanos") >= e.num("injectedNanos"))
                .mapToLong(e -> e.num("detectNanos") - e.num("injectedNanos")).toArray());
        StringBuilder b = new StringBuilder("{\"latencyNanos\":").append(cell.latencyNanos()).append(",\"keep\":").append(cell.keep())
                .append(",\"summary\":").append(s.toJson()).append(",\"results\":[");
        for (int i = 0; i < sorted.size(); i++) b.append(i > 0 ? "," : "").append(sorted.get(i).json());
        runs.add(b.append("]}").toString());
    }

    /** The --json: the campaign's parameters, then every cell's summary and results. */
    String json(String command, boolean interrupted) {
        Map<String, Object> top = new LinkedHashMap<>();
        top.put("command", command);
        for (String k : TOP) top.put(k, header.get(k));
        String head = Json.write(top);
        return head.substring(0, head.length() - 1) + ",\"runs\":[" + String.join(",", runs) + "]"
                + (interrupted ? ",\"interrupted\":true" : "") + "}";
    }

    /** Writes the --json and the --plot asked for (either may be null), saying so on {@code err}. */
    void write(Path json, Path plot, String command, boolean interrupted, PrintStream err) {
        if (json != null) {
            try {
                Files.writeString(json, json(command, interrupted) + "\n");
            } catch (IOException e) {
                throw OutputFiles.writeFailed(json, e);
            }
            err.println("vmm: wrote " + json);
        }
        if (plot != null) {
            try {
                chart.write(plot);
            } catch (IOException e) {
                throw OutputFiles.writeFailed(plot, e);
            }
            err.println("vmm: wrote " + plot);
        }
    }
}
