package io.mucheckpoint.checkpoint;

import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.zip.CRC32C;

/**
 * Pre-copy on a second thread, while the guest runs. At a boundary the machine's thread reserves a
 * slot for every predicted page, enters it in the new epoch's log and hands the batch to the
 * helper; the pages stay write-protected. Each page of the batch has one state word, and whoever
 * moves it from PENDING to CLAIMED copies it: the helper in its sweep, or the machine's thread in
 * the write trap of a page the guest reached first. A trap that finds the page CLAIMED by the
 * helper waits for DONE before it lets the write land, so the image is always the page as it was at
 * the boundary. The helper computes each CRC but writes nothing of the store's own: the machine's
 * thread records the CRCs (in the trap, or when it {@link #finish finishes} the batch).
 *
 * <p>The batch is finished at the next boundary, and before a rollback or anything else that
 * reads the log: pages still PENDING were not written (a write would have trapped), so they are
 * cancelled and leave the log; the machine's thread waits only for a page the helper is copying.
 */
final class HelperPrecopy {
    private static final int NONE = 0, PENDING = 1, CLAIMED = 2, DONE = 3, CANCELLED = 4;
    /** One helper thread for every engine of the JVM: there is one second core to give. */
    private static final java.util.concurrent.ExecutorService HELPER = java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "checkpoint-precopy");
        t.setDaemon(true);
        return t;
    });

    private final PageStore store;
    private final byte[] ram;
    /** Per page: its position in the batch + 1 while it is in the current batch, else 0. */
    private final int[] positionOf;
    private int[] pages = new int[256];
    private int[] slots = new int[256];
    private byte[][] chunks = new byte[256][];
    private int[] crcs = new int[256];
    private AtomicIntegerArray state = new AtomicIntegerArray(256);
    private int count;
    private boolean open;
    private java.util.concurrent.Future<?> job;
    private final CRC32C ownCrc = new CRC32C();
    /** Written by the helper, read after the batch is finished. */
    private volatile long helperNanos;
    private volatile int helperCopied;
    private int trapCopied;
    /** Traps that found the helper copying their page and waited for it (the race, for tests). */
    long waits;

    HelperPrecopy(PageStore store, byte[] ram, int pageCount) {
        this.store = store;
        this.ram = ram;
        this.positionOf = new int[pageCount];
    }

    /** Enters {@code page} in the new batch with a reserved slot (machine thread, at a boundary); returns the slot. */
    int add(int page) {
        if (count == pages.length) grow();
        int slot = store.reserve();
        pages[count] = page;
        slots[count] = slot;
        chunks[count] = store.chunkOf(slot);
        state.set(count, PENDING);
        positionOf[page] = ++count;
        return slot;
    }

    /** Hands the batch to the helper (machine thread, after the last {@link #add}). */
    void start() {
        if (count == 0) return;
        open = true;
        final int n = count;
        job = HELPER.submit(() -> sweep(n));
    }

    private void sweep(int n) {
        long t0 = System.nanoTime();
        CRC32C crc = new CRC32C();
        int copied = 0;
        for (int i = 0; i < n; i++) {
            if (!state.compareAndSet(i, PENDING, CLAIMED)) continue;
            copy(i, crc);
            state.set(i, DONE); // publishes the image and crcs[i]
            copied++;
        }
        helperCopied = copied;
        helperNanos = System.nanoTime() - t0;
    }

    private void copy(int i, CRC32C crc) {
        int at = PageStore.offsetOf(slots[i]);
        System.arraycopy(ram, pages[i] << io.mucheckpoint.vmm.mem.GuestMemory.PAGE_SHIFT, chunks[i], at, PageStore.PAGE);
        crc.reset();
        crc.update(chunks[i], at, PageStore.PAGE);
        crcs[i] = (int) crc.getValue();
    }

    /**
     * The write trap of {@code page} (machine thread): returns true if the page belongs to the
     * batch, its image now taken (by the helper, or here); false if it is not in the batch.
     */
    boolean trap(int page) {
        int pos = open ? positionOf[page] - 1 : -1;
        if (pos < 0) return false;
        if (state.compareAndSet(pos, PENDING, CLAIMED)) {
            copy(pos, ownCrc);
            state.set(pos, DONE);
            trapCopied++;
        } else if (state.get(pos) == CLAIMED) {
            waits++;
            while (state.get(pos) == CLAIMED) Thread.onSpinWait();
        }
        store.setCrc(slots[pos], crcs[pos]);
        return true;
    }

    /**
     * Ends the batch (machine thread): cancels what the helper has not reached, waits for the page
     * it may be copying, records the CRCs, and removes the cancelled pages from {@code log} (their
     * slots go back to the store). Returns the pages whose images were taken.
     */
    int finish(SavedPages log) {
        if (!open) return 0;
        open = false;
        int cancelled = 0;
        for (int i = 0; i < count; i++) {
            if (state.compareAndSet(i, PENDING, CANCELLED)) {
                cancelled++;
                continue;
            }
            while (state.get(i) == CLAIMED) Thread.onSpinWait();
            store.setCrc(slots[i], crcs[i]);
        }
        if (job != null) {
            try {
                job.get(); // the sweep reads the batch's arrays: let it end before they are reused
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (java.util.concurrent.ExecutionException e) {
                throw new IllegalStateException("the pre-copy helper failed", e.getCause());
            }
            job = null;
        }
        if (cancelled > 0) {
            log.retain(p -> {
                int pos = positionOf[p];
                return pos == 0 || state.get(pos - 1) != CANCELLED;
            }, store::release);
        }
        int taken = count - cancelled;
        for (int i = 0; i < count; i++) {
            positionOf[pages[i]] = 0;
            state.set(i, NONE);
        }
        count = 0;
        return taken;
    }

    /** For tests: whether the helper has begun the open batch (its first page is no longer PENDING). */
    boolean begun() {
        return open && count > 0 && state.get(0) != PENDING;
    }

    /** Whether a batch is out (its log entries may not hold their images yet). */
    boolean open() {
        return open;
    }

    /** Pages the helper copied in the last finished batch, and the helper's time for them. */
    int helperCopied() {
        return helperCopied;
    }

    long helperNanos() {
        return helperNanos;
    }

    int takeTrapCopied() {
        int n = trapCopied;
        trapCopied = 0;
        return n;
    }

    private void grow() {
        int n = pages.length * 2;
        pages = java.util.Arrays.copyOf(pages, n);
        slots = java.util.Arrays.copyOf(slots, n);
        chunks = java.util.Arrays.copyOf(chunks, n);
        crcs = java.util.Arrays.copyOf(crcs, n);
        AtomicIntegerArray s = new AtomicIntegerArray(n);
        for (int i = 0; i < count; i++) s.set(i, state.get(i));
        state = s;
    }
}
