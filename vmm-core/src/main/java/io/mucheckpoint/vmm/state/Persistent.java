package io.mucheckpoint.vmm.state;

/**
 * The one save/restore contract of every machine component (the CPU, each device, the clock).
 *
 * <p>The state is a plain record: no caches, no lazily computed values, nothing that depends on how
 * the component got there, so that two components that behave the same give equal states
 * ({@link StateCodec#equal}). {@code restore(save())} is a no-op; {@code restore(s)} followed by
 * {@code save()} gives back {@code s}.
 */
public interface Persistent<S extends Record> {
    S save();

    void restore(S state);
}
