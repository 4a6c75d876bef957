package io.mucheckpoint.vmm.dev;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class IoPortBusTest {
    /** Byte registers that remember writes and read back port + 1. */
    private static final class Bytes implements BytePortDevice {
        final List<String> log = new ArrayList<>();

        @Override
        public int inByte(int port) {
            log.add("in " + Integer.toHexString(port));
            return (port + 1) & 0xFF;
        }

        @Override
        public void outByte(int port, int value) {
            log.add("out " + Integer.toHexString(port) + "=" + Integer.toHexString(value));
        }
    }

    @Test
    void unclaimedPortsReadAllOnesAndIgnoreWrites() {
        IoPortBus bus = new IoPortBus();
        assertEquals(0xFF, bus.in(0x1234, 1));
        assertEquals(0xFFFF, bus.in(0x1234, 2));
        assertEquals(0xFFFF_FFFF, bus.in(0x1234, 4));
        bus.out(0x1234, 4, 0xDEADBEEF);
        bus.out(0xFFFF, 2, 0xBEEF); // wraps, still nothing
        assertEquals(0xFF, bus.in(0xFFFF, 1));
    }

    @Test
    void overlappingOrOutOfRangeRegistrationIsAWiringError() {
        IoPortBus bus = new IoPortBus();
        bus.register(0x40, 4, new Bytes());
        assertThrows(IllegalArgumentException.class, () -> bus.register(0x43, 2, new Bytes()));
        assertThrows(IllegalArgumentException.class, () -> bus.register(0x3E, 3, new Bytes()));
        assertThrows(IllegalArgumentException.class, () -> bus.register(0xFFFF, 2, new Bytes()));
        assertThrows(IllegalArgumentException.class, () -> bus.register(-1, 1, new Bytes()));
        assertThrows(IllegalArgumentException.class, () -> bus.register(0x50, 0, new Bytes()));
        bus.register(0x44, 1, new Bytes()); // adjacent is fine
    }

    @Test
    void wideAccessToByteDeviceIsSplitAcrossPortsAndOwners() {
        IoPortBus bus = new IoPortBus();
        Bytes a = new Bytes();
        Bytes b = new Bytes();
        bus.register(0x20, 2, a);
        bus.register(0x22, 1, b);
        bus.out(0x20, 2, 0x1234);
        assertEquals(List.of("out 20=34", "out 21=12"), a.log);
        assertEquals(0x23_22_21, bus.in(0x20, 4) & 0xFF_FFFF);
        assertEquals(0xFF, bus.in(0x20, 4) >>> 24); // 0x23 is unclaimed
        assertEquals(List.of("in 22", "in 22"), b.log);
    }

    @Test
    void otherDevicesGetTheWholeAccessMasked() {
        IoPortBus bus = new IoPortBus();
        RecordingMachine m = new RecordingMachine();
        DebugExit exit = new DebugExit(m);
        exit.attachTo(bus);
        assertSame(exit, bus.deviceAt(0xF6));
        bus.out(0xF4, 4, 0x12345678);
        bus.out(0xF5, 1, 0x1FF);
        bus.out(0xF4, 2, 0xFFFF_0003);
        assertEquals(List.of("exit 305419896", "exit 255", "exit 3"), m.events);
        assertEquals(0, bus.in(0xF4, 4));
    }
}
