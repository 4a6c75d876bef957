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

    /** An interval of guest time ({@code 50ms}) or of guest instructions ({@code 5000000i}, {@code 5Mi}). */
    public static Interval interval(String text) {
        String t = text.trim();
        Matcher m = NUMBER_SUFFIX.matcher(t);
        if (m.matches() && m.group(3).equals("i")) {
            long n = scale(m.group(1), decimal(m.group(2)), "interval", text);
            if (n == 0) throw new IllegalArgumentException("'" + text + "' is zero");
            return new Interval(n, true);
        }
        Matcher d = Pattern.compile("(\\d+)(ns|us|µs|ms|s)").matcher(t);
        if (!d.matches()) throw bad("duration", text, "like 50ms, 1s or 5000000i (instructions)");
        if (Long.parseLong(d.group(1)) == 0) throw new IllegalArgumentException("'" + text + "' is zero");
        long unit = switch (d.group(2)) {
            case "ns" -> 1;
            case "us", "µs" -> 1_000;
            case "ms" -> 1_000_000;
            default -> 1_000_000_000;
        };
        return new Interval(scale(d.group(1), unit, "duration", text), false);
    }

    /** Guest time in nanoseconds, zero allowed ({@code 0}, {@code 200ms}): the latency bound. */
    public static long guestNanos(String text) {
        if (text.trim().equals("0")) return 0;
        Matcher d = Pattern.compile("(\\d+)(ns|us|µs|ms|s)").matcher(text.trim());
        if (!d.matches()) throw bad("duration", text, "like 200ms or 0");
        long unit = switch (d.group(2)) {
            case "ns" -> 1;
            case "us", "µs" -> 1_000;
            case "ms" -> 1_000_000;
            default -> 1_000_000_000;
        };
        return scale(d.group(1), unit, "duration", text);
    }

    /** A point in guest time with an optional fraction, in nanoseconds: {@code 150ms}, {@code 1.5s}, {@code 0}. */
    public static long guestTime(String text) {
        String t = text.trim();
        if (t.equals("0")) return 0;
        Matcher d = Pattern.compile("(\\d+)(?:\\.(\\d{1,9}))?(ns|us|µs|ms|s)").matcher(t);
        if (!d.matches()) throw bad("guest time", text, "like 150ms, 1.5s or 0");
        long unit = switch (d.group(3)) {
            case "ns" -> 1;
            case "us", "µs" -> 1_000;
            case "ms" -> 1_000_000;
            default -> 1_000_000_000;
        };
        long whole = scale(d.group(1), unit, "guest time", text);
        long fraction = 0;
        if (d.group(2) != null) {
            String f = (d.group(2) + "000000000").substring(0, 9);
            fraction = Long.parseLong(f) * unit / 1_000_000_000L;
        }
        return Math.addExact(whole, fraction);
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
