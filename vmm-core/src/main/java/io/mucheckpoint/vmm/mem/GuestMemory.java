package io.mucheckpoint.vmm.mem;

import io.mucheckpoint.cpu.MemoryClient;
import io.mucheckpoint.cpu.PhysicalMemory;
import java.util.Arrays;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Guest physical memory: RAM as 4 KiB pages with hardware-style dirty bits and per-epoch write
 * protection, plus an optional ROM mapped below 1 MiB and at the top of the 4 GiB space.
 *
 * <p>The PC memory map with a ROM: the whole image sits just below 4 GiB, and its last 128 KiB (all
 * of it if it is smaller) also at the top of the first MiB, 0xE0000 or 0xF0000 up to 0xFFFFF, as
 * QEMU's {@code isa-bios} alias does. In that window the ROM hides the RAM behind it: every read
 * (instruction fetch, data read, the TLB's direct access through {@link #readBase}, a device's DMA
 * read through {@link #readBytes}) sees the ROM, and every write is dropped, as on a chipset whose
 * shadow-RAM registers (the i440FX's PAM) are still at their reset value. No shadow RAM is modelled:
 * nothing can make that window writable, and the RAM behind it is never seen.
 *
 * <p>This is the one door every write goes through (design brief, invariant 3): the CPU's slow
 * path, the TLB's direct-write grants ({@link #writeBase}), devices and loaders. A write to a
 * protected page first calls the {@link WriteTrap} (the checkpoint engine's copy-on-write), then sets
 * the dirty bit, then lands; a write to a page holding decoded code is reported to the CPU.
 *
 * <p>Protection is by epoch: a page is writable without a trap only if it was captured in the
 * current epoch. {@link #protectAll()} starts a new epoch in O(1) and tells the CPU to drop its
 * direct-write grants.
 */
public final class GuestMemory implements PhysicalMemory {
    private static final Logger log = LoggerFactory.getLogger(GuestMemory.class);
    public static final int PAGE_SIZE = 4096;
    public static final int PAGE_SHIFT = 12;
    public static final long MAX_RAM = 2L << 30;
    private static final int LOW_ROM_MAX = 128 * 1024;

    private final byte[] backing;
    private final int ramSize;
    private final int ramPages;
    private final int romSize;
    /** First RAM page hidden by the low ROM alias ({@link #ramPages} when there is no ROM). */
    private final int lowRomFirstPage;
    private final long[] dirty;
    private final long[] watched;
    /** Pages whose bytes an {@link #upset} changed behind the door's back. */
    private final long[] upsets;
    private final int[] capturedEpoch;
    private int epoch = 1;
    private boolean protection;
    private WriteTrap trap;
    private AccessWatch watch;
    private int watchAddr = -1;
    private MemoryClient client;
    private AccessListener accessListener;
    /** Pages whose every access {@link #accessListener} hears (null without a listener). */
    private long[] heardPages;
    private UpsetListener upsetListener;
    private boolean warnedRomWrite;
    /** Pages whose dirty bit was set since the last drain, in order (null: not kept; see {@link #keepDirtyList}). */
    private int[] dirtyList;
    private int dirtyListSize;
    /** The list ran out of room (only after partial drains left stale entries): drains scan the bitmap. */
    private boolean dirtyListLost;

    /** Hears the first accesses to one watched byte (fault-injection activation tracking). */
    public interface AccessWatch {
        /** The byte was read (by the CPU, an instruction fetch or a device). */
        void read();

        /** The byte was overwritten. */
        void written();
    }

    /**
     * Hears every access to the pages it listens to, from any side: the CPU (data and instruction
     * fetch) and devices (a campaign's def-use probe, which follows many bytes at once).
     */
    @FunctionalInterface
    public interface AccessListener {
        /** Bytes {@code [paddr, paddr+size)} were read or, with {@code write}, written. */
        void accessed(int paddr, int size, boolean write);
    }

    /** Hears every {@link #upset} (the history of a machine put back in place needs them). */
    @FunctionalInterface
    public interface UpsetListener {
        void upset(int paddr, int mask);
    }

    public void setUpsetListener(UpsetListener l) {
        upsetListener = l;
    }

    /** Called before the first write to a protected page in the current epoch, while it still holds its old contents. */
    @FunctionalInterface
    public interface WriteTrap {
        void beforeFirstWrite(int page);
    }

    public GuestMemory(long ramBytes) {
        this(ramBytes, null);
    }

    /**
     * @param ramBytes RAM size, a multiple of 4 KiB, at most 2 GiB
     * @param rom a ROM image (size a multiple of 4 KiB, at most 1 MiB) or null
     */
    public GuestMemory(long ramBytes, byte[] rom) {
        if (ramBytes < (2L << 20) || ramBytes > MAX_RAM - (rom == null ? 0 : rom.length) || (ramBytes & (PAGE_SIZE - 1)) != 0) {
            throw new IllegalArgumentException("RAM size must be a multiple of 4 KiB between 2 MiB and 2 GiB");
        }
        if (rom != null && (rom.length == 0 || rom.length > (1 << 20) || (rom.length & (PAGE_SIZE - 1)) != 0)) {
            throw new IllegalArgumentException("ROM size must be a multiple of 4 KiB up to 1 MiB");
        }
        this.ramSize = (int) ramBytes;
        this.ramPages = ramSize >>> PAGE_SHIFT;
        this.romSize = rom == null ? 0 : rom.length;
        this.lowRomFirstPage = rom == null ? ramPages : (0x100000 - Math.min(romSize, LOW_ROM_MAX)) >>> PAGE_SHIFT;
        this.backing = new byte[ramSize + romSize];
        if (rom != null) System.arraycopy(rom, 0, backing, ramSize, romSize);
        this.dirty = new long[(ramPages + 63) >>> 6];
        this.watched = new long[(ramPages + 63) >>> 6];
        this.upsets = new long[(ramPages + 63) >>> 6];
        this.capturedEpoch = new int[ramPages];
    }

    public int ramSize() {
        return ramSize;
    }

    /** A copy of the ROM image, or null if there is none. */
    public byte[] romImage() {
        return romSize == 0 ? null : Arrays.copyOfRange(backing, ramSize, ramSize + romSize);
    }

    public int pageCount() {
        return ramPages;
    }

    // --- PhysicalMemory: what the CPU sees -----------------------------------------------------

    @Override
    public byte[] backing() {
        return backing;
    }

    @Override
    public int readBase(int page) {
        if (page == (watchAddr >>> PAGE_SHIFT) && watch != null) return -1;
        if (heardPages != null && heard(page)) return -1;
        if (page >= 0 && page < ramPages && !hiddenByRom(page)) return page << PAGE_SHIFT;
        int rom = romOffset(page << PAGE_SHIFT);
        return rom >= 0 ? ramSize + (rom & ~(PAGE_SIZE - 1)) : -1;
    }

    @Override
    public int writeBase(int page) {
        if (page < 0 || page >= ramPages || hiddenByRom(page) || bit(watched, page)) return -1;
        if (watch != null && page == (watchAddr >>> PAGE_SHIFT)) return -1;
        if (heardPages != null && bit(heardPages, page)) return -1;
        prepareWrite(page);
        return page << PAGE_SHIFT;
    }

    @Override
    public int read(int paddr, int size) {
        if (watch != null && watchAddr - paddr >= 0 && watchAddr - paddr < size) watch.read();
        if (heardPages != null) hear(paddr, size, false);
        int v = 0;
        for (int i = 0; i < size; i++) v |= readByte(paddr + i) << (8 * i);
        return v;
    }

    @Override
    public void write(int paddr, int size, int value) {
        int page = paddr >>> PAGE_SHIFT;
        int lastPage = (paddr + size - 1) >>> PAGE_SHIFT;
        if (page != lastPage) {
            for (int i = 0; i < size; i++) write(paddr + i, 1, value >>> (8 * i));
            return;
        }
        if (page < 0 || page >= ramPages || hiddenByRom(page)) {
            if (!warnedRomWrite) {
                warnedRomWrite = true;
                log.debug("guest write to ROM or unmapped address {} ignored (reported once)", Integer.toHexString(paddr));
            }
            return;
        }
        prepareWrite(page);
        for (int i = 0; i < size; i++) backing[paddr + i] = (byte) (value >>> (8 * i));
        if (watch != null && watchAddr - paddr >= 0 && watchAddr - paddr < size) watch.written();
        if (heardPages != null) hear(paddr, size, true);
        if (bit(watched, page) && client != null) client.codeModified(paddr, size);
    }

    /**
     * Flips bits of one RAM byte without going through the door: a DRAM upset is not a write. No
     * copy-on-write capture and no dirty bit, so every checkpoint that shares the page's image (all
     * those taken since the page was last written) shares the flip, and a rollback does not repair
     * it. Decoded code on the page is dropped, and the page is recorded ({@link #upsetPages}) for
     * anything that puts a machine back in place by the dirty bits alone.
     */
    public void upset(int paddr, int mask) {
        int page = paddr >>> PAGE_SHIFT;
        if (paddr < 0 || page >= ramPages || hiddenByRom(page)) {
            throw new IllegalArgumentException(String.format("0x%x is not RAM", paddr));
        }
        backing[paddr] ^= (byte) mask;
        setBit(upsets, page, true);
        if (bit(watched, page) && client != null) client.codeModified(paddr, 1);
        if (upsetListener != null) upsetListener.upset(paddr, mask);
    }

    /** Whether an {@link #upset} changed page {@code page} since {@link #clearUpsets}. */
    public boolean upsetPage(int page) {
        return bit(upsets, page);
    }

    /** The pages {@link #upset} changed, one bit per page, and forgets them. */
    public long[] upsetPages() {
        long[] out = upsets.clone();
        clearUpsets();
        return out;
    }

    public void clearUpsets() {
        Arrays.fill(upsets, 0L);
    }

    /**
     * Reports accesses to the byte at {@code paddr} until cleared (null). Accesses to its page then
     * all take the slow path, so every read and write of the byte is seen.
     */
    public void setAccessWatch(int paddr, AccessWatch w) {
        watch = w;
        watchAddr = w == null ? -1 : paddr;
        if (client != null) client.memoryReplaced(); // drop direct TLB entries for the page
    }

    /**
     * Makes {@code l} hear every access to the pages {@link #listenTo} names from now on (none yet),
     * or, with null, stops. Independent of {@link #setAccessWatch}.
     */
    public void setAccessListener(AccessListener l) {
        accessListener = l;
        heardPages = l == null ? null : new long[(ramPages + 63) >>> 6];
        if (client != null) client.accessPathsChanged();
    }

    /** Starts or stops hearing the accesses to RAM page {@code page} (needs an {@link #setAccessListener}). */
    public void listenTo(int page, boolean on) {
        if (heardPages == null) throw new IllegalStateException("no access listener");
        if (page < 0 || page >= ramPages || bit(heardPages, page) == on) return;
        setBit(heardPages, page, on);
        if (on && client != null) client.accessPathsChanged();
    }

    /**
     * Drops decoded code over {@code [paddr, paddr+len)} as a write there would, changing nothing
     * else: what a fault's injection does to the processor's view, without the fault.
     */
    public void dropDecodedCode(int paddr, int len) {
        int page = paddr >>> PAGE_SHIFT;
        if (page >= 0 && page < ramPages && bit(watched, page) && client != null) client.codeModified(paddr, len);
    }

    private boolean heard(int page) {
        return page >= 0 && page < ramPages && bit(heardPages, page);
    }

    private void hear(int paddr, int size, boolean write) {
        if (heard(paddr >>> PAGE_SHIFT) || heard((paddr + size - 1) >>> PAGE_SHIFT)) accessListener.accessed(paddr, size, write);
    }

    @Override
    public void watchCode(int page, boolean watch) {
        // ROM bytes never change, so code there needs no watching.
        if (page < 0 || page >= ramPages || hiddenByRom(page)) return;
        if (watch && !bit(watched, page)) {
            setBit(watched, page, true);
            if (client != null) client.revokeWrites();
        } else if (!watch) {
            setBit(watched, page, false);
        }
    }

    @Override
    public void attach(MemoryClient client) {
        this.client = client;
    }

    private int readByte(int paddr) {
        if (paddr >= 0 && paddr < ramSize && !hiddenByRom(paddr >>> PAGE_SHIFT)) return backing[paddr] & 0xFF;
        int rom = romOffset(paddr);
        return rom >= 0 ? backing[ramSize + rom] & 0xFF : 0xFF;
    }

    /** Whether RAM page {@code page} lies in the low ROM window (0xE0000/0xF0000-0xFFFFF), behind the ROM. */
    private boolean hiddenByRom(int page) {
        return page >= lowRomFirstPage && page < 0x100;
    }

    /** Offset into the ROM image of physical address {@code paddr}, or -1. */
    private int romOffset(int paddr) {
        if (romSize == 0) return -1;
        long a = paddr & 0xFFFFFFFFL;
        long top = 1L << 32;
        if (a >= top - romSize) return (int) (a - (top - romSize));
        int low = Math.min(romSize, LOW_ROM_MAX);
        if (a >= 0x100000 - low && a < 0x100000) return (int) (romSize - (0x100000 - a));
        return -1;
    }

    /** Everything a first write to a page must do before it lands: capture, then the dirty bit. */
    private void prepareWrite(int page) {
        if (protection && capturedEpoch[page] != epoch) {
            if (trap != null) trap.beforeFirstWrite(page);
            capturedEpoch[page] = epoch;
        }
        if (dirtyList != null && !bit(dirty, page)) listDirty(page);
        setBit(dirty, page, true);
    }

    private void listDirty(int page) {
        if (dirtyListSize < dirtyList.length) dirtyList[dirtyListSize++] = page;
        else dirtyListLost = true;
    }

    // --- write protection (the checkpoint engine's side) ---------------------------------------

    public void setWriteTrap(WriteTrap trap) {
        this.trap = trap;
    }

    /** Turns per-epoch write protection on or off (off: writes never trap). */
    public void setProtection(boolean on) {
        protection = on;
        if (on) protectAll();
    }

    public boolean protectionEnabled() {
        return protection;
    }

    /** Starts a new epoch: every page is protected again. O(1) in the number of pages. */
    public void protectAll() {
        if (++epoch == Integer.MAX_VALUE) {
            Arrays.fill(capturedEpoch, 0);
            epoch = 1;
        }
        if (client != null) client.revokeWrites();
    }

    /** Marks a page as captured in this epoch (its pre-image is already saved): writes will not trap. */
    public void markCaptured(int page) {
        capturedEpoch[page] = epoch;
    }

    /**
     * Takes back a {@link #markCaptured} for a page not written since the epoch began, so that its
     * next write traps again (the checkpoint engine reclaims a speculative pre-copy that way).
     * Returns false, changing nothing, if the page was written: a CPU may then hold a write grant
     * for it. An unwritten page has none, since every grant passes {@link #prepareWrite}, which
     * sets the dirty bit, and clearing dirty bits revokes all grants.
     */
    public boolean protectAgain(int page) {
        if (!protection || bit(dirty, page)) return false;
        capturedEpoch[page] = 0; // epochs start at 1: 0 is never the current one
        return true;
    }

    public boolean isCaptured(int page) {
        return !protection || capturedEpoch[page] == epoch;
    }

    // --- the dirty log ----------------------------------------------------------------------

    public boolean isDirty(int page) {
        return bit(dirty, page);
    }

    /**
     * Reports the dirty pages among {@code [first, first+count)} into {@code out} (one bit per page,
     * bit i of out is page first+i) and clears them, the way a hypervisor's dirty log works. Writes
     * after this call set the bits again.
     */
    public int testAndClearDirty(int first, int count, long[] out) {
        if (first < 0 || count < 0 || first + count > ramPages) throw new IllegalArgumentException("page range");
        Arrays.fill(out, 0, (count + 63) >>> 6, 0L);
        int found = 0;
        for (int i = 0; i < count; i++) {
            int p = first + i;
            if (bit(dirty, p)) {
                out[i >>> 6] |= 1L << (i & 63);
                setBit(dirty, p, false);
                found++;
            }
        }
        if (found > 0 && client != null) client.revokeWrites();
        return found;
    }

    /**
     * Moves the whole dirty log into {@code out} (one bit per page, at least {@code (pages+63)/64}
     * words) and clears it, a word at a time.
     */
    public void drainDirty(long[] out) {
        System.arraycopy(dirty, 0, out, 0, dirty.length);
        Arrays.fill(dirty, 0L);
        dirtyListSize = 0;
        dirtyListLost = false;
        if (client != null) client.revokeWrites();
    }

    /**
     * From now on, lists the pages as their dirty bits are set, so that {@link #drainDirtyPages}
     * costs what was written rather than the size of RAM (a lockstep comparison drains after every
     * instruction). Pages already dirty are listed at once.
     */
    public void keepDirtyList() {
        if (dirtyList != null) return;
        dirtyList = new int[ramPages];
        for (int p = 0; p < ramPages; p++) if (bit(dirty, p)) listDirty(p);
    }

    /**
     * Does what {@link #drainDirty} does, reporting the dirty pages as page numbers in {@code out}
     * (room for {@link #pageCount} of them), in no particular order; returns how many.
     */
    public int drainDirtyPages(int[] out) {
        int n = 0;
        if (dirtyList == null || dirtyListLost) {
            for (int w = 0; w < dirty.length; w++) {
                long bits = dirty[w];
                dirty[w] = 0;
                for (; bits != 0; bits &= bits - 1) out[n++] = (w << 6) + Long.numberOfTrailingZeros(bits);
            }
        } else {
            // a page cleared by a partial drain and dirtied again is listed twice: its bit says which entry counts
            for (int i = 0; i < dirtyListSize; i++) {
                int p = dirtyList[i];
                if (bit(dirty, p)) {
                    out[n++] = p;
                    setBit(dirty, p, false);
                }
            }
        }
        dirtyListSize = 0;
        dirtyListLost = false;
        if (client != null) client.revokeWrites();
        return n;
    }

    public int dirtyCount() {
        int n = 0;
        for (long w : dirty) n += Long.bitCount(w);
        return n;
    }

    // --- bulk access for loaders, devices and the checkpoint engine ------------------------------

    /** Copies a whole RAM page out, with no side effects (for pre-images and snapshots). */
    public void copyPage(int page, byte[] dst, int dstOffset) {
        System.arraycopy(backing, page << PAGE_SHIFT, dst, dstOffset, PAGE_SIZE);
    }

    /**
     * Writes a whole RAM page through the door: capture if protected, dirty bit, decoded-code
     * invalidation. For rollbacks, restores and loaders.
     */
    public void writePage(int page, byte[] src, int srcOffset) {
        if (page < 0 || page >= ramPages) throw new IllegalArgumentException("page " + page + " is not RAM");
        if (watch != null && (watchAddr >>> PAGE_SHIFT) == page) watch.written();
        if (heardPages != null) hear(page << PAGE_SHIFT, PAGE_SIZE, true);
        prepareWrite(page);
        System.arraycopy(src, srcOffset, backing, page << PAGE_SHIFT, PAGE_SIZE);
        if (bit(watched, page) && client != null) client.codeModified(page << PAGE_SHIFT, PAGE_SIZE);
    }

    /**
     * Writes bytes at a physical address through the door (loaders, device DMA). Bytes that fall in
     * the low ROM window are dropped, as the bus drops a DMA write to ROM.
     */
    public void writeBytes(long paddr, byte[] src, int off, int len) {
        if (paddr < 0 || paddr + len > ramSize) throw new IllegalArgumentException("write outside RAM");
        int a = (int) paddr;
        int end = a + len;
        while (a < end) {
            int page = a >>> PAGE_SHIFT;
            int chunk = Math.min(end - a, ((page + 1) << PAGE_SHIFT) - a);
            if (hiddenByRom(page)) {
                a += chunk;
                continue;
            }
            if (watch != null && watchAddr >= a && watchAddr < a + chunk) watch.written();
            if (heardPages != null) hear(a, chunk, true);
            prepareWrite(page);
            System.arraycopy(src, off + (a - (int) paddr), backing, a, chunk);
            if (bit(watched, page) && client != null) client.codeModified(a, chunk);
            a += chunk;
        }
    }

    public void readBytes(long paddr, byte[] dst, int off, int len) {
        if (heardPages != null && len > 0) hearRange((int) paddr, len);
        for (int i = 0; i < len; i++) dst[off + i] = (byte) readByte((int) (paddr + i));
    }

    /** A device read of {@code len} bytes: heard page by page, as each chunk is one access. */
    private void hearRange(int paddr, int len) {
        for (int a = paddr, end = paddr + len; a < end; ) {
            int chunk = Math.min(end - a, (((a >>> PAGE_SHIFT) + 1) << PAGE_SHIFT) - a);
            hear(a, chunk, false);
            a += chunk;
        }
    }

    /** Fills RAM with zeros through the door (a reboot). */
    public void clear() {
        byte[] zero = new byte[PAGE_SIZE];
        for (int p = 0; p < ramPages; p++) writePage(p, zero, 0);
    }

    /** Tells the CPU that all of memory may have changed behind its back. */
    public void notifyReplaced() {
        if (client != null) client.memoryReplaced();
    }

    private static boolean bit(long[] bits, int i) {
        return (bits[i >>> 6] & (1L << (i & 63))) != 0;
    }

    private static void setBit(long[] bits, int i, boolean v) {
        if (v) bits[i >>> 6] |= 1L << (i & 63);
        else bits[i >>> 6] &= ~(1L << (i & 63));
    }
}
