package io.mucheckpoint.vmm.mem;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mucheckpoint.cpu.Cpu;
import io.mucheckpoint.cpu.IoBus;
import org.junit.jupiter.api.Test;

/**
 * The PC memory map with a ROM: the image at the top of the 4 GiB space and its last 128 KiB (or all
 * of it) at the top of the first MiB, where it hides the RAM behind it. Every way in must agree: the
 * slow read and write paths, the TLB's direct grants ({@code readBase}/{@code writeBase} into the
 * backing array), device DMA ({@code readBytes}/{@code writeBytes}), and the processor's own fetches
 * and data accesses from the reset vector on.
 */
class RomMapTest {
    private static final int RAM = 4 << 20;

    private static byte[] rom(int size) {
        byte[] b = new byte[size];
        for (int i = 0; i < size; i++) b[i] = (byte) (i * 7 + (i >>> 8) + 1); // no zero bytes: RAM reads 0
        return b;
    }

    @Test
    void aSixtyFourKibRomOccupiesTheTopOfTheFirstMibAndOfTheAddressSpace() {
        byte[] rom = rom(0x10000);
        GuestMemory m = new GuestMemory(RAM, rom);
        for (int i = 0; i < rom.length; i += 0x111) {
            assertEquals(rom[i] & 0xFF, m.read(0xF0000 + i, 1), "low alias at " + Integer.toHexString(0xF0000 + i));
            assertEquals(rom[i] & 0xFF, m.read(0xFFFF0000 + i, 1), "high copy");
        }
        assertEquals((rom[0xFFF0] & 0xFF) | (rom[0xFFF1] & 0xFF) << 8, m.read(0xFFFF0, 2), "the reset vector at F000:FFF0");
        // Below the window it is RAM.
        m.write(0xEFFFF, 1, 0x5A);
        assertEquals(0x5A, m.read(0xEFFFF, 1));
    }

    @Test
    void theTlbSeesTheRomThroughReadBaseAndGetsNoWriteGrant() {
        byte[] rom = rom(0x10000);
        GuestMemory m = new GuestMemory(RAM, rom);
        for (int page = 0xF0; page < 0x100; page++) {
            int base = m.readBase(page);
            assertTrue(base >= 0, "a direct read entry for page " + Integer.toHexString(page));
            for (int k = 0; k < 4096; k += 509) {
                assertEquals(rom[(page - 0xF0) * 4096 + k], m.backing()[base + k], "backing at page " + Integer.toHexString(page));
            }
            assertEquals(-1, m.writeBase(page), "no direct write entry for a ROM page");
        }
        assertEquals(m.readBase(0xFFFF0), m.readBase(0xF0), "both windows share the ROM bytes");
        assertEquals(0xEF << 12, m.readBase(0xEF), "RAM below the window maps to itself");
    }

    @Test
    void writesToTheWindowAreDroppedAndTheRamBehindStaysInvisible() {
        byte[] rom = rom(0x10000);
        GuestMemory m = new GuestMemory(RAM, rom);
        m.write(0xF1234, 1, ~rom[0x1234]);
        m.write(0xFFFFE, 2, 0);                                  // the last word of the first MiB
        m.write(0xEFFFE, 4, 0xA1B2C3D4);                         // straddles RAM and ROM
        assertEquals(rom[0x1234] & 0xFF, m.read(0xF1234, 1));
        assertEquals((rom[0xFFFE] & 0xFF) | (rom[0xFFFF] & 0xFF) << 8, m.read(0xFFFFE, 2));
        assertEquals(0xC3D4, m.read(0xEFFFE, 2), "the RAM half landed");
        assertEquals(rom[0] & 0xFF, m.read(0xF0000, 1), "the ROM half did not");
        assertFalse(m.isDirty(0xF1), "a dropped write dirties nothing");
        assertFalse(m.isDirty(0xFF));
        // A device writing through the door (DMA) over the window: RAM takes its part, ROM drops its own.
        byte[] dma = new byte[0x3000];
        java.util.Arrays.fill(dma, (byte) 0xEE);
        m.writeBytes(0xEF000, dma, 0, dma.length);
        assertEquals(0xEE, m.read(0xEF000, 1));
        assertEquals(rom[0] & 0xFF, m.read(0xF0000, 1));
        assertEquals(rom[0x1FFF] & 0xFF, m.read(0xF1FFF, 1));
        // And a device reading over the window sees exactly what the processor sees.
        byte[] seen = new byte[0x10000];
        m.readBytes(0xF0000, seen, 0, seen.length);
        assertArrayEquals(rom, seen);
    }

    @Test
    void theLowWindowIsTheLast128KibOfALargerRom() {
        byte[] big = rom(0x40000); // 256 KiB: 0xE0000-0xFFFFF shows its last 128 KiB
        GuestMemory m = new GuestMemory(RAM, big);
        assertEquals(big[0x20000] & 0xFF, m.read(0xE0000, 1));
        assertEquals(big[0x3FFFF] & 0xFF, m.read(0xFFFFF, 1));
        assertEquals(big[0] & 0xFF, m.read(0xFFFC0000, 1), "all of it at the top of 4 GiB");
        m.write(0xDFFFF, 1, 0x11);
        assertEquals(0x11, m.read(0xDFFFF, 1), "RAM below 0xE0000");
        byte[] small = rom(0x8000); // 32 KiB: only 0xF8000-0xFFFFF
        GuestMemory s = new GuestMemory(RAM, small);
        assertEquals(small[0] & 0xFF, s.read(0xF8000, 1));
        s.write(0xF7FFF, 1, 0x22);
        assertEquals(0x22, s.read(0xF7FFF, 1), "RAM just below a 32 KiB ROM");
    }

    /**
     * The processor from reset: the first fetch at FFFF_FFF0 (CS base FFFF0000), a far jump to
     * F000:0100 in the low window, then data reads through DS=F000 (the TLB's direct path, twice),
     * a store into the ROM that must not stick, and REP MOVSB copying ROM into RAM.
     */
    @Test
    void theProcessorRunsFromTheResetVectorIntoTheLowWindow() {
        byte[] rom = rom(0x10000);
        int[] code = {
            0xB8, 0x00, 0xF0,             // mov ax, 0xF000
            0x8E, 0xD8,                   // mov ds, ax
            0xA1, 0x00, 0x02,             // mov ax, [0x0200]
            0x8B, 0x1E, 0x00, 0x02,       // mov bx, [0x0200]   (again: now through the TLB entry)
            0xC6, 0x06, 0x00, 0x03, 0x55, // mov byte [0x0300], 0x55
            0x8A, 0x16, 0x00, 0x03,       // mov dl, [0x0300]
            0x31, 0xFF,                   // xor di, di
            0x8E, 0xC7,                   // mov es, di
            0xBE, 0x00, 0x04,             // mov si, 0x0400
            0xBF, 0x00, 0x10,             // mov di, 0x1000
            0xB9, 0x40, 0x00,             // mov cx, 0x40
            0xF3, 0xA4,                   // rep movsb
            0xF4,                         // hlt
        };
        for (int i = 0; i < code.length; i++) rom[0x100 + i] = (byte) code[i];
        int[] reset = {0xEA, 0x00, 0x01, 0x00, 0xF0}; // jmp far F000:0100
        for (int i = 0; i < reset.length; i++) rom[0xFFF0 + i] = (byte) reset[i];
        GuestMemory m = new GuestMemory(RAM, rom);
        Cpu cpu = new Cpu(m, new IoBus() {
            public int in(int port, int size) {
                return -1;
            }

            public void out(int port, int size, int value) {}
        });
        cpu.reset();
        assertEquals(Cpu.Stop.HALTED, cpu.run(1000), cpu.shutdownReason());
        int word200 = (rom[0x200] & 0xFF) | (rom[0x201] & 0xFF) << 8;
        assertEquals(0xF000, cpu.segmentSelector(1), "running in the low window");
        assertEquals(word200, cpu.reg(Cpu.EAX) & 0xFFFF, "data read from the ROM");
        assertEquals(word200, cpu.reg(Cpu.EBX) & 0xFFFF, "and again through the TLB");
        assertEquals(rom[0x300] & 0xFF, cpu.reg(Cpu.EDX) & 0xFF, "the store into ROM did not stick");
        byte[] copied = new byte[0x40];
        m.readBytes(0x1000, copied, 0, copied.length);
        assertArrayEquals(java.util.Arrays.copyOfRange(rom, 0x400, 0x440), copied, "REP MOVSB read the ROM");
    }
}
