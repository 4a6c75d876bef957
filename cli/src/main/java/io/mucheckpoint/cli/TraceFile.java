package io.mucheckpoint.cli;

import io.mucheckpoint.cpu.TraceWriter;
import java.io.BufferedWriter;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.zip.GZIPOutputStream;

/**
 * The file {@code --trace} writes: plain text, or gzip when its name ends in {@code .gz}. It counts
 * the bytes that reach the disk (for progress and the summary). A write that fails (the disk
 * filled) stops the trace, not the run: the run goes on and the failure is reported at the end.
 */
final class TraceFile implements AutoCloseable {
    private final Path path;
    private final long limit;
    private final boolean gzip;
    private final Counting counting;
    private final Writer writer;
    private final TraceWriter tracer;
    private boolean closed;

    /** Counts bytes on their way to the file; after a write error, drops the rest and remembers the error. */
    private static final class Counting extends FilterOutputStream {
        volatile long bytes;
        volatile IOException failed;

        Counting(OutputStream out) {
            super(out);
        }

        @Override
        public void write(byte[] b, int off, int len) {
            if (failed != null) return;
            try {
                out.write(b, off, len);
                bytes += len;
            } catch (IOException e) {
                failed = e;
            }
        }

        @Override
        public void write(int b) {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void flush() {
            if (failed != null) return;
            try {
                out.flush();
            } catch (IOException e) {
                failed = e;
            }
        }

        @Override
        public void close() {
            flush();
            try {
                out.close();
            } catch (IOException e) {
                if (failed == null) failed = e;
            }
        }
    }

    private TraceFile(Path path, long limit, boolean disassemble) throws IOException {
        this.path = path;
        this.limit = limit;
        this.gzip = path.getFileName().toString().endsWith(".gz");
        counting = new Counting(Files.newOutputStream(path));
        OutputStream text = gzip ? new GZIPOutputStream(counting, 1 << 16) : counting;
        writer = new BufferedWriter(new OutputStreamWriter(text, StandardCharsets.US_ASCII), 1 << 16);
        tracer = new TraceWriter(writer, limit, disassemble);
    }

    static TraceFile open(Path path, long limit, boolean disassemble) {
        try {
            return new TraceFile(path, limit, disassemble);
        } catch (IOException e) {
            throw OutputFiles.writeFailed(path, e);
        }
    }

    TraceWriter tracer() {
        return tracer;
    }

    /** Bytes in the file so far (compressed, for .gz). Any thread. */
    long bytes() {
        return counting.bytes;
    }

    /** A few words for a progress line: the size written so far. Any thread. */
    String progress() {
        return "trace: " + Console.bytes(bytes()) + " written to " + path + (counting.failed != null ? " (stopped: write failed)" : "");
    }

    /** Flushes and closes; returns the error that stopped the trace, or null. */
    IOException close0() {
        if (!closed) {
            closed = true;
            try {
                writer.close();
            } catch (IOException e) {
                if (counting.failed == null) counting.failed = e;
            }
        }
        return counting.failed;
    }

    @Override
    public void close() {
        close0();
    }

    /** The line for standard error at the end: what was written where, and why it stopped. */
    String summary() {
        IOException failed = close0();
        long lines = tracer.lines();
        String what = String.format(Locale.ROOT, "trace: %,d instruction%s in %s%s to %s", lines, lines == 1 ? "" : "s",
                Console.bytes(bytes()), gzip ? " (gzip)" : "", path);
        if (failed != null) {
            return String.format(Locale.ROOT, "vmm: cannot write --trace %s: %s; the trace stops after %s of it", path,
                    OutputFiles.reason(path, failed), Console.bytes(bytes()));
        }
        return "vmm: " + what + (lines >= limit ? String.format(Locale.ROOT, "; stopped at --trace-limit %,d", limit) : "");
    }

    /** Whether a write failed (the run's status then says so). */
    boolean failed() {
        return close0() != null;
    }
}
