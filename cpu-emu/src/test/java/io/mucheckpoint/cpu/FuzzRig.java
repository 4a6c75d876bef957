package io.mucheckpoint.cpu;

import java.util.Arrays;
import java.util.BitSet;
import java.util.HexFormat;
import java.util.Random;
import java.util.zip.CRC32C;

/**
 * A processor on a small flat memory set up for running random code: descriptor tables with many
 * kinds of segments and gates, an IVT and an IDT whose every vector leads to a HLT at
 * {@link #HANDLERS} + vector, page tables with present, absent, read-only, supervisor, remapped and
 * large pages, and entry into real mode, 16- and 32-bit protected mode (with and without paging),
 * ring 3 and virtual-8086 mode. Each {@link Case} starts from the same memory image: only the pages
 * the previous case wrote are copied back, so a case costs little more than the code it runs.
 *
 * <p>A case is fully described by its fields, so a failure found by {@link RandomCodeFuzzTest}
 * prints itself as Java source ({@link Case#toJava}) for {@link FuzzRegressionTest}.
 */
final class FuzzRig {
    static final int RAM = 2 << 20;
    static final int GDT = 0x1000, IDT = 0x1800, HANDLERS = 0x2000, TSS = 0x3000, IRET_STUB = 0x4000, LDT = 0x5000;
    /** The second IDT and IVT, whose handlers skip a byte and return: a fault does not end the case. */
    static final int IDT2 = 0xA000, IVT2 = 0xA800, RESUME_HANDLERS = 0xB000;
    static final int CODE = 0x10000, STACK_TOP = 0x9000, USER_STACK_TOP = 0x7000, PD = 0x80000;
    static final int KCODE = 0x08, KDATA = 0x10, UCODE = 0x1B, UDATA = 0x23, TSS_SEL = 0x28, CODE16 = 0x30;
    /** Data selectors a case may start with in protected mode (all loadable at CPL 0; the user ones at CPL 3). */
    static final int[] KERNEL_DATA = {KDATA, 0x38 /* expand-down 16-bit */, 0x40 /* 4 KiB byte-granular */,
            0x68 /* read-only */, 0x0C /* LDT data */, 0};
    static final int[] USER_DATA = {UDATA, 0x17 /* LDT data, DPL 3 */, 0};
    /** Linear pages (above RAM) the page tables map elsewhere, for code that wanders. */
    static final int HIGH_LINEAR = 0xC0000000;

    /** Where a case starts. */
    enum Mode { REAL, PM16, PM32, PAGING, USER, V86 }

    /**
     * One run: the code bytes at {@link #CODE}, the general registers, EFLAGS bits to set, the data
     * segment selectors (real mode: any value; protected mode: indices into the selector lists),
     * extra CR0/CR4 bits, A20, and an external interrupt (vector, or -1) or NMI pending at entry.
     */
    record Case(Mode mode, byte[] code, int[] regs, int eflags, int[] dataSegs, int cr0, int cr4, boolean a20off,
                int irq, boolean nmi, boolean resume) {
        String describe() {
            StringBuilder b = new StringBuilder();
            b.append(mode).append(" code=").append(HexFormat.ofDelimiter(" ").formatHex(code));
            b.append(String.format(" regs=%s eflags=%x segs=%s cr0|=%x cr4|=%x a20off=%s irq=%d nmi=%s resume=%s",
                    hex(regs), eflags, Arrays.toString(dataSegs), cr0, cr4, a20off, irq, nmi, resume));
            return b.toString();
        }

        /** This case as a Java expression, for a regression test. */
        String toJava() {
            return String.format("new FuzzRig.Case(FuzzRig.Mode.%s, FuzzRig.bytes(\"%s\"), new int[] {%s}, 0x%x, new int[] {%s}, 0x%x, 0x%x, %s, %d, %s, %s)",
                    mode, HexFormat.ofDelimiter(" ").formatHex(code), ints(regs), eflags, ints(dataSegs), cr0, cr4, a20off, irq, nmi, resume);
        }

        private static String hex(int[] v) {
            StringBuilder b = new StringBuilder("[");
            for (int i = 0; i < v.length; i++) b.append(i > 0 ? " " : "").append(Integer.toHexString(v[i]));
            return b.append(']').toString();
        }

        private static String ints(int[] v) {
            StringBuilder b = new StringBuilder();
            for (int i = 0; i < v.length; i++) b.append(i > 0 ? ", " : "").append("0x").append(Integer.toHexString(v[i]));
            return b.toString();
        }
    }

    static byte[] bytes(String hex) {
        return HexFormat.ofDelimiter(" ").parseHex(hex);
    }

    /** How a case ended. */
    record Outcome(Cpu.Stop stop, long icount, int exception, String summary) {}

    final RigMemory mem = new RigMemory(RAM);
    final Cpu cpu;
    private final byte[] template;
    private int inCount;

    FuzzRig() {
        cpu = new Cpu(mem, new IoBus() {
            public int in(int port, int size) {
                // Deterministic but varied: the same case reads the same values.
                int v = (port * 0x9E3779B1) ^ (inCount++ * 0x85EBCA6B);
                return v & Registers.sizeMask(size);
            }

            public void out(int port, int size, int value) {}
        });
        buildTemplate();
        template = mem.backing().clone();
        mem.written.clear();
    }

    // --- the memory image every case starts from ----------------------------------------------

    private void w32(int at, int v) {
        mem.write(at, 4, v);
    }

    private void descriptor(int at, int base, int limit, int attr) {
        int lo = (limit & 0xFFFF) | (base << 16);
        int hi = ((base >>> 16) & 0xFF) | ((attr & 0xFF) << 8) | (limit & 0xF0000) | ((attr & 0xF000) << 8) | (base & 0xFF000000);
        w32(at, lo);
        w32(at + 4, hi);
    }

    private void gate(int at, int sel, int offset, int typeByte, int params) {
        w32(at, (offset & 0xFFFF) | (sel << 16));
        w32(at + 4, (offset & 0xFFFF0000) | (typeByte << 8) | params);
    }

    private void buildTemplate() {
        // Real-mode IVT: vector v -> 0200:v, a HLT at HANDLERS + v.
        for (int v = 0; v < 256; v++) w32(v * 4, (0x0200 << 16) | v);
        for (int v = 0; v < 256; v++) mem.write(HANDLERS + v, 1, 0xF4);
        // GDT.
        descriptor(GDT, 0, 0, 0);
        descriptor(GDT + 0x08, 0, 0xFFFFF, 0xC09A);        // KCODE
        descriptor(GDT + 0x10, 0, 0xFFFFF, 0xC092);        // KDATA
        descriptor(GDT + 0x18, 0, 0xFFFFF, 0xC0FA);        // UCODE
        descriptor(GDT + 0x20, 0, 0xFFFFF, 0xC0F2);        // UDATA
        descriptor(GDT + 0x28, TSS, 0x67 + 0x2000 / 8 + 1, 0x0089); // 32-bit TSS with an I/O bitmap
        descriptor(GDT + 0x30, CODE, 0xFFFF, 0x009A);      // 16-bit code at CODE
        descriptor(GDT + 0x38, 0x20000, 0x0FFF, 0x0096);   // 16-bit expand-down data
        descriptor(GDT + 0x40, 0x30000, 0x0FFF, 0x4092);   // small byte-granular data
        descriptor(GDT + 0x48, LDT, 0x1F, 0x0082);         // LDT
        descriptor(GDT + 0x50, 0, 0xFFFFF, 0xC09E);        // conforming code
        gate(GDT + 0x58, KCODE, HANDLERS + 0x40, 0xEC, 2); // call gate, DPL 3, 2 parameters
        descriptor(GDT + 0x60, 0, 0xFFFFF, 0xC012);        // not present
        descriptor(GDT + 0x68, 0, 0xFFFFF, 0xC090);        // read-only data
        descriptor(GDT + 0x70, 0, 0xFFFFF, 0xC098);        // execute-only code
        gate(GDT + 0x78, TSS_SEL, 0, 0xE5, 0);             // task gate
        // LDT: 0x04 code, 0x0C data, 0x14 user data (selectors 0x04|rpl, ...)
        descriptor(LDT, 0, 0xFFFFF, 0xC09A);
        descriptor(LDT + 8, 0x40000, 0xFFFF, 0x0092);
        descriptor(LDT + 16, 0x40000, 0xFFFF, 0x00F2);
        descriptor(LDT + 24, 0, 0xFFFFF, 0xC0FA);
        // IDT: interrupt gates to the HLTs; a few callable from ring 3, some trap gates, one 16-bit
        // gate, one not present, one task gate.
        for (int v = 0; v < 256; v++) {
            int type = switch (v) {
                case 3, 4, 0x21, 0x80 -> 0xEE;
                case 0x22 -> 0xEF;
                case 0x30 -> 0x86;
                case 0x31 -> 0x0E;   // not present
                case 0x32 -> 0x85;   // task gate
                default -> v % 7 == 0 ? 0x8F : 0x8E;
            };
            gate(IDT + v * 8, KCODE, HANDLERS + v, type, 0);
        }
        // The resuming handlers: real mode "push bp; mov bp,sp; inc word [bp+2]; pop bp; iret";
        // protected mode "[add esp,4;] inc dword [esp]; iret" (the error code popped where there is
        // one); #DF halts.
        for (int v = 0; v < 256; v++) {
            int at = RESUME_HANDLERS + v * 16;
            byte[] real = {0x55, (byte) 0x89, (byte) 0xE5, (byte) 0xFF, 0x46, 0x02, 0x5D, (byte) 0xCF};
            for (int i = 0; i < real.length; i++) mem.write(at + i, 1, real[i]);
            w32(IVT2 + v * 4, (((RESUME_HANDLERS + v * 16) >>> 4) << 16));
            int pm = at + 8;
            boolean err = v == 8 || (v >= 10 && v <= 14) || v == 17;
            byte[] h = v == 8 ? new byte[] {(byte) 0xF4}
                    : err ? new byte[] {(byte) 0x83, (byte) 0xC4, 0x04, (byte) 0xFF, 0x04, 0x24, (byte) 0xCF}
                    : new byte[] {(byte) 0xFF, 0x04, 0x24, (byte) 0xCF, (byte) 0xF4};
            for (int i = 0; i < h.length && i < 8; i++) mem.write(pm + i, 1, h[i]);
            w32(IDT2 + v * 8, ((pm) & 0xFFFF) | (KCODE << 16));
            w32(IDT2 + v * 8 + 4, (pm & 0xFFFF0000) | ((v == 3 || v == 4 || v == 0x80 ? 0xEE : 0x8E) << 8));
        }
        // TSS: ring-0 stack, an I/O bitmap that allows ports 0x80-0x8F only.
        w32(TSS + 4, STACK_TOP);
        w32(TSS + 8, KDATA);
        w32(TSS + 0x64, 0x68 << 16);
        for (int i = 0; i < 0x2000 / 8 + 1; i++) mem.write(TSS + 0x68 + i, 1, 0xFF);
        mem.write(TSS + 0x68 + 0x80 / 8, 2, 0);
        // IRET stub for entering ring 3 and V86.
        mem.write(IRET_STUB, 1, 0xCF);
        // Page tables: identity-map RAM user-writable, except a few kinds of page in the second MiB;
        // a large page, high mappings and the last page of the address space.
        int nextPt = PD + 0x1000;
        for (int lin = 0; lin < RAM; lin += 0x1000) {
            int flags = 7;
            int phys = lin;
            if (lin >= 0x100000) {
                switch ((lin >>> 12) % 6) {
                    case 1 -> flags = 0;          // not present
                    case 2 -> flags = 5;          // read-only
                    case 3 -> flags = 3;          // supervisor only
                    case 4 -> phys = lin ^ 0x7F000; // somewhere else
                    default -> {}
                }
            }
            nextPt = map(nextPt, lin, phys, flags);
        }
        w32(PD + ((0x800000 >>> 22) << 2), 0x00000000 | 0x87);    // 4 MiB page at 8 MiB -> 0 (PSE)
        for (int i = 0; i < 16; i++) nextPt = map(nextPt, HIGH_LINEAR + (i << 12), CODE + (i << 12), 7);
        nextPt = map(nextPt, 0xFFFFF000, CODE, 7);
    }

    private int map(int nextPt, int lin, int phys, int flags) {
        int pdeAt = PD + ((lin >>> 22) << 2);
        int pde = mem.read(pdeAt, 4);
        if ((pde & 1) == 0) {
            pde = nextPt | 7;
            w32(pdeAt, pde);
            nextPt += 0x1000;
        }
        w32((pde & ~0xFFF) + (((lin >>> 12) & 0x3FF) << 2), (phys & ~0xFFF) | flags);
        return nextPt;
    }

    // --- running a case -----------------------------------------------------------------------

    /** Puts memory and the processor in the case's initial state. */
    void setUp(Case c) {
        mem.restore(template);
        inCount = 0;
        cpu.reset();
        cpu.setInterruptController(null);
        cpu.setInterruptLine(false);
        mem.load(CODE, c.code());
        System.arraycopy(c.regs(), 0, cpu.r, 0, 8);
        if (c.mode() == Mode.REAL) {
            cpu.loadSegment(Cpu.SEG_CS, CODE >>> 4);
            cpu.eip = 0;
            int[] s = c.dataSegs();
            cpu.loadSegment(Cpu.SEG_DS, s[0]);
            cpu.loadSegment(Cpu.SEG_ES, s[1]);
            cpu.loadSegment(Cpu.SEG_FS, s[2]);
            cpu.loadSegment(Cpu.SEG_GS, s[3]);
            cpu.loadSegment(Cpu.SEG_SS, 0);
            cpu.r[Cpu.ESP] = (cpu.r[Cpu.ESP] & 0xFFFF0000) | (c.regs()[Cpu.ESP] & 0xFFFF);
            cpu.setEflags(2 | c.eflags());
        } else {
            enterProtectedMode(c);
        }
        cpu.cr0 |= c.cr0();
        cpu.cr4 |= c.cr4();
        cpu.modeChanged();
        cpu.flushTlb();
        if (c.a20off()) cpu.setA20(false);
        if (c.resume()) {
            boolean pm = (cpu.cr0 & AddressSpace.CR0_PE) != 0;
            cpu.idtBase = pm ? IDT2 : IVT2;
        }
        if (c.irq() >= 0) {
            cpu.setInterruptController(() -> {
                cpu.setInterruptLine(false);
                return c.irq();
            });
            cpu.setInterruptLine(true);
        }
        if (c.nmi()) cpu.raiseNmi();
    }

    private void enterProtectedMode(Case c) {
        cpu.gdtBase = GDT;
        cpu.gdtLimit = 0x7F;
        cpu.idtBase = IDT;
        cpu.idtLimit = 256 * 8 - 1;
        cpu.ldtSel = 0x48;
        cpu.ldtBase = LDT;
        cpu.ldtLimit = 0x1F;
        cpu.ldtAttr = 0x82;
        cpu.trSel = TSS_SEL;
        cpu.trBase = TSS;
        cpu.trLimit = 0x67 + 0x2000 / 8 + 1;
        cpu.trAttr = 0x8B;
        cpu.cr0 |= AddressSpace.CR0_PE;
        if (c.mode() == Mode.PAGING || c.mode() == Mode.USER || c.mode() == Mode.V86) {
            cpu.cr3 = PD;
            cpu.cr0 |= AddressSpace.CR0_PG;
        }
        cpu.modeChanged();
        cpu.loadSegment(Cpu.SEG_CS, c.mode() == Mode.PM16 ? CODE16 : KCODE);
        cpu.loadSegment(Cpu.SEG_SS, KDATA);
        int[] s = c.dataSegs();
        int[] segs = {Cpu.SEG_DS, Cpu.SEG_ES, Cpu.SEG_FS, Cpu.SEG_GS};
        boolean ring3 = c.mode() == Mode.USER;
        for (int i = 0; i < 4; i++) {
            int[] choices = ring3 ? USER_DATA : KERNEL_DATA;
            cpu.loadSegment(segs[i], choices[Math.floorMod(s[i], choices.length)]);
        }
        int flags = 2 | (c.eflags() & ~(Registers.VM | Registers.TF | Registers.NT));
        switch (c.mode()) {
            case PM16 -> {
                cpu.eip = 0;
                cpu.setEflags(flags);
            }
            case PM32, PAGING -> {
                cpu.eip = CODE;
                cpu.setEflags(flags);
            }
            case USER -> {
                int sp = STACK_TOP - 20;
                int[] frame = {CODE, UCODE, flags | (c.eflags() & Registers.TF), USER_STACK_TOP - (c.regs()[Cpu.ESP] & 0xFFC), UDATA};
                for (int i = 0; i < frame.length; i++) mem.write(sp + 4 * i, 4, frame[i]);
                enterByIret(sp);
            }
            case V86 -> {
                int sp = STACK_TOP - 36;
                int[] frame = {0, CODE >>> 4, flags | Registers.VM | (c.eflags() & Registers.TF), c.regs()[Cpu.ESP] & 0xFFFF,
                    0x0700, s[1] & 0xFFFF, s[0] & 0xFFFF, s[2] & 0xFFFF, s[3] & 0xFFFF};
                for (int i = 0; i < frame.length; i++) mem.write(sp + 4 * i, 4, frame[i]);
                enterByIret(sp);
            }
            default -> throw new IllegalArgumentException(c.mode().toString());
        }
    }

    /** Executes the IRET stub with the frame at {@code sp} (one instruction, counted), keeping TF for the case. */
    private void enterByIret(int sp) {
        cpu.setEflags(2);
        cpu.r[Cpu.ESP] = sp;
        cpu.eip = IRET_STUB;
        Cpu.Stop s = cpu.run(cpu.icount() + 1);
        if (s != Cpu.Stop.BUDGET || cpu.cpl() != 3) {
            throw new IllegalStateException("could not enter the case's mode: " + s + " CPL " + cpu.cpl() + " EIP " + Integer.toHexString(cpu.eip));
        }
    }

    /**
     * Runs the case for at most {@code budget} instructions in one call to {@link Cpu#run} (or in
     * calls of random lengths when {@code chunks} is non-null) and reports how it ended. Throws
     * {@link AssertionError} when the emulator misbehaves without throwing: a run that returns
     * without reason, overshoots its budget, or makes no progress.
     */
    Outcome run(Case c, long budget, Random chunks) {
        setUp(c);
        long start = cpu.icount();
        long target = start + budget;
        Cpu.Stop s;
        int idle = 0;
        while (true) {
            long before = cpu.icount();
            long to = chunks == null ? target : Math.min(target, before + 1 + chunks.nextInt(40));
            s = cpu.run(to);
            if (cpu.icount() > to) {
                throw new AssertionError("run(" + to + ") retired up to " + cpu.icount() + ": past its budget");
            }
            if (s == Cpu.Stop.HALTED || s == Cpu.Stop.SHUTDOWN) break;
            if (s != Cpu.Stop.BUDGET) throw new AssertionError("run returned " + s + " with nothing asking for it");
            if (cpu.icount() >= target) break;
            if (cpu.icount() == before && ++idle > 3) throw new AssertionError("run returned BUDGET without retiring anything");
        }
        int at = cpu.segmentBase(Cpu.SEG_CS) + cpu.eip() - 1;
        int exc = s == Cpu.Stop.HALTED && at >= HANDLERS && at < HANDLERS + 256 ? at - HANDLERS : -1;
        return new Outcome(s, cpu.icount() - start, exc, fingerprint());
    }

    /** Everything architectural a case can change, as text (for comparing two runs of one case). */
    private String fingerprint() {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < 8; i++) b.append(Integer.toHexString(cpu.r[i])).append(' ');
        b.append("eip=").append(Integer.toHexString(cpu.eip)).append(" fl=").append(Integer.toHexString(cpu.eflags()));
        for (int s = 0; s < 6; s++) {
            b.append(" s").append(s).append('=').append(Integer.toHexString(cpu.segSel[s])).append('/')
                    .append(Integer.toHexString(cpu.segBase[s])).append('/').append(Integer.toHexString(cpu.segLimit[s]))
                    .append('/').append(Integer.toHexString(cpu.segAttr[s]));
        }
        b.append(" cr0=").append(Integer.toHexString(cpu.cr0)).append(" cr2=").append(Integer.toHexString(cpu.cr2))
                .append(" cr3=").append(Integer.toHexString(cpu.cr3)).append(" cr4=").append(Integer.toHexString(cpu.cr4))
                .append(" cpl=").append(cpu.cpl).append(" halted=").append(cpu.halted).append(" shutdown=").append(cpu.shutdown)
                .append(" fpu=").append(fpuText()).append(" mem=").append(Long.toHexString(mem.crc()));
        return b.toString();
    }

    private String fpuText() {
        CpuState.FpuState f = cpu.save().fpu();
        return String.format("%x/%x/%x/%s/%x/%x/%x/%x/%x", f.control(), f.status(), f.tag(),
                HexFormat.of().formatHex(f.registers()), f.fip(), f.fcs(), f.fdp(), f.fds(), f.fop());
    }

    // --- random cases -------------------------------------------------------------------------

    /** Bytes that make decoding interesting: prefixes, escapes, and the system and string opcodes. */
    private static final int[] INTERESTING = {
        0x66, 0x67, 0xF0, 0xF2, 0xF3, 0x26, 0x2E, 0x36, 0x3E, 0x64, 0x65, 0x0F, 0x0F, 0x0F,
        0xD8, 0xD9, 0xDA, 0xDB, 0xDC, 0xDD, 0xDE, 0xDF, 0xA4, 0xA5, 0xA6, 0xA7, 0xAA, 0xAB, 0xAC, 0xAD,
        0xAE, 0xAF, 0x6C, 0x6D, 0x6E, 0x6F, 0xCD, 0xCF, 0xCA, 0xCB, 0xEA, 0x9A, 0xFF, 0x8E, 0x8C, 0xC4, 0xC5,
        0x62, 0x63, 0xD4, 0xD5, 0xC8, 0xC9, 0xE0, 0xE1, 0xE2, 0xE3, 0xF4, 0xFA, 0xFB, 0x9C, 0x9D, 0x17, 0x1F, 0x07,
        0x00, 0x01, 0x20, 0x22, 0x21, 0x23, 0x30, 0x32, 0x31, 0x34, 0x35, 0xA2, 0xB2, 0xB4, 0xB5, 0xC7, 0xF6, 0xF7,
    };

    /** A random case; {@code mode} null picks one. */
    static Case random(Random rnd, Mode mode) {
        if (mode == null) mode = Mode.values()[rnd.nextInt(Mode.values().length)];
        int len = 1 + rnd.nextInt(rnd.nextInt(8) == 0 ? 200 : 24);
        byte[] code = new byte[len];
        for (int i = 0; i < len; i++) {
            code[i] = (byte) (rnd.nextInt(3) == 0 ? INTERESTING[rnd.nextInt(INTERESTING.length)] : rnd.nextInt(256));
        }
        int[] regs = new int[8];
        for (int i = 0; i < 8; i++) regs[i] = interestingValue(rnd);
        regs[Cpu.ESP] = rnd.nextInt(8) == 0 ? interestingValue(rnd) : STACK_TOP - 4 * rnd.nextInt(64);
        int eflags = 0;
        int[] bits = {Registers.CF, Registers.PF, Registers.AF, Registers.ZF, Registers.SF, Registers.OF, Registers.DF,
            Registers.IF, Registers.AC, Registers.IOPL, Registers.NT, Registers.RF, Registers.ID, Registers.VIF, Registers.VIP};
        for (int b : bits) if (rnd.nextInt(3) == 0) eflags |= b;
        if (rnd.nextInt(16) == 0) eflags |= Registers.TF;
        int[] segs = new int[4];
        for (int i = 0; i < 4; i++) segs[i] = mode == Mode.REAL || mode == Mode.V86 ? (rnd.nextBoolean() ? rnd.nextInt(0x10000) : rnd.nextInt(0x100)) : rnd.nextInt(8);
        int cr0 = 0;
        if (rnd.nextInt(4) == 0) cr0 |= AddressSpace.CR0_WP;
        if (rnd.nextInt(4) == 0) cr0 |= AddressSpace.CR0_AM;
        if (rnd.nextInt(8) == 0) cr0 |= AddressSpace.CR0_TS;
        if (rnd.nextInt(8) == 0) cr0 |= AddressSpace.CR0_EM;
        if (rnd.nextInt(4) == 0) cr0 |= AddressSpace.CR0_MP | AddressSpace.CR0_NE;
        int cr4 = 0;
        if (rnd.nextInt(2) == 0) cr4 |= AddressSpace.CR4_PSE;
        if (rnd.nextInt(4) == 0) cr4 |= AddressSpace.CR4_TSD;
        if (rnd.nextInt(4) == 0) cr4 |= AddressSpace.CR4_DE;
        if (rnd.nextInt(4) == 0) cr4 |= AddressSpace.CR4_PGE;
        if (rnd.nextInt(4) == 0) cr4 |= AddressSpace.CR4_OSFXSR;
        if (rnd.nextInt(6) == 0) cr4 |= AddressSpace.CR4_VME | AddressSpace.CR4_PVI;
        boolean a20off = rnd.nextInt(10) == 0;
        int irq = rnd.nextInt(10) == 0 ? rnd.nextInt(256) : -1;
        boolean nmi = rnd.nextInt(20) == 0;
        boolean resume = rnd.nextBoolean();
        return new Case(mode, code, regs, eflags, segs, cr0, cr4, a20off, irq, nmi, resume);
    }

    private static int interestingValue(Random rnd) {
        return switch (rnd.nextInt(10)) {
            case 0 -> rnd.nextInt();
            case 1 -> new int[] {0, -1, 1, 0x7FFFFFFF, 0x80000000, 0xFFFF, 0x10000, 0x8000, 0xFFFE, 0xFFFFFFFE}[rnd.nextInt(10)];
            case 2 -> rnd.nextInt(0x100);
            case 3 -> HIGH_LINEAR + rnd.nextInt(0x10000);
            case 4 -> 0x100000 + rnd.nextInt(0x100000);
            case 5 -> 0xFFF - rnd.nextInt(8);
            default -> rnd.nextInt(0x100000);
        };
    }

    // --- memory ---------------------------------------------------------------------------------

    /** Flat RAM that remembers which pages were written, so a case's changes can be undone cheaply. */
    static final class RigMemory implements PhysicalMemory {
        private final byte[] ram;
        private final BitSet watched = new BitSet();
        final BitSet written = new BitSet();
        private MemoryClient client;

        RigMemory(int size) {
            ram = new byte[size];
        }

        @Override
        public byte[] backing() {
            return ram;
        }

        @Override
        public int readBase(int page) {
            return (long) (page & 0xFFFFFFFFL) << 12 < ram.length ? page << 12 : -1;
        }

        @Override
        public int writeBase(int page) {
            if (((page & 0xFFFFFFFFL) << 12) >= ram.length || watched.get(page)) return -1;
            written.set(page);
            return page << 12;
        }

        @Override
        public int read(int paddr, int size) {
            int v = 0;
            for (int i = 0; i < size; i++) {
                long a = (paddr & 0xFFFFFFFFL) + i;
                v |= (a < ram.length ? ram[(int) a] & 0xFF : 0xFF) << (8 * i);
            }
            return v;
        }

        @Override
        public void write(int paddr, int size, int value) {
            for (int i = 0; i < size; i++) {
                long a = (paddr & 0xFFFFFFFFL) + i;
                if (a < ram.length) {
                    ram[(int) a] = (byte) (value >>> (8 * i));
                    written.set((int) (a >>> 12));
                }
            }
            if (client != null) {
                for (int i = 0; i < size; i++) {
                    long a = (paddr & 0xFFFFFFFFL) + i;
                    if (a < ram.length && watched.get((int) (a >>> 12))) {
                        client.codeModified(paddr, size);
                        break;
                    }
                }
            }
        }

        @Override
        public void watchCode(int page, boolean watch) {
            if (watch && !watched.get(page) && client != null) client.revokeWrites();
            watched.set(page, watch);
        }

        @Override
        public void attach(MemoryClient client) {
            this.client = client;
        }

        void load(int at, byte[] b) {
            for (int i = 0; i < b.length; i++) write(at + i, 1, b[i]);
        }

        /** Copies back the pages written since the last restore (the processor must be reset after). */
        void restore(byte[] template) {
            for (int p = written.nextSetBit(0); p >= 0; p = written.nextSetBit(p + 1)) {
                System.arraycopy(template, p << 12, ram, p << 12, 4096);
            }
            written.clear();
        }

        long crc() {
            CRC32C c = new CRC32C();
            c.update(ram, 0, ram.length);
            return c.getValue();
        }
    }
}
