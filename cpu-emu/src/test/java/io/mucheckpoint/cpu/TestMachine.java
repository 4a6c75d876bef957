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
        write32(0x3000 + 0x66, 0x68 << 16);
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
}
