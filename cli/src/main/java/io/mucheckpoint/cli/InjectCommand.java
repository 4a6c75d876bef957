package io.mucheckpoint.cli;

import io.mucheckpoint.checkpoint.CheckpointConfig;
import io.mucheckpoint.recovery.Campaign;
import io.mucheckpoint.recovery.CampaignSummary;
import io.mucheckpoint.recovery.Fault;
import io.mucheckpoint.recovery.FaultPlan;
import io.mucheckpoint.vmm.GuestImage;
import io.mucheckpoint.vmm.MachineConfig;
import io.mucheckpoint.vmm.load.LoadException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "inject", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Run a fault-injection campaign: one golden run, then N injections, each from a clean start",
                "with checkpointing and automatic recovery, each classified against the golden output."},
        footer = {"", "Outcomes: not activated, masked, detected and recovered, detected and recovered but wrong output",
                "escaped (judged by the bytes the console delivered), detected and not recovered, silent data",
                "corruption, hang; with 95%% confidence intervals (Wilson). Ctrl-C stops the campaign: the summary",
                "and --json cover the injections finished by then (exit status 130).", "", ExitStatus.HELP})
final class InjectCommand implements Callable<Integer> {
    @Mixin
    GuestOptions guest;

    @Mixin
    CheckpointOptions checkpoints;

    @Option(names = "--faults", paramLabel = "N", defaultValue = "100", description = "Injections to run (default: ${DEFAULT-VALUE}).")
    int faults;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "1", description = "Seed of the fault plan (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--target", paramLabel = "KIND[,KIND...]", defaultValue = "any",
            description = {"Where faults strike: reg (general registers, EIP, EFLAGS, segment bases), mem (guest RAM),",
                    "x87 (the FPU's registers), cr (CR0, CR3, CR4), a list of these (reg,x87,cr), or any",
                    "(reg or mem) (default: ${DEFAULT-VALUE})."})
    String target;

    @Option(names = "--memory-fault", paramLabel = "raw|door", defaultValue = "raw",
            description = {"raw: a memory fault is a DRAM upset that the dirty tracking does not see, so every checkpoint",
                    "sharing the page shares the error; door: it is written through the memory door, so",
                    "copy-on-write saves the good value and a rollback repairs it (default: ${DEFAULT-VALUE})."})
    String memoryFault;

    @Option(names = "--stuck-at", paramLabel = "N", defaultValue = "0",
            description = "Stuck-at faults instead of flips: the bits stay at 0 or 1 for N instructions (default: flips).")
    long stuckAt;

    @Option(names = "--bits", paramLabel = "N", defaultValue = "1", description = "Bits flipped per fault (default: ${DEFAULT-VALUE}).")
    int bits;

    @Option(names = "--sweep-latency", paramLabel = "L,L,...", split = ",",
            description = "Run the same faults once per latency bound (e.g. 0,1ms,10ms,100ms).")
    List<String> sweep;

    @Option(names = "--sweep-keep", paramLabel = "K,K,...", split = ",",
            description = {"Run the same faults once per number of retained checkpoints (--keep K, a cap) and, with",
                    "--sweep-latency, per latency bound: the grid of checkpoint corruption (e.g. 1,2,4,16,64)."})
    List<Integer> sweepKeep;

    @Option(names = "--watchdog", paramLabel = "DURATION|auto", defaultValue = "auto",
            description = "Hang watchdog: no output or heartbeat for this long of guest time is a detection; auto is "
                    + Campaign.WATCHDOG_FACTOR + " times the golden run's longest silence, 0 turns it off (default: ${DEFAULT-VALUE}).")
    String watchdog;

    @Option(names = "--output-commit", paramLabel = "immediate|latency", defaultValue = "immediate",
            description = "Show the injected runs' console output at once, or hold it until the checkpoint after it is older "
                    + "than the latency bound (default: ${DEFAULT-VALUE}).")
    String outputCommit;

    @Option(names = "--console-detect", paramLabel = "linux|TEXT[,TEXT...]",
            description = {"Also detect errors on the console: a line with one of these texts (linux: Kernel panic, Oops:,",
                    "BUG:, general protection fault) (default: with --linux, linux; otherwise none)."})
    String consoleDetect;

    @Option(names = "--restore", paramLabel = "FILE",
            description = {"Start the golden run and every injection from this snapshot (vmm run --save-at N --save FILE),",
                    "for a guest that takes long to boot, like Linux."})
    Path restore;

    @Option(names = "--no-fast-forward",
            description = {"Boot every injection afresh and run its prefix, instead of starting it from the newest golden",
                    "checkpoint its history needs (the results are the same; this is slower)."})
    boolean noFastForward;

    @Option(names = "--no-convergence",
            description = {"Run every injection to its end, instead of stopping it at the first golden checkpoint where its",
                    "whole state is the golden run's again (the results are the same; this is slower)."})
    boolean noConvergence;

    @Option(names = "--workers", paramLabel = "N", description = "Parallel injections (default: the number of cores).")
    Integer workers;

    @Option(names = "--json", paramLabel = "FILE", description = "Write every result and the summary as JSON.")
    Path json;

    @Option(names = "--plot", paramLabel = "FILE.png",
            description = "Draw the outcome shares with their 95%% intervals, one group per latency bound, and the error latency (injection to detection) of the detected injections, into FILE.png.")
    Path plot;

    @Option(names = "--replay", paramLabel = "INDEX", description = "Run only injection INDEX of the plan, with its event log.")
    Integer replay;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    private List<String> commandLine = List.of();

    @Override
    public Integer call() throws Exception {
        commandLine = spec.commandLine().getParseResult().originalArgs();
        if (faults < 1) throw new VmmException(ExitStatus.USAGE, "--faults must be at least 1");
        try {
            new FaultPlan(seed, target, bits, 2, new int[] {0}, memoryFault, stuckAt); // bad --target and the like, before the golden run
        } catch (IllegalArgumentException e) {
            throw new VmmException(ExitStatus.USAGE, e.getMessage());
        }
        OutputFiles.check("--json", json);
        OutputFiles.check("--plot", plot);
        CheckpointConfig base = checkpoints.config(guest.ticksPerSecond());
        if (checkpoints.off) throw new VmmException(ExitStatus.USAGE, "recovery needs checkpoints: drop --no-checkpoint");
        long watchdogNanos = watchdog.equals("auto") ? Campaign.WATCHDOG_AUTO
                : GuestOptions.parse(() -> Units.guestNanos(watchdog), "--watchdog");
        boolean held = OutputCommit.held(outputCommit);
        List<Long> latencies = new ArrayList<>();
        if (sweep == null || sweep.isEmpty()) latencies.add(base.latencyNanos());
        else for (String s : sweep) latencies.add(GuestOptions.parse(() -> Units.guestNanos(s), "--sweep-latency"));
        MachineConfig mc = MachineConfig.defaults().withRam(guest.ramBytes()).withTicksPerSecond(guest.ticksPerSecond())
                .withDrives(guest.drives());
        Campaign.Start start;
        String name;
        if (restore != null) {
            io.mucheckpoint.checkpoint.SnapshotFile.Contents c = Snapshots.load(restore, guest);
            start = Campaign.fromSnapshot(c);
            name = c.imageName();
        } else {
            GuestImage image = guest.image();
            start = console -> new io.mucheckpoint.vmm.Machine(mc, image, console, b -> {});
            name = image.name();
        }
        PrintStream err = System.err;
        Campaign first;
        try {
            err.println("vmm: golden run of " + name + "...");
            first = new Campaign(start, base.withLatencyNanos(latencies.get(0)), watchdogNanos).withOutputCommit(held)
                    .withFastForward(!noFastForward, !noConvergence);
        } catch (LoadException e) {
            throw new VmmException(ExitStatus.BAD_IMAGE, e.getMessage());
        } catch (IllegalStateException e) {
            throw new VmmException(ExitStatus.GUEST_CRASH, e.getMessage());
        }
        List<String> patterns = consolePatterns();
        try {
            first.withConsolePatterns(patterns);
        } catch (IllegalArgumentException e) {
            throw new VmmException(ExitStatus.USAGE, "--console-detect: " + e.getMessage());
        }
        Campaign.Golden g = first.golden();
        FaultPlan plan;
        try {
            plan = FaultPlan.of(g, seed, target, bits, memoryFault, stuckAt);
        } catch (IllegalArgumentException e) {
            throw new VmmException(ExitStatus.USAGE, e.getMessage());
        }
        err.printf(Locale.ROOT, "vmm: golden run: %,d instructions, %.1f ms guest time, %d bytes of output, %d pages used; "
                        + "watchdog %s%n", g.instructions(), g.guestNanos() / 1e6, g.output().length, g.usedPages().length,
                first.watchdogNanos() == 0 ? "off" : String.format(Locale.ROOT, "%.1f ms", first.watchdogNanos() / 1e6)
                        + (watchdogNanos == Campaign.WATCHDOG_AUTO ? String.format(Locale.ROOT, " (%dx its longest silence, %.1f ms)",
                        Campaign.WATCHDOG_FACTOR, g.longestSilenceNanos() / 1e6) : ""));
        if (replay != null) return replayOne(first, plan);
        int n = workers != null ? Math.max(1, workers) : Runtime.getRuntime().availableProcessors();
        StringBuilder out = new StringBuilder("{\"command\":\"vmm " + String.join(" ", commandLine).replace("\"", "'")
                + "\",\"workload\":\"" + name + "\",\"seed\":" + seed + ",\"faults\":" + faults
                + ",\"target\":\"" + target + "\",\"bits\":" + bits + ",\"keep\":" + base.keep() + ",\"interval\":\""
                + base.interval() + "\",\"goldenInstructions\":" + g.instructions() + ",\"watchdogNanos\":" + first.watchdogNanos()
                + ",\"outputCommit\":\"" + outputCommit + "\",\"runs\":[");
        CampaignChart chart = new CampaignChart(String.format(Locale.ROOT, "Outcomes of %d injections into %s (%s, seed %d)",
                faults, name, target, seed));
        // the grid of runs: every --sweep-keep K (or the one --keep) with every latency bound
        List<long[]> grid = new ArrayList<>();
        for (int k : sweepKeep == null || sweepKeep.isEmpty() ? List.of(-1) : sweepKeep) {
            if (sweepKeep != null && k < 1) throw new VmmException(ExitStatus.USAGE, "--sweep-keep takes numbers of at least 1");
            for (long l : latencies) grid.add(new long[] {k, l});
        }
        Progress progress = new Progress(err, faults * grid.size());
        Interruption interruption = new Interruption();
        boolean interrupted = false;
        try {
            for (int li = 0; li < grid.size() && !interrupted; li++) {
                long l = grid.get(li)[1];
                CheckpointConfig cfg = grid.get(li)[0] < 0 ? base.withLatencyNanos(l) : base.withKeep((int) grid.get(li)[0]).withLatencyNanos(l);
                Campaign c = li == 0 && grid.get(li)[0] < 0 ? first
                        : new Campaign(start, cfg, watchdogNanos).withConsolePatterns(patterns).withOutputCommit(held)
                                .withFastForward(!noFastForward, !noConvergence);
                if (li == 0 && !noFastForward && c.fastForwardUnavailable() != null) {
                    err.println("vmm: every injection boots afresh: " + c.fastForwardUnavailable());
                }
                interruption.watch(c);
                long t0 = System.nanoTime();
                String what = (grid.get(li)[0] < 0 ? "" : "K=" + cfg.keep() + " ") + "L=" + Units.formatNanos(l);
                progress.bound(what + (grid.size() > 1 ? " (" + (li + 1) + "/" + grid.size() + ")" : ""));
                List<Campaign.Result> results = c.run(plan, 0, faults, n, progress::done);
                interrupted = c.stopped();
                progress.finish(results.size(), System.nanoTime() - t0);
                err.println("vmm: " + effortLine(c.effort(), results.size()));
                CampaignSummary s = CampaignSummary.of(l, cfg.keep(), results);
                if (interrupted) {
                    err.printf(Locale.ROOT, "vmm: interrupted: %d of %d injections done at %s%s%n", results.size(), faults,
                            (grid.get(li)[0] < 0 ? "" : "K = " + cfg.keep() + ", ") + "L = " + Units.formatNanos(l),
                            li + 1 < grid.size() ? "; the rest of the sweep was not run" : "");
                }
                System.out.printf(Locale.ROOT, "%nlatency bound L = %s, keep %d, %d injections (%s, seed %d)%s:%n",
                        Units.formatNanos(l), cfg.keep(), results.size(), target, seed, interrupted ? ", interrupted" : "");
                System.out.print(s.table());
                chart.add(what, s);
                long[] detected = results.stream().map(Campaign.Result::trace)
                        .filter(t -> t != null && t.injectedNanos() >= 0 && t.detectNanos() >= t.injectedNanos())
                        .mapToLong(t -> t.detectNanos() - t.injectedNanos()).toArray();
                chart.detectionLatencies(what, detected);
                if (li > 0) out.append(',');
                out.append("{\"latencyNanos\":").append(l).append(",\"keep\":").append(cfg.keep()).append(",\"summary\":")
                        .append(s.toJson()).append(",\"results\":[");
                for (int i = 0; i < results.size(); i++) {
                    Campaign.Result r = results.get(i);
                    if (i > 0) out.append(',');
                    out.append(String.format(Locale.ROOT,
                            "{\"index\":%d,\"fault\":\"%s\",\"target\":\"%s\",\"location\":\"%s\",\"mask\":%d,\"at\":%d,"
                                    + "\"activation\":\"%s\",\"outcome\":\"%s\",\"detections\":%d,\"recoveries\":%d,\"escalations\":%d}",
                            r.index(), r.fault().toString().replace("\"", "'"), r.fault().target(), r.fault().location(),
                            r.fault().mask(), r.fault().icount(), r.activation(), r.outcome(), r.detections(), r.recoveries(),
                            r.escalations()));
                    out.insert(out.length() - 1, traceJson(r));
                }
                out.append("]}");
            }
        } finally {
            interruption.close();
        }
        out.append("]").append(interrupted ? ",\"interrupted\":true" : "").append("}");
        if (json != null) {
            try {
                Files.writeString(json, out + "\n");
            } catch (java.io.IOException e) {
                throw OutputFiles.writeFailed(json, e);
            }
            err.println("vmm: wrote " + json);
        }
        if (plot != null) {
            try {
                chart.write(plot);
            } catch (java.io.IOException e) {
                throw OutputFiles.writeFailed(plot, e);
            }
            err.println("vmm: wrote " + plot);
        }
        return interrupted ? ExitStatus.INTERRUPTED : ExitStatus.OK;
    }

    /**
     * One injection again: the guest's console exactly as a user would have seen it (every byte the
     * sink delivered, wrong ones included) on standard output, its event log on standard error.
     */
    private int replayOne(Campaign c, FaultPlan plan) throws Exception {
        if (replay < 0) throw new VmmException(ExitStatus.USAGE, "--replay takes an injection index from 0, not " + replay);
        Fault f = plan.fault(replay);
        PrintStream err = System.err;
        PrintStream out = System.out;
        err.println("vmm: injection " + replay + " of seed " + seed + ": " + f);
        Campaign.Result r = c.inject(replay, f, e -> {
            out.flush();
            err.println("vmm:   " + e);
        }, b -> out.write(b));
        out.flush();
        err.printf(Locale.ROOT, "vmm: activation: %s%nvmm: outcome: %s%nvmm: end: %s%n", r.activation(), r.outcome().label(), r.detail());
        return ExitStatus.OK;
    }

    /** The fields of one result that the measurements of docs/recovery.md read: kind, latency, corruption, cost. */
    private static String traceJson(Campaign.Result r) {
        Campaign.Trace t = r.trace();
        return String.format(Locale.ROOT, ",\"kind\":\"%s\",\"hold\":%d,\"injectedNanos\":%d,\"firstSharing\":%d,"
                        + "\"detectIcount\":%d,\"detectNanos\":%d,\"detector\":%s,\"newestId\":%d,\"targetId\":%d,"
                        + "\"targetIcount\":%d,\"newestHeldError\":%b,\"targetHeldError\":%b,\"rollbacks\":%d,"
                        + "\"reexecuted\":%d,\"reapplied\":%d,\"instructions\":%d",
                r.fault().kind(), r.fault().hold(), t.injectedNanos(), t.firstSharing(), t.detectIcount(), t.detectNanos(),
                t.detector() == null ? "null" : "\"" + t.detector() + "\"", t.newestId(), t.targetId(), t.targetIcount(),
                t.newestHeldError(), t.targetHeldError(), t.rollbacks(), t.reexecuted(), t.reapplied(), r.instructions());
    }

    /** How much running fast-forward and convergence saved, against booting each injection and running it to its end. */
    static String effortLine(Campaign.Effort e, int injections) {
        long all = e.instructionsRun() + e.instructionsSkipped() + e.instructionsAvoided();
        return String.format(Locale.ROOT, "%d of %d injections started from a golden checkpoint, %d stopped at convergence; "
                        + "%,d instructions run, %.1f%% of the %,d a run of each from boot to end takes", e.fastForwarded(), injections,
                e.converged(), e.instructionsRun(), all == 0 ? 100.0 : 100.0 * e.instructionsRun() / all, all);
    }

    /** The console detector's patterns: as --console-detect says, the Linux ones for a Linux guest, else none. */
    private List<String> consolePatterns() {
        io.mucheckpoint.recovery.ConsolePatternDetector d = guest.consoleDetector(consoleDetect);
        return d == null ? List.of() : d.patterns();
    }

    /**
     * Progress on standard error over the whole sweep (every latency bound): one line redrawn in place
     * on a terminal, a line per tenth elsewhere. The estimate of the time left counts the bounds to come.
     */
    static final class Progress {
        private final PrintStream err;
        private final int total;
        private final long start = System.nanoTime();
        private final boolean inPlace;
        private String what = "";
        private int before;
        private int lastTenth;
        /** Characters the line redrawn in place took, so that the line that replaces it covers them all. */
        private int drawn;

        Progress(PrintStream err, int total) {
            this(err, total, System.console() != null);
        }

        Progress(PrintStream err, int total, boolean inPlace) {
            this.err = err;
            this.total = total;
            this.inPlace = inPlace;
        }

        synchronized void bound(String what) {
            this.what = what;
        }

        synchronized void done(int n) {
            int all = before + n;
            double elapsed = (System.nanoTime() - start) / 1e9;
            double eta = elapsed / all * (total - all);
            String line = String.format(Locale.ROOT, "%s: %d/%d injections of the sweep (%.0f%%), %.0f s elapsed, about %.0f s left",
                    what, all, total, 100.0 * all / total, elapsed, eta);
            if (inPlace) {
                err.print("\r" + line + "   ");
                drawn = Math.max(drawn, line.length() + 3);
            } else if (all * 10 / total > lastTenth && all < total) {
                lastTenth = all * 10 / total;
                err.println(line);
            }
            err.flush();
        }

        synchronized void finish(int n, long nanos) {
            before += n;
            String line = String.format(Locale.ROOT, "%s: %d injections in %.1f s", what, n, nanos / 1e9);
            // on a terminal the line covers the whole progress line it replaces (and a "^C" the terminal echoed after it)
            err.println(inPlace ? "\r" + line + " ".repeat(Math.max(0, drawn + 2 - line.length())) : line);
            drawn = 0;
        }
    }

    /**
     * Ctrl-C (SIGINT) while the campaign runs: stop the campaign instead of the JVM, so that what is
     * done is summarised and written. A second Ctrl-C is heard the same way (the campaign is stopping).
     */
    private static final class Interruption implements AutoCloseable {
        private volatile Campaign campaign;
        private volatile boolean requested;
        private final Object previous;

        Interruption() {
            Object p = null;
            try {
                p = org.jline.utils.Signals.register("INT", () -> {
                    requested = true;
                    Campaign c = campaign;
                    if (c != null) c.stop();
                });
            } catch (RuntimeException e) {
                // No signal support here (another JVM, -Xrs): Ctrl-C ends the JVM as before.
            }
            previous = p;
        }

        void watch(Campaign c) {
            campaign = c;
            if (requested) c.stop(); // Ctrl-C between two latency bounds
        }

        @Override
        public void close() {
            if (previous != null) org.jline.utils.Signals.unregister("INT", previous);
        }
    }
}
