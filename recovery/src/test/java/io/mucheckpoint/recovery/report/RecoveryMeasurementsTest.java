package io.mucheckpoint.recovery.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The measurement page from hand-written campaign JSON whose counts are known by construction. */
class RecoveryMeasurementsTest {
    @TempDir
    Path dir;

    private static String result(int index, String target, String outcome, long at, long detectIcount, long injectedNanos,
                                 long detectNanos, boolean held, int rollbacks, long reexecuted) {
        return String.format("{\"index\":%d,\"target\":\"%s\",\"outcome\":\"%s\",\"at\":%d,\"detectIcount\":%d,\"injectedNanos\":%d,"
                        + "\"detectNanos\":%d,\"newestHeldError\":%b,\"targetHeldError\":%b,\"rollbacks\":%d,\"escalations\":%d,"
                        + "\"reexecuted\":%d}", index, target, outcome, at, detectIcount, injectedNanos, detectNanos, held, held,
                rollbacks, Math.max(0, rollbacks - 1), reexecuted);
    }

    @Test
    void countsCoverageHeldErrorsLatencyAndCost() throws Exception {
        // K=1: both detections unrecovered, both held; K=4: one of two recovered.
        String k1 = "[" + result(0, "MEM", "DETECTED_NOT_RECOVERED", 100, 300, 1000, 3000, true, 0, 0) + ","
                + result(1, "REG", "DETECTED_NOT_RECOVERED", 100, 200, 1000, 2000, true, 1, 50) + ","
                + result(2, "REG", "MASKED", 100, -1, 1000, -1, false, 0, 0) + "]";
        String k4 = "[" + result(0, "MEM", "DETECTED_RECOVERED", 100, 300, 1000, 3000, false, 3, 900) + ","
                + result(1, "REG", "DETECTED_NOT_RECOVERED", 100, 200, 1000, 2000, true, 1, 50) + ","
                + result(2, "REG", "MASKED", 100, -1, 1000, -1, false, 0, 0) + "]";
        Files.writeString(dir.resolve("grid-w.json"), "{\"command\":\"vmm inject w\",\"workload\":\"w.elf\",\"keep\":64,\"runs\":["
                + "{\"latencyNanos\":0,\"keep\":1,\"results\":" + k1 + "},{\"latencyNanos\":0,\"keep\":4,\"results\":" + k4 + "}]}");
        Files.writeString(dir.resolve("targets-w.json"), "{\"command\":\"vmm inject w --target reg,mem\",\"workload\":\"w.elf\","
                + "\"keep\":64,\"runs\":[{\"latencyNanos\":10000000,\"results\":" + k4 + "}]}");
        Path page = dir.resolve("page.md");
        RecoveryMeasurements.main(new String[] {dir.toString(), page.toString(), dir.resolve("img").toString()});
        String md = Files.readString(page);
        assertTrue(md.contains("| 1 | 0/2 (0 %, 0–66) |"), md);
        assertTrue(md.contains("| 4 | 1/2 (50 %, 9–91) |"), md);
        assertTrue(md.contains("| 0 | 2 | 1/2 (50 %, 9–91) | 1/2 (50 %, 9–91) |"), "held at K = 4:\n" + md);
        // latency: mem 2000 ns / 200 instructions; reg 1000 ns / 100 instructions
        assertTrue(md.contains("| w | mem | 1 | 1 | 2.0 µs | 2.0 µs | 2.0 µs | 200 |"), md);
        assertTrue(md.contains("| w | reg | 2 | 1 | 1.0 µs | 1.0 µs | 1.0 µs | 100 |"), md);
        // cost: two detected, rollbacks 3 and 1, re-executed 900 and 50
        assertTrue(md.contains("| all | 2 | 1 | 1 | 0 | 1 | 0 | 0 | 1.00 | 50 | 900 | 900 |"), md);
        for (String png : List.of("corruption-w.png", "latency-cdf.png", "recovery-cost.png")) {
            assertTrue(Files.size(dir.resolve("img").resolve(png)) > 1000, png);
        }
    }

    @Test
    void theJsonReaderReadsWhatInjectWrites() {
        Object v = Json.parse("{\"a\":[1,2.5,true,null,\"x\\\"y\"],\"b\":{}}");
        assertEquals(Map.of("a", java.util.Arrays.asList(1L, 2.5, true, null, "x\"y"), "b", Map.of()), v);
    }
}
