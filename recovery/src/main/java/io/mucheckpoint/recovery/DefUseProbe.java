package io.mucheckpoint.recovery;

import io.mucheckpoint.checkpoint.CheckpointConfig;
import io.mucheckpoint.checkpoint.CheckpointEngine;
import io.mucheckpoint.vmm.Machine;
import io.mucheckpoint.vmm.RunResult;
import io.mucheckpoint.vmm.load.LoadException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Def-use pruning ({@code vmm inject --prune def-use}): one more pass over the golden run finds the
 * injections whose corrupted location the rest of the run never reads before overwriting it. Such an
 * injection is decided without running it: the faulty run is the golden run plus a value nobody
 * looks at (or that the next write replaces), so it prints what the golden run prints, meets no
 * detector and exits as the golden run does. The campaign records it as "not activated", with the
 * activation its run to the end would report ({@code OVERWRITTEN} or {@code DORMANT}).
 *
 * <p>Decided here: transient flips of a RAM byte (raw upsets and flips through the door) whose next
 * access in the golden run is a write, or which the golden run never accesses again (reads by the
 * CPU, by instruction fetch and by devices all count as uses); transient flips of an x87 register
 * after the golden run's last x87 instruction (the only reader of those registers on this
 * processor); transient flips of CR3 or CR4 after the golden run's last use of that register
 * (page walks, MOV to or from it, RDTSC, RDPMC, debug registers 4 and 5: {@code Cpu.controlRegisterUses});
 * and transient flips of CR0's bits other than PE and PG after the golden run's last use of them
 * (x87 and WAIT instructions, a supervisor write to a read-only page, MOV, SMSW, LMSW, CLTS).
 * Everything else runs as before: general registers, EFLAGS, segment bases, CR0.PE, CR0.PG and EIP
 * are read by nearly every instruction, and a stuck-at fault is put back after every write.
 *
 * <p>A processor fault's run also goes through the activation lockstep ({@link ActivationTracker#lockstep}),
 * which takes a step that ends the run, or that does not retire exactly one instruction, as a sign
 * of use. The probe leaves such faults to run: those within the lockstep window of the end of the
 * run or of a stop that is not an instruction limit (an idle guest, a pause).
 *
 * <p>At a memory fault's moment the pass drops the decoded code over the byte, as the real flip
 * does, so the fetches that follow are heard as the faulty run makes them. It runs under a
 * checkpoint engine configured as the campaign's, which is what an injection runs under, so that the
 * trace of a decided injection (when it struck, the oldest checkpoint sharing its page) is what its
 * run records.
 */
public final class DefUseProbe {
    private static final Logger log = LoggerFactory.getLogger(DefUseProbe.class);

    private DefUseProbe() {}

    /** What a decided injection's run would report: its activation, and when and where it struck. */
    public record Decision(ActivationTracker.Activation activation, long injectedNanos, long firstSharing) {}

    /** Whether a fault is of a kind this probe can decide. */
    static boolean decidable(Fault f) {
        return !f.stuck() && (Fault.isMemory(f.target()) || f.target() == Fault.Target.X87
                || (f.target() == Fault.Target.CR && (f.index() == 3 || f.index() == 4
                        || (f.index() == 0 && (f.mask() & CR0_READ_EVERYWHERE) == 0))));
    }

    /** CR0's PE and PG bits: read by nearly every instruction, so a flip of them is never decided here. */
    private static final long CR0_READ_EVERYWHERE = 0x8000_0001L;

    /**
     * Runs the golden run once more from {@code start} and returns, for each fault of {@code faults}
     * that can be decided without running it, the activation its run would report. Faults not in the
     * map run as usual. Empty if the pass did not end as the golden run did (which determinism rules
     * out; it is checked rather than assumed).
     */
    public static Map<Fault, Decision> run(Campaign.Start start, CheckpointConfig checkpoints, Campaign.Golden golden,
                                           List<Fault> faults) throws LoadException {
        List<Fault> order = new ArrayList<>();
        for (Fault f : faults) if (decidable(f) && f.icount() >= golden.startIcount() && f.icount() < golden.instructions()) order.add(f);
        order.sort(Comparator.comparingLong(Fault::icount));
        Map<Fault, ActivationTracker.Activation> decided = new HashMap<>();
        Map<Fault, Decision> out = new HashMap<>();
        if (order.isEmpty()) return out;

        Machine m = start.machine(b -> {});
        CheckpointEngine engine = new CheckpointEngine(m, checkpoints);
        Map<Fault, long[]> struck = new HashMap<>(); // fault -> {guest nanoseconds, first sharing}
        Map<Integer, List<Fault>> pending = new HashMap<>(); // RAM byte -> memory faults waiting for its next access
        Map<Integer, Integer> pendingOnPage = new HashMap<>();
        m.memory.setAccessListener((paddr, size, write) -> {
            for (int a = paddr; a < paddr + size; a++) {
                List<Fault> waiting = pending.remove(a);
                if (waiting == null) continue;
                // a write replaces the flipped byte before anyone saw it; a read used it
                if (write) for (Fault f : waiting) decided.put(f, ActivationTracker.Activation.OVERWRITTEN);
                int page = a >>> 12;
                if (pendingOnPage.merge(page, -1, Integer::sum) == 0) {
                    pendingOnPage.remove(page);
                    m.memory.listenTo(page, false);
                }
            }
        });
        Map<Fault, Long> usesBefore = new HashMap<>(); // processor faults: uses of their register before the flip
        List<Long> oddStops = new ArrayList<>(); // instruction counts where a run stopped short of its limit
        RunResult r = null;
        for (Fault f : order) {
            while (m.cpu.icount() < f.icount()) {
                r = engine.run(Long.MAX_VALUE, f.icount());
                if (r.finished()) break;
                if (r.kind() != RunResult.Kind.LIMIT) oddStops.add(m.cpu.icount());
            }
            if (m.cpu.icount() != f.icount()) break;
            // as Campaign.inject records them, just before the flip
            struck.put(f, new long[] {m.clock.toNanos(m.clock.now()),
                    f.target() == Fault.Target.MEM ? engine.firstSharing((int) (f.index() >>> 12)) : engine.checkpointsTaken()});
            if (f.target() == Fault.Target.X87) {
                usesBefore.put(f, m.cpu.x87Instructions());
                continue;
            }
            if (f.target() == Fault.Target.CR) {
                usesBefore.put(f, m.cpu.controlRegisterUses((int) f.index()));
                m.cpu.flipControlRegister((int) f.index(), 0); // what the flip does besides the bits: a TLB flush
                continue;
            }
            int addr = (int) f.index();
            if (addr >= m.memory.ramSize()) continue; // the injection reports the bad address itself
            m.memory.dropDecodedCode(addr, 1);
            if (pending.computeIfAbsent(addr, a -> new ArrayList<>()).size() == 0) {
                int page = addr >>> 12;
                if (pendingOnPage.merge(page, 1, Integer::sum) == 1) m.memory.listenTo(page, true);
            }
            pending.get(addr).add(f);
        }
        while (r == null || !r.finished()) {
            r = engine.run(Long.MAX_VALUE, m.cpu.icount() + 1_000_000);
            if (!r.finished() && r.kind() != RunResult.Kind.LIMIT) oddStops.add(m.cpu.icount());
        }
        engine.stop();
        m.memory.setAccessListener(null);
        if (r.kind() != RunResult.Kind.EXIT || r.exitStatus() != golden.exitStatus() || m.cpu.icount() != golden.instructions()) {
            log.warn("def-use probe: the run ended at instruction {} ({}), not as the golden run did at {}: nothing pruned",
                    m.cpu.icount(), r.message(), golden.instructions());
            return out;
        }
        for (List<Fault> never : pending.values()) for (Fault f : never) decided.put(f, ActivationTracker.Activation.DORMANT);
        usesBefore.forEach((f, before) -> {
            long end = f.target() == Fault.Target.X87 ? m.cpu.x87Instructions() : m.cpu.controlRegisterUses((int) f.index());
            long windowEnd = f.icount() + Campaign.LOCKSTEP_WINDOW + 1;
            boolean lockstepEndsEarly = windowEnd >= golden.instructions() || oddStops.stream().anyMatch(i -> i >= f.icount() && i <= windowEnd);
            if (before == end && !lockstepEndsEarly) decided.put(f, ActivationTracker.Activation.DORMANT);
        });
        decided.forEach((f, a) -> out.put(f, new Decision(a, struck.get(f)[0], struck.get(f)[1])));
        return out;
    }
}
