package io.mucheckpoint.cpu;

/**
 * Which processor state an instruction reads, from its decoded form: the general registers
 * (explicit operands, addressing registers and the implicit ones), EFLAGS, and the segment of
 * each memory access. Conservative: an instruction that might read something counts as reading it.
 * Used to tell whether an injected fault was read before it was overwritten.
 */
final class OperandUse {
    static final int FLAGS = 1 << 8;
    static final int SEG_SHIFT = 9;
    private static final int ALL_REGS = 0xFF;
    private static final int EAX = 1, ECX = 2, EDX = 4, EBX = 8, ESP = 16, EBP = 32, ESI = 64, EDI = 128;

    private OperandUse() {}

    /** A bit mask: bits 0-7 EAX..EDI, bit 8 EFLAGS, bits 9-14 the segments ES..GS. */
    static int reads(Insn in) {
        int op = in.op;
        int m = 0;
        boolean mem = isMemoryForm(op);
        if (mem) m |= bit(in.base) | bit(in.index) | (1 << (SEG_SHIFT + in.seg));
        switch (op) {
            // destination written only
            case Op.MOV_RR: case Op.MOV_RR32: case Op.MOVZX_RR: case Op.MOVZX8_RR32: case Op.MOVSX_RR:
                return m | reg8Aware(in.s, in.size == 1 || in.imm == 1) | partialDest(in);
            case Op.MOV_RM: case Op.MOV_RM32: case Op.MOVZX_RM: case Op.MOVZX8_RM32: case Op.MOVSX_RM:
                return m | partialDest(in);
            case Op.MOV_RI: case Op.MOV_RI32:
                return partialDest(in);
            case Op.LEA: case Op.LEA32:
                return (bit(in.base) | bit(in.index)) | partialDest(in);
            case Op.MOV_MR: case Op.MOV_MR32:
                return m | reg8Aware(in.s, in.size == 1);
            case Op.MOV_MI: case Op.SETCC_M:
                return m | (op == Op.SETCC_M ? FLAGS : 0);
            case Op.SETCC_R:
                return FLAGS | reg8Aware(in.d, true);
            case Op.POP_R: case Op.POP_R32: case Op.POP_SEG: case Op.POP_M:
                return m | ESP | (1 << (SEG_SHIFT + Decoder.SS));
            case Op.PUSH_R: case Op.PUSH_R32:
                return ESP | bit(in.s) | (1 << (SEG_SHIFT + Decoder.SS));
            case Op.PUSH_I: case Op.PUSH_SEG: case Op.PUSHF:
                return ESP | (op == Op.PUSHF ? FLAGS : 0) | (1 << (SEG_SHIFT + Decoder.SS));
            case Op.PUSH_M:
                return m | ESP | (1 << (SEG_SHIFT + Decoder.SS));
            case Op.IMUL3_R:
                return bit(in.s) | partialDest(in);
            case Op.IMUL3_M:
                return m | partialDest(in);
            case Op.BSF_R: case Op.BSR_R:
                return bit(in.s) | bit(in.d); // the destination survives a zero source
            case Op.JMP: case Op.NOP: case Op.CLC: case Op.STC: case Op.CLD: case Op.STD: case Op.CLI: case Op.STI:
            case Op.HLT: case Op.UD: case Op.GP0: case Op.MOV_CR: case Op.CPUID:
                return op == Op.CPUID ? EAX | ECX : op == Op.MOV_CR ? bit(in.s) : 0;
            case Op.JCC: case Op.CMOV_R:
                return FLAGS | (op == Op.CMOV_R ? bit(in.s) | bit(in.d) : 0);
            case Op.CMOV_M:
                return m | FLAGS | bit(in.d);
            case Op.CALL: case Op.RET:
                return ESP | (1 << (SEG_SHIFT + Decoder.SS));
            case Op.LOOP:
                return ECX | FLAGS;
            default:
                // Everything else may read all of it: ALU and shifts (destination and source, and
                // EFLAGS for the carry-using forms), string, I/O, multiply/divide, system ops.
                return m | ALL_REGS | FLAGS | (0x3F << SEG_SHIFT);
        }
    }

    /** Writing an 8- or 16-bit register keeps the rest of the 32-bit register: a partial write reads it. */
    private static int partialDest(Insn in) {
        return in.size == 4 ? 0 : reg8Aware(in.d, in.size == 1);
    }

    private static int reg8Aware(int r, boolean byteReg) {
        return 1 << (byteReg ? r & 3 : r);
    }

    private static int bit(int r) {
        return r == Cpu.ZERO_REG ? 0 : 1 << r;
    }

    private static boolean isMemoryForm(int op) {
        switch (op) {
            case Op.MOV_RM: case Op.MOV_RM32: case Op.MOV_MR: case Op.MOV_MR32: case Op.MOV_MI: case Op.MOVZX_RM:
            case Op.MOVZX8_RM32: case Op.MOVSX_RM: case Op.ALU_RM: case Op.ALU_MR: case Op.ALU_MI: case Op.ADD_RM32:
            case Op.SUB_RM32: case Op.CMP_RM32: case Op.AND_RM32: case Op.CMP_MR32: case Op.ADD_MR32: case Op.CMP_MI32:
            case Op.INC_M: case Op.DEC_M: case Op.NOT_M: case Op.NEG_M: case Op.SHIFT_M: case Op.SHD_M: case Op.MULDIV_M:
            case Op.IMUL_RM: case Op.IMUL3_M: case Op.BT_MR: case Op.BT_MI: case Op.BSF_M: case Op.BSR_M: case Op.SETCC_M:
            case Op.CMOV_M: case Op.JMP_M: case Op.CALL_M: case Op.JMPF_M: case Op.CALLF_M: case Op.PUSH_M: case Op.POP_M:
            case Op.XCHG_RM: case Op.XADD_RM: case Op.CMPXCHG_RM: case Op.CMPXCHG8B: case Op.MOV_SR_M: case Op.MOV_RS_M:
            case Op.LSEG: case Op.BOUND: case Op.FPU:
                return true;
            default:
                return false;
        }
    }
}
