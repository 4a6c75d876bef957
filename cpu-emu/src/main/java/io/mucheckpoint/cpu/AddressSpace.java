package io.mucheckpoint.cpu;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * Segmentation, paging and the software TLB: everything between an instruction's memory operand and
 * a byte of physical memory.
 *
 * <p>The TLB is a set of parallel arrays indexed by the low bits of the linear page number. A tag
 * holds the page number, a user bit (entries filled at CPL 3 only serve CPL 3) and a generation
 * number; bumping the generation voids every entry at once. Reads and writes have separate tags and
 * generations: the memory system revokes write permission (an epoch boundary, a dirty-log clear) by
 * bumping only the write generation (design brief, invariant 2), and a write entry is only ever
 * installed by a write that went through {@link PhysicalMemory#writeBase}.
 */
abstract class AddressSpace extends Registers {
    static final VarHandle I16 = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);
    static final VarHandle I32 = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);

    static final int ES = 0, CS = 1, SS = 2, DS = 3, FS = 4, GS = 5;

    static final int CR0_PE = 1, CR0_MP = 2, CR0_EM = 4, CR0_TS = 8, CR0_ET = 0x10, CR0_NE = 0x20,
            CR0_WP = 0x10000, CR0_AM = 0x40000, CR0_NW = 0x20000000, CR0_CD = 0x40000000, CR0_PG = 0x80000000;
    static final int CR4_VME = 1, CR4_PVI = 2, CR4_TSD = 4, CR4_DE = 8, CR4_PSE = 0x10, CR4_PAE = 0x20,
            CR4_MCE = 0x40, CR4_PGE = 0x80, CR4_PCE = 0x100, CR4_OSFXSR = 0x200;

    static final int TLB_BITS = 12;
    static final int TLB_SIZE = 1 << TLB_BITS;
    static final int TLB_MASK = TLB_SIZE - 1;
    private static final int USER_BIT = 1 << 20;
    private static final int GEN_SHIFT = 21;
    private static final int GEN_LIMIT = 1 << (32 - GEN_SHIFT);

    final PhysicalMemory memory;
    final byte[] mem;

    // Segment descriptor caches. attr holds descriptor bits 40-55 (type, S, DPL, P, AVL, D/B, G).
    final int[] segSel = new int[6];
    final int[] segBase = new int[6];
    final int[] segLimit = new int[6];
    final int[] segAttr = new int[6];
    /** One past the last offset a read (write) may touch without the slow check; 0 forces the slow path. */
    final long[] segRdEnd = new long[6];
    final long[] segWrEnd = new long[6];

    int ldtSel, ldtBase, ldtLimit, ldtAttr;
    int trSel, trBase, trLimit, trAttr;
    int gdtBase, gdtLimit, idtBase, idtLimit = 0x3FF;
    int cr0 = CR0_ET, cr2, cr3, cr4;
    /**
     * Uses of CR3 and CR4 that can change what the guest sees: page walks, MOV to and from them,
     * RDTSC, RDPMC and debug-register accesses (their flag bits). Not state; a campaign's def-use
     * probe compares them before and after a point.
     */
    long cr3Uses, cr4Uses;
    /**
     * Uses of CR0's bits other than PE and PG (which nearly every instruction reads): x87 and WAIT
     * instructions (EM, TS, MP, NE), supervisor writes to read-only pages (WP), and the instructions
     * that read or replace CR0 (MOV, SMSW, LMSW, CLTS); AM, ET, NW and CD have no other reader here.
     */
    long cr0Uses;
    /** A debugger's data watchpoints, or null (see {@link #watchedAccess}). */
    DataWatch dataWatch;
    int cpl;
    int a20Mask = -1;
    /** Bumped whenever block chains may be stale: new translations, a new code segment or mode. */
    int chainGen;

    // The TLB.
    final int[] tlbRTag = new int[TLB_SIZE];
    final int[] tlbROfs = new int[TLB_SIZE];
    final int[] tlbWTag = new int[TLB_SIZE];
    final int[] tlbWOfs = new int[TLB_SIZE];
    final int[] tlbCTag = new int[TLB_SIZE];
    final int[] tlbCPhys = new int[TLB_SIZE];
    /** One bit per 4 MiB linear region translated through a 4 MiB page since the last flush. */
    private final int[] largeRegions = new int[32];
    private int rGen = 1;
    private int wGen = 1;
    /** Added to a linear page number to form its tag in the current generation and privilege. */
    int rKey = 1 << GEN_SHIFT;
    int wKey = 1 << GEN_SHIFT;

    AddressSpace(PhysicalMemory memory) {
        this.memory = memory;
        this.mem = memory.backing();
    }

    // --- the TLB's life -----------------------------------------------------------------------

    final void updateTlbKeys() {
        int user = cpl == 3 ? USER_BIT : 0;
        rKey = (rGen << GEN_SHIFT) | user;
        wKey = (wGen << GEN_SHIFT) | user;
    }

    /** Voids every translation (CR3 load, paging mode change, A20 change). */
    final void flushTlb() {
        chainGen++;
        Arrays.fill(largeRegions, 0);
        if (++rGen == GEN_LIMIT) {
            Arrays.fill(tlbRTag, 0);
            Arrays.fill(tlbCTag, 0);
            rGen = 1;
        }
        revokeWriteEntries();
    }

    /** Voids every write permission, leaving reads alone. */
    final void revokeWriteEntries() {
        if (++wGen == GEN_LIMIT) {
            Arrays.fill(tlbWTag, 0);
            wGen = 1;
        }
        updateTlbKeys();
    }

    /**
     * INVLPG: drops the translation of the page holding {@code lin}. The TLB keeps 4 KiB pieces
     * even of a 4 MiB page, so if that 4 MiB region was ever translated through a large page since
     * the last flush, every piece of it goes (INVLPG of any address in a large page invalidates the
     * whole page).
     */
    final void invalidatePage(int lin) {
        chainGen++;
        int region = lin >>> 22;
        if ((largeRegions[region >>> 5] & (1 << region)) != 0) {
            largeRegions[region >>> 5] &= ~(1 << region);
            int first = (lin >>> 12) & ~0x3FF;
            for (int p = first; p < first + 0x400; p++) {
                int idx = p & TLB_MASK;
                tlbRTag[idx] = 0;
                tlbWTag[idx] = 0;
                tlbCTag[idx] = 0;
            }
            return;
        }
        int idx = (lin >>> 12) & TLB_MASK;
        tlbRTag[idx] = 0;
        tlbWTag[idx] = 0;
        tlbCTag[idx] = 0;
    }

    // --- segment-relative access (the interpreter's entry points) ----------------------------

    final int rd8(int seg, int off) {
        if ((off & 0xFFFFFFFFL) >= segRdEnd[seg]) segCheck(seg, off, 1, false);
        return readLin8(segBase[seg] + off);
    }

    final int rd16(int seg, int off) {
        if ((off & 0xFFFFFFFFL) + 2 > segRdEnd[seg]) segCheck(seg, off, 2, false);
        return readLin16(segBase[seg] + off);
    }

    final int rd32(int seg, int off) {
        if ((off & 0xFFFFFFFFL) + 4 > segRdEnd[seg]) segCheck(seg, off, 4, false);
        return readLin32(segBase[seg] + off);
    }

    final int rd(int seg, int off, int size) {
        return size == 4 ? rd32(seg, off) : size == 2 ? rd16(seg, off) : rd8(seg, off);
    }

    final void wr8(int seg, int off, int v) {
        if ((off & 0xFFFFFFFFL) >= segWrEnd[seg]) segCheck(seg, off, 1, true);
        writeLin8(segBase[seg] + off, v);
    }

    final void wr16(int seg, int off, int v) {
        if ((off & 0xFFFFFFFFL) + 2 > segWrEnd[seg]) segCheck(seg, off, 2, true);
        writeLin16(segBase[seg] + off, v);
    }

    final void wr32(int seg, int off, int v) {
        if ((off & 0xFFFFFFFFL) + 4 > segWrEnd[seg]) segCheck(seg, off, 4, true);
        writeLin32(segBase[seg] + off, v);
    }

    final void wr(int seg, int off, int size, int v) {
        if (size == 4) wr32(seg, off, v);
        else if (size == 2) wr16(seg, off, v);
        else wr8(seg, off, v);
    }

    /**
     * Checks a write to seg:off of {@code size} bytes for limits, type and paging without writing,
     * so an instruction that stores several values can fault before the first one lands.
     */
    final void probeWrite(int seg, int off, int size) {
        if ((off & 0xFFFFFFFFL) + size > segWrEnd[seg]) segCheck(seg, off, size, true);
        int lin = segBase[seg] + off;
        probeLinWrite(lin, size);
    }

    final void probeLinWrite(int lin, int size) {
        int idx = (lin >>> 12) & TLB_MASK;
        if (tlbWTag[idx] == ((lin >>> 12) | wKey) && (lin & 0xFFF) <= 0x1000 - size) return;
        translate(lin, true, cpl == 3);
        if (((lin & 0xFFF) + size) > 0x1000) translate((lin + size - 1) & ~0xFFF, true, cpl == 3);
    }

    /** The slow segment check: raises the right fault, or returns if the access is allowed after all. */
    final void segCheck(int seg, int off, int size, boolean write) {
        int attr = segAttr[seg];
        boolean protectedMode = (cr0 & CR0_PE) != 0 && (eflags & VM) == 0;
        if (protectedMode) {
            if ((segSel[seg] & 0xFFFC) == 0 && seg != CS) {
                throw CpuFault.gp(0);
            }
            int type = attr & 0xF;
            boolean code = (attr & 0x10) != 0 && (type & 8) != 0;
            if (write && (code || (type & 2) == 0)) throw seg == SS ? CpuFault.ss(0) : CpuFault.gp(0);
            if (!write && code && (type & 2) == 0) throw CpuFault.gp(0);
        }
        long o = off & 0xFFFFFFFFL;
        long last = o + size - 1;
        long limit = segLimit[seg] & 0xFFFFFFFFL;
        boolean expandDown = protectedMode && (attr & 0x18) == 0x10 && (attr & 4) != 0;
        boolean ok;
        if (expandDown) {
            long upper = (attr & 0x4000) != 0 ? 0xFFFFFFFFL : 0xFFFFL;
            ok = o > limit && last <= upper;
        } else {
            ok = last <= limit;
        }
        if (!ok) throw seg == SS ? CpuFault.ss(0) : CpuFault.gp(0);
    }

    // --- linear access: the TLB fast paths ---------------------------------------------------

    final int readLin8(int lin) {
        int idx = (lin >>> 12) & TLB_MASK;
        if (tlbRTag[idx] == ((lin >>> 12) | rKey)) return mem[tlbROfs[idx] + lin] & 0xFF;
        return readSlow(lin, 1, cpl == 3);
    }

    final int readLin16(int lin) {
        int idx = (lin >>> 12) & TLB_MASK;
        if (tlbRTag[idx] == ((lin >>> 12) | rKey) && (lin & 0xFFF) != 0xFFF) {
            return (short) I16.get(mem, tlbROfs[idx] + lin) & 0xFFFF;
        }
        return readSlow(lin, 2, cpl == 3);
    }

    final int readLin32(int lin) {
        int idx = (lin >>> 12) & TLB_MASK;
        if (tlbRTag[idx] == ((lin >>> 12) | rKey) && (lin & 0xFFF) <= 0xFFC) {
            return (int) I32.get(mem, tlbROfs[idx] + lin);
        }
        return readSlow(lin, 4, cpl == 3);
    }

    final void writeLin8(int lin, int v) {
        int idx = (lin >>> 12) & TLB_MASK;
        if (tlbWTag[idx] == ((lin >>> 12) | wKey)) {
            mem[tlbWOfs[idx] + lin] = (byte) v;
            return;
        }
        writeSlow(lin, 1, v, cpl == 3);
    }

    final void writeLin16(int lin, int v) {
        int idx = (lin >>> 12) & TLB_MASK;
        if (tlbWTag[idx] == ((lin >>> 12) | wKey) && (lin & 0xFFF) != 0xFFF) {
            I16.set(mem, tlbWOfs[idx] + lin, (short) v);
            return;
        }
        writeSlow(lin, 2, v, cpl == 3);
    }

    final void writeLin32(int lin, int v) {
        int idx = (lin >>> 12) & TLB_MASK;
        if (tlbWTag[idx] == ((lin >>> 12) | wKey) && (lin & 0xFFF) <= 0xFFC) {
            I32.set(mem, tlbWOfs[idx] + lin, v);
            return;
        }
        writeSlow(lin, 4, v, cpl == 3);
    }

    // --- supervisor-mode implicit accesses (descriptor tables, TSS, ...) ----------------------

    final int readSys(int lin, int size) {
        return readSlow(lin, size, false);
    }

    final void writeSys(int lin, int size, int v) {
        writeSlow(lin, size, v, false);
    }

    // --- slow paths ---------------------------------------------------------------------------

    private int readSlow(int lin, int size, boolean user) {
        if (((lin & 0xFFF) + size) > 0x1000) {
            int v = 0;
            for (int i = 0; i < size; i++) v |= readSlow(lin + i, 1, user) << (8 * i);
            return v;
        }
        int phys = translate(lin, false, user);
        if (dataWatch != null && watchedAccess(lin, size, false)) return memory.read(phys, size) & sizeMask(size);
        int base = memory.readBase(phys >>> 12);
        if (base < 0) return memory.read(phys, size) & sizeMask(size);
        if (user == (cpl == 3)) {
            int idx = (lin >>> 12) & TLB_MASK;
            tlbRTag[idx] = (lin >>> 12) | rKey;
            tlbROfs[idx] = base - (lin & ~0xFFF);
        }
        int h = base + (lin & 0xFFF);
        return size == 4 ? (int) I32.get(mem, h) : size == 2 ? (short) I16.get(mem, h) & 0xFFFF : mem[h] & 0xFF;
    }

    private void writeSlow(int lin, int size, int v, boolean user) {
        if (((lin & 0xFFF) + size) > 0x1000) {
            // Fault on either page before any byte lands; a fault on the second page reports its
            // first byte in CR2, as the processor does.
            int p0 = translate(lin, true, user);
            int p1 = translate((lin + size - 1) & ~0xFFF, true, user);
            for (int i = 0; i < size; i++) {
                int p = ((lin + i) & 0xFFF) >= (lin & 0xFFF) ? p0 + i : (p1 & ~0xFFF) + ((lin + i) & 0xFFF);
                if (dataWatch != null) watchedAccess(lin + i, 1, true);
                memory.write(p, 1, v >>> (8 * i));
            }
            return;
        }
        int phys = translate(lin, true, user);
        if (dataWatch != null && watchedAccess(lin, size, true)) {
            memory.write(phys, size, v);
            return;
        }
        int base = memory.writeBase(phys >>> 12);
        if (base < 0) {
            memory.write(phys, size, v);
            return;
        }
        if (user == (cpl == 3)) {
            int idx = (lin >>> 12) & TLB_MASK;
            tlbWTag[idx] = (lin >>> 12) | wKey;
            tlbWOfs[idx] = base - (lin & ~0xFFF);
        }
        int h = base + (lin & 0xFFF);
        if (size == 4) I32.set(mem, h, v);
        else if (size == 2) I16.set(mem, h, (short) v);
        else mem[h] = (byte) v;
    }

    /**
     * The debugger's hook in the slow path: reports an access to a watched linear page and returns
     * true, in which case the caller accesses memory through the door without filling a TLB entry,
     * so the next access to the page misses again. Called only after the access is known to be
     * allowed (translated without a fault), so a faulting instruction reports nothing.
     */
    private boolean watchedAccess(int lin, int size, boolean write) {
        if (!dataWatch.watches(lin >>> 12)) return false;
        dataWatch.accessed(lin, size, write);
        return true;
    }

    /** The physical address of an instruction fetch at linear {@code lin}, through the code TLB. */
    final int codePhys(int lin) {
        int idx = (lin >>> 12) & TLB_MASK;
        if (tlbCTag[idx] == ((lin >>> 12) | rKey)) return tlbCPhys[idx] | (lin & 0xFFF);
        int phys = translate(lin, false, cpl == 3);
        tlbCTag[idx] = (lin >>> 12) | rKey;
        tlbCPhys[idx] = phys & ~0xFFF;
        return phys;
    }

    final int readPhys8(int phys) {
        int base = memory.readBase(phys >>> 12);
        return base >= 0 ? mem[base + (phys & 0xFFF)] & 0xFF : memory.read(phys, 1) & 0xFF;
    }

    // --- paging -------------------------------------------------------------------------------

    /**
     * Linear to physical, walking the page tables when paging is on and setting their accessed and
     * dirty bits through the memory door. Raises #PF with CR2 and the error code on a violation.
     * Accessed and dirty bits are written only for an access that is allowed (the architecture
     * leaves open whether a faulting walk sets the PDE's accessed bit; we never do). A 4 KiB PDE
     * never gets a dirty bit; a 4 MiB PDE gets both.
     */
    final int translate(int lin, boolean write, boolean user) {
        if (cr0 >= 0) return lin & a20Mask;
        cr3Uses++;
        cr4Uses++;
        int pdeAddr = (cr3 & 0xFFFFF000) | ((lin >>> 20) & 0xFFC);
        int pde = memory.read(pdeAddr & a20Mask, 4);
        if ((pde & 1) == 0) throw pageFault(lin, false, write, user);
        if ((pde & 0x80) != 0 && (cr4 & CR4_PSE) != 0) {
            checkPageAccess(pde, pde, lin, write, user);
            largeRegions[lin >>> 27] |= 1 << (lin >>> 22);
            int want = pde | 0x20 | (write ? 0x40 : 0);
            if (want != pde) memory.write(pdeAddr & a20Mask, 4, want);
            return ((pde & 0xFFC00000) | (lin & 0x3FFFFF)) & a20Mask;
        }
        int pteAddr = (pde & 0xFFFFF000) | ((lin >>> 10) & 0xFFC);
        int pte = memory.read(pteAddr & a20Mask, 4);
        if ((pte & 1) == 0) throw pageFault(lin, false, write, user);
        checkPageAccess(pde, pte, lin, write, user);
        if ((pde & 0x20) == 0) memory.write(pdeAddr & a20Mask, 4, pde | 0x20);
        int want = pte | 0x20 | (write ? 0x40 : 0);
        if (want != pte) memory.write(pteAddr & a20Mask, 4, want);
        return ((pte & 0xFFFFF000) | (lin & 0xFFF)) & a20Mask;
    }

    private void checkPageAccess(int pde, int pte, int lin, boolean write, boolean user) {
        int both = pde & pte;
        if (user) {
            if ((both & 4) == 0 || (write && (both & 2) == 0)) throw pageFault(lin, true, write, true);
        } else if (write && (both & 2) == 0) {
            cr0Uses++; // WP decides
            if ((cr0 & CR0_WP) != 0) throw pageFault(lin, true, true, false);
        }
    }

    private CpuFault pageFault(int lin, boolean present, boolean write, boolean user) {
        cr2 = lin;
        return CpuFault.pf((present ? 1 : 0) | (write ? 2 : 0) | (user ? 4 : 0));
    }

    // --- segment caches -------------------------------------------------------------------------

    /** Loads a segment cache and recomputes the fast-path bounds for it. */
    final void setSegmentCache(int seg, int sel, int base, int limit, int attr) {
        if (seg == CS) chainGen++;
        segSel[seg] = sel & 0xFFFF;
        segBase[seg] = base;
        segLimit[seg] = limit;
        segAttr[seg] = attr;
        updateSegmentBounds(seg);
    }

    final void updateSegmentBounds(int seg) {
        int attr = segAttr[seg];
        long end = (segLimit[seg] & 0xFFFFFFFFL) + 1;
        boolean pm = (cr0 & CR0_PE) != 0 && (eflags & VM) == 0;
        if (!pm) {
            segRdEnd[seg] = end;
            segWrEnd[seg] = end;
            return;
        }
        boolean usable = (segSel[seg] & 0xFFFC) != 0 || seg == CS;
        boolean present = (attr & 0x80) != 0;
        boolean codeOrData = (attr & 0x10) != 0;
        int type = attr & 0xF;
        boolean code = (type & 8) != 0;
        boolean expandDown = !code && (type & 4) != 0;
        if (!usable || !present || !codeOrData || expandDown) {
            segRdEnd[seg] = 0;
            segWrEnd[seg] = 0;
            return;
        }
        boolean readable = !code || (type & 2) != 0;
        boolean writable = !code && (type & 2) != 0;
        segRdEnd[seg] = readable ? end : 0;
        segWrEnd[seg] = writable ? end : 0;
    }

    final void updateAllSegmentBounds() {
        for (int s = 0; s < 6; s++) updateSegmentBounds(s);
    }
}
