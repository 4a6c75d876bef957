package io.mucheckpoint.cpu;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What a vector's run must end with: registers, FLAGS under a mask, memory bytes, and where a rule
 * says so, a register allowed a few exact deltas. Starts as the 80286's recorded result
 * ({@link #of}) or as an exception delivered before the instruction did anything ({@link #fault});
 * the i686-difference rules then change it where the documented difference says the i686 differs.
 */
final class Expectation {
    final int[] regs = new int[8];
    final int[] segs = new int[4];
    int ip;
    int flags;
    int flagsMask;
    /** Expected FS and GS selectors, or -1 (not checked). */
    int fs = -1, gs = -1;
    /** Expected memory: linear address -> byte. */
    final Map<Integer, Integer> ram = new LinkedHashMap<>();
    /** The linear address of the low byte of a FLAGS word the run pushes (compared under flagsMask), or -1. */
    int pushedFlags = -1;
    /** Per register: the deltas (run minus expected, modulo 2^16) also accepted; null means exact. */
    final int[][] deltas = new int[8][];

    private Expectation() {}

    /** The state the 80286 recorded. */
    static Expectation of(Vector286 v) {
        Expectation e = new Expectation();
        System.arraycopy(v.fregs, 0, e.regs, 0, 8);
        System.arraycopy(v.fsegs, 0, e.segs, 0, 4);
        e.ip = v.fip;
        e.flags = v.fflags;
        e.flagsMask = v.flagsMask;
        e.ram.putAll(v.finalRam);
        if (v.exception >= 0) e.pushedFlags = v.fsegs[Vector286.SS] * 16 + ((v.fregs[Vector286.SP] + 4) & 0xFFFF);
        return e;
    }

    /**
     * The instruction ran to its HLT and changed nothing: every register as it started, every byte
     * the 80286 wrote still holding its old value ({@code sentinel} says what the run found at
     * bytes whose old value the vector leaves open).
     */
    static Expectation unchanged(Vector286 v, Map<Integer, Integer> sentinel) {
        Expectation e = new Expectation();
        System.arraycopy(v.iregs, 0, e.regs, 0, 8);
        System.arraycopy(v.isegs, 0, e.segs, 0, 4);
        e.ip = (v.iip + v.bytes.length) & 0xFFFF; // just past the trailing HLT
        e.flags = v.flagsIn();
        e.flagsMask = 0xFFFF;
        for (int a : v.finalRam.keySet()) {
            int old = sentinel.getOrDefault(a, v.initByte(a));
            if (old >= 0) e.ram.put(a, old);
        }
        return e;
    }

    /**
     * Real-mode delivery of an exception before the instruction changed anything: FLAGS, CS and IP
     * (the instruction's first prefix) pushed, CS:IP from the planted handler, everything else as
     * {@link #unchanged}.
     */
    static Expectation fault(Vector286 v, int handlerCs, int handlerIp, Map<Integer, Integer> sentinel) {
        Expectation e = unchanged(v, sentinel);
        e.segs[Vector286.CS] = handlerCs;
        e.ip = handlerIp + 1; // past the planted HLT
        int sp = v.iregs[Vector286.SP];
        e.regs[Vector286.SP] = (sp - 6) & 0xFFFF;
        e.flags = v.flagsIn() & ~0x300; // IF and TF cleared by the delivery (never set in these vectors)
        int ss = v.isegs[Vector286.SS] * 16;
        putWord(e, ss + ((sp - 2) & 0xFFFF), v.flagsIn());
        putWord(e, ss + ((sp - 4) & 0xFFFF), v.isegs[Vector286.CS]);
        putWord(e, ss + ((sp - 6) & 0xFFFF), v.iip);
        e.pushedFlags = ss + ((sp - 2) & 0xFFFF);
        return e;
    }

    static void putWord(Expectation e, int addr, int w) {
        e.ram.put(addr, w & 0xFF);
        e.ram.put(addr + 1, (w >>> 8) & 0xFF);
    }

    Expectation copy() {
        Expectation e = new Expectation();
        System.arraycopy(regs, 0, e.regs, 0, 8);
        System.arraycopy(segs, 0, e.segs, 0, 4);
        e.ip = ip;
        e.flags = flags;
        e.flagsMask = flagsMask;
        e.fs = fs;
        e.gs = gs;
        e.ram.putAll(ram);
        e.pushedFlags = pushedFlags;
        for (int i = 0; i < 8; i++) e.deltas[i] = deltas[i] == null ? null : deltas[i].clone();
        return e;
    }

    /** Compares a finished run with this expectation: null if it matches, else what differs. */
    String compare(Cpu cpu, FlatMemory mem) {
        StringBuilder why = new StringBuilder();
        for (int i = 0; i < 8; i++) {
            int got = cpu.reg(i) & 0xFFFF;
            if (got == regs[i]) continue;
            boolean ok = false;
            if (deltas[i] != null) for (int d : deltas[i]) ok |= ((got - regs[i]) & 0xFFFF) == (d & 0xFFFF);
            if (!ok) why.append(String.format(" %s=%04x want %04x", Vector286.REGS[i], got, regs[i]));
        }
        for (int s = 0; s < 4; s++) {
            int got = cpu.segmentSelector(s);
            if (got != segs[s]) why.append(String.format(" %s=%04x want %04x", Vector286.SEGS[s], got, segs[s]));
        }
        if (fs >= 0 && cpu.segmentSelector(AddressSpace.FS) != fs) {
            why.append(String.format(" fs=%04x want %04x", cpu.segmentSelector(AddressSpace.FS), fs));
        }
        if (gs >= 0 && cpu.segmentSelector(AddressSpace.GS) != gs) {
            why.append(String.format(" gs=%04x want %04x", cpu.segmentSelector(AddressSpace.GS), gs));
        }
        if ((cpu.eip() & 0xFFFF) != ip) why.append(String.format(" ip=%04x want %04x", cpu.eip() & 0xFFFF, ip));
        int gotFlags = cpu.eflags() & 0xFFFF & flagsMask;
        if (gotFlags != (flags & flagsMask)) why.append(String.format(" flags=%04x want %04x", gotFlags, flags & flagsMask));
        for (Map.Entry<Integer, Integer> en : ram.entrySet()) {
            int addr = en.getKey();
            int want = en.getValue();
            int got = mem.peek(addr);
            if (addr == pushedFlags) { got &= flagsMask & 0xFF; want &= flagsMask & 0xFF; }
            if (addr == pushedFlags + 1) { got &= flagsMask >> 8; want &= flagsMask >> 8; }
            if (got != want) why.append(String.format(" [%05x]=%02x want %02x", addr, got, want));
        }
        return why.length() == 0 ? null : why.toString().trim();
    }
}
