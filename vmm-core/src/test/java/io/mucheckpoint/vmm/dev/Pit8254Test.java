package io.mucheckpoint.vmm.dev;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mucheckpoint.vmm.state.PersistentContract;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class Pit8254Test {
    static final long HZ = Pit8254.FREQUENCY_HZ;

    static final class Rig {
        final TestClock time = new TestClock();
        final IrqRecorder irqs = new IrqRecorder(time::now);
        final Pit8254 pit = new Pit8254(time.clock, irqs);
        final SystemControlPortB portB = new SystemControlPortB(pit);
        final IoPortBus bus = new IoPortBus();

        Rig() {
            pit.attachTo(bus);
            portB.attachTo(bus);
        }

        void out(int port, int v) {
            bus.out(port, 1, v);
        }

        int in(int port) {
            return bus.in(port, 1);
        }

        /** Control word then a two-byte count for counter {@code ch}. */
        void program(int ch, int mode, int count) {
            out(0x43, ch << 6 | 0x30 | mode << 1);
            out(0x40 + ch, count & 0xFF);
            out(0x40 + ch, count >> 8 & 0xFF);
        }

        int latchedCount(int ch) {
            out(0x43, ch << 6);
            return in(0x40 + ch) | in(0x40 + ch) << 8;
        }

        /** Moves the clock to the first tick at which PIT time {@code pit} has been reached. */
        void atPit(long pitTime) {
            time.set(tickOf(pitTime));
        }

        void runTo(long tick) {
            time.runTo(tick, pit);
        }
    }

    /** The first tick at which the PIT has counted {@code n} clocks. */
    static long tickOf(long n) {
        return Math.floorDiv(n * TestClock.TICKS_PER_SECOND + HZ - 1, HZ);
    }

    @Test
    void mode2RaisesIrq0AtExactTicks() {
        Rig r = new Rig();
        r.program(0, 2, 1193); // written at PIT time 0, loaded at 1
        r.runTo(TestClock.TICKS_PER_SECOND / 100);
        List<Long> expected = new ArrayList<>();
        for (long k = 1; 1 + 1193 * k <= r.time.clock.toRate(r.time.now(), HZ); k++) expected.add(tickOf(1 + 1193 * k));
        assertEquals(expected, r.irqs.ticks(0));
        assertEquals(10, expected.size()); // 1 + 1193 * 10 = 11931 clocks = 9.9994 ms
        assertFalse(r.irqs.level(0), "between pulses the line is low");
    }

    @Test
    void mode3RaisesIrq0OncePerPeriod() {
        Rig r = new Rig();
        r.time.set(12_345);
        long t0 = r.time.clock.toRate(r.time.now(), HZ);
        r.program(0, 3, 11932); // ~100 Hz
        r.runTo(tickOf(t0 + 1 + 11932 * 100));
        List<Long> ticks = r.irqs.ticks(0);
        assertEquals(100, ticks.size());
        for (int k = 0; k < ticks.size(); k++) assertEquals(tickOf(t0 + 1 + 11932L * (k + 1)), ticks.get(k));
    }

    @Test
    void mode0IsAOneShotForClockevents() {
        Rig r = new Rig();
        r.out(0x43, 0x30);
        r.runTo(1_000_000);
        r.irqs.clear();
        long t0 = r.time.clock.toRate(r.time.now(), HZ);
        r.out(0x40, 0xE8);
        r.out(0x40, 0x03); // 1000
        assertFalse(r.irqs.level(0));
        r.runTo(r.time.now() + 10_000_000);
        assertEquals(List.of(tickOf(t0 + 1 + 1000)), r.irqs.ticks(0));
        assertTrue(r.irqs.level(0), "OUT stays high after the terminal count");
        assertEquals(Long.MAX_VALUE, r.pit.nextDeadline());
        // Linux's next_event: just a new count, no control word.
        long t1 = r.time.clock.toRate(r.time.now(), HZ);
        r.out(0x40, 100);
        r.out(0x40, 0);
        assertFalse(r.irqs.level(0));
        r.runTo(r.time.now() + 10_000_000);
        assertEquals(List.of(tickOf(t0 + 1001), tickOf(t1 + 101)), r.irqs.ticks(0));
    }

    @Test
    void countZeroMeans65536() {
        Rig r = new Rig();
        r.program(0, 2, 0);
        r.runTo(tickOf(1 + 2 * 65536));
        assertEquals(List.of(tickOf(1 + 65536), tickOf(1 + 2 * 65536)), r.irqs.ticks(0));
    }

    @Test
    void powerOnIs18Hz() {
        Rig r = new Rig();
        r.runTo(TestClock.TICKS_PER_SECOND);
        assertEquals(18, r.irqs.count(0));
        assertEquals(tickOf(65536), r.irqs.ticks(0).get(0));
    }

    @Test
    void mode2CountsDownFromTheReload() {
        Rig r = new Rig();
        r.program(0, 2, 1000);
        r.atPit(1);
        assertEquals(1000, r.latchedCount(0));
        r.atPit(251);
        assertEquals(750, r.latchedCount(0));
        r.atPit(1000);
        assertEquals(1, r.latchedCount(0));
        r.atPit(1001);
        assertEquals(1000, r.latchedCount(0));
        r.atPit(1 + 3 * 1000 + 999);
        assertEquals(1, r.latchedCount(0));
    }

    @Test
    void latchHoldsTheValueUntilRead() {
        Rig r = new Rig();
        r.program(0, 2, 5000);
        r.atPit(101);
        r.out(0x43, 0x00);
        r.atPit(2001);
        r.out(0x43, 0x00); // ignored: the first latch is unread
        assertEquals(4900 & 0xFF, r.in(0x40));
        r.atPit(3001);
        assertEquals(4900 >> 8, r.in(0x40));
        assertEquals(2000 & 0xFF, r.in(0x40), "unlatched reads follow the counter");
        assertEquals(2000 >> 8, r.in(0x40));
    }

    @Test
    void lowByteOnlyAndHighByteOnlyAccess() {
        Rig r = new Rig();
        r.out(0x43, 0x14); // counter 0, low byte only, mode 2
        r.out(0x40, 0x50);
        r.atPit(1 + 0x10);
        assertEquals(0x40, r.in(0x40));
        assertEquals(0x40, r.in(0x40));
        r.out(0x43, 0x24); // high byte only, mode 2
        r.out(0x40, 0x02);
        long t = r.time.clock.toRate(r.time.now(), HZ);
        r.atPit(t + 1 + 0x100);
        assertEquals(0x01, r.in(0x40));
        r.out(0x43, 0x00);
        assertEquals(0x01, r.in(0x40));
    }

    @Test
    void mode3CountsByTwosWithTheOddCountRule() {
        Rig r = new Rig();
        r.program(2, 3, 10);
        r.out(0x61, 0x01);
        // Gate rose at PIT time 0: counting from 1.
        List<Integer> even = new ArrayList<>();
        List<Boolean> out = new ArrayList<>();
        for (int t = 1; t <= 11; t++) {
            r.atPit(t);
            even.add(r.latchedCount(2));
            out.add((r.in(0x61) & 0x20) != 0);
        }
        assertEquals(List.of(10, 8, 6, 4, 2, 10, 8, 6, 4, 2, 10), even);
        assertEquals(List.of(true, true, true, true, true, false, false, false, false, false, true), out);

        Rig o = new Rig();
        o.out(0x61, 0x01);
        o.program(2, 3, 5);
        List<Integer> odd = new ArrayList<>();
        List<Boolean> oddOut = new ArrayList<>();
        for (int t = 1; t <= 6; t++) {
            o.atPit(t);
            odd.add(o.latchedCount(2));
            oddOut.add((o.in(0x61) & 0x20) != 0);
        }
        assertEquals(List.of(5, 4, 2, 5, 2, 5), odd);
        assertEquals(List.of(true, true, true, false, false, true), oddOut);
    }

    @Test
    void readBackLatchesStatusThenCount() {
        Rig r = new Rig();
        r.program(0, 2, 1000);
        assertStatus(r, 0xC2, 0xF4, "null count right after the write");
        r.atPit(101);
        r.out(0x43, 0xC2); // count and status of counter 0
        assertEquals(0xB4, r.in(0x40)); // OUT high, loaded, lo/hi, mode 2, binary
        assertEquals(900 & 0xFF, r.in(0x40));
        assertEquals(900 >> 8, r.in(0x40));
        r.out(0x43, 0xE2); // status only
        assertEquals(0xB4, r.in(0x40));
        r.out(0x43, 0xD2); // count only
        assertEquals(900 & 0xFF, r.in(0x40));
        assertEquals(900 >> 8, r.in(0x40));
    }

    private static void assertStatus(Rig r, int command, int expected, String why) {
        r.out(0x43, command);
        assertEquals(expected, r.in(0x40), why);
        r.in(0x40);
        r.in(0x40);
    }

    @Test
    void mode0StatusShowsOutLowThenHigh() {
        Rig r = new Rig();
        r.program(0, 0, 10);
        r.atPit(5);
        r.out(0x43, 0xE2);
        assertEquals(0x30, r.in(0x40));
        r.atPit(11);
        r.out(0x43, 0xE2);
        assertEquals(0xB0, r.in(0x40));
        r.atPit(12);
        assertEquals(0xFFFF, r.latchedCount(0), "mode 0 keeps counting past zero");
    }

    @Test
    void bcdCounting() {
        Rig r = new Rig();
        r.out(0x43, 0x35); // counter 0, lo/hi, mode 2, BCD
        r.out(0x40, 0x00);
        r.out(0x40, 0x10); // 1000 in BCD
        r.atPit(2);
        assertEquals(0x0999, r.latchedCount(0));
        r.atPit(1 + 1000);
        assertEquals(0x1000, r.latchedCount(0));
        r.runTo(tickOf(1 + 2000));
        assertEquals(List.of(tickOf(1001), tickOf(2001)), r.irqs.ticks(0));
        r.out(0x43, 0x31); // mode 0 BCD, count 0 = 10000
        r.out(0x40, 0);
        r.out(0x40, 0);
        long t = r.time.clock.toRate(r.time.now(), HZ);
        r.atPit(t + 2);
        assertEquals(0x9999, r.latchedCount(0));
    }

    @Test
    void newCountInMode2TakesEffectAtTheEndOfThePeriod() {
        Rig r = new Rig();
        r.program(0, 2, 1000);
        r.atPit(501);
        r.out(0x40, 100);
        r.out(0x40, 0);
        r.runTo(tickOf(1 + 1000 + 300));
        assertEquals(List.of(tickOf(1001), tickOf(1101), tickOf(1201), tickOf(1301)), r.irqs.ticks(0));
    }

    @Test
    void channel2GateAndOutAtPort61AsLinuxCalibrationUsesThem() {
        Rig r = new Rig();
        assertEquals(0, r.in(0x61) & 0x01, "gate 2 starts low");
        r.out(0x61, (r.in(0x61) & ~0x02) | 0x01);
        r.out(0x43, 0xB0); // counter 2, lo/hi, mode 0
        r.out(0x42, 0xFF);
        r.out(0x42, 0xFF);
        long t = r.time.clock.toRate(r.time.now(), HZ);
        r.atPit(t + 0xFFFF);
        assertEquals(0, r.in(0x61) & 0x20);
        r.atPit(t + 1 + 0xFFFF);
        assertEquals(0x20, r.in(0x61) & 0x20);
    }

    @Test
    void gateLowSuspendsMode0() {
        Rig r = new Rig();
        r.out(0x61, 0x01);
        r.program(2, 0, 1000);
        r.atPit(101);
        r.out(0x61, 0x00);
        assertEquals(900, r.latchedCount(2));
        r.atPit(5001);
        assertEquals(900, r.latchedCount(2));
        r.out(0x61, 0x01);
        r.atPit(5101);
        assertEquals(800, r.latchedCount(2));
        assertEquals(0, r.in(0x61) & 0x20);
        r.atPit(5901);
        assertEquals(0x20, r.in(0x61) & 0x20);
    }

    @Test
    void gateRetriggersMode1AndMode5() {
        Rig r = new Rig();
        r.program(2, 1, 50);
        assertEquals(0x20, r.in(0x61) & 0x20, "mode 1 idles high");
        r.atPit(10);
        r.out(0x61, 0x01); // trigger: load at 11
        r.atPit(12);
        assertEquals(0, r.in(0x61) & 0x20);
        assertEquals(49, r.latchedCount(2));
        r.atPit(61);
        assertEquals(0x20, r.in(0x61) & 0x20);

        Rig s = new Rig();
        s.program(2, 5, 20);
        s.atPit(100);
        s.out(0x61, 0x01);
        s.atPit(121);
        assertEquals(0, s.in(0x61) & 0x20, "the strobe");
        s.atPit(122);
        assertEquals(0x20, s.in(0x61) & 0x20);
    }

    @Test
    void mode4StrobesOnceAfterTheCount() {
        Rig r = new Rig();
        r.program(0, 4, 100);
        r.runTo(tickOf(10_000));
        assertEquals(List.of(tickOf(1 + 100 + 1)), r.irqs.ticks(0));
    }

    @Test
    void refreshBitToggles() {
        Rig r = new Rig();
        List<Integer> bits = new ArrayList<>();
        for (long t = 0; t < 72; t += 18) {
            r.atPit(t);
            bits.add(r.in(0x61) & 0x10);
        }
        assertEquals(List.of(0, 0x10, 0, 0x10), bits);
    }

    @Test
    void port61KeepsItsWritableBitsAndDrivesTheSpeakerFlag() {
        Rig r = new Rig();
        r.out(0x61, 0xFF);
        assertEquals(0x0F, r.in(0x61) & 0xCF);
        assertTrue(r.portB.speakerOn());
        r.out(0x61, 0x01);
        assertFalse(r.portB.speakerOn());
    }

    @Test
    void nonsenseNeverThrows() {
        Rig r = new Rig();
        for (int v = 0; v < 256; v++) {
            r.out(0x43, v);
            for (int p = 0x40; p <= 0x43; p++) {
                r.out(p, v ^ 0x5A);
                r.in(p);
                r.out(p, 1);
            }
            r.out(0x61, v);
            r.time.add(v * 37L);
            r.runTo(r.time.now() + 100);
        }
        r.pit.outByte(0x99, 0);
        assertEquals(0xFF, r.pit.inByte(0x99));
    }

    @Test
    void saveRestoreContract() {
        PersistentContract.of(Rig::new, r -> List.of(r.time, r.irqs, r.pit, r.portB))
                .prepare(r -> {
                    r.program(0, 2, 1193);
                    r.out(0x61, 0x03);
                    r.program(2, 3, 301);
                    r.out(0x43, 0x74); // counter 1 mode 2, count unwritten
                    r.out(0x41, 0x34);
                    r.runTo(5_000_123);
                    r.out(0x40, 0x10); // pending reload
                    r.out(0x40, 0x01);
                    r.out(0x43, 0xC4); // latch counter 1's count and status
                    r.in(0x41);
                    r.in(0x42); // half of an unlatched two-byte read
                })
                .mutate(r -> r.runTo(9_000_000))
                .mutate(r -> {
                    r.program(0, 0, 77);
                    r.out(0x61, 0);
                    r.in(0x41);
                    r.in(0x42);
                })
                .observe(r -> {
                    r.irqs.clear();
                    List<Object> seen = new ArrayList<>();
                    seen.add(r.in(0x41));
                    seen.add(r.in(0x41));
                    seen.add(r.in(0x42));
                    seen.add(r.latchedCount(2));
                    r.runTo(r.time.now() + 20_000_000);
                    seen.add(r.irqs.ticks(0));
                    seen.add(r.in(0x40));
                    seen.add(r.in(0x61) & 0x33);
                    return seen;
                })
                .verify();
    }
}
