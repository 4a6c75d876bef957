package io.mucheckpoint.vmm.dev;

import io.mucheckpoint.vmm.mem.GuestMemory;
import java.util.ArrayList;
import java.util.List;

/**
 * A split virtqueue in the legacy (virtio 0.9.5) layout, as the device side reads and writes it in
 * guest RAM: the descriptor table at the queue's page frame, the available ring right after it,
 * the used ring at the next 4 KiB boundary. Holds no state of its own beyond the queue's address
 * and size; every access goes to guest RAM (writes through the memory door).
 */
final class LegacyVirtqueue {
    static final int ALIGN = 4096;
    static final int DESC_NEXT = 1, DESC_WRITE = 2, DESC_INDIRECT = 4;
    static final int AVAIL_NO_INTERRUPT = 1;

    /** One buffer of a chain: guest-physical address, length, and whether the device writes it. */
    record Segment(long addr, int len, boolean deviceWrites) {}

    /** A malformed chain or a buffer outside RAM: the request cannot be carried out. */
    static final class BadChain extends Exception {
        BadChain(String why) {
            super(why, null, false, false);
        }
    }

    private final GuestMemory memory;
    private final int size;
    private final long desc;
    private final long avail;
    private final long used;

    LegacyVirtqueue(GuestMemory memory, int pfn, int size) {
        this.memory = memory;
        this.size = size;
        this.desc = (pfn & 0xFFFFFFFFL) << 12;
        this.avail = desc + 16L * size;
        this.used = (avail + 4 + 2L * size + 2 + ALIGN - 1) & -ALIGN;
    }

    /** Whether every ring lies in RAM (otherwise the queue cannot be used). */
    boolean inRam() {
        return used + 4 + 8L * size + 2 <= memory.ramSize();
    }

    int availIdx() {
        return memory.read((int) avail + 2, 2);
    }

    int availFlags() {
        return memory.read((int) avail, 2);
    }

    /** The head descriptor of available entry {@code i} (an index that wraps at 65536). */
    int availHead(int i) {
        return memory.read((int) (avail + 4 + 2L * (i % size)), 2);
    }

    /** The chain starting at descriptor {@code head}, readable buffers first as the spec requires. */
    List<Segment> chain(int head) throws BadChain {
        List<Segment> out = new ArrayList<>();
        int i = head;
        boolean sawWritable = false;
        for (int n = 0; ; n++) {
            if (i >= size) throw new BadChain("descriptor index " + i + " is beyond the queue size " + size);
            if (n == size) throw new BadChain("the descriptor chain loops");
            long d = desc + 16L * i;
            long addr = (memory.read((int) d, 4) & 0xFFFFFFFFL) | ((long) memory.read((int) d + 4, 4) << 32);
            int len = memory.read((int) d + 8, 4);
            int flags = memory.read((int) d + 12, 2);
            int next = memory.read((int) d + 14, 2);
            if ((flags & DESC_INDIRECT) != 0) throw new BadChain("indirect descriptors were not offered");
            if (len < 0 || addr < 0 || addr + (len & 0xFFFFFFFFL) > memory.ramSize()) {
                throw new BadChain(String.format("buffer 0x%x+%d is outside RAM", addr, len & 0xFFFFFFFFL));
            }
            boolean w = (flags & DESC_WRITE) != 0;
            if (!w && sawWritable) throw new BadChain("a readable buffer follows a writable one");
            sawWritable |= w;
            out.add(new Segment(addr, len, w));
            if ((flags & DESC_NEXT) == 0) return out;
            i = next;
        }
    }

    /** Puts {@code head} in the used ring with {@code written} bytes, then advances the used index. */
    void pushUsed(int head, int written) {
        int idx = memory.read((int) used + 2, 2);
        long e = used + 4 + 8L * (idx % size);
        memory.write((int) e, 4, head);
        memory.write((int) e + 4, 4, written);
        memory.write((int) used + 2, 2, (idx + 1) & 0xFFFF);
    }
}
