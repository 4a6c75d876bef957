package io.mucheckpoint.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mucheckpoint.vmm.Workloads;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reverse execution through the stub, checked against the forward run it retraces: every
 * reverse-continue lands on the state (instruction count, every register, the stack and a stretch
 * of RAM) the forward run stopped at, across many checkpoints and the stub's own snapshots; every
 * reverse-stepi lands where a forward stepi had been; host input is replayed from its log while the
 * guest is in the past, and live input waits until the guest is back where it had been.
 */
class ReverseExecutionTest {
    private static final int ICOUNT = 0x24;

    @TempDir
    Path tmp;

    /** What identifies where the guest stands: registers (with the instruction count), the stack, some RAM. */
    private static String state(RspClient c, int ram) throws Exception {
        String regs = c.ask("g");
        long esp = c.register(4);
        return regs + "|" + c.ask(String.format("m%x,200", esp)) + "|" + c.ask(String.format("m%x,800", ram));
    }

    @Test
    void reverseContinueRetracesTheForwardHitsAcrossCheckpoints() throws Exception {
        Path elf = Workloads.guests().resolve("build/mcf.elf");
        int spfa = ElfSymbols.address(elf, "spfa");
        int bss = ElfSymbols.address(elf, "__bss_start");
        // A checkpoint every 100,000 instructions: spfa is entered about every 47,000.
        try (GdbRig vmm = new GdbRig("mcf", "--append", "size=test", "--interval", "100000i", "--gdb-wait");
                RspClient c = new RspClient(vmm.port)) {
            c.ask("qSupported:swbreak+");
            assertEquals("OK", c.ask(String.format("Z0,%x,1", spfa)));
            List<String> forward = new ArrayList<>();
            for (int i = 0; i < 12; i++) {
                assertEquals("T05swbreak:;thread:1;", c.ask("c"));
                assertEquals(spfa, (int) c.register(8));
                forward.add(state(c, bss));
            }
            for (int i = 10; i >= 0; i--) {
                assertEquals("T05swbreak:;thread:1;", c.ask("bc"));
                assertEquals(forward.get(i), state(c, bss), "hit " + i + " going back");
            }
            assertEquals("T05replaylog:begin;thread:1;", c.ask("bc"), "nothing before the first hit");
            assertEquals(0, c.register(ICOUNT));
            // Forward again from the start of history: the same hits.
            for (int i = 0; i < 3; i++) {
                assertEquals("T05swbreak:;thread:1;", c.ask("c"));
                assertEquals(forward.get(i), state(c, bss), "hit " + i + " forward again");
            }
            assertEquals("OK", c.ask(String.format("z0,%x,1", spfa)));
            assertEquals("OK", c.ask("D"));
            assertEquals(0, vmm.status(60), vmm.toString());
            assertEquals(Workloads.expected("mcf", "test"), vmm.out());
        }
    }

    @Test
    void reverseStepiRetracesForwardStepsOverCheckpointBoundaries() throws Exception {
        Path elf = Workloads.guests().resolve("build/mcf.elf");
        int spfa = ElfSymbols.address(elf, "spfa");
        int bss = ElfSymbols.address(elf, "__bss_start");
        // Checkpoints taken every 100 steps with "monitor checkpoint" (an interval that short is below
        // --interval's floor): the 600 steps back cross six of them.
        try (GdbRig vmm = new GdbRig("mcf", "--append", "size=test", "--gdb-wait");
                RspClient c = new RspClient(vmm.port)) {
            c.ask("qSupported:swbreak+");
            c.ask(String.format("Z0,%x,1", spfa));
            assertEquals("T05swbreak:;thread:1;", c.ask("c"));
            c.ask(String.format("z0,%x,1", spfa));
            List<String> forward = new ArrayList<>();
            for (int i = 0; i <= 600; i++) {
                if (i > 0) assertEquals("T05thread:1;", c.ask("s"));
                forward.add(i % 50 == 0 ? state(c, bss) : c.ask("g"));
                if (i % 100 == 50) assertEquals("OK", c.ask("qRcmd," + hex("checkpoint")));
            }
            for (int i = 599; i >= 0; i--) {
                assertEquals("T05thread:1;", c.ask("bs"));
                assertEquals(forward.get(i), i % 50 == 0 ? state(c, bss) : c.ask("g"), "step " + i + " going back");
            }
            assertEquals("OK", c.ask("D"));
            assertEquals(0, vmm.status(60), vmm.toString());
            assertEquals(Workloads.expected("mcf", "test"), vmm.out());
        }
    }

    /** LIDT with a zero limit, a NOP, then INT3: no gate for it, nor for #GP or #DF, so the processor shuts down. */
    private static final byte[] CRASH = {
        (byte) 0x0F, (byte) 0x01, (byte) 0x1D, 0x00, 0x10, 0x10, 0x00, // 00 lidt [0x101000] (six zero bytes)
        (byte) 0x90,                                                  // 07 nop
        (byte) 0xCC,                                                  // 08 int3
        (byte) 0xF4,                                                  // 09 hlt
    };

    @Test
    void aCrashIsASignalStopThatCanBeSteppedBackFrom() throws Exception {
        Path image = tmp.resolve("crash.bin");
        Files.write(image, CRASH);
        try (GdbRig vmm = new GdbRig("--flat", image + "@0x100000", "--ram", "8M", "--gdb-wait"); RspClient c = new RspClient(vmm.port)) {
            c.ask("qSupported:swbreak+");
            assertEquals("T0bthread:1;", c.ask("c"), "a triple fault shows as SIGSEGV");
            assertEquals("T0bthread:1;", c.ask("c"), "and the guest stays there");
            // The INT3 never completed: the processor stands at it, two instructions retired.
            assertEquals(0x100008, c.register(8));
            assertEquals(2, c.register(ICOUNT));
            assertEquals("T05thread:1;", c.ask("bs"));
            assertEquals(0x100007, c.register(8), "back before the NOP, the last instruction that retired");
            assertEquals(1, c.register(ICOUNT));
            assertEquals("T05thread:1;", c.ask("s"));
            assertEquals(0x100008, c.register(8));
            assertEquals("T0bthread:1;", c.ask("s"), "stepping the INT3 crashes again");
            assertEquals("T05thread:1;", c.ask("bs"));
            assertEquals(0x100007, c.register(8));
            c.raw(RspClient.frame("k"));
            assertEquals(ExitStatus.INTERRUPTED, vmm.status(30), vmm.toString());
        }
    }

    /**
     * An echo guest (32-bit, flat at 1 MiB): polls COM1, stores each byte at 0x200000 + n, echoes
     * it, and after 8 bytes writes 0 to isa-debug-exit.
     */
    private static final byte[] ECHO = {
        (byte) 0x31, (byte) 0xDB,                                     // 00 xor ebx, ebx
        (byte) 0x66, (byte) 0xBA, (byte) 0xFD, (byte) 0x03,           // 02 mov dx, 0x3FD
        (byte) 0xEC,                                                  // 06 in al, dx
        (byte) 0xA8, (byte) 0x01,                                     // 07 test al, 1
        (byte) 0x74, (byte) 0xFB,                                     // 09 jz 06
        (byte) 0x66, (byte) 0xBA, (byte) 0xF8, (byte) 0x03,           // 0b mov dx, 0x3F8
        (byte) 0xEC,                                                  // 0f in al, dx
        (byte) 0x88, (byte) 0x83, 0x00, 0x00, 0x20, 0x00,             // 10 mov [ebx+0x200000], al
        (byte) 0xEE,                                                  // 16 out dx, al
        (byte) 0x43,                                                  // 17 inc ebx
        (byte) 0x83, (byte) 0xFB, 0x08,                               // 18 cmp ebx, 8
        (byte) 0x75, (byte) 0xE5,                                     // 1b jne 02
        (byte) 0x66, (byte) 0xBA, (byte) 0xF4, 0x00,                  // 1d mov dx, 0xF4
        (byte) 0x31, (byte) 0xC0,                                     // 21 xor eax, eax
        (byte) 0xEF,                                                  // 23 out dx, eax
        (byte) 0xF4,                                                  // 24 hlt
        (byte) 0xEB, (byte) 0xFD,                                     // 25 jmp 24
    };
    private static final int STORE = 0x100010;

    @Test
    void inThePastLoggedInputIsReplayedAndLiveInputWaits() throws Exception {
        Path image = tmp.resolve("echo.bin");
        Files.write(image, ECHO);
        // The guest polls while it waits: millions of instructions pass between two bytes. A checkpoint
        // every million instructions, and enough of them kept to reach back over all of it.
        try (GdbRig vmm = new GdbRig("--flat", image + "@0x100000", "--ram", "8M", "--interval", "1000000i", "--keep", "1000",
                "--gdb-wait");
                RspClient c = new RspClient(vmm.port)) {
            c.ask("qSupported:swbreak+");
            c.ask(String.format("Z0,%x,1", STORE));
            long[] at = new long[4];
            for (int i = 0; i < 3; i++) {
                c.raw(RspClient.frame("c"));
                Thread.sleep(50); // the guest polls for a while: input arrives later in guest time
                vmm.type(String.valueOf((char) ('a' + i)));
                assertEquals("T05swbreak:;thread:1;", c.reply());
                assertEquals('a' + i, c.register(0) & 0xFF, "the byte just typed is in AL");
                at[i] = c.register(ICOUNT);
            }
            for (int i = 0; i < 2; i++) {
                assertTrue(at[i] / 1_000_000 < at[i + 1] / 1_000_000, "a checkpoint in between: " + at[i] + " " + at[i + 1]);
            }
            assertEquals("T05swbreak:;thread:1;", c.ask("bc"));
            assertEquals('b', c.register(0) & 0xFF);
            assertEquals(at[1], c.register(ICOUNT));
            assertEquals("T05swbreak:;thread:1;", c.ask("bc"));
            assertEquals('a', c.register(0) & 0xFF);
            // Typed now, while the guest is in the past: it must wait for the guest to get back.
            vmm.type("d");
            Thread.sleep(200);
            for (int i = 1; i < 3; i++) {
                assertEquals("T05swbreak:;thread:1;", c.ask("c"));
                assertEquals('a' + i, c.register(0) & 0xFF, "the logged byte, replayed where it arrived");
                assertEquals(at[i], c.register(ICOUNT));
            }
            assertEquals("T05swbreak:;thread:1;", c.ask("c"));
            assertEquals('d', c.register(0) & 0xFF, "past the newest point reached, the byte typed in the past");
            assertEquals("abc", vmm.out(), "the echo of the replayed bytes is not printed again");
            vmm.type("efgh");
            c.ask(String.format("z0,%x,1", STORE));
            assertEquals("OK", c.ask("D"));
            assertEquals(0, vmm.status(60), vmm.toString());
            assertEquals("abcdefgh", vmm.out());
        }
    }

    private static String hex(String s) {
        StringBuilder b = new StringBuilder();
        for (byte x : s.getBytes(java.nio.charset.StandardCharsets.US_ASCII)) b.append(String.format("%02x", x));
        return b.toString();
    }
}
