package io.mucheckpoint.recovery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mucheckpoint.cpu.CpuState;
import io.mucheckpoint.cpu.StateLocation;
import io.mucheckpoint.vmm.Machine;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link io.mucheckpoint.cpu.Cpu#differsFrom} against the comparison of two saves it replaces
 * ({@link LockstepEquivalenceTest.Reference#differsElsewhere}), on processor states the guest never
 * reaches by itself: any field of a save changed (compared or not), the fault's own location flipped,
 * x87 registers filled with valid, zero, special and empty values, so that a flip left out of the
 * comparison can still change its register's tag.
 */
class ProcessorComparisonTest {
    @Test
    void agreesWithTheComparisonOfTwoSaves() throws Exception {
        Machine m = new Machine(FaultlabTest.CONFIG, FaultlabTest.image(0), b -> {}, b -> {});
        m.run(Long.MAX_VALUE, FaultlabTest.icountAt(0, FaultlabTest.DEAD_HERE)); // in protected mode, past the set-up
        Machine a = ActivationTracker.goldenCopy(m), b = ActivationTracker.goldenCopy(m);
        int differ = 0, same = 0;
        for (int t = 0; t < 20_000; t++) {
            Random r = new Random(t);
            Fault f = new FaultPlan(t, "reg,x87,cr", 1 + r.nextInt(3), 1000, new int[] {0}).fault(t);
            CpuState base = m.cpu.save();
            if (r.nextBoolean()) base = with(base, "fpu", fpuInUse(base.fpu(), r));
            a.cpu.restore(base);
            CpuState changed = base;
            for (int k = r.nextInt(3); k > 0; k--) changed = (CpuState) mutate(changed, r);
            b.cpu.restore(changed);
            if (r.nextInt(3) > 0) FaultInjector.inject(b, f);
            StateLocation except = ActivationTracker.location(f);
            boolean want = LockstepEquivalenceTest.Reference.differsElsewhere(b.cpu.save(), a.cpu.save(), f);
            String what = "trial " + t + ": " + f;
            assertEquals(want, b.cpu.differsFrom(a.cpu, except), what);
            assertEquals(want, a.cpu.differsFrom(b.cpu, except), what);
            if (want) differ++;
            else same++;
        }
        // both answers must be common, or the trials test little
        assertTrue(differ > 2000 && same > 2000, differ + " differ, " + same + " same");
    }

    /** An x87 unit in use: each register valid, zero, special or empty, with any bits. */
    private static CpuState.FpuState fpuInUse(CpuState.FpuState s, Random r) {
        byte[] regs = new byte[80];
        r.nextBytes(regs);
        int tag = r.nextInt(1 << 16);
        for (int i = 0; i < 8; i++) {
            switch (r.nextInt(4)) {
                case 0 -> java.util.Arrays.fill(regs, i * 10, i * 10 + 10, (byte) 0); // +0
                case 1 -> regs[i * 10 + 7] |= (byte) 0x80; // integer bit: normal unless the exponent is 0 or all ones
                case 2 -> regs[i * 10 + 8] = regs[i * 10 + 9] = (byte) 0xFF; // exponent all ones: NaN or infinity
                default -> { }
            }
        }
        return new CpuState.FpuState(r.nextInt(1 << 16), r.nextInt(1 << 16), tag, regs, s.fip(), s.fcs(), s.fdp(), s.fds(),
                r.nextInt(1 << 11));
    }

    /** {@code v} with one bit, flag, element or field changed somewhere in it. */
    private static Object mutate(Object v, Random r) throws Exception {
        if (v instanceof Integer i) return i ^ (1 << r.nextInt(32));
        if (v instanceof Long l) return l ^ (1L << r.nextInt(64));
        if (v instanceof Boolean z) return !z;
        if (v instanceof int[] a) {
            int[] c = a.clone();
            c[r.nextInt(c.length)] ^= 1 << r.nextInt(32);
            return c;
        }
        if (v instanceof long[] a) {
            long[] c = a.clone();
            if (c.length > 0) c[r.nextInt(c.length)] ^= 1L << r.nextInt(64);
            return c;
        }
        if (v instanceof byte[] a) {
            byte[] c = a.clone();
            c[r.nextInt(c.length)] ^= (byte) (1 << r.nextInt(8));
            return c;
        }
        if (v instanceof List<?> list) {
            List<Object> c = new ArrayList<>(list);
            int i = r.nextInt(c.size());
            c.set(i, mutate(c.get(i), r));
            return List.copyOf(c);
        }
        Record rec = (Record) v;
        RecordComponent[] parts = rec.getClass().getRecordComponents();
        RecordComponent p = parts[r.nextInt(parts.length)];
        return with(rec, p.getName(), mutate(p.getAccessor().invoke(rec), r));
    }

    /** A copy of record {@code rec} with component {@code name} set to {@code value}. */
    @SuppressWarnings("unchecked")
    private static <R extends Record> R with(R rec, String name, Object value) throws Exception {
        RecordComponent[] parts = rec.getClass().getRecordComponents();
        Object[] args = new Object[parts.length];
        Class<?>[] types = new Class<?>[parts.length];
        for (int i = 0; i < parts.length; i++) {
            types[i] = parts[i].getType();
            args[i] = parts[i].getName().equals(name) ? value : parts[i].getAccessor().invoke(rec);
        }
        return (R) rec.getClass().getDeclaredConstructor(types).newInstance(args);
    }
}
