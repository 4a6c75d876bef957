package io.mucheckpoint.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The translator's 32-bit SHL, SHR and SAR give what the general shift gives (which
 * Oracle32Test judges against the host processor): the result and every flag, for every count
 * from 1 to 31 and values with and without the sign bit.
 */
class Shift32Test {
    @Test
    void theFastShiftsAgreeWithTheGeneralOne() {
        Cpu general = new TestMachine().cpu, fast = new TestMachine().cpu;
        Random rnd = new Random(32);
        for (int i = 0; i < 20_000; i++) {
            int v = switch (i % 4) {
                case 0 -> rnd.nextInt();
                case 1 -> rnd.nextInt() | 0x80000000;
                case 2 -> 1 << rnd.nextInt(32);
                default -> ~(1 << rnd.nextInt(32));
            };
            int count = 1 + (i % 31);
            int flags = rnd.nextInt() & 0x8D5; // CF PF AF ZF SF OF as they were before
            for (int kind : new int[] {4, 5, 6, 7}) {
                general.setEflags((general.eflags() & ~0x8D5) | flags);
                fast.setEflags((fast.eflags() & ~0x8D5) | flags);
                int want = Arith.shift(general, kind, v, count, 4);
                int got = kind == 5 ? Arith.shr32(fast, v, count) : kind == 7 ? Arith.sar32(fast, v, count) : Arith.shl32(fast, v, count);
                String what = "kind " + kind + " of " + Integer.toHexString(v) + " by " + count;
                assertEquals(want, got, what);
                assertEquals(general.eflags() & 0x8D5, fast.eflags() & 0x8D5, what + ": flags");
            }
        }
    }
}
