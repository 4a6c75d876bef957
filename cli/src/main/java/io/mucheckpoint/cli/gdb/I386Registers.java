package io.mucheckpoint.cli.gdb;

import io.mucheckpoint.cpu.Cpu;
import io.mucheckpoint.cpu.CpuState;
import java.io.ByteArrayOutputStream;
import java.util.Arrays;

/**
 * The registers gdb sees, in the order of the target description: the i386 core feature (general
 * registers, EIP, EFLAGS, the six segment selectors, the x87 stack ST0-ST7 and its control
 * registers), then a feature of our own with CR0, CR2, CR3, CR4 and the retired-instruction count
 * ({@code $icount}), so a debugger script can tell exactly where in guest history it is. Those
 * are read-only (writes are ignored) and marked save-restore="no".
 * There is no SSE feature: the emulated processor is an i686 without SSE.
 */
final class I386Registers {
    static final int COUNT = 37;
    private static final int EIP = 8, EFLAGS = 9, CS = 10, ST0 = 16, FCTRL = 24, FSTAT = 25, FTAG = 26, FISEG = 27,
            FIOFF = 28, FOSEG = 29, FOOFF = 30, FOP = 31, CR0 = 32, ICOUNT = 36;
    /** gdb's segment order (cs ss ds es fs gs) as our segment numbers. */
    private static final int[] SEGMENT = {Cpu.SEG_CS, Cpu.SEG_SS, Cpu.SEG_DS, Cpu.SEG_ES, Cpu.SEG_FS, Cpu.SEG_GS};

    private I386Registers() {}

    static int size(int n) {
        if (n >= ST0 && n < ST0 + 8) return 10;
        if (n == ICOUNT) return 8;
        return 4;
    }

    static final String TARGET_XML = """
            <?xml version="1.0"?>
            <!DOCTYPE target SYSTEM "gdb-target.dtd">
            <target version="1.0">
              <architecture>i386</architecture>
              <feature name="org.gnu.gdb.i386.core">
                <flags id="i386_eflags" size="4">
                  <field name="CF" start="0" end="0"/>
                  <field name="" start="1" end="1"/>
                  <field name="PF" start="2" end="2"/>
                  <field name="AF" start="4" end="4"/>
                  <field name="ZF" start="6" end="6"/>
                  <field name="SF" start="7" end="7"/>
                  <field name="TF" start="8" end="8"/>
                  <field name="IF" start="9" end="9"/>
                  <field name="DF" start="10" end="10"/>
                  <field name="OF" start="11" end="11"/>
                  <field name="NT" start="14" end="14"/>
                  <field name="RF" start="16" end="16"/>
                  <field name="VM" start="17" end="17"/>
                  <field name="AC" start="18" end="18"/>
                  <field name="VIF" start="19" end="19"/>
                  <field name="VIP" start="20" end="20"/>
                  <field name="ID" start="21" end="21"/>
                </flags>
                <reg name="eax" bitsize="32" type="int32" regnum="0"/>
                <reg name="ecx" bitsize="32" type="int32"/>
                <reg name="edx" bitsize="32" type="int32"/>
                <reg name="ebx" bitsize="32" type="int32"/>
                <reg name="esp" bitsize="32" type="data_ptr"/>
                <reg name="ebp" bitsize="32" type="data_ptr"/>
                <reg name="esi" bitsize="32" type="int32"/>
                <reg name="edi" bitsize="32" type="int32"/>
                <reg name="eip" bitsize="32" type="code_ptr"/>
                <reg name="eflags" bitsize="32" type="i386_eflags"/>
                <reg name="cs" bitsize="32" type="int32"/>
                <reg name="ss" bitsize="32" type="int32"/>
                <reg name="ds" bitsize="32" type="int32"/>
                <reg name="es" bitsize="32" type="int32"/>
                <reg name="fs" bitsize="32" type="int32"/>
                <reg name="gs" bitsize="32" type="int32"/>
                <reg name="st0" bitsize="80" type="i387_ext"/>
                <reg name="st1" bitsize="80" type="i387_ext"/>
                <reg name="st2" bitsize="80" type="i387_ext"/>
                <reg name="st3" bitsize="80" type="i387_ext"/>
                <reg name="st4" bitsize="80" type="i387_ext"/>
                <reg name="st5" bitsize="80" type="i387_ext"/>
                <reg name="st6" bitsize="80" type="i387_ext"/>
                <reg name="st7" bitsize="80" type="i387_ext"/>
                <reg name="fctrl" bitsize="32" type="int" group="float"/>
                <reg name="fstat" bitsize="32" type="int" group="float"/>
                <reg name="ftag" bitsize="32" type="int" group="float"/>
                <reg name="fiseg" bitsize="32" type="int" group="float"/>
                <reg name="fioff" bitsize="32" type="int" group="float"/>
                <reg name="foseg" bitsize="32" type="int" group="float"/>
                <reg name="fooff" bitsize="32" type="int" group="float"/>
                <reg name="fop" bitsize="32" type="int" group="float"/>
              </feature>
              <feature name="io.mucheckpoint.i386.system">
                <reg name="cr0" bitsize="32" type="int32" group="system" save-restore="no"/>
                <reg name="cr2" bitsize="32" type="int32" group="system" save-restore="no"/>
                <reg name="cr3" bitsize="32" type="int32" group="system" save-restore="no"/>
                <reg name="cr4" bitsize="32" type="int32" group="system" save-restore="no"/>
                <reg name="icount" bitsize="64" type="uint64" group="system" save-restore="no"/>
              </feature>
            </target>
            """;

    /** Register {@code n}'s bytes, little-endian. */
    static byte[] read(Cpu cpu, int n) {
        if (n < 0 || n >= COUNT) throw new IllegalArgumentException("no register " + n);
        if (n < 8) return le(cpu.reg(n), 4);
        if (n == EIP) return le(cpu.eip(), 4);
        if (n == EFLAGS) return le(cpu.eflags(), 4);
        if (n < ST0) return le(cpu.segmentSelector(SEGMENT[n - CS]), 4);
        CpuState s = cpu.save();
        CpuState.FpuState f = s.fpu();
        if (n < FCTRL) {
            int top = (f.status() >> 11) & 7;
            int phys = (top + n - ST0) & 7;
            return Arrays.copyOfRange(f.registers(), phys * 10, phys * 10 + 10);
        }
        return switch (n) {
            case FCTRL -> le(f.control(), 4);
            case FSTAT -> le(f.status(), 4);
            case FTAG -> le(f.tag(), 4);
            case FISEG -> le(f.fcs(), 4);
            case FIOFF -> le(f.fip(), 4);
            case FOSEG -> le(f.fds(), 4);
            case FOOFF -> le(f.fdp(), 4);
            case FOP -> le(f.fop(), 4);
            case CR0 -> le(s.cr0(), 4);
            case CR0 + 1 -> le(s.cr2(), 4);
            case CR0 + 2 -> le(s.cr3(), 4);
            case CR0 + 3 -> le(s.cr4(), 4);
            default -> le(s.icount(), 8);
        };
    }

    /** Every register in order (the 'g' packet's contents). */
    static byte[] readAll(Cpu cpu) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (int n = 0; n < COUNT; n++) b.writeBytes(read(cpu, n));
        return b.toByteArray();
    }

    /**
     * Writes register {@code n}; returns whether anything changed. Writes to the control registers
     * and the instruction count are ignored: they are there to be read, and gdb puts back every
     * register it has cached when an inferior call returns, the instruction count included, which
     * must not fail the call. A segment selector is loaded as the processor would load it (its
     * descriptor from the tables in protected mode), and a selector the processor refuses is an error.
     */
    static boolean write(Cpu cpu, int n, byte[] v) {
        if (n < 0 || n >= COUNT) throw new IllegalArgumentException("no register " + n);
        if (v.length != size(n)) throw new IllegalArgumentException("register " + n + " takes " + size(n) + " bytes, not " + v.length);
        if (n >= CR0 || Arrays.equals(read(cpu, n), v)) return false;
        int x = n == ICOUNT ? 0 : (int) fromLe(v, 0, Math.min(4, v.length));
        if (n < 8) {
            cpu.setReg(n, x);
        } else if (n == EIP) {
            cpu.setEip(x);
        } else if (n == EFLAGS) {
            cpu.setEflags(x);
        } else if (n < ST0) {
            try {
                cpu.loadSegment(SEGMENT[n - CS], x & 0xFFFF);
            } catch (RuntimeException e) {
                throw new IllegalArgumentException("the processor refuses selector " + Integer.toHexString(x & 0xFFFF) + ": " + e.getMessage());
            }
        } else {
            cpu.restore(withFpu(cpu.save(), n, v, x));
        }
        return true;
    }

    private static CpuState withFpu(CpuState s, int n, byte[] v, int x) {
        CpuState.FpuState f = s.fpu();
        int control = f.control(), status = f.status(), tag = f.tag(), fip = f.fip(), fcs = f.fcs(), fdp = f.fdp(),
                fds = f.fds(), fop = f.fop();
        byte[] regs = f.registers().clone();
        if (n < FCTRL) {
            int top = (status >> 11) & 7;
            int phys = (top + n - ST0) & 7;
            System.arraycopy(v, 0, regs, phys * 10, 10);
            // A value written into an empty register makes it valid, as gdb's 'set $st0 = ...' means.
            if (((tag >> (2 * phys)) & 3) == 3) tag &= ~(3 << (2 * phys));
        } else {
            switch (n) {
                case FCTRL -> control = x & 0xFFFF;
                case FSTAT -> status = x & 0xFFFF;
                case FTAG -> tag = x & 0xFFFF;
                case FISEG -> fcs = x & 0xFFFF;
                case FIOFF -> fip = x;
                case FOSEG -> fds = x & 0xFFFF;
                case FOOFF -> fdp = x;
                default -> fop = x & 0x7FF;
            }
        }
        CpuState.FpuState nf = new CpuState.FpuState(control, status, tag, regs, fip, fcs, fdp, fds, fop);
        return new CpuState(s.regs(), s.eip(), s.eflags(), s.segments(), s.ldtr(), s.tr(), s.gdtBase(), s.gdtLimit(), s.idtBase(),
                s.idtLimit(), s.cr0(), s.cr2(), s.cr3(), s.cr4(), s.dr(), s.cpl(), s.halted(), s.interruptShadow(), s.nmiPending(),
                s.nmiBlocked(), s.shutdown(), s.icount(), s.tscOffset(), s.sysenterCs(), s.sysenterEsp(), s.sysenterEip(),
                s.apicBase(), s.miscEnable(), s.mtrr(), nf);
    }

    static byte[] le(long v, int size) {
        byte[] b = new byte[size];
        for (int i = 0; i < size; i++) b[i] = (byte) (v >>> (8 * i));
        return b;
    }

    static long fromLe(byte[] b, int off, int size) {
        long v = 0;
        for (int i = 0; i < size; i++) v |= (b[off + i] & 0xFFL) << (8 * i);
        return v;
    }
}
