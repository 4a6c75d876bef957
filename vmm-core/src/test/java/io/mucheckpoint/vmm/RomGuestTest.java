package io.mucheckpoint.vmm;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * guests/rom, the project's own ROM, booted through the reset vector as {@code vmm run --bios}
 * does: a far jump to F000:xxxx, real mode (a write into the ROM window must be dropped), protected
 * mode (the 4 GiB copy must equal the low window), then 16-bit stack and MOV SS checks. Its console
 * must be exactly guests/expected/rom.txt and its POST codes guests/expected/rom.post, both written
 * by hand from the guest's source (each check prints the value the SDM rule gives, and "ok" when
 * the processor agreed), and it must exit with status 0. {@code guests/check-qemu-rom.sh} holds
 * QEMU's {@code -bios} run to the same files.
 */
class RomGuestTest {
    @Test
    void bootsThroughTheResetVectorAndPrintsWhatItsSourceSays() throws Exception {
        byte[] rom = Files.readAllBytes(Workloads.guests().resolve("build/rom.bin"));
        String expected = Files.readString(Workloads.guests().resolve("expected/rom.txt"), StandardCharsets.UTF_8);
        List<String> expectedPost = Files.readAllLines(Workloads.guests().resolve("expected/rom.post"));
        ConsoleCapture console = new ConsoleCapture();
        Machine m = new Machine(MachineConfig.defaults(), new GuestImage.Bios("rom.bin", rom), console, b -> {});
        List<String> post = new ArrayList<>();
        m.post.setListener(code -> post.add(String.format("%02x", code)));
        RunResult r = m.run(Long.MAX_VALUE, 10_000_000L);
        assertEquals(RunResult.Kind.EXIT, r.kind(), r.message() + "\n" + console.text());
        assertEquals(expected, console.text());
        assertEquals(expectedPost, post, "POST codes at port 0x80");
        assertEquals(0, r.exitStatus(), "the number of failed checks");
    }
}
