package io.mucheckpoint.cpu;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs an 80286 vector on the interpreter as FORMAT.md says (flat 16 MiB + 1 MiB, no A20 wrap,
 * FLAGS bits 12-15 cleared, stop at HLT), under a {@link Setup} a rule may ask for: LOCK ignored as
 * the 80286 does, interrupt handlers planted where the vector has none, sentinel bytes where the
 * 80286 wrote without reading first, FS and GS loaded, or a shorter form of the instruction.
 */
final class VectorRunner {
    /** The planted handlers: FFFF:(HANDLER_IP + vector), a HLT each, above 1 MiB. */
    static final int HANDLER_CS = 0xFFFF;
    static final int FS_VALUE = 0x1357, GS_VALUE = 0x2468;
    private static final int[] HANDLER_BASES = {0x0100, 0x4100, 0x8100, 0xC100};

    final FlatMemory mem = new FlatMemory((16 << 20) + (1 << 20));
    final Cpu cpu = new Cpu(mem, new IoBus() {
        public int in(int port, int size) {
            return size == 1 ? 0xFF : 0xFFFF; // FORMAT.md: IN reads all ones
        }

        public void out(int port, int size, int value) {}
    });

    /** How to run one vector. */
    static final class Setup {
        boolean lockIgnored;
        final List<Integer> planted = new ArrayList<>();
        /** Addresses the 80286 wrote without the vector giving their old value: what to put there first. */
        final Map<Integer, Integer> sentinels = new LinkedHashMap<>();
        boolean loadFsGs;
        /** Instead of the vector's bytes: these, ending where the vector's end (null: the vector's). */
        int[] shortForm;

        Setup copy() {
            Setup s = new Setup();
            s.lockIgnored = lockIgnored;
            s.planted.addAll(planted);
            s.sentinels.putAll(sentinels);
            s.loadFsGs = loadFsGs;
            s.shortForm = shortForm;
            return s;
        }

        /** Sentinels for every byte the 80286 wrote whose old value the vector leaves open. */
        Setup withSentinels(Vector286 v) {
            for (Map.Entry<Integer, Integer> e : v.finalRam.entrySet()) {
                if (!v.initRam.containsKey(e.getKey())) sentinels.put(e.getKey(), e.getValue() ^ 0xFF);
            }
            return this;
        }
    }

    /** The IP of the handler planted for {@code vector} in a run of {@code v} (clear of the vector's memory). */
    static int handlerIp(Vector286 v, int vector) {
        for (int base : HANDLER_BASES) {
            int lin = HANDLER_CS * 16 + base + vector;
            if (!v.initRam.containsKey(lin) && !v.finalRam.containsKey(lin)) return base + vector;
        }
        throw new IllegalStateException(v + ": no free place for a handler");
    }

    /** Runs {@code v} under {@code s}; null if the CPU halted in a state {@code e} accepts, else why not. */
    String check(Vector286 v, Setup s, Expectation e) {
        List<int[]> restore = new ArrayList<>();
        try {
            String stop = run(v, s, restore);
            if (stop != null) return stop;
            return e.compare(cpu, mem);
        } finally {
            for (int i = restore.size() - 1; i >= 0; i--) mem.poke(restore.get(i)[0], restore.get(i)[1]);
            cpu.decoder.lockIgnoredAs80286 = false;
        }
    }

    /**
     * Runs {@code v} under {@code s} and returns what it ended with as an expectation (every
     * register, all of FLAGS, and the bytes at {@code addresses}), or null with {@code why[0]} set
     * if it did not halt. For a reference run that another run must then reproduce.
     */
    Expectation capture(Vector286 v, Setup s, Iterable<Integer> addresses, String[] why) {
        List<int[]> restore = new ArrayList<>();
        // The reference run may write memory the vector leaves open (an ALU result to an operand the
        // 80286 never read): put every byte back, so the run it is compared with starts the same.
        byte[] before = mem.backing().clone();
        try {
            why[0] = run(v, s, restore);
            if (why[0] != null) return null;
            Expectation e = Expectation.of(v);
            for (int i = 0; i < 8; i++) e.regs[i] = cpu.reg(i) & 0xFFFF;
            for (int seg = 0; seg < 4; seg++) e.segs[seg] = cpu.segmentSelector(seg);
            e.ip = cpu.eip() & 0xFFFF;
            e.flags = cpu.eflags() & 0xFFFF;
            e.flagsMask = 0xFFFF;
            e.pushedFlags = -1;
            e.ram.clear();
            for (int a : addresses) e.ram.put(a, mem.peek(a));
            return e;
        } finally {
            System.arraycopy(before, 0, mem.backing(), 0, before.length);
            cpu.decoder.lockIgnoredAs80286 = false;
        }
    }

    private void poke(int addr, int b, List<int[]> restore) {
        restore.add(new int[] {addr, mem.peek(addr)});
        mem.poke(addr, b);
    }

    private String run(Vector286 v, Setup s, List<int[]> restore) {
        cpu.reset();
        for (int i = 0; i < 8; i++) cpu.setReg(i, v.iregs[i]);
        for (int seg = 0; seg < 4; seg++) cpu.loadSegment(seg, v.isegs[seg]);
        if (s.loadFsGs) {
            cpu.loadSegment(AddressSpace.FS, FS_VALUE);
            cpu.loadSegment(AddressSpace.GS, GS_VALUE);
        }
        cpu.setEflags(v.flagsIn());
        for (Map.Entry<Integer, Integer> en : v.initRam.entrySet()) mem.poke(en.getKey(), en.getValue());
        for (Map.Entry<Integer, Integer> en : s.sentinels.entrySet()) mem.poke(en.getKey(), en.getValue());
        int ip = v.iip;
        if (s.shortForm != null) {
            ip = v.iip + v.length() - (s.shortForm.length - 1);
            int at = v.isegs[Vector286.CS] * 16;
            for (int i = 0; i < s.shortForm.length; i++) mem.poke(at + ((ip + i) & 0xFFFF), s.shortForm[i]);
        }
        cpu.setEip(ip);
        for (int vector : s.planted) {
            int hip = handlerIp(v, vector);
            poke(vector * 4, hip & 0xFF, restore);
            poke(vector * 4 + 1, hip >> 8, restore);
            poke(vector * 4 + 2, HANDLER_CS & 0xFF, restore);
            poke(vector * 4 + 3, HANDLER_CS >> 8, restore);
            poke(HANDLER_CS * 16 + hip, 0xF4, restore);
        }
        cpu.decoder.lockIgnoredAs80286 = s.lockIgnored;
        Cpu.Stop stop;
        try {
            stop = cpu.run(cpu.icount() + 1000);
        } catch (RuntimeException ex) {
            return "emulator exception " + ex;
        }
        return stop == Cpu.Stop.HALTED ? null : "did not halt (" + stop + " " + cpu.shutdownReason() + ")";
    }
}
