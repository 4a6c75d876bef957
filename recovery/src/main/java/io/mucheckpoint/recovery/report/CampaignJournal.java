package io.mucheckpoint.recovery.report;

import java.io.Closeable;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A campaign's journal (JSON lines): a header object with the campaign's parameters
 * ({@code "journal":1} first), then one {@link ResultJson} line per finished injection, written
 * the moment it ends, in the order they end. Each line goes to the file in one write, so a killed
 * process leaves at most a torn last line, which a reader skips.
 */
public final class CampaignJournal implements Closeable {
    /** The header's first field and its value: what marks a file as a journal of this format. */
    public static final String MARK = "journal";
    public static final long VERSION = 1;

    private final Path file;
    private final OutputStream out;

    private CampaignJournal(Path file, OutputStream out) {
        this.file = file;
        this.out = out;
    }

    /**
     * A journal read back.
     *
     * @param goodLength bytes up to the end of the last whole line
     * @param torn whether a torn last line (no newline: the process was killed writing it) was skipped
     */
    public record Contents(Path file, Map<String, Object> header, List<ResultJson.Entry> entries, long goodLength, boolean torn) {}

    /**
     * Reads {@code file}.
     *
     * @throws IllegalArgumentException naming the file and line if it is not a journal
     */
    @SuppressWarnings("unchecked")
    public static Contents read(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        Map<String, Object> header = null;
        List<ResultJson.Entry> entries = new ArrayList<>();
        int start = 0, line = 0;
        while (start < bytes.length) {
            int end = start;
            while (end < bytes.length && bytes[end] != '\n') end++;
            if (end == bytes.length) break; // torn: the writer was killed in the middle of this line
            line++;
            String text = new String(bytes, start, end - start, StandardCharsets.UTF_8);
            try {
                if (header == null) {
                    Object h = Json.parse(text);
                    if (!(h instanceof Map<?, ?> m) || !Long.valueOf(VERSION).equals(m.get(MARK))) {
                        throw new IllegalArgumentException("not a campaign journal (its first line is no {\"journal\":1,...} header)");
                    }
                    header = (Map<String, Object>) h;
                } else {
                    entries.add(ResultJson.read(text));
                }
            } catch (IllegalArgumentException | IndexOutOfBoundsException e) {
                throw new IllegalArgumentException(file + " line " + line + ": " + e.getMessage());
            }
            start = end + 1;
        }
        if (header == null) throw new IllegalArgumentException(file + ": not a campaign journal (no header line)");
        return new Contents(file, header, entries, start, start < bytes.length);
    }

    /** A new journal at {@code file} (which must not exist) with its header written. */
    public static CampaignJournal create(Path file, Map<String, Object> header) throws IOException {
        CampaignJournal j = new CampaignJournal(file, Files.newOutputStream(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE));
        j.line(Json.write(header));
        return j;
    }

    /** A journal written to {@code file} as it is, a device or a pipe (/dev/null, a FIFO), with its header written. */
    public static CampaignJournal createOn(Path file, Map<String, Object> header) throws IOException {
        CampaignJournal j = new CampaignJournal(file, Files.newOutputStream(file, StandardOpenOption.WRITE));
        j.line(Json.write(header));
        return j;
    }

    /** Appends to the journal {@code c} was read from, after dropping its torn last line if it had one. */
    public static CampaignJournal append(Contents c) throws IOException {
        try (FileChannel ch = FileChannel.open(c.file(), StandardOpenOption.WRITE)) {
            ch.truncate(c.goodLength());
        }
        return new CampaignJournal(c.file(), Files.newOutputStream(c.file(), StandardOpenOption.APPEND, StandardOpenOption.WRITE));
    }

    public Path file() {
        return file;
    }

    /** Appends one result, on the OS's side of the file when this returns (called from the injection threads). */
    public void add(ResultJson.Entry e) throws IOException {
        line(e.json());
    }

    private synchronized void line(String json) throws IOException {
        out.write((json + "\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    @Override
    public synchronized void close() throws IOException {
        out.close();
    }
}
