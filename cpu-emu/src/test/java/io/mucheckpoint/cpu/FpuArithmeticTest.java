package io.mucheckpoint.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link X87Float} against an independent model: exact rational arithmetic in {@link BigInteger}
 * rounded by a straightforward reference, for every precision control and rounding mode (results in
 * the normal range; the denormal and overflow paths are covered by the hardware oracle).
 */
class FpuArithmeticTest {
    static final int BIAS = X87Float.BIAS;
    final Random rnd = new Random(7);

    long randomSig() {
        switch (rnd.nextInt(4)) {
            case 0: return X87Float.INT_BIT | (rnd.nextLong() & ~((1L << rnd.nextInt(64)) - 1));
            case 1: return X87Float.INT_BIT | ((1L << rnd.nextInt(63)) - 1);
            default: return rnd.nextLong() | X87Float.INT_BIT;
        }
    }

    int randomSe() {
        return (rnd.nextBoolean() ? 0x8000 : 0) | (BIAS + rnd.nextInt(140) - 70);
    }

    /** The expected rounding of (-1)^neg * mag * 2^exp2 (+ a nonzero tail if sticky): {se, sig, inexact}. */
    static long[] reference(boolean neg, BigInteger mag, int exp2, boolean sticky, int prec, int rc) {
        int len = mag.bitLength();
        int shift = len - prec;
        BigInteger q;
        int cmpHalf; // -1 below half, 0 exactly half, 1 above half of the last place
        boolean inexact;
        if (shift > 0) {
            q = mag.shiftRight(shift);
            BigInteger rem = mag.subtract(q.shiftLeft(shift));
            BigInteger half = BigInteger.ONE.shiftLeft(shift - 1);
            int c = rem.compareTo(half);
            cmpHalf = c != 0 ? c : sticky ? 1 : 0;
            inexact = rem.signum() != 0 || sticky;
        } else {
            q = mag.shiftLeft(-shift);
            cmpHalf = sticky ? -1 : -2;
            inexact = sticky;
        }
        boolean up;
        switch (rc) {
            case 0: up = inexact && (cmpHalf > 0 || (cmpHalf == 0 && q.testBit(0))); break;
            case 1: up = inexact && neg; break;
            case 2: up = inexact && !neg; break;
            default: up = false; break;
        }
        int e = exp2 + len - 1; // unbiased exponent of the leading bit
        if (up) {
            q = q.add(BigInteger.ONE);
            if (q.bitLength() > prec) {
                q = q.shiftRight(1);
                e++;
            }
        }
        long sig = q.shiftLeft(64 - prec).longValue();
        return new long[] {(neg ? 0x8000 : 0) | (e + BIAS), sig, inexact ? 1 : 0};
    }

    static BigInteger ubig(long v) {
        return X87Float.ubig(v);
    }

    void check(X87Float x, long[] want, String what) {
        int e = (int) want[0] & 0x7FFF;
        if (e < 1 || e > 0x7FFE) return; // outside the normal range: the oracle covers it
        assertEquals(want[0], x.rse, what + " se");
        assertEquals(want[1], x.rsig, what + " sig");
        assertEquals(want[2] != 0, (x.flags & X87Float.PE) != 0, what + " PE");
    }

    @Test
    void divluMatchesBigInteger() {
        X87Float x = new X87Float();
        for (int n = 0; n < 100_000; n++) {
            long v = rnd.nextLong() | X87Float.INT_BIT;
            if (rnd.nextInt(8) == 0) v = X87Float.INT_BIT | (rnd.nextInt(4));
            long u1 = Long.remainderUnsigned(rnd.nextLong(), v);
            if (rnd.nextInt(8) == 0) u1 = v - 1;
            long u0 = rnd.nextInt(8) == 0 ? -1L : rnd.nextLong();
            BigInteger num = ubig(u1).shiftLeft(64).or(ubig(u0));
            BigInteger[] qr = num.divideAndRemainder(ubig(v));
            long q = x.divlu(u1, u0, v);
            assertEquals(qr[0].longValue(), q, "quotient");
            assertEquals(qr[0].bitLength() <= 64, true);
            assertEquals(qr[1], ubig(x.remainder), "remainder");
        }
    }

    @Test
    void isqrtMatchesBigInteger() {
        X87Float x = new X87Float();
        for (int n = 0; n < 100_000; n++) {
            long hi = (rnd.nextLong() >>> 2) | (1L << 62);
            switch (rnd.nextInt(6)) {
                case 0: hi = -1L; break;
                case 1: hi = 1L << 62; break;
                case 2: hi |= Long.MIN_VALUE; break;
                default: break;
            }
            long lo = rnd.nextInt(4) == 0 ? (rnd.nextBoolean() ? 0 : -1L) : rnd.nextLong();
            if (rnd.nextInt(8) == 0) { // exact squares and their neighbours
                long r = rnd.nextLong() | Long.MIN_VALUE;
                hi = X87Float.umulh(r, r);
                lo = r * r + rnd.nextInt(3) - 1;
            }
            BigInteger v = ubig(hi).shiftLeft(64).or(ubig(lo));
            BigInteger[] rr = v.sqrtAndRemainder();
            long r = x.isqrt(hi, lo);
            assertEquals(rr[0], ubig(r), "root of " + v.toString(16));
            assertEquals(rr[1], ubig(x.remainderHi).shiftLeft(64).or(ubig(x.remainder)), "remainder of " + v.toString(16));
        }
    }

    @Test
    void basicOperationsRoundCorrectly() {
        X87Float x = new X87Float();
        int[] precs = {24, 53, 64};
        int[] pcBits = {0, 2, 3};
        for (int n = 0; n < 40_000; n++) {
            int p = rnd.nextInt(3), rc = rnd.nextInt(4);
            int cw = 0x7F | pcBits[p] << 8 | rc << 10;
            int ase = randomSe(), bse = randomSe();
            long asig = randomSig(), bsig = randomSig();
            if (rnd.nextInt(10) == 0) bse = (bse & 0x8000) | (ase & 0x7FFF) + rnd.nextInt(3) - 1;
            boolean na = (ase & 0x8000) != 0, nb = (bse & 0x8000) != 0;
            int ea = (ase & 0x7FFF) - BIAS - 63, eb = (bse & 0x7FFF) - BIAS - 63;
            BigInteger ma = ubig(asig), mb = ubig(bsig);
            String what = String.format("%04X:%016X %04X:%016X pc%d rc%d", ase, asig, bse, bsig, precs[p], rc);

            // a + b and a - b: exact as integers scaled to the smaller exponent
            for (int sub = 0; sub < 2; sub++) {
                boolean nbs = nb ^ (sub == 1);
                int emin = Math.min(ea, eb);
                BigInteger va = ma.shiftLeft(ea - emin), vb = mb.shiftLeft(eb - emin);
                BigInteger sum = (na ? va.negate() : va).add(nbs ? vb.negate() : vb);
                x.begin(cw);
                x.add(ase, asig, bse, bsig, sub == 1);
                if (sum.signum() == 0) {
                    assertEquals(rc == 1 ? 0x8000 : 0, x.rse, what + " zero sign");
                    continue;
                }
                check(x, reference(sum.signum() < 0, sum.abs(), emin, false, precs[p], rc), what + (sub == 1 ? " sub" : " add"));
            }
            // a * b
            x.begin(cw);
            x.mul(ase, asig, bse, bsig);
            check(x, reference(na ^ nb, ma.multiply(mb), ea + eb, false, precs[p], rc), what + " mul");
            // a / b: 130 quotient bits and a sticky remainder
            x.begin(cw);
            x.div(ase, asig, bse, bsig);
            BigInteger[] qr = ma.shiftLeft(130).divideAndRemainder(mb);
            check(x, reference(na ^ nb, qr[0], ea - eb - 130, qr[1].signum() != 0, precs[p], rc), what + " div");
            // sqrt |a|
            int aseAbs = ase & 0x7FFF;
            int t = aseAbs - BIAS - 63;
            int k = (t & 1) == 0 ? 128 : 129;
            BigInteger nn = ma.shiftLeft(k);
            BigInteger r = nn.sqrt();
            x.begin(cw);
            x.sqrt(aseAbs, asig);
            check(x, reference(false, r, (t - k) / 2, !r.multiply(r).equals(nn), precs[p], rc), what + " sqrt");
        }
    }

    @Test
    void conversionToDoubleMatchesBigDecimal() {
        X87Float x = new X87Float();
        for (int n = 0; n < 20_000; n++) {
            int se = (rnd.nextBoolean() ? 0x8000 : 0) | (BIAS + rnd.nextInt(2200) - 1100);
            long sig = randomSig();
            x.begin(0x037F);
            long bits = x.toDouble(se, sig);
            BigDecimal exact = new BigDecimal(ubig(sig));
            int e = (se & 0x7FFF) - BIAS - 63;
            exact = e >= 0 ? exact.multiply(new BigDecimal(BigInteger.TWO.pow(e)))
                    : exact.divide(new BigDecimal(BigInteger.TWO.pow(-e)));
            double want = exact.doubleValue();
            if ((se & 0x8000) != 0) want = -want;
            assertEquals(Double.doubleToRawLongBits(want), bits, String.format("%04X:%016X", se, sig));
            // and back: a double converts to extended exactly
            x.fromDouble(bits);
            if (!Double.isInfinite(want) && want != 0) {
                x.begin(0x037F);
                assertEquals(bits, x.toDouble(x.rse, x.rsig));
                assertEquals(0, x.flags & X87Float.PE);
            }
        }
    }
}
