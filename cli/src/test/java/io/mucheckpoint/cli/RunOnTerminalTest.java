package io.mucheckpoint.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mucheckpoint.vmm.Workloads;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code vmm run} on a terminal: the guest's output, QEMU's Ctrl-A escapes, and the console behind Ctrl-A c. */
class RunOnTerminalTest {
    @TempDir
    Path tmp;

    private ScriptedTerminal run(String size) {
        return new ScriptedTerminal("dumb").start("run", "mcf", "--append", "size=" + size);
    }

    @Test
    void theGuestRunsToItsEndWithItsOutputOnTheTerminal() throws Exception {
        try (ScriptedTerminal t = run("test")) {
            assertEquals(0, t.status(), t.toString());
            assertEquals(Workloads.expected("mcf", "test"), t.screen(), t.toString());
        }
    }

    @Test
    void endsWithOneLineOnStandardErrorSayingWhatCheckpointingDid() throws Exception {
        try (ScriptedTerminal t = run("test")) {
            assertEquals(0, t.status(), t.toString());
            assertTrue(t.err().matches("vmm: [0-9,]+ checkpoints, one every 50ms; \\d+ kept, reaching [0-9.]+ ms back in"
                    + " [0-9.]+ [KM]?i?B; longest pause [0-9.]+ ms \\(--stats: more\\)\n"), t.toString());
        }
    }

    /** A guest that spins for ever: JMP $ at 0x7c00, in real mode. */
    private String spinner() throws Exception {
        return java.nio.file.Files.write(tmp.resolve("spin.bin"), new byte[] {(byte) 0xEB, (byte) 0xFE}) + "@0x7c00";
    }

    @Test
    void aTimeLimitEndsARunOnTheTerminal() throws Exception {
        try (ScriptedTerminal t = new ScriptedTerminal("dumb").start("run", "--flat", spinner(), "--time-limit", "20ms")) {
            assertEquals(ExitStatus.TIME_LIMIT, t.status(), t.toString());
            assertTrue(t.err().startsWith("vmm: --time-limit 20ms reached before the guest ended (guest time)\n"), t.toString());
        }
    }

    @Test
    void theTraceShowsItsSizeWhileItIsWrittenAndAtTheEnd() throws Exception {
        Path trace = tmp.resolve("t.txt");
        try (ScriptedTerminal t = new ScriptedTerminal("dumb").start("run", "--flat", spinner(), "--trace", trace.toString(),
                "--trace-limit", "5000")) {
            t.await("trace: ");
            t.await(" written to " + trace);
            t.type("\u0001x");
            assertEquals(ExitStatus.INTERRUPTED, t.status(), t.toString());
            assertTrue(t.err().contains("vmm: trace: 5,000 instructions in " + Console.bytes(java.nio.file.Files.size(trace)) + " to "
                    + trace + "; stopped at --trace-limit 5,000\n"), t.toString());
        }
    }

    @Test
    void ctrlAXQuitsWithStatus130() throws Exception {
        try (ScriptedTerminal t = run("bench")) {
            t.type("\u0001x");
            assertEquals(ExitStatus.INTERRUPTED, t.status(), t.toString());
        }
    }

    @Test
    void ctrlAHListsTheEscapesAndCtrlACOpensTheConsole() throws Exception {
        try (ScriptedTerminal t = run("bench")) {
            t.type("\u0001h");
            int at = t.await("C-a c    pause the guest and switch to the console");
            t.type("\u0001c");
            at = t.await("paused at 0x", at, 20_000);
            t.line("regs");
            at = t.await("32-bit protected mode", at, 20_000);
            t.line("checkpoints");
            at = t.await("now: instruction ", at, 20_000);
            t.line("quit");
            assertEquals(ExitStatus.INTERRUPTED, t.status(), "quitting before the guest's end is an interruption\n" + t);
        }
    }

    @Test
    void theConsoleCanGiveTheKeyboardBackToTheGuest() throws Exception {
        try (ScriptedTerminal t = run("test")) {
            t.type("\u0001c");
            int at = t.await("paused at 0x");
            t.line("terminal");
            // The guest runs on and ends; vmm run then exits with its status.
            assertEquals(0, t.status(), t.toString());
            assertTrue(t.screen().contains("checksum="), t.toString());
        }
    }
}
