package io.mucheckpoint.checkpoint;

import io.mucheckpoint.vmm.mem.GuestMemory;
import java.util.Arrays;
import java.util.List;

/** Every checkpoint holds a complete copy of RAM: the simplest baseline, and the most expensive. */
final class FullStrategy extends Strategy {
    private final byte[] live = new byte[PageStore.PAGE];

    FullStrategy(PageStore store, GuestMemory memory) {
        super(store, memory);
    }

    @Override
    boolean usesTraps() {
        return false;
    }

    @Override
    void start(Checkpoint first) {
        image(first);
    }

    @Override
    void boundary(List<Checkpoint> ring, Checkpoint next, long[] written) {
        image(next);
    }

    private void image(Checkpoint c) {
        for (int p = 0; p < memory.pageCount(); p++) save(p, c.pages);
    }

    @Override
    List<Checkpoint> logsNeeded(List<Checkpoint> ring, Checkpoint target) {
        return List.of(target);
    }

    @Override
    boolean unreachable(Checkpoint k, int corruptId) {
        return k.id == corruptId;
    }

    @Override
    int restore(List<Checkpoint> ring, Checkpoint target, long[] dirtySinceNewest) {
        int n = 0;
        for (int j = 0; j < target.pages.size(); j++) {
            int p = target.pages.page(j);
            store.load(target.pages.slot(j), buffer, 0);
            memory.copyPage(p, live, 0);
            // Writing back only what differs keeps decoded code on unchanged pages.
            if (!Arrays.equals(buffer, live)) {
                memory.writePage(p, buffer, 0);
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
        for (int i = ring.indexOf(target) + 1; i < ring.size(); i++) ring.get(i).pages.releaseAll(store);
    }
}
