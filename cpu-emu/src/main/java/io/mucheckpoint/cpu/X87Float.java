package io.mucheckpoint.cpu;

import java.math.BigInteger;

/**
 * Arithmetic on x87 80-bit extended values, done exactly in integer arithmetic.
 *
 * <p>A value is a pair {@code (se, sig)}: {@code se} holds the sign (bit 15) and the 15-bit biased
 * exponent, {@code sig} the 64-bit significand with its explicit integer bit (bit 63), exactly as
 * the register and FNSAVE image hold them. Addition, subtraction, multiplication, division, square
 * root, partial remainder, round-to-integer, scaling and every format conversion produce the
 * correctly rounded result the hardware produces: rounding to the precision control (24, 53 or 64
 * bits) with the full 15-bit exponent range, all four rounding modes, denormal results, tininess
 * detected before rounding, masked and unmasked overflow and underflow responses (the exponent
 * wrapped by 24576 when unmasked), the x87 NaN propagation rules and the "round up" indication that
 * goes to C1. Transcendental functions are the one place results are not exact (see {@link Fpu}).
 *
 * <p>One instance is the FPU's scratch: an operation takes its inputs as arguments and leaves the
 * result in {@link #rse}/{@link #rsig}, the exception flags it raised OR-ed into {@link #flags} and
 * whether it rounded the magnitude up in {@link #up}. {@link #begin} sets the rounding control,
 * precision and exception masks from the control word before each instruction.
 */
final class X87Float {
    // Exception flags, in their status word positions.
    static final int IE = 0x01, DE = 0x02, ZE = 0x04, OE = 0x08, UE = 0x10, PE = 0x20;
    static final int BIAS = 0x3FFF;
    static final long INT_BIT = 0x8000000000000000L;
    static final long QUIET_BIT = 0x4000000000000000L;
    /** The default QNaN ("real indefinite"): negative, exponent all ones, significand C000000000000000. */
    static final int INDEF_SE = 0xFFFF;
    static final long INDEF_SIG = 0xC000000000000000L;
    static final int RC_NEAREST = 0, RC_DOWN = 1, RC_UP = 2, RC_CHOP = 3;
    static final int EXT_MIN = 1, EXT_MAX = 0x7FFE;
    static final int DBL_MIN = 1 - 1023 + BIAS, DBL_MAX = 2046 - 1023 + BIAS;
    static final int SGL_MIN = 1 - 127 + BIAS, SGL_MAX = 254 - 127 + BIAS;
    /** Exponent adjustment of the unmasked overflow and underflow responses. */
    static final int WRAP = 24576;

    // Operand classes.
    static final int ZERO = 0, NORMAL = 1, DENORMAL = 2, INF = 3, UNSUPPORTED = 4, QNAN = 5, SNAN = 6;

    // Settings of the current instruction.
    int rc;
    int prec = 64;
    int masks = 0x3F;

    // Results.
    int rse;
    long rsig;
    int flags;
    boolean up;

    // The rounded value before packing (roundPack's output).
    private boolean iNeg;
    private int iExp;
    private long iSig;

    /** Set by fromSingle/fromDouble when the memory operand was a denormal (DE is the caller's to raise). */
    boolean loadDenormal;

    // roundToInt's output.
    long intMag;
    boolean intBig;
    boolean intInexact;

    /** Prepares for one instruction under control word {@code cw}: clears flags, takes RC, PC and masks. */
    void begin(int cw) {
        rc = (cw >> 10) & 3;
        int pc = (cw >> 8) & 3;
        prec = pc == 0 ? 24 : pc == 2 ? 53 : 64; // PC=01 is reserved; it rounds to 64 bits here
        masks = cw & 0x3F;
        flags = 0;
        up = false;
        loadDenormal = false;
    }

    // --- classification -------------------------------------------------------------------------

    static int classify(int se, long sig) {
        int e = se & 0x7FFF;
        if (e == 0) return sig == 0 ? ZERO : DENORMAL; // a pseudo-denormal (integer bit set) counts as denormal
        if (sig >= 0) return UNSUPPORTED;              // unnormal, pseudo-NaN, pseudo-infinity
        if (e == 0x7FFF) {
            if ((sig << 1) == 0) return INF;
            return (sig & QUIET_BIT) != 0 ? QNAN : SNAN;
        }
        return NORMAL;
    }

    static boolean isNaN(int cls) {
        return cls >= QNAN;
    }

    static boolean neg(int se) {
        return (se & 0x8000) != 0;
    }

    /** The exponent of a finite nonzero value once its significand is normalized (may be below 1). */
    static int normExp(int se, long sig) {
        int e = se & 0x7FFF;
        return e != 0 ? e : 1 - Long.numberOfLeadingZeros(sig);
    }

    static long normSig(int se, long sig) {
        return (se & 0x7FFF) != 0 ? sig : sig << Long.numberOfLeadingZeros(sig);
    }

    static long umulh(long a, long b) {
        return Math.multiplyHigh(a, b) + ((a >> 63) & b) + ((b >> 63) & a);
    }

    // --- simple results --------------------------------------------------------------------------

    void setIndefinite() {
        rse = INDEF_SE;
        rsig = INDEF_SIG;
    }

    void invalid() {
        flags |= IE;
        setIndefinite();
    }

    void setZero(boolean neg) {
        rse = neg ? 0x8000 : 0;
        rsig = 0;
    }

    void setInf(boolean neg) {
        rse = neg ? 0xFFFF : 0x7FFF;
        rsig = INT_BIT;
    }

    void set(int se, long sig) {
        rse = se;
        rsig = sig;
    }

    /** Raises DE for a denormal operand; true if DE is unmasked, so the operation must not go on. */
    private boolean denormal(int ca, int cb) {
        if (ca == DENORMAL || cb == DENORMAL) {
            flags |= DE;
            return (masks & DE) == 0;
        }
        return false;
    }

    /** The x87 rules for a NaN result from one or two operands, at least one of them a NaN. */
    void propagateNaN(int ase, long asig, int ca, int bse, long bsig, int cb) {
        if (ca == SNAN || cb == SNAN) flags |= IE;
        int se;
        long sig;
        if (isNaN(ca) && isNaN(cb)) {
            if (ca != cb) {
                boolean aq = ca == QNAN;
                se = aq ? ase : bse;
                sig = aq ? asig : bsig;
            } else {
                int c = Long.compareUnsigned(asig | QUIET_BIT, bsig | QUIET_BIT);
                boolean pickA = c > 0 || (c == 0 && !neg(ase));
                se = pickA ? ase : bse;
                sig = pickA ? asig : bsig;
            }
        } else if (isNaN(ca)) {
            se = ase;
            sig = asig;
        } else {
            se = bse;
            sig = bsig;
        }
        rse = se;
        rsig = sig | QUIET_BIT;
    }

    /** A NaN result from a single NaN operand. */
    void propagateNaN(int se, long sig, int cls) {
        if (cls == SNAN) flags |= IE;
        rse = se;
        rsig = sig | QUIET_BIT;
    }

    // --- rounding ---------------------------------------------------------------------------------

    /**
     * Rounds {@code (-1)^neg * sig.extra * 2^(e - BIAS - 63)} (sig normalized, extra the bits below it)
     * to {@code precBits} significant bits in the format whose normal biased exponents (in extended
     * bias) run from minExp to maxExp, raising UE, OE and PE as the x87 does. The result is left for
     * {@link #packExt}, {@link #packDouble} or {@link #packSingle}.
     */
    void roundPack(boolean neg, int e, long sig, long extra, int precBits, int minExp, int maxExp) {
        boolean memory = maxExp != EXT_MAX;
        boolean tiny = e < minExp;
        boolean wrapped = false;
        if (tiny && (masks & UE) == 0) {
            // Unmasked underflow: a store to memory is suppressed (UE alone); a register gets the
            // result with its exponent wrapped, or the masked response if even that is too small.
            flags |= UE;
            if (memory) {
                iNeg = neg;
                iExp = minExp;
                iSig = 0;
                return;
            }
            e += WRAP;
            tiny = e < minExp;
            wrapped = true;
        }
        if (tiny) {
            int n = minExp - e;
            if (n < 64) {
                extra = (sig << (64 - n)) | (extra >>> n) | ((extra << (64 - n)) != 0 ? 1 : 0);
                sig >>>= n;
            } else if (n == 64) {
                extra = sig | (extra != 0 ? 1 : 0);
                sig = 0;
            } else if (n < 128) {
                extra = (sig >>> (n - 64)) | (((sig << (128 - n)) | extra) != 0 ? 1 : 0);
                sig = 0;
            } else {
                extra = (sig | extra) != 0 ? 1 : 0;
                sig = 0;
            }
            e = minExp;
        }
        int shift = 64 - precBits;
        long frac;
        if (shift == 0) {
            frac = extra;
        } else {
            frac = (sig << precBits) | (extra != 0 ? 1 : 0);
            sig &= -1L << shift;
        }
        boolean inexact = frac != 0;
        boolean inc = false;
        if (inexact) {
            switch (rc) {
                case RC_NEAREST:
                    inc = frac < 0 && (frac != Long.MIN_VALUE || ((sig >>> shift) & 1) != 0);
                    break;
                case RC_DOWN: inc = neg; break;
                case RC_UP: inc = !neg; break;
                default: inc = false; break;
            }
        }
        if (inc) {
            long s = sig + (1L << shift);
            if (Long.compareUnsigned(s, sig) < 0) {
                s = INT_BIT;
                e++;
            }
            sig = s;
        }
        up = inc;
        if (tiny && inexact && !wrapped) flags |= UE;
        if (tiny && wrapped) { // too small even wrapped: the hardware delivers a zero
            inexact = true;
            sig = 0;
            up = false;
        }
        if (e > maxExp) {
            flags |= OE;
            boolean masked = (masks & OE) != 0;
            if (!masked && memory) { // an unmasked overflow suppresses a store: OE alone
                iNeg = neg;
                iExp = maxExp + 1;
                iSig = INT_BIT;
                return;
            }
            if (!masked) e -= WRAP;
            if (masked || e > maxExp) {
                inexact = true;
                if (rc == RC_NEAREST || (rc == RC_UP && !neg) || (rc == RC_DOWN && neg)) {
                    e = maxExp + 1;
                    sig = INT_BIT;
                    up = true;
                } else {
                    e = maxExp;
                    sig = -1L << shift;
                    up = false;
                }
            }
        }
        if (inexact) flags |= PE;
        iNeg = neg;
        iExp = e;
        iSig = sig;
    }

    /** Packs roundPack's result as an extended value into rse/rsig. */
    void packExt() {
        int s = iNeg ? 0x8000 : 0;
        if (iSig == 0) {
            rse = s;
            rsig = 0;
            return;
        }
        rse = s | (iSig < 0 ? iExp & 0x7FFF : 0);
        rsig = iSig;
    }

    /** Packs roundPack's result (made with the double format's range and 53 bits) as a double. */
    long packDouble() {
        long s = iNeg ? Long.MIN_VALUE : 0;
        if (iSig == 0) return s;
        int de = iExp - BIAS + 1023;
        if (de >= 2047) return s | 0x7FF0000000000000L;
        if (iSig > 0) return s | (iSig >>> 11); // denormal
        return s | ((long) (de & 0x7FF) << 52) | ((iSig >>> 11) & 0xFFFFFFFFFFFFFL);
    }

    /** Packs roundPack's result (made with the single format's range and 24 bits) as a float. */
    int packSingle() {
        int s = iNeg ? 0x80000000 : 0;
        if (iSig == 0) return s;
        int fe = iExp - BIAS + 127;
        if (fe >= 255) return s | 0x7F800000;
        if (iSig > 0) return s | (int) (iSig >>> 40);
        return s | ((fe & 0xFF) << 23) | ((int) (iSig >>> 40) & 0x7FFFFF);
    }

    /** Rounds a finite nonzero extended value to the current precision (0 + x). */
    void roundExt(int se, long sig, int precBits) {
        roundPack(neg(se), normExp(se, sig), normSig(se, sig), 0, precBits, EXT_MIN, EXT_MAX);
        packExt();
    }

    // --- the basic operations ----------------------------------------------------------------

    /** a + b, or a - b when {@code sub}. */
    void add(int ase, long asig, int bse, long bsig, boolean sub) {
        int ca = classify(ase, asig), cb = classify(bse, bsig);
        if (ca == UNSUPPORTED || cb == UNSUPPORTED) { invalid(); return; }
        if (isNaN(ca) || isNaN(cb)) { propagateNaN(ase, asig, ca, bse, bsig, cb); return; }
        boolean na = neg(ase), nb = neg(bse) ^ sub;
        if (ca == INF || cb == INF) {
            if (ca == INF && cb == INF) {
                if (na != nb) invalid(); else setInf(na);
                return;
            }
            if (denormal(ca, cb)) return;
            setInf(ca == INF ? na : nb);
            return;
        }
        if (denormal(ca, cb)) return;
        if (ca == ZERO && cb == ZERO) { setZero(na == nb ? na : rc == RC_DOWN); return; }
        if (ca == ZERO) { roundPack(nb, normExp(bse, bsig), normSig(bse, bsig), 0, prec, EXT_MIN, EXT_MAX); packExt(); return; }
        if (cb == ZERO) { roundPack(na, normExp(ase, asig), normSig(ase, asig), 0, prec, EXT_MIN, EXT_MAX); packExt(); return; }
        int ea = normExp(ase, asig), eb = normExp(bse, bsig);
        long ma = normSig(ase, asig), mb = normSig(bse, bsig);
        if (ea < eb || (ea == eb && Long.compareUnsigned(ma, mb) < 0)) {
            int t = ea; ea = eb; eb = t;
            long tm = ma; ma = mb; mb = tm;
            boolean tn = na; na = nb; nb = tn;
        }
        int d = ea - eb;
        long bh, bl;
        if (d == 0) { bh = mb; bl = 0; }
        else if (d < 64) { bh = mb >>> d; bl = mb << (64 - d); }
        else if (d == 64) { bh = 0; bl = mb; }
        else if (d < 128) { bh = 0; bl = (mb >>> (d - 64)) | ((mb << (128 - d)) != 0 ? 1 : 0); }
        else { bh = 0; bl = 1; }
        int e = ea;
        long hi, lo;
        if (na == nb) {
            lo = bl;
            hi = ma + bh;
            if (Long.compareUnsigned(hi, ma) < 0) {
                lo = (hi << 63) | (lo >>> 1) | (lo & 1);
                hi = (hi >>> 1) | INT_BIT;
                e++;
            }
        } else {
            lo = -bl;
            hi = ma - bh - (bl != 0 ? 1 : 0);
            if (hi == 0 && lo == 0) { setZero(rc == RC_DOWN); return; }
            if (hi == 0) { hi = lo; lo = 0; e -= 64; }
            int n = Long.numberOfLeadingZeros(hi);
            if (n > 0) {
                hi = (hi << n) | (lo >>> (64 - n));
                lo <<= n;
                e -= n;
            }
        }
        roundPack(na, e, hi, lo, prec, EXT_MIN, EXT_MAX);
        packExt();
    }

    void mul(int ase, long asig, int bse, long bsig) {
        int ca = classify(ase, asig), cb = classify(bse, bsig);
        if (ca == UNSUPPORTED || cb == UNSUPPORTED) { invalid(); return; }
        if (isNaN(ca) || isNaN(cb)) { propagateNaN(ase, asig, ca, bse, bsig, cb); return; }
        boolean n = neg(ase) ^ neg(bse);
        if (ca == INF || cb == INF) {
            if (ca == ZERO || cb == ZERO) { invalid(); return; }
            if (denormal(ca, cb)) return;
            setInf(n);
            return;
        }
        if (denormal(ca, cb)) return;
        if (ca == ZERO || cb == ZERO) { setZero(n); return; }
        long ma = normSig(ase, asig), mb = normSig(bse, bsig);
        int e = normExp(ase, asig) + normExp(bse, bsig) - BIAS + 1;
        long lo = ma * mb;
        long hi = umulh(ma, mb);
        if (hi >= 0) {
            hi = (hi << 1) | (lo >>> 63);
            lo <<= 1;
            e--;
        }
        roundPack(n, e, hi, lo, prec, EXT_MIN, EXT_MAX);
        packExt();
    }

    void div(int ase, long asig, int bse, long bsig) {
        int ca = classify(ase, asig), cb = classify(bse, bsig);
        if (ca == UNSUPPORTED || cb == UNSUPPORTED) { invalid(); return; }
        if (isNaN(ca) || isNaN(cb)) { propagateNaN(ase, asig, ca, bse, bsig, cb); return; }
        boolean n = neg(ase) ^ neg(bse);
        if (ca == INF) {
            if (cb == INF) { invalid(); return; }
            if (denormal(ca, cb)) return;
            setInf(n);
            return;
        }
        if (cb == INF) {
            if (denormal(ca, cb)) return;
            setZero(n);
            return;
        }
        if (cb == ZERO) {
            if (ca == ZERO) { invalid(); return; }
            flags |= ZE; // no DE for a denormal dividend here (as the hardware)
            setInf(n);
            return;
        }
        if (denormal(ca, cb)) return;
        if (ca == ZERO) { setZero(n); return; }
        long ma = normSig(ase, asig), mb = normSig(bse, bsig);
        int e = normExp(ase, asig) - normExp(bse, bsig) + BIAS;
        long q = divlu(ma >>> 1, ma << 63, mb);
        long q2 = divlu(remainder, 0, mb);
        long sticky = remainder != 0 ? 1 : 0;
        long sig, extra;
        if (q < 0) {
            sig = q;
            extra = q2 | sticky;
        } else {
            sig = (q << 1) | (q2 >>> 63);
            extra = (q2 << 1) | sticky;
            e--;
        }
        roundPack(n, e, sig, extra, prec, EXT_MIN, EXT_MAX);
        packExt();
    }

    /** The remainder of the last {@link #divlu}. */
    long remainder;

    /**
     * Divides the unsigned 128-bit {@code u1:u0} by {@code v}, which must have its top bit set and
     * exceed {@code u1}; returns the quotient and leaves the remainder in {@link #remainder}. (Knuth's
     * algorithm D on 32-bit digits, as in Hacker's Delight's divlu.)
     */
    long divlu(long u1, long u0, long v) {
        final long b = 1L << 32;
        long vn1 = v >>> 32, vn0 = v & 0xFFFFFFFFL;
        long un1 = u0 >>> 32, un0 = u0 & 0xFFFFFFFFL;
        long q1 = Long.divideUnsigned(u1, vn1);
        long rhat = u1 - q1 * vn1;
        while (Long.compareUnsigned(q1, b) >= 0 || Long.compareUnsigned(q1 * vn0, b * rhat + un1) > 0) {
            q1--;
            rhat += vn1;
            if (Long.compareUnsigned(rhat, b) >= 0) break;
        }
        long un21 = u1 * b + un1 - q1 * v;
        long q0 = Long.divideUnsigned(un21, vn1);
        rhat = un21 - q0 * vn1;
        while (Long.compareUnsigned(q0, b) >= 0 || Long.compareUnsigned(q0 * vn0, b * rhat + un0) > 0) {
            q0--;
            rhat += vn1;
            if (Long.compareUnsigned(rhat, b) >= 0) break;
        }
        remainder = un21 * b + un0 - q0 * v;
        return q1 * b + q0;
    }

    static BigInteger ubig(long v) {
        BigInteger b = BigInteger.valueOf(v & Long.MAX_VALUE);
        return v < 0 ? b.setBit(63) : b;
    }

    void sqrt(int se, long sig) {
        int c = classify(se, sig);
        if (c == UNSUPPORTED) { invalid(); return; }
        if (isNaN(c)) { propagateNaN(se, sig, c); return; }
        if (c == ZERO) { set(se, sig); return; }
        if (neg(se)) { invalid(); return; }
        if (c == INF) { set(se, sig); return; }
        if (denormal(c, ZERO)) return;
        int t = normExp(se, sig) - BIAS - 63;
        long m = normSig(se, sig);
        // sqrt(m * 2^t) = sqrt(N) * 2^((t - k) / 2) with N = m << k, k = 63 or 64 making t - k even.
        int k = ((t - 64) & 1) == 0 ? 64 : 63;
        long nHi = k == 64 ? m : m >>> 1, nLo = k == 64 ? 0 : m << 63;
        long r = isqrt(nHi, nLo);
        // The exact root is never halfway between integers: it is above r + 1/2 iff N - r^2 > r.
        long extra = remainder == 0 && remainderHi == 0 ? 0
                : remainderHi != 0 || Long.compareUnsigned(remainder, r) > 0 ? INT_BIT | 1 : 1;
        roundPack(false, (t - k) / 2 + BIAS + 63, r, extra, prec, EXT_MIN, EXT_MAX);
        packExt();
    }

    /** The high word (0 or 1) of the remainder of the last {@link #isqrt}; the low word is in {@link #remainder}. */
    long remainderHi;

    /**
     * floor(sqrt(hi:lo)) for an unsigned 128-bit value with {@code hi >= 2^62}, so that the root has
     * its top bit set; leaves the remainder (at most 65 bits) in remainderHi:remainder. A double
     * estimate, one Newton step through {@link #divlu}, then an exact correction.
     */
    long isqrt(long hi, long lo) {
        long r;
        if (hi == -1L) {
            r = -1L;
        } else {
            double est = Math.sqrt((double) (hi >>> 1) * 2.0) * 4294967296.0;
            long r0 = est >= 0x1p63 ? (est >= 0x1p64 ? -1L : ((long) (est / 2)) << 1) : (long) est;
            if (r0 >= 0) r0 = INT_BIT;
            if (Long.compareUnsigned(r0, hi) <= 0) r0 = hi + 1;
            long q = divlu(hi, lo, r0);
            r = (r0 >>> 1) + (q >>> 1) + (r0 & q & 1);
            if (r >= 0) r = INT_BIT;
        }
        // r^2 <= N < (r + 1)^2
        while (true) {
            long sh = umulh(r, r), sl = r * r;
            int c = Long.compareUnsigned(sh, hi);
            if (c > 0 || (c == 0 && Long.compareUnsigned(sl, lo) > 0)) r--;
            else break;
        }
        while (r != -1L) {
            long r1 = r + 1;
            long sh = umulh(r1, r1), sl = r1 * r1;
            int c = Long.compareUnsigned(sh, hi);
            if (c < 0 || (c == 0 && Long.compareUnsigned(sl, lo) <= 0)) r = r1;
            else break;
        }
        long sh = umulh(r, r), sl = r * r;
        remainder = lo - sl;
        remainderHi = hi - sh - (Long.compareUnsigned(lo, sl) < 0 ? 1 : 0);
        return r;
    }

    // --- comparisons ---------------------------------------------------------------------------

    static final int CMP_GT = 0, CMP_LT = 1, CMP_EQ = 2, CMP_UN = 3;

    /** Compares a with b; {@code quiet}: only SNaNs (and unsupported formats) raise IE. */
    int compare(int ase, long asig, int bse, long bsig, boolean quiet) {
        int ca = classify(ase, asig), cb = classify(bse, bsig);
        if (ca == UNSUPPORTED || cb == UNSUPPORTED) { flags |= IE; return CMP_UN; }
        if (isNaN(ca) || isNaN(cb)) {
            if (!quiet || ca == SNAN || cb == SNAN) flags |= IE;
            return CMP_UN;
        }
        if (ca == DENORMAL || cb == DENORMAL) flags |= DE; // even unmasked, the comparison is made
        if (ca == ZERO && cb == ZERO) return CMP_EQ;
        boolean na = neg(ase), nb = neg(bse);
        if (na != nb) return na ? CMP_LT : CMP_GT;
        int m = compareMagnitude(ase, asig, ca, bse, bsig, cb);
        if (m == 0) return CMP_EQ;
        return (m > 0) != na ? CMP_GT : CMP_LT;
    }

    private static int compareMagnitude(int ase, long asig, int ca, int bse, long bsig, int cb) {
        if (ca == INF || cb == INF) return ca == cb ? 0 : ca == INF ? 1 : -1;
        if (ca == ZERO || cb == ZERO) return ca == cb ? 0 : ca == ZERO ? -1 : 1;
        int ea = normExp(ase, asig), eb = normExp(bse, bsig);
        if (ea != eb) return ea > eb ? 1 : -1;
        return Long.compareUnsigned(normSig(ase, asig), normSig(bse, bsig));
    }

    // --- integers -----------------------------------------------------------------------------

    /**
     * Rounds a finite value to an integer under the rounding control: the magnitude goes to
     * {@link #intMag} ({@link #intBig} if it does not fit in 64 bits), inexactness to
     * {@link #intInexact} and the round-up indication to {@link #up}. Raises no flags.
     */
    void roundToInt(int se, long sig) {
        boolean neg = neg(se);
        intBig = false;
        intInexact = false;
        up = false;
        intMag = 0;
        if ((se & 0x7FFF) == 0 && sig == 0) return;
        int e = normExp(se, sig);
        long m = normSig(se, sig);
        int fb = BIAS + 63 - e;
        long ip, frac;
        if (fb < 0) { intBig = true; return; }
        if (fb == 0) { ip = m; frac = 0; }
        else if (fb < 64) { ip = m >>> fb; frac = m << (64 - fb); }
        else if (fb == 64) { ip = 0; frac = m; }
        else { ip = 0; frac = 1; }
        boolean inc = false;
        if (frac != 0) {
            intInexact = true;
            switch (rc) {
                case RC_NEAREST: inc = frac < 0 && (frac != Long.MIN_VALUE || (ip & 1) != 0); break;
                case RC_DOWN: inc = neg; break;
                case RC_UP: inc = !neg; break;
                default: break;
            }
        }
        if (inc) {
            ip++;
            if (ip == 0) intBig = true;
        }
        up = inc;
        intMag = ip;
    }

    /** FRNDINT on a finite value. */
    void roundInt(int se, long sig) {
        int c = classify(se, sig);
        if (c == ZERO || normExp(se, sig) >= BIAS + 63) { set(se, sig); return; }
        roundToInt(se, sig);
        if (intInexact) flags |= PE;
        setInteger(neg(se), intMag);
    }

    /** The exact extended value of the integer {@code (-1)^neg * mag} (mag unsigned). */
    void setInteger(boolean neg, long mag) {
        if (mag == 0) { setZero(neg); return; }
        int n = Long.numberOfLeadingZeros(mag);
        rse = (neg ? 0x8000 : 0) | (BIAS + 63 - n);
        rsig = mag << n;
    }

    void fromLong(long v) {
        setInteger(v < 0, v < 0 ? -v : v);
    }

    // --- memory formats ------------------------------------------------------------------------

    /** Converts a single; notes a denormal in {@link #loadDenormal}. An SNaN stays signaling (see {@link #quietLoad}). */
    void fromSingle(int bits) {
        loadDenormal = false;
        int s = bits < 0 ? 0x8000 : 0;
        int e = (bits >>> 23) & 0xFF;
        long f = bits & 0x7FFFFFL;
        if (e == 0xFF) {
            rse = s | 0x7FFF;
            rsig = INT_BIT | (f << 40);
        } else if (e == 0) {
            if (f == 0) { setZero(s != 0); return; }
            loadDenormal = true;
            long m = f << 40;
            int n = Long.numberOfLeadingZeros(m);
            rse = s | (BIAS - 126 - n);
            rsig = m << n;
        } else {
            rse = s | (e - 127 + BIAS);
            rsig = INT_BIT | (f << 40);
        }
    }

    /** Converts a double; notes a denormal in {@link #loadDenormal}. An SNaN stays signaling. */
    void fromDouble(long bits) {
        loadDenormal = false;
        int s = bits < 0 ? 0x8000 : 0;
        int e = (int) (bits >>> 52) & 0x7FF;
        long f = bits & 0xFFFFFFFFFFFFFL;
        if (e == 0x7FF) {
            rse = s | 0x7FFF;
            rsig = INT_BIT | (f << 11);
        } else if (e == 0) {
            if (f == 0) { setZero(s != 0); return; }
            loadDenormal = true;
            long m = f << 11;
            int n = Long.numberOfLeadingZeros(m);
            rse = s | (BIAS - 1022 - n);
            rsig = m << n;
        } else {
            rse = s | (e - 1023 + BIAS);
            rsig = INT_BIT | (f << 11);
        }
    }

    /** For FLD m32/m64: an SNaN raises IE and becomes quiet. */
    void quietLoad() {
        if (classify(rse, rsig) == SNAN) {
            flags |= IE;
            rsig |= QUIET_BIT;
        }
    }

    /**
     * Converts the extended value to a double for FST m64 (rounded under RC, overflow and underflow
     * as the hardware). Unsupported formats raise IE and give the indefinite.
     */
    long toDouble(int se, long sig) {
        int c = classify(se, sig);
        long s = neg(se) ? Long.MIN_VALUE : 0;
        switch (c) {
            case ZERO: return s;
            case INF: return s | 0x7FF0000000000000L;
            case UNSUPPORTED: flags |= IE; return 0xFFF8000000000000L;
            case QNAN: case SNAN:
                if (c == SNAN) flags |= IE;
                return s | 0x7FF8000000000000L | ((sig << 1) >>> 12);
            default:
                roundPack(neg(se), normExp(se, sig), normSig(se, sig), 0, 53, DBL_MIN, DBL_MAX);
                return packDouble();
        }
    }

    /** Converts the extended value to a single for FST m32. */
    int toSingle(int se, long sig) {
        int c = classify(se, sig);
        int s = neg(se) ? 0x80000000 : 0;
        switch (c) {
            case ZERO: return s;
            case INF: return s | 0x7F800000;
            case UNSUPPORTED: flags |= IE; return 0xFFC00000;
            case QNAN: case SNAN:
                if (c == SNAN) flags |= IE;
                return s | 0x7FC00000 | (int) ((sig << 1) >>> 41);
            default:
                roundPack(neg(se), normExp(se, sig), normSig(se, sig), 0, 24, SGL_MIN, SGL_MAX);
                return packSingle();
        }
    }

    /** The nearest double to a finite extended value (for the transcendental functions). */
    static double approx(int se, long sig) {
        if ((se & 0x7FFF) == 0 && sig == 0) return neg(se) ? -0.0 : 0.0;
        long m = normSig(se, sig);
        double d = (double) ((m >>> 1) | (m & 1)) * 2.0; // round to nearest, even past the sign bit
        d = Math.scalb(d, normExp(se, sig) - BIAS - 63);
        return neg(se) ? -d : d;
    }

    /** Sets rse/rsig to the exact extended value of a double. */
    void setDouble(double d) {
        fromDouble(Double.doubleToRawLongBits(d));
    }

    /** Moves the (finite, nonzero) result one unit in the last place up or down in magnitude. */
    void nextToward(boolean larger) {
        int s = rse & 0x8000, e = rse & 0x7FFF;
        long m = rsig;
        if (larger) {
            m++;
            if (m == 0) { m = INT_BIT; e++; }               // carry out of the significand
            else if (e == 0 && m == INT_BIT) e = 1;         // the largest denormal becomes normal
        } else {
            if (e > 1 && m == INT_BIT) { m = -1L; e--; }    // down across a power of two
            else if (e == 1 && m == INT_BIT) { m = INT_BIT - 1; e = 0; }
            else m--;
        }
        rse = s | e;
        rsig = m;
    }

    /** A finite value as the hardware repacks an operand it returns unchanged (pseudo-denormals normalized). */
    void repack(int se, long sig) {
        if (classify(se, sig) == ZERO) { set(se, sig); return; }
        roundPack(neg(se), normExp(se, sig), normSig(se, sig), 0, 64, EXT_MIN, EXT_MAX);
        packExt();
    }

    // --- other operations -----------------------------------------------------------------------

    /** FSCALE: a * 2^trunc(b). */
    void scale(int ase, long asig, int bse, long bsig) {
        int ca = classify(ase, asig), cb = classify(bse, bsig);
        if (ca == UNSUPPORTED || cb == UNSUPPORTED) { invalid(); return; }
        if (isNaN(ca) || isNaN(cb)) { propagateNaN(ase, asig, ca, bse, bsig, cb); return; }
        boolean na = neg(ase);
        if (cb == INF) {
            if (neg(bse)) {
                if (ca == INF) { invalid(); return; }
                if (denormal(ca, ZERO)) return;
                setZero(na);
            } else {
                if (ca == ZERO) { invalid(); return; }
                if (denormal(ca, ZERO)) return;
                setInf(na);
            }
            return;
        }
        if (denormal(ca, cb)) return;
        if (ca == INF || ca == ZERO) { set(ase, asig); return; }
        long n = 0;
        if (cb != ZERO) {
            int eb = normExp(bse, bsig);
            int fb = BIAS + 63 - eb;
            if (eb - BIAS >= 20) n = 1 << 20;
            else if (fb < 64) n = normSig(bse, bsig) >>> fb;
            if (neg(bse)) n = -n;
        }
        roundPack(na, normExp(ase, asig) + (int) n, normSig(ase, asig), 0, 64, EXT_MIN, EXT_MAX);
        packExt();
    }

    /** FPREM/FPREM1's quotient bits (low three) and whether the reduction was only partial. */
    int remQuotient;
    boolean remPartial;

    /** FPREM ({@code ieee} false: truncating quotient) or FPREM1 (quotient rounded to nearest). */
    void rem(int ase, long asig, int bse, long bsig, boolean ieee) {
        remQuotient = 0;
        remPartial = false;
        int ca = classify(ase, asig), cb = classify(bse, bsig);
        if (ca == UNSUPPORTED || cb == UNSUPPORTED) { invalid(); return; }
        if (isNaN(ca) || isNaN(cb)) { propagateNaN(ase, asig, ca, bse, bsig, cb); return; }
        if (ca == INF || cb == ZERO) { invalid(); return; }
        if (denormal(ca, cb)) return;
        if (ca == ZERO || cb == INF) { repack(ase, asig); return; }
        int ea = normExp(ase, asig), eb = normExp(bse, bsig);
        long ma = normSig(ase, asig), mb = normSig(bse, bsig);
        int d = ea - eb;
        if (d < (ieee ? -1 : 0)) { repack(ase, asig); return; }
        BigInteger a, b;
        int base;
        if (d >= 64) {
            int n = (d & 31) | 32;
            remPartial = true;
            a = ubig(ma).shiftLeft(n);
            b = ubig(mb);
            base = ea - n;
        } else if (d >= 0) {
            a = ubig(ma).shiftLeft(d);
            b = ubig(mb);
            base = eb;
        } else {
            a = ubig(ma);
            b = ubig(mb).shiftLeft(1);
            base = ea;
        }
        BigInteger[] qr = a.divideAndRemainder(b);
        BigInteger q = qr[0], r = qr[1];
        boolean n = neg(ase);
        if (ieee && !remPartial) {
            int c = r.shiftLeft(1).compareTo(b);
            if (c > 0 || (c == 0 && q.testBit(0))) {
                q = q.add(BigInteger.ONE);
                r = b.subtract(r);
                n = !n;
            }
        }
        remQuotient = q.intValue() & 7;
        long rl = r.longValue();
        if (rl == 0) { setZero(neg(ase)); return; }
        int z = Long.numberOfLeadingZeros(rl);
        roundPack(n, base - z, rl << z, 0, 64, EXT_MIN, EXT_MAX);
        packExt();
    }
}
