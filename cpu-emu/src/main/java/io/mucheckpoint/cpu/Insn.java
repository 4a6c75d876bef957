package io.mucheckpoint.cpu;

/**
 * One decoded instruction, in the compact form the interpreter dispatches on.
 *
 * <p>Fields are plain ints so the hot loop reads them without conversions. A memory operand is
 * always {@code seg:(r[base] + (r[index] << scale) + disp) & eaMask}: absent base or index registers
 * point at an always-zero register slot, so effective addresses need no branches. Offsets are
 * relative to the EIP at which the block was entered, which keeps a decoded block independent of
 * the CS base it is reached through.
 */
final class Insn {
    int op;       // an Op constant
    int size;     // operand size in bytes: 1, 2 or 4
    int sub;      // sub-operation (ALU op, shift kind, condition code, segment, ...)
    int d;        // destination register (or the ModRM reg field)
    int s;        // source register (or the ModRM rm field when it names a register)
    int seg;      // segment register of the memory operand
    int base;     // EA base register, Cpu.ZERO_REG when none
    int index;    // EA index register, Cpu.ZERO_REG when none
    int scale;    // EA index shift, 0..3
    int disp;     // EA displacement
    int eaMask;   // 0xFFFF for 16-bit addressing, -1 for 32-bit
    int imm;      // first immediate (sign- or zero-extended as the instruction needs)
    int imm2;     // second immediate (ENTER level, far pointer selector, ...)
    int rep;      // string prefix: 0 none, REP_E (F3), REP_NE (F2)
    int ofs;      // offset of the first byte from the block's entry EIP
    int end;      // offset just past the last byte
    int opcode;   // the opcode (0x0F-prefixed opcodes as 0x1xx), for tracing and diagnostics

    static final int REP_E = 1;
    static final int REP_NE = 2;
}
