package io.mucheckpoint.cli;

import io.mucheckpoint.vmm.mem.GuestMemory;
import java.util.Iterator;
import java.util.Map;
import java.util.TreeMap;

/**
 * Which RAM pages the guest wrote in each epoch, for {@code diff}. The memory's dirty bits say which
 * pages were written since the newest checkpoint; they are read (never cleared: they belong to the
 * checkpoint engine) at the end of every run slice, and the session ends a slice exactly where the
 * engine will take its next checkpoint, so each epoch's set is complete when it closes.
 */
final class WrittenPages {
    private final GuestMemory memory;
    private final int words;
    private long[] current;
    private final TreeMap<Integer, long[]> epochs = new TreeMap<>();
    private int newest = -1;

    WrittenPages(GuestMemory memory) {
        this.memory = memory;
        this.words = (memory.pageCount() + 63) >>> 6;
        this.current = new long[words];
    }

    /** Adds the pages written since the newest checkpoint (called before anything that may take or drop one). */
    void sample() {
        int n = memory.pageCount();
        long[] c = current;
        for (int p = 0; p < n; p++) {
            if (memory.isDirty(p)) c[p >>> 6] |= 1L << (p & 63);
        }
    }

    /** Checkpoint {@code id} was just taken: the epoch of the previous newest one is complete. */
    void checkpoint(int id, int oldestRetained) {
        if (newest >= 0) epochs.put(newest, current);
        current = new long[words];
        newest = id;
        epochs.headMap(oldestRetained).clear();
    }

    /** The machine went back to checkpoint {@code id}: nothing has been written since. */
    void rolledBack(int id) {
        epochs.tailMap(id, true).clear();
        current = new long[words];
        newest = id;
    }

    void reset() {
        epochs.clear();
        current = new long[words];
        newest = -1;
    }

    /** One bit per page: the pages written since checkpoint {@code id} was taken. */
    long[] since(int id) {
        sample();
        long[] out = current.clone();
        for (Iterator<Map.Entry<Integer, long[]>> it = epochs.tailMap(id, true).entrySet().iterator(); it.hasNext(); ) {
            long[] e = it.next().getValue();
            for (int i = 0; i < words; i++) out[i] |= e[i];
        }
        return out;
    }
}
