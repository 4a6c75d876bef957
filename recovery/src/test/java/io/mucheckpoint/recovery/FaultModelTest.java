package io.mucheckpoint.recovery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mucheckpoint.vmm.GuestImage;
import io.mucheckpoint.vmm.Machine;
import io.mucheckpoint.vmm.MachineConfig;
import io.mucheckpoint.vmm.RunResult;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The fault models beyond general registers and RAM (issue 17): x87 registers, control registers,
 * and stuck-at faults held for N instructions. Each test runs a few instructions of hand-assembled
 * code whose effect is known from the architecture, not from a run of our own.
 */
class FaultModelTest {
    private static final MachineConfig CONFIG = MachineConfig.defaults().withRam(4L << 20);
    /** cli; fninit; fld1; fstp qword [0x200000]; jmp $ */
    private static final byte[] X87 = {(byte) 0xFA, (byte) 0xDB, (byte) 0xE3, (byte) 0xD9, (byte) 0xE8,
            (byte) 0xDD, 0x1D, 0x00, 0x00, 0x20, 0x00, (byte) 0xEB, (byte) 0xFE};
    /** loop: mov eax, 0xFFFFFFFF; jmp loop */
    private static final byte[] SET_EAX = {(byte) 0xB8, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xEB, (byte) 0xF9};

    private static Machine machine(byte[] code) throws Exception {
        return new Machine(CONFIG, new GuestImage.Flat("code", code, 0x100000), b -> {}, b -> {});
    }

    private static void step(Machine m, long n) {
        RunResult r = m.run(Long.MAX_VALUE, m.cpu.icount() + n);
        assertFalse(r.finished(), r.message());
    }

    /** Runs the x87 code with {@code fault} injected after FLD1 (ST(0) = 1.0, physical register 7); the double FSTP stored. */
    private static double x87With(Fault fault) throws Exception {
        Machine m = machine(X87);
        step(m, 3);
        if (fault != null) FaultInjector.inject(m, fault);
        step(m, 1);
        long lo = m.memory.read(0x200000, 4) & 0xFFFFFFFFL, hi = m.memory.read(0x200004, 4) & 0xFFFFFFFFL;
        return Double.longBitsToDouble(hi << 32 | lo);
    }

    @Test
    void x87RegisterFlipsChangeTheValueAsTheFormatSays() throws Exception {
        assertEquals(1.0, x87With(null));
        // 1.0 is significand 0x8000000000000000, exponent 0x3FFF: bit 62 of the significand adds one half,
        assertEquals(1.5, x87With(new Fault(Fault.Target.X87, 7, 1L << 62, -1)));
        // and bit 0 of the exponent halves it; the flip hits the physical register ST(0) lives in (TOP = 7).
        assertEquals(0.5, x87With(new Fault(Fault.Target.X87, 8 + 7, 1, -1)));
        assertEquals(1.0, x87With(new Fault(Fault.Target.X87, 3, 1L << 62, -1)), "an empty register's flip is not seen");
        assertEquals("fpr7.exp", Fault.parse("fpr7.exp", null, 0).location());
    }

    @Test
    void aFlipOfCr0TsMakesTheNextX87InstructionFault() throws Exception {
        Machine m = machine(X87);
        step(m, 2); // cli; fninit
        FaultInjector.Injected in = FaultInjector.inject(m, new Fault(Fault.Target.CR, 0, 1 << 3, -1));
        assertEquals(in.before() | 8, in.after());
        // FLD1 with CR0.TS set raises #NM; with no IDT that escalates to a triple fault.
        RunResult r = m.run(Long.MAX_VALUE, m.cpu.icount() + 10);
        assertEquals(RunResult.Kind.TRIPLE_FAULT, r.kind(), r.message());
        assertEquals(2, m.cpu.icount(), "FLD1 did not retire");
    }

    @Test
    void aFlipOfCr3WithoutPagingChangesNothingTheGuestSees() throws Exception {
        Machine m = machine(X87);
        step(m, 1);
        FaultInjector.Injected in = FaultInjector.inject(m, new Fault(Fault.Target.CR, 3, 1 << 20, -1));
        assertEquals(in.before() ^ (1 << 20), m.cpu.cr3());
        step(m, 3);
        long lo = m.memory.read(0x200000, 4) & 0xFFFFFFFFL, hi = m.memory.read(0x200004, 4) & 0xFFFFFFFFL;
        assertEquals(1.0, Double.longBitsToDouble(hi << 32 | lo), "paging is off: CR3 is never read");
    }

    @Test
    void aStuckAtBitIsReappliedForNInstructionsThenReleased() throws Exception {
        Machine m = machine(SET_EAX);
        step(m, 1); // EAX = 0xFFFFFFFF
        Fault f = new Fault(Fault.Target.REG, 0, 1 << 4, -1, Fault.Kind.STUCK_AT_0, 100);
        FaultInjector.inject(m, f);
        assertEquals(0xFFFFFFEF, m.cpu.reg(0));
        HeldFault held = new HeldFault(f);
        Set<Integer> seen = new HashSet<>();
        int movs = 0;
        for (int i = 0; i < 100; i++) {
            assertTrue(held.holding(), "still held after " + i + " instructions");
            boolean mov = m.cpu.eip() == 0x100000;
            step(m, 1);
            if (mov) movs++;
            held.stepped(m);
            seen.add(m.cpu.reg(0));
        }
        assertEquals(Set.of(0xFFFFFFEF), seen, "after every instruction of the hold the bit is 0 again");
        assertEquals(movs, held.reapplied(), "each MOV set the bit, and the hold cleared it again");
        assertFalse(held.holding(), "released after 100 instructions");
        step(m, 2); // the next MOV sets the bit and nothing clears it
        assertEquals(0xFFFFFFFF, m.cpu.reg(0));
        held.stepped(m);
        assertEquals(0xFFFFFFFF, m.cpu.reg(0));
    }

    @Test
    void aStuckAtMemoryBitIsARawUpsetEachTime() throws Exception {
        Machine m = machine(SET_EAX);
        m.memory.drainDirty(new long[(m.memory.pageCount() + 63) >>> 6]); // the loader's writes
        Fault f = new Fault(Fault.Target.MEM, 0x100001, 0x01, -1, Fault.Kind.STUCK_AT_0, 10);
        FaultInjector.inject(m, f); // the MOV's immediate byte 0xFF becomes 0xFE
        assertTrue(m.memory.upsetPage(0x100), "recorded as an upset");
        assertFalse(m.memory.isDirty(0x100), "no write");
        step(m, 1);
        assertEquals(0xFFFFFFFE, m.cpu.reg(0), "decoded code follows the upset byte");
    }

    @Test
    void aRawUpsetOfTranslatedCodeIsSeenAtOnce() throws Exception {
        // The loop runs long enough to be translated (design brief, invariant 8); the upset must drop the translation.
        Machine m = machine(SET_EAX);
        step(m, 200_000);
        assertEquals(0xFFFFFFFF, m.cpu.reg(0));
        FaultInjector.inject(m, new Fault(Fault.Target.MEM, 0x100001, 0x01, -1));
        step(m, m.cpu.eip() == 0x100000 ? 1 : 2); // the next MOV
        assertEquals(0xFFFFFFFE, m.cpu.reg(0), "the MOV's immediate byte lost bit 0");
    }

    @Test
    void thePlanDrawsTheNewTargetsAndStuckAtFaults() {
        FaultPlan p = new FaultPlan(1, "x87,cr", 1, 1_000_000, new int[] {256}, "raw", 50);
        Set<Fault.Target> targets = new HashSet<>();
        for (int i = 0; i < 200; i++) {
            Fault f = p.fault(i);
            targets.add(f.target());
            assertTrue(f.stuck() && f.hold() == 50, f.toString());
            if (f.target() == Fault.Target.CR) {
                assertTrue(Set.of(0L, 3L, 4L).contains(f.index()), f.toString());
                // only bits an i686 defines (Intel SDM vol. 3, 2.5): CR0 0xE005003F, CR3 0xFFFFF018, CR4 0x7FF
                long defined = f.index() == 0 ? 0xE005003FL : f.index() == 3 ? 0xFFFFF018L : 0x7FFL;
                assertEquals(0, f.mask() & ~defined, f.toString());
            }
        }
        assertEquals(Set.of(Fault.Target.X87, Fault.Target.CR), targets);
        FaultPlan door = new FaultPlan(1, "mem", 1, 1_000_000, new int[] {256}, "door", 0);
        assertEquals(Fault.Target.MEM_DOOR, door.fault(0).target());
        assertEquals(Fault.Target.MEM, new FaultPlan(1, "mem", 1, 1_000_000, new int[] {256}).fault(0).target(), "raw by default");
    }

    @Test
    void aGoldenRunRestoredFromASnapshotIsInjectedAfterItsStartOnly() {
        // A run restored at instruction 5,000,000 never passes the instructions before it: a fault
        // drawn there would never strike (every injection "not activated").
        FaultPlan p = new FaultPlan(3, "reg,mem", 1, 6_000_000, new int[] {256}, "raw", 0, 5_000_000);
        for (int i = 0; i < 500; i++) {
            long at = p.fault(i).icount();
            assertTrue(at > 5_000_000 && at < 6_000_000, "injection " + i + " at " + at);
        }
    }
}
