package io.mucheckpoint.cli;

import java.util.ArrayList;
import java.util.List;

/** A table of text with aligned columns: numbers to the right, words to the left. */
final class Table {
    private final String[] headers;
    private final boolean[] right;
    private final List<String[]> rows = new ArrayList<>();

    /** @param align one letter per column: {@code r} right-aligned, {@code l} left-aligned */
    Table(String align, String... headers) {
        if (align.length() != headers.length) throw new IllegalArgumentException("one alignment per column");
        this.headers = headers;
        this.right = new boolean[headers.length];
        for (int i = 0; i < headers.length; i++) right[i] = align.charAt(i) == 'r';
    }

    Table row(Object... cells) {
        String[] r = new String[headers.length];
        for (int i = 0; i < r.length; i++) r[i] = i < cells.length && cells[i] != null ? cells[i].toString() : "";
        rows.add(r);
        return this;
    }

    boolean isEmpty() {
        return rows.isEmpty();
    }

    /** The table, two spaces between columns, no trailing blanks, lines separated by newlines (no final newline). */
    String render() {
        int[] w = new int[headers.length];
        for (int i = 0; i < w.length; i++) w[i] = headers[i].length();
        for (String[] r : rows) for (int i = 0; i < w.length; i++) w[i] = Math.max(w[i], r[i].length());
        StringBuilder b = new StringBuilder();
        line(b, headers, w);
        for (String[] r : rows) {
            b.append('\n');
            line(b, r, w);
        }
        return b.toString();
    }

    private void line(StringBuilder b, String[] cells, int[] w) {
        int start = b.length();
        for (int i = 0; i < cells.length; i++) {
            if (i > 0) b.append("  ");
            String c = cells[i];
            int pad = w[i] - c.length();
            if (right[i]) b.append(" ".repeat(pad)).append(c);
            else b.append(c).append(i == cells.length - 1 ? "" : " ".repeat(pad));
        }
        int end = b.length();
        while (end > start && b.charAt(end - 1) == ' ') end--;
        b.setLength(end);
    }
}
