package io.mucheckpoint.cli;

import io.mucheckpoint.checkpoint.Interval;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The command line's units: sizes ({@code 64M}, {@code 1G}), counts ({@code 100M}) and intervals,
 * which are either guest time ({@code 50ms}, {@code 1s}) or a number of guest instructions
 * ({@code 2000000i}, {@code 5Mi}). Errors say what was expected.
 */
public final class Units {
    private static final Pattern NUMBER_SUFFIX = Pattern.compile("(\\d+)([kKmMgGtT]?)(.*)");

    private Units() {}

    /** Bytes: a number with an optional K, M, G (binary) suffix, optionally followed by B or iB. */
    public static long size(String text) {
        Matcher m = NUMBER_SUFFIX.matcher(text.trim());
        if (!m.matches()) throw bad("size", text, "like 64M or 1G");
        String rest = m.group(3).toLowerCase(Locale.ROOT);
        if (!rest.isEmpty() && !rest.equals("b") && !rest.equals("ib")) throw bad("size", text, "like 64M or 1G");
        long shift = switch (m.group(2).toLowerCase(Locale.ROOT)) {
            case "k" -> 10;
            case "m" -> 20;
            case "g" -> 30;
            case "t" -> 40;
            default -> 0;
        };
        return scale(m.group(1), 1L << shift, "size", text);
    }

    /** A count: a number with an optional k, M, G (decimal) suffix. */
    public static long count(String text) {
        Matcher m = NUMBER_SUFFIX.matcher(text.trim());
        if (!m.matches() || !m.group(3).isEmpty()) throw bad("count", text, "like 100M or 2500000");
        return scale(m.group(1), decimal(m.group(2)), "count", text);
    }

    /**
     * An interval of guest time ({@code 50ms}, {@code 1.5s}) or of guest instructions
     * ({@code 5000000i}, {@code 5Mi}, {@code 2.5Mi}): an epoch length or a run's time limit. Positive.
     */
    public static Interval interval(String text) {
        Duration d = duration(text, true);
        if (d.amount() == 0) throw new IllegalArgumentException("'" + text + "' is zero");
        return new Interval(d.amount(), d.instructions());
    }

    /** Guest time in nanoseconds, zero allowed ({@code 0}, {@code 200ms}, {@code 0.2s}): a latency bound, a watchdog. */
    public static long guestNanos(String text) {
        return duration(text, false).amount();
    }

    /** A point in guest time in nanoseconds ({@code 150ms}, {@code 1.5s}, {@code 0}): where {@code rollback @TIME} goes. */
    public static long guestTime(String text) {
        return guestNanos(text);
    }

    /** A parsed duration: nanoseconds of guest time, or a number of guest instructions. */
    record Duration(long amount, boolean instructions) {}

    private static final Pattern DURATION = Pattern.compile("(\\d+)(?:\\.(\\d+))?([kKmMgGtT]?i|ns|us|µs|ms|s)");

    /**
     * The one duration syntax of the command line and the console: a number, possibly with a
     * fraction, and a unit: ns, us (µs), ms, s for guest time, or i (with an optional k, M, G
     * multiplier) for guest instructions; a bare 0 is zero. Whatever the unit, the amount must come to
     * a whole number of nanoseconds or instructions.
     */
    static Duration duration(String text, boolean instructionsAllowed) {
        String t = text.trim();
        String example = instructionsAllowed ? "like 50ms, 1.5s or 5000000i (instructions)" : "like 200ms, 0.2s or 0";
        if (t.equals("0")) return new Duration(0, false);
        Matcher m = DURATION.matcher(t);
        if (!m.matches()) throw bad("duration", text, example);
        String unit = m.group(3);
        boolean instructions = unit.endsWith("i");
        if (instructions && !instructionsAllowed) {
            throw new IllegalArgumentException("'" + text + "' counts instructions; give guest time here (" + example + ")");
        }
        long scale = instructions ? decimal(unit.substring(0, unit.length() - 1)) : switch (unit) {
            case "ns" -> 1L;
            case "us", "µs" -> 1_000L;
            case "ms" -> 1_000_000L;
            default -> 1_000_000_000L;
        };
        java.math.BigDecimal value = new java.math.BigDecimal(m.group(1) + (m.group(2) != null ? "." + m.group(2) : ""))
                .multiply(java.math.BigDecimal.valueOf(scale));
        try {
            return new Duration(value.stripTrailingZeros().longValueExact(), instructions);
        } catch (ArithmeticException e) {
            if (value.compareTo(java.math.BigDecimal.valueOf(Long.MAX_VALUE)) > 0) {
                throw new IllegalArgumentException("'" + text + "' is too large for a duration");
            }
            throw new IllegalArgumentException("'" + text + "' is not a whole number of " + (instructions ? "instructions" : "nanoseconds"));
        }
    }

    /** A guest duration for people: 0, 250us, 10ms, 1.5s. */
    public static String formatNanos(long nanos) {
        if (nanos == 0) return "0";
        if (nanos % 1_000_000_000L == 0) return nanos / 1_000_000_000L + "s";
        if (nanos % 1_000_000L == 0) return nanos / 1_000_000L + "ms";
        if (nanos % 1_000L == 0) return nanos / 1_000L + "us";
        return nanos + "ns";
    }

    private static long decimal(String suffix) {
        return switch (suffix.toLowerCase(Locale.ROOT)) {
            case "k" -> 1_000L;
            case "m" -> 1_000_000L;
            case "g" -> 1_000_000_000L;
            case "t" -> 1_000_000_000_000L;
            default -> 1;
        };
    }

    private static long scale(String digits, long unit, String what, String text) {
        try {
            return Math.multiplyExact(Long.parseLong(digits), unit);
        } catch (ArithmeticException | NumberFormatException e) {
            throw new IllegalArgumentException("'" + text + "' is too large for a " + what);
        }
    }

    private static IllegalArgumentException bad(String what, String text, String example) {
        return new IllegalArgumentException("'" + text + "' is not a " + what + " (expected something " + example + ")");
    }
}
