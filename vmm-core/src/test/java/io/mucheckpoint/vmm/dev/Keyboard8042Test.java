package io.mucheckpoint.vmm.dev;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mucheckpoint.vmm.state.PersistentContract;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class Keyboard8042Test {
    static final class Rig {
        final IrqRecorder irqs = new IrqRecorder();
        final RecordingMachine machine = new RecordingMachine();
        final Keyboard8042 kbc = new Keyboard8042(irqs, machine);
        final IoPortBus bus = new IoPortBus();

        Rig() {
            kbc.attachTo(bus);
        }

        void command(int c) {
            bus.out(0x64, 1, c);
        }

        void data(int b) {
            bus.out(0x60, 1, b);
        }

        int status() {
            return bus.in(0x64, 1);
        }

        /** Reads every waiting byte, as a polling driver does. */
        List<Integer> drain() {
            List<Integer> out = new ArrayList<>();
            while ((status() & 0x01) != 0) out.add(bus.in(0x60, 1));
            return out;
        }
    }

    @Test
    void controllerSelfTestAndInterfaceTests() {
        Rig r = new Rig();
        assertEquals(0x14, r.status() & 0x1F, "unlocked, system flag, nothing waiting");
        r.command(0xAA);
        assertEquals(0x01, r.status() & 0x01);
        assertEquals(List.of(0x55), r.drain());
        r.command(0xAB);
        r.command(0xA9);
        assertEquals(List.of(0x00, 0x00), r.drain());
        assertEquals(0x08, r.status() & 0x08, "last write was a command");
    }

    @Test
    void commandByteReadWriteAndPortEnables() {
        Rig r = new Rig();
        r.command(0x20);
        assertEquals(List.of(0x45), r.drain());
        r.command(0x60);
        r.data(0x74);
        assertEquals(0, r.status() & 0x08);
        r.command(0x20);
        assertEquals(List.of(0x74), r.drain());
        r.command(0xAE);
        r.command(0xA8);
        r.command(0x20);
        assertEquals(List.of(0x44), r.drain());
        r.command(0xAD);
        r.command(0xA7);
        r.command(0x20);
        assertEquals(List.of(0x74), r.drain());
        r.command(0x65);
        r.data(0x99);
        r.command(0x25);
        assertEquals(List.of(0x99), r.drain(), "internal RAM");
    }

    @Test
    void keyboardCommandsAreAcknowledged() {
        Rig r = new Rig();
        r.data(0xFF);
        assertEquals(List.of(0xFA, 0xAA), r.drain());
        r.data(0xF2);
        assertEquals(List.of(0xFA, 0xAB, 0x41), r.drain(), "translated identify");
        r.data(0xED);
        r.data(0x07);
        r.data(0xF4);
        r.data(0xF5);
        r.data(0xEE);
        assertEquals(List.of(0xFA, 0xFA, 0xFA, 0xFA, 0xEE), r.drain());
        r.data(0xF0);
        r.data(0x00);
        assertEquals(List.of(0xFA, 0xFA, 0x02), r.drain());
        r.data(0x12);
        assertEquals(List.of(0xFE), r.drain(), "unknown command");
        r.command(0x60);
        r.data(0x05); // translation off
        r.data(0xF2);
        assertEquals(List.of(0xFA, 0xAB, 0x83), r.drain());
    }

    @Test
    void irq1RisesOncePerByte() {
        Rig r = new Rig();
        r.data(0xFF);
        assertTrue(r.irqs.level(1));
        assertEquals(1, r.irqs.count(1));
        r.bus.in(0x60, 1);
        assertEquals(2, r.irqs.count(1), "the second byte gives a second edge");
        r.bus.in(0x60, 1);
        assertFalse(r.irqs.level(1));
        assertEquals(0xAA, r.bus.in(0x60, 1), "an empty buffer reads the last byte again");
        r.command(0x60);
        r.data(0x00);
        r.data(0xEE);
        assertFalse(r.irqs.level(1), "interrupts disabled in the command byte");
        assertEquals(2, r.irqs.count(1));
    }

    @Test
    void auxiliaryPortHasNoMouse() {
        Rig r = new Rig();
        r.command(0x60);
        r.data(0x47);
        r.command(0xD3);
        r.data(0x5A);
        assertEquals(0x21, r.status() & 0x61);
        assertTrue(r.irqs.level(12));
        assertEquals(List.of(0x5A), r.drain());
        assertFalse(r.irqs.level(12));
        r.command(0xD4);
        r.data(0xFF);
        assertEquals(0x61, r.status() & 0x61, "aux data with timeout");
        assertEquals(List.of(0xFE), r.drain());
        r.command(0xD2);
        r.data(0x1C);
        assertEquals(0x01, r.status() & 0x61);
        assertEquals(List.of(0x1C), r.drain());
    }

    @Test
    void a20AndResetThroughTheOutputPort() {
        Rig r = new Rig();
        r.command(0xD0);
        assertEquals(List.of(0x03), r.drain());
        r.command(0xD1);
        r.data(0x01);
        r.command(0xDF);
        r.command(0xDD);
        r.command(0xDD);
        r.command(0xD1);
        r.data(0x03);
        r.command(0xD1);
        r.data(0x02);
        assertEquals(List.of("a20 off", "a20 on", "a20 off", "a20 on", "reset"), r.machine.events);
        r.command(0xD0);
        assertEquals(List.of(0x03), r.drain(), "the reset line is high again after the reset");
    }

    @Test
    void pulseCommandsReset() {
        Rig r = new Rig();
        r.command(0xFF);
        r.command(0xFD); // pulse line 1: not reset
        assertEquals(List.of(), r.machine.events);
        r.command(0xFE);
        assertEquals(List.of("reset"), r.machine.events);
    }

    @Test
    void replyQueueIsBounded() {
        Rig r = new Rig();
        for (int i = 0; i < 40; i++) r.data(0xEE);
        assertEquals(Keyboard8042.QUEUE_LIMIT, r.drain().size());
    }

    @Test
    void nonsenseNeverThrows() {
        Rig r = new Rig();
        for (int v = 0; v < 256; v++) {
            if (v >= 0xF0 || v == 0xD1) continue; // resets and output-port writes are covered above
            r.command(v);
            r.data(v ^ 0x33);
            r.bus.in(0x60, 1);
        }
        r.kbc.outByte(0x99, 0);
        assertEquals(0xFF, r.kbc.inByte(0x99));
    }

    @Test
    void saveRestoreContract() {
        PersistentContract.of(Rig::new, r -> List.of(r.irqs, r.kbc))
                .prepare(r -> {
                    r.command(0x60);
                    r.data(0x47);
                    r.data(0xFF);
                    r.command(0xD3);
                    r.data(0x11);
                    r.data(0xF0); // waits for its argument
                    r.command(0xD1); // waits for data
                })
                .mutate(r -> r.drain())
                .mutate(r -> {
                    r.data(0x00);
                    r.command(0xAD);
                    r.command(0xDD);
                })
                .observe(r -> {
                    r.machine.events.clear();
                    List<Object> seen = new ArrayList<>();
                    seen.add(r.status());
                    seen.add(r.irqs.level(1));
                    seen.add(r.drain());
                    r.data(0x03);
                    r.data(0x00);
                    r.command(0xD0);
                    seen.add(r.drain());
                    seen.add(List.copyOf(r.machine.events));
                    return seen;
                })
                .verify();
    }
}
