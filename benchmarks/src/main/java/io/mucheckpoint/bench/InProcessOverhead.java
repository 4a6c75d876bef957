package io.mucheckpoint.bench;

import io.mucheckpoint.checkpoint.CheckpointEngine;
import io.mucheckpoint.checkpoint.CheckpointInfo;
import io.mucheckpoint.checkpoint.EngineStats;
import io.mucheckpoint.checkpoint.SnapshotFile;
import io.mucheckpoint.vmm.GuestImage;
import io.mucheckpoint.vmm.Machine;
import io.mucheckpoint.vmm.MachineConfig;
import io.mucheckpoint.vmm.RunResult;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Checkpoint overhead measured inside one JVM, for a resolution that separate processes on a
 * shared machine cannot give: two machines of the same guest, one under the engine and one bare,
 * advanced alternately by equal slices of instructions (the order flips every pair, so drift in
 * the machine's load falls on both). The guest thread's CPU time per slice gives one ratio per
 * pair; after the warm-up slices (which compile the interpreter and the engine) the median ratio
 * and its bootstrap 95 % interval are printed. Both machines run the same instructions, so the
 * ratio is the engine's cost alone.
 *
 * <pre>java -cp benchmarks/target/benchmarks.jar io.mucheckpoint.bench.InProcessOverhead GUEST CONFIG [PAIRS [SLICE [WARM]]]</pre>
 * GUEST is a bundled workload (run at size=bench, restarted when it ends) or {@code linux:PROGRAM},
 * one of guests/linux/programs/run's programs at size bench (the kernel and programs.gz from
 * $VMM_LINUX_CACHE; booted once without the engine to its prompt, then both machines start from
 * that state). CONFIG as {@link BenchConfig} (e.g. cow-50ms-history), with {@code -helper} appended for the
 * pre-copy on the helper thread. Prints one line:
 * {@code inprocess GUEST CONFIG pairs=N ratio=M lo=L hi=H sum_ratio=S pause_p50_us=.. pause_p99_us=.. pause_max_us=..}.
 */
public final class InProcessOverhead {
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    private InProcessOverhead() {}

    /** Makes a fresh machine of the guest at its start. */
    interface Guest {
        Machine fresh() throws Exception;
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: InProcessOverhead GUEST CONFIG [PAIRS [SLICE [WARM]]]");
            System.exit(64);
        }
        String guestName = args[0], config = args[1];
        int pairs = args.length > 2 ? Integer.parseInt(args[2]) : 100;
        long slice = args.length > 3 ? Long.parseLong(args[3]) : 20_000_000L;
        int warm = args.length > 4 ? Integer.parseInt(args[4]) : 20;
        Guest guest = guestName.startsWith("linux:") ? linux(guestName.substring(6)) : () -> GuestRun.machine(guestName, "size=bench");

        // CONFIG-helper: the same with the pre-copy on the helper thread (CheckpointEngine.precopyOnHelper).
        boolean onHelper = config.endsWith("-helper");
        String engineConfig = onHelper ? config.substring(0, config.length() - "-helper".length()) : config;
        Machine on = guest.fresh(), off = guest.fresh();
        System.gc(); // as vmm does before the guest starts (HeapSettle): the new machines' RAM leaves the young generation
        CheckpointEngine engine = startEngine(on, engineConfig, onHelper);
        List<Long> pauses = new ArrayList<>();
        List<EngineStats> retired = new ArrayList<>();
        engine.addBoundaryListener(c -> pauses.add(c.pauseNanos()));
        double[] ratios = new double[pairs];
        long sumOn = 0, sumOff = 0;
        int measuredPauseFrom = 0;
        for (int s = 0; s < warm + pairs; s++) {
            if (s == warm) measuredPauseFrom = pauses.size();
            long onNanos, offNanos;
            boolean onFinished, offFinished;
            if (s % 2 == 0) {
                long[] a = slice(on, engine, slice);
                long[] b = slice(off, null, slice);
                onNanos = a[0]; onFinished = a[1] != 0; offNanos = b[0]; offFinished = b[1] != 0;
            } else {
                long[] b = slice(off, null, slice);
                long[] a = slice(on, engine, slice);
                onNanos = a[0]; onFinished = a[1] != 0; offNanos = b[0]; offFinished = b[1] != 0;
            }
            if (on.cpu.icount() != off.cpu.icount() || onFinished != offFinished) {
                throw new IllegalStateException("the two machines diverged at slice " + s + ": " + on.cpu.icount() + " and " + off.cpu.icount());
            }
            if (onFinished) {
                retired.add(engine.stats());
                engine.stop();
                on = guest.fresh();
                off = guest.fresh();
                System.gc(); // a restart is this harness's own: its new machines' RAM should not be copied inside a measured pause
                engine = startEngine(on, engineConfig, onHelper);
                engine.addBoundaryListener(c -> pauses.add(c.pauseNanos()));
                continue; // a partial slice: not a pair
            }
            if (s >= warm) {
                ratios[s - warm] = (double) onNanos / offNanos;
                sumOn += onNanos;
                sumOff += offNanos;
            }
        }
        int n = 0;
        for (double r : ratios) if (r > 0) ratios[n++] = r;
        double[] r = Arrays.copyOf(ratios, n);
        double[] ci = bootstrapMedian(r, 2000, 7);
        long[] p = pauses.subList(measuredPauseFrom, pauses.size()).stream().mapToLong(Long::longValue).sorted().toArray();
        retired.add(engine.stats());
        long trapped = 0, trapNanos = 0, precopied = 0, precopyNanos = 0;
        for (EngineStats st : retired) {
            trapped += st.pagesTrapped();
            trapNanos += st.trapNanos();
            precopied += st.pagesPrecopied();
            precopyNanos += st.precopyNanos();
        }
        System.out.printf(Locale.ROOT, "inprocess %s %s pairs=%d slice=%d ratio=%.4f lo=%.4f hi=%.4f sum_ratio=%.4f "
                        + "pause_p50_us=%.1f pause_p99_us=%.1f pause_max_us=%.1f trap_us=%.2f precopy_us=%.2f%n",
                guestName, config, n, slice, median(r), ci[0], ci[1], (double) sumOn / sumOff,
                pct(p, 0.5) / 1e3, pct(p, 0.99) / 1e3, p.length == 0 ? 0 : p[p.length - 1] / 1e3, trapped == 0 ? 0 : trapNanos / 1e3 / trapped,
                precopied == 0 ? 0 : precopyNanos / 1e3 / precopied);
    }

    private static CheckpointEngine startEngine(Machine m, String config, boolean onHelper) {
        CheckpointEngine e = new CheckpointEngine(m, BenchConfig.parse(config));
        e.precopyOnHelper(onHelper);
        e.start();
        return e;
    }

    /** Runs one slice; returns {CPU nanoseconds of this thread, 1 if the guest finished}. */
    private static long[] slice(Machine m, CheckpointEngine e, long n) {
        long target = m.cpu.icount() + n;
        long c0 = THREADS.getCurrentThreadCpuTime();
        boolean finished = false;
        while (m.cpu.icount() < target) {
            RunResult r = e != null ? e.run(Long.MAX_VALUE, target) : m.run(Long.MAX_VALUE, target);
            if (r.finished()) {
                if (r.kind() != RunResult.Kind.EXIT || r.exitStatus() != 0) throw new IllegalStateException(r.message());
                finished = true;
                break;
            }
        }
        return new long[] {THREADS.getCurrentThreadCpuTime() - c0, finished ? 1 : 0};
    }

    /** A Linux guest at the programs initramfs's prompt, told to run {@code program} at size bench. */
    private static Guest linux(String program) throws Exception {
        Path dir = Paths.get(System.getenv().getOrDefault("VMM_LINUX_CACHE", "/var/cache/mucheckpoint/linux"));
        byte[] kernel = Files.readAllBytes(dir.resolve("bzImage"));
        byte[] initrd = Files.readAllBytes(dir.resolve("programs/programs.gz"));
        StringBuilder console = new StringBuilder();
        Machine boot = new Machine(MachineConfig.defaults().withRam(256L << 20),
                new GuestImage.Linux("bzImage", kernel, initrd, "console=ttyS0 nokaslr cryptomgr.notests quiet"),
                b -> console.append((char) (b & 0xFF)), b -> {});
        System.err.println("inprocess: booting Linux to the programs prompt (about 3 G instructions)...");
        while (console.indexOf("bench: ready") < 0) {
            RunResult r = boot.run(Long.MAX_VALUE, boot.cpu.icount() + 50_000_000L);
            if (r.finished()) throw new IllegalStateException("the guest stopped before its prompt: " + r.message() + "\n" + console);
            if (boot.cpu.icount() > 8_000_000_000L) throw new IllegalStateException("no prompt after 8 G instructions:\n" + console);
        }
        Path snap = Files.createTempFile("inprocess-linux", ".snap");
        snap.toFile().deleteOnExit();
        SnapshotFile.save(boot, snap);
        SnapshotFile.Contents c = SnapshotFile.load(snap);
        byte[] command = ("/bench/run " + program + " bench\n").getBytes(StandardCharsets.US_ASCII);
        return () -> {
            Machine m = new Machine(c.config(), new GuestImage.Restored(c.imageName(), c.rom()), b -> {}, b -> {});
            SnapshotFile.apply(c, m);
            for (byte b : command) m.offerInput(b);
            return m;
        };
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        int n = s.length;
        return n == 0 ? Double.NaN : n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    /** The 2.5th and 97.5th percentiles of the median over {@code rounds} resamples with replacement. */
    static double[] bootstrapMedian(double[] v, int rounds, long seed) {
        if (v.length == 0) return new double[] {Double.NaN, Double.NaN};
        SplittableRandom rnd = new SplittableRandom(seed);
        double[] meds = new double[rounds];
        double[] sample = new double[v.length];
        for (int i = 0; i < rounds; i++) {
            for (int j = 0; j < v.length; j++) sample[j] = v[rnd.nextInt(v.length)];
            meds[i] = median(sample);
        }
        Arrays.sort(meds);
        return new double[] {meds[(int) (rounds * 0.025)], meds[(int) Math.min(rounds - 1, rounds * 0.975)]};
    }

    private static double pct(long[] sorted, double q) {
        if (sorted.length == 0) return 0;
        return sorted[(int) Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
    }
}
