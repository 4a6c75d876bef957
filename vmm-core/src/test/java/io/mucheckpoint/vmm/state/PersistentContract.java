package io.mucheckpoint.vmm.state;

import java.lang.reflect.Array;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The save/restore contract of {@link Persistent}, checked generically for any component or group of
 * components (a device with its clock, the CPU with its memory, a whole machine).
 *
 * <p>A <em>rig</em> {@code T} is built by a factory; {@code parts} lists the rig's persistent pieces
 * (everything the behaviour depends on, including a fake instruction counter if time matters).
 * {@code prepare} drives the rig into the state to snapshot; each {@code mutate} step disturbs it;
 * {@code observe} runs a probe (port reads, clock advances, interrupts seen...) and returns what the
 * guest could see, compared with {@link Objects#deepEquals}. {@link #verify()} checks that
 * <ul>
 *   <li>{@code save()} is repeatable and {@code restore(save())} changes nothing;</li>
 *   <li>every state survives {@link StateCodec} encoding exactly;</li>
 *   <li>after any mutation, restoring the snapshot gives an equal snapshot and the same observations
 *       as the unmutated original;</li>
 *   <li>a fresh rig restored from the encoded snapshot behaves the same (restore into a new machine).</li>
 * </ul>
 *
 * <pre>{@code
 * PersistentContract.of(Rig::new, r -> List.of(r.clock, r.pit))
 *         .prepare(r -> r.out(0x43, 0x34))
 *         .mutate(r -> r.out(0x40, 0x12))
 *         .observe(r -> r.readCounter0Twice())
 *         .verify();
 * }</pre>
 */
public final class PersistentContract<T> {
    private final Supplier<T> factory;
    private final Function<T, List<? extends Persistent<?>>> parts;
    private Consumer<T> prepare = t -> {};
    private final List<Consumer<T>> mutators = new ArrayList<>();
    private Function<T, ?> probe = t -> null;

    private PersistentContract(Supplier<T> factory, Function<T, List<? extends Persistent<?>>> parts) {
        this.factory = factory;
        this.parts = parts;
    }

    public static <T> PersistentContract<T> of(Supplier<T> factory, Function<T, List<? extends Persistent<?>>> parts) {
        return new PersistentContract<>(factory, parts);
    }

    public PersistentContract<T> prepare(Consumer<T> step) {
        this.prepare = step;
        return this;
    }

    /** Adds a disturbance; each one is checked separately from the same snapshot. */
    public PersistentContract<T> mutate(Consumer<T> step) {
        mutators.add(step);
        return this;
    }

    public PersistentContract<T> observe(Function<T, ?> probe) {
        this.probe = probe;
        return this;
    }

    public void verify() {
        T rig = factory.get();
        prepare.accept(rig);
        List<Record> snapshot = saveAll(rig);

        List<Record> again = saveAll(rig);
        assertSame("save() twice without anything in between", snapshot, again);
        for (Record r : snapshot) {
            Record decoded = StateCodec.decode(r.getClass(), StateCodec.encode(r));
            if (!StateCodec.equal(r, decoded)) {
                throw new AssertionError("state does not survive StateCodec:\n  " + describe(r) + "\n  " + describe(decoded));
            }
        }
        restoreAll(rig, snapshot);
        assertSame("restore(save()) changed the state", snapshot, saveAll(rig));

        Object expected = probe.apply(rig);

        restoreAll(rig, snapshot);
        assertSame("restore after observing", snapshot, saveAll(rig));
        Object replay = probe.apply(rig);
        assertObservations("restoring and running again", expected, replay);

        for (int i = 0; i < mutators.size(); i++) {
            restoreAll(rig, snapshot);
            mutators.get(i).accept(rig);
            restoreAll(rig, snapshot);
            assertSame("restore after mutation #" + i, snapshot, saveAll(rig));
            assertObservations("running after undoing mutation #" + i, expected, probe.apply(rig));
        }

        T fresh = factory.get();
        List<Record> decoded = new ArrayList<>();
        for (Record r : snapshot) decoded.add(StateCodec.decode(r.getClass(), StateCodec.encode(r)));
        restoreAll(fresh, decoded);
        assertSame("a fresh component restored from the encoded snapshot", snapshot, saveAll(fresh));
        assertObservations("a fresh component restored from the snapshot", expected, probe.apply(fresh));
    }

    private List<Record> saveAll(T rig) {
        List<Record> states = new ArrayList<>();
        for (Persistent<?> p : parts.apply(rig)) states.add(p.save());
        return states;
    }

    private void restoreAll(T rig, List<Record> states) {
        List<? extends Persistent<?>> ps = parts.apply(rig);
        if (ps.size() != states.size()) throw new AssertionError("the rig's parts changed in number");
        for (int i = 0; i < ps.size(); i++) restoreRaw(ps.get(i), states.get(i));
    }

    @SuppressWarnings("unchecked")
    private static <S extends Record> void restoreRaw(Persistent<S> p, Record state) {
        p.restore((S) state);
    }

    private static void assertSame(String what, List<Record> expected, List<Record> actual) {
        for (int i = 0; i < expected.size(); i++) {
            if (!StateCodec.equal(expected.get(i), actual.get(i))) {
                throw new AssertionError(what + ": part #" + i + " differs\n  expected " + describe(expected.get(i))
                        + "\n  actual   " + describe(actual.get(i)));
            }
        }
    }

    private static void assertObservations(String what, Object expected, Object actual) {
        if (!Objects.deepEquals(expected, actual)) {
            throw new AssertionError(what + ": observed behaviour differs\n  expected " + expected + "\n  actual   " + actual);
        }
    }

    /** A record rendered with its arrays' contents (records print arrays by identity). */
    public static String describe(Object value) {
        if (value == null) return "null";
        Class<?> c = value.getClass();
        if (c.isArray()) {
            StringBuilder b = new StringBuilder("[");
            for (int i = 0; i < Array.getLength(value); i++) {
                if (i > 0) b.append(", ");
                b.append(describe(Array.get(value, i)));
            }
            return b.append(']').toString();
        }
        if (value instanceof List<?> list) {
            List<String> items = new ArrayList<>();
            for (Object o : list) items.add(describe(o));
            return items.toString();
        }
        if (c.isRecord()) {
            StringBuilder b = new StringBuilder(c.getSimpleName()).append('(');
            RecordComponent[] rcs = c.getRecordComponents();
            for (int i = 0; i < rcs.length; i++) {
                if (i > 0) b.append(", ");
                try {
                    rcs[i].getAccessor().setAccessible(true);
                    b.append(rcs[i].getName()).append('=').append(describe(rcs[i].getAccessor().invoke(value)));
                } catch (IllegalAccessException | InvocationTargetException e) {
                    b.append(rcs[i].getName()).append("=?");
                }
            }
            return b.append(')').toString();
        }
        return String.valueOf(value);
    }
}
