package io.mucheckpoint.vmm.dev;

import io.mucheckpoint.cpu.InterruptController;
import io.mucheckpoint.vmm.state.Persistent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The PC's cascaded 8259A pair: master at 0x20/0x21 (IRQ0-7), slave at 0xA0/0xA1 (IRQ8-15) on the
 * master's IR2, and the PIIX edge/level control registers at 0x4D0/0x4D1.
 *
 * <p>The slave's INT output is the master's IR2 input, an ordinary (edge-triggered) input: it
 * latches when the slave starts requesting. If the slave's request vanishes before the processor
 * acknowledges, the master still answers for IR2 and the slave supplies its spurious vector
 * (IRQ15); with nothing to deliver at all, the master supplies IRQ7's. Spurious vectors set no ISR
 * bit on the chip that supplies them, as on the real part.
 *
 * <p>Not modelled: 8080/8085 mode, buffered mode, the master's single mode beyond its effect on the
 * initialisation sequence and on cascading, ICW3 values other than the PC's wiring, poll mode
 * through the cascade (a poll of the master reports IR2 without acknowledging the slave).
 * Power-on state matches QEMU's: vector bases 0, nothing masked, until the guest initialises.
 */
public final class Pic8259Pair implements BytePortDevice, IrqSink, InterruptController, Persistent<Pic8259Pair.State> {
    private static final Logger LOG = LoggerFactory.getLogger(Pic8259Pair.class);

    public static final int MASTER_PORT = 0x20;
    public static final int SLAVE_PORT = 0xA0;
    public static final int ELCR_PORT = 0x4D0;

    public record State(Pic8259.State master, Pic8259.State slave) {}

    private final InterruptPin pin;
    private final LogOnce log = new LogOnce(LOG);
    private final Pic8259 master = new Pic8259("master PIC", true, 0xF8, log);
    private final Pic8259 slave = new Pic8259("slave PIC", false, 0xDE, log);
    /** What the pin was last driven to; derived from the state, so not part of it. */
    private boolean pinLevel;

    public Pic8259Pair(InterruptPin pin) {
        this.pin = pin;
    }

    /** Claims 0x20-0x21, 0xA0-0xA1 and 0x4D0-0x4D1. */
    public void attachTo(IoPortBus bus) {
        bus.register(MASTER_PORT, 2, this);
        bus.register(SLAVE_PORT, 2, this);
        bus.register(ELCR_PORT, 2, this);
    }

    @Override
    public void setIrq(int irq, boolean high) {
        if (irq < 0 || irq > 15) {
            log.info("irq-range", "IRQ {} does not exist; ignored", irq);
            return;
        }
        if (irq == Pic8259.CASCADE_LINE) {
            log.info("irq2", "IRQ2 is the cascade input and cannot be driven by a device; ignored");
            return;
        }
        if (irq < 8) master.setInput(irq, high);
        else slave.setInput(irq - 8, high);
        update();
    }

    @Override
    public int acknowledge() {
        int p = master.pendingRequest();
        int vector;
        if (p < 0) {
            vector = master.vectorBase() + 7;
            LOG.debug("spurious interrupt on the master: vector 0x{}", Integer.toHexString(vector));
        } else if (p == Pic8259.CASCADE_LINE && !master.single()) {
            master.acknowledge(p);
            int q = slave.pendingRequest();
            if (q < 0) {
                vector = slave.vectorBase() + 7;
                LOG.debug("spurious interrupt on the slave: vector 0x{}", Integer.toHexString(vector));
            } else {
                vector = slave.acknowledge(q);
            }
        } else {
            vector = master.acknowledge(p);
        }
        update();
        return vector & 0xFF;
    }

    /** Whether the processor's INTR input is high. */
    public boolean interruptPending() {
        return pinLevel;
    }

    @Override
    public int inByte(int port) {
        int v = switch (port) {
            case MASTER_PORT -> master.readCommand();
            case MASTER_PORT + 1 -> master.readData();
            case SLAVE_PORT -> slave.readCommand();
            case SLAVE_PORT + 1 -> slave.readData();
            case ELCR_PORT -> master.readElcr();
            case ELCR_PORT + 1 -> slave.readElcr();
            default -> 0xFF;
        };
        // A poll read acknowledges, which changes the outputs.
        update();
        return v;
    }

    @Override
    public void outByte(int port, int value) {
        switch (port) {
            case MASTER_PORT -> master.writeCommand(value);
            case MASTER_PORT + 1 -> master.writeData(value);
            case SLAVE_PORT -> slave.writeCommand(value);
            case SLAVE_PORT + 1 -> slave.writeData(value);
            case ELCR_PORT -> master.writeElcr(value);
            case ELCR_PORT + 1 -> slave.writeElcr(value);
            default -> log.info("port-" + port, "PIC: write to foreign port 0x{} ignored", Integer.toHexString(port));
        }
        update();
    }

    @Override
    public State save() {
        return new State(master.save(), slave.save());
    }

    @Override
    public void restore(State state) {
        master.restore(state.master());
        slave.restore(state.slave());
        pinLevel = master.pendingRequest() >= 0;
        pin.setLevel(pinLevel);
    }

    private void update() {
        master.setInput(Pic8259.CASCADE_LINE, slave.pendingRequest() >= 0);
        boolean level = master.pendingRequest() >= 0;
        if (level != pinLevel) {
            pinLevel = level;
            pin.setLevel(level);
        }
    }
}
