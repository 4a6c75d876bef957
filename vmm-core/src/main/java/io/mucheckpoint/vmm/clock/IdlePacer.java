package io.mucheckpoint.vmm.clock;

import java.util.function.LongSupplier;

/**
 * Keeps an idle guest's clock from running ahead of the host's, for interactive sessions. A halted
 * guest normally skips straight to its next timer deadline, so an idle shell would live through an
 * hour of guest time (and tens of thousands of checkpoints) in a few minutes of the user's. With a
 * pacer a halt skips only as far as the host clock has gone since the pacer was anchored, sleeping a
 * little when the guest is ahead. Guest-visible time stays virtual (invariant 1): pacing only
 * decides how long the host waits, never what the guest sees.
 */
public final class IdlePacer {
    /** The longest single sleep: input and pause requests are noticed at least this often. */
    static final long MAX_SLEEP_NANOS = 10_000_000L;

    private final LongSupplier hostNanos;
    private final Sleeper sleeper;
    private boolean anchored;
    private long hostAnchor;
    private long guestAnchor;

    /** How the pacer waits; a test supplies one that moves a fake host clock instead. */
    public interface Sleeper {
        void sleep(long nanos) throws InterruptedException;
    }

    public IdlePacer() {
        this(System::nanoTime, nanos -> Thread.sleep(nanos / 1_000_000L, (int) (nanos % 1_000_000L)));
    }

    public IdlePacer(LongSupplier hostNanos, Sleeper sleeper) {
        this.hostNanos = hostNanos;
        this.sleeper = sleeper;
    }

    /** Forgets the anchor: call when the guest was paused or rolled back, so it does not race to catch up. */
    public void resync() {
        anchored = false;
    }

    /**
     * Called when the guest halts and wants to skip {@code skipTicks} to its next deadline. Waits at
     * most {@link #MAX_SLEEP_NANOS} and returns how many ticks may be skipped now (0 to {@code skipTicks});
     * the caller comes back after handling input and pauses.
     */
    public long pace(VirtualClock clock, long skipTicks) {
        long host = hostNanos.getAsLong();
        long guest = clock.nanos();
        if (!anchored) {
            anchored = true;
            hostAnchor = host;
            guestAnchor = guest;
        }
        long lead = (guest + clock.toNanos(skipTicks) - guestAnchor) - (host - hostAnchor);
        if (lead <= 0) return skipTicks; // the host is already past the deadline: no wait
        try {
            sleeper.sleep(Math.min(MAX_SLEEP_NANOS, lead));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return skipTicks;
        }
        long allowed = (hostNanos.getAsLong() - hostAnchor) - (guest - guestAnchor);
        return allowed <= 0 ? 0 : Math.min(skipTicks, clock.fromNanos(allowed));
    }
}
