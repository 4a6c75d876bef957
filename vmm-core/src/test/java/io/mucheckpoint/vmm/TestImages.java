package io.mucheckpoint.vmm;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * Small valid images of the kinds the VMM loads besides multiboot kernels, assembled by hand: a
 * 64 KiB ROM entered at the reset vector, and a bzImage whose protected-mode kernel checks that
 * ESI points at boot_params. Both print {@link #GREETING} on COM1 and exit with status 0.
 */
final class TestImages {
    static final String GREETING = "hello from the test image\n";

    private TestImages() {}

    /**
     * A 64 KiB ROM: the reset vector jumps (near, so CS keeps its reset base FFFF0000 and the code
     * runs from the ROM's alias at the top of 4 GiB) to offset E000, which prints the greeting and
     * writes 0 to port 0xF4.
     */
    static byte[] rom() {
        byte[] rom = new byte[0x10000];
        int[] code = {
            0xBE, 0x00, 0xE1,       // mov si, 0xE100
            0xBA, 0xF8, 0x03,       // mov dx, 0x3F8
            0x2E, 0xAC,             // cs lodsb
            0x84, 0xC0,             // test al, al
            0x74, 0x03,             // jz done
            0xEE,                   // out dx, al
            0xEB, 0xF7,             // jmp back to lodsb
            0x30, 0xC0,             // done: xor al, al
            0xE6, 0xF4,             // out 0xF4, al
            0xF4,                   // hlt
        };
        for (int i = 0; i < code.length; i++) rom[0xE000 + i] = (byte) code[i];
        byte[] msg = (GREETING + "\0").getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(msg, 0, rom, 0xE100, msg.length);
        int[] reset = {0xE9, 0x0D, 0xE0}; // jmp near 0xE000
        for (int i = 0; i < reset.length; i++) rom[0xFFF0 + i] = (byte) reset[i];
        return rom;
    }

    /** A bzImage (boot protocol 2.15, one setup sector) with a 256-byte 32-bit kernel. */
    static byte[] bzImage() {
        byte[] img = new byte[1024 + 256];
        ByteBuffer b = ByteBuffer.wrap(img).order(ByteOrder.LITTLE_ENDIAN);
        b.put(0x1F1, (byte) 1);             // setup_sects
        b.putShort(0x1FE, (short) 0xAA55);  // boot_flag
        b.put(0x200, (byte) 0xEB);          // jump over the header ...
        b.put(0x201, (byte) 0x66);          // ... whose end is 0x202 + 0x66
        b.putInt(0x202, 0x53726448);        // "HdrS"
        b.putShort(0x206, (short) 0x020F);  // version 2.15
        b.put(0x211, (byte) 0x01);          // loadflags: LOADED_HIGH
        b.putInt(0x214, 0x100000);          // code32_start
        b.putInt(0x22C, 0x37FFFFFF);        // initrd_addr_max
        b.putInt(0x238, 0x7FF);             // cmdline_size
        b.putInt(0x260, 0x10000);           // init_size
        int[] kernel = {
            0x81, 0xBE, 0x02, 0x02, 0x00, 0x00, 0x48, 0x64, 0x72, 0x53, // cmp dword [esi+0x202], "HdrS"
            0x75, 0x16,                         // jne fail
            0xBE, 0x40, 0x00, 0x10, 0x00,       // mov esi, 0x100040
            0x66, 0xBA, 0xF8, 0x03,             // mov dx, 0x3F8
            0xAC,                               // lodsb
            0x84, 0xC0,                         // test al, al
            0x74, 0x03,                         // jz done
            0xEE,                               // out dx, al
            0xEB, 0xF8,                         // jmp back to lodsb
            0x31, 0xC0,                         // done: xor eax, eax
            0xE6, 0xF4,                         // out 0xF4, al
            0xF4,                               // hlt
            0xB0, 0x01,                         // fail: mov al, 1
            0xE6, 0xF4,                         // out 0xF4, al
            0xF4,                               // hlt
        };
        for (int i = 0; i < kernel.length; i++) img[1024 + i] = (byte) kernel[i];
        byte[] msg = (GREETING + "\0").getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(msg, 0, img, 1024 + 0x40, msg.length);
        return img;
    }
}
