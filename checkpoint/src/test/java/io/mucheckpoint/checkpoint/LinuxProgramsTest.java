package io.mucheckpoint.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.mucheckpoint.vmm.ConsoleCapture;
import io.mucheckpoint.vmm.GuestImage;
import io.mucheckpoint.vmm.Machine;
import io.mucheckpoint.vmm.MachineConfig;
import io.mucheckpoint.vmm.RunResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * A real program nobody here wrote, in Linux, under the checkpoint engine: Debian's i386 bzip2 in
 * the programs initramfs (guests/linux/programs.sh) compresses the corpus with checkpoints every
 * 50 ms, and the hash of its output must equal the one the same binary printed on the host,
 * recorded when the initramfs was built. Outside CI a missing initramfs skips with a message.
 */
class LinuxProgramsTest {
    private static final String CMDLINE = "console=ttyS0 nokaslr cryptomgr.notests quiet";

    static Path cacheDir() {
        String p = System.getProperty("vmm.linux.dir", System.getenv("VMM_LINUX_CACHE"));
        if (p != null) return Paths.get(p);
        Path system = Paths.get("/var/cache/mucheckpoint/linux");
        return Files.isRegularFile(system.resolve("bzImage")) ? system
                : Paths.get(System.getProperty("user.home"), ".cache", "mucheckpoint", "linux");
    }

    private static void require(boolean present, String why) {
        if (present) return;
        if ("true".equals(System.getenv("CI"))) fail(why);
        Assumptions.abort(why);
    }

    @Test
    void bzip2InLinuxUnderCheckpointingPrintsTheHostsHash() throws Exception {
        Path dir = cacheDir();
        Path kernel = dir.resolve("bzImage"), initrd = dir.resolve("programs/programs.gz"), hashes = dir.resolve("programs/programs.sha256");
        require(Files.isRegularFile(kernel) && Files.isRegularFile(initrd) && Files.isRegularFile(hashes),
                "the kernel and the programs initramfs with its host hashes are not in " + dir + " (run guests/linux/build.sh as root)");
        Matcher host = Pattern.compile("(?m)^bench bzip2 test sha256=([0-9a-f]{64}) status=0$").matcher(Files.readString(hashes));
        assertTrue(host.find(), "no host hash for bzip2 in " + hashes);

        ConsoleCapture console = new ConsoleCapture();
        Machine m = new Machine(MachineConfig.defaults().withRam(256L << 20), new GuestImage.Linux("bzImage", Files.readAllBytes(kernel),
                Files.readAllBytes(initrd), CMDLINE + " vmmcmd=\"/bench/run bzip2 test\""), console, b -> {});
        CheckpointEngine engine = new CheckpointEngine(m, CheckpointConfig.defaults());
        RunResult r = engine.run(Long.MAX_VALUE, 8_000_000_000L);
        assertEquals(RunResult.Kind.EXIT, r.kind(), r.message() + "\n" + console.text());
        assertEquals(0, r.exitStatus(), console.text());
        Matcher guest = Pattern.compile("(?m)^bench bzip2 test sha256=([0-9a-f]{64}) status=0\r?$").matcher(console.text());
        assertTrue(guest.find(), "the guest printed no hash:\n" + console.text());
        assertEquals(host.group(1), guest.group(1), "bzip2's output in the guest differs from the host's");
        assertTrue(engine.stats().checkpoints() > 100, "checkpoints were taken: " + engine.stats().toJson());
    }
}
