package io.mucheckpoint.vmm.dev;

/**
 * μCheckpoint's detector hooks at 0x520-0x52B, three 32-bit write-only registers: 0x520 heartbeat,
 * 0x524 exception report (value = vector), 0x528 self-check failure (value = check id). QEMU has
 * nothing there, so on QEMU the same guest's writes simply vanish. A write of any size to any byte
 * of a register reports the value written; reads return 0. Stateless.
 */
public final class GuestServicesPort implements IoDevice {
    public static final int PORT = 0x520;
    public static final int HEARTBEAT = PORT;
    public static final int EXCEPTION = PORT + 4;
    public static final int SELF_CHECK = PORT + 8;
    public static final int SIZE = 12;

    private final GuestServicesListener listener;

    public GuestServicesPort(GuestServicesListener listener) {
        this.listener = listener;
    }

    public void attachTo(IoPortBus bus) {
        bus.register(PORT, SIZE, this);
    }

    @Override
    public int in(int port, int size) {
        return 0;
    }

    @Override
    public void out(int port, int size, int value) {
        int v = value & IoPortBus.mask(size);
        switch ((port - PORT) >> 2) {
            case 0 -> listener.heartbeat(v);
            case 1 -> listener.exceptionReported(v);
            case 2 -> listener.selfCheckFailed(v);
            default -> { } // not ours; the bus never sends it
        }
    }
}
