package io.mucheckpoint.recovery;

import io.mucheckpoint.cpu.Cpu;
import io.mucheckpoint.cpu.CpuState;
import io.mucheckpoint.vmm.GuestImage;
import io.mucheckpoint.vmm.Machine;
import io.mucheckpoint.vmm.load.LoadException;
import io.mucheckpoint.vmm.mem.GuestMemory;
import java.util.Arrays;

/**
 * Whether an injected fault was activated: whether the corrupted location was read before it was
 * overwritten.
 *
 * <p>A memory fault is watched exactly: the memory system reports the first read or write of the
 * byte. A processor fault is judged against a golden copy of the machine taken just before the
 * flip: both step one instruction at a time. Before each step the decoded instruction says whether
 * it reads the location (activated); after it, if anything but the flipped location differs (a
 * register, a flag, a page the golden copy wrote), the corrupted value was used; if instead the
 * location became equal in both, it was overwritten unread. A fault in EIP is
 * activated by the very next fetch.
 */
public final class ActivationTracker {
    /** What became of the corrupted location. */
    public enum Activation {
        /** Read (or, for processor state, it influenced anything else) before being overwritten. */
        ACTIVATED,
        /** Overwritten before anything read it. */
        OVERWRITTEN,
        /** Neither happened within the tracking window (processor faults) or the run (memory faults). */
        DORMANT
    }

    private ActivationTracker() {}

    /** Tracks a memory fault for the rest of the run; ask {@link MemoryWatch#result()} at the end. */
    public static MemoryWatch watchMemory(Machine m, Fault f) {
        MemoryWatch w = new MemoryWatch(m.memory);
        m.memory.setAccessWatch((int) f.index(), w);
        return w;
    }

    /** Follows the first read or write of a watched byte, then stops watching. */
    public static final class MemoryWatch implements GuestMemory.AccessWatch {
        private final GuestMemory memory;
        private Activation result = Activation.DORMANT;

        MemoryWatch(GuestMemory memory) {
            this.memory = memory;
        }

        @Override
        public void read() {
            decide(Activation.ACTIVATED);
        }

        @Override
        public void written() {
            decide(Activation.OVERWRITTEN);
        }

        private void decide(Activation a) {
            if (result != Activation.DORMANT) return;
            result = a;
            memory.setAccessWatch(-1, null);
        }

        public Activation result() {
            return result;
        }
    }

    /** A copy of the machine as it is now, for lockstep comparison (RAM, devices, processor). */
    public static Machine goldenCopy(Machine m) {
        try {
            Machine g = new Machine(m.config(), new GuestImage.Restored(m.image().name(), m.memory.romImage()), b -> {}, b -> {});
            g.memory.writeBytes(0, m.memory.backing(), 0, m.memory.ramSize());
            g.restoreState(m.saveState());
            g.memory.notifyReplaced();
            long[] scratch = new long[(g.memory.pageCount() + 63) >>> 6];
            g.memory.drainDirty(scratch);
            return g;
        } catch (LoadException e) {
            throw new IllegalStateException("a restored machine loads nothing", e);
        }
    }

    /** One step of the faulty machine (the caller's run loop, so detections and checkpoints go on). */
    @FunctionalInterface
    public interface Stepper {
        /** Runs the faulty machine one instruction; returns false if that ended or rolled back the run. */
        boolean step();
    }

    /**
     * Steps the faulty machine and the golden copy together until the fault is decided or
     * {@code window} instructions have passed.
     */
    public static Activation lockstep(Machine faulty, Machine golden, Fault f, int window, Stepper step) {
        if (f.target() == Fault.Target.EIP) return Activation.ACTIVATED;
        long[] dirty = new long[(golden.memory.pageCount() + 63) >>> 6];
        byte[] a = new byte[GuestMemory.PAGE_SIZE], b = new byte[GuestMemory.PAGE_SIZE];
        for (int i = 0; i < window; i++) {
            CpuState fs = faulty.cpu.save(), gs = golden.cpu.save();
            if (differsElsewhere(fs, gs, f)) return Activation.ACTIVATED;
            // a stuck-at fault is put back after every instruction: the guest cannot overwrite it for good
            if (!f.stuck() && sameAtTarget(faulty.cpu, golden.cpu, f)) return Activation.OVERWRITTEN;
            if (readsTarget(faulty.cpu.nextInstructionReads(), f)) return Activation.ACTIVATED;
            long before = faulty.cpu.icount();
            if (!step.step() || faulty.cpu.icount() != before + 1) return Activation.ACTIVATED;
            golden.run(Long.MAX_VALUE, golden.cpu.icount() + 1);
            golden.memory.drainDirty(dirty);
            for (int w = 0; w < dirty.length; w++) {
                long bits = dirty[w];
                while (bits != 0) {
                    int p = (w << 6) + Long.numberOfTrailingZeros(bits);
                    bits &= bits - 1;
                    faulty.memory.copyPage(p, a, 0);
                    golden.memory.copyPage(p, b, 0);
                    if (!Arrays.equals(a, b)) return Activation.ACTIVATED;
                }
            }
        }
        return Activation.DORMANT;
    }

    /** The next instruction reads the corrupted location (even if the result comes out the same). */
    private static boolean readsTarget(int reads, Fault f) {
        if (reads == -1) return true;
        return switch (f.target()) {
            case REG -> (reads & (1 << f.index())) != 0;
            case EFLAGS -> (reads & (1 << 8)) != 0;
            case SEG -> (reads & (1 << (9 + f.index()))) != 0;
            // not decoded per instruction: their use shows as a difference in the state they feed
            case X87, CR -> false;
            default -> true;
        };
    }

    private static boolean sameAtTarget(Cpu f, Cpu g, Fault fault) {
        return switch (fault.target()) {
            case REG -> f.reg((int) fault.index()) == g.reg((int) fault.index());
            case EFLAGS -> ((f.eflags() ^ g.eflags()) & fault.mask()) == 0;
            case SEG -> f.segmentBase((int) fault.index()) == g.segmentBase((int) fault.index());
            case CR -> controlRegister(f, (int) fault.index()) == controlRegister(g, (int) fault.index());
            case X87 -> f.fpuRegisterBits((int) fault.index() & 7, fault.index() >= 8) == g.fpuRegisterBits((int) fault.index() & 7, fault.index() >= 8);
            default -> false;
        };
    }

    /** Anything but the corrupted location differs between the two processors. */
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
        return fpuDiffers(f.fpu(), g.fpu(), fault);
    }

    /** The x87 state differs anywhere but in the flipped register's flipped part. */
    private static boolean fpuDiffers(CpuState.FpuState f, CpuState.FpuState g, Fault fault) {
        if (f.control() != g.control() || f.status() != g.status() || f.tag() != g.tag() || f.fop() != g.fop()) return true;
        byte[] a = f.registers().clone(), b = g.registers().clone();
        if (fault.target() == Fault.Target.X87) {
            int reg = (int) fault.index() & 7;
            int from = reg * 10 + (fault.index() >= 8 ? 8 : 0), to = reg * 10 + (fault.index() >= 8 ? 10 : 8);
            for (int i = from; i < to; i++) a[i] = b[i];
        }
        return !Arrays.equals(a, b);
    }

    private static int controlRegister(Cpu c, int n) {
        return n == 0 ? c.cr0() : n == 3 ? c.cr3() : c.cr4();
    }
}
