package io.mucheckpoint.recovery;

import io.mucheckpoint.vmm.Machine;
import java.util.ArrayList;
import java.util.List;

/**
 * Host input as the guest received it, stamped with the instruction count of its delivery, so an
 * automatic recovery can deliver the same bytes at the same points again (invariant 7). Live
 * input is held back while the log is being replayed.
 */
public final class InputLog implements Machine.InputListener {
    /** One byte delivered to COM1 at instruction {@code icount}. */
    public record Entry(long icount, int b) {}

    private final List<Entry> entries = new ArrayList<>();
    private int replayCursor = -1;

    @Override
    public void delivered(long icount, int b) {
        entries.add(new Entry(icount, b));
    }

    public List<Entry> entries() {
        return List.copyOf(entries);
    }

    /** After an automatic rollback to instruction {@code icount}: replay everything logged from there. */
    public void replayFrom(long icount) {
        replayCursor = firstAtOrAfter(icount);
        if (replayCursor >= entries.size()) replayCursor = -1;
    }

    /** After a rollback the user asked for: what was typed after {@code icount} never happened. */
    public void truncateFrom(long icount) {
        int i = firstAtOrAfter(icount);
        entries.subList(i, entries.size()).clear();
        replayCursor = -1;
    }

    public boolean replaying() {
        return replayCursor >= 0;
    }

    /** The instruction count at which the next replayed byte is due, or Long.MAX_VALUE. */
    public long nextDue() {
        return replaying() ? entries.get(replayCursor).icount() : Long.MAX_VALUE;
    }

    /** Delivers every replayed byte due at the machine's current instruction count. */
    public void deliverDue(Machine m) {
        while (replaying() && entries.get(replayCursor).icount() <= m.cpu.icount()) {
            m.deliverLoggedInput(entries.get(replayCursor).b());
            replayCursor++;
            if (replayCursor >= entries.size()) replayCursor = -1;
        }
    }

    private int firstAtOrAfter(long icount) {
        int i = 0;
        while (i < entries.size() && entries.get(i).icount() < icount) i++;
        return i;
    }
}
