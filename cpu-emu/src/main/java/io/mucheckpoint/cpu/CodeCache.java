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
    private final Map<Integer, List<Block>> byPage = new HashMap<>();
    private final PhysicalMemory memory;
    /** Instructions in the live blocks (what the cache's memory grows with). */
    private long instructions;

    CodeCache(PhysicalMemory memory) {
        this.memory = memory;
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
        List<Block> list = byPage.get(page);
        if (list == null) {
            list = new ArrayList<>();
            byPage.put(page, list);
            memory.watchCode(page, true);
        }
        list.add(b);
    }

    /** Voids the blocks overlapping [paddr, paddr+len); returns whether {@code current} was one. */
    boolean invalidate(int paddr, int len, Block current) {
        boolean hitCurrent = false;
        int first = paddr >>> 12, last = (paddr + len - 1) >>> 12;
        for (int page = first; ; page++) {
            List<Block> list = byPage.get(page);
            if (list != null) {
                for (int i = list.size() - 1; i >= 0; i--) {
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
        List<Block> list = byPage.get(page);
        if (list == null) return;
        list.remove(b);
        if (list.isEmpty()) {
            byPage.remove(page);
            memory.watchCode(page, false);
        }
    }

    void clear() {
        blocks.forEach(b -> b.valid = false);
        for (Integer page : byPage.keySet()) memory.watchCode(page, false);
        blocks.clear();
        instructions = 0;
        byPage.clear();
        java.util.Arrays.fill(table, null);
    }

    int size() {
        return blocks.size();
    }

    long instructions() {
        return instructions;
    }
}
