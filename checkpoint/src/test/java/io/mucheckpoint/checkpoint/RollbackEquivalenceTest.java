package io.mucheckpoint.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mucheckpoint.vmm.ConsoleCapture;
import io.mucheckpoint.vmm.Machine;
import io.mucheckpoint.vmm.MachineConfig;
import io.mucheckpoint.vmm.RunResult;
import io.mucheckpoint.vmm.Workloads;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * For every workload, mode and predictor: the machine's fingerprint at each checkpoint equals its
 * fingerprint after rolling back to that checkpoint later, and a run that rolls back a few times
 * and then goes on to the end prints the expected output and retires the same instructions as an
 * uninterrupted run.
 */
class RollbackEquivalenceTest {
    private static final long RAM = 48L << 20;

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (String w : Workloads.names()) {
            for (CheckpointConfig.PredictorKind p : CheckpointConfig.PredictorKind.values()) {
                out.add(Arguments.of(w, CheckpointConfig.Mode.COW, p));
            }
            out.add(Arguments.of(w, CheckpointConfig.Mode.COPY, CheckpointConfig.PredictorKind.NONE));
            out.add(Arguments.of(w, CheckpointConfig.Mode.FULL, CheckpointConfig.PredictorKind.NONE));
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("cases")
    void rollbackRestoresExactlyAndReplayMatches(String workload, CheckpointConfig.Mode mode,
                                                 CheckpointConfig.PredictorKind predictor) throws Exception {
        long expectedIcount = uninterruptedIcount(workload);
        ConsoleCapture console = new ConsoleCapture();
        Machine m = new Machine(MachineConfig.defaults().withRam(RAM), Workloads.multiboot(workload, "size=test"), console, b -> {});
        CheckpointConfig cfg = CheckpointConfig.defaults().withMode(mode).withPredictor(predictor)
                .withInterval(Interval.instructions(1_500_000)).withKeep(mode == CheckpointConfig.Mode.FULL ? 4 : 64)
                .withLatencyNanos(Long.MAX_VALUE / 4).withMemoryBudget(mode == CheckpointConfig.Mode.FULL ? 5 * RAM : 2 * RAM);
        CheckpointEngine engine = new CheckpointEngine(m, cfg);
        Map<Integer, Long> hashes = new HashMap<>();
        Map<Integer, Integer> consoleAt = new HashMap<>();
        engine.addBoundaryListener(c -> {
            hashes.put(c.id(), MachineHash.of(m));
            consoleAt.put(c.id(), console.size());
        });
        Random rnd = new Random(workload.hashCode() * 31L + mode.ordinal() * 7 + predictor.ordinal());
        int rollbacks = 0;
        long stepEnd = 4_000_000;
        RunResult r;
        while (true) {
            r = engine.run(Long.MAX_VALUE, stepEnd);
            if (r.finished()) break;
            if (rollbacks < 3) {
                List<CheckpointInfo> cps = engine.checkpoints();
                CheckpointInfo target = cps.get(rnd.nextInt(cps.size()));
                engine.rollback(target.id());
                assertEquals(hashes.get(target.id()), MachineHash.of(m),
                        "state after rolling back to checkpoint " + target.id());
                assertEquals(target.icount(), m.cpu.icount());
                console.truncate(consoleAt.get(target.id()));
                rollbacks++;
            }
            stepEnd = m.cpu.icount() + 4_000_000;
        }
        assertEquals(RunResult.Kind.EXIT, r.kind(), r.message());
        assertEquals(0, r.exitStatus());
        assertEquals(Workloads.expected(workload, "test"), console.text());
        assertEquals(expectedIcount, m.cpu.icount(), "instructions retired, compared with an uninterrupted run");
        assertTrue(rollbacks >= 2, "the run was long enough to roll back");
        assertTrue(engine.integrityCheck().isEmpty());
    }

    private static final Map<String, Long> ICOUNTS = new java.util.concurrent.ConcurrentHashMap<>();

    static long uninterruptedIcount(String workload) {
        return ICOUNTS.computeIfAbsent(workload, w -> {
            try {
                Machine m = new Machine(MachineConfig.defaults().withRam(RAM), Workloads.multiboot(w, "size=test"), b -> {}, b -> {});
                RunResult r = m.run(Long.MAX_VALUE, Long.MAX_VALUE);
                assertEquals(RunResult.Kind.EXIT, r.kind());
                return m.cpu.icount();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
    }
}
