package io.mucheckpoint.cli;

import io.mucheckpoint.vmm.dev.ConsoleSink;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * The guest's console output on its way to the user. Bytes collect here on the guest's thread and
 * reach a {@link Display} at the end of each run slice (whole lines), when a partial line has
 * waited long enough, and when the guest stops. Which bytes are shown at all across rollbacks is
 * decided before they get here, by the recovery module's {@code ReplayConsole}.
 */
final class GuestOutput implements ConsoleSink {
    /** A partial line older than this is shown anyway (a prompt, a progress dot). */
    private static final long PARTIAL_NANOS = 300_000_000L;

    /** Where guest output is shown. */
    interface Display {
        /** Shows {@code text}; {@code partial} when it does not end a line. */
        void show(byte[] b, int off, int len, boolean partial);
    }

    /** Raw bytes to a stream (a terminal in raw mode, or a pipe), flushed each time. */
    static Display stream(OutputStream out) {
        return (b, off, len, partial) -> {
            try {
                out.write(b, off, len);
                out.flush();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        };
    }

    /**
     * Whole lines as strings (above a console's prompt); a partial line is shown as a line of its own.
     * Terminal queries are dropped: the terminal's answer would arrive as typing at the console's
     * prompt, not at the guest (busybox's shell asks for the cursor position at every prompt).
     */
    static Display lines(Consumer<String> printAbove) {
        return (b, off, len, partial) -> {
            int end = off + len;
            if (end > off && b[end - 1] == '\n') end--;
            printAbove.accept(withoutTerminalQueries(new String(b, off, end - off, StandardCharsets.UTF_8)));
        };
    }

    private static final Pattern TERMINAL_QUERY = Pattern.compile("\u001b\\[[0-9;?>]*[nc]|\u001bZ");

    /** Removes device status and attribute requests (ESC[6n, ESC[5n, ESC[c, ESC[>c, ESC Z). */
    static String withoutTerminalQueries(String s) {
        return s.indexOf('\u001b') < 0 ? s : TERMINAL_QUERY.matcher(s).replaceAll("");
    }

    private Display display;
    private byte[] pending = new byte[4096];
    private int pendingLen;
    private int lastNewline = -1;
    private long partialSince;

    GuestOutput(Display display) {
        this.display = display;
    }

    synchronized void setDisplay(Display d) {
        flush();
        display = d;
    }

    @Override
    public synchronized void write(int b) {
        if (pendingLen == pending.length) {
            if (lastNewline >= 0) emitLines();
            else flush();
            if (pendingLen == pending.length) pending = Arrays.copyOf(pending, pending.length * 2);
        }
        if (pendingLen == 0) partialSince = System.nanoTime();
        pending[pendingLen++] = (byte) b;
        if (b == '\n') lastNewline = pendingLen - 1;
    }

    /** Shows the complete lines collected so far, and a partial line if it has waited long enough (end of a run slice). */
    synchronized void tick() {
        if (lastNewline >= 0) emitLines();
        if (pendingLen > 0 && System.nanoTime() - partialSince > PARTIAL_NANOS) flush();
    }

    /** Shows everything collected, a partial line included (the guest stopped). */
    synchronized void flush() {
        if (pendingLen == 0) return;
        boolean partial = pending[pendingLen - 1] != '\n';
        display.show(pending, 0, pendingLen, partial);
        pendingLen = 0;
        lastNewline = -1;
    }

    private void emitLines() {
        int n = lastNewline + 1;
        display.show(pending, 0, n, false);
        System.arraycopy(pending, n, pending, 0, pendingLen - n);
        pendingLen -= n;
        lastNewline = -1;
        partialSince = System.nanoTime();
    }
}
