package io.mucheckpoint.cli;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.function.Supplier;

/**
 * A line of progress at the bottom of a terminal, under the guest's output, redrawn in place twice
 * a second. Guest output wipes it and it comes back after the guest's next complete line; while
 * the guest has a partial line on the screen (a shell's prompt), it stays away. Plain carriage
 * returns and spaces, so any terminal shows it.
 */
final class StatusLine implements AutoCloseable {
    private static final long PERIOD_MILLIS = 500;

    private final OutputStream terminal;
    private final Supplier<String> text;
    private final int width;
    private final Thread ticker;
    private int shownLength = -1; // -1: not on the screen
    private boolean atLineStart = true;
    private boolean visible;
    private volatile boolean closed;

    StatusLine(OutputStream terminal, int width, Supplier<String> text) {
        this.terminal = terminal;
        this.text = text;
        this.width = Math.max(20, width - 1);
        ticker = new Thread(this::tick, "status-line");
        ticker.setDaemon(true);
        ticker.start();
    }

    /** The guest's terminal display with this line kept under it. */
    GuestOutput.Display under(GuestOutput.Display guest) {
        return (b, off, len, partial) -> {
            synchronized (this) {
                erase();
                guest.show(b, off, len, partial);
                if (len > 0) atLineStart = b[off + len - 1] == '\n';
                draw();
            }
        };
    }

    /** Shows the line (the terminal is the guest's) or hides it (the console has the terminal). */
    synchronized void setVisible(boolean on) {
        visible = on;
        if (on) draw();
        else erase();
    }

    private void tick() {
        try {
            while (!closed) {
                Thread.sleep(PERIOD_MILLIS);
                synchronized (this) {
                    if (!closed) draw();
                }
            }
        } catch (InterruptedException e) {
            // closing
        }
    }

    private void draw() {
        if (!visible || !atLineStart || closed) return;
        String t = text.get();
        if (t.length() > width) t = t.substring(0, width);
        int pad = Math.max(0, shownLength - t.length());
        write("\r" + t + " ".repeat(pad) + "\b".repeat(pad));
        shownLength = t.length();
    }

    private void erase() {
        if (shownLength < 0) return;
        write("\r" + " ".repeat(shownLength) + "\r");
        shownLength = -1;
    }

    private void write(String s) {
        try {
            terminal.write(s.getBytes(StandardCharsets.UTF_8));
            terminal.flush();
        } catch (IOException e) {
            // the terminal is gone: nothing to show progress on
        }
    }

    /** Stops redrawing and takes the line off the screen. */
    @Override
    public synchronized void close() {
        closed = true;
        ticker.interrupt();
        erase();
    }
}
