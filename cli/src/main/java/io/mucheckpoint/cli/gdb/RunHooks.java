package io.mucheckpoint.cli.gdb;

/**
 * What a debugger attached to a running guest adds to its runs. The session that runs the guest
 * calls these on its guest thread, between run slices.
 */
public interface RunHooks {
    /** Linear addresses the debugger stops before, besides the session's own breakpoints. */
    int[] breakpoints();

    /** The instruction count by which the slice starting at {@code icount} must end (a snapshot is due there), or Long.MAX_VALUE. */
    long sliceEnd(long icount);

    /** After each slice: why the run must stop here (a watchpoint was hit), or null. Not consumed by asking. */
    String stopReason();

    /** The guest is about to run or step on behalf of anyone: a stop reason already reported is dropped. */
    void resuming();

    /** The guest is behind the newest point it has reached (a debugger took it back): live host input waits. */
    boolean holdLiveInput();

    /** A slice of a forward run has just ended (the debugger may take a snapshot here). */
    void sliceEnded();
}
