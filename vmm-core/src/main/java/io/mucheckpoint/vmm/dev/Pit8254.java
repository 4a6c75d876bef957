package io.mucheckpoint.vmm.dev;

import io.mucheckpoint.vmm.clock.VirtualClock;
import io.mucheckpoint.vmm.state.Persistent;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The 8254 programmable interval timer at 0x40-0x43, clocked at 1.193182 MHz of virtual time.
 *
 * <p>Counter 0 drives IRQ0, counter 1 is the (unused) refresh timer, counter 2 feeds the speaker and
 * port 0x61 ({@link SystemControlPortB}), which also owns counter 2's gate. Counter values are
 * computed from the virtual clock when read, so the timer costs nothing between events; counter
 * 0's rising OUT edges are {@link Clocked} deadlines, kept in the state.
 *
 * <p>IRQ0 follows OUT in the one-shot modes 0 and 1 (it falls when a count is written and rises at
 * the terminal count); in the other modes it idles low and each rising OUT edge is a short pulse.
 * So the low half of a mode-3 square wave is not passed on, and a guest that keeps interrupts off
 * for longer than half a period still gets its tick (the PIC latches the edge). All six modes, the four access modes, BCD counting, the counter latch and the
 * read-back command are modelled. At power-on every counter runs in mode 3 with count 65536 (18.2 Hz)
 * as QEMU's does; counter 2's gate starts low.
 */
public final class Pit8254 implements BytePortDevice, Clocked, Persistent<Pit8254.State> {
    private static final Logger LOG = LoggerFactory.getLogger(Pit8254.class);

    public static final long FREQUENCY_HZ = 1_193_182L;
    public static final int BASE_PORT = 0x40;
    public static final int CONTROL_PORT = 0x43;
    /** PIT clocks per half-period of the refresh request toggle seen at port 0x61 bit 4 (about 15 us). */
    static final long REFRESH_HALF_PERIOD = 18;

    /** The three counters and the PIT time of counter 0's next undelivered rising edge. */
    public record State(List<PitCounter.State> counters, long irqEdge) {}

    private final VirtualClock clock;
    private final IrqSink irqs;
    private final LogOnce log = new LogOnce(LOG);
    private final PitCounter[] counters = new PitCounter[3];
    private long irqEdge;
    /** {@link #irqEdge} in clock ticks; a cache, recomputed whenever irqEdge changes. */
    private long deadline;

    public Pit8254(VirtualClock clock, IrqSink irqs) {
        this.clock = clock;
        this.irqs = irqs;
        for (int i = 0; i < 3; i++) counters[i] = new PitCounter(i, log);
        reset();
    }

    /** Claims 0x40-0x43. */
    public void attachTo(IoPortBus bus) {
        bus.register(BASE_PORT, 4, this);
    }

    /** The power-on state, counting from now. */
    public void reset() {
        long t = pitNow();
        for (int i = 0; i < 3; i++) counters[i].powerOn(i != 2, t);
        reschedule(t);
    }

    @Override
    public int inByte(int port) {
        long t = pitNow();
        return switch (port) {
            case BASE_PORT, BASE_PORT + 1, BASE_PORT + 2 -> counters[port - BASE_PORT].readByte(t);
            default -> 0xFF; // the control register is write-only
        };
    }

    @Override
    public void outByte(int port, int value) {
        long t = pitNow();
        switch (port) {
            case BASE_PORT, BASE_PORT + 1, BASE_PORT + 2 -> {
                PitCounter c = counters[port - BASE_PORT];
                c.writeByte(value, t);
                if (port == BASE_PORT) counter0Changed(t);
            }
            case CONTROL_PORT -> control(value, t);
            default -> log.info("port-" + port, "PIT: write to foreign port 0x{} ignored", Integer.toHexString(port));
        }
    }

    @Override
    public long nextDeadline() {
        return deadline;
    }

    @Override
    public void advance(long now) {
        long t = clock.toRate(now, FREQUENCY_HZ);
        if (irqEdge <= t) {
            irqs.setIrq(0, true);
            if (!followsOut(counters[0])) irqs.setIrq(0, false);
            reschedule(t);
        }
    }

    /** Counter 2's OUT, readable at port 0x61 bit 5. */
    public boolean out2() {
        return counters[2].out(pitNow());
    }

    public boolean gate2() {
        return counters[2].gate();
    }

    /** Port 0x61 bit 0. */
    public void setGate2(boolean high) {
        counters[2].setGate(high, pitNow());
    }

    /** Port 0x61 bit 4: toggles every ~15 us of virtual time, as the DRAM refresh request does. */
    public boolean refreshToggle() {
        return (pitNow() / REFRESH_HALF_PERIOD & 1) != 0;
    }

    @Override
    public State save() {
        long t = pitNow();
        return new State(List.of(counters[0].save(t), counters[1].save(t), counters[2].save(t)), irqEdge);
    }

    @Override
    public void restore(State state) {
        for (int i = 0; i < 3; i++) counters[i].restore(state.counters().get(i));
        irqEdge = state.irqEdge();
        deadline = toTicks(irqEdge);
        // IRQ0 is not driven here: between events the line's level is only remembered by the PIC.
    }

    private void control(int v, long t) {
        int select = v >> 6;
        if (select == 3) {
            // Read-back: bit 5 low latches counts, bit 4 low latches status, bits 1-3 pick counters 0-2.
            for (int i = 0; i < 3; i++) {
                if ((v & (2 << i)) == 0) continue;
                if ((v & 0x20) == 0) counters[i].latchCount(t);
                if ((v & 0x10) == 0) counters[i].latchStatus(t);
            }
            return;
        }
        int access = (v >> 4) & 3;
        if (access == 0) {
            counters[select].latchCount(t);
            return;
        }
        int mode = (v >> 1) & 7;
        if (mode > 5) mode -= 4; // 6 and 7 are aliases of 2 and 3
        counters[select].control(mode, access, (v & 1) != 0, t);
        if (select == 0) counter0Changed(t);
    }

    private void counter0Changed(long t) {
        PitCounter c = counters[0];
        irqs.setIrq(0, followsOut(c) && c.out(t));
        reschedule(t);
    }

    /** Whether IRQ0 is OUT itself (one-shot modes) rather than a pulse per rising edge. */
    private static boolean followsOut(PitCounter c) {
        return c.mode() <= 1;
    }

    private void reschedule(long t) {
        irqEdge = counters[0].nextRisingEdge(t);
        deadline = toTicks(irqEdge);
    }

    private long toTicks(long pitTime) {
        return pitTime == Long.MAX_VALUE ? Long.MAX_VALUE : clock.fromRate(pitTime, FREQUENCY_HZ);
    }

    private long pitNow() {
        return clock.toRate(clock.now(), FREQUENCY_HZ);
    }
}
