package io.mucheckpoint.vmm.dev;

import io.mucheckpoint.vmm.clock.VirtualClock;
import io.mucheckpoint.vmm.state.Persistent;

/**
 * A virtual clock over a settable instruction count (100 M ticks per second), with a run loop
 * that advances {@link Clocked} devices at their deadlines, as the machine's does. Persistent, so
 * contract tests can roll time back together with the devices.
 */
public final class TestClock implements Persistent<TestClock.State> {
    public static final long TICKS_PER_SECOND = 100_000_000L;

    public record State(long instructions, long skipped) {}

    private long instructions;
    public final VirtualClock clock = new VirtualClock(TICKS_PER_SECOND, () -> instructions);

    public long now() {
        return clock.now();
    }

    /** Moves time forward to {@code tick} without running any device. */
    public void set(long tick) {
        instructions = tick - clock.skipped();
    }

    public void add(long ticks) {
        set(now() + ticks);
    }

    /** Runs time to {@code tick}, advancing each device at each of its deadlines on the way. */
    public void runTo(long tick, Clocked... devices) {
        int stuck = 0;
        while (true) {
            long next = Long.MAX_VALUE;
            for (Clocked d : devices) next = Math.min(next, d.nextDeadline());
            if (next > tick) break;
            if (next > now()) {
                set(next);
                stuck = 0;
            } else if (++stuck > 100) {
                throw new AssertionError("a device keeps a deadline at or before " + now() + " after advance()");
            }
            long t = now();
            for (Clocked d : devices) {
                if (d.nextDeadline() <= t) d.advance(t);
            }
        }
        if (tick > now()) set(tick);
    }

    public void runFor(long ticks, Clocked... devices) {
        runTo(now() + ticks, devices);
    }

    @Override
    public State save() {
        return new State(instructions, clock.skipped());
    }

    @Override
    public void restore(State state) {
        instructions = state.instructions();
        clock.setSkipped(state.skipped());
    }
}
