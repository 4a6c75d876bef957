package io.mucheckpoint.vmm.dev;

/**
 * QEMU's isa-debug-exit (iobase 0xF4, iosize 4): a write of value v of any size at any of its
 * ports ends the VM with status v (the runner turns it into QEMU's {@code (v << 1) | 1} on request).
 * Reads return 0. Stateless.
 */
public final class DebugExit implements IoDevice {
    public static final int PORT = 0xF4;
    public static final int SIZE = 4;

    private final MachineControl machine;

    public DebugExit(MachineControl machine) {
        this.machine = machine;
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
        machine.exit(value & IoPortBus.mask(size));
    }
}
