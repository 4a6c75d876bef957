package io.mucheckpoint.checkpoint;

import io.mucheckpoint.vmm.mem.GuestMemory;
import java.util.List;

/**
 * How a mode keeps enough page images to reach each retained checkpoint. The engine owns the
 * ring of checkpoints (oldest first, the newest one's epoch running) and calls these at the points
 * of the checkpoint life cycle.
 */
abstract class Strategy {
    final PageStore store;
    final GuestMemory memory;
    final byte[] buffer = new byte[PageStore.PAGE];

    Strategy(PageStore store, GuestMemory memory) {
        this.store = store;
        this.memory = memory;
    }

    /** Whether the mode needs write traps (copy-on-write). */
    abstract boolean usesTraps();

    /** The first checkpoint of a run exists; its epoch is about to start. */
    abstract void start(Checkpoint first);

    /** {@code next} was just taken, after the epoch of the previous newest; {@code written} = pages that epoch wrote. */
    abstract void boundary(List<Checkpoint> ring, Checkpoint next, long[] written);

    /** The first write to {@code page} in the current epoch is about to land. */
    void trap(Checkpoint newest, int page) {}

    /** The checkpoints whose stored images a rollback to {@code target} reads (their logs, deltas or images). */
    abstract List<Checkpoint> logsNeeded(List<Checkpoint> ring, Checkpoint target);

    /** Ids of checkpoints whose stored images a rollback to {@code target} would read and that are corrupt. */
    java.util.SortedSet<Integer> corruptFor(List<Checkpoint> ring, Checkpoint target) {
        java.util.SortedSet<Integer> bad = new java.util.TreeSet<>();
        for (Checkpoint c : logsNeeded(ring, target)) if (!logIntact(c)) bad.add(c.id);
        return bad;
    }

    /**
     * Whether checkpoint {@code c}'s stored images are all there and intact: the list of entries
     * matches its digest (nothing lost from it) and every image matches its CRC.
     */
    boolean logIntact(Checkpoint c) {
        if (!c.pages.intact()) return false;
        for (int j = 0; j < c.pages.size(); j++) if (!store.verify(c.pages.slot(j))) return false;
        return true;
    }

    /** The checkpoints a corrupt image of checkpoint {@code corruptId} makes unreachable. */
    abstract boolean unreachable(Checkpoint k, int corruptId);

    /**
     * Puts RAM back to what it was at {@code target}. {@code dirtySinceNewest} has the pages written
     * since the newest checkpoint. Returns the number of pages written back.
     */
    abstract int restore(List<Checkpoint> ring, Checkpoint target, long[] dirtySinceNewest);

    /** The oldest checkpoint, ring.get(0), is being dropped; free what only it needed. */
    abstract void dropOldest(List<Checkpoint> ring);

    /**
     * After {@link #restore}: RAM is at {@code target} again. Free the images of the checkpoints after
     * it (they no longer happened) and whatever {@code target} no longer needs; the engine then
     * removes those checkpoints from the ring and starts a new epoch at {@code target}.
     */
    abstract void afterRollback(List<Checkpoint> ring, Checkpoint target);

    /** Bytes of page images held for {@code c} (for the checkpoint table). */
    long bytesFor(Checkpoint c) {
        return (long) c.pages.size() * PageStore.PAGE;
    }

    /** Saves a page's current contents into {@code into}: one copy, straight from RAM into a pooled slot. */
    void save(int page, SavedPages into) {
        into.add(page, store.store(memory.backing(), page << io.mucheckpoint.vmm.mem.GuestMemory.PAGE_SHIFT));
    }

    void writeBack(int page, int slot) {
        store.load(slot, buffer, 0);
        memory.writePage(page, buffer, 0);
    }

    /** Calls {@code action} for every page whose bit is set, below {@code pageCount}, in ascending order. */
    static void forEachPage(long[] bits, int pageCount, java.util.function.IntConsumer action) {
        for (int w = 0; w < bits.length; w++) {
            long b = bits[w];
            while (b != 0) {
                int p = (w << 6) + Long.numberOfTrailingZeros(b);
                b &= b - 1;
                if (p < pageCount) action.accept(p);
            }
        }
    }

    static boolean bit(long[] bits, int i) {
        return (bits[i >>> 6] & (1L << (i & 63))) != 0;
    }
}
