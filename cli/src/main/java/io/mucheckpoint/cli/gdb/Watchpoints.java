package io.mucheckpoint.cli.gdb;

import io.mucheckpoint.cpu.DataWatch;
import java.util.ArrayList;
import java.util.List;

/**
 * gdb's data watchpoints (Z2 write, Z3 read, Z4 access) on linear addresses, checked by the
 * processor's slow path ({@link DataWatch}): exact, and free for pages that hold none. The first
 * matching access since the last {@link #clearHit} is kept as the hit; it asks the run to end after
 * the instruction, as a debug-register trap would.
 */
final class Watchpoints implements DataWatch {
    /** gdb's Z types 2, 3 and 4, with the stop-reply keyword that names each. */
    enum Kind {
        WRITE("watch"), READ("rwatch"), ACCESS("awatch");

        final String reply;

        Kind(String reply) {
            this.reply = reply;
        }

        static Kind ofZ(int type) {
            return switch (type) {
                case 2 -> WRITE;
                case 3 -> READ;
                case 4 -> ACCESS;
                default -> throw new IllegalArgumentException("not a watchpoint type: " + type);
            };
        }

        boolean matches(boolean write) {
            return this == ACCESS || (this == WRITE) == write;
        }
    }

    record Watch(Kind kind, int addr, int len) {
        boolean overlaps(int lin, int size) {
            // unsigned interval overlap on the 32-bit linear space
            long a = addr & 0xFFFFFFFFL, b = lin & 0xFFFFFFFFL;
            return b < a + len && a < b + size;
        }
    }

    /** The access that triggered: the watchpoint's kind and address (what the stop reply names). */
    record Hit(Kind kind, int addr) {}

    private final List<Watch> watches = new ArrayList<>();
    private int[] pages = new int[0];
    private volatile Hit hit;
    private long hitIcount;
    private final Runnable endRun;
    private final java.util.function.LongSupplier icount;

    /**
     * @param endRun ends the current run after the instruction (the machine's yield)
     * @param icount the processor's instruction count as it stands mid-block (the block's start)
     */
    Watchpoints(Runnable endRun, java.util.function.LongSupplier icount) {
        this.endRun = endRun;
        this.icount = icount;
    }

    boolean isEmpty() {
        return watches.isEmpty();
    }

    void add(Kind kind, int addr, int len) {
        if (len < 1) throw new IllegalArgumentException("a watchpoint covers at least one byte");
        Watch w = new Watch(kind, addr, len);
        if (!watches.contains(w)) watches.add(w);
        recomputePages();
    }

    void remove(Kind kind, int addr, int len) {
        watches.remove(new Watch(kind, addr, len));
        recomputePages();
    }

    void clear() {
        watches.clear();
        recomputePages();
        hit = null;
    }

    private void recomputePages() {
        java.util.TreeSet<Integer> set = new java.util.TreeSet<>();
        for (Watch w : watches) {
            long first = (w.addr() & 0xFFFFFFFFL) >>> 12, last = ((w.addr() & 0xFFFFFFFFL) + w.len() - 1) >>> 12;
            for (long p = first; p <= Math.min(last, 0xFFFFF); p++) set.add((int) p);
        }
        pages = set.stream().mapToInt(Integer::intValue).toArray();
    }

    Hit hit() {
        return hit;
    }

    void clearHit() {
        hit = null;
    }

    /**
     * The processor's instruction count when the hit was seen: the count at the start of the block
     * being executed, so a run that ended right after the hit with the same count retired no
     * instruction on the way (the access was an interrupt's, not an instruction's).
     */
    long hitIcount() {
        return hitIcount;
    }

    @Override
    public boolean watches(int linearPage) {
        return java.util.Arrays.binarySearch(pages, linearPage) >= 0;
    }

    @Override
    public void accessed(int lin, int size, boolean write) {
        if (hit != null) return;
        for (Watch w : watches) {
            if (w.kind().matches(write) && w.overlaps(lin, size)) {
                hit = new Hit(w.kind(), w.addr());
                hitIcount = icount.getAsLong();
                endRun.run();
                return;
            }
        }
    }
}
