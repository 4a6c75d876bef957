package io.mucheckpoint.vmm.dev;

/**
 * Bochs/QEMU debug console at 0xE9: every byte written goes to the sink; a read returns 0xE9 so a
 * guest can detect the port. Stateless. A wider write sends its bytes in order, as the bus splits it.
 */
public final class DebugConsole implements BytePortDevice {
    public static final int PORT = 0xE9;

    private final ConsoleSink sink;

    public DebugConsole(ConsoleSink sink) {
        this.sink = sink;
    }

    public void attachTo(IoPortBus bus) {
        bus.register(PORT, 1, this);
    }

    @Override
    public int inByte(int port) {
        return port == PORT ? 0xE9 : 0xFF;
    }

    @Override
    public void outByte(int port, int value) {
        if (port == PORT) sink.write(value & 0xFF);
    }
}
