package io.mucheckpoint.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * Cases {@link RandomCodeFuzzTest} found that broke the emulator, each with the bytes and state
 * that did it, kept so the bugs stay fixed. Each runs under {@link FuzzRig#run}'s checks (no Java
 * exception, no overshoot, no run without progress) plus what the fix promises.
 */
class FuzzRegressionTest {
    private final FuzzRig rig = new FuzzRig();

    /**
     * MOV CR0, EDI clears PE (paging goes off with it) and the code runs on in real mode with the
     * resuming handlers' IDT taken as an IVT; the handler it reaches faults on its first
     * instruction and the 16-bit stack wraps instead of running out, so exceptions were delivered
     * forever without an instruction completing: Cpu.run never returned. Now the processor shuts
     * down with "exception loop" after {@link Cpu#FAULT_LOOP_LIMIT} such deliveries.
     */
    @Test
    void exceptionLoopInRealModeEndsInsteadOfSpinning() {
        FuzzRig.Case c = new FuzzRig.Case(FuzzRig.Mode.PAGING, FuzzRig.bytes("9b 5e 35 5a 1f dd f4 a5 07 6e 24 30 0f 17 cb 22 65 35 d3 de 4a af 64 d0 1f 0f 22 c7 1e 8c 61 d9 c5 d3 aa 8e 9d 8c ac b5 18 8c 6e 3f"),
                new int[] {0x6b, 0xc8, 0xc0002d92, 0xc000085c, 0x9000, 0x16912c, 0x3f252, 0x62e1a}, 0x210685,
                new int[] {0x3, 0x0, 0x1, 0x7}, 0x10000, 0x14, false, -1, false, true);
        FuzzRig.Outcome o = rig.run(c, 400, null);
        assertEquals(Cpu.Stop.SHUTDOWN, o.stop());
        assertTrue(rig.cpu.shutdownReason().startsWith("exception loop"), rig.cpu.shutdownReason());
        assertEquals(28, o.icount());
    }

    /**
     * Ring 3 with paging: LOOPNE jumps into zeros ("add [eax], al") that run to the end of the code
     * page. The run cut in pieces ended with the next page's PTE accessed bit set, the run in one
     * piece without: decoding a block ahead translated the page after the one it ran on whenever a
     * block started close enough to the page end, so where runs were cut leaked into guest memory.
     * Decoding now stops at the page end without touching the next page.
     */
    @Test
    void decodingAheadDoesNotSetAccessedBitsOfPagesNotRun() {
        FuzzRig.Case c = new FuzzRig.Case(FuzzRig.Mode.USER, FuzzRig.bytes("e0 70 b8 67 a9 55 b6 39 a0 f2 e2 6c 95 1a 70"),
                new int[] {0xd18a, 0xc00088ab, 0x722a4, 0x8054a, 0x8f88, 0xd0088, 0x108880, 0x125c0}, 0xd7a10,
                new int[] {0x6, 0x2, 0x4, 0x2}, 0x40022, 0x1c, false, -1, false, false);
        FuzzRig.Outcome whole = rig.run(c, 4000, null);
        assertEquals(Cpu.Stop.BUDGET, whole.stop());
        for (long seed : new long[] {9664, 1, 2, 3}) {
            assertEquals(whole, rig.run(c, 4000, new java.util.Random(seed)), "run in pieces (seed " + seed + ")");
        }
        // And directly: a block that starts near the end of a page leaves the next page untouched.
        rig.setUp(c);
        int pte = FuzzRig.PD + 0x1000 + (0x12 << 2); // the PTE of linear page 0x12000
        assertEquals(0, rig.mem.read(pte, 4) & 0x20, "not accessed before");
        rig.mem.load(0x11FF0, new byte[] {(byte) 0x90, (byte) 0x90, (byte) 0x90, (byte) 0x90, (byte) 0x90, (byte) 0x90,
            (byte) 0x90, (byte) 0x90, (byte) 0x90, (byte) 0x90, (byte) 0x90, (byte) 0x90, (byte) 0x90, (byte) 0x90, (byte) 0x90, (byte) 0x90});
        rig.cpu.eip = 0x11FF0;
        rig.cpu.run(rig.cpu.icount() + 2);
        assertEquals(0, rig.mem.read(pte, 4) & 0x20, "the next page was not touched by running two NOPs before it");
    }

    /**
     * Real mode, A20 off: a REPNE STOSB storing 0x64 (an FS prefix) runs up through its own code and
     * overwrites its own opcode. Run in one piece the REP went on with the instruction it had
     * decoded; cut between two iterations it was fetched again from the overwritten bytes and did
     * something else. A REP instruction now stops after an iteration that voids the block it is in
     * and is fetched again, however the run is cut.
     */
    @Test
    void repStringOverwritingItsOwnCodeDoesNotDependOnWhereTheRunIsCut() {
        FuzzRig.Case c = new FuzzRig.Case(FuzzRig.Mode.REAL, FuzzRig.bytes("fe 41 8e b2 eb 67 fa 34 95 3b 2e 82 cd 2e 90 be 26 e3 f2 aa fb b3 87 19 43 9c c7 8a af e6 d4 6e be 3f 14 0a b3 20 93 de 85 e0 66 f2 fc bf fa 65 2b d2 92 88 31 9b c5 34"),
                new int[] {0x4a7f1, 0x1dd82, 0x67db, 0x2bef0, 0x8fc4, 0xfcb47, 0xc2cad, 0x1e8e70}, 0x283400,
                new int[] {0xba56, 0x726, 0xe1c0, 0x2a}, 0x22, 0x4, true, -1, true, true);
        FuzzRig.Outcome whole = rig.run(c, 3000, null);
        for (long seed : new long[] {858, 1, 2}) assertEquals(whole, rig.run(c, 3000, new java.util.Random(seed)), "seed " + seed);
    }

    /** The same, on purpose: REP STOSB of NOPs starting at its own REP prefix. */
    @Test
    void repStosThatOverwritesItsOwnPrefixIsFetchedAgain() {
        // mov ax,cs; mov es,ax; mov al,0x90; mov di,0x0D; mov cx,0x10; cld; rep stosb (at 0x0D); hlt
        FuzzRig.Case c = new FuzzRig.Case(FuzzRig.Mode.REAL, FuzzRig.bytes("8c c8 8e c0 b0 90 bf 0d 00 b9 10 00 fc f3 aa f4"),
                new int[] {0, 0, 0, 0, 0x9000, 0, 0, 0}, 0, new int[] {0, 0, 0, 0}, 0, 0, false, -1, false, false);
        FuzzRig.Outcome whole = rig.run(c, 1000, null);
        // The first iteration turns the REP prefix into a NOP; fetched again, what is left is a NOP and a
        // single STOSB (which overwrites itself, harmlessly, after it was decoded), then the HLT.
        assertEquals(Cpu.Stop.HALTED, whole.stop());
        assertEquals(0x0F, rig.cpu.reg(Cpu.ECX) & 0xFFFF, "one REP iteration ran");
        assertEquals(0x0F, rig.cpu.reg(Cpu.EDI) & 0xFFFF);
        assertEquals(0x10, rig.cpu.eip() & 0xFFFF, "halted at the HLT");
        for (long seed = 0; seed < 4; seed++) assertEquals(whole, rig.run(c, 1000, new java.util.Random(seed)));
    }

    /**
     * Virtual-8086 mode: code ran through linear 0x1FFCD first with CS=1000 and later with CS=0FFF,
     * where the IP wraps from FFFF to 0 in the middle of the bytes. The block decoded the first
     * time was found again by its physical address and executed across the wrap point, running the
     * bytes after it instead of those at the wrapped IP; a run cut at the right place decoded afresh
     * and did it right. A cached block is now used only where it decodes the same: within the CS
     * limit and, in 16-bit code, with no IP wrap inside it.
     */
    @Test
    void codeDecodedForOneCodeSegmentIsNotRunAcrossAnothersIpWrap() {
        FuzzRig.Case c = new FuzzRig.Case(FuzzRig.Mode.V86, FuzzRig.bytes("e2 cb c1 00 6a 64 0b cb ea 4e ff e1 de 93 17"),
                new int[] {0xf3044, 0xd589f53b, 0x11725c, 0xfffffffe, 0x8ffc, 0xbddb7, 0xc82e, 0x88aba}, 0x200a04,
                new int[] {0x4645, 0x3d, 0x8ed0, 0x18}, 0x1002e, 0x10, false, -1, false, true);
        FuzzRig.Outcome whole = rig.run(c, 3000, null);
        for (long seed : new long[] {965, 1, 2}) assertEquals(whole, rig.run(c, 3000, new java.util.Random(seed)), "seed " + seed);
    }

    /** The same, on purpose: 64 INC AX at linear 0x1F000, run as 1000:F000 and then as 0F02:FFE0 (IP wraps after 32). */
    @Test
    void realModeIpWrapIsHonouredForCodeAlreadyDecoded() {
        rig.setUp(new FuzzRig.Case(FuzzRig.Mode.REAL, new byte[] {(byte) 0xF4}, new int[] {0, 0, 0, 0, 0x9000, 0, 0, 0}, 0,
                new int[] {0, 0, 0, 0}, 0, 0, false, -1, false, false));
        byte[] incAx = new byte[65];
        java.util.Arrays.fill(incAx, (byte) 0x40);
        incAx[64] = (byte) 0xF4;
        rig.mem.load(0x1F000, incAx);
        rig.mem.load(0xF020, new byte[] {0x43, 0x43, 0x43, 0x43, 0x43, 0x43, 0x43, 0x43, (byte) 0xF4}); // 8 INC BX; HLT
        Cpu cpu = rig.cpu;
        cpu.loadSegment(Cpu.SEG_CS, 0x1000);
        cpu.setEip(0xF000);
        assertEquals(Cpu.Stop.HALTED, cpu.run(cpu.icount() + 1000));
        assertEquals(64, cpu.reg(Cpu.EAX));
        cpu.setReg(Cpu.EAX, 0);
        cpu.halted = false;
        cpu.loadSegment(Cpu.SEG_CS, 0x0F02);
        cpu.setEip(0xFFE0);
        assertEquals(Cpu.Stop.HALTED, cpu.run(cpu.icount() + 1000));
        assertEquals(32, cpu.reg(Cpu.EAX), "INC AX from IP FFE0 to FFFF");
        assertEquals(8, cpu.reg(Cpu.EBX), "then, IP wrapped to 0, the code at linear 0F020");
    }

    /** And the CS limit: code decoded under a flat CS is not run past the limit of a smaller one (#GP there). */
    @Test
    void codeDecodedUnderALargerLimitStillFaultsAtASmallerOne() {
        rig.setUp(new FuzzRig.Case(FuzzRig.Mode.PM32, new byte[] {(byte) 0x90, (byte) 0x90, (byte) 0x90, (byte) 0x90, (byte) 0x90,
            (byte) 0x90, (byte) 0x90, (byte) 0x90, (byte) 0x90, (byte) 0x90, (byte) 0x90, (byte) 0x90, (byte) 0xF4},
                new int[] {0, 0, 0, 0, 0x9000, 0, 0, 0}, 0, new int[] {0, 0, 0, 0}, 0, 0, false, -1, false, false));
        Cpu cpu = rig.cpu;
        assertEquals(Cpu.Stop.HALTED, cpu.run(cpu.icount() + 100));
        assertEquals(FuzzRig.CODE + 13, cpu.eip(), "twelve NOPs and the HLT under the flat CS");
        // GDT entry 16: 32-bit code, base 0, byte-granular limit CODE + 5.
        int lo = ((FuzzRig.CODE + 5) & 0xFFFF), hi = 0x00409A00 | ((FuzzRig.CODE + 5) & 0xF0000);
        rig.mem.write(FuzzRig.GDT + 0x80, 4, lo);
        rig.mem.write(FuzzRig.GDT + 0x84, 4, hi);
        cpu.gdtLimit = 0x87;
        cpu.loadSegment(Cpu.SEG_CS, 0x80);
        cpu.setEip(FuzzRig.CODE);
        cpu.halted = false;
        long before = cpu.icount();
        assertEquals(Cpu.Stop.HALTED, cpu.run(cpu.icount() + 100));
        assertEquals(FuzzRig.HANDLERS + CpuFault.GP + 1, cpu.eip(), "#GP at the NOP past the limit");
        assertEquals(6 + 1, cpu.icount() - before, "the six NOPs within the limit ran (and the handler's HLT)");
    }

    /** The same kind of loop, made on purpose: real mode, #UD whose handler is itself an undefined opcode. */
    @Test
    void handlerThatFaultsOnItsFirstInstructionShutsDown() {
        // IVT entry 6 -> 0000:0x0600, which holds UD2; the stack, SS:SP = 3000:0200, wraps within its 64 KiB.
        FuzzRig.Case c = new FuzzRig.Case(FuzzRig.Mode.REAL,
                FuzzRig.bytes("31 c0 8e d8 c7 06 18 00 00 06 c7 06 1a 00 00 00 c7 06 00 06 0f 0b b8 00 30 8e d0 0f 0b"),
                new int[] {0, 0, 0, 0, 0x200, 0, 0, 0}, 0, new int[] {0, 0, 0, 0}, 0, 0, false, -1, false, false);
        FuzzRig.Outcome o = rig.run(c, 1000, null);
        assertEquals(Cpu.Stop.SHUTDOWN, o.stop());
        assertTrue(rig.cpu.shutdownReason().startsWith("exception loop"), rig.cpu.shutdownReason());
        assertEquals(7, o.icount());
        assertEquals(0x600, rig.cpu.eip());
    }
}
