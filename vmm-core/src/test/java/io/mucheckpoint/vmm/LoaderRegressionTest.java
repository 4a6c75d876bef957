package io.mucheckpoint.vmm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mucheckpoint.vmm.load.LoadException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

/**
 * What {@link LoaderFuzzTest} found or might have missed, as named cases: a size field may claim
 * as much memory as the guest has, and loading must not cost the host a buffer of that size; sizes
 * past RAM and past 4 GiB are refused with one line.
 */
class LoaderRegressionTest {
    private static final long BIG_RAM = 256L << 20;

    /** Bytes the current thread allocated while building the machine (the RAM array included). */
    private static long allocatedBuilding(GuestImage image) throws LoadException {
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long t = Thread.currentThread().getId();
        long before = mx.getThreadAllocatedBytes(t);
        Machine m = new Machine(MachineConfig.defaults().withRam(BIG_RAM), image, b -> {}, b -> {});
        long after = mx.getThreadAllocatedBytes(t);
        assertEquals(BIG_RAM, m.memory.ramSize());
        return after - before;
    }

    /**
     * An ELF segment whose memory size reaches the end of RAM: the loader zeroed it from a buffer
     * as large as the claimed size (with --ram 2G, a 2 GiB array: out of memory). Now it zeroes a
     * page at a time.
     */
    @Test
    void aHugeElfMemorySizeCostsNoHugeBuffer() throws Exception {
        byte[] elf = Workloads.image("compress");
        ByteBuffer b = ByteBuffer.wrap(elf).order(ByteOrder.LITTLE_ENDIAN);
        int ph = b.getInt(28) + 2 * 32; // the third program header: .data and .bss
        b.putInt(ph + 20, (int) (BIG_RAM - 0x10000 - b.getInt(ph + 12))); // room left for the command line
        long bytes = allocatedBuilding(new GuestImage.Multiboot("big.elf", elf, ""));
        assertTrue(bytes < BIG_RAM + (32L << 20), "allocated " + (bytes >> 20) + " MiB for " + (BIG_RAM >> 20) + " MiB of RAM");
    }

    /** The same through the a.out kludge's bss_end_addr. */
    @Test
    void aHugeKludgeBssCostsNoHugeBuffer() throws Exception {
        byte[] f = LoaderFuzzTest.aoutKludge(Workloads.image("compress"));
        ByteBuffer.wrap(f).order(ByteOrder.LITTLE_ENDIAN).putInt(24, (int) BIG_RAM - 0x10000);
        long bytes = allocatedBuilding(new GuestImage.Multiboot("big.bin", f, ""));
        assertTrue(bytes < BIG_RAM + (32L << 20), "allocated " + (bytes >> 20) + " MiB for " + (BIG_RAM >> 20) + " MiB of RAM");
    }

    @Test
    void sizesPastRamOrFourGibAreRefusedInOneLine() {
        byte[] elf = Workloads.image("compress");
        ByteBuffer b = ByteBuffer.wrap(elf).order(ByteOrder.LITTLE_ENDIAN);
        int ph = b.getInt(28) + 2 * 32;
        for (int memsz : new int[] {(int) LoaderFuzzTest.RAM, 0x7FFFFFFF, 0xFFFFFFFF, 0xFFF00000}) {
            b.putInt(ph + 20, memsz);
            LoadException e = assertThrows(LoadException.class, () -> new Machine(MachineConfig.defaults().withRam(LoaderFuzzTest.RAM),
                    new GuestImage.Multiboot("big.elf", elf, ""), x -> {}, x -> {}));
            assertNull(LoaderFuzzTest.badMessage(e.getMessage(), "big.elf"), e.getMessage());
        }
    }
}
