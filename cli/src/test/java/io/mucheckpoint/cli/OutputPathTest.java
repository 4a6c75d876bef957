package io.mucheckpoint.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mucheckpoint.checkpoint.SnapshotFile;
import io.mucheckpoint.vmm.Machine;
import io.mucheckpoint.vmm.MachineConfig;
import io.mucheckpoint.vmm.Workloads;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Work is not lost to a bad output path: every file vmm will write is checked before the run, and a
 * file error is its own status (73) with one line naming the user's path and the reason.
 */
class OutputPathTest {
    @TempDir
    Path tmp;

    private static final String MISSING_DIR = "/nonexistent-vmm-test-dir";

    private static void assertFileError(CliRun r, String path, String option) {
        assertEquals(ExitStatus.CANT_CREATE, r.status, r.toString());
        assertEquals("vmm: cannot write " + path + " (" + option + "): no such directory " + MISSING_DIR + "\n", r.err, r.toString());
    }

    @Test
    void everyOutputOfRunIsCheckedBeforeTheGuestRuns() {
        String[][] cases = {
                {"--stats-json", MISSING_DIR + "/s.json"},
                {"--stats-plot", MISSING_DIR + "/s.png"},
                {"--trace", MISSING_DIR + "/t.txt"},
        };
        for (String[] c : cases) {
            // size=bench runs for seconds: an empty standard output shows the check came first.
            CliRun r = CliRun.of("run", "mcf", "--append", "size=bench", c[0], c[1]);
            assertFileError(r, c[1], c[0]);
            assertEquals("", r.out, "the guest did not run");
        }
        CliRun save = CliRun.of("run", "mcf", "--append", "size=bench", "--save-at", "1000", "--save", MISSING_DIR + "/x.snap");
        assertFileError(save, MISSING_DIR + "/x.snap", "--save");
        assertEquals("", save.out);
    }

    @Test
    void consoleAndInjectOutputsAreCheckedBeforeTheyStart() {
        CliRun console = CliRun.of("console", "mcf", "--append", "size=test", "--output", MISSING_DIR + "/o.txt");
        assertFileError(console, MISSING_DIR + "/o.txt", "--output");
        for (String option : new String[] {"--json", "--plot"}) {
            CliRun inject = CliRun.of("inject", "mcf", "--append", "size=test", "--faults", "2", option, MISSING_DIR + "/c.out");
            assertFileError(inject, MISSING_DIR + "/c.out", option);
            assertFalse(inject.err.contains("golden run"), "no campaign ran: " + inject.err);
        }
    }

    @Test
    void aDirectoryOrAFileInPlaceOfADirectoryIsRefusedToo() throws IOException {
        CliRun dir = CliRun.of("run", "mcf", "--append", "size=test", "--stats-json", tmp.toString());
        assertEquals(ExitStatus.CANT_CREATE, dir.status, dir.toString());
        assertEquals("vmm: cannot write " + tmp + " (--stats-json): it is a directory\n", dir.err);
        Path file = Files.writeString(tmp.resolve("plain"), "x");
        CliRun under = CliRun.of("run", "mcf", "--append", "size=test", "--trace", file + "/t.txt");
        assertEquals(ExitStatus.CANT_CREATE, under.status, under.toString());
        assertEquals("vmm: cannot write " + file + "/t.txt (--trace): " + file + " is not a directory\n", under.err);
    }

    @Test
    void aWriteThatFailsLateNamesTheUsersFileNotATemporaryOne() {
        Path file = Path.of(MISSING_DIR, "x.uckpt");
        VmmException e = OutputFiles.writeFailed(file, new NoSuchFileException(file + ".tmp"));
        assertEquals(ExitStatus.CANT_CREATE, e.status());
        assertEquals("cannot write " + file + ": no such directory " + MISSING_DIR, e.getMessage());
    }

    @Test
    void saveAtBeyondTheEndOfTheRunWarnsAndFails() {
        Path snap = tmp.resolve("late.snap");
        CliRun r = CliRun.of("run", "mcf", "--append", "size=test", "--save-at", "999999999999", "--save", snap.toString());
        assertEquals(ExitStatus.CANT_CREATE, r.status, r.toString());
        assertEquals(Workloads.expected("mcf", "test"), r.out, "the run itself went to its end");
        assertTrue(r.err.matches("(?s)vmm: no snapshot was written to " + java.util.regex.Pattern.quote(snap.toString())
                + ": the run ended at instruction [0-9,]+, before --save-at 999999999999\n"), r.err);
        assertFalse(Files.exists(snap));
    }

    @Test
    void restoreRefusesOptionsItWouldIgnore() throws Exception {
        Machine m = new Machine(MachineConfig.defaults(), Workloads.multiboot("mcf", "size=test"), b -> {}, b -> {});
        m.run(Long.MAX_VALUE, 1_000_000);
        Path snap = tmp.resolve("s.uckpt");
        SnapshotFile.save(m, snap);
        for (String[] extra : new String[][] {{"--append", "size=bench"}, {"--ram", "128M"}, {"--ips", "50M"}, {"--reboot"}}) {
            java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("run", "--restore", snap.toString()));
            args.addAll(java.util.List.of(extra));
            CliRun r = CliRun.of(args.toArray(new String[0]));
            assertEquals(ExitStatus.USAGE, r.status, r.toString());
            assertEquals("vmm: " + extra[0] + " cannot change a restored machine (the snapshot holds its command line, RAM, clock rate"
                    + " and reset behaviour): drop " + extra[0] + "\n", r.err);
        }
    }

    @Test
    void aKernelFileGivenAsAWorkloadNameSuggestsKernel() {
        Path elf = Workloads.guests().resolve("build/mcf.elf");
        CliRun r = CliRun.of("run", elf.toString());
        assertEquals(ExitStatus.USAGE, r.status, r.toString());
        assertEquals("vmm: no bundled workload named '" + elf + "': to boot a kernel file, use --kernel " + elf
                + " (vmm workloads lists the bundled ones)\n", r.err);
    }
}
