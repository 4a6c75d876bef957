package io.mucheckpoint.recovery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mucheckpoint.checkpoint.CheckpointConfig;
import io.mucheckpoint.checkpoint.Interval;
import io.mucheckpoint.vmm.GuestImage;
import io.mucheckpoint.vmm.Machine;
import io.mucheckpoint.vmm.MachineConfig;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Every outcome class on purpose, with the small guest in src/test/asm/faultlab.S: the fault
 * location and moment are chosen from the program text, so each test knows what must happen.
 */
class FaultlabTest {
    // Label addresses, written by src/test/asm/build.sh next to the image it builds.
    static final java.util.Map<String, Integer> LABELS = labels();
    static final int DEAD_HERE = LABELS.get("dead_here"), MASKED_HERE = LABELS.get("masked_here"),
            CALL_HERE = LABELS.get("call_here"), LATE_LOOP = LABELS.get("late_loop"), BUFFER = LABELS.get("buffer");
    static final int EBX = 1 + 2, ECX = 1, ESI = 6;
    static final MachineConfig CONFIG = MachineConfig.defaults().withRam(8L << 20);

    static java.util.Map<String, Integer> labels() {
        try (InputStream in = FaultlabTest.class.getResourceAsStream("/faultlab.labels")) {
            java.util.Map<String, Integer> m = new java.util.HashMap<>();
            for (String line : new String(in.readAllBytes(), StandardCharsets.US_ASCII).split("\n")) {
                String[] p = line.trim().split(" ");
                if (p.length == 2) m.put(p[0], Integer.parseInt(p[1], 16));
            }
            return m;
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    static GuestImage image(int scenario) throws IOException {
        byte[] bin;
        try (InputStream in = FaultlabTest.class.getResourceAsStream("/faultlab.bin")) {
            bin = in.readAllBytes();
        }
        bin[0x1000] = (byte) scenario;
        return new GuestImage.Flat("faultlab-" + scenario, bin, 0x100000);
    }

    /** The instruction count at which the guest first reaches {@code eip}. */
    static long icountAt(int scenario, int eip) throws Exception {
        Machine m = new Machine(CONFIG, image(scenario), b -> {}, b -> {});
        while (m.cpu.linearEip() != eip) {
            assertTrue(m.cpu.icount() < 10_000_000, "never reached " + Integer.toHexString(eip));
            assertTrue(!m.run(Long.MAX_VALUE, m.cpu.icount() + 1).finished(), "the guest ended before " + Integer.toHexString(eip));
        }
        return m.cpu.icount();
    }

    static CheckpointConfig checkpoints(long latencyNanos, int keep) {
        return CheckpointConfig.defaults().withInterval(Interval.instructions(200_000)).withLatencyNanos(latencyNanos)
                .withKeep(keep).withPredictor(CheckpointConfig.PredictorKind.NONE);
    }

    static Campaign.Result inject(int scenario, Fault f, CheckpointConfig cfg, List<String> log) throws Exception {
        Campaign c = new Campaign(CONFIG, image(scenario), cfg, 0);
        assertEquals("result=", new String(c.golden().output(), StandardCharsets.US_ASCII).substring(0, 7));
        return c.inject(0, f, e -> log.add(e.toString()));
    }

    @Test
    void aFlipInADeadRegisterIsNotActivated() throws Exception {
        List<String> log = new ArrayList<>();
        Fault f = new Fault(Fault.Target.REG, EBX, 1 << 9, icountAt(0, DEAD_HERE));
        Campaign.Result r = inject(0, f, checkpoints(0, 8), log);
        assertEquals(ActivationTracker.Activation.OVERWRITTEN, r.activation(), log.toString());
        assertEquals(Outcome.NOT_ACTIVATED, r.outcome(), r.detail());
        assertEquals(0, r.detections());
    }

    @Test
    void aFlipThatIsReadButDroppedIsMasked() throws Exception {
        List<String> log = new ArrayList<>();
        Fault f = new Fault(Fault.Target.REG, ECX, 1 << 20, icountAt(1, MASKED_HERE));
        Campaign.Result r = inject(1, f, checkpoints(0, 8), log);
        assertEquals(ActivationTracker.Activation.ACTIVATED, r.activation(), log.toString());
        assertEquals(Outcome.MASKED, r.outcome(), r.detail());
    }

    @Test
    void aFlipInAPointerRaisesAnExceptionAndIsRecovered() throws Exception {
        List<String> log = new ArrayList<>();
        Fault f = new Fault(Fault.Target.REG, ESI, 1 << 30, icountAt(2, CALL_HERE));
        Campaign.Result r = inject(2, f, checkpoints(0, 8), log);
        assertEquals(Outcome.DETECTED_RECOVERED, r.outcome(), r.detail() + "\n" + String.join("\n", log));
        assertEquals(1, r.recoveries());
        assertTrue(log.stream().anyMatch(s -> s.contains("guest-exception")), log.toString());
    }

    @Test
    void aLateDetectionNeedsALargeEnoughLatencyBoundOrEscalation() throws Exception {
        // The flip lands in the buffer at the start of the long loop (about 3 million instructions,
        // 30 ms of guest time, before the check). Checkpoints every 200,000 instructions (2 ms).
        // Through the memory door, so copy-on-write keeps the good byte (RawMemoryFaultTest has the raw upset).
        long at = icountAt(3, LATE_LOOP) + 1000;
        Fault f = new Fault(Fault.Target.MEM_DOOR, BUFFER + 100, 1 << 4, at);

        // L = 0 and only 4 checkpoints retained: every checkpoint the engine still has was taken
        // after the flip, so each rollback brings the error back, escalation runs out: not recovered.
        List<String> log = new ArrayList<>();
        Campaign.Result small = inject(3, f, checkpoints(0, 4), log);
        assertEquals(ActivationTracker.Activation.ACTIVATED, small.activation());
        assertEquals(Outcome.DETECTED_NOT_RECOVERED, small.outcome(), String.join("\n", log));
        assertTrue(log.stream().anyMatch(s -> s.contains("unrecoverable")), String.join("\n", log));

        // L = 50 ms covers the real latency: the first rollback goes to a checkpoint before the flip.
        List<String> log2 = new ArrayList<>();
        Campaign.Result large = inject(3, f, checkpoints(50_000_000L, 64), log2);
        assertEquals(Outcome.DETECTED_RECOVERED, large.outcome(), String.join("\n", log2));
        assertEquals(1, large.recoveries());
        assertEquals(0, large.escalations());

        // L = 0 but enough checkpoints kept: escalation walks back until it passes the flip.
        List<String> log3 = new ArrayList<>();
        Campaign.Result escalated = inject(3, f, checkpoints(0, 64), log3);
        assertEquals(Outcome.DETECTED_RECOVERED, escalated.outcome(), String.join("\n", log3));
        assertTrue(escalated.escalations() > 0, String.join("\n", log3));
    }

    @Test
    void aFlipNothingNoticesIsSilentDataCorruption() throws Exception {
        // The buffer's sum was saved before the loop; a flip in saved_sum's neighbour... simplest:
        // corrupt EAX right before it is printed.
        List<String> log = new ArrayList<>();
        long at = icountAt(0, DEAD_HERE) + 2; // after "add %ebx,%eax": EAX holds the result
        Fault f = new Fault(Fault.Target.REG, 0, 1 << 3, at);
        Campaign.Result r = inject(0, f, checkpoints(0, 8), log);
        assertEquals(Outcome.SDC, r.outcome(), r.detail());
    }
}
