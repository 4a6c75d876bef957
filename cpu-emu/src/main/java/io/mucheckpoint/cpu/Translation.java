package io.mucheckpoint.cpu;

/**
 * Blocks compiled to JVM bytecode by {@link Translator}: {@link #run} does what {@code Cpu.run}
 * does for the entry block and for each block of the region it then goes on to, with the same
 * count, EIP, flags and faults at every exit. An abstract class rather than an interface: a call through one abstract method of a
 * class is a plain virtual call, where an interface call pays an itable search (seen in a perf
 * profile of the first version as "itable stub" samples).
 */
abstract class Translation {
    /** Every block it holds, the entry block (the one it is entered at) first: a region of blocks that jump to each other. */
    final Block[] blocks;

    protected Translation(Block[] blocks) {
        this.blocks = blocks;
    }

    /** Runs from the entry block's first instruction to a region exit, an early stop, or a fault. */
    abstract void run(Cpu c);
}
