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
    boolean valid = true;
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
          int endPhys) {
        this.phys = phys;
        this.code32 = code32;
        this.insns = insns;
        this.count = count;
        this.terminates = terminates;
        this.firstPage = firstPage;
        this.lastPage = lastPage;
        this.endPhys = endPhys;
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
