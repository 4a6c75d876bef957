package io.mucheckpoint.vmm.dev;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mucheckpoint.vmm.state.PersistentContract;
import java.time.Instant;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class CmosRtcTest {
    static final long SECOND = TestClock.TICKS_PER_SECOND;

    static final class Rig {
        final TestClock time = new TestClock();
        final IrqRecorder irqs = new IrqRecorder(time::now);
        final CmosRtc rtc;
        final IoPortBus bus = new IoPortBus();

        Rig() {
            this(CmosRtc.DEFAULT_START);
        }

        Rig(LocalDateTime start) {
            rtc = new CmosRtc(time.clock, irqs, start);
            rtc.attachTo(bus);
        }

        int read(int reg) {
            bus.out(0x70, 1, reg);
            return bus.in(0x71, 1);
        }

        void write(int reg, int v) {
            bus.out(0x70, 1, reg);
            bus.out(0x71, 1, v);
        }

        List<Integer> clock() {
            List<Integer> regs = new ArrayList<>();
            for (int r : new int[] {0, 2, 4, 6, 7, 8, 9, 0x32}) regs.add(read(r));
            return regs;
        }

        /** Runs to {@code tick}, reading register C after each interrupt as a handler would. */
        int runServicing(long tick) {
            int interrupts = 0;
            while (true) {
                long d = rtc.nextDeadline();
                if (d > tick) break;
                time.set(Math.max(d, time.now()));
                rtc.advance(time.now());
                if (irqs.level(8)) {
                    interrupts++;
                    read(0x0C);
                }
            }
            time.set(tick);
            return interrupts;
        }
    }

    @Test
    void showsTheStartDateInBcdAt24Hours() {
        Rig r = new Rig();
        // 2026-01-01 is a Thursday: day 5 when Sunday is 1.
        assertEquals(List.of(0x00, 0x00, 0x00, 0x05, 0x01, 0x01, 0x26, 0x20), r.clock());
        assertEquals(0x26, r.read(0x0A));
        assertEquals(0x02, r.read(0x0B));
        assertEquals(0x80, r.read(0x0D));
    }

    @Test
    void advancesWithVirtualTime() {
        Rig r = new Rig();
        r.time.set(3725 * SECOND + SECOND / 2);
        assertEquals(List.of(0x05, 0x02, 0x01, 0x05, 0x01, 0x01, 0x26, 0x20), r.clock());
        r.time.set(3725 * SECOND + SECOND - 1);
        assertEquals(0x05, r.read(0));
        r.time.set(3726 * SECOND);
        assertEquals(0x06, r.read(0));
        r.time.set((31L * 86400 + 59) * SECOND);
        assertEquals(List.of(0x59, 0x00, 0x00, 0x01, 0x01, 0x02, 0x26, 0x20), r.clock()); // Sunday 1 Feb
    }

    @Test
    void binaryAnd12HourFormats() {
        Rig r = new Rig(LocalDateTime.of(1999, 12, 31, 23, 59, 58));
        r.write(0x0B, 0x06); // binary, 24 h
        assertEquals(List.of(58, 59, 23, 6, 31, 12, 99, 19), r.clock());
        r.time.set(2 * SECOND);
        assertEquals(List.of(0, 0, 0, 7, 1, 1, 0, 20), r.clock());
        r.write(0x0B, 0x00); // BCD, 12 h
        assertEquals(0x12, r.read(4), "midnight is 12 AM");
        r.time.set((13 * 3600 + 2) * SECOND);
        assertEquals(0x81, r.read(4), "1 PM");
        r.write(0x0B, 0x04); // binary, 12 h
        assertEquals(0x81, r.read(4));
        r.time.set((23 * 3600 + 2) * SECOND);
        assertEquals(0x8B, r.read(4));
    }

    @Test
    void startCanBeAnInstant() {
        TestClock time = new TestClock();
        CmosRtc rtc = new CmosRtc(time.clock, new IrqRecorder(), Instant.parse("2030-06-15T10:20:30Z"));
        rtc.outByte(0x70, 0x04);
        assertEquals(0x10, rtc.inByte(0x71));
        rtc.outByte(0x70, 0x09);
        assertEquals(0x30, rtc.inByte(0x71));
    }

    @Test
    void uipIsSetJustBeforeEachUpdate() {
        Rig r = new Rig();
        r.time.set(SECOND - 30_000); // 300 us before the update
        assertEquals(0, r.read(0x0A) & 0x80);
        r.time.set(SECOND - 24_400);
        assertEquals(0x80, r.read(0x0A) & 0x80);
        r.time.set(SECOND - 1);
        assertEquals(0x80, r.read(0x0A) & 0x80);
        assertEquals(0x00, r.read(0));
        r.time.set(SECOND);
        assertEquals(0, r.read(0x0A) & 0x80);
        assertEquals(0x01, r.read(0));
    }

    @Test
    void periodicInterruptAtTheRegisterARate() {
        Rig r = new Rig();
        r.write(0x0B, 0x42); // PIE
        assertEquals(1024, r.runServicing(SECOND));
        r.write(0x0A, 0x2F); // 2 Hz
        r.irqs.clear();
        assertEquals(2, r.runServicing(2 * SECOND));
        r.write(0x0A, 0x23); // 8192 Hz
        assertEquals(8192, r.runServicing(3 * SECOND));
        r.write(0x0A, 0x21); // rate 1 is 256 Hz with a 32 kHz crystal
        assertEquals(256, r.runServicing(4 * SECOND));
        r.write(0x0A, 0x20); // no periodic interrupt
        assertEquals(0, r.runServicing(5 * SECOND));
    }

    @Test
    void periodicEdgesAreOnA32kHzGrid() {
        Rig r = new Rig();
        r.write(0x0B, 0x42);
        r.runServicing(SECOND / 100);
        List<Long> ticks = r.irqs.ticks(8);
        assertEquals(10, ticks.size());
        for (int k = 0; k < ticks.size(); k++) {
            assertEquals(Math.floorDiv(32L * (k + 1) * SECOND + 32767, 32768), ticks.get(k));
        }
    }

    @Test
    void withoutReadingRegisterCTheLineStaysHigh() {
        Rig r = new Rig();
        r.write(0x0B, 0x42);
        r.time.runTo(SECOND, r.rtc);
        assertEquals(1, r.irqs.count(8));
        assertTrue(r.irqs.level(8));
        assertEquals(Long.MAX_VALUE, r.rtc.nextDeadline(), "nothing more can happen until C is read");
    }

    @Test
    void registerCReportsAndClearsTheFlags() {
        Rig r = new Rig();
        r.time.set(SECOND + 5);
        assertEquals(0x50, r.read(0x0C), "PF and UF are set even when not enabled");
        assertEquals(0x00, r.read(0x0C));
        r.write(0x0B, 0x12); // UIE
        r.time.runTo(2 * SECOND, r.rtc);
        assertTrue(r.irqs.level(8));
        assertEquals(List.of(2 * SECOND), r.irqs.ticks(8));
        assertEquals(0xD0, r.read(0x0C));
        assertFalse(r.irqs.level(8));
        assertEquals(0x00, r.read(0x0C));
    }

    @Test
    void enablingWithAFlagAlreadySetInterruptsAtOnce() {
        Rig r = new Rig();
        r.time.set(SECOND);
        r.write(0x0B, 0x12);
        assertTrue(r.irqs.level(8));
        assertEquals(0x90, r.read(0x0C) & 0x90);
    }

    @Test
    void setStopsTheClockAndWritesSetIt() {
        Rig r = new Rig();
        r.write(0x0B, 0x12); // UIE on
        r.time.set(10 * SECOND + 1234);
        r.write(0x0B, 0x82); // SET
        assertEquals(0x82, r.read(0x0B), "SET clears UIE");
        assertEquals(0x10, r.read(0));
        r.write(0x09, 0x27);
        r.write(0x08, 0x02);
        r.write(0x07, 0x28);
        r.write(0x04, 0x23);
        r.write(0x02, 0x59);
        r.write(0x00, 0x58);
        r.time.set(30 * SECOND);
        assertEquals(0x58, r.read(0), "no updates while SET");
        assertEquals(0, r.read(0x0A) & 0x80);
        r.write(0x0B, 0x02);
        assertEquals(List.of(0x58, 0x59, 0x23, 0x01, 0x28, 0x02, 0x27, 0x20), r.clock()); // Sunday
        r.time.set(32 * SECOND);
        assertEquals(List.of(0x00, 0x00, 0x00, 0x02, 0x01, 0x03, 0x27, 0x20), r.clock());
    }

    @Test
    void writingATimeRegisterWhileRunningMovesTheClock() {
        Rig r = new Rig();
        r.time.set(5 * SECOND);
        r.write(0x02, 0x30);
        r.write(0x32, 0x21);
        // 2126-01-01 is a Tuesday.
        assertEquals(List.of(0x05, 0x30, 0x00, 0x03, 0x01, 0x01, 0x26, 0x21), r.clock());
        r.time.set(6 * SECOND);
        assertEquals(0x06, r.read(0));
        r.write(0x06, 0x01); // day of week follows the date
        assertEquals(0x03, r.read(0x06));
    }

    @Test
    void impossibleDatesCarryOver() {
        Rig r = new Rig();
        r.write(0x0B, 0x82);
        r.write(0x08, 0x02);
        r.write(0x07, 0x30); // 30 February
        r.write(0x02, 0x9A); // not BCD: 9*10+10 = 100 minutes
        r.write(0x0B, 0x02);
        assertEquals(List.of(0x00, 0x40, 0x01, 0x02, 0x02, 0x03, 0x26, 0x20), r.clock());
    }

    @Test
    void alarmInterrupts() {
        Rig r = new Rig();
        r.write(0x01, 0x05);
        r.write(0x03, 0x00);
        r.write(0x05, 0x00);
        r.write(0x0B, 0x22); // AIE
        r.time.runTo(10 * SECOND, r.rtc);
        assertEquals(List.of(5 * SECOND), r.irqs.ticks(8));
        assertEquals(0xB0, r.read(0x0C) & 0xB0);
        r.write(0x01, 0xC0);
        r.write(0x03, 0xFF);
        r.write(0x05, 0xC5); // don't care everywhere: every second
        assertEquals(3, r.runServicing(13 * SECOND));
    }

    @Test
    void alarmFlagIsFoundAfterALongSilence() {
        Rig r = new Rig();
        r.write(0x01, 0x30);
        r.write(0x03, 0x15);
        r.write(0x05, 0x12);
        r.time.set(3 * 86_400 * SECOND);
        assertEquals(0x20, r.read(0x0C) & 0x20);
        r.time.set((3 * 86_400 + 10) * SECOND);
        assertEquals(0x00, r.read(0x0C) & 0x20);
    }

    @Test
    void dividerResetStopsTheClockAndTheFirstUpdateComesHalfASecondAfter() {
        Rig r = new Rig();
        r.time.set(3 * SECOND + 100);
        r.write(0x0A, 0x76);
        r.time.set(50 * SECOND);
        assertEquals(0x03, r.read(0));
        r.write(0x0A, 0x26);
        r.time.set(50 * SECOND + SECOND / 2 - 1);
        assertEquals(0x03, r.read(0));
        r.time.set(50 * SECOND + SECOND / 2);
        assertEquals(0x04, r.read(0));
    }

    @Test
    void nmiMaskAndIndexPort() {
        Rig r = new Rig();
        r.bus.out(0x70, 1, 0x8F);
        assertTrue(r.rtc.nmiMasked());
        r.bus.out(0x71, 1, 0x0A); // shutdown status byte
        r.bus.out(0x70, 1, 0x0F);
        assertFalse(r.rtc.nmiMasked());
        assertEquals(0x0A, r.bus.in(0x71, 1));
        assertEquals(0xFF, r.bus.in(0x70, 1));
        r.write(0x7F, 0x42);
        assertEquals(0x42, r.read(0xFF), "the index has 7 bits");
    }

    @Test
    void firmwareCmosContents() {
        Rig r = new Rig();
        r.rtc.setMemorySize(128L << 20);
        r.rtc.setCmos(0x14, 0x06);
        assertEquals(0x80, r.read(0x15));
        assertEquals(0x02, r.read(0x16));
        assertEquals(0xFF, r.read(0x17));
        assertEquals(0xFF, r.read(0x18));
        assertEquals(0xFF, r.read(0x30));
        assertEquals(0xFF, r.read(0x31));
        assertEquals(0x00, r.read(0x34));
        assertEquals(0x07, r.read(0x35));
        assertEquals(0x06, r.read(0x14));
        int sum = 0;
        for (int i = 0x10; i <= 0x2D; i++) sum += r.read(i);
        assertEquals(sum, r.read(0x2E) << 8 | r.read(0x2F));
        r.rtc.setMemorySize(8L << 20);
        assertEquals(7 * 1024, r.read(0x17) | r.read(0x18) << 8);
        assertEquals(0, r.read(0x34) | r.read(0x35));
    }

    @Test
    void readOnlyRegistersIgnoreWrites() {
        Rig r = new Rig();
        r.write(0x0D, 0x00);
        r.write(0x0C, 0xFF);
        assertEquals(0x80, r.read(0x0D));
        assertEquals(0x00, r.read(0x0C));
        r.write(0x0A, 0xA6);
        assertEquals(0x26, r.read(0x0A), "UIP is read-only");
    }

    @Test
    void nonsenseNeverThrows() {
        Rig r = new Rig();
        for (int i = 0; i < 128; i++) {
            for (int v : new int[] {0x00, 0xFF, 0x99, 0x5A, 0xC0, 0x80}) {
                r.write(i, v);
                r.read(i);
                r.time.add(12_345_679);
                r.time.runTo(r.time.now(), r.rtc);
            }
        }
        r.rtc.outByte(0x99, 0);
        assertEquals(0xFF, r.rtc.inByte(0x99));
    }

    @Test
    void saveRestoreContract() {
        PersistentContract.of(Rig::new, r -> List.of(r.time, r.irqs, r.rtc))
                .prepare(r -> {
                    r.write(0x01, 0xC0);
                    r.write(0x03, 0xC0);
                    r.write(0x05, 0xC0);
                    r.write(0x0B, 0x62); // PIE, AIE
                    r.write(0x0A, 0x7A); // divider reset...
                    r.time.set(SECOND / 3);
                    r.write(0x0A, 0x2A); // ...released: updates at 1/3 + 1/2 s; 64 Hz
                    r.runServicing(2 * SECOND + 123_456);
                    r.write(0x40, 0x77);
                    r.bus.out(0x70, 1, 0x80 | 0x40);
                })
                .mutate(r -> r.runServicing(5 * SECOND))
                .mutate(r -> {
                    r.write(0x0B, 0x86);
                    r.write(0x00, 0x33);
                    r.write(0x0A, 0x70);
                })
                .observe(r -> {
                    r.irqs.clear();
                    List<Object> seen = new ArrayList<>();
                    seen.add(r.rtc.nmiMasked());
                    seen.add(r.read(0x40));
                    seen.add(r.clock());
                    seen.add(r.runServicing(r.time.now() + 3 * SECOND));
                    seen.add(r.irqs.ticks(8));
                    seen.add(r.clock());
                    return seen;
                })
                .verify();
    }

    @Test
    void saveRestoreContractWhileStopped() {
        PersistentContract.of(Rig::new, r -> List.of(r.time, r.irqs, r.rtc))
                .prepare(r -> {
                    r.time.set(7 * SECOND);
                    r.write(0x0B, 0x82);
                    r.write(0x04, 0x11);
                })
                .mutate(r -> r.write(0x0B, 0x02))
                .observe(r -> {
                    List<Object> seen = new ArrayList<>();
                    seen.add(r.clock());
                    r.write(0x0B, 0x02);
                    r.time.add(2 * SECOND);
                    seen.add(r.clock());
                    return seen;
                })
                .verify();
    }
}
