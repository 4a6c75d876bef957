package io.mucheckpoint.cli;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.jline.terminal.Size;
import org.jline.terminal.Terminal;
import org.jline.terminal.impl.ExternalTerminal;

/**
 * Runs {@code vmm} in-process on a scripted terminal: a jline terminal over pipes, with the line
 * discipline (echo, Ctrl-C) emulated the way a real one works. The test types into it and waits
 * for text to appear on it; standard output and error are captured as well.
 */
final class ScriptedTerminal implements AutoCloseable {
    private final PipedOutputStream keys = new PipedOutputStream();
    private final ByteArrayOutputStream screen = new ByteArrayOutputStream();
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();
    private final CompletableFuture<Integer> status = new CompletableFuture<>();
    private final Terminal terminal;
    private boolean started;
    private PrintStream oldOut;
    private PrintStream oldErr;

    /** @param type the terminal type: dumb (plain text) or xterm (escape sequences, key bindings) */
    ScriptedTerminal(String type) {
        try {
            PipedInputStream in = new PipedInputStream(keys, 1 << 16);
            terminal = new ExternalTerminal("scripted", type, in, screen, StandardCharsets.UTF_8);
            terminal.setSize(new Size(160, 50));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Starts {@code vmm args...} on a thread of its own, with this terminal as the console's and run's terminal. */
    ScriptedTerminal start(String... args) {
        started = true;
        Supplier<Terminal> t = () -> terminal;
        ConsoleCommand.terminalForTests = t;
        RunCommand.terminalForTests = t;
        oldOut = System.out;
        oldErr = System.err;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        Thread th = new Thread(() -> {
            try {
                status.complete(Main.execute(args));
            } catch (Throwable e) {
                status.completeExceptionally(e);
            }
        }, "vmm-under-test");
        th.setDaemon(true);
        th.start();
        return this;
    }

    /** Types {@code text} (a command line: add the newline yourself, or use {@link #line}). */
    ScriptedTerminal type(String text) {
        try {
            keys.write(text.getBytes(StandardCharsets.UTF_8));
            keys.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return this;
    }

    ScriptedTerminal line(String command) {
        return type(command + "\n");
    }

    /** Waits until {@code text} appears on the screen after position {@code from}; returns the position just past it. */
    int await(String text, int from, long millis) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        while (true) {
            String s = screen();
            int i = s.indexOf(text, from);
            if (i >= 0) return i + text.length();
            if (System.nanoTime() > end) throw new AssertionError("'" + text + "' did not appear; the screen:\n" + s);
            Thread.sleep(10);
        }
    }

    int await(String text) throws InterruptedException {
        return await(text, 0, 20_000);
    }

    /** Waits for vmm to end and returns its exit status. */
    int status() throws Exception {
        try {
            return status.get(60, TimeUnit.SECONDS);
        } finally {
            restoreStreams();
        }
    }

    /** Everything written to the terminal, as text (escape sequences left in for xterm). */
    String screen() {
        return screen.toString(StandardCharsets.UTF_8).replace("\r", "");
    }

    String out() {
        return out.toString(StandardCharsets.UTF_8);
    }

    String err() {
        return err.toString(StandardCharsets.UTF_8);
    }

    private synchronized void restoreStreams() {
        if (oldOut != null) {
            System.out.flush();
            System.err.flush();
            System.setOut(oldOut);
            System.setErr(oldErr);
            oldOut = null;
        }
        ConsoleCommand.terminalForTests = null;
        RunCommand.terminalForTests = null;
    }

    @Override
    public void close() throws IOException {
        try {
            keys.close();
        } catch (IOException e) {
            // already closed
        }
        if (started && !status.isDone()) {
            try {
                status.get(20, TimeUnit.SECONDS);
            } catch (Exception e) {
                // reported by the test that left it running
            }
        }
        restoreStreams();
    }

    @Override
    public String toString() {
        return "--- screen\n" + screen() + "\n--- out\n" + out() + "--- err\n" + err();
    }
}
