package io.mucheckpoint.checkpoint;

import java.util.Arrays;

/**
 * A set of page images kept in a {@link PageStore}, each under its guest page number: an epoch's
 * undo log (pre-images), a stop-and-copy delta (post-images) or a full RAM image. A page appears
 * at most once.
 *
 * <p>The entries carry a digest, kept up to date as they change, so that a log which lost entries
 * (or had them changed) behind its back is found out before a rollback trusts it: the images'
 * CRCs protect the pages, the digest protects the list of which page is where.
 */
final class SavedPages {
    /**
     * The slot of an entry that holds no image: a disk block that was not in the overlay yet (its
     * pre-image is the base image), so rolling back removes it from the overlay.
     */
    static final int ABSENT = -1;

    private int[] pages = new int[16];
    private int[] slots = new int[16];
    private int count;
    /** Sum of {@link #entryHash} over the entries. */
    private long digest;
    /** page -> position + 1, built on first lookup (open addressing; 0 = empty). */
    private int[] index;

    int size() {
        return count;
    }

    int page(int i) {
        return pages[i];
    }

    int slot(int i) {
        return slots[i];
    }

    void add(int page, int slot) {
        if (count == pages.length) {
            pages = Arrays.copyOf(pages, count * 2);
            slots = Arrays.copyOf(slots, count * 2);
        }
        pages[count] = page;
        slots[count] = slot;
        count++;
        digest += entryHash(page, slot);
        if (index != null) insert(page, count - 1);
    }

    /** The slot holding {@code page}'s image, or -1. */
    int slotOf(int page) {
        if (index == null) rebuildIndex();
        int mask = index.length - 1;
        for (int h = mix(page) & mask; ; h = (h + 1) & mask) {
            int e = index[h];
            if (e == 0) return -1;
            if (pages[e - 1] == page) return slots[e - 1];
        }
    }

    /** Replaces the image of a page already present (returns its old slot) or adds it (returns -1). */
    int put(int page, int slot) {
        if (index == null) rebuildIndex();
        int mask = index.length - 1;
        for (int h = mix(page) & mask; ; h = (h + 1) & mask) {
            int e = index[h];
            if (e == 0) break;
            if (pages[e - 1] == page) {
                int old = slots[e - 1];
                slots[e - 1] = slot;
                digest += entryHash(page, slot) - entryHash(page, old);
                return old;
            }
        }
        add(page, slot);
        return -1;
    }

    /** Keeps only the entries for which {@code keep} says yes; hands the others' slots to {@code drop}. */
    void retain(java.util.function.IntPredicate keep, java.util.function.IntConsumer drop) {
        long drift = digest - computeDigest(); // 0 unless entries were lost: keep that visible
        int w = 0;
        for (int i = 0; i < count; i++) {
            if (keep.test(pages[i])) {
                pages[w] = pages[i];
                slots[w] = slots[i];
                w++;
            } else if (slots[i] != ABSENT) {
                drop.accept(slots[i]);
            }
        }
        count = w;
        index = null;
        digest = computeDigest() + drift;
    }

    /** Moves every entry of {@code other} here (this set must be empty); {@code other} ends empty. */
    void takeFrom(SavedPages other) {
        pages = other.pages;
        slots = other.slots;
        count = other.count;
        index = other.index;
        digest = other.digest;
        other.pages = new int[16];
        other.slots = new int[16];
        other.count = 0;
        other.index = null;
        other.digest = 0;
    }

    void releaseAll(PageStore store) {
        for (int i = 0; i < count; i++) if (slots[i] != ABSENT) store.release(slots[i]);
        count = 0;
        index = null;
        digest = 0;
    }

    /** Whether the entries are still the ones recorded (none lost, none changed behind our back). */
    boolean intact() {
        return computeDigest() == digest;
    }

    /** For tests of the integrity checks: loses every entry after the first {@code keep}, as a truncated log would. */
    void loseTail(int keep) {
        if (keep < count) {
            count = Math.max(0, keep);
            index = null;
        }
    }

    private long computeDigest() {
        long d = 0;
        for (int i = 0; i < count; i++) d += entryHash(pages[i], slots[i]);
        return d;
    }

    private static long entryHash(int page, int slot) {
        long x = ((long) page << 32) ^ (slot & 0xFFFFFFFFL) ^ 0x9E3779B97F4A7C15L;
        x = (x ^ (x >>> 30)) * 0xBF58476D1CE4E5B9L;
        x = (x ^ (x >>> 27)) * 0x94D049BB133111EBL;
        return x ^ (x >>> 31);
    }

    private void rebuildIndex() {
        int cap = Integer.highestOneBit(Math.max(16, count * 2)) * 2;
        index = new int[cap];
        for (int i = 0; i < count; i++) insert(pages[i], i);
    }

    private void insert(int page, int pos) {
        if ((count + 1) * 2 > index.length) {
            rebuildIndex();
            return;
        }
        int mask = index.length - 1;
        int h = mix(page) & mask;
        while (index[h] != 0) h = (h + 1) & mask;
        index[h] = pos + 1;
    }

    private static int mix(int x) {
        return x * 0x9E3779B1 >>> 7;
    }
}
