package io.mucheckpoint.cli.gdb;

import io.mucheckpoint.checkpoint.CheckpointEngine;
import io.mucheckpoint.checkpoint.CheckpointInfo;
import io.mucheckpoint.recovery.InputLog;
import io.mucheckpoint.recovery.ReplayConsole;
import io.mucheckpoint.vmm.Machine;
import io.mucheckpoint.vmm.RunResult;
import java.util.function.Supplier;

/**
 * The guest under debug, as the gdb stub sees it: a machine that runs on a thread of its own and
 * is only ever touched there. Methods marked "guest thread" may only be called inside
 * {@link #call}; the others from any thread.
 */
public interface DebugSession {
    /** Runs {@code f} on the guest thread between two run slices and returns its result; its exceptions propagate. */
    <T> T call(Supplier<T> f);

    /** Asks a running guest to pause soon (any thread). */
    void pause();

    /** Waits until the guest is not running; returns false if it still runs after {@code millis}. */
    boolean awaitStop(long millis) throws InterruptedException;

    boolean running();

    /** Attaches the debugger's hooks to the guest's runs, or detaches them (null). Guest thread. */
    void attach(RunHooks hooks);

    /** The debugger's breakpoints changed. Guest thread. */
    void breakpointsChanged();

    /** Guest thread. */
    Machine machine();

    /** The checkpoint engine, or null when checkpointing is off. Guest thread. */
    CheckpointEngine engine();

    /** How the guest ended, or null while it can run. Guest thread. */
    RunResult finished();

    /** Whether the guest's last stop was at a breakpoint. */
    boolean stoppedAtBreakpoint();

    /** Lets the guest run in the background. Guest thread; throws IllegalStateException if it has ended. */
    void resume();

    /** Executes one instruction; returns why it stopped otherwise (a stop reason, the guest's end), or null. Guest thread. */
    RunResult step();

    /** One replay slice (see the session's {@code replaySlice}). Guest thread. */
    RunResult replaySlice(long icountLimit, long tickLimit);

    /** Takes a checkpoint here. Guest thread. */
    CheckpointInfo checkpointHere();

    /** The console output's replay guard. Guest thread. */
    ReplayConsole replay();

    /** Host input as the guest received it. Guest thread. */
    InputLog inputLog();

    /** Raw memory upsets injected into the guest, to take back when going back past them. */
    io.mucheckpoint.recovery.UpsetHistory upsets();

    /** Runs a console command (not on the guest thread) and returns what it printed. */
    String monitor(String commandLine);

    /** A line for the user (the console or standard error), such as "gdb attached". */
    void announce(String message);
}
