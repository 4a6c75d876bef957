package io.mucheckpoint.vmm.dev;

import io.mucheckpoint.vmm.state.Persistent;

/**
 * PCI configuration mechanism #1 (0xCF8-0xCFF) on a machine without PCI devices. The 32-bit address
 * register at 0xCF8 reads back what was written (reserved bits 24-30 and 0-1 as 0), so a guest finds
 * the mechanism; every configuration read returns all ones, "no device here", and writes are
 * dropped. Narrower accesses to 0xCF8-0xCFB are not the address register (on a PIIX 0xCF9 is the
 * reset control register, which is not modelled) and read all ones.
 */
public final class PciConfigPorts implements IoDevice, Persistent<PciConfigPorts.State> {
    public static final int ADDRESS_PORT = 0xCF8;
    public static final int DATA_PORT = 0xCFC;

    public record State(int address) {}

    private int address;

    public void attachTo(IoPortBus bus) {
        bus.register(ADDRESS_PORT, 8, this);
    }

    @Override
    public int in(int port, int size) {
        if (port == ADDRESS_PORT && size == 4) return address;
        return IoPortBus.mask(size);
    }

    @Override
    public void out(int port, int size, int value) {
        if (port == ADDRESS_PORT && size == 4) address = value & 0x80FF_FFFC;
    }

    @Override
    public State save() {
        return new State(address);
    }

    @Override
    public void restore(State state) {
        address = state.address() & 0x80FF_FFFC;
    }
}
