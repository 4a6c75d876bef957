package io.mucheckpoint.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

/**
 * A write voids exactly the decoded blocks whose bytes it touches, and the page stops being
 * watched when its last block goes: checked against a brute-force oracle (every live block asked
 * {@link Block#overlaps}) over random blocks, in RAM and beyond it, on one page and across two,
 * and random writes of every size the memory door reports, from a byte to a whole page.
 */
class CodeCacheInvalidationTest {
    private static final int RAM = 16 << 12;
    /** A page beyond RAM (ROM at the top of the address space), kept by the cache in its map. */
    private static final int HIGH_PAGE = 0xFFFF0;

    @Test
    void aWriteVoidsExactlyTheBlocksItsBytesOverlap() {
        SplittableRandom rnd = new SplittableRandom(20261204);
        for (int round = 0; round < 40; round++) {
            FlatMemory mem = new FlatMemory(RAM);
            CodeCache cache = new CodeCache(mem);
            List<Block> live = new ArrayList<>();
            for (int op = 0; op < 3000; op++) {
                if (live.size() < 200 || rnd.nextInt(3) == 0) {
                    Block b = randomBlock(rnd);
                    live.removeIf(o -> o.phys == b.phys && o.code32 == b.code32); // add replaces it
                    cache.add(b);
                    live.add(b);
                    continue;
                }
                int paddr, len;
                switch (rnd.nextInt(4)) {
                    case 0 -> { paddr = pageOf(rnd) << 12; len = 4096; }
                    case 1 -> { paddr = (pageOf(rnd) << 12) + 4096 - 1 - rnd.nextInt(3); len = 4; } // across a page end
                    default -> { paddr = (pageOf(rnd) << 12) + rnd.nextInt(4096); len = 1 << rnd.nextInt(4); }
                }
                Block current = live.get(rnd.nextInt(live.size()));
                List<Block> hit = new ArrayList<>();
                for (Block b : live) if (b.overlaps(paddr, len)) hit.add(b);
                boolean hitCurrent = cache.invalidate(paddr, len, current);
                assertEquals(hit.contains(current), hitCurrent, "whether the current block was voided, write " + Integer.toHexString(paddr) + "+" + len);
                live.removeAll(hit);
                for (Block b : hit) assertEquals(false, b.valid, "a voided block is marked invalid");
                for (Block b : live) {
                    assertEquals(b, cache.lookup(b.phys, b.code32), "block at " + Integer.toHexString(b.phys) + " still live");
                }
                assertEquals(live.size(), cache.size());
                java.util.Set<Integer> withCode = new java.util.HashSet<>();
                for (Block b : live) {
                    withCode.add(b.firstPage);
                    withCode.add(b.lastPage);
                }
                for (int p : new int[] {paddr >>> 12, (paddr + len - 1) >>> 12}) {
                    assertEquals(withCode.contains(p), mem.watched(p), "page " + Integer.toHexString(p) + " watched while it holds code");
                }
            }
        }
    }

    private static int pageOf(SplittableRandom rnd) {
        return rnd.nextInt(8) == 0 ? HIGH_PAGE + rnd.nextInt(2) : rnd.nextInt(RAM >>> 12);
    }

    /** A block of 1 to 40 bytes, crossing into another (not necessarily adjacent) page one time in four. */
    private static Block randomBlock(SplittableRandom rnd) {
        int page = pageOf(rnd);
        int off = rnd.nextInt(4096);
        int len = 1 + rnd.nextInt(40);
        if (off + len <= 4096 || rnd.nextInt(4) != 0) {
            len = Math.min(len, 4096 - off);
            int phys = (page << 12) + off;
            return new Block(phys, rnd.nextBoolean(), new Insn[0], 0, false, page, page, phys + len, 0);
        }
        int other = pageOf(rnd);
        if (other == page) other = page == 0 ? 1 : page - 1;
        int phys = (page << 12) + off;
        return new Block(phys, rnd.nextBoolean(), new Insn[0], 0, false, page, other, (other << 12) + off + len - 4096, 0);
    }
}
