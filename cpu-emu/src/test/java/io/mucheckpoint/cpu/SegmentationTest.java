package io.mucheckpoint.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Segmentation with descriptor caches: limit checks (also expand-down), type and privilege checks
 * on segment loads, conforming code, call gates with parameter copy, the LDT, LAR/LSL/VERR/VERW/
 * ARPL, SGDT/SIDT/SLDT/STR/LTR, SMSW/LMSW/CLTS and the descriptor accessed bit. Programs:
 * src/test/asm/segmentation.S.
 */
class SegmentationTest {
    static final int DATA = 0x60000;
    // Extra GDT entries (selector = index * 8).
    static final int SMALL = 0x30;        // data RW, base 0x60000, limit 0xFFF (bytes)
    static final int DOWN32 = 0x38;       // data RW expand-down, limit 0xFFF, B=1: 0x1000..0xFFFFFFFF
    static final int DOWN16 = 0x40;       // data RW expand-down, limit 0xFFF, B=0: 0x1000..0xFFFF
    static final int RO = 0x48;           // data read-only, flat
    static final int XO = 0x50;           // code execute-only, flat
    static final int RX = 0x58;           // code readable, flat
    static final int ABSENT = 0x60;       // data RW, not present
    static final int DATA3 = 0x68;        // data RW, DPL 3, flat
    static final int CONF = 0x70;         // conforming readable code, DPL 0, flat
    static final int LDT = 0x78;          // an LDT at 0x7000 with 3 entries
    static final int GATE3 = 0x80;        // 32-bit call gate, DPL 3, to KCODE:gate_target, 2 params
    static final int GATE0 = 0x88;        // 32-bit call gate, DPL 0
    static final int STACK3_DOWN = 0x90;  // data RW expand-down, DPL 3, limit 0x7FFF, B=1
    static final int TSS2 = 0x98;         // a second (available) 32-bit TSS
    static final int GATE16 = 0xA0;       // 16-bit call gate, DPL 0, to KCODE:gate16_target
    static final int SMALL_BASE = 0x60000;

    final TestMachine m = new TestMachine();

    @BeforeEach
    void descriptors() {
        m.putSegment(6, SMALL_BASE, 0xFFF, 0x4092);
        m.putSegment(7, 0, 0xFFF, 0x4097);
        m.putSegment(8, 0, 0xFFF, 0x0097);
        m.putSegment(9, 0, 0xFFFFF, 0xC091);
        m.putSegment(10, 0, 0xFFFFF, 0xC099);
        m.putSegment(11, 0, 0xFFFFF, 0xC09B);
        m.putSegment(12, 0, 0xFFFFF, 0xC013);
        m.putSegment(13, 0, 0xFFFFF, 0xC0F3);
        m.putSegment(14, 0, 0xFFFFF, 0xC09F);
        m.putSegment(15, 0x7000, 0x17, 0x0082);
        m.putCallGate(m.gdtEntry(16), TestMachine.KCODE, SegmentationAsm.AT_gate_target, 2, 0xEC);
        m.putCallGate(m.gdtEntry(17), TestMachine.KCODE, SegmentationAsm.AT_gate_target, 2, 0x8C);
        m.putSegment(18, 0, 0x7FFF, 0x40F7);
        m.putSegment(19, 0x4000, 0x67, 0x0089);
        m.putCallGate(m.gdtEntry(20), TestMachine.KCODE, SegmentationAsm.AT_gate16_target, 0, 0x84);
        // The LDT: null, a data segment based at 0x61000, a DPL 3 data segment.
        m.putDescriptor(0x7008, 0x61000, 0xFFFF, 0x4093);
        m.putDescriptor(0x7010, 0, 0xFFFFF, 0xC0F3);
        m.putGate(0x80, TestMachine.HANDLERS + 0x80, 0xEE);
    }

    private void assertFault(int vector, int err, int eip) {
        assertEquals(vector, m.exceptionTaken(), "exception vector");
        assertEquals(err, m.stack(0), "error code");
        assertEquals(eip, m.stack(1), "faulting EIP");
    }

    private void read(int sel, int off) {
        m.cpu.setReg(Cpu.EBX, sel);
        m.cpu.setReg(Cpu.ESI, off);
        m.run(SegmentationAsm.seg_read);
    }

    private void write(int sel, int off, int v) {
        m.cpu.setReg(Cpu.EBX, sel);
        m.cpu.setReg(Cpu.ESI, off);
        m.cpu.setReg(Cpu.EAX, v);
        m.run(SegmentationAsm.seg_write);
    }

    private void fresh() {
        m.reset32();
        descriptors();
    }

    // --- limits ---------------------------------------------------------------------------------

    @Test
    void limitChecksOnAnExpandUpSegment() {
        m.write32(SMALL_BASE + 0xFFC, 0x12345678);
        read(SMALL, 0xFFC);
        assertEquals(-1, m.exceptionTaken());
        assertEquals(0x12345678, m.cpu.reg(Cpu.EAX), "through the base");
        fresh();
        read(SMALL, 0xFFD);
        assertFault(CpuFault.GP, 0, SegmentationAsm.AT_seg_read_insn);
        fresh();
        m.cpu.setReg(Cpu.EBX, SMALL);
        m.cpu.setReg(Cpu.ESI, 0xFFF);
        m.run(SegmentationAsm.seg_read8);
        assertEquals(-1, m.exceptionTaken(), "last byte");
        fresh();
        m.cpu.setReg(Cpu.EBX, SMALL);
        m.cpu.setReg(Cpu.ESI, 0x1000);
        m.run(SegmentationAsm.seg_read8);
        assertFault(CpuFault.GP, 0, SegmentationAsm.AT_seg_read8_insn);
        fresh();
        write(SMALL, -1, 0);
        assertFault(CpuFault.GP, 0, SegmentationAsm.AT_seg_write_insn);
    }

    @Test
    void expandDownSegmentWithBigBit() {
        read(DOWN32, 0xFFF);
        assertFault(CpuFault.GP, 0, SegmentationAsm.AT_seg_read_insn);
        fresh();
        read(DOWN32, 0xFFE); // a dword straddling the limit
        assertFault(CpuFault.GP, 0, SegmentationAsm.AT_seg_read_insn);
        fresh();
        m.write32(0x1000, 0xABCDEF01);
        read(DOWN32, 0x1000);
        assertEquals(-1, m.exceptionTaken());
        assertEquals(0xABCDEF01, m.cpu.reg(Cpu.EAX));
        fresh();
        write(DOWN32, 0x20000, 0x55);
        assertEquals(-1, m.exceptionTaken(), "far above the limit is inside an expand-down segment");
        assertEquals(0x55, m.read32(0x20000));
        fresh();
        write(DOWN32, 0xFFFFFFFC, 0); // the last dword of the 4 GiB segment (wraps to 0xFFFFFFFC)
        assertEquals(-1, m.exceptionTaken());
        fresh();
        write(DOWN32, 0xFFFFFFFD, 0); // crosses 4 GiB
        assertFault(CpuFault.GP, 0, SegmentationAsm.AT_seg_write_insn);
    }

    @Test
    void expandDownSegmentWithoutBigBitEndsAt64K() {
        read(DOWN16, 0xFFFC);
        assertEquals(-1, m.exceptionTaken());
        fresh();
        read(DOWN16, 0xFFFD);
        assertFault(CpuFault.GP, 0, SegmentationAsm.AT_seg_read_insn);
        fresh();
        read(DOWN16, 0x10000);
        assertFault(CpuFault.GP, 0, SegmentationAsm.AT_seg_read_insn);
        fresh();
        read(DOWN16, 0x800);
        assertFault(CpuFault.GP, 0, SegmentationAsm.AT_seg_read_insn);
    }

    @Test
    void expandDownStackSegmentRaisesStackFault() {
        m.cpu.setReg(Cpu.EBX, STACK3_DOWN | 3);
        m.cpu.setReg(Cpu.ESI, 0x8004);
        m.run(SegmentationAsm.user_ss_push);
        assertFault(CpuFault.SS, 0, SegmentationAsm.AT_user_ss_push2);
        assertEquals(0x8000, m.stack(4), "ESP after the first push (at 0x8000, just above the limit)");
        assertEquals(STACK3_DOWN | 3, m.stack(5), "SS");
    }

    // --- type and privilege checks on loads ------------------------------------------------------

    @Test
    void dataSegmentLoadChecks() {
        int[][] cases = {
            // selector, expected vector (-1: loads), error code
            {XO, CpuFault.GP, XO},             // execute-only code is not readable
            {RX, -1, 0},                       // readable code may be loaded into DS
            {CONF, -1, 0},
            {TestMachine.TSS, CpuFault.GP, TestMachine.TSS}, // a system descriptor
            {LDT, CpuFault.GP, LDT},
            {ABSENT, CpuFault.NP, ABSENT},
            {0x400, CpuFault.GP, 0x400},       // beyond the GDT limit
            {0x0C, CpuFault.GP, 0x0C},         // LDT selector with no LDT
            {0, -1, 0},                        // null is fine in DS
            {3, -1, 0},
            {GATE3, CpuFault.GP, GATE3},
        };
        for (int[] c : cases) {
            fresh();
            m.cpu.setReg(Cpu.EBX, c[0]);
            m.run(SegmentationAsm.seg_load);
            if (c[1] < 0) {
                assertEquals(-1, m.exceptionTaken(), "selector " + Integer.toHexString(c[0]));
                assertEquals(c[0], m.cpu.segmentSelector(AddressSpace.DS));
            } else {
                assertFault(c[1], c[2], SegmentationAsm.AT_seg_load_insn);
                assertEquals(TestMachine.KDATA, m.cpu.segmentSelector(AddressSpace.DS), "DS unchanged");
            }
        }
    }

    @Test
    void nullSegmentLoadsButFaultsOnUse() {
        read(0, 0x100);
        assertFault(CpuFault.GP, 0, SegmentationAsm.AT_seg_read_insn);
    }

    @Test
    void writesToReadOnlyDataAndReadsOfExecuteOnlyCodeFault() {
        write(RO, 0x60000, 1);
        assertFault(CpuFault.GP, 0, SegmentationAsm.AT_seg_write_insn);
        fresh();
        read(RO, 0x60000);
        assertEquals(-1, m.exceptionTaken());
        fresh();
        m.cpu.setReg(Cpu.ESI, 0x60000);
        m.run(SegmentationAsm.cs_access);
        assertFault(CpuFault.GP, 0, SegmentationAsm.AT_cs_read_insn);
        assertEquals(XO, m.stack(2), "running in the execute-only segment");
        fresh();
        m.load(SegmentationAsm.cs_access);
        m.cpu.loadSegment(AddressSpace.CS, RX);
        m.runAt(SegmentationAsm.AT_cs_write);
        assertFault(CpuFault.GP, 0, SegmentationAsm.AT_cs_write_insn);
    }

    @Test
    void ringThreeMayNotLoadRingZeroData() {
        m.cpu.setReg(Cpu.EBX, TestMachine.KDATA | 3);
        m.run(SegmentationAsm.user_seg_load);
        assertFault(CpuFault.GP, TestMachine.KDATA, SegmentationAsm.AT_user_seg_load_insn);
        fresh();
        m.cpu.setReg(Cpu.EBX, DATA3 | 3);
        m.run(SegmentationAsm.user_seg_load);
        assertEquals(0x80, m.exceptionTaken());
        fresh();
        m.cpu.setReg(Cpu.EBX, CONF | 3); // conforming code: no privilege check
        m.run(SegmentationAsm.user_seg_load);
        assertEquals(0x80, m.exceptionTaken());
        fresh();
        m.cpu.setReg(Cpu.EBX, DATA3); // RPL 0 < CPL 3 is fine: max(CPL, RPL) <= DPL
        m.run(SegmentationAsm.user_seg_load);
        assertEquals(0x80, m.exceptionTaken());
    }

    @Test
    void rplAboveDplFaults() {
        m.cpu.setReg(Cpu.EBX, TestMachine.KDATA | 1);
        m.run(SegmentationAsm.seg_load);
        assertFault(CpuFault.GP, TestMachine.KDATA, SegmentationAsm.AT_seg_load_insn);
    }

    @Test
    void stackSegmentLoadChecks() {
        int[][] cases = {
            {0, CpuFault.GP, 0},
            {TestMachine.KDATA | 1, CpuFault.GP, TestMachine.KDATA}, // RPL != CPL
            {DATA3, CpuFault.GP, DATA3},                             // DPL != CPL
            {RO, CpuFault.GP, RO},                                   // not writable
            {RX, CpuFault.GP, RX},
            {ABSENT, CpuFault.SS, ABSENT},                           // not present: #SS
            {SMALL, -1, 0},
        };
        for (int[] c : cases) {
            fresh();
            m.cpu.setReg(Cpu.EBX, c[0]);
            m.cpu.setReg(Cpu.ESP, 0x800);
            m.run(SegmentationAsm.ss_load);
            if (c[1] < 0) {
                assertEquals(-1, m.exceptionTaken());
                assertEquals(c[0], m.cpu.segmentSelector(AddressSpace.SS));
            } else {
                assertEquals(c[1], m.exceptionTaken(), "selector " + Integer.toHexString(c[0]));
                assertEquals(c[2], m.stack(0));
                assertEquals(SegmentationAsm.AT_ss_load_insn, m.stack(1));
            }
        }
    }

    @Test
    void accessedBitIsSetThroughThePhysicalWriteDoor() {
        int hiAt = m.gdtEntry(6) + 4;
        assertEquals(0, m.read32(hiAt) & 0x100, "not accessed yet");
        m.mem.watchCode(TestMachine.GDT >>> 12, true); // forces writes to the page through write()
        m.mem.writeLog = new ArrayList<>();
        m.cpu.setReg(Cpu.EBX, SMALL);
        m.run(SegmentationAsm.seg_load);
        assertEquals(0x100, m.read32(hiAt) & 0x100, "accessed");
        assertTrue(m.mem.writeLog.stream().anyMatch(w -> w[0] == hiAt && (w[2] & 0x100) != 0));
    }

    // --- the LDT ----------------------------------------------------------------------------------

    @Test
    void lldtAndLdtSelectors() {
        m.write32(0x61010, 0x0BADCAFE);
        m.cpu.setReg(Cpu.EBX, LDT);
        m.cpu.setReg(Cpu.EDX, 0x0C);
        m.cpu.setReg(Cpu.ESI, 0x10);
        m.run(SegmentationAsm.ldt_use);
        assertEquals(-1, m.exceptionTaken());
        assertEquals(LDT, m.cpu.reg(Cpu.ECX), "SLDT");
        assertEquals(0x0BADCAFE, m.cpu.reg(Cpu.EAX), "read through the LDT segment's base");
        assertEquals(0x61000, m.cpu.segmentBase(AddressSpace.DS));
        assertEquals(0x100, m.read32(0x700C) & 0x100, "LDT descriptor accessed bit");

        fresh();
        m.cpu.setReg(Cpu.EBX, LDT);
        m.cpu.setReg(Cpu.EDX, 0x1C); // beyond the LDT's limit
        m.run(SegmentationAsm.ldt_use);
        assertEquals(CpuFault.GP, m.exceptionTaken());
        assertEquals(0x1C, m.stack(0), "selector with TI");

        fresh();
        m.cpu.setReg(Cpu.EBX, SMALL); // not an LDT descriptor
        m.run(SegmentationAsm.ldt_use);
        assertFault(CpuFault.GP, SMALL, SegmentationAsm.AT_lldt_insn);
    }

    // --- conforming code and call gates -------------------------------------------------------------

    @Test
    void conformingCodeRunsAtTheCallersPrivilege() {
        m.run(SegmentationAsm.conforming_call);
        assertEquals(CONF | 3, m.cpu.reg(Cpu.EBX), "CS.RPL = CPL = 3 in conforming code");
        assertEquals(0x70000 - 8, m.cpu.reg(Cpu.EDX), "no stack switch");
        assertFault(CpuFault.GP, TestMachine.KCODE, SegmentationAsm.AT_conf_direct_insn);
        assertEquals(TestMachine.UCODE, m.stack(2));
    }

    @Test
    void callGateToRingZeroCopiesParametersAndReturnsToRingThree() {
        m.cpu.setReg(Cpu.EBX, GATE3 | 3);
        m.run(SegmentationAsm.gate_call);
        assertEquals(0x80, m.exceptionTaken(), "back in ring 3, INT 0x80");
        assertEquals(TestMachine.KCODE, m.read32(DATA + 24), "gate target ran in ring 0");
        assertEquals(TestMachine.KDATA, m.read32(DATA + 28), "on the TSS's SS0");
        assertEquals(TestMachine.STACK_TOP - 24, m.read32(DATA + 32), "ESP0 - 6 dwords");
        assertEquals(SegmentationAsm.AT_gate_return, m.read32(DATA), "return EIP");
        assertEquals(TestMachine.UCODE, m.read32(DATA + 4), "return CS");
        assertEquals(0x2222, m.read32(DATA + 8), "parameter 1 (last pushed)");
        assertEquals(0x1111, m.read32(DATA + 12), "parameter 2");
        assertEquals(0x70000 - 8, m.read32(DATA + 16), "caller's ESP");
        assertEquals(TestMachine.UDATA, m.read32(DATA + 20), "caller's SS");
        assertEquals(0, m.cpu.reg(Cpu.EDI), "ES held a ring-0 selector: nulled by the return to ring 3");
        assertEquals(0x70000, m.stack(3), "RET 8 released the parameters on the caller's stack too");
        assertEquals(TestMachine.UCODE, m.stack(1));
    }

    @Test
    void callGateDplBelowCplFaults() {
        m.cpu.setReg(Cpu.EBX, GATE0 | 3);
        m.run(SegmentationAsm.gate_call);
        assertFault(CpuFault.GP, GATE0, SegmentationAsm.AT_gate_call_insn);
    }

    @Test
    void callGateNotPresentFaultsWithNp() {
        m.write32(m.gdtEntry(16) + 4, m.read32(m.gdtEntry(16) + 4) & ~0x8000);
        m.cpu.setReg(Cpu.EBX, GATE3 | 3);
        m.run(SegmentationAsm.gate_call);
        assertFault(CpuFault.NP, GATE3, SegmentationAsm.AT_gate_call_insn);
    }

    @Test
    void sixteenBitCallGateAtTheSameLevel() {
        m.cpu.setReg(Cpu.ESP, 0x9000);
        m.run(SegmentationAsm.gate16_call);
        assertEquals(-1, m.exceptionTaken());
        assertEquals(SegmentationAsm.AT_gate16_ret + 1, m.cpu.eip());
        assertEquals(0x9000 - 4, m.cpu.reg(Cpu.EDX), "16-bit CS and IP pushed");
        assertEquals(0x9000, m.cpu.reg(Cpu.ESP));
        assertEquals(TestMachine.KCODE, m.cpu.segmentSelector(AddressSpace.CS));
    }

    // --- LAR, LSL, VERR, VERW, ARPL ---------------------------------------------------------------

    private int[] accessChecks(int sel, boolean ring3) {
        m.cpu.setReg(Cpu.EBX, sel);
        m.run(ring3 ? SegmentationAsm.access_checks3 : SegmentationAsm.access_checks0);
        assertEquals(ring3 ? 0x80 : -1, m.exceptionTaken());
        return new int[] {m.cpu.reg(Cpu.EAX), m.cpu.reg(Cpu.EDX), m.mem.peek(DATA), m.mem.peek(DATA + 1),
            m.mem.peek(DATA + 2), m.mem.peek(DATA + 3)};
    }

    @Test
    void larLslVerrVerw() {
        int[] r = accessChecks(SMALL, false);
        assertEquals(0x00409200, r[0], "LAR: access rights bytes (accessed bit as stored: clear)");
        assertEquals(0xFFF, r[1], "LSL: byte-granular limit");
        assertEquals(1, r[2]); assertEquals(1, r[3]); assertEquals(1, r[4]); assertEquals(1, r[5]);

        fresh();
        r = accessChecks(XO, false);
        assertEquals(0xFFFFFFFF, r[1], "LSL: page-granular limit scaled");
        assertEquals(0, r[4], "VERR: execute-only"); assertEquals(0, r[5], "VERW: code");

        fresh();
        r = accessChecks(RO, false);
        assertEquals(1, r[4]); assertEquals(0, r[5], "VERW: read-only data");

        fresh();
        r = accessChecks(TestMachine.TSS, false);
        assertEquals(1, r[2], "LAR of a TSS"); assertEquals(1, r[3], "LSL of a TSS");
        assertEquals(0x67, r[1]);
        assertEquals(0, r[4]); assertEquals(0, r[5]);

        fresh();
        r = accessChecks(GATE3, false);
        assertEquals(1, r[2], "LAR of a call gate");
        assertEquals(0, r[3], "LSL of a gate fails");
        assertEquals(0xDEADBEEF, r[1], "LSL left its destination alone");

        fresh();
        r = accessChecks(0, false);
        assertEquals(0, r[2]); assertEquals(0, r[3]); assertEquals(0, r[4]); assertEquals(0, r[5]);
        assertEquals(0xDEADBEEF, r[0]);

        fresh();
        r = accessChecks(0x800, false); // beyond the GDT limit: ZF=0, no fault
        assertEquals(0, r[2]); assertEquals(0, r[4]);
    }

    @Test
    void accessChecksFromRingThreeRespectDpl() {
        int[] r = accessChecks(TestMachine.KDATA | 3, true);
        assertEquals(0, r[2], "LAR of DPL 0 data at CPL 3"); assertEquals(0, r[3]);
        assertEquals(0, r[4]); assertEquals(0, r[5]);
        fresh();
        r = accessChecks(DATA3 | 3, true);
        assertEquals(1, r[2]); assertEquals(1, r[3]); assertEquals(1, r[4]); assertEquals(1, r[5]);
        fresh();
        r = accessChecks(CONF | 3, true);
        assertEquals(1, r[2], "conforming code: no DPL check"); assertEquals(1, r[4]);
        assertEquals(0, r[5]);
    }

    @Test
    void arpl() {
        m.cpu.setReg(Cpu.EAX, 0x12340010);
        m.cpu.setReg(Cpu.EBX, 0x0023);
        m.cpu.setReg(Cpu.ECX, 0x0033);
        m.run(SegmentationAsm.arpl_test);
        assertEquals(0x12340013, m.cpu.reg(Cpu.EAX), "RPL raised to 3");
        assertEquals(1, m.mem.peek(DATA + 4), "ZF set");
        assertEquals(0x0033, m.mem.read(DATA + 6, 2), "already 3: unchanged");
        assertEquals(0, m.mem.peek(DATA + 5), "ZF clear");
    }

    // --- descriptor-table registers, TR, MSW -----------------------------------------------------

    @Test
    void storeDescriptorTableRegistersAndLoadTaskRegister() {
        m.cpu.ldtSel = 0;
        m.cpu.setReg(Cpu.EBX, TSS2);
        m.run(SegmentationAsm.desc_regs);
        assertEquals(-1, m.exceptionTaken());
        assertEquals(m.cpu.gdtLimit, m.mem.read(DATA, 2));
        assertEquals(TestMachine.GDT, m.read32(DATA + 2));
        assertEquals(256 * 8 - 1, m.mem.read(DATA + 8, 2));
        assertEquals(TestMachine.IDT, m.read32(DATA + 10));
        assertEquals(0, m.mem.read(DATA + 16, 2), "SLDT");
        assertEquals(TestMachine.TSS, m.mem.read(DATA + 18, 2), "STR before");
        assertEquals(TSS2, m.cpu.reg(Cpu.ECX), "STR after LTR");
        assertEquals(0x8B, (m.read32(m.gdtEntry(19) + 4) >>> 8) & 0xFF, "LTR marked the TSS busy");
        assertEquals(0x4000, m.cpu.trBase);

        // LTR of a busy TSS faults.
        m.cpu.setReg(Cpu.EBX, TSS2);
        m.load(SegmentationAsm.desc_regs);
        m.runAt(SegmentationAsm.AT_ltr_insn);
        assertFault(CpuFault.GP, TSS2, SegmentationAsm.AT_ltr_insn);
    }

    @Test
    void smswLmswClts() {
        m.run(SegmentationAsm.msw_test);
        assertEquals(-1, m.exceptionTaken());
        int cr0 = m.cpu.cr0();
        assertEquals(cr0 & ~AddressSpace.CR0_TS, m.cpu.reg(Cpu.EAX), "SMSW r32 stores CR0");
        assertEquals(AddressSpace.CR0_TS, m.cpu.reg(Cpu.EBX) & AddressSpace.CR0_TS);
        assertEquals(0, m.cpu.reg(Cpu.EDX) & AddressSpace.CR0_TS, "CLTS");
        assertEquals(AddressSpace.CR0_MP | AddressSpace.CR0_EM | AddressSpace.CR0_PE,
                m.cpu.reg(Cpu.EDI) & 0xF, "LMSW sets MP, EM");
        assertEquals(AddressSpace.CR0_PE, m.cpu.reg(Cpu.EBP) & 0xF, "LMSW cannot clear PE");
        assertEquals(AddressSpace.CR0_ET, m.cpu.reg(Cpu.EBP) & AddressSpace.CR0_ET, "ET stays");
    }

    @Test
    void lgdtAndLidt() {
        // A copy of the GDT at 0x5000, an IDT pointer to 0x1800.
        for (int i = 0; i < 48; i += 4) m.write32(0x5000 + i, m.read32(TestMachine.GDT + i));
        m.mem.write(DATA + 0x40, 2, 47);
        m.write32(DATA + 0x42, 0x5000);
        m.mem.write(DATA + 0x48, 2, 0x7FF);
        m.write32(DATA + 0x4A, TestMachine.IDT);
        m.run(SegmentationAsm.lgdt_test);
        assertEquals(-1, m.exceptionTaken());
        assertEquals(0x5000, m.cpu.gdtBase);
        assertEquals(0x5000, m.read32(DATA + 0x52));
        assertEquals(0x100, m.read32(0x5014) & 0x100, "DS reload marked the new GDT's entry");
    }
}
