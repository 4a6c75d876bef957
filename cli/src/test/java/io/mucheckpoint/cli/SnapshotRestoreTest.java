package io.mucheckpoint.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mucheckpoint.checkpoint.SnapshotFile;
import io.mucheckpoint.vmm.ConsoleCapture;
import io.mucheckpoint.vmm.Machine;
import io.mucheckpoint.vmm.MachineConfig;
import io.mucheckpoint.vmm.RunResult;
import io.mucheckpoint.vmm.Workloads;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A snapshot saved mid-run and restored in a new process finishes with the same output and instruction count. */
class SnapshotRestoreTest {
    @TempDir
    Path tmp;

    @Test
    void restoredInANewProcessFinishesTheSame() throws Exception {
        String workload = "timer"; // interrupts, timers and the RTC must all come back
        Machine whole = new Machine(MachineConfig.defaults(), Workloads.multiboot(workload, "size=test"), b -> {}, b -> {});
        assertEquals(RunResult.Kind.EXIT, whole.run(Long.MAX_VALUE, Long.MAX_VALUE).kind());
        long total = whole.cpu.icount();

        ConsoleCapture first = new ConsoleCapture();
        Machine m = new Machine(MachineConfig.defaults(), Workloads.multiboot(workload, "size=test"), first, b -> {});
        m.run(Long.MAX_VALUE, total / 2);
        Path file = tmp.resolve("mid.uckpt");
        SnapshotFile.save(m, file);

        ProcessBuilder pb = new ProcessBuilder(javaBin(), "-cp", System.getProperty("java.class.path"),
                "io.mucheckpoint.cli.Main", "run", "--restore", file.toString(), "--stats");
        pb.redirectErrorStream(false);
        Process p = pb.start();
        byte[] out = p.getInputStream().readAllBytes();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), err);
        String expected = Workloads.expected(workload, "test");
        assertEquals(expected, first.text() + new String(out, StandardCharsets.UTF_8));
        Matcher mm = Pattern.compile("run: +([0-9,]+) instructions").matcher(err);
        assertTrue(mm.find(), err);
        assertEquals(total, Long.parseLong(mm.group(1).replace(",", "")), "instructions retired after the restore");
    }

    @Test
    void aDamagedSnapshotIsRejectedInOneLine() throws Exception {
        Machine m = new Machine(MachineConfig.defaults(), Workloads.multiboot("mcf", "size=test"), b -> {}, b -> {});
        m.run(Long.MAX_VALUE, 1_000_000);
        Path file = tmp.resolve("s.uckpt");
        SnapshotFile.save(m, file);
        byte[] b = Files.readAllBytes(file);
        b[b.length / 2] ^= 0x40;
        Files.write(file, b);
        CliRun r = CliRun.of("run", "--restore", file.toString());
        assertEquals(ExitStatus.BAD_IMAGE, r.status, r.toString());
        assertTrue(r.err.contains("fails its checksum"), r.err);
        Files.write(file, java.util.Arrays.copyOf(Files.readAllBytes(tmp.resolve("s.uckpt")), 100));
        CliRun t = CliRun.of("run", "--restore", file.toString());
        assertEquals(ExitStatus.BAD_IMAGE, t.status, t.toString());
        assertEquals(1, t.err.lines().count(), t.err);
    }

    @Test
    void saveAtWritesARestorableSnapshot() throws Exception {
        Path file = tmp.resolve("at.uckpt");
        CliRun r = CliRun.of("run", "mcf", "--append", "size=test", "--save-at", "3000000", "--save", file.toString());
        assertEquals(0, r.status, r.toString());
        assertTrue(Files.size(file) > 1000);
        SnapshotFile.Contents c = SnapshotFile.load(file);
        assertEquals(3_000_000L, c.state().cpu().icount());
    }

    private static String javaBin() {
        return System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
    }

}
