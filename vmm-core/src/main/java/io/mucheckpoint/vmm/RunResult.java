package io.mucheckpoint.vmm;

/**
 * Why {@link Machine#run} returned.
 *
 * @param kind what happened
 * @param exitStatus the value the guest wrote to isa-debug-exit (for {@link Kind#EXIT})
 * @param message a one-line description for the user
 */
public record RunResult(Kind kind, int exitStatus, String message) {
    public enum Kind {
        /** The instruction or time limit of this call was reached; the guest can go on. */
        LIMIT,
        /** Another thread asked for a pause; the guest can go on. */
        PAUSED,
        /** The guest is halted with interrupts enabled and no timer armed: only host input can wake it. */
        IDLE,
        /** The guest wrote to isa-debug-exit. */
        EXIT,
        /** The processor shut down (triple fault). */
        TRIPLE_FAULT,
        /** The guest asked for a system reset. */
        RESET,
        /** The guest halted with interrupts disabled: nothing can ever wake it. */
        DEAD_HALT,
        /** An error was detected in the guest and could not be recovered. */
        GUEST_ERROR,
        /**
         * The processor reached a breakpoint ({@link io.mucheckpoint.cpu.Cpu#setBreakpoints}) and
         * stopped before executing the instruction there; the guest can go on.
         */
        BREAKPOINT
    }

    public boolean finished() {
        return kind == Kind.EXIT || kind == Kind.TRIPLE_FAULT || kind == Kind.RESET || kind == Kind.DEAD_HALT
                || kind == Kind.GUEST_ERROR;
    }
}
