package io.mucheckpoint.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.mucheckpoint.checkpoint.CheckpointConfig;
import io.mucheckpoint.checkpoint.CheckpointEngine;
import io.mucheckpoint.checkpoint.CheckpointInfo;
import io.mucheckpoint.checkpoint.Interval;
import io.mucheckpoint.recovery.ReplayConsole;
import io.mucheckpoint.vmm.ConsoleCapture;
import io.mucheckpoint.vmm.Machine;
import io.mucheckpoint.vmm.MachineConfig;
import io.mucheckpoint.vmm.RunResult;
import io.mucheckpoint.vmm.Workloads;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A guest run through a {@link GuestSession} (the console's and the terminal's way) checkpoints
 * exactly where {@code vmm run}'s engine loop does, and prints the same.
 */
class SessionTest {
    private static List<Long> positions(List<CheckpointInfo> cps) {
        return cps.stream().map(c -> c.icount() * 1_000_000_000L + c.guestNanos() % 1_000_000_000L).toList();
    }

    @ParameterizedTest
    @CsvSource({"timer, 1ms", "mcf, 250000i", "align, 3ms"})
    void checkpointsWhereTheEngineLoopDoes(String workload, String interval) throws Exception {
        Interval i = Units.interval(interval);
        CheckpointConfig config = CheckpointConfig.defaults().withInterval(i).withKeep(100_000).withLatencyNanos(50_000_000_000L);

        ConsoleCapture reference = new ConsoleCapture();
        Machine a = new Machine(MachineConfig.defaults(), Workloads.multiboot(workload, "size=test"), reference, reference);
        CheckpointEngine e = new CheckpointEngine(a, config);
        RunResult r;
        while (!(r = e.run(Long.MAX_VALUE, Long.MAX_VALUE)).finished()) {
            // LIMIT and IDLE do not happen with an unlimited run of these guests
        }
        assertEquals(RunResult.Kind.EXIT, r.kind());

        ConsoleCapture shown = new ConsoleCapture();
        GuestOutput out = new GuestOutput((b, off, len, partial) -> {
            for (int k = 0; k < len; k++) shown.write(b[off + k]);
        });
        ReplayConsole replay = new ReplayConsole(out);
        Machine b = new Machine(MachineConfig.defaults(), Workloads.multiboot(workload, "size=test"), replay, replay);
        GuestSession s = new GuestSession(b, config, out, replay);
        s.start(true);
        s.awaitStop(60_000);
        List<CheckpointInfo> got = s.call(x -> x.engine().checkpoints());
        s.close();

        assertEquals(GuestSession.State.FINISHED, s.state());
        assertEquals(a.cpu.icount(), b.cpu.icount());
        assertEquals(reference.text(), shown.text());
        assertEquals(positions(e.checkpoints()), positions(got));
    }
}
