package io.mucheckpoint.vmm.dev;

import io.mucheckpoint.vmm.state.Persistent;
import java.util.Arrays;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The 8042 keyboard controller at 0x60/0x64 with a keyboard that has no keys (the console is the
 * serial port): enough for a guest's controller and keyboard probing to succeed quickly, and for
 * the A20 gate and the reset line.
 *
 * <p>The controller answers its self-test (0x55), interface tests (0x00), command byte and
 * internal RAM reads and writes, port enables, output-port reads and writes (bit 0 low resets the
 * machine, bit 1 is A20), 0xDD/0xDF, the output-buffer writes 0xD2/0xD3, and pulses of the reset
 * line (0xF0-0xFE with bit 0 clear). The keyboard ACKs (0xFA) its commands, answers reset with
 * 0xFA 0xAA, identify with 0xFA 0xAB 0x83 (0x41 when the controller translates), echo with 0xEE,
 * and 0xFE (resend) to a byte it does not know. There is no mouse: a byte sent to the auxiliary
 * device (0xD4) comes back as 0xFE with the timeout bit, as a controller reports a missing device.
 * Replies queue up to {@value #QUEUE_LIMIT} bytes and raise IRQ1 (IRQ12 for auxiliary data) while
 * the first waits in the output buffer and the command byte enables it.
 *
 * <p>Not modelled: keys and scan codes, the keyboard's resend of its last byte, typematic
 * behaviour, the password and input-port features, the parity error bit, the inhibit of replies
 * while the keyboard interface is disabled.
 */
public final class Keyboard8042 implements BytePortDevice, Persistent<Keyboard8042.State> {
    private static final Logger LOG = LoggerFactory.getLogger(Keyboard8042.class);

    public static final int DATA_PORT = 0x60;
    public static final int COMMAND_PORT = 0x64;
    public static final int KEYBOARD_IRQ = 1;
    public static final int AUX_IRQ = 12;
    static final int QUEUE_LIMIT = 16;

    static final int CTR_KBD_INT = 0x01;
    static final int CTR_AUX_INT = 0x02;
    static final int CTR_SYSTEM = 0x04;
    static final int CTR_KBD_DISABLED = 0x10;
    static final int CTR_AUX_DISABLED = 0x20;
    static final int CTR_TRANSLATE = 0x40;
    static final int STATUS_OBF = 0x01;
    static final int STATUS_SYSTEM = 0x04;
    static final int STATUS_COMMAND = 0x08;
    static final int STATUS_UNLOCKED = 0x10;
    static final int STATUS_AUX = 0x20;
    static final int STATUS_TIMEOUT = 0x40;
    static final int OUT_RESET = 0x01;
    static final int OUT_A20 = 0x02;
    static final int ACK = 0xFA;
    static final int RESEND = 0xFE;
    /** Flags kept with a queued byte. */
    private static final int FROM_AUX = 0x100;
    private static final int TIMEOUT = 0x200;

    /**
     * The controller's state: its 32 bytes of RAM (byte 0 is the command byte), the reply queue
     * (each entry a byte plus the aux and timeout flags in bits 8 and 9), the last byte read from
     * 0x60, the controller command and the keyboard command waiting for a data byte (0 if none),
     * the output port, whether the last write went to 0x64, and the keyboard's scanning state.
     */
    public record State(byte[] ram, int[] queue, int lastRead, int pendingCommand, int pendingKeyboardCommand,
            int outputPort, boolean lastWasCommand, boolean scanning, int scancodeSet) {}

    private final IrqSink irqs;
    private final MachineControl machine;
    private final LogOnce log = new LogOnce(LOG);

    private final byte[] ram = new byte[32];
    private final int[] queue = new int[QUEUE_LIMIT];
    private int queued;
    private int lastRead;
    private int pendingCommand;
    private int pendingKeyboardCommand;
    private int outputPort;
    private boolean lastWasCommand;
    private boolean scanning;
    private int scancodeSet;
    private boolean irq1;
    private boolean irq12;

    public Keyboard8042(IrqSink irqs, MachineControl machine) {
        this.irqs = irqs;
        this.machine = machine;
        ram[0] = CTR_KBD_INT | CTR_SYSTEM | CTR_TRANSLATE;
        outputPort = OUT_RESET | OUT_A20;
        scanning = true;
        scancodeSet = 2;
    }

    /** Claims 0x60 and 0x64. */
    public void attachTo(IoPortBus bus) {
        bus.register(DATA_PORT, 1, this);
        bus.register(COMMAND_PORT, 1, this);
    }

    @Override
    public int inByte(int port) {
        if (port == COMMAND_PORT) return status();
        if (port != DATA_PORT) return 0xFF;
        if (queued > 0) {
            lastRead = queue[0] & 0xFF;
            System.arraycopy(queue, 1, queue, 0, queued - 1);
            queue[--queued] = 0;
            // The output buffer empties before the next byte moves in, so the line falls and rises
            // again: an edge-triggered PIC sees one interrupt per byte.
            if (irq1) {
                irq1 = false;
                irqs.setIrq(KEYBOARD_IRQ, false);
            }
            if (irq12) {
                irq12 = false;
                irqs.setIrq(AUX_IRQ, false);
            }
            updateIrqs();
        }
        return lastRead;
    }

    @Override
    public void outByte(int port, int value) {
        if (port == COMMAND_PORT) {
            lastWasCommand = true;
            command(value);
        } else if (port == DATA_PORT) {
            lastWasCommand = false;
            data(value);
        }
        updateIrqs();
    }

    @Override
    public State save() {
        return new State(ram.clone(), Arrays.copyOf(queue, queued), lastRead, pendingCommand, pendingKeyboardCommand,
                outputPort, lastWasCommand, scanning, scancodeSet);
    }

    @Override
    public void restore(State s) {
        Arrays.fill(ram, (byte) 0);
        System.arraycopy(s.ram(), 0, ram, 0, Math.min(ram.length, s.ram().length));
        Arrays.fill(queue, 0);
        queued = Math.min(QUEUE_LIMIT, s.queue().length);
        for (int i = 0; i < queued; i++) queue[i] = s.queue()[i] & 0x3FF;
        lastRead = s.lastRead() & 0xFF;
        pendingCommand = s.pendingCommand() & 0xFF;
        pendingKeyboardCommand = s.pendingKeyboardCommand() & 0xFF;
        outputPort = s.outputPort() & 0xFF;
        lastWasCommand = s.lastWasCommand();
        scanning = s.scanning();
        scancodeSet = s.scancodeSet();
        // The lines are a function of the state; driving them keeps a PIC restored earlier or
        // later consistent (an equal level is no edge).
        irq1 = irq1Level();
        irq12 = irq12Level();
        irqs.setIrq(KEYBOARD_IRQ, irq1);
        irqs.setIrq(AUX_IRQ, irq12);
    }

    private int status() {
        int s = STATUS_UNLOCKED | (ram[0] & CTR_SYSTEM) | (lastWasCommand ? STATUS_COMMAND : 0);
        if (queued > 0) {
            s |= STATUS_OBF;
            if ((queue[0] & FROM_AUX) != 0) s |= STATUS_AUX;
            if ((queue[0] & TIMEOUT) != 0) s |= STATUS_TIMEOUT;
        }
        return s;
    }

    private void command(int c) {
        pendingCommand = 0;
        if (c >= 0x20 && c <= 0x3F) {
            reply(ram[c & 0x1F] & 0xFF);
        } else if (c >= 0x60 && c <= 0x7F) {
            pendingCommand = c;
        } else if (c >= 0xF0) {
            // Pulse the output lines whose bits are 0; line 0 is the processor's reset.
            if ((c & 0x01) == 0) machine.reset();
        } else {
            switch (c) {
                case 0xA7 -> ram[0] |= CTR_AUX_DISABLED;
                case 0xA8 -> ram[0] &= ~CTR_AUX_DISABLED;
                case 0xA9, 0xAB -> reply(0x00); // interface tests pass
                case 0xAA -> {
                    ram[0] |= CTR_SYSTEM;
                    reply(0x55);
                }
                case 0xAD -> ram[0] |= CTR_KBD_DISABLED;
                case 0xAE -> ram[0] &= ~CTR_KBD_DISABLED;
                case 0xC0 -> reply(0x80); // input port: keyboard not inhibited
                case 0xD0 -> reply(outputPort);
                case 0xD1, 0xD2, 0xD3, 0xD4 -> pendingCommand = c;
                case 0xDD -> writeOutputPort(outputPort & ~OUT_A20);
                case 0xDF -> writeOutputPort(outputPort | OUT_A20);
                case 0xE0 -> reply(0x00);
                default -> log.info("cmd-" + c, "8042: unknown controller command 0x{} ignored", Integer.toHexString(c));
            }
        }
    }

    private void data(int b) {
        int c = pendingCommand;
        pendingCommand = 0;
        if (c >= 0x60 && c <= 0x7F) {
            ram[c & 0x1F] = (byte) b;
            return;
        }
        switch (c) {
            case 0xD1 -> writeOutputPort(b);
            case 0xD2 -> reply(b);
            case 0xD3 -> queue(b | FROM_AUX);
            case 0xD4 -> queue(RESEND | FROM_AUX | TIMEOUT);
            default -> keyboard(b);
        }
    }

    private void writeOutputPort(int value) {
        boolean a20 = (value & OUT_A20) != 0;
        if (a20 != ((outputPort & OUT_A20) != 0)) machine.setA20(a20);
        // The reset line returns high once the machine has been reset.
        outputPort = value | OUT_RESET;
        if ((value & OUT_RESET) == 0) machine.reset();
    }

    /** A byte for the keyboard itself. */
    private void keyboard(int b) {
        int c = pendingKeyboardCommand;
        pendingKeyboardCommand = 0;
        if (c == 0xF0) {
            reply(ACK);
            if (b == 0) reply(scancodeSet);
            else if (b >= 1 && b <= 3) scancodeSet = b;
            return;
        }
        if (c == 0xED || c == 0xF3) {
            reply(ACK); // LED state or typematic rate: accepted, nothing to show
            return;
        }
        switch (b) {
            case 0xED, 0xF0, 0xF3 -> {
                reply(ACK);
                pendingKeyboardCommand = b;
            }
            case 0xEE -> reply(0xEE);
            case 0xF2 -> {
                reply(ACK);
                reply(0xAB);
                reply((ram[0] & CTR_TRANSLATE) != 0 ? 0x41 : 0x83);
            }
            case 0xF4 -> {
                reply(ACK);
                scanning = true;
            }
            case 0xF5 -> {
                reply(ACK);
                scanning = false;
            }
            case 0xF6, 0xF7, 0xF8, 0xF9, 0xFA, 0xFB, 0xFC, 0xFD, 0xFE -> reply(ACK);
            case 0xFF -> {
                reply(ACK);
                reply(0xAA); // self-test passed
                scanning = true;
                scancodeSet = 2;
            }
            default -> {
                log.debug("kbd-" + b, "8042: keyboard does not know command 0x{}", Integer.toHexString(b));
                reply(RESEND);
            }
        }
    }

    private void reply(int b) {
        queue(b & 0xFF);
    }

    private void queue(int entry) {
        if (queued == QUEUE_LIMIT) {
            log.info("overflow", "8042: reply queue full; the guest is not reading port 0x60 (bytes dropped)");
            return;
        }
        queue[queued++] = entry;
    }

    private boolean irq1Level() {
        return queued > 0 && (queue[0] & FROM_AUX) == 0 && (ram[0] & CTR_KBD_INT) != 0;
    }

    private boolean irq12Level() {
        return queued > 0 && (queue[0] & FROM_AUX) != 0 && (ram[0] & CTR_AUX_INT) != 0;
    }

    private void updateIrqs() {
        boolean l1 = irq1Level();
        boolean l12 = irq12Level();
        if (l1 != irq1) {
            irq1 = l1;
            irqs.setIrq(KEYBOARD_IRQ, l1);
        }
        if (l12 != irq12) {
            irq12 = l12;
            irqs.setIrq(AUX_IRQ, l12);
        }
    }
}
