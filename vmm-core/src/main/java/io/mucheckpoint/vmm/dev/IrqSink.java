package io.mucheckpoint.vmm.dev;

/** The interrupt request lines IRQ0-15 as a device sees them (the 8259 pair implements this). */
public interface IrqSink {
    /** Drives line {@code irq} high or low. Edge-triggered inputs latch on a low-to-high change. */
    void setIrq(int irq, boolean high);

    /** A low-high pulse on an edge-triggered line. */
    default void pulseIrq(int irq) {
        setIrq(irq, false);
        setIrq(irq, true);
    }
}
