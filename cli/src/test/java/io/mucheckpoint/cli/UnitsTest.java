package io.mucheckpoint.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class UnitsTest {
    @Test
    void sizes() {
        assertEquals(64L << 20, Units.size("64M"));
        assertEquals(1L << 30, Units.size("1G"));
        assertEquals(512L << 10, Units.size("512k"));
        assertEquals(256L << 20, Units.size("256MiB"));
        assertEquals(4096, Units.size("4096"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Units.size("64X")).getMessage().contains("not a size"));
        assertThrows(IllegalArgumentException.class, () -> Units.size("M"));
        assertThrows(IllegalArgumentException.class, () -> Units.size("-1M"));
        assertThrows(IllegalArgumentException.class, () -> Units.size("99999999999999G"));
    }

    @Test
    void intervals() {
        assertEquals(new io.mucheckpoint.checkpoint.Interval(50_000_000L, false), Units.interval("50ms"));
        assertEquals(new io.mucheckpoint.checkpoint.Interval(1_000_000_000L, false), Units.interval("1s"));
        assertEquals(new io.mucheckpoint.checkpoint.Interval(250_000L, false), Units.interval("250us"));
        assertEquals(new io.mucheckpoint.checkpoint.Interval(2_000_000L, true), Units.interval("2000000i"));
        assertEquals(new io.mucheckpoint.checkpoint.Interval(5_000_000L, true), Units.interval("5Mi"));
        assertEquals("50ms", Units.interval("50ms").toString());
        assertEquals("2000000i", Units.interval("2000000i").toString());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Units.interval("50")).getMessage().contains("50ms"));
        assertThrows(IllegalArgumentException.class, () -> Units.interval("ms"));
        assertThrows(IllegalArgumentException.class, () -> Units.interval("5 ms"));
    }

    @Test
    void counts() {
        assertEquals(100_000_000L, Units.count("100M"));
        assertEquals(2500, Units.count("2500"));
        assertEquals(3_000, Units.count("3k"));
        assertThrows(IllegalArgumentException.class, () -> Units.count("3kb"));
    }

    @Test
    void guestTimes() {
        assertEquals(150_000_000L, Units.guestTime("150ms"));
        assertEquals(1_500_000_000L, Units.guestTime("1.5s"));
        assertEquals(2_250L, Units.guestTime("2.25us"));
        assertEquals(0, Units.guestTime("0"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Units.guestTime("1h")).getMessage()
                .contains("'1h' is not a duration"));
        assertThrows(IllegalArgumentException.class, () -> Units.guestTime("1.s"));
    }

    @Test
    void oneDurationSyntaxEverywhere() {
        // Fractions wherever a duration is taken: --interval, --latency, --watchdog, --time-limit, set, rollback @.
        assertEquals(new io.mucheckpoint.checkpoint.Interval(1_500_000_000L, false), Units.interval("1.5s"));
        assertEquals(200_000_000L, Units.guestNanos("0.2s"));
        assertEquals(100_000_000L, Units.guestNanos("0.1s"));
        assertEquals(250_000L, Units.guestNanos("250us"));
        assertEquals(250_000L, Units.guestNanos("0.25ms"));
        assertEquals(10_000_000L, Units.guestNanos("10ms"));
        assertEquals(0, Units.guestNanos("0"));
        assertEquals(0, Units.guestNanos("0ms"));
        assertEquals(Units.guestTime("1.5s"), Units.guestNanos("1.5s"));
        assertEquals(new io.mucheckpoint.checkpoint.Interval(2_500_000L, true), Units.interval("2.5Mi"));
        assertEquals(new io.mucheckpoint.checkpoint.Interval(2_000L, true), Units.interval("2ki"));
        // Instructions only where they make sense, and whole ones.
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Units.guestNanos("5Mi")).getMessage()
                .contains("counts instructions; give guest time here"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Units.interval("1.5i")).getMessage()
                .contains("not a whole number of instructions"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Units.guestNanos("0.5ns")).getMessage()
                .contains("not a whole number of nanoseconds"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Units.interval("0ms")).getMessage().contains("is zero"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Units.interval("99999999999s")).getMessage().contains("too large"));
        assertThrows(IllegalArgumentException.class, () -> Units.guestNanos("-1ms"));
        assertThrows(IllegalArgumentException.class, () -> Units.guestNanos(".5s"));
    }
}
