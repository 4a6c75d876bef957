package io.mucheckpoint.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * A rollback resets the instruction count that an injection's budget watches, so an error that
 * comes back after every rollback escalated through all 64 retained checkpoints, re-running from
 * each: injection 1043 of this campaign (CR0.PE cleared early; the guest dead-halts at instruction
 * 72 million again and again) ran for many minutes in the 10,000-injection suite. The work an
 * injection does, instruction count plus re-executed instructions, is capped at 20 golden runs
 * plus 100 million.
 */
class WorkLimitTest {
    @Test
    void anErrorThatComesBackAfterEveryRollbackStopsAtTheWorkLimit() {
        CliRun r = CliRun.of("inject", "compress", "--append", "size=test", "--interval", "10ms", "--latency", "10ms",
                "--target", "reg,mem,x87,cr", "--faults", "1112", "--seed", "1", "--replay", "1043");
        assertEquals(0, r.status, r.toString());
        Matcher golden = Pattern.compile("golden run: ([0-9,]+) instructions").matcher(r.err);
        assertTrue(golden.find(), r.err);
        long limit = Long.parseLong(golden.group(1).replace(",", "")) * 20 + 100_000_000L;
        assertTrue(r.err.contains("escalated: rolled back further"), "the error came back after rollbacks:\n" + r.err);
        assertTrue(r.err.contains(String.format("vmm: end: still running after %,d instructions of work", limit)), r.err);
        assertTrue(r.err.contains("vmm: outcome: detected, not recovered\n"), r.err);
    }
}
