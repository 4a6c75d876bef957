package io.mucheckpoint.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code vmm inject} end to end: a small campaign, its table, its JSON, and one injection replayed. */
class InjectCommandTest {
    @TempDir
    Path tmp;

    @Test
    void smallCampaignPrintsTheTableAndWritesJson() throws Exception {
        Path json = tmp.resolve("c.json");
        CliRun r = CliRun.of("inject", "compress", "--append", "size=test", "--faults", "6", "--seed", "3",
                "--sweep-latency", "0,10ms", "--workers", "1", "--json", json.toString());
        assertEquals(0, r.status, r.toString());
        assertTrue(r.out.contains("latency bound L = 0") && r.out.contains("latency bound L = 10ms"), r.out);
        assertTrue(r.out.contains("silent data corruption") && r.out.contains("total                            6"), r.out);
        assertFalse(r.err.contains("Exception"), r.err);
        String j = Files.readString(json);
        assertTrue(j.startsWith("{\"command\":\"vmm inject compress --append size=test --faults 6"), j);
        // Every latency bound classifies all six injections.
        Matcher m = Pattern.compile("\"injections\":(\\d+)").matcher(j);
        int runs = 0;
        while (m.find()) {
            assertEquals("6", m.group(1));
            runs++;
        }
        assertEquals(2, runs, j);
    }

    @Test
    void replayRunsOneInjectionWithItsLog() {
        CliRun r = CliRun.of("inject", "compress", "--append", "size=test", "--seed", "3", "--replay", "2");
        assertEquals(0, r.status, r.toString());
        assertTrue(r.out.contains("activation: ") && r.out.contains("outcome: "), r.out);
    }

    @Test
    void badValuesAreUsageErrors() {
        assertEquals(ExitStatus.USAGE, CliRun.of("inject", "--faults", "0").status);
        assertEquals(ExitStatus.USAGE, CliRun.of("inject", "--no-checkpoint").status);
        assertEquals(ExitStatus.USAGE, CliRun.of("inject", "--sweep-latency", "soon").status);
    }
}
