package io.mucheckpoint.cpu;

/**
 * A debugger's data watchpoints, on linear addresses (as x86 debug registers and QEMU's gdb stub
 * have them). The processor never caches a translation of a watched linear page in its TLB, so every
 * load and store there takes the slow path, where it reports the access; accesses to other pages
 * cost nothing.
 */
public interface DataWatch {
    /** Whether linear page {@code linearPage} (address >>> 12) holds a watched byte. */
    boolean watches(int linearPage);

    /**
     * A load ({@code write} false) or store of {@code size} bytes at linear {@code lin}, on a watched
     * page, by the instruction being executed. Called on the processor's thread, mid-instruction:
     * it may only record the access and ask the run to end after the instruction.
     */
    void accessed(int lin, int size, boolean write);
}
