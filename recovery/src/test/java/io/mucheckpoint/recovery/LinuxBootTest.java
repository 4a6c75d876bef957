package io.mucheckpoint.recovery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.mucheckpoint.checkpoint.CheckpointConfig;
import io.mucheckpoint.checkpoint.CheckpointEngine;
import io.mucheckpoint.checkpoint.CheckpointInfo;
import io.mucheckpoint.vmm.ConsoleCapture;
import io.mucheckpoint.vmm.GuestImage;
import io.mucheckpoint.vmm.Machine;
import io.mucheckpoint.vmm.MachineConfig;
import io.mucheckpoint.vmm.RunResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Debian's i386 kernel with a busybox initramfs (guests/linux/build.sh) boots on the machine with
 * checkpointing at 50 ms, runs uname and a computation with a known result through init, and ends
 * through isa-debug-exit; in between the run is rolled back to a checkpoint taken before the
 * computation, which then runs again and gives the same result.
 */
class LinuxBootTest {
    static final int LOOPS = 3000;

    /** The same computation the guest's shell does, for the expected result. */
    static long expected() {
        long s = 0;
        for (int i = 0; i < LOOPS; i++) s = (s * 31 + i) % 1000003;
        return s;
    }

    static Path cacheDir() {
        String p = System.getProperty("vmm.linux.dir", System.getenv("VMM_LINUX_CACHE"));
        if (p != null) return Paths.get(p);
        Path system = Paths.get("/var/cache/mucheckpoint/linux");
        return Files.isRegularFile(system.resolve("bzImage")) ? system
                : Paths.get(System.getProperty("user.home"), ".cache", "mucheckpoint", "linux");
    }

    @Test
    void bootsRunsAComputationRollsBackAndRunsItAgain() throws Exception {
        Path dir = cacheDir();
        Path kernel = dir.resolve("bzImage"), initrd = dir.resolve("initramfs.gz");
        if (!Files.isRegularFile(kernel) || !Files.isRegularFile(initrd)) {
            String why = "the Debian kernel and initramfs are not in " + dir + " (run guests/linux/build.sh)";
            if ("true".equals(System.getenv("CI"))) fail(why);
            Assumptions.abort(why);
        }
        String cmd = "uname -a; echo COMPUTE-START; i=0; s=0; while [ $i -lt " + LOOPS + " ]; do s=$(( (s*31 + i) % 1000003 ));"
                + " i=$((i+1)); done; echo RESULT=$s";
        String cmdline = "console=ttyS0 nokaslr cryptomgr.notests quiet vmmcmd=\"" + cmd + "\"";
        ConsoleCapture console = new ConsoleCapture();
        Machine m = new Machine(MachineConfig.defaults().withRam(256L << 20),
                new GuestImage.Linux("bzImage", Files.readAllBytes(kernel), Files.readAllBytes(initrd), cmdline), console, b -> {});
        CheckpointEngine engine = new CheckpointEngine(m, CheckpointConfig.defaults()); // 50 ms, cow, history
        Map<Integer, Integer> consoleAt = new HashMap<>();
        engine.addBoundaryListener(c -> consoleAt.put(c.id(), console.size()));
        engine.start();

        // Run until the result is printed, then go back to before the computation started.
        RunResult r;
        while (!(r = engine.run(Long.MAX_VALUE, m.cpu.icount() + 50_000_000)).finished() && !console.text().contains("RESULT=")) {
            assertTrue(m.cpu.icount() < 8_000_000_000L, "boot took too long:\n" + console.text());
        }
        assertTrue(console.text().contains("RESULT="), r.message() + "\n" + console.text());
        String first = console.text();
        int computeAt = first.indexOf("COMPUTE-START");
        assertTrue(computeAt > 0, first);
        CheckpointInfo target = null;
        for (CheckpointInfo c : engine.checkpoints()) if (consoleAt.get(c.id()) <= computeAt) target = c;
        assertTrue(target != null, "no checkpoint retained from before the computation; retained: " + engine.checkpoints().size());
        engine.rollback(target.id());
        console.truncate(consoleAt.get(target.id()));
        while (!(r = engine.run(Long.MAX_VALUE, m.cpu.icount() + 50_000_000)).finished()) {
            assertTrue(m.cpu.icount() < 12_000_000_000L, "did not finish after the rollback:\n" + console.text());
        }
        String out = console.text();
        assertEquals(RunResult.Kind.EXIT, r.kind(), r.message() + "\n" + out);
        assertEquals(0, r.exitStatus(), out);
        assertTrue(out.contains("Linux (none) 6.1.0-"), out);
        Matcher res = Pattern.compile("RESULT=(\\d+)").matcher(out);
        assertTrue(res.find(), out);
        assertEquals(expected(), Long.parseLong(res.group(1)));
        assertEquals(out.indexOf("RESULT="), first.indexOf("RESULT="), "the re-run printed the same output up to the result");
        assertEquals(first.substring(0, first.indexOf('\n', first.indexOf("RESULT="))), out.substring(0, out.indexOf('\n', out.indexOf("RESULT="))));
        assertTrue(engine.stats().checkpoints() > 100, "checkpointing stayed on during the boot");
    }
}
