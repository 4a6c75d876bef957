package io.mucheckpoint.checkpoint;

import io.mucheckpoint.vmm.Machine;
import io.mucheckpoint.vmm.MachineConfig;
import io.mucheckpoint.vmm.MachineState;
import io.mucheckpoint.vmm.state.StateFormatException;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;
import java.util.zip.DataFormatException;
import java.util.zip.Deflater;
import java.util.zip.Inflater;

/**
 * A self-contained snapshot of a machine in a file: configuration, small state and all of RAM
 * (and the ROM, for a --bios guest), so {@code vmm run --restore FILE} can resume it in another
 * process.
 *
 * <p>Format (big-endian): the magic {@code "uCKPT\0"}, a format version, then sections, each
 * {@code tag(4) length(8) crc32c(4) bytes}: {@code CONF} (the machine configuration, drives
 * included), {@code STAT} (the encoded {@link MachineState}), {@code ROMI} (optional), {@code RAMZ}
 * (RAM, deflated), one {@code DSK0}, {@code DSK1}... per drive (its overlay's blocks, deflated: block
 * number and 4 KiB each; the base image stays where it is and must be unchanged), {@code END.}. Loading checks the magic, the version, every length against a
 * cap and every CRC before anything is used.
 */
public final class SnapshotFile {
    public static final int VERSION = 2;
    private static final byte[] MAGIC = "uCKPT\0".getBytes(StandardCharsets.US_ASCII);
    private static final long MAX_SECTION = 2L << 30;

    /** What a snapshot holds. */
    public record Contents(MachineConfig config, String imageName, byte[] rom, MachineState state, byte[] ram,
                           List<DiskBlocks> disks) {}

    /** A drive's overlay: its size when saved, and the blocks in it with their contents, in block order. */
    public record DiskBlocks(long imageBytes, int[] blocks, byte[] data) {}

    private SnapshotFile() {}

    /** Writes the machine as it is now (between instructions) to {@code file}, atomically. */
    public static void save(Machine m, Path file) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try (DataOutputStream out = new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 16))) {
            out.write(MAGIC);
            out.writeInt(VERSION);
            section(out, "CONF", config(m.config(), m.image().name()));
            section(out, "STAT", m.saveState().encode());
            byte[] rom = m.memory.romImage();
            if (rom != null) section(out, "ROMI", rom);
            section(out, "RAMZ", deflate(m.memory.backing(), m.memory.ramSize()));
            for (int d = 0; d < m.drives.size(); d++) section(out, "DSK" + d, diskSection(m.drives.get(d).disk()));
            section(out, "END.", new byte[0]);
        }
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** Reads and validates a snapshot; throws {@link SnapshotFormatException} with a one-line reason. */
    public static Contents load(Path file) throws IOException {
        long size = Files.size(file);
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(file), 1 << 16))) {
            byte[] magic = new byte[MAGIC.length];
            in.readFully(magic);
            if (!java.util.Arrays.equals(magic, MAGIC)) throw new SnapshotFormatException(file + ": not a μCheckpoint snapshot file");
            int version = in.readInt();
            if (version != VERSION && version != 1) {
                throw new SnapshotFormatException(file + ": snapshot format version " + version + " (this VMM reads version " + VERSION + ")");
            }
            MachineConfig config = null;
            String image = null;
            MachineState state = null;
            byte[] rom = null;
            byte[] ram = null;
            List<DiskBlocks> disks = new ArrayList<>();
            long[] driveBytes = new long[0];
            while (true) {
                byte[] tagBytes = new byte[4];
                in.readFully(tagBytes);
                String tag = new String(tagBytes, StandardCharsets.US_ASCII);
                long len = in.readLong();
                int crc = in.readInt();
                if (len < 0 || len > MAX_SECTION || len > size) {
                    throw new SnapshotFormatException(file + ": section " + tag + " claims " + len + " bytes");
                }
                byte[] data = new byte[(int) len];
                in.readFully(data);
                if (crc(data) != crc) throw new SnapshotFormatException(file + ": section " + tag + " fails its checksum");
                switch (tag) {
                    case "CONF" -> {
                        DataInputStream c = new DataInputStream(new java.io.ByteArrayInputStream(data));
                        long ramBytes = c.readLong();
                        long ips = c.readLong();
                        LocalDateTime rtc = LocalDateTime.parse(c.readUTF());
                        boolean reboot = c.readBoolean();
                        image = c.readUTF();
                        List<io.mucheckpoint.vmm.disk.DriveConfig> drives = new ArrayList<>();
                        if (version >= 2) {
                            int n = c.readInt();
                            if (n < 0 || n > MachineConfig.MAX_DRIVES) throw new SnapshotFormatException(file + ": " + n + " drives");
                            driveBytes = new long[n];
                            for (int i = 0; i < n; i++) {
                                String path = c.readUTF();
                                boolean ro = c.readBoolean(), wb = c.readBoolean();
                                driveBytes[i] = c.readLong();
                                try {
                                    drives.add(new io.mucheckpoint.vmm.disk.DriveConfig(java.nio.file.Paths.get(path), ro, wb));
                                } catch (IllegalArgumentException e) {
                                    throw new SnapshotFormatException(file + ": bad drive " + i + ": " + e.getMessage());
                                }
                            }
                        }
                        try {
                            config = new MachineConfig(ramBytes, ips, rtc, reboot, drives);
                        } catch (IllegalArgumentException e) {
                            throw new SnapshotFormatException(file + ": bad configuration: " + e.getMessage());
                        }
                    }
                    case "STAT" -> {
                        try {
                            state = MachineState.decode(data);
                        } catch (StateFormatException e) {
                            throw new SnapshotFormatException(file + ": bad machine state: " + e.getMessage());
                        }
                    }
                    case "ROMI" -> rom = data;
                    case "RAMZ" -> {
                        if (config == null) throw new SnapshotFormatException(file + ": RAM before configuration");
                        if (config.ramBytes() > MAX_SECTION) throw new SnapshotFormatException(file + ": implausible RAM size");
                        ram = inflate(data, (int) config.ramBytes(), file);
                    }
                    case "END." -> {
                        if (config == null || state == null || ram == null || disks.size() != config.drives().size()) {
                            throw new SnapshotFormatException(file + ": incomplete snapshot (missing sections)");
                        }
                        return new Contents(config, image, rom, state, ram, List.copyOf(disks));
                    }
                    case "DSK0", "DSK1", "DSK2", "DSK3" -> {
                        int d = tag.charAt(3) - '0';
                        if (config == null || d != disks.size() || d >= config.drives().size()) {
                            throw new SnapshotFormatException(file + ": unexpected section " + tag);
                        }
                        disks.add(readDisk(data, driveBytes[d], file, tag));
                    }
                    default -> throw new SnapshotFormatException(file + ": unknown section " + tag);
                }
            }
        } catch (EOFException e) {
            throw new SnapshotFormatException(file + ": truncated snapshot file");
        }
    }

    /** Puts a loaded snapshot into a machine built from its configuration. */
    public static void apply(Contents c, Machine m) {
        if (m.memory.ramSize() != c.ram().length) throw new IllegalArgumentException("RAM size differs from the snapshot's");
        if (m.drives.size() != c.disks().size()) throw new IllegalArgumentException("the machine has other drives than the snapshot's");
        for (int d = 0; d < m.drives.size(); d++) {
            io.mucheckpoint.vmm.disk.DiskOverlay o = m.drives.get(d).disk();
            DiskBlocks saved = c.disks().get(d);
            if (o.bytes() != saved.imageBytes()) {
                throw new SnapshotFormatException(o.base().file() + ": the disk image now has " + o.bytes()
                        + " bytes; the snapshot was taken with " + saved.imageBytes());
            }
            o.clear();
            for (int i = 0; i < saved.blocks().length; i++) {
                o.restoreBlock(saved.blocks()[i], saved.data(), i * io.mucheckpoint.vmm.disk.DiskOverlay.BLOCK);
            }
        }
        m.memory.writeBytes(0, c.ram(), 0, c.ram().length);
        m.restoreState(c.state());
        m.memory.notifyReplaced();
    }

    private static byte[] config(MachineConfig c, String image) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        try (DataOutputStream d = new DataOutputStream(b)) {
            d.writeLong(c.ramBytes());
            d.writeLong(c.ticksPerSecond());
            d.writeUTF(c.rtcStart().toString());
            d.writeBoolean(c.rebootOnReset());
            d.writeUTF(image);
            d.writeInt(c.drives().size());
            for (io.mucheckpoint.vmm.disk.DriveConfig dc : c.drives()) {
                d.writeUTF(dc.file().toAbsolutePath().toString());
                d.writeBoolean(dc.readOnly());
                d.writeBoolean(dc.writeback());
                d.writeLong(Files.size(dc.file()));
            }
        }
        return b.toByteArray();
    }

    private static byte[] diskSection(io.mucheckpoint.vmm.disk.DiskOverlay o) throws IOException {
        int bs = io.mucheckpoint.vmm.disk.DiskOverlay.BLOCK;
        if ((long) o.presentBlocks() * (4 + bs) > Integer.MAX_VALUE - 8) {
            throw new IOException(o.base().file() + ": the guest wrote more than 2 GiB to the disk; a snapshot file cannot hold that overlay");
        }
        byte[] raw = new byte[o.presentBlocks() * (4 + bs)];
        int[] at = {0};
        o.forEachPresent(b -> {
            java.nio.ByteBuffer.wrap(raw, at[0], 4).putInt(b);
            o.copyBlock(b, raw, at[0] + 4);
            at[0] += 4 + bs;
        });
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        try (DataOutputStream d = new DataOutputStream(out)) {
            d.writeInt(o.presentBlocks());
            d.write(deflate(raw, raw.length));
        } catch (IOException e) {
            throw new IllegalStateException(e); // in memory
        }
        return out.toByteArray();
    }

    private static DiskBlocks readDisk(byte[] data, long imageBytes, Path file, String tag) {
        int bs = io.mucheckpoint.vmm.disk.DiskOverlay.BLOCK;
        if (data.length < 4) throw new SnapshotFormatException(file + ": section " + tag + " is truncated");
        int n = java.nio.ByteBuffer.wrap(data).getInt();
        long maxBlocks = (imageBytes + bs - 1) / bs;
        if (n < 0 || n > maxBlocks || (long) n * (4 + bs) > Integer.MAX_VALUE - 8) {
            throw new SnapshotFormatException(file + ": section " + tag + " claims " + n + " blocks");
        }
        byte[] raw = inflate(java.util.Arrays.copyOfRange(data, 4, data.length), n * (4 + bs), file);
        int[] blocks = new int[n];
        byte[] content = new byte[n * bs];
        int prev = -1;
        for (int i = 0; i < n; i++) {
            int b = java.nio.ByteBuffer.wrap(raw, i * (4 + bs), 4).getInt();
            if (b <= prev || b >= maxBlocks) throw new SnapshotFormatException(file + ": section " + tag + " has a bad block number " + b);
            prev = b;
            blocks[i] = b;
            System.arraycopy(raw, i * (4 + bs) + 4, content, i * bs, bs);
        }
        return new DiskBlocks(imageBytes, blocks, content);
    }

    private static void section(DataOutputStream out, String tag, byte[] data) throws IOException {
        out.write(tag.getBytes(StandardCharsets.US_ASCII));
        out.writeLong(data.length);
        out.writeInt(crc(data));
        out.write(data);
    }

    private static int crc(byte[] data) {
        CRC32C c = new CRC32C();
        c.update(data);
        return (int) c.getValue();
    }

    private static byte[] deflate(byte[] src, int len) {
        Deflater d = new Deflater(Deflater.BEST_SPEED);
        d.setInput(src, 0, len);
        d.finish();
        ByteArrayOutputStream out = new ByteArrayOutputStream(Math.max(1024, len / 16));
        byte[] buf = new byte[1 << 16];
        while (!d.finished()) {
            int n = d.deflate(buf);
            out.write(buf, 0, n);
        }
        d.end();
        return out.toByteArray();
    }

    private static byte[] inflate(byte[] src, int size, Path file) {
        Inflater inf = new Inflater();
        inf.setInput(src);
        byte[] out = new byte[size];
        try {
            int n = 0;
            byte[] beyond = new byte[1];
            // Until the stream's end: an image that is exactly full (or empty) still has its end marker to read.
            while (!inf.finished()) {
                int k = n < size ? inf.inflate(out, n, size - n) : inf.inflate(beyond);
                if (n >= size && k > 0) throw new SnapshotFormatException(file + ": a compressed image has the wrong size");
                if (k == 0 && (inf.needsInput() || inf.needsDictionary())) break;
                n += k;
            }
            if (n != size || !inf.finished()) throw new SnapshotFormatException(file + ": a compressed image has the wrong size");
        } catch (DataFormatException e) {
            throw new SnapshotFormatException(file + ": a compressed image is not valid deflate data");
        } finally {
            inf.end();
        }
        return out;
    }

    /** A snapshot file that cannot be used; the message is one line. */
    public static final class SnapshotFormatException extends RuntimeException {
        public SnapshotFormatException(String message) {
            super(message);
        }
    }
}
