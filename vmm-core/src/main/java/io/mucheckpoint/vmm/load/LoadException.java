package io.mucheckpoint.vmm.load;

/** A guest image that cannot be loaded; the message is one line naming what is wrong. */
public final class LoadException extends Exception {
    public LoadException(String message) {
        super(message);
    }
}
