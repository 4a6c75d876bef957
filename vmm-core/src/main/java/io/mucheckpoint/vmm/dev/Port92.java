package io.mucheckpoint.vmm.dev;

import io.mucheckpoint.vmm.state.Persistent;

/**
 * System control port A (0x92, "fast A20"): bit 1 is the A20 gate, a 0-to-1 change of bit 0 resets
 * the processor. Reads return the value last written (A20 on at power-on). The A20 line is shared
 * with the keyboard controller's output port; each device reports its own last setting.
 */
public final class Port92 implements BytePortDevice, Persistent<Port92.State> {
    public static final int PORT = 0x92;

    public record State(int value) {}

    private final MachineControl machine;
    private int value = 0x02;

    public Port92(MachineControl machine) {
        this.machine = machine;
    }

    public void attachTo(IoPortBus bus) {
        bus.register(PORT, 1, this);
    }

    @Override
    public int inByte(int port) {
        return port == PORT ? value : 0xFF;
    }

    @Override
    public void outByte(int port, int v) {
        if (port != PORT) return;
        int old = value;
        value = v & 0xFF;
        if (((old ^ v) & 0x02) != 0) machine.setA20((v & 0x02) != 0);
        if ((old & 0x01) == 0 && (v & 0x01) != 0) machine.reset();
    }

    @Override
    public State save() {
        return new State(value);
    }

    @Override
    public void restore(State state) {
        value = state.value() & 0xFF;
    }
}
