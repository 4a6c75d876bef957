package io.mucheckpoint.vmm.dev;

import io.mucheckpoint.cpu.IoBus;
import java.util.BitSet;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The 64 KiB I/O port space: each port belongs to at most one device. Most are fixed at wiring
 * time; a PCI BAR's ports move when the guest reprograms the BAR ({@link #tryRegister}, {@link #unregister}).
 *
 * <p>Unclaimed ports behave like an empty ISA bus: reads float to all ones, writes vanish. Guests
 * (Linux above all) probe for hardware that is not there, so this is normal and logged at debug,
 * once per port. An access wider than a byte to a {@link BytePortDevice} is split into byte
 * accesses at consecutive ports; other devices receive the whole access at its first port.
 */
public final class IoPortBus implements IoBus {
    private static final Logger LOG = LoggerFactory.getLogger(IoPortBus.class);
    private static final int PORTS = 0x10000;

    private final IoDevice[] owners = new IoDevice[PORTS];
    private final BitSet reported = new BitSet(PORTS);

    /** Gives ports {@code [firstPort, firstPort + count)} to {@code device}. */
    public void register(int firstPort, int count, IoDevice device) {
        Objects.requireNonNull(device, "device");
        if (firstPort < 0 || count <= 0 || firstPort + count > PORTS) {
            throw new IllegalArgumentException(String.format(
                    "port range 0x%X+%d outside the I/O space", firstPort, count));
        }
        for (int p = firstPort; p < firstPort + count; p++) {
            if (owners[p] != null) {
                throw new IllegalArgumentException(String.format("port 0x%X already belongs to %s, cannot give it to %s",
                        p, owners[p].getClass().getSimpleName(), device.getClass().getSimpleName()));
            }
        }
        for (int p = firstPort; p < firstPort + count; p++) owners[p] = device;
    }

    /** Like {@link #register}, but gives nothing and returns false if any of the ports is taken. */
    public boolean tryRegister(int firstPort, int count, IoDevice device) {
        for (int p = firstPort; p < firstPort + count; p++) if (p >= PORTS || owners[p] != null) return false;
        register(firstPort, count, device);
        return true;
    }

    /** Takes back ports {@code [firstPort, firstPort + count)} from {@code device} (ports it does not own stay). */
    public void unregister(int firstPort, int count, IoDevice device) {
        for (int p = firstPort; p < firstPort + count && p < PORTS; p++) if (owners[p] == device) owners[p] = null;
    }

    /** The device owning {@code port}, or null. */
    public IoDevice deviceAt(int port) {
        return owners[port & 0xFFFF];
    }

    @Override
    public int in(int port, int size) {
        port &= 0xFFFF;
        IoDevice dev = owners[port];
        if (dev instanceof BytePortDevice && size > 1) {
            int v = 0;
            for (int i = 0; i < size; i++) v |= readByte((port + i) & 0xFFFF) << (8 * i);
            return v;
        }
        if (dev == null) {
            unclaimed(port, "read");
            return mask(size);
        }
        return dev.in(port, size) & mask(size);
    }

    @Override
    public void out(int port, int size, int value) {
        port &= 0xFFFF;
        IoDevice dev = owners[port];
        if (dev instanceof BytePortDevice && size > 1) {
            for (int i = 0; i < size; i++) writeByte((port + i) & 0xFFFF, (value >>> (8 * i)) & 0xFF);
            return;
        }
        if (dev == null) {
            unclaimed(port, "write");
            return;
        }
        dev.out(port, size, value & mask(size));
    }

    private int readByte(int port) {
        IoDevice dev = owners[port];
        if (dev == null) {
            unclaimed(port, "read");
            return 0xFF;
        }
        return dev.in(port, 1) & 0xFF;
    }

    private void writeByte(int port, int value) {
        IoDevice dev = owners[port];
        if (dev == null) {
            unclaimed(port, "write");
            return;
        }
        dev.out(port, 1, value);
    }

    private void unclaimed(int port, String what) {
        if (!reported.get(port)) {
            reported.set(port);
            LOG.debug("guest {} of unclaimed I/O port 0x{} (reported once per port)", what, Integer.toHexString(port));
        }
    }

    static int mask(int size) {
        return size >= 4 ? -1 : (1 << (8 * size)) - 1;
    }
}
