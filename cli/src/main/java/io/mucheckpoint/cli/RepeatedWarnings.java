package io.mucheckpoint.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.turbo.TurboFilter;
import ch.qos.logback.core.spi.FilterReply;
import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;
import org.slf4j.LoggerFactory;
import org.slf4j.Marker;
import org.slf4j.helpers.MessageFormatter;

/**
 * Shows each kind of warning once, then counts it: a warning that differs from an earlier one only
 * in its numbers (a checkpoint id, a coverage in ms) is held back, and at the end of the command one
 * line says how many more there were and gives the last of them, which tells the state at the end.
 */
final class RepeatedWarnings extends TurboFilter {
    private static final Pattern NUMBERS = Pattern.compile("\\d+(\\.\\d+)?");

    /** Warnings held back since the first of their kind. */
    private static final class Kind {
        final String first;
        int more;
        String last;

        Kind(String first) {
            this.first = first;
        }
    }

    private final Map<String, Kind> seen = new LinkedHashMap<>();

    /** Replaces any earlier instance on the logging context (one per command run). */
    static RepeatedWarnings install() {
        if (!(LoggerFactory.getILoggerFactory() instanceof LoggerContext context)) return new RepeatedWarnings();
        context.getTurboFilterList().removeIf(f -> f instanceof RepeatedWarnings);
        RepeatedWarnings r = new RepeatedWarnings();
        r.setContext(context);
        r.start();
        context.addTurboFilter(r);
        return r;
    }

    @Override
    public FilterReply decide(Marker marker, Logger logger, Level level, String format, Object[] params, Throwable t) {
        if (level == null || !level.isGreaterOrEqual(Level.WARN) || format == null || !logger.isEnabledFor(level)) {
            return FilterReply.NEUTRAL;
        }
        String text = params == null || params.length == 0 ? format : MessageFormatter.arrayFormat(format, params).getMessage();
        String key = logger.getName() + "|" + NUMBERS.matcher(text).replaceAll("#");
        synchronized (seen) {
            Kind k = seen.get(key);
            if (k == null) {
                seen.put(key, new Kind(text));
                return FilterReply.NEUTRAL;
            }
            k.more++;
            k.last = text;
            return FilterReply.DENY;
        }
    }

    /** One line per kind of warning that was held back: how many, and the last one when it differs from the first. */
    void report(PrintStream err) {
        synchronized (seen) {
            for (Kind k : seen.values()) {
                if (k.more == 0) continue;
                if (k.last.equals(k.first)) {
                    err.println("vmm: " + (k.more == 1 ? "once more: " : k.more + " more times: ") + k.first);
                } else {
                    err.println("vmm: " + k.more + " more like '" + shorten(k.first) + "'; the last: " + k.last);
                }
            }
            seen.clear();
        }
    }

    private static String shorten(String s) {
        return s.length() <= 60 ? s : s.substring(0, 57) + "...";
    }
}
