package io.mucheckpoint.cpu;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.mucheckpoint.cpu.I686Differences.Kind;
import io.mucheckpoint.cpu.I686Differences.Rule;
import io.mucheckpoint.cpu.I686Differences.Verdict;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Runs the 80286 real-mode single-instruction vectors recorded on real hardware (SingleStepTests/
 * 80286, see ../shared/x86-tests/80286-real-mode/FORMAT.md) on the interpreter. A vector passes if
 * the processor reproduces it; where it does not, the documented i686/80286 differences in
 * {@link I686Differences} whose precondition the vector meets are tried, and the vector is
 * explained only if the processor then matches what the i686 does to the bit. Nothing is keyed by
 * the vectors themselves, so any directory of upstream files and any slice of them can be judged:
 * {@code -Dx86tests.dir=DIR} and {@code -Dx86tests.idx=FROM-TO} (inclusive). The report, per rule
 * and per opcode file, goes to docs/cpu-conformance.md for the default set and otherwise to
 * cpu-emu/target/cpu-conformance.md (or {@code -Dx86tests.report=FILE});
 * {@code -Dx86tests.dump=FILE} writes every failure, one per line, for
 * src/test/scripts/classify-286-differences.py.
 */
class Real286VectorsTest {
    /** Failures allowed: at most 0.5 % of the vectors. */
    static final double MIN_RATE = 99.5;
    /**
     * Explained vectors allowed: at most 5 %. Every one of them is checked against the i686 rule,
     * so this is not what makes them honest; it is a tripwire for a rule that starts to match far
     * more than the corner it was written for (on upstream's files it is about 2.4 %).
     */
    static final double MAX_EXPLAINED = 5.0;

    static Path defaultDir() {
        String root = System.getProperty("vmm.root", "..");
        return Paths.get(root).toAbsolutePath().normalize().resolveSibling("shared").resolve("x86-tests").resolve("80286-real-mode");
    }

    static Path vectorDir() {
        String prop = System.getProperty("x86tests.dir");
        return prop != null ? Paths.get(prop) : defaultDir();
    }

    /** The vector directory; the test is skipped (outside CI) or fails (in CI) without it. */
    static Path requiredVectorDir() {
        Path dir = vectorDir();
        if (!Files.isDirectory(dir)) {
            if ("true".equals(System.getenv("CI"))) fail("80286 test vectors not found at " + dir + " (set -Dx86tests.dir)");
            Assumptions.abort("80286 test vectors not found at " + dir + "; set -Dx86tests.dir to run them");
        }
        return dir;
    }

    /** metadata.json's "opcodes" map. */
    @SuppressWarnings("unchecked")
    static Map<String, Object> opcodes(Path dir) throws IOException {
        return (Map<String, Object>) ((Map<String, Object>) MiniJson.parse(Files.readString(dir.resolve("metadata.json")))).get("opcodes");
    }

    /** The vector files, in name order. */
    static List<Path> vectorFiles(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".json.gz")).sorted().toList();
        }
    }

    /** The idx range to judge: {@code FROM-TO} inclusive, or one idx; null means all. */
    static int[] idxRange() {
        String p = System.getProperty("x86tests.idx");
        if (p == null || p.isBlank()) return null;
        String[] parts = p.trim().split("-", 2);
        try {
            int from = Integer.parseInt(parts[0].trim());
            int to = parts.length > 1 ? Integer.parseInt(parts[1].trim()) : from;
            if (from < 0 || to < from) throw new NumberFormatException();
            return new int[] {from, to};
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("x86tests.idx must be FROM-TO or IDX (non-negative, FROM <= TO), not " + p);
        }
    }

    static final class FileResult {
        final String file;
        int total, passed, explained;
        final List<String> failures = new ArrayList<>();

        FileResult(String file) {
            this.file = file;
        }
    }

    @Test
    void realModeVectorsMatchTheHardwareOrADocumentedI686Difference() throws IOException {
        Path dir = requiredVectorDir();
        int[] range = idxRange();
        Map<String, Object> meta = opcodes(dir);
        List<Path> files = vectorFiles(dir);
        I686Differences.Judge judge = new I686Differences.Judge();
        List<FileResult> results = new ArrayList<>();
        Map<String, Integer> byRule = new LinkedHashMap<>();
        for (Rule r : I686Differences.RULES) byRule.put(r.id(), 0);
        Map<String, Integer> byCombination = new TreeMap<>();
        int total = 0, passed = 0, explained = 0, as80286 = 0;
        List<String> sample = new ArrayList<>();
        for (Path f : files) {
            String name = f.getFileName().toString().replace(".json.gz", "");
            int mask = flagsMask(meta, name);
            FileResult fr = new FileResult(name);
            for (Object t : (List<?>) MiniJson.parse(gunzip(f))) {
                @SuppressWarnings("unchecked")
                Vector286 v = new Vector286(name, (Map<String, Object>) t, mask);
                if (range != null && (v.idx < range[0] || v.idx > range[1])) continue;
                Verdict verdict = judge.judge(v);
                fr.total++;
                if (verdict.kind() == Kind.PASS) {
                    fr.passed++;
                } else if (verdict.kind() == Kind.EXPLAINED) {
                    fr.explained++;
                    for (String id : verdict.rules()) byRule.merge(id, 1, Integer::sum);
                    byCombination.merge(String.join(" + ", verdict.rules()), 1, Integer::sum);
                } else {
                    if (verdict.as80286()) as80286++;
                    String rules = verdict.rules().isEmpty() ? "" : " (rules tried: " + String.join(", ", verdict.rules()) + ")";
                    fr.failures.add(v.idx + " " + v.name + " [" + v.hash + "]: " + verdict.detail() + rules);
                }
            }
            if (fr.total == 0) continue;
            total += fr.total;
            passed += fr.passed;
            explained += fr.explained;
            if (sample.size() < 40) sample.addAll(fr.failures.subList(0, Math.min(fr.failures.size(), 3)));
            results.add(fr);
        }
        int failed = total - passed - explained;
        boolean defaultDir = dir.toAbsolutePath().normalize().equals(defaultDir());
        String where = (defaultDir ? "../shared/x86-tests/80286-real-mode (beside the clone)" : dir.toString())
                + (range == null ? ", every vector" : ", idx " + range[0] + "-" + range[1]);
        writeReport(where, defaultDir && range == null, results, byRule, byCombination, total, passed, explained);
        String dump = System.getProperty("x86tests.dump");
        if (dump != null) {
            StringBuilder all = new StringBuilder();
            for (FileResult r : results) for (String fl : r.failures) all.append(r.file).append(' ').append(fl).append('\n');
            Files.writeString(Paths.get(dump), all);
        }
        assertTrue(total > 0, "no vectors in " + where);
        double rate = 100.0 * (passed + explained) / total;
        double explainedShare = 100.0 * explained / total;
        StringBuilder summary = new StringBuilder(String.format(
                "%d vectors (%s): %d pass, %d explained by documented i686 differences (%.2f %%), %d fail; %.2f %% pass or explained",
                total, where, passed, explained, explainedShare, failed, rate));
        byRule.forEach((id, n) -> summary.append(String.format("%n  %-20s %6d", id, n)));
        System.out.println(summary);
        sample.forEach(s -> System.out.println("  FAIL " + s));
        assertTrue(explainedShare <= MAX_EXPLAINED, "a rule explains more than its corner: " + summary);
        assertTrue(as80286 == 0, as80286 + " vectors where the processor did what the 80286 did although a documented "
                + "difference says the i686 does not (an i686 behaviour lost):\n" + summary + "\n" + String.join("\n", sample));
        assertTrue(rate >= MIN_RATE, summary + "\n" + String.join("\n", sample));
    }

    private static String gunzip(Path f) throws IOException {
        try (InputStream in = new GZIPInputStream(Files.newInputStream(f))) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @SuppressWarnings("unchecked")
    static int flagsMask(Map<String, Object> meta, String name) {
        String[] parts = name.split("\\.");
        Map<String, Object> op = (Map<String, Object>) meta.get(parts[0]);
        if (op == null) return 0xFFFF;
        if (parts.length > 1 && op.get("reg") != null) {
            op = (Map<String, Object>) ((Map<String, Object>) op.get("reg")).get(parts[1]);
            if (op == null) return 0xFFFF;
        }
        Object m = op.get("flags-mask");
        return m == null ? 0xFFFF : ((Long) m).intValue();
    }

    private static void writeReport(String where, boolean defaultSet, List<FileResult> results, Map<String, Integer> byRule,
            Map<String, Integer> byCombination, int total, int passed, int explained) throws IOException {
        String root = System.getProperty("vmm.root");
        String custom = System.getProperty("x86tests.report");
        Path out;
        if (custom != null) out = Paths.get(custom);
        else if (root == null) return;
        else out = defaultSet ? Paths.get(root, "docs", "cpu-conformance.md") : Paths.get(root, "cpu-emu", "target", "cpu-conformance.md");
        int failed = total - passed - explained;
        StringBuilder b = new StringBuilder();
        b.append("# CPU conformance: 80286 real-mode vectors\n\n");
        b.append("Written by `Real286VectorsTest` on every test run (`mvn -B -pl cpu-emu verify -Dtest=Real286VectorsTest`); do not "
                + "edit by hand. Another directory of upstream files or another slice of them: `-Dx86tests.dir=DIR "
                + "-Dx86tests.idx=FROM-TO` (the report then goes to `cpu-emu/target/cpu-conformance.md`).\n\n");
        b.append("Source: SingleStepTests/80286 (real hardware, Harris N80C286-12), run in real mode with the undefined flags "
                + "upstream's metadata names masked. This run: ").append(where).append(".\n\n");
        b.append(String.format("**%d vectors: %d pass as recorded, %d explained by a documented i686 difference and then "
                + "checked against what the i686 does (%.2f %%), %d fail: %.2f %% pass or are explained.**%n%n",
                total, passed, explained, 100.0 * explained / total, failed, 100.0 * (passed + explained) / total));
        b.append("How a vector is judged. The processor runs it as FORMAT.md says; if it reproduces the 80286's result, it passes. "
                + "If not, the rules below whose precondition the vector meets (computed from the vector alone: its bytes, its "
                + "initial state, the exception the 80286 recorded; nothing is listed per vector) are tried, the smallest "
                + "combination first. A rule does not excuse the difference: it says what the i686 does instead (an expected "
                + "state derived from the initial state and the documented i686 behaviour, or the 80286's result changed exactly "
                + "where the documentation says the i686 differs), and the vector is explained only if the processor then "
                + "matches that to the bit. The test fails if the processor reproduces the 80286's result in any vector where a "
                + "rule that must change the result applies (every rule but "
                + "`undefined-flags`: an i686 behaviour lost, never tolerated), if more than ")
         .append(String.format("%.1f", 100 - MIN_RATE)).append(" % of the vectors fail, or if more than ")
         .append(String.format("%.0f", MAX_EXPLAINED)).append(" % need a rule (a tripwire for a rule that starts to match more "
                + "than its corner).\n\n");
        b.append("## The rules\n\n| rule | the difference | vectors it explains |\n|---|---|---:|\n");
        for (Rule r : I686Differences.RULES) {
            b.append("| `").append(r.id()).append("` | ").append(r.title()).append(" | ").append(byRule.get(r.id())).append(" |\n");
        }
        b.append("\nA vector may need two rules (a LOCK-prefixed POPF, an SS-overridden string instruction); it then counts for "
                + "both. The combinations in this run:\n\n| rules | vectors |\n|---|---:|\n");
        byCombination.forEach((k, n) -> b.append("| ").append(k).append(" | ").append(n).append(" |\n"));
        for (Rule r : I686Differences.RULES) {
            b.append("\n### `").append(r.id()).append("`: ").append(byRule.get(r.id())).append(" vectors\n\n");
            b.append(r.title()).append(".\n\n");
            b.append("- Documented in: ").append(r.source()).append(".\n");
            b.append("- The i686 is held to: ").append(r.check()).append(".\n");
            b.append("- Why it is right: ").append(r.why()).append(".\n");
        }
        b.append("\nNot a rule: the interrupt shadow of MOV SS and POP SS, and the single-step trap it holds, differ in no vector "
                + "(upstream never sets IF or TF); they are tested by `Stack16Test` and by `guests/rom` under QEMU.\n");
        b.append("\n## Per opcode file\n\n| opcode file | vectors | pass | explained | fail |\n|---|---:|---:|---:|---:|\n");
        for (FileResult r : results) {
            b.append(String.format("| %s | %d | %d | %d | %d |%n", r.file, r.total, r.passed, r.explained, r.failures.size()));
        }
        List<String> fails = new ArrayList<>();
        for (FileResult r : results) for (String f : r.failures) fails.add(r.file + " " + f);
        if (!fails.isEmpty()) {
            b.append("\n## Failures\n\n");
            for (String f : fails.subList(0, Math.min(fails.size(), 200))) b.append("- ").append(f).append('\n');
            if (fails.size() > 200) b.append("- … and ").append(fails.size() - 200).append(" more\n");
        }
        Files.createDirectories(out.toAbsolutePath().getParent());
        Files.writeString(out, b.toString());
    }

    /** One vector in this many is also judged with every block translated to bytecode on its first run. */
    static final int TRANSLATED_EVERY = 10;

    /**
     * The translator's differential on hardware vectors: a vector judged with translated code gets
     * the verdict the interpreter gets, to the byte of its detail (the same registers, flags and
     * memory). Independent of whether the verdict is a pass: it asks only that translating changes
     * nothing.
     */
    @Test
    void translatedCodeIsJudgedAsTheInterpreterIs() throws IOException {
        Path dir = requiredVectorDir();
        Map<String, Object> meta = opcodes(dir);
        List<Path> files = vectorFiles(dir);
        I686Differences.Judge interpreted = new I686Differences.Judge();
        interpreted.runner.cpu.setTranslationThreshold(-1);
        I686Differences.Judge translated = new I686Differences.Judge();
        translated.runner.cpu.setTranslationThreshold(1);
        int n = 0, compared = 0;
        List<String> differ = new ArrayList<>();
        for (Path f : files) {
            String name = f.getFileName().toString().replace(".json.gz", "");
            int mask = flagsMask(meta, name);
            for (Object t : (List<?>) MiniJson.parse(gunzip(f))) {
                if (n++ % TRANSLATED_EVERY != 0) continue;
                @SuppressWarnings("unchecked")
                Vector286 v = new Vector286(name, (Map<String, Object>) t, mask);
                Verdict a = interpreted.judge(v), b = translated.judge(v);
                compared++;
                if (!a.equals(b) && differ.size() < 20) {
                    differ.add(v.idx + " " + v.name + ": interpreted " + a + "\n    translated " + b);
                }
            }
        }
        assertTrue(translated.runner.cpu.translationStats().made() > compared / 2,
                "the translator was not exercised: " + translated.runner.cpu.translationStats());
        assertTrue(differ.isEmpty(), differ.size() + " of " + compared + " vectors judged differently with translation:\n  "
                + String.join("\n  ", differ));
    }
}
