package io.mucheckpoint.vmm.dev;

/** What a device may ask of the machine as a whole. */
public interface MachineControl {
    /** The guest wrote {@code status} to isa-debug-exit: the VM ends after the current instruction. */
    void exit(int status);

    /** A system reset (keyboard controller pulse, port 0x92 bit 0). */
    void reset();

    /** Opens or closes the A20 gate. */
    void setA20(boolean enabled);

    /** The NMI line (from the CMOS NMI mask and sources behind it). */
    default void nmi() {}
}
