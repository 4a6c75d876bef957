package io.mucheckpoint.vmm.dev;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.mucheckpoint.vmm.state.PersistentContract;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Port 0x92, POST codes, the debug console and exit, guest services (PCI: PciBusTest). */
class SmallDevicesTest {
    private final IoPortBus bus = new IoPortBus();
    private final RecordingMachine machine = new RecordingMachine();

    @Test
    void port92DrivesA20AndFastReset() {
        Port92 p = new Port92(machine);
        p.attachTo(bus);
        assertEquals(0x02, bus.in(0x92, 1));
        bus.out(0x92, 1, 0x00);
        bus.out(0x92, 1, 0x00);
        bus.out(0x92, 1, 0x02);
        bus.out(0x92, 1, 0x03);
        bus.out(0x92, 1, 0x03); // bit 0 already set: no second reset
        assertEquals(List.of("a20 off", "a20 on", "reset"), machine.events);
        assertEquals(0x03, bus.in(0x92, 1));
    }

    @Test
    void port92Persists() {
        PersistentContract.of(() -> new Port92(new RecordingMachine()), p -> List.of(p))
                .prepare(p -> p.outByte(0x92, 0x00))
                .mutate(p -> p.outByte(0x92, 0x02))
                .observe(p -> p.inByte(0x92))
                .verify();
    }

    @Test
    void postCodeRemembersTheLastCode() {
        PostCodePort post = new PostCodePort();
        post.attachTo(bus);
        assertEquals(0, post.lastCode());
        bus.out(0x80, 1, 0x12);
        bus.out(0x80, 1, 0x34);
        assertEquals(0x34, post.lastCode());
        assertEquals(0x34, bus.in(0x80, 1));
        PersistentContract.of(PostCodePort::new, p -> List.of(p))
                .prepare(p -> p.outByte(0x80, 0x55))
                .mutate(p -> p.outByte(0x80, 0xAA))
                .observe(PostCodePort::lastCode)
                .verify();
    }

    @Test
    void debugConsoleWritesBytesAndIdentifiesItself() {
        List<Integer> out = new ArrayList<>();
        new DebugConsole(out::add).attachTo(bus);
        bus.out(0xE9, 1, 'h');
        bus.out(0xE9, 1, 0x169);
        assertEquals(List.of((int) 'h', 0x69), out);
        assertEquals(0xE9, bus.in(0xE9, 1));
    }

    @Test
    void guestServicesReportEachRegister() {
        List<String> seen = new ArrayList<>();
        new GuestServicesPort(new GuestServicesListener() {
            @Override
            public void heartbeat(int value) {
                seen.add("beat " + value);
            }

            @Override
            public void exceptionReported(int vector) {
                seen.add("exception " + vector);
            }

            @Override
            public void selfCheckFailed(int id) {
                seen.add("check " + id);
            }
        }).attachTo(bus);
        bus.out(0x520, 4, 7);
        bus.out(0x524, 4, 14);
        bus.out(0x528, 4, 0xCAFE_F00D);
        bus.out(0x528, 1, 0x1FF);
        assertEquals(List.of("beat 7", "exception 14", "check " + 0xCAFE_F00D, "check 255"), seen);
        assertEquals(0, bus.in(0x520, 4));
        assertEquals(0xFF, bus.in(0x52C, 1)); // past the device
    }

    @Test
    void guestServicesListenerDefaultsDoNothing() {
        new GuestServicesPort(new GuestServicesListener() {}).attachTo(bus);
        bus.out(0x520, 4, 1);
        bus.out(0x524, 4, 1);
        bus.out(0x528, 4, 1);
    }
}
