package io.mucheckpoint.vmm.dev;

/** The processor's INTR input as the interrupt controller drives it. */
@FunctionalInterface
public interface InterruptPin {
    void setLevel(boolean high);
}
