package io.mucheckpoint.recovery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mucheckpoint.checkpoint.CheckpointConfig;
import io.mucheckpoint.checkpoint.Interval;
import io.mucheckpoint.vmm.GuestImage;
import io.mucheckpoint.vmm.MachineConfig;
import io.mucheckpoint.vmm.Workloads;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Def-use pruning decides injections without running them on, so it must decide each as its run to
 * the end does: every result of a pruned campaign equals the result of the same injection run in
 * full (outcome, activation, detections, rollbacks, end, message, trace). The full runs are the
 * oracle; a probe that missed a read (an instruction fetch, a device, a read-modify-write) would
 * call an activated fault "not activated" and fail here.
 */
class CampaignPruneTest {
    static final MachineConfig CONFIG = MachineConfig.defaults().withRam(32L << 20);
    static final CheckpointConfig CHECKPOINTS = CheckpointConfig.defaults().withInterval(Interval.millis(10)).withLatencyNanos(10_000_000L);

    private static Campaign.Effort samePrunedAsRun(GuestImage image, String targets, String memoryFault, int faults) throws Exception {
        Campaign full = new Campaign(CONFIG, image, CHECKPOINTS, Campaign.WATCHDOG_AUTO);
        Campaign pruned = new Campaign(CONFIG, image, CHECKPOINTS, Campaign.WATCHDOG_AUTO).withPruning(true);
        Campaign.Golden g = full.golden();
        FaultPlan plan = new FaultPlan(11, targets, 1, g.instructions(), g.usedPages(), memoryFault, 0);
        List<Campaign.Result> want = full.run(plan, 0, faults, 2, n -> {});
        List<Campaign.Result> got = pruned.run(plan, 0, faults, 2, n -> {});
        assertEquals(faults, got.size());
        for (int i = 0; i < faults; i++) assertEquals(want.get(i), got.get(i), "injection " + i + " (" + plan.fault(i) + ")");
        Campaign.Effort e = pruned.effort();
        assertTrue(e.instructionsRun() < full.effort().instructionsRun(), "pruning runs fewer instructions");
        long used = want.stream().filter(r -> Fault.isMemory(r.fault().target()) && r.activation() == ActivationTracker.Activation.ACTIVATED).count();
        assertTrue(used > 0, "some memory faults are read, so the probe is asked to tell them apart: " + used);
        return e;
    }

    @Test
    void rawMemoryUpsetsAndX87RegistersInAProgramWithoutFloatingPoint() throws Exception {
        // quantum has no x87 instruction: every x87 flip is decided, and many RAM bytes are never read again
        Campaign.Effort e = samePrunedAsRun(Workloads.multiboot("quantum", "size=test"), "mem,x87", "raw", 40);
        assertTrue(e.pruned() >= 10, "x87 flips and unread bytes are decided when they strike: " + e.pruned());
    }

    @Test
    void flipsThroughTheDoorAndLiveX87StateInAPagedKernel() throws Exception {
        // pmkernel: paging, ring 3, code and data on the same pages, and x87 arithmetic until late in the run
        Campaign.Effort e = samePrunedAsRun(ProtectedModeRecoveryTest.image(), "mem,x87", "door", 40);
        assertTrue(e.pruned() > 0, "some injections are decided: " + e.pruned());
    }
}
