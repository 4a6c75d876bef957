package io.mucheckpoint.recovery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mucheckpoint.checkpoint.CheckpointConfig;
import io.mucheckpoint.checkpoint.CheckpointEngine;
import io.mucheckpoint.checkpoint.CheckpointInfo;
import io.mucheckpoint.vmm.ConsoleCapture;
import io.mucheckpoint.vmm.Machine;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Debian's i386 kernel with a busybox initramfs boots from reset with checkpointing at 50 ms,
 * finds its virtio-blk disk and reaches a shell (the one boot of the suite, {@link LinuxGuest});
 * from there a computation with a known result runs, is rolled back to a checkpoint taken in the
 * middle of it, runs again and gives the same result.
 */
class LinuxBootTest {
    static final int LOOPS = 3000; // about 0.9 s of guest time: many checkpoints during it

    /** The same computation the guest's shell does, for the expected result. */
    static long expected() {
        long s = 0;
        for (int i = 0; i < LOOPS; i++) s = (s * 31 + i) % 1000003;
        return s;
    }

    @Test
    void bootsToAShellWithCheckpointingAndFindsTheDisk() throws Exception {
        LinuxGuest.Booted b = LinuxGuest.booted();
        assertTrue(b.transcript().contains("uCheckpoint initramfs: Linux 6.1.0-"), b.transcript());
        assertTrue(b.transcript().contains("init: disk drivers loaded: vda"), b.transcript());
        assertTrue(b.checkpointsDuringBoot() > 100, "checkpointing stayed on during the boot: " + b.checkpointsDuringBoot());
    }

    @Test
    void aComputationRolledBackInTheMiddleGivesTheSameResult() throws Exception {
        ConsoleCapture console = new ConsoleCapture();
        Machine m = LinuxGuest.restore(console);
        CheckpointEngine engine = new CheckpointEngine(m, CheckpointConfig.defaults()); // 50 ms, cow, history
        Map<Integer, Integer> consoleAt = new HashMap<>();
        engine.addBoundaryListener(c -> consoleAt.put(c.id(), console.size()));
        engine.start();
        // The markers are computed by the shell, so the echo of the typed line does not contain them.
        LinuxGuest.type(m, "uname -a; echo COMPUTE-$((6*7)); i=0; s=0; while [ $i -lt " + LOOPS + " ]; do s=$(( (s*31 + i) % 1000003 ));"
                + " i=$((i+1)); done; echo RES''ULT=$s");
        LinuxGuest.runUntilLine(m, engine, console, "RESULT=", 4_000_000_000L);
        String first = console.text();
        int started = first.indexOf("COMPUTE-42");
        int ended = first.indexOf("RESULT=");
        assertTrue(started > 0 && ended > started, first);
        CheckpointInfo target = null;
        for (CheckpointInfo c : engine.checkpoints()) {
            int at = consoleAt.get(c.id());
            if (at > started && at <= ended) target = c; // COMPUTE-42 printed, RESULT not yet
        }
        assertTrue(target != null, "no checkpoint retained from the middle of the computation (output "
                + started + "-" + ended + ", checkpoints at " + consoleAt + "):\n" + first);
        engine.rollback(target.id());
        console.truncate(consoleAt.get(target.id()));
        LinuxGuest.runUntilLine(m, engine, console, "RESULT=", 4_000_000_000L);
        String out = console.text();
        assertTrue(out.contains("Linux (none) 6.1.0-"), out);
        Matcher res = Pattern.compile("RESULT=(\\d+)").matcher(out);
        assertTrue(res.find(), out);
        assertEquals(expected(), Long.parseLong(res.group(1)));
        assertEquals(first, out, "the re-run printed the same output");
    }
}
