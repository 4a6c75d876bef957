package io.mucheckpoint.cli;

import io.mucheckpoint.checkpoint.CheckpointConfig;
import io.mucheckpoint.checkpoint.CheckpointEngine;
import io.mucheckpoint.checkpoint.EngineStats;
import io.mucheckpoint.checkpoint.SnapshotFile;
import io.mucheckpoint.cli.gdb.GdbServer;
import io.mucheckpoint.recovery.RecoveryManager;
import io.mucheckpoint.recovery.ReplayConsole;
import io.mucheckpoint.cpu.TraceWriter;
import io.mucheckpoint.vmm.Machine;
import io.mucheckpoint.vmm.clock.IdlePacer;
import io.mucheckpoint.vmm.RunResult;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStream;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import org.jline.terminal.Attributes;
import org.jline.terminal.Terminal;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "run", sortOptions = false, mixinStandardHelpOptions = true,
        description = {"Run a guest with COM1 on this terminal.",
                "With no guest named, runs the default bundled workload. On a terminal, keys go to the guest:"
                        + " Ctrl-A x quits, Ctrl-A c pauses into the console, Ctrl-A h lists the escapes."
                        + " From a pipe, standard input feeds COM1."},
        footer = {"", ExitStatus.HELP})
final class RunCommand implements Callable<Integer> {
    @Mixin
    GuestOptions guest;

    @Mixin
    CheckpointOptions checkpoints;

    @Option(names = "--stats", description = "Print a summary of checkpointing to standard error at exit.")
    boolean stats;

    @Option(names = "--stats-json", paramLabel = "FILE", description = "Write checkpoint statistics as JSON to FILE at exit.")
    Path statsJson;

    @Option(names = "--exit-code", paramLabel = "native|qemu", defaultValue = "native",
            description = "How a guest's isa-debug-exit value v becomes vmm's status: native v, or qemu (v << 1) | 1 (default: ${DEFAULT-VALUE}).")
    String exitCode;

    @Option(names = "--trace", paramLabel = "FILE",
            description = "Write one line per instruction (registers before it runs) in shared/tools/qemu-trace's format.")
    Path trace;

    @Option(names = "--trace-disasm",
            description = "With --trace, append each instruction's bytes and Intel-syntax text to its line, after ' | '.")
    boolean traceDisasm;

    @Option(names = "--trace-limit", paramLabel = "N", defaultValue = "10000000",
            description = "Stop tracing after N instructions (default: ${DEFAULT-VALUE}).")
    long traceLimit;

    @Option(names = "--restore", paramLabel = "FILE",
            description = "Resume a machine saved in a snapshot file (the guest options are taken from the file).")
    Path restore;

    @Option(names = "--save-at", paramLabel = "N",
            description = "When the guest has retired N instructions, write a snapshot to the --save file and go on.")
    Long saveAt;

    @Option(names = "--save", paramLabel = "FILE", description = "Where --save-at writes its snapshot.")
    Path saveFile;

    @Option(names = "--recover", description = "Automatic recovery: a detected error (guest exception report, self-check, "
            + "triple fault, dead halt, watchdog) rolls the guest back to the newest checkpoint at least --latency older.")
    boolean recover;

    @Option(names = "--restart", description = "With --recover: reboot the guest when an error cannot be recovered.")
    boolean restart;

    @Option(names = "--watchdog", paramLabel = "DURATION", defaultValue = "0",
            description = "With --recover: no console output or heartbeat for this long is a detection (default: off).")
    String watchdog;

    @Option(names = "--gdb", paramLabel = "tcp::PORT",
            description = "Listen for gdb (target remote :PORT), as QEMU's -gdb: on the loopback interface unless a host is given"
                    + " (tcp:0.0.0.0:PORT). With checkpoints, gdb can also step and continue backwards (docs/debugging.md).")
    String gdb;

    @Option(names = "--gdb-wait", description = "With --gdb: start the guest stopped, until gdb attaches and continues it (QEMU's -S).")
    boolean gdbWait;

    /** For tests: a terminal to run on as if standard input and output were one. */
    static volatile Supplier<Terminal> terminalForTests;

    @Override
    public Integer call() throws Exception {
        if (!exitCode.equals("native") && !exitCode.equals("qemu")) {
            throw new VmmException(ExitStatus.USAGE, "--exit-code takes native or qemu, not '" + exitCode + "'");
        }
        if ((saveAt == null) != (saveFile == null)) throw new VmmException(ExitStatus.USAGE, "--save-at and --save go together");
        if (traceDisasm && trace == null) throw new VmmException(ExitStatus.USAGE, "--trace-disasm goes with --trace FILE");
        if (checkpoints.off && (stats || statsJson != null)) {
            throw new VmmException(ExitStatus.USAGE, "--stats needs checkpointing (drop --no-checkpoint)");
        }
        CheckpointConfig config = checkpoints.off ? null : checkpoints.config();
        if ((restart || !watchdog.equals("0")) && !recover) throw new VmmException(ExitStatus.USAGE, "--restart and --watchdog go with --recover");
        if (recover && checkpoints.off) throw new VmmException(ExitStatus.USAGE, "--recover needs checkpoints: drop --no-checkpoint");
        long watchdogNanos = GuestOptions.parse(() -> Units.guestNanos(watchdog), "--watchdog");
        if (gdbWait && gdb == null) throw new VmmException(ExitStatus.USAGE, "--gdb-wait goes with --gdb tcp::PORT");
        if (gdb != null) GdbAttach.address(gdb); // a malformed address fails here, before the guest loads
        if (System.console() != null || terminalForTests != null) return runOnTerminal(config, watchdogNanos);
        if (gdb != null) return runWithGdb(config, watchdogNanos);
        HostOutput out = new HostOutput(System.out);
        ReplayConsole replay = new ReplayConsole(out);
        Machine machine = Boot.machine(guest, restore, replay);
        Writer traceOut = startTrace(machine);
        CheckpointEngine engine = null;
        if (!checkpoints.off) {
            try {
                engine = new CheckpointEngine(machine, config);
            } catch (IllegalArgumentException e) {
                throw new VmmException(ExitStatus.USAGE, e.getMessage());
            }
            engine.start();
        }
        RecoveryManager recovery = null;
        if (recover) {
            recovery = new RecoveryManager(machine, engine, config.latencyNanos(), replay).withWatchdog(watchdogNanos).withRestart(restart);
            recovery.addEventListener(e -> {
                out.flush();
                System.err.println("vmm: " + e);
            });
        }
        Thread input = startInputPump(machine);
        long t0 = System.nanoTime();
        try {
            return runToEnd(machine, engine, recovery, out);
        } finally {
            out.flush();
            if (traceOut != null) traceOut.close();
            if (input != null) input.interrupt();
            if (engine != null) report(engine, machine, System.nanoTime() - t0);
        }
    }

    private Writer startTrace(Machine machine) throws IOException {
        if (trace == null) return null;
        Writer traceOut = new BufferedWriter(Files.newBufferedWriter(trace, StandardCharsets.US_ASCII), 1 << 16);
        machine.cpu.setTracer(new TraceWriter(traceOut, traceLimit, traceDisasm));
        return traceOut;
    }

    /**
     * On a terminal: raw mode, keys to COM1, QEMU's Ctrl-A escapes; Ctrl-A c pauses into the console.
     * The guest runs on a thread of its own; the terminal is restored on every way out.
     */
    private int runOnTerminal(CheckpointConfig config, long watchdogNanos) throws Exception {
        GuestOutput out = new GuestOutput(GuestOutput.stream(System.out));
        ReplayConsole replay = new ReplayConsole(out);
        Machine machine = Boot.machine(guest, restore, replay);
        Writer traceOut = startTrace(machine);
        GuestSession session;
        try {
            session = new GuestSession(machine, config, out, replay);
        } catch (IllegalArgumentException e) {
            throw new VmmException(ExitStatus.USAGE, e.getMessage());
        }
        if (recover) {
            session.setAutoRecover(true);
            session.recovery().withWatchdog(watchdogNanos).withRestart(restart);
            session.recovery().addEventListener(e -> session.announce(e.toString()));
        }
        if (saveAt != null) {
            session.at(saveAt, () -> {
                try {
                    SnapshotFile.save(machine, saveFile);
                } catch (IOException e) {
                    throw new VmmException(ExitStatus.NO_INPUT, "cannot write " + saveFile + ": " + e.getMessage());
                }
                System.err.println("vmm: saved a snapshot at instruction " + saveAt + " to " + saveFile);
            });
        }
        GdbServer gdbServer = gdb == null ? null : startGdb(session, session::requestQuit);
        if (gdbWait) session.expectDebugger();
        Supplier<Terminal> test = terminalForTests;
        Terminal terminal = test != null ? test.get() : Interactive.systemTerminal();
        if (test == null) machine.setIdlePacer(new IdlePacer()); // a person is waiting: idle in real time
        out.setDisplay(GuestOutput.stream(terminal.output()));
        Attributes original = terminal.getAttributes();
        Thread restoreTerminal = new Thread(() -> terminal.setAttributes(original), "restore-terminal");
        Runtime.getRuntime().addShutdownHook(restoreTerminal);
        long t0 = System.nanoTime();
        Interactive.End end;
        try {
            session.start(!gdbWait);
            end = new Interactive(terminal, session, Interactive.historyFile(null), false).run(true, true);
        } finally {
            if (gdbServer != null) gdbServer.close();
            session.close();
            terminal.setAttributes(original);
            terminal.flush();
            terminal.close();
            try {
                Runtime.getRuntime().removeShutdownHook(restoreTerminal);
            } catch (IllegalStateException e) {
                // shutting down already
            }
            if (traceOut != null) traceOut.close();
            if (session.engine() != null) report(session.engine(), machine, System.nanoTime() - t0);
        }
        if (session.failure() != null) {
            throw new VmmException(ExitStatus.INTERNAL, "internal error: " + session.failure() + " (run with -vv for details)");
        }
        RunResult r = session.finish();
        if (end == Interactive.End.INTERRUPTED || r == null) return ExitStatus.INTERRUPTED;
        return status(r);
    }

    /** Starts the gdb stub on the session; {@code killed} hears gdb's kill. */
    private GdbServer startGdb(GuestSession session, Runnable killed) {
        GdbServer server = GdbAttach.start(session, gdb, true, killed, m -> System.err.println("vmm: " + m));
        System.err.println("vmm: " + GdbAttach.listening(server) + (gdbWait ? "; the guest waits for it" : ""));
        return server;
    }

    /**
     * vmm run --gdb from a pipe: the guest runs on a session of its own, gdb drives it, and vmm ends
     * when the guest ends or gdb kills it (INTERRUPTED).
     */
    private int runWithGdb(CheckpointConfig config, long watchdogNanos) throws Exception {
        GuestOutput out = new GuestOutput(GuestOutput.stream(System.out));
        ReplayConsole replay = new ReplayConsole(out);
        Machine machine = Boot.machine(guest, restore, replay);
        Writer traceOut = startTrace(machine);
        GuestSession session;
        try {
            session = new GuestSession(machine, config, out, replay);
        } catch (IllegalArgumentException e) {
            throw new VmmException(ExitStatus.USAGE, e.getMessage());
        }
        if (recover) {
            session.setAutoRecover(true);
            session.recovery().withWatchdog(watchdogNanos).withRestart(restart);
            session.recovery().addEventListener(e -> System.err.println("vmm: " + e));
        }
        java.util.concurrent.CountDownLatch killed = new java.util.concurrent.CountDownLatch(1);
        GdbServer server = startGdb(session, killed::countDown);
        Thread input = startInputPump(machine);
        long t0 = System.nanoTime();
        try {
            session.start(!gdbWait);
            while (session.state() != GuestSession.State.FINISHED && session.failure() == null) {
                if (killed.await(50, java.util.concurrent.TimeUnit.MILLISECONDS)) break;
            }
            // gdb, if attached, is told the guest's end before vmm goes
            for (int i = 0; i < 40 && server.attached() && killed.getCount() > 0; i++) Thread.sleep(50);
        } finally {
            server.close();
            session.close();
            input.interrupt();
            if (traceOut != null) traceOut.close();
            if (session.engine() != null) report(session.engine(), machine, System.nanoTime() - t0);
        }
        if (session.failure() != null) {
            throw new VmmException(ExitStatus.INTERNAL, "internal error: " + session.failure() + " (run with -vv for details)");
        }
        RunResult r = session.finish();
        if (killed.getCount() == 0 || r == null) {
            System.err.println("vmm: gdb killed the guest");
            return ExitStatus.INTERRUPTED;
        }
        return status(r);
    }

    private int status(RunResult r) {
        if (r.kind() == RunResult.Kind.EXIT) {
            return exitCode.equals("qemu") ? ((r.exitStatus() << 1) | 1) & 0xFF : r.exitStatus() & 0xFF;
        }
        System.err.println("vmm: " + r.message());
        return ExitStatus.GUEST_CRASH;
    }

    private void report(CheckpointEngine engine, Machine machine, long hostNanos) throws IOException {
        EngineStats s = engine.stats();
        if (statsJson != null) Files.writeString(statsJson, s.toJson() + "\n");
        if (stats) System.err.print(StatsSummary.format(s, machine.cpu.icount(), machine.clock.toNanos(machine.clock.now()), hostNanos));
    }

    private int runToEnd(Machine machine, CheckpointEngine engine, RecoveryManager recovery, HostOutput out)
            throws InterruptedException, IOException {
        while (true) {
            long limit = saveAt != null && machine.cpu.icount() < saveAt ? saveAt : Long.MAX_VALUE;
            RunResult r = recovery != null ? recovery.run(Long.MAX_VALUE, limit)
                    : engine != null ? engine.run(Long.MAX_VALUE, limit) : machine.run(Long.MAX_VALUE, limit);
            if (saveAt != null && machine.cpu.icount() == saveAt && limit == saveAt) {
                out.flush();
                SnapshotFile.save(machine, saveFile);
                System.err.println("vmm: saved a snapshot at instruction " + saveAt + " to " + saveFile);
            }
            switch (r.kind()) {
                case EXIT:
                    return status(r);
                case IDLE:
                    out.flush();
                    if (stdinClosed) {
                        System.err.println("vmm: " + r.message() + ", and there is no more input");
                        return ExitStatus.GUEST_CRASH;
                    }
                    Thread.sleep(5);
                    break;
                case LIMIT:
                case PAUSED:
                    break;
                default:
                    out.flush();
                    System.err.println("vmm: " + r.message());
                    return ExitStatus.GUEST_CRASH;
            }
        }
    }

    private volatile boolean stdinClosed;

    /** Feeds standard input to COM1 (a pipe or a terminal in line mode). */
    private Thread startInputPump(Machine machine) {
        Thread t = new Thread(() -> {
            InputStream in = System.in;
            try {
                int b;
                while ((b = in.read()) >= 0) machine.offerInput(b);
            } catch (IOException e) {
                // treated as end of input
            }
            stdinClosed = true;
        }, "stdin-to-com1");
        t.setDaemon(true);
        t.start();
        return t;
    }
}
