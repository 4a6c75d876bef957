package io.mucheckpoint.cli;

import io.mucheckpoint.checkpoint.CheckpointEngine;
import io.mucheckpoint.vmm.Machine;

/**
 * How many instructions the processor has executed since a start, re-execution after rollbacks
 * included: the instruction count goes back at a rollback, the work done does not. What a rate of
 * instructions per second divides.
 */
final class ExecutedInstructions {
    private final Machine machine;
    private final long start;
    private volatile long rolledBack;

    private ExecutedInstructions(Machine machine) {
        this.machine = machine;
        this.start = machine.cpu.icount();
    }

    /** Counts from where {@code machine} is now, listening to {@code engine}'s rollbacks. */
    static ExecutedInstructions of(Machine machine, CheckpointEngine engine) {
        ExecutedInstructions e = new ExecutedInstructions(machine);
        engine.addRollbackListener((target, fromIcount) -> e.rolledBack += fromIcount - target.icount());
        return e;
    }

    /** On the machine's thread, or after it stopped. */
    long count() {
        return machine.cpu.icount() - start + rolledBack;
    }
}
