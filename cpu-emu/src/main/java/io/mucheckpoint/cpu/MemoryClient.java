package io.mucheckpoint.cpu;

/** What the memory system tells the processor holding a TLB over it. */
public interface MemoryClient {
    /** Every direct write permission granted by {@link PhysicalMemory#writeBase} is void (O(1) for the caller). */
    void revokeWrites();

    /** Bytes {@code [paddr, paddr+len)} of a watched page were written: decoded code there is stale. */
    void codeModified(int paddr, int len);

    /** All of guest memory may have changed (a rollback or a restore): drop every cached translation and decode. */
    void memoryReplaced();

    /**
     * The direct access granted to some pages by {@link PhysicalMemory#readBase} or
     * {@link PhysicalMemory#writeBase} is withdrawn (their accesses are now to be heard one by one):
     * drop cached TLB entries. Decoded code stays valid.
     */
    void accessPathsChanged();
}
