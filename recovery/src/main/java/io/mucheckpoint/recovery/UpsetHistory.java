package io.mucheckpoint.recovery;

import io.mucheckpoint.checkpoint.CheckpointEngine;
import io.mucheckpoint.vmm.Machine;
import java.util.ArrayList;
import java.util.List;

/**
 * The raw memory upsets injected into a machine, so that moving it back through history in place
 * (a rollback the user asked for, a debugger going backwards) takes them back too. Automatic
 * recovery does not use this: a DRAM upset stays in every checkpoint that shares its page, which is
 * what the fault model measures.
 *
 * <p>An upset of page P is shared by the checkpoints from {@code firstSharing} on (CheckpointEngine):
 * put back to one of them, P still holds the flip, and since P was not written between that
 * checkpoint and the upset, flipping the bits again gives exactly what P held at any point before
 * the upset. Put back to an older checkpoint, the engine's undo logs already wrote P back.
 */
public final class UpsetHistory {
    /** One upset: where, which bits, when (instruction count and guest time), and the first checkpoint sharing it. */
    private record Upset(int paddr, int mask, long icount, long nanos, int firstSharing) {}

    private final Machine machine;
    private final List<Upset> upsets = new ArrayList<>();
    private CheckpointEngine engine;
    private boolean undoing;

    public UpsetHistory(Machine machine) {
        this.machine = machine;
        machine.memory.setUpsetListener(this::upset);
    }

    /** The engine whose checkpoints the machine is put back to (null: none yet, or checkpointing off). */
    public void follow(CheckpointEngine engine) {
        if (engine != this.engine) upsets.clear(); // a new engine: its checkpoints know nothing of the old
        this.engine = engine;
    }

    private void upset(int paddr, int mask) {
        if (engine == null || undoing) return; // nothing to go back to, or our own undo
        upsets.add(new Upset(paddr, mask, machine.cpu.icount(), machine.clock.toNanos(machine.clock.now()),
                engine.firstSharing(paddr >>> 12)));
    }

    /**
     * The machine was just put back to the point (icount, guest time) from checkpoint {@code baseId}
     * (the rollback's target, or the newest checkpoint if only pages of the current epoch were
     * rewritten): undoes every upset made after that point, and forgets them (the timeline forks).
     */
    public void putBack(long icount, long nanos, int baseId) {
        for (int i = upsets.size() - 1; i >= 0; i--) {
            Upset u = upsets.get(i);
            boolean after = u.icount() > icount || (u.icount() == icount && u.nanos() > nanos);
            if (!after) continue;
            if (baseId >= u.firstSharing()) {
                undoing = true;
                try {
                    machine.memory.upset(u.paddr(), u.mask());
                } finally {
                    undoing = false;
                }
            }
            upsets.remove(i);
        }
    }

    /** Upsets recorded and not undone. */
    public int size() {
        return upsets.size();
    }
}
