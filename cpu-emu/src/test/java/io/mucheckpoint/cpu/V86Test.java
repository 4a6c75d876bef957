package io.mucheckpoint.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Virtual-8086 mode: entry by IRET from ring 0, real-mode style segments, INT n through the
 * protected-mode IDT with the V86 frame and back by IRET, the IOPL-sensitive instructions (CLI,
 * STI, PUSHF, POPF, INT n, IRET) raising #GP when IOPL < 3, I/O always through the permission
 * bitmap, HLT and protected-mode-only instructions. Programs: src/test/asm/v86.S.
 */
class V86Test {
    static final int DATA = 0x60000;
    static final int VM = Registers.VM;
    static final int IOPL3 = Registers.IOPL;

    final TestMachine m = new TestMachine();

    @BeforeEach
    void setUp() {
        m.load(V86Asm.v86_enter);
        m.load(V86Asm.v86_int21);
        m.load(V86Asm.v86_code);
        m.putGate(0x21, TestMachine.KCODE, V86Asm.AT_v86_int21, 0xEE);
        m.putGate(0x22, TestMachine.KCODE, TestMachine.HANDLERS + 0x22, 0xEE);
        m.ioBitmap(0x20);
        m.allowPort(0x80);
    }

    private void enter(int ip, int eflags) {
        m.cpu.setReg(Cpu.EBX, eflags | VM | 2);
        m.cpu.setReg(Cpu.ESI, ip - 0x20000);
        m.runAt(V86Asm.AT_v86_enter);
    }

    /** A #GP(0) from V86 at {@code ip}: the frame has the V86 segments and VM set. */
    private void assertV86Gp(int ip) {
        assertEquals(CpuFault.GP, m.exceptionTaken(), "#GP");
        assertEquals(0, m.stack(0), "error code");
        assertEquals(ip - 0x20000, m.stack(1), "IP of the instruction");
        assertEquals(0x2000, m.stack(2), "CS");
        assertEquals(VM, m.stack(3) & VM, "VM in the saved EFLAGS");
        assertEquals(0x2800, m.stack(5), "SS");
        assertEquals(0x2400, m.stack(6), "ES");
        assertEquals(0x2400, m.stack(7), "DS");
        assertEquals(0, m.cpu.eflags() & VM, "the handler runs in protected mode");
        assertEquals(0, m.cpu.cpl());
        assertEquals(0, m.cpu.segmentSelector(AddressSpace.DS), "data segments nulled on the way in");
    }

    @Test
    void v86ProgramWithIopl3() {
        m.mem.write(0x2A000 - 2, 2, 0);
        enter(V86Asm.AT_v86_main, IOPL3);
        assertEquals(0x22, m.exceptionTaken(), "ran to INT 0x22");
        assertEquals(0x1234, m.mem.read(0x24010, 2), "DS:0x10 = 0x24010");
        assertEquals(0x1234, m.mem.read(0x25020, 2), "ES loaded real-mode style: base 0x25000");
        assertEquals(0x2400, m.cpu.reg(Cpu.EBX) & 0xFFFF);
        int flags = m.mem.read(0x24012, 2);
        assertEquals(IOPL3 | Registers.IF, flags & (IOPL3 | Registers.IF), "PUSHF with IOPL 3: IF (set by STI) and IOPL");
        // The INT 0x21 frame as the ring-0 handler saw it.
        assertEquals(V86Asm.AT_v86_after21 - 0x20000, m.read32(DATA), "IP after INT");
        assertEquals(0x2000, m.read32(DATA + 4), "CS");
        assertEquals(VM | IOPL3, m.read32(DATA + 8) & (VM | IOPL3), "EFLAGS");
        assertEquals(0x1000, m.read32(DATA + 12), "SP (the PUSHF/POP pair left it alone)");
        assertEquals(0x2800, m.read32(DATA + 16), "SS");
        assertEquals(0x2500, m.read32(DATA + 20), "ES");
        assertEquals(0x2400, m.read32(DATA + 24), "DS");
        assertEquals(0, m.read32(DATA + 28), "FS");
        assertEquals(0, m.read32(DATA + 32), "GS");
        assertEquals(0, m.read32(DATA + 0x40), "DS nulled in the handler");
        assertEquals(0, m.read32(DATA + 0x44), "ES nulled in the handler");
        // Back in V86 after the handler's IRET.
        assertEquals(0x4321, m.mem.read(0x24014, 2), "AX from the handler");
        assertEquals(0x12345678, m.read32(0x24018), "32-bit operand in V86 (0x66 prefix)");
        assertEquals(1, m.ioLog.size(), "OUT to a port the bitmap allows");
        assertEquals(0x2800, m.stack(4), "the INT 0x22 frame is a V86 frame too");
    }

    @Test
    void ioplSensitiveInstructionsFaultWhenIoplBelow3() {
        int[] sensitive = {V86Asm.AT_v86_cli, V86Asm.AT_v86_sti, V86Asm.AT_v86_pushf, V86Asm.AT_v86_int,
            V86Asm.AT_v86_iret16};
        for (int ip : sensitive) {
            m.reset32();
            setUp();
            enter(ip, 0);
            assertV86Gp(ip);
        }
        m.reset32();
        setUp();
        enter(V86Asm.AT_v86_popf_setup, 0);
        assertV86Gp(V86Asm.AT_v86_popf);
        assertEquals(0x1000 - 2, m.stack(4), "SP after the PUSH only: POPF did not pop");
    }

    @Test
    void ioplSensitiveInstructionsRunWithIopl3() {
        for (int ip : new int[] {V86Asm.AT_v86_cli, V86Asm.AT_v86_sti, V86Asm.AT_v86_pushf}) {
            m.reset32();
            setUp();
            enter(ip, IOPL3);
            assertEquals(0x22, m.exceptionTaken());
        }
    }

    @Test
    void popfInV86CannotChangeIopl() {
        enter(V86Asm.AT_v86_popf_iopl, IOPL3 | Registers.IF);
        assertEquals(0x22, m.exceptionTaken());
        int flags = m.mem.read(0x24016, 2);
        assertEquals(IOPL3, flags & IOPL3, "IOPL stays 3");
        assertEquals(0, flags & Registers.IF, "IF cleared");
    }

    @Test
    void iretInV86WithIopl3StaysInV86() {
        enter(V86Asm.AT_v86_iret_ok, IOPL3);
        assertEquals(0x22, m.exceptionTaken());
        assertEquals(0x2000, m.cpu.reg(Cpu.EDX) & 0xFFFF, "CS after the 16-bit IRET");
        assertEquals(VM, m.stack(2) & VM);
    }

    @Test
    void ioInV86AlwaysUsesTheBitmap() {
        enter(V86Asm.AT_v86_io81, IOPL3);
        assertV86Gp(V86Asm.AT_v86_io81);
        assertEquals(0, m.ioLog.size());
    }

    @Test
    void hltAndProtectedModeInstructionsInV86() {
        enter(V86Asm.AT_v86_hlt, IOPL3);
        assertV86Gp(V86Asm.AT_v86_hlt);
        m.reset32();
        setUp();
        enter(V86Asm.AT_v86_lar, IOPL3);
        assertEquals(CpuFault.UD, m.exceptionTaken(), "LAR is not recognised in V86");
        assertEquals(V86Asm.AT_v86_lar - 0x20000, m.stack(0));
    }

    @Test
    void externalInterruptInV86UsesTheProtectedModeIdt() {
        m.cpu.setReg(Cpu.EBX, IOPL3 | VM | 2);
        m.cpu.setReg(Cpu.ESI, V86Asm.AT_v86_intr - 0x20000);
        m.runAt(V86Asm.AT_v86_enter, 50);
        assertEquals(VM, m.cpu.eflags() & VM);
        m.raiseInterrupt(0x40);
        m.resume(100);
        assertEquals(0x40, m.exceptionTaken());
        assertEquals(V86Asm.AT_v86_wait - 0x20000, m.stack(0));
        assertEquals(0x2000, m.stack(1));
        assertEquals(VM, m.stack(2) & VM);
        assertEquals(0x2400, m.stack(6), "DS in the V86 frame");
    }

    @Test
    void interruptGateToRingThreeCodeFromV86Faults() {
        // The handler must be ring 0 code: a DPL 3 target raises #GP(target selector).
        m.putGate(0x21, TestMachine.UCODE & ~3, V86Asm.AT_v86_int21, 0xEE);
        enter(V86Asm.AT_v86_int, IOPL3);
        assertEquals(CpuFault.GP, m.exceptionTaken());
        assertEquals(TestMachine.UCODE & ~3, m.stack(0));
    }
}
