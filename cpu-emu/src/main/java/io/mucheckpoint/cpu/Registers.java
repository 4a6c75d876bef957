package io.mucheckpoint.cpu;

/**
 * The general registers, EIP and EFLAGS, with the arithmetic flags kept lazily.
 *
 * <p>Most flag results are never read, so an arithmetic instruction only records what produced the
 * flags ({@link #fOp}, the operands and the result, all masked to the operand size) and the flags
 * are computed when something reads them. {@link #fSign} is the operand size's sign bit, which lets
 * one formula serve 8, 16 and 32-bit operations.
 */
abstract class Registers {
    static final int ZERO_REG = 8;

    static final int CF = 1, PF = 4, AF = 0x10, ZF = 0x40, SF = 0x80, TF = 0x100, IF = 0x200, DF = 0x400,
            OF = 0x800, IOPL = 0x3000, NT = 0x4000, RF = 0x10000, VM = 0x20000, AC = 0x40000, VIF = 0x80000,
            VIP = 0x100000, ID = 0x200000;
    static final int ARITH = CF | PF | AF | ZF | SF | OF;

    /** Who produced the arithmetic flags. */
    static final int F_NONE = 0;   // all in eflags
    static final int F_ADD = 1;
    static final int F_ADC = 2;
    static final int F_SUB = 3;
    static final int F_SBB = 4;
    static final int F_LOGIC = 5;  // CF = OF = AF = 0
    static final int F_INC = 6;    // CF kept in fCin
    static final int F_DEC = 7;
    static final int F_SZP = 8;    // CF, OF, AF in eflags; ZF, SF, PF from the result

    private static final byte[] PARITY = new byte[256];

    static {
        for (int i = 0; i < 256; i++) {
            PARITY[i] = (byte) ((Integer.bitCount(i) & 1) == 0 ? PF : 0);
        }
    }

    /** EAX ECX EDX EBX ESP EBP ESI EDI, and a slot that is always zero for absent EA registers. */
    final int[] r = new int[9];
    int eip;
    /** EFLAGS; the arithmetic bits are meaningful only where {@link #fOp} says so. Bit 1 always set. */
    int eflags = 2;

    int fOp;
    int fRes;
    int fA;
    int fB;
    int fSign = 0x80000000;
    int fCin;
    /**
     * INC and DEC leave CF alone. Rather than compute it when they run, they keep the lazy state of
     * whoever produced it here (carry op, operands, result, carry-in); CF is computed from that only
     * if something reads it.
     */
    int cOp;
    int cA;
    int cB;
    int cRes;
    int cCin;

    // --- 8 and 16-bit register views -------------------------------------------------------

    final int getReg8(int n) {
        return n < 4 ? r[n] & 0xFF : (r[n - 4] >>> 8) & 0xFF;
    }

    final void setReg8(int n, int v) {
        if (n < 4) r[n] = (r[n] & 0xFFFFFF00) | (v & 0xFF);
        else r[n - 4] = (r[n - 4] & 0xFFFF00FF) | ((v & 0xFF) << 8);
    }

    final int getReg(int n, int size) {
        return size == 4 ? r[n] : size == 2 ? r[n] & 0xFFFF : getReg8(n);
    }

    final void setReg(int n, int size, int v) {
        if (size == 4) r[n] = v;
        else if (size == 2) r[n] = (r[n] & 0xFFFF0000) | (v & 0xFFFF);
        else setReg8(n, v);
    }

    static int sizeMask(int size) {
        return size == 4 ? -1 : size == 2 ? 0xFFFF : 0xFF;
    }

    static int signBit(int size) {
        return size == 4 ? 0x80000000 : size == 2 ? 0x8000 : 0x80;
    }

    // --- lazy flags -------------------------------------------------------------------------

    final void setFlagsLogic(int res, int size) {
        fOp = F_LOGIC;
        fRes = res & sizeMask(size);
        fSign = signBit(size);
    }

    final void setFlagsAdd(int a, int b, int res, int size) {
        int m = sizeMask(size);
        fOp = F_ADD; fA = a & m; fB = b & m; fRes = res & m; fSign = signBit(size);
    }

    final void setFlagsSub(int a, int b, int res, int size) {
        int m = sizeMask(size);
        fOp = F_SUB; fA = a & m; fB = b & m; fRes = res & m; fSign = signBit(size);
    }

    /** Flags whose CF, OF and AF were computed eagerly (bits of {@code cfOfAf}), ZF/SF/PF from res. */
    final void setFlagsSzp(int res, int size, int cfOfAf) {
        eflags = (eflags & ~ARITH) | (cfOfAf & (CF | OF | AF));
        fOp = F_SZP;
        fRes = res & sizeMask(size);
        fSign = signBit(size);
    }

    final boolean cf() {
        int op = fOp;
        if (op == F_INC || op == F_DEC) return carry(cOp, cA, cB, cRes, cCin);
        return carry(op, fA, fB, fRes, fCin);
    }

    private boolean carry(int op, int a, int b, int res, int cin) {
        switch (op) {
            case F_ADD: return Integer.compareUnsigned(res, a) < 0;
            case F_ADC: return cin != 0 ? Integer.compareUnsigned(res, a) <= 0 : Integer.compareUnsigned(res, a) < 0;
            case F_SUB: return Integer.compareUnsigned(a, b) < 0;
            case F_SBB: return cin != 0 ? Integer.compareUnsigned(a, b) <= 0 : Integer.compareUnsigned(a, b) < 0;
            case F_LOGIC: return false;
            default: return (eflags & CF) != 0;
        }
    }

    /** Before an INC or DEC: remember who produced CF (unless an INC/DEC already did). */
    final void keepCarry() {
        int op = fOp;
        if (op != F_INC && op != F_DEC) {
            cOp = op; cA = fA; cB = fB; cRes = fRes; cCin = fCin;
        }
    }

    final boolean zf() {
        return fOp == F_NONE ? (eflags & ZF) != 0 : fRes == 0;
    }

    final boolean sf() {
        return fOp == F_NONE ? (eflags & SF) != 0 : (fRes & fSign) != 0;
    }

    final boolean pf() {
        return fOp == F_NONE ? (eflags & PF) != 0 : PARITY[fRes & 0xFF] != 0;
    }

    final boolean of() {
        switch (fOp) {
            case F_ADD: case F_ADC: case F_INC: return ((fA ^ fRes) & (fB ^ fRes) & fSign) != 0;
            case F_SUB: case F_SBB: case F_DEC: return ((fA ^ fB) & (fA ^ fRes) & fSign) != 0;
            case F_LOGIC: return false;
            default: return (eflags & OF) != 0;
        }
    }

    final boolean af() {
        switch (fOp) {
            case F_ADD: case F_ADC: case F_SUB: case F_SBB: case F_INC: case F_DEC:
                return ((fA ^ fB ^ fRes) & 0x10) != 0;
            case F_LOGIC: return false;
            default: return (eflags & AF) != 0;
        }
    }

    /** The whole EFLAGS register with every arithmetic flag computed. */
    final int getEflags() {
        if (fOp == F_NONE) return eflags;
        int f = eflags & ~ARITH;
        if (cf()) f |= CF;
        if (pf()) f |= PF;
        if (af()) f |= AF;
        if (zf()) f |= ZF;
        if (sf()) f |= SF;
        if (of()) f |= OF;
        return f;
    }

    /** Computes every lazy flag into {@link #eflags}, so single bits can be changed in place. */
    final void materializeFlags() {
        if (fOp != F_NONE) {
            eflags = getEflags();
            fOp = F_NONE;
        }
    }

    /** Replaces the bits of EFLAGS selected by {@code mask}; bit 1 stays set. */
    final void setEflagsMasked(int value, int mask) {
        materializeFlags();
        eflags = ((eflags & ~mask) | (value & mask)) | 2;
    }

    final void setCarry(boolean c) {
        materializeFlags();
        eflags = c ? eflags | CF : eflags & ~CF;
    }

    /** Evaluates condition code {@code cc} (the low nibble of Jcc/SETcc/CMOVcc). */
    final boolean cond(int cc) {
        boolean v;
        int op = fOp;
        if (op == F_SUB) {
            switch (cc >> 1) {
                case 1: v = Integer.compareUnsigned(fA, fB) < 0; break;
                case 2: v = fA == fB; break;
                case 3: v = Integer.compareUnsigned(fA, fB) <= 0; break;
                case 4: v = (fRes & fSign) != 0; break;
                case 6: v = Integer.compareUnsigned(fA ^ fSign, fB ^ fSign) < 0; break;
                case 7: v = Integer.compareUnsigned(fA ^ fSign, fB ^ fSign) <= 0; break;
                default: v = slowCond(cc >> 1);
            }
        } else if (op == F_LOGIC) {
            switch (cc >> 1) {
                case 0: case 1: v = false; break;
                case 2: case 3: v = fRes == 0; break;
                case 4: case 6: v = (fRes & fSign) != 0; break;
                case 7: v = fRes == 0 || (fRes & fSign) != 0; break;
                default: v = slowCond(cc >> 1);
            }
        } else {
            v = slowCond(cc >> 1);
        }
        return v ^ ((cc & 1) != 0);
    }

    private boolean slowCond(int c) {
        switch (c) {
            case 0: return of();
            case 1: return cf();
            case 2: return zf();
            case 3: return cf() || zf();
            case 4: return sf();
            case 5: return pf();
            case 6: return sf() != of();
            default: return zf() || (sf() != of());
        }
    }
}
