package io.mucheckpoint.checkpoint;

import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * Storage for saved page images: fixed 4 KiB slots carved out of 1 MiB chunks, each slot with the
 * CRC32C of its contents. Slots are recycled through a free list, so a long run with steady
 * checkpointing allocates nothing once warm. The chunks live in the Java heap: a new one is
 * allocated young, and the next young collection copies it with the guest stopped (direct buffers
 * were tried and made each captured page dearer, commit 356a090).
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
    /**
     * Slots from {@link #SHARED} on hold images the store does not own: read-only arrays another
     * owner keeps (a campaign's golden history), taken over without a copy and never written.
     */
    static final int SHARED = 1 << 30;
    private byte[][] shared = new byte[64][];
    private int[] sharedCrc = new int[64];
    private int[] sharedFree = new int[64];
    private int sharedFreeCount;
    private int sharedAllocated;

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
     * Takes {@code image} (one page, whose CRC32C is {@code crc}) as a slot without copying it; the
     * caller never changes the array afterwards. The slot counts against the budget like any other.
     */
    int storeShared(byte[] image, int crc) {
        if (image.length != PAGE) throw new IllegalArgumentException("a page image has " + PAGE + " bytes");
        int i;
        if (sharedFreeCount > 0) {
            i = sharedFree[--sharedFreeCount];
        } else {
            i = sharedAllocated++;
            if (i == shared.length) {
                shared = java.util.Arrays.copyOf(shared, i * 2);
                sharedCrc = java.util.Arrays.copyOf(sharedCrc, i * 2);
            }
        }
        shared[i] = image;
        sharedCrc[i] = crc;
        inUse++;
        return SHARED + i;
    }

    /** The CRC32C of a page image, as the store records it. */
    static int crcOf(byte[] image) {
        CRC32C c = new CRC32C();
        c.update(image, 0, PAGE);
        return (int) c.getValue();
    }

    /**
     * A slot whose image another thread will write ({@link #chunkOf}, {@link #offsetOf}); its CRC
     * is recorded with {@link #setCrc} once the image is there. Only the owning thread calls the
     * store's methods: a helper writes into the chunk it was handed, nothing else.
     */
    int reserve() {
        int slot = allocate();
        if (chunkOf(slot) == null) chunks.set(slot / SLOTS_PER_CHUNK, new byte[CHUNK]); // lost (truncated) earlier
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
        if (slot >= SHARED) {
            System.arraycopy(shared[slot - SHARED], 0, dst, offset, PAGE);
            return;
        }
        System.arraycopy(chunkOf(slot), offsetOf(slot), dst, offset, PAGE);
    }

    /** Whether the slot still holds what was stored in it (a slot whose storage was lost does not). */
    boolean verify(int slot) {
        if (slot >= SHARED) {
            int i = slot - SHARED;
            return i < sharedAllocated && shared[i] != null && checksum(shared[i], 0) == sharedCrc[i];
        }
        if (slot < 0 || slot >= allocated) return false;
        byte[] chunk = chunkOf(slot);
        return chunk != null && checksum(chunk, offsetOf(slot)) == crc[slot];
    }

    void release(int slot) {
        if (slot >= SHARED) {
            shared[slot - SHARED] = null;
            if (sharedFreeCount == sharedFree.length) sharedFree = java.util.Arrays.copyOf(sharedFree, sharedFreeCount * 2);
            sharedFree[sharedFreeCount++] = slot - SHARED;
            inUse--;
            return;
        }
        if (freeCount == free.length) free = java.util.Arrays.copyOf(free, free.length * 2);
        free[freeCount++] = slot;
        inUse--;
    }

    /** For tests of the integrity checks: flips one bit of a stored image behind the store's back. */
    void corrupt(int slot, int bit) {
        if (slot >= SHARED) { // the image is not ours to damage: the slot gets its own copy first
            int i = slot - SHARED;
            shared[i] = shared[i].clone();
            shared[i][(bit >>> 3) % PAGE] ^= (byte) (1 << (bit & 7));
            return;
        }
        byte[] chunk = chunkOf(slot);
        if (chunk == null) return; // already lost
        int at = offsetOf(slot) + (bit >>> 3) % PAGE;
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
        return crc(crc32c, chunk, at);
    }

    /** The CRC32C of the page image at {@code at} of {@code chunk}, with the caller's thread's own {@code crc}. */
    static int crc(CRC32C crc, byte[] chunk, int at) {
        crc.reset();
        crc.update(chunk, at, PAGE);
        return (int) crc.getValue();
    }
}
