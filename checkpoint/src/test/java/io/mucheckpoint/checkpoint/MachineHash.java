package io.mucheckpoint.checkpoint;

import io.mucheckpoint.vmm.Machine;
import java.util.zip.CRC32C;

/** A fingerprint of a whole machine: all of RAM, the encoded small state and every drive's contents. */
final class MachineHash {
    private MachineHash() {}

    static long of(Machine m) {
        CRC32C ram = new CRC32C();
        ram.update(m.memory.backing(), 0, m.memory.ramSize());
        long h = (ram.getValue() << 32) ^ (m.saveState().hash() & 0xFFFFFFFFL);
        for (var d : m.drives) h = h * 31 + d.disk().hash();
        return h;
    }
}
