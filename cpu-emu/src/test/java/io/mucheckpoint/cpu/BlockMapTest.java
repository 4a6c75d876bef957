package io.mucheckpoint.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

/** BlockMap against java.util.HashMap, the oracle, over random puts, gets and removes. */
class BlockMapTest {
    private static Block block(int phys) {
        return new Block(phys, true, new Insn[0], 0, false, phys >>> 12, phys >>> 12, phys, 0);
    }

    /**
     * Keys from a small range so that puts replace, removes hit and runs of collisions form and
     * wrap around the table's end; the table grows through several sizes and shrinks by removal.
     */
    @Test
    void agreesWithHashMapOverRandomOperations() {
        for (int range : new int[] {50, 3000, 100_000}) {
            SplittableRandom rnd = new SplittableRandom(range);
            BlockMap map = new BlockMap();
            Map<Long, Block> oracle = new HashMap<>();
            for (int op = 0; op < 400_000; op++) {
                long key = ((long) rnd.nextInt(range) << 1) | rnd.nextInt(2);
                int what = rnd.nextInt(10);
                if (what < 4) {
                    Block b = block((int) (key >>> 1));
                    assertSame(oracle.put(key, b), map.put(key, b), "put " + key);
                } else if (what < 7) {
                    assertSame(oracle.remove(key), map.remove(key), "remove " + key);
                } else {
                    assertSame(oracle.get(key), map.get(key), "get " + key);
                }
                assertEquals(oracle.size(), map.size());
            }
            for (Map.Entry<Long, Block> e : oracle.entrySet()) assertSame(e.getValue(), map.get(e.getKey()));
            Map<Block, Boolean> seen = new IdentityHashMap<>();
            map.forEach(b -> seen.put(b, true));
            assertEquals(oracle.size(), seen.size());
            for (Block b : oracle.values()) assertEquals(Boolean.TRUE, seen.get(b));
            map.clear();
            assertEquals(0, map.size());
            for (long key : oracle.keySet()) assertSame(null, map.get(key));
        }
    }
}
