package io.mucheckpoint.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * Exceptions and interrupts: fault versus trap (where EIP points, what state is left), #DF and
 * the triple fault, NMI blocking until IRET, the interrupt shadows of MOV SS, POP SS and STI,
 * single-step, the EXT bit, CMPXCHG8B. Programs: src/test/asm/exceptions.S.
 */
class ExceptionTest {
    static final int DATA = 0x60000;
    static final int CONF = 0x30;

    final TestMachine m = new TestMachine();

    private void assertFault(int vector, int err, int eip) {
        assertEquals(vector, m.exceptionTaken(), "exception vector");
        assertEquals(err, m.stack(0), "error code");
        assertEquals(eip, m.stack(1), "faulting EIP");
    }

    private void assertTrapOrFaultWithoutCode(int vector, int eip) {
        assertEquals(vector, m.exceptionTaken(), "exception vector");
        assertEquals(eip, m.stack(0), "saved EIP");
        assertEquals(TestMachine.KCODE, m.stack(1));
    }

    private void notPresent(int vector) {
        int at = TestMachine.IDT + vector * 8 + 4;
        m.write32(at, m.read32(at) & ~0x8000);
    }

    // --- faults and traps -------------------------------------------------------------------------

    @Test
    void divideErrorIsAFaultAtTheDivide() {
        m.run(ExceptionsAsm.div_zero);
        assertTrapOrFaultWithoutCode(CpuFault.DE, ExceptionsAsm.AT_div_insn);
        assertEquals(5, m.cpu.reg(Cpu.EAX), "no partial result");
    }

    @Test
    void int3AndIntoAreTrapsAfterTheInstruction() {
        m.run(ExceptionsAsm.int3_test);
        assertTrapOrFaultWithoutCode(CpuFault.BP, ExceptionsAsm.AT_int3_after);
        m.reset32();
        m.run(ExceptionsAsm.into_test);
        assertTrapOrFaultWithoutCode(CpuFault.OF, ExceptionsAsm.AT_into_after);
    }

    @Test
    void invalidOpcodeAndBoundAreFaults() {
        m.run(ExceptionsAsm.ud_test);
        assertTrapOrFaultWithoutCode(CpuFault.UD, ExceptionsAsm.AT_ud_insn);
        m.reset32();
        m.write32(DATA, 10);
        m.write32(DATA + 4, 20);
        m.run(ExceptionsAsm.bound_test);
        assertTrapOrFaultWithoutCode(CpuFault.BR, ExceptionsAsm.AT_bound_insn);
    }

    @Test
    void idtLimitIsChecked() {
        m.cpu.idtLimit = 0x90 * 8 - 1;
        m.run(ExceptionsAsm.int90);
        assertFault(CpuFault.GP, 0x90 * 8 + 2, ExceptionsAsm.AT_int90_insn);
    }

    @Test
    void externalInterruptThroughAbsentGateSetsExt() {
        notPresent(0x50);
        m.load(ExceptionsAsm.spin_loop);
        m.cpu.setEflags(0x202);
        m.runAt(ExceptionsAsm.AT_spin_loop, 10);
        int eip = m.cpu.eip();
        m.raiseInterrupt(0x50);
        m.resume(100);
        assertFault(CpuFault.NP, 0x50 * 8 + 2 + 1, eip);
    }

    // --- double and triple faults -------------------------------------------------------------------

    @Test
    void contributoryDuringContributoryIsADoubleFault() {
        notPresent(CpuFault.GP);
        m.cpu.setReg(Cpu.EBX, 0x400);
        m.run(ExceptionsAsm.gp_load);
        assertEquals(CpuFault.DF, m.exceptionTaken());
        assertEquals(0, m.stack(0), "#DF error code is 0");
        assertEquals(ExceptionsAsm.AT_gp_insn, m.stack(1), "the original faulting instruction");
    }

    @Test
    void pageFaultDuringDeliveryOfAPageFaultIsADoubleFault() {
        // The #PF gate names a DPL 3 code segment: delivering it raises #GP; PF then GP is #DF.
        m.putSegment(6, 0, 0xFFFFF, 0xC0FA);
        m.putGate(CpuFault.PF, 0x30, TestMachine.HANDLERS + 14, 0x8E);
        m.identityMap(4 << 20, 7);
        m.mapPage(0x50000, 0x50000, 0);
        m.enablePaging(false, false);
        m.cpu.setReg(Cpu.EBX, 0);
        m.load(0x10000, 0x8B, 0x1D, 0x00, 0x00, 0x05, 0x00, 0xF4); // mov 0x50000,%ebx; hlt
        m.runAt(0x10000);
        assertEquals(CpuFault.DF, m.exceptionTaken());
        assertEquals(0x10000, m.stack(1));
        assertEquals(0x50000, m.cpu.cr2());
    }

    @Test
    void benignThenContributoryIsHandledSerially() {
        notPresent(CpuFault.BP);
        m.run(ExceptionsAsm.int3_test);
        assertFault(CpuFault.NP, CpuFault.BP * 8 + 2, ExceptionsAsm.AT_int3_test);
    }

    @Test
    void contributoryThenPageFaultIsHandledSerially() {
        // A #GP from ring 3 whose ring-0 stack (ESP0) is not mapped: the push faults (#PF), which
        // is delivered as a #PF, not a #DF, through a gate to conforming code (no stack switch).
        m.putSegment(6, 0, 0xFFFFF, 0xC09F);
        m.load(ExceptionsAsm.conf_pf_handler);
        m.putGate(CpuFault.PF, CONF, ExceptionsAsm.AT_conf_pf_handler, 0x8E);
        m.identityMap(4 << 20, 7);
        m.mapPage(0x8000, 0x8000, 0);
        m.enablePaging(false, false);
        m.cpu.setReg(Cpu.EBX, 0x400);
        m.cpu.setReg(Cpu.ESP, 0x7F000); // ring 0's own stack is fine; only ESP0 in the TSS is bad
        m.load(ExceptionsAsm.user_gp);
        assertEquals(Cpu.Stop.BUDGET, m.runAt(ExceptionsAsm.AT_user_gp, 100));
        assertEquals(2, m.read32(DATA + 0x40), "#PF error code: supervisor write, not present");
        assertEquals(CONF | 3, m.read32(DATA + 0x44));
        assertEquals(0x8FFC, m.cpu.cr2());
    }

    @Test
    void faultWhileDeliveringDoubleFaultShutsTheMachineDown() {
        notPresent(CpuFault.GP);
        notPresent(CpuFault.DF);
        m.cpu.setReg(Cpu.EBX, 0x400);
        m.load(ExceptionsAsm.gp_load);
        assertEquals(Cpu.Stop.SHUTDOWN, m.runAt(ExceptionsAsm.AT_gp_load));
        assertTrue(m.cpu.shutdownReason().startsWith("triple fault"), m.cpu.shutdownReason());
        assertEquals(Cpu.Stop.SHUTDOWN, m.resume(10), "stays down");
        assertEquals(ExceptionsAsm.AT_gp_insn, m.cpu.eip());
        m.cpu.reset();
        assertFalse(m.cpu.shutdown, "RESET brings it back");
    }

    // --- NMI --------------------------------------------------------------------------------------

    @Test
    void nmiIsBlockedUntilIretThenDelivered() {
        m.load(ExceptionsAsm.nmi_handler);
        m.putGate(CpuFault.NMI, TestMachine.KCODE, ExceptionsAsm.AT_nmi_handler, 0x8E);
        m.onOut = port -> {
            if (port == 0x99) m.cpu.raiseNmi();
        };
        m.load(ExceptionsAsm.spin_loop);
        m.runAt(ExceptionsAsm.AT_spin_loop, 20);
        m.cpu.raiseNmi(); // IF is 0: NMIs do not care
        assertEquals(Cpu.Stop.HALTED, m.resume(10_000));
        assertEquals(-1, m.exceptionTaken(), "finished the loop");
        assertEquals(0, m.cpu.reg(Cpu.ECX));
        assertEquals(2, m.read32(DATA + 8), "both NMIs taken");
        assertEquals(1, m.read32(DATA + 4), "never nested");
        assertFalse(m.cpu.nmiBlocked, "the last IRET unblocked NMIs");
    }

    @Test
    void nmiWakesHlt() {
        m.load(0x10000, 0xF4, 0xF4);
        m.runAt(0x10000);
        assertEquals(0x10001, m.cpu.eip());
        m.cpu.raiseNmi();
        m.resume(100);
        assertTrapOrFaultWithoutCode(CpuFault.NMI, 0x10001);
    }

    @Test
    void interruptWakesHlt() {
        m.run(ExceptionsAsm.sti_hlt);
        assertEquals(ExceptionsAsm.AT_sti_hlt_after, m.cpu.eip());
        m.raiseInterrupt(0x40);
        m.resume(100);
        assertTrapOrFaultWithoutCode(0x40, ExceptionsAsm.AT_sti_hlt_after);
    }

    // --- interrupt shadows --------------------------------------------------------------------------

    private void shadow(Prog p, int before, int stopAfter, int expectedEip, int ebx) {
        m.reset32();
        m.load(p);
        m.cpu.setReg(Cpu.EBX, 0);
        m.cpu.setReg(Cpu.ECX, 0);
        assertEquals(Cpu.Stop.BUDGET, m.runAt(p.at(), stopAfter));
        assertEquals(before, m.cpu.eip());
        m.raiseInterrupt(0x40);
        m.resume(100);
        assertEquals(0x40, m.exceptionTaken());
        assertEquals(expectedEip, m.stack(0), "where the interrupt came in");
        assertEquals(ebx, m.cpu.reg(Cpu.EBX));
        assertEquals(0, m.cpu.reg(Cpu.ECX));
    }

    @Test
    void movSsHoldsInterruptsOffForOneInstruction() {
        shadow(ExceptionsAsm.movss_shadow, ExceptionsAsm.AT_movss_shadowed, 4, ExceptionsAsm.AT_movss_after, 1);
        // Without the MOV SS the interrupt comes in at once.
        shadow(ExceptionsAsm.movss_shadow, ExceptionsAsm.AT_movss_insn, 3, ExceptionsAsm.AT_movss_insn, 0);
    }

    @Test
    void popSsHoldsInterruptsOffForOneInstruction() {
        shadow(ExceptionsAsm.popss_shadow, ExceptionsAsm.AT_popss_shadowed, 4, ExceptionsAsm.AT_popss_after, 1);
    }

    @Test
    void stiHoldsInterruptsOffForOneInstruction() {
        shadow(ExceptionsAsm.sti_shadow, ExceptionsAsm.AT_sti_shadowed, 2, ExceptionsAsm.AT_sti_after, 1);
    }

    @Test
    void nmiIsHeldOffByTheMovSsShadowToo() {
        m.load(ExceptionsAsm.movss_shadow);
        m.runAt(ExceptionsAsm.AT_movss_shadow, 4);
        m.cpu.raiseNmi();
        m.resume(100);
        assertTrapOrFaultWithoutCode(CpuFault.NMI, ExceptionsAsm.AT_movss_after);
    }

    // --- single-step ----------------------------------------------------------------------------

    @Test
    void singleStepTrapsAfterTheInstructionFollowingPopf() {
        m.run(ExceptionsAsm.single_step);
        assertTrapOrFaultWithoutCode(CpuFault.DB, ExceptionsAsm.AT_ss_second);
        assertEquals(0x4000, m.cpu.dr[6] & 0x4000, "DR6.BS");
        assertEquals(Registers.TF, m.stack(2) & Registers.TF, "TF set in the saved EFLAGS");
        assertEquals(0, m.cpu.eflags() & Registers.TF, "and clear in the handler");
    }

    @Test
    void faultingInstructionUnderSingleStepRaisesOnlyItsFault() {
        m.run(ExceptionsAsm.step_fault);
        assertTrapOrFaultWithoutCode(CpuFault.UD, ExceptionsAsm.AT_step_ud);
    }

    // --- CMPXCHG8B --------------------------------------------------------------------------------

    private void cx8(int memLo, int memHi, int eax, int edx) {
        m.write32(DATA, memLo);
        m.write32(DATA + 4, memHi);
        m.cpu.setReg(Cpu.EAX, eax);
        m.cpu.setReg(Cpu.EDX, edx);
        m.cpu.setReg(Cpu.EBX, 0x11111111);
        m.cpu.setReg(Cpu.ECX, 0x22222222);
        m.cpu.setReg(Cpu.ESI, DATA);
    }

    @Test
    void cmpxchg8bSwapsWhenEqualAndLoadsWhenNot() {
        cx8(0xAAAA0000, 0xBBBB0000, 0xAAAA0000, 0xBBBB0000);
        m.run(ExceptionsAsm.cmpxchg8b_test);
        assertEquals(1, m.mem.peek(DATA + 0x20), "ZF");
        assertEquals(0x11111111, m.read32(DATA));
        assertEquals(0x22222222, m.read32(DATA + 4));

        cx8(0xAAAA0000, 0xBBBB0000, 0xAAAA0000, 0xBBBB0001);
        m.run(ExceptionsAsm.cmpxchg8b_test);
        assertEquals(0, m.mem.peek(DATA + 0x20), "ZF clear");
        assertEquals(0xAAAA0000, m.cpu.reg(Cpu.EAX));
        assertEquals(0xBBBB0000, m.cpu.reg(Cpu.EDX));
        assertEquals(0xAAAA0000, m.read32(DATA), "memory unchanged");
    }

    @Test
    void cmpxchg8bToReadOnlySegmentFaultsWithoutChangingAnything() {
        m.putSegment(6, 0, 0xFFFFF, 0xC091); // read-only data
        cx8(1, 2, 3, 4);                       // not equal: would load EDX:EAX (and write memory back)
        m.cpu.setReg(Cpu.EDI, 0x30);
        m.load(ExceptionsAsm.cmpxchg8b_test);
        m.runAt(ExceptionsAsm.AT_cx8_ds);
        assertFault(CpuFault.GP, 0, ExceptionsAsm.AT_cx8_ds_insn);
        assertEquals(3, m.cpu.reg(Cpu.EAX));
        assertEquals(4, m.cpu.reg(Cpu.EDX));
    }

    @Test
    void cmpxchg8bAcrossALimitFaults() {
        m.putSegment(6, 0, DATA + 5, 0x4092); // byte-granular limit inside the operand
        cx8(1, 2, 1, 2);
        m.cpu.setReg(Cpu.EDI, 0x30);
        m.load(ExceptionsAsm.cmpxchg8b_test);
        m.runAt(ExceptionsAsm.AT_cx8_ds);
        assertFault(CpuFault.GP, 0, ExceptionsAsm.AT_cx8_ds_insn);
        assertEquals(1, m.read32(DATA), "first dword not written");
    }

    @Test
    void cmpxchg8bWithARegisterOperandIsUndefined() {
        m.load(ExceptionsAsm.cmpxchg8b_test);
        m.runAt(ExceptionsAsm.AT_cx8_reg);
        assertTrapOrFaultWithoutCode(CpuFault.UD, ExceptionsAsm.AT_cx8_reg);
    }
}
