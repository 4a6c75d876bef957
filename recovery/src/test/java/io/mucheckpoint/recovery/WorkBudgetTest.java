package io.mucheckpoint.recovery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mucheckpoint.checkpoint.CheckpointConfig;
import io.mucheckpoint.checkpoint.Interval;
import io.mucheckpoint.vmm.MachineConfig;
import io.mucheckpoint.vmm.Workloads;
import org.junit.jupiter.api.Test;

/**
 * An injection's budget (three times the golden run, plus 50 million) bounds the work it does, not
 * its instruction count: a rollback resets the count, so a run that rolls back could go on for a
 * budget after each rollback (an error that comes back every time escalated through all 64
 * retained checkpoints that way and ran for many minutes, in the 10,000-injection suite). Here a CR0
 * flip hangs the guest; the watchdog rolls it back 63 million instructions; it hangs again: under
 * the old rule it would have run another 63 million.
 */
class WorkBudgetTest {
    @Test
    void anErrorThatComesBackAfterEveryRollbackStopsAtTheBudget() throws Exception {
        CheckpointConfig cfg = CheckpointConfig.defaults().withInterval(Interval.millis(10)).withLatencyNanos(10_000_000L);
        Campaign fast = new Campaign(MachineConfig.defaults(), Workloads.multiboot("compress", "size=test"), cfg, Campaign.WATCHDOG_AUTO);
        Campaign.Golden g = fast.golden();
        FaultPlan plan = FaultPlan.of(g, 1, "reg,mem,x87,cr", 1, "raw", 0);
        Campaign.Result r = fast.run(plan, new int[] {1043}, 1, x -> {}).get(0);
        long budget = g.instructions() * 3 + 50_000_000L;
        assertTrue(r.trace().rollbacks() >= 1 && r.trace().reexecuted() > 0, "rolled back and re-executed: " + r);
        assertEquals(budget, r.instructions() + r.trace().reexecuted(), "stopped when its work reached the budget: " + r);
        assertEquals(Outcome.DETECTED_NOT_RECOVERED, r.outcome(), "detected and never ended right: " + r);
        // the limit falls on the same instruction however the run is sliced (fast-forward, convergence checks)
        Campaign scratch = new Campaign(MachineConfig.defaults(), Workloads.multiboot("compress", "size=test"), cfg, Campaign.WATCHDOG_AUTO)
                .withFastForward(false, false);
        assertEquals(r, scratch.run(plan, new int[] {1043}, 1, x -> {}).get(0));
    }
}
