package io.mucheckpoint.vmm.dev;

import io.mucheckpoint.vmm.clock.VirtualClock;
import io.mucheckpoint.vmm.state.Persistent;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.Arrays;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The MC146818-compatible real-time clock and its 128 bytes of CMOS RAM at ports 0x70/0x71, with
 * the NMI mask in bit 7 of port 0x70.
 *
 * <p>The clock shows a configured start date-time plus the virtual time, plus an offset that the
 * guest changes by writing the time registers; it never reads the host clock. Updates happen once
 * per virtual second: UIP is set for the last 244 us before each, the time registers change at the
 * second boundary and UF is set there. While SET is on, or the divider is not in its running
 * setting (DV = 010), the time registers are plain RAM holding what the guest wrote (the time
 * when the clock stopped, at first); when the clock starts again they become its new time. On
 * releasing the divider from reset the first update comes half a second later, as the datasheet
 * says. Periodic interrupts come at the register A rate on a 32.768 kHz grid of virtual time; PF,
 * UF and AF are set whether or not enabled, and IRQ8 is high exactly while IRQF is set, so the PIC
 * sees a rising edge per interrupt once the guest has read register C.
 *
 * <p>Not modelled: daylight-saving (DSE), the square-wave output, divider settings other than
 * 32.768 kHz (they stop the clock), out-of-range time values (a written value that is not a real
 * date is carried into a real one, Feb 30 becoming Mar 2), the day-of-week register (it follows
 * from the date; writes to it are ignored while the clock runs), the extended CMOS bank (0x72/0x73).
 */
public final class CmosRtc implements BytePortDevice, Clocked, Persistent<CmosRtc.State> {
    private static final Logger LOG = LoggerFactory.getLogger(CmosRtc.class);

    public static final LocalDateTime DEFAULT_START = LocalDateTime.of(2026, 1, 1, 0, 0, 0);
    public static final int INDEX_PORT = 0x70;
    public static final int DATA_PORT = 0x71;
    public static final int IRQ = 8;

    static final int REG_A = 0x0A;
    static final int REG_B = 0x0B;
    static final int REG_C = 0x0C;
    static final int REG_D = 0x0D;
    static final int A_DIVIDER = 0x70;
    static final int A_DIVIDER_RUNNING = 0x20;
    static final int A_RATE = 0x0F;
    static final int B_SET = 0x80;
    static final int B_PIE = 0x40;
    static final int B_AIE = 0x20;
    static final int B_UIE = 0x10;
    static final int B_BINARY = 0x04;
    static final int B_24H = 0x02;
    static final int C_IRQF = 0x80;
    static final int C_PF = 0x40;
    static final int C_AF = 0x20;
    static final int C_UF = 0x10;
    private static final long DIVIDER_HZ = 32_768;
    private static final long UIP_NANOS = 244_000;
    private static final int SECONDS_PER_DAY = 86_400;

    /**
     * The RTC's state. {@code ram} holds registers A and B, the alarm registers, the user bytes and,
     * while the clock is stopped, the time registers (0 while it runs). Time shown =
     * start + {@code offsetSeconds} + whole virtual seconds since tick {@code updatePhase}.
     * {@code secondsDone} and {@code periodicDone} are the last update and periodic boundary
     * already folded into {@code flags} (register C without IRQF).
     */
    public record State(byte[] ram, int index, boolean nmiMasked, long offsetSeconds, long updatePhase, int flags,
            long secondsDone, long periodicDone) {}

    private final VirtualClock clock;
    private final IrqSink irqs;
    private final long startEpoch;
    private final long ticksPerSecond;
    private final long uipTicks;
    private final LogOnce log = new LogOnce(LOG);

    private final byte[] ram = new byte[128];
    private int index;
    private boolean nmiMasked;
    private long offsetSeconds;
    private long updatePhase;
    private int flags;
    private long secondsDone;
    private long periodicDone;
    private boolean line;

    public CmosRtc(VirtualClock clock, IrqSink irqs) {
        this(clock, irqs, DEFAULT_START);
    }

    public CmosRtc(VirtualClock clock, IrqSink irqs, Instant start) {
        this(clock, irqs, LocalDateTime.ofInstant(start, ZoneOffset.UTC));
    }

    /** {@code start} is the date-time the clock shows at virtual time 0. */
    public CmosRtc(VirtualClock clock, IrqSink irqs, LocalDateTime start) {
        this.clock = clock;
        this.irqs = irqs;
        this.startEpoch = start.toEpochSecond(ZoneOffset.UTC);
        this.ticksPerSecond = clock.ticksPerSecond();
        this.uipTicks = Math.max(1, clock.fromNanos(UIP_NANOS));
        ram[REG_A] = 0x26; // 32.768 kHz divider, 1024 Hz periodic rate
        ram[REG_B] = B_24H;
        secondsDone = secondIndex(clock.now());
        periodicDone = periodicIndex(clock.now());
    }

    /** Claims 0x70-0x71. */
    public void attachTo(IoPortBus bus) {
        bus.register(INDEX_PORT, 2, this);
    }

    /** Whether the guest has disabled NMI through bit 7 of port 0x70. */
    public boolean nmiMasked() {
        return nmiMasked;
    }

    /**
     * Sets a CMOS RAM byte as firmware would (0x0E-0x7F; the century byte belongs to the clock).
     * Bytes 0x10-0x2D keep the standard checksum at 0x2E/0x2F up to date.
     */
    public void setCmos(int index, int value) {
        if (index < 0x0E || index > 0x7F || index == RtcCalendar.CENTURY) {
            throw new IllegalArgumentException("CMOS byte 0x" + Integer.toHexString(index) + " is not plain RAM");
        }
        ram[index] = (byte) value;
        if (index >= 0x10 && index <= 0x2D) {
            int sum = 0;
            for (int i = 0x10; i <= 0x2D; i++) sum += ram[i] & 0xFF;
            ram[0x2E] = (byte) (sum >> 8);
            ram[0x2F] = (byte) sum;
        }
    }

    /**
     * Records the RAM size where a PC BIOS does: base memory (KiB, at most 640) at 0x15/0x16,
     * memory above 1 MiB (KiB, at most 65535) at 0x17/0x18 and 0x30/0x31, and memory above
     * 16 MiB (64 KiB units, at most 65535) at 0x34/0x35.
     */
    public void setMemorySize(long bytes) {
        long base = Math.min(640, bytes / 1024);
        long extended = Math.min(0xFFFF, Math.max(0, bytes - (1 << 20)) / 1024);
        long above16m = Math.min(0xFFFF, Math.max(0, bytes - (16 << 20)) / 65536);
        setWord(0x15, base);
        setWord(0x17, extended);
        setWord(0x30, extended);
        setWord(0x34, above16m);
    }

    private void setWord(int index, long value) {
        setCmos(index, (int) value & 0xFF);
        setCmos(index + 1, (int) (value >> 8) & 0xFF);
    }

    @Override
    public int inByte(int port) {
        if (port != DATA_PORT) return 0xFF; // the index register is write-only
        long t = clock.now();
        catchUp(t);
        return readRegister(index, t, true);
    }

    @Override
    public void outByte(int port, int value) {
        if (port == INDEX_PORT) {
            index = value & 0x7F;
            nmiMasked = (value & 0x80) != 0;
            return;
        }
        if (port != DATA_PORT) return;
        long t = clock.now();
        catchUp(t);
        switch (index) {
            case REG_A -> writeA(value, t);
            case REG_B -> writeB(value, t);
            case REG_C, REG_D -> log.debug("ro-" + index, "RTC: write to read-only register 0x{} ignored",
                    Integer.toHexString(index));
            default -> writeRam(index, value, t);
        }
    }

    @Override
    public long nextDeadline() {
        long d = Long.MAX_VALUE;
        int b = ram[REG_B];
        int period = periodLength();
        if (period > 0 && (b & B_PIE) != 0 && (flags & C_PF) == 0) {
            d = clock.fromRate((periodicDone + 1) * period, DIVIDER_HZ);
        }
        if (running() && (((b & B_UIE) != 0 && (flags & C_UF) == 0) || ((b & B_AIE) != 0 && (flags & C_AF) == 0))) {
            d = Math.min(d, updatePhase + (secondsDone + 1) * ticksPerSecond);
        }
        return d;
    }

    @Override
    public void advance(long now) {
        catchUp(now);
    }

    @Override
    public State save() {
        catchUp(clock.now());
        return new State(ram.clone(), index, nmiMasked, offsetSeconds, updatePhase, flags, secondsDone, periodicDone);
    }

    @Override
    public void restore(State s) {
        Arrays.fill(ram, (byte) 0);
        System.arraycopy(s.ram(), 0, ram, 0, Math.min(ram.length, s.ram().length));
        index = s.index() & 0x7F;
        nmiMasked = s.nmiMasked();
        offsetSeconds = s.offsetSeconds();
        updatePhase = s.updatePhase();
        flags = s.flags() & (C_PF | C_AF | C_UF);
        secondsDone = s.secondsDone();
        periodicDone = s.periodicDone();
        // The line is IRQF; an equal level is no edge for the PIC.
        line = irqf();
        irqs.setIrq(IRQ, line);
    }

    private int readRegister(int i, long t, boolean guestRead) {
        return switch (i) {
            case REG_A -> (ram[REG_A] & 0x7F) | (updateInProgress(t) ? 0x80 : 0);
            case REG_C -> {
                int v = flags | (irqf() ? C_IRQF : 0);
                if (guestRead) {
                    flags = 0;
                    updateIrq();
                }
                yield v;
            }
            case REG_D -> 0x80; // valid RAM and time
            default -> RtcCalendar.isTimeRegister(i) && running()
                    ? RtcCalendar.encode(i, epochAt(t), binary(), hours24())
                    : ram[i] & 0xFF;
        };
    }

    private void writeA(int v, long t) {
        boolean wasRunning = running();
        boolean dividerWasRunning = dividerRunning();
        if (wasRunning && (v & A_DIVIDER) != A_DIVIDER_RUNNING) stopClock(t);
        ram[REG_A] = (byte) (v & 0x7F);
        if (!wasRunning && running()) startClock(t, !dividerWasRunning);
        periodicDone = periodicIndex(t);
        updateIrq();
    }

    private void writeB(int v, long t) {
        int old = ram[REG_B];
        // The datasheet: SET going high clears UIE.
        if ((v & B_SET) != 0 && (old & B_SET) == 0) v &= ~B_UIE;
        boolean wasRunning = running();
        if (wasRunning && (v & B_SET) != 0) stopClock(t); // captured in the old format, as the chip holds it
        ram[REG_B] = (byte) v;
        if (!wasRunning && running()) startClock(t, false);
        updateIrq();
    }

    private void writeRam(int i, int v, long t) {
        if (!RtcCalendar.isTimeRegister(i) || !running()) {
            ram[i] = (byte) v;
            return;
        }
        if (i == RtcCalendar.DAY_OF_WEEK) {
            log.debug("dow", "RTC: day-of-week write ignored; it follows from the date");
            return;
        }
        byte[] regs = new byte[128];
        captureTime(regs, t);
        regs[i] = (byte) v;
        offsetSeconds = RtcCalendar.decode(regs, binary(), hours24()) - startEpoch - secondIndex(t);
    }

    /** The clock stops: the time registers become RAM holding the time now. */
    private void stopClock(long t) {
        captureTime(ram, t);
        secondsDone = 0;
    }

    /** The clock starts from what the time registers hold; {@code dividerReset}: first update in 0.5 s. */
    private void startClock(long t, boolean dividerReset) {
        if (dividerReset) updatePhase = Math.floorMod(t + ticksPerSecond / 2, ticksPerSecond);
        long epoch = RtcCalendar.decode(ram, binary(), hours24());
        secondsDone = secondIndex(t);
        offsetSeconds = epoch - startEpoch - secondsDone;
        for (int r : RtcCalendar.TIME_REGISTERS) ram[r] = 0;
    }

    private void captureTime(byte[] regs, long t) {
        long epoch = epochAt(t);
        for (int r : RtcCalendar.TIME_REGISTERS) regs[r] = (byte) RtcCalendar.encode(r, epoch, binary(), hours24());
    }

    /** Folds the updates and periodic ticks up to {@code t} into the flags. */
    private void catchUp(long t) {
        int period = periodLength();
        if (period > 0) {
            long idx = clock.toRate(t, DIVIDER_HZ) / period;
            if (idx > periodicDone) flags |= C_PF;
            periodicDone = idx;
        }
        if (running()) {
            long s = secondIndex(t);
            if (s > secondsDone) {
                flags |= C_UF;
                if ((flags & C_AF) == 0 && alarmMatchedIn(secondsDone + 1, s)) flags |= C_AF;
                secondsDone = s;
            }
        }
        updateIrq();
    }

    /** Whether the alarm matched at any update from second index {@code from} to {@code to}. */
    private boolean alarmMatchedIn(long from, long to) {
        // Alarms repeat daily at most, so one day of updates says all there is to say.
        long first = Math.max(from, to - SECONDS_PER_DAY + 1);
        for (long s = first; s <= to; s++) {
            if (alarmMatches(startEpoch + offsetSeconds + s)) return true;
        }
        return false;
    }

    private boolean alarmMatches(long epoch) {
        int sod = (int) Math.floorMod(epoch, (long) SECONDS_PER_DAY);
        boolean bin = binary();
        return alarmField(ram[0x01], RtcCalendar.number(sod % 60, bin))
                && alarmField(ram[0x03], RtcCalendar.number(sod / 60 % 60, bin))
                && alarmField(ram[0x05], RtcCalendar.hours(sod / 3600, bin, hours24()));
    }

    private static boolean alarmField(byte alarm, int now) {
        int a = alarm & 0xFF;
        return (a & 0xC0) == 0xC0 || a == now; // 11xxxxxx: don't care
    }

    private void updateIrq() {
        boolean level = irqf();
        if (level != line) {
            line = level;
            irqs.setIrq(IRQ, level);
        }
    }

    private boolean irqf() {
        int b = ram[REG_B];
        return ((flags & C_PF) != 0 && (b & B_PIE) != 0)
                || ((flags & C_AF) != 0 && (b & B_AIE) != 0)
                || ((flags & C_UF) != 0 && (b & B_UIE) != 0);
    }

    private boolean updateInProgress(long t) {
        return running() && Math.floorMod(t - updatePhase, ticksPerSecond) >= ticksPerSecond - uipTicks;
    }

    private boolean running() {
        return (ram[REG_B] & B_SET) == 0 && dividerRunning();
    }

    private boolean dividerRunning() {
        return (ram[REG_A] & A_DIVIDER) == A_DIVIDER_RUNNING;
    }

    /** The periodic interrupt period in 32.768 kHz clocks, or 0 for none. */
    private int periodLength() {
        int rs = ram[REG_A] & A_RATE;
        if (rs == 0 || !dividerRunning()) return 0;
        return rs <= 2 ? 64 << rs : 1 << (rs - 1); // rates 1 and 2 repeat 8 and 9 (256 and 128 Hz)
    }

    private long periodicIndex(long t) {
        int period = periodLength();
        return period == 0 ? 0 : clock.toRate(t, DIVIDER_HZ) / period;
    }

    private long secondIndex(long t) {
        return Math.floorDiv(t - updatePhase, ticksPerSecond);
    }

    private long epochAt(long t) {
        return startEpoch + offsetSeconds + secondIndex(t);
    }

    private boolean binary() {
        return (ram[REG_B] & B_BINARY) != 0;
    }

    private boolean hours24() {
        return (ram[REG_B] & B_24H) != 0;
    }
}
