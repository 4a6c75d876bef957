package io.mucheckpoint.recovery;

import java.util.Locale;

/**
 * One transient error to inject: which location, which bits flip, and when.
 *
 * @param target the kind of location
 * @param index the register number (EAX=0..EDI=7; segment ES=0..GS=5) or, for memory, the physical address
 * @param mask the bits that flip (one bit for a single-bit upset; several for a multi-bit one)
 * @param icount the retired-instruction count at which the flip happens (-1: right now)
 */
public record Fault(Target target, long index, int mask, long icount) {
    /** Where a fault can strike. */
    public enum Target { REG, EIP, EFLAGS, SEG, MEM }

    private static final String[] REGS = {"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"};
    private static final String[] SEGS = {"es", "cs", "ss", "ds", "fs", "gs"};

    public Fault {
        if (mask == 0) throw new IllegalArgumentException("a fault must flip at least one bit");
        if (target == Target.REG && (index < 0 || index > 7)) throw new IllegalArgumentException("register index " + index);
        if (target == Target.SEG && (index < 0 || index > 5)) throw new IllegalArgumentException("segment index " + index);
        if (target == Target.MEM && (index < 0 || (mask & ~0xFF) != 0)) throw new IllegalArgumentException("memory faults flip bits of one byte");
    }

    /** A single-bit flip now, described the way the console's {@code inject} takes it: {@code eax 5}, {@code mem 0x1234 3}. */
    public static Fault parse(String location, String address, int bit) {
        String l = location.toLowerCase(Locale.ROOT);
        for (int i = 0; i < REGS.length; i++) if (REGS[i].equals(l)) return new Fault(Target.REG, i, 1 << bit, -1);
        for (int i = 0; i < SEGS.length; i++) if (SEGS[i].equals(l)) return new Fault(Target.SEG, i, 1 << bit, -1);
        if (l.equals("eip")) return new Fault(Target.EIP, 0, 1 << bit, -1);
        if (l.equals("eflags")) return new Fault(Target.EFLAGS, 0, 1 << bit, -1);
        if (l.equals("mem")) {
            if (address == null) throw new IllegalArgumentException("mem needs a physical address: mem ADDRESS [BIT]");
            if (bit > 7) throw new IllegalArgumentException("a memory fault flips a bit 0-7 of one byte");
            return new Fault(Target.MEM, Long.decode(address), 1 << bit, -1);
        }
        throw new IllegalArgumentException("unknown fault location '" + location + "' (a register, eip, eflags, a segment register, or mem)");
    }

    public String location() {
        return switch (target) {
            case REG -> REGS[(int) index];
            case SEG -> SEGS[(int) index];
            case EIP -> "eip";
            case EFLAGS -> "eflags";
            case MEM -> String.format("mem[0x%x]", index);
        };
    }

    @Override
    public String toString() {
        return String.format("flip 0x%x in %s%s", mask, location(), icount >= 0 ? " at instruction " + icount : "");
    }
}
