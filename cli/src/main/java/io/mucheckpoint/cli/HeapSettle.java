package io.mucheckpoint.cli;

/**
 * One collection before the guest's first instruction, so that the first one during the run does
 * not have to move the machine. The guest's RAM (64 MiB by default, 256 MiB for Linux) and the
 * decoded ROM are allocated while the machine is built; with the parallel collector
 * (jvm.options) an array that fits in the young generation is allocated there, and the first young
 * collection copies it, with the guest stopped: measured on `vmm run mcf --stats` (2 cores, idle),
 * a 37-40 ms collection inside the fourth checkpoint's pause, the longest pause of the run (the
 * boundary is where a run allocates, so that is where the collection falls). Collected here
 * (20-40 ms, before the guest starts), the RAM is in the old generation and later young
 * collections only copy what the run itself made; three runs each of compress and mcf then had no
 * collection at all and a longest pause of 2.2-3.8 ms.
 *
 * <p>Only the vmm process itself does this ({@link Main#main} enables it): callers that run many
 * commands in one JVM (the tests) would pay a full collection of their whole heap per command, and
 * nobody watches their pauses.
 */
final class HeapSettle {
    private static volatile boolean enabled;

    private HeapSettle() {}

    static void enable() {
        enabled = true;
    }

    /** Runs a full collection now, if enabled; call it after the machine is built and before the guest runs. */
    static void beforeGuestStarts() {
        if (enabled) System.gc();
    }
}
