package io.mucheckpoint.cli;

import io.mucheckpoint.checkpoint.CheckpointConfig;
import io.mucheckpoint.checkpoint.CheckpointEngine;
import io.mucheckpoint.checkpoint.CheckpointInfo;
import io.mucheckpoint.checkpoint.CheckpointUnreachableException;
import io.mucheckpoint.checkpoint.Interval;
import io.mucheckpoint.checkpoint.NoSuchCheckpointException;
import io.mucheckpoint.checkpoint.RollbackReport;
import io.mucheckpoint.checkpoint.SnapshotFile;
import io.mucheckpoint.cpu.Cpu;
import io.mucheckpoint.cpu.CpuState;
import io.mucheckpoint.cpu.Disassembler;
import io.mucheckpoint.recovery.Fault;
import io.mucheckpoint.recovery.FaultInjector;
import io.mucheckpoint.recovery.RecoveryManager;
import io.mucheckpoint.vmm.Machine;
import io.mucheckpoint.vmm.MachineState;
import io.mucheckpoint.vmm.RunResult;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jline.builtins.Completers.FileNameCompleter;
import org.jline.reader.Candidate;
import org.jline.reader.Completer;
import org.jline.reader.EndOfFileException;
import org.jline.reader.LineReader;
import org.jline.reader.LineReaderBuilder;
import org.jline.reader.ParsedLine;
import org.jline.reader.UserInterruptException;
import org.jline.reader.impl.DefaultParser;
import org.jline.terminal.Terminal;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The rollback console: a command line in the manner of a debugger over a {@link GuestSession}.
 * The guest runs in the background; its output and the session's events appear above the prompt.
 * Ctrl-C pauses the guest. Every error is one line starting with {@code error:}, and the console
 * stays usable after it.
 */
final class Console {
    private static final Logger log = LoggerFactory.getLogger(Console.class);
    static final String PROMPT = "(vmm) ";

    /** Why {@link #run} returned. */
    enum Exit { QUIT, TERMINAL, INTERRUPTED }

    /** A console command: names, usage, one-line summary, details for {@code help CMD}, and what completes its arguments. */
    private record Command(List<String> names, String usage, String summary, String details, Handler handler, Args args) {
        String name() {
            return names.get(0);
        }
    }

    @FunctionalInterface
    private interface Handler {
        Exit run(List<String> args) throws Exception;
    }

    /** What the arguments of a command complete to. */
    private enum Args { NONE, COMMAND, CHECKPOINT, BREAKPOINT, ADDRESS, FILE, SETTING, INJECT }

    private static final String[] REGISTERS = {"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"};
    private static final String[] SEGMENTS = {"es", "cs", "ss", "ds", "fs", "gs"};
    private static final String[] INJECT_TARGETS = {"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi", "eip", "eflags",
            "es", "cs", "ss", "ds", "fs", "gs", "mem"};
    private static final String[] SETTINGS = {"interval", "predictor", "latency", "keep"};

    private final Terminal terminal;
    private final GuestSession session;
    private final Machine machine;
    private final LineReader reader;
    private final boolean canUseTerminal;
    private final boolean scripted;
    private final Map<String, Command> commands = new LinkedHashMap<>();
    private final List<Command> ordered = new ArrayList<>();
    private final SplittableRandom random = new SplittableRandom();
    private final Completer completer = new CommandCompleter();
    /** The gdb stub started by the gdb command, or null. */
    private io.mucheckpoint.cli.gdb.GdbServer gdb;

    /**
     * @param scripted commands come from a file or a pipe: no prompt is shown while reading, and each
     *        command is echoed after the prompt instead, so the output reads as a transcript
     */
    Console(Terminal terminal, GuestSession session, Path historyFile, boolean scripted) {
        this.terminal = terminal;
        this.session = session;
        this.machine = session.machine;
        this.scripted = scripted;
        this.canUseTerminal = !scripted;
        define();
        DefaultParser parser = new DefaultParser();
        parser.setEscapeChars(new char[0]);
        LineReaderBuilder b = LineReaderBuilder.builder().appName("vmm").terminal(terminal).completer(completer)
                .parser(parser).option(LineReader.Option.DISABLE_EVENT_EXPANSION, true)
                .option(LineReader.Option.HISTORY_IGNORE_DUPS, true).option(LineReader.Option.AUTO_FRESH_LINE, true);
        if (historyFile != null && !scripted) b.variable(LineReader.HISTORY_FILE, historyFile);
        this.reader = b.build();
    }

    // --- the loop -----------------------------------------------------------------------------------

    /** Reads and runs commands until quit (or {@code terminal}); the guest keeps its state. */
    Exit run() {
        session.output.setDisplay(GuestOutput.lines(this::print));
        session.onEvent(this::print);
        Terminal.SignalHandler previous = terminal.handle(Terminal.Signal.INT, s -> session.pause());
        // Warnings (logged to standard error) go above the prompt too, rather than through it.
        PrintStream err = System.err;
        System.setErr(new PrintStream(new LineSink(this::print), true, StandardCharsets.UTF_8));
        try {
            while (true) {
                String line;
                try {
                    line = scripted ? reader.readLine() : reader.readLine(PROMPT);
                    if (scripted) print(PROMPT + line);
                } catch (UserInterruptException e) {
                    if (session.state() == GuestSession.State.RUNNING) pauseAndWait();
                    continue;
                } catch (EndOfFileException e) {
                    return Exit.QUIT;
                }
                Exit x = execute(line);
                if (x != null) return x;
            }
        } finally {
            System.err.flush();
            System.setErr(err);
            terminal.handle(Terminal.Signal.INT, previous);
            try {
                reader.getHistory().save();
            } catch (IOException e) {
                log.warn("cannot save the command history: {}", e.getMessage());
            }
        }
    }

    /** Runs one command line; returns non-null when the console should end. Errors are printed, not thrown. */
    Exit execute(String line) {
        lines++;
        List<String> words = split(line);
        if (words.isEmpty() || words.get(0).startsWith("#")) return null;
        Command c = commands.get(words.get(0).toLowerCase(Locale.ROOT));
        if (c == null) {
            failed(ExitStatus.USAGE, line, "unknown command '" + words.get(0) + "' (help lists the commands)");
            return null;
        }
        try {
            return c.handler().run(words.subList(1, words.size()));
        } catch (VmmException e) {
            failed(e.status(), line, e.getMessage());
        } catch (IllegalArgumentException | NoSuchCheckpointException | CheckpointUnreachableException e) {
            failed(ExitStatus.USAGE, line, e.getMessage());
        } catch (InterruptedException e) {
            failed(ExitStatus.INTERRUPTED, line, "interrupted");
        } catch (Exception e) {
            log.debug("console command failed", e);
            failed(ExitStatus.INTERNAL, line, "internal error: " + e + " (run with -vv for details)");
        }
        return null;
    }

    /** The first command that failed: its status, line number and text; or null. */
    record Failure(int status, int line, String command, String message) {}

    private int lines;
    private int failures;
    private Failure firstFailure;

    private void failed(int status, String line, String message) {
        error(message);
        failures++;
        if (firstFailure == null) firstFailure = new Failure(status, lines, line.strip(), message);
    }

    /** The first command that failed, or null: a script's exit status is its status. */
    Failure firstFailure() {
        return firstFailure;
    }

    /** How many commands failed. */
    int failures() {
        return failures;
    }

    void print(String text) {
        reader.printAbove(text);
    }

    /** An output stream that hands each line written to it to {@code lines}. */
    private static final class LineSink extends OutputStream {
        private final java.util.function.Consumer<String> lines;
        private final java.io.ByteArrayOutputStream line = new java.io.ByteArrayOutputStream();

        LineSink(java.util.function.Consumer<String> lines) {
            this.lines = lines;
        }

        @Override
        public synchronized void write(int b) {
            if (b == '\n') {
                lines.accept(line.toString(StandardCharsets.UTF_8));
                line.reset();
            } else if (b != '\r') {
                line.write(b);
            }
        }
    }

    private void error(String message) {
        print("error: " + message.replace('\n', ' '));
    }

    private static List<String> split(String line) {
        List<String> out = new ArrayList<>();
        StringBuilder w = null;
        boolean quoted = false;
        for (int i = 0; i < line.length(); i++) {
            char ch = line.charAt(i);
            if (ch == '"') {
                quoted = !quoted;
                if (w == null) w = new StringBuilder();
            } else if (Character.isWhitespace(ch) && !quoted) {
                if (w != null) out.add(w.toString());
                w = null;
            } else {
                if (w == null) w = new StringBuilder();
                w.append(ch);
            }
        }
        if (w != null) out.add(w.toString());
        return out;
    }

    // --- the commands --------------------------------------------------------------------------------

    private void command(String names, String usage, String summary, String details, Args args, Handler h) {
        Command c = new Command(List.of(names.split(",")), usage, summary, details, h, args);
        ordered.add(c);
        for (String n : c.names()) commands.put(n, c);
    }

    private void define() {
        command("run,continue,c", "run", "let the guest run in the background",
                "Resumes the guest; the prompt stays. Its output appears above the prompt. Ctrl-C or pause stops it;"
                        + " so do breakpoints, until, and the guest's end. 'wait' waits for that.",
                Args.NONE, a -> {
                    noArgs(a);
                    // Said on the guest thread before the guest runs, so nothing it stops at can be told first.
                    session.run(() -> {
                        session.resume();
                        print("running");
                    });
                    return null;
                });
        command("pause", "pause", "pause the guest (Ctrl-C does the same)",
                "Stops the guest at the next instruction boundary the run loop looks at (within a few milliseconds).",
                Args.NONE, a -> {
                    noArgs(a);
                    if (session.state() != GuestSession.State.RUNNING) throw usage("the guest is not running");
                    pauseAndWait();
                    return null;
                });
        command("wait", "wait [SECONDS | DURATION]", "wait until the guest stops (breakpoint, until, pause, its end)",
                "Blocks until the guest is no longer running, or until that much time passes on the host's clock: a number"
                        + " of seconds, or a duration such as 1.5s or 500ms. Ctrl-C pauses the guest and ends the wait.",
                Args.NONE, a -> {
                    if (a.size() > 1) throw usage("usage: wait [SECONDS | DURATION]");
                    long millis = a.isEmpty() ? Long.MAX_VALUE / 2 : waitMillis(a.get(0));
                    if (!session.awaitStop(millis)) throw usage("the guest is still running after " + a.get(0)
                            + (a.get(0).matches("\\d+") ? " s" : ""));
                    return null;
                });
        command("step,s", "step [N]", "execute N instructions (default 1) and show the next one",
                "Runs N instructions right away (the guest must be paused) and shows where it stopped. A breakpoint on"
                        + " the way stops it early. N may use k, M, G (1M = 1000000).",
                Args.NONE, a -> {
                    if (a.size() > 1) throw usage("usage: step [N]");
                    long n = a.isEmpty() ? 1 : parseCount(a.get(0), "instructions");
                    if (n < 1) throw usage("step takes a positive count");
                    String next = session.call(s -> {
                        RunResult r = s.step(n);
                        return r != null && r.kind() != RunResult.Kind.IDLE ? null : nextInstruction();
                    });
                    if (next != null) print(next);
                    return null;
                });
        command("until,u", "until ICOUNT", "run until the guest has retired ICOUNT instructions",
                "Lets the guest run in the background and pauses it when its instruction count reaches ICOUNT"
                        + " (k, M, G allowed). Use 'wait' to wait for it.",
                Args.NONE, a -> {
                    if (a.size() != 1) throw usage("usage: until ICOUNT");
                    long target = parseCount(a.get(0), "instructions");
                    session.run(() -> {
                        long now = machine.cpu.icount();
                        if (target <= now) {
                            throw usage("the guest is already at instruction " + now + ": roll back to go to an earlier one");
                        }
                        session.runUntil(target);
                        print("running until instruction " + target);
                    });
                    return null;
                });
        command("break,b", "break [ADDR]", "stop before the instruction at linear address ADDR; alone: list breakpoints",
                "ADDR is a linear address (CS base + EIP): a number (0x100abc, or decimal), a register (eip, esp...),"
                        + " or either plus or minus a number (eip+0x10). The guest stops before executing the instruction there.",
                Args.ADDRESS, a -> {
                    if (a.isEmpty()) {
                        print(session.call(s -> breakpointTable()));
                        return null;
                    }
                    String text = String.join("", a);
                    print(session.call(s -> {
                        long addr = address(text);
                        GuestSession.Breakpoint b = s.addBreakpoint((int) addr);
                        int first = Disassembler.peek(machine.cpu, b.linear);
                        String at = first < 0 ? " (not mapped now)" : ": " + instructionAt(b.linear);
                        return String.format("breakpoint %d at 0x%08x%s", b.number, b.linear, at);
                    }));
                    return null;
                });
        command("delete,d", "delete [N]", "delete breakpoint N (all of them without N)", "", Args.BREAKPOINT, a -> {
            if (a.size() > 1) throw usage("usage: delete [N]");
            if (a.isEmpty()) {
                session.run(session::deleteAllBreakpoints);
                print("deleted all breakpoints");
            } else {
                int n = parseInt(a.get(0), "breakpoint number");
                session.run(() -> session.deleteBreakpoint(n));
                print("deleted breakpoint " + n);
            }
            return null;
        });
        command("regs,r", "regs", "show the registers", "General registers, EIP and EFLAGS (with its flags spelled out),"
                + " segment registers with their bases, control registers, CPL, the instruction count and guest time.",
                Args.NONE, a -> {
                    noArgs(a);
                    print(session.call(s -> registers()));
                    return null;
                });
        command("mem,x", "mem [-p] ADDR [LEN]", "hex dump of LEN bytes (default 64) at linear ADDR (-p: physical)",
                "Reads through the guest's page tables like the processor, without setting accessed bits or raising"
                        + " faults; bytes that are not mapped show as '..'. With -p, ADDR is a physical address. LEN is at most 65536.",
                Args.ADDRESS, a -> {
                    List<String> args = new ArrayList<>(a);
                    boolean physical = args.remove("-p");
                    if (args.isEmpty() || args.size() > 2) throw usage("usage: mem [-p] ADDR [LEN]");
                    int len = args.size() > 1 ? (int) Math.min(Integer.MAX_VALUE, parseCount(args.get(1), "bytes")) : 64;
                    if (len < 1 || len > 65536) throw usage("mem shows 1 to 65536 bytes");
                    print(session.call(s -> dump(address(args.get(0)), len, physical)));
                    return null;
                });
        command("disasm,dis", "disasm [ADDR] [N]", "disassemble N instructions (default 10) from linear ADDR (default CS:EIP)",
                "Intel syntax, as objdump -M intel writes it, in the current code segment's mode (16- or 32-bit)."
                        + " '=>' marks the next instruction, '*' a breakpoint.",
                Args.ADDRESS, a -> {
                    if (a.size() > 2) throw usage("usage: disasm [ADDR] [N]");
                    int n = a.size() > 1 ? (int) Math.min(10_000, parseCount(a.get(1), "instructions")) : 10;
                    if (n < 1) throw usage("disasm takes a positive count");
                    String at = a.isEmpty() ? "eip" : a.get(0);
                    print(session.call(s -> disassemble(address(at), n)));
                    return null;
                });
        command("checkpoints,cps", "checkpoints", "list the retained checkpoints",
                "One row per retained checkpoint: id, guest time, instruction count, page images held, bytes held and"
                        + " whether its stored data passes its CRC check. The last line says where the guest is now and which"
                        + " checkpoint 'recover' would roll back to.",
                Args.NONE, a -> {
                    noArgs(a);
                    print(session.call(s -> checkpointTable()));
                    return null;
                });
        command("checkpoint,cp", "checkpoint", "take a checkpoint now", "", Args.NONE, a -> {
            noArgs(a);
            CheckpointInfo c = session.call(GuestSession::checkpointNow);
            print(String.format(Locale.ROOT, "checkpoint %d at instruction %d, guest time %s", c.id(), c.icount(), guestTime(c.guestNanos())));
            return null;
        });
        command("rollback", "rollback ID | -N | @TIME", "roll back to checkpoint ID, N checkpoints back, or the newest at or before guest time TIME",
                "Puts the guest back in place at a retained checkpoint: ID as listed by 'checkpoints'; -N the N-th"
                        + " checkpoint before now (-1 the most recent); @TIME the newest checkpoint at or before guest time"
                        + " TIME (like @150ms or @1.5s). The guest keeps its state (paused or running). The timeline forks:"
                        + " the guest prints again what it printed after the checkpoint, and host input after it is dropped.",
                Args.CHECKPOINT, a -> {
                    if (a.size() != 1) throw usage("usage: rollback ID | -N | @TIME");
                    String target = a.get(0);
                    print(session.call(s -> rollback(target)));
                    return null;
                });
        command("diff", "diff ID", "the pages and registers changed since checkpoint ID",
                "Registers that differ between checkpoint ID and now, devices whose state differs, and the RAM pages the"
                        + " guest wrote since (as physical address ranges).",
                Args.CHECKPOINT, a -> {
                    if (a.size() != 1) throw usage("usage: diff ID");
                    int id = parseInt(a.get(0), "checkpoint id");
                    print(session.call(s -> diff(id)));
                    return null;
                });
        command("inject", "inject TARGET [ADDR] [BIT]", "flip one bit: a register, eip, eflags, a segment base, cr0/3/4, x87, or mem ADDR",
                "TARGET is eax..edi, eip, eflags, es..gs (the segment's hidden base), cr0, cr3, cr4, fpr0..fpr7 (an x87"
                        + " register's significand; fpr0.exp..fpr7.exp its sign and exponent), or mem followed by a physical"
                        + " address: a raw upset that no dirty bit records, so checkpoints sharing the page share it and a"
                        + " rollback does not repair it (mem-door writes the flip through the memory door instead). BIT"
                        + " defaults to a random one (0-31; 0-7 for memory, 0-63 and 0-15 for x87). The flip happens now,"
                        + " between two instructions, as a transient error would.",
                Args.INJECT, a -> {
                    if (a.isEmpty()) throw usage("usage: inject TARGET [ADDR] [BIT]");
                    print(session.call(s -> inject(a)));
                    return null;
                });
        command("recover", "recover", "act as if an error were detected now: roll back past the latency bound",
                "Does what automatic recovery does on a detection: rolls back to the newest retained checkpoint taken at"
                        + " least the latency bound L (set latency) before now. The guest then re-executes: output it already"
                        + " showed is not shown again, and host input is delivered again.",
                Args.NONE, a -> {
                    noArgs(a);
                    print(session.call(s -> recover()));
                    return null;
                });
        command("save", "save FILE", "write a snapshot file of the machine (vmm run --restore FILE resumes it)", "", Args.FILE, a -> {
            if (a.size() != 1) throw usage("usage: save FILE");
            Path file = Paths.get(a.get(0));
            OutputFiles.check("save", file);
            print(session.call(s -> {
                session.output.flush();
                try {
                    SnapshotFile.save(machine, file);
                } catch (IOException e) {
                    throw OutputFiles.writeFailed(file, e);
                }
                return "saved the machine at instruction " + machine.cpu.icount() + " to " + file;
            }));
            return null;
        });
        command("output", "output FILE", "write the guest's output of this timeline to FILE",
                "Everything the guest printed on its way to where it is now: output taken back by a rollback is not"
                        + " included, so it equals what a run that never rolled back would have printed.",
                Args.FILE, a -> {
                    if (a.size() != 1) throw usage("usage: output FILE");
                    Path file = Paths.get(a.get(0));
                    OutputFiles.check("output", file);
                    byte[] out = session.call(GuestSession::timeline);
                    try {
                        Files.write(file, out);
                    } catch (IOException e) {
                        throw OutputFiles.writeFailed(file, e);
                    }
                    print("wrote " + out.length + " bytes of guest output to " + a.get(0));
                    return null;
                });
        command("stats", "stats", "checkpointing statistics", "", Args.NONE, a -> {
            noArgs(a);
            print(session.call(s -> StatsSummary.format(s.requireEngine().stats(), StatsSummary.taken(s.engine()), machine.cpu.icount(),
                    machine.clock.toNanos(machine.clock.now()), s.executed(), s.runningNanos())).stripTrailing());
            return null;
        });
        command("gdb", "gdb [PORT|tcp:HOST:PORT|off]", "let gdb attach (target remote :PORT); alone: say where it listens",
                "Starts gdb's remote stub on PORT of the loopback interface (tcp:0.0.0.0:PORT listens on every interface)."
                        + " gdb then drives the guest: breakpoints, watchpoints, stepping, and with checkpoints reverse-stepi and"
                        + " reverse-continue; 'monitor checkpoints', 'monitor rollback N' and the other console commands work from"
                        + " gdb. When gdb detaches the guest stays paused. 'gdb off' stops listening. docs/debugging.md shows a session.",
                Args.NONE, a -> {
                    if (a.size() > 1) throw usage("usage: gdb [PORT|tcp:HOST:PORT|off]");
                    if (a.isEmpty()) {
                        print(gdb == null ? "gdb: not listening ('gdb 1234' starts it)" : GdbAttach.listening(gdb)
                                + (gdb.attached() ? ", gdb attached" : ""));
                        return null;
                    }
                    if (a.get(0).equalsIgnoreCase("off")) {
                        if (gdb == null) throw usage("gdb is not listening");
                        gdb.close();
                        gdb = null;
                        print("gdb: stopped listening");
                        return null;
                    }
                    if (gdb != null) throw usage("gdb is already listening: " + GdbAttach.listening(gdb) + " ('gdb off' first)");
                    io.mucheckpoint.cli.gdb.GdbServer g = GdbAttach.start(session, a.get(0), false, null, this::print);
                    gdb = g;
                    session.onClose(g::close);
                    print(GdbAttach.listening(g));
                    return null;
                });
        command("set", "set [interval|predictor|latency|keep VALUE]", "change a checkpoint setting; alone: show them",
                "interval: epoch length (50ms, 1.5s, 250us, 5000000i; at least " + CheckpointOptions.FLOOR_INSTRUCTIONS
                        + " instructions' worth); predictor: none, last or history; latency: the error-latency bound L"
                        + " (200ms, 0.2s, 0); keep: most checkpoints retained. Every setting changes in place: the checkpoints"
                        + " taken so far stay, with their ids (a smaller keep drops the oldest); a new interval counts from the"
                        + " newest checkpoint, a new predictor starts without history.",
                Args.SETTING, a -> {
                    if (a.isEmpty()) {
                        print(session.call(s -> settings(s.requireEngine().config())));
                        return null;
                    }
                    if (a.size() != 2) throw usage("usage: set interval|predictor|latency|keep VALUE");
                    print(session.call(s -> set(a.get(0).toLowerCase(Locale.ROOT), a.get(1))));
                    return null;
                });
        command("status", "status", "whether the guest is running, paused or finished, and where", "", Args.NONE, a -> {
            noArgs(a);
            print(session.call(s -> switch (s.state()) {
                case RUNNING -> "running, at " + s.where();
                case PAUSED -> "paused at " + s.where();
                case FINISHED -> s.finish().message() + ", at " + s.where();
            }));
            return null;
        });
        command("terminal", "terminal", "hand the keyboard to the guest (Ctrl-A c comes back here)",
                "Keys go to the guest's COM1 until Ctrl-A c; Ctrl-A x quits vmm, Ctrl-A h lists the escapes. The guest"
                        + " runs while the keyboard is its.", Args.NONE, a -> {
                    noArgs(a);
                    if (!canUseTerminal) throw usage("the console's input is not a terminal");
                    if (session.state() == GuestSession.State.FINISHED) {
                        throw usage(session.call(s -> s.finish().message()) + ": roll back to a checkpoint to run it again");
                    }
                    return Exit.TERMINAL;
                });
        command("help,h,?", "help [COMMAND]", "list the commands, or explain one", "", Args.COMMAND, a -> {
            if (a.size() > 1) throw usage("usage: help [COMMAND]");
            print(a.isEmpty() ? help() : help(a.get(0)));
            return null;
        });
        command("quit,exit,q", "quit", "leave (the guest stops)", "", Args.NONE, a -> {
            noArgs(a);
            return Exit.QUIT;
        });
    }

    private static VmmException usage(String message) {
        return new VmmException(ExitStatus.USAGE, message);
    }

    private static void noArgs(List<String> a) {
        if (!a.isEmpty()) throw usage("this command takes no arguments ('" + a.get(0) + "')");
    }

    private void pauseAndWait() {
        session.pause();
        try {
            session.awaitStop(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    // --- help ------------------------------------------------------------------------------------------

    private String help() {
        Table t = new Table("ll", "command", "");
        for (Command c : ordered) t.row(c.usage(), c.summary());
        String table = t.render();
        return table.substring(table.indexOf('\n') + 1) + "\n'help COMMAND' tells more. Ctrl-C pauses the guest; Ctrl-D or quit leaves.";
    }

    private String help(String name) {
        Command c = commands.get(name.toLowerCase(Locale.ROOT));
        if (c == null) throw usage("unknown command '" + name + "' (help lists the commands)");
        StringBuilder b = new StringBuilder("usage: ").append(c.usage()).append('\n').append(c.summary());
        if (c.names().size() > 1) b.append("\nalso: ").append(String.join(", ", c.names().subList(1, c.names().size())));
        if (!c.details().isEmpty()) b.append('\n').append(wrap(c.details(), 100));
        return b.toString();
    }

    private static String wrap(String text, int width) {
        StringBuilder b = new StringBuilder();
        int col = 0;
        for (String w : text.split(" ")) {
            if (col > 0 && col + 1 + w.length() > width) {
                b.append('\n');
                col = 0;
            } else if (col > 0) {
                b.append(' ');
                col++;
            }
            b.append(w);
            col += w.length();
        }
        return b.toString();
    }

    // --- numbers and addresses -----------------------------------------------------------------------

    static long parseCount(String s, String what) {
        try {
            return Units.count(s.replace("_", ""));
        } catch (IllegalArgumentException e) {
            throw usage("'" + s + "' is not a count of " + what + " (like 100, 5k or 2M)");
        }
    }

    /** How long {@code wait} waits: whole seconds (the old form), or a duration in the one syntax. */
    private static long waitMillis(String s) {
        if (s.matches("\\d+")) return Math.min(Long.MAX_VALUE / 2000, parseCount(s, "seconds")) * 1000L;
        try {
            return Math.max(1, Units.guestNanos(s) / 1_000_000);
        } catch (IllegalArgumentException e) {
            throw usage("'" + s + "' is not a number of seconds or a duration (like 5, 1.5s or 500ms)");
        }
    }

    static int parseInt(String s, String what) {
        try {
            return Integer.parseInt(s);
        } catch (NumberFormatException e) {
            throw usage("'" + s + "' is not a " + what);
        }
    }

    private static final Pattern TERM = Pattern.compile("([+-]?)([^+-]+)");

    /** A linear address: numbers and registers joined by + and -. Runs on the guest thread. */
    private long address(String text) {
        String t = text.replace(" ", "");
        if (t.isEmpty()) throw usage("missing address");
        Matcher m = TERM.matcher(t);
        long sum = 0;
        int at = 0;
        while (at < t.length() && m.find(at) && m.start() == at) {
            long v = term(m.group(2), text);
            sum += m.group(1).equals("-") ? -v : v;
            at = m.end();
        }
        if (at != t.length()) throw usage("'" + text + "' is not an address (like 0x100abc, eip or esp+8)");
        if (sum < 0 || sum > 0xFFFFFFFFL) {
            throw usage("'" + text + "' comes to " + (sum < 0 ? "-0x" + Long.toHexString(-sum) : "0x" + Long.toHexString(sum))
                    + ", outside the 32-bit address space (0-0xffffffff)");
        }
        return sum;
    }

    private long term(String w, String whole) {
        String s = w.toLowerCase(Locale.ROOT);
        if (s.startsWith("$")) s = s.substring(1);
        Cpu cpu = machine.cpu;
        for (int i = 0; i < REGISTERS.length; i++) {
            if (REGISTERS[i].equals(s)) {
                long v = cpu.reg(i) & 0xFFFFFFFFL;
                return i == Cpu.ESP || i == Cpu.EBP ? v + (cpu.segmentBase(Cpu.SEG_SS) & 0xFFFFFFFFL) : v;
            }
        }
        if (s.equals("eip") || s.equals("pc")) return cpu.linearEip() & 0xFFFFFFFFL;
        try {
            if (s.startsWith("0x")) return Long.parseLong(s.substring(2), 16);
            return Long.parseLong(s);
        } catch (NumberFormatException e) {
            throw usage("'" + whole + "' is not an address (like 0x100abc, eip or esp+8)");
        }
    }

    // --- what the commands show (guest thread) ---------------------------------------------------------

    private String breakpointTable() {
        List<GuestSession.Breakpoint> bps = session.breakpoints();
        if (bps.isEmpty()) return "no breakpoints";
        Table t = new Table("rlrl", "num", "address", "hits", "instruction");
        for (GuestSession.Breakpoint b : bps) {
            t.row(b.number, String.format("0x%08x", b.linear), b.hits,
                    Disassembler.peek(machine.cpu, b.linear) < 0 ? "(not mapped)" : instructionAt(b.linear));
        }
        return t.render();
    }

    private String instructionAt(int linear) {
        Cpu cpu = machine.cpu;
        int base = cpu.segmentBase(Cpu.SEG_CS);
        boolean code32 = Disassembler.code32(cpu);
        int mask = code32 ? -1 : 0xFFFF;
        int ip = (linear - base) & mask;
        return Disassembler.decode(i -> Disassembler.peek(cpu, base + ((ip + i) & mask)), ip, code32).text().replaceAll("\\s+", " ");
    }

    private String nextInstruction() {
        Cpu cpu = machine.cpu;
        return String.format(Locale.ROOT, "0x%08x: %s    (instruction %d)", cpu.linearEip(), instructionAt(cpu.linearEip()), cpu.icount());
    }

    private String registers() {
        Cpu c = machine.cpu;
        CpuState s = c.save();
        StringBuilder b = new StringBuilder();
        Table g = new Table("lrlrlrlr", "", "", "", "", "", "", "", "");
        for (int row = 0; row < 2; row++) {
            Object[] cells = new Object[8];
            for (int i = 0; i < 4; i++) {
                int r = row * 4 + i;
                cells[2 * i] = REGISTERS[r];
                cells[2 * i + 1] = String.format("0x%08x", c.reg(r));
            }
            g.row(cells);
        }
        g.row("eip", String.format("0x%08x", c.eip()), "eflags", String.format("0x%08x", c.eflags()), flags(c.eflags()));
        String gt = g.render();
        b.append(gt.substring(gt.indexOf('\n') + 1)).append('\n');
        Table seg = new Table("lrrrr", "seg", "selector", "base", "limit", "attr");
        for (int i = 0; i < 6; i++) {
            CpuState.SegmentCache sc = s.segments().get(i);
            seg.row(SEGMENTS[i], String.format("0x%04x", sc.selector()), String.format("0x%08x", sc.base()),
                    String.format("0x%08x", sc.limit()), String.format("0x%04x", sc.attr()));
        }
        b.append(seg.render()).append('\n');
        b.append(String.format(Locale.ROOT, "cr0 0x%08x  cr2 0x%08x  cr3 0x%08x  cr4 0x%08x  cpl %d  %s%n", s.cr0(), s.cr2(), s.cr3(),
                s.cr4(), s.cpl(), (s.cr0() & 1) == 0 ? "real mode" : Disassembler.code32(c) ? "32-bit protected mode" : "16-bit protected mode"));
        b.append(String.format(Locale.ROOT, "instruction %d, guest time %s%s", c.icount(), guestTime(machine.clock.toNanos(machine.clock.now())),
                c.halted() ? ", halted" : ""));
        return b.toString();
    }

    private static String flags(int f) {
        String[] names = {"CF", null, "PF", null, "AF", null, "ZF", "SF", "TF", "IF", "DF", "OF"};
        StringBuilder b = new StringBuilder("[");
        for (int i = 0; i < names.length; i++) if (names[i] != null && (f & (1 << i)) != 0) b.append(' ').append(names[i]);
        if ((f & (1 << 17)) != 0) b.append(" VM");
        int iopl = (f >> 12) & 3;
        if (iopl != 0) b.append(" IOPL=").append(iopl);
        return b.append(" ]").toString();
    }

    private String dump(long addr, int len, boolean physical) {
        Cpu cpu = machine.cpu;
        StringBuilder b = new StringBuilder();
        for (int row = 0; row < len; row += 16) {
            long at = (addr + row) & 0xFFFFFFFFL;
            if (row > 0) b.append('\n');
            b.append(String.format("0x%08x  ", at));
            StringBuilder ascii = new StringBuilder();
            for (int i = 0; i < 16; i++) {
                if (i == 8) b.append(' ');
                if (row + i >= len) {
                    b.append("   ");
                    continue;
                }
                int a = (int) (at + i);
                int v = physical ? Disassembler.peekPhysical(cpu, a) : Disassembler.peek(cpu, a);
                if (v < 0) {
                    b.append(".. ");
                    ascii.append(' ');
                } else {
                    b.append(String.format("%02x ", v));
                    ascii.append(v >= 0x20 && v < 0x7F ? (char) v : '.');
                }
            }
            b.append(" |").append(ascii).append('|');
        }
        return b.toString();
    }

    private String disassemble(long start, int n) {
        Cpu cpu = machine.cpu;
        int base = cpu.segmentBase(Cpu.SEG_CS);
        boolean code32 = Disassembler.code32(cpu);
        int mask = code32 ? -1 : 0xFFFF;
        int ip = ((int) start - base) & mask;
        int eip = cpu.linearEip();
        StringBuilder b = new StringBuilder();
        for (int k = 0; k < n; k++) {
            int lin = base + ip;
            int at = ip;
            Disassembler.Instruction in = Disassembler.decode(i -> Disassembler.peek(cpu, base + ((at + i) & mask)), at, code32);
            boolean bp = session.breakpoints().stream().anyMatch(x -> x.linear == lin);
            if (k > 0) b.append('\n');
            String mark = (lin == eip ? "=>" : "  ") + (bp ? "*" : " ");
            String text = Disassembler.peek(cpu, lin) < 0 ? "(not mapped)" : in.text();
            b.append(String.format("%s 0x%08x  %-24s %s", mark, lin, Disassembler.peek(cpu, lin) < 0 ? "" : in.hexBytes(), text).stripTrailing());
            ip = (ip + in.length()) & mask;
        }
        return b.toString();
    }

    private String checkpointTable() {
        CheckpointEngine e = session.requireEngine();
        List<CheckpointInfo> all = e.checkpoints();
        List<Integer> corrupt = e.integrityCheck();
        Table t = new Table("rrrrrl", "id", "guest time", "instructions", "pages", "bytes", "integrity");
        for (CheckpointInfo c : all) {
            t.row(c.id(), guestTime(c.guestNanos()), c.icount(), c.pages(), bytes(c.bytes()), corrupt.contains(c.id()) ? "CORRUPT" : "ok");
        }
        long now = machine.clock.toNanos(machine.clock.now());
        CheckpointInfo target = e.atOrBefore(now - e.config().latencyNanos());
        return t.render() + String.format(Locale.ROOT, "%nnow: instruction %d, guest time %s; %s", machine.cpu.icount(), guestTime(now),
                target == null ? "no checkpoint is " + guestTime(e.config().latencyNanos()) + " (the latency bound) old yet"
                        : "recover would roll back to checkpoint " + target.id());
    }

    private String rollback(String text) {
        CheckpointEngine e = session.requireEngine();
        List<CheckpointInfo> all = e.checkpoints();
        long icount = machine.cpu.icount();
        long nowNanos = machine.clock.toNanos(machine.clock.now());
        int id;
        if (text.startsWith("-")) {
            int n = parseInt(text.substring(1), "number of checkpoints back");
            if (n < 1) throw usage("rollback -N takes N of 1 or more");
            List<CheckpointInfo> before = new ArrayList<>();
            for (CheckpointInfo c : all) {
                if (c.icount() < icount || (c.icount() == icount && c.guestNanos() < nowNanos)) before.add(c);
            }
            if (before.size() < n) {
                throw usage(before.size() + " retained checkpoint" + (before.size() == 1 ? " is" : "s are") + " older than now: cannot go back " + n);
            }
            id = before.get(before.size() - n).id();
        } else if (text.startsWith("@")) {
            long t = Units.guestTime(text.substring(1));
            if (t > nowNanos) throw usage("guest time " + guestTime(t) + " is ahead of the guest (now " + guestTime(nowNanos) + ")");
            CheckpointInfo c = e.atOrBefore(t);
            if (c == null) {
                throw usage("no retained checkpoint is at or before " + guestTime(t)
                        + (all.isEmpty() ? "" : " (the oldest is " + all.get(0).id() + " at " + guestTime(all.get(0).guestNanos()) + ")"));
            }
            id = c.id();
        } else {
            id = parseInt(text, "checkpoint (an id, -N or @TIME)");
        }
        session.output.flush();
        RollbackReport r = e.rollback(id);
        session.forked(r.target());
        return String.format(Locale.ROOT, "rolled back to checkpoint %d at guest time %s (instruction %d): %d page%s restored in %.2f ms",
                id, guestTime(r.target().guestNanos()), r.target().icount(), r.pagesRestored(), r.pagesRestored() == 1 ? "" : "s",
                r.nanos() / 1e6);
    }

    private String diff(int id) {
        CheckpointEngine e = session.requireEngine();
        MachineState then = e.stateOf(id);
        MachineState now = machine.saveState();
        CheckpointInfo info = null;
        for (CheckpointInfo c : e.checkpoints()) if (c.id() == id) info = c;
        StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "since checkpoint %d (guest time %s, instruction %d):",
                id, guestTime(info.guestNanos()), info.icount()));
        CpuState a = then.cpu(), z = now.cpu();
        Table t = new Table("lrr", "register", "then", "now");
        for (int i = 0; i < 8; i++) change(t, REGISTERS[i], a.regs()[i], z.regs()[i]);
        change(t, "eip", a.eip(), z.eip());
        change(t, "eflags", a.eflags(), z.eflags());
        for (int i = 0; i < 6; i++) {
            change(t, SEGMENTS[i], a.segments().get(i).selector(), z.segments().get(i).selector());
            change(t, SEGMENTS[i] + ".base", a.segments().get(i).base(), z.segments().get(i).base());
        }
        change(t, "cr0", a.cr0(), z.cr0());
        change(t, "cr2", a.cr2(), z.cr2());
        change(t, "cr3", a.cr3(), z.cr3());
        change(t, "cr4", a.cr4(), z.cr4());
        if (a.cpl() != z.cpl()) t.row("cpl", a.cpl(), z.cpl());
        if (!Arrays.equals(a.fpu().registers(), z.fpu().registers()) || a.fpu().status() != z.fpu().status()
                || a.fpu().control() != z.fpu().control() || a.fpu().tag() != z.fpu().tag()) {
            t.row("x87", "", "changed");
        }
        t.row("icount", a.icount(), z.icount());
        b.append('\n').append(t.render());
        List<String> devices = new ArrayList<>();
        for (int i = 0; i < then.devices().size() && i < now.devices().size(); i++) {
            if (!Arrays.equals(then.devices().get(i).state(), now.devices().get(i).state())) devices.add(then.devices().get(i).name());
        }
        if (then.clockSkipped() != now.clockSkipped()) devices.add("clock (halted time)");
        b.append("\ndevices changed: ").append(devices.isEmpty() ? "none" : String.join(", ", devices));
        long[] written = session.pages().since(id);
        int count = 0;
        for (long w : written) count += Long.bitCount(w);
        b.append(String.format(Locale.ROOT, "%npages written: %d (%s)", count, bytes((long) count << 12)));
        List<String> ranges = new ArrayList<>();
        int pages = machine.memory.pageCount();
        for (int p = 0; p < pages; p++) {
            if ((written[p >>> 6] & (1L << (p & 63))) == 0) continue;
            int q = p;
            while (q + 1 < pages && (written[(q + 1) >>> 6] & (1L << ((q + 1) & 63))) != 0) q++;
            ranges.add(q == p ? String.format("0x%08x", (long) p << 12)
                    : String.format("0x%08x-0x%08x (%d pages)", (long) p << 12, ((long) (q + 1) << 12) - 1, q - p + 1));
            p = q;
        }
        for (int i = 0; i < ranges.size(); i++) {
            if (i == 40) {
                b.append(String.format("%n  ... and %d more ranges", ranges.size() - 40));
                break;
            }
            b.append("\n  ").append(ranges.get(i));
        }
        return b.toString();
    }

    private static void change(Table t, String name, int then, int now) {
        if (then != now) t.row(name, String.format("0x%08x", then), String.format("0x%08x", now));
    }

    private String inject(List<String> a) {
        String target = a.get(0).toLowerCase(Locale.ROOT);
        String address = null;
        int next = 1;
        boolean mem = target.equals("mem") || target.equals("mem-door");
        if (mem) {
            if (a.size() < 2) throw usage("usage: inject " + target + " ADDR [BIT] (ADDR is physical)");
            address = a.get(1);
            next = 2;
        }
        if (a.size() > next + 1) throw usage("usage: inject TARGET [ADDR] [BIT]");
        int bits = mem ? 8 : target.matches("fpr[0-7]") ? 64 : target.matches("fpr[0-7]\\.exp") ? 16 : 32;
        int bit = a.size() > next ? parseInt(a.get(next), "bit number") : random.nextInt(bits);
        if (bit < 0 || bit >= bits) throw usage("bit " + bit + " is out of range (0-" + (bits - 1) + ")");
        Fault f;
        try {
            f = Fault.parse(target, address, bit);
        } catch (NumberFormatException e) {
            throw usage("'" + address + "' is not a physical address (like 0x105000)");
        }
        FaultInjector.Injected r = FaultInjector.inject(machine, f);
        int width = Fault.isMemory(f.target()) ? 2 : bits == 64 ? 16 : bits == 16 ? 4 : 8;
        return String.format(Locale.ROOT, "flipped bit %d of %s: 0x%0" + width + "x -> 0x%0" + width + "x (instruction %d)", bit, f.location(),
                r.before(), r.after(), machine.cpu.icount());
    }

    private String recover() {
        RecoveryManager.Outcome o = session.recoverNow("recover typed at the console");
        if (!o.recovered()) throw usage("cannot recover: " + o.message());
        return "recovered: " + o.message();
    }

    private static String settings(CheckpointConfig c) {
        Table t = new Table("ll", "setting", "value");
        t.row("interval", c.interval() + (c.hostClock() ? " (host clock)" : ""));
        t.row("mode", c.mode().name().toLowerCase(Locale.ROOT));
        t.row("predictor", c.predictor().name().toLowerCase(Locale.ROOT));
        t.row("latency", guestTime(c.latencyNanos()));
        t.row("keep", c.keepCaps() ? String.valueOf(c.keep()) : c.keep() + ", or what the latency bound needs");
        t.row("checkpoint-memory", bytes(c.memoryBudget()));
        return t.render();
    }

    private String set(String name, String value) {
        CheckpointConfig c = session.requireEngine().config();
        CheckpointConfig n;
        try {
            n = switch (name) {
                case "interval" -> {
                    Interval i = Units.interval(value);
                    if (c.hostClock() && i.instructions()) throw usage("the engine follows the host clock: give a time interval (like 50ms)");
                    CheckpointOptions.checkFloor(i, machine.config().ticksPerSecond(), "interval " + value);
                    yield c.withInterval(i);
                }
                case "predictor" -> {
                    try {
                        yield c.withPredictor(CheckpointConfig.PredictorKind.valueOf(value.toUpperCase(Locale.ROOT)));
                    } catch (IllegalArgumentException e) {
                        throw usage("predictor takes none, last or history, not '" + value + "'");
                    }
                }
                case "latency" -> c.withLatencyNanos(Units.guestNanos(value));
                case "keep" -> {
                    int k = parseInt(value, "number of checkpoints");
                    if (k < 1) throw usage("keep must be at least 1");
                    yield c.withKeep(k);
                }
                default -> throw usage("set takes interval, predictor, latency or keep, not '" + name + "'");
            };
        } catch (VmmException e) {
            throw e;
        } catch (IllegalArgumentException e) {
            throw usage(name + ": " + e.getMessage());
        }
        if (name.equals("keep") || name.equals("latency")) {
            session.retune(n.keep(), n.latencyNanos());
        } else {
            session.reconfigure(n);
        }
        List<CheckpointInfo> kept = session.requireEngine().checkpoints();
        return name + " is now " + value + "; the " + kept.size() + " checkpoint" + (kept.size() == 1 ? "" : "s") + " retained stay"
                + (kept.isEmpty() ? "" : " (" + kept.get(0).id() + "-" + kept.get(kept.size() - 1).id() + ")")
                + (name.equals("interval") ? ", the next one " + value + " after checkpoint " + kept.get(kept.size() - 1).id() : "");
    }

    // --- formatting --------------------------------------------------------------------------------------

    static String guestTime(long nanos) {
        if (nanos >= 10_000_000_000L) return String.format(Locale.ROOT, "%.3f s", nanos / 1e9);
        return String.format(Locale.ROOT, "%.3f ms", nanos / 1e6);
    }

    static String bytes(long n) {
        if (n >= 10L << 20) return String.format(Locale.ROOT, "%.1f MiB", n / 1048576.0);
        if (n >= 10L << 10) return String.format(Locale.ROOT, "%.1f KiB", n / 1024.0);
        return n + " B";
    }

    // --- completion ---------------------------------------------------------------------------------------

    /** Completes command names and, after them, what each command takes. */
    private final class CommandCompleter implements Completer {
        private final FileNameCompleter files = new FileNameCompleter();

        @Override
        public void complete(LineReader r, ParsedLine line, List<Candidate> out) {
            List<String> words = line.words();
            int index = line.wordIndex();
            if (index == 0) {
                for (Command c : ordered) for (String n : c.names()) if (n.length() > 1) out.add(new Candidate(n, n, null, c.summary(), null, null, true));
                return;
            }
            Command c = commands.get(words.get(0).toLowerCase(Locale.ROOT));
            if (c == null) return;
            switch (c.args()) {
                case COMMAND -> {
                    if (index == 1) for (Command k : ordered) out.add(new Candidate(k.name()));
                }
                case CHECKPOINT -> {
                    if (index == 1) for (int id : session.checkpointIdsSnapshot()) out.add(new Candidate(Integer.toString(id)));
                }
                case BREAKPOINT -> {
                    if (index == 1) for (int n : session.breakpointNumbersSnapshot()) out.add(new Candidate(Integer.toString(n)));
                }
                case ADDRESS -> {
                    out.add(new Candidate("eip"));
                    for (String reg : REGISTERS) out.add(new Candidate(reg));
                    if (c.name().equals("mem") && index == 1) out.add(new Candidate("-p"));
                }
                case FILE -> {
                    if (index == 1) files.complete(r, line, out);
                }
                case SETTING -> {
                    if (index == 1) for (String s : SETTINGS) out.add(new Candidate(s));
                    if (index == 2 && words.get(1).equalsIgnoreCase("predictor")) {
                        for (String p : new String[] {"none", "last", "history"}) out.add(new Candidate(p));
                    }
                }
                case INJECT -> {
                    if (index == 1) for (String t : INJECT_TARGETS) out.add(new Candidate(t));
                }
                default -> {
                }
            }
        }
    }

    /** For tests: the completions offered for {@code line} with the cursor at its end. */
    List<String> completions(String line) {
        List<Candidate> out = new ArrayList<>();
        ParsedLine parsed = reader.getParser().parse(line, line.length(), org.jline.reader.Parser.ParseContext.COMPLETE);
        completer.complete(reader, parsed, out);
        List<String> values = new ArrayList<>();
        String word = parsed.word();
        for (Candidate c : out) if (c.value().startsWith(word)) values.add(c.value());
        return values;
    }
}
