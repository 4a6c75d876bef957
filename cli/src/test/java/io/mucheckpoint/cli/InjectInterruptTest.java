package io.mucheckpoint.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 22, item 2: Ctrl-C during vmm inject (a real SIGINT to a vmm process) keeps the work done;
 * issue 18: its journal holds exactly the injections finished, and --resume finishes the campaign.
 */
class InjectInterruptTest {
    @TempDir
    Path tmp;

    @Test
    void sigintStopsTheCampaignPrintsWhatIsDoneAndWritesTheJson() throws Exception {
        Path json = tmp.resolve("c.json"), out = tmp.resolve("out"), err = tmp.resolve("err"), journal = tmp.resolve("c.jsonl");
        String java = ProcessHandle.current().info().command().orElse("java");
        // env --default-signal=INT: a JVM started from a background job inherits SIGINT ignored and would not hear Ctrl-C
        ProcessBuilder pb = new ProcessBuilder("env", "--default-signal=INT", java, "-cp", System.getProperty("java.class.path"), Main.class.getName(), "inject", "mcf",
                "--append", "size=test", "--faults", "20", "--seed", "1", "--workers", "1", "--json", json.toString(), "--journal", journal.toString(),
                // each injection boots and runs to its end (the same results, slower), so that the
                // campaign is still running when the signal comes
                "--no-fast-forward", "--no-convergence");
        pb.redirectOutput(out.toFile()).redirectError(err.toFile()).redirectInput(ProcessBuilder.Redirect.PIPE);
        Process p = pb.start();
        try {
            // Off a terminal progress comes a line per tenth: wait for the first, then press Ctrl-C.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (!Files.readString(err).contains("injections of the sweep")) {
                assertTrue(p.isAlive(), "vmm ended before it was interrupted:\n" + Files.readString(err));
                assertTrue(System.nanoTime() < deadline, "no progress line:\n" + Files.readString(err));
                Thread.sleep(50);
            }
            assertEquals(0, new ProcessBuilder("kill", "-INT", Long.toString(p.pid())).start().waitFor());
            assertTrue(p.waitFor(120, TimeUnit.SECONDS), "vmm did not stop after SIGINT");
        } finally {
            p.destroyForcibly();
        }
        String stdout = Files.readString(out), stderr = Files.readString(err);
        assertEquals(ExitStatus.INTERRUPTED, p.exitValue(), stdout + stderr);
        Matcher done = Pattern.compile("vmm: interrupted: (\\d+) of 20 injections done at L = 200ms\n").matcher(stderr);
        assertTrue(done.find(), stderr);
        int n = Integer.parseInt(done.group(1));
        assertTrue(n >= 2 && n < 20, stderr);
        assertTrue(stdout.contains(", " + n + " injections (any, seed 1), interrupted:") && stdout.matches("(?s).*\ntotal +" + n + "\n.*"),
                stdout);
        String j = Files.readString(json);
        assertTrue(j.contains("\"injections\":" + n + ",") && j.trim().endsWith("],\"interrupted\":true}"), j);
        assertTrue(stderr.contains("vmm: wrote " + json), stderr);
        assertTrue(stderr.endsWith("vmm: resume with --resume " + journal + "\n"), stderr);
        // The journal holds exactly the injections the summary counts: those that finished, each once.
        List<String> lines = Files.readAllLines(journal);
        assertEquals(n, lines.size() - 1, String.join("\n", lines));
        Set<String> journaled = new TreeSet<>(), reported = new TreeSet<>();
        for (String line : lines.subList(1, lines.size())) journaled.add(index(line));
        Matcher results = Pattern.compile("\\{\"keep\":[^{}]*?\"index\":(\\d+),").matcher(j);
        while (results.find()) reported.add(results.group(1));
        assertEquals(reported, journaled);
        assertEquals(n, journaled.size());

        // --resume runs the others, and only those.
        CliRun resumed = CliRun.of("inject", "mcf", "--append", "size=test", "--faults", "20", "--seed", "1", "--workers", "1",
                "--resume", journal.toString());
        assertEquals(0, resumed.status, resumed.toString());
        assertTrue(resumed.err.contains("L=200ms: " + (20 - n) + " injections in "), resumed.err);
        assertTrue(resumed.out.matches("(?s).*\ntotal +20\n.*"), resumed.out);
        List<String> all = Files.readAllLines(journal);
        assertEquals(lines, all.subList(0, lines.size()));
        Set<String> indices = new TreeSet<>();
        for (String line : all.subList(1, all.size())) indices.add(index(line));
        assertEquals(20, all.size() - 1);
        assertEquals(20, indices.size(), "every injection once");
    }

    @Test
    void aKilledCampaignLosesOnlyTheInjectionsInFlight() throws Exception {
        Path journal = tmp.resolve("k.jsonl");
        String java = ProcessHandle.current().info().command().orElse("java");
        String[] campaign = {"inject", "mcf", "--append", "size=test", "--faults", "12", "--seed", "4", "--workers", "1"};
        List<String> cmd = new java.util.ArrayList<>(List.of(java, "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        cmd.addAll(List.of(campaign));
        cmd.addAll(List.of("--journal", journal.toString(), "--no-fast-forward", "--no-convergence")); // slower: still running when killed
        Process p = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(tmp.resolve("err").toFile()).start();
        int before;
        try {
            // Lines reach the file while the campaign runs (each flushed as its injection ends): wait for two, then kill -9.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (!Files.exists(journal) || Files.readAllLines(journal).size() < 3) {
                assertTrue(p.isAlive(), "vmm ended before it was killed:\n" + Files.readString(tmp.resolve("err")));
                assertTrue(System.nanoTime() < deadline, "no journal lines:\n" + Files.readString(tmp.resolve("err")));
                Thread.sleep(20);
            }
            p.destroyForcibly();
            assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        } finally {
            p.destroyForcibly();
        }
        String kept = Files.readString(journal);
        before = (int) kept.chars().filter(c -> c == '\n').count() - 1; // whole lines: a torn last one is run again
        assertTrue(before >= 2 && before < 12, kept);
        List<String> resume = new java.util.ArrayList<>(List.of(campaign));
        resume.addAll(List.of("--resume", journal.toString()));
        CliRun r = CliRun.of(resume.toArray(String[]::new));
        assertEquals(0, r.status, r.toString());
        assertTrue(r.err.contains("L=200ms: " + (12 - before) + " injections in "), "only the missing ones run:\n" + r.err);
        List<String> all = Files.readAllLines(journal);
        Set<String> indices = new TreeSet<>();
        for (String line : all.subList(1, all.size())) indices.add(index(line));
        assertEquals(12, all.size() - 1, String.join("\n", all));
        assertEquals(12, indices.size(), "every injection once");
    }

    private static String index(String journalLine) {
        Matcher m = Pattern.compile("\"index\":(\\d+),").matcher(journalLine);
        assertTrue(m.find(), journalLine);
        return m.group(1);
    }
}
