package io.mucheckpoint.cpu;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Decoded blocks by physical address (design brief, invariant 4). A direct-mapped table answers
 * the common lookup; a map behind it ({@link BlockMap}) holds every live block, and each physical page lists the
 * blocks decoded from it so a write can void exactly the blocks whose bytes it touched.
 */
final class CodeCache {
    private static final int TABLE_BITS = 16;
    private static final int TABLE_MASK = (1 << TABLE_BITS) - 1;

    private final Block[] table = new Block[1 << TABLE_BITS];
    private final BlockMap blocks = new BlockMap();
    /**
     * The pages code was decoded from: RAM pages in an array by page number, others (ROM) in a map.
     * A write to a page with code checks it here on every store; the quantum campaign's CR0.PE flips
     * run real-mode garbage that stores bytes into its own code pages, and there a boxed HashMap
     * lookup plus a walk over the page's blocks per store was 45-75 % of an injection's time.
     */
    private final CodePage[] ramPages;
    private final Map<Integer, CodePage> otherPages = new HashMap<>();
    private final PhysicalMemory memory;
    /** Instructions in the live blocks (what the cache's memory grows with). */
    private long instructions;

    CodeCache(PhysicalMemory memory) {
        this.memory = memory;
        byte[] ram = memory.backing();
        ramPages = new CodePage[ram == null ? 0 : ram.length >>> 12];
    }

    /** The blocks decoded from one physical page, and which of its bytes they cover. */
    private static final class CodePage {
        final List<Block> blocks = new ArrayList<>();
        /** Bit i: byte i of the page belongs to some block here. */
        final long[] bytes = new long[64];

        /** Marks block {@code b}'s bytes on this page: from its start (or the page's) to its end (or the page's). */
        void cover(Block b, int page) {
            int from = page == b.firstPage ? b.phys & 0xFFF : 0;
            int to = page == b.lastPage ? b.endPhys - (b.lastPage << 12) : 4096;
            for (int i = from; i < to; i++) bytes[i >>> 6] |= 1L << i;
        }

        /** A block left the page: which bytes are covered is worked out again at the next write that asks. */
        boolean stale;

        /** Whether any byte of [off, off+len) of page {@code page} is code. */
        boolean touches(int page, int off, int len) {
            if (stale) {
                stale = false;
                java.util.Arrays.fill(bytes, 0);
                for (Block b : blocks) cover(b, page);
            }
            int end = off + len;
            for (int w = off >>> 6; w <= (end - 1) >>> 6; w++) {
                int lo = Math.max(off, w << 6) & 63, hi = Math.min(end, (w + 1) << 6) - (w << 6); // bits [lo, hi)
                long mask = (hi == 64 ? -1L : (1L << hi) - 1) & (-1L << lo);
                if ((bytes[w] & mask) != 0) return true;
            }
            return false;
        }
    }

    private CodePage page(int page) {
        return page >= 0 && page < ramPages.length ? ramPages[page] : otherPages.get(page);
    }

    private void setPage(int page, CodePage cp) {
        if (page >= 0 && page < ramPages.length) ramPages[page] = cp;
        else if (cp == null) otherPages.remove(page);
        else otherPages.put(page, cp);
    }

    private static int slot(int phys, boolean code32) {
        return ((phys * 0x9E3779B1) >>> (32 - TABLE_BITS)) ^ (code32 ? 1 : 0);
    }

    private static long key(int phys, boolean code32) {
        return ((phys & 0xFFFFFFFFL) << 1) | (code32 ? 1 : 0);
    }

    Block lookup(int phys, boolean code32) {
        int s = slot(phys, code32) & TABLE_MASK;
        Block b = table[s];
        if (b != null && b.phys == phys && b.code32 == code32) return b;
        b = blocks.get(key(phys, code32));
        if (b != null) table[s] = b;
        return b;
    }

    /** Adds a block, replacing (and voiding) one decoded at the same address for another code segment. */
    void add(Block b) {
        Block old = blocks.get(key(b.phys, b.code32));
        if (old != null) remove(old);
        blocks.put(key(b.phys, b.code32), b);
        instructions += b.count;
        table[slot(b.phys, b.code32) & TABLE_MASK] = b;
        register(b.firstPage, b);
        if (b.lastPage != b.firstPage) register(b.lastPage, b);
    }

    private void register(int page, Block b) {
        CodePage cp = page(page);
        if (cp == null) {
            cp = new CodePage();
            setPage(page, cp);
            memory.watchCode(page, true);
        }
        cp.blocks.add(b);
        cp.cover(b, page);
    }

    /** Voids the blocks overlapping [paddr, paddr+len); returns whether {@code current} was one. */
    boolean invalidate(int paddr, int len, Block current) {
        boolean hitCurrent = false;
        int first = paddr >>> 12, last = (paddr + len - 1) >>> 12;
        for (int page = first; ; page++) {
            CodePage cp = page(page);
            int off = page == first ? paddr & 0xFFF : 0;
            int end = page == last ? ((paddr + len - 1) & 0xFFF) + 1 : 4096;
            if (cp != null && cp.touches(page, off, end - off)) {
                List<Block> list = cp.blocks;
                for (int i = list.size() - 1; i >= 0; i--) { // remove(b) takes b alone out of the list
                    Block b = list.get(i);
                    if (b.overlaps(paddr, len)) {
                        remove(b);
                        if (b == current) hitCurrent = true;
                    }
                }
            }
            if (page == last) break;
        }
        return hitCurrent;
    }

    private void remove(Block b) {
        b.valid = false;
        Block gone = blocks.remove(key(b.phys, b.code32));
        if (gone != null) instructions -= gone.count;
        int s = slot(b.phys, b.code32) & TABLE_MASK;
        if (table[s] == b) table[s] = null;
        unregister(b.firstPage, b);
        if (b.lastPage != b.firstPage) unregister(b.lastPage, b);
    }

    private void unregister(int page, Block b) {
        CodePage cp = page(page);
        if (cp == null) return;
        cp.blocks.remove(b);
        if (cp.blocks.isEmpty()) {
            setPage(page, null);
            memory.watchCode(page, false);
        } else {
            cp.stale = true;
        }
    }

    void clear() {
        blocks.forEach(b -> b.valid = false);
        for (int p = 0; p < ramPages.length; p++) {
            if (ramPages[p] != null) memory.watchCode(p, false);
        }
        java.util.Arrays.fill(ramPages, null);
        for (Integer page : otherPages.keySet()) memory.watchCode(page, false);
        otherPages.clear();
        blocks.clear();
        instructions = 0;
        java.util.Arrays.fill(table, null);
    }

    int size() {
        return blocks.size();
    }

    long instructions() {
        return instructions;
    }
}
