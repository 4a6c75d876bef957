package io.mucheckpoint.vmm.load;

import io.mucheckpoint.vmm.mem.GuestMemory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * Loads a multiboot v1 kernel (an ELF image, or the a.out kludge) the way QEMU's {@code -kernel}
 * does, and builds the multiboot information block: memory sizes, the BIOS-style memory map, the
 * command line and the boot loader name.
 */
public final class MultibootLoader {
    public static final int MAGIC = 0x1BADB002;
    public static final int BOOT_MAGIC = 0x2BADB002;
    private static final int SEARCH = 8192;
    private static final int INFO_BASE = 0x9500; // where QEMU puts it, so traces diff cleanly
    private static final int INFO_SIZE = 0x2000;
    private static final int MAX_CMDLINE = INFO_SIZE - 0x200;

    /** Where the kernel starts and where its multiboot information block lies. */
    public record Boot(int entry, int infoAddress) {}

    private MultibootLoader() {}

    public static Boot load(GuestMemory mem, byte[] file, String name, String cmdline) throws LoadException {
        int header = findHeader(file);
        if (header < 0) throw new LoadException(name + ": no multiboot header in the first 8 KiB");
        ByteBuffer b = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
        int flags = b.getInt(header + 4);
        long end;
        long start;
        int entry;
        boolean lowConflict;
        boolean isElf = file.length >= 4 && file[0] == 0x7F && file[1] == 'E' && file[2] == 'L' && file[3] == 'F';
        if ((flags & 0x10000) != 0 && !isElf) {
            if (header + 32 > file.length) throw new LoadException(name + ": multiboot header is truncated");
            long headerAddr = b.getInt(header + 12) & 0xFFFFFFFFL;
            long loadAddr = b.getInt(header + 16) & 0xFFFFFFFFL;
            long loadEnd = b.getInt(header + 20) & 0xFFFFFFFFL;
            long bssEnd = b.getInt(header + 24) & 0xFFFFFFFFL;
            entry = b.getInt(header + 28);
            if (loadAddr > headerAddr || headerAddr - loadAddr > header) throw new LoadException(name + ": multiboot load address is inconsistent");
            long offset = header - (headerAddr - loadAddr);
            long size = loadEnd == 0 ? file.length - offset : loadEnd - loadAddr;
            if (size < 0 || offset + size > file.length) throw new LoadException(name + ": multiboot load range lies beyond the end of the file");
            long memEnd = Math.max(loadAddr + size, bssEnd);
            checkRange(mem, name, loadAddr, memEnd - loadAddr);
            mem.writeBytes(loadAddr, file, (int) offset, (int) size);
            lowConflict = intersectsInfo(loadAddr, memEnd - loadAddr);
            if (bssEnd > loadAddr + size) zero(mem, loadAddr + size, bssEnd - loadAddr - size);
            end = memEnd;
            start = loadAddr;
        } else {
            if (!isElf) throw new LoadException(name + ": not an ELF file and no a.out kludge in its multiboot header");
            ElfImage elf = ElfImage.parse(file, name);
            end = 0;
            start = Long.MAX_VALUE;
            lowConflict = false;
            for (ElfImage.Segment s : elf.segments()) {
                checkRange(mem, name, s.paddr(), s.memSize());
                mem.writeBytes(s.paddr(), file, s.offset(), s.fileSize());
                long zeros = s.memSize() - s.fileSize();
                if (zeros > 0) zero(mem, s.paddr() + s.fileSize(), zeros);
                end = Math.max(end, s.paddr() + s.memSize());
                start = Math.min(start, s.paddr());
                lowConflict |= intersectsInfo(s.paddr(), s.memSize());
            }
            entry = elf.entry();
        }
        byte[] cmd = cmdline.getBytes(StandardCharsets.UTF_8);
        if (cmd.length > MAX_CMDLINE) throw new LoadException(name + ": command line longer than " + MAX_CMDLINE + " bytes");
        int info = INFO_BASE;
        if (lowConflict) info = (int) ((end + 0xFFF) & ~0xFFFL); // a kernel loaded low: put the block after it
        checkRange(mem, name, info, INFO_SIZE);
        // The command line and loader name follow the kernel, page-aligned, as QEMU places them.
        long strings = start + ((end - start + 0xFFF) & ~0xFFFL);
        checkRange(mem, name, strings, cmd.length + 32L);
        writeInfo(mem, info, (int) strings, cmd);
        return new Boot(entry, info);
    }


    /**
     * Zeroes {@code len} bytes of RAM (already checked to fit) a page-sized piece at a time: a
     * memory size in the file may be as large as RAM, and must not cost a buffer that large.
     */
    private static void zero(GuestMemory mem, long addr, long len) {
        byte[] zeros = new byte[GuestMemory.PAGE_SIZE];
        for (long done = 0; done < len; done += zeros.length) {
            mem.writeBytes(addr + done, zeros, 0, (int) Math.min(zeros.length, len - done));
        }
    }

    private static boolean intersectsInfo(long addr, long size) {
        return addr < INFO_BASE + INFO_SIZE && addr + size > INFO_BASE;
    }

    private static void checkRange(GuestMemory mem, String name, long addr, long size) throws LoadException {
        if (addr < 0 || size < 0 || addr + size > mem.ramSize()) {
            throw new LoadException(String.format("%s: segment at 0x%x (%d bytes) does not fit in %d MiB of RAM",
                    name, addr, size, mem.ramSize() >> 20));
        }
    }

    static int findHeader(byte[] file) {
        ByteBuffer b = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
        for (int at = 0; at + 12 <= Math.min(file.length, SEARCH); at += 4) {
            if (b.getInt(at) == MAGIC && b.getInt(at) + b.getInt(at + 4) + b.getInt(at + 8) == 0) return at;
        }
        return -1;
    }

    private static void writeInfo(GuestMemory mem, int base, int strings, byte[] cmd) {
        ByteBuffer info = ByteBuffer.allocate(0x200).order(ByteOrder.LITTLE_ENDIAN);
        int ram = mem.ramSize();
        int mmap = base + 0x80;
        int cmdline = strings;
        byte[] loader = "uCheckpoint VMM".getBytes(StandardCharsets.US_ASCII);
        int name = strings + cmd.length + 1;
        info.putInt(0, 0x1 | 0x2 | 0x4 | 0x8 | 0x40 | 0x200); // mem, boot device, cmdline, mods, mmap, loader name
        info.putInt(4, 639);
        info.putInt(8, (ram - 0x100000) / 1024);
        info.putInt(12, 0x8000FFFF); // boot device: the first hard disk, no partition
        info.putInt(16, cmdline);
        info.putInt(20, 0);           // mods_count
        info.putInt(24, base + 0x1F0); // mods_addr (empty list)
        long[][] regions = {
            {0, 0x9FC00, 1}, {0x9FC00, 0x400, 2}, {0xF0000, 0x10000, 2}, {0x100000, ram - 0x100000L, 1}
        };
        for (int i = 0; i < regions.length; i++) {
            int at = 0x80 + i * 24;
            info.putInt(at, 20);
            info.putLong(at + 4, regions[i][0]);
            info.putLong(at + 12, regions[i][1]);
            info.putInt(at + 20, (int) regions[i][2]);
        }
        info.putInt(44, regions.length * 24);
        info.putInt(48, mmap);
        info.putInt(64, name);
        mem.writeBytes(base, info.array(), 0, info.capacity());
        byte[] str = new byte[cmd.length + 1 + loader.length + 1];
        System.arraycopy(cmd, 0, str, 0, cmd.length);
        System.arraycopy(loader, 0, str, cmd.length + 1, loader.length);
        mem.writeBytes(strings, str, 0, str.length);
    }
}
