package io.mucheckpoint.recovery.report;

import io.mucheckpoint.checkpoint.chart.Chart;
import io.mucheckpoint.recovery.CampaignSummary;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;

/**
 * The measurements of the paper's argument, from the JSON of {@code vmm inject} (recovery/measure.sh
 * runs the campaigns): checkpoint corruption (coverage against the retained checkpoints K and the
 * latency bound L, and how often the checkpoint recovery went back to already held the error), the
 * error latency's distribution per workload and fault target, and the cost of recovery. Writes a
 * markdown page and its PNG plots.
 *
 * <p>Usage: {@code RecoveryMeasurements DIR PAGE.md IMGDIR}: every {@code *.json} or {@code *.json.gz}
 * in DIR; files named {@code grid-*} are K × L sweeps, the others feed the latency and cost sections.
 */
public final class RecoveryMeasurements {
    /** One injection of one run, as the JSON has it. */
    record Injection(String workload, int keep, long latencyNanos, Map<String, Object> r) {
        String outcome() {
            return (String) r.get("outcome");
        }

        /** Detected, and the file records when (files written before the trace fields existed do not). */
        boolean detected() {
            return outcome().startsWith("DETECTED") && r.containsKey("detectNanos") && num("detectNanos") >= 0;
        }

        long num(String k) {
            Object v = r.get(k);
            return v == null ? -1 : ((Number) v).longValue();
        }

        boolean flag(String k) {
            return Boolean.TRUE.equals(r.get(k));
        }

        /** reg (general registers, EIP, EFLAGS, segment bases), mem, x87 or cr. */
        String targetGroup() {
            String t = (String) r.get("target");
            return switch (t) {
                case "MEM", "MEM_DOOR" -> "mem";
                case "X87" -> "x87";
                case "CR" -> "cr";
                default -> "reg";
            };
        }

        /** Guest time from the injection to the first detection (at least one instruction's 10 ns, for log axes). */
        long latencyNanosToDetection() {
            return Math.max(10, num("detectNanos") - num("injectedNanos"));
        }

        long latencyInstructions() {
            return num("detectIcount") - num("at");
        }
    }

    /** One campaign file: its command and its runs. */
    record Campaign(String file, String workload, String command, List<Injection> all, Map<String, List<Injection>> runs) {}

    private RecoveryMeasurements() {}

    public static void main(String[] args) throws IOException {
        if (args.length != 3) {
            System.err.println("usage: RecoveryMeasurements DIR PAGE.md IMGDIR");
            System.exit(64);
        }
        Path dir = Path.of(args[0]), page = Path.of(args[1]), img = Path.of(args[2]);
        List<Campaign> campaigns = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.sorted().toList()) {
                String n = f.getFileName().toString();
                if (n.endsWith(".json") || n.endsWith(".json.gz")) campaigns.add(read(f));
            }
        }
        Files.createDirectories(img);
        String rel = page.toAbsolutePath().getParent().relativize(img.toAbsolutePath()).toString();
        Files.writeString(page, render(campaigns, img, rel.isEmpty() ? "." : rel, dir));
        System.err.println("wrote " + page + " and its plots in " + img);
    }

    @SuppressWarnings("unchecked")
    static Campaign read(Path f) throws IOException {
        byte[] bytes = Files.readAllBytes(f);
        if (f.toString().endsWith(".gz")) {
            try (InputStream in = new GZIPInputStream(new java.io.ByteArrayInputStream(bytes))) {
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                in.transferTo(out);
                bytes = out.toByteArray();
            }
        }
        Map<String, Object> doc = (Map<String, Object>) Json.parse(new String(bytes, StandardCharsets.UTF_8));
        String workload = ((String) doc.get("workload")).replace(".elf", "");
        List<Injection> all = new ArrayList<>();
        Map<String, List<Injection>> runs = new LinkedHashMap<>();
        for (Object o : (List<Object>) doc.get("runs")) {
            Map<String, Object> run = (Map<String, Object>) o;
            int keep = run.containsKey("keep") ? ((Number) run.get("keep")).intValue() : ((Number) doc.get("keep")).intValue();
            long l = ((Number) run.get("latencyNanos")).longValue();
            List<Injection> list = new ArrayList<>();
            for (Object r : (List<Object>) run.get("results")) list.add(new Injection(workload, keep, l, (Map<String, Object>) r));
            runs.put(keep + "/" + l, list);
            all.addAll(list);
        }
        return new Campaign(f.getFileName().toString(), workload, (String) doc.get("command"), all, runs);
    }

    static String render(List<Campaign> campaigns, Path img, String rel, Path dir) throws IOException {
        StringBuilder b = new StringBuilder();
        b.append("# Recovery measurements: checkpoint corruption, error latency, recovery cost\n\n");
        b.append("Generated by `recovery/measure.sh` (the campaigns, then `RecoveryMeasurements` on their JSON in `")
                .append(dir).append("`); do not edit by hand. Percentages carry 95 % Wilson intervals.\n\n");
        b.append("Outcomes are the campaign's own classification (`Campaign.inject`): *detected, recovered* means the run was "
                + "detected and the console showed exactly the golden output; a run that ended right after a wrong byte had "
                + "escaped (*detected, recovered, wrong output escaped*) counts as detected, not recovered.\n");
        List<Campaign> grids = campaigns.stream().filter(c -> c.file().startsWith("grid-")).toList();
        List<Campaign> others = campaigns.stream().filter(c -> !c.file().startsWith("grid-")).toList();
        for (Campaign g : grids) grid(b, g, img, rel);
        // Latency and cost: one run per file. The first detection happens before any rollback, so it
        // does not depend on K or L; the grid's faults would otherwise count 25 times.
        List<Injection> once = new ArrayList<>();
        for (Campaign c : others) once.addAll(c.runs().values().iterator().next());
        if (!once.isEmpty()) {
            outcomes(b, once, img, rel);
            latency(b, once, others, img, rel);
            cost(b, once, img, rel);
        }
        int total = campaigns.stream().mapToInt(c -> c.all().size()).sum();
        b.append("\n## What the campaigns cost\n\n").append(String.format(Locale.ROOT, "%,d injections in all", total))
                .append(" (the grid's faults counted once per K and L). The issue asks for at least 10,000; see the note below.\n");
        Path timing = dir.resolve("timing.txt");
        if (Files.isRegularFile(timing)) {
            b.append("\nWall time of each campaign, as `recovery/measure.sh` recorded it (`").append(timing).append("`):\n\n```\n")
                    .append(Files.readString(timing).strip()).append("\n```\n");
        }
        Path note = dir.resolve("note.md");
        if (Files.isRegularFile(note)) b.append('\n').append(Files.readString(note).strip()).append('\n');
        return b.toString();
    }

    // --- (a) checkpoint corruption -------------------------------------------------------------------

    private static void grid(StringBuilder b, Campaign g, Path img, String rel) throws IOException {
        TreeSet<Integer> ks = new TreeSet<>();
        TreeSet<Long> ls = new TreeSet<>();
        for (Injection i : g.all()) {
            ks.add(i.keep());
            ls.add(i.latencyNanos());
        }
        int n = g.runs().values().iterator().next().size();
        b.append("\n## Checkpoint corruption: ").append(g.workload()).append(", coverage against K and L\n\n");
        b.append("Command: `").append(g.command()).append("` (").append(n).append(" faults, the same ones in each of the ")
                .append(g.runs().size()).append(" runs).\n\n");
        b.append("Coverage = detected and recovered, of the detected (count, share, 95 % interval). K is `--keep K`, a cap;"
                + " a rollback goes to the newest retained checkpoint at least L before the detection, escalating to older"
                + " ones when the error comes back.\n\n");
        b.append("| K \\ L |");
        for (long l : ls) b.append(' ').append(ms(l)).append(" |");
        b.append("\n|---|").append("---:|".repeat(ls.size())).append('\n');
        Chart coverage = new Chart("Coverage against retained checkpoints K (" + g.workload() + ", " + n + " faults)",
                "retained checkpoints K (--keep)", "recovered of detected (%)").logX().roundTicks()
                .note("one line per latency bound L; 95 % intervals in the table");
        for (int k : ks) {
            b.append("| ").append(k).append(" |");
            for (long l : ls) {
                List<Injection> run = g.runs().get(k + "/" + l);
                int det = 0, rec = 0;
                for (Injection i : run) {
                    if (i.detected()) det++;
                    if (i.outcome().equals("DETECTED_RECOVERED")) rec++;
                }
                b.append(' ').append(share(rec, det)).append(" |");
                if (det > 0) coverage.point("L = " + ms(l), k, 100.0 * rec / det);
            }
            b.append('\n');
        }
        int kMax = ks.last();
        b.append("\nHow often the checkpoint already held the error, over the detected injections: *newest* is the newest "
                + "checkpoint when the first detection was handled; *chosen* is the one the bound L picked for the first "
                + "rollback (K = ").append(kMax).append("). A checkpoint holds the error if it was taken after the fault, or, "
                + "for a raw memory upset, if it shares the upset page (the page was not written between it and the upset).\n\n");
        b.append("| L | detected | newest held the error | chosen held the error |\n|---|---:|---:|---:|\n");
        Chart held = new Chart("The checkpoint L chose already held the error (" + g.workload() + ", K = " + kMax + ")", "",
                "share of detected injections (%)").roundTicks().note("bars: share; whiskers: 95 % interval (Wilson)");
        List<String> cats = new ArrayList<>();
        int c = 0;
        for (long l : ls) {
            List<Injection> run = g.runs().get(kMax + "/" + l);
            int det = 0, newest = 0, chosen = 0;
            for (Injection i : run) {
                if (!i.detected()) continue;
                det++;
                if (i.flag("newestHeldError")) newest++;
                if (i.flag("targetHeldError")) chosen++;
            }
            b.append("| ").append(ms(l)).append(" | ").append(det).append(" | ").append(share(newest, det)).append(" | ")
                    .append(share(chosen, det)).append(" |\n");
            double[] ci = CampaignSummary.wilson(newest, det), cc = CampaignSummary.wilson(chosen, det);
            held.bar("newest", c, det == 0 ? 0 : 100.0 * newest / det, ci[0], ci[1]);
            held.bar("chosen by L", c, det == 0 ? 0 : 100.0 * chosen / det, cc[0], cc[1]);
            cats.add("L = " + ms(l));
            c++;
        }
        String file = "corruption-" + g.workload() + ".png";
        Chart.write(img.resolve(file), coverage.lines(), held.bars(cats));
        b.append("\n![coverage against K and L, and the share of checkpoints that held the error](").append(rel).append('/')
                .append(file).append(")\n");
    }

    // --- (b) error latency ---------------------------------------------------------------------------

    /** The outcome shares per workload, with their 95 % Wilson intervals: a table and a bar chart. */
    private static void outcomes(StringBuilder b, List<Injection> once, Path img, String rel) throws IOException {
        Map<String, List<Injection>> byWorkload = new TreeMap<>();
        for (Injection i : once) byWorkload.computeIfAbsent(i.workload(), k -> new ArrayList<>()).add(i);
        List<io.mucheckpoint.recovery.Outcome> kinds = List.of(io.mucheckpoint.recovery.Outcome.values());
        b.append("\n## Outcomes per workload\n\n");
        b.append("The same campaigns as the error latency below (one run each). Share of the injections, with its 95 % "
                + "Wilson interval.\n\n| workload | injections |");
        for (io.mucheckpoint.recovery.Outcome o : kinds) b.append(' ').append(o.label()).append(" |");
        b.append("\n|---|---:|");
        for (int k = 0; k < kinds.size(); k++) b.append("---:|");
        b.append('\n');
        Chart chart = new Chart("Outcomes per workload", "", "share of injections (%)").roundTicks()
                .note("bars: share of each outcome; whiskers: its 95 % confidence interval (Wilson)");
        List<String> cats = new ArrayList<>();
        int g = 0;
        for (Map.Entry<String, List<Injection>> e : byWorkload.entrySet()) {
            int n = e.getValue().size();
            cats.add(e.getKey() + " (n=" + n + ")");
            b.append("| ").append(e.getKey()).append(" | ").append(n).append(" |");
            for (io.mucheckpoint.recovery.Outcome o : kinds) {
                int c = (int) e.getValue().stream().filter(i -> o.name().equals(i.outcome())).count();
                double[] ci = CampaignSummary.wilson(c, n);
                chart.bar(o.label(), g, 100.0 * c / n, ci[0], ci[1]);
                b.append(' ').append(share(c, n)).append(" |");
            }
            b.append('\n');
            g++;
        }
        Chart.write(img.resolve("outcomes-per-workload.png"), chart.bars(cats));
        b.append("\n![outcome shares per workload](").append(rel).append("/outcomes-per-workload.png)\n");
    }

    private static void latency(StringBuilder b, List<Injection> once, List<Campaign> files, Path img, String rel) throws IOException {
        b.append("\n## Error latency: injection to first detection\n\n");
        b.append("From ").append(files.size()).append(" campaigns, ").append(once.size()).append(" injections (one run each: "
                + "the first detection comes before any rollback, so K and L do not change it). Commands:\n\n");
        for (Campaign c : files) b.append("- `").append(c.command()).append("`\n");
        b.append("\nGuest time and instructions from the injection to the first detection, per workload and fault target, "
                + "over the detected injections (reg: general registers, EIP, EFLAGS, segment bases; mem: raw upsets of RAM"
                + " bytes; x87: the FPU's registers; cr: CR0, CR3, CR4).\n\n");
        b.append("| workload | target | injected | detected | median | 90th pct | max | median instructions |\n");
        b.append("|---|---|---:|---:|---:|---:|---:|---:|\n");
        Map<String, List<Injection>> byKey = new TreeMap<>();
        for (Injection i : once) byKey.computeIfAbsent(i.workload() + "\u0000" + i.targetGroup(), k -> new ArrayList<>()).add(i);
        for (Map.Entry<String, List<Injection>> e : byKey.entrySet()) {
            String[] k = e.getKey().split("\u0000");
            List<Injection> det = e.getValue().stream().filter(Injection::detected).toList();
            long[] ns = det.stream().mapToLong(Injection::latencyNanosToDetection).sorted().toArray();
            long[] ins = det.stream().mapToLong(Injection::latencyInstructions).sorted().toArray();
            b.append("| ").append(k[0]).append(" | ").append(k[1]).append(" | ").append(e.getValue().size()).append(" | ")
                    .append(det.size()).append(" | ").append(ns.length == 0 ? "–" : time(quantile(ns, 0.5))).append(" | ")
                    .append(ns.length == 0 ? "–" : time(quantile(ns, 0.9))).append(" | ")
                    .append(ns.length == 0 ? "–" : time(ns[ns.length - 1])).append(" | ")
                    .append(ins.length == 0 ? "–" : String.format(Locale.ROOT, "%,d", quantile(ins, 0.5))).append(" |\n");
        }
        Chart byTarget = cdf("Error latency by fault target (all workloads)", once, Injection::targetGroup);
        Chart byWorkload = cdf("Error latency by workload (all targets)", once, Injection::workload);
        Chart.write(img.resolve("latency-cdf.png"), byTarget.lines(), byWorkload.lines());
        b.append("\n![error latency CDFs](").append(rel).append("/latency-cdf.png)\n");
    }

    private static Chart cdf(String title, List<Injection> all, java.util.function.Function<Injection, String> key) {
        // x as log10 of the value: the chart then puts evenly spaced ticks on it, not one per data point
        Chart c = new Chart(title, "log10 of the guest time from injection to first detection in ns (3 = 1 us, 6 = 1 ms, 9 = 1 s)",
                "share of detections at or below (%)").noMarkers().roundTicks();
        Map<String, List<Long>> groups = new TreeMap<>();
        for (Injection i : all) if (i.detected()) groups.computeIfAbsent(key.apply(i), k -> new ArrayList<>()).add(i.latencyNanosToDetection());
        for (Map.Entry<String, List<Long>> e : groups.entrySet()) {
            long[] v = e.getValue().stream().mapToLong(Long::longValue).sorted().toArray();
            String name = e.getKey() + " (" + v.length + ")";
            for (int i = 0; i < v.length; i++) {
                c.point(name, Math.log10(v[i]), 100.0 * i / v.length);
                c.point(name, Math.log10(v[i]), 100.0 * (i + 1) / v.length);
            }
        }
        return c;
    }

    // --- (c) recovery cost ---------------------------------------------------------------------------

    private static void cost(StringBuilder b, List<Injection> once, Path img, String rel) throws IOException {
        List<Injection> det = once.stream().filter(Injection::detected).toList();
        b.append("\n## Recovery cost\n\n");
        b.append("Over the ").append(det.size()).append(" detected injections of the campaigns above: rollbacks (first ones "
                + "and escalations), escalations, and the instructions the rollbacks undid (to be run again).\n\n");
        b.append("| target | detected | recovered | rollbacks: 1 | 2 | 3 | 4–7 | ≥ 8 | escalations, mean | re-executed: median | 90th pct | max |\n");
        b.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        Map<String, List<Injection>> groups = new TreeMap<>();
        for (Injection i : det) groups.computeIfAbsent(i.targetGroup(), k -> new ArrayList<>()).add(i);
        groups.put("all", det);
        Chart chart = new Chart("Re-executed instructions per detected injection",
                "log10 of the instructions the rollbacks undid (6 = a million)", "share of detected injections at or below (%)")
                .noMarkers().roundTicks();
        for (Map.Entry<String, List<Injection>> e : groups.entrySet()) {
            List<Injection> l = e.getValue();
            int[] hist = new int[5];
            long esc = 0, rec = 0;
            for (Injection i : l) {
                long r = i.num("rollbacks");
                hist[r <= 1 ? 0 : r == 2 ? 1 : r == 3 ? 2 : r < 8 ? 3 : 4]++;
                esc += i.num("escalations");
                if (i.outcome().equals("DETECTED_RECOVERED")) rec++;
            }
            long[] re = l.stream().mapToLong(i -> Math.max(1, i.num("reexecuted"))).sorted().toArray();
            b.append("| ").append(e.getKey()).append(" | ").append(l.size()).append(" | ").append(rec).append(" |");
            for (int h : hist) b.append(' ').append(h).append(" |");
            b.append(String.format(Locale.ROOT, " %.2f | %,d | %,d | %,d |%n", (double) esc / l.size(), quantile(re, 0.5),
                    quantile(re, 0.9), re[re.length - 1]));
            String name = e.getKey() + " (" + re.length + ")";
            for (int i = 0; i < re.length; i++) {
                chart.point(name, Math.log10(re[i]), 100.0 * i / re.length);
                chart.point(name, Math.log10(re[i]), 100.0 * (i + 1) / re.length);
            }
        }
        b.append("\nRollbacks of 1 include detections that were not recovered at all (0 rollbacks: no checkpoint old enough).\n");
        Chart.write(img.resolve("recovery-cost.png"), chart.lines());
        b.append("\n![re-executed instructions](").append(rel).append("/recovery-cost.png)\n");
    }

    // --- helpers -------------------------------------------------------------------------------------

    static long quantile(long[] sorted, double q) {
        if (sorted.length == 0) return 0;
        int i = (int) Math.ceil(q * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
    }

    static String share(int k, int n) {
        if (n == 0) return "– (0 detected)";
        double[] ci = CampaignSummary.wilson(k, n);
        return String.format(Locale.ROOT, "%d/%d (%.0f %%, %.0f–%.0f)", k, n, 100.0 * k / n, ci[0], ci[1]);
    }

    static String ms(long ns) {
        if (ns == 0) return "0";
        if (ns >= 1_000_000_000L && ns % 1_000_000_000L == 0) return ns / 1_000_000_000L + " s";
        return ns % 1_000_000L == 0 ? ns / 1_000_000L + " ms" : String.format(Locale.ROOT, "%s ms", Chart.num(ns / 1e6));
    }

    static String time(long ns) {
        if (ns < 1_000) return ns + " ns";
        if (ns < 1_000_000) return String.format(Locale.ROOT, "%.1f µs", ns / 1e3);
        if (ns < 1_000_000_000) return String.format(Locale.ROOT, "%.2f ms", ns / 1e6);
        return String.format(Locale.ROOT, "%.2f s", ns / 1e9);
    }

}
