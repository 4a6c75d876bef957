package io.mucheckpoint.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Ring 3 <-> ring 0: IRET to an outer level, system calls through a DPL 3 interrupt gate onto the
 * TSS's ring-0 stack and back, gate DPL checks, exceptions from ring 3, IOPL and the I/O permission
 * bitmap, POPF/IRET flag rules at CPL 3, trap versus interrupt gates, SYSENTER/SYSEXIT, and a bad
 * TSS stack (#TS). Programs: src/test/asm/privilege.S.
 */
class PrivilegeTransitionTest {
    static final int DATA = 0x60000;
    static final int USTACK = 0x70000;
    static final int CONF = 0x30; // conforming ring-0 code

    final TestMachine m = new TestMachine();

    @BeforeEach
    void gates() {
        m.load(PrivilegeAsm.sys_handler);
        m.putGate(0x80, TestMachine.KCODE, PrivilegeAsm.AT_sys_handler, 0xEE);
        m.putGate(0x81, TestMachine.KCODE, TestMachine.HANDLERS + 0x81, 0xEE);
        m.putSegment(6, 0, 0xFFFFF, 0xC09F);
    }

    private void assertFault(int vector, int err, int eip) {
        assertEquals(vector, m.exceptionTaken(), "exception vector");
        assertEquals(err, m.stack(0), "error code");
        assertEquals(eip, m.stack(1), "faulting EIP");
    }

    @Test
    void systemCallFromRingThreeThroughTheTssStackAndBack() {
        m.run(PrivilegeAsm.syscall_roundtrip);
        assertEquals(0x81, m.exceptionTaken(), "back in ring 3, then INT 0x81");
        assertEquals(42, m.cpu.reg(Cpu.EBX), "EAX + 41 came back");
        assertEquals(TestMachine.UDATA, m.cpu.reg(Cpu.ECX), "DS survived the round trip");
        // The frame the system call saw.
        assertEquals(PrivilegeAsm.AT_sc_after, m.read32(DATA), "EIP after INT");
        assertEquals(TestMachine.UCODE, m.read32(DATA + 4));
        assertEquals(0, m.read32(DATA + 8) & Registers.VM);
        assertEquals(USTACK, m.read32(DATA + 12), "user ESP");
        assertEquals(TestMachine.UDATA, m.read32(DATA + 16), "user SS");
        assertEquals(TestMachine.KCODE, m.read32(DATA + 20), "handler CS (CPL 0)");
        assertEquals(TestMachine.KDATA, m.read32(DATA + 24), "SS0 from the TSS");
        assertEquals(0, m.read32(DATA + 28) & Registers.IF, "an interrupt gate clears IF");
        assertEquals(TestMachine.UDATA, m.read32(DATA + 32), "DS is not changed by the gate");
        // And the final INT 0x81 frame, on the ring-0 stack again.
        assertEquals(TestMachine.STACK_TOP - 20, m.cpu.reg(Cpu.ESP));
        assertEquals(USTACK, m.stack(3));
        assertEquals(TestMachine.UCODE, m.stack(1));
        assertEquals(0, m.cpu.cpl());
    }

    @Test
    void interruptGateWithDplZeroIsNotCallableFromRingThree() {
        m.cpu.setReg(Cpu.ESI, PrivilegeAsm.AT_probe_int30);
        m.run(PrivilegeAsm.user_probe);
        assertFault(CpuFault.GP, 0x30 * 8 + 2, PrivilegeAsm.AT_probe_int30);
        assertEquals(USTACK, m.stack(4), "taken on the ring-0 stack with the user SS:ESP");
        assertEquals(TestMachine.UDATA, m.stack(5));
    }

    @Test
    void iopLSensitiveInstructionsAtRingThree() {
        for (int probe : new int[] {PrivilegeAsm.AT_probe_cli, PrivilegeAsm.AT_probe_sti, PrivilegeAsm.AT_probe_hlt}) {
            m.reset32();
            gates();
            m.cpu.setReg(Cpu.ESI, probe);
            m.run(PrivilegeAsm.user_probe);
            assertFault(CpuFault.GP, 0, probe);
        }
        // With IOPL 3, CLI and STI are allowed (HLT never is).
        for (int probe : new int[] {PrivilegeAsm.AT_probe_cli, PrivilegeAsm.AT_probe_sti}) {
            m.reset32();
            gates();
            m.cpu.setEflags(0x3002);
            m.cpu.setReg(Cpu.ESI, probe);
            m.run(PrivilegeAsm.user_probe);
            assertEquals(0x81, m.exceptionTaken());
        }
    }

    @Test
    void ioPermissionBitmapAtRingThree() {
        m.ioBitmap(0x20);
        m.allowPort(0x80);
        m.cpu.setReg(Cpu.ESI, PrivilegeAsm.AT_probe_io);
        m.run(PrivilegeAsm.user_probe);
        assertFault(CpuFault.GP, 0, PrivilegeAsm.AT_probe_outw);
        assertEquals(2, m.ioLog.size(), "OUT and IN of port 0x80 went through");
        assertEquals(0x80, m.ioLog.get(0)[0]);
        assertEquals(0x80, m.ioLog.get(1)[0]);

        // A word access needs both ports.
        m.reset32();
        gates();
        m.ioBitmap(0x20);
        m.allowPort(0x80);
        m.allowPort(0x81);
        m.ioLog.clear();
        m.cpu.setReg(Cpu.ESI, PrivilegeAsm.AT_probe_io);
        m.run(PrivilegeAsm.user_probe);
        assertEquals(0x81, m.exceptionTaken());
        assertEquals(3, m.ioLog.size());

        // A dword access crossing a byte of the bitmap (ports 0xFE..0x101).
        m.reset32();
        gates();
        m.ioBitmap(0x40);
        for (int p = 0xFE; p <= 0x101; p++) m.allowPort(p);
        m.cpu.setReg(Cpu.EDX, 0xFE);
        m.cpu.setReg(Cpu.ESI, PrivilegeAsm.AT_probe_dx_io);
        m.run(PrivilegeAsm.user_probe);
        assertEquals(0x81, m.exceptionTaken());
        m.reset32();
        gates();
        m.ioBitmap(0x40);
        for (int p = 0xFE; p <= 0x100; p++) m.allowPort(p);
        m.cpu.setReg(Cpu.EDX, 0xFE);
        m.cpu.setReg(Cpu.ESI, PrivilegeAsm.AT_probe_dx_io);
        m.run(PrivilegeAsm.user_probe);
        assertEquals(CpuFault.GP, m.exceptionTaken(), "port 0x101 denied");

        // Ports beyond the bitmap (TSS limit) are denied.
        m.reset32();
        gates();
        m.ioBitmap(0x10);
        m.cpu.setReg(Cpu.EDX, 0x90);
        m.cpu.setReg(Cpu.ESI, PrivilegeAsm.AT_probe_dx_io);
        m.run(PrivilegeAsm.user_probe);
        assertEquals(CpuFault.GP, m.exceptionTaken());

        // No bitmap at all (I/O map base beyond the limit): every port is denied.
        m.reset32();
        gates();
        m.cpu.setReg(Cpu.ESI, PrivilegeAsm.AT_probe_io81);
        m.run(PrivilegeAsm.user_probe);
        assertFault(CpuFault.GP, 0, PrivilegeAsm.AT_probe_io81);

        // IOPL 3: the bitmap is not consulted.
        m.reset32();
        gates();
        m.cpu.setEflags(0x3002);
        m.ioLog.clear();
        m.cpu.setReg(Cpu.ESI, PrivilegeAsm.AT_probe_io81);
        m.run(PrivilegeAsm.user_probe);
        assertEquals(0x81, m.exceptionTaken());
        assertEquals(1, m.ioLog.size());
    }

    @Test
    void popfAndIretAtRingThreeCannotRaiseIoplOrIf() {
        m.run(PrivilegeAsm.user_flags);
        assertEquals(0x81, m.exceptionTaken());
        assertEquals(0, m.read32(DATA) & (Registers.IOPL | Registers.IF), "POPF ignored IOPL and IF");
        assertEquals(0, m.read32(DATA + 4) & (Registers.IOPL | Registers.IF), "IRET ignored IOPL and IF");
        // With IOPL 3 at CPL 3, IF may change but IOPL still may not be written... it is 3 already.
        m.reset32();
        gates();
        m.cpu.setEflags(0x3002);
        m.run(PrivilegeAsm.user_flags);
        assertEquals(Registers.IF | Registers.IOPL, m.read32(DATA) & (Registers.IOPL | Registers.IF));
    }

    @Test
    void trapGateKeepsIfInterruptGateClearsIt() {
        m.putGate(0x40, TestMachine.KCODE, PrivilegeAsm.AT_trap_gate_handler, 0x8F);
        m.putGate(0x41, TestMachine.KCODE, PrivilegeAsm.AT_intr_gate_handler, 0x8E);
        m.run(PrivilegeAsm.gate_kinds);
        assertEquals(-1, m.exceptionTaken());
        assertEquals(Registers.IF, m.read32(DATA) & Registers.IF);
        assertEquals(0, m.read32(DATA + 4) & Registers.IF);
        assertTrue(m.cpu.interruptsEnabled(), "IRET restored IF");
        assertEquals(TestMachine.STACK_TOP, m.cpu.reg(Cpu.ESP));
    }

    @Test
    void sysenterAndSysexit() {
        m.run(PrivilegeAsm.sysenter_test);
        assertEquals(0x81, m.exceptionTaken());
        assertEquals(42, m.cpu.reg(Cpu.EBX), "7 * 6 computed in ring 0");
        assertEquals(0x8800, m.read32(DATA), "ESP = IA32_SYSENTER_ESP");
        assertEquals(TestMachine.KCODE, m.read32(DATA + 4));
        assertEquals(TestMachine.KDATA, m.read32(DATA + 8));
        assertEquals(0, m.read32(DATA + 12) & Registers.IF, "SYSENTER clears IF");
        assertEquals(USTACK, m.stack(3), "SYSEXIT: ESP = ECX");
        assertEquals(PrivilegeAsm.AT_se_after + 2 + 2, m.stack(0), "SYSEXIT: EIP = EDX");
        assertEquals(TestMachine.UCODE, m.stack(1), "ring 3 CS = SYSENTER_CS + 16, RPL 3");
        assertEquals(TestMachine.UDATA, m.stack(4), "ring 3 SS = SYSENTER_CS + 24, RPL 3");
    }

    @Test
    void sysexitOutsideRingZeroAndSysenterWithoutSelectorFault() {
        m.run(PrivilegeAsm.sysexit_ring3);
        assertFault(CpuFault.GP, 0, PrivilegeAsm.AT_sysexit_insn);
        m.reset32();
        gates();
        m.run(PrivilegeAsm.sysenter_nocs);
        assertFault(CpuFault.GP, 0, PrivilegeAsm.AT_sysenter_nocs_insn);
    }

    @Test
    void badRingZeroStackInTheTssRaisesInvalidTss() {
        m.putSegment(7, 0, 0xFFFFF, 0xC090); // read-only data as SS0
        m.write32(0x3000 + 8, 0x38);
        m.load(PrivilegeAsm.ts_handler);
        m.putGate(CpuFault.TS, CONF, PrivilegeAsm.AT_ts_handler, 0x8E);
        m.load(PrivilegeAsm.syscall_roundtrip);
        assertEquals(Cpu.Stop.BUDGET, m.runAt(PrivilegeAsm.AT_syscall_roundtrip, 200));
        assertEquals(0x38, m.read32(DATA + 0x40), "#TS(SS0 selector)");
        assertEquals(CONF | 3, m.read32(DATA + 0x44), "conforming handler at CPL 3, no stack switch");
        assertEquals(3, m.cpu.cpl());
    }

    @Test
    void ringZeroStackTooSmallForTheFrameRaisesStackFault() {
        m.putSegment(7, 0, 0x8FF0, 0x4093); // SS0 whose limit ends inside the frame
        m.write32(0x3000 + 8, 0x38);
        m.write32(0x3000 + 4, 0x9000);
        m.load(PrivilegeAsm.ts_handler);
        m.putGate(CpuFault.SS, CONF, PrivilegeAsm.AT_ts_handler, 0x8E);
        m.write32(0x8FFC, 0x5A5A5A5A);
        m.cpu.setReg(Cpu.ESP, 0x7F000);
        m.load(PrivilegeAsm.syscall_roundtrip);
        assertEquals(Cpu.Stop.BUDGET, m.runAt(PrivilegeAsm.AT_syscall_roundtrip, 200));
        assertEquals(0x38, m.read32(DATA + 0x40), "#SS(SS0 selector)");
        assertEquals(CONF | 3, m.read32(DATA + 0x44));
        assertEquals(0x5A5A5A5A, m.read32(0x8FFC), "nothing pushed beyond the limit");
    }

    @Test
    void iretToOuterLevelChecksTheNewStackSelector() {
        m.run(PrivilegeAsm.bad_iret);
        assertFault(CpuFault.GP, TestMachine.KDATA, PrivilegeAsm.AT_bad_iret_insn);
    }
}
