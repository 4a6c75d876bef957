package io.mucheckpoint.vmm.clock;

import java.util.function.LongSupplier;

/**
 * Guest-visible time (design brief, invariant 1): instructions retired plus the time skipped while
 * the guest halted, in ticks of one instruction each. {@code ticksPerSecond} (the {@code --ips}
 * option) says how long a tick is. Never the host clock.
 */
public final class VirtualClock {
    public static final long DEFAULT_TICKS_PER_SECOND = 100_000_000L;

    private final long ticksPerSecond;
    private final LongSupplier instructions;
    private long skipped;

    public VirtualClock(long ticksPerSecond, LongSupplier instructionsRetired) {
        if (ticksPerSecond <= 0) throw new IllegalArgumentException("ticks per second must be positive");
        this.ticksPerSecond = ticksPerSecond;
        this.instructions = instructionsRetired;
    }

    /** The current guest time in ticks. */
    public long now() {
        return instructions.getAsLong() + skipped;
    }

    public long ticksPerSecond() {
        return ticksPerSecond;
    }

    /** Time passes without instructions (a halted CPU waiting for the next timer). */
    public void skip(long ticks) {
        if (ticks < 0) throw new IllegalArgumentException("time runs forward");
        skipped += ticks;
    }

    /** Ticks spent halted so far: the clock's whole saved state. */
    public long skipped() {
        return skipped;
    }

    public void setSkipped(long skipped) {
        this.skipped = skipped;
    }

    public long nanos() {
        return toNanos(now());
    }

    public long toNanos(long ticks) {
        return scale(ticks, 1_000_000_000L, ticksPerSecond);
    }

    public long fromNanos(long nanos) {
        return scale(nanos, ticksPerSecond, 1_000_000_000L);
    }

    /** Ticks converted to a count of a {@code hz} clock (a PIT at 1.193182 MHz), rounding down. */
    public long toRate(long ticks, long hz) {
        return scale(ticks, hz, ticksPerSecond);
    }

    /** The first tick at or after which a {@code hz} clock has counted {@code count}. */
    public long fromRate(long count, long hz) {
        return ceilScale(count, ticksPerSecond, hz);
    }

    /** value * mul / div without overflow for any value a run can reach. */
    static long scale(long value, long mul, long div) {
        long hi = Math.multiplyHigh(value, mul);
        long lo = value * mul;
        if (hi == 0 && lo >= 0) return lo / div;
        return java.math.BigInteger.valueOf(value).multiply(java.math.BigInteger.valueOf(mul))
                .divide(java.math.BigInteger.valueOf(div)).longValueExact();
    }

    static long ceilScale(long value, long mul, long div) {
        long hi = Math.multiplyHigh(value, mul);
        long lo = value * mul;
        if (hi == 0 && lo >= 0) return (lo + div - 1) / div;
        java.math.BigInteger[] qr = java.math.BigInteger.valueOf(value).multiply(java.math.BigInteger.valueOf(mul))
                .divideAndRemainder(java.math.BigInteger.valueOf(div));
        return qr[0].longValueExact() + (qr[1].signum() != 0 ? 1 : 0);
    }
}
