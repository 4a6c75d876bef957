package io.mucheckpoint.cpu;

/**
 * The interrupt controller in front of the processor's INTR pin. The controller drives the pin with
 * {@link Cpu#setInterruptLine}; when the processor accepts the interrupt it asks for the vector.
 */
public interface InterruptController {
    /** The INTA cycle: returns the vector of the highest-priority pending request and marks it in service. */
    int acknowledge();
}
