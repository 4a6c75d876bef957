package io.mucheckpoint.cpu;

/**
 * A run of decoded instructions entered at one physical address and left at its end (a control
 * transfer, an instruction that must be followed by an interrupt check, a page end, or a length cap).
 */
final class Block {
    final int phys;          // physical address of the first byte
    final boolean code32;
    final Insn[] insns;
    final int count;
    /** The last instruction sets EIP itself (a jump, or any instruction that ends a block by nature). */
    final boolean terminates;
    final int firstPage;     // physical pages the bytes came from (lastPage == firstPage usually)
    final int lastPage;
    final int endPhys;       // one past the last byte, on lastPage's numbering when the block crosses
    /** Bytes from the entry to the end of the last instruction, in EIP terms. */
    final int length;
    /** 16-bit code whose IP wrapped from FFFF to 0 inside the block. */
    final boolean wraps;
    boolean valid = true;
    /** Times the interpreter ran this block whole: the translator's trigger (counted, never timed). */
    int executions;
    /** Its bytecode translation, once {@link #executions} reached the threshold; null before. */
    Translation translation;
    int translationBytes;
    /**
     * The blocks that ran after this one, by the EIP they were entered at, valid while the
     * processor's chain generation is {@code chainGen} (nothing changed the linear-to-physical
     * mapping or the code segment since). Saves the TLB and hash lookups on the way from block to block.
     */
    Block next0;
    Block next1;
    int next0Eip;
    int next1Eip;
    int chainGen;

    Block(int phys, boolean code32, Insn[] insns, int count, boolean terminates, int firstPage, int lastPage,
          int endPhys, int entry) {
        this.phys = phys;
        this.code32 = code32;
        this.insns = insns;
        this.count = count;
        this.terminates = terminates;
        this.firstPage = firstPage;
        this.lastPage = lastPage;
        this.endPhys = endPhys;
        this.length = count == 0 ? 0 : insns[count - 1].end;
        this.wraps = !code32 && (entry & 0xFFFF) + (long) length > 0x10000;
    }

    /**
     * Whether this block, found by its physical address, decodes the same when entered at
     * {@code eip} with the current code segment: its bytes lie within the segment limit, and in
     * 16-bit code the IP does not wrap inside it (where it wraps depends on the CS base, which the
     * physical address does not tell).
     */
    boolean fits(int eip, int csLimit) {
        long last = (eip & 0xFFFFFFFFL) + length - 1;
        if (!code32 && (wraps || last > 0xFFFF)) return false;
        return last <= (csLimit & 0xFFFFFFFFL);
    }

    /** Whether bytes [paddr, paddr+len) of physical memory overlap this block's bytes. */
    boolean overlaps(int paddr, int len) {
        long a = paddr & 0xFFFFFFFFL, e = a + len;
        long s = phys & 0xFFFFFFFFL;
        if (firstPage == lastPage) {
            return a < (endPhys & 0xFFFFFFFFL) && e > s;
        }
        long firstEnd = ((long) firstPage + 1) << 12;
        long lastStart = (long) lastPage << 12;
        return (a < firstEnd && e > s) || (a < (endPhys & 0xFFFFFFFFL) && e > lastStart);
    }
}
