package io.mucheckpoint.recovery;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.mucheckpoint.checkpoint.CheckpointConfig;
import io.mucheckpoint.checkpoint.CheckpointEngine;
import io.mucheckpoint.checkpoint.SnapshotFile;
import io.mucheckpoint.vmm.ConsoleCapture;
import io.mucheckpoint.vmm.GuestImage;
import io.mucheckpoint.vmm.Machine;
import io.mucheckpoint.vmm.MachineConfig;
import io.mucheckpoint.vmm.RunResult;
import io.mucheckpoint.vmm.Workloads;
import io.mucheckpoint.vmm.dev.ConsoleSink;
import io.mucheckpoint.vmm.disk.DriveConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * The Linux guest of the tests, booted once per test run (the suite's budget: only this boot
 * starts from reset): Debian's i386 kernel and busybox initramfs (guests/linux/build.sh) with an
 * ext4 disk made by guests/linux/mkdisk.sh, booted with checkpointing at 50 ms to its shell prompt
 * and saved there as a snapshot file. Each test restores its own machine from that snapshot and
 * types commands at the shell.
 */
final class LinuxGuest {
    static final String CMDLINE = "console=ttyS0 nokaslr cryptomgr.notests quiet";
    /** The file the host put on the disk, with content only the test knows in advance. */
    static final String HOST_FILE = "from-host.txt";
    static final String HOST_TEXT;

    static {
        Random r = new Random(20261203);
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < 40; i++) b.append((char) ('a' + r.nextInt(26)));
        HOST_TEXT = "host says " + b;
    }

    /** What the boot produced, and the snapshot to start from. */
    record Booted(Path snapshot, Path diskImage, String transcript, long checkpointsDuringBoot, long instructions) {}

    private static Booted booted;
    private static String unavailable;

    private LinuxGuest() {}

    static Path cacheDir() {
        String p = System.getProperty("vmm.linux.dir", System.getenv("VMM_LINUX_CACHE"));
        if (p != null) return Paths.get(p);
        Path system = Paths.get("/var/cache/mucheckpoint/linux");
        return Files.isRegularFile(system.resolve("bzImage")) ? system
                : Paths.get(System.getProperty("user.home"), ".cache", "mucheckpoint", "linux");
    }

    /** Skips the test (outside CI) or fails it (CI=true) when a real component is missing. */
    static void require(boolean present, String why) {
        if (present) return;
        if ("true".equals(System.getenv("CI"))) fail(why);
        Assumptions.abort(why);
    }

    static synchronized Booted booted() throws Exception {
        if (unavailable != null) require(false, unavailable);
        if (booted != null) return booted;
        Path dir = cacheDir();
        Path kernel = dir.resolve("bzImage"), initrd = dir.resolve("initramfs.gz");
        if (!Files.isRegularFile(kernel) || !Files.isRegularFile(initrd)) {
            unavailable = "the Debian kernel and initramfs are not in " + dir + " (run guests/linux/build.sh)";
            require(false, unavailable);
        }
        Path work = Files.createTempDirectory("vmm-linux-test");
        work.toFile().deleteOnExit();
        Path files = Files.createDirectories(work.resolve("files"));
        Files.writeString(files.resolve(HOST_FILE), HOST_TEXT + "\n");
        Path image = work.resolve("disk.img");
        if (!run(List.of(Workloads.guests().resolve("linux/mkdisk.sh").toString(), files.toString(), image.toString(), "16M"))) {
            unavailable = "guests/linux/mkdisk.sh could not make the ext4 image (is e2fsprogs installed?)";
            require(false, unavailable);
        }
        image.toFile().deleteOnExit();

        ConsoleCapture console = new ConsoleCapture();
        Machine m = new Machine(config(image), new GuestImage.Linux("bzImage", Files.readAllBytes(kernel),
                Files.readAllBytes(initrd), CMDLINE), console, b -> {});
        CheckpointEngine engine = new CheckpointEngine(m, CheckpointConfig.defaults());
        engine.start();
        runUntil(m, engine, console, "Type 'exit' to end the VM.", 8_000_000_000L);
        runUntil(m, engine, console, "/ # ", 1_000_000_000L);
        Path snap = work.resolve("booted.snap");
        SnapshotFile.save(m, snap);
        snap.toFile().deleteOnExit();
        booted = new Booted(snap, image, console.text(), engine.stats().checkpoints(), m.cpu.icount());
        return booted;
    }

    static MachineConfig config(Path image) {
        return MachineConfig.defaults().withRam(256L << 20).withDrives(List.of(new DriveConfig(image, false, false)));
    }

    /** A machine at the shell prompt after boot, printing to {@code console}. */
    static Machine restore(ConsoleSink console) throws Exception {
        SnapshotFile.Contents c = SnapshotFile.load(booted().snapshot());
        Machine m = new Machine(c.config(), new GuestImage.Restored(c.imageName(), c.rom()), console, b -> {});
        SnapshotFile.apply(c, m);
        return m;
    }

    /** Types a line at the shell. */
    static void type(Machine m, String line) {
        for (byte b : (line + "\n").getBytes(StandardCharsets.US_ASCII)) m.offerInput(b);
    }

    /** Runs (through {@code engine}, or the bare machine if null) until {@code console} contains {@code text}. */
    static void runUntil(Machine m, CheckpointEngine engine, ConsoleCapture console, String text, long maxInstructions) {
        long limit = m.cpu.icount() + maxInstructions;
        while (!console.text().contains(text)) {
            RunResult r = engine != null ? engine.run(Long.MAX_VALUE, m.cpu.icount() + 20_000_000)
                    : m.run(Long.MAX_VALUE, m.cpu.icount() + 20_000_000);
            if (r.finished()) fail("the guest stopped (" + r.message() + ") before printing '" + text + "':\n" + console.text());
            assertTrue(m.cpu.icount() < limit, "'" + text + "' did not appear within " + maxInstructions + " instructions:\n"
                    + console.text());
        }
    }

    /** Runs until a whole line starting with {@code prefix} has been printed. */
    static void runUntilLine(Machine m, CheckpointEngine engine, ConsoleCapture console, String prefix, long maxInstructions) {
        long limit = m.cpu.icount() + maxInstructions;
        java.util.regex.Pattern line = java.util.regex.Pattern.compile("(^|\n)" + java.util.regex.Pattern.quote(prefix) + "[^\n]*\n");
        while (!line.matcher(console.text()).find()) {
            RunResult r = engine != null ? engine.run(Long.MAX_VALUE, m.cpu.icount() + 5_000_000)
                    : m.run(Long.MAX_VALUE, m.cpu.icount() + 5_000_000);
            if (r.finished()) fail("the guest stopped (" + r.message() + ") before printing a line '" + prefix + "...':\n" + console.text());
            assertTrue(m.cpu.icount() < limit, "no line '" + prefix + "...' within " + maxInstructions + " instructions:\n"
                    + console.text());
        }
    }

    /** Runs a host command; true if it exited 0 within a minute. */
    static boolean run(List<String> cmd) throws Exception {
        Process p;
        try {
            p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        } catch (java.io.IOException e) {
            return false;
        }
        return p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0;
    }

    /** Runs a host command and returns its standard output (stderr merged), or fails the test. */
    static String output(List<String> cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "timed out: " + cmd);
        return "exit " + p.exitValue() + "\n" + out;
    }
}
