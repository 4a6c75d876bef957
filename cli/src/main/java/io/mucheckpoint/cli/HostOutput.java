package io.mucheckpoint.cli;

import io.mucheckpoint.vmm.dev.ConsoleSink;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;

/** Guest console bytes to a host stream, flushed at line ends and whenever the guest goes quiet. */
final class HostOutput implements ConsoleSink {
    private final OutputStream out;
    private final byte[] buf = new byte[8192];
    private int n;

    HostOutput(OutputStream out) {
        this.out = out;
    }

    @Override
    public synchronized void write(int b) {
        buf[n++] = (byte) b;
        if (b == '\n' || n == buf.length) flush();
    }

    synchronized void flush() {
        try {
            out.write(buf, 0, n);
            out.flush();
            n = 0;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
