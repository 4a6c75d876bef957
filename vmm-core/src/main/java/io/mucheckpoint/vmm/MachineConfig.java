package io.mucheckpoint.vmm;

import io.mucheckpoint.vmm.clock.VirtualClock;
import java.time.LocalDateTime;

/**
 * How to build a machine.
 *
 * @param ramBytes guest RAM, a multiple of 4 KiB (default 64 MiB)
 * @param ticksPerSecond the virtual clock's rate: guest instructions per second of guest time ({@code --ips})
 * @param rtcStart the date and time the CMOS clock shows at virtual time zero
 * @param rebootOnReset a triple fault or reset request reboots the guest instead of ending the run
 */
public record MachineConfig(long ramBytes, long ticksPerSecond, LocalDateTime rtcStart, boolean rebootOnReset) {
    public static final long DEFAULT_RAM = 64L << 20;

    public static MachineConfig defaults() {
        return new MachineConfig(DEFAULT_RAM, VirtualClock.DEFAULT_TICKS_PER_SECOND, LocalDateTime.of(2026, 1, 1, 0, 0), false);
    }

    public MachineConfig withRam(long bytes) {
        return new MachineConfig(bytes, ticksPerSecond, rtcStart, rebootOnReset);
    }

    public MachineConfig withTicksPerSecond(long ips) {
        return new MachineConfig(ramBytes, ips, rtcStart, rebootOnReset);
    }

    public MachineConfig withReboot(boolean reboot) {
        return new MachineConfig(ramBytes, ticksPerSecond, rtcStart, reboot);
    }
}
