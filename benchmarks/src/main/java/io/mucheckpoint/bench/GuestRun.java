package io.mucheckpoint.bench;

import io.mucheckpoint.vmm.GuestImage;
import io.mucheckpoint.vmm.Machine;
import io.mucheckpoint.vmm.MachineConfig;
import io.mucheckpoint.vmm.RunResult;
import io.mucheckpoint.vmm.load.LoadException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

/** Builds and runs one bundled workload for a benchmark. */
final class GuestRun {
    private GuestRun() {}

    static Path guests() {
        String root = System.getProperty("vmm.root");
        Path p = root != null ? Paths.get(root, "guests") : Paths.get("guests");
        if (!Files.isDirectory(p)) p = Paths.get("..", "guests");
        return p;
    }

    static GuestImage.Multiboot image(String workload, String args) {
        try {
            byte[] elf = Files.readAllBytes(guests().resolve("build").resolve(workload + ".elf"));
            return new GuestImage.Multiboot(workload + ".elf", elf, workload + ".elf " + args);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Machine machine(String workload, String args) {
        try {
            return new Machine(MachineConfig.defaults(), image(workload, args), b -> {}, b -> {});
        } catch (LoadException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    /** Runs {@code n} more instructions; returns true if the guest finished (it must then be rebooted). */
    static boolean runSlice(Machine m, long n) {
        RunResult r = m.run(Long.MAX_VALUE, m.cpu.icount() + n);
        if (r.finished() && (r.kind() != RunResult.Kind.EXIT || r.exitStatus() != 0)) throw new IllegalStateException(r.message());
        return r.finished();
    }

    /** Runs to the guest's exit; returns the instructions retired. */
    static long runToExit(Machine m) {
        RunResult r = m.run(Long.MAX_VALUE, Long.MAX_VALUE);
        if (r.kind() != RunResult.Kind.EXIT || r.exitStatus() != 0) throw new IllegalStateException(r.message());
        return m.cpu.icount();
    }
}
