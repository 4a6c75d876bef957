package io.mucheckpoint.cpu;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;

/**
 * Writes one line per instruction, registers before it runs, in the line format of
 * shared/tools/qemu-trace, so the two traces can be diffed:
 * {@code <n> EIP=.. EAX=.. EBX=.. ECX=.. EDX=.. ESI=.. EDI=.. EBP=.. ESP=.. EFL=.. CS=.. SS=.. CPL=n}.
 * With disassembly on, each line goes on with {@code " | "}, the instruction's bytes, and its text
 * ({@link Disassembler}); {@code cut -d'|' -f1} gives back the plain format.
 */
public final class TraceWriter implements TraceSink {
    private final Writer out;
    private final long limit;
    private final boolean disassemble;
    private long n;

    /** @param limit lines to write at most (then tracing stops quietly) */
    public TraceWriter(Writer out, long limit) {
        this(out, limit, false);
    }

    /** @param disassemble append each instruction's bytes and text to its line */
    public TraceWriter(Writer out, long limit, boolean disassemble) {
        this.out = out;
        this.limit = limit;
        this.disassemble = disassemble;
    }

    @Override
    public void beforeInstruction(Cpu c) {
        if (n >= limit) return;
        try {
            out.write(String.format("%d EIP=%08x EAX=%08x EBX=%08x ECX=%08x EDX=%08x ESI=%08x EDI=%08x EBP=%08x ESP=%08x"
                            + " EFL=%08x CS=%04x SS=%04x CPL=%d",
                    n, c.eip, c.r[Cpu.EAX], c.r[Cpu.EBX], c.r[Cpu.ECX], c.r[Cpu.EDX], c.r[Cpu.ESI], c.r[Cpu.EDI],
                    c.r[Cpu.EBP], c.r[Cpu.ESP], c.getEflags(), c.segSel[AddressSpace.CS], c.segSel[AddressSpace.SS], c.cpl));
            if (disassemble) {
                Disassembler.Instruction in = Disassembler.at(c, c.eip);
                out.write(String.format(" | %-20s %s", in.hexBytes(), in.text()));
            }
            out.write(System.lineSeparator());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        n++;
    }

    public long lines() {
        return n;
    }
}
