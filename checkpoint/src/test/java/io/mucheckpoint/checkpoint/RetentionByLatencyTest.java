package io.mucheckpoint.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mucheckpoint.vmm.Machine;
import io.mucheckpoint.vmm.MachineConfig;
import io.mucheckpoint.vmm.Workloads;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Defect 5 of issue 17: the latency bound drives retention. Without --keep the engine keeps every
 * checkpoint a rollback by L needs (the newest at least L old and every newer one), however many;
 * --keep is a cap below which L is covered only partly, said once.
 */
class RetentionByLatencyTest {
    private static final long L = 100_000_000L; // 100 ms: 101 checkpoints at 1 ms epochs, more than the default 64

    private static Machine mcf() throws Exception {
        return new Machine(MachineConfig.defaults(), Workloads.multiboot("mcf", "size=test"), b -> {}, b -> {});
    }

    @Test
    void withoutKeepTheWindowOfLIsRetained() throws Exception {
        Machine m = mcf();
        CheckpointEngine engine = new CheckpointEngine(m, CheckpointConfig.defaults().withInterval(Interval.millis(1)).withLatencyNanos(L));
        List<String> warnings = new ArrayList<>();
        engine.addWarningListener(warnings::add);
        for (long ms = 110; ms <= 150; ms += 10) {
            engine.run(m.clock.fromNanos(ms * 1_000_000L), Long.MAX_VALUE);
            long now = m.clock.toNanos(m.clock.now());
            List<CheckpointInfo> cps = engine.checkpoints();
            assertTrue(cps.get(0).guestNanos() <= now - L, "at " + ms + " ms the oldest retained checkpoint ("
                    + cps.get(0).guestNanos() / 1e6 + " ms) is at least L old, so a rollback by L finds one");
            assertTrue(cps.size() > 64, cps.size() + " checkpoints retained");
            CheckpointInfo target = engine.atOrBefore(now - L);
            assertTrue(target != null && target.guestNanos() > now - L - 2_000_000L, "the target is the newest at least L old");
        }
        assertEquals(List.of(), warnings);
    }

    @Test
    void keepCapsTheWindowAndSaysSoOnce() throws Exception {
        Machine m = mcf();
        CheckpointEngine engine = new CheckpointEngine(m, CheckpointConfig.defaults().withInterval(Interval.millis(1))
                .withLatencyNanos(L).withKeep(4));
        List<String> warnings = new ArrayList<>();
        engine.addWarningListener(warnings::add);
        engine.run(m.clock.fromNanos(150_000_000L), Long.MAX_VALUE);
        assertEquals(4, engine.checkpoints().size());
        assertTrue(warnings.size() <= 1 && engine.stats().checkpointsDropped() > 100, warnings.toString());
        // the constructor's estimate or the first boundary past the cap: one warning in all, naming the bound
    }
}
