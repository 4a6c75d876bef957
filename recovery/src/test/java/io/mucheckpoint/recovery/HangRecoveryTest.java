package io.mucheckpoint.recovery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Hangs become detections (issue 17, defect 7), with faultlab's scenario 7: a loop that counts ECX
 * up to zero by twos never ends once bit 0 of ECX is flipped, and the guest prints nothing meanwhile.
 */
class HangRecoveryTest {
    static final int HANG_LOOP = FaultlabTest.LABELS.get("hang_loop");

    static Fault endlessLoop() throws Exception {
        return new Fault(Fault.Target.REG, FaultlabTest.ECX, 1, FaultlabTest.icountAt(7, HANG_LOOP));
    }

    @Test
    void theGoldenRunSizesTheWatchdog() throws Exception {
        Campaign c = new Campaign(FaultlabTest.CONFIG, FaultlabTest.image(7), FaultlabTest.checkpoints(0, 64), Campaign.WATCHDOG_AUTO);
        // The guest prints only at the end, after the loop (two instructions a turn, a million turns).
        assertTrue(c.golden().longestSilenceInstructions() > 2_000_000, c.golden().toString());
        assertEquals(c.golden().longestSilenceNanos() * Campaign.WATCHDOG_FACTOR, c.watchdogNanos());
    }

    @Test
    void aHangIsDetectedByTheWatchdogAndRecovered() throws Exception {
        Campaign c = new Campaign(FaultlabTest.CONFIG, FaultlabTest.image(7), FaultlabTest.checkpoints(0, 64), Campaign.WATCHDOG_AUTO);
        List<String> log = new ArrayList<>();
        Campaign.Result r = c.inject(0, endlessLoop(), e -> log.add(e.toString()));
        assertEquals(Outcome.DETECTED_RECOVERED, r.outcome(), r.detail() + "\n" + String.join("\n", log));
        assertTrue(log.stream().anyMatch(s -> s.contains("detected: watchdog")), String.join("\n", log));
    }

    @Test
    void withoutTheWatchdogTheSameFaultIsAHang() throws Exception {
        Campaign c = new Campaign(FaultlabTest.CONFIG, FaultlabTest.image(7), FaultlabTest.checkpoints(0, 64), 0);
        assertEquals(Outcome.HANG, c.inject(0, endlessLoop(), null).outcome());
    }

    @Test
    void aHangThatEveryCheckpointHoldsEndsAsUnrecoverableInsteadOfRollingBackForEver() throws Exception {
        // Four checkpoints 200,000 instructions apart are all taken inside the loop, after the flip.
        Campaign c = new Campaign(FaultlabTest.CONFIG, FaultlabTest.image(7), FaultlabTest.checkpoints(0, 4), Campaign.WATCHDOG_AUTO);
        List<String> log = new ArrayList<>();
        Campaign.Result r = c.inject(0, endlessLoop(), e -> log.add(e.toString()));
        assertEquals(Outcome.DETECTED_NOT_RECOVERED, r.outcome(), r.detail() + "\n" + String.join("\n", log));
        assertTrue(log.get(log.size() - 1).contains("unrecoverable: the guest hung again after rolling back to checkpoint"),
                String.join("\n", log));
        assertTrue(r.recoveries() <= 2, String.join("\n", log));
    }
}
