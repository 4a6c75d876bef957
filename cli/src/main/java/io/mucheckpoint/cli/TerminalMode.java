package io.mucheckpoint.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import org.jline.terminal.Attributes;
import org.jline.terminal.Terminal;
import org.jline.utils.NonBlockingReader;

/**
 * The terminal as the guest's: raw mode, every key to COM1, with QEMU's escapes. Ctrl-A x quits,
 * Ctrl-A c pauses the guest into the console, Ctrl-A h lists the escapes, Ctrl-A Ctrl-A sends a
 * Ctrl-A. Ctrl-C goes to the guest like any key. The terminal's modes are restored on the way out,
 * whatever the way.
 */
final class TerminalMode {
    /** Why the terminal was given back. */
    enum Result {
        /** The guest stopped (finished, or paused at a breakpoint or instruction count). */
        STOPPED,
        /** Ctrl-A c. */
        CONSOLE,
        /** Ctrl-A x. */
        QUIT
    }

    static final String HELP = "C-a h    print this help\r\n"
            + "C-a x    exit vmm\r\n"
            + "C-a c    pause the guest and switch to the console\r\n"
            + "C-a C-a  send C-a to the guest\r\n";

    private TerminalMode() {}

    /** @param status a progress line to keep under the guest's output, or null */
    static Result run(Terminal terminal, GuestSession session, StatusLine status) throws IOException {
        Attributes saved = terminal.getAttributes();
        Attributes raw = new Attributes(saved);
        raw.setLocalFlag(Attributes.LocalFlag.ICANON, false);
        raw.setLocalFlag(Attributes.LocalFlag.ECHO, false);
        raw.setLocalFlag(Attributes.LocalFlag.IEXTEN, false);
        raw.setLocalFlag(Attributes.LocalFlag.ISIG, false); // Ctrl-C, Ctrl-Z and Ctrl-\ are keys for the guest
        raw.setInputFlag(Attributes.InputFlag.IXON, false);
        raw.setInputFlag(Attributes.InputFlag.ICRNL, false);
        raw.setInputFlag(Attributes.InputFlag.INLCR, false);
        raw.setOutputFlag(Attributes.OutputFlag.OPOST, true);
        raw.setOutputFlag(Attributes.OutputFlag.ONLCR, true);
        raw.setControlChar(Attributes.ControlChar.VMIN, 1);
        raw.setControlChar(Attributes.ControlChar.VTIME, 0);
        terminal.setAttributes(raw);
        GuestOutput.Display display = GuestOutput.stream(terminal.output());
        session.output.setDisplay(status != null ? status.under(display) : display);
        session.onEvent(s -> {});
        if (status != null) status.setVisible(true);
        PrintWriter w = terminal.writer();
        try {
            NonBlockingReader in = terminal.reader();
            boolean escape = false;
            while (true) {
                // A stop gdb made is gdb's business: the keyboard stays the guest's until it ends.
                if (session.quitRequested()) return Result.QUIT;
                GuestSession.State st = session.state();
                if (st == GuestSession.State.FINISHED || (st != GuestSession.State.RUNNING && !session.debuggerAttached())) return Result.STOPPED;
                int c = in.read(50);
                if (c == NonBlockingReader.READ_EXPIRED) continue;
                if (c < 0) {
                    // The terminal is gone: nothing can reach the guest any more; let it finish.
                    session.awaitStop(Long.MAX_VALUE / 2);
                    return Result.STOPPED;
                }
                if (escape) {
                    escape = false;
                    switch (c) {
                        case 'x', 'X' -> {
                            return Result.QUIT;
                        }
                        case 'c', 'C' -> {
                            return Result.CONSOLE;
                        }
                        case 'h', 'H', '?' -> {
                            session.output.flush();
                            if (status != null) status.setVisible(false);
                            w.print(HELP.replace("\r\n", "\n"));
                            w.flush();
                            if (status != null) status.setVisible(true);
                        }
                        case 0x01 -> session.machine.offerInput(0x01);
                        default -> {
                            // unknown escapes are ignored, as QEMU does
                        }
                    }
                    continue;
                }
                if (c == 0x01) {
                    escape = true;
                    continue;
                }
                for (byte b : new String(Character.toChars(c)).getBytes(StandardCharsets.UTF_8)) session.machine.offerInput(b & 0xFF);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Result.QUIT;
        } finally {
            session.output.flush();
            if (status != null) status.setVisible(false);
            terminal.setAttributes(saved);
        }
    }
}
