package io.mucheckpoint.vmm.dev;

/** Where a console device's output bytes go (the terminal, a buffer, a recovery-aware filter). */
@FunctionalInterface
public interface ConsoleSink {
    void write(int b);
}
