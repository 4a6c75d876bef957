package io.mucheckpoint.cli.gdb;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * gdb's remote serial protocol framing over one connection: {@code $payload#cs} packets with their
 * {@code +}/{@code -} acknowledgements (until no-ack mode), and the out-of-band interrupt byte 0x03.
 * A reader thread turns the byte stream into {@link Event}s; {@link #send} frames and writes a reply.
 * A packet with a bad checksum is refused with {@code -} (gdb sends it again); one longer than
 * {@link #MAX_PACKET} is skipped and reported, so a bad client cannot make the stub hold unbounded
 * memory.
 */
final class PacketChannel implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(PacketChannel.class);
    /** The largest packet accepted (gdb is told 0x4000 in qSupported; X packets of that size are escaped). */
    static final int MAX_PACKET = 1 << 16;

    /** What arrives from gdb. */
    sealed interface Event permits Packet, Interrupt, TooLong, Closed {}

    /** A packet's payload as sent (binary escapes still in place). */
    record Packet(byte[] data) implements Event {
        String text() {
            return new String(data, StandardCharsets.ISO_8859_1);
        }
    }

    record Interrupt() implements Event {}

    record TooLong() implements Event {}

    record Closed() implements Event {}

    private final InputStream in;
    private final OutputStream out;
    private final BlockingQueue<Event> events = new LinkedBlockingQueue<>();
    private final BlockingQueue<Boolean> acks = new LinkedBlockingQueue<>();
    private final Thread reader;
    private final Runnable onInterrupt;
    private volatile boolean noAck;
    private volatile boolean closed;

    /** @param onInterrupt told at once (on the reader thread) when gdb sends 0x03 or goes away */
    PacketChannel(InputStream in, OutputStream out, Runnable onInterrupt, String name) {
        this.in = in;
        this.out = out;
        this.onInterrupt = onInterrupt;
        this.reader = new Thread(this::read, name);
        reader.setDaemon(true);
        reader.start();
    }

    /** The next event, or null after {@code millis}. */
    Event next(long millis) throws InterruptedException {
        return events.poll(millis, TimeUnit.MILLISECONDS);
    }

    /** Acknowledgements stop (after QStartNoAckMode has been answered). */
    void noAckMode() {
        noAck = true;
    }

    /** Frames and writes one packet; in acknowledged mode, resends it (a few times) until gdb acknowledges it. */
    void send(String payload) throws IOException {
        byte[] body = payload.getBytes(StandardCharsets.ISO_8859_1);
        int sum = 0;
        for (byte b : body) sum += b & 0xFF;
        ByteArrayOutputStream f = new ByteArrayOutputStream(body.length + 4);
        f.write('$');
        f.writeBytes(body);
        f.writeBytes(String.format("#%02x", sum & 0xFF).getBytes(StandardCharsets.US_ASCII));
        byte[] frame = f.toByteArray();
        for (int attempt = 0; attempt < 4; attempt++) {
            acks.clear();
            write(frame);
            if (noAck) return;
            Boolean ok;
            try {
                ok = acks.poll(2, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted");
            }
            if (closed) throw new IOException("gdb closed the connection");
            if (ok == null || ok) return; // no ack at all: gdb may have switched acks off; go on
        }
        throw new IOException("gdb refused a reply four times");
    }

    private synchronized void write(byte[] b) throws IOException {
        out.write(b);
        out.flush();
    }

    private void ack(boolean good) {
        if (noAck) return;
        try {
            write(new byte[] {(byte) (good ? '+' : '-')});
        } catch (IOException e) {
            log.debug("cannot acknowledge: {}", e.getMessage());
        }
    }

    private void read() {
        try {
            ByteArrayOutputStream packet = new ByteArrayOutputStream();
            while (true) {
                int c = in.read();
                if (c < 0) break;
                switch (c) {
                    case '+' -> acks.offer(true);
                    case '-' -> acks.offer(false);
                    case 0x03 -> {
                        onInterrupt.run();
                        events.add(new Interrupt());
                    }
                    case '$' -> {
                        packet.reset();
                        boolean tooLong = false;
                        int sum = 0;
                        while ((c = in.read()) >= 0 && c != '#') {
                            if (c == '$') { // a new packet starts: the old one was cut off
                                packet.reset();
                                sum = 0;
                                tooLong = false;
                                continue;
                            }
                            sum += c;
                            if (packet.size() < MAX_PACKET) packet.write(c);
                            else tooLong = true;
                        }
                        int h = c < 0 ? -1 : in.read(), l = h < 0 ? -1 : in.read();
                        if (l < 0) {
                            closedByPeer();
                            return;
                        }
                        int given = hex(h) * 16 + hex(l);
                        if (hex(h) < 0 || hex(l) < 0 || given != (sum & 0xFF)) {
                            log.debug("gdb packet with a bad checksum dropped");
                            ack(false);
                        } else if (tooLong) {
                            ack(true);
                            events.add(new TooLong());
                        } else {
                            ack(true);
                            events.add(new Packet(packet.toByteArray()));
                        }
                    }
                    default -> {
                        // noise between packets is ignored, as gdb's own stubs do
                    }
                }
            }
        } catch (IOException e) {
            log.debug("gdb connection read failed: {}", e.getMessage());
        }
        closedByPeer();
    }

    private void closedByPeer() {
        closed = true;
        acks.offer(false);
        onInterrupt.run();
        events.add(new Closed());
    }

    private static int hex(int c) {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    }

    boolean isClosed() {
        return closed;
    }

    @Override
    public void close() {
        closed = true;
        try {
            in.close();
        } catch (IOException e) {
            // closing anyway
        }
        try {
            out.close();
        } catch (IOException e) {
            // closing anyway
        }
    }
}
