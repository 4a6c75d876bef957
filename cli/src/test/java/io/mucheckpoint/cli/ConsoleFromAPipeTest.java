package io.mucheckpoint.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code vmm console} with its commands from a pipe (a new process): a transcript, each command echoed after the prompt. */
class ConsoleFromAPipeTest {
    @TempDir
    Path tmp;

    @Test
    void readsCommandsFromStandardInputAndEchoesThemAndFailsWhenACommandFailed() throws Exception {
        Path script = tmp.resolve("script.txt");
        Files.writeString(script, "until 3M\nwait\nstatus\nbogus\nquit\n");
        ProcessBuilder pb = new ProcessBuilder(System.getProperty("java.home") + File.separator + "bin" + File.separator + "java",
                "-cp", System.getProperty("java.class.path"), "io.mucheckpoint.cli.Main", "console", "mcf", "--append", "size=test",
                "--history", tmp.resolve("history").toString());
        pb.redirectInput(script.toFile());
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        // A script with a failed command does not end as if all went well: the first failure's status, and why.
        assertEquals(ExitStatus.USAGE, p.waitFor(), err);
        // The guest's first line arrives while the console goes on reading commands: take it out, then compare.
        String guestLine = "mcf: size=test networks=1 nodes=262 seed=15375\n";
        out = out.replace("\r", "");
        assertEquals(1, out.split(guestLine, -1).length - 1, out);
        out = out.replace(guestLine, "");
        assertEquals("""
                mcf.elf: paused at 0x0010000c (instruction 0, guest time 0.000 ms); 'run' starts it, 'help' lists the commands
                (vmm) until 3M
                running until instruction 3000000
                (vmm) wait
                reached instruction 3000000 at %1$s (instruction 3000000, guest time 30.000 ms)
                (vmm) status
                paused at %1$s (instruction 3000000, guest time 30.000 ms)
                (vmm) bogus
                error: unknown command 'bogus' (help lists the commands)
                (vmm) quit
                """.formatted(out.replaceAll("(?s).*reached instruction 3000000 at (0x[0-9a-f]{8}).*", "$1")), out);
        assertEquals("vmm: a command failed; the first, line 4 'bogus': unknown command 'bogus' (help lists the commands)\n", err);
    }

    @Test
    void aScriptWhoseCommandsAllWorkExitsZero() throws Exception {
        Path script = tmp.resolve("good.txt");
        Files.writeString(script, "step 1000\nstatus\nquit\n");
        ProcessBuilder pb = new ProcessBuilder(System.getProperty("java.home") + File.separator + "bin" + File.separator + "java",
                "-cp", System.getProperty("java.class.path"), "io.mucheckpoint.cli.Main", "console", "mcf", "--append", "size=test",
                "--history", tmp.resolve("history").toString());
        pb.redirectInput(script.toFile());
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), out + err);
        assertEquals("", err);
    }
}
