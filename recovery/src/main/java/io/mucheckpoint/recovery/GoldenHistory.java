package io.mucheckpoint.recovery;

import io.mucheckpoint.checkpoint.CheckpointEngine;
import io.mucheckpoint.checkpoint.CheckpointInfo;
import io.mucheckpoint.vmm.Machine;
import io.mucheckpoint.vmm.mem.GuestMemory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The golden run's checkpoints, kept so that an injection can start where the golden run stood
 * (fast-forward) and stop once its state is the golden run's again (convergence).
 *
 * <p>For every boundary it keeps what the checkpoint engine held there: the machine's small state,
 * which checkpoints were retained, the pages pre-copied for the next epoch and what the predictor
 * had learnt, and for the console and the watchdog how much output there was and when the last
 * progress marker came. RAM is kept as the image at the first checkpoint plus, per page, its
 * contents at every boundary after an epoch that wrote it; the undo log of a checkpoint is then
 * the pages its epoch wrote with their contents at the checkpoint. From these an engine can be
 * seeded with exactly the history the golden engine had ({@link CheckpointEngine#startFrom}), so a
 * fast-forwarded injection goes on as one that ran the prefix would, rollbacks and escalations
 * to old checkpoints included.
 */
final class GoldenHistory {
    /**
     * One boundary of the golden run.
     *
     * @param oldestRetained the oldest checkpoint the engine kept after this boundary
     * @param precopied the pages pre-copied into this checkpoint's log at the boundary
     * @param output bytes of console output before it
     * @param lastProgressTicks guest time of the last progress marker (output byte or heartbeat) before it
     * @param input host bytes delivered to the guest before it
     */
    record Point(int id, long icount, long ticks, long guestNanos, byte[] state, int oldestRetained, int[] precopied,
                 byte[] predictorState, int output, long lastProgressTicks, long lastProgressIcount, int input) {}

    /** Every host byte the golden run delivered, stamped as the input log stamps them. */
    private final List<InputLog.Entry> input = new ArrayList<>();

    /** The golden run delivered a host byte (its machine's input listener). */
    void delivered(long icount, long ticks, int b) {
        input.add(new InputLog.Entry(icount, ticks, b));
    }

    /** The host bytes the golden run delivered before point {@code j}, in order. */
    List<InputLog.Entry> inputBefore(int j) {
        return input.subList(0, points.get(j).input());
    }

    private final List<Point> points = new ArrayList<>();
    /** Per point j: the pages the epoch after it wrote (known at point j + 1). */
    private final List<int[]> written = new ArrayList<>();
    private final int pageCount;
    private byte[] base;
    /** Per page: the points at which it has a recorded image (ascending) and the images. */
    private final int[][] versionPoints;
    private final byte[][][] versionImages;
    private final int[] versionCount;
    /** Per page: the CRC32C of each recorded image, as the checkpoint engine verifies it. */
    private final int[][] versionCrcs;
    /** Pages of the first image that a seed needed, cut out once, and their CRCs. */
    private final byte[][] basePages;
    private final int[] basePageCrcs;
    private long bytes;

    GoldenHistory(int pageCount) {
        this.pageCount = pageCount;
        versionPoints = new int[pageCount][];
        versionImages = new byte[pageCount][][];
        versionCount = new int[pageCount];
        versionCrcs = new int[pageCount][];
        basePages = new byte[pageCount][];
        basePageCrcs = new int[pageCount];
    }

    /**
     * Records the boundary the engine has just taken (from its boundary listener, while the
     * machine stands there).
     */
    void record(Machine m, CheckpointEngine engine, CheckpointInfo c, int output, long lastProgressTicks, long lastProgressIcount) {
        int j = points.size();
        if (j == 0) {
            base = Arrays.copyOf(m.memory.backing(), (int) m.memory.ramSize());
            bytes += base.length;
        } else {
            long[] bits = new long[(pageCount + 63) >>> 6];
            engine.lastEpochWritten(bits);
            int[] pages = pagesOf(bits);
            written.add(pages);
            for (int p : pages) {
                byte[] img = new byte[GuestMemory.PAGE_SIZE];
                m.memory.copyPage(p, img, 0);
                addVersion(p, j, img);
            }
        }
        int oldest = engine.checkpoints().get(0).id();
        points.add(new Point(c.id(), c.icount(), m.clock.now(), c.guestNanos(), m.saveState().encode(), oldest,
                engine.loggedPages(c.id()), engine.predictorState(), output, lastProgressTicks, lastProgressIcount, input.size()));
        if (c.id() != j) throw new IllegalStateException("golden checkpoint " + c.id() + " at position " + j);
    }

    private void addVersion(int p, int point, byte[] img) {
        int n = versionCount[p];
        if (versionPoints[p] == null) {
            versionPoints[p] = new int[2];
            versionImages[p] = new byte[2][];
            versionCrcs[p] = new int[2];
        } else if (n == versionPoints[p].length) {
            versionPoints[p] = Arrays.copyOf(versionPoints[p], n * 2);
            versionImages[p] = Arrays.copyOf(versionImages[p], n * 2);
            versionCrcs[p] = Arrays.copyOf(versionCrcs[p], n * 2);
        }
        versionPoints[p][n] = point;
        versionImages[p][n] = img;
        versionCrcs[p][n] = CheckpointEngine.imageCrc(img);
        versionCount[p] = n + 1;
        bytes += img.length;
    }

    private static int[] pagesOf(long[] bits) {
        int n = 0;
        for (long w : bits) n += Long.bitCount(w);
        int[] out = new int[n];
        int i = 0;
        for (int w = 0; w < bits.length; w++) {
            for (long b = bits[w]; b != 0; b &= b - 1) out[i++] = (w << 6) + Long.numberOfTrailingZeros(b);
        }
        return out;
    }

    int size() {
        return points.size();
    }

    Point point(int j) {
        return points.get(j);
    }

    /** Bytes of RAM images held (the first image and every later page image). */
    long bytes() {
        return bytes;
    }

    /** The newest boundary at or before instruction {@code icount} (-1 if none). */
    int pointAtOrBefore(long icount) {
        int lo = 0, hi = points.size() - 1, best = -1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (points.get(mid).icount() <= icount) {
                best = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        return best;
    }

    /** The first boundary after instruction {@code icount} (-1 if none). */
    int pointAfter(long icount) {
        int j = pointAtOrBefore(icount) + 1;
        return j < points.size() ? j : -1;
    }

    /** Which recorded image of page {@code p} it had at point {@code j}: the newest at or before it, or -1 for the first image's. */
    private int versionAt(int p, int j) {
        int[] at = versionPoints[p];
        for (int i = versionCount[p] - 1; i >= 0; i--) if (at[i] <= j) return i;
        return -1;
    }

    /** Page {@code p}'s image at point {@code j}, or null where it is the first image's. */
    private byte[] imageAt(int p, int j) {
        int v = versionCount[p] == 0 ? -1 : versionAt(p, j);
        return v < 0 ? null : versionImages[p][v];
    }

    /** Puts RAM and the machine's state as they were at point {@code j} into {@code m} (built from the same configuration). */
    void restore(int j, Machine m) {
        for (int p = 0; p < pageCount; p++) { // each page once: its image at j, or the first image's
            int off = p << GuestMemory.PAGE_SHIFT;
            byte[] img = imageAt(p, j);
            if (img != null) m.memory.writeBytes(off, img, 0, GuestMemory.PAGE_SIZE);
            else m.memory.writeBytes(off, base, off, GuestMemory.PAGE_SIZE);
        }
        m.restoreState(io.mucheckpoint.vmm.MachineState.decode(points.get(j).state()));
        m.memory.notifyReplaced();
    }

    /**
     * The checkpoints the golden engine retained at point {@code j}, as seeds for another engine
     * (sharing this history's images, which nothing writes).
     */
    List<CheckpointEngine.Seed> seeds(int j) {
        Point at = points.get(j);
        List<CheckpointEngine.Seed> out = new ArrayList<>();
        for (int i = at.oldestRetained(); i <= j; i++) {
            Point p = points.get(i);
            int[] pages = i < j ? written.get(i) : p.precopied();
            byte[][] images = new byte[pages.length][];
            int[] crcs = new int[pages.length];
            for (int k = 0; k < pages.length; k++) {
                int page = pages[k];
                int v = versionCount[page] == 0 ? -1 : versionAt(page, i);
                if (v >= 0) {
                    images[k] = versionImages[page][v];
                    crcs[k] = versionCrcs[page][v];
                } else {
                    images[k] = basePage(page);
                    crcs[k] = basePageCrcs[page];
                }
            }
            out.add(new CheckpointEngine.Seed(p.id(), p.icount(), p.ticks(), p.guestNanos(), p.state(), pages, images, crcs));
        }
        return out;
    }

    private synchronized byte[] basePage(int p) {
        if (basePages[p] == null) {
            int off = p << GuestMemory.PAGE_SHIFT;
            byte[] img = Arrays.copyOfRange(base, off, off + GuestMemory.PAGE_SIZE);
            basePageCrcs[p] = CheckpointEngine.imageCrc(img);
            basePages[p] = img;
        }
        return basePages[p];
    }

    /** Whether {@code m}'s RAM is the golden run's at point {@code j}, page for page. */
    boolean ramEquals(int j, Machine m) {
        byte[] ram = m.memory.backing();
        for (int p = 0; p < pageCount; p++) {
            int off = p << GuestMemory.PAGE_SHIFT;
            byte[] img = imageAt(p, j);
            boolean same = img == null
                    ? Arrays.equals(ram, off, off + GuestMemory.PAGE_SIZE, base, off, off + GuestMemory.PAGE_SIZE)
                    : Arrays.equals(ram, off, off + GuestMemory.PAGE_SIZE, img, 0, GuestMemory.PAGE_SIZE);
            if (!same) return false;
        }
        return true;
    }
}
