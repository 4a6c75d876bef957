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
        if (e.pruned() > 0) assertTrue(e.instructionsRun() < full.effort().instructionsRun(), "pruning runs fewer instructions");
        long used = want.stream().filter(r -> Fault.isMemory(r.fault().target()) && r.activation() == ActivationTracker.Activation.ACTIVATED).count();
        if (targets.contains("mem")) assertTrue(used > 0, "some memory faults are read, so the probe is asked to tell them apart: " + used);
        return e;
    }

    @Test
    void rawMemoryUpsetsX87AndControlRegistersInAProgramWithoutFloatingPointOrPaging() throws Exception {
        // quantum has no x87 instruction and no paging: x87, CR3 and CR4 flips are decided, and many RAM bytes are never read again
        Campaign.Effort e = samePrunedAsRun(Workloads.multiboot("quantum", "size=test"), "mem,x87,cr", "raw", 48);
        assertTrue(e.pruned() >= 16, "x87 and CR3/CR4 flips and unread bytes are decided: " + e.pruned());
    }

    @Test
    void flipsThroughTheDoorLiveX87StateAndPageTablesInAPagedKernel() throws Exception {
        // pmkernel: paging (CR3 and CR4 used by every page walk), ring 3, code and data on the same
        // pages, and x87 arithmetic until late in the run
        Campaign.Effort e = samePrunedAsRun(ProtectedModeRecoveryTest.image(), "mem,x87,cr", "door", 48);
        assertTrue(e.pruned() > 0, "some injections are decided: " + e.pruned());
    }

    @Test
    void controlRegisterFlipsInAPagedKernelThatUsesTheX87AndInAProgramThatUsesNeither() throws Exception {
        // CR0's bits other than PE and PG are read by x87 and WAIT instructions (TS, EM, MP, NE), by
        // supervisor writes to read-only pages (WP) and by MOV, SMSW, LMSW and CLTS: pmkernel does
        // x87 arithmetic under paging until late (little is decided, and nothing may be decided
        // wrongly), quantum neither, so there most CR0 flips are decided
        samePrunedAsRun(ProtectedModeRecoveryTest.image(), "cr", "door", 40);
        Campaign.Effort e = samePrunedAsRun(Workloads.multiboot("quantum", "size=test"), "cr", "raw", 40);
        assertTrue(e.pruned() >= 20, "CR0, CR3 and CR4 flips are decided: " + e.pruned());
    }

    @Test
    void leavesToRunWhatTheActivationLockstepWouldCallUsedAtTheEndOfTheRun() throws Exception {
        // The lockstep takes a step that ends the run as a use: an unused register flipped within its
        // window of the end is "activated" by a full run, so the probe must not decide it.
        Campaign c = new Campaign(CONFIG, Workloads.multiboot("quantum", "size=test"), CHECKPOINTS, Campaign.WATCHDOG_AUTO);
        long end = c.golden().instructions();
        List<Fault> faults = List.of(new Fault(Fault.Target.X87, 3, 1L << 40, end / 2), new Fault(Fault.Target.X87, 3, 1L << 40, end - 20_000),
                new Fault(Fault.Target.CR, 3, 1L << 15, end / 3), new Fault(Fault.Target.CR, 4, 1L << 9, end - 50_000));
        java.util.Map<Fault, DefUseProbe.Decision> decided = DefUseProbe.run(
                console -> new io.mucheckpoint.vmm.Machine(CONFIG, Workloads.multiboot("quantum", "size=test"), console, b -> {}),
                CHECKPOINTS, c.golden(), faults);
        for (int i = 0; i < faults.size(); i++) {
            Campaign.Result full = c.inject(i, faults.get(i), null);
            boolean early = faults.get(i).icount() < end - Campaign.LOCKSTEP_WINDOW;
            assertEquals(early, decided.containsKey(faults.get(i)), faults.get(i) + " decided: " + decided.get(faults.get(i)) + ", full run: " + full);
            assertEquals(early ? Outcome.NOT_ACTIVATED : Outcome.MASKED, full.outcome(), "the full run of " + faults.get(i));
            if (early) assertEquals(full.activation(), decided.get(faults.get(i)).activation());
        }
    }
}
