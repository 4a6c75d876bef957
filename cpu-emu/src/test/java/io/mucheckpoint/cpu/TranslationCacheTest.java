package io.mucheckpoint.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The translation cache stays within its bound however much code a guest makes, and code that is
 * rewritten runs its new bytes: a guest that keeps generating code (a JIT, a loader) must not grow
 * the JVM without bound, nor run a stale translation.
 */
class TranslationCacheTest {
    private static final int BLOCKS = 500;
    private static final int ROUNDS = 8;
    private static final int AT = 0x100000;

    /**
     * Rounds of freshly written code, each BLOCKS blocks of {@code add eax, imm32; jmp next} ending
     * in HLT, every block translated on its first run: EAX must be the sum of this round's
     * immediates (computed here, not by the processor), the bytecode held never more than the bound,
     * and the translations of overwritten code are let go.
     */
    @Test
    void regeneratedCodeRunsItsNewBytesWithinTheBound() {
        TestMachine t = new TestMachine();
        t.cpu.setTranslationThreshold(1);
        long bound = 96 << 10;
        t.cpu.translations.maxBytes = bound;
        Random rnd = new Random(16);
        for (int round = 0; round < ROUNDS; round++) {
            int sum = 0;
            for (int k = 0; k < BLOCKS; k++) {
                int imm = rnd.nextInt();
                sum += imm;
                int at = AT + k * 10;
                t.mem.poke(at, 0x05); // add eax, imm32
                t.write32(at + 1, imm);
                t.mem.poke(at + 5, 0xE9); // jmp rel32 to the next block (or to the HLT after the last)
                t.write32(at + 6, 0);
            }
            t.mem.poke(AT + BLOCKS * 10, 0xF4);
            t.cpu.setReg(Cpu.EAX, 0);
            assertEquals(Cpu.Stop.HALTED, t.runAt(AT, 10_000_000), "round " + round);
            assertEquals(sum, t.cpu.reg(Cpu.EAX), "round " + round + ": the sum of this round's immediates");
            TranslationStats s = t.cpu.translationStats();
            assertTrue(s.liveBytes() <= bound, "round " + round + ": " + s.liveBytes() + " bytes held, bound " + bound);
        }
        TranslationStats s = t.cpu.translationStats();
        assertTrue(s.made() >= (long) BLOCKS * ROUNDS, "every block of every round was translated: " + s);
        assertTrue(s.evicted() > 0, "the bound was reached and enforced: " + s);
    }

    /**
     * --translate on: a block is translated after the base threshold plus one run per translation
     * held. Ten blocks, each a loop body run a set number of times: with k translations held, a
     * block that ran 200 + k times is translated, one that ran 199 + k times is not.
     */
    @Test
    void theDefaultThresholdRisesWithTheTranslationsHeld() {
        TestMachine t = new TestMachine();
        t.cpu.setTranslationOn();
        int base = TranslationCache.DEFAULT_THRESHOLD;
        for (int k = 0; k < 10; k++) {
            int at = AT + k * 0x100;
            int held = (k + 1) / 2; // blocks 0, 2, 4... were translated before block k runs
            int runs = k % 2 == 0 ? base + held : base + held - 1;
            // mov ecx, runs + 1; body: add eax, 1; dec ecx; jnz body; hlt. The first pass through the
            // body belongs to the block that starts at the mov; the body's own block runs after it.
            t.mem.poke(at, 0xB9);
            t.write32(at + 1, runs + 1);
            t.load(at + 5, 0x83, 0xC0, 0x01, 0x49, 0x75, 0xFA, 0xF4);
            assertEquals(Cpu.Stop.HALTED, t.runAt(at, 10_000_000), "block " + k);
            long made = t.cpu.translationStats().made();
            assertEquals(held + (k % 2 == 0 ? 1 : 0), made, "block " + k + " ran " + runs + " times with " + held + " translations held");
        }
    }

    /**
     * A guest that runs through megabytes of data decodes a new block at every step: the decoded
     * code stays within its bound (the cache is emptied when full) and the run is right. Here
     * 2,621,441 instructions of {@code add [eax], al} (bytes 00 00) with EAX = 0x101, so AL = 1,
     * then HLT: the byte at 0x101 ends as the count modulo 256, computed here.
     */
    @Test
    void decodedCodeStaysBoundedWhenTheGuestRunsThroughData() {
        TestMachine t = new TestMachine(8 << 20);
        int from = 0x100000, count = 2_621_441, hlt = from + 2 * count;
        t.mem.poke(hlt, 0xF4); // the rest is zeros: add [eax], al
        t.cpu.setReg(Cpu.EAX, 0x101); // AL = 1, and the byte it is added to is at 0x101
        assertEquals(Cpu.Stop.HALTED, t.runAt(from, 10_000_000));
        assertEquals(count & 0xFF, t.mem.peek(0x101), "the byte was added to once per instruction");
        assertTrue(t.cpu.codeCacheFlushes() > 0, "the cache filled up and was emptied");
        assertTrue(t.cpu.code.instructions() <= Cpu.CODE_CACHE_INSTRUCTIONS, t.cpu.code.instructions() + " decoded instructions held");
    }
}
