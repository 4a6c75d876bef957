package io.mucheckpoint.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mucheckpoint.vmm.Workloads;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code vmm console} as a user meets it, driven in-process through a scripted terminal: commands,
 * their output, the guest's output across rollbacks, and the errors for bad input.
 */
class ConsoleTest {
    private static final String MCF = Workloads.expected("mcf", "test");

    @TempDir
    Path tmp;

    private ScriptedTerminal console(String... extra) {
        java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("console", "mcf", "--append", "size=test",
                "--interval", "1ms", "--history", tmp.resolve("history").toString()));
        args.addAll(java.util.List.of(extra));
        if (!args.contains("--keep")) args.addAll(java.util.List.of("--keep", "400"));
        return new ScriptedTerminal("dumb").start(args.toArray(new String[0]));
    }

    private static String lastLine(String screen) {
        String[] lines = screen.strip().split("\n");
        return lines[lines.length - 1];
    }

    @Test
    void runsTheGuestInTheBackgroundAndShowsItsOutput() throws Exception {
        try (ScriptedTerminal t = console()) {
            t.await("'run' starts it");
            t.line("run");
            t.await("guest exited with status 0");
            t.line("status");
            t.await("guest exited with status 0, at 0x");
            t.line("quit");
            assertEquals(0, t.status(), t.toString());
            for (String line : MCF.split("\n")) assertTrue(t.screen().contains(line), line + "\n" + t);
            assertFalse(t.screen().contains("error:"), t.toString());
            assertTrue(Files.readString(tmp.resolve("history")).contains("status"), "history is kept in the file");
        }
    }

    @Test
    void pauseCheckpointsRollbackAndContinueGiveTheOutputOfAnUninterruptedRun() throws Exception {
        Path out = tmp.resolve("out.txt");
        try (ScriptedTerminal t = console("--output", out.toString())) {
            t.line("until 12M");
            t.line("wait");
            int at = t.await("reached instruction 12000000");
            t.line("checkpoints");
            at = t.await("now: instruction 12000000", at, 20_000);
            String table = t.screen();
            assertTrue(table.contains(" id  guest time  instructions  pages     bytes  integrity"), t.toString());
            assertTrue(Pattern.compile("\n115  115\\.000 ms +11500000 +\\d+ +[0-9.]+ KiB  ok\n").matcher(table).find(), t.toString());
            t.line("rollback -5");
            at = t.await("rolled back to checkpoint 115 at guest time 115.000 ms (instruction 11500000)", at, 20_000);
            t.line("continue");
            t.line("wait");
            t.await("guest exited with status 0", at, 20_000);
            t.line("quit");
            assertEquals(0, t.status(), t.toString());
        }
        assertEquals(MCF, Files.readString(out), "the final timeline's output is an uninterrupted run's");
    }

    @Test
    void ctrlCPausesTheGuestAndTheConsoleStaysUsable() throws Exception {
        try (ScriptedTerminal t = console()) {
            t.line("run");
            int at = t.await("running");
            t.type("\u0003");
            at = t.await("paused at 0x", at, 20_000);
            t.line("status");
            t.await("paused at 0x", at, 20_000);
            t.line("quit");
            assertEquals(0, t.status(), t.toString());
            assertFalse(t.screen().contains("guest exited"), "paused before the end:\n" + t);
        }
    }

    @Test
    void breakpointsStopBeforeTheInstructionAndStepGoesOn() throws Exception {
        int exit = ElfSymbols.address(Workloads.guests().resolve("build/mcf.elf"), "exit");
        String addr = String.format("0x%08x", exit);
        try (ScriptedTerminal t = console()) {
            t.line("break " + addr);
            int at = t.await("breakpoint 1 at " + addr + ": ");
            t.line("break");
            at = t.await("num  address     hits  instruction", at, 20_000);
            t.line("run");
            at = t.await("breakpoint 1 at " + addr + " (instruction ", at, 20_000);
            t.line("regs");
            at = t.await(String.format("eip  %s", addr), at, 20_000);
            t.line("disasm eip 2");
            at = t.await("=>* " + addr, at, 20_000);
            t.line("step");
            at = t.await("(instruction ", at, 20_000);
            t.line("delete 1");
            at = t.await("deleted breakpoint 1", at, 20_000);
            t.line("continue");
            t.await("guest exited with status 0", at, 20_000);
            t.line("quit");
            assertEquals(0, t.status(), t.toString());
            assertFalse(t.screen().contains("error:"), t.toString());
        }
    }

    @Test
    void runSaysRunningBeforeAnythingTheGuestStopsAt() throws Exception {
        // sdk_start is a few instructions from the entry point: the guest gets there at once.
        String addr = String.format("0x%08x", ElfSymbols.address(Workloads.guests().resolve("build/mcf.elf"), "sdk_start"));
        try (ScriptedTerminal t = console()) {
            t.line("break " + addr);
            int at = t.await("breakpoint 1 at " + addr + ": ");
            t.line("run");
            int running = t.await("\nrunning\n", at, 20_000);
            t.await("breakpoint 1 at " + addr + " (instruction ", running, 20_000);
            assertFalse(t.screen().substring(at, running).contains("breakpoint 1 at " + addr + " (instruction"), t.toString());
            t.line("quit");
            assertEquals(ExitStatus.OK, t.status(), t.toString());
        }
    }

    @Test
    void statsCountOnlyTheHostTimeTheGuestRan() throws Exception {
        try (ScriptedTerminal t = console()) {
            int at = t.await("'run' starts it");
            Thread.sleep(300); // paused at the prompt: not time the guest ran
            t.line("stats");
            t.await("0 instructions in 0.000 s of guest time; 0.000 s of host time running (0.0 M instructions/s)", at, 20_000);
            t.line("quit");
            assertEquals(ExitStatus.OK, t.status(), t.toString());
        }
    }

    @Test
    void aBreakpointThatIsNeverHitIsReported() throws Exception {
        try (ScriptedTerminal t = console()) {
            t.line("break 0xdeadbeef");
            int at = t.await("breakpoint 1 at 0xdeadbeef (not mapped now)");
            t.line("run");
            t.line("wait");
            at = t.await("guest exited with status 0", at, 20_000);
            t.await("breakpoint 1 at 0xdeadbeef was never hit", at, 20_000);
            t.line("quit");
            assertEquals(0, t.status(), t.toString());
        }
    }

    @Test
    void errorsAreOneLineAndLeaveTheConsoleUsable() throws Exception {
        try (ScriptedTerminal t = console("--keep", "4")) {
            t.line("until 3M");
            t.line("wait");
            int at = t.await("reached instruction 3000000");
            String[][] cases = {
                    {"rollback 0", "error: checkpoint 0 is not retained (retained: 27-30)"},
                    {"rollback -9", "error: 3 retained checkpoints are older than now: cannot go back 9"},
                    {"rollback @1ms", "error: no retained checkpoint is at or before 1.000 ms (the oldest is 27 at 27.000 ms)"},
                    {"rollback @1h", "error: '1h' is not a duration (expected something like 200ms, 0.2s or 0)"},
                    {"rollback @1.5Mi", "error: '1.5Mi' counts instructions; give guest time here"},
                    {"rollback soon", "error: 'soon' is not a checkpoint (an id, -N or @TIME)"},
                    {"until 1000", "error: the guest is already at instruction 3000000"},
                    {"wait soon", "error: 'soon' is not a number of seconds or a duration (like 5, 1.5s or 500ms)"},
                    {"step many", "error: 'many' is not a count of instructions (like 100, 5k or 2M)"},
                    {"mem nowhere", "error: 'nowhere' is not an address"},
                    {"break -1", "error: '-1' comes to -0x1, outside the 32-bit address space (0-0xffffffff)"},
                    {"break 0x100000000", "error: '0x100000000' comes to 0x100000000, outside the 32-bit address space"},
                    {"diff 999", "error: checkpoint 999 is not retained"},
                    {"delete 7", "error: there is no breakpoint 7"},
                    {"inject r9", "error: unknown fault location 'r9'"},
                    {"inject eax 40", "error: bit 40 is out of range (0-31)"},
                    {"set keep 0", "error: keep must be at least 1"},
                    {"set predictor psychic", "error: predictor takes none, last or history, not 'psychic'"},
                    {"set interval 5parsecs", "error: interval: '5parsecs' is not a duration"},
                    {"set interval 1i", "error: interval 1i is below the floor of 10000 instructions (100us of guest time at --ips 100M)"},
                    {"set latency 0.5ms", "latency is now 0.5ms; the 4 checkpoints retained stay"},
                    {"save /nonexistent/dir/x.uckpt", "error: cannot write /nonexistent/dir/x.uckpt (save): no such directory /nonexistent/dir\n"},
                    {"output /nonexistent/dir/out.txt", "error: cannot write /nonexistent/dir/out.txt (output): no such directory /nonexistent/dir\n"},
                    {"frobnicate", "error: unknown command 'frobnicate' (help lists the commands)"},
                    {"pause", "error: the guest is not running"},
                    {"regs now", "error: this command takes no arguments ('now')"},
            };
            for (String[] c : cases) {
                t.line(c[0]);
                int end = t.await(c[1], at, 20_000);
                String rest = t.screen().substring(end);
                assertFalse(rest.contains("\tat "), "no stack trace");
                at = end;
            }
            t.line("status");
            t.await("paused at 0x", at, 20_000);
            t.line("quit");
            assertEquals(0, t.status(), t.toString());
            assertFalse(t.screen().contains("Exception"), t.toString());
            assertFalse(t.screen().contains(".tmp"), "an error names the user's file, not a temporary one\n" + t);
        }
    }

    @Test
    void inspectsRegistersMemoryAndCode() throws Exception {
        try (ScriptedTerminal t = console()) {
            int at = t.await("paused at 0x0010000c (instruction 0");
            t.line("mem 0x100000 32");
            // The multiboot header: magic 0x1badb002 at the start of the image.
            at = t.await("0x00100000  02 b0 ad 1b", at, 20_000);
            t.line("mem -p 0x100000 16");
            at = t.await("0x00100000  02 b0 ad 1b", at, 20_000);
            t.line("mem 0xfffff000 16");
            at = t.await("0xfffff000  .. .. ..", at, 20_000);
            t.line("disasm");
            at = t.await("=>  0x0010000c  fa                       cli", at, 20_000);
            t.line("step 5");
            at = t.await("(instruction 5)", at, 20_000);
            t.line("regs");
            at = t.await("32-bit protected mode", at, 20_000);
            t.await("instruction 5, guest time", at, 20_000);
            t.line("help rollback");
            t.await("usage: rollback ID | -N | @TIME", at, 20_000);
            t.line("help");
            t.await("quit                                         leave (the guest stops)", at, 20_000);
            t.line("quit");
            assertEquals(0, t.status(), t.toString());
        }
    }

    @Test
    void diffShowsRegistersAndPagesChangedSinceACheckpoint() throws Exception {
        try (ScriptedTerminal t = console()) {
            t.line("until 5M");
            t.line("wait");
            int at = t.await("reached instruction 5000000");
            t.line("checkpoint");
            Matcher m = Pattern.compile("checkpoint (\\d+) at instruction 5000000").matcher("");
            at = t.await("at instruction 5000000, guest time", at, 20_000);
            m.reset(t.screen());
            assertTrue(m.find(), t.toString());
            String id = m.group(1);
            t.line("diff " + id);
            at = t.await("pages written: 0 (0 B)", at, 20_000);
            // through the memory door, a write (a raw upset, the default, sets no dirty bit and is not "written")
            t.line("inject mem-door 0x3000000 3");
            at = t.await("flipped bit 3 of mem[0x3000000] (through the door): 0x00 -> 0x08", at, 20_000);
            t.line("step 100000");
            at = t.await("(instruction 5100000)", at, 20_000);
            t.line("diff " + id);
            at = t.await("since checkpoint " + id + " (guest time", at, 20_000);
            at = t.await("eip ", at, 20_000);
            at = t.await("icount       5000000     5100000", at, 20_000);
            at = t.await("pages written: ", at, 20_000);
            t.await("0x03000000", at, 20_000);
            t.line("quit");
            assertEquals(0, t.status(), t.toString());
        }
    }

    @Test
    void injectThenRecoverRollsBackPastTheLatencyBoundAndTheOutputStaysRight() throws Exception {
        Path out = tmp.resolve("out.txt");
        try (ScriptedTerminal t = console("--latency", "80ms", "--output", out.toString())) {
            t.line("until 8M");
            t.line("wait");
            int at = t.await("reached instruction 8000000");
            t.line("inject esp 20");
            at = t.await("flipped bit 20 of esp", at, 20_000);
            t.line("recover");
            at = t.await("recovered: rolled back to checkpoint 0 (0.000 ms guest time, instruction 0)", at, 20_000);
            t.line("run");
            t.line("wait");
            t.await("guest exited with status 0", at, 20_000);
            t.line("quit");
            assertEquals(0, t.status(), t.toString());
            // Output printed before the recovery is not printed again.
            String screen = t.screen();
            assertTrue(screen.contains("mcf: size=test"), t.toString());
            assertEquals(screen.indexOf("mcf: size=test"), screen.lastIndexOf("mcf: size=test"), t.toString());
        }
        assertEquals(MCF, Files.readString(out));
    }

    @Test
    void saveWritesASnapshotThatRunResumes() throws Exception {
        Path snap = tmp.resolve("mid.uckpt");
        String before;
        try (ScriptedTerminal t = console()) {
            t.line("until 10M");
            t.line("wait");
            t.await("reached instruction 10000000");
            t.line("save " + snap);
            t.await("saved the machine at instruction 10000000 to " + snap);
            t.line("output " + tmp.resolve("before.txt"));
            t.await("bytes of guest output to");
            t.line("quit");
            assertEquals(0, t.status(), t.toString());
            before = Files.readString(tmp.resolve("before.txt"));
        }
        CliRun r = CliRun.of("run", "--restore", snap.toString());
        assertEquals(0, r.status, r.toString());
        assertEquals(MCF, before + r.out);
    }

    @Test
    void setKeepAndLatencyChangeRetentionInPlace() throws Exception {
        try (ScriptedTerminal t = console()) {
            t.line("until 2M");
            t.line("wait");
            int at = t.await("reached instruction 2000000", 0, 20_000);
            t.line("set keep 5");
            at = t.await("keep is now 5; the 5 checkpoints retained stay", at, 20_000);
            t.line("rollback 10");
            at = t.await("error: checkpoint 10 is not retained (retained: 16-20)", at, 20_000);
            t.line("set latency 2ms");
            at = t.await("latency is now 2ms; the 5 checkpoints retained stay", at, 20_000);
            t.line("recover");
            at = t.await("recovered: ", at, 20_000);
            at = t.await("checkpoint 18", at, 20_000);
            t.line("set");
            t.await("keep" + " ".repeat(15) + "5", at, 20_000);
            t.line("quit");
            assertEquals(0, t.status(), t.toString());
        }
    }

    @Test
    void setIntervalAndPredictorKeepTheCheckpoints() throws Exception {
        try (ScriptedTerminal t = console()) {
            t.line("set");
            int at = t.await("interval           1ms");
            t.line("until 2M");
            t.line("wait");
            at = t.await("reached instruction 2000000", at, 20_000);
            t.line("set interval 500000i");
            at = t.await("interval is now 500000i; the 21 checkpoints retained stay (0-20), the next one 500000i after checkpoint 20",
                    at, 20_000);
            t.line("until 3100000");
            t.line("wait");
            at = t.await("reached instruction 3100000", at, 20_000);
            t.line("checkpoints");
            // The old ones are still there, the ids go on, and the new epochs are 500,000 instructions long.
            at = t.await("\n 0    0.000 ms             0", at, 20_000);
            at = t.await("\n20   20.000 ms       2000000", at, 20_000);
            at = t.await("\n21   25.000 ms       2500000", at, 20_000);
            at = t.await("\n22   30.000 ms       3000000", at, 20_000);
            t.line("set predictor last");
            at = t.await("predictor is now last; the 23 checkpoints retained stay (0-22)", at, 20_000);
            t.line("rollback 5");
            at = t.await("rolled back to checkpoint 5 at guest time 5.000 ms (instruction 500000)", at, 20_000);
            t.line("stats");
            at = t.await("checkpointing: mode cow, predictor last, interval 500000i", at, 20_000);
            // The instruction count went back; the work done and the checkpoints taken did not.
            at = t.await("500,000 instructions in 0.005 s of guest time;", at, 20_000);
            at = t.await("over the 3,100,000 executed, rollbacks' re-runs included)", at, 20_000);
            t.await("checkpoints:  23 taken (the first at the start, 22 at epoch boundaries); 6 retained now", at, 20_000);
            t.line("quit");
            assertEquals(0, t.status(), t.toString());
        }
    }

    @Test
    void endOfInputQuits() throws Exception {
        try (ScriptedTerminal t = console()) {
            t.line("run");
            t.await("running");
            t.close();
            assertEquals(0, t.status(), t.toString());
        }
    }

    @Test
    void completesCommandsAndTheirArguments() throws Exception {
        try (ScriptedTerminal t = new ScriptedTerminal("dumb")) {
            Console c = consoleOn(t);
            assertEquals(java.util.List.of("rollback"), c.completions("roll"));
            assertEquals(java.util.List.of("checkpoints", "checkpoint"), c.completions("checkp"));
            assertEquals(java.util.List.of("predictor"), c.completions("set pre"));
            assertEquals(java.util.List.of("history"), c.completions("set predictor h"));
            assertTrue(c.completions("inject e").containsAll(java.util.List.of("eax", "eip", "eflags", "es")));
            assertEquals(java.util.List.of("rollback"), c.completions("help rol"));
            assertEquals(java.util.List.of("0"), c.completions("rollback "));
            assertTrue(c.completions("break e").contains("eip"));
        }
    }

    @Test
    void tabCompletesOnATerminal() throws Exception {
        try (ScriptedTerminal t = new ScriptedTerminal("xterm").start("console", "mcf", "--append", "size=test",
                "--history", tmp.resolve("history").toString())) {
            t.await("'run' starts it");
            t.type("sta\t");
            Thread.sleep(300);
            t.type("us\n");
            t.await("paused at 0x0010000c");
            t.type("qu\t\n");
            assertEquals(0, t.status(), t.toString());
            assertFalse(t.screen().contains("unknown command"), t.toString());
        }
    }

    /** A console on a machine that is not running, for the completion tests. */
    private Console consoleOn(ScriptedTerminal t) throws Exception {
        GuestOutput out = new GuestOutput((b, off, len, partial) -> {});
        io.mucheckpoint.recovery.ReplayConsole replay = new io.mucheckpoint.recovery.ReplayConsole(out);
        io.mucheckpoint.vmm.Machine m = new io.mucheckpoint.vmm.Machine(io.mucheckpoint.vmm.MachineConfig.defaults(),
                Workloads.multiboot("mcf", "size=test"), replay, replay);
        GuestSession s = new GuestSession(m, io.mucheckpoint.checkpoint.CheckpointConfig.defaults(), out, replay);
        return new Console(terminalOf(t), s, null, false);
    }

    private static org.jline.terminal.Terminal terminalOf(ScriptedTerminal t) throws Exception {
        java.lang.reflect.Field f = ScriptedTerminal.class.getDeclaredField("terminal");
        f.setAccessible(true);
        return (org.jline.terminal.Terminal) f.get(t);
    }

    // --- bad input at the start ---------------------------------------------------------------------

    @Test
    void badGuestsAndOptionsFailBeforeTheConsoleStarts() throws Exception {
        CliRun missing = CliRun.of("console", "--kernel", tmp.resolve("nope.elf").toString());
        assertEquals(ExitStatus.NO_INPUT, missing.status);
        assertEquals("vmm: cannot read " + tmp.resolve("nope.elf") + ": no such file\n", missing.err);

        Path text = tmp.resolve("text.elf");
        Files.writeString(text, "hello, this is not a kernel");
        CliRun notElf = CliRun.of("console", "--kernel", text.toString());
        assertEquals(ExitStatus.BAD_IMAGE, notElf.status);
        assertEquals(1, notElf.err.lines().count(), notElf.err);

        byte[] elf = Files.readAllBytes(Workloads.guests().resolve("build/compress.elf"));
        Path cut = tmp.resolve("cut.elf");
        Files.write(cut, Arrays.copyOf(elf, 9000));
        CliRun truncated = CliRun.of("console", "--kernel", cut.toString());
        assertEquals(ExitStatus.BAD_IMAGE, truncated.status);
        assertTrue(truncated.err.contains("beyond the end of the file"), truncated.err);

        CliRun unknown = CliRun.of("console", "--frobnicate");
        assertEquals(ExitStatus.USAGE, unknown.status);
        assertTrue(unknown.err.startsWith("vmm: Unknown option: '--frobnicate'"), unknown.err);

        CliRun duration = CliRun.of("console", "--interval", "fortnightly");
        assertEquals(ExitStatus.USAGE, duration.status);
        assertEquals("vmm: --interval: 'fortnightly' is not a duration (expected something like 50ms, 1.5s or 5000000i"
                + " (instructions))\n", duration.err);

        CliRun size = CliRun.of("console", "--checkpoint-memory", "heaps");
        assertEquals(ExitStatus.USAGE, size.status);
        assertEquals("vmm: --checkpoint-memory: 'heaps' is not a size (expected something like 64M or 1G)\n", size.err);

        for (CliRun r : new CliRun[] {missing, notElf, truncated, unknown, duration, size}) {
            assertFalse(r.err.contains("\tat "), "no stack trace: " + r.err);
        }
    }

    @Test
    void helpListsEveryOptionWithItsDefault() {
        CliRun r = CliRun.of("console", "--help");
        assertEquals(0, r.status);
        for (String s : new String[] {"--interval", "default: 50ms", "--latency", "default: 200ms", "--keep", "default: 64",
                "--history", "~/.vmm_history", "--output", "--run", "--restore", "--ram", "default: 64M", "Exit status"}) {
            assertTrue(r.out.contains(s), s + " missing from\n" + r.out);
        }
        assertTrue(new String(r.out.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8).contains("Ctrl-C pauses it"));
    }
}
