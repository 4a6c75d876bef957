package io.mucheckpoint.recovery;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * An error detector that reads the guest's console: a line that contains one of its patterns
 * means the guest itself noticed that something broke. Bytes are matched as they are printed, so
 * the detection falls at the instruction that printed the pattern's last byte; a line fires once.
 */
public final class ConsolePatternDetector {
    /** What a Linux kernel prints when it catches an error in itself. */
    public static final List<String> LINUX = List.of("Kernel panic", "Oops:", "BUG:", "general protection fault");

    private final List<byte[]> patterns = new ArrayList<>();
    private final byte[] tail;
    private int length;
    private boolean firedThisLine;

    public ConsolePatternDetector(List<String> patterns) {
        if (patterns.isEmpty()) throw new IllegalArgumentException("a console detector needs at least one pattern");
        int longest = 0;
        for (String p : patterns) {
            if (p.isEmpty() || p.indexOf('\n') >= 0) throw new IllegalArgumentException("a console pattern is a non-empty part of one line");
            byte[] b = p.getBytes(StandardCharsets.UTF_8);
            this.patterns.add(b);
            longest = Math.max(longest, b.length);
        }
        tail = new byte[longest];
    }

    /**
     * The patterns a --console-detect value names: {@code linux} for {@link #LINUX}, otherwise a
     * comma-separated list of texts (and {@code linux} among them adds the Linux ones).
     */
    public static ConsolePatternDetector parse(String spec) {
        List<String> out = new ArrayList<>();
        for (String p : spec.split(",")) {
            if (p.toLowerCase(Locale.ROOT).equals("linux")) out.addAll(LINUX);
            else if (!p.isEmpty()) out.add(p);
        }
        return new ConsolePatternDetector(out);
    }

    public List<String> patterns() {
        return patterns.stream().map(b -> new String(b, StandardCharsets.UTF_8)).toList();
    }

    /** One byte the guest printed; returns the pattern it completed (the first time on its line), or null. */
    public String accept(int b) {
        if (b == '\n') {
            length = 0;
            firedThisLine = false;
            return null;
        }
        if (length == tail.length) {
            System.arraycopy(tail, 1, tail, 0, tail.length - 1);
            length--;
        }
        tail[length++] = (byte) b;
        if (firedThisLine) return null;
        for (byte[] p : patterns) {
            if (p.length <= length && java.util.Arrays.equals(tail, length - p.length, length, p, 0, p.length)) {
                firedThisLine = true;
                return new String(p, StandardCharsets.UTF_8);
            }
        }
        return null;
    }

    /** A detector in this one's state (the line so far), to ask what bytes to come would do without changing this one. */
    public ConsolePatternDetector copy() {
        return new ConsolePatternDetector(this);
    }

    private ConsolePatternDetector(ConsolePatternDetector o) {
        patterns.addAll(o.patterns); // never changed after construction: shared
        tail = o.tail.clone();
        length = o.length;
        firedThisLine = o.firedThisLine;
    }

    /** Forgets the line in progress (the guest was put back to a point before it). */
    public void reset() {
        length = 0;
        firedThisLine = false;
    }
}
