package io.mucheckpoint.recovery;

import io.mucheckpoint.cpu.Cpu;
import io.mucheckpoint.cpu.StateLocation;
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
        StateLocation except = location(f);
        golden.memory.keepDirtyList(); // each step drains it: the cost is what the step wrote, not RAM's size
        int[] written = new int[golden.memory.pageCount()];
        byte[] faultyRam = faulty.memory.backing(), goldenRam = golden.memory.backing();
        for (int i = 0; i < window; i++) {
            if (faulty.cpu.differsFrom(golden.cpu, except)) return Activation.ACTIVATED;
            // a stuck-at fault is put back after every instruction: the guest cannot overwrite it for good
            if (!f.stuck() && sameAtTarget(faulty.cpu, golden.cpu, f)) return Activation.OVERWRITTEN;
            if (readsTarget(faulty.cpu.nextInstructionReads(), f)) return Activation.ACTIVATED;
            long before = faulty.cpu.icount();
            if (!step.step() || faulty.cpu.icount() != before + 1) return Activation.ACTIVATED;
            golden.run(Long.MAX_VALUE, golden.cpu.icount() + 1);
            int n = golden.memory.drainDirtyPages(written);
            for (int k = 0; k < n; k++) {
                int from = written[k] << GuestMemory.PAGE_SHIFT, to = from + GuestMemory.PAGE_SIZE;
                if (!Arrays.equals(faultyRam, from, to, goldenRam, from, to)) return Activation.ACTIVATED;
            }
        }
        return Activation.DORMANT;
    }

    /** The processor state the fault corrupted, which the comparison leaves out. */
    static StateLocation location(Fault f) {
        int i = (int) f.index();
        return switch (f.target()) {
            case REG -> new StateLocation(StateLocation.Kind.REGISTER, i);
            case EFLAGS -> new StateLocation(StateLocation.Kind.EFLAGS_BITS, (int) f.mask());
            case SEG -> new StateLocation(StateLocation.Kind.SEGMENT_BASE, i);
            case CR -> new StateLocation(StateLocation.Kind.CONTROL_REGISTER, i);
            case X87 -> new StateLocation(i >= 8 ? StateLocation.Kind.X87_SIGN_EXPONENT : StateLocation.Kind.X87_SIGNIFICAND, i & 7);
            default -> StateLocation.NOTHING;
        };
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

    private static int controlRegister(Cpu c, int n) {
        return n == 0 ? c.cr0() : n == 3 ? c.cr3() : c.cr4();
    }
}
