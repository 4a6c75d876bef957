package io.mucheckpoint.cli;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;

/** A bare gdb remote-protocol client for tests: sends packets as gdb frames them and reads the replies. */
final class RspClient implements AutoCloseable {
    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    RspClient(int port) throws IOException {
        socket = new Socket(InetAddress.getLoopbackAddress(), port);
        socket.setSoTimeout(60_000);
        socket.setTcpNoDelay(true); // as gdb does: small packets and acks must not wait for each other
        in = socket.getInputStream();
        out = socket.getOutputStream();
    }

    static String frame(String payload) {
        int sum = 0;
        for (byte b : payload.getBytes(StandardCharsets.ISO_8859_1)) sum += b & 0xFF;
        return "$" + payload + "#" + String.format("%02x", sum & 0xFF);
    }

    void raw(String bytes) throws IOException {
        out.write(bytes.getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
    }

    /** Sends a packet and returns the reply's payload (acknowledging it), skipping console-output packets. */
    String ask(String payload) throws IOException {
        raw(frame(payload));
        return reply();
    }

    /** The next reply packet's payload (O packets are skipped), acknowledged. */
    String reply() throws IOException {
        while (true) {
            String p = packet();
            if (p.startsWith("O") && !p.equals("OK")) continue;
            return p;
        }
    }

    /** The next packet, whatever it is; acks before it are skipped. Throws at end of stream. */
    String packet() throws IOException {
        int c;
        while ((c = in.read()) != '$') {
            if (c < 0) throw new IOException("the stub closed the connection");
        }
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        while ((c = in.read()) != '#') {
            if (c < 0) throw new IOException("the stub closed the connection mid-packet");
            b.write(c);
        }
        in.read();
        in.read();
        out.write('+');
        out.flush();
        return b.toString(StandardCharsets.ISO_8859_1);
    }

    /** The next raw byte (an ack), or -1 at end of stream. */
    int read() throws IOException {
        return in.read();
    }

    /** Whether the stub closed the connection within {@code millis} (nothing more arrives). */
    boolean closedWithin(int millis) throws IOException {
        socket.setSoTimeout(millis);
        try {
            while (true) {
                if (in.read() < 0) return true;
            }
        } catch (SocketTimeoutException e) {
            return false;
        } finally {
            socket.setSoTimeout(60_000);
        }
    }

    /** A register as the stub sends it, little-endian hex, as a number. */
    long register(int n) throws IOException {
        String hex = ask(String.format("p%x", n));
        long v = 0;
        for (int i = hex.length() - 2; i >= 0; i -= 2) v = (v << 8) | Integer.parseInt(hex.substring(i, i + 2), 16);
        return v;
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
