package io.mucheckpoint.recovery;

import io.mucheckpoint.vmm.Machine;
import io.mucheckpoint.vmm.clock.VirtualClock;
import java.util.ArrayList;
import java.util.List;

/**
 * Host input as the guest received it, stamped with the instruction count and the guest time of its
 * delivery, so an automatic recovery can deliver the same bytes at the same points again (design
 * brief, invariants 1 and 7). Both are needed: while the guest halts, guest time moves on without
 * instructions (a halt skips to the next timer, or as far as the idle pacer lets it), so a byte
 * that arrived during a halt is due at its count <em>and</em> its time. Live input is held back
 * while the log is being replayed.
 */
public final class InputLog implements Machine.InputListener {
    /** One byte delivered to COM1 at instruction {@code icount}, guest time {@code ticks} (clock ticks). */
    public record Entry(long icount, long ticks, int b) {}

    private final VirtualClock clock;
    private final List<Entry> entries = new ArrayList<>();
    private int replayCursor = -1;

    public InputLog(VirtualClock clock) {
        this.clock = clock;
    }

    @Override
    public void delivered(long icount, long ticks, int b) {
        entries.add(new Entry(icount, ticks, b));
    }

    public List<Entry> entries() {
        return List.copyOf(entries);
    }

    /**
     * After an automatic rollback to the point (instruction {@code icount}, guest time
     * {@code guestNanos}): replay everything logged from there.
     */
    public void replayFrom(long icount, long guestNanos) {
        replayCursor = firstAtOrAfter(icount, guestNanos);
        if (replayCursor >= entries.size()) replayCursor = -1;
    }

    /** After a rollback the user asked for: what was typed after the point (icount, guest time) never happened. */
    public void truncateFrom(long icount, long guestNanos) {
        int i = firstAtOrAfter(icount, guestNanos);
        entries.subList(i, entries.size()).clear();
        replayCursor = -1;
    }

    /** Bytes logged: with no replay pending, the bytes the guest has received on its current timeline. */
    public int size() {
        return entries.size();
    }

    public boolean replaying() {
        return replayCursor >= 0;
    }

    /** The instruction count at which the next replayed byte is due, or Long.MAX_VALUE. */
    public long nextDue() {
        return replaying() ? entries.get(replayCursor).icount() : Long.MAX_VALUE;
    }

    /**
     * The instruction limit for the next stretch of running from instruction {@code icount}: the
     * next replayed byte's count, until the guest has got there.
     */
    public long icountLimit(long icount, long limit) {
        long due = nextDue();
        return icount < due ? Math.min(limit, due) : limit;
    }

    /**
     * The guest-time limit (ticks) for the next stretch: the next replayed byte's time, so that a halt
     * at the byte's instruction count skips exactly as far as it did when the byte first arrived (a
     * run that reaches its instruction limit on a HLT would otherwise skip on to the next timer
     * first). A replay true to the log never gets to that time before that count.
     */
    public long tickLimit(long limit) {
        return replaying() ? Math.min(limit, entries.get(replayCursor).ticks()) : limit;
    }

    /** Delivers every replayed byte due at the machine's current instruction count and guest time. */
    public void deliverDue(Machine m) {
        while (replaying() && due(entries.get(replayCursor), m.cpu.icount(), m.clock.now())) {
            m.deliverLoggedInput(entries.get(replayCursor).b());
            replayCursor++;
            if (replayCursor >= entries.size()) replayCursor = -1;
        }
    }

    private static boolean due(Entry e, long icount, long ticks) {
        return icount > e.icount() || (icount == e.icount() && ticks >= e.ticks());
    }

    private int firstAtOrAfter(long icount, long guestNanos) {
        int i = 0;
        while (i < entries.size() && before(entries.get(i), icount, guestNanos)) i++;
        return i;
    }

    /** The entry came before the point (icount, guest time): an earlier count, or the same count earlier in a halt. */
    private boolean before(Entry e, long icount, long guestNanos) {
        return e.icount() < icount || (e.icount() == icount && clock.toNanos(e.ticks()) < guestNanos);
    }
}
