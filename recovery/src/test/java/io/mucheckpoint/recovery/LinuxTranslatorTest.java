package io.mucheckpoint.recovery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mucheckpoint.checkpoint.CheckpointConfig;
import io.mucheckpoint.checkpoint.CheckpointEngine;
import io.mucheckpoint.checkpoint.EngineStats;
import io.mucheckpoint.cpu.Cpu;
import io.mucheckpoint.vmm.ConsoleCapture;
import io.mucheckpoint.vmm.GuestImage;
import io.mucheckpoint.vmm.Machine;
import io.mucheckpoint.vmm.RunResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;

/**
 * The translator on the Linux guest, against the interpreter alone: the same machine run twice,
 * once interpreted and once with translation as users get it, chaining blocks into regions too,
 * must agree at every checkpoint — instruction count, registers, a hash of all of RAM — and in every
 * console byte and every count of the checkpoint engine (pages trapped, dirty, pre-copied). Two
 * runs: the first 200 M instructions of the boot from reset (decompression, early paging, the
 * first interrupts), and a shell loop from the booted snapshot (ring 3, system calls, timer
 * interrupts arriving at block boundaries).
 */
class LinuxTranslatorTest {
    private static final long BOOT_PREFIX = 200_000_000L;
    private static final String SHELL_WORK = "i=0; s=0; while [ $i -lt 100 ]; do s=$(( (s*31 + i) % 1000003 )); i=$((i+1)); done;"
            + " echo SU''M=$s; ls /proc | wc -l; echo DO''NE";

    /** What one run showed: a line per checkpoint, the console, and the engine's counts. */
    record Seen(List<String> points, String console, String counts, long translated) {}

    @Test
    void theBootPrefixIsTheSameTranslated() throws Exception {
        Path dir = LinuxGuest.cacheDir();
        Path kernel = dir.resolve("bzImage"), initrd = dir.resolve("initramfs.gz");
        LinuxGuest.require(Files.isRegularFile(kernel) && Files.isRegularFile(initrd),
                "the Debian kernel and initramfs are not in " + dir + " (run guests/linux/build.sh)");
        byte[] k = Files.readAllBytes(kernel), rd = Files.readAllBytes(initrd);
        Seen interpreted = null;
        for (int mode = 0; mode < 2; mode++) {
            ConsoleCapture console = new ConsoleCapture();
            Machine m = new Machine(io.mucheckpoint.vmm.MachineConfig.defaults().withRam(256L << 20),
                    new GuestImage.Linux("bzImage", k, rd, LinuxGuest.CMDLINE), console, b -> {});
            Seen s = run(m, console, mode == 1, () -> m.cpu.icount() < BOOT_PREFIX, null);
            if (mode == 0) interpreted = s;
            else compare(interpreted, s);
        }
    }

    @Test
    void aShellLoopIsTheSameTranslated() throws Exception {
        Seen interpreted = null;
        for (int mode = 0; mode < 2; mode++) {
            ConsoleCapture console = new ConsoleCapture();
            Machine m = LinuxGuest.restore(console);
            long start = m.cpu.icount();
            // The tty ends lines with CR LF; the echo of the typed line has DO''NE, not the marker.
            Seen s = run(m, console, mode == 1, () -> !console.text().contains("\nDONE") && m.cpu.icount() < start + 1_500_000_000L,
                    SHELL_WORK);
            assertTrue(s.console().contains("\nDONE"), "the loop did not finish:\n" + s.console());
            if (mode == 0) interpreted = s;
            else compare(interpreted, s);
        }
    }

    private static void compare(Seen interpreted, Seen translated) {
        assertTrue(translated.translated() > 0, "nothing ran translated");
        assertEquals(interpreted.console(), translated.console(), "console bytes");
        assertEquals(interpreted.points().size(), translated.points().size(), "checkpoints");
        for (int i = 0; i < interpreted.points().size(); i++) {
            assertEquals(interpreted.points().get(i), translated.points().get(i), "checkpoint " + i);
        }
        assertEquals(interpreted.counts(), translated.counts(), "the engine's counts");
    }

    private static Seen run(Machine m, ConsoleCapture console, boolean translate, java.util.function.BooleanSupplier going,
                            String typed) {
        m.cpu.setTranslationThreshold(translate ? 200 : -1);
        m.cpu.setTranslationRegion(translate ? 16 : 1);
        CheckpointEngine engine = new CheckpointEngine(m, CheckpointConfig.defaults());
        List<String> points = new ArrayList<>();
        // Registers and count at every checkpoint; all of RAM (256 MiB to hash) at one in sixteen and at the end.
        engine.addBoundaryListener(c -> points.add(point(m, points.size() % 16 == 0)));
        engine.start();
        if (typed != null) LinuxGuest.type(m, typed);
        while (going.getAsBoolean()) {
            RunResult r = engine.run(Long.MAX_VALUE, m.cpu.icount() + 10_000_000);
            if (r.finished()) break;
        }
        points.add(point(m, true));
        EngineStats st = engine.stats();
        String counts = String.format("checkpoints %d, pages trapped %d, pre-copied %d, written %d, prediction hits %d, waste %d",
                st.checkpoints(), st.pagesTrapped(), st.pagesPrecopied(), st.pagesWritten(), st.predictionHits(), st.predictionWaste());
        return new Seen(points, console.text(), counts, m.cpu.translationStats().translatedInstructions());
    }

    private static String point(Machine m, boolean withRam) {
        Cpu c = m.cpu;
        StringBuilder b = new StringBuilder().append(c.icount()).append(' ').append(Integer.toHexString(c.eip()))
                .append(' ').append(Integer.toHexString(c.eflags()));
        for (int i = 0; i < 8; i++) b.append(' ').append(Integer.toHexString(c.reg(i)));
        if (!withRam) return b.toString();
        CRC32C ram = new CRC32C();
        ram.update(m.memory.backing(), 0, m.memory.ramSize());
        return b.append(" ram=").append(Long.toHexString(ram.getValue())).toString();
    }
}
