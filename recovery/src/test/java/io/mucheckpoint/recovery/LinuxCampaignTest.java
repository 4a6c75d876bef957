package io.mucheckpoint.recovery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mucheckpoint.checkpoint.CheckpointConfig;
import io.mucheckpoint.checkpoint.CheckpointEngine;
import io.mucheckpoint.vmm.ConsoleCapture;
import io.mucheckpoint.vmm.Machine;
import io.mucheckpoint.vmm.RunResult;
import io.mucheckpoint.vmm.dev.ConsoleSink;
import io.mucheckpoint.vmm.load.LoadException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Fault injection into the Linux guest (issue 17), from the snapshot at its shell prompt
 * (LinuxGuest): the console-pattern detector catches a kernel crash, and a small campaign runs
 * injections into a shell command with the detector on. Skipped with a message where the kernel
 * is absent (outside CI).
 */
class LinuxCampaignTest {
    /** A command whose output the host can compute, then the shell exits (and init ends the VM). */
    static final String COMMAND = "seq 1 400 | md5sum; exit";

    private static String md5OfNumbers(int n) throws Exception {
        StringBuilder b = new StringBuilder();
        for (int i = 1; i <= n; i++) b.append(i).append('\n');
        return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(b.toString().getBytes(StandardCharsets.US_ASCII)));
    }

    @Test
    void aKernelCrashOnTheConsoleIsADetection() throws Exception {
        ConsoleCapture screen = new ConsoleCapture();
        ReplayConsole console = new ReplayConsole(screen, false);
        Machine m = LinuxGuest.restore(console);
        CheckpointEngine engine = new CheckpointEngine(m, CheckpointConfig.defaults());
        RecoveryManager recovery = new RecoveryManager(m, engine, 100_000_000L, console)
                .withConsolePatterns(new ConsolePatternDetector(ConsolePatternDetector.LINUX));
        List<Detection> seen = new ArrayList<>();
        recovery.addRecoveryListener(o -> seen.add(o.detection()));
        // sysrq 'c' crashes the kernel on purpose (6.1 panics: "Kernel panic - not syncing: sysrq triggered crash").
        LinuxGuest.type(m, "echo c > /proc/sysrq-trigger");
        long limit = m.cpu.icount() + 3_000_000_000L;
        while (seen.isEmpty() && m.cpu.icount() < limit) {
            RunResult r = recovery.run(Long.MAX_VALUE, m.cpu.icount() + 20_000_000);
            if (r.finished()) break;
        }
        assertTrue(!seen.isEmpty(), "no detection:\n" + screen.text());
        assertEquals("console-pattern", seen.get(0).detector(), seen.get(0) + "\n" + screen.text());
        assertTrue(ConsolePatternDetector.LINUX.stream().anyMatch(seen.get(0).detail()::contains), seen.get(0).detail());
        // The detection stops the run at the instruction that printed the pattern's last byte
        // (issue 17, defect 2): recovery starts there, before the kernel prints the rest of its line.
        assertTrue(screen.text().endsWith("Kernel panic"), screen.text());
    }

    @Test
    void aSmallCampaignRunsOnTheLinuxGuest() throws Exception {
        Campaign.Start start = new Campaign.Start() {
            @Override
            public Machine machine(ConsoleSink console) throws LoadException {
                try {
                    Machine m = LinuxGuest.restore(console);
                    LinuxGuest.type(m, COMMAND);
                    return m;
                } catch (LoadException | RuntimeException e) {
                    throw e;
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }

            @Override
            public boolean loadedPagesCount() {
                return false;
            }
        };
        CheckpointConfig cfg = CheckpointConfig.defaults().withInterval(io.mucheckpoint.checkpoint.Interval.millis(10))
                .withLatencyNanos(20_000_000L);
        Campaign c = new Campaign(start, cfg, 0).withConsolePatterns(ConsolePatternDetector.LINUX);
        String golden = new String(c.golden().output(), StandardCharsets.US_ASCII);
        assertTrue(golden.contains(md5OfNumbers(400) + "  -"), "the golden run printed the host's md5 of the numbers:\n" + golden);
        assertEquals(0, c.golden().exitStatus());
        FaultPlan plan = FaultPlan.of(c.golden(), 1, "reg,mem", 1, "raw", 0);
        List<Campaign.Result> results = c.run(plan, 0, 6, 1, n -> {});
        assertEquals(6, results.size());
        CampaignSummary s = CampaignSummary.of(cfg.latencyNanos(), cfg.keep(), results);
        System.out.println("Linux campaign, 6 injections (reg,mem, seed 1), L = 20 ms:\n" + s.table());
        for (Campaign.Result r : results) {
            assertTrue(r.outcome() != null, r.toString());
            assertTrue(r.trace().injectedNanos() >= 0, "the fault struck: " + r);
            if (r.detections() > 0) assertTrue(r.trace().detectIcount() >= r.fault().icount(), "detected after the injection: " + r);
        }
        // The same injections run from the snapshot to the end, the typed command replayed from its
        // start: fast-forward (which takes over the input the golden run had delivered) changes nothing.
        assertEquals(null, c.fastForwardUnavailable());
        assertEquals(results.size(), c.effort().fastForwarded(), "every injection started from a golden checkpoint");
        Campaign scratch = new Campaign(start, cfg, 0).withConsolePatterns(ConsolePatternDetector.LINUX).withFastForward(false, false);
        assertEquals(results, scratch.run(plan, 0, 6, 1, n -> {}));
    }
}
