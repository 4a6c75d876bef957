package io.mucheckpoint.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mucheckpoint.vmm.ConsoleCapture;
import io.mucheckpoint.vmm.GuestImage;
import io.mucheckpoint.vmm.Machine;
import io.mucheckpoint.vmm.MachineConfig;
import io.mucheckpoint.vmm.RunResult;
import io.mucheckpoint.vmm.Workloads;
import io.mucheckpoint.vmm.disk.DriveConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;

/**
 * Disk blocks roll back with memory: guests/kernels/diskio (random writes and reads on a
 * virtio-blk disk, checked against its host-built oracle in guests/expected) and diskfile (a
 * one-sector file driven from the console) under the engine, with rollbacks, requests in flight
 * at checkpoints, snapshot files and corrupted block images.
 */
class DiskCheckpointTest {
    private static final long RAM = 32L << 20;
    @TempDir
    Path dir;

    private Path zeroImage(String name, long bytes) throws Exception {
        Path f = dir.resolve(name);
        try (var ch = java.nio.channels.FileChannel.open(f, java.nio.file.StandardOpenOption.CREATE_NEW,
                java.nio.file.StandardOpenOption.WRITE)) {
            ch.truncate(bytes);
            ch.write(java.nio.ByteBuffer.allocate(1), bytes - 1);
        }
        return f;
    }

    private Machine machine(String kernel, String args, Path image, ConsoleCapture console) throws Exception {
        MachineConfig cfg = MachineConfig.defaults().withRam(RAM).withDrives(List.of(new DriveConfig(image, false, false)));
        return new Machine(cfg, Workloads.multiboot(kernel, args), console, b -> {});
    }

    private static String expectedDiskio() throws Exception {
        return Files.readString(Workloads.guests().resolve("expected/diskio.test.txt"), StandardCharsets.UTF_8);
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(CheckpointConfig.Mode.class)
    void rollbacksWithRequestsInFlightRestoreDiskAndRamExactly(CheckpointConfig.Mode mode) throws Exception {
        Path img = zeroImage("d.img", 8L << 20);
        // The uninterrupted run: its output is the host oracle's, its end state the reference.
        ConsoleCapture plain = new ConsoleCapture();
        Machine ref = machine("diskio", "size=test", img, plain);
        RunResult rr = ref.run(Long.MAX_VALUE, Long.MAX_VALUE);
        assertEquals(RunResult.Kind.EXIT, rr.kind(), rr.message());
        assertEquals(expectedDiskio(), plain.text());
        long refIcount = ref.cpu.icount();
        long refHash = MachineHash.of(ref);
        assertTrue(ref.drives.get(0).disk().presentBlocks() > 100, "the workload wrote to the disk");

        ConsoleCapture console = new ConsoleCapture();
        Machine m = machine("diskio", "size=test", img, console);
        CheckpointConfig cfg = CheckpointConfig.defaults().withMode(mode).withInterval(Interval.instructions(3_000_000))
                .withKeep(mode == CheckpointConfig.Mode.FULL ? 4 : 64).withLatencyNanos(Long.MAX_VALUE / 4)
                .withMemoryBudget(mode == CheckpointConfig.Mode.FULL ? 5 * RAM : 2 * RAM + (64L << 20));
        CheckpointEngine engine = new CheckpointEngine(m, cfg);
        Map<Integer, Long> hashes = new HashMap<>();
        Map<Integer, Integer> consoleAt = new HashMap<>();
        List<Integer> inFlight = new ArrayList<>();
        engine.addBoundaryListener(c -> {
            hashes.put(c.id(), MachineHash.of(m));
            consoleAt.put(c.id(), console.size());
            if (m.drives.get(0).nextDeadline() != Long.MAX_VALUE) inFlight.add(c.id());
        });
        engine.start();
        Random rnd = new Random(mode.ordinal() * 17L + 5);
        int rollbacks = 0, inFlightRollbacks = 0;
        long nextForced = 0;
        RunResult r;
        while (true) {
            r = engine.run(Long.MAX_VALUE, m.cpu.icount() + 20_000);
            if (r.finished()) break;
            // Take extra checkpoints while a request is in flight (between notify and completion).
            if (m.drives.get(0).nextDeadline() != Long.MAX_VALUE && m.cpu.icount() >= nextForced) {
                engine.checkpointNow();
                nextForced = m.cpu.icount() + 5_000_000;
            }
            if (m.cpu.icount() > (rollbacks + 1) * 25_000_000L && rollbacks < 4) {
                List<CheckpointInfo> cps = engine.checkpoints();
                List<CheckpointInfo> flying = cps.stream().filter(c -> inFlight.contains(c.id())).toList();
                CheckpointInfo target = !flying.isEmpty() && rollbacks % 2 == 0 ? flying.get(rnd.nextInt(flying.size()))
                        : cps.get(rnd.nextInt(cps.size()));
                if (inFlight.contains(target.id())) inFlightRollbacks++;
                engine.rollback(target.id());
                assertEquals(hashes.get(target.id()), MachineHash.of(m), "RAM, devices and disk after rolling back to " + target.id());
                console.truncate(consoleAt.get(target.id()));
                rollbacks++;
            }
        }
        assertEquals(RunResult.Kind.EXIT, r.kind(), r.message());
        assertEquals(expectedDiskio(), console.text());
        assertEquals(refIcount, m.cpu.icount(), "instructions retired, compared with the uninterrupted run");
        assertEquals(refHash, MachineHash.of(m), "RAM, devices and disk at the end, compared with the uninterrupted run");
        assertEquals(4, rollbacks);
        assertTrue(inFlightRollbacks >= 1, "rolled back to a checkpoint with a request in flight");
        assertTrue(engine.blocksCaptured() > 0 && engine.blocksRestored() > 0);
        assertTrue(engine.integrityCheck().isEmpty());
        assertFalse(Files.readAllBytes(img).length != 8 << 20);
        assertTrue(isAllZero(img), "the image file itself is never written");
    }

    private static boolean isAllZero(Path f) throws Exception {
        for (byte b : Files.readAllBytes(f)) if (b != 0) return false;
        return true;
    }

    @Test
    void aRolledBackGuestReadsTheOldContents() throws Exception {
        Path img = zeroImage("f.img", 64 << 10);
        ConsoleCapture console = new ConsoleCapture();
        Machine m = machine("diskfile", "", img, console);
        CheckpointEngine engine = new CheckpointEngine(m, CheckpointConfig.defaults());
        engine.start();
        runUntil(engine, m, console, "diskfile ready\n");
        type(m, 'r');
        runUntil(engine, m, console, "read: (empty)\n");
        CheckpointInfo beforeWrite = engine.checkpointNow();
        int consoleAtCheckpoint = console.size();
        type(m, 'w');
        runUntil(engine, m, console, "wrote version 1\n");
        type(m, 'r');
        runUntil(engine, m, console, "read: version 1\n");
        assertEquals(1, m.drives.get(0).disk().presentBlocks());

        engine.rollback(beforeWrite.id()); // the user's rollback: the timeline forks, later input is dropped
        console.truncate(consoleAtCheckpoint);
        assertEquals(0, m.drives.get(0).disk().presentBlocks(), "the written block left the overlay");
        type(m, 'r');
        runUntil(engine, m, console, "read: (empty)\n");
        type(m, 'w');
        runUntil(engine, m, console, "wrote version 1\n"); // the counter in RAM rolled back too
        type(m, 'q');
        RunResult r = finish(engine, m);
        assertEquals(RunResult.Kind.EXIT, r.kind(), r.message());
        assertEquals("diskfile ready\nread: (empty)\nread: (empty)\nwrote version 1\n", console.text());
    }

    @Test
    void aSnapshotFileCarriesTheOverlay() throws Exception {
        Path img = zeroImage("s.img", 8L << 20);
        ConsoleCapture first = new ConsoleCapture();
        Machine m = machine("diskio", "size=test", img, first);
        RunResult r = m.run(Long.MAX_VALUE, 60_000_000);
        assertFalse(r.finished());
        assertTrue(m.drives.get(0).disk().presentBlocks() > 0);
        Path snap = dir.resolve("m.snap");
        SnapshotFile.save(m, snap);
        long hashAtSave = MachineHash.of(m);

        SnapshotFile.Contents c = SnapshotFile.load(snap);
        assertEquals(1, c.config().drives().size());
        ConsoleCapture second = new ConsoleCapture();
        Machine restored = new Machine(c.config(), new GuestImage.Restored(c.imageName(), c.rom()), second, b -> {});
        SnapshotFile.apply(c, restored);
        assertEquals(hashAtSave, MachineHash.of(restored), "RAM, devices and disk as saved");
        r = restored.run(Long.MAX_VALUE, Long.MAX_VALUE);
        assertEquals(RunResult.Kind.EXIT, r.kind(), r.message());
        assertEquals(expectedDiskio(), first.text() + second.text());

        Files.write(img, new byte[4 << 20]); // the base image changed size since the snapshot
        SnapshotFile.Contents again = SnapshotFile.load(snap);
        Machine other = new Machine(again.config(), new GuestImage.Restored(again.imageName(), again.rom()), b -> {}, b -> {});
        var e = assertThrows(SnapshotFile.SnapshotFormatException.class, () -> SnapshotFile.apply(again, other));
        assertTrue(e.getMessage().contains("the snapshot was taken with 8388608"), e.getMessage());
    }

    @Test
    void aSnapshotWithAnEmptyOverlayLoads() throws Exception {
        Path img = zeroImage("e.img", 64 << 10);
        Machine m = machine("diskfile", "", img, new ConsoleCapture());
        assertEquals(0, m.drives.get(0).disk().presentBlocks());
        Path snap = dir.resolve("e.snap");
        SnapshotFile.save(m, snap);
        SnapshotFile.Contents c = SnapshotFile.load(snap);
        assertEquals(0, c.disks().get(0).blocks().length);
    }

    @Test
    void aCorruptBlockImageMakesItsCheckpointAndOlderUnreachable() throws Exception {
        Path img = zeroImage("c.img", 8L << 20);
        Machine m = machine("diskio", "size=test", img, new ConsoleCapture());
        CheckpointEngine engine = new CheckpointEngine(m, CheckpointConfig.defaults().withInterval(Interval.instructions(5_000_000))
                .withKeep(64).withLatencyNanos(0).withMemoryBudget(2 * RAM + (64L << 20)));
        engine.start();
        engine.run(Long.MAX_VALUE, 60_000_000);
        List<CheckpointInfo> cps = engine.checkpoints();
        int victim = -1;
        for (int i = cps.size() - 3; i >= 0 && victim < 0; i--) {
            try {
                engine.corruptBlockImage(cps.get(i).id(), 12345);
                victim = cps.get(i).id();
            } catch (IllegalStateException e) {
                // no block image in that epoch's log
            }
        }
        assertTrue(victim >= 0, "some epoch wrote to a block already in the overlay");
        int target = cps.get(0).id();
        long icount = m.cpu.icount();
        var e = assertThrows(CheckpointUnreachableException.class, () -> engine.rollback(target));
        assertTrue(e.getMessage().contains("checkpoint"), e.getMessage());
        assertEquals(icount, m.cpu.icount(), "nothing was changed");
        assertTrue(engine.integrityCheck().contains(victim));
        int newer = cps.get(cps.size() - 1).id();
        engine.rollback(newer); // newer than the corrupt log: still reachable
    }

    private static void type(Machine m, char c) {
        m.offerInput(c);
    }

    private static void runUntil(CheckpointEngine engine, Machine m, ConsoleCapture console, String suffix) {
        long limit = m.cpu.icount() + 200_000_000;
        while (!console.text().endsWith(suffix)) {
            RunResult r = engine.run(Long.MAX_VALUE, m.cpu.icount() + 100_000);
            assertFalse(r.finished(), r.message() + "\n" + console.text());
            assertTrue(m.cpu.icount() < limit, "waited too long for '" + suffix.trim() + "':\n" + console.text());
        }
    }

    private static RunResult finish(CheckpointEngine engine, Machine m) {
        RunResult r;
        do {
            r = engine.run(Long.MAX_VALUE, m.cpu.icount() + 1_000_000);
        } while (!r.finished());
        return r;
    }
}
