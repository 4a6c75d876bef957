package io.mucheckpoint.cli.gdb;

import io.mucheckpoint.checkpoint.CheckpointEngine;
import io.mucheckpoint.checkpoint.CheckpointInfo;
import io.mucheckpoint.cli.gdb.Snapshot.Point;
import io.mucheckpoint.vmm.Machine;
import io.mucheckpoint.vmm.RunResult;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reverse execution over the checkpoints: reverse-stepi and reverse-continue by rolling back to a
 * saved state before the current point and re-executing, deterministically, to where a forward run
 * would have stopped.
 *
 * <p><b>Restore points.</b> The checkpoint engine's checkpoints, plus the debugger's own
 * {@link Snapshot}s: one every {@link #PERIOD} instructions while the guest runs forward under the
 * debugger, one wherever it stops after going forward, and, whenever a replay ends somewhere, a few
 * at geometric distances before that point (2^13, 2^14, ... instructions back), so that
 * consecutive reverse steps each re-run a few thousand instructions rather than an epoch.
 *
 * <p><b>Reverse-continue</b> goes back segment by segment (restore point to the end of the
 * segment, newest first). Each segment is replayed once with the breakpoints and watchpoints
 * armed, noting every hit; the last hit is where a forward run would have stopped last, and a
 * second replay lands exactly there. A breakpoint hit lands before the instruction (as a forward
 * stop does); a watchpoint hit lands before the instruction that made the access, so that gdb sees
 * the value change as it goes backwards and shows the instruction that wrote.
 *
 * <p><b>Replay, not a new timeline.</b> Going back is what automatic recovery does: logged host
 * input is delivered again at the same points and console output already shown is not shown
 * again; live input waits until the guest is back at the newest point it had reached (the
 * frontier). A write by the debugger forks the timeline where it is made: a checkpoint is taken
 * there (so replays of what follows start from it and include the write), what the guest prints
 * afterwards is printed again, logged input after it is dropped; going back past such a write
 * undoes it, and the branch that followed it.
 *
 * <p>Everything here runs on the guest thread.
 */
final class TimeTravel {
    private static final Logger log = LoggerFactory.getLogger(TimeTravel.class);
    /** Instructions between snapshots while the guest runs forward under the debugger. */
    static final long PERIOD = 1_000_000;
    /** The nearest snapshot laid before a point a replay ended at, in instructions (2^13). */
    private static final int FIRST_GAP_BITS = 13;
    /** Longest replay slice: how long a Ctrl-C may wait. */
    private static final long REPLAY_SLICE = 500_000;
    /** Memory for snapshots' page images; beyond it the snapshots farthest from the guest go. */
    static final long BUDGET = 64L << 20;
    /** Most snapshots held (the searches over them are linear). */
    private static final int MAX_SNAPSHOTS = 1024;

    /** How a reverse move ended. */
    enum Kind { STEP, BREAKPOINT, WATCH, BEGIN, INTERRUPTED }

    record Landing(Kind kind, Watchpoints.Hit watch) {}

    /** A hit found while replaying: where a forward run stopped (breakpoint) or the access was made (watch). */
    private record Found(long icount, int pc, Watchpoints.Hit watch) {}

    /** A write by the debugger: the timeline forked here. */
    private record Fork(Point at, long outputPosition) {}

    /** Something to roll back to: a checkpoint (snapshot null) or a snapshot. */
    private record RestorePoint(Point at, CheckpointInfo checkpoint, Snapshot snapshot) {}

    private final DebugSession session;
    private final Breakpoints breakpoints;
    private final Watchpoints watches;
    private final List<Snapshot> snapshots = new ArrayList<>();
    private final List<Fork> forks = new ArrayList<>();
    /** How many snapshots hold each page image (consecutive snapshots share unchanged ones). */
    private final java.util.IdentityHashMap<byte[], Integer> imageUsers = new java.util.IdentityHashMap<>();
    private long snapshotBytes;
    private boolean closed;
    private Point frontier = new Point(0, 0);
    private long nextPeriodic = PERIOD;
    private volatile boolean interrupted;
    private boolean moving;
    /** A write by the debugger awaits its checkpoint (see {@link #wrote}). */
    private boolean barrierDue;
    private CheckpointEngine listening;

    // Statistics (for monitor stats and the benchmark).
    private long reverseSteps, reverseContinues, replayedInstructions, snapshotsTaken;
    private long lastMoveNanos;

    TimeTravel(DebugSession session, Breakpoints breakpoints, Watchpoints watches) {
        this.session = session;
        this.breakpoints = breakpoints;
        this.watches = watches;
    }

    // --- any thread ----------------------------------------------------------------------------

    /** Ends a reverse move in progress at the next slice (Ctrl-C, or the debugger went away). */
    void interrupt() {
        interrupted = true;
    }

    // --- hooks for forward runs (guest thread) ---------------------------------------------------

    boolean available() {
        return session.engine() != null;
    }

    /** Where the next forward slice must end for the next periodic snapshot. */
    long sliceEnd(long icount) {
        if (session.engine() == null) return Long.MAX_VALUE;
        if (nextPeriodic <= icount) nextPeriodic = icount + PERIOD;
        return nextPeriodic;
    }

    /** After a forward slice (or step): the frontier moves on, and a periodic snapshot is taken when due. */
    void forwardSliceEnded() {
        if (session.engine() == null) return;
        listen();
        Point here = now();
        if (here.compareTo(frontier) > 0) frontier = here;
        if (here.icount() >= nextPeriodic) {
            nextPeriodic = here.icount() + PERIOD;
            if (!restorePointNear(here.icount(), PERIOD / 2)) takeSnapshot();
        }
    }

    /**
     * The guest stopped after going forward (a breakpoint, a watchpoint, a step, Ctrl-C): a snapshot
     * here makes the next reverse move from a little further on cheap (continue, then
     * reverse-continue back to here, is the common case).
     */
    void stoppedForward() {
        if (session.engine() == null) return;
        forwardSliceEnded();
        takeSnapshot();
    }

    /** The guest is behind the frontier: live host input must wait. */
    boolean inPast() {
        return session.machine().cpu.icount() < frontier.icount();
    }

    /**
     * The debugger wrote to the guest here: the timeline forks. What the guest prints from here on
     * is printed again, logged input after here never happened, and saved states from here on are
     * of the old branch. Before the guest next runs forward a checkpoint is taken here, so that
     * every replay of what follows starts after the writes (one checkpoint however many writes gdb
     * makes in a row, as an inferior call does).
     */
    void wrote() {
        CheckpointEngine e = session.engine();
        if (e == null) return;
        listen();
        Point here = now();
        long position = session.replay().position();
        session.replay().forkAt(position);
        session.inputLog().truncateFrom(here.icount(), here.nanos());
        snapshots.removeIf(s -> {
            if (s.at.compareTo(here) < 0) return false;
            release(s);
            return true;
        });
        forks.removeIf(f -> f.at().compareTo(here) >= 0);
        forks.add(new Fork(here, position));
        frontier = here;
        barrierDue = true;
    }

    /** The guest is about to run forward (anyone's resume or step): the checkpoint after a write is taken now. */
    void beforeForward() {
        if (!barrierDue) return;
        barrierDue = false;
        if (session.engine() != null) session.checkpointHere();
    }

    /** Forgets every snapshot and fork. */
    void reset() {
        barrierDue = false;
        snapshots.clear();
        imageUsers.clear();
        snapshotBytes = 0;
        forks.clear();
    }

    /** The debugger detached: everything goes, and rollbacks are no longer followed. */
    void close() {
        reset();
        closed = true;
    }

    String stats() {
        return String.format(Locale.ROOT,
                "time travel: %d reverse steps, %d reverse continues, %,d instructions re-executed, last move %.2f ms;"
                        + " %d snapshots held (%s), %d taken",
                reverseSteps, reverseContinues, replayedInstructions, lastMoveNanos / 1e6, snapshots.size(),
                mib(snapshotBytes), snapshotsTaken);
    }

    long lastMoveNanos() {
        return lastMoveNanos;
    }

    int snapshotCount() {
        return snapshots.size();
    }

    // --- reverse moves (guest thread) ------------------------------------------------------------

    /** reverse-stepi: back to where the guest was one instruction ago. */
    Landing reverseStep() {
        long t0 = System.nanoTime();
        interrupted = false;
        barrierDue = false; // going back lands before the write: it is undone
        listen();
        reverseSteps++;
        try {
            long here = session.machine().cpu.icount();
            return backTo(here - 1);
        } finally {
            rearm();
            lastMoveNanos = System.nanoTime() - t0;
        }
    }

    /** reverse-continue: back to the last breakpoint or watchpoint hit before now, or to the start of history. */
    Landing reverseContinue() {
        long t0 = System.nanoTime();
        interrupted = false;
        barrierDue = false; // going back lands before the write: it is undone
        listen();
        reverseContinues++;
        try {
            long end = session.machine().cpu.icount();
            while (true) {
                RestorePoint r = best(end, false);
                if (r == null) return begin();
                restore(r);
                List<Found> hits = scan(end);
                if (interrupted) return new Landing(Kind.INTERRUPTED, null);
                if (!hits.isEmpty()) return land(hits.get(hits.size() - 1));
                end = r.at().icount();
            }
        } finally {
            rearm();
            lastMoveNanos = System.nanoTime() - t0;
        }
    }

    /** To the state a forward run reaches when its instruction count first gets to {@code target}. */
    private Landing backTo(long target) {
        RestorePoint r = target < 0 ? null : best(target, false);
        if (r == null) return begin();
        restore(r);
        replayTo(target);
        return new Landing(interrupted ? Kind.INTERRUPTED : Kind.STEP, null);
    }

    /** To the oldest retained checkpoint: the start of the history there is. */
    private Landing begin() {
        List<CheckpointInfo> all = session.engine().checkpoints();
        CheckpointInfo oldest = all.get(0);
        restore(new RestorePoint(Point.of(oldest), oldest, null));
        return new Landing(Kind.BEGIN, null);
    }

    private Landing land(Found h) {
        if (h.watch() != null) {
            RestorePoint r = best(h.icount(), false);
            if (r == null) r = best(h.icount(), true);
            if (r == null) return begin();
            restore(r);
            replayTo(h.icount());
            return new Landing(interrupted ? Kind.INTERRUPTED : Kind.WATCH, h.watch());
        }
        RestorePoint r = best(h.icount(), true);
        if (r == null) return begin();
        restore(r);
        List<Long> lay = layPoints(r.at().icount(), h.icount());
        arm(true);
        Machine m = session.machine();
        while (!interrupted) {
            long now = m.cpu.icount();
            long limit = Math.min(h.icount() + 1, Math.min(now + REPLAY_SLICE, nextLay(lay, now)));
            RunResult res = session.replaySlice(limit, Long.MAX_VALUE);
            replayedInstructions += m.cpu.icount() - now;
            if (res.kind() == RunResult.Kind.BREAKPOINT) {
                if (m.cpu.icount() == h.icount() && m.cpu.linearEip() == h.pc()) return new Landing(Kind.BREAKPOINT, null);
                if (m.cpu.icount() < h.icount()) continue;
            }
            if (m.cpu.icount() > h.icount() || res.finished() || res.kind() == RunResult.Kind.IDLE) {
                // Cannot happen while replay is deterministic; say so rather than land somewhere else silently.
                log.warn("replaying to the breakpoint hit at instruction {} ran past it ({}): landing before it instead",
                        h.icount(), res.message());
                return backTo(h.icount());
            }
            takeSnapshotIfDue(lay);
        }
        return new Landing(Kind.INTERRUPTED, null);
    }

    /**
     * Replays from the restored state up to instruction {@code end} with the breakpoints and
     * watchpoints armed and returns every hit on the way (hits at {@code end} itself are not before
     * it and are not reported).
     */
    private List<Found> scan(long end) {
        Machine m = session.machine();
        List<Found> hits = new ArrayList<>();
        List<Long> lay = layPoints(m.cpu.icount(), end);
        arm(true);
        while (m.cpu.icount() < end && !interrupted) {
            long now = m.cpu.icount();
            long limit = Math.min(end, Math.min(now + REPLAY_SLICE, nextLay(lay, now)));
            RunResult r = session.replaySlice(limit, Long.MAX_VALUE);
            replayedInstructions += m.cpu.icount() - now;
            Watchpoints.Hit w = watches.hit();
            if (w != null) {
                watches.clearHit();
                // The run ended right after the accessing instruction; it began one instruction
                // earlier, unless the access was an interrupt's (no instruction retired).
                long at = m.cpu.icount() > watches.hitIcount() ? m.cpu.icount() - 1 : m.cpu.icount();
                if (at < end) hits.add(new Found(at, 0, w));
            }
            if (r.kind() == RunResult.Kind.BREAKPOINT) {
                if (m.cpu.icount() < end) hits.add(new Found(m.cpu.icount(), m.cpu.linearEip(), null));
                continue;
            }
            if (r.finished() || r.kind() == RunResult.Kind.IDLE) {
                log.warn("replay ended early at instruction {} of {}: {}", m.cpu.icount(), end, r.message());
                break;
            }
            takeSnapshotIfDue(lay);
        }
        return hits;
    }

    /** Replays from the restored state to the first moment the instruction count is {@code target}. */
    private void replayTo(long target) {
        Machine m = session.machine();
        List<Long> lay = layPoints(m.cpu.icount(), target);
        arm(false);
        while (m.cpu.icount() < target && !interrupted) {
            long now = m.cpu.icount();
            long limit = Math.min(target, Math.min(now + REPLAY_SLICE, nextLay(lay, now)));
            RunResult r = session.replaySlice(limit, Long.MAX_VALUE);
            replayedInstructions += m.cpu.icount() - now;
            if (r.finished() || r.kind() == RunResult.Kind.IDLE) {
                log.warn("replay ended early at instruction {} of {}: {}", m.cpu.icount(), target, r.message());
                break;
            }
            takeSnapshotIfDue(lay);
        }
    }

    /** Breakpoints and watchpoints on (for scanning) or off (plain replay) for the replays to come. */
    private void arm(boolean on) {
        Machine m = session.machine();
        watches.clearHit();
        if (on) {
            m.cpu.setBreakpoints(breakpoints.addresses());
            m.cpu.stopAtBreakpointHere(); // a hit exactly at the restored point is a hit
            m.cpu.setDataWatch(watches.isEmpty() ? null : watches);
        } else {
            m.cpu.setBreakpoints(null);
            m.cpu.setDataWatch(null);
        }
    }

    /** After a move: the session's and the debugger's breakpoints, the watchpoints, the next periodic snapshot. */
    private void rearm() {
        Machine m = session.machine();
        watches.clearHit();
        session.breakpointsChanged();
        m.cpu.setDataWatch(watches.isEmpty() ? null : watches);
        nextPeriodic = m.cpu.icount() + PERIOD;
    }

    // --- restore points ----------------------------------------------------------------------------

    /** The latest restore point with an instruction count below {@code icount} (at or below, if {@code inclusive}). */
    private RestorePoint best(long icount, boolean inclusive) {
        prune();
        RestorePoint best = null;
        for (CheckpointInfo c : session.engine().checkpoints()) {
            if (c.icount() < icount || (inclusive && c.icount() == icount)) best = new RestorePoint(Point.of(c), c, null);
        }
        for (Snapshot s : snapshots) {
            if (s.at.icount() < icount || (inclusive && s.at.icount() == icount)) {
                if (best == null || s.at.compareTo(best.at()) > 0) best = new RestorePoint(s.at, null, s);
            }
        }
        return best;
    }

    private boolean restorePointNear(long icount, long within) {
        for (CheckpointInfo c : session.engine().checkpoints()) if (Math.abs(c.icount() - icount) <= within) return true;
        for (Snapshot s : snapshots) if (Math.abs(s.at.icount() - icount) <= within) return true;
        return false;
    }

    /**
     * Puts the machine back at {@code r}, as replay: logged input again, output not shown twice.
     * Going back past a write by the debugger undoes it: the branch after it is abandoned (its
     * output prints again if the guest gets there again, its input and snapshots go).
     */
    private void restore(RestorePoint r) {
        CheckpointEngine e = session.engine();
        Fork undone = null;
        for (Fork f : forks) {
            if (f.at().compareTo(r.at()) > 0) {
                undone = f;
                break;
            }
        }
        if (undone != null) session.inputLog().truncateFrom(undone.at().icount(), undone.at().nanos());
        moving = true;
        try {
            if (r.snapshot() == null) {
                e.rollback(r.checkpoint().id());
                session.replay().rolledBack(r.checkpoint().id(), false);
                session.inputLog().replayFrom(r.checkpoint().icount(), r.checkpoint().guestNanos());
                session.upsets().putBack(r.at().icount(), r.at().nanos(), r.checkpoint().id());
            } else {
                Snapshot s = r.snapshot();
                List<CheckpointInfo> cps = e.checkpoints();
                // Within the epoch the pages that differ are enough; a guest that has ended needs the
                // rollback, which also tells the session it can run again.
                boolean sameEpoch = Point.of(cps.get(cps.size() - 1)).equals(s.base) && session.finished() == null;
                int baseId = cps.get(cps.size() - 1).id();
                if (!sameEpoch || !s.applyInEpoch(session.machine(), e)) {
                    CheckpointInfo base = checkpointAt(s.base);
                    e.rollback(base.id());
                    session.replay().rolledBack(base.id(), false);
                    s.applyTo(session.machine());
                    baseId = base.id();
                }
                session.upsets().putBack(s.at.icount(), s.at.nanos(), baseId);
                session.replay().replayFrom(s.outputPosition);
                session.inputLog().replayFrom(s.at.icount(), s.at.nanos());
            }
        } finally {
            moving = false;
        }
        if (undone != null) {
            Fork first = undone;
            session.replay().forkAt(first.outputPosition());
            dropSnapshotsAfter(first.at());
            forks.removeIf(f -> f.at().compareTo(first.at()) >= 0);
            frontier = first.at();
        }
    }

    private CheckpointInfo checkpointAt(Point p) {
        for (CheckpointInfo c : session.engine().checkpoints()) if (c.icount() == p.icount() && c.guestNanos() == p.nanos()) return c;
        return null;
    }

    /** Drops snapshots whose base checkpoint is no longer retained. */
    private void prune() {
        List<CheckpointInfo> cps = session.engine().checkpoints();
        snapshots.removeIf(s -> {
            for (CheckpointInfo c : cps) if (c.icount() == s.base.icount() && c.guestNanos() == s.base.nanos()) return false;
            release(s);
            return true;
        });
    }

    private void dropSnapshotsAfter(Point p) {
        snapshots.removeIf(s -> {
            if (s.at.compareTo(p) <= 0) return false;
            release(s);
            return true;
        });
    }

    // --- snapshots --------------------------------------------------------------------------------------

    /**
     * Where a replay from {@code from} to {@code to} lays snapshots: {@code to} minus 2^13, 2^14, ...
     * instructions, skipping any distance already served by a restore point within a factor of two.
     */
    private List<Long> layPoints(long from, long to) {
        List<Long> out = new ArrayList<>();
        for (int j = FIRST_GAP_BITS; j < 62; j++) {
            long gap = 1L << j;
            long p = to - gap;
            if (p <= from) break;
            long lo = to - 2 * gap;
            boolean served = false;
            for (Snapshot s : snapshots) if (s.at.icount() >= lo && s.at.icount() <= p) served = true;
            if (!served) {
                for (CheckpointInfo c : session.engine().checkpoints()) if (c.icount() >= lo && c.icount() <= p) served = true;
            }
            if (!served) out.add(0, p);
        }
        return out;
    }

    private static long nextLay(List<Long> lay, long now) {
        for (long p : lay) if (p > now) return p;
        return Long.MAX_VALUE;
    }

    private void takeSnapshotIfDue(List<Long> lay) {
        long now = session.machine().cpu.icount();
        if (lay.remove(now)) takeSnapshot();
    }

    private void takeSnapshot() {
        Machine m = session.machine();
        List<CheckpointInfo> cps = session.engine().checkpoints();
        CheckpointInfo base = cps.get(cps.size() - 1);
        Point here = now();
        if (base.icount() == here.icount()) return; // the checkpoint is as good
        for (Snapshot s : snapshots) if (s.at.equals(here)) return;
        Snapshot previous = null;
        for (Snapshot s : snapshots) if (s.at.compareTo(here) < 0 && s.base.equals(Point.of(base))) previous = s;
        Snapshot s = Snapshot.take(m, here, base, session.replay().position(), previous);
        int i = 0;
        while (i < snapshots.size() && snapshots.get(i).at.compareTo(here) < 0) i++;
        snapshots.add(i, s);
        hold(s);
        snapshotsTaken++;
        while ((snapshotBytes > BUDGET || snapshots.size() > MAX_SNAPSHOTS) && snapshots.size() > 1) {
            Snapshot far = snapshots.get(0);
            for (Snapshot x : snapshots) {
                if (Math.abs(x.at.icount() - here.icount()) > Math.abs(far.at.icount() - here.icount())) far = x;
            }
            snapshots.remove(far);
            release(far);
        }
    }

    /** Counts a new snapshot's page images: those no other snapshot holds cost a page each. */
    private void hold(Snapshot s) {
        snapshotBytes += Snapshot.FIXED_BYTES;
        for (byte[] img : s.images) {
            if (imageUsers.merge(img, 1, Integer::sum) == 1) snapshotBytes += img.length;
        }
    }

    private void release(Snapshot s) {
        snapshotBytes -= Snapshot.FIXED_BYTES;
        for (byte[] img : s.images) {
            int n = imageUsers.merge(img, -1, Integer::sum);
            if (n == 0) {
                imageUsers.remove(img);
                snapshotBytes -= img.length;
            }
        }
    }

    private Point now() {
        Machine m = session.machine();
        return new Point(m.cpu.icount(), m.clock.toNanos(m.clock.now()));
    }

    /** Rollbacks the debugger did not make (the console's rollback, recovery) fork the timeline there. */
    private void listen() {
        CheckpointEngine e = session.engine();
        if (e == null || e == listening) return;
        if (listening != null) reset(); // a new engine: the old checkpoints and everything on them are gone
        listening = e;
        e.addRollbackListener((target, from) -> {
            if (closed || moving || e != session.engine()) return;
            Point t = Point.of(target);
            dropSnapshotsAfter(t);
            forks.removeIf(f -> f.at().compareTo(t) > 0);
            frontier = t;
            nextPeriodic = target.icount() + PERIOD;
        });
    }

    private static String mib(long bytes) {
        return String.format(Locale.ROOT, "%.1f MiB", bytes / 1048576.0);
    }
}
