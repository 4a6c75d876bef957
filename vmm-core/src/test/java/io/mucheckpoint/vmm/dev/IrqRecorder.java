package io.mucheckpoint.vmm.dev;

import io.mucheckpoint.vmm.state.Persistent;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * An {@link IrqSink} that remembers line levels and every rising edge with its tick. Its line
 * levels are persistent (they stand for the PIC's input latches), the edge log is not.
 */
public final class IrqRecorder implements IrqSink, Persistent<IrqRecorder.Levels> {
    public record Levels(int mask) {}

    /** A low-to-high change of line {@code irq} at {@code tick}. */
    public record Edge(int irq, long tick) {}

    private final LongSupplier time;
    private final boolean[] levels = new boolean[16];
    private final List<Edge> edges = new ArrayList<>();

    public IrqRecorder(LongSupplier time) {
        this.time = time;
    }

    public IrqRecorder() {
        this(() -> 0);
    }

    @Override
    public void setIrq(int irq, boolean high) {
        if (high && !levels[irq]) edges.add(new Edge(irq, time.getAsLong()));
        levels[irq] = high;
    }

    public boolean level(int irq) {
        return levels[irq];
    }

    public List<Edge> edges() {
        return List.copyOf(edges);
    }

    /** The ticks of the rising edges of {@code irq}. */
    public List<Long> ticks(int irq) {
        List<Long> out = new ArrayList<>();
        for (Edge e : edges) if (e.irq() == irq) out.add(e.tick());
        return out;
    }

    public int count(int irq) {
        return ticks(irq).size();
    }

    public void clear() {
        edges.clear();
    }

    @Override
    public Levels save() {
        int m = 0;
        for (int i = 0; i < 16; i++) if (levels[i]) m |= 1 << i;
        return new Levels(m);
    }

    @Override
    public void restore(Levels state) {
        for (int i = 0; i < 16; i++) levels[i] = (state.mask() & (1 << i)) != 0;
    }
}
