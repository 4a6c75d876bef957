package io.mucheckpoint.recovery.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mucheckpoint.recovery.ActivationTracker;
import io.mucheckpoint.recovery.Campaign;
import io.mucheckpoint.recovery.Fault;
import io.mucheckpoint.recovery.Outcome;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The journal file and the one JSON of a result: what is written is what is read, a torn tail is dropped, damage is named. */
class CampaignJournalTest {
    @TempDir
    Path dir;

    private static Campaign.Result result(int index, Outcome outcome) {
        Fault f = new Fault(Fault.Target.REG, 3, 1L << 7, 1000 + index);
        Campaign.Trace t = new Campaign.Trace(5000, 2, 1200, 6000, outcome == Outcome.MASKED ? null : "self-check \"x\"", 3, 1, 800, 1, 400, 0);
        return new Campaign.Result(index, f, ActivationTracker.Activation.ACTIVATED, outcome, 1, 1, 0, 123_456, "exit 0", t);
    }

    private static Map<String, Object> header() {
        Map<String, Object> h = new LinkedHashMap<>();
        h.put(CampaignJournal.MARK, CampaignJournal.VERSION);
        h.put("workload", "w.elf");
        h.put("latencies", List.of(0L, 10_000_000L));
        h.put("shard", "1/2");
        return h;
    }

    @Test
    void whatIsWrittenIsReadBackAsTheSameText() throws Exception {
        ResultJson.Cell cell = new ResultJson.Cell(4, 10_000_000);
        ResultJson.Entry a = ResultJson.of(cell, result(0, Outcome.DETECTED_RECOVERED)), b = ResultJson.of(cell, result(2, Outcome.MASKED));
        Path file = dir.resolve("j.jsonl");
        try (CampaignJournal j = CampaignJournal.create(file, header())) {
            j.add(a);
            j.add(b);
        }
        CampaignJournal.Contents c = CampaignJournal.read(file);
        assertEquals(Json.write(header()), Json.write(c.header()));
        assertEquals(2, c.entries().size());
        assertFalse(c.torn());
        ResultJson.Entry ra = c.entries().get(0);
        assertEquals(cell, ra.cell());
        assertEquals(0, ra.index());
        assertEquals(Outcome.DETECTED_RECOVERED, ra.outcome());
        assertTrue(ra.activated());
        assertEquals(a.json(), ra.json(), "the text of a result read back is the text written");
        assertEquals(b.json(), c.entries().get(1).json());
        assertTrue(a.json().contains("\"detector\":\"self-check \\\"x\\\"\""), a.json());
        assertTrue(b.json().contains("\"detector\":null"), b.json());
    }

    @Test
    void aTornLastLineIsSkippedAndDroppedBeforeAppending() throws Exception {
        ResultJson.Cell cell = new ResultJson.Cell(4, 0);
        Path file = dir.resolve("j.jsonl");
        try (CampaignJournal j = CampaignJournal.create(file, header())) {
            j.add(ResultJson.of(cell, result(0, Outcome.MASKED)));
        }
        String whole = Files.readString(file);
        String next = ResultJson.of(cell, result(2, Outcome.SDC)).json();
        Files.writeString(file, whole + next.substring(0, 40));
        CampaignJournal.Contents c = CampaignJournal.read(file);
        assertTrue(c.torn());
        assertEquals(1, c.entries().size());
        try (CampaignJournal j = CampaignJournal.append(c)) {
            j.add(ResultJson.of(cell, result(2, Outcome.SDC)));
        }
        assertEquals(whole + next + "\n", Files.readString(file, StandardCharsets.UTF_8));
    }

    @Test
    void damageInsideTheFileIsAnErrorNamingTheLine() throws Exception {
        Path file = dir.resolve("j.jsonl");
        ResultJson.Entry e = ResultJson.of(new ResultJson.Cell(4, 0), result(0, Outcome.MASKED));
        Files.writeString(file, Json.write(header()) + "\n" + e.json().substring(0, 30) + "\n" + e.json() + "\n");
        IllegalArgumentException x = assertThrows(IllegalArgumentException.class, () -> CampaignJournal.read(file));
        assertTrue(x.getMessage().startsWith(file + " line 2: "), x.getMessage());
        Files.writeString(file, "{\"command\":\"vmm inject\"}\n");
        x = assertThrows(IllegalArgumentException.class, () -> CampaignJournal.read(file));
        assertTrue(x.getMessage().contains("not a campaign journal"), x.getMessage());
        Files.writeString(file, Json.write(header()) + "\n{\"keep\":4,\"latencyNanos\":0,\"index\":1,\"outcome\":\"FINE\"}\n");
        x = assertThrows(IllegalArgumentException.class, () -> CampaignJournal.read(file));
        assertTrue(x.getMessage().contains("line 2: no outcome"), x.getMessage());
    }
}
