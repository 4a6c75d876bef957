package io.mucheckpoint.cpu;

/**
 * Operation ids of decoded instructions. Dense and small so the interpreter's switch compiles to a
 * jump table. Suffixes name the operand forms: R register, M memory, I immediate, in destination-
 * source order (ALU_MR: memory destination, register source). Register and memory forms are
 * separate ids so the interpreter never tests the ModRM mode at run time.
 */
final class Op {
    private Op() {}

    static final int UD = 0;          // invalid opcode: #UD when executed
    static final int GP0 = 1;         // over-long instruction: #GP(0) when executed
    static final int NOP = 2;

    static final int ALU_RR = 3;      // sub: 0 ADD 1 OR 2 ADC 3 SBB 4 AND 5 SUB 6 XOR 7 CMP 8 TEST
    static final int ALU_RM = 4;
    static final int ALU_MR = 5;
    static final int ALU_RI = 6;
    static final int ALU_MI = 7;

    static final int MOV_RR = 8;
    static final int MOV_RM = 9;
    static final int MOV_MR = 10;
    static final int MOV_RI = 11;
    static final int MOV_MI = 12;
    static final int MOVZX_RR = 13;   // imm: source size
    static final int MOVZX_RM = 14;
    static final int MOVSX_RR = 15;
    static final int MOVSX_RM = 16;
    static final int LEA = 17;

    static final int INC_R = 18;
    static final int INC_M = 19;
    static final int DEC_R = 20;
    static final int DEC_M = 21;
    static final int NOT_R = 22;
    static final int NOT_M = 23;
    static final int NEG_R = 24;
    static final int NEG_M = 25;

    static final int SHIFT_R = 26;    // sub: 0 ROL 1 ROR 2 RCL 3 RCR 4 SHL 5 SHR 6 SAL 7 SAR; imm: count, -1 = CL
    static final int SHIFT_M = 27;
    static final int SHD_R = 28;      // sub: 0 SHLD 1 SHRD; imm: count, -1 = CL
    static final int SHD_M = 29;
    static final int MULDIV_R = 30;   // sub: 4 MUL 5 IMUL 6 DIV 7 IDIV
    static final int MULDIV_M = 31;
    static final int IMUL_RR = 32;
    static final int IMUL_RM = 33;
    static final int IMUL3_R = 34;
    static final int IMUL3_M = 35;

    static final int BT_RR = 36;      // sub: 0 BT 1 BTS 2 BTR 3 BTC
    static final int BT_MR = 37;
    static final int BT_RI = 38;
    static final int BT_MI = 39;
    static final int BSF_R = 40;
    static final int BSF_M = 41;
    static final int BSR_R = 42;
    static final int BSR_M = 43;
    static final int BSWAP = 44;
    static final int SETCC_R = 45;
    static final int SETCC_M = 46;
    static final int CMOV_R = 47;
    static final int CMOV_M = 48;

    static final int JCC = 49;        // sub: condition; imm: displacement
    static final int JMP = 50;
    static final int CALL = 51;
    static final int JMP_R = 52;
    static final int JMP_M = 53;
    static final int CALL_R = 54;
    static final int CALL_M = 55;
    static final int RET = 56;        // imm: bytes to release
    static final int JMPF = 57;       // imm: offset, imm2: selector
    static final int CALLF = 58;
    static final int JMPF_M = 59;
    static final int CALLF_M = 60;
    static final int RETF = 61;
    static final int IRET = 62;
    static final int LOOP = 63;       // sub: 0 LOOPNE 1 LOOPE 2 LOOP 3 JCXZ; eaMask: counter width

    static final int PUSH_R = 64;
    static final int POP_R = 65;
    static final int PUSH_I = 66;
    static final int PUSH_M = 67;
    static final int POP_M = 68;
    static final int PUSH_SEG = 69;   // sub: segment
    static final int POP_SEG = 70;
    static final int PUSHA = 71;
    static final int POPA = 72;
    static final int PUSHF = 73;
    static final int POPF = 74;
    static final int ENTER = 75;
    static final int LEAVE = 76;

    static final int XCHG_RR = 77;
    static final int XCHG_RM = 78;
    static final int XADD_RR = 79;
    static final int XADD_RM = 80;
    static final int CMPXCHG_RR = 81;
    static final int CMPXCHG_RM = 82;
    static final int CMPXCHG8B = 83;

    static final int CBW = 84;
    static final int CWD = 85;
    static final int LAHF = 86;
    static final int SAHF = 87;
    static final int CLC = 88;
    static final int STC = 89;
    static final int CMC = 90;
    static final int CLD = 91;
    static final int STD = 92;
    static final int CLI = 93;
    static final int STI = 94;
    static final int HLT = 95;
    static final int WAIT = 96;

    static final int MOVS = 97;
    static final int CMPS = 98;
    static final int STOS = 99;
    static final int LODS = 100;
    static final int SCAS = 101;
    static final int INS = 102;
    static final int OUTS = 103;
    static final int IN = 104;        // imm: port, -1 = DX
    static final int OUT = 105;

    static final int INT = 106;
    static final int INT3 = 107;
    static final int INTO = 108;
    static final int INT1 = 109;
    static final int BOUND = 110;
    static final int XLAT = 111;
    static final int DAA = 112;
    static final int DAS = 113;
    static final int AAA = 114;
    static final int AAS = 115;
    static final int AAM = 116;
    static final int AAD = 117;
    static final int SALC = 118;

    static final int MOV_SR_R = 119;  // segment register <- r16; sub: segment
    static final int MOV_SR_M = 120;
    static final int MOV_RS_R = 121;  // register <- segment register
    static final int MOV_RS_M = 122;
    static final int LSEG = 123;      // LES/LDS/LSS/LFS/LGS; sub: segment

    static final int GRP6_R = 124;    // sub: reg field (SLDT STR LLDT LTR VERR VERW)
    static final int GRP6_M = 125;
    static final int GRP7_R = 126;    // sub: reg field (SGDT SIDT LGDT LIDT SMSW - LMSW INVLPG)
    static final int GRP7_M = 127;
    static final int LAR_R = 128;
    static final int LAR_M = 129;
    static final int LSL_R = 130;
    static final int LSL_M = 131;
    static final int CLTS = 132;
    static final int MOV_CR = 133;    // sub: 0 read CRd into Rs, 1 write Rs into CRd
    static final int MOV_DR = 134;
    static final int RDMSR = 135;
    static final int WRMSR = 136;
    static final int RDTSC = 137;
    static final int CPUID = 138;
    static final int INVD = 139;
    static final int SYSENTER = 140;
    static final int SYSEXIT = 141;
    static final int ARPL_R = 142;
    static final int ARPL_M = 143;
    static final int FPU = 144;       // x87 escape; opcode and ModRM in imm
    static final int RDPMC = 145;

    // Specialised 32-bit forms of the most frequent instructions (decoded when the operand size is
    // 32): no size dispatch, flags recorded inline.
    static final int MOV_RR32 = 146;
    static final int MOV_RM32 = 147;
    static final int MOV_MR32 = 148;
    static final int MOV_RI32 = 149;
    static final int LEA32 = 150;
    static final int MOVZX8_RM32 = 151;
    static final int MOVZX8_RR32 = 152;
    static final int INC_R32 = 153;
    static final int DEC_R32 = 154;
    static final int ADD_RR32 = 155;
    static final int SUB_RR32 = 156;
    static final int AND_RR32 = 157;
    static final int OR_RR32 = 158;
    static final int XOR_RR32 = 159;
    static final int CMP_RR32 = 160;
    static final int TEST_RR32 = 161;
    static final int ADD_RI32 = 162;
    static final int SUB_RI32 = 163;
    static final int AND_RI32 = 164;
    static final int OR_RI32 = 165;
    static final int XOR_RI32 = 166;
    static final int CMP_RI32 = 167;
    static final int TEST_RI32 = 168;
    static final int ADD_RM32 = 169;
    static final int SUB_RM32 = 170;
    static final int CMP_RM32 = 171;
    static final int AND_RM32 = 172;
    static final int CMP_MR32 = 173;
    static final int ADD_MR32 = 174;
    static final int CMP_MI32 = 175;
    static final int PUSH_R32 = 176;
    static final int POP_R32 = 177;

    static final int COUNT = 178;

    /**
     * Rewrites a decoded instruction into its specialised 32-bit form where there is one. Only
     * flat 32-bit addressing qualifies for the memory forms' LEA; everything else keeps its
     * generic id.
     */
    static void specialise(Insn in) {
        if (in.size != 4) return;
        switch (in.op) {
            case MOV_RR: in.op = MOV_RR32; return;
            case MOV_RM: in.op = MOV_RM32; return;
            case MOV_MR: in.op = MOV_MR32; return;
            case MOV_RI: in.op = MOV_RI32; return;
            case LEA: if (in.eaMask == -1) in.op = LEA32; return;
            case MOVZX_RM: if (in.imm == 1) in.op = MOVZX8_RM32; return;
            case MOVZX_RR: if (in.imm == 1) in.op = MOVZX8_RR32; return;
            case INC_R: in.op = INC_R32; return;
            case DEC_R: in.op = DEC_R32; return;
            case PUSH_R: in.op = PUSH_R32; return;
            case POP_R: in.op = POP_R32; return;
            case ALU_RR:
                switch (in.sub) {
                    case 0: in.op = ADD_RR32; return;
                    case 1: in.op = OR_RR32; return;
                    case 4: in.op = AND_RR32; return;
                    case 5: in.op = SUB_RR32; return;
                    case 6: in.op = XOR_RR32; return;
                    case 7: in.op = CMP_RR32; return;
                    case 8: in.op = TEST_RR32; return;
                    default: return;
                }
            case ALU_RI:
                switch (in.sub) {
                    case 0: in.op = ADD_RI32; return;
                    case 1: in.op = OR_RI32; return;
                    case 4: in.op = AND_RI32; return;
                    case 5: in.op = SUB_RI32; return;
                    case 6: in.op = XOR_RI32; return;
                    case 7: in.op = CMP_RI32; return;
                    case 8: in.op = TEST_RI32; return;
                    default: return;
                }
            case ALU_RM:
                switch (in.sub) {
                    case 0: in.op = ADD_RM32; return;
                    case 4: in.op = AND_RM32; return;
                    case 5: in.op = SUB_RM32; return;
                    case 7: in.op = CMP_RM32; return;
                    default: return;
                }
            case ALU_MR:
                if (in.sub == 7) in.op = CMP_MR32;
                else if (in.sub == 0) in.op = ADD_MR32;
                return;
            case ALU_MI:
                if (in.sub == 7) in.op = CMP_MI32;
                return;
            default:
        }
    }

    /** Instructions after which the block ends: control transfers and anything that can change
     *  interrupt deliverability, the code mapping, or the machine outside the CPU. */
    static boolean endsBlock(int op, int rep) {
        switch (op) {
            case JCC: case JMP: case CALL: case JMP_R: case JMP_M: case CALL_R: case CALL_M: case RET:
            case JMPF: case CALLF: case JMPF_M: case CALLF_M: case RETF: case IRET: case LOOP:
            case INT: case INT3: case INTO: case INT1: case HLT: case STI: case CLI: case POPF:
            case IN: case OUT: case INS: case OUTS: case MOV_SR_R: case MOV_SR_M: case POP_SEG: case LSEG:
            case GRP6_R: case GRP6_M: case GRP7_R: case GRP7_M: case CLTS: case MOV_CR: case MOV_DR:
            case WRMSR: case SYSENTER: case SYSEXIT: case UD: case GP0: case INVD:
                return true;
            case MOVS: case CMPS: case STOS: case LODS: case SCAS:
                return rep != 0;
            default:
                return false;
        }
    }
}
