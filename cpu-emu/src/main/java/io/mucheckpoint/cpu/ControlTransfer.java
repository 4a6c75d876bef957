package io.mucheckpoint.cpu;

import static io.mucheckpoint.cpu.AddressSpace.CS;
import static io.mucheckpoint.cpu.AddressSpace.DS;
import static io.mucheckpoint.cpu.AddressSpace.ES;
import static io.mucheckpoint.cpu.AddressSpace.FS;
import static io.mucheckpoint.cpu.AddressSpace.GS;
import static io.mucheckpoint.cpu.AddressSpace.SS;
import static io.mucheckpoint.cpu.Registers.AC;
import static io.mucheckpoint.cpu.Registers.ID;
import static io.mucheckpoint.cpu.Registers.IF;
import static io.mucheckpoint.cpu.Registers.IOPL;
import static io.mucheckpoint.cpu.Registers.NT;
import static io.mucheckpoint.cpu.Registers.RF;
import static io.mucheckpoint.cpu.Registers.TF;
import static io.mucheckpoint.cpu.Registers.VM;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Everything that changes CS or the privilege level, and the segment loads whose checks they share:
 * far jumps, calls and returns (with call gates), IRET in all its forms, and the delivery of
 * interrupts and exceptions through the IVT or the IDT, including double and triple faults.
 * Hardware task switching is not implemented: a task gate or TSS as a target raises #GP.
 */
final class ControlTransfer {
    private static final Logger log = LoggerFactory.getLogger(ControlTransfer.class);

    static final int KIND_EXTERNAL = 0;   // INTR or NMI
    static final int KIND_SOFT = 1;       // INT n
    static final int KIND_INT3 = 2;       // INT3, INTO: software, but IOPL-insensitive in V86? no: checked like INT n
    static final int KIND_ICEBP = 3;      // INT1: no gate DPL check
    static final int KIND_EXCEPTION = 4;  // a fault or trap raised by an instruction
    static final int KIND_TRAP = 5;       // single-step #DB after an instruction

    private static final int EFLAGS_WRITABLE = 0x3F7FD5 & ~(Registers.VIF | Registers.VIP) | 2;

    private ControlTransfer() {}

    private static boolean protectedMode(Cpu c) {
        return (c.cr0 & AddressSpace.CR0_PE) != 0 && (c.eflags & VM) == 0;
    }

    private static boolean v86(Cpu c) {
        return (c.cr0 & AddressSpace.CR0_PE) != 0 && (c.eflags & VM) != 0;
    }

    static int iopl(Cpu c) {
        return (c.eflags >> 12) & 3;
    }

    // --- descriptors ----------------------------------------------------------------------------

    /** A segment descriptor as read from the GDT or LDT. */
    record Descriptor(int lo, int hi) {
        int base() {
            return (lo >>> 16) | ((hi & 0xFF) << 16) | (hi & 0xFF000000);
        }

        int limit() {
            int l = (lo & 0xFFFF) | (hi & 0xF0000);
            return (hi & 0x800000) != 0 ? (l << 12) | 0xFFF : l;
        }

        int attr() {
            return (hi >>> 8) & 0xF0FF;
        }

        int dpl() {
            return (hi >>> 13) & 3;
        }

        boolean present() {
            return (hi & 0x8000) != 0;
        }

        boolean isSegment() {
            return (hi & 0x1000) != 0;
        }

        boolean isCode() {
            return isSegment() && (hi & 0x800) != 0;
        }

        boolean conforming() {
            return isCode() && (hi & 0x400) != 0;
        }

        boolean readable() {
            return !isCode() || (hi & 0x200) != 0;
        }

        boolean writableData() {
            return isSegment() && !isCode() && (hi & 0x200) != 0;
        }

        int systemType() {
            return (hi >>> 8) & 0xF;
        }
    }

    /** Reads the descriptor {@code sel} names; #GP(sel) (or {@code vector}) if outside its table. */
    static Descriptor readDescriptor(Cpu c, int sel, int vector) {
        int index = sel & 0xFFF8;
        boolean ldt = (sel & 4) != 0;
        int base = ldt ? c.ldtBase : c.gdtBase;
        int limit = ldt ? c.ldtLimit : c.gdtLimit;
        if ((ldt && (c.ldtSel & 0xFFFC) == 0) || Integer.compareUnsigned(index + 7, limit) > 0) {
            throw CpuFault.withCode(vector, sel & 0xFFFC);
        }
        return new Descriptor(c.readSys(base + index, 4), c.readSys(base + index + 4, 4));
    }

    /** Sets the accessed bit of a descriptor through the memory door, if it is not set yet. */
    private static void markAccessed(Cpu c, int sel, Descriptor d) {
        if ((d.hi & 0x100) != 0) return;
        int base = (sel & 4) != 0 ? c.ldtBase : c.gdtBase;
        c.writeSys(base + (sel & 0xFFF8) + 4, 4, d.hi | 0x100);
    }

    // --- data and stack segment loads -----------------------------------------------------------

    static void loadSegment(Cpu c, int seg, int sel) {
        sel &= 0xFFFF;
        if (!protectedMode(c)) {
            if (v86(c)) {
                c.setSegmentCache(seg, sel, sel << 4, 0xFFFF, seg == CS ? 0xFB : 0xF3);
            } else {
                c.setSegmentCache(seg, sel, sel << 4, c.segLimit[seg], c.segAttr[seg]);
            }
            if (seg == SS) c.stack32 = false;
            return;
        }
        int rpl = sel & 3;
        if (seg == SS) {
            if ((sel & 0xFFFC) == 0) throw CpuFault.gp(0);
            Descriptor d = readDescriptor(c, sel, CpuFault.GP);
            if (rpl != c.cpl || d.dpl() != c.cpl || !d.writableData()) throw CpuFault.gp(sel & 0xFFFC);
            if (!d.present()) throw CpuFault.ss(sel & 0xFFFC);
            markAccessed(c, sel, d);
            c.setSegmentCache(SS, sel, d.base(), d.limit(), d.attr() | 1);
            c.stack32 = (d.attr() & 0x4000) != 0;
            return;
        }
        if ((sel & 0xFFFC) == 0) {
            c.setSegmentCache(seg, sel, 0, 0, 0);
            return;
        }
        Descriptor d = readDescriptor(c, sel, CpuFault.GP);
        if (!d.isSegment() || !d.readable()) throw CpuFault.gp(sel & 0xFFFC);
        if (!d.conforming() && (rpl > d.dpl() || c.cpl > d.dpl())) throw CpuFault.gp(sel & 0xFFFC);
        if (!d.present()) throw CpuFault.np(sel & 0xFFFC);
        markAccessed(c, sel, d);
        c.setSegmentCache(seg, sel, d.base(), d.limit(), d.attr() | 1);
    }

    /** After a privilege drop, data segments the new level may not use become null. */
    private static void nullInaccessibleSegments(Cpu c) {
        for (int s : new int[] {ES, DS, FS, GS}) {
            int attr = c.segAttr[s];
            boolean conformingCode = (attr & 0x1C) == 0x1C;
            int dpl = (attr >> 5) & 3;
            if ((c.segSel[s] & 0xFFFC) != 0 && !conformingCode && dpl < c.cpl) {
                c.setSegmentCache(s, 0, 0, 0, 0);
            }
        }
    }

    private static void loadCs(Cpu c, int sel, Descriptor d, int cpl) {
        markAccessed(c, sel, d);
        c.cpl = cpl;
        c.setSegmentCache(CS, (sel & 0xFFFC) | cpl, d.base(), d.limit(), d.attr() | 1);
        c.modeChanged();
    }

    private static void checkOffset(Cpu c, int offset, int limit) {
        if (Integer.compareUnsigned(offset, limit) > 0) throw CpuFault.gp(0);
    }

    // --- far jump / call / return -----------------------------------------------------------------

    static void farJump(Cpu c, int sel, int offset, int nextEip) {
        sel &= 0xFFFF;
        if (!protectedMode(c)) {
            checkOffset(c, offset, c.segLimit[CS]);
            loadRealCs(c, sel);
            c.eip = offset;
            return;
        }
        if ((sel & 0xFFFC) == 0) throw CpuFault.gp(0);
        Descriptor d = readDescriptor(c, sel, CpuFault.GP);
        if (d.isCode()) {
            checkCodeTarget(c, sel, d);
            checkOffset(c, offset, d.limit());
            loadCs(c, sel, d, c.cpl);
            c.eip = offset;
            return;
        }
        int type = d.systemType();
        if (type == 4 || type == 12) {
            if (d.dpl() < c.cpl || d.dpl() < (sel & 3)) throw CpuFault.gp(sel & 0xFFFC);
            if (!d.present()) throw CpuFault.np(sel & 0xFFFC);
            int target = d.lo >>> 16;
            int off = type == 12 ? (d.lo & 0xFFFF) | (d.hi & 0xFFFF0000) : d.lo & 0xFFFF;
            if ((target & 0xFFFC) == 0) throw CpuFault.gp(0);
            Descriptor t = readDescriptor(c, target, CpuFault.GP);
            if (!t.isCode() || (t.conforming() ? t.dpl() > c.cpl : t.dpl() != c.cpl)) {
                throw CpuFault.gp(target & 0xFFFC);
            }
            if (!t.present()) throw CpuFault.np(target & 0xFFFC);
            checkOffset(c, off, t.limit());
            loadCs(c, target, t, c.cpl);
            c.eip = off;
            return;
        }
        log.debug("far jump to unsupported system descriptor type {} (selector {})", type, Integer.toHexString(sel));
        throw CpuFault.gp(sel & 0xFFFC);
    }

    private static void checkCodeTarget(Cpu c, int sel, Descriptor d) {
        int rpl = sel & 3;
        if (d.conforming()) {
            if (d.dpl() > c.cpl) throw CpuFault.gp(sel & 0xFFFC);
        } else if (rpl > c.cpl || d.dpl() != c.cpl) {
            throw CpuFault.gp(sel & 0xFFFC);
        }
        if (!d.present()) throw CpuFault.np(sel & 0xFFFC);
    }

    private static void loadRealCs(Cpu c, int sel) {
        if (v86(c)) c.setSegmentCache(CS, sel, sel << 4, 0xFFFF, 0xFB);
        else c.setSegmentCache(CS, sel, sel << 4, c.segLimit[CS], c.segAttr[CS]);
    }

    static void farCall(Cpu c, int sel, int offset, int size, int nextEip) {
        sel &= 0xFFFF;
        if (!protectedMode(c)) {
            checkOffset(c, offset, c.segLimit[CS]);
            Frame f = Frame.current(c);
            f.push(c.segSel[CS], size);
            f.push(nextEip, size);
            f.commitEsp();
            loadRealCs(c, sel);
            c.eip = offset;
            return;
        }
        if ((sel & 0xFFFC) == 0) throw CpuFault.gp(0);
        Descriptor d = readDescriptor(c, sel, CpuFault.GP);
        if (d.isCode()) {
            checkCodeTarget(c, sel, d);
            checkOffset(c, offset, d.limit());
            Frame f = Frame.current(c);
            f.push(c.segSel[CS], size);
            f.push(nextEip, size);
            f.commitEsp();
            loadCs(c, sel, d, c.cpl);
            c.eip = offset;
            return;
        }
        int type = d.systemType();
        if (type != 4 && type != 12) {
            log.debug("far call to unsupported system descriptor type {}", type);
            throw CpuFault.gp(sel & 0xFFFC);
        }
        if (d.dpl() < c.cpl || d.dpl() < (sel & 3)) throw CpuFault.gp(sel & 0xFFFC);
        if (!d.present()) throw CpuFault.np(sel & 0xFFFC);
        int gateSize = type == 12 ? 4 : 2;
        int target = d.lo >>> 16;
        int off = gateSize == 4 ? (d.lo & 0xFFFF) | (d.hi & 0xFFFF0000) : d.lo & 0xFFFF;
        int params = d.hi & 0x1F;
        if ((target & 0xFFFC) == 0) throw CpuFault.gp(0);
        Descriptor t = readDescriptor(c, target, CpuFault.GP);
        if (!t.isCode() || t.dpl() > c.cpl) throw CpuFault.gp(target & 0xFFFC);
        if (!t.present()) throw CpuFault.np(target & 0xFFFC);
        checkOffset(c, off, t.limit());
        if (!t.conforming() && t.dpl() < c.cpl) {
            int newCpl = t.dpl();
            int[] stack = innerStack(c, newCpl);
            Descriptor ssd = checkInnerSs(c, stack[0], newCpl);
            boolean newStack32 = (ssd.attr() & 0x4000) != 0;
            Frame f = Frame.inner(c, stack[0], ssd, stack[1]);
            f.push(c.segSel[SS], gateSize);
            f.push(c.r[Cpu.ESP], gateSize);
            for (int k = params - 1; k >= 0; k--) {
                int from = c.stack32 ? c.r[Cpu.ESP] + k * gateSize : (c.r[Cpu.ESP] + k * gateSize) & 0xFFFF;
                f.push(gateSize == 4 ? c.rd32(SS, from) : c.rd16(SS, from), gateSize);
            }
            f.push(c.segSel[CS], gateSize);
            f.push(nextEip, gateSize);
            markAccessed(c, stack[0], ssd);
            c.setSegmentCache(SS, (stack[0] & 0xFFFC) | newCpl, ssd.base(), ssd.limit(), ssd.attr() | 1);
            c.stack32 = newStack32;
            f.commitEsp();
            loadCs(c, target, t, newCpl);
        } else {
            Frame f = Frame.current(c);
            f.push(c.segSel[CS], gateSize);
            f.push(nextEip, gateSize);
            f.commitEsp();
            loadCs(c, target, t, c.cpl);
        }
        c.eip = off;
    }

    static void farReturn(Cpu c, int size, int release) {
        if (!protectedMode(c)) {
            int off = c.peekStack(0, size);
            int sel = c.peekStack(size, size) & 0xFFFF;
            if (size == 2) off &= 0xFFFF;
            checkOffset(c, off, c.segLimit[CS]);
            c.adjustSp(2 * size + release);
            loadRealCs(c, sel);
            c.eip = off;
            return;
        }
        int off = c.peekStack(0, size);
        int sel = c.peekStack(size, size) & 0xFFFF;
        if (size == 2) off &= 0xFFFF;
        int rpl = sel & 3;
        if ((sel & 0xFFFC) == 0) throw CpuFault.gp(0);
        Descriptor d = readDescriptor(c, sel, CpuFault.GP);
        if (!d.isCode() || rpl < c.cpl || (d.conforming() ? d.dpl() > rpl : d.dpl() != rpl)) {
            throw CpuFault.gp(sel & 0xFFFC);
        }
        if (!d.present()) throw CpuFault.np(sel & 0xFFFC);
        checkOffset(c, off, d.limit());
        if (rpl == c.cpl) {
            loadCs(c, sel, d, rpl); // may fault (the accessed bit): before anything else changes
            c.adjustSp(2 * size + release);
            c.eip = off;
            return;
        }
        int newEsp = c.peekStack(2 * size + release, size);
        int newSs = c.peekStack(3 * size + release, size) & 0xFFFF;
        Descriptor ssd = checkOuterSs(c, newSs, rpl);
        markAccessed(c, newSs, ssd);
        loadCs(c, sel, d, rpl);
        c.setSegmentCache(SS, newSs, ssd.base(), ssd.limit(), ssd.attr() | 1);
        c.stack32 = (ssd.attr() & 0x4000) != 0;
        if (c.stack32) c.r[Cpu.ESP] = newEsp + release;
        else c.r[Cpu.ESP] = (c.r[Cpu.ESP] & 0xFFFF0000) | ((newEsp + release) & 0xFFFF);
        c.eip = off;
        nullInaccessibleSegments(c);
        c.modeChanged();
    }

    private static Descriptor checkOuterSs(Cpu c, int sel, int rpl) {
        if ((sel & 0xFFFC) == 0) throw CpuFault.gp(0);
        Descriptor d = readDescriptor(c, sel, CpuFault.GP);
        if ((sel & 3) != rpl || d.dpl() != rpl || !d.writableData()) throw CpuFault.gp(sel & 0xFFFC);
        if (!d.present()) throw CpuFault.ss(sel & 0xFFFC);
        return d;
    }

    // --- IRET -----------------------------------------------------------------------------------

    static void iret(Cpu c, int size) {
        // Any IRET ends NMI blocking, even one that then faults (as on Intel processors).
        c.nmiBlocked = false;
        if ((c.cr0 & AddressSpace.CR0_PE) == 0) {
            int off = c.peekStack(0, size);
            int sel = c.peekStack(size, size) & 0xFFFF;
            int fl = c.peekStack(2 * size, size);
            if (size == 2) off &= 0xFFFF;
            checkOffset(c, off, c.segLimit[CS]);
            c.adjustSp(3 * size);
            loadRealCs(c, sel);
            c.eip = off;
            int mask = size == 4 ? EFLAGS_WRITABLE & ~VM : 0xFFFF & EFLAGS_WRITABLE;
            c.setEflagsMasked(fl, mask & ~RF);
            c.modeChanged();
            return;
        }
        if (v86(c)) {
            if (iopl(c) != 3) throw CpuFault.gp(0);
            int off = c.peekStack(0, size);
            int sel = c.peekStack(size, size) & 0xFFFF;
            int fl = c.peekStack(2 * size, size);
            if (size == 2) off &= 0xFFFF;
            checkOffset(c, off, c.segLimit[CS]);
            c.adjustSp(3 * size);
            loadRealCs(c, sel);
            c.eip = off;
            int mask = (size == 4 ? EFLAGS_WRITABLE : 0xFFFF) & ~(IOPL | VM | RF);
            c.setEflagsMasked(fl, mask);
            return;
        }
        if ((c.eflags & NT) != 0) {
            log.debug("IRET with NT set (task return) is not supported");
            throw CpuFault.gp(c.trSel & 0xFFFC);
        }
        int off = c.peekStack(0, size);
        int sel = c.peekStack(size, size) & 0xFFFF;
        int fl = c.peekStack(2 * size, size);
        if (size == 4 && (fl & VM) != 0 && c.cpl == 0) {
            iretToV86(c, off, sel, fl);
            return;
        }
        if (size == 2) off &= 0xFFFF;
        int rpl = sel & 3;
        if ((sel & 0xFFFC) == 0) throw CpuFault.gp(0);
        Descriptor d = readDescriptor(c, sel, CpuFault.GP);
        if (!d.isCode() || rpl < c.cpl || (d.conforming() ? d.dpl() > rpl : d.dpl() != rpl)) {
            throw CpuFault.gp(sel & 0xFFFC);
        }
        if (!d.present()) throw CpuFault.np(sel & 0xFFFC);
        checkOffset(c, off, d.limit());
        int oldCpl = c.cpl;
        if (rpl == c.cpl) {
            loadCs(c, sel, d, rpl); // may fault (the accessed bit): before anything else changes
            c.adjustSp(3 * size);
        } else {
            int newEsp = c.peekStack(3 * size, size);
            int newSs = c.peekStack(4 * size, size) & 0xFFFF;
            Descriptor ssd = checkOuterSs(c, newSs, rpl);
            markAccessed(c, newSs, ssd);
            loadCs(c, sel, d, rpl);
            c.setSegmentCache(SS, newSs, ssd.base(), ssd.limit(), ssd.attr() | 1);
            c.stack32 = (ssd.attr() & 0x4000) != 0;
            if (c.stack32) c.r[Cpu.ESP] = newEsp;
            else c.r[Cpu.ESP] = (c.r[Cpu.ESP] & 0xFFFF0000) | (newEsp & 0xFFFF);
            nullInaccessibleSegments(c);
        }
        c.eip = off;
        setFlagsFromIret(c, fl, size, oldCpl);
        c.modeChanged();
    }

    private static void setFlagsFromIret(Cpu c, int fl, int size, int oldCpl) {
        int mask = EFLAGS_WRITABLE & ~VM;
        if (oldCpl != 0) mask &= ~IOPL;
        if (oldCpl > iopl(c)) mask &= ~IF;
        if (size == 2) mask &= 0xFFFF;
        c.setEflagsMasked(fl, mask);
    }

    private static void iretToV86(Cpu c, int off, int sel, int fl) {
        int esp = c.peekStack(12, 4);
        int ss = c.peekStack(16, 4) & 0xFFFF;
        int es = c.peekStack(20, 4) & 0xFFFF;
        int ds = c.peekStack(24, 4) & 0xFFFF;
        int fs = c.peekStack(28, 4) & 0xFFFF;
        int gs = c.peekStack(32, 4) & 0xFFFF;
        c.setEflagsMasked(fl, EFLAGS_WRITABLE);
        c.cpl = 3;
        c.setSegmentCache(CS, sel, sel << 4, 0xFFFF, 0xFB);
        c.setSegmentCache(SS, ss, ss << 4, 0xFFFF, 0xF3);
        c.setSegmentCache(ES, es, es << 4, 0xFFFF, 0xF3);
        c.setSegmentCache(DS, ds, ds << 4, 0xFFFF, 0xF3);
        c.setSegmentCache(FS, fs, fs << 4, 0xFFFF, 0xF3);
        c.setSegmentCache(GS, gs, gs << 4, 0xFFFF, 0xF3);
        c.r[Cpu.ESP] = esp;
        c.eip = off & 0xFFFF;
        c.modeChanged();
    }

    // --- flags instructions with privilege rules ---------------------------------------------------

    static void pushf(Cpu c, int size) {
        if (v86(c) && iopl(c) < 3) throw CpuFault.gp(0);
        int f = c.getEflags() & ~(VM | RF);
        c.push(f, size);
    }

    static void popf(Cpu c, int size) {
        int v = c.peekStack(0, size);
        int mask;
        if (v86(c)) {
            if (iopl(c) < 3) throw CpuFault.gp(0);
            mask = EFLAGS_WRITABLE & ~(IOPL | VM | RF);
        } else if ((c.cr0 & AddressSpace.CR0_PE) == 0 || c.cpl == 0) {
            mask = EFLAGS_WRITABLE & ~(VM | RF);
        } else {
            mask = EFLAGS_WRITABLE & ~(VM | RF | IOPL);
            if (c.cpl > iopl(c)) mask &= ~IF;
        }
        if (size == 2) mask &= 0xFFFF;
        c.adjustSp(size);
        c.setEflagsMasked(v, mask);
    }

    static void cli(Cpu c) {
        if ((c.cr0 & AddressSpace.CR0_PE) != 0 && c.cpl > iopl(c)) throw CpuFault.gp(0);
        c.eflags &= ~IF;
    }

    static void sti(Cpu c) {
        if ((c.cr0 & AddressSpace.CR0_PE) != 0 && c.cpl > iopl(c)) throw CpuFault.gp(0);
        if ((c.eflags & IF) == 0) c.interruptShadow = true;
        c.eflags |= IF;
    }

    /** I/O permission: CPL <= IOPL, or the TSS I/O bitmap allows every byte of the access. */
    static void checkIo(Cpu c, int port, int size) {
        if ((c.cr0 & AddressSpace.CR0_PE) == 0) return;
        if (!v86(c) && c.cpl <= iopl(c)) return;
        int type = (c.trAttr & 0xF);
        if ((type != 9 && type != 11) || Integer.compareUnsigned(c.trLimit, 0x67) < 0) throw CpuFault.gp(0);
        int mapBase = c.readSys(c.trBase + 0x66, 2);
        int byteOff = mapBase + (port >>> 3);
        if (Integer.compareUnsigned(byteOff + 1, c.trLimit) > 0) throw CpuFault.gp(0);
        int bits = c.readSys(c.trBase + byteOff, 2);
        int want = ((1 << size) - 1) << (port & 7);
        if ((bits & want) != 0) throw CpuFault.gp(0);
    }

    // --- interrupts and exceptions ------------------------------------------------------------------

    /** INT n, INT3, INTO, INT1: EIP is already past the instruction when the frame is pushed. */
    static void softwareInterrupt(Cpu c, int vector, int nextEip, int kind) {
        if (v86(c) && iopl(c) < 3 && kind != KIND_ICEBP) throw CpuFault.gp(0);
        int saved = c.eip;
        c.eip = nextEip;
        try {
            interrupt(c, vector, 0, false, kind);
        } catch (CpuFault f) {
            c.eip = saved;
            throw f;
        }
    }

    /**
     * Delivers an exception raised by the instruction at EIP, turning a fault during delivery into a
     * double fault where the architecture says so, and a fault while delivering #DF into a shutdown.
     */
    static void exception(Cpu c, CpuFault fault) {
        if (c.icount != c.faultLoopIcount) {
            c.faultLoopIcount = c.icount;
            c.faultLoopCount = 0;
        }
        if (++c.faultLoopCount > Cpu.FAULT_LOOP_LIMIT) {
            // Every handler faults before completing an instruction and the stack wraps instead of
            // running out (real mode, 16-bit stacks): the processor would deliver exceptions forever
            // without time passing. Stop it, as a watchdog would, rather than spin inside run().
            c.shutdown = true;
            c.shutdownReason = String.format("exception loop (%d exceptions delivered without completing an instruction; "
                    + "the last was exception %d at %04x:%08x)", Cpu.FAULT_LOOP_LIMIT, fault.vector, c.segSel[CS], c.eip);
            return;
        }
        int v = fault.vector;
        int err = fault.errorCode;
        boolean hasErr = fault.hasErrorCode;
        int outer = -1;
        for (int depth = 0; depth < 8; depth++) {
            if (outer == CpuFault.DF) break;
            if (outer >= 0 && isDoubleFault(outer, v)) {
                v = CpuFault.DF;
                err = 0;
                hasErr = true;
            }
            try {
                c.halted = false;
                interrupt(c, v, err, hasErr, KIND_EXCEPTION);
                return;
            } catch (CpuFault g) {
                outer = v;
                v = g.vector;
                err = g.errorCode;
                hasErr = g.hasErrorCode;
            }
        }
        c.shutdown = true;
        c.shutdownReason = "triple fault (exception " + v + " while delivering exception " + outer + ")";
    }

    private static boolean contributory(int v) {
        return v == CpuFault.DE || (v >= CpuFault.TS && v <= CpuFault.GP);
    }

    private static boolean isDoubleFault(int first, int second) {
        return (contributory(first) && contributory(second))
                || (first == CpuFault.PF && (contributory(second) || second == CpuFault.PF));
    }

    /** Delivers vector {@code vector} through the IVT (real mode) or the IDT. */
    static void interrupt(Cpu c, int vector, int err, boolean hasErr, int kind) {
        if (kind == KIND_EXTERNAL || kind == KIND_TRAP) {
            try {
                deliver(c, vector, err, hasErr, kind);
            } catch (CpuFault f) {
                exception(c, f);
            }
        } else {
            deliver(c, vector, err, hasErr, kind);
        }
    }

    private static void deliver(Cpu c, int vector, int err, boolean hasErr, int kind) {
        if ((c.cr0 & AddressSpace.CR0_PE) == 0) {
            deliverReal(c, vector);
            return;
        }
        int ext = (kind == KIND_EXTERNAL || kind == KIND_EXCEPTION || kind == KIND_TRAP) ? 1 : 0;
        int idx = vector * 8;
        if (Integer.compareUnsigned(idx + 7, c.idtLimit) > 0) throw CpuFault.gp(idx + 2 + ext);
        int lo = c.readSys(c.idtBase + idx, 4);
        int hi = c.readSys(c.idtBase + idx + 4, 4);
        int type = (hi >>> 8) & 0x1F;
        int gateDpl = (hi >>> 13) & 3;
        if (type != 0x06 && type != 0x07 && type != 0x0E && type != 0x0F && type != 0x05) {
            throw CpuFault.gp(idx + 2 + ext);
        }
        if ((kind == KIND_SOFT || kind == KIND_INT3) && gateDpl < c.cpl) throw CpuFault.gp(idx + 2);
        if ((hi & 0x8000) == 0) throw CpuFault.np(idx + 2 + ext);
        if (type == 0x05) {
            log.debug("interrupt {} through a task gate is not supported", vector);
            throw CpuFault.gp(idx + 2 + ext);
        }
        boolean gate32 = (type & 8) != 0;
        boolean trapGate = (type & 1) != 0;
        int sel = lo >>> 16;
        int offset = gate32 ? (lo & 0xFFFF) | (hi & 0xFFFF0000) : lo & 0xFFFF;
        if ((sel & 0xFFFC) == 0) throw CpuFault.gp(ext);
        Descriptor d = readDescriptor(c, sel, CpuFault.GP);
        if (!d.isCode() || d.dpl() > c.cpl) throw CpuFault.gp((sel & 0xFFFC) + ext);
        if (!d.present()) throw CpuFault.np((sel & 0xFFFC) + ext);
        checkOffset(c, offset, d.limit());
        int size = gate32 ? 4 : 2;
        int oldFlags = c.getEflags();
        boolean fromV86 = (oldFlags & VM) != 0;
        if (!d.conforming() && d.dpl() < c.cpl) {
            int newCpl = d.dpl();
            if (fromV86 && newCpl != 0) throw CpuFault.gp(sel & 0xFFFC);
            int[] stack = innerStack(c, newCpl);
            Descriptor ssd = checkInnerSs(c, stack[0], newCpl);
            boolean newStack32 = (ssd.attr() & 0x4000) != 0;
            Frame f = Frame.inner(c, stack[0], ssd, stack[1]);
            if (fromV86) {
                f.push(c.segSel[GS], size);
                f.push(c.segSel[FS], size);
                f.push(c.segSel[DS], size);
                f.push(c.segSel[ES], size);
            }
            f.push(c.segSel[SS], size);
            f.push(c.r[Cpu.ESP], size);
            f.push(oldFlags, size);
            f.push(c.segSel[CS], size);
            f.push(c.eip, size);
            if (hasErr) f.push(err, size);
            // Everything is on the new stack: now commit.
            markAccessed(c, stack[0], ssd);
            c.eflags &= ~(TF | NT | RF | VM | (trapGate ? 0 : IF));
            if (fromV86) {
                for (int s : new int[] {ES, DS, FS, GS}) c.setSegmentCache(s, 0, 0, 0, 0);
            }
            c.cpl = newCpl;
            c.setSegmentCache(SS, (stack[0] & 0xFFFC) | newCpl, ssd.base(), ssd.limit(), ssd.attr() | 1);
            c.stack32 = newStack32;
            f.commitEsp();
            loadCs(c, sel, d, newCpl);
        } else {
            if (fromV86) throw CpuFault.gp(sel & 0xFFFC);
            Frame f = Frame.current(c);
            f.push(oldFlags, size);
            f.push(c.segSel[CS], size);
            f.push(c.eip, size);
            if (hasErr) f.push(err, size);
            f.commitEsp();
            c.eflags &= ~(TF | NT | RF | VM | (trapGate ? 0 : IF));
            loadCs(c, sel, d, c.cpl);
        }
        c.eip = offset;
    }

    private static void deliverReal(Cpu c, int vector) {
        int idx = vector * 4;
        if (Integer.compareUnsigned(idx + 3, c.idtLimit) > 0) throw CpuFault.gp(0);
        int off = c.readSys(c.idtBase + idx, 2);
        int sel = c.readSys(c.idtBase + idx + 2, 2);
        Frame f = Frame.current(c);
        f.push(c.getEflags(), 2);
        f.push(c.segSel[CS], 2);
        f.push(c.eip, 2);
        f.commitEsp();
        c.eflags &= ~(IF | TF | AC | RF);
        loadRealCs(c, sel);
        c.eip = off;
    }

    /** SS:ESP for privilege level {@code dpl} from the current TSS. */
    static int[] innerStack(Cpu c, int dpl) {
        int type = c.trAttr & 0xF;
        if ((c.trAttr & 0x80) == 0) throw CpuFault.ts(c.trSel & 0xFFFC);
        if (type == 9 || type == 11) {
            int at = 4 + dpl * 8;
            if (Integer.compareUnsigned(at + 5, c.trLimit) > 0) throw CpuFault.ts(c.trSel & 0xFFFC);
            return new int[] {c.readSys(c.trBase + at + 4, 2), c.readSys(c.trBase + at, 4)};
        }
        int at = 2 + dpl * 4;
        if (Integer.compareUnsigned(at + 3, c.trLimit) > 0) throw CpuFault.ts(c.trSel & 0xFFFC);
        return new int[] {c.readSys(c.trBase + at + 2, 2), c.readSys(c.trBase + at, 2)};
    }

    private static Descriptor checkInnerSs(Cpu c, int sel, int dpl) {
        if ((sel & 0xFFFC) == 0) throw CpuFault.ts(sel & 0xFFFC);
        Descriptor d = readDescriptor(c, sel, CpuFault.TS);
        if ((sel & 3) != dpl || d.dpl() != dpl || !d.writableData()) throw CpuFault.ts(sel & 0xFFFC);
        if (!d.present()) throw CpuFault.ss(sel & 0xFFFC);
        return d;
    }

    /**
     * Pushes for a control transfer onto a stack that may not be the current one yet. Writes go
     * through the memory door at once; registers change only on {@link #commitEsp()}, so a fault on
     * the way leaves SS:ESP and CS:EIP as they were.
     */
    static final class Frame {
        private final Cpu c;
        private final int base;
        private final long limit;
        private final boolean expandDown;
        private final boolean stack32;
        private final boolean user;
        private final int faultCode;
        private int esp;

        private Frame(Cpu c, int base, int limit, int attr, int esp, boolean stack32, boolean user, int faultCode) {
            this.c = c;
            this.base = base;
            this.limit = limit & 0xFFFFFFFFL;
            this.expandDown = (attr & 0x1C) == 0x14; // data, expand-down
            this.esp = esp;
            this.stack32 = stack32;
            this.user = user;
            this.faultCode = faultCode;
        }

        /** The current SS:ESP; a push beyond SS's limit raises #SS(0). */
        static Frame current(Cpu c) {
            boolean pm = (c.cr0 & AddressSpace.CR0_PE) != 0 && (c.eflags & VM) == 0;
            return new Frame(c, c.segBase[SS], c.segLimit[SS], pm ? c.segAttr[SS] : 0, c.r[Cpu.ESP], c.stack32,
                    c.cpl == 3, 0);
        }

        /** A new inner-level stack {@code sel}:{@code esp} from the TSS; beyond its limit, #SS(sel). */
        static Frame inner(Cpu c, int sel, Descriptor ssd, int esp) {
            return new Frame(c, ssd.base(), ssd.limit(), ssd.attr(), esp, (ssd.attr() & 0x4000) != 0, false,
                    sel & 0xFFFC);
        }

        void push(int v, int size) {
            esp -= size;
            int off = stack32 ? esp : esp & 0xFFFF;
            long first = off & 0xFFFFFFFFL;
            long last = first + size - 1;
            boolean ok = expandDown ? first > limit && last <= (stack32 ? 0xFFFFFFFFL : 0xFFFFL) : last <= limit;
            if (!ok) throw CpuFault.ss(faultCode);
            if (!user) {
                c.writeSys(base + off, size, v);
            } else if (size == 4) {
                c.wr32(SS, off, v);
            } else {
                c.wr16(SS, off, v);
            }
        }

        void commitEsp() {
            if (stack32) c.r[Cpu.ESP] = esp;
            else c.r[Cpu.ESP] = (c.r[Cpu.ESP] & 0xFFFF0000) | (esp & 0xFFFF);
        }
    }

    // --- SYSENTER / SYSEXIT -----------------------------------------------------------------------

    static void sysenter(Cpu c) {
        if ((c.cr0 & AddressSpace.CR0_PE) == 0 || (c.sysenterCs & 0xFFFC) == 0) throw CpuFault.gp(0);
        c.eflags &= ~(VM | IF | RF);
        c.cpl = 0;
        int cs = c.sysenterCs & 0xFFFC;
        c.setSegmentCache(CS, cs, 0, 0xFFFFFFFF, 0xC09B);
        c.setSegmentCache(SS, cs + 8, 0, 0xFFFFFFFF, 0xC093);
        c.r[Cpu.ESP] = c.sysenterEsp;
        c.eip = c.sysenterEip;
        c.modeChanged();
    }

    static void sysexit(Cpu c) {
        if ((c.cr0 & AddressSpace.CR0_PE) == 0 || (c.sysenterCs & 0xFFFC) == 0 || c.cpl != 0
                || (c.eflags & VM) != 0) {
            throw CpuFault.gp(0);
        }
        int cs = c.sysenterCs & 0xFFFC;
        c.cpl = 3;
        c.setSegmentCache(CS, (cs + 16) | 3, 0, 0xFFFFFFFF, 0xC0FB);
        c.setSegmentCache(SS, (cs + 24) | 3, 0, 0xFFFFFFFF, 0xC0F3);
        c.r[Cpu.ESP] = c.r[Cpu.ECX];
        c.eip = c.r[Cpu.EDX];
        c.modeChanged();
    }

    static int eflagsWritable() {
        return EFLAGS_WRITABLE | ID;
    }
}
