package io.mucheckpoint.recovery;

import io.mucheckpoint.checkpoint.CheckpointEngine;
import io.mucheckpoint.checkpoint.CheckpointInfo;
import io.mucheckpoint.checkpoint.CheckpointUnreachableException;
import io.mucheckpoint.checkpoint.RollbackReport;
import io.mucheckpoint.vmm.Machine;
import io.mucheckpoint.vmm.RunResult;
import io.mucheckpoint.vmm.dev.GuestServicesListener;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Automatic recovery: turns detections into in-place rollbacks chosen by the error-latency window.
 *
 * <p>An error detected at guest time t is assumed to have happened after t − L, so the target is
 * the newest retained checkpoint taken at or before t − L — never a newer one, which may already
 * hold the error. If an error is detected again before the guest has got past the first detection
 * (within L of it), the same error is taken to have been older than assumed and recovery
 * escalates to the next older checkpoint; when none is left the error is unrecoverable (and, with
 * restart on, the guest is rebooted).
 *
 * <p>Detectors: the guest's own exception handler and self-checks (guest services ports), triple
 * faults and dead halts (the machine), and a hang watchdog fed by console output and heartbeats.
 */
public final class RecoveryManager {
    private static final Logger log = LoggerFactory.getLogger(RecoveryManager.class);

    private final Machine machine;
    private final CheckpointEngine engine;
    private long latencyNanos;
    private final ReplayConsole console;
    private final InputLog input;
    private final List<Detection> pending = new ArrayList<>();
    private final List<Event> events = new ArrayList<>();
    private final List<Consumer<Event>> eventListeners = new ArrayList<>();
    private final List<Consumer<Outcome>> recoveryListeners = new ArrayList<>();
    private long reexecuted;
    private long watchdogNanos;
    private boolean restart;
    private long lastProgressTicks;
    private long lastProgressIcount;
    /** For a hang episode: the last progress marker's instruction before the hang; the episode ends past it. */
    private long hangProgressIcount = -1;
    /** The detection being recovered from, and the checkpoint the last attempt went back to. */
    private Detection episode;
    private int episodeTarget = -1;
    /** Where the guest stood when the episode's detection was handled (a known rerun ends there). */
    private long episodeStop;
    /** See {@link #knowingRepeatsAfter}; Long.MAX_VALUE: not known. */
    private long repeatsAfter = Long.MAX_VALUE;
    private long rerunsKnown;
    private boolean patternsOn;
    /** Host input was queued at a detection of this episode: its reruns are not known. */
    private boolean inputQueuedInEpisode;
    /** Where the checkpoints retained at the episode's first detection were taken (a known rerun retakes those after its target). */
    private long[] episodeCheckpoints = new long[0];
    private int detections;
    private int recoveries;
    private int escalations;
    private int unrecoverable;
    private int reboots;
    private final GuestServicesListener services;

    /** Something recovery did, for the event log. */
    public record Event(String kind, String message, long icount, long guestNanos) {
        @Override
        public String toString() {
            return String.format("[%,d instructions, %.3f ms] %s: %s", icount, guestNanos / 1e6, kind, message);
        }
    }

    /** What {@link #recoverNow} did. */
    public record Outcome(boolean recovered, Detection detection, CheckpointInfo target, boolean escalated, String message) {}

    /**
     * @param console the machine's serial console wrapped for replay (the machine must have been
     *        built with it as its COM1 sink), or null if output consistency is not needed
     */
    public RecoveryManager(Machine machine, CheckpointEngine engine, long latencyNanos, ReplayConsole console) {
        this.machine = machine;
        this.engine = engine;
        this.latencyNanos = latencyNanos;
        this.console = console;
        this.input = new InputLog(machine.clock);
        machine.addInputListener(input);
        machine.addGuestServicesListener(services = new GuestServicesListener() {
            @Override
            public void heartbeat(int value) {
                progress();
            }

            @Override
            public void exceptionReported(int vector) {
                detect("guest-exception", "the guest's handler caught exception " + vector);
            }

            @Override
            public void selfCheckFailed(int id) {
                detect("self-check", String.format("guest self-check %08x failed", id));
            }
        });
        if (console != null) {
            console.onProgress(this::progress);
            engine.addBoundaryListener(c -> console.checkpointTaken(c.id(), c.guestNanos()));
        }
        lastProgressTicks = machine.clock.now();
        lastProgressIcount = machine.cpu.icount();
    }

    /**
     * The last progress marker came at guest time {@code ticks}, instruction {@code icount} (a run
     * fast-forwarded to a golden checkpoint goes on with the golden run's watchdog clock).
     */
    public void resumeProgress(long ticks, long icount) {
        lastProgressTicks = ticks;
        lastProgressIcount = icount;
    }

    /** Guest time (ticks) of the last progress marker: the hang watchdog counts from it. */
    public long lastProgressTicks() {
        return lastProgressTicks;
    }

    /** A new latency bound L for the detections to come (the console's {@code set latency}). */
    public void setLatencyNanos(long latencyNanos) {
        if (latencyNanos < 0) throw new IllegalArgumentException("the latency bound cannot be negative");
        this.latencyNanos = latencyNanos;
    }

    /** Detaches from the machine (when checkpointing restarts with another engine). */
    public void close() {
        machine.removeGuestServicesListener(services);
        machine.removeInputListener(input);
        if (console != null) console.onProgress(() -> {});
    }

    /** Fires the hang watchdog when no progress marker arrives within {@code nanos} of guest time (0: off). */
    public RecoveryManager withWatchdog(long nanos) {
        watchdogNanos = nanos;
        return this;
    }

    /**
     * Reads the console for {@code detector}'s patterns: a line with one is a detection (a Linux
     * guest's "Kernel panic", "Oops:", ...). Needs the replay console.
     */
    public RecoveryManager withConsolePatterns(ConsolePatternDetector detector) {
        if (console == null) throw new IllegalStateException("console patterns need the replay console");
        patternsOn = true;
        console.onPrinted(b -> {
            String p = detector.accept(b);
            if (p != null) detect("console-pattern", "the guest printed '" + p + "'");
        });
        engine.addRollbackListener((target, from) -> detector.reset());
        return this;
    }

    /** Reboot the guest when an error is unrecoverable, instead of stopping. */
    public RecoveryManager withRestart(boolean on) {
        restart = on;
        return this;
    }

    public void addEventListener(Consumer<Event> l) {
        eventListeners.add(l);
    }

    /** Hears what each recovery attempt did (its detection, the checkpoint it went back to), in order. */
    public void addRecoveryListener(Consumer<Outcome> l) {
        recoveryListeners.add(l);
    }

    /** Instructions the rollbacks so far undid (each to be run again): the sum of detection point minus target. */
    public long reexecutedInstructions() {
        return reexecuted;
    }

    public List<Event> events() {
        return List.copyOf(events);
    }

    public InputLog inputLog() {
        return input;
    }

    public int detections() {
        return detections;
    }

    public int recoveries() {
        return recoveries;
    }

    public int escalations() {
        return escalations;
    }

    public int unrecoverable() {
        return unrecoverable;
    }

    public int reboots() {
        return reboots;
    }

    private void progress() {
        lastProgressTicks = machine.clock.now();
        lastProgressIcount = machine.cpu.icount();
    }

    /** A detector fired (on the machine's thread, possibly mid-instruction): handled at the next boundary. */
    private void detect(String detector, String detail) {
        pending.add(new Detection(detector, detail, machine.cpu.icount(), machine.clock.toNanos(machine.clock.now())));
        engine.requestStop();
    }

    // --- the run loop ----------------------------------------------------------------------------------

    /**
     * Runs the guest with checkpointing and automatic recovery until it exits, the limit is reached,
     * it pauses, or an error turns out unrecoverable (returned as the RunResult that ended it).
     */
    public RunResult run(long tickLimit, long icountLimit) {
        while (true) {
            long icountTarget = Math.min(input.icountLimit(machine.cpu.icount(), icountLimit), workLimit - reexecuted);
            long tickTarget = input.tickLimit(tickLimit);
            if (watchdogNanos > 0) tickTarget = Math.min(tickTarget, lastProgressTicks + machine.clock.fromNanos(watchdogNanos) + 1);
            if (console != null && console.nextReleaseNanos() != Long.MAX_VALUE) {
                tickTarget = Math.min(tickTarget, Math.max(machine.clock.now() + 1, machine.clock.fromNanos(console.nextReleaseNanos())));
            }
            machine.setInputHeld(input.replaying());
            RunResult r = engine.run(tickTarget, icountTarget);
            input.deliverDue(machine);
            RunResult after = afterSlice(r);
            releaseOutput(after != null ? after : r);
            if (after != null) {
                if (after.kind() == RunResult.Kind.LIMIT && !returnAfterRecovery) continue; // recovered: go on
                return after;
            }
            if (r.kind() == RunResult.Kind.LIMIT) {
                if (machine.clock.now() >= tickLimit || machine.cpu.icount() >= icountLimit || workDone()) return r;
                continue;
            }
            return r;
        }
    }

    private boolean returnAfterRecovery;

    /**
     * Makes {@link #run} return (a LIMIT result) after every successful recovery instead of running
     * on, so that a caller whose limit depends on where the guest stands (a campaign stopping at the
     * golden run's next checkpoint) can choose it again; calling run again goes on as if it had not.
     */
    public RecoveryManager returningAfterRecovery() {
        returnAfterRecovery = true;
        return this;
    }

    /** See {@link #withWorkLimit}; Long.MAX_VALUE: none. */
    private long workLimit = Long.MAX_VALUE;

    /**
     * Makes {@link #run} return once the guest has executed {@code instructions} in all: its
     * instruction count plus every instruction a rollback undid. A rollback leaves that sum as it
     * was, so the limit falls on one instruction however the run is sliced; a campaign bounds each
     * injection's work with it (an error that comes back after every rollback would otherwise
     * escalate through the whole history at the cost of a run per checkpoint).
     */
    public RecoveryManager withWorkLimit(long instructions) {
        workLimit = instructions;
        return this;
    }

    /** Whether the work limit has been reached. */
    public boolean workDone() {
        return machine.cpu.icount() + reexecuted >= workLimit;
    }

    /**
     * Everything automatic recovery does after a stretch of running that ended with {@code r}: the
     * machine-level detectors (triple fault, dead halt) and the watchdog, then recovery of whatever
     * was detected. Returns null if nothing was detected, a LIMIT result after a successful
     * recovery (run on), or a GUEST_ERROR result if the error was unrecoverable (and restart is off).
     */
    public RunResult afterSlice(RunResult r) {
        machineDetections(r);
        if (watchdogNanos > 0 && !r.finished()
                && machine.clock.now() - lastProgressTicks > machine.clock.fromNanos(watchdogNanos)) {
            pending.add(new Detection("watchdog", "no console output or heartbeat for "
                    + watchdogNanos / 1_000_000 + " ms of guest time", machine.cpu.icount(), machine.clock.toNanos(machine.clock.now())));
        }
        if (!pending.isEmpty()) {
            Detection d = pending.get(0);
            pending.clear();
            Outcome o = recover(d);
            if (o.recovered()) return new RunResult(RunResult.Kind.LIMIT, 0, o.message());
            if (restart) {
                reboot(d);
                return new RunResult(RunResult.Kind.LIMIT, 0, "rebooted after an unrecoverable " + d.detector());
            }
            return new RunResult(RunResult.Kind.GUEST_ERROR, 0, "unrecoverable " + d.detector() + ": " + o.message());
        }
        if (episode != null && episodeOver()) {
            emit("recovered", (hangProgressIcount >= 0 ? "the guest made progress it had not made before the hang: "
                    : "the guest ran past the detection point: ") + episode.detector() + " episode over");
            endEpisode();
        }
        return null;
    }

    /**
     * Whether the guest got past the episode's error: a hang is over only when the guest makes
     * progress it had not made before the hang (running on is what a hung guest does); any other
     * error when the guest ran past the detection point by more than L.
     */
    private boolean episodeOver() {
        if (hangProgressIcount >= 0) return lastProgressIcount > hangProgressIcount;
        return machine.cpu.icount() > episode.icount() && machine.clock.toNanos(machine.clock.now()) > episode.guestNanos() + latencyNanos;
    }

    /**
     * Output commit: held output goes out when its checkpoint is old enough, and all of it when the
     * run ends or the guest waits for input with no timer armed (nothing more can come to seal it).
     */
    public void releaseOutput(RunResult r) {
        if (console == null || !console.holdsOutput()) return;
        if (r.finished() || r.kind() == RunResult.Kind.IDLE) console.releaseAll();
        else console.release(machine.clock.toNanos(machine.clock.now()));
    }

    /** Triple faults and dead halts are detections too. */
    private void machineDetections(RunResult r) {
        if (r.kind() == RunResult.Kind.TRIPLE_FAULT) {
            pending.add(new Detection("triple-fault", r.message(), machine.cpu.icount(), machine.clock.toNanos(machine.clock.now())));
        } else if (r.kind() == RunResult.Kind.DEAD_HALT) {
            pending.add(new Detection("dead-halt", r.message(), machine.cpu.icount(), machine.clock.toNanos(machine.clock.now())));
        }
    }

    // --- recovery ------------------------------------------------------------------------------------

    /** Detection now (the console's {@code recover}): roll back by the latency window. */
    public Outcome recoverNow(String reason) {
        return recover(new Detection("user", reason, machine.cpu.icount(), machine.clock.toNanos(machine.clock.now())));
    }

    /**
     * Chooses the rollback target for a detection and rolls back; escalates on a repeat.
     *
     * <p>A hang (the watchdog) is a detection whose error struck before the guest's last progress
     * marker at the latest, so its target is the newest checkpoint at least L before that marker.
     * If the guest hangs again before making new progress, recovery escalates straight to the
     * oldest retained checkpoint (each try costs a whole watchdog period), and if it hangs from
     * there too, it gives up: rolling back for ever would hide the hang.
     */
    public Outcome recover(Detection d) {
        // Known reruns end where the episode's first detection stood: only a detection there can take them.
        boolean atEpisodeStop = episode == null
                || (machine.cpu.icount() == episodeStop && d.icount() == episode.icount() && d.guestNanos() == episode.guestNanos());
        Outcome o = recoverOnce(d);
        // host input queued during the episode may reach a rerun at other points than it reached the run
        if (machine.hasQueuedInput()) inputQueuedInEpisode = true;
        while (atEpisodeStop && !inputQueuedInEpisode && o.recovered() && rerunKnown(o.target())) {
            long rerun = episodeStop - machine.cpu.icount();
            reexecuted += rerun;
            rerunsKnown += rerun;
            // the rerun would take the checkpoints the faulty run took after the target, and the escalation drop them
            int taken = 0;
            for (long at : episodeCheckpoints) if (at > o.target().icount()) taken++;
            engine.skipIds(taken);
            emit("known", String.format("from checkpoint %d the guest would run again as it ran after the fault, to the same detection"
                    + " at instruction %,d: taken as run (%,d instructions)", o.target().id(), episode.icount(), rerun));
            o = recoverOnce(episode);
        }
        return o;
    }

    /**
     * Whether running on from {@code target}, where a rollback has just put the guest, is known to
     * end in the episode's detection again, at the same instruction, with everything recovery
     * counts the same as a run would leave it. It is when the target was taken on the faulty
     * timeline itself (after the fault, with no rollback to before it since), so that the guest
     * repeats what it did; the detector is one the guest's own execution decides (a self-check, an
     * exception the guest reports, a triple fault, a dead halt; not the watchdog, whose clock a
     * rollback resets, nor console patterns, whose line a rollback forgets); no host input was
     * queued at a detection of the episode ({@link #recover}); the rerun stays under the work limit;
     * the checkpoint memory budget has decided nothing yet (so the rerun retakes the checkpoints it
     * took, and --keep drops none of the older ones); and an older checkpoint is retained, so that
     * the repeated detection escalates rather than ending the run where it stands.
     */
    private boolean rerunKnown(CheckpointInfo target) {
        if (episode == null || target.icount() <= repeatsAfter) return false;
        String k = episode.detector();
        if (!(k.equals("self-check") || k.equals("guest-exception") || k.equals("triple-fault") || k.equals("dead-halt"))) return false;
        if (patternsOn || (console != null && console.holdsOutput())) return false;
        if (episodeStop + reexecuted >= workLimit || engine.budgetHasBound()) return false;
        List<CheckpointInfo> cps = engine.checkpoints();
        return !cps.isEmpty() && cps.get(0).id() < target.id();
    }

    /**
     * Tells recovery that the guest's timeline after instruction {@code icount} is the faulty run's
     * own: a transient fault struck there, so a checkpoint taken after it holds the fault, and
     * running on from one repeats what the guest did (a campaign's injection). Escalations through
     * such checkpoints are then taken without running them again ({@link #rerunKnown}).
     */
    public RecoveryManager knowingRepeatsAfter(long icount) {
        repeatsAfter = icount;
        return this;
    }

    /** Instructions of reruns after rollbacks that were known and not run (counted in {@link #reexecutedInstructions}). */
    public long rerunsKnown() {
        return rerunsKnown;
    }

    private Outcome recoverOnce(Detection d) {
        long standing = machine.cpu.icount();
        detections++;
        emit("detected", d.toString());
        boolean hang = d.detector().equals("watchdog");
        boolean repeat = episode != null && episodeTarget >= 0
                && (hangProgressIcount >= 0 || d.guestNanos() <= episode.guestNanos() + latencyNanos);
        List<CheckpointInfo> cps = engine.checkpoints();
        CheckpointInfo target = null;
        if (repeat && hang) {
            if (!cps.isEmpty() && cps.get(0).id() < episodeTarget) target = cps.get(0);
        } else if (repeat) {
            for (CheckpointInfo c : cps) if (c.id() < episodeTarget) target = c;
        } else {
            long from = hang ? machine.clock.toNanos(lastProgressTicks) : d.guestNanos();
            long bound = Math.max(0, from - latencyNanos);
            for (CheckpointInfo c : cps) if (c.guestNanos() <= bound) target = c;
            if (target == null && !cps.isEmpty() && (hang || cps.get(0).icount() == 0)) target = cps.get(0);
        }
        if (target == null) {
            unrecoverable++;
            String why = repeat && hang
                    ? "the guest hung again after rolling back to checkpoint " + episodeTarget
                            + ", the oldest retained: giving up"
                    : repeat
                    ? "the error came back after rolling back to checkpoint " + episodeTarget + " and no older checkpoint is retained"
                    : "no retained checkpoint is older than the latency bound (" + latencyNanos / 1_000_000 + " ms) before the detection";
            emit("unrecoverable", why);
            endEpisode();
            return told(new Outcome(false, d, null, repeat, why));
        }
        if (hang && !repeat) hangProgressIcount = lastProgressIcount;
        RollbackReport report;
        try {
            report = engine.rollback(target.id());
        } catch (CheckpointUnreachableException e) {
            // The image chain to the chosen checkpoint is damaged: an older one is never reachable
            // then, and a newer one may hold the error. Say so and stop.
            unrecoverable++;
            emit("unrecoverable", e.getMessage());
            return told(new Outcome(false, d, target, repeat, e.getMessage()));
        }
        if (console != null) console.rolledBack(target.id(), false);
        input.replayFrom(target.icount(), target.guestNanos());
        lastProgressTicks = machine.clock.now();
        if (repeat) escalations++;
        recoveries++;
        if (!repeat) {
            episode = d;
            episodeStop = standing;
            inputQueuedInEpisode = false;
            episodeCheckpoints = cps.stream().mapToLong(CheckpointInfo::icount).toArray();
        }
        // a checkpoint from before the fault puts back a state without it: the faulty timeline is gone
        if (target.icount() <= repeatsAfter) repeatsAfter = Long.MAX_VALUE;
        episodeTarget = target.id();
        String msg = String.format("rolled back %sto checkpoint %d (%.3f ms guest time, instruction %,d): %d pages restored in %.2f ms",
                repeat ? "further " : "", target.id(), target.guestNanos() / 1e6, target.icount(), report.pagesRestored(),
                report.nanos() / 1e6);
        emit(repeat ? "escalated" : "rollback", msg);
        reexecuted += Math.max(0, report.fromIcount() - target.icount());
        return told(new Outcome(true, d, target, repeat, msg));
    }

    private Outcome told(Outcome o) {
        for (Consumer<Outcome> l : recoveryListeners) l.accept(o);
        return o;
    }

    private void reboot(Detection d) {
        reboots++;
        repeatsAfter = Long.MAX_VALUE;
        emit("restart", "rebooting the guest after an unrecoverable " + d.detector());
        machine.rebootNow();
        engine.restart();
        endEpisode();
        lastProgressTicks = machine.clock.now();
        lastProgressIcount = machine.cpu.icount();
    }

    private void endEpisode() {
        episode = null;
        episodeTarget = -1;
        hangProgressIcount = -1;
    }

    private void emit(String kind, String message) {
        Event e = new Event(kind, message, machine.cpu.icount(), machine.clock.toNanos(machine.clock.now()));
        events.add(e);
        log.info("{}", e);
        for (Consumer<Event> l : eventListeners) l.accept(e);
    }
}
