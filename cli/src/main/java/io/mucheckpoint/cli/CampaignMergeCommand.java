package io.mucheckpoint.cli;

import io.mucheckpoint.recovery.report.CampaignJournal;
import io.mucheckpoint.recovery.report.ResultJson;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "merge", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Merge the journals of the shards of one campaign (vmm inject --shard K/N --journal FILE) into the",
                "tables, --json and --plot that the campaign run at once gives."},
        footer = {"", "The journals must be the N shards of one campaign, each once and complete (an interrupted one is",
                "finished with vmm inject ... --resume FILE first); otherwise one line says what is missing, exit 64.",
                "", ExitStatus.HELP})
final class CampaignMergeCommand implements Callable<Integer> {
    @Option(names = "--json", paramLabel = "FILE", description = "Write every result and the summary as JSON, as vmm inject --json does.")
    Path json;

    @Option(names = "--plot", paramLabel = "FILE.png", description = "Draw the outcome shares and the error latency, as vmm inject --plot does.")
    Path plot;

    @Parameters(paramLabel = "JOURNAL", arity = "1..*", description = "The shards' journals, in any order.")
    List<Path> journals;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        OutputFiles.check("--json", json);
        OutputFiles.check("--plot", plot);
        List<CampaignJournal.Contents> all = new ArrayList<>();
        for (Path p : journals) all.add(Journals.read(p));
        CampaignJournal.Contents first = all.get(0);
        Map<String, Object> header = first.header();
        List<String> keys = new ArrayList<>(header.keySet());
        keys.remove("shard");
        Map<Integer, CampaignJournal.Contents> byShard = new TreeMap<>();
        int n = Journals.shard(header).n();
        for (CampaignJournal.Contents c : all) {
            List<String> theirKeys = new ArrayList<>(keys);
            for (String k : c.header().keySet()) if (!theirKeys.contains(k) && !k.equals("shard")) theirKeys.add(k);
            String d = Journals.difference(c.header(), c.file().toString(), header, first.file().toString(), theirKeys);
            if (d != null) throw usage(c.file() + " is not of the campaign of " + first.file() + ": " + d);
            Shard s = Journals.shard(c.header());
            if (s.n() != n) throw usage(c.file() + " is shard " + s + ", " + first.file() + " one of " + n + " shards");
            CampaignJournal.Contents twin = byShard.put(s.k(), c);
            if (twin != null) throw usage("shard " + s + " is given twice: " + twin.file() + " and " + c.file());
        }
        for (int k = 1; k <= n; k++) {
            if (!byShard.containsKey(k)) throw usage("shard " + k + "/" + n + " is missing (given: " + shardsGiven(byShard, n) + ")");
        }
        int faults = (int) CampaignReport.num(header, "faults");
        List<ResultJson.Cell> grid = CampaignReport.cells(header);
        Map<ResultJson.Cell, Map<Integer, ResultJson.Entry>> cells = new LinkedHashMap<>();
        for (ResultJson.Cell cell : grid) cells.put(cell, new TreeMap<>());
        for (CampaignJournal.Contents c : byShard.values()) {
            Shard s = Journals.shard(c.header());
            for (ResultJson.Entry e : c.entries()) {
                String what = "injection " + e.index() + " at " + CampaignReport.label(header, e.cell());
                Map<Integer, ResultJson.Entry> cell = cells.get(e.cell());
                if (cell == null || e.index() < 0 || e.index() >= faults || !s.contains(e.index())) {
                    throw new VmmException(ExitStatus.BAD_IMAGE, c.file() + ": " + what + " is not of shard " + s + " of this campaign");
                }
                if (cell.put(e.index(), e) != null) throw usage(c.file() + ": " + what + " is there twice");
            }
        }
        for (CampaignJournal.Contents c : byShard.values()) {
            Shard s = Journals.shard(c.header());
            int missing = 0;
            String firstMissing = null;
            for (ResultJson.Cell cell : grid) {
                for (int i : s.indices(faults)) {
                    if (cells.get(cell).containsKey(i)) continue;
                    missing++;
                    if (firstMissing == null) firstMissing = i + " at " + CampaignReport.label(header, cell);
                }
            }
            if (missing > 0) {
                throw usage(c.file() + " (shard " + s + ") lacks " + missing + " injection" + (missing == 1 ? "" : "s") + " (the first: "
                        + firstMissing + "): finish it with vmm inject ... --resume " + c.file());
            }
        }
        CampaignReport report = new CampaignReport(header);
        for (ResultJson.Cell cell : grid) report.cell(System.out, cell, new ArrayList<>(cells.get(cell).values()), false);
        report.write(json, plot, "vmm " + String.join(" ", spec.commandLine().getParseResult().originalArgs()), false, System.err);
        return ExitStatus.OK;
    }

    private static String shardsGiven(Map<Integer, CampaignJournal.Contents> byShard, int n) {
        List<String> s = new ArrayList<>();
        for (int k : byShard.keySet()) s.add(k + "/" + n);
        return String.join(", ", s);
    }

    private static VmmException usage(String message) {
        return new VmmException(ExitStatus.USAGE, message);
    }
}
