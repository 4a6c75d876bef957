package io.mucheckpoint.recovery;

import java.util.Random;

/**
 * The faults of a campaign: injection {@code i} of seed {@code s} is the same fault in every run,
 * so any one outcome can be replayed alone.
 *
 * @param targets which kind of location (reg: registers, EIP, EFLAGS and segment bases; mem: RAM; any: both)
 * @param bits how many bits flip per fault (1 = single-bit upset)
 * @param instructions the golden run's length: faults strike uniformly within it
 * @param usedPages the guest's pages (the golden run wrote or loaded them): memory faults strike these
 */
public record FaultPlan(long seed, String targets, int bits, long instructions, int[] usedPages) {
    public FaultPlan {
        if (!targets.equals("reg") && !targets.equals("mem") && !targets.equals("any")) {
            throw new IllegalArgumentException("--target takes reg, mem or any, not '" + targets + "'");
        }
        if (bits < 1 || bits > 8) throw new IllegalArgumentException("--bits takes 1 to 8");
        if (instructions < 2) throw new IllegalArgumentException("the golden run is too short to inject into");
        if (usedPages.length == 0) throw new IllegalArgumentException("the golden run touched no RAM");
    }

    public Fault fault(int index) {
        Random r = new Random(seed * 0x9E3779B97F4A7C15L + index * 1_000_003L + 17);
        long at = 1 + (long) (r.nextDouble() * (instructions - 1));
        boolean mem = targets.equals("mem") || (targets.equals("any") && r.nextBoolean());
        if (mem) {
            int page = usedPages[r.nextInt(usedPages.length)];
            return new Fault(Fault.Target.MEM, ((long) page << 12) + r.nextInt(4096), mask(r, 8), at);
        }
        int kind = r.nextInt(100);
        if (kind < 65) return new Fault(Fault.Target.REG, r.nextInt(8), mask(r, 32), at);
        if (kind < 75) return new Fault(Fault.Target.EIP, 0, mask(r, 32), at);
        if (kind < 90) return new Fault(Fault.Target.EFLAGS, 0, flagMask(r), at);
        return new Fault(Fault.Target.SEG, r.nextInt(6), mask(r, 32), at);
    }

    private int mask(Random r, int width) {
        int m = 0;
        while (Integer.bitCount(m) < bits) m |= 1 << r.nextInt(width);
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
