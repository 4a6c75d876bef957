package io.mucheckpoint.cli;

import io.mucheckpoint.checkpoint.CheckpointEngine;
import io.mucheckpoint.checkpoint.CheckpointInfo;
import io.mucheckpoint.cli.gdb.DebugSession;
import io.mucheckpoint.cli.gdb.GdbServer;
import io.mucheckpoint.cli.gdb.RunHooks;
import io.mucheckpoint.recovery.InputLog;
import io.mucheckpoint.recovery.ReplayConsole;
import io.mucheckpoint.vmm.Machine;
import io.mucheckpoint.vmm.RunResult;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.jline.terminal.Size;
import org.jline.terminal.impl.ExternalTerminal;

/**
 * The gdb stub over a {@link GuestSession}: what {@code vmm run --gdb} and the console's {@code gdb}
 * command start. gdb's monitor commands are the console's own, run on a console of their own whose
 * output is captured.
 */
final class GdbAttach implements DebugSession {
    private final GuestSession session;
    private final Consumer<String> announce;
    private Console monitor;
    private ByteArrayOutputStream monitorOut;

    private GdbAttach(GuestSession session, Consumer<String> announce) {
        this.session = session;
        this.announce = announce;
    }

    /**
     * Listens for gdb at {@code spec} (QEMU's -gdb spelling). {@code resumeOnDetach}: the guest runs
     * on when gdb detaches or goes away (vmm run), rather than staying paused (the console).
     */
    static GdbServer start(GuestSession session, String spec, boolean resumeOnDetach, Runnable onKill, Consumer<String> announce) {
        java.net.InetSocketAddress at = address(spec);
        try {
            return GdbServer.start(new GdbAttach(session, announce), at, new GdbServer.Policy(resumeOnDetach, onKill));
        } catch (IOException e) {
            throw new VmmException(ExitStatus.USAGE, "gdb: " + e.getMessage());
        }
    }

    /** Where {@code spec} says to listen; a usage error if it does not parse. */
    static java.net.InetSocketAddress address(String spec) {
        try {
            return GdbServer.parse(spec);
        } catch (IllegalArgumentException e) {
            throw new VmmException(ExitStatus.USAGE, "gdb: " + e.getMessage());
        }
    }

    /** The line that tells the user where to point gdb. */
    static String listening(GdbServer server) {
        java.net.InetSocketAddress a = server.address();
        String host = a.getAddress().isLoopbackAddress() ? "localhost" : a.getAddress().getHostAddress();
        return String.format("gdb stub listening on %s:%d (in gdb: target remote %s:%d)", a.getAddress().getHostAddress(), a.getPort(),
                host, a.getPort());
    }

    @Override
    public <T> T call(Supplier<T> f) {
        return session.call(s -> f.get());
    }

    @Override
    public void pause() {
        session.pause();
    }

    @Override
    public boolean awaitStop(long millis) throws InterruptedException {
        return session.awaitStop(millis);
    }

    @Override
    public boolean running() {
        return session.state() == GuestSession.State.RUNNING;
    }

    @Override
    public void attach(RunHooks hooks) {
        session.attachDebugger(hooks);
    }

    @Override
    public void breakpointsChanged() {
        session.debuggerBreakpointsChanged();
    }

    @Override
    public Machine machine() {
        return session.machine;
    }

    @Override
    public CheckpointEngine engine() {
        return session.engine();
    }

    @Override
    public RunResult finished() {
        return session.state() == GuestSession.State.FINISHED ? session.finish() : null;
    }

    @Override
    public boolean stoppedAtBreakpoint() {
        return session.stoppedAtBreakpoint();
    }

    @Override
    public void resume() {
        try {
            session.resume();
        } catch (VmmException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    @Override
    public RunResult step() {
        return session.step(1);
    }

    @Override
    public RunResult replaySlice(long icountLimit, long tickLimit) {
        return session.replaySlice(icountLimit, tickLimit);
    }

    @Override
    public CheckpointInfo checkpointHere() {
        return session.checkpointNow();
    }

    @Override
    public ReplayConsole replay() {
        return session.replay;
    }

    @Override
    public InputLog inputLog() {
        return session.recovery().inputLog();
    }

    @Override
    public io.mucheckpoint.recovery.UpsetHistory upsets() {
        return session.upsets();
    }

    @Override
    public synchronized String monitor(String commandLine) {
        if (monitor == null) {
            monitorOut = new ByteArrayOutputStream();
            try {
                ExternalTerminal t = new ExternalTerminal("gdb-monitor", "dumb", new ByteArrayInputStream(new byte[0]), monitorOut,
                        StandardCharsets.UTF_8);
                t.setSize(new Size(200, 50));
                monitor = new Console(t, session, null, true);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        monitorOut.reset();
        monitor.execute(commandLine);
        return monitorOut.toString(StandardCharsets.UTF_8).replace("\r\n", "\n");
    }

    @Override
    public void announce(String message) {
        announce.accept(message);
    }
}
