package io.mucheckpoint.vmm.dev;

/**
 * A device with 8-bit registers, as almost every ISA device is. A wider access to it is a sequence
 * of byte accesses at consecutive ports, as the ISA bus performs it ({@code outw 0x20} writes 0x20
 * and 0x21). {@link IoPortBus} does that split itself, so each byte reaches whichever device owns
 * its port; the defaults here only serve direct calls.
 */
public interface BytePortDevice extends IoDevice {
    /** Reads the register at {@code port}; a port the device does not own reads 0xFF. */
    int inByte(int port);

    /** Writes {@code value} (0-255) to the register at {@code port}. */
    void outByte(int port, int value);

    @Override
    default int in(int port, int size) {
        int v = 0;
        for (int i = 0; i < size; i++) v |= (inByte((port + i) & 0xFFFF) & 0xFF) << (8 * i);
        return v;
    }

    @Override
    default void out(int port, int size, int value) {
        for (int i = 0; i < size; i++) outByte((port + i) & 0xFFFF, (value >>> (8 * i)) & 0xFF);
    }
}
