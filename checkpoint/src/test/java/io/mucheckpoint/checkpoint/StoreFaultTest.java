package io.mucheckpoint.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.mucheckpoint.vmm.ConsoleCapture;
import io.mucheckpoint.vmm.Machine;
import io.mucheckpoint.vmm.MachineConfig;
import io.mucheckpoint.vmm.RunResult;
import io.mucheckpoint.vmm.Workloads;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Faults in the checkpoint store, with real guests running: bits flipped in stored pre-images and
 * saved states, logs that lost their tail, a store that lost its tail, a memory budget that runs
 * out in the middle of an epoch, and rollbacks taken while the guest is in the middle of a REP
 * string instruction or inside its timer interrupt handler, in every mode.
 *
 * <p>What must hold (design brief, invariant 6): a rollback that would need corrupt or missing data
 * finds it before touching anything (the machine's fingerprint is unchanged) and says which
 * checkpoints are unreachable and which is the newest still reachable; rolling back to that one
 * works; the budget's warnings are given and no dropped checkpoint is offered; and every run ends
 * with the workload's expected output and the uninterrupted run's instruction count.
 */
class StoreFaultTest {
    private static final long RAM = 48L << 20;

    /** A workload running under the engine, with the fingerprint and console length at every checkpoint. */
    static final class GuestUnderTest {
        final String workload;
        final Machine m;
        final CheckpointEngine engine;
        final ConsoleCapture console = new ConsoleCapture();
        final Map<Integer, Long> hashes = new HashMap<>();
        final Map<Integer, Integer> consoleAt = new HashMap<>();
        final List<String> warnings = new ArrayList<>();
        long maxBytesHeld;
        int rollbacks;

        GuestUnderTest(String workload, CheckpointConfig cfg) throws Exception {
            this.workload = workload;
            m = new Machine(MachineConfig.defaults().withRam(RAM), Workloads.multiboot(workload, "size=test"), console, b -> {});
            engine = new CheckpointEngine(m, cfg);
            engine.addBoundaryListener(c -> {
                hashes.put(c.id(), MachineHash.of(m));
                consoleAt.put(c.id(), console.size());
                maxBytesHeld = Math.max(maxBytesHeld, engine.stats().bytesHeld());
            });
            engine.addWarningListener(warnings::add);
            engine.start();
        }

        /** Runs {@code n} more instructions (or to the end); returns whether the guest finished. */
        boolean step(long n) {
            RunResult r = engine.run(Long.MAX_VALUE, m.cpu.icount() + n);
            if (r.finished()) {
                assertEquals(RunResult.Kind.EXIT, r.kind(), r.message());
                return true;
            }
            return false;
        }

        List<Integer> ids() {
            return engine.checkpoints().stream().map(CheckpointInfo::id).toList();
        }

        /** Rolls back and checks the machine is exactly as it was at that checkpoint. */
        void rollback(int id) {
            engine.rollback(id);
            assertEquals(hashes.get(id), MachineHash.of(m), workload + ": state after rolling back to checkpoint " + id);
            console.truncate(consoleAt.get(id));
            rollbacks++;
        }

        /**
         * Tries a rollback to {@code target}, which needs corrupt or missing data: it must be refused
         * with nothing changed, and the newest reachable checkpoint it names must work. Returns
         * that checkpoint's id (-1: none, the guest carries on from where it is).
         */
        int refusedRollback(int target, int victim) {
            long before = MachineHash.of(m);
            List<Integer> idsBefore = ids();
            long icount = m.cpu.icount();
            CheckpointUnreachableException e = assertThrows(CheckpointUnreachableException.class, () -> engine.rollback(target),
                    workload + ": rollback to " + target + " with checkpoint " + victim + " damaged");
            assertEquals(before, MachineHash.of(m), workload + ": nothing was applied before the corruption was found");
            assertEquals(icount, m.cpu.icount());
            assertEquals(idsBefore, ids(), "no checkpoint was dropped");
            String msg = e.getMessage();
            assertFalse(msg.contains("\n"), msg);
            assertTrue(msg.contains("unreachable"), msg);
            assertTrue(e.corrupt().contains(victim), "names " + victim + " as corrupt: " + msg);
            assertTrue(msg.matches(".*\\b" + victim + "\\b.*"), msg);
            int reachable = e.newestReachable();
            if (reachable >= 0) {
                assertTrue(msg.endsWith("the newest reachable checkpoint is " + reachable), msg);
                assertTrue(idsBefore.contains(reachable));
                rollback(reachable);
            } else {
                assertTrue(msg.endsWith("no checkpoint is reachable"), msg);
            }
            return reachable;
        }

        /** Runs to the end; the output and instruction count must be those of an undisturbed run. */
        void finish() {
            while (!step(5_000_000)) {
                // on to the end
            }
            assertEquals(Workloads.expected(workload, "test"), console.text(), workload + ": output");
            assertEquals(RollbackEquivalenceTest.uninterruptedIcount(workload), m.cpu.icount(),
                    workload + ": instructions retired, compared with an uninterrupted run");
        }
    }

    static CheckpointConfig config(CheckpointConfig.Mode mode, long interval) {
        return CheckpointConfig.defaults().withMode(mode).withInterval(Interval.instructions(interval))
                .withKeep(mode == CheckpointConfig.Mode.FULL ? 4 : 32).withLatencyNanos(Long.MAX_VALUE / 4)
                .withMemoryBudget(mode == CheckpointConfig.Mode.FULL ? 5 * RAM : 2 * RAM);
    }

    // --- corruption and truncation ---------------------------------------------------------------

    enum Fault { IMAGE_BIT, STATE_BIT, LOG_TRUNCATED, STORE_TRUNCATED }

    static Stream<Arguments> faultCases() {
        List<Arguments> out = new ArrayList<>();
        for (CheckpointConfig.Mode mode : CheckpointConfig.Mode.values()) {
            for (String w : List.of("compress", "churn", "timer")) out.add(Arguments.of(mode, w));
        }
        return out.stream();
    }

    /**
     * Several rounds on one run: damage a checkpoint (a flipped bit in one of its stored images or
     * its saved state, entries lost from its log, or the store's last slots lost), try a rollback
     * that needs the damaged data, then roll back to the checkpoint the engine names as the newest
     * reachable; at the end the guest's output is still exactly right.
     */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("faultCases")
    void damagedCheckpointsAreFoundBeforeAnythingIsApplied(CheckpointConfig.Mode mode, String workload) throws Exception {
        GuestUnderTest g = new GuestUnderTest(workload, config(mode, 700_000));
        Random rnd = new Random(workload.hashCode() * 31L + mode.ordinal());
        int refused = 0;
        List<String> log = new ArrayList<>();
        int first = rnd.nextInt(Fault.values().length);
        boolean poisoned = false;
        for (int round = 0; round < 5; round++) {
            if (g.step(2_000_000 + rnd.nextInt(1_000_000))) break;
            Fault fault = Fault.values()[(first + round) % Fault.values().length]; // every kind, in some order
            if (poisoned) {
                // A damaged copy-mode base image makes every checkpoint unreachable for good (it
                // was refused above); later rounds can only show that states are checked too.
                fault = Fault.STATE_BIT;
            }
            List<Integer> ids = g.ids();
            int victim;
            switch (fault) {
                case IMAGE_BIT, LOG_TRUNCATED -> {
                    List<Integer> withImages = ids.stream().filter(id -> g.engine.imagesOf(id) > 0).toList();
                    if (withImages.isEmpty()) continue;
                    victim = withImages.get(rnd.nextInt(withImages.size()));
                    if (fault == Fault.IMAGE_BIT) {
                        g.engine.corruptImage(victim, rnd.nextInt(g.engine.imagesOf(victim)), rnd.nextInt(4096 * 8));
                    } else {
                        g.engine.truncateLog(victim, rnd.nextInt(g.engine.imagesOf(victim)));
                    }
                }
                case STATE_BIT -> {
                    victim = ids.get(rnd.nextInt(ids.size()));
                    g.engine.corruptState(victim, rnd.nextInt(1 << 16));
                }
                default -> {
                    int total = g.engine.storeLength();
                    int lost = 1 + rnd.nextInt(Math.min(64, total));
                    List<Integer> hit = g.engine.usingSlotsFrom(total - lost);
                    g.engine.truncateStore(lost);
                    // A lost slot that held zeros still "holds" its zeros; only the others are damage.
                    List<Integer> damaged = hit.stream().filter(id -> g.engine.integrityCheck().contains(id)).toList();
                    if (damaged.isEmpty()) continue;
                    victim = damaged.get(rnd.nextInt(damaged.size()));
                }
            }
            assertTrue(g.engine.integrityCheck().contains(victim), fault + " on checkpoint " + victim + " is seen by the integrity check");
            int target = targetNeeding(mode, fault, ids, victim, rnd);
            int reachable = g.refusedRollback(target, victim);
            log.add(fault + " on " + victim + ": " + target + " refused, back to " + reachable);
            poisoned |= mode == CheckpointConfig.Mode.COPY && reachable < 0;
            refused++;
        }
        System.out.println(mode + " " + workload + ": " + log);
        assertTrue(refused >= 3, "enough rounds ran (" + refused + ")");
        g.finish();
    }

    /** A checkpoint whose rollback reads the victim's damaged data. */
    private static int targetNeeding(CheckpointConfig.Mode mode, Fault fault, List<Integer> ids, int victim, Random rnd) {
        if (fault == Fault.STATE_BIT || mode == CheckpointConfig.Mode.FULL) return victim;
        List<Integer> candidates = ids.stream()
                .filter(id -> mode == CheckpointConfig.Mode.COW ? id <= victim : id >= victim).toList();
        return candidates.get(rnd.nextInt(candidates.size()));
    }

    /**
     * Found by {@link #damagedCheckpointsAreFoundBeforeAnythingIsApplied}: in copy mode a rollback
     * to checkpoint k writes back the pages that the deltas newer than k list as changed. When one
     * of those lists had lost entries, the pages it no longer named kept their newer contents: a
     * rollback reported as good that was not. The rollback now checks those lists too and, finding
     * one damaged, writes back every page.
     */
    @org.junit.jupiter.api.Test
    void copyModeRollbackPastADeltaThatLostEntriesIsStillExact() throws Exception {
        Machine m = EngineModelTest.tinyMachine();
        CheckpointEngine engine = new CheckpointEngine(m, CheckpointConfig.defaults().withMode(CheckpointConfig.Mode.COPY)
                .withInterval(Interval.instructions(1L << 40)).withMemoryBudget(4 * m.memory.ramSize()));
        engine.start();
        Random rnd = new Random(3);
        List<byte[]> ram = new ArrayList<>();
        List<Integer> ids = new ArrayList<>();
        for (int k = 0; k < 4; k++) {
            for (int i = 0; i < 40; i++) {
                byte[] b = new byte[1 + rnd.nextInt(3000)];
                rnd.nextBytes(b);
                m.memory.writeBytes(0x200000 + rnd.nextInt(0x100000), b, 0, b.length);
            }
            ids.add(engine.checkpointNow().id());
            ram.add(java.util.Arrays.copyOf(m.memory.backing(), m.memory.ramSize()));
        }
        int victim = ids.get(2);
        engine.truncateLog(victim, engine.imagesOf(victim) / 3);
        assertEquals(List.of(victim), engine.integrityCheck());
        engine.rollback(ids.get(1)); // older than the damaged delta: reachable, and exact
        org.junit.jupiter.api.Assertions.assertArrayEquals(ram.get(1), java.util.Arrays.copyOf(m.memory.backing(), m.memory.ramSize()));
    }

    // --- the memory budget ---------------------------------------------------------------------

    /**
     * churn writes a 16 MiB working set. With copy-on-write and a 4 MiB budget one epoch fills the
     * budget: the engine warns, ends the epoch early and keeps only the new checkpoint; a tight
     * budget in the other modes drops the oldest checkpoints with a warning. Whatever is dropped is
     * never offered again, and every checkpoint that is offered works.
     */
    @ParameterizedTest
    @EnumSource(CheckpointConfig.Mode.class)
    void runningOutOfBudgetMidEpochKeepsItsPromise(CheckpointConfig.Mode mode) throws Exception {
        long budget = switch (mode) {
            case COW -> 4L << 20;
            case COPY -> RAM + (6L << 20);
            case FULL -> 3 * RAM;
        };
        CheckpointConfig cfg = CheckpointConfig.defaults().withMode(mode).withInterval(Interval.instructions(2_000_000))
                .withKeep(64).withLatencyNanos(200_000_000L).withMemoryBudget(budget);
        GuestUnderTest g = new GuestUnderTest("churn", cfg);
        Random rnd = new Random(mode.ordinal() + 11);
        java.util.Set<Integer> seen = new java.util.TreeSet<>();
        while (!g.step(1_000_000 + rnd.nextInt(3_000_000))) {
            List<Integer> ids = g.ids();
            seen.addAll(ids);
            // Checkpoints taken but no longer listed are refused by name.
            for (int gone : seen) {
                if (ids.contains(gone) || gone > ids.get(ids.size() - 1)) continue;
                NoSuchCheckpointException e = assertThrows(NoSuchCheckpointException.class, () -> g.engine.rollback(gone));
                assertTrue(e.getMessage().contains("not retained"), e.getMessage());
                break;
            }
            if (rnd.nextInt(3) == 0) {
                g.rollback(ids.get(rnd.nextInt(ids.size())));
                seen.removeIf(id -> id > g.ids().get(g.ids().size() - 1)); // those never happened now
            }
        }
        EngineStats st = g.engine.stats();
        System.out.printf("%s budget %dM: %d boundaries (%d early), %d dropped, %d rollbacks, at most %.1fM held; %d warnings, e.g. %s%n",
                mode, budget >> 20, st.checkpoints(), st.earlyBoundaries(), st.checkpointsDropped(), g.rollbacks, g.maxBytesHeld / 1048576.0,
                g.warnings.size(), g.warnings.stream().map(w -> w.replaceAll("[0-9.]+", "#")).distinct().toList());
        assertTrue(st.checkpointsDropped() > 0, "the budget dropped checkpoints");
        assertTrue(g.warnings.stream().anyMatch(w -> w.contains("is full: dropped checkpoint") && w.contains("now cover")),
                "a warning names the latency still covered: " + g.warnings);
        if (mode == CheckpointConfig.Mode.COW) {
            assertTrue(st.earlyBoundaries() > 0, "an epoch filled the budget and ended early");
            assertTrue(g.warnings.stream().anyMatch(w -> w.contains("filled within one epoch")), g.warnings.toString());
            assertTrue(g.maxBytesHeld <= budget + 16 * 4096L, "held " + g.maxBytesHeld + " of a " + budget + " budget");
        } else {
            assertTrue(g.maxBytesHeld <= budget, "held " + g.maxBytesHeld + " of a " + budget + " budget");
        }
        assertTrue(g.rollbacks > 0);
        assertTrue(g.engine.integrityCheck().isEmpty());
        g.finish();
    }

    // --- rollbacks in the middle of things -------------------------------------------------------

    static Stream<Arguments> midCases() {
        List<Arguments> out = new ArrayList<>();
        for (CheckpointConfig.Mode mode : CheckpointConfig.Mode.values()) {
            out.add(Arguments.of(mode, "churn"));
            out.add(Arguments.of(mode, "timer"));
        }
        return out.stream();
    }

    /**
     * churn spends its time in REP STOSD / REPE SCASD, timer in its IRQ 0 handler. Stop the guest
     * in the middle of one (between two REP iterations; with IRQ 0 in service), take a checkpoint
     * there, run on until it is in the middle of one again, then: a rollback across a damaged
     * checkpoint is refused with the guest left exactly where it was, a rollback to the checkpoint
     * taken in the middle works, and the guest still finishes with the right output.
     */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("midCases")
    void rollbackInTheMiddleOfAStringInstructionOrAnInterrupt(CheckpointConfig.Mode mode, String workload) throws Exception {
        GuestUnderTest g = new GuestUnderTest(workload, config(mode, 500_000));
        Random rnd = new Random(workload.hashCode() + 7L * mode.ordinal());
        Predicate<Machine> inTheMiddle = workload.equals("churn") ? StoreFaultTest::midRep : StoreFaultTest::inIrq0Handler;
        int done = 0;
        for (int round = 0; round < 4; round++) {
            if (!runUntil(g, inTheMiddle, rnd)) break;
            int mid = g.engine.checkpointNow().id();
            assertTrue(inTheMiddle.test(g.m), "the checkpoint was taken in the middle");
            if (!runUntil(g, inTheMiddle, rnd)) break;
            // The live guest is in the middle of one again.
            if (round == 0) {
                List<Integer> ids = g.ids();
                int victim = ids.get(Math.max(0, ids.indexOf(mid) - 1 - rnd.nextInt(3)));
                if (g.engine.imagesOf(victim) > 0 && mode == CheckpointConfig.Mode.COW) {
                    g.engine.corruptImage(victim, rnd.nextInt(g.engine.imagesOf(victim)), rnd.nextInt(1 << 15));
                    g.refusedRollback(victim, victim);
                } else {
                    g.engine.corruptState(victim, rnd.nextInt(1 << 12));
                    g.refusedRollback(victim, victim);
                }
                if (!runUntil(g, inTheMiddle, rnd)) break;
            }
            if (g.ids().contains(mid) && !g.engine.integrityCheck().contains(mid)) {
                g.rollback(mid);
                assertTrue(inTheMiddle.test(g.m), "back in the middle");
                done++;
            }
        }
        System.out.println(mode + " " + workload + ": rolled back into the middle " + done + " times, " + g.rollbacks + " rollbacks in all");
        assertTrue(done >= 2, "rolled back into the middle of things " + done + " times");
        g.finish();
    }

    /** Runs in random steps until {@code p} holds; false if the guest finished first. */
    private static boolean runUntil(GuestUnderTest g, Predicate<Machine> p, Random rnd) {
        for (int i = 0; i < 100_000; i++) {
            if (g.step(1 + rnd.nextInt(20_000))) return false;
            if (p.test(g.m)) return true;
        }
        fail("never got into the middle of a string instruction or an interrupt");
        return false;
    }

    /**
     * Between two iterations of a REP string instruction: EIP is at one, and one more instruction
     * step (one iteration) leaves EIP there with ECX one less, so iterations have run and more remain.
     */
    static boolean midRep(Machine m) {
        if (!atRepString(m) || Integer.compareUnsigned(m.cpu.reg(io.mucheckpoint.cpu.Cpu.ECX), 2) < 0) return false;
        int eip = m.cpu.eip();
        int ecx = m.cpu.reg(io.mucheckpoint.cpu.Cpu.ECX);
        m.run(Long.MAX_VALUE, m.cpu.icount() + 1);
        return m.cpu.eip() == eip && m.cpu.reg(io.mucheckpoint.cpu.Cpu.ECX) == ecx - 1;
    }

    private static boolean atRepString(Machine m) {
        try {
            int at = m.cpu.linearEip();
            boolean rep = false;
            for (int i = 0; i < 5; i++) {
                int b = m.cpu.peekLinear(at + i, 1);
                if (b == 0xF3 || b == 0xF2) rep = true;
                else if (b == 0x66 || b == 0x67 || b == 0x26 || b == 0x2E || b == 0x36 || b == 0x3E || b == 0x64 || b == 0x65) continue;
                else return rep && (b >= 0xA4 && b <= 0xA7 || b >= 0xAA && b <= 0xAF || b >= 0x6C && b <= 0x6F);
            }
            return false;
        } catch (RuntimeException e) {
            return false;
        }
    }

    /** IRQ 0 is in service at the master PIC: the guest is inside its timer handler (before the EOI). */
    static boolean inIrq0Handler(Machine m) {
        assertNotNull(m.pic.save().master());
        return (m.pic.save().master().isr() & 1) != 0;
    }
}
