package io.mucheckpoint.recovery;

import io.mucheckpoint.cpu.Cpu;
import io.mucheckpoint.vmm.Machine;

/**
 * Applies a {@link Fault} to a machine between instructions. A memory fault is by default a raw
 * upset that the dirty tracking does not see ({@code GuestMemory.upset}); {@link Fault.Target#MEM_DOOR}
 * writes through the memory door instead, so copy-on-write captures the good value first and a
 * rollback to a checkpoint before the fault restores it. A stuck-at fault sets its bits to its value
 * here; {@link #reapply} sets them again after each instruction while it holds.
 */
public final class FaultInjector {
    /** The location's value before and after. */
    public record Injected(Fault fault, long before, long after) {}

    private FaultInjector() {}

    public static Injected inject(Machine m, Fault f) {
        long before = read(m, f);
        long after = switch (f.kind()) {
            case FLIP -> before ^ f.mask();
            case STUCK_AT_0 -> before & ~f.mask();
            case STUCK_AT_1 -> before | f.mask();
        };
        write(m, f, before, after, f.target() == Fault.Target.MEM_DOOR);
        return new Injected(f, before, read(m, f));
    }

    /**
     * Sets a stuck-at fault's bits again (after an instruction may have written the location). Always
     * raw for memory: the cell is stuck, nothing was written. Returns true if the location had changed.
     */
    public static boolean reapply(Machine m, Fault f) {
        long v = read(m, f);
        long stuck = f.kind() == Fault.Kind.STUCK_AT_1 ? v | f.mask() : v & ~f.mask();
        if (stuck == v) return false;
        write(m, f, v, stuck, false);
        return true;
    }

    /** The current value of the fault's location. */
    public static long read(Machine m, Fault f) {
        Cpu c = m.cpu;
        return switch (f.target()) {
            case REG -> c.reg((int) f.index()) & 0xFFFFFFFFL;
            case EIP -> c.eip() & 0xFFFFFFFFL;
            case EFLAGS -> c.eflags() & 0xFFFFFFFFL;
            case SEG -> c.segmentBase((int) f.index()) & 0xFFFFFFFFL;
            case CR -> crOf(c, (int) f.index()) & 0xFFFFFFFFL;
            case X87 -> c.fpuRegisterBits((int) f.index() & 7, f.index() >= 8);
            case MEM, MEM_DOOR -> {
                checkRam(m, f.index());
                yield m.memory.read((int) f.index(), 1) & 0xFF;
            }
        };
    }

    private static void write(Machine m, Fault f, long before, long after, boolean door) {
        Cpu c = m.cpu;
        long flip = before ^ after;
        if (flip == 0) return;
        switch (f.target()) {
            case REG -> c.setReg((int) f.index(), (int) after);
            case EIP -> c.setEip((int) after);
            case EFLAGS -> c.setEflags((int) after);
            case SEG -> c.flipSegmentBase((int) f.index(), (int) flip);
            case CR -> c.flipControlRegister((int) f.index(), (int) flip);
            case X87 -> c.flipFpuRegister((int) f.index() & 7, f.index() >= 8, flip);
            case MEM, MEM_DOOR -> {
                if (door) m.memory.write((int) f.index(), 1, (int) after);
                else m.memory.upset((int) f.index(), (int) flip);
            }
        }
    }

    private static int crOf(Cpu c, int n) {
        return switch (n) {
            case 0 -> c.cr0();
            case 3 -> c.cr3();
            default -> c.cr4();
        };
    }

    private static void checkRam(Machine m, long addr) {
        if (addr >= m.memory.ramSize()) {
            throw new IllegalArgumentException(String.format("0x%x is beyond RAM (%d MiB)", addr, m.memory.ramSize() >> 20));
        }
    }
}
