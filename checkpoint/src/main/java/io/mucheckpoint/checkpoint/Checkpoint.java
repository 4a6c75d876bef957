package io.mucheckpoint.checkpoint;

import java.util.zip.CRC32C;

/**
 * One retained checkpoint: the machine's small state at an epoch boundary, the page images the
 * mode keeps for it, and the statistics of the epoch that followed it.
 */
final class Checkpoint {
    final int id;
    final long icount;
    final long ticks;
    final long guestNanos;
    final long hostNanos;
    final byte[] state;
    final int stateCrc;
    /** cow: pre-images of pages written since this checkpoint; copy: post-images dirtied up to it; full: all of RAM. */
    final SavedPages pages;
    /** Per drive: pre-images of the disk blocks written since this checkpoint (always an undo log, whatever the mode). */
    final SavedPages[] blocks;
    final EpochCounters epoch = new EpochCounters();

    /** @param pages an empty set for the page images (recycled from a dropped checkpoint, so its arrays are grown already) */
    Checkpoint(int id, long icount, long ticks, long guestNanos, long hostNanos, byte[] state, int drives, SavedPages pages) {
        if (pages.size() != 0) throw new IllegalArgumentException("a new checkpoint's page set must be empty");
        this.pages = pages;
        this.blocks = new SavedPages[drives];
        for (int d = 0; d < drives; d++) blocks[d] = new SavedPages();
        this.id = id;
        this.icount = icount;
        this.ticks = ticks;
        this.guestNanos = guestNanos;
        this.hostNanos = hostNanos;
        this.state = state;
        this.stateCrc = crc(state);
    }

    boolean stateIntact() {
        return crc(state) == stateCrc;
    }

    static int crc(byte[] b) {
        CRC32C c = new CRC32C();
        c.update(b);
        return (int) c.getValue();
    }

    /** What happened in the epoch that starts at this checkpoint. */
    static final class EpochCounters {
        long pauseNanos;
        long precopyNanos;
        long trapNanos;
        int trapped;
        int blocksTrapped;
        int precopied;
        int written;
        int hits;
        int waste;
        /** Pre-copies given back to the memory budget unwritten (they count in neither hits nor waste). */
        int reclaimed;
        /** The budget was too short for this epoch's pre-copy, so none was made. */
        boolean precopySkipped;
        boolean closed;

        void reset() {
            pauseNanos = precopyNanos = trapNanos = 0;
            trapped = blocksTrapped = precopied = written = hits = waste = reclaimed = 0;
            closed = precopySkipped = false;
        }
    }
}
