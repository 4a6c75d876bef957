package io.mucheckpoint.cpu;

import static io.mucheckpoint.cpu.Cpu.ZERO_REG;

/**
 * Turns instruction bytes into {@link Insn}s. Bytes come from {@link Cpu#fetchCode}, which applies
 * the CS limit and paging, so a fetch fault surfaces here exactly as the hardware raises it.
 * Encodings the processor rejects decode to {@link Op#UD} or {@link Op#GP0}, which raise their
 * exception only if execution reaches them.
 */
final class Decoder {
    static final int ES = 0, CS = 1, SS = 2, DS = 3, FS = 4, GS = 5;
    private static final int EAX = 0, ECX = 1, EDX = 2, EBX = 3, ESP = 4, EBP = 5, ESI = 6, EDI = 7;
    private static final int MAX_LENGTH = 15;

    /** Thrown internally when an instruction runs past 15 bytes. */
    private static final class TooLong extends RuntimeException {
        TooLong() {
            super(null, null, false, false);
        }
    }

    private static final TooLong TOO_LONG = new TooLong();

    private final Cpu cpu;
    private int start;
    private int pos;
    private int ipMask;
    private boolean code32;

    // Per-instruction prefix state.
    private boolean o32;
    private boolean a32;
    private int segOverride;
    private boolean lock;
    /**
     * The 80286 ignores LOCK where the i686 raises #UD. Only the conformance test sets this, to check
     * a LOCK-prefixed real-hardware vector's instruction semantics; the machine never does.
     */
    boolean lockIgnoredAs80286;
    private int rep;
    // ModRM state of the current instruction.
    private int mod;
    private int regField;
    private int rmField;

    Decoder(Cpu cpu) {
        this.cpu = cpu;
    }

    /** Decodes the instruction at {@code eip}; {@code in.ofs/end} are left relative to {@code entry}. */
    void decode(Insn in, int eip, int entry, boolean code32) {
        this.code32 = code32;
        this.ipMask = code32 ? -1 : 0xFFFF;
        this.start = eip;
        this.pos = 0;
        clear(in);
        try {
            decodeInto(in);
            if (lock && !lockable(in) && !lockIgnoredAs80286) {
                in.op = Op.UD;
            }
            Op.specialise(in);
        } catch (TooLong e) {
            clear(in);
            in.op = Op.GP0;
            pos = MAX_LENGTH;
        }
        in.ofs = eip - entry;
        in.end = in.ofs + pos;
    }

    /** Bytes the last {@link #decode} consumed. */
    int length() {
        return pos;
    }

    private static void clear(Insn in) {
        in.op = Op.UD; in.size = 4; in.sub = 0; in.d = 0; in.s = 0; in.seg = DS;
        in.base = ZERO_REG; in.index = ZERO_REG; in.scale = 0; in.disp = 0; in.eaMask = -1;
        in.imm = 0; in.imm2 = 0; in.rep = 0; in.opcode = 0;
    }

    private int next8() {
        if (pos >= MAX_LENGTH) throw TOO_LONG;
        int b = cpu.fetchCode((start + pos) & ipMask);
        pos++;
        return b;
    }

    private int next16() {
        int lo = next8();
        return lo | (next8() << 8);
    }

    private int next32() {
        int lo = next16();
        return lo | (next16() << 16);
    }

    private int imm(int size) {
        return size == 1 ? next8() : size == 2 ? next16() : next32();
    }

    private int simm8() {
        return (byte) next8();
    }

    private void decodeInto(Insn in) {
        o32 = code32;
        a32 = code32;
        segOverride = -1;
        lock = false;
        rep = 0;
        int b;
        prefixes:
        while (true) {
            b = next8();
            switch (b) {
                case 0x66: o32 = !code32; break;
                case 0x67: a32 = !code32; break;
                case 0x26: segOverride = ES; break;
                case 0x2E: segOverride = CS; break;
                case 0x36: segOverride = SS; break;
                case 0x3E: segOverride = DS; break;
                case 0x64: segOverride = FS; break;
                case 0x65: segOverride = GS; break;
                case 0xF0: lock = true; break;
                case 0xF2: rep = Insn.REP_NE; break;
                case 0xF3: rep = Insn.REP_E; break;
                default: break prefixes;
            }
        }
        in.opcode = b;
        int osz = o32 ? 4 : 2;
        in.size = osz;
        in.eaMask = a32 ? -1 : 0xFFFF;
        in.seg = segOverride >= 0 ? segOverride : DS;
        if (b == 0x0F) {
            decode0F(in, next8(), osz);
            return;
        }
        if (b < 0x40 && (b & 7) < 6) {
            alu(in, b >> 3, b & 7, osz);
            return;
        }
        switch (b) {
            case 0x06: case 0x0E: case 0x16: case 0x1E:
                in.op = Op.PUSH_SEG; in.sub = b >> 3; return;
            case 0x07: case 0x17: case 0x1F:
                in.op = Op.POP_SEG; in.sub = b >> 3; return;
            case 0x27: in.op = Op.DAA; return;
            case 0x2F: in.op = Op.DAS; return;
            case 0x37: in.op = Op.AAA; return;
            case 0x3F: in.op = Op.AAS; return;
            case 0x40: case 0x41: case 0x42: case 0x43: case 0x44: case 0x45: case 0x46: case 0x47:
                in.op = Op.INC_R; in.d = b & 7; return;
            case 0x48: case 0x49: case 0x4A: case 0x4B: case 0x4C: case 0x4D: case 0x4E: case 0x4F:
                in.op = Op.DEC_R; in.d = b & 7; return;
            case 0x50: case 0x51: case 0x52: case 0x53: case 0x54: case 0x55: case 0x56: case 0x57:
                in.op = Op.PUSH_R; in.s = b & 7; return;
            case 0x58: case 0x59: case 0x5A: case 0x5B: case 0x5C: case 0x5D: case 0x5E: case 0x5F:
                in.op = Op.POP_R; in.d = b & 7; return;
            case 0x60: in.op = Op.PUSHA; return;
            case 0x61: in.op = Op.POPA; return;
            case 0x62:
                if (modrm(in)) { in.op = Op.BOUND; in.d = regField; } else in.op = Op.UD;
                return;
            case 0x63:
                if (modrm(in)) { in.op = Op.ARPL_M; } else { in.op = Op.ARPL_R; in.s = rmField; }
                in.d = regField; in.size = 2;
                return;
            case 0x68: in.op = Op.PUSH_I; in.imm = imm(osz); return;
            case 0x6A: in.op = Op.PUSH_I; in.imm = simm8(); return;
            case 0x69: case 0x6B: {
                boolean mem = modrm(in);
                in.op = mem ? Op.IMUL3_M : Op.IMUL3_R;
                in.d = regField;
                in.s = rmField;
                in.imm = b == 0x69 ? signExtend(imm(osz), osz) : simm8();
                return;
            }
            case 0x6C: case 0x6D: stringOp(in, Op.INS, b, osz); return;
            case 0x6E: case 0x6F: stringOp(in, Op.OUTS, b, osz); return;
            case 0x70: case 0x71: case 0x72: case 0x73: case 0x74: case 0x75: case 0x76: case 0x77:
            case 0x78: case 0x79: case 0x7A: case 0x7B: case 0x7C: case 0x7D: case 0x7E: case 0x7F:
                in.op = Op.JCC; in.sub = b & 15; in.imm = simm8(); return;
            case 0x80: case 0x82: group1(in, 1, 1); return;
            case 0x81: group1(in, osz, osz); return;
            case 0x83: group1(in, osz, 1); return;
            case 0x84: case 0x85: {
                int sz = b == 0x84 ? 1 : osz;
                in.size = sz; in.sub = 8;
                if (modrm(in)) { in.op = Op.ALU_MR; } else { in.op = Op.ALU_RR; in.d = rmField; }
                in.s = regField;
                return;
            }
            case 0x86: case 0x87: {
                in.size = b == 0x86 ? 1 : osz;
                if (modrm(in)) { in.op = Op.XCHG_RM; } else { in.op = Op.XCHG_RR; in.s = rmField; }
                in.d = regField;
                return;
            }
            case 0x88: case 0x89: {
                in.size = b == 0x88 ? 1 : osz;
                if (modrm(in)) { in.op = Op.MOV_MR; } else { in.op = Op.MOV_RR; in.d = rmField; }
                in.s = regField;
                return;
            }
            case 0x8A: case 0x8B: {
                in.size = b == 0x8A ? 1 : osz;
                in.op = modrm(in) ? Op.MOV_RM : Op.MOV_RR;
                in.d = regField;
                in.s = rmField;
                return;
            }
            case 0x8C: {
                boolean mem = modrm(in);
                if (regField > 5) { in.op = Op.UD; return; }
                in.sub = regField;
                if (mem) { in.op = Op.MOV_RS_M; in.size = 2; } else { in.op = Op.MOV_RS_R; in.d = rmField; }
                return;
            }
            case 0x8D:
                if (modrm(in)) { in.op = Op.LEA; in.d = regField; } else in.op = Op.UD;
                return;
            case 0x8E: {
                boolean mem = modrm(in);
                if (regField > 5 || regField == CS) { in.op = Op.UD; return; }
                in.sub = regField;
                in.size = 2;
                if (mem) in.op = Op.MOV_SR_M; else { in.op = Op.MOV_SR_R; in.s = rmField; }
                return;
            }
            case 0x8F: {
                boolean mem = modrm(in);
                if (regField != 0) { in.op = Op.UD; return; }
                if (mem) in.op = Op.POP_M; else { in.op = Op.POP_R; in.d = rmField; }
                return;
            }
            case 0x90:
                in.op = Op.NOP; return;
            case 0x91: case 0x92: case 0x93: case 0x94: case 0x95: case 0x96: case 0x97:
                in.op = Op.XCHG_RR; in.d = EAX; in.s = b & 7; return;
            case 0x98: in.op = Op.CBW; return;
            case 0x99: in.op = Op.CWD; return;
            case 0x9A: in.op = Op.CALLF; in.imm = imm(osz); in.imm2 = next16(); return;
            case 0x9B: in.op = Op.WAIT; return;
            case 0x9C: in.op = Op.PUSHF; return;
            case 0x9D: in.op = Op.POPF; return;
            case 0x9E: in.op = Op.SAHF; return;
            case 0x9F: in.op = Op.LAHF; return;
            case 0xA0: case 0xA1: case 0xA2: case 0xA3: {
                in.size = (b & 1) == 0 ? 1 : osz;
                in.disp = a32 ? next32() : next16();
                in.op = b < 0xA2 ? Op.MOV_RM : Op.MOV_MR;
                in.d = EAX; in.s = EAX;
                return;
            }
            case 0xA4: case 0xA5: stringOp(in, Op.MOVS, b, osz); return;
            case 0xA6: case 0xA7: stringOp(in, Op.CMPS, b, osz); return;
            case 0xA8: case 0xA9:
                in.size = b == 0xA8 ? 1 : osz;
                in.op = Op.ALU_RI; in.sub = 8; in.d = EAX; in.imm = imm(in.size);
                return;
            case 0xAA: case 0xAB: stringOp(in, Op.STOS, b, osz); return;
            case 0xAC: case 0xAD: stringOp(in, Op.LODS, b, osz); return;
            case 0xAE: case 0xAF: stringOp(in, Op.SCAS, b, osz); return;
            case 0xB0: case 0xB1: case 0xB2: case 0xB3: case 0xB4: case 0xB5: case 0xB6: case 0xB7:
                in.op = Op.MOV_RI; in.size = 1; in.d = b & 7; in.imm = next8(); return;
            case 0xB8: case 0xB9: case 0xBA: case 0xBB: case 0xBC: case 0xBD: case 0xBE: case 0xBF:
                in.op = Op.MOV_RI; in.d = b & 7; in.imm = imm(osz); return;
            case 0xC0: case 0xC1: case 0xD0: case 0xD1: case 0xD2: case 0xD3: {
                in.size = (b & 1) == 0 ? 1 : osz;
                boolean mem = modrm(in);
                in.op = mem ? Op.SHIFT_M : Op.SHIFT_R;
                in.sub = regField;
                in.d = rmField;
                in.imm = b <= 0xC1 ? next8() : b <= 0xD1 ? 1 : -1;
                return;
            }
            case 0xC2: in.op = Op.RET; in.imm = next16(); return;
            case 0xC3: in.op = Op.RET; return;
            case 0xC4: case 0xC5:
                if (modrm(in)) { in.op = Op.LSEG; in.sub = b == 0xC4 ? ES : DS; in.d = regField; } else in.op = Op.UD;
                return;
            case 0xC6: case 0xC7: {
                in.size = b == 0xC6 ? 1 : osz;
                boolean mem = modrm(in);
                if (regField != 0) { in.op = Op.UD; return; }
                in.imm = imm(in.size);
                if (mem) in.op = Op.MOV_MI; else { in.op = Op.MOV_RI; in.d = rmField; }
                return;
            }
            case 0xC8: in.op = Op.ENTER; in.imm = next16(); in.imm2 = next8(); return;
            case 0xC9: in.op = Op.LEAVE; return;
            case 0xCA: in.op = Op.RETF; in.imm = next16(); return;
            case 0xCB: in.op = Op.RETF; return;
            case 0xCC: in.op = Op.INT3; return;
            case 0xCD: in.op = Op.INT; in.imm = next8(); return;
            case 0xCE: in.op = Op.INTO; return;
            case 0xCF: in.op = Op.IRET; return;
            case 0xD4: in.op = Op.AAM; in.imm = next8(); return;
            case 0xD5: in.op = Op.AAD; in.imm = next8(); return;
            case 0xD6: in.op = Op.SALC; return;
            case 0xD7: in.op = Op.XLAT; return;
            case 0xD8: case 0xD9: case 0xDA: case 0xDB: case 0xDC: case 0xDD: case 0xDE: case 0xDF: {
                boolean mem = modrm(in);
                in.op = Op.FPU;
                in.sub = mem ? 1 : 0;
                in.imm = ((b & 7) << 8) | (mod << 6) | (regField << 3) | rmField;
                return;
            }
            case 0xE0: case 0xE1: case 0xE2: case 0xE3:
                in.op = Op.LOOP; in.sub = b & 3; in.imm = simm8(); return;
            case 0xE4: case 0xE5:
                in.op = Op.IN; in.size = b == 0xE4 ? 1 : osz; in.imm = next8(); return;
            case 0xE6: case 0xE7:
                in.op = Op.OUT; in.size = b == 0xE6 ? 1 : osz; in.imm = next8(); return;
            case 0xE8: in.op = Op.CALL; in.imm = signExtend(imm(osz), osz); return;
            case 0xE9: in.op = Op.JMP; in.imm = signExtend(imm(osz), osz); return;
            case 0xEA: in.op = Op.JMPF; in.imm = imm(osz); in.imm2 = next16(); return;
            case 0xEB: in.op = Op.JMP; in.imm = simm8(); return;
            case 0xEC: case 0xED:
                in.op = Op.IN; in.size = b == 0xEC ? 1 : osz; in.imm = -1; return;
            case 0xEE: case 0xEF:
                in.op = Op.OUT; in.size = b == 0xEE ? 1 : osz; in.imm = -1; return;
            case 0xF1: in.op = Op.INT1; return;
            case 0xF4: in.op = Op.HLT; return;
            case 0xF5: in.op = Op.CMC; return;
            case 0xF6: case 0xF7: group3(in, b == 0xF6 ? 1 : osz); return;
            case 0xF8: in.op = Op.CLC; return;
            case 0xF9: in.op = Op.STC; return;
            case 0xFA: in.op = Op.CLI; return;
            case 0xFB: in.op = Op.STI; return;
            case 0xFC: in.op = Op.CLD; return;
            case 0xFD: in.op = Op.STD; return;
            case 0xFE: {
                in.size = 1;
                boolean mem = modrm(in);
                if (regField > 1) { in.op = Op.UD; return; }
                in.op = regField == 0 ? (mem ? Op.INC_M : Op.INC_R) : (mem ? Op.DEC_M : Op.DEC_R);
                in.d = rmField;
                return;
            }
            case 0xFF: group5(in, osz); return;
            default:
                in.op = Op.UD;
        }
    }

    private void decode0F(Insn in, int b, int osz) {
        in.opcode = 0x100 | b;
        switch (b) {
            case 0x00: {
                boolean mem = modrm(in);
                if (regField > 5) { in.op = Op.UD; return; }
                in.op = mem ? Op.GRP6_M : Op.GRP6_R; in.sub = regField; in.d = rmField;
                return;
            }
            case 0x01: {
                boolean mem = modrm(in);
                if (regField == 5 || (!mem && regField != 4 && regField != 6)) { in.op = Op.UD; return; }
                in.op = mem ? Op.GRP7_M : Op.GRP7_R; in.sub = regField; in.d = rmField;
                return;
            }
            case 0x02: case 0x03: {
                boolean mem = modrm(in);
                in.op = b == 0x02 ? (mem ? Op.LAR_M : Op.LAR_R) : (mem ? Op.LSL_M : Op.LSL_R);
                in.d = regField;
                in.s = rmField;
                return;
            }
            case 0x06: in.op = Op.CLTS; return;
            case 0x08: case 0x09: in.op = Op.INVD; return;
            case 0x0B: in.op = Op.UD; return;
            case 0x18: case 0x19: case 0x1A: case 0x1B: case 0x1C: case 0x1D: case 0x1E: case 0x1F:
                // Hint NOPs (multi-byte NOP): decode the ModRM so the length is right.
                modrm(in);
                in.op = Op.NOP;
                return;
            case 0x20: case 0x21: case 0x22: case 0x23: {
                // The mod field is ignored: these always name registers.
                int m = next8();
                in.d = (m >> 3) & 7;
                in.s = m & 7;
                in.sub = (b & 2) >> 1;
                if (b <= 0x21 || b == 0x22 || b == 0x23) {
                    in.op = (b & 1) == 0 ? Op.MOV_CR : Op.MOV_DR;
                }
                if (in.op == Op.MOV_CR && (in.d == 1 || in.d > 4)) in.op = Op.UD;
                return;
            }
            case 0x30: in.op = Op.WRMSR; return;
            case 0x31: in.op = Op.RDTSC; return;
            case 0x32: in.op = Op.RDMSR; return;
            case 0x33: in.op = Op.RDPMC; return;
            case 0x34: in.op = Op.SYSENTER; return;
            case 0x35: in.op = Op.SYSEXIT; return;
            case 0x40: case 0x41: case 0x42: case 0x43: case 0x44: case 0x45: case 0x46: case 0x47:
            case 0x48: case 0x49: case 0x4A: case 0x4B: case 0x4C: case 0x4D: case 0x4E: case 0x4F:
                in.op = modrm(in) ? Op.CMOV_M : Op.CMOV_R;
                in.sub = b & 15; in.d = regField; in.s = rmField;
                return;
            case 0x80: case 0x81: case 0x82: case 0x83: case 0x84: case 0x85: case 0x86: case 0x87:
            case 0x88: case 0x89: case 0x8A: case 0x8B: case 0x8C: case 0x8D: case 0x8E: case 0x8F:
                in.op = Op.JCC; in.sub = b & 15; in.imm = signExtend(imm(osz), osz); return;
            case 0x90: case 0x91: case 0x92: case 0x93: case 0x94: case 0x95: case 0x96: case 0x97:
            case 0x98: case 0x99: case 0x9A: case 0x9B: case 0x9C: case 0x9D: case 0x9E: case 0x9F:
                in.size = 1;
                in.op = modrm(in) ? Op.SETCC_M : Op.SETCC_R;
                in.sub = b & 15; in.d = rmField;
                return;
            case 0xA0: in.op = Op.PUSH_SEG; in.sub = FS; return;
            case 0xA1: in.op = Op.POP_SEG; in.sub = FS; return;
            case 0xA8: in.op = Op.PUSH_SEG; in.sub = GS; return;
            case 0xA9: in.op = Op.POP_SEG; in.sub = GS; return;
            case 0xA2: in.op = Op.CPUID; return;
            case 0xA3: case 0xAB: case 0xB3: case 0xBB: {
                in.op = modrm(in) ? Op.BT_MR : Op.BT_RR;
                in.sub = b == 0xA3 ? 0 : b == 0xAB ? 1 : b == 0xB3 ? 2 : 3;
                in.d = rmField; in.s = regField;
                return;
            }
            case 0xA4: case 0xA5: case 0xAC: case 0xAD: {
                in.op = modrm(in) ? Op.SHD_M : Op.SHD_R;
                in.sub = b >= 0xAC ? 1 : 0;
                in.d = rmField; in.s = regField;
                in.imm = (b & 1) == 0 ? next8() : -1;
                return;
            }
            case 0xAF:
                in.op = modrm(in) ? Op.IMUL_RM : Op.IMUL_RR;
                in.d = regField; in.s = rmField;
                return;
            case 0xB0: case 0xB1:
                in.size = b == 0xB0 ? 1 : osz;
                in.op = modrm(in) ? Op.CMPXCHG_RM : Op.CMPXCHG_RR;
                in.d = rmField; in.s = regField;
                return;
            case 0xB2: case 0xB4: case 0xB5:
                if (modrm(in)) {
                    in.op = Op.LSEG; in.sub = b == 0xB2 ? SS : b == 0xB4 ? FS : GS; in.d = regField;
                } else {
                    in.op = Op.UD;
                }
                return;
            case 0xB6: case 0xB7: case 0xBE: case 0xBF: {
                boolean sx = b >= 0xBE;
                boolean mem = modrm(in);
                in.op = sx ? (mem ? Op.MOVSX_RM : Op.MOVSX_RR) : (mem ? Op.MOVZX_RM : Op.MOVZX_RR);
                in.imm = (b & 1) == 0 ? 1 : 2;
                in.d = regField; in.s = rmField;
                return;
            }
            case 0xBA: {
                boolean mem = modrm(in);
                if (regField < 4) { in.op = Op.UD; return; }
                in.op = mem ? Op.BT_MI : Op.BT_RI;
                in.sub = regField - 4; in.d = rmField;
                in.imm = next8();
                return;
            }
            case 0xBC: case 0xBD: {
                boolean mem = modrm(in);
                in.op = b == 0xBC ? (mem ? Op.BSF_M : Op.BSF_R) : (mem ? Op.BSR_M : Op.BSR_R);
                in.d = regField; in.s = rmField;
                return;
            }
            case 0xC0: case 0xC1:
                in.size = b == 0xC0 ? 1 : osz;
                in.op = modrm(in) ? Op.XADD_RM : Op.XADD_RR;
                in.d = rmField; in.s = regField;
                return;
            case 0xC7:
                if (modrm(in) && regField == 1) in.op = Op.CMPXCHG8B; else in.op = Op.UD;
                return;
            case 0xC8: case 0xC9: case 0xCA: case 0xCB: case 0xCC: case 0xCD: case 0xCE: case 0xCF:
                in.op = Op.BSWAP; in.d = b & 7; return;
            default:
                in.op = Op.UD;
        }
    }

    private void alu(Insn in, int aluOp, int form, int osz) {
        in.sub = aluOp;
        switch (form) {
            case 0: case 1: // Eb,Gb / Ev,Gv
                in.size = form == 0 ? 1 : osz;
                if (modrm(in)) { in.op = Op.ALU_MR; } else { in.op = Op.ALU_RR; in.d = rmField; }
                in.s = regField;
                return;
            case 2: case 3: // Gb,Eb / Gv,Ev
                in.size = form == 2 ? 1 : osz;
                in.op = modrm(in) ? Op.ALU_RM : Op.ALU_RR;
                in.d = regField; in.s = rmField;
                return;
            case 4:
                in.size = 1; in.op = Op.ALU_RI; in.d = EAX; in.imm = next8();
                return;
            default:
                in.size = osz; in.op = Op.ALU_RI; in.d = EAX; in.imm = imm(osz);
        }
    }

    private void group1(Insn in, int size, int immSize) {
        in.size = size;
        boolean mem = modrm(in);
        in.sub = regField;
        in.d = rmField;
        int v = immSize == 1 ? (byte) next8() : imm(immSize);
        in.imm = v & mask(size);
        in.op = mem ? Op.ALU_MI : Op.ALU_RI;
    }

    private void group3(Insn in, int size) {
        in.size = size;
        boolean mem = modrm(in);
        in.d = rmField;
        switch (regField) {
            case 0: case 1:
                in.op = mem ? Op.ALU_MI : Op.ALU_RI; in.sub = 8; in.imm = imm(size);
                return;
            case 2: in.op = mem ? Op.NOT_M : Op.NOT_R; return;
            case 3: in.op = mem ? Op.NEG_M : Op.NEG_R; return;
            default: in.op = mem ? Op.MULDIV_M : Op.MULDIV_R; in.sub = regField; in.s = rmField;
        }
    }

    private void group5(Insn in, int osz) {
        boolean mem = modrm(in);
        in.d = rmField;
        in.s = rmField;
        switch (regField) {
            case 0: in.op = mem ? Op.INC_M : Op.INC_R; return;
            case 1: in.op = mem ? Op.DEC_M : Op.DEC_R; return;
            case 2: in.op = mem ? Op.CALL_M : Op.CALL_R; return;
            case 3: in.op = mem ? Op.CALLF_M : Op.UD; return;
            case 4: in.op = mem ? Op.JMP_M : Op.JMP_R; return;
            case 5: in.op = mem ? Op.JMPF_M : Op.UD; return;
            case 6: in.op = mem ? Op.PUSH_M : Op.PUSH_R; return;
            default: in.op = Op.UD;
        }
    }

    private void stringOp(Insn in, int op, int b, int osz) {
        in.op = op;
        in.size = (b & 1) == 0 ? 1 : osz;
        in.rep = rep;
        // A string instruction's source segment may be overridden; ES:EDI never is.
        in.seg = segOverride >= 0 ? segOverride : DS;
    }

    /** Decodes a ModRM byte (and SIB and displacement); returns true if it names memory. */
    private boolean modrm(Insn in) {
        int m = next8();
        mod = m >>> 6;
        regField = (m >> 3) & 7;
        rmField = m & 7;
        if (mod == 3) {
            return false;
        }
        int defSeg = DS;
        if (!a32) {
            switch (rmField) {
                case 0: in.base = EBX; in.index = ESI; break;
                case 1: in.base = EBX; in.index = EDI; break;
                case 2: in.base = EBP; in.index = ESI; defSeg = SS; break;
                case 3: in.base = EBP; in.index = EDI; defSeg = SS; break;
                case 4: in.base = ESI; break;
                case 5: in.base = EDI; break;
                case 6:
                    if (mod == 0) { in.disp = next16(); } else { in.base = EBP; defSeg = SS; }
                    break;
                default: in.base = EBX;
            }
            if (mod == 1) in.disp = simm8();
            else if (mod == 2) in.disp = next16();
            in.eaMask = 0xFFFF;
        } else {
            if (rmField == 4) {
                int sib = next8();
                int ss = sib >>> 6, idx = (sib >> 3) & 7, bs = sib & 7;
                in.index = idx == 4 ? ZERO_REG : idx;
                in.scale = ss;
                if (bs == 5 && mod == 0) {
                    in.disp = next32();
                } else {
                    in.base = bs;
                    if (bs == ESP || bs == EBP) defSeg = SS;
                }
            } else if (rmField == 5 && mod == 0) {
                in.disp = next32();
            } else {
                in.base = rmField;
                if (rmField == EBP) defSeg = SS;
            }
            if (mod == 1) in.disp = simm8();
            else if (mod == 2) in.disp = next32();
            in.eaMask = -1;
        }
        in.seg = segOverride >= 0 ? segOverride : defSeg;
        return true;
    }

    private boolean lockable(Insn in) {
        switch (in.op) {
            case Op.ALU_MR: case Op.ALU_MI:
                return in.sub < 7;
            case Op.INC_M: case Op.DEC_M: case Op.NOT_M: case Op.NEG_M: case Op.XCHG_RM: case Op.XADD_RM:
            case Op.CMPXCHG_RM: case Op.CMPXCHG8B:
                return true;
            case Op.BT_MR: case Op.BT_MI:
                return in.sub != 0;
            default:
                return false;
        }
    }

    static int mask(int size) {
        return size == 1 ? 0xFF : size == 2 ? 0xFFFF : -1;
    }

    static int signExtend(int v, int size) {
        return size == 1 ? (byte) v : size == 2 ? (short) v : v;
    }
}
