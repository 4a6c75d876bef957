package io.mucheckpoint.vmm.dev;

/** A device on the I/O port bus. Ports it did not claim never reach it. */
public interface IoDevice {
    /** Reads {@code size} (1, 2 or 4) bytes at {@code port}; bits above {@code size} are ignored. */
    int in(int port, int size);

    /** Writes the low {@code size} bytes of {@code value} to {@code port}. */
    void out(int port, int size, int value);
}
