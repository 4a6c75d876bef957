package io.mucheckpoint.vmm.dev;

/**
 * A device with timed behaviour. Its deadlines are part of its saved state, so timers save and
 * restore with it; the run loop runs the CPU exactly up to the earliest deadline and then calls
 * {@link #advance}. Times are virtual-clock ticks ({@link io.mucheckpoint.vmm.clock.VirtualClock}).
 */
public interface Clocked {
    /** The earliest tick at which this device wants {@link #advance} called, or {@code Long.MAX_VALUE}. */
    long nextDeadline();

    /** Brings the device up to tick {@code now}, firing whatever fell due. */
    void advance(long now);
}
