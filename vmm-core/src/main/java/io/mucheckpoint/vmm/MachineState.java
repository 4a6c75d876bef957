package io.mucheckpoint.vmm;

import io.mucheckpoint.cpu.CpuState;
import io.mucheckpoint.vmm.state.StateCodec;
import java.util.List;

/**
 * The whole machine except RAM: the processor, the clock, the A20 gate and every device, as one
 * plain value with a stable hash. This is the "small state" a checkpoint records at an epoch boundary.
 *
 * @param devices each device's state, encoded by {@link StateCodec}, in wiring order
 */
public record MachineState(CpuState cpu, long clockSkipped, boolean a20, List<DeviceState> devices) {
    public record DeviceState(String name, byte[] state) {}

    public byte[] encode() {
        return StateCodec.encode(this);
    }

    public static MachineState decode(byte[] bytes) {
        return StateCodec.decode(MachineState.class, bytes);
    }

    /** CRC32C of the encoding: equal states hash equally in every run. */
    public int hash() {
        return StateCodec.crc32c(this);
    }
}
