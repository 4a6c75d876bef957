package io.mucheckpoint.bench;

import io.mucheckpoint.checkpoint.CheckpointConfig;
import io.mucheckpoint.checkpoint.CheckpointEngine;
import io.mucheckpoint.checkpoint.CheckpointInfo;
import io.mucheckpoint.checkpoint.Interval;
import io.mucheckpoint.vmm.GuestImage;
import io.mucheckpoint.vmm.Machine;
import io.mucheckpoint.vmm.MachineConfig;
import io.mucheckpoint.vmm.RunResult;
import io.mucheckpoint.vmm.dev.ConsoleSink;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.zip.CRC32C;

/**
 * The soak: runs every bundled workload (size=test) over and over for a given time, checkpointing
 * every millisecond of guest time and rolling back to randomly chosen retained checkpoints at random
 * moments, and checks each run against its oracle: the output must equal
 * {@code guests/expected/<workload>.test.txt} and the instructions retired must equal those of an
 * uninterrupted run. After every rollback the machine's small state (and, for a sample of
 * checkpoints, all of RAM) must equal what it was when the checkpoint was taken. Prints a progress
 * line every few seconds and a summary at the end, and writes the summary as JSON;
 * {@code benchmarks/soak-report.py} turns that into the soak section of {@code docs/reliability.md}.
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar io.mucheckpoint.bench.Soak --minutes 30 --json soak.json
 *     [--seed S] [--modes cow,copy,full] [--interval-ms 1] [--ram-mb 48] [--workloads a,b,...]
 * </pre>
 * Exits with status 0 when there were no divergences, 1 otherwise, 64 on bad usage.
 */
public final class Soak {
    private static final int MAX_ROLLBACKS_PER_RUN = 12;
    /** One boundary in this many also records a CRC of all RAM, checked if a rollback lands there. */
    private static final int RAM_HASH_EVERY = 16;

    private final long ram;
    private final Interval interval;
    private final Random rnd;
    private final Map<String, String> expected = new LinkedHashMap<>();
    private final Map<String, byte[]> images = new HashMap<>();
    private final Map<String, Long> oracleIcount = new HashMap<>();
    private final Map<String, long[]> perWorkload = new LinkedHashMap<>(); // runs, rollbacks, divergences, instructions executed
    private final Map<String, long[]> perMode = new LinkedHashMap<>();
    private final List<String> divergenceDetails = new ArrayList<>();
    private long runs;
    private long rollbacks;
    private long divergences;
    private long checkpoints;
    /** Guest instructions executed, re-executions after rollbacks included. */
    private long instructions;
    private long stateChecks;
    private long ramChecks;

    private Soak(long ram, Interval interval, long seed) {
        this.ram = ram;
        this.interval = interval;
        this.rnd = new Random(seed);
    }

    public static void main(String[] args) throws Exception {
        double minutes = 1;
        Path json = null;
        long seed = 1;
        String modes = "cow,copy,full";
        long intervalMs = 1;
        long ramMb = 48;
        String only = null;
        try {
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                if (a.equals("--help") || a.equals("-h")) {
                    usage();
                    return;
                }
                if (i + 1 >= args.length) throw new IllegalArgumentException(a + " needs a value");
                String v = args[++i];
                switch (a) {
                    case "--minutes" -> minutes = Double.parseDouble(v);
                    case "--json" -> json = Paths.get(v);
                    case "--seed" -> seed = Long.parseLong(v);
                    case "--modes" -> modes = v;
                    case "--interval-ms" -> intervalMs = Long.parseLong(v);
                    case "--ram-mb" -> ramMb = Long.parseLong(v);
                    case "--workloads" -> only = v;
                    default -> throw new IllegalArgumentException("unknown option " + a);
                }
            }
            if (minutes <= 0 || intervalMs <= 0 || ramMb < 16) throw new IllegalArgumentException("--minutes, --interval-ms must be positive, --ram-mb at least 16");
        } catch (IllegalArgumentException e) {
            System.err.println("soak: " + e.getMessage());
            usage();
            System.exit(64);
        }
        List<CheckpointConfig.Mode> modeList = new ArrayList<>();
        for (String m : modes.split(",")) modeList.add(CheckpointConfig.Mode.valueOf(m.trim().toUpperCase(Locale.ROOT)));
        Soak soak = new Soak(ramMb << 20, Interval.millis(intervalMs), seed);
        List<String> workloads = soak.loadWorkloads(only);
        String command = "java -cp benchmarks/target/benchmarks.jar io.mucheckpoint.bench.Soak " + String.join(" ", args);
        Instant start = Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
        soak.run(workloads, modeList, (long) (minutes * 60_000));
        Instant end = Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
        String summary = soak.json(command, seed, minutes, modeList, intervalMs, ramMb, start, end);
        System.out.println(soak.summaryLine(Duration.between(start, end)));
        if (json != null) {
            Files.writeString(json, summary);
            System.out.println("wrote " + json);
        }
        System.exit(soak.divergences == 0 ? 0 : 1);
    }

    private static void usage() {
        System.err.println("usage: Soak [--minutes M] [--json FILE] [--seed S] [--modes cow,copy,full] [--interval-ms N] [--ram-mb N] [--workloads a,b]");
    }

    private List<String> loadWorkloads(String only) throws Exception {
        Path guests = GuestRun.guests();
        List<String> names = new ArrayList<>();
        for (String line : Files.readAllLines(guests.resolve("build/workloads.tsv"))) {
            if (line.isBlank()) continue;
            String w = line.split("\t")[0];
            if (only == null || List.of(only.split(",")).contains(w)) names.add(w);
        }
        if (names.isEmpty()) throw new IllegalArgumentException("no workloads selected");
        for (String w : names) {
            images.put(w, Files.readAllBytes(guests.resolve("build/" + w + ".elf")));
            expected.put(w, Files.readString(guests.resolve("expected/" + w + ".test.txt"), StandardCharsets.UTF_8));
            // The oracle's instruction count: the same guest, run once without checkpoints.
            Capture out = new Capture();
            Machine m = machine(w, out);
            RunResult r = m.run(Long.MAX_VALUE, Long.MAX_VALUE);
            if (r.kind() != RunResult.Kind.EXIT || r.exitStatus() != 0 || !out.text().equals(expected.get(w))) {
                throw new IllegalStateException(w + ": the uninterrupted run does not match its oracle (" + r.message() + ")");
            }
            oracleIcount.put(w, m.cpu.icount());
            perWorkload.put(w, new long[4]);
        }
        return names;
    }

    private Machine machine(String w, ConsoleSink out) throws Exception {
        GuestImage img = new GuestImage.Multiboot(w + ".elf", images.get(w), "guests/build/" + w + ".elf size=test");
        return new Machine(MachineConfig.defaults().withRam(ram), img, out, b -> {});
    }

    private void run(List<String> workloads, List<CheckpointConfig.Mode> modes, long millis) throws Exception {
        long t0 = System.nanoTime();
        long deadline = t0 + millis * 1_000_000L;
        long nextProgress = t0 + 10_000_000_000L;
        int i = 0;
        while (System.nanoTime() < deadline) {
            String w = workloads.get(i % workloads.size());
            CheckpointConfig.Mode mode = modes.get((i / workloads.size()) % modes.size());
            i++;
            oneRun(w, mode);
            long now = System.nanoTime();
            if (now >= nextProgress) {
                System.out.printf("[%s] %d runs, %d rollbacks, %d checkpoints, %d divergences (last: %s %s)%n",
                        fmt(Duration.ofNanos(now - t0)), runs, rollbacks, checkpoints, divergences, w, mode.name().toLowerCase(Locale.ROOT));
                nextProgress = now + 10_000_000_000L;
            }
        }
    }

    /** One run of one workload to its end, with random rollbacks; counts a divergence if anything is off. */
    private void oneRun(String w, CheckpointConfig.Mode mode) {
        long[] pw = perWorkload.get(w);
        long[] pm = perMode.computeIfAbsent(mode.name().toLowerCase(Locale.ROOT), k -> new long[4]);
        List<String> wrong = new ArrayList<>();
        int runRollbacks = 0;
        long runCheckpoints = 0;
        try {
            Capture console = new Capture();
            Machine m = machine(w, console);
            int keep = mode == CheckpointConfig.Mode.FULL ? 8 : 64;
            long budget = mode == CheckpointConfig.Mode.COW ? 256L << 20 : mode == CheckpointConfig.Mode.COPY ? ram + (256L << 20) : (keep + 1) * ram;
            CheckpointConfig cfg = CheckpointConfig.defaults().withMode(mode).withInterval(interval).withKeep(keep)
                    .withLatencyNanos(interval.amount() * (keep - 1)).withMemoryBudget(budget)
                    .withPredictor(mode == CheckpointConfig.Mode.COW
                            ? CheckpointConfig.PredictorKind.values()[rnd.nextInt(CheckpointConfig.PredictorKind.values().length)]
                            : CheckpointConfig.PredictorKind.NONE);
            CheckpointEngine engine = new CheckpointEngine(m, cfg);
            Map<Integer, Integer> consoleAt = new HashMap<>();
            Map<Integer, Integer> stateHash = new HashMap<>();
            Map<Integer, Long> ramHash = new HashMap<>();
            engine.addBoundaryListener(c -> {
                consoleAt.put(c.id(), console.size());
                stateHash.put(c.id(), m.saveState().hash());
                if (c.id() % RAM_HASH_EVERY == 0) ramHash.put(c.id(), ramCrc(m));
            });
            long oracle = oracleIcount.get(w);
            // Roll back at random points spread over the run, each to a random retained checkpoint.
            RunResult r;
            while (true) {
                long slice = 1 + (long) (rnd.nextDouble() * oracle / 6);
                long before = m.cpu.icount();
                r = engine.run(Long.MAX_VALUE, before + slice);
                instructions += m.cpu.icount() - before;
                pw[3] += m.cpu.icount() - before;
                if (r.finished()) break;
                if (runRollbacks < MAX_ROLLBACKS_PER_RUN && rnd.nextInt(3) != 0) {
                    List<CheckpointInfo> cps = engine.checkpoints();
                    CheckpointInfo target = cps.get(rnd.nextInt(cps.size()));
                    engine.rollback(target.id());
                    console.truncate(consoleAt.get(target.id()));
                    runRollbacks++;
                    stateChecks++;
                    if (m.saveState().hash() != stateHash.get(target.id())) wrong.add("machine state after rolling back to checkpoint " + target.id());
                    Long crc = ramHash.get(target.id());
                    if (crc != null) {
                        ramChecks++;
                        if (crc != ramCrc(m)) wrong.add("RAM after rolling back to checkpoint " + target.id());
                    }
                }
            }
            runCheckpoints = engine.stats().checkpoints();
            if (r.kind() != RunResult.Kind.EXIT || r.exitStatus() != 0) wrong.add("ended with " + r.message());
            if (!console.text().equals(expected.get(w))) wrong.add("output differs from guests/expected/" + w + ".test.txt");
            if (m.cpu.icount() != oracle) wrong.add("retired " + m.cpu.icount() + " instructions, the uninterrupted run " + oracle);
            if (!engine.integrityCheck().isEmpty()) wrong.add("integrity check found " + engine.integrityCheck());
        } catch (Exception | Error e) {
            wrong.add("threw " + e);
        }
        runs++;
        rollbacks += runRollbacks;
        checkpoints += runCheckpoints;
        pw[0]++;
        pw[1] += runRollbacks;
        pm[0]++;
        pm[1] += runRollbacks;
        if (!wrong.isEmpty()) {
            divergences++;
            pw[2]++;
            pm[2]++;
            String d = w + " (" + mode.name().toLowerCase(Locale.ROOT) + ", run " + runs + "): " + String.join("; ", wrong);
            System.out.println("DIVERGENCE " + d);
            if (divergenceDetails.size() < 50) divergenceDetails.add(d);
        }
    }

    private static long ramCrc(Machine m) {
        CRC32C c = new CRC32C();
        c.update(m.memory.backing(), 0, m.memory.ramSize());
        return c.getValue();
    }

    private String summaryLine(Duration d) {
        return String.format("soak: %s, %d runs, %d rollbacks, %d checkpoints, %d state checks (%d with RAM), divergences = %d",
                fmt(d), runs, rollbacks, checkpoints, stateChecks, ramChecks, divergences);
    }

    private static String fmt(Duration d) {
        return String.format("%d:%02d:%02d", d.toHours(), d.toMinutesPart(), d.toSecondsPart());
    }

    private String json(String command, long seed, double minutes, List<CheckpointConfig.Mode> modes, long intervalMs,
                        long ramMb, Instant start, Instant end) {
        StringBuilder b = new StringBuilder("{\n");
        b.append("  \"command\": ").append(str(command)).append(",\n");
        b.append("  \"seed\": ").append(seed).append(",\n");
        b.append("  \"minutes\": ").append(minutes).append(",\n");
        b.append("  \"intervalMs\": ").append(intervalMs).append(",\n");
        b.append("  \"ramMb\": ").append(ramMb).append(",\n");
        b.append("  \"modes\": [").append(String.join(", ", modes.stream().map(m -> str(m.name().toLowerCase(Locale.ROOT))).toList())).append("],\n");
        b.append("  \"started\": ").append(str(start.toString())).append(",\n");
        b.append("  \"finished\": ").append(str(end.toString())).append(",\n");
        b.append("  \"elapsedSeconds\": ").append(Duration.between(start, end).toSeconds()).append(",\n");
        b.append("  \"java\": ").append(str(System.getProperty("java.vm.name") + " " + System.getProperty("java.version"))).append(",\n");
        b.append("  \"cpu\": ").append(str(cpuName())).append(",\n");
        b.append("  \"runs\": ").append(runs).append(",\n");
        b.append("  \"rollbacks\": ").append(rollbacks).append(",\n");
        b.append("  \"checkpoints\": ").append(checkpoints).append(",\n");
        b.append("  \"instructionsExecuted\": ").append(instructions).append(",\n");
        b.append("  \"stateChecks\": ").append(stateChecks).append(",\n");
        b.append("  \"ramChecks\": ").append(ramChecks).append(",\n");
        b.append("  \"divergences\": ").append(divergences).append(",\n");
        b.append("  \"workloads\": {\n");
        int k = 0;
        for (Map.Entry<String, long[]> e : perWorkload.entrySet()) {
            long[] v = e.getValue();
            b.append("    ").append(str(e.getKey())).append(String.format(": {\"runs\": %d, \"rollbacks\": %d, \"divergences\": %d, \"instructionsExecuted\": %d}",
                    v[0], v[1], v[2], v[3])).append(++k < perWorkload.size() ? ",\n" : "\n");
        }
        b.append("  },\n  \"modeTotals\": {\n");
        k = 0;
        for (Map.Entry<String, long[]> e : perMode.entrySet()) {
            long[] v = e.getValue();
            b.append("    ").append(str(e.getKey())).append(String.format(": {\"runs\": %d, \"rollbacks\": %d, \"divergences\": %d}", v[0], v[1], v[2]))
                    .append(++k < perMode.size() ? ",\n" : "\n");
        }
        b.append("  },\n  \"divergenceDetails\": [");
        for (int i = 0; i < divergenceDetails.size(); i++) b.append(i > 0 ? ", " : "").append(str(divergenceDetails.get(i)));
        b.append("]\n}\n");
        return b.toString();
    }

    private static String cpuName() {
        try {
            for (String line : Files.readAllLines(Paths.get("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) return line.substring(line.indexOf(':') + 1).trim() + " x" + Runtime.getRuntime().availableProcessors();
            }
        } catch (IOException | RuntimeException e) {
            // fall through
        }
        return "unknown CPU";
    }

    private static String str(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') b.append('\\').append(c);
            else if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
            else b.append(c);
        }
        return b.append('"').toString();
    }

    /** Console bytes, with truncation for output a rollback un-happened. */
    private static final class Capture implements ConsoleSink {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        @Override
        public void write(int b) {
            out.write(b);
        }

        int size() {
            return out.size();
        }

        void truncate(int n) {
            byte[] keep = java.util.Arrays.copyOf(out.toByteArray(), n);
            out.reset();
            out.write(keep, 0, n);
        }

        String text() {
            return out.toString(StandardCharsets.UTF_8);
        }
    }
}
