package io.mucheckpoint.cpu;

import java.util.Arrays;
import java.util.function.Consumer;

/**
 * Blocks by a long key (CodeCache's physical address and code size), in open addressing with
 * linear probing and deletion by backward shift: no boxed key and no entry object per block.
 *
 * <p>A HashMap&lt;Long, Block&gt; cost two objects per decoded block that every young collection
 * copied while the guest waited (188,000 boxed keys in an xz run under Linux, in a class
 * histogram), and its lookup showed in profiles of the Linux boot as Long.equals.
 */
final class BlockMap {
    private long[] keys;
    private Block[] vals;
    private int mask;
    private int size;

    BlockMap() {
        allocate(1024);
    }

    private void allocate(int capacity) {
        keys = new long[capacity];
        vals = new Block[capacity];
        mask = capacity - 1;
    }

    private int home(long key) {
        return (int) ((key * 0x9E3779B97F4A7C15L) >>> 32) & mask;
    }

    Block get(long key) {
        for (int i = home(key); ; i = (i + 1) & mask) {
            Block v = vals[i];
            if (v == null) return null;
            if (keys[i] == key) return v;
        }
    }

    /** Maps {@code key} to {@code b}; returns the block it mapped to before, or null. */
    Block put(long key, Block b) {
        if (b == null) throw new IllegalArgumentException("null block");
        int i = home(key);
        for (; vals[i] != null; i = (i + 1) & mask) {
            if (keys[i] == key) {
                Block old = vals[i];
                vals[i] = b;
                return old;
            }
        }
        keys[i] = key;
        vals[i] = b;
        if (++size * 4 > vals.length * 3) grow();
        return null;
    }

    /** Removes {@code key}; returns the block it mapped to, or null. */
    Block remove(long key) {
        int i = home(key);
        while (true) {
            if (vals[i] == null) return null;
            if (keys[i] == key) break;
            i = (i + 1) & mask;
        }
        Block old = vals[i];
        // Backward shift: move up every later entry of the run whose home is not between the hole
        // and itself, so that no probe sequence meets an empty slot before its key.
        for (int j = (i + 1) & mask; vals[j] != null; j = (j + 1) & mask) {
            int k = home(keys[j]);
            boolean between = i <= j ? i < k && k <= j : i < k || k <= j;
            if (!between) {
                keys[i] = keys[j];
                vals[i] = vals[j];
                i = j;
            }
        }
        vals[i] = null;
        size--;
        return old;
    }

    private void grow() {
        long[] k = keys;
        Block[] v = vals;
        allocate(v.length * 2);
        for (int i = 0; i < v.length; i++) {
            if (v[i] == null) continue;
            int j = home(k[i]);
            while (vals[j] != null) j = (j + 1) & mask;
            keys[j] = k[i];
            vals[j] = v[i];
        }
    }

    void forEach(Consumer<Block> action) {
        for (Block b : vals) if (b != null) action.accept(b);
    }

    void clear() {
        Arrays.fill(vals, null);
        size = 0;
    }

    int size() {
        return size;
    }
}
