package io.mucheckpoint.cpu;

import static io.mucheckpoint.cpu.X87Float.BIAS;
import static io.mucheckpoint.cpu.X87Float.DE;
import static io.mucheckpoint.cpu.X87Float.DENORMAL;
import static io.mucheckpoint.cpu.X87Float.INF;
import static io.mucheckpoint.cpu.X87Float.INT_BIT;
import static io.mucheckpoint.cpu.X87Float.PE;
import static io.mucheckpoint.cpu.X87Float.UE;
import static io.mucheckpoint.cpu.X87Float.UNSUPPORTED;
import static io.mucheckpoint.cpu.X87Float.ZE;
import static io.mucheckpoint.cpu.X87Float.ZERO;
import static io.mucheckpoint.cpu.X87Float.classify;
import static io.mucheckpoint.cpu.X87Float.isNaN;
import static io.mucheckpoint.cpu.X87Float.neg;
import static io.mucheckpoint.cpu.X87Float.normExp;
import static io.mucheckpoint.cpu.X87Float.normSig;


/**
 * The x87 transcendental instructions (FSIN, FCOS, FSINCOS, FPTAN, FPATAN, F2XM1, FYL2X, FYL2XP1).
 *
 * <p>Special operands (zeros, infinities, NaNs, unsupported formats, denormals, out-of-range
 * arguments) get the results and flags of the SDM's tables. Ordinary operands are computed with
 * {@link StrictMath} in double precision, so results are the same on every JVM (the checkpoint
 * design needs bit-for-bit replay); the result is exact in the 64-bit register but carries only
 * double accuracy: a few ulps of a double (about 2^-52 relative), where the hardware is within about
 * 1 ulp of extended (2^-63). Details:
 * <ul>
 * <li>FSIN, FCOS, FSINCOS, FPTAN reduce the argument modulo pi/2 exactly, with the hardware's own
 *     pi (truncated to 66 bits, as Intel documents; the AMD host the oracle was recorded on agrees
 *     to the last bit), so for large arguments they drift from the true sine just as the hardware
 *     does; the reduced argument is then rounded to a double.
 * <li>Arguments so small that the function is x (or 1, or x times a constant) to 64 bits are done in
 *     extended precision with the correct directed rounding; FYL2X and FYL2XP1 multiply by y in
 *     extended precision, so y may use the whole extended exponent range; FPATAN scales its operands,
 *     so it too works across the extended range.
 * <li>F2XM1 outside [-1, 1] and FYL2XP1 outside |x| < 1 - sqrt(2)/2 are undefined on the hardware
 *     (the AMD host returns the operand unchanged); here they compute the mathematical function.
 * <li>C1 (round up) is left 0 for results computed in double; PE is always set for them.
 * </ul>
 */
final class X87Transcendental {
    private X87Transcendental() {}

    static final double LN2 = 0.6931471805599453;
    static final double LOG2E = 1.4426950408889634;
    /** ln 2 and log2 e rounded to 64 bits (nearest). */
    static final int LN2_SE = 0x3FFE;
    static final long LN2_SIG = 0xB17217F7D1CF79ACL;
    static final int LOG2E_SE = 0x3FFF;
    static final long LOG2E_SIG = 0xB8AA3B295C17F0BCL;
    /** sqrt(2) * 2^63, where the log's argument switches to the next power of two. */
    private static final long SQRT2_SIG = 0xB504F333F9DE6484L;

    static final int SIN = 0, COS = 1, TAN = 2;

    /**
     * pi as the hardware reduces with it: truncated to 66 bits (C90FDAA22168C234C, as Intel documents
     * and the AMD host of the oracle agrees); as an integer, pi/2 * 2^65 = PI66_HI * 2^64 + PI66_LO.
     */
    private static final long PI66_HI = 0x3, PI66_LO = 0x243F6A8885A308D3L;
    private static final double PI66_D = 0x3243F6A8885A308D3p0;

    /** The signed 128-bit integer hi:lo as the nearest double (within an ulp). */
    static double toDouble128(long hi, long lo) {
        boolean neg = hi < 0;
        if (neg) {
            lo = -lo;
            hi = ~hi + (lo == 0 ? 1 : 0);
        }
        double low = lo >= 0 ? (double) lo : (double) ((lo >>> 1) | (lo & 1)) * 2.0;
        double v = hi == 0 ? low : Math.scalb((double) hi, 64) + low;
        return neg ? -v : v;
    }

    /**
     * Classifies the operand of FSIN/FCOS/FPTAN/FSINCOS: returns -1 if it was fully handled
     * (result in x.rse/rsig: a NaN, the indefinite, a raised unmasked DE), 1 if out of range
     * (|x| >= 2^63: C2 = 1, no change), 0 if the caller should call {@link #trig}.
     */
    static int trigOperand(X87Float x, int se, long sig) {
        int c = classify(se, sig);
        if (c == UNSUPPORTED || c == INF) { x.invalid(); return -1; }
        if (isNaN(c)) { x.propagateNaN(se, sig, c); return -1; }
        if (c == DENORMAL) {
            x.flags |= DE;
            if ((x.masks & DE) == 0) return -1;
        }
        if (c != ZERO && normExp(se, sig) >= BIAS + 63) return 1;
        return 0;
    }

    /** sin, cos or tan of a finite operand accepted by {@link #trigOperand}. */
    static void trig(X87Float x, int fn, int se, long sig) {
        int c = classify(se, sig);
        if (c == ZERO) {
            if (fn == COS) x.setInteger(false, 1); else x.set(se, sig);
            return;
        }
        x.flags |= PE;
        if (normExp(se, sig) < BIAS - 40) {
            // sin x = x - x^3/6, tan x = x + x^3/3, cos x = 1 - x^2/2: the neglected terms are far
            // below the last place, so the result is x (or 1) or its neighbour toward the term.
            if (fn == COS) {
                boolean down = x.rc == X87Float.RC_DOWN || x.rc == X87Float.RC_CHOP;
                if (down) x.set(0x3FFE, -1L); else x.setInteger(false, 1);
                return;
            }
            boolean n = neg(se);
            // Rounding toward the neglected term moves the magnitude down (sin) or up (tan).
            // (sin: down for x > 0, up for x < 0, or chop; tan: up for x > 0, down for x < 0).
            boolean towardTerm = x.rc == X87Float.RC_CHOP && fn == SIN
                    || x.rc == (n == (fn == SIN) ? X87Float.RC_UP : X87Float.RC_DOWN);
            x.roundPack(n, normExp(se, sig), normSig(se, sig), 0, 64, X87Float.EXT_MIN, X87Float.EXT_MAX);
            x.packExt();
            if (towardTerm) {
                x.nextToward(fn == TAN);
                x.up = fn == TAN;
            }
            if (normExp(se, sig) < 1) x.flags |= UE;
            return;
        }
        // Reduce exactly: |x| = k * P/2 + r with |r| <= P/4, where P is the hardware's 66-bit pi.
        // In units of 2^-65 everything is an integer below 2^128: X = m << (e + 2), P/2 = PI66.
        int e = normExp(se, sig) - BIAS;
        double r;
        int q = 0;
        if (e < -1) {
            r = X87Float.approx(se, sig);
        } else {
            long m = normSig(se, sig);
            int s = e + 2; // 1..64
            long xHi = s == 64 ? m : m >>> (64 - s), xLo = s == 64 ? 0 : m << s;
            long k = (long) Math.rint(Math.abs(X87Float.approx(se, sig)) / (Math.PI / 2));
            double rd = 0;
            for (int step = 0; step < 4; step++) {
                long pLo = k * PI66_LO;
                long pHi = X87Float.umulh(k, PI66_LO) + k * PI66_HI;
                long rLo = xLo - pLo;
                long rHi = xHi - pHi - (Long.compareUnsigned(xLo, pLo) < 0 ? 1 : 0);
                rd = toDouble128(rHi, rLo);
                double adj = Math.rint(rd / PI66_D);
                if (adj == 0) break;
                k += (long) adj;
            }
            r = Math.scalb(rd, -65);
            q = (int) k & 3;
            if (neg(se)) {
                r = -r;
                q = -q & 3;
            }
        }
        double v;
        if (fn == TAN) {
            v = (q & 1) == 0 ? StrictMath.tan(r) : -1 / StrictMath.tan(r);
        } else {
            int k = fn == COS ? q + 1 : q; // cos x = sin(x + pi/2)
            double t = (k & 1) == 0 ? StrictMath.sin(r) : StrictMath.cos(r);
            v = (k & 2) == 0 ? t : -t;
        }
        x.setDouble(v);
    }

    /** F2XM1: 2^x - 1. */
    static void f2xm1(X87Float x, int se, long sig) {
        int c = classify(se, sig);
        if (c == UNSUPPORTED) { x.invalid(); return; }
        if (isNaN(c)) { x.propagateNaN(se, sig, c); return; }
        if (c == INF) {
            if (neg(se)) x.setInteger(true, 1); else x.set(se, sig);
            return;
        }
        if (c == ZERO) { x.set(se, sig); return; }
        if (c == DENORMAL) {
            x.flags |= DE;
            if ((x.masks & DE) == 0) return;
        }
        if (normExp(se, sig) < BIAS - 60) {
            x.prec = 64;
            x.mul(se, sig, LN2_SE, LN2_SIG);
            x.flags |= PE;
            return;
        }
        x.flags |= PE;
        x.setDouble(StrictMath.expm1(X87Float.approx(se, sig) * LN2));
    }

    /** log2 of a finite positive value, in double, and whether it is exact. */
    private static double log2(int se, long sig, boolean[] exact) {
        int e = normExp(se, sig) - BIAS;
        long m = normSig(se, sig);
        if (m == INT_BIT) {
            exact[0] = true;
            return e;
        }
        exact[0] = false;
        double eps;
        if (Long.compareUnsigned(m, SQRT2_SIG) >= 0) {
            e++;
            eps = -Math.scalb((double) -m, -64);
        } else {
            eps = Math.scalb((double) (m - INT_BIT), -63);
        }
        return e + StrictMath.log1p(eps) * LOG2E;
    }

    /** FYL2X: y * log2(x), x = ST(0), y = ST(1). */
    static void fyl2x(X87Float x, int xse, long xsig, int yse, long ysig) {
        int cx = classify(xse, xsig), cy = classify(yse, ysig);
        if (cx == UNSUPPORTED || cy == UNSUPPORTED) { x.invalid(); return; }
        if (isNaN(cx) || isNaN(cy)) { x.propagateNaN(xse, xsig, cx, yse, ysig, cy); return; }
        if (cx != ZERO && neg(xse)) { x.invalid(); return; }
        boolean ny = neg(yse);
        if (cx == ZERO) {
            if (cy == ZERO) { x.invalid(); return; }
            if (denormal(x, cy)) return;
            if (cy != INF) x.flags |= ZE;
            x.setInf(!ny);
            return;
        }
        if (cx == INF) {
            if (cy == ZERO) { x.invalid(); return; }
            if (denormal(x, cy)) return;
            x.setInf(ny);
            return;
        }
        boolean one = normSig(xse, xsig) == INT_BIT && normExp(xse, xsig) == BIAS;
        if (cy == INF && one) { x.invalid(); return; }
        if (denormal(x, cx) || denormal(x, cy)) return;
        boolean below1 = normExp(xse, xsig) < BIAS;
        if (cy == INF) { x.setInf(ny ^ below1); return; }
        if (cy == ZERO || one) { x.setZero(ny ^ (below1 && !one)); return; }
        boolean[] exact = new boolean[1];
        double l = log2(xse, xsig, exact);
        multiply(x, yse, ysig, l, exact[0]);
    }

    /** FYL2XP1: y * log2(x + 1), x = ST(0), y = ST(1). */
    static void fyl2xp1(X87Float x, int xse, long xsig, int yse, long ysig) {
        int cx = classify(xse, xsig), cy = classify(yse, ysig);
        if (cx == UNSUPPORTED || cy == UNSUPPORTED) { x.invalid(); return; }
        if (isNaN(cx) || isNaN(cy)) { x.propagateNaN(xse, xsig, cx, yse, ysig, cy); return; }
        boolean nx = neg(xse), ny = neg(yse);
        if (cx == ZERO) {
            if (cy == INF) { x.invalid(); return; }
            if (denormal(x, cy)) return;
            x.setZero(nx ^ ny);
            return;
        }
        if (cx == INF) {
            if (nx || cy == ZERO) { x.invalid(); return; }
            if (denormal(x, cy)) return;
            x.setInf(ny);
            return;
        }
        if (denormal(x, cx) || denormal(x, cy)) return;
        if (cy == INF) { x.setInf(nx ^ ny); return; }
        if (cy == ZERO) { x.setZero(nx ^ ny); return; }
        x.prec = 64;
        if (normExp(xse, xsig) < BIAS - 60) {
            // log2(1 + x) = x * log2(e) to 64 bits.
            multiply3(x, yse, ysig, xse, xsig, LOG2E_SE, LOG2E_SIG);
            x.flags |= PE;
            return;
        }
        double d = X87Float.approx(xse, xsig);
        if (d <= -1) { x.invalid(); return; }
        multiply(x, yse, ysig, StrictMath.log1p(d) * LOG2E, false);
    }

    /**
     * a * b * c (c near 1) with the intermediate products kept away from the exponent limits and one
     * final rounding, so a tiny a or b loses nothing before the end.
     */
    private static void multiply3(X87Float x, int ase, long asig, int bse, long bsig, int cse, long csig) {
        int scale = normExp(ase, asig) - BIAS + normExp(bse, bsig) - BIAS;
        int saved = x.flags;
        x.prec = 64;
        x.mul((ase & 0x8000) | BIAS, normSig(ase, asig), (bse & 0x8000) | BIAS, normSig(bse, bsig));
        x.mul(x.rse, x.rsig, cse, csig);
        x.flags = saved;
        x.roundPack(neg(x.rse), normExp(x.rse, x.rsig) + scale, x.rsig, 0, 64, X87Float.EXT_MIN, X87Float.EXT_MAX);
        x.packExt();
    }

    /** y * l (l a double) in extended precision, PE unless both are exact. */
    private static void multiply(X87Float x, int yse, long ysig, double l, boolean exact) {
        x.setDouble(l);
        int lse = x.rse;
        long lsig = x.rsig;
        x.prec = 64;
        x.mul(yse, ysig, lse, lsig);
        if (!exact) x.flags |= PE;
    }

    private static boolean denormal(X87Float x, int cls) {
        if (cls != DENORMAL) return false;
        x.flags |= DE;
        return (x.masks & DE) == 0;
    }

    /** A double standing for a zero, an infinity or (only its sign matters) a finite nonzero value. */
    private static double signOnly(int se, int cls) {
        double v = cls == ZERO ? 0.0 : cls == INF ? Double.POSITIVE_INFINITY : 1.0;
        return neg(se) ? -v : v;
    }

    /** FPATAN: atan(y / x) with the quadrant of (x, y), x = ST(0), y = ST(1). */
    static void fpatan(X87Float x, int xse, long xsig, int yse, long ysig) {
        int cx = classify(xse, xsig), cy = classify(yse, ysig);
        if (cx == UNSUPPORTED || cy == UNSUPPORTED) { x.invalid(); return; }
        if (isNaN(cx) || isNaN(cy)) { x.propagateNaN(xse, xsig, cx, yse, ysig, cy); return; }
        if (denormal(x, cx) || denormal(x, cy)) return;
        double r;
        if (cx == ZERO || cx == INF || cy == ZERO || cy == INF) {
            r = StrictMath.atan2(signOnly(yse, cy), signOnly(xse, cx));
        } else {
            int ex = normExp(xse, xsig), ey = normExp(yse, ysig);
            if (ey - ex < -60 && !neg(xse)) {
                // atan(y/x) = y/x to 64 bits.
                x.prec = 64;
                x.div(yse, ysig, xse, xsig);
                x.flags |= PE;
                return;
            }
            int k = Math.max(ex, ey);
            double yd = Math.scalb(X87Float.approx((yse & 0x8000) | BIAS, normSig(yse, ysig)), ey - k);
            double xd = Math.scalb(X87Float.approx((xse & 0x8000) | BIAS, normSig(xse, xsig)), ex - k);
            r = StrictMath.atan2(yd, xd);
        }
        if (r != 0) x.flags |= PE;
        x.setDouble(r);
    }
}
