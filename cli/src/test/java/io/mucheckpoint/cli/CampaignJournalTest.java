package io.mucheckpoint.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 18: the journal of vmm inject, --resume, --shard and vmm campaign merge. The oracle of each
 * test is the campaign run at once, uninterrupted and unsharded, by the same command line.
 */
class CampaignJournalTest {
    /** quantum at size=test, a grid of two latency bounds: 16 injections, each well under a second. */
    private static final String[] CAMPAIGN = {"inject", "quantum", "--append", "size=test", "--faults", "8", "--seed", "1",
            "--interval", "10ms", "--sweep-latency", "0,10ms", "--workers", "2"};
    private static final int RESULTS = 16;

    @TempDir
    static Path dir;

    /** The uninterrupted, unsharded run: its --json, its tables (standard output) and its journal. */
    private static String fullJson;
    private static String fullTables;
    private static List<String> fullJournal;

    @BeforeAll
    static void runTheWholeCampaign() throws Exception {
        Path json = dir.resolve("full.json"), journal = dir.resolve("full.jsonl");
        CliRun r = CliRun.of(args("--json", json.toString(), "--journal", journal.toString()));
        assertEquals(0, r.status, r.toString());
        assertTrue(r.err.contains("vmm: journal: " + journal + "\n"), r.err);
        fullJson = Files.readString(json);
        fullTables = r.out;
        fullJournal = Files.readAllLines(journal);
        assertEquals(1 + RESULTS, fullJournal.size(), "a header, then a line per injection of each cell");
        assertTrue(fullJournal.get(0).startsWith("{\"journal\":1,"), fullJournal.get(0));
        assertEquals(RESULTS, distinctResults(fullJournal), "every (cell, index) once");
    }

    /**
     * --journal naming something that is not a regular file (here a link to /dev/null, so that a
     * regression deletes the link, never the device): it is written as it is, not deleted and
     * created afresh, which replaced a root user's /dev/null by a file.
     */
    @Test
    void aJournalThatIsADeviceIsWrittenNotReplaced() throws Exception {
        Path link = dir.resolve("to-dev-null.jsonl");
        Files.createSymbolicLink(link, Path.of("/dev/null"));
        CliRun r = CliRun.of(new String[] {"inject", "quantum", "--append", "size=test", "--faults", "2", "--seed", "1",
                "--journal", link.toString()});
        assertEquals(0, r.status, r.toString());
        assertTrue(Files.isSymbolicLink(link), "the link is still there");
        assertEquals(Path.of("/dev/null"), Files.readSymbolicLink(link));
        assertFalse(Files.isRegularFile(link), "it still leads to the device");
    }

    @Test
    void fourShardsMergeIntoTheJsonAndTablesOfTheUnshardedRun() throws Exception {
        List<String> journals = new ArrayList<>();
        for (int k = 1; k <= 4; k++) {
            Path j = dir.resolve("shard-" + k + ".jsonl");
            CliRun r = CliRun.of(args("--shard", k + "/4", "--journal", j.toString()));
            assertEquals(0, r.status, r.toString());
            List<String> lines = Files.readAllLines(j);
            for (String line : lines.subList(1, lines.size())) {
                int index = Integer.parseInt(field(line, "index"));
                assertEquals(k - 1, index % 4, "shard " + k + "/4 ran only its indices: " + line);
            }
            assertEquals(RESULTS / 4, lines.size() - 1, "a quarter of the injections of both cells");
            journals.add(j.toString());
        }
        java.util.Collections.reverse(journals); // the order they are given in does not matter
        Path merged = dir.resolve("merged.json");
        List<String> merge = new ArrayList<>(List.of("campaign", "merge", "--json", merged.toString()));
        merge.addAll(journals);
        CliRun m = CliRun.of(merge.toArray(String[]::new));
        assertEquals(0, m.status, m.toString());
        assertEquals(withoutCommand(fullJson), withoutCommand(Files.readString(merged)));
        assertEquals(fullTables, m.out, "the same tables as the unsharded run");
    }

    @Test
    void aResumedJournalGivesTheWholeRunsJsonAndRunsOnlyWhatItLacked() throws Exception {
        int k = 5;
        Path journal = dir.resolve("cut.jsonl");
        Files.write(journal, fullJournal.subList(0, 1 + k));
        resumeAndCompare(journal, k);
    }

    @Test
    void aTornLastLineAsAKilledProcessLeavesItIsDroppedAndRunAgain() throws Exception {
        int k = 9; // into the second cell of the grid
        Path journal = dir.resolve("torn.jsonl");
        String torn = fullJournal.get(1 + k);
        Files.writeString(journal, String.join("\n", fullJournal.subList(0, 1 + k)) + "\n" + torn.substring(0, torn.length() / 2));
        resumeAndCompare(journal, k);
    }

    private static void resumeAndCompare(Path journal, int k) throws Exception {
        List<String> kept = Files.readAllLines(journal, StandardCharsets.UTF_8).subList(0, 1 + k);
        Path json = dir.resolve(journal.getFileName() + ".json");
        CliRun r = CliRun.of(args("--resume", journal.toString(), "--json", json.toString()));
        assertEquals(0, r.status, r.toString());
        assertEquals(withoutCommand(fullJson), withoutCommand(Files.readString(json)));
        assertEquals(fullTables, r.out);
        assertEquals(RESULTS - k, injectionsRun(r.err), "only the injections the journal lacked were run:\n" + r.err);
        List<String> after = Files.readAllLines(journal);
        assertEquals(kept, after.subList(0, 1 + k), "the journal's lines stay, new ones are appended");
        assertEquals(1 + RESULTS, after.size(), "no torn line, no result twice");
        assertEquals(RESULTS, distinctResults(after));
    }

    @Test
    void aJournalOfAnotherCampaignIsNotResumed() throws Exception {
        Path journal = dir.resolve("other.jsonl");
        Files.write(journal, fullJournal.subList(0, 3));
        List<String> a = new ArrayList<>(List.of(args("--resume", journal.toString())));
        a.set(a.indexOf("--seed") + 1, "2");
        CliRun r = CliRun.of(a.toArray(String[]::new));
        assertEquals(ExitStatus.USAGE, r.status, r.toString());
        assertEquals("vmm: --resume " + journal + ": not this campaign: the journal has seed 1, this command 2\n", r.err);
        CliRun sharded = CliRun.of(args("--resume", journal.toString(), "--shard", "1/2"));
        assertEquals(ExitStatus.USAGE, sharded.status, sharded.toString());
        assertTrue(sharded.err.matches("vmm: [^\n]*shard \"1/1\", this command \"1/2\"\n"), sharded.err);
        assertEquals(3, Files.readAllLines(journal).size(), "the journal is left as it was");
        CliRun missing = CliRun.of(args("--resume", dir.resolve("none.jsonl").toString()));
        assertEquals(ExitStatus.NO_INPUT, missing.status, missing.toString());
        Files.writeString(dir.resolve("garbage.jsonl"), "{\"journal\":1}\nnot json\n");
        CliRun garbage = CliRun.of(args("--resume", dir.resolve("garbage.jsonl").toString()));
        assertEquals(ExitStatus.BAD_IMAGE, garbage.status, garbage.toString());
        assertTrue(garbage.err.matches("vmm: [^\n]*garbage.jsonl line 2: [^\n]*\n"), garbage.err);
    }

    @Test
    void anExistingJournalIsNotOverwritten() throws Exception {
        Path journal = dir.resolve("taken.jsonl");
        Files.write(journal, fullJournal.subList(0, 2));
        CliRun r = CliRun.of(args("--journal", journal.toString()));
        assertEquals(ExitStatus.CANT_CREATE, r.status, r.toString());
        assertTrue(r.err.matches("vmm: [^\n]*--resume " + Pattern.quote(journal.toString()) + "[^\n]*\n"), r.err);
        assertEquals(fullJournal.subList(0, 2), Files.readAllLines(journal));
    }

    @Test
    void badShardsAreOneLineUsageErrors() {
        for (String bad : new String[] {"0/4", "5/4", "1/0", "2/x", "3", "-1/4", "1/2/3", ""}) {
            CliRun r = CliRun.of("inject", "quantum", "--faults", "8", "--shard", bad);
            assertEquals(ExitStatus.USAGE, r.status, bad + ": " + r);
            assertTrue(r.err.matches("vmm: --shard [^\n]*\n"), bad + ": " + r.err);
        }
    }

    @Test
    void mergeRefusesAMissingADuplicatedOrAnIncompleteShard() throws Exception {
        Path[] shard = new Path[3];
        for (int k = 1; k <= 2; k++) {
            shard[k] = dir.resolve("half-" + k + ".jsonl");
            assertEquals(0, CliRun.of(args("--shard", k + "/2", "--journal", shard[k].toString())).status);
        }
        CliRun missing = CliRun.of("campaign", "merge", shard[1].toString());
        assertEquals(ExitStatus.USAGE, missing.status, missing.toString());
        assertEquals("vmm: shard 2/2 is missing (given: 1/2)\n", missing.err);
        CliRun twice = CliRun.of("campaign", "merge", shard[1].toString(), shard[2].toString(), shard[1].toString());
        assertEquals(ExitStatus.USAGE, twice.status, twice.toString());
        assertEquals("vmm: shard 1/2 is given twice: " + shard[1] + " and " + shard[1] + "\n", twice.err);
        // a shard killed before it finished: the merge names what it lacks, and how to finish it
        Path cut = dir.resolve("half-2-cut.jsonl");
        List<String> lines = Files.readAllLines(shard[2]);
        Files.write(cut, lines.subList(0, lines.size() - 2));
        CliRun incomplete = CliRun.of("campaign", "merge", shard[1].toString(), cut.toString());
        assertEquals(ExitStatus.USAGE, incomplete.status, incomplete.toString());
        assertTrue(incomplete.err.matches("vmm: " + Pattern.quote(cut.toString()) + " \\(shard 2/2\\) lacks 2 injections \\(the first: "
                + "\\d+ at L=[^)]+\\): finish it with vmm inject \\.\\.\\. --resume " + Pattern.quote(cut.toString()) + "\n"), incomplete.err);
        // a shard of another campaign
        CliRun other = CliRun.of("campaign", "merge", shard[1].toString(), dir.resolve("full.jsonl").toString());
        assertEquals(ExitStatus.USAGE, other.status, other.toString());
        assertTrue(other.err.matches("vmm: [^\n]*full.jsonl is shard 1/1[^\n]*\n"), other.err);
        CliRun notJournal = CliRun.of("campaign", "merge", dir.resolve("full.json").toString());
        assertEquals(ExitStatus.BAD_IMAGE, notJournal.status, notJournal.toString());
        assertFalse(notJournal.err.contains("Exception"), notJournal.err);
        assertEquals(ExitStatus.NO_INPUT, CliRun.of("campaign", "merge", dir.resolve("none.jsonl").toString()).status);
        assertEquals(ExitStatus.USAGE, CliRun.of("campaign", "merge").status);
    }

    private static String[] args(String... more) {
        List<String> a = new ArrayList<>(List.of(CAMPAIGN));
        a.addAll(List.of(more));
        return a.toArray(String[]::new);
    }

    /** The JSON without its "command" field (which names --shard, --journal and the like), the one field allowed to differ. */
    private static String withoutCommand(String json) {
        String out = json.replaceFirst("^\\{\"command\":\"(?:[^\"\\\\]|\\\\.)*\",", "{");
        assertFalse(out.equals(json), "a command field first: " + json);
        return out;
    }

    private static String field(String line, String key) {
        Matcher m = Pattern.compile("\"" + key + "\":(-?\\d+)").matcher(line);
        assertTrue(m.find(), key + " in " + line);
        return m.group(1);
    }

    private static int distinctResults(List<String> journal) {
        Set<String> seen = new HashSet<>();
        for (String line : journal.subList(1, journal.size())) {
            seen.add(field(line, "keep") + "/" + field(line, "latencyNanos") + "/" + field(line, "index"));
        }
        return seen.size();
    }

    /** The injections a run says it ran: the sum of the closing progress line of every cell. */
    private static int injectionsRun(String err) {
        Matcher m = Pattern.compile(": (\\d+) injections in [0-9.]+ s\n").matcher(err);
        int n = 0;
        while (m.find()) n += Integer.parseInt(m.group(1));
        return n;
    }
}
