package io.mucheckpoint.recovery;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mucheckpoint.cpu.Cpu;
import io.mucheckpoint.cpu.CpuState;
import io.mucheckpoint.vmm.GuestImage;
import io.mucheckpoint.vmm.Machine;
import io.mucheckpoint.vmm.MachineConfig;
import io.mucheckpoint.vmm.RunResult;
import io.mucheckpoint.vmm.Workloads;
import io.mucheckpoint.vmm.mem.GuestMemory;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
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
        List<ActivationTracker.Activation> seen = sameDecisions(quantum(), i -> new FaultPlan(11, "reg,x87,cr", 1, i, new int[] {0}), 16);
        // the workload's faults are read at once or lie dormant (it uses no x87); faultlab has the overwritten ones
        assertTrue(seen.containsAll(List.of(ActivationTracker.Activation.ACTIVATED, ActivationTracker.Activation.DORMANT)), seen.toString());
    }

    @Test
    void multiBitStuckAtFaults() throws Exception {
        // held for fewer instructions than the window, so some are decided after they let go
        List<ActivationTracker.Activation> seen = sameDecisions(quantum(), i -> new FaultPlan(12, "reg,x87,cr", 3, i, new int[] {0}, "raw", 3_000), 8);
        assertTrue(seen.containsAll(List.of(ActivationTracker.Activation.ACTIVATED, ActivationTracker.Activation.DORMANT)), seen.toString());
    }

    @Test
    void everyProcessorLocationAtFaultlabsLabels() throws Exception {
        // faultlab's scenario 0 overwrites EBX at dead_here before reading it (see faultlab.S): one way out at least
        List<ActivationTracker.Activation> seen = new java.util.ArrayList<>();
        int[][] at = {{0, FaultlabTest.DEAD_HERE}, {1, FaultlabTest.MASKED_HERE}, {2, FaultlabTest.CALL_HERE}};
        for (int[] scenario : at) {
            long icount = FaultlabTest.icountAt(scenario[0], scenario[1]);
            List<Fault> faults = new java.util.ArrayList<>();
            for (int r = 0; r < 8; r++) faults.add(new Fault(Fault.Target.REG, r, 1L << (5 + 3 * r), icount));
            for (int s = 0; s < 6; s++) faults.add(new Fault(Fault.Target.SEG, s, 1L << 12, icount));
            for (int bit : new int[] {0, 2, 6, 7, 10, 11}) faults.add(new Fault(Fault.Target.EFLAGS, 0, 1L << bit, icount));
            for (int cr : new int[] {0, 3, 4}) faults.add(new Fault(Fault.Target.CR, cr, 1L << 3, icount));
            for (int x = 0; x < 16; x += 5) faults.add(new Fault(Fault.Target.X87, x, 1L << 9, icount));
            faults.add(new Fault(Fault.Target.EIP, 0, 1L << 2, icount));
            seen.addAll(sameDecisions(new Machine(FaultlabTest.CONFIG, FaultlabTest.image(scenario[0]), b -> {}, b -> {}), faults, WINDOW));
        }
        assertTrue(seen.contains(ActivationTracker.Activation.OVERWRITTEN), seen.toString());
    }

    /**
     * cli; fninit; fld1; fld1; then loop: fst qword [0x200000]; fadd st0, st1; inc eax;
     * mov ebx, eax; mov [0x200010], eax; jmp loop. ST(0) lives in physical register 6, ST(1) in 7; 0-5 stay empty.
     */
    private static final byte[] X87_LOOP = {(byte) 0xFA, (byte) 0xDB, (byte) 0xE3, (byte) 0xD9, (byte) 0xE8, (byte) 0xD9, (byte) 0xE8,
            (byte) 0xDD, 0x15, 0x00, 0x00, 0x20, 0x00, (byte) 0xD8, (byte) 0xC1, 0x40, (byte) 0x89, (byte) 0xC3,
            (byte) 0xA3, 0x10, 0x00, 0x20, 0x00, (byte) 0xEB, (byte) 0xEE};

    @Test
    void anX87LoopThatStoresAndAddsWhatItHolds() throws Exception {
        List<Fault> faults = new java.util.ArrayList<>();
        for (long at = 4; at < 10; at++) { // each instruction of the loop next
            for (long[] x87 : new long[][] {{6, 1L << 62}, {6, 1}, {14, 1}, {7, 1L << 61}, {15, 1 << 2}, {0, 1L << 62}, {8, 1}}) {
                faults.add(new Fault(Fault.Target.X87, x87[0], x87[1], at));
            }
            faults.add(new Fault(Fault.Target.REG, 0, 1 << 4, at));
            faults.add(new Fault(Fault.Target.REG, 3, 1 << 4, at));
            faults.add(new Fault(Fault.Target.EFLAGS, 0, 0x40, at));
            faults.add(new Fault(Fault.Target.EFLAGS, 0, 0x1, at));
            faults.add(new Fault(Fault.Target.CR, 0, 1 << 2, at));
            faults.add(new Fault(Fault.Target.CR, 0, 1 << 3, at));
            faults.add(new Fault(Fault.Target.SEG, 3, 1 << 12, at));
            faults.add(new Fault(Fault.Target.SEG, 4, 1 << 12, at));
            faults.add(new Fault(Fault.Target.X87, 6, 1L << 40, at, Fault.Kind.STUCK_AT_1, 50));
        }
        List<ActivationTracker.Activation> seen = sameDecisions(
                new Machine(MachineConfig.defaults().withRam(4L << 20), new GuestImage.Flat("x87-loop", X87_LOOP, 0x100000), b -> {}, b -> {}),
                faults, 20_000);
        // a flip in empty register 0 lies dormant, MOV overwrites EBX unread, FADD reads ST(1): every way out is taken
        assertTrue(seen.containsAll(List.of(ActivationTracker.Activation.values())), seen.toString());
    }

    private static Machine quantum() throws Exception {
        return new Machine(CONFIG, Workloads.multiboot("quantum", "size=test"), b -> {}, b -> {});
    }

    /** Faults of a plan over the whole of {@code m}'s run (the used pages are never drawn: no memory faults). */
    private static List<ActivationTracker.Activation> sameDecisions(Machine m, java.util.function.LongFunction<FaultPlan> plans,
                                                                    int faults) throws Exception {
        FaultPlan plan = plans.apply(runToEnd(quantum()));
        return sameDecisions(m, IntStream.range(0, faults).mapToObj(plan::fault).toList(), WINDOW);
    }

    /** Runs {@code m} to each fault's moment in turn and decides the fault both ways from there. */
    private static List<ActivationTracker.Activation> sameDecisions(Machine m, List<Fault> faults, int window) {
        List<ActivationTracker.Activation> seen = new java.util.ArrayList<>();
        for (Fault f : faults.stream().sorted(Comparator.comparingLong(Fault::icount)).toList()) {
            while (m.cpu.icount() < f.icount()) assertTrue(!m.run(Long.MAX_VALUE, f.icount()).finished(), "the guest ended early");
            Decision fast = decide(m, f, window, false), plain = decide(m, f, window, true);
            String what = f + ", decided by the reference at instruction " + plain.icount;
            assertEquals(plain.activation, fast.activation, what);
            assertEquals(plain.icount, fast.icount, what);
            assertEquals(plain.goldenIcount, fast.goldenIcount, what);
            assertArrayEquals(plain.regs, fast.regs, what);
            assertEquals(plain.eip, fast.eip, what);
            seen.add(plain.activation);
        }
        return seen;
    }

    private record Decision(ActivationTracker.Activation activation, long icount, long goldenIcount, int[] regs, int eip) {}

    /** Injects {@code f} into a copy of {@code m} and follows it in lockstep with another copy. */
    private static Decision decide(Machine m, Fault f, int window, boolean reference) {
        Machine faulty = ActivationTracker.goldenCopy(m), golden = ActivationTracker.goldenCopy(m);
        FaultInjector.inject(faulty, f);
        HeldFault held = new HeldFault(f);
        ActivationTracker.Stepper step = () -> {
            RunResult r = faulty.run(Long.MAX_VALUE, faulty.cpu.icount() + 1);
            held.stepped(faulty);
            return !r.finished();
        };
        ActivationTracker.Activation a = reference ? Reference.lockstep(faulty, golden, f, window, step)
                : ActivationTracker.lockstep(faulty, golden, f, window, step);
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
                for (int w = 0; w < dirty.length; w++) {
                    long bits = dirty[w];
                    while (bits != 0) {
                        int p = (w << 6) + Long.numberOfTrailingZeros(bits);
                        bits &= bits - 1;
                        faulty.memory.copyPage(p, a, 0);
                        golden.memory.copyPage(p, b, 0);
                        if (!Arrays.equals(a, b)) return ActivationTracker.Activation.ACTIVATED;
                    }
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

        static boolean differsElsewhere(CpuState f, CpuState g, Fault fault) {
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
