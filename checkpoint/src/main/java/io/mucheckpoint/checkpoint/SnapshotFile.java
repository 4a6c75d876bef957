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
 * {@code tag(4) length(8) crc32c(4) bytes}: {@code CONF} (the machine configuration), {@code STAT}
 * (the encoded {@link MachineState}), {@code ROMI} (optional), {@code RAMZ} (RAM, deflated, as
 * runs of pages), {@code END.}. Loading checks the magic, the version, every length against a
 * cap and every CRC before anything is used.
 */
public final class SnapshotFile {
    public static final int VERSION = 1;
    private static final byte[] MAGIC = "uCKPT\0".getBytes(StandardCharsets.US_ASCII);
    private static final long MAX_SECTION = 2L << 30;

    /** What a snapshot holds. */
    public record Contents(MachineConfig config, String imageName, byte[] rom, MachineState state, byte[] ram) {}

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
            if (version != VERSION) {
                throw new SnapshotFormatException(file + ": snapshot format version " + version + " (this VMM reads version " + VERSION + ")");
            }
            MachineConfig config = null;
            String image = null;
            MachineState state = null;
            byte[] rom = null;
            byte[] ram = null;
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
                        try {
                            config = new MachineConfig(ramBytes, ips, rtc, reboot);
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
                        if (config == null || state == null || ram == null) {
                            throw new SnapshotFormatException(file + ": incomplete snapshot (missing sections)");
                        }
                        return new Contents(config, image, rom, state, ram);
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
        }
        return b.toByteArray();
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
            while (n < size && !inf.finished()) {
                int k = inf.inflate(out, n, size - n);
                if (k == 0 && (inf.needsInput() || inf.needsDictionary())) break;
                n += k;
            }
            if (n != size || !inf.finished()) throw new SnapshotFormatException(file + ": RAM image has the wrong size");
        } catch (DataFormatException e) {
            throw new SnapshotFormatException(file + ": RAM image is not valid deflate data");
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
