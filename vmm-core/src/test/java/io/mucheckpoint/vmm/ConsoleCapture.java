package io.mucheckpoint.vmm;

import io.mucheckpoint.vmm.dev.ConsoleSink;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/** A console sink that keeps what the guest printed. */
public final class ConsoleCapture implements ConsoleSink {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    @Override
    public void write(int b) {
        out.write(b);
    }

    public String text() {
        return out.toString(StandardCharsets.UTF_8);
    }

    /** Forgets everything after the first {@code n} bytes (output that a rollback un-happened). */
    public void truncate(int n) {
        byte[] keep = java.util.Arrays.copyOf(out.toByteArray(), n);
        out.reset();
        out.write(keep, 0, n);
    }

    public int size() {
        return out.size();
    }
}
