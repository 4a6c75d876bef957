package io.mucheckpoint.vmm.disk;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
import java.util.zip.CRC32C;

/**
 * A drive as the guest sees it: the base image with the guest's writes on top, kept in memory in
 * 4 KiB blocks. The base file is never written during a run.
 *
 * <p>The overlay is to the disk what {@link io.mucheckpoint.vmm.mem.GuestMemory} is to RAM: every
 * write goes through {@link #write}, and while protection is on the first write to a block in an
 * epoch calls the {@link BlockTrap} before it lands, so the checkpoint engine can keep the block's
 * pre-image. A new epoch ({@link #protectAll}) is a generation bump, not a loop over blocks.
 */
public final class DiskOverlay {
    public static final int BLOCK = 4096;
    private static final int CHUNK_BITS = 10; // blocks per directory chunk: 1024 (4 MiB of disk)

    /** Hears the first write to a block in the current epoch, before it lands. */
    @FunctionalInterface
    public interface BlockTrap {
        void firstWrite(int block);
    }

    private final DiskImage base;
    private final int blockCount;
    /** Written blocks, by block number, in chunks allocated as the guest writes; null = as in the base. */
    private final byte[][][] chunks;
    /** The generation in which each block was last captured; a block is captured when it equals {@link #gen}. */
    private final int[] capturedGen;
    private int gen = 1;
    private boolean protection;
    private BlockTrap trap;
    private int present;

    public DiskOverlay(DiskImage base) {
        this.base = base;
        long blocks = (base.bytes() + BLOCK - 1) / BLOCK;
        if (blocks > Integer.MAX_VALUE / 2) throw new IllegalArgumentException("disk image too large");
        this.blockCount = (int) blocks;
        this.chunks = new byte[(blockCount + (1 << CHUNK_BITS) - 1) >>> CHUNK_BITS][][];
        this.capturedGen = new int[blockCount];
    }

    public DiskImage base() {
        return base;
    }

    public long bytes() {
        return base.bytes();
    }

    public int blockCount() {
        return blockCount;
    }

    /** Blocks that differ from the base image (written at some point and not rolled back). */
    public int presentBlocks() {
        return present;
    }

    // --- the guest's side ----------------------------------------------------------------------------

    /** Reads disk bytes {@code [offset, offset + len)}; the caller has checked the range. */
    public void read(long offset, byte[] dst, int off, int len) {
        while (len > 0) {
            int b = (int) (offset / BLOCK);
            int in = (int) (offset % BLOCK);
            int n = Math.min(len, BLOCK - in);
            byte[] blk = block(b);
            if (blk != null) System.arraycopy(blk, in, dst, off, n);
            else base.read(offset, dst, off, n);
            offset += n;
            off += n;
            len -= n;
        }
    }

    /** Writes disk bytes {@code [offset, offset + len)} (the one door for disk writes); the caller has checked the range. */
    public void write(long offset, byte[] src, int off, int len) {
        while (len > 0) {
            int b = (int) (offset / BLOCK);
            int in = (int) (offset % BLOCK);
            int n = Math.min(len, BLOCK - in);
            if (protection && capturedGen[b] != gen) {
                capturedGen[b] = gen;
                if (trap != null) trap.firstWrite(b);
            }
            byte[] blk = block(b);
            if (blk == null) {
                blk = new byte[BLOCK];
                if (n < BLOCK) base.read((long) b * BLOCK, blk, 0, BLOCK);
                setBlock(b, blk);
            }
            System.arraycopy(src, off, blk, in, n);
            offset += n;
            off += n;
            len -= n;
        }
    }

    // --- the checkpoint engine's side ----------------------------------------------------------------

    public void setTrap(BlockTrap trap) {
        this.trap = trap;
    }

    public void setProtection(boolean on) {
        protection = on;
        protectAll();
    }

    /** Starts a new epoch: the next write to every block traps again. */
    public void protectAll() {
        if (++gen == Integer.MAX_VALUE) {
            java.util.Arrays.fill(capturedGen, 0);
            gen = 1;
        }
    }

    /**
     * Copies block {@code b} as it is now into {@code dst} and says whether it is in the overlay;
     * a block that is not (it still reads from the base image) leaves {@code dst} alone.
     */
    public boolean copyBlock(int b, byte[] dst, int off) {
        byte[] blk = block(b);
        if (blk == null) return false;
        System.arraycopy(blk, 0, dst, off, BLOCK);
        return true;
    }

    /** Puts block {@code b} back to an earlier content ({@code src} null: back to the base image), with no trap. */
    public void restoreBlock(int b, byte[] src, int off) {
        if (src == null) {
            setBlock(b, null);
            return;
        }
        byte[] blk = block(b);
        if (blk == null) {
            blk = new byte[BLOCK];
            setBlock(b, blk);
        }
        System.arraycopy(src, off, blk, 0, BLOCK);
    }

    /** Calls {@code action} for every block in the overlay, in ascending order. */
    public void forEachPresent(java.util.function.IntConsumer action) {
        for (int c = 0; c < chunks.length; c++) {
            byte[][] ch = chunks[c];
            if (ch == null) continue;
            for (int i = 0; i < ch.length; i++) if (ch[i] != null) action.accept((c << CHUNK_BITS) + i);
        }
    }

    /** Forgets every write (a reboot keeps the disk, so this is only for tests and fresh starts). */
    public void clear() {
        java.util.Arrays.fill(chunks, null);
        present = 0;
    }

    /**
     * A fingerprint of the disk's contents as the guest sees them: the overlay's blocks with their
     * numbers (the base image is fixed for a run).
     */
    public long hash() {
        CRC32C crc = new CRC32C();
        ByteBuffer num = ByteBuffer.allocate(4);
        forEachPresent(b -> {
            num.clear();
            num.putInt(b);
            crc.update(num.array(), 0, 4);
            crc.update(block(b), 0, BLOCK);
        });
        return crc.getValue() ^ ((long) present << 32);
    }

    /** Copies every overlay block into the base image file (the drive's ,writeback at the end of a run). */
    public int commit() throws IOException {
        return commitTo(base.file());
    }

    /**
     * Copies every overlay block into {@code file}, an image of the same size (the base image itself,
     * or a copy of it: the disk as the guest sees it, for host tools like e2fsck).
     */
    public int commitTo(java.nio.file.Path file) throws IOException {
        int[] n = {0};
        try (FileChannel out = FileChannel.open(file, StandardOpenOption.WRITE)) {
            IOException[] failed = {null};
            forEachPresent(b -> {
                if (failed[0] != null) return;
                long at = (long) b * BLOCK;
                int len = (int) Math.min(BLOCK, base.bytes() - at);
                ByteBuffer buf = ByteBuffer.wrap(block(b), 0, len);
                try {
                    while (buf.hasRemaining()) out.write(buf, at + buf.position());
                    n[0]++;
                } catch (IOException e) {
                    failed[0] = e;
                }
            });
            if (failed[0] != null) throw failed[0];
            out.force(true);
        }
        return n[0];
    }

    private byte[] block(int b) {
        byte[][] ch = chunks[b >>> CHUNK_BITS];
        return ch == null ? null : ch[b & ((1 << CHUNK_BITS) - 1)];
    }

    private void setBlock(int b, byte[] blk) {
        byte[][] ch = chunks[b >>> CHUNK_BITS];
        if (ch == null) {
            if (blk == null) return;
            ch = chunks[b >>> CHUNK_BITS] = new byte[1 << CHUNK_BITS][];
        }
        int i = b & ((1 << CHUNK_BITS) - 1);
        if (ch[i] == null && blk != null) present++;
        else if (ch[i] != null && blk == null) present--;
        ch[i] = blk;
    }
}
