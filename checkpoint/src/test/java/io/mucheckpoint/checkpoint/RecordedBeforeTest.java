package io.mucheckpoint.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.mucheckpoint.cpu.Cpu;
import io.mucheckpoint.vmm.GuestImage;
import io.mucheckpoint.vmm.Machine;
import io.mucheckpoint.vmm.MachineConfig;
import io.mucheckpoint.vmm.RunResult;
import io.mucheckpoint.vmm.Workloads;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The interpreter's rewrite for speed (issue 15) and the translator (issue 16) must not change what
 * any guest computes, in any of the processor's {@link Mode}s: at every
 * checkpoint and at the end of each bundled workload (size=test) and of the protected-mode kernel,
 * the instruction count, the registers and a hash of all of RAM equal the values the interpreter
 * produced before the rewrite.
 *
 * <p>This is the one test whose expected values come from our own earlier output, on purpose: it is
 * a regression oracle against the pre-rewrite interpreter (whose correctness rests on other, independent
 * tests: the host-built oracles of WorkloadsTest and ProtectedModeKernelTest, the 80286 hardware
 * vectors, the native 32-bit oracle), and "unchanged by the rewrite" is exactly what it asserts.
 * The values in {@code recorded-before.tsv} were written by {@code checkpoint/record-before.sh}
 * from the commit named in the file's header, before the interpreter was changed; do not re-record
 * them to make this test pass after an interpreter change — a difference is a bug in the change (or,
 * for a deliberate change of guest-visible behaviour, needs its own justification and re-recording
 * from the commit before it).
 *
 * <p>Checkpointing is on (copy-on-write, history predictor, every 10 ms of guest time; every 100,000
 * instructions for the short kernel), so every
 * epoch revokes the TLB's write entries and the first write to each page goes through the trap: the
 * fast path and the slow path are both exercised.
 */
class RecordedBeforeTest {
    static final String RESOURCE = "/recorded-before.tsv";
    private static final long INTERVAL_MS = 10;

    static List<String> guests() {
        List<String> g = new ArrayList<>(Workloads.names());
        g.add("pmkernel");
        return g;
    }

    /**
     * How the processor runs the guest: the interpreter alone, the translator as users get it
     * (--translate on: blocks that ran 200 times plus one per translation held), everything translated on its first run, and translations that
     * chain blocks into regions. Each must give the pre-rewrite interpreter's values exactly.
     */
    enum Mode {
        INTERPRETER(-1, 1), TRANSLATOR(0, 1), TRANSLATE_ALL(1, 1), REGIONS(200, 16);

        final int threshold, regionBlocks;

        Mode(int threshold, int regionBlocks) {
            this.threshold = threshold;
            this.regionBlocks = regionBlocks;
        }
    }

    static List<org.junit.jupiter.params.provider.Arguments> cases() {
        List<org.junit.jupiter.params.provider.Arguments> out = new ArrayList<>();
        for (Mode m : Mode.values()) for (String g : guests()) out.add(org.junit.jupiter.params.provider.Arguments.of(g, m));
        return out;
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void everyCheckpointMatchesThePreRewriteInterpreter(String guest, Mode mode) throws Exception {
        List<String> expected = recorded(guest);
        assertFalse(expected.isEmpty(), "no recorded values for " + guest + " in " + RESOURCE);
        long[] translated = new long[2];
        List<String> actual = record(guest, mode, translated);
        if (mode != Mode.INTERPRETER) {
            // The translator must actually have run the guest, or this compares the interpreter with itself.
            assertTrue(translated[0] * 2 > translated[1], guest + " " + mode + ": only " + translated[0] + " of "
                    + translated[1] + " instructions ran translated");
        }
        for (int i = 0; i < Math.min(expected.size(), actual.size()); i++) {
            if (!expected.get(i).equals(actual.get(i))) {
                fail("first difference at point " + i + " of " + guest + " (" + HEADER + ")\n  before: "
                        + expected.get(i) + "\n  now:    " + actual.get(i));
            }
        }
        assertEquals(expected.size(), actual.size(), "number of checkpoints of " + guest);
    }

    /**
     * Writes the values of the current code to the file named by -Drecord.before (see
     * checkpoint/record-before.sh); without the property, does nothing.
     */
    @Test
    void recordWhenAsked() throws Exception {
        String out = System.getProperty("record.before");
        if (out == null || out.isEmpty()) return;
        StringBuilder b = new StringBuilder();
        b.append("# recorded by checkpoint/record-before.sh from commit ")
                .append(System.getProperty("record.commit", "?")).append('\n');
        b.append("# ").append(HEADER).append('\n');
        for (String g : guests()) {
            for (String line : record(g, Mode.INTERPRETER, new long[2])) b.append(line).append('\n');
        }
        Files.writeString(Path.of(out), b.toString(), StandardCharsets.US_ASCII);
    }

    /** The engine's counts (no times) of the last {@link #record}: the write trap and dirty tracking as the engine saw them. */
    private static String lastCounts;

    /**
     * The engine sees the same guest writes whether the code that made them was interpreted or
     * translated: the same pages trapped at the same first writes, the same dirty pages, the same
     * prediction outcomes.
     */
    @ParameterizedTest(name = "{0}")
    @org.junit.jupiter.params.provider.ValueSource(strings = {"compress", "churn", "pmkernel"})
    void theEngineSeesTheSameWritesWithTranslatedCode(String guest) throws Exception {
        List<String> a = record(guest, Mode.INTERPRETER, new long[2]);
        String interpreted = lastCounts;
        List<String> b = record(guest, Mode.TRANSLATE_ALL, new long[2]);
        assertEquals(a, b, guest);
        assertEquals(interpreted, lastCounts, guest + ": the engine's counts");
    }

    static final String HEADER = "guest point icount eax ecx edx ebx esp ebp esi edi eip eflags "
            + "es cs ss ds fs gs cr0 cr2 cr3 cpl halted ram-crc32c";

    private static List<String> recorded(String guest) throws IOException {
        List<String> out = new ArrayList<>();
        try (InputStream in = RecordedBeforeTest.class.getResourceAsStream(RESOURCE)) {
            if (in == null) fail(RESOURCE + " is missing from the test resources");
            for (String line : new String(in.readAllBytes(), StandardCharsets.US_ASCII).split("\n")) {
                if (line.startsWith(guest + "\t")) out.add(line);
            }
        }
        return out;
    }

    /**
     * One line per checkpoint (by id) and one for the end of the run; {@code translated} receives
     * the instructions that ran translated and all instructions.
     */
    static List<String> record(String guest, Mode mode, long[] translated) throws Exception {
        GuestImage image = guest.equals("pmkernel")
                ? new GuestImage.Multiboot("pmkernel.elf", Files.readAllBytes(Workloads.guests().resolve("build/pmkernel.elf")),
                        "guests/build/pmkernel.elf")
                : Workloads.multiboot(guest, "size=test");
        Machine m = new Machine(MachineConfig.defaults(), image, b -> {}, b -> {});
        if (mode.threshold == 0) m.cpu.setTranslationOn();
        else m.cpu.setTranslationThreshold(mode.threshold);
        m.cpu.setTranslationRegion(mode.regionBlocks);
        // The kernel is short (3.5 M instructions): checkpoints every 100,000 instructions give it as
        // many points as a workload has.
        Interval interval = guest.equals("pmkernel") ? Interval.instructions(100_000) : Interval.millis(INTERVAL_MS);
        CheckpointEngine engine = new CheckpointEngine(m, CheckpointConfig.defaults().withInterval(interval));
        List<String> lines = new ArrayList<>();
        engine.addBoundaryListener(c -> lines.add(line(guest, Integer.toString(c.id()), m)));
        RunResult r = engine.run(Long.MAX_VALUE, 100_000_000L);
        assertEquals(RunResult.Kind.EXIT, r.kind(), guest + ": " + r.message());
        assertEquals(0, r.exitStatus(), guest);
        lines.add(line(guest, "end", m));
        translated[0] = m.cpu.translationStats().translatedInstructions();
        translated[1] = m.cpu.icount();
        EngineStats st = engine.stats();
        lastCounts = String.format("checkpoints %d, pages trapped %d, pre-copied %d, written %d, prediction hits %d, waste %d",
                st.checkpoints(), st.pagesTrapped(), st.pagesPrecopied(), st.pagesWritten(), st.predictionHits(), st.predictionWaste());
        return lines;
    }

    private static String line(String guest, String point, Machine m) {
        Cpu c = m.cpu;
        StringBuilder b = new StringBuilder(guest).append('\t').append(point).append('\t').append(c.icount());
        for (int i = 0; i < 8; i++) b.append('\t').append(hex(c.reg(i)));
        b.append('\t').append(hex(c.eip())).append('\t').append(hex(c.eflags()));
        for (int s = 0; s < 6; s++) b.append('\t').append(Integer.toHexString(c.segmentSelector(s)));
        b.append('\t').append(hex(c.cr0())).append('\t').append(hex(c.cr2())).append('\t').append(hex(c.cr3()))
                .append('\t').append(c.cpl()).append('\t').append(c.halted() ? 1 : 0);
        CRC32C ram = new CRC32C();
        ram.update(m.memory.backing(), 0, m.memory.ramSize());
        b.append('\t').append(Long.toHexString(ram.getValue()));
        return b.toString();
    }

    private static String hex(int v) {
        return String.format("%08x", v);
    }
}
