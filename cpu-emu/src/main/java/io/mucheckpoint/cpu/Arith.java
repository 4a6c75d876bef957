package io.mucheckpoint.cpu;

import static io.mucheckpoint.cpu.Registers.AF;
import static io.mucheckpoint.cpu.Registers.CF;
import static io.mucheckpoint.cpu.Registers.OF;
import static io.mucheckpoint.cpu.Registers.ZF;

/**
 * Shifts, rotates, multiplication, division, bit operations and BCD adjustment: the integer
 * instructions whose flags are not a plain add/sub/logic result. Where the architecture leaves a
 * flag undefined we produce what QEMU produces where that is known (AF = 0 after shifts, SF/ZF/PF
 * from the low half after a multiply), so instruction traces diff cleanly against it, and a fixed,
 * deterministic value otherwise.
 */
final class Arith {
    private Arith() {}

    static int shift(Cpu c, int kind, int v, int count, int size) {
        int bits = size * 8;
        int mask = Registers.sizeMask(size);
        int sign = Registers.signBit(size);
        v &= mask;
        switch (kind) {
            case 0: { // ROL
                int n = count & (bits - 1);
                int res = n == 0 ? v : ((v << n) | (v >>> (bits - n))) & mask;
                int cf = res & 1;
                int of = ((res & sign) != 0 ? 1 : 0) ^ cf;
                setCfOf(c, cf, of);
                return res;
            }
            case 1: { // ROR
                int n = count & (bits - 1);
                int res = n == 0 ? v : ((v >>> n) | (v << (bits - n))) & mask;
                int cf = (res & sign) != 0 ? 1 : 0;
                int of = cf ^ ((res & (sign >>> 1)) != 0 ? 1 : 0);
                setCfOf(c, cf, of);
                return res;
            }
            case 2: { // RCL
                int n = size == 4 ? count : count % (bits + 1);
                int cf = c.cf() ? 1 : 0;
                long wide = ((long) cf << bits) | (v & 0xFFFFFFFFL); // bits+1 wide rotation register
                long all = (1L << (bits + 1)) - 1;
                if (n != 0) wide = ((wide << n) | (wide >>> (bits + 1 - n))) & all;
                int res = (int) (wide & mask);
                int ncf = (int) (wide >>> bits) & 1;
                int of = ((res & sign) != 0 ? 1 : 0) ^ ncf;
                setCfOf(c, ncf, of);
                return res;
            }
            case 3: { // RCR
                int n = size == 4 ? count : count % (bits + 1);
                int cf = c.cf() ? 1 : 0;
                long wide = ((long) cf << bits) | (v & 0xFFFFFFFFL);
                long all = (1L << (bits + 1)) - 1;
                if (n != 0) wide = ((wide >>> n) | (wide << (bits + 1 - n))) & all;
                int res = (int) (wide & mask);
                int ncf = (int) (wide >>> bits) & 1;
                int of = ((res & sign) != 0 ? 1 : 0) ^ ((res & (sign >>> 1)) != 0 ? 1 : 0);
                setCfOf(c, ncf, of);
                return res;
            }
            case 4: case 6: { // SHL / SAL
                long wide = (v & 0xFFFFFFFFL) << count;
                int res = (int) wide & mask;
                int cf = (int) (wide >>> bits) & 1;
                int of = ((res & sign) != 0 ? 1 : 0) ^ cf;
                c.setFlagsSzp(res, size, (cf != 0 ? CF : 0) | (of != 0 ? OF : 0));
                return res;
            }
            case 5: { // SHR
                int res = count >= bits ? 0 : v >>> count;
                int cf = count > bits ? 0 : (v >>> (count - 1)) & 1;
                // OF is defined for a count of 1 (the original sign); larger counts give the sign of
                // the value before the last one-bit step, as the 80286 and P6 parts do.
                int of = count > bits ? 0 : ((v >>> (count - 1)) & sign) != 0 ? 1 : 0;
                c.setFlagsSzp(res, size, (cf != 0 ? CF : 0) | (of != 0 ? OF : 0));
                return res;
            }
            default: { // SAR
                int sv = size == 4 ? v : size == 2 ? (short) v : (byte) v;
                int n = Math.min(count, bits - 1);
                int res = (sv >> n) & mask;
                int cf = (sv >> Math.min(count - 1, 31)) & 1;
                c.setFlagsSzp(res, size, cf != 0 ? CF : 0);
                return res;
            }
        }
    }

    // SHL, SHR and SAR of 32 bits by a count of 1 to 31, for translations: the same results and
    // flags as shift(), in methods small enough for C2 to inline (shift() as a whole is "hot method
    // too big": 3 % of the Linux decompressor's samples were its calls).

    static int shl32(Cpu c, int v, int count) {
        int res = v << count;
        int cf = (v >>> (32 - count)) & 1;
        c.setFlagsSzp(res, 4, (cf != 0 ? CF : 0) | (((res >>> 31) ^ cf) != 0 ? OF : 0));
        return res;
    }

    static int shr32(Cpu c, int v, int count) {
        int res = v >>> count;
        int cf = (v >>> (count - 1)) & 1;
        c.setFlagsSzp(res, 4, (cf != 0 ? CF : 0) | (count == 1 && v < 0 ? OF : 0));
        return res;
    }

    static int sar32(Cpu c, int v, int count) {
        int res = v >> count;
        c.setFlagsSzp(res, 4, ((v >> (count - 1)) & 1) != 0 ? CF : 0);
        return res;
    }

    private static void setCfOf(Cpu c, int cf, int of) {
        c.materializeFlags();
        c.eflags = (c.eflags & ~(CF | OF)) | (cf != 0 ? CF : 0) | (of != 0 ? OF : 0);
    }

    /** SHLD (kind 0) / SHRD (kind 1) with a non-zero count. */
    static int shiftDouble(Cpu c, int kind, int dst, int src, int count, int size) {
        int bits = size * 8;
        int mask = Registers.sizeMask(size);
        int sign = Registers.signBit(size);
        dst &= mask;
        src &= mask;
        int res, cf;
        if (size == 4) {
            long pair = kind == 0 ? ((dst & 0xFFFFFFFFL) << 32) | (src & 0xFFFFFFFFL)
                                  : ((src & 0xFFFFFFFFL) << 32) | (dst & 0xFFFFFFFFL);
            if (kind == 0) {
                res = (int) ((pair << count) >>> 32);
                cf = (int) (pair >>> (64 - count)) & 1;
            } else {
                res = (int) (pair >>> count);
                cf = (int) (pair >>> (count - 1)) & 1;
            }
        } else {
            // 16-bit: counts above 16 are undefined; rotate through dst:src:dst as P6 parts do.
            if (kind == 0) {
                long triple = ((long) dst << 32) | ((long) src << 16) | dst;
                res = (int) ((triple << count) >>> 32) & mask;
                cf = (int) (triple >>> (48 - count)) & 1;
            } else {
                long t = ((long) dst) | ((long) src << 16) | ((long) dst << 32);
                res = (int) (t >>> count) & mask;
                cf = (int) (t >>> (count - 1)) & 1;
            }
        }
        int of = ((res ^ dst) & sign) != 0 ? OF : 0;
        c.setFlagsSzp(res, size, (cf != 0 ? CF : 0) | of);
        return res;
    }

    /** Group 3 MUL/IMUL/DIV/IDIV on the accumulator. */
    static void mulDiv(Cpu c, int kind, int src, int size) {
        int[] r = c.r;
        switch (size) {
            case 1: {
                int al = r[0] & 0xFF;
                src &= 0xFF;
                if (kind == 4 || kind == 5) {
                    int p = kind == 4 ? al * src : (byte) al * (byte) src;
                    c.setReg(0, 2, p);
                    boolean ext = kind == 4 ? (p & 0xFF00) != 0 : p != (byte) p;
                    mulFlags(c, p & 0xFF, 1, ext);
                } else {
                    int ax = r[0] & 0xFFFF;
                    if (src == 0) throw CpuFault.de();
                    int q, rem;
                    if (kind == 6) {
                        q = ax / src;
                        rem = ax % src;
                        if (q > 0xFF) throw CpuFault.de();
                    } else {
                        int sa = (short) ax, sd = (byte) src;
                        q = sa / sd;
                        rem = sa % sd;
                        if (q != (byte) q) throw CpuFault.de();
                    }
                    c.setReg(0, 2, (q & 0xFF) | ((rem & 0xFF) << 8));
                }
                return;
            }
            case 2: {
                int ax = r[0] & 0xFFFF;
                src &= 0xFFFF;
                if (kind == 4 || kind == 5) {
                    int p = kind == 4 ? ax * src : (short) ax * (short) src;
                    c.setReg(0, 2, p);
                    c.setReg(2, 2, p >>> 16);
                    boolean ext = kind == 4 ? (p >>> 16) != 0 : p != (short) p;
                    mulFlags(c, p & 0xFFFF, 2, ext);
                } else {
                    if (src == 0) throw CpuFault.de();
                    int dividend = ((r[2] & 0xFFFF) << 16) | ax;
                    int q, rem;
                    if (kind == 6) {
                        long dv = dividend & 0xFFFFFFFFL;
                        long lq = dv / src;
                        if (lq > 0xFFFF) throw CpuFault.de();
                        q = (int) lq;
                        rem = (int) (dv % src);
                    } else {
                        int sd = (short) src;
                        long lq = (long) dividend / sd;
                        if (lq != (short) lq) throw CpuFault.de();
                        q = (int) lq;
                        rem = (int) ((long) dividend % sd);
                    }
                    c.setReg(0, 2, q);
                    c.setReg(2, 2, rem);
                }
                return;
            }
            default: {
                if (kind == 4 || kind == 5) {
                    long p = kind == 4 ? (r[0] & 0xFFFFFFFFL) * (src & 0xFFFFFFFFL) : (long) r[0] * (long) src;
                    r[0] = (int) p;
                    r[2] = (int) (p >>> 32);
                    boolean ext = kind == 4 ? (p >>> 32) != 0 : p != (int) p;
                    mulFlags(c, (int) p, 4, ext);
                } else {
                    if (src == 0) throw CpuFault.de();
                    long dividend = ((long) r[2] << 32) | (r[0] & 0xFFFFFFFFL);
                    if (kind == 6) {
                        long d = src & 0xFFFFFFFFL;
                        long q = Long.divideUnsigned(dividend, d);
                        if ((q >>> 32) != 0) throw CpuFault.de();
                        r[0] = (int) q;
                        r[2] = (int) Long.remainderUnsigned(dividend, d);
                    } else {
                        if (dividend == Long.MIN_VALUE && src == -1) throw CpuFault.de();
                        long q = dividend / src;
                        if (q != (int) q) throw CpuFault.de();
                        r[0] = (int) q;
                        r[2] = (int) (dividend % src);
                    }
                }
            }
        }
    }

    /** Two- and three-operand IMUL: the truncated product, CF = OF = truncation lost bits. */
    static int imul2(Cpu c, int a, int b, int size) {
        if (size == 2) {
            int p = (short) a * (short) b;
            mulFlags(c, p & 0xFFFF, 2, p != (short) p);
            return p;
        }
        long p = (long) a * (long) b;
        mulFlags(c, (int) p, 4, p != (int) p);
        return (int) p;
    }

    private static void mulFlags(Cpu c, int low, int size, boolean overflow) {
        c.setFlagsSzp(low, size, overflow ? CF | OF : 0);
    }

    /** BT/BTS/BTR/BTC on {@code v}: CF = the bit; returns the updated value. */
    static int bitOp(Cpu c, int kind, int v, int bit) {
        boolean set = ((v >>> bit) & 1) != 0;
        c.setCarry(set);
        switch (kind) {
            case 1: return v | (1 << bit);
            case 2: return v & ~(1 << bit);
            case 3: return v ^ (1 << bit);
            default: return v;
        }
    }

    /** BSF/BSR: ZF = source zero; the destination is left alone then, as P6 parts do. */
    static void bitScan(Cpu c, boolean reverse, int dst, int v, int size) {
        v &= Registers.sizeMask(size);
        c.materializeFlags();
        if (v == 0) {
            c.eflags |= ZF;
            return;
        }
        c.eflags &= ~ZF;
        int idx = reverse ? 31 - Integer.numberOfLeadingZeros(v) : Integer.numberOfTrailingZeros(v);
        c.setReg(dst, size, idx);
    }

    static void daa(Cpu c) {
        int al = c.r[0] & 0xFF;
        boolean cf = c.cf(), af = c.af();
        int oldAl = al;
        int ncf = 0, naf = 0;
        if ((al & 0xF) > 9 || af) {
            al += 6;
            naf = AF;
        }
        if (oldAl > 0x99 || cf) {
            al += 0x60;
            ncf = CF;
        }
        al &= 0xFF;
        c.setReg8(0, al);
        c.setFlagsSzp(al, 1, ncf | naf);
        c.materializeFlags();
        // OF is undefined; P6 parts leave the value of (oldAl ^ al) & al's sign as observed.
        c.eflags = (c.eflags & ~OF) | (((oldAl ^ al) & al & 0x80) != 0 ? OF : 0);
    }

    static void das(Cpu c) {
        int al = c.r[0] & 0xFF;
        boolean cf = c.cf(), af = c.af();
        int oldAl = al;
        int ncf = 0, naf = 0;
        if ((al & 0xF) > 9 || af) {
            al -= 6;
            naf = AF;
            if (cf || oldAl < 6) ncf = CF;
        }
        if (oldAl > 0x99 || cf) {
            al -= 0x60;
            ncf = CF;
        }
        al &= 0xFF;
        c.setReg8(0, al);
        c.setFlagsSzp(al, 1, ncf | naf);
        c.materializeFlags();
        c.eflags = (c.eflags & ~OF) | (((oldAl ^ al) & oldAl & 0x80) != 0 ? OF : 0);
    }

    static void aaa(Cpu c) {
        int ax = c.r[0] & 0xFFFF;
        boolean adjust = (ax & 0xF) > 9 || c.af();
        if (adjust) ax += 0x106;
        ax = (ax & 0xFF0F);
        c.setReg(0, 2, ax);
        c.setFlagsSzp(ax & 0xFF, 1, adjust ? CF | AF : 0);
    }

    static void aas(Cpu c) {
        int ax = c.r[0] & 0xFFFF;
        boolean adjust = (ax & 0xF) > 9 || c.af();
        if (adjust) {
            ax -= 6;
            ax = (ax & 0xFF) | ((((ax >> 8) - 1) & 0xFF) << 8);
        }
        ax &= 0xFF0F;
        c.setReg(0, 2, ax);
        c.setFlagsSzp(ax & 0xFF, 1, adjust ? CF | AF : 0);
    }

    static void aam(Cpu c, int base) {
        if (base == 0) throw CpuFault.de();
        int al = c.r[0] & 0xFF;
        int ax = ((al / base) << 8) | (al % base);
        c.setReg(0, 2, ax);
        c.setFlagsSzp(ax & 0xFF, 1, 0);
    }

    static void aad(Cpu c, int base) {
        int ax = c.r[0] & 0xFFFF;
        int al = ((ax & 0xFF) + (ax >>> 8) * base) & 0xFF;
        c.setReg(0, 2, al);
        c.setFlagsSzp(al, 1, 0);
    }
}
