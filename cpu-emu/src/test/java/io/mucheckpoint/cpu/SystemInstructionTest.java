package io.mucheckpoint.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * The system instructions a kernel uses: CPUID (basic and extended leaves), RDMSR/WRMSR of the
 * MSRs it touches (answers consistent with CPUID), RDTSC and CR4.TSD, WBINVD/INVD, debug
 * registers, and the #GP every privileged instruction raises at ring 3. Programs:
 * src/test/asm/sysinsn.S.
 */
class SystemInstructionTest {
    static final int DATA = 0x60000;

    final TestMachine m = new TestMachine();

    private int[] cpuid(int leaf) {
        m.cpu.setReg(Cpu.EAX, leaf);
        m.cpu.setReg(Cpu.ECX, 0);
        m.run(SysinsnAsm.cpuid_prog);
        assertEquals(-1, m.exceptionTaken());
        return new int[] {m.cpu.reg(Cpu.EAX), m.cpu.reg(Cpu.EBX), m.cpu.reg(Cpu.ECX), m.cpu.reg(Cpu.EDX)};
    }

    private static String text(int... words) {
        ByteBuffer b = ByteBuffer.allocate(4 * words.length).order(ByteOrder.LITTLE_ENDIAN);
        for (int w : words) b.putInt(w);
        return new String(b.array(), StandardCharsets.US_ASCII);
    }

    private long rdmsr(int msr) {
        m.cpu.setReg(Cpu.ECX, msr);
        m.run(SysinsnAsm.rdmsr_prog);
        assertEquals(-1, m.exceptionTaken(), "RDMSR " + Integer.toHexString(msr));
        return (m.cpu.reg(Cpu.EDX) & 0xFFFFFFFFL) << 32 | (m.cpu.reg(Cpu.EAX) & 0xFFFFFFFFL);
    }

    private long roundTrip(int msr, long v) {
        m.cpu.setReg(Cpu.ECX, msr);
        m.cpu.setReg(Cpu.EAX, (int) v);
        m.cpu.setReg(Cpu.EDX, (int) (v >>> 32));
        m.run(SysinsnAsm.msr_roundtrip);
        assertEquals(-1, m.exceptionTaken(), "WRMSR/RDMSR " + Integer.toHexString(msr));
        return (m.cpu.reg(Cpu.EDX) & 0xFFFFFFFFL) << 32 | (m.cpu.reg(Cpu.EAX) & 0xFFFFFFFFL);
    }

    // --- CPUID ------------------------------------------------------------------------------------

    @Test
    void cpuidBasicLeaves() {
        int[] r = cpuid(0);
        assertEquals(1, r[0], "highest basic leaf");
        assertEquals("GenuineIntel", text(r[1], r[3], r[2]));
        r = cpuid(1);
        assertEquals(0x633, r[0], "family 6 model 3 stepping 3");
        int d = r[3];
        for (int bit : new int[] {0, 2, 3, 4, 5, 7, 8, 11, 12, 13, 14, 15}) assertEquals(1, d >>> bit & 1, "EDX bit " + bit);
        for (int bit : new int[] {1, 6, 9, 16, 23, 24, 25, 26}) assertEquals(0, d >>> bit & 1, "EDX bit " + bit);
        assertEquals(0, r[2], "no ECX features");
        int[] beyond = cpuid(5);
        assertEquals(r[0], beyond[0], "a leaf beyond the highest answers like the highest");
    }

    @Test
    void cpuidExtendedLeaves() {
        int[] r = cpuid(0x80000000);
        assertEquals(0x80000004, r[0]);
        r = cpuid(0x80000001);
        assertEquals(0, r[3], "no NX, no LM, no SYSCALL");
        StringBuilder brand = new StringBuilder();
        for (int leaf = 0x80000002; leaf <= 0x80000004; leaf++) {
            int[] b = cpuid(leaf);
            brand.append(text(b));
        }
        assertTrue(brand.toString().startsWith("uCheckpoint virtual i686 CPU\0"), brand.toString());
    }

    @Test
    void cr4AcceptsExactlyWhatCpuidAdvertises() {
        int edx = cpuid(1)[3];
        int[][] bits = {{AddressSpace.CR4_VME, 1}, {AddressSpace.CR4_PVI, 1}, {AddressSpace.CR4_DE, 2},
            {AddressSpace.CR4_PSE, 3}, {AddressSpace.CR4_PAE, 6}, {AddressSpace.CR4_MCE, 7},
            {AddressSpace.CR4_PGE, 13}, {AddressSpace.CR4_OSFXSR, 24}};
        for (int[] b : bits) {
            boolean advertised = (edx >>> b[1] & 1) != 0;
            boolean accepted;
            try {
                SystemOps.writeCr(m.cpu, 4, b[0]);
                accepted = true;
            } catch (CpuFault f) {
                accepted = false;
            }
            assertEquals(advertised, accepted, "CR4 bit " + Integer.toHexString(b[0]));
            SystemOps.writeCr(m.cpu, 4, 0);
        }
    }

    // --- MSRs -------------------------------------------------------------------------------------

    @Test
    void msrsAKernelTouches() {
        assertEquals(0x9ABCDEF0L, roundTrip(0x175, 0x12345678_9ABCDEF0L), "SYSENTER_ESP is 32 bits here");
        assertEquals(0x10, roundTrip(0x174, 0x10));
        assertEquals(0xC0100000L, roundTrip(0x176, 0xC0100000L));
        assertEquals(SystemOps.APIC_BASE, rdmsr(0x1B), "APIC base: BSP, disabled");
        assertEquals(0, rdmsr(0x1B) & 0x800, "global enable clear: no APIC, as CPUID says");
        assertEquals(0xFEE00100L, roundTrip(0x1B, 0xFEE00900L), "the enable bit does not stick");
        assertEquals(1, rdmsr(0x1A0) & 1, "MISC_ENABLE: fast strings");
        assertEquals(0x3L, roundTrip(0x1A0, 3));
        assertEquals(0, rdmsr(0x8B), "microcode signature");
        assertEquals(0, rdmsr(0x17));
    }

    @Test
    void mtrrMsrsMatchMtrrCap() {
        long cap = rdmsr(0xFE);
        assertEquals(8, cap & 0xFF, "8 variable ranges");
        assertEquals(0x100, cap & 0x100, "fixed ranges");
        for (int i = 0; i < 16; i++) assertEquals(0x1000L + i, roundTrip(0x200 + i, 0x1000L + i), "variable MTRR " + i);
        for (int msr : new int[] {0x250, 0x258, 0x259, 0x268, 0x26F, 0x2FF}) {
            assertEquals(0x0606060606060606L, roundTrip(msr, 0x0606060606060606L), Integer.toHexString(msr));
        }
        m.cpu.setReg(Cpu.ECX, 0x210); // a ninth variable range does not exist
        m.run(SysinsnAsm.rdmsr_prog);
        assertEquals(CpuFault.GP, m.exceptionTaken());
    }

    @Test
    void machineCheckMsrsMatchMcgCap() {
        assertEquals(0, rdmsr(0x179), "MCG_CAP: no banks, no MCG_CTL");
        assertEquals(0, rdmsr(0x17A), "MCG_STATUS");
        m.cpu.setReg(Cpu.ECX, 0x17B); // MCG_CTL exists only with MCG_CAP.CTL_P
        m.run(SysinsnAsm.rdmsr_prog);
        assertEquals(CpuFault.GP, m.exceptionTaken());
        m.cpu.setReg(Cpu.ECX, 0x400); // MC0_CTL: there is no bank 0
        m.run(SysinsnAsm.rdmsr_prog);
        assertEquals(CpuFault.GP, m.exceptionTaken());
    }

    @Test
    void unknownMsrsRaiseGp() {
        for (int msr : new int[] {0xC0000080, 0x277, 0x3A, 0x1D9, 0x12345}) {
            m.reset32();
            m.cpu.setReg(Cpu.ECX, msr);
            m.run(SysinsnAsm.rdmsr_prog);
            assertEquals(CpuFault.GP, m.exceptionTaken(), "RDMSR " + Integer.toHexString(msr));
            assertEquals(SysinsnAsm.AT_rdmsr_insn, m.stack(1));
            m.reset32();
            m.cpu.setReg(Cpu.ECX, msr);
            m.run(SysinsnAsm.wrmsr_prog);
            assertEquals(CpuFault.GP, m.exceptionTaken(), "WRMSR " + Integer.toHexString(msr));
        }
    }

    @Test
    void timeStampCounterMsrAndRdtsc() {
        long before = m.cpu.icount();
        m.run(SysinsnAsm.tsc_write);
        long tsc = (m.cpu.reg(Cpu.EDX) & 0xFFFFFFFFL) << 32 | (m.cpu.reg(Cpu.EAX) & 0xFFFFFFFFL);
        long elapsed = tsc - 0x1_0000_0000L;
        assertTrue(elapsed >= 0 && elapsed <= 2, "RDTSC counts on from the written value: " + elapsed);
        assertTrue(m.cpu.icount() > before);
    }

    @Test
    void cacheInstructions() {
        m.run(SysinsnAsm.cache_prog);
        assertEquals(-1, m.exceptionTaken());
        assertEquals(SysinsnAsm.AT_cache_prog + 5, m.cpu.eip(), "WBINVD and INVD are 2 bytes each");
    }

    @Test
    void debugRegisters() {
        m.run(SysinsnAsm.dr_prog);
        assertEquals(-1, m.exceptionTaken());
        assertEquals(0x11111111, m.cpu.reg(Cpu.EBX), "DR0");
        assertEquals(0x00333000, m.cpu.reg(Cpu.EBP), "DR3");
        assertEquals(0xFFFF0FF0, m.cpu.reg(Cpu.ECX), "DR6 reserved bits read as 1");
        assertEquals(0x400, m.cpu.reg(Cpu.EDX), "DR7 bit 10 reads as 1");
        assertEquals(0xFFFF0FF0, m.cpu.reg(Cpu.ESI), "DR4 = DR6 with CR4.DE = 0");
        assertEquals(0x400, m.cpu.reg(Cpu.EDI), "DR5 = DR7");
        m.reset32();
        SystemOps.writeCr(m.cpu, 4, AddressSpace.CR4_DE);
        m.run(SysinsnAsm.dr4_prog);
        assertEquals(CpuFault.UD, m.exceptionTaken(), "DR4 with CR4.DE = 1");
        assertEquals(SysinsnAsm.AT_dr4_insn, m.stack(0));
    }

    @Test
    void privilegedInstructionsFaultAtRingThree() {
        int[] probes = {SysinsnAsm.AT_up_rdmsr, SysinsnAsm.AT_up_wrmsr, SysinsnAsm.AT_up_wbinvd, SysinsnAsm.AT_up_invd,
            SysinsnAsm.AT_up_movcr, SysinsnAsm.AT_up_movcr3, SysinsnAsm.AT_up_movdr, SysinsnAsm.AT_up_clts,
            SysinsnAsm.AT_up_lgdt, SysinsnAsm.AT_up_lidt, SysinsnAsm.AT_up_lldt, SysinsnAsm.AT_up_ltr,
            SysinsnAsm.AT_up_lmsw, SysinsnAsm.AT_up_invlpg};
        for (int probe : probes) {
            m.reset32();
            m.putGate(0x81, TestMachine.KCODE, TestMachine.HANDLERS + 0x81, 0xEE);
            m.cpu.setReg(Cpu.ESI, probe);
            m.run(SysinsnAsm.user_priv);
            assertEquals(CpuFault.GP, m.exceptionTaken(), "at " + Integer.toHexString(probe));
            assertEquals(0, m.stack(0));
            assertEquals(probe, m.stack(1));
        }
    }

    @Test
    void rdtscAtRingThreeDependsOnCr4Tsd() {
        m.putGate(0x81, TestMachine.KCODE, TestMachine.HANDLERS + 0x81, 0xEE);
        m.cpu.setReg(Cpu.ESI, SysinsnAsm.AT_up_rdtsc);
        m.run(SysinsnAsm.user_priv);
        assertEquals(0x81, m.exceptionTaken());
        m.reset32();
        m.putGate(0x81, TestMachine.KCODE, TestMachine.HANDLERS + 0x81, 0xEE);
        SystemOps.writeCr(m.cpu, 4, AddressSpace.CR4_TSD);
        m.cpu.setReg(Cpu.ESI, SysinsnAsm.AT_up_rdtsc);
        m.run(SysinsnAsm.user_priv);
        assertEquals(CpuFault.GP, m.exceptionTaken());
    }

    @Test
    void storeInstructionsAreAllowedAtRingThree() {
        m.putGate(0x81, TestMachine.KCODE, TestMachine.HANDLERS + 0x81, 0xEE);
        m.cpu.setReg(Cpu.ESI, SysinsnAsm.AT_up_smsw);
        m.run(SysinsnAsm.user_priv);
        assertEquals(0x81, m.exceptionTaken());
        assertEquals(TestMachine.GDT, m.read32(DATA + 2));
        assertEquals(TestMachine.IDT, m.read32(DATA + 10));
        assertEquals(TestMachine.TSS, m.mem.read(DATA + 18, 2));
    }
}
