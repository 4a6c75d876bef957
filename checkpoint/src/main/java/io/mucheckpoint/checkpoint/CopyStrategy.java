package io.mucheckpoint.checkpoint;

import io.mucheckpoint.vmm.mem.GuestMemory;
import java.util.List;

/**
 * Stop-and-copy, as Remus does: the oldest checkpoint holds a full base image; every later
 * checkpoint holds the post-images of the pages dirtied in the epoch before it, copied at its
 * boundary. Reaching checkpoint k writes back each page dirtied since k with its newest image at
 * or before k.
 */
final class CopyStrategy extends Strategy {
    CopyStrategy(PageStore store, GuestMemory memory) {
        super(store, memory);
    }

    @Override
    boolean usesTraps() {
        return false;
    }

    @Override
    void start(Checkpoint first) {
        for (int p = 0; p < memory.pageCount(); p++) save(p, first.pages);
    }

    @Override
    void boundary(List<Checkpoint> ring, Checkpoint next, long[] written) {
        forEachPage(written, memory.pageCount(), p -> save(p, next.pages));
    }

    /**
     * {@code next} was just taken and the ring is [base, next]: instead of a delta for {@code next},
     * replace the base's images of the written pages with their post-images, one page at a time,
     * and hand the base to {@code next}. The caller then drops the old base checkpoint.
     */
    void boundaryIntoBase(List<Checkpoint> ring, Checkpoint next, long[] written) {
        SavedPages base = ring.get(0).pages;
        forEachPage(written, memory.pageCount(), p -> {
            memory.copyPage(p, buffer, 0);
            int old = base.put(p, store.store(buffer, 0));
            if (old >= 0) store.release(old);
        });
        next.pages.takeFrom(base);
    }

    @Override
    List<Checkpoint> logsNeeded(List<Checkpoint> ring, Checkpoint target) {
        return ring.subList(0, ring.indexOf(target) + 1); // the base image and every delta up to the target
    }

    @Override
    boolean unreachable(Checkpoint k, int corruptId) {
        return k.id >= corruptId; // checkpoint k is rebuilt from the base and every delta up to k
    }

    @Override
    int restore(List<Checkpoint> ring, Checkpoint target, long[] dirtySinceNewest) {
        int t = ring.indexOf(target);
        long[] pages = dirtySinceNewest.clone();
        for (int i = t + 1; i < ring.size(); i++) {
            SavedPages delta = ring.get(i).pages;
            if (!delta.intact()) {
                // A newer delta lost entries: its list of changed pages cannot be trusted (its
                // images are not needed). Write back every page instead.
                java.util.Arrays.fill(pages, -1L);
                break;
            }
            for (int j = 0; j < delta.size(); j++) {
                int p = delta.page(j);
                pages[p >>> 6] |= 1L << (p & 63);
            }
        }
        int[] n = {0};
        forEachPage(pages, memory.pageCount(), p -> {
            for (int i = t; i >= 0; i--) { // the newest image at or before the target
                int slot = ring.get(i).pages.slotOf(p);
                if (slot >= 0) {
                    writeBack(p, slot);
                    n[0]++;
                    return;
                }
            }
        });
        return n[0];
    }

    @Override
    void dropOldest(List<Checkpoint> ring) {
        // The next checkpoint becomes the base: fold its post-images into the full image.
        SavedPages base = ring.get(0).pages;
        SavedPages delta = ring.get(1).pages;
        for (int j = 0; j < delta.size(); j++) {
            int old = base.put(delta.page(j), delta.slot(j));
            if (old >= 0) store.release(old);
        }
        SavedPages empty = new SavedPages();
        empty.takeFrom(delta);   // the delta's entries now live in the base; forget them here
        delta.takeFrom(base);
    }

    @Override
    void afterRollback(List<Checkpoint> ring, Checkpoint target) {
        for (int i = ring.indexOf(target) + 1; i < ring.size(); i++) ring.get(i).pages.releaseAll(store);
    }
}
