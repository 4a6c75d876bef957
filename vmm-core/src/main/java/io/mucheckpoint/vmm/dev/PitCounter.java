package io.mucheckpoint.vmm.dev;

/**
 * One counter of the 8254, as a function of PIT time (counts of its 1.193182 MHz input clock).
 *
 * <p>Nothing is decremented per clock: a running counter remembers when its counting element was
 * loaded ({@code start}) and with what ({@code count}), and its value and OUT at any time follow
 * from the mode. A count written while counting takes effect as the datasheet says: on the next
 * clock in modes 0 and 4, at the next trigger in modes 1 and 5, and at the end of the current
 * period in modes 2 and 3 (for mode 3 the datasheet says the end of the current half-period; the
 * difference only shows when a guest rewrites a running square wave).
 *
 * <p>Not modelled: the halt of counting in mode 0 between the two bytes of a two-byte count (the
 * new count simply replaces the old one when complete), and the exact null-count flag of a mode 1
 * or 5 counter that has already been triggered once (it reads 0 there).
 */
public final class PitCounter {
    public enum Phase {
        /** Control word written, no count yet: the counter holds its last value. */
        IDLE,
        /** Count written but not counting: modes 1 and 5 before a trigger, modes 2 and 3 with the gate low. */
        WAITING,
        RUNNING
    }

    /**
     * A counter's state. {@code start}/{@code count} describe the running period; {@code nextStart}
     * /{@code nextCount} a pending reload (modes 2, 3), {@code nextStart} -1 when none;
     * {@code pausedElapsed} the frozen progress of a mode 0/4 counter whose gate is low, -1 when
     * not paused; {@code held} what an idle or waiting counter reads. Fields that do not apply are 0.
     */
    public record State(int mode, int access, boolean bcd, int reload, boolean gate, Phase phase, long start,
            int count, long pausedElapsed, int held, long nextStart, int nextCount, boolean writeHigh,
            int writeLow, boolean readHigh, int latchPhase, int latchValue, boolean statusLatched, int status) {}

    static final int ACCESS_LO = 1;
    static final int ACCESS_HI = 2;
    static final int ACCESS_LOHI = 3;
    /** {@link State#latchPhase()}: which byte of the latched count the next read returns. */
    private static final int LATCH_NONE = 0;
    private static final int LATCH_LOW = 1;
    private static final int LATCH_HIGH = 2;

    private final int index;
    private final LogOnce log;

    private int mode;
    private int access;
    private boolean bcd;
    private int reload;
    private boolean gate;
    private Phase phase;
    private long start;
    private int count;
    private long pausedElapsed;
    private int held;
    private long nextStart;
    private int nextCount;
    private boolean writeHigh;
    private int writeLow;
    private boolean readHigh;
    private int latchPhase;
    private int latchValue;
    private boolean statusLatched;
    private int status;

    PitCounter(int index, LogOnce log) {
        this.index = index;
        this.log = log;
    }

    /** Mode 3, count 65536, counting since {@code t} (QEMU's reset state, what a BIOS would leave). */
    void powerOn(boolean gate, long t) {
        restore(new State(3, ACCESS_LOHI, false, 0, gate, gate ? Phase.RUNNING : Phase.WAITING, gate ? t : 0,
                gate ? 0x10000 : 0, -1, 0, -1, 0, false, 0, false, LATCH_NONE, 0, false, 0));
    }

    State save(long t) {
        long s = start;
        long ns = nextStart;
        int n = count;
        int nn = nextCount;
        if (phase == Phase.RUNNING && (mode == 2 || mode == 3)) {
            if (ns >= 0 && t >= ns) {
                s = ns;
                n = nn;
                ns = -1;
                nn = 0;
            }
            // Periodic: only the phase within the period matters, so the latest period start is canonical.
            if (t >= s) s += (t - s) / n * n;
        }
        return new State(mode, access, bcd, reload, gate, phase, s, n, pausedElapsed, held, ns, nn, writeHigh,
                writeLow, readHigh, latchPhase, latchValue, statusLatched, status);
    }

    void restore(State s) {
        mode = Math.floorMod(s.mode(), 6);
        access = s.access() >= ACCESS_LO && s.access() <= ACCESS_LOHI ? s.access() : ACCESS_LOHI;
        bcd = s.bcd();
        reload = s.reload() & 0xFFFF;
        gate = s.gate();
        phase = s.phase();
        start = s.start();
        count = phase == Phase.RUNNING ? clampCount(s.count()) : s.count();
        pausedElapsed = s.pausedElapsed();
        held = s.held() & 0xFFFF;
        nextStart = s.nextStart();
        nextCount = nextStart >= 0 ? clampCount(s.nextCount()) : s.nextCount();
        writeHigh = s.writeHigh();
        writeLow = s.writeLow() & 0xFF;
        readHigh = s.readHigh();
        latchPhase = s.latchPhase();
        latchValue = s.latchValue() & 0xFFFF;
        statusLatched = s.statusLatched();
        status = s.status() & 0xFF;
    }

    /** A decoded count is 1..65536; anything else could only come from a corrupt state. */
    private static int clampCount(int n) {
        return Math.max(1, Math.min(0x10000, n));
    }

    int mode() {
        return mode;
    }

    boolean gate() {
        return gate;
    }

    /** A control word for this counter (not a latch command): new mode and access, counting stops. */
    void control(int newMode, int newAccess, boolean newBcd, long t) {
        int value = rawValue(t);
        mode = newMode;
        access = newAccess;
        bcd = newBcd;
        phase = Phase.IDLE;
        held = value;
        start = 0;
        count = 0;
        pausedElapsed = -1;
        clearPending();
        writeHigh = false;
        writeLow = 0;
        readHigh = false;
        latchPhase = LATCH_NONE;
        latchValue = 0;
        statusLatched = false;
        status = 0;
    }

    void writeByte(int b, long t) {
        switch (access) {
            case ACCESS_LO -> load(b, t);
            case ACCESS_HI -> load(b << 8, t);
            default -> {
                if (writeHigh) {
                    writeHigh = false;
                    int low = writeLow;
                    writeLow = 0;
                    load(b << 8 | low, t);
                } else {
                    writeHigh = true;
                    writeLow = b;
                }
            }
        }
    }

    int readByte(long t) {
        if (statusLatched) {
            statusLatched = false;
            int s = status;
            status = 0;
            return s;
        }
        if (latchPhase != LATCH_NONE) {
            int v;
            if (latchPhase == LATCH_LOW) {
                v = latchValue & 0xFF;
                latchPhase = access == ACCESS_LOHI ? LATCH_HIGH : LATCH_NONE;
            } else {
                v = latchValue >>> 8;
                latchPhase = LATCH_NONE;
            }
            if (latchPhase == LATCH_NONE) latchValue = 0;
            return v;
        }
        int value = rawValue(t);
        return switch (access) {
            case ACCESS_LO -> value & 0xFF;
            case ACCESS_HI -> value >>> 8;
            default -> {
                readHigh = !readHigh;
                yield readHigh ? value & 0xFF : value >>> 8;
            }
        };
    }

    /** Counter latch command; ignored while an earlier latched count is unread, as on the 8254. */
    void latchCount(long t) {
        if (latchPhase != LATCH_NONE) return;
        latchValue = rawValue(t);
        latchPhase = access == ACCESS_HI ? LATCH_HIGH : LATCH_LOW;
    }

    void latchStatus(long t) {
        if (statusLatched) return;
        statusLatched = true;
        status = (out(t) ? 0x80 : 0) | (nullCount(t) ? 0x40 : 0) | access << 4 | mode << 1 | (bcd ? 1 : 0);
    }

    void setGate(boolean g, long t) {
        if (g == gate) return;
        if (g) {
            switch (mode) {
                case 0, 4 -> {
                    if (phase == Phase.RUNNING && pausedElapsed >= 0) {
                        start = t - pausedElapsed;
                        pausedElapsed = -1;
                    }
                }
                default -> {
                    if (phase != Phase.IDLE) startCounting(decode(reload), t + 1);
                }
            }
        } else if (phase == Phase.RUNNING) {
            switch (mode) {
                case 0, 4 -> pausedElapsed = elapsed(t);
                case 2, 3 -> {
                    held = rawValue(t);
                    phase = Phase.WAITING;
                    start = 0;
                    count = 0;
                    clearPending();
                }
                default -> { } // modes 1 and 5 only listen for rising edges
            }
        }
        gate = g;
    }

    /** The OUT pin at PIT time {@code t}. */
    boolean out(long t) {
        return switch (phase) {
            case IDLE -> mode != 0;
            case WAITING -> true;
            case RUNNING -> {
                long e = elapsed(t);
                long n = countAt(t);
                yield switch (mode) {
                    case 0 -> e >= n;
                    case 1 -> t < start || e >= n;
                    case 2 -> e % n != n - 1;
                    case 3 -> e % n < (n + 1) / 2;
                    default -> e != n; // 4, 5
                };
            }
        };
    }

    /**
     * The first PIT time after {@code t} at which OUT rises, or {@code Long.MAX_VALUE}. These are the
     * instants an interrupt fires on counter 0.
     */
    long nextRisingEdge(long t) {
        if (phase != Phase.RUNNING || pausedElapsed >= 0) return Long.MAX_VALUE;
        long edge;
        switch (mode) {
            case 0, 1 -> edge = start + count;
            case 4, 5 -> edge = start + count + 1;
            default -> {
                long s = startAt(t);
                long n = countAt(t);
                edge = t < s ? s + n : s + ((t - s) / n + 1) * n;
                if (nextStart >= 0 && t < nextStart) edge = Math.min(edge, nextStart);
            }
        }
        return edge > t ? edge : Long.MAX_VALUE;
    }

    /** The counter's reading at {@code t}, in the counter's binary or BCD format. */
    int rawValue(long t) {
        if (phase != Phase.RUNNING) return held;
        long e = elapsed(t);
        long n = countAt(t);
        int modulus = bcd ? 10_000 : 0x10000;
        long v = switch (mode) {
            case 2 -> n - e % n;
            case 3 -> squareWaveValue(e % n, n);
            default -> Math.floorMod(n - e, (long) modulus);
        };
        int binary = (int) (v % modulus);
        return bcd ? toBcd(binary) : binary;
    }

    private boolean nullCount(long t) {
        return phase != Phase.RUNNING || t < start || (nextStart >= 0 && t < nextStart);
    }

    private void load(int value, long t) {
        reload = value & 0xFFFF;
        int n = decode(reload);
        switch (mode) {
            case 0, 4 -> {
                phase = Phase.RUNNING;
                start = t + 1;
                count = n;
                held = 0;
                pausedElapsed = gate ? -1 : 0;
                clearPending();
            }
            case 1, 5 -> {
                if (phase == Phase.IDLE) phase = Phase.WAITING;
            }
            default -> {
                if (phase == Phase.RUNNING) {
                    foldPending(t);
                    if (t < start) {
                        count = n;
                    } else {
                        nextStart = start + ((t - start) / count + 1) * count;
                        nextCount = n;
                    }
                } else if (gate) {
                    startCounting(n, t + 1);
                } else {
                    phase = Phase.WAITING;
                }
            }
        }
    }

    private void startCounting(int n, long at) {
        phase = Phase.RUNNING;
        start = at;
        count = n;
        held = 0;
        pausedElapsed = -1;
        clearPending();
    }

    private void foldPending(long t) {
        if (nextStart >= 0 && t >= nextStart) {
            start = nextStart;
            count = nextCount;
            clearPending();
        }
    }

    private void clearPending() {
        nextStart = -1;
        nextCount = 0;
    }

    private long startAt(long t) {
        return nextStart >= 0 && t >= nextStart ? nextStart : start;
    }

    private long countAt(long t) {
        return nextStart >= 0 && t >= nextStart ? nextCount : count;
    }

    private long elapsed(long t) {
        if (pausedElapsed >= 0) return pausedElapsed;
        return Math.max(0, t - startAt(t));
    }

    /**
     * Mode 3 counts down by two and toggles OUT at each expiry; an odd count spends one clock more
     * in the high half, by the datasheet's rule (N, N-1, N-3, ... high; N, N-3, N-5, ... low).
     */
    private static long squareWaveValue(long p, long n) {
        if ((n & 1) == 0) return p < n / 2 ? n - 2 * p : n - 2 * (p - n / 2);
        long highLength = (n + 1) / 2;
        if (p < highLength) return p == 0 ? n : n + 1 - 2 * p;
        long q = p - highLength;
        return q == 0 ? n : n - 1 - 2 * q;
    }

    /** The number of clocks a written count stands for: 0 is the maximum (65536, or 10000 in BCD). */
    private int decode(int raw) {
        int n;
        if (bcd) {
            int d = ((raw >> 12) & 15) * 1000 + ((raw >> 8) & 15) * 100 + ((raw >> 4) & 15) * 10 + (raw & 15);
            if (!validBcd(raw)) {
                log.info("pit-bcd-digit", "PIT counter {}: invalid BCD count 0x{} taken modulo 10000",
                        index, Integer.toHexString(raw));
            }
            n = d % 10_000;
            if (n == 0) n = 10_000;
        } else {
            n = raw == 0 ? 0x10000 : raw;
        }
        if (n == 1 && (mode == 2 || mode == 3)) {
            log.info("pit-count1-" + index, "PIT counter {}: count 1 is illegal in mode {}; counting 2 instead",
                    index, mode);
            n = 2;
        }
        return n;
    }

    private static boolean validBcd(int raw) {
        for (int shift = 0; shift < 16; shift += 4) {
            if (((raw >> shift) & 15) > 9) return false;
        }
        return true;
    }

    private static int toBcd(int v) {
        return (v / 1000 % 10) << 12 | (v / 100 % 10) << 8 | (v / 10 % 10) << 4 | v % 10;
    }
}
