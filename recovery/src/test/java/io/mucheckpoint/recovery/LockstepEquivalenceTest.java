package io.mucheckpoint.recovery;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mucheckpoint.cpu.Cpu;
import io.mucheckpoint.cpu.CpuState;
import io.mucheckpoint.vmm.Machine;
import io.mucheckpoint.vmm.MachineConfig;
import io.mucheckpoint.vmm.RunResult;
import io.mucheckpoint.vmm.Workloads;
import io.mucheckpoint.vmm.mem.GuestMemory;
import java.util.Arrays;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * The lockstep's shortcuts (a comparison of the processors in place, only the pages one step
 * wrote) must decide every processor fault as the plain comparison of two {@link Cpu#save}s and
 * of every page the golden copy wrote does: the same activation, at the same instruction. The plain
 * one, {@link Reference}, is the oracle here; both run from the same machine at the same moment.
 */
class LockstepEquivalenceTest {
    static final MachineConfig CONFIG = MachineConfig.defaults().withRam(32L << 20);
    static final int WINDOW = Campaign.LOCKSTEP_WINDOW;

    @Test
    void singleBitFlips() throws Exception {
        sameDecisions(plan -> new FaultPlan(11, "reg,x87,cr", 1, plan, new int[] {0}), 36);
    }

    @Test
    void multiBitStuckAtFaults() throws Exception {
        // held for fewer instructions than the window, so some are decided after they let go
        sameDecisions(plan -> new FaultPlan(12, "reg,x87,cr", 3, plan, new int[] {0}, "raw", 3_000), 24);
    }

    private static void sameDecisions(java.util.function.LongFunction<FaultPlan> plans, int faults) throws Exception {
        long instructions = runToEnd(new Machine(CONFIG, Workloads.multiboot("quantum", "size=test"), b -> {}, b -> {}));
        FaultPlan plan = plans.apply(instructions); // no memory faults: the used pages are never drawn
        List<Fault> sorted = IntStream.range(0, faults).mapToObj(plan::fault)
                .sorted(Comparator.comparingLong(Fault::icount)).toList();
        Machine m = new Machine(CONFIG, Workloads.multiboot("quantum", "size=test"), b -> {}, b -> {});
        Set<ActivationTracker.Activation> seen = EnumSet.noneOf(ActivationTracker.Activation.class);
        Set<Fault.Target> targets = EnumSet.noneOf(Fault.Target.class);
        for (Fault f : sorted) {
            while (m.cpu.icount() < f.icount()) assertTrue(!m.run(Long.MAX_VALUE, f.icount()).finished(), "the guest ended early");
            Decision fast = decide(m, f, false), plain = decide(m, f, true);
            String what = f + ", decided by the reference at instruction " + plain.icount;
            assertEquals(plain.activation, fast.activation, what);
            assertEquals(plain.icount, fast.icount, what);
            assertEquals(plain.goldenIcount, fast.goldenIcount, what);
            assertArrayEquals(plain.regs, fast.regs, what);
            assertEquals(plain.eip, fast.eip, what);
            seen.add(plain.activation);
            targets.add(f.target());
        }
        // the plans are chosen so that every way out of the lockstep is taken, or the test proves little
        assertEquals(EnumSet.allOf(ActivationTracker.Activation.class), seen);
        assertTrue(targets.containsAll(EnumSet.of(Fault.Target.REG, Fault.Target.X87, Fault.Target.CR)), targets.toString());
    }

    private record Decision(ActivationTracker.Activation activation, long icount, long goldenIcount, int[] regs, int eip) {}

    /** Injects {@code f} into a copy of {@code m} and follows it in lockstep with another copy. */
    private static Decision decide(Machine m, Fault f, boolean reference) {
        Machine faulty = ActivationTracker.goldenCopy(m), golden = ActivationTracker.goldenCopy(m);
        FaultInjector.inject(faulty, f);
        HeldFault held = new HeldFault(f);
        ActivationTracker.Stepper step = () -> {
            RunResult r = faulty.run(Long.MAX_VALUE, faulty.cpu.icount() + 1);
            held.stepped(faulty);
            return !r.finished();
        };
        ActivationTracker.Activation a = reference ? Reference.lockstep(faulty, golden, f, WINDOW, step)
                : ActivationTracker.lockstep(faulty, golden, f, WINDOW, step);
        CpuState s = faulty.cpu.save();
        return new Decision(a, faulty.cpu.icount(), golden.cpu.icount(), s.regs(), s.eip());
    }

    private static long runToEnd(Machine m) {
        while (!m.run(Long.MAX_VALUE, Long.MAX_VALUE).finished()) {
            // a limit stop of a slice: go on
        }
        return m.cpu.icount();
    }

    /**
     * The lockstep as it was first written: both processors saved and compared before every step,
     * with the corrupted location masked, and every page the golden copy wrote copied out of both
     * machines and compared after it.
     */
    static final class Reference {
        static ActivationTracker.Activation lockstep(Machine faulty, Machine golden, Fault f, int window,
                                                     ActivationTracker.Stepper step) {
            if (f.target() == Fault.Target.EIP) return ActivationTracker.Activation.ACTIVATED;
            long[] dirty = new long[(golden.memory.pageCount() + 63) >>> 6];
            byte[] a = new byte[GuestMemory.PAGE_SIZE], b = new byte[GuestMemory.PAGE_SIZE];
            for (int i = 0; i < window; i++) {
                CpuState fs = faulty.cpu.save(), gs = golden.cpu.save();
                if (differsElsewhere(fs, gs, f)) return ActivationTracker.Activation.ACTIVATED;
                if (!f.stuck() && sameAtTarget(faulty.cpu, golden.cpu, f)) return ActivationTracker.Activation.OVERWRITTEN;
                if (readsTarget(faulty.cpu.nextInstructionReads(), f)) return ActivationTracker.Activation.ACTIVATED;
                long before = faulty.cpu.icount();
                if (!step.step() || faulty.cpu.icount() != before + 1) return ActivationTracker.Activation.ACTIVATED;
                golden.run(Long.MAX_VALUE, golden.cpu.icount() + 1);
                golden.memory.drainDirty(dirty);
                for (int p = 0; p < golden.memory.pageCount(); p++) {
                    if ((dirty[p >>> 6] & (1L << (p & 63))) == 0) continue;
                    faulty.memory.copyPage(p, a, 0);
                    golden.memory.copyPage(p, b, 0);
                    if (!Arrays.equals(a, b)) return ActivationTracker.Activation.ACTIVATED;
                }
            }
            return ActivationTracker.Activation.DORMANT;
        }

        private static boolean readsTarget(int reads, Fault f) {
            if (reads == -1) return true;
            return switch (f.target()) {
                case REG -> (reads & (1 << f.index())) != 0;
                case EFLAGS -> (reads & (1 << 8)) != 0;
                case SEG -> (reads & (1 << (9 + f.index()))) != 0;
                case X87, CR -> false;
                default -> true;
            };
        }

        private static boolean sameAtTarget(Cpu f, Cpu g, Fault fault) {
            int i = (int) fault.index();
            return switch (fault.target()) {
                case REG -> f.reg(i) == g.reg(i);
                case EFLAGS -> ((f.eflags() ^ g.eflags()) & fault.mask()) == 0;
                case SEG -> f.segmentBase(i) == g.segmentBase(i);
                case CR -> (i == 0 ? f.cr0() == g.cr0() : i == 3 ? f.cr3() == g.cr3() : f.cr4() == g.cr4());
                case X87 -> f.fpuRegisterBits(i & 7, i >= 8) == g.fpuRegisterBits(i & 7, i >= 8);
                default -> false;
            };
        }

        private static boolean differsElsewhere(CpuState f, CpuState g, Fault fault) {
            int[] fr = f.regs().clone(), gr = g.regs().clone();
            int ff = f.eflags(), gf = g.eflags();
            if (fault.target() == Fault.Target.REG) fr[(int) fault.index()] = gr[(int) fault.index()];
            if (fault.target() == Fault.Target.EFLAGS) {
                ff &= ~fault.mask();
                gf &= ~fault.mask();
            }
            if (!Arrays.equals(fr, gr) || ff != gf || f.eip() != g.eip()) return true;
            for (int s = 0; s < 6; s++) {
                CpuState.SegmentCache a = f.segments().get(s), b = g.segments().get(s);
                boolean target = fault.target() == Fault.Target.SEG && fault.index() == s;
                if (a.selector() != b.selector() || a.limit() != b.limit() || a.attr() != b.attr() || (!target && a.base() != b.base())) {
                    return true;
                }
            }
            boolean cr = fault.target() == Fault.Target.CR;
            if ((!cr || fault.index() != 0) && f.cr0() != g.cr0()) return true;
            if ((!cr || fault.index() != 3) && f.cr3() != g.cr3()) return true;
            if ((!cr || fault.index() != 4) && f.cr4() != g.cr4()) return true;
            if (f.cpl() != g.cpl()) return true;
            CpuState.FpuState x = f.fpu(), y = g.fpu();
            if (x.control() != y.control() || x.status() != y.status() || x.tag() != y.tag() || x.fop() != y.fop()) return true;
            byte[] a = x.registers().clone(), b = y.registers().clone();
            if (fault.target() == Fault.Target.X87) {
                int reg = (int) fault.index() & 7;
                int from = reg * 10 + (fault.index() >= 8 ? 8 : 0), to = reg * 10 + (fault.index() >= 8 ? 10 : 8);
                for (int i = from; i < to; i++) a[i] = b[i];
            }
            return !Arrays.equals(a, b);
        }
    }
}
