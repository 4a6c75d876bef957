package io.mucheckpoint.vmm.clock;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The pacer against a fake host clock that moves only when the pacer sleeps (or the test says so). */
class IdlePacerTest {
    private long host;
    private long slept;
    private final IdlePacer pacer = new IdlePacer(() -> host, n -> {
        host += n;
        slept += n;
    });
    private final VirtualClock clock = new VirtualClock(100_000_000L, () -> 0L);

    @Test
    void anIdleGuestWaitsAsLongAsTheHost() {
        long second = clock.fromNanos(1_000_000_000L);
        int calls = 0;
        while (clock.now() < second) {
            long skip = pacer.pace(clock, second - clock.now());
            assertTrue(skip >= 0 && skip <= second - clock.now());
            clock.skip(skip);
            calls++;
            // Never more than a tick ahead of the host.
            assertTrue(clock.nanos() <= host + 10, clock.nanos() + " > " + host);
        }
        assertTrue(host >= 999_000_000L, "host time " + host);
        assertTrue(calls <= 300, "one sleep is up to 10 ms: " + calls + " calls");
    }

    @Test
    void aGuestBehindTheHostSkipsAtOnce() {
        pacer.pace(clock, 1);
        host += 5_000_000_000L; // the guest spent five host seconds computing one guest second
        clock.skip(clock.fromNanos(1_000_000_000L));
        long skip = clock.fromNanos(2_000_000_000L);
        long before = slept;
        assertEquals(skip, pacer.pace(clock, skip));
        assertTrue(slept - before <= 10, "no real wait when the guest is behind");
    }

    @Test
    void resyncForgetsTimeSpentPaused() {
        pacer.pace(clock, 1);
        host += 60_000_000_000L; // a minute at the console prompt
        pacer.resync();
        long skip = clock.fromNanos(1_000_000_000L);
        long allowed = pacer.pace(clock, skip);
        assertTrue(allowed <= clock.fromNanos(IdlePacer.MAX_SLEEP_NANOS), "the guest is not a minute behind: it waits, "
                + allowed);
    }
}
