package io.mucheckpoint.vmm.disk;

import io.mucheckpoint.vmm.load.LoadException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The base image of a drive: a raw host file, opened read-only for the run. Reads past its end (the
 * tail of the last 4 KiB block of an image whose size is not a multiple of 4 KiB) give zeros.
 */
public final class DiskImage implements AutoCloseable {
    public static final int SECTOR = 512;
    /** The smallest image accepted: one 4 KiB block (anything smaller is no disk a guest can use). */
    public static final long MIN_BYTES = 4096;

    private final Path file;
    private final long bytes;
    private final FileChannel channel;

    private DiskImage(Path file, long bytes, FileChannel channel) {
        this.file = file;
        this.bytes = bytes;
        this.channel = channel;
    }

    /** Opens and checks a drive's image; every problem is a one-line {@link LoadException}. */
    public static DiskImage open(DriveConfig d) throws LoadException {
        Path f = d.file();
        if (Files.isDirectory(f)) throw new LoadException(f + ": is a directory, not a disk image");
        if (!Files.exists(f)) throw new LoadException(f + ": no such disk image");
        if (!Files.isReadable(f)) throw new LoadException(f + ": the disk image is not readable");
        if (d.writeback() && !Files.isWritable(f)) {
            throw new LoadException(f + ": the disk image is read-only, so ,writeback cannot commit to it");
        }
        long size;
        FileChannel ch;
        try {
            size = Files.size(f);
            ch = FileChannel.open(f, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw new LoadException(f + ": no such disk image");
        } catch (AccessDeniedException e) {
            throw new LoadException(f + ": the disk image is not readable (permission denied)");
        } catch (IOException e) {
            throw new LoadException(f + ": cannot open the disk image: " + e.getMessage());
        }
        if (size < MIN_BYTES) {
            close(ch);
            throw new LoadException(f + ": the disk image has " + size + " bytes; a disk needs at least " + MIN_BYTES);
        }
        if (size % SECTOR != 0) {
            close(ch);
            throw new LoadException(f + ": the disk image has " + size + " bytes, not a multiple of the 512-byte sector");
        }
        return new DiskImage(f, size, ch);
    }

    private static void close(FileChannel ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // nothing was read from it
        }
    }

    public Path file() {
        return file;
    }

    public long bytes() {
        return bytes;
    }

    /** Reads {@code len} bytes at {@code offset} of the image (zeros past its end). */
    public void read(long offset, byte[] dst, int off, int len) {
        int n = (int) Math.max(0, Math.min(len, bytes - offset));
        ByteBuffer b = ByteBuffer.wrap(dst, off, n);
        try {
            long at = offset;
            while (b.hasRemaining()) {
                int r = channel.read(b, at);
                if (r < 0) break;
                at += r;
            }
        } catch (IOException e) {
            throw new DiskIoException(file + ": reading the disk image failed: " + e.getMessage(), e);
        }
        java.util.Arrays.fill(dst, b.position(), off + len, (byte) 0);
    }

    @Override
    public void close() {
        close(channel);
    }

    /** The host failed to read or write an image file during a run (not the guest's doing). */
    public static final class DiskIoException extends RuntimeException {
        public DiskIoException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
