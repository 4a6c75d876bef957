package io.mucheckpoint.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mucheckpoint.vmm.Workloads;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The console's gdb command: gdb attaches to the console's guest, and the console goes on beside it. */
class ConsoleGdbTest {
    @TempDir
    Path tmp;

    @Test
    void gdbAttachesToTheConsolesGuestAndTheConsoleSeesWhatItDid() throws Exception {
        int onTick = ElfSymbols.address(Workloads.guests().resolve("build/timer.elf"), "on_tick");
        try (ScriptedTerminal t = new ScriptedTerminal("dumb").start("console", "timer", "--append", "size=test",
                "--history", tmp.resolve("history").toString())) {
            t.await("'run' starts it");
            t.line("gdb");
            t.await("gdb: not listening");
            t.line("gdb 0");
            int at = t.await("gdb stub listening on 127.0.0.1:");
            Matcher m = Pattern.compile("listening on 127\\.0\\.0\\.1:(\\d+)").matcher(t.screen());
            assertTrue(m.find(), t.screen());
            int port = Integer.parseInt(m.group(1));
            try (RspClient c = new RspClient(port)) {
                assertTrue(c.ask("qSupported:swbreak+").contains("ReverseStep+"));
                assertEquals("T05thread:1;", c.ask("?"));
                assertEquals("OK", c.ask(String.format("Z0,%x,1", onTick)));
                assertEquals("T05swbreak:;thread:1;", c.ask("c"));
                assertEquals("T05swbreak:;thread:1;", c.ask("c"));
                long second = c.register(0x24);
                assertEquals("T05swbreak:;thread:1;", c.ask("bc"));
                assertTrue(c.register(0x24) < second);
                t.line("status");
                at = t.await("paused at 0x" + String.format("%08x", onTick), at, 20_000);
                t.line("gdb");
                at = t.await("gdb attached", at, 20_000);
                assertEquals("OK", c.ask("D"));
            }
            at = t.await("gdb detached", at, 20_000);
            // Detached from the console, the guest stays where gdb left it; the console runs it on.
            t.line("run");
            t.await("guest exited with status 0", at, 60_000);
            t.line("gdb off");
            t.await("gdb: stopped listening", at, 20_000);
            t.line("quit");
            assertEquals(0, t.status(), t.toString());
            for (String line : Workloads.expected("timer", "test").split("\n")) assertTrue(t.screen().contains(line), line + "\n" + t);
        }
    }
}
