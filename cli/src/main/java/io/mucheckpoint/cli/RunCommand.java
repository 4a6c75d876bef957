package io.mucheckpoint.cli;

import io.mucheckpoint.checkpoint.CheckpointConfig;
import io.mucheckpoint.checkpoint.CheckpointEngine;
import io.mucheckpoint.checkpoint.EngineStats;
import io.mucheckpoint.checkpoint.Interval;
import io.mucheckpoint.checkpoint.SnapshotFile;
import io.mucheckpoint.cli.gdb.GdbServer;
import io.mucheckpoint.recovery.RecoveryManager;
import io.mucheckpoint.recovery.ReplayConsole;
import io.mucheckpoint.vmm.Machine;
import io.mucheckpoint.vmm.clock.IdlePacer;
import io.mucheckpoint.vmm.RunResult;
import java.io.IOException;
import java.io.InputStream;
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

    @Option(names = "--stats", description = "Print a summary of the run's speed and of checkpointing to standard error at exit.")
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

    @Option(names = "--trace-limit", paramLabel = "N", defaultValue = "1000000",
            description = "Stop tracing after N instructions, about 160 bytes each (default: ${DEFAULT-VALUE}). A FILE ending in .gz is compressed.")
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

    @Option(names = "--output-commit", paramLabel = "immediate|latency", defaultValue = "immediate",
            description = "With --recover: show console output at once, or hold it until the checkpoint after it is older than "
                    + "--latency, so that an error detected within the bound never shows (default: ${DEFAULT-VALUE}).")
    String outputCommit;

    @Option(names = "--console-detect", paramLabel = "linux|TEXT[,TEXT...]",
            description = {"With --recover: a console line with one of these texts is a detection (linux: Kernel panic,",
                    "Oops:, BUG:, general protection fault) (default: with --linux, linux; otherwise none)."})
    String consoleDetect;

    /** The console detector --console-detect asks for (the Linux one for a Linux guest), or null. */
    private io.mucheckpoint.recovery.ConsolePatternDetector consoleDetector() {
        return guest.consoleDetector(consoleDetect);
    }

    private void detectOnConsole(RecoveryManager r) {
        io.mucheckpoint.recovery.ConsolePatternDetector d = consoleDetector();
        if (d != null) r.withConsolePatterns(d);
    }

    @Option(names = "--time-limit", paramLabel = "DURATION|Ni",
            description = "End the run after this much guest time (10s, 1.5s) or this many instructions (500Mi), with status "
                    + ExitStatus.TIME_LIMIT + " (default: no limit).")
    String timeLimit;

    @Option(names = "--stats-plot", paramLabel = "FILE.png",
            description = "Write a picture of checkpointing to FILE.png at exit: the pause at each boundary and the pages each epoch wrote.")
    Path statsPlot;

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
        CheckpointConfig config = checkOptions();
        checkOutputs();
        long watchdogNanos = GuestOptions.parse(() -> Units.guestNanos(watchdog), "--watchdog");
        Interval limit = timeLimit == null ? null : GuestOptions.parse(() -> Units.interval(timeLimit), "--time-limit");
        if (gdbWait && gdb == null) throw new VmmException(ExitStatus.USAGE, "--gdb-wait goes with --gdb tcp::PORT");
        if (gdb != null) GdbAttach.address(gdb); // a malformed address fails here, before the guest loads
        if (System.console() != null || terminalForTests != null) return runOnTerminal(config, watchdogNanos, limit);
        if (gdb != null) return runWithGdb(config, watchdogNanos, limit);
        return runFromPipe(config, watchdogNanos, limit);
    }

    /** Every usage error, before anything runs; returns the checkpoint settings (null with --no-checkpoint). */
    private CheckpointConfig checkOptions() {
        if (!exitCode.equals("native") && !exitCode.equals("qemu")) {
            throw new VmmException(ExitStatus.USAGE, "--exit-code takes native or qemu, not '" + exitCode + "'");
        }
        if ((saveAt == null) != (saveFile == null)) throw new VmmException(ExitStatus.USAGE, "--save-at and --save go together");
        if (traceDisasm && trace == null) throw new VmmException(ExitStatus.USAGE, "--trace-disasm goes with --trace FILE");
        if (traceLimit < 1) throw new VmmException(ExitStatus.USAGE, "--trace-limit must be at least 1");
        if (checkpoints.off && (statsJson != null || statsPlot != null)) {
            throw new VmmException(ExitStatus.USAGE, "--stats-json and --stats-plot need checkpointing (drop --no-checkpoint)");
        }
        if ((restart || !watchdog.equals("0")) && !recover) throw new VmmException(ExitStatus.USAGE, "--restart and --watchdog go with --recover");
        if (consoleDetect != null && !recover) throw new VmmException(ExitStatus.USAGE, "--console-detect goes with --recover");
        if (recover) consoleDetector(); // a bad pattern list is found before the run
        if (recover && checkpoints.off) throw new VmmException(ExitStatus.USAGE, "--recover needs checkpoints: drop --no-checkpoint");
        if (OutputCommit.held(outputCommit) && !recover) throw new VmmException(ExitStatus.USAGE, "--output-commit latency goes with --recover");
        return checkpoints.off ? null : checkpoints.config(guest.ticksPerSecond());
    }

    /** Every file the run will write, before the run: a bad path is found now, not after the work. */
    private void checkOutputs() {
        OutputFiles.check("--stats-json", statsJson);
        OutputFiles.check("--stats-plot", statsPlot);
        OutputFiles.check("--trace", trace);
        OutputFiles.check("--save", saveFile);
    }

    /** From a pipe: guest output to standard output, standard input to COM1, the run on this thread. */
    private int runFromPipe(CheckpointConfig config, long watchdogNanos, Interval limit) throws Exception {
        HostOutput out = new HostOutput(System.out);
        ReplayConsole replay = new ReplayConsole(out);
        Machine machine = Boot.machine(guest, restore, replay);
        if (OutputCommit.held(outputCommit)) replay.withOutputCommit(config.latencyNanos(), machine.clock::nanos);
        TraceFile traceFile = startTrace(machine);
        CheckpointEngine engine = null;
        EpochLog epochs = null;
        ExecutedInstructions executed = null;
        if (!checkpoints.off) {
            try {
                engine = new CheckpointEngine(machine, config);
            } catch (IllegalArgumentException e) {
                throw new VmmException(ExitStatus.USAGE, e.getMessage());
            }
            if (statsPlot != null) epochs = EpochLog.of(engine);
            executed = ExecutedInstructions.of(machine, engine);
            engine.start();
        }
        RecoveryManager recovery = null;
        if (recover) {
            recovery = new RecoveryManager(machine, engine, config.latencyNanos(), replay).withWatchdog(watchdogNanos).withRestart(restart);
            detectOnConsole(recovery);
            recovery.addEventListener(e -> {
                out.flush();
                System.err.println("vmm: " + e);
            });
        }
        Thread input = startInputPump(machine);
        beforeGuestStarts(machine);
        long t0 = System.nanoTime();
        int status = ExitStatus.INTERNAL;
        try {
            status = runToEnd(machine, engine, recovery, out, new Limit(machine, limit));
        } finally {
            replay.releaseAll();
            out.flush();
            if (stats && replay.holdsOutput()) System.err.println("vmm: " + OutputCommit.cost(replay.heldOutput()));
            if (input != null) input.interrupt();
            boolean written = writeOutputs(machine, engine, epochs, executed == null ? 0 : executed.count(), System.nanoTime() - t0,
                    traceFile);
            if (status != ExitStatus.INTERNAL) written &= Drives.commit(machine); // a failed ,writeback is a file error
            if (status != ExitStatus.INTERNAL) status = finalStatus(status, written);
        }
        return status;
    }

    /** --time-limit as absolute limits from where the run starts: ticks of guest time, or an instruction count. */
    private record Limit(long ticks, long icount, String message) {
        Limit(Machine m, Interval i) {
            this(i == null || i.instructions() ? Long.MAX_VALUE : m.clock.now() + Math.max(1, m.clock.fromNanos(i.amount())),
                    i == null || !i.instructions() ? Long.MAX_VALUE : m.cpu.icount() + i.amount(),
                    i == null ? null : "--time-limit " + i + " reached before the guest ended"
                            + (i.instructions() ? " (" + String.format(java.util.Locale.ROOT, "%,d", i.amount()) + " instructions)"
                            : " (guest time)"));
        }

        boolean reached(Machine m) {
            return m.clock.now() >= ticks || m.cpu.icount() >= icount;
        }
    }

    private TraceFile startTrace(Machine machine) {
        if (trace == null) return null;
        TraceFile t = TraceFile.open(trace, traceLimit, traceDisasm);
        machine.cpu.setTracer(t.tracer());
        return t;
    }

    /** --save-at: whether the snapshot was written, or its writing failed. */
    private volatile boolean saved;
    private volatile boolean saveFailed;

    private void saveSnapshot(Machine machine) {
        try {
            SnapshotFile.save(machine, saveFile);
            saved = true;
            System.err.println("vmm: saved a snapshot at instruction " + saveAt + " to " + saveFile);
        } catch (IOException e) {
            // The run goes on; the failure is told now and in the exit status.
            saveFailed = true;
            System.err.println("vmm: " + OutputFiles.writeFailed(saveFile, e).getMessage());
        }
    }

    /**
     * On a terminal: raw mode, keys to COM1, QEMU's Ctrl-A escapes; Ctrl-A c pauses into the console.
     * The guest runs on a thread of its own; the terminal is restored on every way out.
     */
    private int runOnTerminal(CheckpointConfig config, long watchdogNanos, Interval limit) throws Exception {
        GuestOutput out = new GuestOutput(GuestOutput.stream(System.out));
        ReplayConsole replay = new ReplayConsole(out);
        Machine machine = Boot.machine(guest, restore, replay);
        if (OutputCommit.held(outputCommit)) replay.withOutputCommit(config.latencyNanos(), machine.clock::nanos);
        TraceFile traceFile = startTrace(machine);
        GuestSession session;
        try {
            session = new GuestSession(machine, config, out, replay);
        } catch (IllegalArgumentException e) {
            throw new VmmException(ExitStatus.USAGE, e.getMessage());
        }
        EpochLog epochs = statsPlot != null ? EpochLog.of(session.engine()) : null;
        if (recover) {
            session.setAutoRecover(true);
            session.recovery().withWatchdog(watchdogNanos).withRestart(restart);
            detectOnConsole(session.recovery());
            session.recovery().addEventListener(e -> session.announce(e.toString()));
        }
        if (saveAt != null) session.at(saveAt, () -> saveSnapshot(machine));
        if (limit != null) {
            Limit l = new Limit(machine, limit);
            session.timeLimit(l.ticks(), l.icount(), l.message());
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
        StatusLine status = traceFile == null ? null
                : new StatusLine(terminal.output(), terminal.getWidth() > 0 ? terminal.getWidth() : 80, traceFile::progress);
        beforeGuestStarts(machine);
        Interactive.End end;
        boolean written;
        try {
            session.start(!gdbWait);
            Interactive ui = new Interactive(terminal, session, Interactive.historyFile(null), false);
            ui.setStatusLine(status);
            end = ui.run(true, true);
        } finally {
            if (gdbServer != null) gdbServer.close();
            session.close();
            if (status != null) status.close();
            terminal.setAttributes(original);
            terminal.flush();
            terminal.close();
            try {
                Runtime.getRuntime().removeShutdownHook(restoreTerminal);
            } catch (IllegalStateException e) {
                // shutting down already
            }
            written = writeOutputs(machine, session.engine(), epochs, session.executed(), session.runningNanos(), traceFile);
        }
        if (session.failure() != null) {
            throw new VmmException(ExitStatus.INTERNAL, "internal error: " + session.failure() + " (run with -vv for details)");
        }
        RunResult r = session.finish();
        written &= Drives.commit(machine); // ,writeback drives: a failed commit is a file error like any output
        int runStatus = end == Interactive.End.INTERRUPTED || r == null ? ExitStatus.INTERRUPTED : status(r);
        if (session.engine() != null && !stats) {
            // On a terminal a person is watching: say in one line what the checkpoint engine did.
            System.err.println(StatsSummary.line(session.engine().stats(), StatsSummary.taken(session.engine())));
        }
        return runStatus == ExitStatus.INTERRUPTED ? runStatus : finalStatus(runStatus, written);
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
    /** Off a terminal with --gdb: the guest runs on its own thread, gdb drives it, output goes to standard output. */
    private int runWithGdb(CheckpointConfig config, long watchdogNanos, Interval limit) throws Exception {
        GuestOutput out = new GuestOutput(GuestOutput.stream(System.out));
        ReplayConsole replay = new ReplayConsole(out);
        Machine machine = Boot.machine(guest, restore, replay);
        if (OutputCommit.held(outputCommit)) replay.withOutputCommit(config.latencyNanos(), machine.clock::nanos);
        TraceFile traceFile = startTrace(machine);
        GuestSession session;
        try {
            session = new GuestSession(machine, config, out, replay);
        } catch (IllegalArgumentException e) {
            throw new VmmException(ExitStatus.USAGE, e.getMessage());
        }
        EpochLog epochs = statsPlot != null ? EpochLog.of(session.engine()) : null;
        if (recover) {
            session.setAutoRecover(true);
            session.recovery().withWatchdog(watchdogNanos).withRestart(restart);
            detectOnConsole(session.recovery());
            session.recovery().addEventListener(e -> System.err.println("vmm: " + e));
        }
        if (saveAt != null) session.at(saveAt, () -> saveSnapshot(machine));
        if (limit != null) {
            Limit l = new Limit(machine, limit);
            session.timeLimit(l.ticks(), l.icount(), l.message());
        }
        java.util.concurrent.CountDownLatch killed = new java.util.concurrent.CountDownLatch(1);
        GdbServer server = startGdb(session, killed::countDown);
        Thread input = startInputPump(machine);
        beforeGuestStarts(machine);
        boolean written;
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
            written = writeOutputs(machine, session.engine(), epochs, session.executed(), session.runningNanos(), traceFile);
        }
        if (session.failure() != null) {
            throw new VmmException(ExitStatus.INTERNAL, "internal error: " + session.failure() + " (run with -vv for details)");
        }
        RunResult r = session.finish();
        written &= Drives.commit(machine);
        if (killed.getCount() == 0 || r == null) {
            System.err.println("vmm: gdb killed the guest");
            return ExitStatus.INTERRUPTED;
        }
        return finalStatus(status(r), written);
    }

    private int status(RunResult r) {
        if (r.kind() == RunResult.Kind.EXIT) {
            return exitCode.equals("qemu") ? ((r.exitStatus() << 1) | 1) & 0xFF : r.exitStatus() & 0xFF;
        }
        System.err.println("vmm: " + r.message());
        return r.kind() == RunResult.Kind.LIMIT ? ExitStatus.TIME_LIMIT : ExitStatus.GUEST_CRASH;
    }

    /**
     * The run's status, unless something the user asked to be written was not: then
     * {@link ExitStatus#CANT_CREATE}, so that a script notices the missing file (a crash or the time
     * limit, which say more about the run, keep their own status).
     */
    private int finalStatus(int runStatus, boolean outputsWritten) {
        boolean snapshotMissing = saveAt != null && !saved;
        if (snapshotMissing && !saveFailed) {
            System.err.println("vmm: no snapshot was written to " + saveFile + ": the run ended at instruction "
                    + String.format(java.util.Locale.ROOT, "%,d", lastIcount) + ", before --save-at " + saveAt);
        }
        if (outputsWritten && !snapshotMissing) return runStatus;
        return runStatus == ExitStatus.GUEST_CRASH || runStatus == ExitStatus.TIME_LIMIT ? runStatus : ExitStatus.CANT_CREATE;
    }

    /** With --stats: the run's speed and warm-up (also without checkpointing). */
    private RunSpeed speed;

    /** With --stats: the collector's stops of the guest during the run. */
    private CollectorPauses collector;

    /** The last step before the guest's first instruction, on every path: settle the heap, then start the --stats watchers. */
    private void beforeGuestStarts(Machine machine) {
        HeapSettle.beforeGuestStarts();
        speed = stats ? RunSpeed.start(machine) : null;
        collector = stats ? CollectorPauses.start() : null;
    }

    /** The instruction count where the run ended (for the --save-at message). */
    private long lastIcount;

    /**
     * Writes the files and summaries asked for, each on its own: one that fails is reported and
     * leaves the others written. Returns whether all were.
     */
    private boolean writeOutputs(Machine machine, CheckpointEngine engine, EpochLog epochs, long executed, long runningNanos,
            TraceFile traceFile) {
        boolean ok = true;
        lastIcount = machine.cpu.icount();
        if (traceFile != null) {
            System.err.println(traceFile.summary());
            ok &= !traceFile.failed();
        }
        if (engine == null) {
            if (speed != null) System.err.print(speed.format(true, runningNanos));
            if (collector != null) System.err.print(collector.format());
            return ok;
        }
        EngineStats s = engine.stats();
        if (statsJson != null) ok &= write(statsJson, () -> Files.writeString(statsJson, s.toJson() + "\n"));
        if (statsPlot != null) ok &= write(statsPlot, () -> StatsPlot.write(statsPlot, machine.image().name(), s, epochs, newest(engine)));
        if (stats) {
            System.err.print(StatsSummary.format(s, StatsSummary.taken(engine), machine.cpu.icount(),
                    machine.clock.toNanos(machine.clock.now()), executed, runningNanos));
            if (speed != null) System.err.print(speed.format(false, runningNanos));
            if (collector != null) System.err.print(collector.format());
        }
        return ok;
    }

    private static io.mucheckpoint.checkpoint.CheckpointInfo newest(CheckpointEngine engine) {
        var all = engine.checkpoints();
        return all.isEmpty() ? null : all.get(all.size() - 1);
    }

    @FunctionalInterface
    private interface Write {
        void run() throws IOException;
    }

    private static boolean write(Path file, Write w) {
        try {
            w.run();
            return true;
        } catch (IOException e) {
            System.err.println("vmm: " + OutputFiles.writeFailed(file, e).getMessage());
            return false;
        }
    }

    private int runToEnd(Machine machine, CheckpointEngine engine, RecoveryManager recovery, HostOutput out, Limit timeLimit)
            throws InterruptedException {
        while (true) {
            long limit = Math.min(timeLimit.icount(), saveAt != null && machine.cpu.icount() < saveAt ? saveAt : Long.MAX_VALUE);
            long ticks = timeLimit.ticks();
            RunResult r = recovery != null ? recovery.run(ticks, limit)
                    : engine != null ? engine.run(ticks, limit) : machine.run(ticks, limit);
            if (saveAt != null && machine.cpu.icount() == saveAt && limit == saveAt && !saved) {
                out.flush();
                saveSnapshot(machine);
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
                    if (timeLimit.reached(machine)) {
                        out.flush();
                        System.err.println("vmm: " + timeLimit.message());
                        return ExitStatus.TIME_LIMIT;
                    }
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
