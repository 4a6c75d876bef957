package io.mucheckpoint.vmm.dev;

/**
 * What a guest tells μCheckpoint through {@link GuestServicesPort}: its liveness and the errors its
 * own checks found, the inputs of the error detectors. Called on the CPU thread at the guest's
 * write; implementations must be quick and must not throw.
 */
public interface GuestServicesListener {
    /** The guest is alive; {@code value} is whatever progress token it chose to send. */
    default void heartbeat(int value) {}

    /** The guest caught a processor exception it did not expect (vector 0-31). */
    default void exceptionReported(int vector) {}

    /** A self-check in the guest failed; {@code id} says which. */
    default void selfCheckFailed(int id) {}
}
