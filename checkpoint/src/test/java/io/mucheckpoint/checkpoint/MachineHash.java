package io.mucheckpoint.checkpoint;

import io.mucheckpoint.vmm.Machine;
import java.util.zip.CRC32C;

/** A fingerprint of a whole machine: all of RAM and the encoded small state. */
final class MachineHash {
    private MachineHash() {}

    static long of(Machine m) {
        CRC32C ram = new CRC32C();
        ram.update(m.memory.backing(), 0, m.memory.ramSize());
        return (ram.getValue() << 32) ^ (m.saveState().hash() & 0xFFFFFFFFL);
    }
}
