package io.mucheckpoint.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mucheckpoint.vmm.Machine;
import io.mucheckpoint.vmm.MachineConfig;
import io.mucheckpoint.vmm.Workloads;
import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;

/**
 * The page pool: once a run is warm, capturing a page (the write trap and the pre-copy) allocates
 * nothing on the heap, so the collector stays quiet however many pages an epoch writes. Measured
 * with the JVM's own count of bytes allocated by this thread, over the writes between boundaries.
 */
class CaptureAllocationTest {
    @Test
    void capturingPagesAllocatesNothingOnceWarm() throws Exception {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        Machine m = new Machine(MachineConfig.defaults(), Workloads.multiboot("mcf", "size=test"), b -> {}, b -> {});
        CheckpointEngine e = new CheckpointEngine(m, CheckpointConfig.defaults().withKeep(4)
                .withInterval(Interval.instructions(1_000_000_000L)));
        e.start();
        long[] between = new long[40];
        long captured = 0;
        for (int epoch = 0; epoch < 80; epoch++) {
            if (epoch == 40) captured = -e.stats().pagesTrapped(); // the totals count an epoch when it closes
            long t0 = threads.getCurrentThreadAllocatedBytes();
            // 1,500 pages trapped every epoch (a different set each time) and 500 that the
            // history predictor has seen often enough to pre-copy at the boundary.
            int first = 4096 + (epoch % 5) * 1500;
            for (int p = first; p < first + 1500; p++) m.memory.write(p << 12, 4, epoch);
            for (int p = 12000; p < 12500; p++) m.memory.write(p << 12, 4, epoch);
            long t1 = threads.getCurrentThreadAllocatedBytes();
            if (epoch >= 40) {
                between[epoch - 40] = t1 - t0;
            }
            e.checkpointNow();
        }
        captured += e.stats().pagesTrapped();
        assertTrue(captured >= 40 * 1500, "pages were trapped: " + captured);
        assertTrue(e.stats().pagesPrecopied() >= 40 * 500, "pages were pre-copied: " + e.stats().toJson());
        for (int i = 0; i < between.length; i++) {
            // getCurrentThreadAllocatedBytes itself may allocate its result; nothing per page
            assertTrue(between[i] < 1024, "epoch " + (40 + i) + " allocated " + between[i] + " bytes capturing 1,500 pages");
        }
        assertEquals(4, e.checkpoints().size());
    }
}
