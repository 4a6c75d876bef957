package io.mucheckpoint.cli.gdb;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gdb stub's listening socket: one debugger at a time. A second one that connects while the
 * first is attached gets an error reply to its first packet and is disconnected; the first is not
 * disturbed. Binds to the loopback interface unless an address is given explicitly.
 */
public final class GdbServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(GdbServer.class);

    /** What happens when gdb detaches or kills the guest. */
    public record Policy(boolean resumeOnDetach, Runnable onKill) {}

    private final DebugSession session;
    private final ServerSocket socket;
    private final Policy policy;
    private final Thread acceptor;
    private volatile GdbStub active;
    private volatile Thread activeThread;
    private volatile boolean closed;

    private GdbServer(DebugSession session, ServerSocket socket, Policy policy) {
        this.session = session;
        this.socket = socket;
        this.policy = policy;
        this.acceptor = new Thread(this::accept, "gdb-listener");
        acceptor.setDaemon(true);
    }

    /**
     * QEMU's spelling of where to listen: {@code tcp::PORT} (loopback), {@code tcp:HOST:PORT} (that
     * address, e.g. 0.0.0.0 for every interface), or a bare {@code PORT}. Port 0 picks a free one.
     */
    public static InetSocketAddress parse(String spec) {
        String s = spec.strip();
        if (s.startsWith("tcp:")) s = s.substring(4);
        String host = "";
        String port = s;
        int colon = s.lastIndexOf(':');
        if (colon >= 0) {
            host = s.substring(0, colon);
            port = s.substring(colon + 1);
        }
        int p;
        try {
            p = Integer.parseInt(port);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + spec + "' is not a gdb address (like tcp::1234 or tcp:0.0.0.0:1234)");
        }
        if (p < 0 || p > 65535) throw new IllegalArgumentException("port " + p + " is out of range (0-65535)");
        if (host.startsWith("[") && host.endsWith("]")) host = host.substring(1, host.length() - 1);
        if (host.isEmpty() || host.equals("localhost")) return new InetSocketAddress(InetAddress.getLoopbackAddress(), p);
        return new InetSocketAddress(host, p);
    }

    public static GdbServer start(DebugSession session, InetSocketAddress at, Policy policy) throws IOException {
        if (at.isUnresolved()) throw new IOException("cannot resolve " + at.getHostString());
        ServerSocket s = new ServerSocket();
        s.setReuseAddress(true);
        try {
            s.bind(at, 1);
        } catch (IOException e) {
            s.close();
            throw new IOException("cannot listen on " + at.getHostString() + ":" + at.getPort() + ": " + e.getMessage(), e);
        }
        GdbServer g = new GdbServer(session, s, policy);
        g.acceptor.start();
        return g;
    }

    /** Where it listens (with the real port when 0 was asked for). */
    public InetSocketAddress address() {
        return (InetSocketAddress) socket.getLocalSocketAddress();
    }

    public boolean attached() {
        return active != null;
    }

    private void accept() {
        while (!closed) {
            Socket c;
            try {
                c = socket.accept();
            } catch (IOException e) {
                if (!closed) log.warn("gdb listener stopped: {}", e.getMessage());
                return;
            }
            String who = c.getRemoteSocketAddress().toString();
            if (active != null) {
                refuse(c, who);
                continue;
            }
            try {
                c.setTcpNoDelay(true);
                GdbStub stub = new GdbStub(session, c.getInputStream(), c.getOutputStream(), policy);
                active = stub;
                Thread t = new Thread(() -> serve(stub, c, who), "gdb-connection");
                t.setDaemon(true);
                activeThread = t;
                t.start();
            } catch (IOException e) {
                log.warn("gdb connection from {} failed: {}", who, e.getMessage());
                closeQuietly(c);
            }
        }
    }

    private void serve(GdbStub stub, Socket c, String who) {
        session.announce("gdb attached from " + who);
        try {
            stub.serve();
        } catch (RuntimeException e) {
            log.warn("gdb connection from {} failed: {}", who, e.toString());
            log.debug("gdb connection failure", e);
        } finally {
            closeQuietly(c);
            active = null;
            if (!closed) session.announce(stub.killed() ? "gdb killed the guest and left" : "gdb detached");
        }
    }

    /** Answers the newcomer's first packet with an error naming the reason, then hangs up. */
    private static void refuse(Socket c, String who) {
        log.info("refused a second gdb connection from {}: one is attached", who);
        Thread t = new Thread(() -> {
            try {
                c.setSoTimeout(2000);
                InputStream in = c.getInputStream();
                OutputStream out = c.getOutputStream();
                int b;
                while ((b = in.read()) >= 0 && b != '#') {
                    // skip to the end of the first packet
                }
                if (b == '#') {
                    in.read();
                    in.read();
                    out.write('+');
                }
                String msg = "E.another gdb is attached to this guest";
                int sum = 0;
                for (byte x : msg.getBytes(StandardCharsets.US_ASCII)) sum += x & 0xFF;
                out.write(("$" + msg + "#" + String.format("%02x", sum & 0xFF)).getBytes(StandardCharsets.US_ASCII));
                out.flush();
            } catch (IOException e) {
                // it went away first
            } finally {
                closeQuietly(c);
            }
        }, "gdb-refuse");
        t.setDaemon(true);
        t.start();
    }

    private static void closeQuietly(Socket c) {
        try {
            c.close();
        } catch (IOException e) {
            // closing anyway
        }
    }

    /** Stops listening and ends the connection, if any (the guest is left as it is). */
    @Override
    public void close() {
        closed = true;
        try {
            socket.close();
        } catch (IOException e) {
            // closing anyway
        }
        GdbStub s = active;
        if (s != null) s.close();
        Thread t = activeThread;
        if (t != null) {
            try {
                t.join(3000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
