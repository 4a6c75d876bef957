package io.mucheckpoint.vmm.load;

import io.mucheckpoint.vmm.mem.GuestMemory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * Loads a Linux bzImage by the 32-bit boot protocol (Documentation/x86/boot.rst): the protected-
 * mode kernel at 1 MiB, a {@code boot_params} "zero page" with a copy of the image's setup header,
 * the command line, the initrd near the top of low memory and an e820 memory map. The real-mode
 * setup code is not run; the kernel is entered at its 32-bit entry point.
 */
public final class LinuxLoader {
    /** Where boot_params, the boot GDT and the command line go (below 640 KiB, clear of the kernel). */
    public static final int BOOT_PARAMS = 0x10000;
    private static final int GDT = 0x11000;
    private static final int CMDLINE = 0x20000;
    private static final int KERNEL = 0x100000;
    private static final int MIN_VERSION = 0x0206;

    /** Where to enter the kernel. */
    public record Boot(int entry, int bootParams, int gdtBase, int gdtLimit) {}

    private LinuxLoader() {}

    public static Boot load(GuestMemory mem, byte[] image, String name, byte[] initrd, String cmdline) throws LoadException {
        if (image.length < 0x264) throw new LoadException(name + ": too small to be a bzImage (" + image.length + " bytes)");
        ByteBuffer b = ByteBuffer.wrap(image).order(ByteOrder.LITTLE_ENDIAN);
        if ((b.getShort(0x1FE) & 0xFFFF) != 0xAA55) throw new LoadException(name + ": not a Linux kernel image (no boot signature)");
        if (b.getInt(0x202) != 0x53726448) throw new LoadException(name + ": not a bzImage (no HdrS setup header)");
        int version = b.getShort(0x206) & 0xFFFF;
        if (version < MIN_VERSION) {
            throw new LoadException(String.format("%s: boot protocol %d.%02d is too old (2.06 or later needed)", name, version >> 8, version & 0xFF));
        }
        int loadflags = b.get(0x211) & 0xFF;
        if ((loadflags & 1) == 0) throw new LoadException(name + ": a zImage (loaded low) is not supported, only bzImage");
        int setupSects = b.get(0x1F1) & 0xFF;
        if (setupSects == 0) setupSects = 4;
        long kernelOffset = (setupSects + 1L) * 512;
        if (kernelOffset >= image.length) throw new LoadException(name + ": the setup sectors (" + setupSects + ") run past the end of the file");
        int kernelSize = (int) (image.length - kernelOffset);
        long initSize = b.getInt(0x260) & 0xFFFFFFFFL;
        long need = Math.max(kernelSize, initSize);
        if (KERNEL + need > mem.ramSize()) {
            throw new LoadException(String.format("%s: the kernel needs %d MiB above 1 MiB; give the guest more RAM", name, (need >> 20) + 1));
        }
        int headerEnd = 0x202 + (b.get(0x201) & 0xFF);
        if (headerEnd > 0x280 || headerEnd > image.length) throw new LoadException(name + ": implausible setup header length");
        long cmdlineMax = b.getInt(0x238) & 0xFFFFFFFFL;
        byte[] cmd = cmdline.getBytes(StandardCharsets.US_ASCII);
        if (cmd.length >= Math.min(cmdlineMax == 0 ? 255 : cmdlineMax, 0xF000)) {
            throw new LoadException(name + ": command line longer than the kernel accepts (" + cmdlineMax + " bytes)");
        }

        mem.writeBytes(KERNEL, image, (int) kernelOffset, kernelSize);

        ByteBuffer zp = ByteBuffer.allocate(4096).order(ByteOrder.LITTLE_ENDIAN);
        zp.position(0x1F1);
        zp.put(image, 0x1F1, headerEnd - 0x1F1);
        zp.put(0x210, (byte) 0xFF);                        // type_of_loader: undefined
        zp.put(0x211, (byte) (loadflags | 0x80));          // CAN_USE_HEAP
        zp.putShort(0x224, (short) 0xFE00);                // heap_end_ptr
        zp.putInt(0x228, CMDLINE);                         // cmd_line_ptr
        zp.putShort(0x1FA, (short) 0xFFFF);                // vid_mode: normal
        int ram = mem.ramSize();
        zp.putInt(0x1E0, (ram - 0x100000) / 1024);         // alt_mem_k
        if (initrd != null) {
            long maxAddr = Math.min(b.getInt(0x22C) & 0xFFFFFFFFL, 0x37FFFFFFL); // below lowmem's end
            long top = Math.min(ram, maxAddr + 1);
            long at = (top - initrd.length) & ~0xFFFL;
            if (initrd.length == 0 || at < KERNEL + need + (1 << 20)) {
                throw new LoadException(String.format("initrd of %d KiB does not fit above the kernel in %d MiB of RAM",
                        initrd.length >> 10, ram >> 20));
            }
            mem.writeBytes(at, initrd, 0, initrd.length);
            zp.putInt(0x218, (int) at);
            zp.putInt(0x21C, initrd.length);
        }
        long[][] e820 = {{0, 0x9FC00, 1}, {0x9FC00, 0x400, 2}, {0xF0000, 0x10000, 2}, {0x100000, ram - 0x100000L, 1}};
        zp.put(0x1E8, (byte) e820.length);
        for (int i = 0; i < e820.length; i++) {
            int at = 0x2D0 + 20 * i;
            zp.putLong(at, e820[i][0]);
            zp.putLong(at + 8, e820[i][1]);
            zp.putInt(at + 16, (int) e820[i][2]);
        }
        mem.writeBytes(BOOT_PARAMS, zp.array(), 0, 4096);
        byte[] cmdz = new byte[cmd.length + 1];
        System.arraycopy(cmd, 0, cmdz, 0, cmd.length);
        mem.writeBytes(CMDLINE, cmdz, 0, cmdz.length);

        // The protocol asks for a GDT with flat __BOOT_CS (0x10) and __BOOT_DS (0x18).
        ByteBuffer gdt = ByteBuffer.allocate(32).order(ByteOrder.LITTLE_ENDIAN);
        gdt.putLong(16, 0x00CF9A000000FFFFL);
        gdt.putLong(24, 0x00CF92000000FFFFL);
        mem.writeBytes(GDT, gdt.array(), 0, 32);
        int entry = b.getInt(0x214);
        if (entry != KERNEL) entry = KERNEL; // code32_start is where we put it
        return new Boot(entry, BOOT_PARAMS, GDT, 31);
    }
}
