package io.mucheckpoint.vmm.dev;

import io.mucheckpoint.vmm.state.Persistent;
import java.util.function.IntConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The POST diagnostic port 0x80. Firmware and Linux write progress codes here (Linux also uses it
 * as an I/O delay), so each write is only logged at debug; the last code is kept for the machine's
 * stop message and reads return it.
 */
public final class PostCodePort implements BytePortDevice, Persistent<PostCodePort.State> {
    private static final Logger LOG = LoggerFactory.getLogger(PostCodePort.class);

    public static final int PORT = 0x80;

    public record State(int lastCode) {}

    private int lastCode;
    private IntConsumer listener;

    /** Hears every code written (null: none); for tests that check a firmware's progress. */
    public void setListener(IntConsumer listener) {
        this.listener = listener;
    }

    public void attachTo(IoPortBus bus) {
        bus.register(PORT, 1, this);
    }

    /** The last byte the guest wrote to port 0x80 (0 if none). */
    public int lastCode() {
        return lastCode;
    }

    @Override
    public int inByte(int port) {
        return port == PORT ? lastCode : 0xFF;
    }

    @Override
    public void outByte(int port, int value) {
        if (port != PORT) return;
        lastCode = value & 0xFF;
        if (listener != null) listener.accept(lastCode);
        if (LOG.isDebugEnabled()) LOG.debug("POST code 0x{}", Integer.toHexString(lastCode));
    }

    @Override
    public State save() {
        return new State(lastCode);
    }

    @Override
    public void restore(State state) {
        lastCode = state.lastCode() & 0xFF;
    }
}
