package io.mucheckpoint.recovery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The console-pattern detector byte by byte, and a campaign that refuses patterns its golden run prints. */
class ConsolePatternDetectorTest {
    private static List<String> feed(ConsolePatternDetector d, String text) {
        List<String> fired = new ArrayList<>();
        for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
            String p = d.accept(b & 0xFF);
            if (p != null) fired.add(p);
        }
        return fired;
    }

    @Test
    void aCopyGoesOnFromTheLineSoFarAndLeavesTheOriginalAsItWas() {
        ConsolePatternDetector d = ConsolePatternDetector.parse("linux");
        feed(d, "boot\nKernel pa");
        ConsolePatternDetector c = d.copy();
        assertEquals(List.of("Kernel panic"), feed(c, "nic - not syncing\n"));
        assertEquals(List.of("Kernel panic"), feed(d, "nic"), "the original still holds its part of the line");
        ConsolePatternDetector fired = d.copy();
        assertEquals(List.of(), feed(fired, " Oops: once a line"), "a copy knows the line has fired already");
    }

    @Test
    void firesOnceALineAtThePatternsLastByte() {
        ConsolePatternDetector d = ConsolePatternDetector.parse("linux");
        assertEquals(List.of(), feed(d, "[    1.0] Run /init as init process\nOops"));
        assertEquals(List.of("Oops:"), feed(d, ": 0002 [#1] PREEMPT SMP BUG: twice on one line\n"));
        assertEquals(List.of("Kernel panic", "general protection fault"),
                feed(d, "Kernel panic - not syncing: Fatal exception\ngeneral protection fault: 0000 [#2]\n"));
        d.accept('B');
        d.reset(); // the guest went back to before the partial line
        assertNull(d.accept('U'));
        assertEquals(List.of(), feed(d, "G: no, the B was taken back\n"));
        assertEquals(List.of("Kernel panic", "Oops:", "BUG:", "general protection fault", "Segmentation fault"),
                ConsolePatternDetector.parse("linux,Segmentation fault").patterns());
    }

    @Test
    void aCampaignRefusesAPatternItsGoldenRunPrints() throws Exception {
        Campaign c = new Campaign(FaultlabTest.CONFIG, FaultlabTest.image(0), FaultlabTest.checkpoints(0, 8), 0);
        assertThrows(IllegalArgumentException.class, () -> c.withConsolePatterns(List.of("result=")));
        c.withConsolePatterns(ConsolePatternDetector.LINUX);
    }
}
