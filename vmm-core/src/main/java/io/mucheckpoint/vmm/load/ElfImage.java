package io.mucheckpoint.vmm.load;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * A 32-bit little-endian x86 ELF executable, reduced to what a loader needs: its loadable segments
 * and entry point. Every offset and size read from the file is checked against the file and the
 * address space before it is used.
 */
public record ElfImage(int entry, List<Segment> segments) {
    private static final int PT_LOAD = 1;

    /** A PT_LOAD segment: {@code fileSize} bytes from {@code offset} to physical {@code paddr}, then zeros to {@code memSize}. */
    public record Segment(long paddr, long vaddr, int offset, int fileSize, long memSize) {}

    public static ElfImage parse(byte[] file, String name) throws LoadException {
        if (file.length < 52) throw new LoadException(name + ": not an ELF file (only " + file.length + " bytes)");
        if (file[0] != 0x7F || file[1] != 'E' || file[2] != 'L' || file[3] != 'F') {
            throw new LoadException(name + ": not an ELF file (bad magic)");
        }
        if (file[4] != 1) throw new LoadException(name + ": not a 32-bit ELF file (class " + file[4] + ")");
        if (file[5] != 1) throw new LoadException(name + ": not a little-endian ELF file");
        ByteBuffer b = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
        int type = b.getShort(16) & 0xFFFF;
        int machine = b.getShort(18) & 0xFFFF;
        if (type != 2) throw new LoadException(name + ": ELF type " + type + " is not an executable");
        if (machine != 3) throw new LoadException(name + ": ELF machine " + machine + " is not i386");
        int entry = b.getInt(24);
        long phoff = b.getInt(28) & 0xFFFFFFFFL;
        int phentsize = b.getShort(42) & 0xFFFF;
        int phnum = b.getShort(44) & 0xFFFF;
        if (phnum == 0) throw new LoadException(name + ": ELF file has no program headers");
        if (phentsize < 32) throw new LoadException(name + ": ELF program header size " + phentsize + " is too small");
        if (phoff + (long) phentsize * phnum > file.length) {
            throw new LoadException(name + ": ELF program headers lie beyond the end of the file (truncated?)");
        }
        List<Segment> segs = new ArrayList<>();
        for (int i = 0; i < phnum; i++) {
            int at = (int) (phoff + (long) i * phentsize);
            int ptype = b.getInt(at);
            if (ptype != PT_LOAD) continue;
            long offset = b.getInt(at + 4) & 0xFFFFFFFFL;
            long vaddr = b.getInt(at + 8) & 0xFFFFFFFFL;
            long paddr = b.getInt(at + 12) & 0xFFFFFFFFL;
            long filesz = b.getInt(at + 16) & 0xFFFFFFFFL;
            long memsz = b.getInt(at + 20) & 0xFFFFFFFFL;
            if (offset + filesz > file.length) {
                throw new LoadException(name + ": segment " + i + " lies beyond the end of the file (truncated?)");
            }
            if (filesz > memsz) throw new LoadException(name + ": segment " + i + " has file size above memory size");
            if (paddr + memsz > 1L << 32) throw new LoadException(name + ": segment " + i + " runs past 4 GiB");
            segs.add(new Segment(paddr, vaddr, (int) offset, (int) filesz, memsz));
        }
        if (segs.isEmpty()) throw new LoadException(name + ": ELF file has no loadable segment");
        return new ElfImage(entry, List.copyOf(segs));
    }
}
