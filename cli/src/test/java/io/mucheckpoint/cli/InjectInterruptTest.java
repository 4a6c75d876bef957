package io.mucheckpoint.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Issue 22, item 2: Ctrl-C during vmm inject (a real SIGINT to a vmm process) keeps the work done. */
class InjectInterruptTest {
    @TempDir
    Path tmp;

    @Test
    void sigintStopsTheCampaignPrintsWhatIsDoneAndWritesTheJson() throws Exception {
        Path json = tmp.resolve("c.json"), out = tmp.resolve("out"), err = tmp.resolve("err");
        String java = ProcessHandle.current().info().command().orElse("java");
        ProcessBuilder pb = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), Main.class.getName(), "inject", "mcf",
                "--append", "size=test", "--faults", "60", "--seed", "1", "--workers", "1", "--json", json.toString());
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
        Matcher done = Pattern.compile("vmm: interrupted: (\\d+) of 60 injections done at L = 200ms\n").matcher(stderr);
        assertTrue(done.find(), stderr);
        int n = Integer.parseInt(done.group(1));
        assertTrue(n >= 6 && n < 60, stderr);
        assertTrue(stdout.contains(", " + n + " injections (any, seed 1), interrupted:") && stdout.matches("(?s).*\ntotal +" + n + "\n.*"),
                stdout);
        String j = Files.readString(json);
        assertTrue(j.contains("\"injections\":" + n + ",") && j.trim().endsWith("],\"interrupted\":true}"), j);
        assertTrue(stderr.contains("vmm: wrote " + json), stderr);
    }
}
