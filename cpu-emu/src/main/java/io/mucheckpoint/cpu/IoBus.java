package io.mucheckpoint.cpu;

/** The processor's I/O port space. */
public interface IoBus {
    /** Reads {@code size} (1, 2 or 4) bytes from {@code port}. */
    int in(int port, int size);

    /** Writes the low {@code size} (1, 2 or 4) bytes of {@code value} to {@code port}. */
    void out(int port, int size, int value);
}
