package io.mucheckpoint.cli.gdb;

import io.mucheckpoint.checkpoint.CheckpointInfo;
import io.mucheckpoint.vmm.Machine;
import io.mucheckpoint.vmm.MachineState;
import io.mucheckpoint.vmm.mem.GuestMemory;
import java.util.Arrays;

/**
 * A debugger's saved state between two checkpoints: the machine's small state and the RAM pages
 * written since the checkpoint before it (its base). Restoring it is a rollback to the base
 * followed by writing those pages back, so it costs about what the rollback costs, and the
 * checkpoint engine's own books stay right. Consecutive snapshots on one base share the page
 * images that did not change between them.
 */
final class Snapshot {
    /** Where in guest history: instruction count and guest time. */
    record Point(long icount, long nanos) implements Comparable<Point> {
        @Override
        public int compareTo(Point o) {
            int c = Long.compare(icount, o.icount);
            return c != 0 ? c : Long.compare(nanos, o.nanos);
        }

        static Point of(CheckpointInfo c) {
            return new Point(c.icount(), c.guestNanos());
        }
    }

    final Point at;
    final Point base;
    final MachineState state;
    final long outputPosition;
    final int[] pages;
    final byte[][] images;
    /** What a snapshot costs besides its page images (the small state, the tables), roughly. */
    static final long FIXED_BYTES = 4096;

    private Snapshot(Point at, Point base, MachineState state, long outputPosition, int[] pages, byte[][] images) {
        this.at = at;
        this.base = base;
        this.state = state;
        this.outputPosition = outputPosition;
        this.pages = pages;
        this.images = images;
    }

    /**
     * Saves the machine as it is now. {@code base} must be the newest checkpoint (the memory's dirty
     * bits then say which pages changed since it); {@code previous}, if it has the same base, lends
     * the images of pages that have not changed since it was taken.
     */
    static Snapshot take(Machine m, Point at, CheckpointInfo base, long outputPosition, Snapshot previous) {
        GuestMemory mem = m.memory;
        int n = mem.pageCount();
        int count = 0;
        int[] pages = new int[64];
        for (int p = 0; p < n; p++) {
            if (!mem.isDirty(p)) continue;
            if (count == pages.length) pages = Arrays.copyOf(pages, count * 2);
            pages[count++] = p;
        }
        pages = Arrays.copyOf(pages, count);
        byte[][] images = new byte[count][];
        Point b = Point.of(base);
        boolean share = previous != null && previous.base.equals(b);
        byte[] ram = mem.backing();
        for (int i = 0; i < count; i++) {
            int p = pages[i];
            int off = p << GuestMemory.PAGE_SHIFT;
            if (share) {
                int k = Arrays.binarySearch(previous.pages, p);
                if (k >= 0 && Arrays.equals(previous.images[k], 0, GuestMemory.PAGE_SIZE, ram, off, off + GuestMemory.PAGE_SIZE)) {
                    images[i] = previous.images[k];
                    continue;
                }
            }
            byte[] img = new byte[GuestMemory.PAGE_SIZE];
            mem.copyPage(p, img, 0);
            images[i] = img;
        }
        return new Snapshot(at, b, m.saveState(), outputPosition, pages, images);
    }

    /** Writes the saved pages back through the memory door and restores the small state (after a rollback to the base). */
    void applyTo(Machine m) {
        for (int i = 0; i < pages.length; i++) m.memory.writePage(pages[i], images[i], 0);
        m.restoreState(state);
    }

    /**
     * Puts the machine back here from anywhere in the same epoch (the base still the engine's
     * newest checkpoint, copy-on-write mode) without a rollback: every page written since the base,
     * now or by the time of this snapshot, gets this snapshot's image or the base's pre-image, and
     * only the pages that differ are written (through the door). Costs a page compare per page
     * written in the epoch instead of two page copies. Returns false, having changed nothing, if a
     * pre-image is missing; the caller then rolls back instead.
     */
    boolean applyInEpoch(Machine m, io.mucheckpoint.checkpoint.CheckpointEngine engine) {
        GuestMemory mem = m.memory;
        int n = mem.pageCount();
        byte[] ram = mem.backing();
        java.util.List<byte[]> images = new java.util.ArrayList<>();
        java.util.List<Integer> targets = new java.util.ArrayList<>();
        int k = 0;
        for (int p = 0; p < n; p++) {
            boolean dirty = mem.isDirty(p);
            boolean mine = k < pages.length && pages[k] == p;
            if (!dirty && !mine) continue;
            byte[] want;
            if (mine) {
                want = this.images[k++];
            } else {
                want = new byte[GuestMemory.PAGE_SIZE];
                if (!engine.newestPreImage(p, want)) return false;
            }
            int off = p << GuestMemory.PAGE_SHIFT;
            if (Arrays.equals(want, 0, GuestMemory.PAGE_SIZE, ram, off, off + GuestMemory.PAGE_SIZE)) continue;
            targets.add(p);
            images.add(want);
        }
        for (int i = 0; i < targets.size(); i++) mem.writePage(targets.get(i), images.get(i), 0);
        m.restoreState(state);
        return true;
    }
}
