package io.mucheckpoint.recovery;

import java.util.Locale;

/**
 * One error to inject: which location, which bits, when, and whether they flip once (a transient
 * upset) or stick at a value for a while (a stuck-at fault).
 *
 * @param target the kind of location
 * @param index the register number (EAX=0..EDI=7; segment ES=0..GS=5; control register 0, 3 or 4;
 *        x87 physical register 0-7 for its significand, 8-15 for the sign and exponent of register
 *        index-8) or, for memory, the physical address
 * @param mask the bits that flip or stick (one bit for a single-bit upset; several for a multi-bit one)
 * @param icount the retired-instruction count at which the fault strikes (-1: right now)
 * @param kind a flip, or bits stuck at 0 or at 1
 * @param hold for a stuck-at fault, how many instructions the bits stay stuck (re-applied after each)
 */
public record Fault(Target target, long index, long mask, long icount, Kind kind, long hold) {
    /**
     * Where a fault can strike. MEM is a raw upset of a RAM byte that the dirty tracking does not
     * see (a DRAM error is not a write); MEM_DOOR writes the flipped byte through the memory door,
     * so copy-on-write saves the good value first and a rollback repairs it.
     */
    public enum Target { REG, EIP, EFLAGS, SEG, MEM, MEM_DOOR, X87, CR }

    /** What the fault does to its bits. */
    public enum Kind { FLIP, STUCK_AT_0, STUCK_AT_1 }

    private static final String[] REGS = {"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"};
    private static final String[] SEGS = {"es", "cs", "ss", "ds", "fs", "gs"};

    public Fault {
        if (mask == 0) throw new IllegalArgumentException("a fault must flip at least one bit");
        if (target == Target.REG && (index < 0 || index > 7)) throw new IllegalArgumentException("register index " + index);
        if (target == Target.SEG && (index < 0 || index > 5)) throw new IllegalArgumentException("segment index " + index);
        if (isMemory(target) && (index < 0 || (mask & ~0xFFL) != 0)) throw new IllegalArgumentException("memory faults flip bits of one byte");
        if (target == Target.CR && index != 0 && index != 3 && index != 4) throw new IllegalArgumentException("control register CR" + index);
        if (target == Target.X87 && (index < 0 || index > 15 || (index >= 8 && (mask & ~0xFFFFL) != 0))) {
            throw new IllegalArgumentException("x87 register index " + index);
        }
        if (target != Target.X87 && (mask & ~0xFFFFFFFFL) != 0) throw new IllegalArgumentException("a 32-bit location");
        if ((kind == Kind.FLIP) != (hold == 0) || hold < 0) {
            throw new IllegalArgumentException("a stuck-at fault is held for at least one instruction, a flip for none");
        }
    }

    /** A transient flip. */
    public Fault(Target target, long index, long mask, long icount) {
        this(target, index, mask, icount, Kind.FLIP, 0);
    }

    public static boolean isMemory(Target t) {
        return t == Target.MEM || t == Target.MEM_DOOR;
    }

    public boolean stuck() {
        return kind != Kind.FLIP;
    }

    /** The same fault at another moment. */
    public Fault at(long icount) {
        return new Fault(target, index, mask, icount, kind, hold);
    }

    /**
     * A single-bit flip now, described the way the console's {@code inject} takes it: {@code eax 5},
     * {@code mem 0x1234 3} (a raw upset), {@code mem-door 0x1234 3}, {@code cr0 31}, {@code fpr2 63},
     * {@code fpr2.exp 3}.
     */
    public static Fault parse(String location, String address, int bit) {
        String l = location.toLowerCase(Locale.ROOT);
        for (int i = 0; i < REGS.length; i++) if (REGS[i].equals(l)) return new Fault(Target.REG, i, 1L << bit, -1);
        for (int i = 0; i < SEGS.length; i++) if (SEGS[i].equals(l)) return new Fault(Target.SEG, i, 1L << bit, -1);
        if (l.equals("eip")) return new Fault(Target.EIP, 0, 1L << bit, -1);
        if (l.equals("eflags")) return new Fault(Target.EFLAGS, 0, 1L << bit, -1);
        if (l.equals("cr0") || l.equals("cr3") || l.equals("cr4")) return new Fault(Target.CR, l.charAt(2) - '0', 1L << bit, -1);
        if (l.matches("fpr[0-7](\\.exp)?")) {
            boolean exp = l.endsWith(".exp");
            if (bit > (exp ? 15 : 63)) throw new IllegalArgumentException(l + " has bits 0-" + (exp ? 15 : 63));
            return new Fault(Target.X87, (l.charAt(3) - '0') + (exp ? 8 : 0), 1L << bit, -1);
        }
        if (l.equals("mem") || l.equals("mem-door")) {
            if (address == null) throw new IllegalArgumentException(l + " needs a physical address: " + l + " ADDRESS [BIT]");
            if (bit > 7) throw new IllegalArgumentException("a memory fault flips a bit 0-7 of one byte");
            return new Fault(l.equals("mem") ? Target.MEM : Target.MEM_DOOR, Long.decode(address), 1L << bit, -1);
        }
        throw new IllegalArgumentException("unknown fault location '" + location
                + "' (a register, eip, eflags, a segment register, cr0/cr3/cr4, fpr0-7[.exp], mem or mem-door)");
    }

    public String location() {
        return switch (target) {
            case REG -> REGS[(int) index];
            case SEG -> SEGS[(int) index];
            case EIP -> "eip";
            case EFLAGS -> "eflags";
            case CR -> "cr" + index;
            case X87 -> "fpr" + (index & 7) + (index >= 8 ? ".exp" : "");
            case MEM -> String.format("mem[0x%x]", index);
            case MEM_DOOR -> String.format("mem[0x%x] (through the door)", index);
        };
    }

    @Override
    public String toString() {
        String what = switch (kind) {
            case FLIP -> String.format("flip 0x%x in %s", mask, location());
            case STUCK_AT_0 -> String.format("bits 0x%x of %s stuck at 0 for %,d instructions", mask, location(), hold);
            case STUCK_AT_1 -> String.format("bits 0x%x of %s stuck at 1 for %,d instructions", mask, location(), hold);
        };
        return what + (icount >= 0 ? " at instruction " + icount : "");
    }
}
