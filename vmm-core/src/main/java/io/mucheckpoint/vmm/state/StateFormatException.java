package io.mucheckpoint.vmm.state;

/** Encoded state that cannot be decoded: truncated, or holding an impossible value. */
public final class StateFormatException extends RuntimeException {
    public StateFormatException(String message) {
        super(message);
    }
}
