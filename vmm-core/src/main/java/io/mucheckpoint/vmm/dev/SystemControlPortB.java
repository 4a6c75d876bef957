package io.mucheckpoint.vmm.dev;

import io.mucheckpoint.vmm.state.Persistent;

/**
 * Port 0x61, the PC's system control port B: bit 0 gates PIT counter 2, bit 1 enables the speaker
 * data, bits 2-3 the parity and channel-check enables; it reads back bit 4 (the refresh toggle)
 * and bit 5 (counter 2's OUT) from the PIT. Bits 6-7 (channel check, parity error) read 0: no NMI
 * source exists. The speaker makes no sound. The gate lives in the PIT's state, the rest here.
 */
public final class SystemControlPortB implements BytePortDevice, Persistent<SystemControlPortB.State> {
    public static final int PORT = 0x61;

    /** Bits 1-3 as last written. */
    public record State(int bits) {}

    private final Pit8254 pit;
    private int bits;

    public SystemControlPortB(Pit8254 pit) {
        this.pit = pit;
    }

    public void attachTo(IoPortBus bus) {
        bus.register(PORT, 1, this);
    }

    @Override
    public int inByte(int port) {
        if (port != PORT) return 0xFF;
        return bits | (pit.gate2() ? 0x01 : 0) | (pit.refreshToggle() ? 0x10 : 0) | (pit.out2() ? 0x20 : 0);
    }

    @Override
    public void outByte(int port, int value) {
        if (port != PORT) return;
        bits = value & 0x0E;
        pit.setGate2((value & 0x01) != 0);
    }

    /** Whether the speaker is being driven (gate and data both on). */
    public boolean speakerOn() {
        return pit.gate2() && (bits & 0x02) != 0;
    }

    @Override
    public State save() {
        return new State(bits);
    }

    @Override
    public void restore(State state) {
        bits = state.bits() & 0x0E;
    }
}
