package io.mucheckpoint.vmm.state;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The contract checker must catch the mistakes it exists for. */
class PersistentContractTest {
    /** A counter with a step; {@code forgetful} drops the step on restore, {@code cached} saves a cache. */
    static final class Counter implements Persistent<Counter.State> {
        record State(int value, int step, int[] history) {}

        final boolean forgetful;
        final boolean cached;
        int value;
        int step = 1;
        int reads;
        int[] history = new int[0];

        Counter(boolean forgetful, boolean cached) {
            this.forgetful = forgetful;
            this.cached = cached;
        }

        int next() {
            reads++;
            value += step;
            return value;
        }

        @Override
        public State save() {
            return new State(value, step, cached ? new int[] {reads} : history.clone());
        }

        @Override
        public void restore(State s) {
            value = s.value();
            if (!forgetful) step = s.step();
            history = s.history().clone();
        }
    }

    private static PersistentContract<Counter> contract(boolean forgetful, boolean cached) {
        return PersistentContract.of(() -> new Counter(forgetful, cached), c -> List.of(c))
                .prepare(c -> {
                    c.step = 3;
                    c.history = new int[] {1, 2};
                })
                .mutate(c -> c.step = 5)
                .observe(c -> List.of(c.next(), c.next()));
    }

    @Test
    void aCorrectComponentPasses() {
        contract(false, false).verify();
    }

    @Test
    void aRestoreThatDropsAFieldFails() {
        AssertionError e = assertThrows(AssertionError.class, () -> contract(true, false).verify());
        assertTrue(e.getMessage().contains("step="), e.getMessage());
    }

    @Test
    void aCacheInTheStateFails() {
        assertThrows(AssertionError.class, () -> contract(false, true).verify());
    }

    @Test
    void describeShowsArrayContents() {
        assertTrue(PersistentContract.describe(new Counter.State(1, 2, new int[] {7, 8})).contains("history=[7, 8]"));
    }
}
