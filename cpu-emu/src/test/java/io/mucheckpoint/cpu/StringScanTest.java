package io.mucheckpoint.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * REPE/REPNE SCAS and CMPS, judged against the architecture's definition written out here
 * element by element (SDM vol. 2, "REP/REPE/REPZ/REPNE/REPNZ"): each iteration compares one
 * element, steps ESI/EDI by the element size in the direction of DF, decrements ECX and retires
 * one instruction; the repetition ends when ECX reaches 0 or the comparison ends it; the flags are
 * those of the last comparison. Buffers cross pages, mismatches fall anywhere, and budget stops
 * cut repetitions in the middle, so both the processor's page-at-a-time scan and its
 * element-at-a-time path are exercised.
 */
class StringScanTest {
    private static final int SRC = 0x30000, DST = 0x50000;
    private static final int CF = 1, ZF = 0x40, SF = 0x80;

    /** One case: op (0xA6/0xA7 CMPS, 0xAE/0xAF SCAS), element size, prefix, DF, start offsets, count. */
    private record Case(boolean cmps, int size, boolean repe, boolean down, int srcOff, int dstOff, int count, int acc) {}

    @Test
    void repeatedScansAndComparesEndWhereTheDefinitionSays() {
        Random rnd = new Random(17);
        List<String> failures = new ArrayList<>();
        for (int i = 0; i < 3000 && failures.size() < 10; i++) {
            Case k = new Case(rnd.nextBoolean(), new int[] {1, 2, 4}[rnd.nextInt(3)], rnd.nextBoolean(), rnd.nextInt(4) == 0,
                    rnd.nextInt(0x2000), rnd.nextInt(0x2000), rnd.nextInt(8) == 0 ? rnd.nextInt(3) : rnd.nextInt(3000), rnd.nextInt(3) == 0 ? 0x5A5A5A5A : rnd.nextInt());
            long budget = rnd.nextInt(3) == 0 ? 1 + rnd.nextInt(2000) : 100_000;
            String f = runAndJudge(k, rnd.nextLong(), budget);
            if (f != null) failures.add("case " + i + " " + k + " budget " + budget + ": " + f);
        }
        assertEquals(List.of(), failures);
    }

    private static String runAndJudge(Case k, long fillSeed, long budget) {
        TestMachine m = new TestMachine(0x100000);
        Random fill = new Random(fillSeed);
        // Two equal regions (a CMPS keeps going), with a few differences sprinkled in; SCAS looks
        // for the accumulator's value, which appears now and then.
        int acc = k.acc & mask(k.size);
        for (int i = 0; i < 0x4000; i++) {
            int v = fill.nextInt(64) == 0 ? fill.nextInt(256) : 0x5A;
            m.mem.poke(SRC + i, v);
            m.mem.poke(DST + i, fill.nextInt(200) == 0 ? v ^ (1 << fill.nextInt(8)) : v);
        }
        for (int i = 0; i < 20; i++) {
            int at = DST + fill.nextInt(0x4000 - 4) & ~(k.size - 1);
            for (int b = 0; b < k.size; b++) m.mem.poke(at + b, acc >>> (8 * b));
        }
        int esi = SRC + (k.down ? 0x2000 + k.srcOff : k.srcOff);
        int edi = DST + (k.down ? 0x2000 + k.dstOff : k.dstOff);
        int step = k.down ? -k.size : k.size;

        // The definition, element by element.
        int ecx = k.count, iterations = 0, a = 0, b = 0;
        int xs = esi, xd = edi;
        while (ecx != 0 && iterations < budget) {
            b = peekN(m, xd, k.size);
            a = k.cmps ? peekN(m, xs, k.size) : acc;
            xd += step;
            if (k.cmps) xs += step;
            ecx--;
            iterations++;
            if ((a == b) != k.repe) break;
        }
        boolean finished = ecx == 0 || (a == b) != k.repe;

        m.cpu.setReg(Cpu.ESI, esi);
        m.cpu.setReg(Cpu.EDI, edi);
        m.cpu.setReg(Cpu.ECX, k.count);
        m.cpu.setReg(Cpu.EAX, k.acc);
        m.cpu.setEflags((m.cpu.eflags() & ~(0x400 | CF | ZF | SF)) | (k.down ? 0x400 : 0));
        int opcode = (k.cmps ? 0xA6 : 0xAE) + (k.size == 1 ? 0 : 1);
        int[] code = k.size == 2 ? new int[] {k.repe ? 0xF3 : 0xF2, 0x66, opcode} : new int[] {k.repe ? 0xF3 : 0xF2, opcode};
        m.load(TestMachine.CODE, code);
        m.mem.poke(TestMachine.CODE + code.length, 0xF4);
        m.cpu.setEip(TestMachine.CODE);
        m.cpu.halted = false;
        long before = m.cpu.icount();
        m.cpu.run(before + budget);
        long retired = m.cpu.icount() - before;

        StringBuilder f = new StringBuilder();
        long expectRetired = finished ? Math.max(iterations, 1) + 1 : iterations; // + the HLT when it got there
        if (retired != expectRetired) f.append(" retired ").append(retired).append(" want ").append(expectRetired);
        if (m.cpu.reg(Cpu.ECX) != ecx) f.append(" ecx ").append(m.cpu.reg(Cpu.ECX)).append(" want ").append(ecx);
        if (m.cpu.reg(Cpu.EDI) != xd) f.append(" edi ").append(Integer.toHexString(m.cpu.reg(Cpu.EDI))).append(" want ").append(Integer.toHexString(xd));
        if (m.cpu.reg(Cpu.ESI) != (k.cmps ? xs : esi)) f.append(" esi ").append(Integer.toHexString(m.cpu.reg(Cpu.ESI)));
        int wantEip = TestMachine.CODE + (finished ? code.length + 1 : 0);
        if (m.cpu.eip() != wantEip) f.append(" eip ").append(Integer.toHexString(m.cpu.eip())).append(" want ").append(Integer.toHexString(wantEip));
        if (iterations > 0) {
            int flags = m.cpu.eflags();
            int diff = (a - b) & mask(k.size);
            int want = ((a & 0xFFFFFFFFL & mask(k.size)) < (b & 0xFFFFFFFFL & mask(k.size)) ? CF : 0)
                    | (diff == 0 ? ZF : 0) | ((diff >>> (8 * k.size - 1)) != 0 ? SF : 0);
            if ((flags & (CF | ZF | SF)) != want) f.append(" flags ").append(Integer.toHexString(flags & (CF | ZF | SF))).append(" want ").append(Integer.toHexString(want));
        }
        return f.length() == 0 ? null : f.toString().trim();
    }

    private static int peekN(TestMachine m, int at, int size) {
        int v = 0;
        for (int i = 0; i < size; i++) v |= m.mem.peek(at + i) << (8 * i);
        return v;
    }

    private static int mask(int size) {
        return size == 4 ? -1 : (1 << (8 * size)) - 1;
    }
}
