package io.mucheckpoint.cpu;

/** Receives the processor state before each instruction while tracing is on (one call per instruction). */
@FunctionalInterface
public interface TraceSink {
    void beforeInstruction(Cpu cpu);
}
