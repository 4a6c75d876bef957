package io.mucheckpoint.cli;

import io.mucheckpoint.checkpoint.CheckpointConfig;
import io.mucheckpoint.recovery.Campaign;
import io.mucheckpoint.recovery.Fault;
import io.mucheckpoint.recovery.FaultPlan;
import io.mucheckpoint.recovery.report.CampaignJournal;
import io.mucheckpoint.recovery.report.ResultJson;
import io.mucheckpoint.vmm.GuestImage;
import io.mucheckpoint.vmm.MachineConfig;
import io.mucheckpoint.vmm.load.LoadException;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
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
                "and --json cover the injections finished by then, the journal keeps them for --resume (exit status 130).",
                "", ExitStatus.HELP})
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

    @Option(names = "--prune", paramLabel = "MODE",
            description = {"def-use: first run the golden run once more to find the RAM bytes and x87 registers that are",
                    "never read again after a fault strikes them (overwritten first, or never touched), and record those",
                    "injections without running them, as the \"not activated\" their runs give (the results are the same;",
                    "registers, control registers and stuck-at faults still run). none (default): run every injection."})
    String prune = "none";

    @Option(names = "--workers", paramLabel = "N", description = "Parallel injections (default: the number of cores).")
    Integer workers;

    @Option(names = "--json", paramLabel = "FILE", description = "Write every result and the summary as JSON.")
    Path json;

    @Option(names = "--plot", paramLabel = "FILE.png",
            description = "Draw the outcome shares with their 95%% intervals, one group per latency bound, and the error latency (injection to detection) of the detected injections, into FILE.png.")
    Path plot;

    @Option(names = "--replay", paramLabel = "INDEX", description = "Run only injection INDEX of the plan, with its event log.")
    Integer replay;

    @Option(names = "--journal", paramLabel = "FILE",
            description = {"Append every finished injection to FILE (JSON lines, after a header line with the campaign's",
                    "parameters) the moment it ends (default: vmm-inject-WORKLOAD-seedS.jsonl here, -2, -3... if taken)."})
    Path journal;

    @Option(names = "--resume", paramLabel = "FILE",
            description = {"Continue the campaign of the journal FILE (the same options): the injections it holds are not run",
                    "again, new ones are appended to it, and the summary and --json cover them all."})
    Path resume;

    @Option(names = "--shard", paramLabel = "K/N",
            description = {"Run only shard K of N (K from 1): the injections whose index is K-1 modulo N, of the same plan;",
                    "vmm campaign merge joins the N journals into the result of one run."})
    String shardSpec;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    private List<String> commandLine = List.of();

    @Override
    public Integer call() throws Exception {
        commandLine = spec.commandLine().getParseResult().originalArgs();
        // Every injection is a new machine with translations of its own, compiled anew: over a
        // campaign of thousands they fill the JVM's code cache (HotSpot then stops compiling and
        // everything runs many times slower), and each injection is too short to repay them.
        // Campaigns run the interpreter unless --translate is given; results are the same either way.
        if (!spec.commandLine().getParseResult().hasMatchedOption("--translate")) guest.translate = "off";
        guest.applyTranslate(); // a campaign restored from a snapshot makes no image, which would apply it
        if (faults < 1) throw new VmmException(ExitStatus.USAGE, "--faults must be at least 1");
        if (!prune.equals("def-use") && !prune.equals("none")) throw new VmmException(ExitStatus.USAGE, "--prune takes def-use or none, not '" + prune + "'");
        try {
            new FaultPlan(seed, target, bits, 2, new int[] {0}, memoryFault, stuckAt); // bad --target and the like, before the golden run
        } catch (IllegalArgumentException e) {
            throw new VmmException(ExitStatus.USAGE, e.getMessage());
        }
        Shard shard = shardSpec == null ? Shard.ALL : Shard.parse(shardSpec);
        if (replay != null && (journal != null || resume != null || shardSpec != null)) {
            throw new VmmException(ExitStatus.USAGE, "--replay runs one injection: no --journal, --resume or --shard with it");
        }
        if (resume != null && journal != null && !journal.toAbsolutePath().normalize().equals(resume.toAbsolutePath().normalize())) {
            throw new VmmException(ExitStatus.USAGE, "--resume " + resume + " appends to that journal: drop --journal " + journal);
        }
        OutputFiles.check("--json", json);
        OutputFiles.check("--plot", plot);
        CampaignJournal.Contents previous = resume == null || replay != null ? null : Journals.read(resume);
        if (previous != null) OutputFiles.check("--resume", resume);
        if (journal != null && resume == null && replay == null) {
            OutputFiles.check("--journal", journal);
            if (Files.exists(journal) && Files.size(journal) > 0) {
                throw new VmmException(ExitStatus.CANT_CREATE, "--journal " + journal + " already exists: continue its campaign with --resume "
                        + journal + ", or name another file");
            }
        }
        if (journal == null && resume == null && replay == null && !Files.isWritable(Path.of("").toAbsolutePath())) {
            throw new VmmException(ExitStatus.CANT_CREATE, "cannot write the journal into the current directory (not writable): "
                    + "name one with --journal FILE");
        }
        CheckpointConfig base = checkpoints.config(guest.ticksPerSecond());
        if (checkpoints.off) throw new VmmException(ExitStatus.USAGE, "recovery needs checkpoints: drop --no-checkpoint");
        long watchdogNanos = watchdog.equals("auto") ? Campaign.WATCHDOG_AUTO
                : GuestOptions.parse(() -> Units.guestNanos(watchdog), "--watchdog");
        boolean held = OutputCommit.held(outputCommit);
        List<Long> latencies = new ArrayList<>();
        if (sweep == null || sweep.isEmpty()) latencies.add(base.latencyNanos());
        else for (String s : sweep) latencies.add(GuestOptions.parse(() -> Units.guestNanos(s), "--sweep-latency"));
        if (latencies.stream().distinct().count() < latencies.size()) throw new VmmException(ExitStatus.USAGE, "--sweep-latency names a bound twice");
        if (sweepKeep != null && sweepKeep.stream().anyMatch(k -> k < 1)) throw new VmmException(ExitStatus.USAGE, "--sweep-keep takes numbers of at least 1");
        if (sweepKeep != null && sweepKeep.stream().distinct().count() < sweepKeep.size()) {
            throw new VmmException(ExitStatus.USAGE, "--sweep-keep names a number twice");
        }
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
        List<String> patterns = consolePatterns();
        Map<String, Object> header = header(name, base, latencies, patterns, shard);
        if (previous != null) checkResumed(previous, header, header.keySet());
        PrintStream err = System.err;
        Campaign first;
        try {
            err.println("vmm: golden run of " + name + "...");
            first = new Campaign(start, base.withLatencyNanos(latencies.get(0)), watchdogNanos).withOutputCommit(held)
                    .withFastForward(!noFastForward, !noConvergence).withPruning(prune.equals("def-use"));
        } catch (LoadException e) {
            throw new VmmException(ExitStatus.BAD_IMAGE, e.getMessage());
        } catch (IllegalStateException e) {
            throw new VmmException(ExitStatus.GUEST_CRASH, e.getMessage());
        }
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
        header.put("goldenInstructions", g.instructions());
        header.put("watchdogNanos", first.watchdogNanos());
        if (previous != null) checkResumed(previous, header, List.of("goldenInstructions", "watchdogNanos"));
        int n = workers != null ? Math.max(1, workers) : Runtime.getRuntime().availableProcessors();
        List<ResultJson.Cell> grid = CampaignReport.cells(header);
        Map<ResultJson.Cell, List<ResultJson.Entry>> done = journaled(previous, grid, shard);
        int[] indices = shard.indices(faults);
        int total = 0;
        for (ResultJson.Cell cell : grid) total += indices.length - done.get(cell).size();
        CampaignJournal j = openJournal(previous, header, name);
        err.println("vmm: journal: " + j.file());
        CampaignReport report = new CampaignReport(header);
        Progress progress = new Progress(err, Math.max(1, total));
        Interruption interruption = new Interruption();
        boolean interrupted = false;
        boolean toldAfresh = false;
        IOException[] journalFailed = {null};
        try {
            for (int li = 0; li < grid.size() && !interrupted; li++) {
                ResultJson.Cell cell = grid.get(li);
                List<ResultJson.Entry> entries = new ArrayList<>(done.get(cell));
                java.util.Set<Integer> had = new java.util.HashSet<>();
                for (ResultJson.Entry e : entries) had.add(e.index());
                int[] todo = java.util.Arrays.stream(indices).filter(i -> !had.contains(i)).toArray();
                String what = CampaignReport.label(header, cell);
                if (todo.length > 0) {
                    CheckpointConfig cfg = sweepKeep == null || sweepKeep.isEmpty() ? base.withLatencyNanos(cell.latencyNanos())
                            : base.withKeep(cell.keep()).withLatencyNanos(cell.latencyNanos());
                    Campaign c = li == 0 && (sweepKeep == null || sweepKeep.isEmpty()) ? first
                            : new Campaign(start, cfg, watchdogNanos).withConsolePatterns(patterns).withOutputCommit(held)
                                    .withFastForward(!noFastForward, !noConvergence).withPruning(prune.equals("def-use"));
                    if (!noFastForward && c.fastForwardUnavailable() != null && !toldAfresh) {
                        toldAfresh = true;
                        err.println("vmm: every injection boots afresh: " + c.fastForwardUnavailable());
                    }
                    interruption.watch(c);
                    long t0 = System.nanoTime();
                    progress.bound(what + (grid.size() > 1 ? " (" + (li + 1) + "/" + grid.size() + ")" : ""));
                    java.util.concurrent.atomic.AtomicInteger finished = new java.util.concurrent.atomic.AtomicInteger();
                    List<Campaign.Result> results = c.run(plan, todo, n, r -> {
                        try {
                            j.add(ResultJson.of(cell, r));
                        } catch (IOException e) {
                            synchronized (journalFailed) {
                                if (journalFailed[0] == null) journalFailed[0] = e;
                            }
                            c.stop(); // a result that cannot be kept is not worth running on for
                        }
                        progress.done(finished.incrementAndGet());
                    });
                    for (Campaign.Result r : results) entries.add(ResultJson.of(cell, r));
                    interrupted = c.stopped();
                    progress.finish(results.size(), System.nanoTime() - t0);
                    err.println("vmm: " + effortLine(c.effort(), results.size()));
                }
                if (interrupted) {
                    err.printf(Locale.ROOT, "vmm: interrupted: %d of %d injections done at %s%s%n", entries.size(), indices.length,
                            (sweepKeep == null || sweepKeep.isEmpty() ? "" : "K = " + cell.keep() + ", ") + "L = "
                                    + Units.formatNanos(cell.latencyNanos()), li + 1 < grid.size() ? "; the rest of the sweep was not run" : "");
                }
                report.cell(System.out, cell, entries, interrupted);
            }
        } finally {
            interruption.close();
            j.close();
        }
        String command = "vmm " + String.join(" ", commandLine);
        report.write(json, plot, command, interrupted, err);
        if (journalFailed[0] != null) {
            throw new VmmException(ExitStatus.CANT_CREATE, "cannot write the journal " + j.file() + ": "
                    + OutputFiles.reason(j.file(), journalFailed[0]) + " (the campaign stopped; what it holds is kept)");
        }
        if (interrupted) err.println("vmm: resume with --resume " + j.file());
        return interrupted ? ExitStatus.INTERRUPTED : ExitStatus.OK;
    }

    /** The journal's header: the campaign's parameters that decide its results (the golden run's come later). */
    private Map<String, Object> header(String name, CheckpointConfig base, List<Long> latencies, List<String> patterns, Shard shard) {
        Map<String, Object> h = new LinkedHashMap<>();
        h.put(CampaignJournal.MARK, CampaignJournal.VERSION);
        h.put("workload", name);
        h.put("append", guest.append);
        h.put("restore", restore == null ? null : restore.toString());
        h.put("ram", guest.ram);
        h.put("ips", guest.ips);
        h.put("seed", seed);
        h.put("faults", faults);
        h.put("target", target);
        h.put("bits", bits);
        h.put("memoryFault", memoryFault);
        h.put("stuckAt", stuckAt);
        h.put("interval", base.interval().toString());
        h.put("keep", base.keep());
        h.put("mode", checkpoints.mode);
        h.put("clock", checkpoints.clock);
        h.put("predictor", checkpoints.predictor);
        h.put("checkpointMemory", checkpoints.memory);
        h.put("sweepKeep", sweepKeep == null || sweepKeep.isEmpty() ? null : List.copyOf(sweepKeep));
        h.put("latencies", List.copyOf(latencies));
        h.put("watchdog", watchdog);
        h.put("outputCommit", outputCommit);
        h.put("consolePatterns", List.copyOf(patterns));
        h.put("shard", shard.toString());
        return h;
    }

    private void checkResumed(CampaignJournal.Contents previous, Map<String, Object> header, java.util.Collection<String> keys) {
        String d = Journals.difference(previous.header(), "the journal", header, "this command", keys);
        if (d != null) throw new VmmException(ExitStatus.USAGE, "--resume " + previous.file() + ": not this campaign: " + d);
    }

    /** The results a resumed journal holds, by cell; each must be of this campaign's grid and shard, and there once. */
    private Map<ResultJson.Cell, List<ResultJson.Entry>> journaled(CampaignJournal.Contents previous, List<ResultJson.Cell> grid, Shard shard) {
        Map<ResultJson.Cell, List<ResultJson.Entry>> out = new LinkedHashMap<>();
        Map<ResultJson.Cell, java.util.Set<Integer>> seen = new LinkedHashMap<>();
        for (ResultJson.Cell c : grid) {
            out.put(c, new ArrayList<>());
            seen.put(c, new java.util.HashSet<>());
        }
        if (previous == null) return out;
        for (ResultJson.Entry e : previous.entries()) {
            String where = previous.file() + ": injection " + e.index() + " at keep " + e.cell().keep() + ", L = "
                    + Units.formatNanos(e.cell().latencyNanos());
            if (!out.containsKey(e.cell())) throw new VmmException(ExitStatus.BAD_IMAGE, where + " is of no cell of the campaign's grid");
            if (e.index() < 0 || e.index() >= faults || !shard.contains(e.index())) {
                throw new VmmException(ExitStatus.BAD_IMAGE, where + " is not of shard " + shard + " of " + faults + " injections");
            }
            if (!seen.get(e.cell()).add(e.index())) throw new VmmException(ExitStatus.BAD_IMAGE, where + " is there twice");
            out.get(e.cell()).add(e);
        }
        return out;
    }

    /** The journal to append to: the resumed one, the one --journal names, or a new one here named after the campaign. */
    private CampaignJournal openJournal(CampaignJournal.Contents previous, Map<String, Object> header, String name) {
        Path file = previous != null ? previous.file() : journal;
        try {
            if (previous != null) return CampaignJournal.append(previous);
            if (file != null) {
                // A device or a pipe (--journal /dev/null, a FIFO) is written as it is: deleting it
                // to create the journal afresh would replace a root user's /dev/null by a file.
                if (Files.exists(file) && !Files.isRegularFile(file)) return CampaignJournal.createOn(file, header);
                Files.deleteIfExists(file); // an empty file (checked before the golden run)
                return CampaignJournal.create(file, header);
            }
            String stem = Path.of(name).getFileName().toString().replaceFirst("\\.elf$", "");
            for (int i = 1; ; i++) {
                file = Path.of("vmm-inject-" + stem + "-seed" + seed + (i == 1 ? "" : "-" + i) + ".jsonl");
                try {
                    return CampaignJournal.create(file, header);
                } catch (java.nio.file.FileAlreadyExistsException e) {
                    // taken (an earlier campaign's, or a shard's started at the same moment): the next suffix
                }
            }
        } catch (IOException e) {
            throw OutputFiles.writeFailed(file, e);
        }
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

    /** How much running fast-forward and convergence saved, against booting each injection and running it to its end. */
    static String effortLine(Campaign.Effort e, int injections) {
        long all = e.instructionsRun() + e.instructionsSkipped() + e.instructionsAvoided();
        return String.format(Locale.ROOT, "%d of %d injections started from a golden checkpoint, %d stopped at convergence%s%s; "
                        + "%,d instructions run, %.1f%% of the %,d a run of each from boot to end takes", e.fastForwarded(), injections,
                e.converged(), e.convergedAfterRollback() > 0 ? " (" + e.convergedAfterRollback() + " after a rollback)" : "",
                (e.escalatedWithoutRerun() > 0 ? ", " + e.escalatedWithoutRerun() + " escalated without rerunning the faulty run" : "")
                        + (e.pruned() > 0 ? ", " + e.pruned() + " decided by def-use without running" : ""),
                e.instructionsRun(), all == 0 ? 100.0 : 100.0 * e.instructionsRun() / all, all);
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
