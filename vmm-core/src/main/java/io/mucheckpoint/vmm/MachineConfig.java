package io.mucheckpoint.vmm;

import io.mucheckpoint.vmm.clock.VirtualClock;
import io.mucheckpoint.vmm.disk.DriveConfig;
import java.time.LocalDateTime;
import java.util.List;

/**
 * How to build a machine.
 *
 * @param ramBytes guest RAM, a multiple of 4 KiB (default 64 MiB)
 * @param ticksPerSecond the virtual clock's rate: guest instructions per second of guest time ({@code --ips})
 * @param rtcStart the date and time the CMOS clock shows at virtual time zero
 * @param rebootOnReset a triple fault or reset request reboots the guest instead of ending the run
 * @param drives the virtio-blk disks, in PCI slot order ({@code --drive})
 */
public record MachineConfig(long ramBytes, long ticksPerSecond, LocalDateTime rtcStart, boolean rebootOnReset,
                            List<DriveConfig> drives) {
    public static final long DEFAULT_RAM = 64L << 20;
    /** At most this many drives (PCI slots 1-4). */
    public static final int MAX_DRIVES = 4;

    public MachineConfig {
        drives = List.copyOf(drives);
        if (drives.size() > MAX_DRIVES) throw new IllegalArgumentException("at most " + MAX_DRIVES + " drives");
    }

    public MachineConfig(long ramBytes, long ticksPerSecond, LocalDateTime rtcStart, boolean rebootOnReset) {
        this(ramBytes, ticksPerSecond, rtcStart, rebootOnReset, List.of());
    }

    public static MachineConfig defaults() {
        return new MachineConfig(DEFAULT_RAM, VirtualClock.DEFAULT_TICKS_PER_SECOND, LocalDateTime.of(2026, 1, 1, 0, 0), false);
    }

    public MachineConfig withRam(long bytes) {
        return new MachineConfig(bytes, ticksPerSecond, rtcStart, rebootOnReset, drives);
    }

    public MachineConfig withTicksPerSecond(long ips) {
        return new MachineConfig(ramBytes, ips, rtcStart, rebootOnReset, drives);
    }

    public MachineConfig withReboot(boolean reboot) {
        return new MachineConfig(ramBytes, ticksPerSecond, rtcStart, reboot, drives);
    }

    public MachineConfig withDrives(List<DriveConfig> d) {
        return new MachineConfig(ramBytes, ticksPerSecond, rtcStart, rebootOnReset, d);
    }
}
