package io.mucheckpoint.cpu;

import static io.mucheckpoint.cpu.X87Float.DE;
import static io.mucheckpoint.cpu.X87Float.IE;
import static io.mucheckpoint.cpu.X87Float.INDEF_SE;
import static io.mucheckpoint.cpu.X87Float.INDEF_SIG;
import static io.mucheckpoint.cpu.X87Float.OE;
import static io.mucheckpoint.cpu.X87Float.UE;
import static io.mucheckpoint.cpu.X87Float.ZE;

/**
 * The x87 floating-point unit of an i686 (Pentium Pro / Pentium II): every D8-DF opcode, the
 * status, control and tag words, the last-instruction and last-data pointers, and exceptions
 * reported through the status word with #MF at the next waiting instruction.
 *
 * <h2>State</h2>
 * The eight physical registers hold raw 80-bit values (sign and exponent in {@link #se}, the 64-bit
 * significand with its explicit integer bit in {@link #sig}); loads, stores, exchanges and FNSAVE/
 * FRSTOR move those bits untouched, so an FLD m80 / FSTP m80 or a save and restore round-trips bit
 * for bit. Internally only "empty or not" is kept per register (as the P6 does); the full tag word
 * is computed from the register contents when it is stored (FNSTENV, FNSAVE, {@link #save}).
 *
 * <h2>Precision</h2>
 * Arithmetic ({@link X87Float}) is exact: FADD/FSUB/FMUL/FDIV/FSQRT (all forms), FPREM/FPREM1,
 * FRNDINT, FSCALE, FXTRACT, FIST/FBSTP, FST m32/m64 and all loads give the hardware's bits, honour
 * the rounding control and the precision control (which, as on the hardware, narrows only the
 * significand of FADD/FSUB/FMUL/FDIV/FSQRT), and raise the hardware's exception flags and C1.
 * The transcendental instructions are computed in double precision ({@link X87Transcendental}): see
 * there for where they differ from the hardware. Choices where Intel leaves the behaviour open, all
 * checked against the host oracle (an AMD Zen 4): FPREM/FPREM1's partial step reduces the exponent
 * difference D by N = 32 + (D mod 32); the reserved precision control 01 rounds to 64 bits; the
 * constants are the 128-bit values rounded to 64 bits under RC (as the P6 does); the P6's aliases
 * of documented register forms (FSTP1, FCOM2, FCOMP3, FXCH4, FCOMP5, FFREEP, FXCH7, FSTP8, FSTP9)
 * and the 8087/287 no-ops FNENI, FNDISI, FNSETPM execute; every other D8-DF encoding (and FISTTP,
 * which is SSE3) raises #UD.
 *
 * <p>FIP is the instruction's offset {@code eip + in.ofs}: while a block runs, {@code Cpu.eip}
 * holds the block's entry EIP.
 *
 * <h2>Exceptions</h2>
 * A masked exception gets the SDM's default response (QNaN indefinite, integer indefinite, infinity,
 * denormal, ...). An unmasked one sets ES and B; IE, DE and ZE leave the destination and the stack
 * unchanged, OE and UE store the result with the exponent wrapped by 24576 (register destinations;
 * stores to memory are suppressed), PE stores the rounded result. The next waiting x87 instruction
 * (or FWAIT) then raises #MF (vector 16) with CR0.NE=1. With CR0.NE=0 a PC would signal the error on
 * IRQ13 through FERR#; that path is not modelled here: the error stays pending in the status word and
 * execution continues as if IGNNE# were asserted.
 */
final class Fpu {
    static final boolean PRESENT = true;

    static final int C0 = 0x100, C1 = 0x200, C2 = 0x400, C3 = 0x4000, SF = 0x40, ES = 0x80, BUSY = 0x8000;
    static final int CC = C0 | C1 | C2 | C3;
    private static final int TOP_MASK = 0x3800;

    private int control = 0x037F;
    /** The status word without TOP. */
    private int status;
    private int top;
    /** Bit i set: physical register i is empty. */
    private int empty = 0xFF;
    private final int[] se = new int[8];
    private final long[] sig = new long[8];
    private int fip, fcs, fdp, fds, fop;
    private final X87Float x = new X87Float();
    /**
     * x87 instructions started, whether or not they completed: every read of the registers is one of
     * them (this processor has no MMX or FXSAVE). Not state: a machine restored keeps counting.
     */
    private long executed;

    void reset() {
        control = 0x037F;
        status = 0;
        top = 0;
        empty = 0xFF;
        java.util.Arrays.fill(se, 0);
        java.util.Arrays.fill(sig, 0);
        fip = fcs = fdp = fds = fop = 0;
    }

    long executed() {
        return executed;
    }

    long registerBits(int reg, boolean signExponent) {
        return signExponent ? se[reg] & 0xFFFFL : sig[reg];
    }

    /** A transient error in a register's bits; the tag (empty or not) is kept apart and stays. */
    void flipRegister(int reg, boolean signExponent, long mask) {
        if (signExponent) se[reg] = (int) ((se[reg] ^ mask) & 0xFFFF);
        else sig[reg] ^= mask;
    }

    // --- save / restore ---------------------------------------------------------------------------

    CpuState.FpuState save() {
        byte[] regs = new byte[80];
        for (int i = 0; i < 8; i++) {
            putLong(regs, i * 10, sig[i]);
            regs[i * 10 + 8] = (byte) se[i];
            regs[i * 10 + 9] = (byte) (se[i] >> 8);
        }
        return new CpuState.FpuState(control, statusWord(), tagWord(), regs, fip, fcs, fdp, fds, fop);
    }

    void restore(CpuState.FpuState s) {
        byte[] regs = s.registers();
        if (regs.length != 80) throw new IllegalArgumentException("malformed FPU state");
        control = s.control() & 0xFFFF;
        setStatusWord(s.status());
        empty = emptyBits(s.tag());
        for (int i = 0; i < 8; i++) {
            sig[i] = getLong(regs, i * 10);
            se[i] = (regs[i * 10 + 8] & 0xFF) | (regs[i * 10 + 9] & 0xFF) << 8;
        }
        fip = s.fip();
        fcs = s.fcs() & 0xFFFF;
        fdp = s.fdp();
        fds = s.fds() & 0xFFFF;
        fop = s.fop() & 0x7FF;
    }

    private static void putLong(byte[] b, int at, long v) {
        for (int k = 0; k < 8; k++) b[at + k] = (byte) (v >>> (8 * k));
    }

    private static long getLong(byte[] b, int at) {
        long v = 0;
        for (int k = 7; k >= 0; k--) v = (v << 8) | (b[at + k] & 0xFF);
        return v;
    }

    // --- words ---------------------------------------------------------------------------------

    int statusWord() {
        return status | (top << 11);
    }

    int controlWord() {
        return control;
    }

    /** Loads a status word as FLDENV does: ES and B follow the flags and masks. */
    private void setStatusWord(int v) {
        top = (v >> 11) & 7;
        status = v & 0x7F7F & ~TOP_MASK;
        updateSummary();
    }

    private void updateSummary() {
        if ((status & ~control & 0x3F) != 0) status |= ES | BUSY;
        else status &= ~(ES | BUSY);
    }

    /** The full tag word, computed from the register contents (11 empty, 01 zero, 10 special, 00 valid). */
    int tagWord() {
        int tag = 0;
        for (int i = 0; i < 8; i++) tag |= tag(i) << (2 * i);
        return tag;
    }

    /** Physical register {@code i}'s two-bit tag: valid, zero, special or empty. */
    private int tag(int i) {
        if ((empty >> i & 1) != 0) return 3;
        int c = X87Float.classify(se[i], sig[i]);
        return c == X87Float.ZERO ? 1 : c == X87Float.NORMAL ? 0 : 2;
    }

    /**
     * Whether {@link #save} would differ from {@code o}'s in the control, status or tag word, the
     * last opcode or the register bytes, leaving out the significand of physical register
     * {@code sigSkip} and the sign and exponent of register {@code seSkip} (-1: none). The tags
     * still count: a left-out part can change its register's class.
     */
    boolean differsFrom(Fpu o, int sigSkip, int seSkip) {
        if (control != o.control || statusWord() != o.statusWord() || fop != o.fop || empty != o.empty) return true;
        for (int i = 0; i < 8; i++) {
            boolean sigDiffers = sig[i] != o.sig[i], seDiffers = ((se[i] ^ o.se[i]) & 0xFFFF) != 0;
            if ((sigDiffers && i != sigSkip) || (seDiffers && i != seSkip)) return true;
            if ((sigDiffers || se[i] != o.se[i]) && tag(i) != o.tag(i)) return true;
        }
        return false;
    }

    private static int emptyBits(int tag) {
        int e = 0;
        for (int i = 0; i < 8; i++) if (((tag >> (2 * i)) & 3) == 3) e |= 1 << i;
        return e;
    }

    // --- the register stack ----------------------------------------------------------------------

    private int phys(int i) {
        return (top + i) & 7;
    }

    private boolean isEmpty(int i) {
        return (empty >> phys(i) & 1) != 0;
    }

    private int seOf(int i) {
        return se[phys(i)];
    }

    private long sigOf(int i) {
        return sig[phys(i)];
    }

    private void put(int i, int s, long m) {
        int p = phys(i);
        se[p] = s;
        sig[p] = m;
        empty &= ~(1 << p);
    }

    private void putResult(int i) {
        put(i, x.rse, x.rsig);
    }

    private void pop() {
        empty |= 1 << top;
        top = (top + 1) & 7;
    }

    private void setCC(int cc) {
        status = (status & ~CC) | cc;
    }

    private void setC1(boolean v) {
        status = v ? status | C1 : status & ~C1;
    }

    /** ORs exception flags into the status word and updates ES/B. */
    private void raise(int flags) {
        status |= flags;
        updateSummary();
    }

    private boolean masked(int flag) {
        return (control & flag) != 0;
    }

    /** True if the operation's flags contain an unmasked pre-computation exception (no result). */
    private boolean suppressed() {
        return (x.flags & ~control & (IE | DE | ZE)) != 0;
    }

    /** A stack overflow (push onto a full register) or underflow (read of an empty one): IE, SF, C1. */
    private void stackFault(boolean overflow) {
        status = (status & ~C1) | (overflow ? C1 : 0) | SF;
        raise(IE);
    }

    /** Underflow whose masked response writes the indefinite into ST(dest) and pops {@code pops} times. */
    private void underflow(int dest, int pops) {
        stackFault(false);
        if (masked(IE)) {
            put(dest, INDEF_SE, INDEF_SIG);
            while (pops-- > 0) pop();
        }
    }

    /** Checks that a push is possible; on overflow applies the masked response and returns false. */
    private boolean pushable() {
        if ((empty >> ((top - 1) & 7) & 1) != 0) return true;
        stackFault(true);
        if (masked(IE)) {
            top = (top - 1) & 7;
            put(0, INDEF_SE, INDEF_SIG);
        }
        return false;
    }

    private void push(int s, long m) {
        top = (top - 1) & 7;
        put(0, s, m);
    }

    /**
     * Stores the operation's result in ST(dest), raises its flags, sets C1 from the rounding and pops
     * {@code pops} times; with an unmasked IE, DE or ZE only the flags change.
     */
    private void commit(int dest, int pops) {
        int f = x.flags;
        if (suppressed()) {
            setC1(false);
            raise(f);
            return;
        }
        putResult(dest);
        setC1(x.up);
        raise(f);
        while (pops-- > 0) pop();
    }

    // --- dispatch -------------------------------------------------------------------------------

    void execute(Cpu c, Insn in) {
        executed++;
        c.cr0Uses++;
        if ((c.cr0 & (AddressSpace.CR0_EM | AddressSpace.CR0_TS)) != 0) throw CpuFault.of(CpuFault.NM);
        int op = in.imm & 0x7FF;
        int esc = op >> 8;
        int reg = (op >> 3) & 7;
        if (in.sub != 0) memoryForm(c, in, esc, reg);
        else registerForm(c, in, esc, reg, op & 7);
    }

    void waitInstruction(Cpu c) {
        c.cr0Uses++;
        if ((c.cr0 & (AddressSpace.CR0_MP | AddressSpace.CR0_TS)) == (AddressSpace.CR0_MP | AddressSpace.CR0_TS)) {
            throw CpuFault.of(CpuFault.NM);
        }
        checkPending(c);
    }

    /** A waiting instruction: an unmasked exception left pending by an earlier one raises #MF now. */
    private void checkPending(Cpu c) {
        if ((status & ES) != 0 && (c.cr0 & AddressSpace.CR0_NE) != 0) throw CpuFault.of(CpuFault.MF);
    }

    /** The start of a waiting, non-control instruction: #MF check, FIP/FCS/FOP, the rounding setup. */
    private void start(Cpu c, Insn in) {
        checkPending(c);
        fop = in.imm & 0x7FF;
        fip = (c.eip + in.ofs) & c.ipMask;
        fcs = c.segSel[AddressSpace.CS];
        x.begin(control);
    }

    /** As {@link #start}, for an instruction with a memory operand at {@code ea}: also FDP/FDS. */
    private void start(Cpu c, Insn in, int ea) {
        start(c, in);
        fdp = ea;
        fds = c.segSel[in.seg];
    }

    private void memoryForm(Cpu c, Insn in, int esc, int reg) {
        int seg = in.seg;
        int ea = c.ea(in);
        switch (esc) {
            case 0: case 2: case 4: case 6:
                start(c, in, ea);
                switch (esc) {
                    case 0: x.fromSingle(c.rd32(seg, ea)); break;
                    case 2: x.fromLong(c.rd32(seg, ea)); break;
                    case 4: x.fromDouble(readLong(c, in, ea)); break;
                    default: x.fromLong((short) c.rd16(seg, ea)); break;
                }
                if (x.loadDenormal && !isEmpty(0)) {
                    // DE for a denormal m32/m64 operand, unless ST0 makes the operation invalid or
                    // (FDIVR) a division by zero.
                    int c0 = X87Float.classify(seOf(0), sigOf(0));
                    if (c0 != X87Float.UNSUPPORTED && !X87Float.isNaN(c0) && !(reg == 7 && c0 == X87Float.ZERO)) {
                        x.flags |= DE;
                    }
                }
                if (reg == 2 || reg == 3) {
                    compare(x.rse, x.rsig, false, reg == 3 ? 1 : 0, false, false, c);
                } else if ((x.flags & ~control & DE) != 0) {
                    raise(x.flags);
                } else {
                    arith(reg, 0, x.rse, x.rsig, 0, false);
                }
                return;
            case 1:
                switch (reg) {
                    case 0: start(c, in, ea); x.fromSingle(c.rd32(seg, ea)); load(); return;
                    case 2: case 3: {
                        start(c, in, ea);
                        c.probeWrite(seg, ea, 4);
                        if (isEmpty(0)) {
                            if (storeUnderflow(reg == 3)) c.wr32(seg, ea, 0xFFC00000);
                            return;
                        }
                        int v = x.toSingle(seOf(0), sigOf(0));
                        if (storeSuppressed()) return;
                        c.wr32(seg, ea, v);
                        finishStore(reg == 3);
                        return;
                    }
                    case 4: checkPending(c); loadEnv(c, in, ea); return;
                    case 5: checkPending(c); control = (c.rd16(seg, ea) & 0x1F3F) | 0x40; updateSummary(); return;
                    case 6: storeEnv(c, in, ea); control |= 0x3F; updateSummary(); return;
                    case 7: c.wr16(seg, ea, control); return;
                    default: throw CpuFault.ud();
                }
            case 3:
                switch (reg) {
                    case 0: start(c, in, ea); x.fromLong(c.rd32(seg, ea)); load(); return;
                    case 2: case 3: storeInt(c, in, ea, 4, reg == 3); return;
                    case 5: {
                        start(c, in, ea);
                        long m = readLong(c, in, ea);
                        int s = c.rd16(seg, (ea + 8) & in.eaMask);
                        if (pushable()) {
                            push(s, m);
                            setC1(false);
                        }
                        return;
                    }
                    case 7: {
                        start(c, in, ea);
                        c.probeWrite(seg, ea, 10);
                        boolean e = isEmpty(0);
                        if (e) {
                            stackFault(false);
                            if (!masked(IE)) return;
                        }
                        writeLong(c, in, ea, e ? INDEF_SIG : sigOf(0));
                        c.wr16(seg, (ea + 8) & in.eaMask, e ? INDEF_SE : seOf(0));
                        if (!e) setC1(false);
                        pop();
                        return;
                    }
                    default: throw CpuFault.ud(); // 1: FISTTP (SSE3), 4, 6: reserved
                }
            case 5:
                switch (reg) {
                    case 0: start(c, in, ea); x.fromDouble(readLong(c, in, ea)); load(); return;
                    case 2: case 3: {
                        start(c, in, ea);
                        c.probeWrite(seg, ea, 8);
                        if (isEmpty(0)) {
                            if (storeUnderflow(reg == 3)) writeLong(c, in, ea, 0xFFF8000000000000L);
                            return;
                        }
                        long v = x.toDouble(seOf(0), sigOf(0));
                        if (storeSuppressed()) return;
                        writeLong(c, in, ea, v);
                        finishStore(reg == 3);
                        return;
                    }
                    case 4: checkPending(c); frstor(c, in, ea); return;
                    case 6: fnsave(c, in, ea); return;
                    case 7: c.wr16(seg, ea, statusWord()); return;
                    default: throw CpuFault.ud(); // 1: FISTTP (SSE3), 5: reserved
                }
            default:
                switch (reg) {
                    case 0: start(c, in, ea); x.fromLong((short) c.rd16(seg, ea)); load(); return;
                    case 2: case 3: storeInt(c, in, ea, 2, reg == 3); return;
                    case 4: fbld(c, in, ea); return;
                    case 5: start(c, in, ea); x.fromLong(readLong(c, in, ea)); load(); return;
                    case 6: fbstp(c, in, ea); return;
                    case 7: storeInt(c, in, ea, 8, true); return;
                    default: throw CpuFault.ud(); // 1: FISTTP (SSE3)
                }
        }
    }

    private static long readLong(Cpu c, Insn in, int ea) {
        long lo = c.rd32(in.seg, ea) & 0xFFFFFFFFL;
        long hi = c.rd32(in.seg, (ea + 4) & in.eaMask);
        return (hi << 32) | lo;
    }

    private static void writeLong(Cpu c, Insn in, int ea, long v) {
        c.wr32(in.seg, ea, (int) v);
        c.wr32(in.seg, (ea + 4) & in.eaMask, (int) (v >>> 32));
    }

    /**
     * Pushes the value a load converted into x (FLD m32/m64, FILD, FBLD). A denormal raises DE but
     * is loaded even when DE is unmasked (as the hardware does); an SNaN raises IE.
     */
    private void load() {
        x.quietLoad();
        if (x.loadDenormal) x.flags |= DE;
        if (!pushable()) return;
        if ((x.flags & ~control & IE) != 0) {
            raise(x.flags);
            return;
        }
        push(x.rse, x.rsig);
        setC1(false);
        raise(x.flags);
    }

    /** FST/FIST/FBSTP from an empty ST(0): true if the masked response (store the indefinite) applies. */
    private boolean storeUnderflow(boolean popAfter) {
        stackFault(false);
        if (!masked(IE)) return false;
        if (popAfter) pop();
        return true;
    }

    /** After converting for a store: true (and the flags raised) if an unmasked exception stops it. */
    private boolean storeSuppressed() {
        if ((x.flags & ~control & (IE | DE | ZE | OE | UE)) != 0) {
            setC1(false);
            raise(x.flags);
            return true;
        }
        return false;
    }

    private void finishStore(boolean popAfter) {
        setC1(x.up);
        raise(x.flags);
        if (popAfter) pop();
    }

    /** FIST/FISTP m16/m32/m64. */
    private void storeInt(Cpu c, Insn in, int ea, int size, boolean popAfter) {
        start(c, in, ea);
        c.probeWrite(in.seg, ea, size);
        long v;
        long indefinite = size == 2 ? 0x8000L : size == 4 ? 0x80000000L : Long.MIN_VALUE;
        boolean wasEmpty = isEmpty(0);
        if (wasEmpty) {
            if (!storeUnderflow(popAfter)) return;
            v = indefinite;
        } else {
            long max = size == 8 ? Long.MAX_VALUE : (1L << (size * 8 - 1)) - 1;
            v = toInteger(seOf(0), sigOf(0), max, max + 1, indefinite);
            if (storeSuppressed()) return;
        }
        if (size == 2) c.wr16(in.seg, ea, (int) v);
        else if (size == 4) c.wr32(in.seg, ea, (int) v);
        else writeLong(c, in, ea, v);
        if (!wasEmpty) finishStore(popAfter);
    }

    /**
     * Rounds ST(0) under RC to an integer of magnitude at most maxPos (maxNeg if negative, both
     * unsigned); otherwise (or for NaN, infinity, unsupported) raises IE and returns {@code indefinite}.
     */
    private long toInteger(int s, long m, long maxPos, long maxNeg, long indefinite) {
        int cls = X87Float.classify(s, m);
        if (cls == X87Float.INF || cls == X87Float.UNSUPPORTED || X87Float.isNaN(cls)) {
            x.flags |= IE;
            return indefinite;
        }
        x.roundToInt(s, m);
        boolean neg = X87Float.neg(s);
        long mag = x.intMag;
        if (x.intBig || Long.compareUnsigned(mag, neg ? maxNeg : maxPos) > 0) {
            x.flags |= IE;
            x.up = false;
            return indefinite;
        }
        if (x.intInexact) x.flags |= X87Float.PE;
        return neg ? -mag : mag;
    }

    private void fbld(Cpu c, Insn in, int ea) {
        start(c, in, ea);
        long lo = readLong(c, in, ea);
        int hi = c.rd16(in.seg, (ea + 8) & in.eaMask);
        long v = 0;
        for (int d = 17; d >= 0; d--) {
            int nib = d >= 16 ? (hi >> (4 * (d - 16))) & 0xF : (int) (lo >>> (4 * d)) & 0xF;
            v = v * 10 + nib;
        }
        x.setInteger((hi & 0x8000) != 0, v);
        load();
    }

    private void fbstp(Cpu c, Insn in, int ea) {
        start(c, in, ea);
        c.probeWrite(in.seg, ea, 10);
        long lo;
        int hi;
        boolean wasEmpty = isEmpty(0);
        if (wasEmpty) {
            if (!storeUnderflow(true)) return;
            lo = INDEF_SIG;
            hi = INDEF_SE;
        } else {
            long max = 999_999_999_999_999_999L;
            long v = toInteger(seOf(0), sigOf(0), max, max, 0);
            if (storeSuppressed()) return;
            if ((x.flags & IE) != 0) { // the BCD indefinite
                lo = INDEF_SIG;
                hi = INDEF_SE;
            } else {
                long mag = Math.abs(v);
                lo = 0;
                for (int d = 0; d < 16; d++) {
                    lo |= (mag % 10) << (4 * d);
                    mag /= 10;
                }
                hi = (int) (mag % 10) | (int) (mag / 10) << 4;
                if (X87Float.neg(seOf(0))) hi |= 0x8000;
            }
        }
        writeLong(c, in, ea, lo);
        c.wr16(in.seg, (ea + 8) & in.eaMask, hi);
        if (!wasEmpty) finishStore(true);
    }

    /**
     * The six arithmetic operations (ModRM reg field: 0 add, 1 mul, 4 ST0-b, 5 b-ST0, 6 ST0/b,
     * 7 b/ST0) on ST(0) and b, result to ST(dest), then {@code pops} pops.
     */
    private void arith(int kind, int dest, int bse, long bsig, int pops, boolean bEmpty) {
        if (isEmpty(0) || bEmpty) {
            underflow(dest, pops);
            return;
        }
        int ase = seOf(0);
        long asig = sigOf(0);
        switch (kind) {
            case 0: x.add(ase, asig, bse, bsig, false); break;
            case 1: x.mul(ase, asig, bse, bsig); break;
            case 4: x.add(ase, asig, bse, bsig, true); break;
            case 5: x.add(bse, bsig, ase, asig, true); break;
            case 6: x.div(ase, asig, bse, bsig); break;
            default: x.div(bse, bsig, ase, asig); break;
        }
        commit(dest, pops);
    }

    private static final int[] CMP_CC = {0, C0, C3, C3 | C2 | C0};
    private static final int[] CMP_EFLAGS = {0, Registers.CF, Registers.ZF, Registers.ZF | Registers.PF | Registers.CF};

    /**
     * Compares ST(0) with b: condition codes (or, with {@code eflags}, ZF/PF/CF as FCOMI), then
     * {@code pops} pops. {@code quiet}: FUCOM, only SNaNs are invalid.
     */
    private void compare(int bse, long bsig, boolean bEmpty, int pops, boolean quiet, boolean eflags, Cpu c) {
        int r;
        // The condition codes are set even when IE or DE is unmasked; only the pops are skipped.
        if (isEmpty(0) || bEmpty) {
            stackFault(false);
            if (!masked(IE)) pops = 0;
            r = X87Float.CMP_UN;
        } else {
            r = x.compare(seOf(0), sigOf(0), bse, bsig, quiet);
            if ((x.flags & ~control & 0x3F) != 0) pops = 0;
            raise(x.flags);
        }
        if (eflags) {
            setC1(false);
            c.materializeFlags();
            c.eflags = (c.eflags & ~Registers.ARITH) | CMP_EFLAGS[r];
        } else {
            setCC(CMP_CC[r]);
        }
        while (pops-- > 0) pop();
    }

    // --- register forms ---------------------------------------------------------------------------

    private void registerForm(Cpu c, Insn in, int esc, int reg, int i) {
        switch (esc) {
            case 0: // D8: ST0 = ST0 op ST(i), FCOM, FCOMP
                start(c, in);
                if (reg == 2 || reg == 3) compare(seOf(i), sigOf(i), isEmpty(i), reg == 3 ? 1 : 0, false, false, c);
                else arith(reg, 0, seOf(i), sigOf(i), 0, isEmpty(i));
                return;
            case 4: // DC: ST(i) = ST0 op ST(i); /2, /3 are FCOM2/FCOMP3 (aliases the P6 executes)
            case 6: // DE: the same, popping; /2 is FCOMP5, DE D9 is FCOMPP
                if (esc == 6 && reg == 3 && i != 1) throw CpuFault.ud();
                start(c, in);
                if (reg == 2 || reg == 3) {
                    int pops = esc == 6 && reg == 3 ? 2 : reg == 3 || esc == 6 ? 1 : 0;
                    compare(seOf(i), sigOf(i), isEmpty(i), pops, false, false, c);
                } else {
                    arith(reg, i, seOf(i), sigOf(i), esc == 6 ? 1 : 0, isEmpty(i));
                }
                return;
            case 1: d9(c, in, reg, i); return;
            case 2: // DA: FCMOVB/E/BE/U, FUCOMPP
                if (reg < 4) {
                    start(c, in);
                    fcmov(c, CMOV_CC[reg], i);
                    return;
                }
                if (reg == 5 && i == 1) {
                    start(c, in);
                    compare(seOf(1), sigOf(1), isEmpty(1), 2, true, false, c);
                    return;
                }
                throw CpuFault.ud();
            case 3: // DB: FCMOVNB/NE/NBE/NU, FNCLEX, FNINIT, FUCOMI, FCOMI
                if (reg < 4) {
                    start(c, in);
                    fcmov(c, CMOV_CC[reg] | 1, i);
                    return;
                }
                if (reg == 4) {
                    switch (i) {
                        case 0: case 1: case 4: return; // FNENI, FNDISI, FNSETPM: no-ops since the 387
                        case 2: status &= ~(0x7F | ES | BUSY); return;
                        case 3: fninit(); return;
                        default: throw CpuFault.ud();
                    }
                }
                if (reg == 5 || reg == 6) {
                    start(c, in);
                    compare(seOf(i), sigOf(i), isEmpty(i), 0, reg == 5, true, c);
                    return;
                }
                throw CpuFault.ud();
            case 5: // DD: FFREE, FXCH4, FST, FSTP, FUCOM, FUCOMP
                switch (reg) {
                    case 0: start(c, in); empty |= 1 << phys(i); return;
                    case 1: start(c, in); fxch(i); return;
                    case 2: case 3: start(c, in); fstReg(i, reg == 3); return;
                    case 4: case 5:
                        start(c, in);
                        compare(seOf(i), sigOf(i), isEmpty(i), reg == 5 ? 1 : 0, true, false, c);
                        return;
                    default: throw CpuFault.ud();
                }
            default: // DF: FFREEP, FXCH7, FSTP8, FSTP9, FNSTSW AX, FUCOMIP, FCOMIP
                switch (reg) {
                    case 0: start(c, in); empty |= 1 << phys(i); pop(); return;
                    case 1: start(c, in); fxch(i); return;
                    case 2: case 3: start(c, in); fstReg(i, true); return;
                    case 4:
                        if (i != 0) throw CpuFault.ud();
                        c.setReg(Cpu.EAX, 2, statusWord());
                        return;
                    case 5: case 6:
                        start(c, in);
                        compare(seOf(i), sigOf(i), isEmpty(i), 1, reg == 5, true, c);
                        return;
                    default: throw CpuFault.ud();
                }
        }
    }

    /** Condition codes (Jcc numbering) of FCMOVB, FCMOVE, FCMOVBE, FCMOVU; the N forms add 1. */
    private static final int[] CMOV_CC = {0x2, 0x4, 0x6, 0xA};

    private void fcmov(Cpu c, int cc, int i) {
        if (isEmpty(0) || isEmpty(i)) {
            underflow(0, 0);
            return;
        }
        setC1(false);
        if (c.cond(cc)) put(0, seOf(i), sigOf(i));
    }

    private void fxch(int i) {
        if (isEmpty(0) || isEmpty(i)) {
            stackFault(false);
            if (!masked(IE)) return;
            if (isEmpty(0)) put(0, INDEF_SE, INDEF_SIG);
            if (isEmpty(i)) put(i, INDEF_SE, INDEF_SIG);
        } else {
            setC1(false);
        }
        int s0 = seOf(0);
        long m0 = sigOf(0);
        put(0, seOf(i), sigOf(i));
        put(i, s0, m0);
    }

    private void fstReg(int i, boolean popAfter) {
        if (isEmpty(0)) {
            underflow(i, popAfter ? 1 : 0);
            return;
        }
        setC1(false);
        put(i, seOf(0), sigOf(0));
        if (popAfter) pop();
    }

    private void fninit() {
        control = 0x037F;
        status = 0;
        top = 0;
        empty = 0xFF;
        fip = fcs = fdp = fds = fop = 0;
    }

    private void d9(Cpu c, Insn in, int reg, int i) {
        switch (reg) {
            case 0: { // FLD ST(i)
                start(c, in);
                boolean e = isEmpty(i);
                int s = seOf(i);
                long m = sigOf(i);
                if (!pushable()) return;
                if (e) {
                    stackFault(false);
                    if (masked(IE)) push(INDEF_SE, INDEF_SIG);
                    return;
                }
                push(s, m);
                setC1(false);
                return;
            }
            case 1: start(c, in); fxch(i); return;
            case 2:
                if (i != 0) throw CpuFault.ud();
                start(c, in); // FNOP
                return;
            case 3: start(c, in); fstReg(i, true); return; // FSTP1
            case 4:
                switch (i) {
                    case 0: case 1: // FCHS, FABS
                        start(c, in);
                        if (isEmpty(0)) { underflow(0, 0); return; }
                        setC1(false);
                        put(0, i == 0 ? seOf(0) ^ 0x8000 : seOf(0) & 0x7FFF, sigOf(0));
                        return;
                    case 4: // FTST
                        start(c, in);
                        compare(0, 0, false, 0, false, false, c);
                        return;
                    case 5: // FXAM
                        start(c, in);
                        fxam();
                        return;
                    default: throw CpuFault.ud();
                }
            case 5:
                if (i == 7) throw CpuFault.ud();
                start(c, in);
                if (pushable()) {
                    loadConstant(i);
                    push(x.rse, x.rsig);
                    setC1(false);
                }
                return;
            case 6: start(c, in); d9f0(c, i); return;
            default: start(c, in); d9f8(c, i); return;
        }
    }

    private void fxam() {
        int s = seOf(0);
        long m = sigOf(0);
        int cc;
        if (isEmpty(0)) {
            cc = C3 | C0;
        } else {
            switch (X87Float.classify(s, m)) {
                case X87Float.UNSUPPORTED: cc = 0; break;
                case X87Float.QNAN: case X87Float.SNAN: cc = C0; break;
                case X87Float.NORMAL: cc = C2; break;
                case X87Float.INF: cc = C2 | C0; break;
                case X87Float.ZERO: cc = C3; break;
                default: cc = C3 | C2; break;
            }
        }
        setCC(cc | (X87Float.neg(s) ? C1 : 0));
    }

    /** The seven constants, as 128-bit values (exponent, top and next 64 significand bits). */
    private static final int[] CONST_SE = {0x3FFF, 0x4000, 0x3FFF, 0x4000, 0x3FFD, 0x3FFE, 0};
    private static final long[] CONST_HI = {
        0x8000000000000000L, 0xD49A784BCD1B8AFEL, 0xB8AA3B295C17F0BBL, 0xC90FDAA22168C234L,
        0x9A209A84FBCFF798L, 0xB17217F7D1CF79ABL, 0};
    private static final long[] CONST_LO = {
        0, 0x492BF6FF4DAFDB4CL, 0xBE87FED0691D3E88L, 0xC4C6628B80DC1CD1L,
        0x8F8959AC0B7C9178L, 0xC9E3B39803F2F6AFL, 0};

    /** FLD1, FLDL2T, FLDL2E, FLDPI, FLDLG2, FLDLN2, FLDZ: the constant rounded to 64 bits under RC. */
    private void loadConstant(int i) {
        long hi = CONST_HI[i], lo = CONST_LO[i];
        boolean inc = x.rc == X87Float.RC_NEAREST ? lo < 0 : x.rc == X87Float.RC_UP && lo != 0;
        x.set(CONST_SE[i], inc ? hi + 1 : hi);
    }

    /** D9 F0-F7: F2XM1, FYL2X, FPTAN, FPATAN, FXTRACT, FPREM1, FDECSTP, FINCSTP. */
    private void d9f0(Cpu c, int i) {
        switch (i) {
            case 0:
                if (isEmpty(0)) { underflow(0, 0); return; }
                X87Transcendental.f2xm1(x, seOf(0), sigOf(0));
                commit(0, 0);
                return;
            case 1: case 3:
                if (isEmpty(0) || isEmpty(1)) { underflow(1, 1); return; }
                if (i == 1) X87Transcendental.fyl2x(x, seOf(0), sigOf(0), seOf(1), sigOf(1));
                else X87Transcendental.fpatan(x, seOf(0), sigOf(0), seOf(1), sigOf(1));
                commit(1, 1);
                return;
            case 2: trig(X87Transcendental.TAN); return;
            case 4: fxtract(); return;
            case 5: prem(true); return;
            case 6: top = (top - 1) & 7; setC1(false); return;
            default: top = (top + 1) & 7; setC1(false); return;
        }
    }

    /** D9 F8-FF: FPREM, FYL2XP1, FSQRT, FSINCOS, FRNDINT, FSCALE, FSIN, FCOS. */
    private void d9f8(Cpu c, int i) {
        switch (i) {
            case 0: prem(false); return;
            case 1:
                if (isEmpty(0) || isEmpty(1)) { underflow(1, 1); return; }
                X87Transcendental.fyl2xp1(x, seOf(0), sigOf(0), seOf(1), sigOf(1));
                commit(1, 1);
                return;
            case 2:
                if (isEmpty(0)) { underflow(0, 0); return; }
                x.sqrt(seOf(0), sigOf(0));
                commit(0, 0);
                return;
            case 3: trig(-1); return;
            case 4:
                if (isEmpty(0)) { underflow(0, 0); return; }
                frndint();
                commit(0, 0);
                return;
            case 5:
                if (isEmpty(0) || isEmpty(1)) { underflow(0, 0); return; }
                x.scale(seOf(0), sigOf(0), seOf(1), sigOf(1));
                commit(0, 0);
                return;
            case 6: trig(X87Transcendental.SIN); return;
            default: trig(X87Transcendental.COS); return;
        }
    }

    private void frndint() {
        int s = seOf(0);
        long m = sigOf(0);
        int cls = X87Float.classify(s, m);
        if (cls == X87Float.UNSUPPORTED) { x.invalid(); return; }
        if (X87Float.isNaN(cls)) { x.propagateNaN(s, m, cls); return; }
        if (cls == X87Float.INF) { x.set(s, m); return; }
        if (cls == X87Float.DENORMAL) {
            x.flags |= DE;
            if (!masked(DE)) return;
        }
        x.roundInt(s, m);
    }

    /** FSIN, FCOS, FPTAN (pushes 1) or, for fn = -1, FSINCOS (ST0 = sin, then pushes cos). */
    private void trig(int fn) {
        boolean pushes = fn == X87Transcendental.TAN || fn < 0;
        if (isEmpty(0) || (pushes && !isEmpty(-1))) {
            stackFault(!isEmpty(0));
            if (masked(IE)) {
                put(0, INDEF_SE, INDEF_SIG);
                if (pushes) push(INDEF_SE, INDEF_SIG);
            }
            return;
        }
        int s = seOf(0);
        long m = sigOf(0);
        x.prec = 64;
        int k = X87Transcendental.trigOperand(x, s, m);
        if (k == 1) {
            setCC(status & (C0 | C3) | C2); // out of range: C2 = 1, operand unchanged
            return;
        }
        status &= ~(C1 | C2);
        if (k < 0) {
            int rs = x.rse;
            long rm = x.rsig;
            if (suppressed()) { raise(x.flags); return; }
            put(0, rs, rm);
            if (pushes) push(rs, rm);
            raise(x.flags);
            return;
        }
        int f0 = fn < 0 ? X87Transcendental.SIN : fn;
        X87Transcendental.trig(x, f0, s, m);
        int rs = x.rse;
        long rm = x.rsig;
        if (fn == X87Transcendental.TAN) {
            x.setInteger(false, 1);
        } else if (fn < 0) {
            X87Transcendental.trig(x, X87Transcendental.COS, s, m);
        }
        if (suppressed()) { raise(x.flags); return; }
        put(0, rs, rm);
        if (pushes) push(x.rse, x.rsig);
        raise(x.flags);
    }

    private void fxtract() {
        if (isEmpty(0) || !isEmpty(-1)) {
            stackFault(!isEmpty(0));
            if (masked(IE)) {
                put(0, INDEF_SE, INDEF_SIG);
                push(INDEF_SE, INDEF_SIG);
            }
            return;
        }
        int s = seOf(0);
        long m = sigOf(0);
        int cls = X87Float.classify(s, m);
        int es, ss;
        long em, sm;
        if (cls == X87Float.UNSUPPORTED || X87Float.isNaN(cls)) {
            if (cls == X87Float.UNSUPPORTED) x.invalid(); else x.propagateNaN(s, m, cls);
            es = ss = x.rse;
            em = sm = x.rsig;
        } else if (cls == X87Float.ZERO) {
            x.flags |= ZE;
            es = 0xFFFF; // -infinity
            em = X87Float.INT_BIT;
            ss = s;
            sm = m;
        } else if (cls == X87Float.INF) {
            es = 0x7FFF;
            em = X87Float.INT_BIT;
            ss = s;
            sm = m;
        } else {
            if (cls == X87Float.DENORMAL) x.flags |= DE;
            x.fromLong(X87Float.normExp(s, m) - X87Float.BIAS);
            es = x.rse;
            em = x.rsig;
            ss = (s & 0x8000) | X87Float.BIAS;
            sm = X87Float.normSig(s, m);
        }
        status &= ~C1;
        if (suppressed()) { raise(x.flags); return; }
        put(0, es, em);
        push(ss, sm);
        raise(x.flags);
    }

    private void prem(boolean ieee) {
        if (isEmpty(0) || isEmpty(1)) {
            underflow(0, 0);
            return;
        }
        x.rem(seOf(0), sigOf(0), seOf(1), sigOf(1), ieee);
        if (suppressed()) { raise(x.flags); return; }
        int q = x.remQuotient;
        int cc = x.remPartial ? C2 : (q & 4) != 0 ? C0 : 0;
        if (!x.remPartial) {
            if ((q & 2) != 0) cc |= C3;
            if ((q & 1) != 0) cc |= C1;
        }
        if ((x.flags & IE) != 0) cc = 0;
        putResult(0);
        setCC(cc);
        raise(x.flags);
    }

    // --- environment -----------------------------------------------------------------------------

    private static boolean realLayout(Cpu c) {
        return (c.cr0 & AddressSpace.CR0_PE) == 0 || (c.eflags & Registers.VM) != 0;
    }

    private void storeEnv(Cpu c, Insn in, int ea) {
        int seg = in.seg, mask = in.eaMask;
        boolean o32 = in.size == 4;
        c.probeWrite(seg, ea, o32 ? 28 : 14);
        writeEnv(c, seg, ea, mask, o32, realLayout(c));
    }

    private void writeEnv(Cpu c, int seg, int ea, int mask, boolean o32, boolean real) {
        int cw = control, sw = statusWord(), tw = tagWord();
        int ip = real ? (fcs << 4) + fip : fip;
        int dp = real ? (fds << 4) + fdp : fdp;
        if (o32) {
            c.wr32(seg, ea, 0xFFFF0000 | cw);
            c.wr32(seg, (ea + 4) & mask, 0xFFFF0000 | sw);
            c.wr32(seg, (ea + 8) & mask, 0xFFFF0000 | tw);
            if (real) {
                c.wr32(seg, (ea + 12) & mask, 0xFFFF0000 | (ip & 0xFFFF));
                c.wr32(seg, (ea + 16) & mask, ((ip >>> 4) & 0x0FFFF000) | fop);
                c.wr32(seg, (ea + 20) & mask, 0xFFFF0000 | (dp & 0xFFFF));
                c.wr32(seg, (ea + 24) & mask, (dp >>> 4) & 0x0FFFF000);
            } else {
                c.wr32(seg, (ea + 12) & mask, ip);
                c.wr32(seg, (ea + 16) & mask, (fcs & 0xFFFF) | (fop << 16));
                c.wr32(seg, (ea + 20) & mask, dp);
                c.wr32(seg, (ea + 24) & mask, 0xFFFF0000 | fds);
            }
        } else {
            c.wr16(seg, ea, cw);
            c.wr16(seg, (ea + 2) & mask, sw);
            c.wr16(seg, (ea + 4) & mask, tw);
            if (real) {
                c.wr16(seg, (ea + 6) & mask, ip);
                c.wr16(seg, (ea + 8) & mask, ((ip >>> 4) & 0xF000) | fop);
                c.wr16(seg, (ea + 10) & mask, dp);
                c.wr16(seg, (ea + 12) & mask, (dp >>> 4) & 0xF000);
            } else {
                c.wr16(seg, (ea + 6) & mask, ip);
                c.wr16(seg, (ea + 8) & mask, fcs);
                c.wr16(seg, (ea + 10) & mask, dp);
                c.wr16(seg, (ea + 12) & mask, fds);
            }
        }
    }

    /** Reads an environment image: {cw, sw, tw, fip, fcs, fdp, fds, fop}. */
    private static int[] readEnv(Cpu c, int seg, int ea, int mask, boolean o32, boolean real) {
        int[] v = new int[8];
        if (o32) {
            v[0] = c.rd16(seg, ea);
            v[1] = c.rd16(seg, (ea + 4) & mask);
            v[2] = c.rd16(seg, (ea + 8) & mask);
            int w3 = c.rd32(seg, (ea + 12) & mask), w4 = c.rd32(seg, (ea + 16) & mask);
            int w5 = c.rd32(seg, (ea + 20) & mask), w6 = c.rd32(seg, (ea + 24) & mask);
            if (real) {
                v[3] = (w3 & 0xFFFF) | ((w4 << 4) & 0xFFFF0000);
                v[4] = 0;
                v[5] = (w5 & 0xFFFF) | ((w6 << 4) & 0xFFFF0000);
                v[6] = 0;
                v[7] = w4 & 0x7FF;
            } else {
                v[3] = w3;
                v[4] = w4 & 0xFFFF;
                v[5] = w5;
                v[6] = w6 & 0xFFFF;
                v[7] = (w4 >>> 16) & 0x7FF;
            }
        } else {
            v[0] = c.rd16(seg, ea);
            v[1] = c.rd16(seg, (ea + 2) & mask);
            v[2] = c.rd16(seg, (ea + 4) & mask);
            int w3 = c.rd16(seg, (ea + 6) & mask), w4 = c.rd16(seg, (ea + 8) & mask);
            int w5 = c.rd16(seg, (ea + 10) & mask), w6 = c.rd16(seg, (ea + 12) & mask);
            if (real) {
                v[3] = w3 | ((w4 & 0xF000) << 4);
                v[4] = 0;
                v[5] = w5 | ((w6 & 0xF000) << 4);
                v[6] = 0;
                v[7] = w4 & 0x7FF;
            } else {
                v[3] = w3;
                v[4] = w4;
                v[5] = w5;
                v[6] = w6;
                v[7] = -1; // the 16-bit protected-mode image has no opcode: keep the old one
            }
        }
        return v;
    }

    private void applyEnv(int[] v) {
        control = (v[0] & 0x1F3F) | 0x40;
        setStatusWord(v[1]);
        empty = emptyBits(v[2]);
        fip = v[3];
        fcs = v[4];
        fdp = v[5];
        fds = v[6];
        if (v[7] >= 0) fop = v[7];
    }

    private void loadEnv(Cpu c, Insn in, int ea) {
        applyEnv(readEnv(c, in.seg, ea, in.eaMask, in.size == 4, realLayout(c)));
    }

    private void fnsave(Cpu c, Insn in, int ea) {
        int seg = in.seg, mask = in.eaMask;
        boolean o32 = in.size == 4;
        int envSize = o32 ? 28 : 14;
        c.probeWrite(seg, ea, envSize + 80);
        writeEnv(c, seg, ea, mask, o32, realLayout(c));
        for (int i = 0; i < 8; i++) {
            int at = (ea + envSize + 10 * i) & mask;
            c.wr32(seg, at, (int) sigOf(i));
            c.wr32(seg, (at + 4) & mask, (int) (sigOf(i) >>> 32));
            c.wr16(seg, (at + 8) & mask, seOf(i));
        }
        fninit();
    }

    private void frstor(Cpu c, Insn in, int ea) {
        int seg = in.seg, mask = in.eaMask;
        boolean o32 = in.size == 4;
        int envSize = o32 ? 28 : 14;
        int[] env = readEnv(c, seg, ea, mask, o32, realLayout(c));
        int[] s = new int[8];
        long[] m = new long[8];
        for (int i = 0; i < 8; i++) {
            int at = (ea + envSize + 10 * i) & mask;
            long lo = c.rd32(seg, at) & 0xFFFFFFFFL;
            long hi = c.rd32(seg, (at + 4) & mask);
            m[i] = (hi << 32) | lo;
            s[i] = c.rd16(seg, (at + 8) & mask);
        }
        applyEnv(env);
        for (int i = 0; i < 8; i++) {
            int p = phys(i);
            se[p] = s[i];
            sig[p] = m[i];
        }
    }
}
