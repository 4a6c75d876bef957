package io.mucheckpoint.vmm;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import org.junit.jupiter.api.Test;

/**
 * guests/kernels/pmkernel, our own protected-mode kernel (paging with 4 KiB and 4 MiB pages and
 * CR0.WP, a ring-3 task making system calls through a DPL 3 interrupt gate onto the TSS stack,
 * demand-zero page faults resumed in the middle of REP STOSL, a copy-on-write fault, x87
 * arithmetic in ring 3), run on the machine: its console must be exactly
 * guests/expected/pmkernel.txt, which guests/kernels/pmkernel/oracle.c computes on the host (the
 * same x87 object file on the host's FPU). The same image gives the same output under QEMU
 * ({@code make -C guests check-qemu-kernels}).
 */
class ProtectedModeKernelTest {
    @Test
    void printsWhatTheHostOracleComputed() throws Exception {
        byte[] image = Files.readAllBytes(Workloads.guests().resolve("build/pmkernel.elf"));
        String expected = Files.readString(Workloads.guests().resolve("expected/pmkernel.txt"), StandardCharsets.UTF_8);
        ConsoleCapture console = new ConsoleCapture();
        Machine m = new Machine(MachineConfig.defaults(),
                new GuestImage.Multiboot("pmkernel.elf", image, "guests/build/pmkernel.elf"), console, b -> {});
        RunResult r = m.run(Long.MAX_VALUE, 50_000_000L);
        assertEquals(RunResult.Kind.EXIT, r.kind(), r.message() + "\n" + console.text());
        assertEquals(0, r.exitStatus(), console.text());
        assertEquals(expected, console.text());
    }
}
