package io.mucheckpoint.cpu;

import static io.mucheckpoint.cpu.AddressSpace.CR0_PE;
import static io.mucheckpoint.cpu.AddressSpace.CR0_PG;
import static io.mucheckpoint.cpu.AddressSpace.CR0_TS;
import static io.mucheckpoint.cpu.AddressSpace.CR0_WP;
import static io.mucheckpoint.cpu.AddressSpace.CR4_DE;
import static io.mucheckpoint.cpu.AddressSpace.CR4_PCE;
import static io.mucheckpoint.cpu.AddressSpace.CR4_PGE;
import static io.mucheckpoint.cpu.AddressSpace.CR4_PSE;
import static io.mucheckpoint.cpu.AddressSpace.CR4_TSD;
import static io.mucheckpoint.cpu.Cpu.EAX;
import static io.mucheckpoint.cpu.Cpu.EBX;
import static io.mucheckpoint.cpu.Cpu.ECX;
import static io.mucheckpoint.cpu.Cpu.EDX;
import static io.mucheckpoint.cpu.Registers.VM;
import static io.mucheckpoint.cpu.Registers.ZF;

import java.nio.charset.StandardCharsets;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * System instructions: CPUID, RDTSC, MSRs, control and debug registers, descriptor-table registers,
 * LDTR/TR, LAR/LSL/VERR/VERW/ARPL, SYSENTER/SYSEXIT. What CPUID advertises is exactly what the
 * rest of the processor implements.
 */
final class SystemOps {
    private static final Logger log = LoggerFactory.getLogger(SystemOps.class);

    static final int FAMILY_MODEL_STEPPING = 0x00000633;
    /**
     * CPUID.1:EDX: FPU (when the x87 is present), DE (CR4.DE, DR4/DR5), PSE, TSC, MSR, MCE (CR4.MCE
     * is accepted; no machine check is ever raised), CX8, SEP, MTRR (the MSRs below are kept as
     * storage and MTRRcap describes them), PGE, MCA (MCG_CAP reports no banks and no MCG_CTL),
     * CMOV. Not: VME, PAE, APIC (IA32_APIC_BASE reads with the global enable clear, which is how a
     * processor whose APIC is disabled answers), PAT, MMX, FXSR, SSE.
     */
    static final int FEATURES_EDX = (Fpu.PRESENT ? 1 : 0) | (1 << 2) | (1 << 3) | (1 << 4) | (1 << 5) | (1 << 7)
            | (1 << 8) | (1 << 11) | (1 << 12) | (1 << 13) | (1 << 14) | (1 << 15);
    /** IA32_MTRRCAP: 8 variable ranges, fixed ranges supported, write-combining; no SMRR. */
    static final long MTRR_CAP = 0x508;
    /** IA32_APIC_BASE: base 0xFEE00000, bootstrap processor, global enable clear (no local APIC). */
    static final long APIC_BASE = 0xFEE00100L;
    private static final int CR4_SUPPORTED = CR4_TSD | CR4_DE | CR4_PSE | AddressSpace.CR4_MCE | CR4_PGE | CR4_PCE;
    private static final byte[] BRAND = pad("uCheckpoint virtual i686 CPU", 48);

    /** MSRs kept as plain storage: the MTRRs a kernel may program even when it is told none exist. */
    private static final int[] MTRR_MSRS = {
        0x200, 0x201, 0x202, 0x203, 0x204, 0x205, 0x206, 0x207, 0x208, 0x209, 0x20A, 0x20B, 0x20C, 0x20D, 0x20E, 0x20F,
        0x250, 0x258, 0x259, 0x268, 0x269, 0x26A, 0x26B, 0x26C, 0x26D, 0x26E, 0x26F, 0x2FF
    };
    static final int MTRR_COUNT = MTRR_MSRS.length;

    private SystemOps() {}

    private static byte[] pad(String s, int n) {
        byte[] out = new byte[n];
        byte[] b = s.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(b, 0, out, 0, Math.min(b.length, n - 1));
        return out;
    }

    private static boolean pm(Cpu c) {
        return (c.cr0 & CR0_PE) != 0;
    }

    private static void requireCpl0(Cpu c) {
        if (pm(c) && ((c.eflags & VM) != 0 || c.cpl != 0)) throw CpuFault.gp(0);
    }

    private static void requireProtected(Cpu c) {
        if (!pm(c) || (c.eflags & VM) != 0) throw CpuFault.ud();
    }

    static void execute(Cpu c, Insn in) {
        switch (in.op) {
            case Op.CPUID: cpuid(c); return;
            case Op.RDTSC: {
                c.cr4Uses++;
                if ((c.cr4 & CR4_TSD) != 0 && pm(c) && c.cpl != 0) throw CpuFault.gp(0);
                long t = tsc(c);
                c.r[EAX] = (int) t;
                c.r[EDX] = (int) (t >>> 32);
                return;
            }
            case Op.RDPMC:
                c.cr4Uses++;
                if ((c.cr4 & CR4_PCE) == 0 && pm(c) && c.cpl != 0) throw CpuFault.gp(0);
                if (c.r[ECX] != 0 && c.r[ECX] != 1) throw CpuFault.gp(0);
                c.r[EAX] = 0;
                c.r[EDX] = 0;
                return;
            case Op.RDMSR: {
                requireCpl0(c);
                long v = readMsr(c, c.r[ECX]);
                c.r[EAX] = (int) v;
                c.r[EDX] = (int) (v >>> 32);
                return;
            }
            case Op.WRMSR:
                requireCpl0(c);
                writeMsr(c, c.r[ECX], ((long) c.r[EDX] << 32) | (c.r[EAX] & 0xFFFFFFFFL));
                return;
            case Op.INVD:
                requireCpl0(c);
                return;
            case Op.CLTS:
                requireCpl0(c);
                c.cr0Uses++;
                c.cr0 &= ~CR0_TS;
                return;
            case Op.MOV_CR:
                requireCpl0(c);
                if (in.sub == 0) c.r[in.s] = readCr(c, in.d);
                else writeCr(c, in.d, c.r[in.s]);
                return;
            case Op.MOV_DR:
                movDr(c, in);
                return;
            case Op.SYSENTER:
                ControlTransfer.sysenter(c);
                return;
            case Op.SYSEXIT:
                ControlTransfer.sysexit(c);
                return;
            case Op.GRP6_R: case Op.GRP6_M:
                group6(c, in);
                return;
            case Op.GRP7_R: case Op.GRP7_M:
                group7(c, in);
                return;
            case Op.LAR_R: case Op.LAR_M: case Op.LSL_R: case Op.LSL_M:
                larLsl(c, in);
                return;
            case Op.ARPL_R: case Op.ARPL_M:
                arpl(c, in);
                return;
            default:
                throw new IllegalStateException("unhandled op " + in.op + " (opcode " + Integer.toHexString(in.opcode) + ")");
        }
    }

    static long tsc(Cpu c) {
        return c.tscSource.getAsLong() + c.tscOffset;
    }

    // --- CPUID ----------------------------------------------------------------------------------

    private static void cpuid(Cpu c) {
        int leaf = c.r[EAX];
        int a, b, cx, d;
        if (leaf == 0) {
            a = 1;
            b = 0x756E6547; // "Genu"
            d = 0x49656E69; // "ineI"
            cx = 0x6C65746E; // "ntel"
        } else if (leaf == 0x80000000) {
            a = 0x80000004; b = 0; cx = 0; d = 0;
        } else if (leaf == 0x80000001) {
            a = 0; b = 0; cx = 0; d = 0;
        } else if (leaf >= 0x80000002 && leaf <= 0x80000004) {
            int o = (leaf - 0x80000002) * 16;
            a = word(o); b = word(o + 4); cx = word(o + 8); d = word(o + 12);
        } else {
            // Leaf 1, and (as Intel parts do) any leaf beyond the maximum answers like the highest one.
            a = FAMILY_MODEL_STEPPING;
            b = 0;
            cx = 0;
            d = FEATURES_EDX;
        }
        c.r[EAX] = a;
        c.r[EBX] = b;
        c.r[ECX] = cx;
        c.r[EDX] = d;
    }

    private static int word(int o) {
        return (BRAND[o] & 0xFF) | (BRAND[o + 1] & 0xFF) << 8 | (BRAND[o + 2] & 0xFF) << 16 | (BRAND[o + 3] & 0xFF) << 24;
    }

    // --- MSRs -----------------------------------------------------------------------------------

    private static long readMsr(Cpu c, int msr) {
        switch (msr) {
            case 0x10: return tsc(c);
            case 0x17: case 0x2A: case 0x8B: return 0;  // platform ID, EBL_CR_POWERON, microcode signature
            case 0xFE: return MTRR_CAP;
            case 0x179: case 0x17A: return 0;          // MCG_CAP (no banks, no MCG_CTL), MCG_STATUS
            case 0x1B: return c.apicBase;
            case 0x174: return c.sysenterCs & 0xFFFFFFFFL;
            case 0x175: return c.sysenterEsp & 0xFFFFFFFFL;
            case 0x176: return c.sysenterEip & 0xFFFFFFFFL;
            case 0x1A0: return c.miscEnable;
            default:
                int i = mtrrIndex(msr);
                if (i >= 0) return c.mtrr[i];
                log.debug("RDMSR of unknown MSR {}: #GP", Integer.toHexString(msr));
                throw CpuFault.gp(0);
        }
    }

    private static void writeMsr(Cpu c, int msr, long v) {
        switch (msr) {
            case 0x10: c.tscOffset = v - c.tscSource.getAsLong(); return;
            case 0x8B: case 0x17A: return;
            // There is no local APIC to enable: the base and the BSP flag are kept, the enable bit
            // (11) always reads 0, consistently with CPUID.1:EDX.APIC = 0.
            case 0x1B: c.apicBase = v & 0xFFFFF100L; return;
            case 0x174: c.sysenterCs = (int) v & 0xFFFF; return;
            case 0x175: c.sysenterEsp = (int) v; return;
            case 0x176: c.sysenterEip = (int) v; return;
            case 0x1A0: c.miscEnable = v; return;
            default:
                int i = mtrrIndex(msr);
                if (i >= 0) {
                    c.mtrr[i] = v;
                    return;
                }
                log.debug("WRMSR of unknown MSR {}: #GP", Integer.toHexString(msr));
                throw CpuFault.gp(0);
        }
    }

    private static int mtrrIndex(int msr) {
        for (int i = 0; i < MTRR_MSRS.length; i++) if (MTRR_MSRS[i] == msr) return i;
        return -1;
    }

    // --- control and debug registers ---------------------------------------------------------------

    private static int readCr(Cpu c, int n) {
        switch (n) {
            case 0: c.cr0Uses++; return c.cr0;
            case 2: return c.cr2;
            case 3: c.cr3Uses++; return c.cr3;
            default: c.cr4Uses++; return c.cr4;
        }
    }

    static void writeCr(Cpu c, int n, int v) {
        switch (n) {
            case 0: {
                if ((v & CR0_PG) != 0 && (v & CR0_PE) == 0) throw CpuFault.gp(0);
                if ((v & AddressSpace.CR0_NW) != 0 && (v & AddressSpace.CR0_CD) == 0) throw CpuFault.gp(0);
                c.cr0Uses++; // an overwrite, counted as a use (and the old value decides the TLB flush)
                int old = c.cr0;
                c.cr0 = (v & 0xE005003F) | AddressSpace.CR0_ET;
                if (((old ^ c.cr0) & (CR0_PG | CR0_WP | CR0_PE)) != 0) {
                    c.flushTlb();
                    c.modeChanged();
                }
                return;
            }
            case 2: c.cr2 = v; return;
            case 3:
                c.cr3Uses++; // an overwrite, counted as a use: the probe only decides what nothing touches
                c.cr3 = v & 0xFFFFF018;
                c.flushTlb();
                return;
            default: {
                c.cr4Uses++;
                if ((v & ~CR4_SUPPORTED) != 0) throw CpuFault.gp(0);
                int old = c.cr4;
                c.cr4 = v;
                if (((old ^ v) & (CR4_PSE | CR4_PGE)) != 0) c.flushTlb();
            }
        }
    }

    private static void movDr(Cpu c, Insn in) {
        requireCpl0(c);
        int n = in.d;
        if (n == 4 || n == 5) {
            c.cr4Uses++;
            if ((c.cr4 & CR4_DE) != 0) throw CpuFault.ud();
            n += 2;
        }
        if (in.sub == 0) {
            c.r[in.s] = c.dr[n];
        } else {
            int v = c.r[in.s];
            if (n == 6) v = (v & 0xE00F) | 0xFFFF0FF0;
            else if (n == 7) v = (v & 0xFFFF2BFF) | 0x400;
            c.dr[n] = v;
        }
    }

    // --- descriptor tables, LDTR, TR -------------------------------------------------------------

    private static void group6(Cpu c, Insn in) {
        requireProtected(c);
        boolean mem = in.op == Op.GRP6_M;
        switch (in.sub) {
            case 0: case 1: { // SLDT, STR
                int v = in.sub == 0 ? c.ldtSel : c.trSel;
                if (mem) c.wr16(in.seg, c.ea(in), v);
                else c.setReg(in.d, in.size, v);
                return;
            }
            case 2: case 3: { // LLDT, LTR
                requireCpl0(c);
                int sel = (mem ? c.rd16(in.seg, c.ea(in)) : c.r[in.d]) & 0xFFFF;
                if (in.sub == 2) lldt(c, sel); else ltr(c, sel);
                return;
            }
            default: { // VERR, VERW
                int sel = (mem ? c.rd16(in.seg, c.ea(in)) : c.r[in.d]) & 0xFFFF;
                c.materializeFlags();
                boolean ok = verify(c, sel, in.sub == 5);
                c.eflags = ok ? c.eflags | ZF : c.eflags & ~ZF;
            }
        }
    }

    private static void lldt(Cpu c, int sel) {
        if ((sel & 0xFFFC) == 0) {
            c.ldtSel = sel;
            c.ldtBase = 0;
            c.ldtLimit = 0;
            c.ldtAttr = 0;
            return;
        }
        if ((sel & 4) != 0) throw CpuFault.gp(sel & 0xFFFC);
        ControlTransfer.Descriptor d = ControlTransfer.readDescriptor(c, sel, CpuFault.GP);
        if (d.isSegment() || d.systemType() != 2) throw CpuFault.gp(sel & 0xFFFC);
        if (!d.present()) throw CpuFault.np(sel & 0xFFFC);
        c.ldtSel = sel;
        c.ldtBase = d.base();
        c.ldtLimit = d.limit();
        c.ldtAttr = d.attr();
    }

    private static void ltr(Cpu c, int sel) {
        if ((sel & 0xFFFC) == 0 || (sel & 4) != 0) throw CpuFault.gp(sel & 0xFFFC);
        ControlTransfer.Descriptor d = ControlTransfer.readDescriptor(c, sel, CpuFault.GP);
        int type = d.systemType();
        if (d.isSegment() || (type != 1 && type != 9)) throw CpuFault.gp(sel & 0xFFFC);
        if (!d.present()) throw CpuFault.np(sel & 0xFFFC);
        c.writeSys(c.gdtBase + (sel & 0xFFF8) + 4, 4, d.hi() | 0x200); // mark busy
        c.trSel = sel;
        c.trBase = d.base();
        c.trLimit = d.limit();
        c.trAttr = d.attr() | 2;
    }

    private static boolean verify(Cpu c, int sel, boolean write) {
        if ((sel & 0xFFFC) == 0) return false;
        ControlTransfer.Descriptor d;
        try {
            d = ControlTransfer.readDescriptor(c, sel, CpuFault.GP);
        } catch (CpuFault f) {
            if (f.vector == CpuFault.GP) return false;
            throw f;
        }
        if (!d.isSegment()) return false;
        if (!d.conforming() && (d.dpl() < c.cpl || d.dpl() < (sel & 3))) return false;
        return write ? d.writableData() : d.readable();
    }

    private static void group7(Cpu c, Insn in) {
        boolean mem = in.op == Op.GRP7_M;
        switch (in.sub) {
            case 0: case 1: { // SGDT, SIDT
                int ea = c.ea(in);
                int limit = in.sub == 0 ? c.gdtLimit : c.idtLimit;
                int base = in.sub == 0 ? c.gdtBase : c.idtBase;
                c.probeWrite(in.seg, ea, 2);
                c.probeWrite(in.seg, (ea + 2) & in.eaMask, 4);
                c.wr16(in.seg, ea, limit);
                c.wr32(in.seg, (ea + 2) & in.eaMask, in.size == 2 ? base & 0xFFFFFF : base);
                return;
            }
            case 2: case 3: { // LGDT, LIDT
                requireCpl0(c);
                int ea = c.ea(in);
                int limit = c.rd16(in.seg, ea);
                int base = c.rd32(in.seg, (ea + 2) & in.eaMask);
                if (in.size == 2) base &= 0xFFFFFF;
                if (in.sub == 2) { c.gdtLimit = limit; c.gdtBase = base; }
                else { c.idtLimit = limit; c.idtBase = base; }
                return;
            }
            case 4: // SMSW
                c.cr0Uses++;
                if (mem) c.wr16(in.seg, c.ea(in), c.cr0);
                else c.setReg(in.d, in.size, c.cr0);
                return;
            case 6: { // LMSW: can set PE but never clear it
                requireCpl0(c);
                int v = (mem ? c.rd16(in.seg, c.ea(in)) : c.r[in.d]) & 0xF;
                int cr0 = (c.cr0 & ~0xE) | (v & 0xE) | (c.cr0 & 1) | (v & 1);
                writeCr(c, 0, cr0);
                return;
            }
            case 7: // INVLPG
                requireCpl0(c);
                c.invalidatePage(c.segBase[in.seg] + c.ea(in));
                return;
            default:
                throw CpuFault.ud();
        }
    }

    private static void larLsl(Cpu c, Insn in) {
        requireProtected(c);
        boolean mem = in.op == Op.LAR_M || in.op == Op.LSL_M;
        boolean lar = in.op == Op.LAR_R || in.op == Op.LAR_M;
        int sel = (mem ? c.rd16(in.seg, c.ea(in)) : c.r[in.s]) & 0xFFFF;
        c.materializeFlags();
        c.eflags &= ~ZF;
        if ((sel & 0xFFFC) == 0) return;
        ControlTransfer.Descriptor d;
        try {
            d = ControlTransfer.readDescriptor(c, sel, CpuFault.GP);
        } catch (CpuFault f) {
            if (f.vector == CpuFault.GP) return;
            throw f;
        }
        if (!d.isSegment()) {
            int t = d.systemType();
            boolean valid = lar ? (t == 1 || t == 2 || t == 3 || t == 4 || t == 5 || t == 9 || t == 11 || t == 12)
                                : (t == 1 || t == 2 || t == 3 || t == 9 || t == 11);
            if (!valid) return;
        }
        if (!d.conforming() && (d.dpl() < c.cpl || d.dpl() < (sel & 3))) return;
        c.eflags |= ZF;
        if (lar) c.setReg(in.d, in.size, d.hi() & 0x00FFFF00);
        else c.setReg(in.d, in.size, d.limit());
    }

    private static void arpl(Cpu c, Insn in) {
        requireProtected(c);
        boolean mem = in.op == Op.ARPL_M;
        int ea = mem ? c.ea(in) : 0;
        int dst = mem ? c.rd16(in.seg, ea) : c.r[in.s] & 0xFFFF;
        int src = c.r[in.d] & 0xFFFF;
        c.materializeFlags();
        if ((dst & 3) < (src & 3)) {
            dst = (dst & ~3) | (src & 3);
            if (mem) c.wr16(in.seg, ea, dst);
            else c.setReg(in.s, 2, dst);
            c.eflags |= ZF;
        } else {
            c.eflags &= ~ZF;
        }
    }
}
