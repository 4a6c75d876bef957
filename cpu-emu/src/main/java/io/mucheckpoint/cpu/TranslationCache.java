package io.mucheckpoint.cpu;

import java.util.ArrayDeque;

/**
 * The live translations, held in bounds. A translation belongs to its block (it dies with the
 * block when code is modified or the code cache is cleared); this class only counts them and, when
 * their bytecode passes {@link #maxBytes}, drops the oldest, whose blocks then start counting
 * towards the threshold again. The bound keeps a guest that keeps generating code (a JIT, a
 * decompressor) from growing the JVM's class space for ever.
 */
final class TranslationCache {
    /** Default executions before a block is translated: past the one-shot start-up code. */
    static final int DEFAULT_THRESHOLD = 200;
    /** Bytecode held before the oldest translations are dropped (hidden classes cost a few times this in metaspace). */
    static final long MAX_BYTES = 24L << 20;
    /** The bound in force ({@link #MAX_BYTES}; tests lower it). */
    long maxBytes = MAX_BYTES;

    int threshold = initialThreshold();
    /**
     * Whether the threshold rises with the translations held ("on"): a block must run {@link
     * #threshold} times plus once for every live translation. A new translation first runs in
     * HotSpot's bytecode interpreter and costs two compilations, so it pays only for code that keeps
     * running; a guest with a few hundred hot blocks (the bundled workloads) is translated almost as
     * at the base threshold, while a kernel boot's thousands of lukewarm blocks stay interpreted.
     * Linux to `uname -a`, wall: 16.6 s at a fixed 200, 14.3 at 1000, 13.3 at 3000, 12.9 at 10000;
     * compress, churn, astar and gametree at size=bench lost 5-12 % at a fixed 3000 against 200.
     * Counted in executions and translations, so when a block is translated still depends on the
     * guest's path only.
     */
    boolean rising = "on".equals(System.getProperty("vmm.translate", "on"));
    /** The executions a block needs now: the threshold, risen by the live translations when {@link #rising}. */
    int due = threshold;
    /**
     * Most blocks one translation chains (its entry block and the blocks it reaches by forward
     * jumps on the same page): 1 by default, because on the bundled workloads regions cost more in
     * HotSpot compile time than they save in returns to Cpu.run (docs/speed.md); -Dvmm.translate.region=N.
     */
    int regionBlocks = Integer.getInteger("vmm.translate.region", 1);
    private final ArrayDeque<Block> live = new ArrayDeque<>();
    private long liveBytes;
    private long made, evicted, declined, nanos;

    /** -Dvmm.translate=off|on|all|N: the default for processors made in this JVM. */
    private static int initialThreshold() {
        String v = System.getProperty("vmm.translate", "on");
        switch (v) {
            case "off": return -1;
            case "on": return DEFAULT_THRESHOLD;
            case "all": return 1;
            default:
                try {
                    int n = Integer.parseInt(v);
                    return n <= 0 ? -1 : n;
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("vmm.translate must be off, on, all or a count: " + v);
                }
        }
    }

    void setThreshold(int executions) {
        threshold = executions <= 0 ? -1 : executions;
        rising = false;
        if (threshold < 0) clear();
        retune();
    }

    /** {@code on}: the default threshold, rising with the translations held. */
    void setRisingThreshold() {
        threshold = DEFAULT_THRESHOLD;
        rising = true;
        retune();
    }

    private void retune() {
        due = threshold > 0 && rising ? threshold + live.size() : threshold;
    }

    /** Translates {@code b} (null if the translator declines it; it is then never asked again). */
    Translation translate(Block b, CodeCache code) {
        long t0 = System.nanoTime();
        Translator.Result r = Translator.translate(b, code, regionBlocks);
        nanos += System.nanoTime() - t0;
        if (r == null) {
            declined++;
            b.executions = Integer.MIN_VALUE; // interpreted for good: not worth asking again
            return null;
        }
        made++;
        b.translation = r.translation();
        b.translationBytes = r.bytes();
        live.addLast(b);
        liveBytes += r.bytes();
        if (liveBytes > maxBytes) pruneDead();
        while (liveBytes > maxBytes && !live.isEmpty()) drop(live.removeFirst(), true);
        retune();
        return r.translation();
    }

    private void drop(Block b, boolean eviction) {
        liveBytes -= b.translationBytes;
        if (b.valid && eviction) evicted++;
        b.translation = null;
        b.translationBytes = 0;
        b.executions = 0;
    }

    void clear() {
        while (!live.isEmpty()) drop(live.removeFirst(), false);
        retune();
    }

    /** Forgets translations of blocks the code cache has voided, so their bytes stop counting. */
    private void pruneDead() {
        live.removeIf(b -> {
            if (b.valid) return false;
            liveBytes -= b.translationBytes;
            b.translation = null;
            return true;
        });
        retune();
    }

    TranslationStats stats(long translatedInstructions) {
        pruneDead();
        return new TranslationStats(threshold > 0, threshold, rising ? due : threshold, made, evicted, declined, liveBytes, nanos,
                translatedInstructions);
    }
}
