package io.mucheckpoint.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The x87 run as real instructions in a flat 32-bit protected-mode machine: arithmetic against Java,
 * integer and BCD conversions under every rounding mode, raw 80-bit moves, FNSAVE/FRSTOR and
 * FNSTENV/FLDENV images, stack faults, exceptions and #MF, #NM, FXAM, FPREM, the constants,
 * invalid encodings and the saved state record.
 */
class FpuTest {
    static final int DATA = 0x20000, A = DATA, B = DATA + 0x10, R = DATA + 0x20, CW = DATA + 0x30, SW = DATA + 0x34,
            ENV = DATA + 0x100, ENV2 = DATA + 0x200;
    static final int IE = 1, DE = 2, ZE = 4, OE = 8, UE = 0x10, PE = 0x20, SF = 0x40, ES = 0x80;
    static final int C0 = 0x100, C1 = 0x200, C2 = 0x400, C3 = 0x4000;

    final TestMachine m = new TestMachine();

    /** Runs the code (then HLT) and checks that no exception was taken. */
    void run(Asm a) {
        m.cpu.halted = false; // the previous run ended in HLT
        m.runCode(a.build());
        assertEquals(-1, m.exceptionTaken(), "unexpected exception");
    }

    /** Runs the code and returns the exception vector taken (-1 for none). */
    int runFault(Asm a) {
        m.cpu.halted = false;
        m.runCode(a.build());
        return m.exceptionTaken();
    }

    int sw() {
        return m.cpu.fpu.statusWord();
    }

    void putDouble(int at, double d) {
        long v = Double.doubleToRawLongBits(d);
        m.write32(at, (int) v);
        m.write32(at + 4, (int) (v >>> 32));
    }

    double getDouble(int at) {
        return Double.longBitsToDouble(getLong(at));
    }

    long getLong(int at) {
        return (m.read32(at) & 0xFFFFFFFFL) | ((long) m.read32(at + 4) << 32);
    }

    void putLong(int at, long v) {
        m.write32(at, (int) v);
        m.write32(at + 4, (int) (v >>> 32));
    }

    void put80(int at, int se, long sig) {
        putLong(at, sig);
        m.mem.write(at + 8, 2, se);
    }

    int se80(int at) {
        return m.mem.read(at + 8, 2);
    }

    byte[] bytes(int at, int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) b[i] = (byte) m.mem.read(at + i, 1);
        return b;
    }

    static Asm asm() {
        return new Asm().fninit();
    }

    // --- arithmetic --------------------------------------------------------------------------

    static double randomDouble(Random rnd) {
        switch (rnd.nextInt(12)) {
            case 0: return 0.0;
            case 1: return -0.0;
            case 2: return rnd.nextBoolean() ? Double.POSITIVE_INFINITY : Double.NEGATIVE_INFINITY;
            case 3: return Double.longBitsToDouble(rnd.nextLong() & 0x800FFFFFFFFFFFFFL); // denormal
            case 4: return Double.longBitsToDouble(rnd.nextLong() & 0xFFEFFFFFFFFFFFFFL | 0x4000000000000000L); // huge
            case 5: return Double.longBitsToDouble(rnd.nextLong() & 0x80FFFFFFFFFFFFFFL | 0x0010000000000000L); // tiny
            case 6: return rnd.nextInt(2001) - 1000;
            default: return (rnd.nextDouble() - 0.5) * Math.scalb(1.0, rnd.nextInt(80) - 40);
        }
    }

    @Test
    void arithmeticAtDoublePrecisionMatchesJava() {
        Random rnd = new Random(42);
        m.write32(CW, 0x027F); // PC = double, RC = nearest, all masked
        int[] regs = {0, 1, 4, 5, 6, 7};
        int checked = 0;
        for (int n = 0; n < 6000; n++) {
            double a = randomDouble(rnd), b = randomDouble(rnd);
            int reg = regs[n % regs.length];
            double want;
            switch (reg) {
                case 0: want = a + b; break;
                case 1: want = a * b; break;
                case 4: want = a - b; break;
                case 5: want = b - a; break;
                case 6: want = a / b; break;
                default: want = b / a; break;
            }
            // In the denormal range the x87 rounds to 53 bits first and to the denormal on the store.
            if (want != 0 && Math.abs(want) < Double.MIN_NORMAL) continue;
            putDouble(A, a);
            putDouble(B, b);
            run(asm().fldcw(CW).fld64(A).arith64(reg, B).fstp64(R));
            double got = getDouble(R);
            String what = a + " op" + reg + " " + b;
            if (Double.isNaN(want)) {
                assertTrue(Double.isNaN(got), what);
                assertEquals(0xFFF8000000000000L, getLong(R), "the indefinite: " + what);
                assertTrue((sw() & IE) != 0, what);
            } else {
                assertEquals(Double.doubleToRawLongBits(want), Double.doubleToRawLongBits(got), what);
            }
            checked++;
        }
        for (int n = 0; n < 1000; n++) {
            double a = randomDouble(rnd);
            putDouble(A, a);
            run(asm().fldcw(CW).fld64(A).fsqrt().fstp64(R));
            double want = Math.sqrt(a);
            if (Double.isNaN(want)) assertEquals(0xFFF8000000000000L, getLong(R), "sqrt " + a);
            else assertEquals(Double.doubleToRawLongBits(want), getLong(R), "sqrt " + a);
            checked++;
        }
        assertTrue(checked > 5000);
    }

    @Test
    void extendedPrecisionKeepsSixtyFourBits() {
        // 1 + 2^-60 is exact in extended precision and is lost at double precision control.
        putDouble(A, 1.0);
        putDouble(B, Math.scalb(1.0, -60));
        run(asm().fld64(A).arith64(0, B).fstp80(R));
        assertEquals(0x3FFF, se80(R));
        assertEquals(0x8000000000000008L, getLong(R));
        m.write32(CW, 0x027F);
        run(asm().fldcw(CW).fld64(A).arith64(0, B).fstp80(R));
        assertEquals(0x8000000000000000L, getLong(R));
        assertEquals(PE, sw() & PE);
    }

    // --- comparisons -------------------------------------------------------------------------

    @Test
    void comparesSetConditionCodesAndEflags() {
        double nan = Double.NaN;
        double[][] cases = {{1, 2}, {2, 1}, {3, 3}, {0.0, -0.0}, {nan, 1}, {1, nan},
            {Double.NEGATIVE_INFINITY, Double.POSITIVE_INFINITY}, {Double.MIN_VALUE, 0}};
        for (double[] c : cases) {
            putDouble(A, c[0]);
            putDouble(B, c[1]);
            boolean unordered = Double.isNaN(c[0]) || Double.isNaN(c[1]);
            int cc = unordered ? C3 | C2 | C0 : c[0] > c[1] ? 0 : c[0] < c[1] ? C0 : C3;
            int fl = unordered ? 0x45 : c[0] > c[1] ? 0 : c[0] < c[1] ? 1 : 0x40;
            String what = c[0] + " vs " + c[1];
            // FCOM m64: any NaN is invalid
            run(asm().fld64(A).arith64(2, B));
            assertEquals(cc, sw() & (C3 | C2 | C1 | C0), what);
            assertEquals(unordered, (sw() & IE) != 0, what);
            // FUCOMI ST(1) and FCOMI ST(1): ST0 = a, ST1 = b
            run(asm().fld64(B).fld64(A).bytes(0xDB, 0xE9));
            assertEquals(fl, m.cpu.eflags() & 0x8D5, "fucomi " + what);
            assertEquals(0, sw() & IE, "fucomi, quiet NaN: " + what);
            run(asm().fld64(B).fld64(A).fcomi(1));
            assertEquals(fl, m.cpu.eflags() & 0x8D5, "fcomi " + what);
            assertEquals(unordered, (sw() & IE) != 0, "fcomi " + what);
            // FUCOMIP pops
            run(asm().fld64(B).fld64(A).fucomip(1));
            assertEquals(7, (sw() >> 11) & 7);
        }
        // An SNaN is invalid even for FUCOM; FCOMPP pops twice.
        put80(A, 0x7FFF, 0x8000000000000001L);
        putDouble(B, 1);
        run(asm().fld64(B).fld80(A).bytes(0xDD, 0xE1));
        assertEquals(IE | C3 | C2 | C0, sw() & (IE | C3 | C2 | C0));
        run(asm().fld64(B).fld64(B).bytes(0xDE, 0xD9));
        assertEquals(C3, sw() & (C3 | C2 | C0));
        assertEquals(0, (sw() >> 11) & 7);
        assertEquals(0xFFFF, m.cpu.fpu.tagWord());
        // FTST against zero
        putDouble(A, -5);
        run(asm().fld64(A).bytes(0xD9, 0xE4));
        assertEquals(C0, sw() & (C3 | C2 | C0));
    }

    @Test
    void fcmovFollowsEflags() {
        putDouble(A, 1);
        putDouble(B, 2);
        // mov eax, 1; cmp eax, 2 (CF = 1); FCMOVB ST0, ST1 moves; FCMOVNB does not
        run(asm().fld64(B).fld64(A).bytes(0xB8, 1, 0, 0, 0, 0x83, 0xF8, 2).bytes(0xDA, 0xC1).fstp64(R));
        assertEquals(2.0, getDouble(R));
        run(asm().fld64(B).fld64(A).bytes(0xB8, 1, 0, 0, 0, 0x83, 0xF8, 2).bytes(0xDB, 0xC1).fstp64(R));
        assertEquals(1.0, getDouble(R));
        // FCMOVE after equal compare, FCMOVU after an unordered FUCOMI
        run(asm().fld64(B).fld64(A).bytes(0xB8, 2, 0, 0, 0, 0x83, 0xF8, 2).bytes(0xDA, 0xC9).fstp64(R));
        assertEquals(2.0, getDouble(R));
        putDouble(ENV, Double.NaN);
        run(asm().fld64(B).fld64(ENV).fld64(A).bytes(0xDB, 0xE9).bytes(0xDA, 0xDA).fstp64(R));
        assertEquals(2.0, getDouble(R));
    }

    // --- integers and BCD ----------------------------------------------------------------------

    @Test
    void integerStoresHonourRoundingControl() {
        double[] in = {2.5, -2.5, 3.5, -3.5, 2.4, -2.6, 0.5, -0.5};
        long[][] want = {
            {2, -2, 4, -4, 2, -3, 0, 0},   // nearest even
            {2, -3, 3, -4, 2, -3, 0, -1},  // down
            {3, -2, 4, -3, 3, -2, 1, 0},   // up
            {2, -2, 3, -3, 2, -2, 0, 0},   // chop
        };
        for (int rc = 0; rc < 4; rc++) {
            m.write32(CW, 0x037F | rc << 10);
            for (int i = 0; i < in.length; i++) {
                putDouble(A, in[i]);
                run(asm().fldcw(CW).fld64(A).fistp32(R));
                assertEquals(want[rc][i], m.read32(R), "rc " + rc + " of " + in[i]);
                assertEquals(PE, sw() & (PE | IE));
                run(asm().fldcw(CW).fld64(A).fistp64(R));
                assertEquals(want[rc][i], getLong(R), "rc " + rc + " of " + in[i]);
                run(asm().fldcw(CW).fld64(A).fistp16(R));
                assertEquals(want[rc][i], (short) m.mem.read(R, 2), "rc " + rc + " of " + in[i]);
                // FRNDINT rounds the same way
                run(asm().fldcw(CW).fld64(A).bytes(0xD9, 0xFC).fstp64(R));
                assertEquals((double) want[rc][i], getDouble(R) + 0.0, "frndint rc " + rc + " of " + in[i]);
            }
        }
    }

    @Test
    void integerOverflowStoresTheIndefinite() {
        double[] bad = {40000.0, -32768.6, Double.NaN, Double.POSITIVE_INFINITY};
        for (double d : bad) {
            putDouble(A, d);
            m.mem.write(R, 2, 0x1234);
            run(asm().fld64(A).fistp16(R));
            assertEquals(0x8000, m.mem.read(R, 2), "m16 of " + d);
            assertEquals(IE, sw() & (IE | PE));
        }
        putDouble(A, -32768.4);
        run(asm().fld64(A).fistp16(R));
        assertEquals(0x8000, m.mem.read(R, 2));
        assertEquals(PE, sw() & (IE | PE));
        putDouble(A, 0x1p31);
        run(asm().fld64(A).fistp32(R));
        assertEquals(0x80000000, m.read32(R));
        assertEquals(IE, sw() & IE);
        putDouble(A, 0x1p63);
        run(asm().fld64(A).fistp64(R));
        assertEquals(Long.MIN_VALUE, getLong(R));
        assertEquals(IE, sw() & IE);
        putDouble(A, -0x1p63);
        run(asm().fld64(A).fistp64(R));
        assertEquals(Long.MIN_VALUE, getLong(R));
        assertEquals(0, sw() & IE);
        // With IE unmasked nothing is stored and the stack is not popped.
        m.write32(CW, 0x037E);
        putDouble(A, 1e10);
        m.write32(R, 0x55555555);
        run(asm().fldcw(CW).fld64(A).fistp32(R));
        assertEquals(0x55555555, m.read32(R));
        assertEquals(IE | ES, sw() & (IE | ES));
        assertEquals(7, (sw() >> 11) & 7);
    }

    @Test
    void integerLoads() {
        m.mem.write(A, 2, 0xFFFE);
        m.write32(B, 0x80000000);
        putLong(R, Long.MIN_VALUE + 1);
        run(asm().fild16(A).fstp64(ENV).fild32(B).fstp64(ENV + 8).fild64(R).fstp80(ENV + 16));
        assertEquals(-2.0, getDouble(ENV));
        assertEquals(-2147483648.0, getDouble(ENV + 8));
        assertEquals(0xC03D, se80(ENV + 16)); // -(2^63 - 1) exactly
        assertEquals(0xFFFFFFFFFFFFFFFEL, getLong(ENV + 16));
    }

    @Test
    void bcdLoadsAndStores() {
        int[] bcd = {0x78, 0x56, 0x34, 0x12, 0x90, 0x78, 0x56, 0x34, 0x12, 0x80};
        m.load(A, bcd);
        run(asm().fbld(A).fistp64(R));
        assertEquals(-123456789012345678L, getLong(R));
        // FBSTP rounds under RC
        putDouble(A, 1234.5);
        run(asm().fld64(A).fbstp(R));
        assertArrayEquals(new byte[] {0x34, 0x12, 0, 0, 0, 0, 0, 0, 0, 0}, bytes(R, 10));
        m.write32(CW, 0x0B7F);
        run(asm().fldcw(CW).fld64(A).fbstp(R));
        assertArrayEquals(new byte[] {0x35, 0x12, 0, 0, 0, 0, 0, 0, 0, 0}, bytes(R, 10));
        putDouble(A, -999999999999999999.0 / 10);
        run(asm().fld64(A).fbstp(R));
        assertEquals((byte) 0x80, bytes(R, 10)[9]);
        // Too large: IE and the BCD indefinite (FFFF C000000000000000)
        putDouble(A, 1e18);
        run(asm().fld64(A).fbstp(R));
        assertArrayEquals(new byte[] {0, 0, 0, 0, 0, 0, 0, (byte) 0xC0, (byte) 0xFF, (byte) 0xFF}, bytes(R, 10));
        assertEquals(IE, sw() & IE);
        // Round trip of the largest value
        int[] max = {0x99, 0x99, 0x99, 0x99, 0x99, 0x99, 0x99, 0x99, 0x99, 0x00};
        m.load(A, max);
        run(asm().fbld(A).fbstp(R));
        assertArrayEquals(bytes(A, 10), bytes(R, 10));
    }

    // --- raw moves -----------------------------------------------------------------------------

    @Test
    void m80LoadStoreRoundTripsBitExact() {
        long[][] values = {
            {0x7FFF, 0x8000000000000001L},   // SNaN: no IE for FLD/FSTP m80
            {0x0000, 0x8000000000000000L},   // pseudo-denormal
            {0x1234, 0x0123456789ABCDEFL},   // unnormal
            {0x7FFF, 0x0000000000000000L},   // pseudo-infinity
            {0xFFFF, 0x4000000000000000L},   // pseudo-NaN
            {0x0000, 0x0000000000000001L},   // smallest denormal
            {0xFFFF, 0xC000000000000000L},   // the indefinite
            {0x8000, 0},                     // -0
            {0x7FFE, 0xFFFFFFFFFFFFFFFFL},   // largest finite
            {0x3FFF, 0x8000000000000000L},
        };
        for (long[] v : values) {
            put80(A, (int) v[0], v[1]);
            // through FLD/FSTP m80, FLD ST(i), FXCH, FST ST(i), FSTP ST(i)
            run(asm().fld80(A).fldz().fxch(1).fldSt(0).fstpSt(2).fstpSt(0).fstp80(R));
            assertEquals(v[0], se80(R), Long.toHexString(v[1]));
            assertEquals(v[1], getLong(R), Long.toHexString(v[1]));
            assertEquals(0, sw() & 0x3F, "no exception for raw moves");
        }
    }

    @Test
    void loadsConvertExactly() {
        // m32 / m64 loads: denormals normalized with DE, SNaN quieted with IE, the rest exact.
        m.write32(A, 0x00000001);
        run(asm().fld32(A).fstp80(R));
        assertEquals(0x3FFF - 149, se80(R));
        assertEquals(0x8000000000000000L, getLong(R));
        assertEquals(DE, sw() & 0x3F);
        putLong(A, 0x7FF0000000000001L);
        run(asm().fld64(A).fstp80(R));
        assertEquals(0x7FFF, se80(R));
        assertEquals(0xC000000000000800L, getLong(R));
        assertEquals(IE, sw() & 0x3F);
        putLong(A, 0x8000000000000000L);
        run(asm().fld64(A).fstp80(R));
        assertEquals(0x8000, se80(R));
        assertEquals(0, getLong(R));
        // FST m32 rounds under RC and reports C1 when rounding up
        putDouble(A, 1.0 + Math.scalb(1.0, -30));
        m.write32(CW, 0x0B7F);
        run(asm().fldcw(CW).fld64(A).fstp32(R));
        assertEquals(Float.floatToRawIntBits(1.0f + Math.ulp(1.0f)), m.read32(R));
        assertEquals(PE | C1, sw() & (PE | C1));
    }

    // --- environment and save images -----------------------------------------------------------

    @Test
    void fnsaveFrstorRoundTrip32() {
        put80(A, 0x7FFF, 0x8000000000000001L);
        putDouble(B, 3.0);
        m.write32(CW, 0x0A7F);
        Asm a = asm().fldcw(CW).fld80(A).fld1().fld64(B);
        int divAt = TestMachine.CODE + a.size();
        a.arith64(6, B + 8 - 8); // FDIV m64 [B]: 3/3, exact
        a.fld1().arith64(6, B);  // 1/3: PE, rounds up under RC=up
        int lastAt = TestMachine.CODE + a.size() - 6;
        a.fnsave(ENV);
        run(a);
        assertEquals(0x037F, m.cpu.fpu.controlWord(), "FNSAVE reinitializes");
        assertEquals(0xFFFF, m.cpu.fpu.tagWord());
        assertEquals(0, sw());
        assertEquals(0xFFFF0A7F, m.read32(ENV));
        int sw = m.read32(ENV + 4);
        assertEquals(0xFFFF0000, sw & 0xFFFF0000);
        assertEquals(4, (sw >> 11) & 7, "TOP after four pushes");
        assertEquals(PE | C1, sw & (PE | C1));
        // tags: ST0 1/3 valid, ST1 1.0 valid, ST2 1.0 valid, ST3 SNaN special, others empty
        assertEquals(0xFFFF0000 | 0b10_00_00_00_11_11_11_11, m.read32(ENV + 8));
        assertEquals(lastAt, m.read32(ENV + 12), "FIP");
        assertEquals(TestMachine.KCODE | (0x435 << 16), m.read32(ENV + 16), "FCS and FOP (DC /6, modrm 35)");
        assertEquals(B, m.read32(ENV + 20), "FDP");
        assertEquals(0xFFFF0000 | TestMachine.KDATA, m.read32(ENV + 24), "FDS");
        assertNotEquals(0, divAt);
        // ST(0) first
        assertEquals(0x3FFD, m.mem.read(ENV + 28 + 8, 2));
        assertEquals(0xAAAAAAAAAAAAB000L, getLong(ENV + 28), "1/3 at double precision, rounded up");
        assertEquals(0x7FFF, m.mem.read(ENV + 58 + 8, 2));
        assertEquals(0x8000000000000001L, getLong(ENV + 58));
        run(new Asm().frstor(ENV).fnsave(ENV2));
        assertArrayEquals(bytes(ENV, 108), bytes(ENV2, 108));
        // after FRSTOR the registers are usable again
        run(new Asm().frstor(ENV).fstp64(R));
        assertEquals(1.0 / 3, getDouble(R), 1e-15);
    }

    @Test
    void fnsaveFrstorRoundTrip16() {
        putDouble(B, 5.0);
        Asm a = asm().fld64(B).fldpi();
        a.o16().fnsave(ENV);
        run(a);
        assertEquals(0x037F, m.mem.read(ENV, 2));
        assertEquals(6 << 11, m.mem.read(ENV + 2, 2));
        assertEquals(0x0FFF, m.mem.read(ENV + 4, 2));
        assertEquals((TestMachine.CODE + a.size() - 9) & 0xFFFF, m.mem.read(ENV + 6, 2), "FIP of FLDPI");
        assertEquals(TestMachine.KCODE, m.mem.read(ENV + 8, 2));
        assertEquals(B & 0xFFFF, m.mem.read(ENV + 10, 2));
        assertEquals(0xC90FDAA22168C235L, getLong(ENV + 14));
        assertEquals(0x4000, m.mem.read(ENV + 22, 2));
        run(new Asm().o16().frstor(ENV).o16().fnsave(ENV2));
        assertArrayEquals(bytes(ENV, 94), bytes(ENV2, 94));
    }

    @Test
    void fnstenvMasksExceptionsAndFldenvRestores() {
        m.write32(CW, 0x0360);
        run(asm().fldcw(CW).fld1().fnstenv(ENV));
        assertEquals(0x0360, m.mem.read(ENV, 2));
        assertEquals(0x037F, m.cpu.fpu.controlWord(), "FNSTENV masks every exception");
        assertEquals(0x3FFF, m.mem.read(ENV + 8, 2));
        assertEquals(0x1E8, m.read32(ENV + 16) >>> 16, "FOP of FLD1");
        // FLDENV of an image with an unmasked pending exception: ES, and #MF at the next waiting instruction
        m.mem.write(ENV + 4, 2, ZE);
        m.cpu.cr0 |= AddressSpace.CR0_NE;
        run(new Asm().fldenv(ENV));
        assertEquals(ZE | ES | 0x8000, sw() & 0xFFFF & ~0x3800);
        assertEquals(CpuFault.MF, runFault(new Asm().fnop()));
        // the non-waiting control instructions do not fault and FNCLEX clears the error
        run(new Asm().fnstswAx().fnstcw(R).fnclex().fnop());
        assertEquals(ZE | ES | 0x8000, m.cpu.reg(Cpu.EAX) & 0xFFFF & ~0x3800);
        assertEquals(0, sw() & (ES | ZE));
        // 16-bit image
        run(asm().fld1().fld1().o16().fnstenv(ENV2).o16().fldenv(ENV2).o16().fnstenv(ENV2 + 0x40));
        assertArrayEquals(bytes(ENV2, 14), bytes(ENV2 + 0x40, 14));
        assertEquals(0x0FFF, m.mem.read(ENV2 + 4, 2));
    }

    @Test
    void realModeEnvironmentLayout() {
        // Real mode, CS = 0x1000 (code at linear 0x10000), DS = 0.
        m.cpu.cr0 &= ~AddressSpace.CR0_PE;
        m.cpu.modeChanged();
        m.cpu.loadSegment(AddressSpace.CS, 0x1000);
        m.cpu.loadSegment(AddressSpace.DS, 0);
        m.cpu.loadSegment(AddressSpace.SS, 0);
        m.cpu.setReg(Cpu.ESP, 0x8000);
        // 16-bit code: fninit; fld1 (at IP 2); fldl [0x2345]; fnstenv [0x3000]; o32 fnstenv [0x3100]; hlt
        int[] code = {0xDB, 0xE3, 0xD9, 0xE8, 0xDD, 0x06, 0x45, 0x23, 0xD9, 0x36, 0x00, 0x30,
            0x66, 0xD9, 0x36, 0x00, 0x31, 0xF4};
        m.load(0x10000, code);
        m.cpu.setEip(0);
        m.cpu.run(m.cpu.icount() + 100);
        assertTrue(m.cpu.halted());
        int ip = 0x10004; // linear address of the FLD m64
        assertEquals(ip & 0xFFFF, m.mem.read(0x3006, 2));
        assertEquals(((ip >>> 16) << 12) | 0x506, m.mem.read(0x3008, 2), "FIP[19:16] and FOP (DD /0, modrm 06)");
        assertEquals(0x2345, m.mem.read(0x300A, 2));
        assertEquals(0, m.mem.read(0x300C, 2));
        assertEquals(0xFFFF0000 | (ip & 0xFFFF), m.read32(0x310C));
        assertEquals(((ip >>> 16) << 12) | 0x506, m.read32(0x3110));
        assertEquals(0xFFFF2345, m.read32(0x3114));
        assertEquals(0, m.read32(0x3118));
        // FLDENV of the real-mode image gives the same image back
        int[] code2 = {0xD9, 0x26, 0x00, 0x30, 0xD9, 0x36, 0x00, 0x32, 0xF4};
        m.load(0x10000, code2);
        m.cpu.halted = false;
        m.cpu.setEip(0);
        m.cpu.run(m.cpu.icount() + 100);
        assertArrayEquals(bytes(0x3000, 14), bytes(0x3200, 14));
    }

    // --- stack faults and exceptions ----------------------------------------------------------

    @Test
    void stackOverflowAndUnderflow() {
        Asm a = asm();
        for (int i = 0; i < 9; i++) a.fld1();
        a.fnstsw(SW).fstp80(R);
        run(a);
        assertEquals(0xFFFF, se80(R), "the masked response pushes the indefinite");
        assertEquals(0xC000000000000000L, getLong(R));
        assertEquals(IE | SF | C1, m.mem.read(SW, 2) & (IE | SF | C1));
        // underflow: FADD with an empty ST(1)
        run(asm().fld1().bytes(0xD8, 0xC1).fstp80(R));
        assertEquals(0xFFFF, se80(R));
        assertEquals(IE | SF, sw() & (IE | SF | C1));
        // unmasked: nothing is pushed, ES is set and the next waiting instruction raises #MF
        m.write32(CW, 0x037E);
        m.cpu.cr0 |= AddressSpace.CR0_NE;
        Asm b = asm().fldcw(CW);
        for (int i = 0; i < 9; i++) b.fld1();
        b.fnop();
        assertEquals(CpuFault.MF, runFault(b));
        assertEquals(IE | SF | C1 | ES, sw() & (IE | SF | C1 | ES));
        assertEquals(0, (sw() >> 11) & 7);
    }

    @Test
    void zeroDivideMaskedAndUnmasked() {
        putDouble(A, 1);
        putDouble(B, 0);
        run(asm().fld64(A).arith64(6, B).fstp64(R));
        assertEquals(Double.POSITIVE_INFINITY, getDouble(R));
        assertEquals(ZE, sw() & 0x3F);
        assertEquals(0, sw() & ES);

        // Unmasked: FDIV completes without a trap; the next waiting FPU instruction raises #MF.
        m.cpu.cr0 |= AddressSpace.CR0_NE;
        m.write32(CW, 0x037B);
        Asm a = asm().fldcw(CW).fld64(A);
        int divAt = TestMachine.CODE + a.size();
        a.arith64(6, B);
        a.fnstsw(SW); // does not wait
        a.bytes(0x90); // NOP
        int nextAt = TestMachine.CODE + a.size();
        a.fstp64(R);
        putDouble(R, 7);
        assertEquals(CpuFault.MF, runFault(a));
        assertEquals(nextAt, m.read32(m.cpu.reg(Cpu.ESP)), "#MF points at the next FPU instruction");
        assertEquals(ZE | ES | 0x8000, m.mem.read(SW, 2) & (ZE | ES | 0x8000));
        assertEquals(7.0, getDouble(R), "ST0 not stored");
        run(new Asm().fnstenv(ENV));
        assertEquals(divAt, m.read32(ENV + 12), "FIP points at the FDIV");
        // FWAIT raises it too
        assertEquals(CpuFault.MF, runFault(asm().fldcw(CW).fld64(A).arith64(6, B).fwait()));
        // With CR0.NE = 0 the error is not delivered as #MF (FERR#/IRQ13 is not modelled).
        m.cpu.cr0 &= ~AddressSpace.CR0_NE;
        run(asm().fldcw(CW).fld64(A).arith64(6, B).fwait().fnop());
        assertEquals(ZE | ES, sw() & (ZE | ES));
    }

    @Test
    void unmaskedOverflowWrapsTheExponent() {
        m.cpu.cr0 |= AddressSpace.CR0_NE;
        put80(A, 0x3FFF + 16000, 0x8000000000000000L);
        m.write32(CW, 0x0377); // OE unmasked
        run(asm().fldcw(CW).fld80(A).bytes(0xD8, 0xC8).fnstsw(SW).fnclex().fstp80(R));
        assertEquals(0x3FFF + 32000 - 24576, se80(R));
        assertEquals(OE | ES, m.mem.read(SW, 2) & (OE | ES | PE));
        // to memory: the store is suppressed
        putDouble(R, 5);
        run(asm().fldcw(CW).fld80(A).fstp64(R).fnstsw(SW).fnclex());
        assertEquals(5.0, getDouble(R));
        assertEquals(OE | ES, m.mem.read(SW, 2) & (OE | ES | PE));
        // masked: infinity, rounded up
        run(asm().fld80(A).bytes(0xD8, 0xC8).fnstsw(SW).fstp64(R));
        assertEquals(Double.POSITIVE_INFINITY, getDouble(R));
        assertEquals(OE | PE | C1, m.mem.read(SW, 2) & (OE | PE | C1 | UE));
    }

    @Test
    void deviceNotAvailable() {
        m.cpu.cr0 |= AddressSpace.CR0_EM;
        assertEquals(CpuFault.NM, runFault(new Asm().fninit()));
        assertEquals(-1, runFault(new Asm().fwait()), "WAIT ignores EM");
        m.cpu.cr0 &= ~AddressSpace.CR0_EM;
        m.cpu.cr0 |= AddressSpace.CR0_TS;
        assertEquals(CpuFault.NM, runFault(new Asm().fld1()));
        assertEquals(CpuFault.NM, runFault(new Asm().fnstswAx()));
        assertEquals(-1, runFault(new Asm().fwait()), "WAIT with TS but not MP");
        m.cpu.cr0 |= AddressSpace.CR0_MP;
        assertEquals(CpuFault.NM, runFault(new Asm().fwait()));
        m.cpu.cr0 &= ~(AddressSpace.CR0_TS | AddressSpace.CR0_MP);
        run(asm().fld1().fwait());
    }

    @Test
    void invalidEncodingsRaiseUd() {
        int[][] bad = {
            {0xD9, 0xD1}, {0xD9, 0xE2}, {0xD9, 0xEF}, {0xDA, 0xE8}, {0xDA, 0xF0}, {0xDB, 0xE5}, {0xDB, 0xF8},
            {0xDD, 0xF0}, {0xDE, 0xD8}, {0xDF, 0xE1}, {0xDF, 0xF8},
            {0xD9, 0x0D, 0, 0, 2, 0}, {0xDB, 0x0D, 0, 0, 2, 0}, {0xDD, 0x0D, 0, 0, 2, 0}, {0xDF, 0x0D, 0, 0, 2, 0},
            {0xDB, 0x25, 0, 0, 2, 0}, {0xDB, 0x35, 0, 0, 2, 0}, {0xDD, 0x2D, 0, 0, 2, 0},
        };
        for (int[] b : bad) {
            assertEquals(CpuFault.UD, runFault(new Asm().bytes(b)), String.format("%02X %02X", b[0], b[1]));
        }
        // The P6's aliases execute: FSTP1 (D9 D8), FCOM2 (DC D0), FXCH4 (DD C8), FCOMP5 (DE D0),
        // FFREEP (DF C0), FXCH7 (DF C8), FSTP8 (DF D0), FSTP9 (DF D8), FNENI/FNDISI/FNSETPM.
        run(asm().fld1().fld1().bytes(0xD9, 0xD9, 0xDC, 0xD0, 0xDD, 0xC8, 0xDF, 0xC8, 0xDE, 0xD0)
                .fld1().bytes(0xDF, 0xD0, 0xDF, 0xC0, 0xDB, 0xE0, 0xDB, 0xE1, 0xDB, 0xE4));
        assertEquals(0, sw() & IE);
    }

    // --- the other instructions ---------------------------------------------------------------

    @Test
    void fxamClasses() {
        long[][] v = {
            {0x3FFF, 0x8000000000000000L, C2},          // normal
            {0x7FFF, 0x8000000000000000L, C2 | C0},     // infinity
            {0x7FFF, 0xC000000000000001L, C0},          // NaN
            {0x0000, 0, C3},                            // zero
            {0x0000, 0x0000000000000001L, C3 | C2},     // denormal
            {0x0000, 0x8000000000000000L, C3 | C2},     // pseudo-denormal
            {0x1234, 0x0000000000000001L, 0},           // unnormal: unsupported
        };
        for (long[] x : v) {
            for (int sign = 0; sign < 2; sign++) {
                put80(A, (int) x[0] | sign << 15, x[1]);
                run(asm().fld80(A).fxam());
                assertEquals(x[2] | (sign != 0 ? C1 : 0), sw() & (C3 | C2 | C1 | C0), Long.toHexString(x[1]));
            }
        }
        run(asm().fxam());
        assertEquals(C3 | C0, sw() & (C3 | C2 | C0), "empty");
    }

    @Test
    void fpremComputesPartialRemainders() {
        double[][] cases = {{1e300, 3.0}, {1e300, 0.7}, {-5.5, 2}, {12345.678, -0.01}, {0x1p1000, 1.1}};
        for (double[] c : cases) {
            putDouble(A, c[0]);
            putDouble(B, c[1]);
            // loop: fprem; fnstsw ax; test ah, 4; jnz loop
            Asm a = asm().fld64(B).fld64(A).fprem().fnstswAx().bytes(0xF6, 0xC4, 0x04, 0x75, 0xF7).fstp64(R);
            long before = m.cpu.icount();
            run(a);
            assertEquals(c[0] % c[1], getDouble(R), 0.0, "fprem " + c[0] + " % " + c[1]);
            if (Math.getExponent(c[0]) - Math.getExponent(c[1]) >= 64) {
                assertTrue(m.cpu.icount() - before >= 3 + 2 * 4 + 1, "more than one partial step");
            }
            a = asm().fld64(B).fld64(A).fprem1().fnstswAx().bytes(0xF6, 0xC4, 0x04, 0x75, 0xF7).fstp64(R);
            run(a);
            assertEquals(Math.IEEEremainder(c[0], c[1]), getDouble(R), 0.0, "fprem1 " + c[0] + " rem " + c[1]);
        }
        // quotient bits in C0, C3, C1: 7 / 2 -> q = 3
        putDouble(A, 7);
        putDouble(B, 2);
        run(asm().fld64(B).fld64(A).fprem());
        assertEquals(C3 | C1, sw() & (C3 | C2 | C1 | C0));
        putDouble(A, 1e30);
        putDouble(B, 3);
        run(asm().fld64(B).fld64(A).fprem());
        assertEquals(C2, sw() & C2, "incomplete");
    }

    @Test
    void constantsRoundUnderRc() {
        // {opcode byte, se, nearest, down, up, chop}
        long[][] c = {
            {0xE8, 0x3FFF, 0x8000000000000000L, 0x8000000000000000L, 0x8000000000000000L, 0x8000000000000000L},
            {0xE9, 0x4000, 0xD49A784BCD1B8AFEL, 0xD49A784BCD1B8AFEL, 0xD49A784BCD1B8AFFL, 0xD49A784BCD1B8AFEL},
            {0xEA, 0x3FFF, 0xB8AA3B295C17F0BCL, 0xB8AA3B295C17F0BBL, 0xB8AA3B295C17F0BCL, 0xB8AA3B295C17F0BBL},
            {0xEB, 0x4000, 0xC90FDAA22168C235L, 0xC90FDAA22168C234L, 0xC90FDAA22168C235L, 0xC90FDAA22168C234L},
            {0xEC, 0x3FFD, 0x9A209A84FBCFF799L, 0x9A209A84FBCFF798L, 0x9A209A84FBCFF799L, 0x9A209A84FBCFF798L},
            {0xED, 0x3FFE, 0xB17217F7D1CF79ACL, 0xB17217F7D1CF79ABL, 0xB17217F7D1CF79ACL, 0xB17217F7D1CF79ABL},
            {0xEE, 0x0000, 0, 0, 0, 0},
        };
        for (long[] k : c) {
            for (int rc = 0; rc < 4; rc++) {
                m.write32(CW, 0x037F | rc << 10);
                run(asm().fldcw(CW).bytes(0xD9, (int) k[0]).fstp80(R));
                assertEquals(k[1], se80(R));
                assertEquals(k[2 + rc], getLong(R), String.format("D9 %02X rc %d", k[0], rc));
                assertEquals(0, sw() & 0x3F);
            }
        }
    }

    @Test
    void stackManagement() {
        putDouble(A, 1);
        putDouble(B, 2);
        // FXCH, FFREE, FINCSTP/FDECSTP, FFREEP
        run(asm().fld64(A).fld64(B).fxch(1).fstp64(R));
        assertEquals(1.0, getDouble(R));
        run(asm().fld64(A).fld64(B).bytes(0xDD, 0xC1).bytes(0xD9, 0xF7));
        assertEquals(0xFFFF & ~(3 << 12), m.cpu.fpu.tagWord(), "ST1 freed, ST0 kept; TOP moved past it");
        assertEquals(7, (sw() >> 11) & 7);
        run(asm().fld64(A).bytes(0xD9, 0xF6, 0xD9, 0xF6));
        assertEquals(5, (sw() >> 11) & 7);
        run(asm().fld64(A).fld64(B).bytes(0xDF, 0xC0));
        assertEquals(0xFFFF & ~(3 << 14), m.cpu.fpu.tagWord());
        assertEquals(7, (sw() >> 11) & 7);
        // FCHS, FABS, FSCALE, FXTRACT
        putDouble(A, -3);
        run(asm().fld64(A).bytes(0xD9, 0xE1).fstp64(R));
        assertEquals(3.0, getDouble(R));
        putDouble(B, 3.7);
        run(asm().fld64(B).fld64(A).bytes(0xD9, 0xFD).fstp64(R));
        assertEquals(-24.0, getDouble(R));
        putDouble(A, 48);
        run(asm().fld64(A).bytes(0xD9, 0xF4).fstp64(R).fstp64(R + 8));
        assertEquals(1.5, getDouble(R));
        assertEquals(5.0, getDouble(R + 8));
    }

    @Test
    void transcendentalsAreClose() {
        double[] xs = {0.5, -1.25, 3.0, 100.0, 1e-10};
        for (double x : xs) {
            putDouble(A, x);
            run(asm().fld64(A).bytes(0xD9, 0xFE).fstp64(R));
            assertEquals(Math.sin(x), getDouble(R), Math.abs(Math.sin(x)) * 1e-15, "sin " + x);
            run(asm().fld64(A).bytes(0xD9, 0xFF).fstp64(R));
            assertEquals(Math.cos(x), getDouble(R), 1e-15, "cos " + x);
            run(asm().fld64(A).bytes(0xD9, 0xF2).fstp64(R).fstp64(R + 8));
            assertEquals(1.0, getDouble(R), "FPTAN pushes 1");
            assertEquals(Math.tan(x), getDouble(R + 8), Math.abs(Math.tan(x)) * 1e-14, "tan " + x);
            run(asm().fld64(A).bytes(0xD9, 0xFB).fstp64(R).fstp64(R + 8));
            assertEquals(Math.cos(x), getDouble(R), 1e-15, "sincos cos " + x);
            assertEquals(Math.sin(x), getDouble(R + 8), Math.abs(Math.sin(x)) * 1e-15, "sincos sin " + x);
        }
        putDouble(A, 0x1p64);
        run(asm().fld64(A).bytes(0xD9, 0xFE).fstp64(R));
        assertEquals(0x1p64, getDouble(R), "out of range: unchanged");
        assertEquals(C2, sw() & C2);
        // FYL2X(8, 3) = 3 * log2(8) = 9 exactly; FPATAN(1, 1) = pi/4; F2XM1(0.5) = sqrt(2) - 1
        putDouble(A, 8);
        putDouble(B, 3);
        run(asm().fld64(B).fld64(A).bytes(0xD9, 0xF1).fstp64(R));
        assertEquals(9.0, getDouble(R));
        assertEquals(0, sw() & PE);
        putDouble(A, 1);
        run(asm().fld64(A).fld64(A).bytes(0xD9, 0xF3).fstp64(R));
        assertEquals(Math.PI / 4, getDouble(R), 1e-16);
        putDouble(A, 0.5);
        run(asm().fld64(A).bytes(0xD9, 0xF0).fstp64(R));
        assertEquals(0.41421356237309504880, getDouble(R), 1e-16);
        putDouble(A, 0x1p-20);
        putDouble(B, 2);
        run(asm().fld64(B).fld64(A).bytes(0xD9, 0xF9).fstp64(R));
        assertEquals(2 * Math.log1p(0x1p-20) / Math.log(2), getDouble(R), 1e-20);
    }

    @Test
    void instructionAndDataPointers() {
        putDouble(A, 2);
        Asm a = asm().fld64(A);
        int at = TestMachine.CODE + a.size();
        a.arith64(0, A);            // FADD m64: a non-control instruction with a memory operand
        a.fnstcw(R).fldcw(R).fnclex().fnstsw(SW).fwait(); // control instructions leave the pointers
        a.fnstenv(ENV);
        run(a);
        assertEquals(at, m.read32(ENV + 12));
        assertEquals(A, m.read32(ENV + 20));
        assertEquals(0x405, m.read32(ENV + 16) >>> 16, "FOP: DC 05");
        // a register instruction updates FIP and FOP but leaves FDP
        Asm b = asm().fld64(A).fld1();
        int at2 = TestMachine.CODE + b.size();
        b.bytes(0xD8, 0xC1).fnstenv(ENV);
        run(b);
        assertEquals(at2, m.read32(ENV + 12));
        assertEquals(0x0C1, m.read32(ENV + 16) >>> 16);
        assertEquals(A, m.read32(ENV + 20));
    }

    // --- state --------------------------------------------------------------------------------

    @Test
    void saveRestoreRoundTripsTheState() {
        put80(A, 0x0000, 0x8000000000000001L); // pseudo-denormal
        putDouble(B, 1.0 / 3);
        m.write32(CW, 0x0E72);
        run(asm().fldcw(CW).fld80(A).fld64(B).fld1().bytes(0xDE, 0xF9).bytes(0xD9, 0xF6).fnstsw(SW));
        CpuState.FpuState s = m.cpu.fpu.save();
        assertEquals(0x0E72, s.control());
        assertEquals(80, s.registers().length);
        assertEquals(sw(), s.status());
        TestMachine other = new TestMachine();
        other.cpu.fpu.restore(s);
        CpuState.FpuState t = other.cpu.fpu.save();
        assertEquals(s.control(), t.control());
        assertEquals(s.status(), t.status());
        assertEquals(s.tag(), t.tag());
        assertArrayEquals(s.registers(), t.registers());
        assertEquals(s.fip(), t.fip());
        assertEquals(s.fcs(), t.fcs());
        assertEquals(s.fdp(), t.fdp());
        assertEquals(s.fds(), t.fds());
        assertEquals(s.fop(), t.fop());
        // physical order: register 7 holds the first value pushed after FNINIT (TOP was 0)
        assertEquals((byte) 0x01, s.registers()[70]);
        assertEquals((byte) 0x80, s.registers()[77]);
        // and through the whole CPU state
        CpuState cs = m.cpu.save();
        run(new Asm().fnsave(ENV));
        other.load(TestMachine.CODE, new Asm().fnsave(ENV).hlt().build());
        other.cpu.restore(cs);
        other.cpu.halted = false;
        other.cpu.setEip(TestMachine.CODE);
        other.cpu.run(other.cpu.icount() + 10);
        for (int i = 0; i < 108; i++) assertEquals(m.mem.read(ENV + i, 1), other.mem.read(ENV + i, 1), "byte " + i);
    }

    @Test
    void cpuidAdvertisesTheFpuOnly() {
        m.cpu.setReg(Cpu.EAX, 1);
        run(new Asm().bytes(0x0F, 0xA2));
        int edx = m.cpu.reg(Cpu.EDX);
        assertEquals(1, edx & 1, "FPU");
        assertEquals(0, edx & (0xF << 23), "no MMX, FXSR, SSE, SSE2");
        assertFalse((m.cpu.reg(Cpu.ECX) & 1) != 0, "no SSE3");
    }

    /** A tiny assembler for x87 test code: memory operands are absolute 32-bit addresses (mod 00, rm 101). */
    static final class Asm {
        private final List<Integer> b = new ArrayList<>();

        Asm bytes(int... v) {
            for (int x : v) b.add(x & 0xFF);
            return this;
        }

        /** {@code op /reg [addr]}. */
        Asm mem(int op, int reg, int addr) {
            bytes(op, (reg << 3) | 5);
            for (int i = 0; i < 4; i++) b.add((addr >>> (8 * i)) & 0xFF);
            return this;
        }

        int size() {
            return b.size();
        }

        int[] build() {
            return b.stream().mapToInt(Integer::intValue).toArray();
        }

        Asm o16() { return bytes(0x66); }
        Asm fninit() { return bytes(0xDB, 0xE3); }
        Asm fnclex() { return bytes(0xDB, 0xE2); }
        Asm fwait() { return bytes(0x9B); }
        Asm fnop() { return bytes(0xD9, 0xD0); }
        Asm fldcw(int a) { return mem(0xD9, 5, a); }
        Asm fnstcw(int a) { return mem(0xD9, 7, a); }
        Asm fnstsw(int a) { return mem(0xDD, 7, a); }
        Asm fnstswAx() { return bytes(0xDF, 0xE0); }
        Asm fnstenv(int a) { return mem(0xD9, 6, a); }
        Asm fldenv(int a) { return mem(0xD9, 4, a); }
        Asm fnsave(int a) { return mem(0xDD, 6, a); }
        Asm frstor(int a) { return mem(0xDD, 4, a); }
        Asm fld32(int a) { return mem(0xD9, 0, a); }
        Asm fld64(int a) { return mem(0xDD, 0, a); }
        Asm fld80(int a) { return mem(0xDB, 5, a); }
        Asm fst64(int a) { return mem(0xDD, 2, a); }
        Asm fstp32(int a) { return mem(0xD9, 3, a); }
        Asm fstp64(int a) { return mem(0xDD, 3, a); }
        Asm fstp80(int a) { return mem(0xDB, 7, a); }
        Asm fild16(int a) { return mem(0xDF, 0, a); }
        Asm fild32(int a) { return mem(0xDB, 0, a); }
        Asm fild64(int a) { return mem(0xDF, 5, a); }
        Asm fist16(int a) { return mem(0xDF, 2, a); }
        Asm fistp16(int a) { return mem(0xDF, 3, a); }
        Asm fistp32(int a) { return mem(0xDB, 3, a); }
        Asm fistp64(int a) { return mem(0xDF, 7, a); }
        Asm fbld(int a) { return mem(0xDF, 4, a); }
        Asm fbstp(int a) { return mem(0xDF, 6, a); }
        /** FADD/FMUL/FCOM/FCOMP/FSUB/FSUBR/FDIV/FDIVR m64 by ModRM reg field. */
        Asm arith64(int reg, int a) { return mem(0xDC, reg, a); }
        Asm fld1() { return bytes(0xD9, 0xE8); }
        Asm fldz() { return bytes(0xD9, 0xEE); }
        Asm fldpi() { return bytes(0xD9, 0xEB); }
        Asm fldSt(int i) { return bytes(0xD9, 0xC0 + i); }
        Asm fstpSt(int i) { return bytes(0xDD, 0xD8 + i); }
        Asm fxch(int i) { return bytes(0xD9, 0xC8 + i); }
        Asm fdivSt1() { return bytes(0xD8, 0xF1); } // ST0 = ST0 / ST1
        Asm fsqrt() { return bytes(0xD9, 0xFA); }
        Asm fprem() { return bytes(0xD9, 0xF8); }
        Asm fprem1() { return bytes(0xD9, 0xF5); }
        Asm fxam() { return bytes(0xD9, 0xE5); }
        Asm fcomi(int i) { return bytes(0xDB, 0xF0 + i); }
        Asm fucomip(int i) { return bytes(0xDF, 0xE8 + i); }
        Asm hlt() { return bytes(0xF4); }
    }
}
