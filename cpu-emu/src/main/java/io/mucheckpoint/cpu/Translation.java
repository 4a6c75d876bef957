package io.mucheckpoint.cpu;

/**
 * A block compiled to JVM bytecode by {@link Translator}: {@link #run} does what
 * {@code Cpu.execBlock} does for the whole block, with the same count, EIP, flags and faults at
 * every exit. An abstract class rather than an interface: a call through one abstract method of a
 * class is a plain virtual call, where an interface call pays an itable search (seen in a perf
 * profile of the first version as "itable stub" samples).
 */
abstract class Translation {
    final Block block;
    final Insn[] ins;

    protected Translation(Block block) {
        this.block = block;
        this.ins = block.insns;
    }

    /** Runs the block from its first instruction to its end, an early stop, or a fault. */
    abstract void run(Cpu c);
}
