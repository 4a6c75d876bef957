package io.mucheckpoint.recovery;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * The faults of a campaign: injection {@code i} of seed {@code s} is the same fault in every run,
 * so any one outcome can be replayed alone.
 *
 * @param targets which kind of location: reg (general registers, EIP, EFLAGS and segment bases),
 *        mem (RAM), x87 (the FPU's registers), cr (CR0, CR3, CR4), any (reg or mem, as before the
 *        other kinds existed), or a comma-separated list of these kinds (each equally likely)
 * @param bits how many bits flip per fault (1 = single-bit upset)
 * @param instructions the golden run's length: faults strike uniformly within it
 * @param usedPages the guest's pages (the golden run wrote or loaded them): memory faults strike these
 * @param memoryFault raw (an upset the dirty tracking does not see, the default) or door (a write through the memory door)
 * @param hold 0 for transient flips; N for stuck-at faults (each at 0 or 1 with equal odds) held for N instructions
 * @param first the instruction count the golden run started from (a snapshot's): faults strike after it
 */
public record FaultPlan(long seed, String targets, int bits, long instructions, int[] usedPages, String memoryFault, long hold,
                        long first) {
    private static final List<String> KINDS = List.of("reg", "mem", "x87", "cr");

    public FaultPlan {
        if (kinds(targets).isEmpty()) {
            throw new IllegalArgumentException("--target takes reg, mem, x87, cr, any or a list of them (reg,x87), not '" + targets + "'");
        }
        if (!memoryFault.equals("raw") && !memoryFault.equals("door")) {
            throw new IllegalArgumentException("--memory-fault takes raw or door, not '" + memoryFault + "'");
        }
        if (bits < 1 || bits > 8) throw new IllegalArgumentException("--bits takes 1 to 8");
        if (hold < 0) throw new IllegalArgumentException("--stuck-at takes a number of instructions");
        if (first < 0 || instructions - first < 2) throw new IllegalArgumentException("the golden run is too short to inject into");
        if (usedPages.length == 0) throw new IllegalArgumentException("the golden run touched no RAM");
    }

    /** Transient flips, memory faults as raw upsets. */
    public FaultPlan(long seed, String targets, int bits, long instructions, int[] usedPages) {
        this(seed, targets, bits, instructions, usedPages, "raw", 0);
    }

    /** A golden run that started from instruction 0 (booted, not restored from a snapshot). */
    public FaultPlan(long seed, String targets, int bits, long instructions, int[] usedPages, String memoryFault, long hold) {
        this(seed, targets, bits, instructions, usedPages, memoryFault, hold, 0);
    }

    /** The plan for {@code golden}'s run: faults strike between its first and last instruction, into the pages it used. */
    public static FaultPlan of(Campaign.Golden golden, long seed, String targets, int bits, String memoryFault, long hold) {
        return new FaultPlan(seed, targets, bits, golden.instructions(), golden.usedPages(), memoryFault, hold, golden.startIcount());
    }

    /** The kinds named by a --target value, or an empty list if it names none properly. */
    private static List<String> kinds(String targets) {
        if (targets.equals("any")) return List.of("any");
        List<String> out = new ArrayList<>();
        for (String k : targets.split(",", -1)) {
            if (!KINDS.contains(k) || out.contains(k)) return List.of();
            out.add(k);
        }
        return out;
    }

    public Fault fault(int index) {
        Random r = new Random(seed * 0x9E3779B97F4A7C15L + index * 1_000_003L + 17);
        long at = first + 1 + (long) (r.nextDouble() * (instructions - first - 1));
        List<String> kinds = kinds(targets);
        String kind;
        if (kinds.get(0).equals("any")) kind = r.nextBoolean() ? "mem" : "reg"; // the draw of the plans before x87 and cr
        else kind = kinds.size() == 1 ? kinds.get(0) : kinds.get(r.nextInt(kinds.size()));
        Fault f = switch (kind) {
            case "mem" -> {
                int page = usedPages[r.nextInt(usedPages.length)];
                yield new Fault(memoryFault.equals("raw") ? Fault.Target.MEM : Fault.Target.MEM_DOOR,
                        ((long) page << 12) + r.nextInt(4096), mask(r, 8), at);
            }
            case "x87" -> {
                // 80 bits a register: 64 of significand, 16 of sign and exponent
                int reg = r.nextInt(8);
                yield r.nextInt(80) < 64 ? new Fault(Fault.Target.X87, reg, mask(r, 64), at)
                        : new Fault(Fault.Target.X87, reg + 8, mask(r, 16), at);
            }
            case "cr" -> {
                int n = new int[] {0, 3, 4}[r.nextInt(3)];
                yield new Fault(Fault.Target.CR, n, definedMask(r, CR_BITS[n]), at);
            }
            default -> processor(r, at);
        };
        if (hold == 0) return f;
        return new Fault(f.target(), f.index(), f.mask(), at, r.nextBoolean() ? Fault.Kind.STUCK_AT_1 : Fault.Kind.STUCK_AT_0, hold);
    }

    private Fault processor(Random r, long at) {
        int kind = r.nextInt(100);
        if (kind < 65) return new Fault(Fault.Target.REG, r.nextInt(8), mask(r, 32), at);
        if (kind < 75) return new Fault(Fault.Target.EIP, 0, mask(r, 32), at);
        if (kind < 90) return new Fault(Fault.Target.EFLAGS, 0, flagMask(r), at);
        return new Fault(Fault.Target.SEG, r.nextInt(6), mask(r, 32), at);
    }

    private long mask(Random r, int width) {
        long m = 0;
        while (Long.bitCount(m) < Math.min(bits, width)) m |= 1L << r.nextInt(width);
        return m;
    }

    /**
     * The bits of CR0, CR3 and CR4 that exist on an i686 (by index): a flip of a reserved bit would
     * change nothing the processor does. CR0: PE MP EM TS ET NE WP AM NW CD PG; CR3: PWT PCD and the
     * page-directory base; CR4: VME PVI TSD DE PSE PAE MCE PGE PCE OSFXSR OSXMMEXCPT.
     */
    private static final int[][] CR_BITS = {{0, 1, 2, 3, 4, 5, 16, 18, 29, 30, 31}, null, null,
            {3, 4, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31},
            {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}};

    private long definedMask(Random r, int[] defined) {
        long m = 0;
        while (Long.bitCount(m) < Math.min(bits, defined.length)) m |= 1L << defined[r.nextInt(defined.length)];
        return m;
    }

    /** Bits of EFLAGS that exist on an i686 (the status and control flags, not reserved ones). */
    private int flagMask(Random r) {
        int[] defined = {0, 2, 4, 6, 7, 8, 9, 10, 11};
        int m = 0;
        while (Integer.bitCount(m) < bits) m |= 1 << defined[r.nextInt(defined.length)];
        return m;
    }
}
