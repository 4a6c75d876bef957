package io.mucheckpoint.checkpoint;

import io.mucheckpoint.vmm.mem.GuestMemory;
import java.util.List;
import java.util.SortedSet;
import java.util.TreeSet;

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
        int n = memory.pageCount();
        for (int w = 0; w < written.length; w++) {
            long bits = written[w];
            while (bits != 0) {
                int p = (w << 6) + Long.numberOfTrailingZeros(bits);
                bits &= bits - 1;
                if (p < n) save(p, next.pages);
            }
        }
    }

    @Override
    SortedSet<Integer> corruptFor(List<Checkpoint> ring, Checkpoint target) {
        SortedSet<Integer> bad = new TreeSet<>();
        for (int i = 0; i <= ring.indexOf(target); i++) {
            Checkpoint c = ring.get(i);
            for (int j = 0; j < c.pages.size(); j++) {
                if (!store.verify(c.pages.slot(j))) {
                    bad.add(c.id);
                    break;
                }
            }
        }
        return bad;
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
            for (int j = 0; j < delta.size(); j++) {
                int p = delta.page(j);
                pages[p >>> 6] |= 1L << (p & 63);
            }
        }
        int n = 0;
        int count = memory.pageCount();
        for (int w = 0; w < pages.length; w++) {
            long bits = pages[w];
            while (bits != 0) {
                int p = (w << 6) + Long.numberOfTrailingZeros(bits);
                bits &= bits - 1;
                if (p >= count) continue;
                for (int i = t; i >= 0; i--) {
                    int slot = ring.get(i).pages.slotOf(p);
                    if (slot >= 0) {
                        writeBack(p, slot);
                        n++;
                        break;
                    }
                }
            }
        }
        return n;
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
