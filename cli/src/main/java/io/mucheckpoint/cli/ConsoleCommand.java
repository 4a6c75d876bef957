package io.mucheckpoint.cli;

import io.mucheckpoint.checkpoint.CheckpointConfig;
import io.mucheckpoint.recovery.ReplayConsole;
import io.mucheckpoint.vmm.Machine;
import io.mucheckpoint.vmm.clock.IdlePacer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import org.jline.terminal.Terminal;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "console", sortOptions = false, mixinStandardHelpOptions = true,
        description = {"The rollback console: a guest under a debugger-like command line.",
                "The guest starts paused before its first instruction ('run' starts it, 'help' lists the commands)"
                        + " and runs in the background; its output appears above the prompt. Ctrl-C pauses it."},
        footer = {"", ExitStatus.HELP})
final class ConsoleCommand implements Callable<Integer> {
    @Mixin
    GuestOptions guest;

    @Mixin
    CheckpointOptions checkpoints;

    @Option(names = "--restore", paramLabel = "FILE",
            description = "Start from a machine saved in a snapshot file (the guest options are taken from the file).")
    Path restore;

    @Option(names = "--run", description = "Start the guest running (default: paused before its first instruction).")
    boolean run;

    @Option(names = "--history", paramLabel = "FILE",
            description = "Where the command history is kept (default: $VMM_HISTORY, else ~/.vmm_history).")
    Path history;

    @Option(names = "--output", paramLabel = "FILE",
            description = "At exit, write the guest's console output of the final timeline to FILE: what a run that"
                    + " never rolled back would have printed (default: not written).")
    Path output;

    /** For tests: the terminal to use instead of the system's. */
    static volatile Supplier<Terminal> terminalForTests;

    @Override
    public Integer call() throws Exception {
        OutputFiles.check("--output", output);
        CheckpointConfig config = checkpoints.off ? null : checkpoints.config(guest.ticksPerSecond());
        GuestOutput out = new GuestOutput(GuestOutput.stream(System.out));
        ReplayConsole replay = new ReplayConsole(out);
        Machine machine = Boot.machine(guest, restore, replay);
        Terminal terminal = terminal();
        GuestSession session = null;
        try {
            try {
                session = new GuestSession(machine, config, out, replay);
            } catch (IllegalArgumentException e) {
                throw new VmmException(ExitStatus.USAGE, e.getMessage());
            }
            boolean scripted = terminalForTests == null && System.console() == null;
            if (terminalForTests == null && !scripted) machine.setIdlePacer(new IdlePacer()); // idle in real time
            Interactive ui = new Interactive(terminal, session, Interactive.historyFile(history), scripted);
            out.setDisplay(GuestOutput.lines(ui.console()::print));
            ui.console().print(String.format("%s: %s at %s; 'run' starts it, 'help' lists the commands",
                    machine.image().name(), run ? "running" : "paused", session.where()));
            HeapSettle.beforeGuestStarts();
            session.start(run);
            Interactive.End end = ui.run(false, false);
            if (end == Interactive.End.INTERRUPTED) return ExitStatus.INTERRUPTED;
            Console.Failure f = ui.console().firstFailure();
            if (scripted && f != null) {
                // A script that went wrong must not look like one that went right.
                int n = ui.console().failures();
                System.err.println("vmm: " + (n == 1 ? "a command" : n + " commands") + " failed; the first, line " + f.line()
                        + " '" + f.command() + "': " + f.message());
                return f.status();
            }
            return ExitStatus.OK;
        } finally {
            if (session != null) {
                session.close();
                if (output != null) writeOutput(session);
            }
            Drives.commit(machine);
            terminal.writer().flush();
            terminal.close();
        }
    }

    private void writeOutput(GuestSession session) {
        try {
            Files.write(output, session.timeline());
        } catch (IOException e) {
            throw OutputFiles.writeFailed(output, e);
        }
    }

    static Terminal terminal() throws IOException {
        Supplier<Terminal> t = terminalForTests;
        if (t != null) return t.get();
        return Interactive.systemTerminal();
    }
}
