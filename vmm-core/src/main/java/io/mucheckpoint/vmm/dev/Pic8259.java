package io.mucheckpoint.vmm.dev;

/**
 * One 8259A programmable interrupt controller, as half of {@link Pic8259Pair}.
 *
 * <p>Inputs: an edge-triggered input latches its IRR bit on a rising edge and keeps it until the
 * request is acknowledged or the chip is re-initialised (as QEMU's model does, so guests tested
 * there see the same interrupts); a level-triggered input's IRR bit follows the line. Which inputs
 * are level-triggered is the ELCR's business (the LTIM bit of ICW1 is ignored, as the PIIX ignores
 * it). Only 8086 mode exists: vectors are the ICW2 base plus the input number.
 */
public final class Pic8259 {
    /** The chip's whole state; every field is a register or a latch of the real part. */
    public record State(int irr, int isr, int imr, int lines, int elcr, int vectorBase, int initStep,
            boolean expectIcw4, boolean single, boolean autoEoi, boolean rotateOnAutoEoi,
            boolean specialFullyNested, boolean specialMask, boolean readIsr, boolean pollPending,
            int lowestPriority) {}

    /** The input the slave's INT output drives on the master (fixed PC wiring). */
    static final int CASCADE_LINE = 2;

    private final String name;
    private final boolean master;
    private final int elcrMask;
    private final LogOnce log;

    private int irr;
    private int isr;
    private int imr;
    private int lines;
    private int elcr;
    private int vectorBase;
    /** 0 when operational, else the number of the ICW the data port expects next (2, 3 or 4). */
    private int initStep;
    private boolean expectIcw4;
    private boolean single;
    private boolean autoEoi;
    private boolean rotateOnAutoEoi;
    private boolean specialFullyNested;
    private boolean specialMask;
    private boolean readIsr;
    private boolean pollPending;
    private int lowestPriority = 7;

    Pic8259(String name, boolean master, int elcrMask, LogOnce log) {
        this.name = name;
        this.master = master;
        this.elcrMask = elcrMask;
        this.log = log;
    }

    State save() {
        return new State(irr, isr, imr, lines, elcr, vectorBase, initStep, expectIcw4, single, autoEoi,
                rotateOnAutoEoi, specialFullyNested, specialMask, readIsr, pollPending, lowestPriority);
    }

    void restore(State s) {
        irr = s.irr() & 0xFF;
        isr = s.isr() & 0xFF;
        imr = s.imr() & 0xFF;
        lines = s.lines() & 0xFF;
        elcr = s.elcr() & elcrMask;
        vectorBase = s.vectorBase() & 0xF8;
        initStep = s.initStep();
        expectIcw4 = s.expectIcw4();
        single = s.single();
        autoEoi = s.autoEoi();
        rotateOnAutoEoi = s.rotateOnAutoEoi();
        specialFullyNested = s.specialFullyNested();
        specialMask = s.specialMask();
        readIsr = s.readIsr();
        pollPending = s.pollPending();
        lowestPriority = s.lowestPriority() & 7;
    }

    void setInput(int line, boolean high) {
        int m = 1 << line;
        if ((elcr & m) != 0) {
            if (high) irr |= m;
            else irr &= ~m;
        } else if (high && (lines & m) == 0) {
            irr |= m;
        }
        lines = high ? lines | m : lines & ~m;
    }

    /**
     * The input this chip would interrupt the processor for now, or -1: the highest-priority
     * unmasked request that outranks everything in service.
     */
    int pendingRequest() {
        int candidates = irr & ~imr;
        if (candidates == 0) return -1;
        if (specialMask) {
            // Special mask mode: masking the level in service opens all other unmasked levels.
            return highest(candidates & ~isr);
        }
        int blocking = isr;
        if (specialFullyNested && master) blocking &= ~(1 << CASCADE_LINE);
        int p = highest(candidates);
        int q = highest(blocking);
        return q < 0 || rank(p) < rank(q) ? p : -1;
    }

    /** The INTA cycle for input {@code line}: marks it in service and returns the vector. */
    int acknowledge(int line) {
        int m = 1 << line;
        if ((elcr & m) == 0) irr &= ~m;
        if (autoEoi) {
            if (rotateOnAutoEoi) lowestPriority = line;
        } else {
            isr |= m;
        }
        return vectorBase + line;
    }

    int vectorBase() {
        return vectorBase;
    }

    boolean single() {
        return single;
    }

    int readCommand() {
        if (pollPending) {
            pollPending = false;
            int p = pendingRequest();
            if (p < 0) return 0;
            acknowledge(p);
            return 0x80 | p;
        }
        return readIsr ? isr : irr;
    }

    int readData() {
        return imr;
    }

    int readElcr() {
        return elcr;
    }

    void writeElcr(int value) {
        if ((value & ~elcrMask) != 0) {
            log.info(name + "-elcr", "{}: ELCR bits 0x{} cannot be level-triggered; ignored", name,
                    Integer.toHexString(value & ~elcrMask));
        }
        int becameLevel = value & elcrMask & ~elcr;
        elcr = value & elcrMask;
        irr = (irr & ~becameLevel) | (lines & becameLevel);
    }

    void writeCommand(int v) {
        if ((v & 0x10) != 0) {
            icw1(v);
        } else if ((v & 0x08) != 0) {
            if ((v & 0x04) != 0) pollPending = true;
            if ((v & 0x02) != 0) readIsr = (v & 0x01) != 0;
            if ((v & 0x40) != 0) specialMask = (v & 0x20) != 0;
        } else {
            ocw2(v);
        }
    }

    void writeData(int v) {
        switch (initStep) {
            case 2 -> {
                if ((v & 0x07) != 0) {
                    log.debug(name + "-icw2", "{}: ICW2 0x{} has low bits set; only bits 7-3 count in 8086 mode",
                            name, Integer.toHexString(v));
                }
                vectorBase = v & 0xF8;
                initStep = single ? (expectIcw4 ? 4 : 0) : 3;
            }
            case 3 -> {
                int expected = master ? 1 << CASCADE_LINE : CASCADE_LINE;
                if (v != expected) {
                    log.info(name + "-icw3", "{}: ICW3 0x{} differs from the PC's wiring (0x{}); the wiring wins",
                            name, Integer.toHexString(v), Integer.toHexString(expected));
                }
                initStep = expectIcw4 ? 4 : 0;
            }
            case 4 -> {
                if ((v & 0x01) == 0) {
                    log.info(name + "-8080", "{}: ICW4 selects 8080 mode; only 8086 mode exists here", name);
                }
                if ((v & 0x0C) != 0) {
                    log.debug(name + "-buf", "{}: ICW4 buffered mode bits ignored", name);
                }
                autoEoi = (v & 0x02) != 0;
                specialFullyNested = (v & 0x10) != 0;
                initStep = 0;
            }
            default -> imr = v;
        }
    }

    private void icw1(int v) {
        if ((v & 0x08) != 0) {
            log.info(name + "-ltim", "{}: ICW1 level-triggered mode ignored; the ELCR selects triggering", name);
        }
        if ((v & 0x01) == 0) {
            autoEoi = false;
            specialFullyNested = false;
        }
        expectIcw4 = (v & 0x01) != 0;
        single = (v & 0x02) != 0;
        irr = lines & elcr;
        isr = 0;
        imr = 0;
        specialMask = false;
        readIsr = false;
        pollPending = false;
        rotateOnAutoEoi = false;
        lowestPriority = 7;
        initStep = 2;
    }

    private void ocw2(int v) {
        int level = v & 7;
        switch (v >> 5) {
            case 0 -> rotateOnAutoEoi = false;
            case 4 -> rotateOnAutoEoi = true;
            case 1, 5 -> {
                int l = highest(isr);
                if (l >= 0) {
                    isr &= ~(1 << l);
                    if ((v >> 5) == 5) lowestPriority = l;
                }
            }
            case 3 -> isr &= ~(1 << level);
            case 7 -> {
                isr &= ~(1 << level);
                lowestPriority = level;
            }
            case 6 -> lowestPriority = level;
            default -> { } // 2: no operation
        }
    }

    /** 0 for the highest-priority input under the current rotation, 7 for the lowest. */
    private int rank(int line) {
        return (line - lowestPriority - 1) & 7;
    }

    private int highest(int bits) {
        if (bits == 0) return -1;
        for (int i = 1; i <= 8; i++) {
            int line = (lowestPriority + i) & 7;
            if ((bits & (1 << line)) != 0) return line;
        }
        return -1;
    }
}
