package io.mucheckpoint.vmm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Where a run is cut must not matter (design brief, invariant 1): a guest run in one call and the
 * same guest run in slices of random length print the same and retire the same instructions.
 *
 * <p>Found by the checkpoint store-fault tests: the timer workload programs the PIT while the CPU
 * runs a stretch planned before the PIT had a deadline, and the first IRQ 0 fired wherever that
 * stretch ended (up to a million instructions late in one long run, at the next slice end in a
 * sliced one). The run loop now stops the CPU when a port access brings a deadline forward.
 */
class SlicedRunTest {
    @ParameterizedTest
    @ValueSource(strings = {"timer", "compress"})
    void slicingARunChangesNothing(String workload) throws Exception {
        ConsoleCapture whole = new ConsoleCapture();
        Machine a = new Machine(MachineConfig.defaults().withRam(48L << 20), Workloads.multiboot(workload, "size=test"), whole, b -> {});
        RunResult ra = a.run(Long.MAX_VALUE, Long.MAX_VALUE);
        assertEquals(RunResult.Kind.EXIT, ra.kind(), ra.message());
        for (int maxSlice : new int[] {2_000, 20_000, 300_000}) {
            ConsoleCapture sliced = new ConsoleCapture();
            Machine b = new Machine(MachineConfig.defaults().withRam(48L << 20), Workloads.multiboot(workload, "size=test"), sliced, x -> {});
            Random rnd = new Random(maxSlice);
            RunResult rb;
            do {
                rb = b.run(Long.MAX_VALUE, b.cpu.icount() + 1 + rnd.nextInt(maxSlice));
            } while (!rb.finished());
            assertEquals(RunResult.Kind.EXIT, rb.kind(), rb.message());
            assertEquals(whole.text(), sliced.text(), "output, slices up to " + maxSlice);
            assertEquals(a.cpu.icount(), b.cpu.icount(), "instructions retired, slices up to " + maxSlice);
            assertEquals(a.clock.now(), b.clock.now(), "guest time at the end, slices up to " + maxSlice);
        }
        assertEquals(Workloads.expected(workload, "test"), whole.text());
    }

    /** Pacing halts to a host clock (interactive sessions) changes how long the host waits, nothing else. */
    @ParameterizedTest
    @ValueSource(strings = {"timer"})
    void pacingIdleTimeChangesNothingTheGuestSees(String workload) throws Exception {
        ConsoleCapture free = new ConsoleCapture();
        Machine a = new Machine(MachineConfig.defaults().withRam(48L << 20), Workloads.multiboot(workload, "size=test"), free, b -> {});
        assertEquals(RunResult.Kind.EXIT, a.run(Long.MAX_VALUE, Long.MAX_VALUE).kind());
        long[] host = {0}, slept = {0};
        ConsoleCapture paced = new ConsoleCapture();
        Machine b = new Machine(MachineConfig.defaults().withRam(48L << 20), Workloads.multiboot(workload, "size=test"), paced, x -> {});
        // The fake host clock moves 1 ns per retired instruction plus what the pacer sleeps.
        b.setIdlePacer(new io.mucheckpoint.vmm.clock.IdlePacer(() -> host[0] + b.cpu.icount(), n -> {
            host[0] += n;
            slept[0] += n;
        }));
        assertEquals(RunResult.Kind.EXIT, b.run(Long.MAX_VALUE, Long.MAX_VALUE).kind());
        assertEquals(free.text(), paced.text());
        assertEquals(a.cpu.icount(), b.cpu.icount());
        assertEquals(a.clock.now(), b.clock.now());
        assertTrue(slept[0] > 0, "the timer workload halts between interrupts: the pacer must have waited");
    }
}
