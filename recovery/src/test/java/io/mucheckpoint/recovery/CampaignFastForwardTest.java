package io.mucheckpoint.recovery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mucheckpoint.checkpoint.CheckpointConfig;
import io.mucheckpoint.checkpoint.Interval;
import io.mucheckpoint.vmm.MachineConfig;
import io.mucheckpoint.vmm.Workloads;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Fast-forward from golden checkpoints and stopping at convergence are shortcuts, not models: every
 * result of a campaign run with them must be the result of the same injection booted afresh and run
 * to its end (outcome, activation, detections, rollbacks, the checkpoints they went to, the
 * instruction count at the end, the message). The runs from scratch are the oracle here.
 */
class CampaignFastForwardTest {
    static final MachineConfig CONFIG = MachineConfig.defaults().withRam(32L << 20);

    private static Campaign campaign(String workload, CheckpointConfig cfg, boolean fastForward, boolean convergence) throws Exception {
        return new Campaign(CONFIG, Workloads.multiboot(workload, "size=test"), cfg, Campaign.WATCHDOG_AUTO)
                .withFastForward(fastForward, convergence);
    }

    private static Campaign.Effort sameResults(CheckpointConfig cfg, String targets, int faults) throws Exception {
        return sameResults("quantum", cfg, targets, faults);
    }

    private static Campaign.Effort sameResults(String workload, CheckpointConfig cfg, String targets, int faults) throws Exception {
        return sameResults(workload, cfg, targets, faults, 0);
    }

    private static Campaign.Effort sameResults(String workload, CheckpointConfig cfg, String targets, int faults, long hold) throws Exception {
        Campaign scratch = campaign(workload, cfg, false, false);
        Campaign fast = campaign(workload, cfg, true, true);
        assertEquals(null, fast.fastForwardUnavailable());
        Campaign.Golden g = scratch.golden();
        FaultPlan plan = new FaultPlan(7, targets, 1, g.instructions(), g.usedPages(), "raw", hold);
        List<Campaign.Result> want = scratch.run(plan, 0, faults, 2, n -> {});
        List<Campaign.Result> got = fast.run(plan, 0, faults, 2, n -> {});
        assertEquals(faults, want.size());
        for (int i = 0; i < faults; i++) assertEquals(want.get(i), got.get(i), "injection " + i + " (" + plan.fault(i) + ")");
        Campaign.Effort e = fast.effort();
        assertTrue(e.fastForwarded() > faults / 2, "most injections start from a golden checkpoint: " + e.fastForwarded());
        assertTrue(e.converged() > 0, "some injections stop at convergence: " + e.converged());
        assertTrue(e.instructionsRun() < scratch.effort().instructionsRun(), "and the campaign runs fewer instructions");
        return e;
    }

    @Test
    void registerAndMemoryFaultsWithTheWholeHistoryKept() throws Exception {
        // 64 checkpoints kept: escalations may go far back, into checkpoints the fast-forward seeds
        sameResults(CheckpointConfig.defaults().withInterval(Interval.millis(10)).withLatencyNanos(20_000_000L), "reg,mem", 24);
    }

    @Test
    void detectedInjectionsStopAtTheGoldenCheckpointAfterTheirRollback() throws Exception {
        // L = 200 ms, about the whole run: a detection rolls back to a checkpoint before the fault,
        // and from the next golden checkpoint on the guest re-prints what it had delivered (the
        // console compares and suppresses it) and runs as the golden run did
        Campaign.Effort e = sameResults(CheckpointConfig.defaults(), "reg,mem", 24);
        assertTrue(e.convergedAfterRollback() > 0, "some injections stop at convergence after a rollback: " + e.convergedAfterRollback());
    }

    @Test
    void escalationsThroughTheFaultyRunsOwnCheckpointsAreTakenWithoutRerunning() throws Exception {
        // compress at 10 ms epochs and L = 10 ms: register flips whose error the self-check finds
        // long after the fault escalate checkpoint by checkpoint back past it; each rerun from a
        // checkpoint after the fault would repeat the faulty run to the same detection
        Campaign.Effort e = sameResults("compress", CheckpointConfig.defaults().withInterval(Interval.millis(10)).withLatencyNanos(10_000_000L), "reg", 24);
        assertTrue(e.escalatedWithoutRerun() > 0, "some escalations are taken without rerunning: " + e.escalatedWithoutRerun());
    }

    @Test
    void stuckAtFaultsWhoseErrorIsDetectedWhileTheyAreHeld() throws Exception {
        // a stuck bit is put back after every write for 200,000 instructions: a rollback during the
        // hold must run on as in a run to the end, not stop where the stuck bit would be put back
        sameResults("quantum", CheckpointConfig.defaults(), "reg", 40, 200_000);
    }

    @Test
    void allFaultKindsWithAShortCappedHistory() throws Exception {
        // two checkpoints, latency 0, the history predictor: retention and pre-copy decide what a rollback repairs
        sameResults(CheckpointConfig.defaults().withInterval(Interval.millis(5)).withLatencyNanos(0).withKeep(2), "reg,x87,cr,mem", 24);
    }
}
