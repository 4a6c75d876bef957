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
 * cancelled and leave the log; the machine's thread waits only for a page the helper is copying, never
 * for the helper to be scheduled (each batch is its own, so a late sweep finds nothing left to do).
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
    /** Per page: its position in the open batch + 1, else 0 (the machine thread's alone). */
    private final int[] positionOf;
    private Batch batch;
    /** A batch whose sweep has ended, for reuse (a sweep still running keeps its own batch). */
    private Batch spare;
    private final CRC32C ownCrc = new CRC32C();
    private int trapCopied;
    /** Traps that found the helper copying their page and waited for it (the race, for tests). */
    volatile long waits;
    /**
     * Tests only: called by the helper with the batch index it has just claimed, before it copies,
     * so that a test can hold it there until a write has met it (a race that scheduling alone may
     * never produce on a busy machine).
     */
    static volatile java.util.function.IntConsumer claimHook;

    /** One boundary's pages: the helper's sweep touches only its own batch, so none waits for a late sweep. */
    private static final class Batch {
        int[] pages = new int[256];
        int[] slots = new int[256];
        byte[][] chunks = new byte[256][];
        int[] crcs = new int[256];
        AtomicIntegerArray state = new AtomicIntegerArray(256);
        int count;
        volatile boolean swept = true;

        void grow() {
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

    HelperPrecopy(PageStore store, byte[] ram, int pageCount) {
        this.store = store;
        this.ram = ram;
        this.positionOf = new int[pageCount];
    }

    /** Enters {@code page} in the new batch with a reserved slot (machine thread, at a boundary); returns the slot. */
    int add(int page) {
        if (batch == null) {
            batch = spare != null && spare.swept ? spare : new Batch();
            spare = null;
            batch.count = 0;
        }
        Batch b = batch;
        if (b.count == b.pages.length) b.grow();
        int slot = store.reserve();
        int i = b.count;
        b.pages[i] = page;
        b.slots[i] = slot;
        b.chunks[i] = store.chunkOf(slot);
        b.state.set(i, PENDING);
        positionOf[page] = ++b.count;
        return slot;
    }

    /** Hands the batch to the helper (machine thread, after the last {@link #add}). */
    void start() {
        Batch b = batch;
        if (b == null) return;
        b.swept = false;
        HELPER.execute(() -> sweep(b));
    }

    private void sweep(Batch b) {
        CRC32C crc = new CRC32C();
        for (int i = 0; i < b.count; i++) {
            if (!b.state.compareAndSet(i, PENDING, CLAIMED)) continue;
            java.util.function.IntConsumer hook = claimHook;
            if (hook != null) hook.accept(i);
            copy(b, i, crc);
            b.state.set(i, DONE); // publishes the image and crcs[i]
        }
        b.swept = true;
    }

    private void copy(Batch b, int i, CRC32C crc) {
        int at = PageStore.offsetOf(b.slots[i]);
        System.arraycopy(ram, b.pages[i] << io.mucheckpoint.vmm.mem.GuestMemory.PAGE_SHIFT, b.chunks[i], at, PageStore.PAGE);
        b.crcs[i] = PageStore.crc(crc, b.chunks[i], at);
    }

    /**
     * The write trap of {@code page} (machine thread): returns true if the page belongs to the
     * batch, its image now taken (by the helper, or here); false if it is not in the batch.
     */
    boolean trap(int page) {
        Batch b = batch;
        int pos = b != null ? positionOf[page] - 1 : -1;
        if (pos < 0) return false;
        if (b.state.compareAndSet(pos, PENDING, CLAIMED)) {
            copy(b, pos, ownCrc);
            b.state.set(pos, DONE);
            trapCopied++;
        } else if (b.state.get(pos) == CLAIMED) {
            waits++;
            while (b.state.get(pos) == CLAIMED) Thread.onSpinWait();
        }
        store.setCrc(b.slots[pos], b.crcs[pos]);
        return true;
    }

    /**
     * Ends the batch (machine thread): cancels what the helper has not reached, waits only for a
     * page it is copying now, records the CRCs, and removes the cancelled pages from {@code log}
     * (their slots go back to the store). Returns the pages whose images were taken.
     */
    int finish(SavedPages log) {
        Batch b = batch;
        if (b == null) return 0;
        int cancelled = 0;
        for (int i = 0; i < b.count; i++) {
            if (b.state.compareAndSet(i, PENDING, CANCELLED)) {
                cancelled++;
                continue;
            }
            while (b.state.get(i) == CLAIMED) Thread.onSpinWait();
            store.setCrc(b.slots[i], b.crcs[i]);
        }
        if (cancelled > 0) {
            log.retain(p -> {
                int pos = positionOf[p];
                return pos == 0 || b.state.get(pos - 1) != CANCELLED;
            }, store::release);
        }
        for (int i = 0; i < b.count; i++) positionOf[b.pages[i]] = 0;
        batch = null;
        spare = b; // reused only once its sweep has ended
        return b.count - cancelled;
    }

    /** For tests: whether the helper has begun the open batch (its first page is no longer PENDING). */
    boolean begun() {
        return batch != null && batch.count > 0 && batch.state.get(0) != PENDING;
    }

    /** Whether a batch is out (its log entries may not hold their images yet). */
    boolean open() {
        return batch != null;
    }
}
