package io.mucheckpoint.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mucheckpoint.vmm.Workloads;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Nothing runs for ever in silence: --time-limit ends a run with a message, and --interval has a floor. */
class TimeLimitTest {
    @TempDir
    Path tmp;

    /** A guest that spins for ever: JMP $ at 0x7c00, in real mode. */
    private Path spinner() throws Exception {
        return Files.write(tmp.resolve("spin.bin"), new byte[] {(byte) 0xEB, (byte) 0xFE});
    }

    @Test
    void aSpinningGuestEndsAtTheGuestTimeLimit() throws Exception {
        CliRun r = CliRun.of("run", "--flat", spinner() + "@0x7c00", "--time-limit", "20ms", "--stats");
        assertEquals(ExitStatus.TIME_LIMIT, r.status, r.toString());
        assertTrue(r.err.startsWith("vmm: --time-limit 20ms reached before the guest ended (guest time)\n"), r.err);
        // 20 ms of guest time at the default 100M instructions per second.
        assertTrue(r.err.contains("run:          2,000,000 instructions in 0.020 s of guest time"), r.err);
    }

    @Test
    void anInstructionLimitCountsInstructionsAndTakesFractions() throws Exception {
        CliRun r = CliRun.of("run", "--flat", spinner() + "@0x7c00", "--time-limit", "1.5Mi", "--stats");
        assertEquals(ExitStatus.TIME_LIMIT, r.status, r.toString());
        assertTrue(r.err.startsWith("vmm: --time-limit 1500000i reached before the guest ended (1,500,000 instructions)\n"), r.err);
        assertTrue(r.err.contains("run:          1,500,000 instructions"), r.err);
    }

    @Test
    void aGuestThatEndsFirstKeepsItsOwnStatus() {
        CliRun r = CliRun.of("run", "mcf", "--append", "size=test", "--time-limit", "10s");
        assertEquals(0, r.status, r.toString());
        assertEquals(Workloads.expected("mcf", "test"), r.out);
    }

    @Test
    void aRomOfFfBytesEndsWithAMessage() throws Exception {
        // docs/reliability.md: a guest that loops or faults for ever ends or idles the run with a message.
        byte[] rom = new byte[64 << 10];
        Arrays.fill(rom, (byte) 0xFF);
        Path ff = Files.write(tmp.resolve("ff.rom"), rom);
        CliRun r = CliRun.of("run", "--bios", ff.toString(), "--time-limit", "50ms");
        assertTrue(r.status == ExitStatus.TIME_LIMIT || r.status == ExitStatus.GUEST_CRASH, r.toString());
        assertTrue(r.err.startsWith("vmm: ") && r.err.lines().count() == 1, r.toString());
    }

    @Test
    void badLimitsAreUsageErrors() {
        CliRun zero = CliRun.of("run", "mcf", "--time-limit", "0s");
        assertEquals(ExitStatus.USAGE, zero.status, zero.toString());
        assertEquals("vmm: --time-limit: '0s' is zero\n", zero.err);
        CliRun word = CliRun.of("run", "mcf", "--time-limit", "soon");
        assertEquals(ExitStatus.USAGE, word.status, word.toString());
        assertTrue(word.err.startsWith("vmm: --time-limit: 'soon' is not a duration"), word.err);
    }

    @Test
    void anIntervalBelowTheFloorIsRefusedWithTheFloorNamed() {
        for (String interval : new String[] {"1i", "9999i", "99us"}) {
            CliRun r = CliRun.of("run", "mcf", "--append", "size=test", "--interval", interval);
            assertEquals(ExitStatus.USAGE, r.status, r.toString());
            assertEquals("vmm: --interval " + interval + " is below the floor of 10000 instructions (100us of guest time at --ips 100M):"
                    + " shorter epochs spend more time in checkpoint pauses than running the guest\n", r.err);
            assertEquals("", r.out);
        }
        // The floor follows the clock rate: at 10M instructions per second, 10,000 instructions are 1 ms.
        CliRun slow = CliRun.of("run", "mcf", "--append", "size=test", "--ips", "10M", "--interval", "500us");
        assertEquals(ExitStatus.USAGE, slow.status, slow.toString());
        assertTrue(slow.err.contains("(1ms of guest time at --ips 10M)"), slow.err);
    }

    @Test
    void fractionalDurationsAreAcceptedByEveryOption() {
        CliRun r = CliRun.of("run", "mcf", "--append", "size=test", "--interval", "1.5ms", "--latency", "0.2s", "--recover",
                "--watchdog", "0.5s", "--time-limit", "2.5s", "--stats");
        assertEquals(0, r.status, r.toString());
        assertTrue(r.err.contains("interval 1500us"), r.err);
        CliRun floor = CliRun.of("run", "mcf", "--append", "size=test", "--interval", "10000i");
        assertEquals(0, floor.status, floor.toString());
    }
}
