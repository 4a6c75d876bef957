package io.mucheckpoint.cpu;

/**
 * The processor's door to physical memory (design brief, invariant 3).
 *
 * <p>Guest RAM (and ROM) live in one {@link #backing()} array that the CPU's software TLB indexes
 * directly. A page is reachable through the fast path only after the memory system has said so:
 * {@link #readBase} for loads and {@link #writeBase} for stores. {@code writeBase} is where the
 * memory system does everything a first write must do (copy-on-write capture, the dirty bit,
 * decoded-code invalidation); until it revokes the permission through
 * {@link MemoryClient#revokeWrites()}, the CPU stores straight into the array.
 */
public interface PhysicalMemory {
    /** The array holding every directly addressable page. */
    byte[] backing();

    /** Offset in {@link #backing()} of physical page {@code page} for reads, or -1 for the slow path. */
    int readBase(int page);

    /**
     * Prepares direct writes to physical page {@code page}: performs any capture the first write in
     * this epoch needs and marks the page dirty. Returns the page's offset in {@link #backing()}, or -1
     * if every write to it must take {@link #write} (ROM, MMIO, unmapped, watched code).
     */
    int writeBase(int page);

    /** Slow-path load of 1, 2 or 4 bytes (little-endian); unmapped addresses read all ones. */
    int read(int paddr, int size);

    /** Slow-path store of 1, 2 or 4 bytes; the one door every write goes through. */
    void write(int paddr, int size, int value);

    /** Starts or stops reporting writes to {@code page} through {@link MemoryClient#codeModified}. */
    void watchCode(int page, boolean watch);

    /** Connects the processor, which must hear about revoked write permissions and modified code. */
    void attach(MemoryClient client);
}
