package io.mucheckpoint.vmm.dev;

import io.mucheckpoint.vmm.state.Persistent;
import java.util.Arrays;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A 16550A UART: COM1 of the guest interface (0x3F8, IRQ 4), output to a {@link ConsoleSink}.
 *
 * <p>Transmission takes no time: a byte written to THR goes to the sink at once and THR and the
 * transmitter are empty again, so the THRE interrupt is pending again straight after every THR
 * write (it is cleared by the write and re-raised as THR empties, as the 16550 does at infinite
 * baud rate). This keeps output deterministic and independent of the divisor. Input arrives through
 * {@link #receive}, paced by the machine with {@link #rxSpace}, so the receiver never overruns
 * from the host side.
 *
 * <p>The IRQ line is high while an enabled interrupt is pending and MCR.OUT2 is set (the PC's
 * interrupt gate); in loopback mode the OUT2 pin is inactive, as the datasheet says, so no IRQ
 * leaves the chip then, and host input is refused (the serial input is disconnected).
 *
 * <p>Approximations: the character-timeout interrupt (IIR 0x0C) is reported as soon as data is
 * waiting below the FIFO trigger level, instead of four character times later; there are no
 * parity, framing or break errors (only loopback can overrun); the modem inputs read as a
 * connected terminal (CTS, DSR, DCD on); bytes go out with all eight bits whatever the word length
 * in LCR, as on QEMU. Not modelled: the DMA mode bit, the transmitter FIFO
 * (never holds anything), the break control bit, scratch-pad-free 8250 variants.
 */
public final class Uart16550 implements BytePortDevice, Persistent<Uart16550.State> {
    private static final Logger LOG = LoggerFactory.getLogger(Uart16550.class);

    public static final int COM1_PORT = 0x3F8;
    public static final int COM1_IRQ = 4;
    public static final int FIFO_SIZE = 16;

    static final int IER_RDA = 0x01;
    static final int IER_THRE = 0x02;
    static final int IER_RLS = 0x04;
    static final int IER_MSI = 0x08;
    static final int IIR_NONE = 0x01;
    static final int IIR_MSI = 0x00;
    static final int IIR_THRE = 0x02;
    static final int IIR_RDA = 0x04;
    static final int IIR_RLS = 0x06;
    static final int IIR_TIMEOUT = 0x0C;
    static final int LCR_DLAB = 0x80;
    static final int MCR_DTR = 0x01;
    static final int MCR_RTS = 0x02;
    static final int MCR_OUT1 = 0x04;
    static final int MCR_OUT2 = 0x08;
    static final int MCR_LOOP = 0x10;
    static final int LSR_DR = 0x01;
    static final int LSR_OE = 0x02;
    static final int LSR_ERRORS = 0x1E;
    static final int LSR_THRE = 0x20;
    static final int LSR_TEMT = 0x40;
    static final int FCR_ENABLE = 0x01;
    private static final int[] TRIGGER_LEVELS = {1, 4, 8, 14};
    /** CTS, DSR and DCD on: a terminal is connected. */
    private static final int MSR_HOST_LINES = 0xB0;

    /**
     * The UART's state: the receive FIFO contents oldest first, the registers, the sticky line
     * status errors, the modem status delta bits, and whether a THRE interrupt is pending.
     */
    public record State(byte[] rx, int ier, int lcr, int mcr, int lsrErrors, int msrDeltas, int scr, int divisor,
            int fcr, boolean thrPending) {}

    private final int base;
    private final int irq;
    private final IrqSink irqs;
    private final ConsoleSink out;
    private final LogOnce log = new LogOnce(LOG);

    private final int[] rx = new int[FIFO_SIZE];
    private int rxHead;
    private int rxCount;
    private int ier;
    private int lcr;
    private int mcr;
    private int lsrErrors;
    private int msrDeltas;
    private int scr;
    private int divisor = 12; // 9600 baud, what a BIOS leaves
    private int fcr;
    private boolean thrPending;
    private boolean line;

    public Uart16550(int basePort, int irq, IrqSink irqs, ConsoleSink out) {
        this.base = basePort;
        this.irq = irq;
        this.irqs = irqs;
        this.out = out;
    }

    /** COM1: 0x3F8, IRQ 4. */
    public static Uart16550 com1(IrqSink irqs, ConsoleSink out) {
        return new Uart16550(COM1_PORT, COM1_IRQ, irqs, out);
    }

    /** Claims the eight ports from the base. */
    public void attachTo(IoPortBus bus) {
        bus.register(base, 8, this);
    }

    /**
     * A byte from the host for the guest. Returns false, taking nothing, when the receiver has no
     * room (or is in loopback): the caller keeps the byte and offers it again later.
     */
    public boolean receive(int b) {
        if ((mcr & MCR_LOOP) != 0 || rxCount >= capacity()) return false;
        push(b & 0xFF);
        updateIrq();
        return true;
    }

    /** How many bytes {@link #receive} would accept now. */
    public int rxSpace() {
        return (mcr & MCR_LOOP) != 0 ? 0 : capacity() - rxCount;
    }

    @Override
    public int inByte(int port) {
        int v = switch (port - base) {
            case 0 -> (lcr & LCR_DLAB) != 0 ? divisor & 0xFF : readRbr();
            case 1 -> (lcr & LCR_DLAB) != 0 ? divisor >> 8 : ier;
            case 2 -> readIir();
            case 3 -> lcr;
            case 4 -> mcr;
            case 5 -> readLsr();
            case 6 -> readMsr();
            case 7 -> scr;
            default -> 0xFF;
        };
        updateIrq();
        return v;
    }

    @Override
    public void outByte(int port, int value) {
        switch (port - base) {
            case 0 -> {
                if ((lcr & LCR_DLAB) != 0) divisor = (divisor & 0xFF00) | value;
                else transmit(value);
            }
            case 1 -> {
                if ((lcr & LCR_DLAB) != 0) {
                    divisor = (divisor & 0xFF) | value << 8;
                } else {
                    // Enabling the THRE interrupt with THR empty (it always is) raises it.
                    if ((value & IER_THRE) != 0 && (ier & IER_THRE) == 0) thrPending = true;
                    ier = value & 0x0F;
                }
            }
            case 2 -> writeFcr(value);
            case 3 -> lcr = value;
            case 4 -> writeMcr(value & 0x1F);
            case 5, 6 -> log.debug("ro-" + (port - base), "UART 0x{}: write to read-only register {} ignored",
                    Integer.toHexString(base), port - base);
            case 7 -> scr = value;
            default -> log.info("port-" + port, "UART: write to foreign port 0x{} ignored", Integer.toHexString(port));
        }
        updateIrq();
    }

    @Override
    public State save() {
        byte[] contents = new byte[rxCount];
        for (int i = 0; i < rxCount; i++) contents[i] = (byte) rx[(rxHead + i) % FIFO_SIZE];
        return new State(contents, ier, lcr, mcr, lsrErrors, msrDeltas, scr, divisor, fcr, thrPending);
    }

    @Override
    public void restore(State s) {
        Arrays.fill(rx, 0);
        rxHead = 0;
        rxCount = Math.min(FIFO_SIZE, s.rx().length);
        for (int i = 0; i < rxCount; i++) rx[i] = s.rx()[i] & 0xFF;
        ier = s.ier() & 0x0F;
        lcr = s.lcr() & 0xFF;
        mcr = s.mcr() & 0x1F;
        lsrErrors = s.lsrErrors() & LSR_ERRORS;
        msrDeltas = s.msrDeltas() & 0x0F;
        scr = s.scr() & 0xFF;
        divisor = s.divisor() & 0xFFFF;
        fcr = s.fcr() & 0xC1;
        thrPending = s.thrPending();
        // The line is a function of the state; an equal level is no edge for the PIC.
        line = irqLevel();
        irqs.setIrq(irq, line);
    }

    private int readRbr() {
        if (rxCount == 0) return 0;
        int b = rx[rxHead];
        rxHead = (rxHead + 1) % FIFO_SIZE;
        rxCount--;
        return b;
    }

    private int readIir() {
        int id = pendingInterrupt();
        if (id == IIR_THRE) thrPending = false; // reading IIR acknowledges a THRE interrupt
        return id | (fifoEnabled() ? 0xC0 : 0);
    }

    private int readLsr() {
        int v = (rxCount > 0 ? LSR_DR : 0) | lsrErrors | LSR_THRE | LSR_TEMT;
        lsrErrors = 0;
        return v;
    }

    private int readMsr() {
        int v = modemInputs(mcr) | msrDeltas;
        msrDeltas = 0;
        return v;
    }

    private void transmit(int value) {
        // All eight bits go out whatever the word length, as on QEMU: guests that never program
        // LCR (power-on value: 5 bits) still print.
        int b = value & 0xFF;
        if ((mcr & MCR_LOOP) != 0) {
            if (rxCount >= capacity()) lsrErrors |= LSR_OE;
            else push(b);
        } else {
            out.write(b);
        }
        thrPending = true;
    }

    private void writeFcr(int v) {
        boolean wasEnabled = fifoEnabled();
        // The other FCR bits only take effect together with the enable bit.
        fcr = (v & FCR_ENABLE) != 0 ? v & 0xC1 : 0;
        if (fifoEnabled() != wasEnabled || (v & 0x03) == 0x03) {
            rxHead = 0;
            rxCount = 0;
            Arrays.fill(rx, 0);
        }
    }

    private void writeMcr(int v) {
        int before = modemInputs(mcr);
        int after = modemInputs(v);
        int changed = before ^ after;
        if ((changed & 0x10) != 0) msrDeltas |= 0x01; // delta CTS
        if ((changed & 0x20) != 0) msrDeltas |= 0x02; // delta DSR
        if ((before & 0x40) != 0 && (after & 0x40) == 0) msrDeltas |= 0x04; // trailing edge of RI
        if ((changed & 0x80) != 0) msrDeltas |= 0x08; // delta DCD
        mcr = v;
    }

    /** CTS, DSR, RI, DCD (bits 4-7): looped back from RTS, DTR, OUT1, OUT2, or the host's lines. */
    private static int modemInputs(int mcr) {
        if ((mcr & MCR_LOOP) == 0) return MSR_HOST_LINES;
        return ((mcr & MCR_RTS) != 0 ? 0x10 : 0) | ((mcr & MCR_DTR) != 0 ? 0x20 : 0)
                | ((mcr & MCR_OUT1) != 0 ? 0x40 : 0) | ((mcr & MCR_OUT2) != 0 ? 0x80 : 0);
    }

    /** The IIR interrupt identification by the 16550's priorities. */
    private int pendingInterrupt() {
        if ((ier & IER_RLS) != 0 && lsrErrors != 0) return IIR_RLS;
        if ((ier & IER_RDA) != 0 && rxCount > 0) {
            if (!fifoEnabled() || rxCount >= TRIGGER_LEVELS[fcr >> 6]) return IIR_RDA;
            return IIR_TIMEOUT;
        }
        if ((ier & IER_THRE) != 0 && thrPending) return IIR_THRE;
        if ((ier & IER_MSI) != 0 && msrDeltas != 0) return IIR_MSI;
        return IIR_NONE;
    }

    private boolean irqLevel() {
        return (mcr & (MCR_OUT2 | MCR_LOOP)) == MCR_OUT2 && pendingInterrupt() != IIR_NONE;
    }

    private void updateIrq() {
        boolean level = irqLevel();
        if (level != line) {
            line = level;
            irqs.setIrq(irq, level);
        }
    }

    private void push(int b) {
        rx[(rxHead + rxCount) % FIFO_SIZE] = b;
        rxCount++;
    }

    private boolean fifoEnabled() {
        return (fcr & FCR_ENABLE) != 0;
    }

    private int capacity() {
        return fifoEnabled() ? FIFO_SIZE : 1;
    }
}
