package io.mucheckpoint.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.nio.file.Paths;
import org.jline.terminal.Terminal;
import org.jline.terminal.TerminalBuilder;

/** Alternates one terminal between the guest (raw keys, {@link TerminalMode}) and the {@link Console}. */
final class Interactive {
    private final Terminal terminal;
    private final GuestSession session;
    private final Console console;
    private StatusLine status;

    Interactive(Terminal terminal, GuestSession session, Path history, boolean scripted) {
        this.terminal = terminal;
        this.session = session;
        this.console = new Console(terminal, session, history, scripted);
    }

    Console console() {
        return console;
    }

    /** A progress line to keep under the guest's output while the terminal is the guest's. */
    void setStatusLine(StatusLine s) {
        status = s;
    }

    /** What ended the interaction. */
    enum End { QUIT, INTERRUPTED, GUEST_FINISHED }

    /**
     * Runs until the user quits. Starting in the terminal (vmm run), the end of the guest ends it
     * too ({@code finishEnds}); in the console, the guest's end is just reported.
     */
    End run(boolean startInTerminal, boolean finishEnds) throws IOException, InterruptedException {
        boolean inTerminal = startInTerminal;
        while (true) {
            if (inTerminal) {
                TerminalMode.Result r = TerminalMode.run(terminal, session, status);
                if (r == TerminalMode.Result.QUIT) return End.INTERRUPTED;
                if (session.state() == GuestSession.State.FINISHED && finishEnds) return End.GUEST_FINISHED;
                if (r == TerminalMode.Result.CONSOLE) {
                    session.pause();
                    session.awaitStop(5000);
                }
                terminal.writer().println();
                terminal.flush();
                String why = session.lastEvent();
                console.print(session.state() != GuestSession.State.RUNNING && why != null ? why
                        : session.call(s -> "running, at " + s.where()));
                inTerminal = false;
            } else {
                Console.Exit e = console.run();
                if (e == Console.Exit.TERMINAL) {
                    session.run(() -> {
                        if (session.state() == GuestSession.State.PAUSED) session.resume();
                    });
                    inTerminal = true;
                    continue;
                }
                return e == Console.Exit.INTERRUPTED ? End.INTERRUPTED : End.QUIT;
            }
        }
    }

    /**
     * The process's own terminal. jline's exec provider (stty) is preferred: its native one writes
     * back termios without the line speed, which leaves the terminal at speed 0 (hang-up).
     */
    static Terminal systemTerminal() throws IOException {
        try {
            return TerminalBuilder.builder().system(true).provider("exec").dumb(true).build();
        } catch (IOException | IllegalStateException e) {
            return TerminalBuilder.builder().system(true).dumb(true).build();
        }
    }

    /** The history file: --history, else $VMM_HISTORY, else ~/.vmm_history. */
    static Path historyFile(Path option) {
        if (option != null) return option;
        String env = System.getenv("VMM_HISTORY");
        if (env != null && !env.isBlank()) return Paths.get(env);
        return Paths.get(System.getProperty("user.home"), ".vmm_history");
    }
}
