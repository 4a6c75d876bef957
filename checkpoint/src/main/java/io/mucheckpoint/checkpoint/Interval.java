package io.mucheckpoint.checkpoint;

/**
 * How far apart epoch boundaries are: an amount of guest time in nanoseconds, or a number of
 * guest instructions when {@code instructions} is true.
 */
public record Interval(long amount, boolean instructions) {
    public Interval {
        if (amount <= 0) throw new IllegalArgumentException("an interval must be positive");
    }

    public static Interval millis(long ms) {
        return new Interval(ms * 1_000_000L, false);
    }

    public static Interval instructions(long n) {
        return new Interval(n, true);
    }

    @Override
    public String toString() {
        if (instructions) return amount + "i";
        if (amount % 1_000_000_000L == 0) return amount / 1_000_000_000L + "s";
        if (amount % 1_000_000L == 0) return amount / 1_000_000L + "ms";
        if (amount % 1_000L == 0) return amount / 1_000L + "us";
        return amount + "ns";
    }
}
