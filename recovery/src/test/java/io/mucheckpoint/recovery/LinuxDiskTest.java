package io.mucheckpoint.recovery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mucheckpoint.checkpoint.CheckpointConfig;
import io.mucheckpoint.checkpoint.CheckpointEngine;
import io.mucheckpoint.checkpoint.CheckpointInfo;
import io.mucheckpoint.vmm.ConsoleCapture;
import io.mucheckpoint.vmm.Machine;
import io.mucheckpoint.vmm.RunResult;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Linux on the virtio-blk disk, judged by the host's own tools: the ext4 image made by
 * guests/linux/mkdisk.sh is mounted, files are written and read back (their checksums computed on
 * the host), a rollback takes a written file back to its old contents, and a fault injected while
 * the guest writes is recovered; afterwards the disk as the guest left it passes e2fsck and
 * debugfs reads the files the host expects.
 */
class LinuxDiskTest {
    @TempDir
    Path dir;

    private static String numbers(int n) {
        StringBuilder b = new StringBuilder();
        for (int i = 1; i <= n; i++) b.append(i).append('\n');
        return b.toString();
    }

    private static String md5(String s) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(s.getBytes(StandardCharsets.US_ASCII)));
    }

    /** The disk as the guest left it, as a file the host's tools can read. */
    private Path diskAsTheGuestSeesIt(Machine m) throws Exception {
        Path copy = dir.resolve("seen-" + System.nanoTime() + ".img");
        Files.copy(LinuxGuest.booted().diskImage(), copy);
        m.drives.get(0).disk().commitTo(copy);
        return copy;
    }

    /** A host tool of e2fsprogs (in /usr/sbin, which a user's PATH may lack). */
    static String tool(String name) {
        for (String d : (System.getenv().getOrDefault("PATH", "") + ":/usr/sbin:/sbin").split(":")) {
            if (!d.isEmpty() && Files.isExecutable(Path.of(d, name))) return Path.of(d, name).toString();
        }
        LinuxGuest.require(false, name + " is not installed (Debian package e2fsprogs)");
        return name;
    }

    private static void assertCleanExt4(Path image) throws Exception {
        String fsck = LinuxGuest.output(List.of(tool("e2fsck"), "-fn", image.toString()));
        assertTrue(fsck.startsWith("exit 0\n"), "e2fsck found problems:\n" + fsck);
    }

    private static String debugfsCat(Path image, String file) throws Exception {
        Process p = new ProcessBuilder(tool("debugfs"), "-R", "cat " + file, image.toString())
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
        p.waitFor();
        return out;
    }

    @Test
    void filesWrittenInTheGuestAreOnTheDiskTheHostReads() throws Exception {
        ConsoleCapture console = new ConsoleCapture();
        Machine m = LinuxGuest.restore(console);
        CheckpointEngine engine = new CheckpointEngine(m, CheckpointConfig.defaults());
        engine.start();
        LinuxGuest.type(m, "mount -t ext4 /dev/vda /mnt && cat /mnt/" + LinuxGuest.HOST_FILE + " && seq 1 5000 > /mnt/numbers.txt"
                + " && cp /mnt/numbers.txt /mnt/copy.txt && md5sum /mnt/numbers.txt /mnt/copy.txt && sync && umount /mnt"
                + " && echo DISK-$((1+1))");
        LinuxGuest.runUntilLine(m, engine, console, "DISK-2", 3_000_000_000L);
        String out = console.text();
        assertTrue(out.contains("\n" + LinuxGuest.HOST_TEXT + "\r\n"), "the guest read the host's file:\n" + out);
        String sum = md5(numbers(5000));
        assertTrue(out.contains(sum + "  /mnt/numbers.txt") && out.contains(sum + "  /mnt/copy.txt"),
                "md5 in the guest equals the host's " + sum + ":\n" + out);
        assertTrue(engine.blocksCaptured() > 0, "the engine kept block pre-images");
        Path seen = diskAsTheGuestSeesIt(m);
        assertCleanExt4(seen);
        assertEquals(numbers(5000), debugfsCat(seen, "/numbers.txt"));
        assertEquals(numbers(5000), debugfsCat(seen, "/copy.txt"));
        assertTrue(isUnchanged(), "the base image is never written without ,writeback");
    }

    private static boolean isUnchanged() throws Exception {
        return debugfsCat(LinuxGuest.booted().diskImage(), "/numbers.txt").isEmpty();
    }

    @Test
    void aRollbackTakesAWrittenFileBackToItsOldContents() throws Exception {
        ConsoleCapture console = new ConsoleCapture();
        Machine m = LinuxGuest.restore(console);
        CheckpointEngine engine = new CheckpointEngine(m, CheckpointConfig.defaults());
        engine.start();
        String file = "/mnt/" + LinuxGuest.HOST_FILE;
        LinuxGuest.type(m, "mount -t ext4 /dev/vda /mnt && cat " + file + " && echo MOUNTED-$((2+2))");
        LinuxGuest.runUntilLine(m, engine, console, "MOUNTED-4", 2_000_000_000L);
        CheckpointInfo beforeWrite = engine.checkpointNow();
        int consoleAt = console.size();
        LinuxGuest.type(m, "echo changed-by-the-guest > " + file + " && sync && echo 3 > /proc/sys/vm/drop_caches && cat " + file
                + " && echo WROTE-$((3+3))");
        LinuxGuest.runUntilLine(m, engine, console, "WROTE-6", 2_000_000_000L);
        assertTrue(console.text().substring(consoleAt).contains("\nchanged-by-the-guest\r\n"), console.text());

        engine.rollback(beforeWrite.id()); // the user's rollback: a new timeline from before the write
        console.truncate(consoleAt);
        // Caches dropped, so the file is read from the disk: the block itself must be the old one.
        LinuxGuest.type(m, "echo 3 > /proc/sys/vm/drop_caches; cat " + file + "; sync; umount /mnt && echo AFTER-$((4+4))");
        LinuxGuest.runUntilLine(m, engine, console, "AFTER-8", 2_000_000_000L);
        String after = console.text().substring(consoleAt);
        assertTrue(after.contains("\n" + LinuxGuest.HOST_TEXT + "\r\n"), "the old contents after the rollback:\n" + after);
        assertTrue(!after.contains("changed-by-the-guest\r\n"), after);
        Path seen = diskAsTheGuestSeesIt(m);
        assertCleanExt4(seen);
        assertEquals(LinuxGuest.HOST_TEXT + "\n", debugfsCat(seen, "/" + LinuxGuest.HOST_FILE));
    }

    @Test
    void aFaultWhileTheGuestWritesIsRecoveredAndTheFileSystemStaysConsistent() throws Exception {
        ConsoleCapture screen = new ConsoleCapture();
        ReplayConsole console = new ReplayConsole(screen, false);
        Machine m = LinuxGuest.restore(console);
        CheckpointEngine engine = new CheckpointEngine(m, CheckpointConfig.defaults());
        // The console detector with the kernel's patterns, and what busybox prints when a program it ran crashed.
        List<String> patterns = new ArrayList<>(ConsolePatternDetector.LINUX);
        patterns.addAll(List.of("Segmentation fault", "Illegal instruction"));
        RecoveryManager recovery = new RecoveryManager(m, engine, 100_000_000L, console)
                .withConsolePatterns(new ConsolePatternDetector(patterns));
        LinuxGuest.type(m, "mount -t ext4 /dev/vda /mnt && i=0 && while [ $i -lt 12 ]; do seq 1 3000 > /mnt/f$i; i=$((i+1)); done"
                + " && sync && md5sum /mnt/f0 /mnt/f11 && umount /mnt && echo DONE-$((5+5))");
        RunResult r = recovery.run(Long.MAX_VALUE, m.cpu.icount() + 150_000_000); // into the writes
        assertTrue(!r.finished(), r.message());
        FaultInjector.inject(m, new Fault(Fault.Target.REG, 4, 1 << 28, -1)); // ESP: the stack pointer leaves its stack
        long limit = m.cpu.icount() + 4_000_000_000L;
        while (!screen.text().contains("DONE-10")) {
            r = recovery.run(Long.MAX_VALUE, m.cpu.icount() + 2_000_000);
            assertTrue(r.kind() == RunResult.Kind.LIMIT, r.message() + "\n" + screen.text());
            assertTrue(m.cpu.icount() < limit, screen.text());
        }
        assertTrue(recovery.detections() >= 1 && recovery.recoveries() >= 1,
                "the fault was detected and recovered (" + recovery.detections() + " detections):\n" + screen.text());
        String sum = md5(numbers(3000));
        assertTrue(screen.text().contains(sum + "  /mnt/f11"), screen.text());
        Path disk = diskAsTheGuestSeesIt(m);
        assertCleanExt4(disk);
        for (int i = 0; i < 12; i++) assertEquals(numbers(3000), debugfsCat(disk, "/f" + i), "file f" + i);
    }
}
