package io.mucheckpoint.recovery;

import io.mucheckpoint.vmm.Machine;

/**
 * A stuck-at fault while it holds: after each of the next {@code hold} instructions its bits are
 * set to their stuck value again (whatever the guest wrote there), then the fault is released and
 * the location behaves normally. A transient flip never holds.
 */
final class HeldFault {
    private final Fault fault;
    private long left;
    private long reapplied;

    HeldFault(Fault fault) {
        this.fault = fault;
        this.left = fault.stuck() ? fault.hold() : 0;
    }

    boolean holding() {
        return left > 0;
    }

    /** One more instruction ran: put the stuck bits back if it still holds. */
    void stepped(Machine m) {
        if (left == 0) return;
        if (FaultInjector.reapply(m, fault)) reapplied++;
        left--;
    }

    /** Times the guest had changed the stuck bits and they were set again. */
    long reapplied() {
        return reapplied;
    }
}
