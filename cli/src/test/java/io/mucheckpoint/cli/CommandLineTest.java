package io.mucheckpoint.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The vmm command as a user meets it: help, errors for bad input, exit statuses. */
class CommandLineTest {
    @TempDir
    Path tmp;

    @Test
    void helpListsCommandsAndExitStatuses() {
        CliRun r = CliRun.of("--help");
        assertEquals(0, r.status);
        for (String s : new String[] {"run", "console", "inject", "workloads", "Exit status", "130"}) {
            assertTrue(r.out.contains(s), s + " missing from\n" + r.out);
        }
        CliRun run = CliRun.of("run", "--help");
        assertTrue(run.out.contains("--ram") && run.out.contains("default: 64M"), run.out);
    }

    @Test
    void everyHelpTextIsFormatted() {
        // A stray '%' in a description makes picocli print the text raw, "%n" and all.
        for (String cmd : new String[] {"run", "console", "inject", "workloads"}) {
            CliRun r = CliRun.of(cmd, "--help");
            assertEquals(0, r.status, cmd);
            assertFalse(r.out.contains("%n") || r.err.contains("picocli WARN"), cmd + ":\n" + r);
            assertTrue(cmd.equals("workloads") || r.out.contains("Exit status:"), cmd + ":\n" + r.out);
        }
    }

    @Test
    void versionNamesTheProject() {
        CliRun r = CliRun.of("--version");
        assertEquals(0, r.status);
        assertTrue(r.out.contains("μCheckpoint VMM"), r.out);
    }

    @Test
    void unknownOptionIsAUsageError() {
        CliRun r = CliRun.of("run", "--frobnicate");
        assertEquals(ExitStatus.USAGE, r.status);
        assertTrue(r.err.startsWith("vmm: Unknown option: '--frobnicate'"), r.err);
        assertFalse(r.err.contains("\tat "), "no stack trace");
    }

    @Test
    void malformedSizeIsAUsageError() {
        CliRun r = CliRun.of("run", "--ram", "lots", "compress");
        assertEquals(ExitStatus.USAGE, r.status);
        assertEquals("vmm: --ram: 'lots' is not a size (expected something like 64M or 1G)\n", r.err);
    }

    @Test
    void missingFileSaysSo() {
        CliRun r = CliRun.of("run", "--kernel", tmp.resolve("nope.elf").toString());
        assertEquals(ExitStatus.NO_INPUT, r.status);
        assertTrue(r.err.contains("no such file"), r.err);
    }

    @Test
    void notAnElfIsABadImage() throws Exception {
        Path f = tmp.resolve("text.elf");
        Files.writeString(f, "hello, this is not a kernel");
        CliRun r = CliRun.of("run", "--kernel", f.toString());
        assertEquals(ExitStatus.BAD_IMAGE, r.status);
        assertTrue(r.err.contains("no multiboot header") || r.err.contains("not an ELF"), r.err);
        assertEquals(1, r.err.lines().count(), r.err);
    }

    @Test
    void truncatedElfIsABadImage() throws Exception {
        byte[] elf = Files.readAllBytes(io.mucheckpoint.vmm.Workloads.guests().resolve("build/compress.elf"));
        Path f = tmp.resolve("cut.elf");
        Files.write(f, Arrays.copyOf(elf, 9000));
        CliRun r = CliRun.of("run", "--kernel", f.toString());
        assertEquals(ExitStatus.BAD_IMAGE, r.status);
        assertTrue(r.err.contains("beyond the end of the file"), r.err);
    }

    @Test
    void unknownWorkloadIsAUsageError() {
        CliRun r = CliRun.of("run", "nosuchguest");
        assertEquals(ExitStatus.USAGE, r.status);
        assertTrue(r.err.contains("vmm workloads"), r.err);
    }

    @Test
    void linuxNeedsItsFiles() {
        CliRun r = CliRun.of("run", "--linux", tmp.resolve("bzImage").toString());
        assertEquals(ExitStatus.NO_INPUT, r.status, r.toString());
        assertTrue(r.err.contains("no such file"), r.err);
        CliRun i = CliRun.of("run", "--initrd", tmp.resolve("initrd").toString(), "compress");
        assertEquals(ExitStatus.USAGE, i.status, i.toString());
    }

    @Test
    void workloadsListsTheBundledGuests() {
        CliRun r = CliRun.of("workloads");
        assertEquals(0, r.status);
        assertTrue(r.out.startsWith("compress"), r.out);
        assertEquals(io.mucheckpoint.vmm.Workloads.names().size(), r.out.lines().count());
    }

    @Test
    void runExitsWithTheGuestsStatusAndPrintsItsOutput() {
        CliRun r = CliRun.of("run", "mcf", "--append", "size=test");
        assertEquals(0, r.status, r.toString());
        assertEquals(io.mucheckpoint.vmm.Workloads.expected("mcf", "test"), r.out);
        CliRun q = CliRun.of("run", "mcf", "--append", "size=test", "--exit-code", "qemu");
        assertEquals(1, q.status);
    }

    @Test
    void aGuestFailureStatusPassesThrough() {
        CliRun r = CliRun.of("run", "compress", "--append", "size=test bogus=1");
        assertEquals(2, r.status, r.toString());
    }
}
