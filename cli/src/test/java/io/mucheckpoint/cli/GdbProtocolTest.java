package io.mucheckpoint.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mucheckpoint.vmm.Workloads;

import org.junit.jupiter.api.Test;

/**
 * The gdb stub's protocol with a bare client: bad packets get clean replies, a client that goes
 * away mid-command leaves the guest running to its end, a second client is refused without
 * disturbing the first, Ctrl-C stops a running guest, and kill ends vmm.
 */
class GdbProtocolTest {
    private static final String TIMER = Workloads.expected("timer", "test");

    @Test
    void badPacketsGetCleanRepliesAndTheConnectionGoesOn() throws Exception {
        try (GdbRig vmm = new GdbRig("timer", "--append", "size=test", "--gdb-wait"); RspClient c = new RspClient(vmm.port)) {
            assertTrue(c.ask("qSupported:swbreak+;hwbreak+").contains("ReverseContinue+"));
            assertEquals("T05thread:1;", c.ask("?"));
            // A bad checksum is refused with '-', and the packet is not acted on.
            c.raw("$g#00");
            assertEquals('-', c.read());
            // Malformed arguments, unknown annexes, lengths that do not match, unknown packets.
            assertEquals("E01", c.ask("mzz,4"));
            assertEquals("E01", c.ask("Z0,nothex,1"));
            assertEquals("E01", c.ask("P="));
            assertEquals("E00", c.ask("p99"));
            assertEquals("E00", c.ask("qXfer:features:read:nosuch.xml:0,100"));
            assertEquals("E01", c.ask("M100000,4:00"));
            assertEquals("E14", c.ask("m7fff0000,4"), "memory beyond RAM");
            assertEquals("", c.ask("Qnosuchthing"));
            assertEquals("", c.ask("vNoSuchVerb"));
            // A packet far beyond any sane size is skipped whole.
            assertEquals("E01", c.ask("X100000," + "ff".repeat(40_000)));
            // Still in order: registers, memory, the target description.
            assertEquals(400, c.ask("g").length(), "37 registers, 200 bytes");
            assertTrue(c.ask("qXfer:features:read:target.xml:0,3fff").contains("org.gnu.gdb.i386.core"));
            assertEquals("OK", c.ask("D"));
        }
    }

    @Test
    void aClientThatGoesAwayMidCommandLeavesTheGuestRunningToItsEnd() throws Exception {
        try (GdbRig vmm = new GdbRig("timer", "--append", "size=test", "--gdb-wait")) {
            try (RspClient c = new RspClient(vmm.port)) {
                c.ask("qSupported");
                c.raw(RspClient.frame("c")); // and hang up before the stop reply
            }
            assertEquals(0, vmm.status(60), vmm.toString());
            assertEquals(TIMER, vmm.out());
        }
    }

    @Test
    void aClientThatGoesAwayDuringAReverseMoveDoesNotStickTheGuest() throws Exception {
        try (GdbRig vmm = new GdbRig("timer", "--append", "size=test", "--gdb-wait")) {
            try (RspClient c = new RspClient(vmm.port)) {
                c.ask("qSupported");
                assertEquals("OK", c.ask("Z0,101e60,1")); // on_tick... not needed to be exact: any address
                c.raw(RspClient.frame("c"));
                c.reply();
                c.raw(RspClient.frame("bc"));
            }
            assertEquals(0, vmm.status(60), vmm.toString());
            assertEquals(TIMER, vmm.out(), "the guest's output once, whatever the reverse move did");
        }
    }

    @Test
    void aSecondClientIsRefusedAndTheFirstGoesOn() throws Exception {
        try (GdbRig vmm = new GdbRig("timer", "--append", "size=test", "--gdb-wait"); RspClient first = new RspClient(vmm.port)) {
            first.ask("qSupported");
            try (RspClient second = new RspClient(vmm.port)) {
                String r = second.ask("qSupported");
                assertTrue(r.startsWith("E.") && r.contains("another gdb"), r);
                assertTrue(second.closedWithin(5000), "the second client is hung up on");
            }
            assertEquals("T05thread:1;", first.ask("?"));
            assertEquals(400, first.ask("g").length());
            assertEquals("OK", first.ask("D"));
            assertEquals(0, vmm.status(60), vmm.toString());
            assertEquals(TIMER, vmm.out());
        }
    }

    @Test
    void ctrlCStopsARunningGuestAndKillEndsVmm() throws Exception {
        try (GdbRig vmm = new GdbRig("timer", "--append", "size=bench", "--gdb-wait"); RspClient c = new RspClient(vmm.port)) {
            c.ask("qSupported");
            c.raw(RspClient.frame("c"));
            vmm.awaitOut("timer: size=bench", 30);
            c.raw("\u0003");
            assertEquals("T02thread:1;", c.reply());
            long stopped = c.register(0x24);
            assertTrue(stopped > 0, "the guest ran before Ctrl-C");
            assertEquals(stopped, c.register(0x24), "and stays stopped");
            c.raw(RspClient.frame("k"));
            assertEquals(ExitStatus.INTERRUPTED, vmm.status(30), vmm.toString());
            assertTrue(vmm.err().contains("gdb killed the guest"), vmm.toString());
        }
    }

    @Test
    void hardwareBreakpointsAndReadAndAccessWatchpointsAreReportedByKind() throws Exception {
        java.nio.file.Path elf = Workloads.guests().resolve("build/timer.elf");
        int onTick = ElfSymbols.address(elf, "on_tick"), ticks = ElfSymbols.address(elf, "ticks");
        int qHead = ElfSymbols.address(elf, "q_head");
        try (GdbRig vmm = new GdbRig("timer", "--append", "size=test", "--gdb-wait"); RspClient c = new RspClient(vmm.port)) {
            c.ask("qSupported:swbreak+;hwbreak+");
            assertEquals("OK", c.ask(String.format("Z1,%x,1", onTick)));
            assertEquals("T05hwbreak:;thread:1;", c.ask("c"));
            assertEquals(onTick, (int) c.register(8));
            assertEquals("OK", c.ask(String.format("z1,%x,1", onTick)));
            // on_tick's first statement, ticks++, reads ticks (it is volatile) before it writes it.
            assertEquals("OK", c.ask(String.format("Z3,%x,4", ticks)));
            assertEquals(String.format("T05rwatch:%x;thread:1;", ticks), c.ask("c"));
            assertEquals("OK", c.ask(String.format("z3,%x,4", ticks)));
            assertEquals("OK", c.ask(String.format("Z2,%x,4", ticks)));
            assertEquals(String.format("T05watch:%x;thread:1;", ticks), c.ask("c"), "then writes it");
            assertEquals("OK", c.ask(String.format("z2,%x,4", ticks)));
            assertEquals("OK", c.ask(String.format("Z4,%x,4", qHead)));
            assertEquals(String.format("T05awatch:%x;thread:1;", qHead), c.ask("c"));
            assertEquals("OK", c.ask(String.format("z4,%x,4", qHead)));
            assertEquals("OK", c.ask("D"));
            assertEquals(0, vmm.status(60), vmm.toString());
            assertEquals(TIMER, vmm.out());
        }
    }

    @Test
    void aBadAddressIsAUsageError() {
        CliRun r = CliRun.of("run", "timer", "--gdb", "tcp::notaport");
        assertEquals(ExitStatus.USAGE, r.status, r.toString());
        assertTrue(r.err.contains("is not a gdb address"), r.toString());
        CliRun w = CliRun.of("run", "timer", "--gdb-wait");
        assertEquals(ExitStatus.USAGE, w.status, w.toString());
    }

}
