package io.mucheckpoint.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** vmm run --recover --watchdog on a guest that never prints: roll back, escalate, then give up with a message. */
class WatchdogTest {
    @TempDir
    Path tmp;

    @Test
    void aGuestThatNeverPrintsIsGivenUpOnInsteadOfRolledBackForEver() throws Exception {
        Path spin = Files.write(tmp.resolve("spin.bin"), new byte[] {(byte) 0xEB, (byte) 0xFE}); // JMP $
        // The time limit only guards the test: without the fix, the run rolls back until it.
        CliRun r = CliRun.of("run", "--flat", spin + "@0x7c00", "--recover", "--watchdog", "200ms", "--time-limit", "5s");
        assertEquals(ExitStatus.GUEST_CRASH, r.status, r.toString());
        assertTrue(r.err.contains("detected: watchdog"), r.err);
        assertTrue(r.err.endsWith("vmm: unrecoverable watchdog: the guest hung again after rolling back to checkpoint 0, "
                + "the oldest retained: giving up\n"), r.err);
    }
}
