package io.mucheckpoint.cli;

import io.mucheckpoint.vmm.Machine;
import io.mucheckpoint.vmm.MachineConfig;
import io.mucheckpoint.vmm.dev.ConsoleSink;
import io.mucheckpoint.vmm.load.LoadException;
import java.nio.file.Path;

/** Builds the machine that run and console start from: a guest image booted, or a snapshot resumed. */
final class Boot {
    private Boot() {}

    static Machine machine(GuestOptions guest, Path restore, ConsoleSink out) {
        guest.applyTranslate();
        if (restore != null) return Snapshots.restore(restore, guest, out);
        MachineConfig config = MachineConfig.defaults().withRam(guest.ramBytes()).withTicksPerSecond(guest.ticksPerSecond())
                .withReboot(guest.reboot).withDrives(guest.drives());
        try {
            return new Machine(config, guest.image(), out, out);
        } catch (LoadException e) {
            throw new VmmException(ExitStatus.BAD_IMAGE, e.getMessage());
        }
    }
}
