package io.mucheckpoint.cli;

import io.mucheckpoint.checkpoint.CheckpointConfig;
import io.mucheckpoint.checkpoint.CheckpointEngine;
import io.mucheckpoint.checkpoint.CheckpointInfo;
import io.mucheckpoint.cli.gdb.RunHooks;
import io.mucheckpoint.cpu.Disassembler;
import io.mucheckpoint.recovery.InputLog;
import io.mucheckpoint.recovery.RecoveryManager;
import io.mucheckpoint.recovery.ReplayConsole;
import io.mucheckpoint.vmm.Machine;
import io.mucheckpoint.vmm.RunResult;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A guest running on a thread of its own, which the console and the terminal drive.
 *
 * <p>The machine is single-threaded: the machine, its processor and the checkpoint engine are only
 * ever touched on the guest thread. Other threads post work with {@link #call}, which runs between
 * two run slices (at an instruction boundary), while the guest is paused or running; or they
 * {@link #pause}. The guest runs in slices of at most {@link #SLICE} instructions, so pauses,
 * posted work and breakpoints are looked at often.
 *
 * <p>The session drives the machine directly and lets the engine take each checkpoint exactly where
 * the engine's schedule puts it, so a run through the session checkpoints where {@code vmm run}
 * would; between the end of an epoch and its checkpoint it reads the memory's dirty bits, which is
 * how {@code diff} knows the pages written since a checkpoint.
 *
 * <p>Output and input across rollbacks follow the design brief's invariant 7 through the recovery
 * module: the machine's console sink is a {@link ReplayConsole}, and each checkpoint engine comes
 * with a {@link RecoveryManager}, whose input log the session replays after a recovery.
 */
final class GuestSession implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(GuestSession.class);
    static final long SLICE = 2_000_000;
    /** Instructions between looks at the host clock when epochs follow it. */
    private static final long HOST_CLOCK_SLICE = 50_000;

    enum State { PAUSED, RUNNING, FINISHED }

    /** A breakpoint: stop before the instruction at a linear address. */
    static final class Breakpoint {
        final int number;
        final int linear;
        int hits;

        Breakpoint(int number, int linear) {
            this.number = number;
            this.linear = linear;
        }
    }

    final Machine machine;
    final GuestOutput output;
    final ReplayConsole replay;
    private CheckpointEngine engine;
    private RecoveryManager recovery;
    private WrittenPages pages;
    private ExecutedInstructions executed;
    private final Thread thread;
    private final LinkedBlockingQueue<Runnable> tasks = new LinkedBlockingQueue<>();
    private final Object stateLock = new Object();
    private volatile State state = State.PAUSED;
    private volatile boolean pauseWanted;
    private volatile boolean closing;
    private volatile Consumer<String> events = s -> {};
    private volatile String lastEvent;
    private volatile int[] checkpointIds = new int[0];
    private volatile int[] breakpointNumbers = new int[0];
    /** Host time spent running the guest (its slices), not paused at the prompt. */
    private volatile long runningNanos;

    // Guest-thread state.
    private long untilIcount = Long.MAX_VALUE;
    private long hookIcount = Long.MAX_VALUE;
    private Runnable hook;
    /** --time-limit: the run ends when guest time reaches limitTicks or the instruction count limitIcount. */
    private long limitTicks = Long.MAX_VALUE;
    private long limitIcount = Long.MAX_VALUE;
    private String limitMessage;
    /** Automatic recovery: detections roll the guest back by the latency window. */
    private boolean autoRecover;
    private int newestCheckpoint = -1;
    private final List<Breakpoint> breakpoints = new ArrayList<>();
    private int nextBreakpoint = 1;
    private volatile RunResult finish;
    private volatile Throwable failure;
    /** A debugger attached to the session (gdb), or null. */
    private volatile RunHooks debugger;
    private volatile boolean debuggerExpected;
    private volatile boolean quitRequested;
    private final List<Runnable> closeActions = new java.util.concurrent.CopyOnWriteArrayList<>();
    /** The last stop was at a breakpoint (the session's or the debugger's). */
    private volatile boolean stoppedAtBreakpoint;

    /**
     * @param replay the machine's console sink, which passes output on to {@code output}
     * @param checkpoints the checkpoint engine's settings, or null to run without checkpoints
     */
    /** Raw memory upsets injected here, taken back when the user or a debugger moves the guest back past them. */
    private final io.mucheckpoint.recovery.UpsetHistory upsets;

    GuestSession(Machine machine, CheckpointConfig checkpoints, GuestOutput output, ReplayConsole replay) {
        this.upsets = new io.mucheckpoint.recovery.UpsetHistory(machine);
        this.machine = machine;
        this.output = output;
        this.replay = replay;
        if (checkpoints != null) startEngine(checkpoints);
        thread = new Thread(this::loop, "guest");
        thread.setDaemon(true);
    }

    void start(boolean running) {
        if (running) state = State.RUNNING;
        thread.start();
    }

    /** Where state changes are told (paused, breakpoint, exited...): one line each, from the guest thread. */
    void onEvent(Consumer<String> listener) {
        events = listener;
    }

    // --- for any thread ------------------------------------------------------------------------

    State state() {
        return state;
    }

    /** Asks a running guest to pause at the next instruction boundary the run loop looks at. */
    void pause() {
        if (state != State.RUNNING) return;
        pauseWanted = true;
        machine.requestPause();
    }

    /** Waits until the guest is not running (or the timeout passes); returns whether it stopped. */
    boolean awaitStop(long millis) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        synchronized (stateLock) {
            while (state == State.RUNNING) {
                long left = end - System.nanoTime();
                if (left <= 0) return false;
                TimeUnit.NANOSECONDS.timedWait(stateLock, left);
            }
        }
        return true;
    }

    /** Runs {@code f} on the guest thread at the next instruction boundary and returns its result; its exceptions propagate. */
    <T> T call(Function<GuestSession, T> f) {
        // Not started, or ended (isAlive() false makes everything it did visible here): run it here.
        if (Thread.currentThread() == thread || !thread.isAlive()) return f.apply(this);
        CompletableFuture<T> result = new CompletableFuture<>();
        tasks.add(() -> {
            try {
                result.complete(f.apply(this));
            } catch (Throwable t) {
                result.completeExceptionally(t);
            }
        });
        if (state == State.RUNNING) machine.requestPause(); // ends the current slice soon; the run goes on after
        try {
            while (true) {
                try {
                    return result.get(100, TimeUnit.MILLISECONDS);
                } catch (java.util.concurrent.TimeoutException e) {
                    if (!thread.isAlive()) {
                        Runnable t;
                        while ((t = tasks.poll()) != null) t.run();
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new VmmException(ExitStatus.INTERRUPTED, "interrupted");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) throw r;
            if (e.getCause() instanceof Error err) throw err;
            throw new IllegalStateException(e.getCause());
        }
    }

    void run(Runnable r) {
        call(s -> {
            r.run();
            return null;
        });
    }

    /** The last event told (why the guest stopped), or null. */
    String lastEvent() {
        return lastEvent;
    }

    /** The retained checkpoints' ids as last published by the guest thread (for completion). */
    int[] checkpointIdsSnapshot() {
        return checkpointIds;
    }

    int[] breakpointNumbersSnapshot() {
        return breakpointNumbers;
    }

    /** Host time the guest has spent running: what an instructions-per-second rate divides by. */
    long runningNanos() {
        return runningNanos;
    }

    /** Runs {@code r} when the session closes (before the guest thread ends), e.g. to stop a gdb stub started on it. */
    void onClose(Runnable r) {
        closeActions.add(r);
    }

    @Override
    public void close() {
        for (Runnable r : closeActions) {
            try {
                r.run();
            } catch (RuntimeException e) {
                log.debug("closing", e);
            }
        }
        closeActions.clear();
        closing = true;
        pauseWanted = true;
        machine.requestPause();
        tasks.add(() -> {});
        try {
            thread.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        output.flush();
    }

    // --- for the guest thread (inside call) --------------------------------------------------------

    CheckpointEngine engine() {
        return engine;
    }

    /** The engine, or an error saying checkpointing is off. */
    CheckpointEngine requireEngine() {
        if (engine == null) throw new VmmException(ExitStatus.USAGE, "checkpointing is off (the console was started with --no-checkpoint)");
        return engine;
    }

    WrittenPages pages() {
        return pages;
    }

    /** Instructions executed since the engine started, re-runs after rollbacks included. */
    long executed() {
        return executed == null ? 0 : executed.count();
    }

    RunResult finish() {
        return finish;
    }

    /** What broke the run loop (a bug in the VMM), or null. */
    Throwable failure() {
        return failure;
    }

    /** Sets the guest running (from paused). */
    void resume() {
        if (state == State.FINISHED) {
            throw new VmmException(ExitStatus.USAGE, finish.message() + ": roll back to a checkpoint to run it again");
        }
        pauseWanted = false;
        RunHooks d = debugger;
        if (d != null) d.resuming();
        if (!breakpoints.isEmpty() || d != null) applyBreakpoints(); // a breakpoint where the guest stands does not stop it again
        setState(State.RUNNING);
    }

    /** Runs until the instruction count reaches {@code icount}, then pauses. */
    void runUntil(long icount) {
        untilIcount = icount;
        resume();
    }

    /** Stops at instruction {@code icount} to run {@code r} there, then goes on (for --save-at). */
    void at(long icount, Runnable r) {
        hookIcount = icount;
        hook = r;
    }

    /**
     * Ends the run (as a finish of kind {@link RunResult.Kind#LIMIT} with {@code message}) when guest
     * time reaches {@code ticks} or the instruction count {@code icount} (Long.MAX_VALUE: no limit).
     */
    void timeLimit(long ticks, long icount, String message) {
        limitTicks = ticks;
        limitIcount = icount;
        limitMessage = message;
    }

    private boolean pastTimeLimit() {
        return machine.clock.now() >= limitTicks || machine.cpu.icount() >= limitIcount;
    }

    /** Runs up to {@code n} instructions right here (the guest must be paused); returns why it stopped early, or null. */
    RunResult step(long n) {
        if (state == State.RUNNING) throw new VmmException(ExitStatus.USAGE, "the guest is running: pause it first (pause, or Ctrl-C)");
        if (state == State.FINISHED) throw new VmmException(ExitStatus.USAGE, finish.message() + ": roll back to a checkpoint to run it again");
        long target = machine.cpu.icount() + n;
        stoppedAtBreakpoint = false;
        RunHooks d = debugger;
        if (d != null) d.resuming();
        if (!breakpoints.isEmpty() || d != null) applyBreakpoints();
        while (machine.cpu.icount() < target) {
            if (pastTimeLimit()) {
                RunResult r = new RunResult(RunResult.Kind.LIMIT, 0, limitMessage);
                finish(r);
                return r;
            }
            RunResult r = slice(target, Long.MAX_VALUE);
            if (d != null && !r.finished()) {
                String why = d.stopReason();
                if (why != null) {
                    output.flush();
                    lastEvent = why;
                    events.accept(why);
                    return new RunResult(RunResult.Kind.PAUSED, 0, why);
                }
            }
            switch (r.kind()) {
                case LIMIT, PAUSED:
                    break;
                case IDLE:
                    return r;
                case BREAKPOINT:
                    hit();
                    return r;
                default:
                    if (r.finished()) {
                        finish(r);
                        return r;
                    }
            }
        }
        output.flush();
        return null;
    }

    List<Breakpoint> breakpoints() {
        return breakpoints;
    }

    Breakpoint addBreakpoint(int linear) {
        for (Breakpoint b : breakpoints) {
            if (b.linear == linear) throw new VmmException(ExitStatus.USAGE, String.format("breakpoint %d is already at 0x%08x", b.number, linear));
        }
        Breakpoint b = new Breakpoint(nextBreakpoint++, linear);
        breakpoints.add(b);
        applyBreakpoints();
        return b;
    }

    void deleteBreakpoint(int number) {
        if (!breakpoints.removeIf(b -> b.number == number)) {
            throw new VmmException(ExitStatus.USAGE, "there is no breakpoint " + number);
        }
        applyBreakpoints();
    }

    void deleteAllBreakpoints() {
        breakpoints.clear();
        applyBreakpoints();
    }

    private void applyBreakpoints() {
        RunHooks d = debugger;
        int[] extra = d == null ? new int[0] : d.breakpoints();
        int[] at = new int[breakpoints.size() + extra.length];
        int[] numbers = new int[breakpoints.size()];
        for (int i = 0; i < numbers.length; i++) {
            at[i] = breakpoints.get(i).linear;
            numbers[i] = breakpoints.get(i).number;
        }
        System.arraycopy(extra, 0, at, numbers.length, extra.length);
        machine.cpu.setBreakpoints(at);
        breakpointNumbers = numbers;
    }

    /**
     * Attaches a debugger (null detaches it): its breakpoints join the session's, its stop reasons
     * end runs, and while it holds the guest in the past live input waits. Guest thread.
     */
    void attachDebugger(RunHooks hooks) {
        debugger = hooks;
        applyBreakpoints();
    }

    /** The debugger's breakpoints changed (guest thread). */
    void debuggerBreakpointsChanged() {
        applyBreakpoints();
    }

    /** A debugger is attached, or expected (vmm run --gdb-wait): its stops are not the terminal's business. */
    boolean debuggerAttached() {
        return debugger != null || debuggerExpected;
    }

    /** Someone (gdb's kill) wants vmm to end: the terminal gives up the keyboard as on Ctrl-A x. */
    void requestQuit() {
        quitRequested = true;
    }

    boolean quitRequested() {
        return quitRequested;
    }

    /** The guest waits for a debugger to attach (vmm run --gdb-wait). */
    void expectDebugger() {
        debuggerExpected = true;
    }

    /** Whether the guest last stopped at a breakpoint (rather than a pause, a step or an instruction count). */
    boolean stoppedAtBreakpoint() {
        return stoppedAtBreakpoint;
    }

    /**
     * One run slice for a debugger replaying the past: up to {@code icountLimit} and guest time
     * {@code tickLimit}, taking checkpoints and delivering logged input exactly as any slice does,
     * telling nobody. Guest thread, guest paused.
     */
    RunResult replaySlice(long icountLimit, long tickLimit) {
        return slice(icountLimit, tickLimit);
    }

    /** Takes a checkpoint now. */
    CheckpointInfo checkpointNow() {
        CheckpointEngine e = requireEngine();
        pages.sample();
        return e.checkpointNow();
    }

    /** Turns automatic recovery (detections → latency-window rollbacks) on or off. */
    void setAutoRecover(boolean on) {
        autoRecover = on;
    }

    RecoveryManager recovery() {
        return recovery;
    }

    /** Tells the session's event listener (the console prints it above the prompt). */
    void announce(String message) {
        events.accept(message);
    }

    /** The newest checkpoint id, or -1. */
    int newestCheckpoint() {
        return newestCheckpoint;
    }

    /** A new epoch length and predictor in place; the checkpoints taken so far stay, with their ids. */
    void reconfigure(CheckpointConfig config) {
        requireEngine().reconfigure(config.interval(), config.predictor());
        publish(engine.checkpoints());
    }

    /** New retention settings in place; the checkpoints taken so far stay (a smaller keep drops the oldest). */
    void retune(int keep, long latencyNanos) {
        requireEngine().retune(keep, latencyNanos);
        recovery.setLatencyNanos(latencyNanos);
        publish(engine.checkpoints());
    }

    private void startEngine(CheckpointConfig config) {
        engine = new CheckpointEngine(machine, config);
        recovery = new RecoveryManager(machine, engine, config.latencyNanos(), replay);
        upsets.follow(engine);
        pages = new WrittenPages(machine.memory);
        executed = ExecutedInstructions.of(machine, engine);
        CheckpointEngine e = engine;
        e.addBoundaryListener(info -> {
            if (e != engine) return;
            List<CheckpointInfo> all = e.checkpoints();
            pages.checkpoint(info.id(), all.get(0).id());
            newestCheckpoint = info.id();
            publish(all);
        });
        e.addRollbackListener((target, from) -> {
            if (e != engine) return;
            pages.rolledBack(target.id());
            newestCheckpoint = target.id();
            finish = null;
            if (state == State.FINISHED) setState(State.PAUSED);
            publish(e.checkpoints());
        });
        e.start();
    }

    private void publish(List<CheckpointInfo> all) {
        int[] ids = new int[all.size()];
        for (int i = 0; i < ids.length; i++) ids[i] = all.get(i).id();
        checkpointIds = ids;
    }

    /** Where the engine will take the checkpoint after {@code c} (the engine's own rule). */
    /**
     * A rollback the user asked for, to checkpoint {@code target} (already done): the timeline
     * forks there (invariant 7): output after it is printed again as it happens, and host input
     * logged after it is dropped.
     */
    void forked(CheckpointInfo target) {
        replay.rolledBack(target.id(), true);
        recovery.inputLog().truncateFrom(target.icount(), target.guestNanos());
        upsets.putBack(target.icount(), target.guestNanos(), target.id());
    }

    io.mucheckpoint.recovery.UpsetHistory upsets() {
        return upsets;
    }

    /**
     * What automatic recovery does on a detection now: rolls back to the newest checkpoint at least
     * the latency bound old (further back if recovering again within the bound). The guest then
     * re-executes: output already shown is not shown again, logged input is delivered again.
     */
    RecoveryManager.Outcome recoverNow(String reason) {
        requireEngine();
        output.flush();
        return recovery.recoverNow(reason);
    }

    /** The guest's output on the current timeline, as far as it has been shown. */
    byte[] timeline() {
        output.flush();
        return replay.deliveredBytes();
    }

    // --- the run loop -------------------------------------------------------------------------------

    private void loop() {
        try {
            while (!closing) {
                Runnable t;
                while ((t = tasks.poll()) != null) t.run();
                if (closing) break;
                if (state != State.RUNNING) {
                    tasks.take().run();
                    continue;
                }
                if (pauseWanted) {
                    pauseWanted = false;
                    stop("paused at " + where());
                    continue;
                }
                if (pastTimeLimit()) {
                    finish(new RunResult(RunResult.Kind.LIMIT, 0, limitMessage));
                    continue;
                }
                long limit = Math.min(Math.min(untilIcount, hookIcount), limitIcount);
                RunHooks d = debugger;
                if (d != null) limit = Math.min(limit, d.sliceEnd(machine.cpu.icount()));
                RunResult r = slice(limit, Long.MAX_VALUE);
                if (autoRecover && recovery != null) {
                    RunResult after = recovery.afterSlice(r);
                    if (after != null) r = after;
                    recovery.releaseOutput(r);
                }
                output.tick();
                if (d != null && !r.finished()) {
                    d.sliceEnded();
                    String why = d.stopReason();
                    if (why != null && r.kind() != RunResult.Kind.BREAKPOINT) {
                        stop(why);
                        continue;
                    }
                }
                handle(r);
            }
        } catch (InterruptedException e) {
            // closing
        } catch (RuntimeException | Error e) {
            log.debug("guest thread failed", e);
            failure = e;
            finish(new RunResult(RunResult.Kind.TRIPLE_FAULT, 0, "internal error in the VMM: " + e));
        } finally {
            replay.releaseAll();
            output.flush();
        }
    }

    private void handle(RunResult r) throws InterruptedException {
        long icount = machine.cpu.icount();
        if (r.finished()) {
            finish(r);
            return;
        }
        switch (r.kind()) {
            case BREAKPOINT -> hit();
            case PAUSED -> {
                if (pauseWanted) {
                    pauseWanted = false;
                    stop("paused at " + where());
                }
            }
            case IDLE -> {
                // Only host input can wake the guest: wait for it (or for work) without spinning.
                output.flush();
                Runnable t = tasks.poll(10, TimeUnit.MILLISECONDS);
                if (t != null) t.run();
            }
            default -> {
                if (icount >= hookIcount) {
                    Runnable h = hook;
                    hook = null;
                    hookIcount = Long.MAX_VALUE;
                    output.flush();
                    if (h != null) h.run();
                }
                if (icount >= untilIcount) {
                    untilIcount = Long.MAX_VALUE;
                    stop("reached instruction " + icount + " at " + where());
                }
            }
        }
    }

    /**
     * One run slice: up to {@code icountLimit} and {@code tickLimit} (and never past --time-limit),
     * ending where the engine's next checkpoint is due.
     */
    private RunResult slice(long icountLimit, long tickLimit) {
        long t0 = System.nanoTime();
        try {
            return sliceTimed(icountLimit, Math.min(tickLimit, limitTicks));
        } finally {
            runningNanos += System.nanoTime() - t0;
        }
    }

    private RunResult sliceTimed(long icountLimit, long tickLimit) {
        long now = machine.cpu.icount();
        long limit = Math.min(icountLimit, now + SLICE);
        if (engine == null) return machine.run(tickLimit, limit);
        InputLog input = recovery.inputLog();
        input.deliverDue(machine);
        RunHooks d = debugger;
        machine.setInputHeld(input.replaying() || (d != null && d.holdLiveInput()));
        limit = input.icountLimit(now, limit);
        tickLimit = input.tickLimit(tickLimit);
        if (engine.config().hostClock()) limit = Math.min(limit, now + HOST_CLOCK_SLICE);
        RunResult r = machine.run(Math.min(tickLimit, engine.nextBoundaryTicks()), Math.min(limit, engine.nextBoundaryIcount()));
        if (r.kind() == RunResult.Kind.LIMIT || r.kind() == RunResult.Kind.PAUSED || r.kind() == RunResult.Kind.IDLE) {
            // The dirty bits are read before anything that may take a checkpoint (which clears
            // them), and only then: a slice ended by a breakpoint takes none, and a debugger
            // replaying through hundreds of breakpoint hits would otherwise scan every page at each.
            pages.sample();
            // Takes the checkpoint if one is due here; runs no instruction.
            RunResult b = engine.run(machine.clock.now(), machine.cpu.icount());
            if (r.kind() == RunResult.Kind.LIMIT && b.kind() != RunResult.Kind.LIMIT) r = b;
        }
        return r;
    }

    private void hit() {
        int at = machine.cpu.linearEip();
        Breakpoint hit = null;
        for (Breakpoint b : breakpoints) if (b.linear == at) hit = b;
        if (hit != null) hit.hits++;
        Disassembler.Instruction in = Disassembler.at(machine.cpu, machine.cpu.eip());
        stop((hit != null ? "breakpoint " + hit.number : "breakpoint") + " at " + where() + ": "
                + in.text().replaceAll("\\s+", " "), true);
    }

    /** The guest stops (paused): the event is told before waiters wake, so it prints before their next prompt. */
    private void stop(String message) {
        stop(message, false);
    }

    private void stop(String message, boolean atBreakpoint) {
        stoppedAtBreakpoint = atBreakpoint;
        output.flush();
        untilIcount = Long.MAX_VALUE;
        lastEvent = message;
        events.accept(message);
        setState(State.PAUSED);
    }

    private void finish(RunResult r) {
        output.flush();
        finish = r;
        untilIcount = Long.MAX_VALUE;
        StringBuilder b = new StringBuilder(r.kind() == RunResult.Kind.EXIT
                ? "guest exited with status " + r.exitStatus() + " at instruction " + machine.cpu.icount()
                : "guest stopped: " + r.message());
        for (Breakpoint bp : breakpoints) {
            if (bp.hits == 0) b.append(String.format("%nbreakpoint %d at 0x%08x was never hit", bp.number, bp.linear));
        }
        lastEvent = b.toString();
        events.accept(lastEvent);
        setState(State.FINISHED);
    }

    private void setState(State s) {
        synchronized (stateLock) {
            state = s;
            stateLock.notifyAll();
        }
    }

    /** Where the processor is: linear EIP, instruction count and guest time. */
    String where() {
        return String.format(Locale.ROOT, "0x%08x (instruction %d, guest time %s)", machine.cpu.linearEip(), machine.cpu.icount(),
                Console.guestTime(machine.clock.toNanos(machine.clock.now())));
    }
}
