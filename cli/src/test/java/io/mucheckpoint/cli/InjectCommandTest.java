package io.mucheckpoint.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code vmm inject} end to end: a small campaign, its table, its JSON, and one injection replayed. */
class InjectCommandTest {
    @TempDir
    Path tmp;

    @Test
    void smallCampaignPrintsTheTableAndWritesJson() throws Exception {
        Path json = tmp.resolve("c.json");
        CliRun r = CliRun.of("inject", "compress", "--append", "size=test", "--faults", "6", "--seed", "3",
                "--sweep-latency", "0,10ms", "--workers", "1", "--json", json.toString(), "--journal", tmp.resolve("c.jsonl").toString());
        assertEquals(0, r.status, r.toString());
        assertTrue(r.out.contains("latency bound L = 0") && r.out.contains("latency bound L = 10ms"), r.out);
        assertTrue(r.out.contains("silent data corruption") && r.out.matches("(?s).*\ntotal +6\n.*"), r.out);
        assertFalse(r.err.contains("Exception"), r.err);
        String j = Files.readString(json);
        assertTrue(j.startsWith("{\"command\":\"vmm inject compress --append size=test --faults 6"), j);
        // Every latency bound classifies all six injections.
        Matcher m = Pattern.compile("\"injections\":(\\d+)").matcher(j);
        int runs = 0;
        while (m.find()) {
            assertEquals("6", m.group(1));
            runs++;
        }
        assertEquals(2, runs, j);
    }

    @Test
    void replayRunsOneInjectionWithItsLog() {
        CliRun r = CliRun.of("inject", "compress", "--append", "size=test", "--seed", "3", "--replay", "2");
        assertEquals(0, r.status, r.toString());
        assertTrue(r.err.contains("vmm: activation: ") && r.err.contains("vmm: outcome: "), r.err);
    }

    @Test
    void replayWritesTheConsoleAsTheUserSawItToStandardOutputAndTheLogToStandardError() {
        // quantum size=test, seed 1, L = 0: injection 18 flips ESI early, the guest prints a wrong
        // state_hash and then fails its self-check; recovery escalates back past the flip and the
        // rerun prints the right line. The user saw both.
        CliRun r = CliRun.of("inject", "quantum", "--append", "size=test", "--faults", "20", "--seed", "1", "--interval", "10ms",
                "--latency", "0", "--replay", "18");
        assertEquals(0, r.status, r.toString());
        String golden = io.mucheckpoint.vmm.Workloads.expected("quantum", "test");
        assertTrue(r.err.contains("vmm: outcome: detected, recovered, wrong output escaped\n"), r.err);
        assertTrue(r.err.contains("detected: self-check"), r.err);
        assertFalse(r.out.contains("vmm:") || r.out.contains("instructions,"), "the event log stays off standard output:\n" + r.out);
        assertTrue(!r.out.equals(golden) && r.out.length() > golden.length(), r.out);
        // Every byte of the golden run reached the user in the end, after the wrong ones.
        String lastLine = golden.substring(golden.lastIndexOf('\n', golden.length() - 2) + 1);
        assertTrue(r.out.endsWith(lastLine), r.out);
    }

    @Test
    void theProgressEstimateCoversTheWholeSweep() {
        CliRun r = CliRun.of("inject", "mcf", "--append", "size=test", "--faults", "5", "--seed", "2", "--sweep-latency", "0,10ms",
                "--workers", "1", "--journal", tmp.resolve("p.jsonl").toString());
        assertEquals(0, r.status, r.toString());
        // Off a terminal a line per tenth of the sweep: the count runs over both bounds.
        assertTrue(r.err.contains("L=0 (1/2): 1/10 injections of the sweep (10%)"), r.err);
        assertTrue(r.err.contains("L=10ms (2/2): 6/10 injections of the sweep (60%)"), r.err);
    }

    @Test
    void theWatchdogIsOnByDefaultSizedFromTheGoldenRun() {
        CliRun r = CliRun.of("inject", "mcf", "--append", "size=test", "--faults", "1", "--workers", "1", "--journal",
                tmp.resolve("on.jsonl").toString());
        assertEquals(0, r.status, r.toString());
        assertTrue(r.err.matches("(?s).*; watchdog [0-9.]+ ms \\(4x its longest silence, [0-9.]+ ms\\)\n.*"), r.err);
        CliRun off = CliRun.of("inject", "mcf", "--append", "size=test", "--faults", "1", "--workers", "1", "--watchdog", "0",
                "--journal", tmp.resolve("off.jsonl").toString());
        assertTrue(off.err.contains("; watchdog off\n"), off.err);
    }

    @Test
    void badValuesAreUsageErrors() {
        assertEquals(ExitStatus.USAGE, CliRun.of("inject", "--faults", "0").status);
        assertEquals(ExitStatus.USAGE, CliRun.of("inject", "--no-checkpoint").status);
        assertEquals(ExitStatus.USAGE, CliRun.of("inject", "--sweep-latency", "soon").status);
        CliRun prune = CliRun.of("inject", "--prune", "all");
        assertEquals(ExitStatus.USAGE, prune.status);
        assertTrue(prune.err.contains("--prune takes def-use or none, not 'all'"), prune.err);
    }

    @Test
    void defUsePruningGivesTheSameResultsAndSaysHowManyItDecided() throws Exception {
        String[] campaign = {"inject", "quantum", "--append", "size=test", "--faults", "16", "--seed", "2", "--target", "mem,x87,cr",
                "--interval", "10ms", "--workers", "1"};
        java.util.List<String> plain = new java.util.ArrayList<>(java.util.List.of(campaign)), pruned = new java.util.ArrayList<>(plain);
        plain.addAll(java.util.List.of("--json", tmp.resolve("plain.json").toString(), "--journal", tmp.resolve("plain.jsonl").toString()));
        pruned.addAll(java.util.List.of("--prune", "def-use", "--json", tmp.resolve("pruned.json").toString(), "--journal",
                tmp.resolve("pruned.jsonl").toString()));
        CliRun a = CliRun.of(plain.toArray(String[]::new)), b = CliRun.of(pruned.toArray(String[]::new));
        assertEquals(0, a.status, a.toString());
        assertEquals(0, b.status, b.toString());
        assertEquals(a.out, b.out, "the same table");
        Matcher m = Pattern.compile(", (\\d+) decided by def-use without running;").matcher(b.err);
        assertTrue(m.find() && Integer.parseInt(m.group(1)) > 0, b.err);
        // the same JSON but for the command line it records
        String ja = Files.readString(tmp.resolve("plain.json")), jb = Files.readString(tmp.resolve("pruned.json"));
        assertEquals(ja.substring(ja.indexOf("\",\"workload\"")), jb.substring(jb.indexOf("\",\"workload\"")));
    }
}
