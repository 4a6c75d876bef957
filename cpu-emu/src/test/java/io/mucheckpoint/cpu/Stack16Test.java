package io.mucheckpoint.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Every instruction that pops or pushes while it loads SS or switches stacks, each on a 16-bit
 * stack (B=0) and on a 32-bit one. The rule, from the SDM (Vol. 1 6.2.3 "Address-Size Attributes
 * for Stack Accesses", and the StackAddrSize branches of POP, ENTER, LEAVE, IRET, RET, CALL, INT):
 * a stack access goes through SS with the address size of that SS's B flag, so with B=0 the offset
 * wraps within 16 bits and only SP changes (ESP[31:16] keep their value); with B=1 all of ESP is
 * used. The stack that decides is the one the access went through, not the one the instruction
 * loads (POP SS reads through the old SS; a far RET to an outer level pops the outer SS:ESP
 * through the inner stack). The expected values below are written from that rule, not from a run.
 *
 * <p>ESP's upper half after a stack switch onto a 16-bit stack (interrupt to an inner level) is
 * left out on purpose: the SDM writes "SS:ESP ← TSS(NewSS:NewESP)", while QEMU and Bochs write only
 * SP and keep the interrupted ESP's upper half; the tests below give both the same upper half.
 */
class Stack16Test {
    static final int BASE16 = 0x20000;   // the 16-bit stack segment's base (limit 0xFFFF)
    static final int USER = 0x12000;
    final TestMachine m = new TestMachine();
    int stack16;

    @BeforeEach
    void segments() {
        stack16 = m.putSegment(6, BASE16, 0xFFFF, 0x0092); // ring-0 data, B=0
    }

    private void onStack16(int esp) {
        m.cpu.loadSegment(AddressSpace.SS, stack16);
        m.cpu.setReg(Cpu.ESP, esp);
    }

    private void onStack32(int esp) {
        m.cpu.loadSegment(AddressSpace.SS, TestMachine.KDATA);
        m.cpu.setReg(Cpu.ESP, esp);
    }

    /** The dword at 16-bit stack offset {@code off} (wrapping, as the processor addresses it). */
    private int at16(int off) {
        int v = 0;
        for (int i = 0; i < 4; i++) v |= m.mem.peek(BASE16 + ((off + i) & 0xFFFF)) << (8 * i);
        return v;
    }

    private void put16(int off, int v) {
        for (int i = 0; i < 4; i++) m.mem.poke(BASE16 + ((off + i) & 0xFFFF), (v >>> (8 * i)) & 0xFF);
    }

    private int ss() {
        return m.cpu.segmentSelector(AddressSpace.SS);
    }

    private int esp() {
        return m.cpu.reg(Cpu.ESP);
    }

    // --- POP SS and LSS ------------------------------------------------------------------------

    @Test
    void popSsAdvancesTheStackItReadFrom() {
        // 32-bit POP SS from the 16-bit stack: SP wraps FFFC -> 0000, ESP[31:16] stay (issue 19's case).
        onStack16(0x0002FFFC);
        put16(0xFFFC, TestMachine.KDATA);
        m.runCode(0x17);
        assertEquals(TestMachine.KDATA, ss());
        assertEquals(0x00020000, esp(), "SP wraps within the 16-bit stack the selector came from");
        // 32-bit POP SS from a 32-bit stack, loading the 16-bit one: all of ESP advances.
        onStack32(0x0002FFFC);
        m.write32(0x2FFFC, stack16);
        m.runCode(0x17);
        assertEquals(stack16, ss());
        assertEquals(0x00030000, esp(), "ESP + 4 on the 32-bit stack the selector came from");
        // 16-bit POP SS from the 16-bit stack: FFFE -> 0000.
        onStack16(0x0002FFFE);
        put16(0xFFFE, TestMachine.KDATA);
        m.runCode(0x66, 0x17);
        assertEquals(TestMachine.KDATA, ss());
        assertEquals(0x00020000, esp());
    }

    @Test
    void lssLoadsAllOfEspOrOnlySpByOperandSizeNotByTheStack() {
        // LSS is a load, not a pop: ESP (or SP with a 16-bit operand) gets the operand (SDM LSS).
        m.write32(0x50000, 0x1234FFF0);
        m.mem.write(0x50004, 2, stack16);
        onStack32(0x00001000);
        m.runCode(0x0F, 0xB2, 0x25, 0x00, 0x00, 0x05, 0x00); // lss esp, [0x50000]
        assertEquals(stack16, ss());
        assertEquals(0x1234FFF0, esp());
        m.mem.write(0x50010, 2, 0xFFF0);
        m.mem.write(0x50012, 2, TestMachine.KDATA);
        onStack16(0xABCD0000);
        m.runCode(0x66, 0x0F, 0xB2, 0x25, 0x10, 0x00, 0x05, 0x00); // lss sp, [0x50010]
        assertEquals(TestMachine.KDATA, ss());
        assertEquals(0xABCDFFF0, esp());
    }

    // --- the MOV SS / POP SS shadow --------------------------------------------------------------

    /**
     * SDM Vol. 3A 6.8.3: after MOV SS or POP SS the processor inhibits interrupts, debug exceptions
     * and single-step traps until the boundary after the next instruction, so with TF set the trap
     * comes after the instruction that follows. (STI is not asserted: the SDM says nothing of the
     * trap after it; QEMU 7.2 holds it too, this emulator does not.)
     */
    @Test
    void singleStepTrapWaitsOneInstructionAfterMovSsAndPopSs() {
        int[] movEbx1 = {0xBB, 0x01, 0x00, 0x00, 0x00};
        // mov ss, ax ; mov ebx, 1 ; hlt
        onStack32(TestMachine.STACK_TOP);
        m.cpu.setReg(Cpu.EAX, TestMachine.KDATA);
        m.cpu.setReg(Cpu.EBX, 0);
        m.cpu.setEflags(0x102);
        m.runCode(0x8E, 0xD0, movEbx1[0], movEbx1[1], movEbx1[2], movEbx1[3], movEbx1[4]);
        assertEquals(CpuFault.DB, m.exceptionTaken());
        assertEquals(TestMachine.CODE + 7, m.stack(0), "the trap follows MOV EBX, not MOV SS");
        assertEquals(1, m.cpu.reg(Cpu.EBX));
        // pop ss ; mov ebx, 1 ; hlt
        onStack32(TestMachine.STACK_TOP - 4);
        m.write32(TestMachine.STACK_TOP - 4, TestMachine.KDATA);
        m.cpu.setReg(Cpu.EBX, 0);
        m.cpu.setEflags(0x102);
        m.runCode(0x17, movEbx1[0], movEbx1[1], movEbx1[2], movEbx1[3], movEbx1[4]);
        assertEquals(CpuFault.DB, m.exceptionTaken());
        assertEquals(TestMachine.CODE + 6, m.stack(0), "the trap follows MOV EBX, not POP SS");
        // mov ds, ax is not special: the trap comes right after it.
        onStack32(TestMachine.STACK_TOP);
        m.cpu.setReg(Cpu.EBX, 0);
        m.cpu.setEflags(0x102);
        m.runCode(0x8E, 0xD8, movEbx1[0], movEbx1[1], movEbx1[2], movEbx1[3], movEbx1[4]);
        assertEquals(CpuFault.DB, m.exceptionTaken());
        assertEquals(TestMachine.CODE + 2, m.stack(0));
        assertEquals(0, m.cpu.reg(Cpu.EBX));
    }

    // --- IRET, far RET, far CALL ----------------------------------------------------------------

    @Test
    void iretPopsItsFrameThroughTheStackItIsOn() {
        int target = TestMachine.CODE + 0x100;
        m.mem.poke(target, 0xF4);
        onStack16(0x0005FFF8);
        put16(0xFFF8, target);
        put16(0xFFFC, TestMachine.KCODE);
        put16(0x0000, 0x00000CD7); // EFLAGS, past the wrap
        m.runCode(0xCF);
        assertEquals(target + 1, m.cpu.eip());
        assertEquals(0x00050004, esp(), "SP wraps FFF8 -> 0004");
        assertEquals(0xCD7 | 2, m.cpu.eflags() & 0xFFFF);
        onStack32(0x0005FFF8);
        m.write32(0x5FFF8, target);
        m.write32(0x5FFFC, TestMachine.KCODE);
        m.write32(0x60000, 0x00000CD7);
        m.runCode(0xCF);
        assertEquals(target + 1, m.cpu.eip());
        assertEquals(0x00060004, esp());
    }

    @Test
    void farReturnToRingThreePopsTheOuterStackPointerThroughTheInnerStack() {
        m.putGate(0x81, TestMachine.KCODE, TestMachine.HANDLERS + 0x81, 0xEE);
        m.load(USER, 0xCD, 0x81); // int 0x81: back to ring 0, where the frame shows the ring-3 SS:ESP
        // retf 4 at CPL 0 from the 16-bit stack: EIP at FFF4, CS at FFF8, 4 parameter bytes, then
        // ESP at 0000 and SS at 0004 (past the wrap); ESP + 4 on the new (32-bit) stack.
        onStack16(0x0007FFF4);
        put16(0xFFF4, USER);
        put16(0xFFF8, TestMachine.UCODE);
        put16(0x0000, 0x00071000);
        put16(0x0004, TestMachine.UDATA);
        m.runCode(0xCA, 0x04, 0x00);
        assertEquals(0x81, m.exceptionTaken());
        assertEquals(USER + 2, m.stack(0));
        assertEquals(0x00071004, m.stack(3), "ring-3 ESP: popped, plus the 4 released bytes");
        assertEquals(TestMachine.UDATA, m.stack(4) & 0xFFFF);
        // The same from a 32-bit ring-0 stack: no wrap, ESP + 16 + 4.
        m.reset32();
        m.putGate(0x81, TestMachine.KCODE, TestMachine.HANDLERS + 0x81, 0xEE);
        m.load(USER, 0xCD, 0x81);
        onStack32(0x0007FFF4);
        m.write32(0x7FFF4, USER);
        m.write32(0x7FFF8, TestMachine.UCODE);
        m.write32(0x80000, 0x00071000);
        m.write32(0x80004, TestMachine.UDATA);
        m.runCode(0xCA, 0x04, 0x00);
        assertEquals(0x81, m.exceptionTaken());
        assertEquals(0x00071004, m.stack(3));
    }

    @Test
    void farCallAndReturnAtTheSameLevelWrapOnTheSixteenBitStack() {
        int target = TestMachine.CODE + 0x100;
        m.mem.poke(target, 0xF4);
        int[] callFar = {0x9A, target & 0xFF, (target >>> 8) & 0xFF, (target >>> 16) & 0xFF, target >>> 24,
            TestMachine.KCODE, 0x00};
        onStack16(0x12340004);
        m.runCode(callFar);
        assertEquals(target + 1, m.cpu.eip());
        assertEquals(0x1234FFFC, esp(), "CS at 0000, EIP at FFFC");
        assertEquals(TestMachine.CODE + 7, at16(0xFFFC));
        assertEquals(TestMachine.KCODE, at16(0x0000) & 0xFFFF);
        onStack32(0x00050004);
        m.runCode(callFar);
        assertEquals(0x0004FFFC, esp());
        assertEquals(TestMachine.CODE + 7, m.read32(0x4FFFC));
        // retf: EIP at FFFC, CS at 0000 -> SP 0004.
        onStack16(0x1234FFFC);
        put16(0xFFFC, target);
        put16(0x0000, TestMachine.KCODE);
        m.runCode(0xCB);
        assertEquals(target + 1, m.cpu.eip());
        assertEquals(0x12340004, esp());
    }

    // --- interrupt and exception delivery --------------------------------------------------------

    @Test
    void interruptAtTheSameLevelPushesItsFrameWrappingOnTheSixteenBitStack() {
        onStack16(0x00030004);
        m.cpu.setEflags(0x0CD7);
        m.runCode(0xCD, 0x40); // int 0x40 through a 32-bit interrupt gate
        assertEquals(0x40, m.exceptionTaken());
        assertEquals(0x0003FFF8, esp(), "EFLAGS at 0000, CS at FFFC, EIP at FFF8");
        assertEquals(0xCD7 | 2, at16(0x0000) & 0xFFFF);
        assertEquals(TestMachine.KCODE, at16(0xFFFC) & 0xFFFF);
        assertEquals(TestMachine.CODE + 2, at16(0xFFF8));
        onStack32(0x00030004);
        m.runCode(0xCD, 0x40);
        assertEquals(0x0002FFF8, esp());
        assertEquals(TestMachine.CODE + 2, m.read32(0x2FFF8));
        // An exception (#DE) is delivered the same way.
        onStack16(0x00030004);
        m.cpu.setReg(Cpu.ECX, 0);
        m.runCode(0xF7, 0xF1); // div ecx
        assertEquals(CpuFault.DE, m.exceptionTaken());
        assertEquals(0x0003FFF8, esp());
        assertEquals(TestMachine.CODE, at16(0xFFF8), "the faulting EIP, past the wrap");
    }

    @Test
    void interruptFromRingThreeOntoASixteenBitRingZeroStack() {
        // Enter ring 3 with an IRET, then INT 0x80 through a DPL-3 gate: the TSS gives SS0 (the
        // 16-bit stack) and ESP0 = 0x00070008; the five dwords wrap: SS at 0004, ESP at 0000,
        // EFLAGS at FFFC, CS at FFF8, EIP at FFF4.
        for (boolean sixteen : new boolean[] {true, false}) {
            m.reset32();
            segments();
            m.putGate(0x80, TestMachine.KCODE, TestMachine.HANDLERS + 0x80, 0xEE);
            m.write32(0x3000 + 4, 0x00070008);
            m.write32(0x3000 + 8, sixteen ? stack16 : TestMachine.KDATA);
            m.load(USER, 0xCD, 0x80);
            int k = TestMachine.STACK_TOP - 20;
            m.write32(k, USER);
            m.write32(k + 4, TestMachine.UCODE);
            m.write32(k + 8, 0x2);
            m.write32(k + 12, 0x00071000);
            m.write32(k + 16, TestMachine.UDATA);
            onStack32(k);
            m.runCode(0xCF);
            assertEquals(0x80, m.exceptionTaken());
            if (sixteen) {
                assertEquals(stack16, ss());
                assertEquals(0x0007FFF4, esp(), "SP wraps 0008 -> FFF4");
                assertEquals(TestMachine.UDATA, at16(0x0004) & 0xFFFF);
                assertEquals(0x00071000, at16(0x0000));
                assertEquals(TestMachine.UCODE, at16(0xFFF8) & 0xFFFF);
                assertEquals(USER + 2, at16(0xFFF4));
            } else {
                assertEquals(0x0006FFF4, esp());
                assertEquals(0x00071000, m.read32(0x70000));
                assertEquals(USER + 2, m.read32(0x6FFF4));
            }
        }
    }

    // --- ENTER, LEAVE, PUSHA, POPA ---------------------------------------------------------------

    /**
     * ENTER (SDM; 80386 PRM 17): push (E)BP by operand size; frame-ptr := eSP; copy level-1 frame
     * pointers from (E)BP-k; push frame-ptr; (E)BP := frame-ptr by operand size; then SP (or ESP,
     * by the stack's size) -= the frame size. On a 16-bit stack eSP is ESP with only SP moved, so a
     * 32-bit ENTER gives EBP the upper half of ESP.
     */
    @Test
    void enterOnASixteenBitStack() {
        onStack16(0x12340008);
        m.cpu.setReg(Cpu.EBP, 0xAAAA0010);
        put16(0x000C, 0xCAFEBABE);
        m.runCode(0xC8, 0x08, 0x00, 0x02); // enter 8, 2 (32-bit operands)
        assertEquals(0xAAAA0010, at16(0x0004), "old EBP");
        assertEquals(0xCAFEBABE, at16(0x0000), "the copied frame pointer from [BP-4]");
        assertEquals(0x12340004, at16(0xFFFC), "frame-ptr, past the wrap");
        assertEquals(0x12340004, m.cpu.reg(Cpu.EBP), "EBP := frame-ptr = ESP after the first push");
        assertEquals(0x1234FFF4, esp(), "SP := SP - 8, wrapping");
        // 16-bit operands: words, BP := frame-ptr keeps EBP[31:16].
        onStack16(0x12340008);
        m.cpu.setReg(Cpu.EBP, 0xAAAA0010);
        put16(0x000E, 0xBEEF);
        m.runCode(0x66, 0xC8, 0x08, 0x00, 0x02);
        assertEquals(0x0010, at16(0x0006) & 0xFFFF);
        assertEquals(0xBEEF, at16(0x0004) & 0xFFFF);
        assertEquals(0x0006, at16(0x0002) & 0xFFFF);
        assertEquals(0xAAAA0006, m.cpu.reg(Cpu.EBP));
        assertEquals(0x1234FFFA, esp(), "0002 - 8 wraps");
    }

    @Test
    void enterOnAThirtyTwoBitStack() {
        onStack32(0x00050008);
        m.cpu.setReg(Cpu.EBP, 0x00050010);
        m.write32(0x5000C, 0xCAFEBABE);
        m.runCode(0xC8, 0x08, 0x00, 0x02);
        assertEquals(0x00050010, m.read32(0x50004));
        assertEquals(0xCAFEBABE, m.read32(0x50000));
        assertEquals(0x00050004, m.read32(0x4FFFC));
        assertEquals(0x00050004, m.cpu.reg(Cpu.EBP));
        assertEquals(0x0004FFF4, esp());
    }

    @Test
    void leaveTakesSpFromBpAndPopsThroughTheStack() {
        // 16-bit stack: SP := BP (ESP[31:16] stay), pop EBP at FFFC, SP wraps to 0000.
        onStack16(0x1234FFF4);
        m.cpu.setReg(Cpu.EBP, 0x5678FFFC);
        put16(0xFFFC, 0x0BADF00D);
        m.runCode(0xC9);
        assertEquals(0x0BADF00D, m.cpu.reg(Cpu.EBP));
        assertEquals(0x12340000, esp());
        // 32-bit stack: ESP := EBP, pop.
        onStack32(0x00001000);
        m.cpu.setReg(Cpu.EBP, 0x0005FFFC);
        m.write32(0x5FFFC, 0x0BADF00D);
        m.runCode(0xC9);
        assertEquals(0x0BADF00D, m.cpu.reg(Cpu.EBP));
        assertEquals(0x00060000, esp());
        // 16-bit operand on the 16-bit stack: BP := popped word, EBP[31:16] stay.
        onStack16(0x12340000);
        m.cpu.setReg(Cpu.EBP, 0x5678FFFE);
        put16(0xFFFE, 0x4321);
        m.runCode(0x66, 0xC9);
        assertEquals(0x56784321, m.cpu.reg(Cpu.EBP));
        assertEquals(0x12340000, esp());
    }

    @Test
    void pushaAndPopaWrapOnTheSixteenBitStack() {
        int[] regs = {0x11111111, 0x22222222, 0x33333333, 0x44444444, 0, 0x66666666, 0x77777777, 0x88888888};
        for (int i = 0; i < 8; i++) if (i != Cpu.ESP) m.cpu.setReg(i, regs[i]);
        onStack16(0x12340008);
        m.runCode(0x60); // pushad: EAX at 0004 ... EDI at FFE8
        assertEquals(0x1234FFE8, esp());
        assertEquals(0x11111111, at16(0x0004));
        assertEquals(0x22222222, at16(0x0000));
        assertEquals(0x12340008, at16(0xFFF4), "the ESP pushed is the one before PUSHAD");
        assertEquals(0x88888888, at16(0xFFE8));
        for (int i = 0; i < 8; i++) if (i != Cpu.ESP) m.cpu.setReg(i, 0);
        m.runCode(0x61); // popad
        assertEquals(0x12340008, esp());
        for (int i = 0; i < 8; i++) if (i != Cpu.ESP) assertEquals(regs[i], m.cpu.reg(i), "register " + i);
        onStack32(0x00050008);
        m.runCode(0x60);
        assertEquals(0x0004FFE8, esp());
        assertEquals(0x11111111, m.read32(0x50004));
        assertEquals(0x88888888, m.read32(0x4FFE8));
    }
}
