package io.mucheckpoint.cpu;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Runs the 80286 real-mode single-instruction vectors recorded on real hardware
 * (SingleStepTests/80286, see ../shared/x86-tests/80286-real-mode/FORMAT.md) against the
 * interpreter. Tests where an i686 legitimately differs from the 80286 are listed, with reasons, in
 * {@code 80286-i686-differences.tsv}; every other failure counts. Per-opcode results are written to
 * docs/cpu-conformance.md.
 */
class Real286VectorsTest {
    private static final String[] REGS = {"ax", "cx", "dx", "bx", "sp", "bp", "si", "di"};
    private static final String[] SEGS = {"es", "cs", "ss", "ds"};

    static Path vectorDir() {
        String prop = System.getProperty("x86tests.dir");
        if (prop != null) return Paths.get(prop);
        String root = System.getProperty("vmm.root", "..");
        return Paths.get(root).toAbsolutePath().normalize().resolveSibling("shared").resolve("x86-tests").resolve("80286-real-mode");
    }

    record Result(String file, int total, int passed, int allowed, List<String> failures) {}

    @Test
    void realModeVectorsMatchRealHardware() throws IOException {
        Path dir = vectorDir();
        if (!Files.isDirectory(dir)) {
            if ("true".equals(System.getenv("CI"))) fail("80286 test vectors not found at " + dir + " (set -Dx86tests.dir)");
            Assumptions.abort("80286 test vectors not found at " + dir + "; set -Dx86tests.dir to run them");
        }
        Map<String, String> allowed = loadAllowed();
        @SuppressWarnings("unchecked")
        Map<String, Object> meta = (Map<String, Object>) ((Map<String, Object>) MiniJson.parse(
                Files.readString(dir.resolve("metadata.json")))).get("opcodes");
        List<Path> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.filter(p -> p.getFileName().toString().endsWith(".json.gz")).sorted().toList();
        }
        FlatMemory mem = new FlatMemory((16 << 20) + (1 << 20));
        IoBus io = new IoBus() {
            public int in(int port, int size) { return size == 1 ? 0xFF : 0xFFFF; }
            public void out(int port, int size, int value) {}
        };
        Cpu cpu = new Cpu(mem, io);
        List<Result> results = new ArrayList<>();
        int total = 0, passed = 0, allowedCount = 0, lockChecked = 0;
        List<String> sample = new ArrayList<>();
        for (Path f : files) {
            String name = f.getFileName().toString().replace(".json.gz", "");
            int mask = flagsMask(meta, name);
            List<?> tests = (List<?>) MiniJson.parse(gunzip(f));
            int p = 0, a = 0;
            List<String> failures = new ArrayList<>();
            for (Object t : tests) {
                @SuppressWarnings("unchecked")
                Map<String, Object> test = (Map<String, Object>) t;
                String hash = (String) test.get("hash");
                String why = runOne(cpu, mem, test, mask);
                boolean listable = allowed.containsKey(hash);
                if (isLockDifference(allowed.get(hash))) { // even if it passed: the i686 must refuse it
                    why = checkLockBothWays(cpu, mem, test, mask);
                    if (why == null) lockChecked++;
                    // #UD was right, but without LOCK the instruction meets a second listed kind of
                    // difference (POPF/IRET flag bits 12-15, a real-mode segment wrap): still listed.
                    listable = why != null && why.startsWith(LOCK_IGNORED);
                }
                if (why == null) {
                    p++;
                } else if (listable) {
                    a++;
                } else {
                    failures.add(test.get("idx") + " " + test.get("name") + " [" + hash + "]: " + why);
                }
            }
            total += tests.size();
            passed += p;
            allowedCount += a;
            if (sample.size() < 40) sample.addAll(failures.subList(0, Math.min(failures.size(), 3)));
            results.add(new Result(name, tests.size(), p, a, failures));
        }
        writeReport(results, total, passed, lockChecked, allowedCount);
        String dump = System.getProperty("x86tests.dump");
        if (dump != null) {
            StringBuilder all = new StringBuilder();
            for (Result r : results) for (String fl : r.failures()) all.append(r.file()).append(' ').append(fl).append('\n');
            Files.writeString(Paths.get(dump), all);
        }
        int counted = total - allowedCount;
        double rate = 100.0 * passed / counted;
        String summary = String.format("%d tests: %d pass (%d of them LOCK-prefixed, checked both ways), "
                + "%d listed i686 differences, %d fail (%.2f%% of counted)",
                total, passed, lockChecked, allowedCount, counted - passed, rate);
        System.out.println(summary);
        sample.forEach(s -> System.out.println("  " + s));
        assertTrue(allowedCount <= total * 0.02, "too many listed differences: " + allowedCount);
        assertTrue(rate >= 99.5, summary + "\n" + String.join("\n", sample));
    }

    private static String gunzip(Path f) throws IOException {
        try (InputStream in = new GZIPInputStream(Files.newInputStream(f))) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    /** The differences list: one line per test hash, tab, reason. */
    static Map<String, String> loadAllowed() throws IOException {
        Map<String, String> m = new HashMap<>();
        try (InputStream in = Real286VectorsTest.class.getResourceAsStream("/80286-i686-differences.tsv")) {
            if (in == null) return m;
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                if (line.isBlank() || line.startsWith("#")) continue;
                String[] parts = line.split("\t", 2);
                m.put(parts[0].trim(), parts.length > 1 ? parts[1] : "");
            }
        }
        return m;
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

    private static final int HANDLER = 0xFFFF0 + 0x100;
    private static final String LOCK_IGNORED = "with LOCK ignored: ";

    static boolean isLockDifference(String reason) {
        return reason != null && reason.contains(" lock: "); // "<idx> lock: ..." as the differences file writes it
    }

    /**
     * A vector whose instruction carries a LOCK the i686 refuses is still checked against the hardware:
     * as an i686 the CPU must raise #UD (vector 6, through the real-mode IVT) without executing it, and
     * with LOCK ignored, as the 80286 the vector came from did, it must reproduce the vector exactly.
     */
    static String checkLockBothWays(Cpu cpu, FlatMemory mem, Map<String, Object> test, int mask) {
        load(cpu, mem, test);
        int startIp = cpu.eip(), startCs = cpu.segmentSelector(1);
        int startSp = cpu.reg(4) & 0xFFFF, ss = cpu.segmentSelector(2);
        // Point the #UD vector at a HLT of our own (FFFF:0100, above 1 MiB, where no vector puts
        // code) for this run only, so that the stop shows exactly where the CPU went.
        int[] saved = {mem.peek(0x18), mem.peek(0x19), mem.peek(0x1A), mem.peek(0x1B), mem.peek(HANDLER)};
        int[] planted = {0x00, 0x01, 0xFF, 0xFF, 0xF4};
        for (int i = 0; i < 4; i++) mem.poke(0x18 + i, planted[i]);
        mem.poke(HANDLER, planted[4]);
        Cpu.Stop stop;
        try {
            stop = cpu.run(cpu.icount() + 10);
        } catch (RuntimeException e) {
            return "emulator exception " + e;
        } finally {
            for (int i = 0; i < 4; i++) mem.poke(0x18 + i, saved[i]);
            mem.poke(HANDLER, saved[4]);
        }
        int sp = cpu.reg(4) & 0xFFFF;
        int pushedIp = mem.peek(ss * 16 + sp) | mem.peek(ss * 16 + sp + 1) << 8;
        int pushedCs = mem.peek(ss * 16 + ((sp + 2) & 0xFFFF)) | mem.peek(ss * 16 + ((sp + 3) & 0xFFFF)) << 8;
        if (stop != Cpu.Stop.HALTED || cpu.segmentSelector(1) != 0xFFFF || (cpu.eip() & 0xFFFF) != 0x0101
                || sp != ((startSp - 6) & 0xFFFF) || pushedIp != startIp || pushedCs != startCs) {
            return String.format("LOCK did not raise #UD: %s at %04x:%04x, sp %04x, pushed %04x:%04x", stop,
                    cpu.segmentSelector(1), cpu.eip() & 0xFFFF, sp, pushedCs, pushedIp);
        }
        cpu.decoder.lockIgnoredAs80286 = true;
        try {
            String why = runOne(cpu, mem, test, mask);
            return why == null ? null : LOCK_IGNORED + why;
        } finally {
            cpu.decoder.lockIgnoredAs80286 = false;
        }
    }

    @SuppressWarnings("unchecked")
    static void load(Cpu cpu, FlatMemory mem, Map<String, Object> test) {
        Map<String, Object> iregs = (Map<String, Object>) ((Map<String, Object>) test.get("initial")).get("regs");
        cpu.reset();
        for (int i = 0; i < 8; i++) cpu.setReg(i, num(iregs, REGS[i]));
        for (int s = 0; s < 4; s++) cpu.loadSegment(s, num(iregs, SEGS[s]));
        cpu.setEip(num(iregs, "ip"));
        cpu.setEflags((num(iregs, "flags") & 0x0FFF) | 2);
        for (Object o : (List<?>) ((Map<String, Object>) test.get("initial")).get("ram")) {
            List<?> pair = (List<?>) o;
            mem.poke(((Long) pair.get(0)).intValue(), ((Long) pair.get(1)).intValue());
        }
    }

    @SuppressWarnings("unchecked")
    static String runOne(Cpu cpu, FlatMemory mem, Map<String, Object> test, int mask) {
        Map<String, Object> init = (Map<String, Object>) test.get("initial");
        Map<String, Object> fin = (Map<String, Object>) test.get("final");
        Map<String, Object> iregs = (Map<String, Object>) init.get("regs");
        Map<String, Object> fregs = (Map<String, Object>) fin.get("regs");
        load(cpu, mem, test);
        Cpu.Stop stop;
        try {
            stop = cpu.run(cpu.icount() + 1000);
        } catch (RuntimeException e) {
            return "emulator exception " + e;
        }
        if (stop != Cpu.Stop.HALTED) return "did not halt (" + stop + " " + cpu.shutdownReason() + ")";
        StringBuilder why = new StringBuilder();
        Map<String, Integer> expected = new TreeMap<>();
        for (String k : iregs.keySet()) expected.put(k, num(iregs, k));
        for (String k : fregs.keySet()) expected.put(k, num(fregs, k));
        for (int i = 0; i < 8; i++) {
            int got = cpu.reg(i) & 0xFFFF;
            if (got != expected.get(REGS[i])) why.append(String.format(" %s=%04x want %04x", REGS[i], got, expected.get(REGS[i])));
        }
        for (int s = 0; s < 4; s++) {
            int got = cpu.segmentSelector(s);
            if (got != expected.get(SEGS[s])) why.append(String.format(" %s=%04x want %04x", SEGS[s], got, expected.get(SEGS[s])));
        }
        if ((cpu.eip() & 0xFFFF) != expected.get("ip")) why.append(String.format(" ip=%04x want %04x", cpu.eip(), expected.get("ip")));
        int gotFlags = cpu.eflags() & 0xFFFF & mask;
        int wantFlags = expected.get("flags") & mask;
        if (gotFlags != wantFlags) why.append(String.format(" flags=%04x want %04x", gotFlags, wantFlags));
        int flagAddr = -1;
        if (test.get("exception") != null) {
            flagAddr = expected.get("ss") * 16 + ((expected.get("sp") + 4) & 0xFFFF);
        }
        for (Object o : (List<?>) fin.get("ram")) {
            List<?> pair = (List<?>) o;
            int addr = ((Long) pair.get(0)).intValue();
            int want = ((Long) pair.get(1)).intValue();
            int got = mem.peek(addr);
            if (addr == flagAddr) { got &= mask & 0xFF; want &= mask & 0xFF; }
            if (addr == flagAddr + 1) { got &= mask >> 8; want &= mask >> 8; }
            if (got != want) why.append(String.format(" [%05x]=%02x want %02x", addr, got, want));
        }
        return why.length() == 0 ? null : why.toString().trim();
    }

    private static int num(Map<String, Object> m, String k) {
        return ((Long) m.get(k)).intValue();
    }

    private static void writeReport(List<Result> results, int total, int passed, int lockChecked, int allowed) throws IOException {
        String root = System.getProperty("vmm.root");
        if (root == null) return;
        Path out = Paths.get(root, "docs", "cpu-conformance.md");
        StringBuilder b = new StringBuilder();
        b.append("# CPU conformance: 80286 real-mode vectors\n\n");
        b.append("Written by `Real286VectorsTest` on every test run; do not edit by hand.\n\n");
        b.append("Source: SingleStepTests/80286 (real hardware, Harris N80C286-12), 200 tests per opcode file, ")
         .append("run in real mode with undefined flags masked as upstream's metadata says. Tests where an i686 ")
         .append("legitimately differs from the 80286 are listed with their reason in ")
         .append("`cpu-emu/src/test/resources/80286-i686-differences.tsv` and counted as *listed*. ")
         .append("The exception is LOCK on an instruction the i686 does not allow it on (the 80286 ignores it): ")
         .append("such a vector is checked twice, as an i686 (the CPU must raise #UD before executing anything) and ")
         .append("with LOCK ignored as on the 80286 (the CPU must reproduce the vector), and counts as a pass only ")
         .append("if both hold (SDM Vol. 2A, LOCK).\n\n");
        int counted = total - allowed;
        b.append(String.format("**%d tests: %d pass (%d of them LOCK-prefixed, checked both ways), %d listed i686 differences "
                + "(%.2f %%), %d fail — %.2f %% of the counted tests pass.**%n%n",
                total, passed, lockChecked, allowed, 100.0 * allowed / total, counted - passed, 100.0 * passed / counted));
        b.append("| opcode file | tests | pass | listed | fail |\n|---|---:|---:|---:|---:|\n");
        for (Result r : results) {
            b.append(String.format("| %s | %d | %d | %d | %d |%n", r.file(), r.total(), r.passed(), r.allowed(),
                    r.total() - r.passed() - r.allowed()));
        }
        List<String> fails = new ArrayList<>();
        for (Result r : results) for (String f : r.failures()) fails.add(r.file() + " " + f);
        if (!fails.isEmpty()) {
            b.append("\n## Failures\n\n");
            for (String f : fails.subList(0, Math.min(fails.size(), 200))) b.append("- ").append(f).append('\n');
            if (fails.size() > 200) b.append("- … and ").append(fails.size() - 200).append(" more\n");
        }
        Files.createDirectories(out.getParent());
        Files.writeString(out, b.toString());
    }
}
