package io.mucheckpoint.checkpoint;

import io.mucheckpoint.vmm.disk.DiskOverlay;
import java.util.List;

/**
 * The disk half of every checkpoint: undo logs of the machine's drives' blocks, kept in the same
 * page store (and so under the same memory budget) as the page images.
 *
 * <p>Whatever the mode does with RAM, blocks are always copy-on-write: the first write to a block
 * in an epoch keeps its pre-image (with its CRC) in the newest checkpoint's log, or the mark
 * {@link SavedPages#ABSENT} when the block was not in the overlay yet. Reaching checkpoint k
 * applies the logs of k and every newer checkpoint, each block once, with its oldest pre-image.
 */
final class BlockUndo {
    private final PageStore store;
    private final List<DiskOverlay> disks;
    private final byte[] buffer = new byte[DiskOverlay.BLOCK];
    private final int[][] restoredStamp;
    private int stamp;

    BlockUndo(PageStore store, List<DiskOverlay> disks) {
        this.store = store;
        this.disks = List.copyOf(disks);
        this.restoredStamp = new int[disks.size()][];
        for (int d = 0; d < disks.size(); d++) restoredStamp[d] = new int[disks.get(d).blockCount()];
    }

    int drives() {
        return disks.size();
    }

    /** Turns capture on ({@code trap} hears drive and block) or off. */
    void capture(BlockTrap trap) {
        for (int d = 0; d < disks.size(); d++) {
            int drive = d;
            disks.get(d).setTrap(trap == null ? null : b -> trap.firstWrite(drive, b));
            disks.get(d).setProtection(trap != null);
        }
    }

    interface BlockTrap {
        void firstWrite(int drive, int block);
    }

    /** A new epoch begins: every block traps again. */
    void newEpoch() {
        for (DiskOverlay o : disks) o.protectAll();
    }

    /** Keeps the pre-image of {@code block} of drive {@code d} in {@code c}'s log. */
    void save(Checkpoint c, int d, int block) {
        if (disks.get(d).copyBlock(block, buffer, 0)) c.blocks[d].add(block, store.store(buffer, 0));
        else c.blocks[d].add(block, SavedPages.ABSENT);
    }

    /** Whether {@code c}'s block logs are whole and every image matches its CRC. */
    boolean intact(Checkpoint c) {
        for (SavedPages log : c.blocks) {
            if (!log.intact()) return false;
            for (int j = 0; j < log.size(); j++) {
                int slot = log.slot(j);
                if (slot != SavedPages.ABSENT && !store.verify(slot)) return false;
            }
        }
        return true;
    }

    /** Puts every drive back as it was at {@code ring.get(from)}; returns the blocks written back. */
    int restore(List<Checkpoint> ring, int from) {
        if (++stamp == Integer.MAX_VALUE) {
            for (int[] s : restoredStamp) java.util.Arrays.fill(s, 0);
            stamp = 1;
        }
        int n = 0;
        for (int i = from; i < ring.size(); i++) {
            Checkpoint c = ring.get(i);
            for (int d = 0; d < disks.size(); d++) {
                SavedPages log = c.blocks[d];
                for (int j = 0; j < log.size(); j++) {
                    int b = log.page(j);
                    if (restoredStamp[d][b] == stamp) continue;
                    restoredStamp[d][b] = stamp;
                    int slot = log.slot(j);
                    if (slot == SavedPages.ABSENT) {
                        disks.get(d).restoreBlock(b, null, 0);
                    } else {
                        store.load(slot, buffer, 0);
                        disks.get(d).restoreBlock(b, buffer, 0);
                    }
                    n++;
                }
            }
        }
        return n;
    }

    void release(Checkpoint c) {
        for (SavedPages log : c.blocks) log.releaseAll(store);
    }

    /** Bytes of block images held for {@code c}. */
    long bytesFor(Checkpoint c) {
        long n = 0;
        for (SavedPages log : c.blocks) {
            for (int j = 0; j < log.size(); j++) if (log.slot(j) != SavedPages.ABSENT) n++;
        }
        return n * PageStore.PAGE;
    }
}
