package io.mucheckpoint.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** vmm run --drive: the guest's disk, bad images refused in one line, writeback only when asked. */
class DriveOptionTest {
    @TempDir
    Path tmp;

    private final String diskfile = "../guests/build/diskfile.elf";

    private Path image(String name, int bytes) throws Exception {
        Path f = tmp.resolve(name);
        Files.write(f, new byte[bytes]);
        return f;
    }

    private static void oneLineError(CliRun r, int status, String contains) {
        assertEquals(status, r.status, r.toString());
        assertTrue(r.err.contains(contains), r.toString());
        assertEquals(1, r.err.strip().lines().count(), "one line: " + r);
        assertFalse(r.err.contains("Exception"), r.toString());
    }

    @Test
    void badImagesAreRefusedBeforeTheRun() throws Exception {
        oneLineError(CliRun.of("run", "--kernel", diskfile, "--drive", image("small.img", 1024).toString()),
                ExitStatus.BAD_IMAGE, "at least 4096");
        oneLineError(CliRun.of("run", "--kernel", diskfile, "--drive", image("odd.img", 8192 + 100).toString()),
                ExitStatus.BAD_IMAGE, "not a multiple of the 512-byte sector");
        oneLineError(CliRun.of("run", "--kernel", diskfile, "--drive", tmp.resolve("none.img").toString()),
                ExitStatus.NO_INPUT, "no such file");
        oneLineError(CliRun.of("run", "--kernel", diskfile, "--drive", tmp.toString()), ExitStatus.NO_INPUT, "directory");
        Path ro = image("ro.img", 65536);
        Files.setPosixFilePermissions(ro, PosixFilePermissions.fromString("r--r--r--"));
        if (!Files.isWritable(ro)) { // root can write anyway: then there is nothing to refuse
            oneLineError(CliRun.of("run", "--kernel", diskfile, "--drive", ro + ",writeback"), ExitStatus.BAD_IMAGE, "read-only");
        }
        Path unreadable = image("unreadable.img", 65536);
        Files.setPosixFilePermissions(unreadable, PosixFilePermissions.fromString("-w-------"));
        if (!Files.isReadable(unreadable)) {
            oneLineError(CliRun.of("run", "--kernel", diskfile, "--drive", unreadable.toString()), ExitStatus.NO_INPUT, "permission");
        }
        oneLineError(CliRun.of("run", "--kernel", diskfile, "--drive", image("q.img", 65536) + ",format=qcow2"),
                ExitStatus.USAGE, "only raw");
        oneLineError(CliRun.of("run", "--kernel", diskfile, "--drive", image("b.img", 65536) + ",readonly,writeback"),
                ExitStatus.USAGE, "both readonly and writeback");
        oneLineError(CliRun.of("run", "--kernel", diskfile, "--drive", image("c.img", 65536) + ",cache=none"),
                ExitStatus.USAGE, "unknown drive option");
    }

    @Test
    void theImageIsWrittenOnlyWithWriteback() throws Exception {
        Path img = image("d.img", 65536);
        byte[] before = Files.readAllBytes(img);
        CliRun r = runWithInput("wq", "run", "--kernel", diskfile, "--drive", img.toString());
        assertEquals(0, r.status, r.toString());
        assertTrue(r.out.contains("wrote version 1"), r.toString());
        assertArrayEquals(before, Files.readAllBytes(img), "without ,writeback the file is untouched");

        r = runWithInput("wq", "run", "--kernel", diskfile, "--drive", "file=" + img + ",writeback");
        assertEquals(0, r.status, r.toString());
        assertTrue(r.err.contains("wrote 1 changed block"), r.toString());
        assertTrue(new String(Files.readAllBytes(img), 0, 9).equals("version 1"), "the sector the guest wrote is in the file");

        r = runWithInput("rq", "run", "--kernel", diskfile, "--drive", img + ",readonly");
        assertEquals(0, r.status, r.toString());
        assertTrue(r.out.contains("read: version 1"), "the next run reads what was committed: " + r);
        r = runWithInput("wq", "run", "--kernel", diskfile, "--drive", img + ",readonly");
        assertEquals(1, r.status, "a write to a read-only disk fails in the guest (its self-check): " + r);
    }

    /**
     * Runs with {@code keys} on standard input. The guest resets its UART's FIFO when it starts, which
     * drops whatever arrived before (as on QEMU): 16 spaces, which diskfile ignores, fill the FIFO
     * first, so the keys themselves wait in the host's queue until the guest is ready.
     */
    private static CliRun runWithInput(String keys, String... args) {
        try {
            CliRun.input = (" ".repeat(16) + keys).getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            return CliRun.of(args);
        } finally {
            CliRun.input = new byte[0];
        }
    }
}
