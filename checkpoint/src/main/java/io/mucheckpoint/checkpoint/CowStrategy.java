package io.mucheckpoint.checkpoint;

import io.mucheckpoint.vmm.mem.GuestMemory;
import java.util.List;

/**
 * Copy-on-write undo logs (the paper's scheme): each checkpoint's log holds the pre-images of the
 * pages written during the epoch after it, captured by the write trap or copied ahead of time for
 * predicted pages. Reaching checkpoint k applies the logs of k and every newer checkpoint, each page
 * once, with its oldest pre-image.
 */
final class CowStrategy extends Strategy {
    private int[] restoredStamp;
    private int stamp;

    CowStrategy(PageStore store, GuestMemory memory) {
        super(store, memory);
        restoredStamp = new int[memory.pageCount()];
    }

    @Override
    boolean usesTraps() {
        return true;
    }

    @Override
    void start(Checkpoint first) {}

    @Override
    void boundary(List<Checkpoint> ring, Checkpoint next, long[] written) {
        // Pre-copied pages the ended epoch never wrote still equal their pre-image: drop them.
        Checkpoint ended = ring.get(ring.size() - 2);
        ended.pages.retain(p -> bit(written, p), store::release);
    }

    @Override
    void trap(Checkpoint newest, int page) {
        save(page, newest.pages);
    }

    @Override
    List<Checkpoint> logsNeeded(List<Checkpoint> ring, Checkpoint target) {
        return ring.subList(ring.indexOf(target), ring.size()); // the target's log and every newer one
    }

    @Override
    boolean unreachable(Checkpoint k, int corruptId) {
        return k.id <= corruptId; // the chain to k runs through every log from the newest back to k
    }

    @Override
    int restore(List<Checkpoint> ring, Checkpoint target, long[] dirtySinceNewest) {
        if (++stamp == Integer.MAX_VALUE) {
            java.util.Arrays.fill(restoredStamp, 0);
            stamp = 1;
        }
        int n = 0;
        for (int i = ring.indexOf(target); i < ring.size(); i++) {
            SavedPages log = ring.get(i).pages;
            for (int j = 0; j < log.size(); j++) {
                int p = log.page(j);
                if (restoredStamp[p] == stamp) continue;
                restoredStamp[p] = stamp;
                writeBack(p, log.slot(j));
                n++;
            }
        }
        return n;
    }

    @Override
    void dropOldest(List<Checkpoint> ring) {
        ring.get(0).pages.releaseAll(store);
    }

    @Override
    void afterRollback(List<Checkpoint> ring, Checkpoint target) {
        // Every logged page is back at its pre-image, so the target's log starts empty again too.
        for (int i = ring.indexOf(target); i < ring.size(); i++) ring.get(i).pages.releaseAll(store);
    }
}
