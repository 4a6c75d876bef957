package io.mucheckpoint.cpu;

import java.util.ArrayList;
import java.util.List;

/**
 * A processor on flat memory in 32-bit protected mode, for unit tests: a GDT with flat ring-0 and
 * ring-3 code and data segments, and an IDT whose every vector leads to a HLT at
 * {@link #HANDLERS} + vector, so a test can tell which exception an instruction raised.
 */
public final class TestMachine {
    public static final int GDT = 0x1000;
    public static final int IDT = 0x1800;
    public static final int HANDLERS = 0x2000;
    public static final int CODE = 0x10000;
    public static final int STACK_TOP = 0x9000;
    public static final int KCODE = 0x08, KDATA = 0x10, UCODE = 0x1B, UDATA = 0x23, TSS = 0x28;

    public final FlatMemory mem;
    public final Cpu cpu;
    public final List<int[]> ioLog = new ArrayList<>();
    /** Called with the port of every OUT, after it is logged (tests use it to raise NMIs and IRQs). */
    public java.util.function.IntConsumer onOut;

    public TestMachine() {
        this(16 << 20);
    }

    public TestMachine(int ramSize) {
        mem = new FlatMemory(ramSize);
        cpu = new Cpu(mem, new IoBus() {
            public int in(int port, int size) {
                ioLog.add(new int[] {port, size, -1});
                return Registers.sizeMask(size);
            }

            public void out(int port, int size, int value) {
                ioLog.add(new int[] {port, size, value});
                if (onOut != null) onOut.accept(port);
            }
        });
        reset32();
    }

    /** Puts the processor in flat 32-bit ring-0 protected mode with the tables above. */
    public void reset32() {
        cpu.reset();
        putDescriptor(GDT, 0, 0, 0);
        putDescriptor(GDT + 8, 0, 0xFFFFF, 0xC09A);
        putDescriptor(GDT + 16, 0, 0xFFFFF, 0xC092);
        putDescriptor(GDT + 24, 0, 0xFFFFF, 0xC0FA);
        putDescriptor(GDT + 32, 0, 0xFFFFF, 0xC0F2);
        putDescriptor(GDT + 40, 0x3000, 0x67, 0x0089);
        for (int v = 0; v < 256; v++) {
            putGate(v, HANDLERS + v, 0x8E);
            mem.poke(HANDLERS + v, 0xF4);
        }
        write32(0x3000 + 4, STACK_TOP);  // TSS.ESP0
        write32(0x3000 + 8, KDATA);      // TSS.SS0
        write32(0x3000 + 0x64, 0x68 << 16); // I/O map base 0x68: beyond the limit, no bitmap
        cpu.gdtBase = GDT;
        cpu.gdtLimit = 47;
        cpu.idtBase = IDT;
        cpu.idtLimit = 256 * 8 - 1;
        cpu.cr0 |= AddressSpace.CR0_PE;
        cpu.modeChanged();
        cpu.loadSegment(AddressSpace.CS, KCODE);
        for (int s : new int[] {AddressSpace.ES, AddressSpace.SS, AddressSpace.DS, AddressSpace.FS, AddressSpace.GS}) {
            cpu.loadSegment(s, KDATA);
        }
        cpu.trSel = TSS;
        cpu.trBase = 0x3000;
        cpu.trLimit = 0x67;
        cpu.trAttr = 0x8B;
        cpu.setReg(Cpu.ESP, STACK_TOP);
        cpu.setEip(CODE);
        cpu.modeChanged();
    }

    public void putDescriptor(int at, int base, int limit, int attr) {
        int lo = (limit & 0xFFFF) | (base << 16);
        int hi = ((base >>> 16) & 0xFF) | ((attr & 0xFF) << 8) | (limit & 0xF0000) | ((attr & 0xF000) << 8) | (base & 0xFF000000);
        write32(at, lo);
        write32(at + 4, hi);
    }

    /** An IDT gate for {@code vector} to KCODE:{@code offset}; type 0x8E interrupt gate, 0x8F trap gate, 0xEE user-callable. */
    public void putGate(int vector, int offset, int type) {
        write32(IDT + vector * 8, (offset & 0xFFFF) | (KCODE << 16));
        write32(IDT + vector * 8 + 4, (offset & 0xFFFF0000) | (type << 8));
    }

    public void write32(int at, int v) {
        mem.write(at, 4, v);
    }

    public int read32(int at) {
        return mem.read(at, 4);
    }

    public void load(int at, int... bytes) {
        for (int i = 0; i < bytes.length; i++) mem.poke(at + i, bytes[i]);
    }

    /** Places {@code bytes} followed by HLT at CODE and runs to the HLT (or an exception handler's). */
    public Cpu.Stop runCode(int... bytes) {
        load(CODE, bytes);
        mem.poke(CODE + bytes.length, 0xF4);
        cpu.setEip(CODE);
        cpu.halted = false;
        return cpu.run(cpu.icount() + 100_000);
    }

    /** The exception vector whose handler the processor halted in, or -1 if it halted elsewhere. */
    public int exceptionTaken() {
        int eip = cpu.eip() - 1;
        return eip >= HANDLERS && eip < HANDLERS + 256 ? eip - HANDLERS : -1;
    }

    // --- helpers for the system-architecture tests (paging, gates, LDT, ring 3, V86) -------------

    /** The page directory the paging helpers build; page tables are allocated after it. */
    public static final int PD = 0x80000;
    public static final int PG_P = 1, PG_W = 2, PG_U = 4, PG_A = 0x20, PG_D = 0x40, PG_PS = 0x80;
    private int nextPageTable = PD + 0x1000;

    /** Loads an assembled program at the address it was linked for. */
    public void load(Prog p) {
        load(p.at(), p.bytes());
    }

    /** Runs from {@code eip} (HLT ends the run) for at most {@code budget} instructions. */
    public Cpu.Stop runAt(int eip, long budget) {
        cpu.setEip(eip);
        cpu.halted = false;
        return cpu.run(cpu.icount() + budget);
    }

    public Cpu.Stop runAt(int eip) {
        return runAt(eip, 1_000_000);
    }

    /** Loads {@code p} and runs it from its first byte. */
    public Cpu.Stop run(Prog p) {
        load(p);
        return runAt(p.at());
    }

    /** Continues after a HLT (or a budget stop) for at most {@code budget} instructions. */
    public Cpu.Stop resume(long budget) {
        cpu.halted = false;
        return cpu.run(cpu.icount() + budget);
    }

    /** The dword at SS:ESP + 4 * {@code i} (flat or identity-mapped stack). */
    public int stack(int i) {
        return cpu.peekLinear(cpu.segmentBase(AddressSpace.SS) + cpu.reg(Cpu.ESP) + 4 * i, 4);
    }

    /** Maps linear page {@code lin} to {@code phys} with PTE flags {@code flags}, making a page table if needed. */
    public void mapPage(int lin, int phys, int flags) {
        int pdeAt = PD + ((lin >>> 22) << 2);
        int pde = read32(pdeAt);
        if ((pde & PG_P) == 0 || (pde & PG_PS) != 0) {
            int pt = nextPageTable;
            nextPageTable += 0x1000;
            for (int i = 0; i < 0x1000; i += 4) write32(pt + i, 0);
            pde = pt | PG_P | PG_W | PG_U;
            write32(pdeAt, pde);
        }
        write32(pteAddress(lin), (phys & ~0xFFF) | flags);
    }

    /** Identity-maps [0, bytes) with PTE flags {@code flags}. */
    public void identityMap(int bytes, int flags) {
        for (int lin = 0; lin < bytes; lin += 0x1000) mapPage(lin, lin, flags);
    }

    /** A 4 MiB page (PSE) at {@code lin} to {@code phys}. */
    public void map4M(int lin, int phys, int flags) {
        write32(PD + ((lin >>> 22) << 2), (phys & 0xFFC00000) | flags | PG_PS);
    }

    public int pde(int lin) {
        return read32(PD + ((lin >>> 22) << 2));
    }

    public int pteAddress(int lin) {
        return (pde(lin) & ~0xFFF) + (((lin >>> 12) & 0x3FF) << 2);
    }

    public int pte(int lin) {
        return read32(pteAddress(lin));
    }

    /** Turns paging on with CR3 = {@link #PD} (CR4.PSE and CR0.WP as given). */
    public void enablePaging(boolean pse, boolean wp) {
        cpu.cr3 = PD;
        cpu.cr4 = pse ? cpu.cr4 | AddressSpace.CR4_PSE : cpu.cr4 & ~AddressSpace.CR4_PSE;
        cpu.cr0 |= AddressSpace.CR0_PG | (wp ? AddressSpace.CR0_WP : 0);
        cpu.flushTlb();
        cpu.modeChanged();
    }

    /** The address of GDT entry {@code index}; makes the GDT limit cover it. */
    public int gdtEntry(int index) {
        cpu.gdtLimit = Math.max(cpu.gdtLimit, index * 8 + 7);
        return GDT + index * 8;
    }

    /** A code or data descriptor in GDT entry {@code index}; returns its selector (RPL 0). */
    public int putSegment(int index, int base, int limit, int attr) {
        putDescriptor(gdtEntry(index), base, limit, attr);
        return index * 8;
    }

    /** A call gate (type 0xC, 32-bit, or 0x4) at descriptor address {@code at}. */
    public void putCallGate(int at, int sel, int offset, int params, int attr) {
        write32(at, (offset & 0xFFFF) | (sel << 16));
        write32(at + 4, (offset & 0xFFFF0000) | ((attr & 0xFF) << 8) | (params & 0x1F));
    }

    /** An IDT gate for {@code vector} to {@code sel}:{@code offset}; {@code type} as in the descriptor's byte 5. */
    public void putGate(int vector, int sel, int offset, int type) {
        write32(IDT + vector * 8, (offset & 0xFFFF) | (sel << 16));
        write32(IDT + vector * 8 + 4, (offset & 0xFFFF0000) | (type << 8));
    }

    /** Gives the TSS an I/O permission bitmap of {@code bytes} bytes at offset 0x68, all ports denied. */
    public void ioBitmap(int bytes) {
        write32(0x3000 + 0x64, 0x68 << 16);
        for (int i = 0; i <= bytes; i++) mem.poke(0x3000 + 0x68 + i, 0xFF);
        putDescriptor(GDT + 40, 0x3000, 0x68 + bytes, 0x008B);
        cpu.trLimit = 0x68 + bytes;
    }

    /** Allows port {@code port} in the I/O bitmap made by {@link #ioBitmap}. */
    public void allowPort(int port) {
        int at = 0x3000 + 0x68 + (port >>> 3);
        mem.poke(at, mem.peek(at) & ~(1 << (port & 7)));
    }

    /** Raises the INTR line with {@code vector}; the acknowledge lowers it again. */
    public void raiseInterrupt(int vector) {
        cpu.setInterruptController(() -> {
            cpu.setInterruptLine(false);
            return vector;
        });
        cpu.setInterruptLine(true);
    }
}
