package io.mucheckpoint.recovery;

import io.mucheckpoint.cpu.Cpu;
import io.mucheckpoint.vmm.Machine;

/**
 * Applies a {@link Fault} to a machine between instructions. Memory faults go through the memory
 * door like any other write, so copy-on-write captures the good value first and a rollback to a
 * checkpoint before the fault restores it.
 */
public final class FaultInjector {
    /** The flipped location's value before and after. */
    public record Injected(Fault fault, long before, long after) {}

    private FaultInjector() {}

    public static Injected inject(Machine m, Fault f) {
        Cpu c = m.cpu;
        switch (f.target()) {
            case REG -> {
                int r = (int) f.index();
                int before = c.reg(r);
                c.setReg(r, before ^ f.mask());
                return new Injected(f, before & 0xFFFFFFFFL, c.reg(r) & 0xFFFFFFFFL);
            }
            case EIP -> {
                int before = c.eip();
                c.setEip(before ^ f.mask());
                return new Injected(f, before & 0xFFFFFFFFL, c.eip() & 0xFFFFFFFFL);
            }
            case EFLAGS -> {
                int before = c.eflags();
                c.setEflags(before ^ f.mask());
                return new Injected(f, before & 0xFFFFFFFFL, c.eflags() & 0xFFFFFFFFL);
            }
            case SEG -> {
                int s = (int) f.index();
                int before = c.segmentBase(s);
                c.flipSegmentBase(s, f.mask());
                return new Injected(f, before & 0xFFFFFFFFL, c.segmentBase(s) & 0xFFFFFFFFL);
            }
            default -> {
                long addr = f.index();
                if (addr >= m.memory.ramSize()) {
                    throw new IllegalArgumentException(String.format("0x%x is beyond RAM (%d MiB)", addr, m.memory.ramSize() >> 20));
                }
                int before = m.memory.read((int) addr, 1) & 0xFF;
                m.memory.write((int) addr, 1, before ^ f.mask());
                return new Injected(f, before, m.memory.read((int) addr, 1) & 0xFF);
            }
        }
    }
}
