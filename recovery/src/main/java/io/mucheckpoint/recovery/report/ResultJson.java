package io.mucheckpoint.recovery.report;

import io.mucheckpoint.recovery.ActivationTracker;
import io.mucheckpoint.recovery.Campaign;
import io.mucheckpoint.recovery.Outcome;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One injection's result as JSON: a line of a campaign journal and an element of the "results" of
 * {@code vmm inject --json} alike. The one writer and the one reader of it, so that a campaign run
 * at once, resumed from its journal or merged from shards gives the same text.
 */
public final class ResultJson {
    private ResultJson() {}

    /** A grid cell of a sweep: the retained checkpoints and the latency bound its injections ran with. */
    public record Cell(int keep, long latencyNanos) {}

    /**
     * One result as read back (or just written): its cell, its index in the fault plan, and every field
     * in the order {@link #of} puts them.
     */
    public record Entry(Cell cell, int index, Map<String, Object> fields) {
        public Outcome outcome() {
            return Outcome.valueOf((String) fields.get("outcome"));
        }

        public boolean activated() {
            return ActivationTracker.Activation.ACTIVATED.name().equals(fields.get("activation"));
        }

        /** A number field, -1 if absent (files written before it existed). */
        public long num(String key) {
            Object v = fields.get(key);
            return v instanceof Number n ? n.longValue() : -1;
        }

        /** The compact JSON of this result: one journal line (without its newline). */
        public String json() {
            return Json.write(fields);
        }
    }

    /** {@code r}, run in cell {@code cell}, as an entry. A field added to Result is one line here. */
    public static Entry of(Cell cell, Campaign.Result r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("keep", cell.keep());
        m.put("latencyNanos", cell.latencyNanos());
        m.put("index", r.index());
        m.put("fault", r.fault().toString().replace("\"", "'"));
        m.put("target", r.fault().target().name());
        m.put("location", r.fault().location());
        m.put("mask", r.fault().mask());
        m.put("at", r.fault().icount());
        m.put("activation", r.activation().name());
        m.put("outcome", r.outcome().name());
        m.put("detections", r.detections());
        m.put("recoveries", r.recoveries());
        m.put("escalations", r.escalations());
        // the fields that the measurements of docs/recovery.md read: kind, latency, corruption, cost
        Campaign.Trace t = r.trace();
        m.put("kind", r.fault().kind().name());
        m.put("hold", r.fault().hold());
        m.put("injectedNanos", t.injectedNanos());
        m.put("firstSharing", t.firstSharing());
        m.put("detectIcount", t.detectIcount());
        m.put("detectNanos", t.detectNanos());
        m.put("detector", t.detector());
        m.put("newestId", t.newestId());
        m.put("targetId", t.targetId());
        m.put("targetIcount", t.targetIcount());
        m.put("newestHeldError", t.newestHeldError());
        m.put("targetHeldError", t.targetHeldError());
        m.put("rollbacks", t.rollbacks());
        m.put("reexecuted", t.reexecuted());
        m.put("reapplied", t.reapplied());
        m.put("instructions", r.instructions());
        return new Entry(cell, r.index(), m);
    }

    /**
     * Reads one result back from its JSON (a journal line).
     *
     * @throws IllegalArgumentException if it is not a result's JSON
     */
    @SuppressWarnings("unchecked")
    public static Entry read(String json) {
        Object v = Json.parse(json);
        if (!(v instanceof Map<?, ?> map)) throw new IllegalArgumentException("not a JSON object");
        Map<String, Object> m = (Map<String, Object>) map;
        for (String k : new String[] {"keep", "latencyNanos", "index"}) {
            if (!(m.get(k) instanceof Long)) throw new IllegalArgumentException("no \"" + k + "\" number");
        }
        try {
            Outcome.valueOf(String.valueOf(m.get("outcome")));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("no outcome (\"outcome\":" + Json.write(m.get("outcome")) + ")");
        }
        Cell cell = new Cell(((Long) m.get("keep")).intValue(), (Long) m.get("latencyNanos"));
        return new Entry(cell, ((Long) m.get("index")).intValue(), m);
    }
}
