package io.mucheckpoint.vmm.mem;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * {@link GuestMemory#drainDirtyPages} with the dirty list kept must report exactly the pages the
 * bitmap drained by {@link GuestMemory#drainDirty} holds, whatever wrote them and whatever partial
 * drains ({@link GuestMemory#testAndClearDirty}) came in between, including after so many of those
 * that the list ran out of room.
 */
class DirtyListTest {
    static final int PAGES = 512; // the smallest RAM: 2 MiB

    @Test
    void reportsWhatTheBitmapHolds() {
        for (long seed = 0; seed < 60; seed++) {
            Random r = new Random(seed);
            GuestMemory listed = new GuestMemory((long) PAGES << GuestMemory.PAGE_SHIFT);
            GuestMemory plain = new GuestMemory((long) PAGES << GuestMemory.PAGE_SHIFT);
            int keepAt = r.nextInt(50);
            // rare full drains: pages cleared by partial drains and written again fill the list up
            int drainOdds = seed % 2 == 0 ? 20 : 2000;
            for (int op = 0; op < 6000; op++) {
                if (op == keepAt) listed.keepDirtyList(); // pages dirty by then are listed at once
                int kind = r.nextInt(drainOdds) == 0 ? 9 : r.nextInt(4);
                switch (kind) {
                    case 0, 1 -> {
                        int span = r.nextBoolean() ? 16 : PAGES; // mostly a few pages, written again and again
                        int at = r.nextInt((span << GuestMemory.PAGE_SHIFT) - 4), v = r.nextInt();
                        listed.write(at, 4, v);
                        plain.write(at, 4, v);
                    }
                    case 2 -> {
                        byte[] bytes = new byte[1 + r.nextInt(3 * GuestMemory.PAGE_SIZE)];
                        long at = r.nextInt((PAGES << GuestMemory.PAGE_SHIFT) - bytes.length);
                        listed.writeBytes(at, bytes, 0, bytes.length);
                        plain.writeBytes(at, bytes, 0, bytes.length);
                    }
                    case 3 -> {
                        int first = r.nextInt(PAGES), count = r.nextInt(Math.min(64, PAGES - first) + 1);
                        long[] out = new long[PAGES / 64];
                        assertEquals(plain.testAndClearDirty(first, count, out), listed.testAndClearDirty(first, count, out));
                    }
                    default -> sameDrain(listed, plain, "seed " + seed + ", operation " + op);
                }
            }
            sameDrain(listed, plain, "seed " + seed + " at the end");
        }
    }

    private static void sameDrain(GuestMemory listed, GuestMemory plain, String where) {
        int[] pages = new int[PAGES];
        int n = listed.drainDirtyPages(pages);
        TreeSet<Integer> got = new TreeSet<>();
        for (int i = 0; i < n; i++) assertTrue(got.add(pages[i]), "page " + pages[i] + " reported twice, " + where);
        long[] bits = new long[PAGES / 64];
        plain.drainDirty(bits);
        TreeSet<Integer> want = new TreeSet<>();
        for (int p = 0; p < PAGES; p++) if ((bits[p >>> 6] >>> (p & 63) & 1) != 0) want.add(p);
        assertEquals(want, got, where);
        assertEquals(0, listed.dirtyCount(), where);
    }
}
