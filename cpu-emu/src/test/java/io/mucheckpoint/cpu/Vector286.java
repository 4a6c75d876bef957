package io.mucheckpoint.cpu;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One SingleStepTests 80286 real-mode vector (../shared/x86-tests/80286-real-mode/FORMAT.md), with
 * the facts about its instruction that the i686-difference rules ask: prefixes, opcode, ModRM and
 * the effective address of its memory operand, read from the vector's own bytes and initial state.
 */
final class Vector286 {
    static final String[] REGS = {"ax", "cx", "dx", "bx", "sp", "bp", "si", "di"};
    static final String[] SEGS = {"es", "cs", "ss", "ds"};
    static final int ES = 0, CS = 1, SS = 2, DS = 3;
    static final int AX = 0, CX = 1, DX = 2, BX = 3, SP = 4, BP = 5, SI = 6, DI = 7;

    final String file;
    final int idx;
    final String name;
    final String hash;
    /** The instruction's bytes followed by the terminating HLT. */
    final int[] bytes;
    final int flagsMask;
    final int[] iregs = new int[8];
    final int[] isegs = new int[4];
    final int iip;
    final int iflags;
    final int[] fregs = new int[8];
    final int[] fsegs = new int[4];
    final int fip;
    final int fflags;
    final Map<Integer, Integer> initRam = new LinkedHashMap<>();
    final Map<Integer, Integer> finalRam = new LinkedHashMap<>();
    /** The interrupt the 80286 took, or -1. */
    final int exception;

    // The instruction, decoded as far as the rules need.
    final int prefixes;
    final boolean lock;
    /** 0, 0xF2 or 0xF3. */
    final int rep;
    /** The segment the last segment-override prefix names (ES, CS, SS, DS), or -1. */
    final int segOverride;
    final int op;

    @SuppressWarnings("unchecked")
    Vector286(String file, Map<String, Object> t, int flagsMask) {
        this.file = file;
        this.flagsMask = flagsMask;
        idx = num(t.get("idx"));
        name = (String) t.get("name");
        hash = (String) t.get("hash");
        List<?> b = (List<?>) t.get("bytes");
        bytes = new int[b.size()];
        for (int i = 0; i < bytes.length; i++) bytes[i] = num(b.get(i));
        Map<String, Object> init = (Map<String, Object>) t.get("initial");
        Map<String, Object> fin = (Map<String, Object>) t.get("final");
        Map<String, Object> ir = (Map<String, Object>) init.get("regs");
        Map<String, Object> fr = (Map<String, Object>) fin.get("regs");
        for (int i = 0; i < 8; i++) {
            iregs[i] = num(ir.get(REGS[i]));
            fregs[i] = fr.containsKey(REGS[i]) ? num(fr.get(REGS[i])) : iregs[i];
        }
        for (int s = 0; s < 4; s++) {
            isegs[s] = num(ir.get(SEGS[s]));
            fsegs[s] = fr.containsKey(SEGS[s]) ? num(fr.get(SEGS[s])) : isegs[s];
        }
        iip = num(ir.get("ip"));
        fip = fr.containsKey("ip") ? num(fr.get("ip")) : iip;
        iflags = num(ir.get("flags"));
        fflags = fr.containsKey("flags") ? num(fr.get("flags")) : iflags;
        for (Object o : (List<?>) init.get("ram")) initRam.put(num(((List<?>) o).get(0)), num(((List<?>) o).get(1)));
        for (Object o : (List<?>) fin.get("ram")) finalRam.put(num(((List<?>) o).get(0)), num(((List<?>) o).get(1)));
        Map<String, Object> ex = (Map<String, Object>) t.get("exception");
        exception = ex == null ? -1 : num(ex.get("number"));

        int k = 0, r = 0, seg = -1;
        boolean l = false;
        while (k < bytes.length - 1) {
            int p = bytes[k];
            if (p == 0xF0) l = true;
            else if (p == 0xF2 || p == 0xF3) r = p;
            else if (p == 0x26) seg = ES;
            else if (p == 0x2E) seg = CS;
            else if (p == 0x36) seg = SS;
            else if (p == 0x3E) seg = DS;
            else break;
            k++;
        }
        prefixes = k;
        lock = l;
        rep = r;
        segOverride = seg;
        op = bytes[k];
    }

    private static int num(Object o) {
        return ((Long) o).intValue();
    }

    /** The instruction's length in bytes, prefixes included, the trailing HLT not. */
    int length() {
        return bytes.length - 1;
    }

    int flagsIn() {
        return (iflags & 0x0FFF) | 2; // FORMAT.md: FLAGS bits 12-15 cannot be set in real mode
    }

    boolean df() {
        return (iflags & 0x400) != 0;
    }

    /** A byte of memory as the vector starts, or -1 if the vector does not say (don't care). */
    int initByte(int addr) {
        Integer v = initRam.get(addr);
        return v == null ? -1 : v;
    }

    /** The 16-bit word at {@code seg:off} (offsets wrap within the segment) in the initial memory, or -1. */
    int initWord(int seg, int off) {
        int lo = initByte(isegs[seg] * 16 + (off & 0xFFFF));
        int hi = initByte(isegs[seg] * 16 + ((off + 1) & 0xFFFF));
        return lo < 0 || hi < 0 ? -1 : lo | hi << 8;
    }

    // --- ModRM ------------------------------------------------------------------------------------

    /** Whether the opcode has a ModRM byte (the 8086/80286 one-byte map). */
    boolean hasModrm() {
        int o = op;
        if (o < 0x40) return (o & 7) < 4;
        return o == 0x62 || o == 0x69 || o == 0x6B || (o >= 0x80 && o <= 0x8F) || o == 0xC0 || o == 0xC1
                || (o >= 0xC4 && o <= 0xC7) || (o >= 0xD0 && o <= 0xD3) || (o >= 0xD8 && o <= 0xDF)
                || o == 0xF6 || o == 0xF7 || o == 0xFE || o == 0xFF;
    }

    int modrm() {
        return bytes[prefixes + 1];
    }

    int mod() {
        return modrm() >> 6;
    }

    int reg() {
        return (modrm() >> 3) & 7;
    }

    int rm() {
        return modrm() & 7;
    }

    boolean memoryOperand() {
        return hasModrm() && mod() != 3;
    }

    /** Displacement bytes after the ModRM byte. */
    int dispLength() {
        int mod = mod(), rm = rm();
        if (mod == 0) return rm == 6 ? 2 : 0;
        return mod == 1 ? 1 : mod == 2 ? 2 : 0;
    }

    /** The byte right after ModRM and displacement (an imm8), or -1. */
    int byteAfterModrm() {
        int at = prefixes + 2 + dispLength();
        return at < length() ? bytes[at] : -1;
    }

    /** The 16-bit effective address of the ModRM memory operand, as the initial registers give it. */
    int ea() {
        int mod = mod(), rm = rm();
        int at = prefixes + 2;
        int disp = mod == 1 ? (byte) bytes[at] : (mod == 2 || (mod == 0 && rm == 6)) ? bytes[at] | bytes[at + 1] << 8 : 0;
        int base = switch (rm) {
            case 0 -> iregs[BX] + iregs[SI];
            case 1 -> iregs[BX] + iregs[DI];
            case 2 -> iregs[BP] + iregs[SI];
            case 3 -> iregs[BP] + iregs[DI];
            case 4 -> iregs[SI];
            case 5 -> iregs[DI];
            case 6 -> mod == 0 ? 0 : iregs[BP];
            default -> iregs[BX];
        };
        return (base + disp) & 0xFFFF;
    }

    /** The segment the ModRM memory operand goes through: the override, else SS for BP-based forms, else DS. */
    int eaSegment() {
        if (segOverride >= 0) return segOverride;
        int rm = rm();
        return rm == 2 || rm == 3 || (rm == 6 && mod() != 0) ? SS : DS;
    }

    /** The linear address of the ModRM memory operand's byte {@code k}. */
    int eaLinear(int k) {
        return isegs[eaSegment()] * 16 + ((ea() + k) & 0xFFFF);
    }

    @Override
    public String toString() {
        return file + " #" + idx + " " + name;
    }
}
