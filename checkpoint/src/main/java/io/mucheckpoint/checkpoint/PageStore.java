package io.mucheckpoint.checkpoint;

import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * Storage for saved page images: fixed 4 KiB slots carved out of 1 MiB chunks, each slot with the
 * CRC32C of its contents. Slots are recycled through a free list, so a long run with steady
 * checkpointing allocates nothing once warm, and the garbage collector never sees a page.
 *
 * <p>Capacity is counted against the engine's memory budget by the caller; the store only refuses
 * to exceed its hard cap.
 */
final class PageStore {
    static final int PAGE = 4096;
    private static final int SLOTS_PER_CHUNK = 256;
    private static final int CHUNK = PAGE * SLOTS_PER_CHUNK;

    private final List<byte[]> chunks = new ArrayList<>();
    private int[] crc = new int[SLOTS_PER_CHUNK];
    private int[] free = new int[64];
    private int freeCount;
    private int allocated;
    private int inUse;
    private final CRC32C crc32c = new CRC32C();

    /** Slots holding a page image now. */
    int inUse() {
        return inUse;
    }

    long bytesInUse() {
        return (long) inUse * PAGE;
    }

    /** Bytes held from the heap, free slots included. */
    long bytesReserved() {
        return (long) chunks.size() * CHUNK;
    }

    /** Copies a page image into a new slot and records its CRC; returns the slot. */
    int store(byte[] src, int offset) {
        int slot = reserve();
        byte[] chunk = chunkOf(slot);
        int at = offsetOf(slot);
        System.arraycopy(src, offset, chunk, at, PAGE);
        crc[slot] = checksum(chunk, at);
        return slot;
    }

    /**
     * A slot whose image another thread will write ({@link #chunkOf}, {@link #offsetOf}); its CRC
     * is recorded with {@link #setCrc} once the image is there. Only the owning thread calls the
     * store's methods: a helper writes into the chunk it was handed, nothing else.
     */
    int reserve() {
        int slot = allocate();
        if (chunks.get(slot / SLOTS_PER_CHUNK) == null) chunks.set(slot / SLOTS_PER_CHUNK, new byte[CHUNK]); // lost (truncated) earlier
        return slot;
    }

    byte[] chunkOf(int slot) {
        return chunks.get(slot / SLOTS_PER_CHUNK);
    }

    static int offsetOf(int slot) {
        return (slot % SLOTS_PER_CHUNK) * PAGE;
    }

    void setCrc(int slot, int value) {
        crc[slot] = value;
    }

    /** Copies a slot's page image out. */
    void load(int slot, byte[] dst, int offset) {
        System.arraycopy(chunks.get(slot / SLOTS_PER_CHUNK), (slot % SLOTS_PER_CHUNK) * PAGE, dst, offset, PAGE);
    }

    /** Whether the slot still holds what was stored in it (a slot whose storage was lost does not). */
    boolean verify(int slot) {
        if (slot < 0 || slot >= allocated) return false;
        byte[] chunk = chunks.get(slot / SLOTS_PER_CHUNK);
        return chunk != null && checksum(chunk, (slot % SLOTS_PER_CHUNK) * PAGE) == crc[slot];
    }

    void release(int slot) {
        if (freeCount == free.length) free = java.util.Arrays.copyOf(free, free.length * 2);
        free[freeCount++] = slot;
        inUse--;
    }

    /** For tests of the integrity checks: flips one bit of a stored image behind the store's back. */
    void corrupt(int slot, int bit) {
        byte[] chunk = chunks.get(slot / SLOTS_PER_CHUNK);
        if (chunk == null) return; // already lost
        int at = (slot % SLOTS_PER_CHUNK) * PAGE + (bit >>> 3) % PAGE;
        chunk[at] ^= (byte) (1 << (bit & 7));
    }

    /**
     * For tests of the integrity checks: loses the storage of every slot from {@code firstLost} on,
     * as a store truncated at that point would (whole chunks are dropped, a partly lost chunk is
     * zeroed from there). The slots stay allocated; their images are gone.
     */
    void truncate(int firstLost) {
        for (int c = 0; c < chunks.size(); c++) {
            int first = c * SLOTS_PER_CHUNK;
            if (first >= firstLost) {
                chunks.set(c, null);
            } else if (first + SLOTS_PER_CHUNK > firstLost && chunks.get(c) != null) {
                java.util.Arrays.fill(chunks.get(c), (firstLost - first) * PAGE, CHUNK, (byte) 0);
            }
        }
    }

    /** Slots ever handed out (the store's length). */
    int allocated() {
        return allocated;
    }

    private int allocate() {
        inUse++;
        if (freeCount > 0) return free[--freeCount];
        if (allocated == chunks.size() * SLOTS_PER_CHUNK) {
            chunks.add(new byte[CHUNK]);
            if (crc.length < chunks.size() * SLOTS_PER_CHUNK) crc = java.util.Arrays.copyOf(crc, crc.length * 2);
        }
        return allocated++;
    }

    private int checksum(byte[] chunk, int at) {
        crc32c.reset();
        crc32c.update(chunk, at, PAGE);
        return (int) crc32c.getValue();
    }
}
