package io.mucheckpoint.cpu;

import java.util.function.IntUnaryOperator;

/**
 * Renders x86 machine code as Intel-syntax text, for 16- and 32-bit code: every opcode the
 * {@link Decoder} decodes, including the 0F page and the x87. The text follows GNU objdump's
 * {@code -M intel} conventions (so the two can be diffed): the mnemonic padded to six columns,
 * operands separated by commas, memory operands with their size ({@code DWORD PTR [ebp-0x8]}),
 * immediates as unsigned hexadecimal in the operand size, branch targets as absolute offsets.
 * Encodings the processor rejects print as {@code (bad)}.
 *
 * <p>Lengths agree with the decoder's: an instruction is never longer than 15 bytes.
 */
public final class Disassembler {
    /** One decoded instruction: its length, its text and its bytes. */
    public record Instruction(int length, String text, byte[] bytes) {
        /** The bytes in hex, separated by spaces ({@code "8b 45 08"}). */
        public String hexBytes() {
            StringBuilder b = new StringBuilder();
            for (byte x : bytes) b.append(b.length() == 0 ? "" : " ").append(String.format("%02x", x & 0xFF));
            return b.toString();
        }
    }

    private static final int MAX_LENGTH = 15;
    private static final String[] REG8 = {"al", "cl", "dl", "bl", "ah", "ch", "dh", "bh"};
    private static final String[] REG16 = {"ax", "cx", "dx", "bx", "sp", "bp", "si", "di"};
    private static final String[] REG32 = {"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"};
    private static final String[] SEG = {"es", "cs", "ss", "ds", "fs", "gs", "?", "?"};
    private static final String[] ALU = {"add", "or", "adc", "sbb", "and", "sub", "xor", "cmp"};
    private static final String[] SHIFT = {"rol", "ror", "rcl", "rcr", "shl", "shr", "shl", "sar"};
    private static final String[] CC = {"o", "no", "b", "ae", "e", "ne", "be", "a", "s", "ns", "p", "np", "l", "ge", "le", "g"};
    private static final String[] MEM16 = {"bx+si", "bx+di", "bp+si", "bp+di", "si", "di", "bp", "bx"};

    private Disassembler() {}

    /** Disassembles the instruction at {@code code[offset]}; {@code ip} is its offset in the code segment. */
    public static Instruction decode(byte[] code, int offset, int ip, boolean code32) {
        return decode(i -> offset + i < code.length ? code[offset + i] & 0xFF : -1, ip, code32);
    }

    /**
     * Disassembles one instruction.
     *
     * @param bytes byte {@code i} of the instruction (0-based), or -1 where it cannot be read
     * @param ip the instruction's offset in its code segment (EIP), for branch targets
     * @param code32 whether the code segment is 32-bit (D bit set)
     */
    public static Instruction decode(IntUnaryOperator bytes, int ip, boolean code32) {
        State s = new State(bytes, ip, code32);
        String text;
        int length;
        try {
            text = s.decode();
            length = s.pos;
        } catch (Unreadable e) {
            text = "(bad)";
            length = Math.max(1, s.pos);
        } catch (TooLong e) {
            text = "(bad)";
            length = MAX_LENGTH;
        }
        byte[] raw = new byte[length];
        for (int i = 0; i < length; i++) raw[i] = (byte) Math.max(0, bytes.applyAsInt(i));
        return new Instruction(length, text, raw);
    }

    /**
     * Disassembles the instruction at offset {@code ip} of the processor's current code segment,
     * reading memory the way {@link #peek} does (no side effects).
     */
    public static Instruction at(Cpu c, int ip) {
        int base = c.segBase[AddressSpace.CS];
        int mask = c.code32 ? -1 : 0xFFFF;
        return decode(i -> peek(c, base + ((ip + i) & mask)), ip, c.code32);
    }

    /** Whether the processor's current code segment is 32-bit. */
    public static boolean code32(Cpu c) {
        return c.code32;
    }

    // --- a debugger's view of memory: no accessed bits, no faults, no CR2 -----------------------

    /**
     * The byte at linear address {@code linear} as the processor would read it, or -1 if it is not
     * mapped or not plain memory. Walks the page tables read-only: unlike an access by the
     * processor, it sets no accessed bits, raises no fault and leaves CR2 alone, so a debugger
     * looking at a guest does not change it.
     */
    public static int peek(Cpu c, int linear) {
        long p = physical(c, linear);
        return p < 0 ? -1 : peekPhysical(c, (int) p);
    }

    /** The physical address linear address {@code linear} maps to, or -1 if it is not mapped (read-only walk). */
    public static long physical(Cpu c, int linear) {
        if (c.cr0 >= 0) return (linear & c.a20Mask) & 0xFFFFFFFFL;
        long e = peekPhysical32(c, (c.cr3 & 0xFFFFF000) | ((linear >>> 20) & 0xFFC));
        int pde = (int) e;
        if (e < 0 || (pde & 1) == 0) return -1;
        if ((pde & 0x80) != 0 && (c.cr4 & AddressSpace.CR4_PSE) != 0) {
            return (((pde & 0xFFC00000) | (linear & 0x3FFFFF)) & c.a20Mask) & 0xFFFFFFFFL;
        }
        e = peekPhysical32(c, (pde & 0xFFFFF000) | ((linear >>> 10) & 0xFFC));
        int pte = (int) e;
        if (e < 0 || (pte & 1) == 0) return -1;
        return (((pte & 0xFFFFF000) | (linear & 0xFFF)) & c.a20Mask) & 0xFFFFFFFFL;
    }

    /** The byte at a physical address, or -1 for what is not RAM or ROM. */
    public static int peekPhysical(Cpu c, int phys) {
        int base = c.memory.readBase(phys >>> 12);
        return base < 0 ? -1 : c.mem[base + (phys & 0xFFF)] & 0xFF;
    }

    /** A page-table entry (unsigned), or -1 when it cannot be read. */
    private static long peekPhysical32(Cpu c, int phys) {
        long v = 0;
        for (int i = 0; i < 4; i++) {
            int b = peekPhysical(c, (phys + i) & c.a20Mask);
            if (b < 0) return -1;
            v |= (long) b << (8 * i);
        }
        return v;
    }

    private static final class Unreadable extends RuntimeException {
        Unreadable() {
            super(null, null, false, false);
        }
    }

    private static final class TooLong extends RuntimeException {
        TooLong() {
            super(null, null, false, false);
        }
    }

    /** The decoding of one instruction. */
    private static final class State {
        final IntUnaryOperator bytes;
        final int ip;
        final boolean code32;
        int pos;
        boolean o32, a32, lock;
        int seg = -1;
        int rep; // 0, 0xF2, 0xF3
        boolean opsizePrefix;
        boolean segUsed;
        // ModRM
        int mod, reg, rm;
        String mem; // the memory operand's address part, e.g. "[eax+0x4]", when mod != 3
        boolean sib;

        State(IntUnaryOperator bytes, int ip, boolean code32) {
            this.bytes = bytes;
            this.ip = ip;
            this.code32 = code32;
        }

        int next8() {
            if (pos >= MAX_LENGTH) throw new TooLong();
            int b = bytes.applyAsInt(pos);
            if (b < 0) throw new Unreadable();
            pos++;
            return b & 0xFF;
        }

        int next16() {
            int lo = next8();
            return lo | (next8() << 8);
        }

        int next32() {
            int lo = next16();
            return lo | (next16() << 16);
        }

        int imm(int size) {
            return size == 1 ? next8() : size == 2 ? next16() : next32();
        }

        int osz() {
            return o32 ? 4 : 2;
        }

        String decode() {
            o32 = code32;
            a32 = code32;
            int b;
            prefixes:
            while (true) {
                b = next8();
                switch (b) {
                    case 0x66: o32 = !code32; opsizePrefix = true; break;
                    case 0x67: a32 = !code32; break;
                    case 0x26: seg = 0; break;
                    case 0x2E: seg = 1; break;
                    case 0x36: seg = 2; break;
                    case 0x3E: seg = 3; break;
                    case 0x64: seg = 4; break;
                    case 0x65: seg = 5; break;
                    case 0xF0: lock = true; break;
                    case 0xF2: case 0xF3: rep = b; break;
                    default: break prefixes;
                }
            }
            String body = b == 0x0F ? twoByte(next8()) : oneByte(b);
            if (body == null) return "(bad)";
            StringBuilder prefix = new StringBuilder();
            if (seg >= 0 && !segUsed) prefix.append(SEG[seg]).append(' ');
            if (lock) prefix.append("lock ");
            return prefixed(prefix.toString(), body);
        }

        // --- operand text ---------------------------------------------------------------------

        static String hex(long v) {
            return "0x" + Long.toHexString(v);
        }

        static String imm(int v, int size) {
            return hex(size == 1 ? v & 0xFF : size == 2 ? v & 0xFFFF : v & 0xFFFFFFFFL);
        }

        static String reg(int r, int size) {
            return size == 1 ? REG8[r] : size == 2 ? REG16[r] : REG32[r];
        }

        static String ptr(int size) {
            return switch (size) {
                case 1 -> "BYTE PTR ";
                case 2 -> "WORD PTR ";
                case 4 -> "DWORD PTR ";
                case 6 -> "FWORD PTR ";
                case 8 -> "QWORD PTR ";
                case 10 -> "TBYTE PTR ";
                default -> "";
            };
        }

        /** Reads a ModRM byte and, for memory, the SIB byte and displacement. Returns true for memory. */
        boolean modrm() {
            int m = next8();
            mod = m >>> 6;
            reg = (m >> 3) & 7;
            rm = m & 7;
            if (mod == 3) return false;
            int defSeg = 3;
            StringBuilder a = new StringBuilder();
            long disp = 0;
            boolean hasDisp = false, absolute = false;
            if (!a32) {
                if (mod == 0 && rm == 6) {
                    disp = next16();
                    absolute = true;
                } else {
                    a.append(MEM16[rm]);
                    if (rm == 2 || rm == 3 || rm == 6) defSeg = 2;
                    if (mod == 1) { disp = (byte) next8(); hasDisp = true; }
                    else if (mod == 2) { disp = (short) next16(); hasDisp = true; }
                }
            } else {
                if (rm == 4) {
                    sib = true;
                    int sb = next8();
                    int scale = sb >>> 6, idx = (sb >> 3) & 7, base = sb & 7;
                    boolean noBase = base == 5 && mod == 0;
                    if (!noBase) {
                        a.append(REG32[base]);
                        if (base == 4 || base == 5) defSeg = 2;
                    }
                    if (idx != 4) {
                        if (a.length() > 0) a.append('+');
                        a.append(REG32[idx]).append('*').append(1 << scale);
                    } else if (base != 4 || scale != 0) {
                        // objdump names the "no index" encoding eiz when the SIB byte was not needed.
                        if (a.length() > 0) a.append('+');
                        a.append("eiz*").append(1 << scale);
                    }
                    if (noBase) {
                        disp = next32();
                        hasDisp = true;
                    }
                } else if (rm == 5 && mod == 0) {
                    disp = next32();
                    absolute = true;
                } else {
                    a.append(REG32[rm]);
                    if (rm == 5) defSeg = 2;
                }
                if (mod == 1) { disp = (byte) next8(); hasDisp = true; }
                else if (mod == 2) { disp = next32(); hasDisp = true; }
            }
            String segText = "";
            if (seg >= 0) {
                segText = SEG[seg] + ":";
                segUsed = true;
            }
            if (absolute) {
                mem = (segText.isEmpty() ? "ds:" : segText) + hex(a32 ? disp & 0xFFFFFFFFL : disp & 0xFFFF);
                return true;
            }
            if (hasDisp) {
                if (disp < 0 && !(a32 && disp == Integer.MIN_VALUE)) a.append('-').append(hex(-disp));
                else a.append('+').append(hex(a32 ? disp & 0xFFFFFFFFL : disp & 0xFFFF));
            }
            mem = segText + "[" + a + "]";
            return true;
        }

        /** The r/m operand as text, in {@code size} bytes (register or memory). */
        String rmText(boolean isMem, int size) {
            return isMem ? ptr(size) + mem : reg(rm, size);
        }

        String op(String mnemonic, String... operands) {
            StringBuilder b = new StringBuilder(mnemonic);
            if (operands.length > 0) {
                while (b.length() < 6) b.append(' ');
                b.append(' ');
                for (int i = 0; i < operands.length; i++) {
                    if (i > 0) b.append(',');
                    b.append(operands[i]);
                }
            }
            return b.toString();
        }

        /** A relative branch target, wrapped to the operand size. */
        String target(int rel) {
            int next = ip + pos;
            int t = next + rel;
            return hex(o32 ? t & 0xFFFFFFFFL : t & 0xFFFF);
        }

        /** The w/d suffix objdump adds when an operand-size prefix changes a size-implied mnemonic. */
        String sizeSuffix() {
            return opsizePrefix ? (o32 ? "d" : "w") : "";
        }

        String repPrefix(boolean conditional) {
            if (rep == 0) return "";
            if (!conditional) return rep == 0xF3 ? "rep " : "repnz ";
            return rep == 0xF3 ? "repz " : "repnz ";
        }

        /** A string instruction's operands. */
        String string(String name, int b) {
            int size = (b & 1) == 0 ? 1 : osz();
            String si = a32 ? "esi" : "si", di = a32 ? "edi" : "di";
            String src = ptr(size) + (seg >= 0 ? SEG[seg] : "ds") + ":[" + si + "]";
            String dst = ptr(size) + "es:[" + di + "]";
            segUsed = true;
            String acc = reg(0, size);
            return switch (name) {
                case "movs" -> op(repPrefix(false) + "movs", dst, src);
                case "cmps" -> op(repPrefix(true) + "cmps", src, dst);
                case "stos" -> op(repPrefix(false) + "stos", dst, acc);
                case "lods" -> op(repPrefix(false) + "lods", acc, src);
                case "scas" -> op(repPrefix(true) + "scas", acc, dst);
                case "ins" -> op(repPrefix(false) + "ins", dst, "dx");
                default -> op(repPrefix(false) + "outs", "dx", src);
            };
        }

        /** An instruction with no string semantics: F2/F3 prefixes show as repnz/repz. */
        String plain(String text) {
            if (text == null) return null;
            return rep == 0 ? text : prefixed(rep == 0xF3 ? "repz " : "repnz ", text);
        }

        /** {@code prefix} before an instruction's text, the operands staying aligned as objdump aligns them. */
        String prefixed(String prefix, String text) {
            if (prefix.isEmpty()) return text;
            int sp = text.indexOf(' ');
            if (sp < 0) return prefix + text;
            return op(prefix + text.substring(0, sp), text.substring(sp).trim());
        }

        // --- the one-byte map ---------------------------------------------------------------

        String oneByte(int b) {
            int osz = osz();
            if (b < 0x40 && (b & 7) < 6) {
                String name = ALU[b >> 3];
                switch (b & 7) {
                    case 0: case 1: {
                        int size = (b & 1) == 0 ? 1 : osz;
                        boolean m = modrm();
                        return plain(op(name, rmText(m, size), reg(reg, size)));
                    }
                    case 2: case 3: {
                        int size = (b & 1) == 0 ? 1 : osz;
                        boolean m = modrm();
                        return plain(op(name, reg(reg, size), rmText(m, size)));
                    }
                    case 4:
                        return plain(op(name, "al", imm(next8(), 1)));
                    default:
                        return plain(op(name, reg(0, osz), imm(imm(osz), osz)));
                }
            }
            switch (b) {
                case 0x06: case 0x0E: case 0x16: case 0x1E: return plain(op("push" + sizeSuffix(), SEG[b >> 3]));
                case 0x07: case 0x17: case 0x1F: return plain(op("pop" + sizeSuffix(), SEG[b >> 3]));
                case 0x27: return plain("daa");
                case 0x2F: return plain("das");
                case 0x37: return plain("aaa");
                case 0x3F: return plain("aas");
                default: break;
            }
            if (b >= 0x40 && b < 0x48) return plain(op("inc", reg(b & 7, osz)));
            if (b >= 0x48 && b < 0x50) return plain(op("dec", reg(b & 7, osz)));
            if (b >= 0x50 && b < 0x58) return plain(op("push", reg(b & 7, osz)));
            if (b >= 0x58 && b < 0x60) return plain(op("pop", reg(b & 7, osz)));
            if (b >= 0x70 && b < 0x80) {
                int rel = (byte) next8();
                return plain(op("j" + CC[b & 15], target(rel)));
            }
            if (b >= 0x91 && b < 0x98) return plain(op("xchg", reg(b & 7, osz), reg(0, osz)));
            if (b >= 0xB0 && b < 0xB8) return plain(op("mov", REG8[b & 7], imm(next8(), 1)));
            if (b >= 0xB8 && b < 0xC0) return plain(op("mov", reg(b & 7, osz), imm(imm(osz), osz)));
            if (b >= 0xD8 && b <= 0xDF) return plain(x87(b & 7));
            switch (b) {
                case 0x60: return plain("pusha" + sizeSuffix());
                case 0x61: return plain("popa" + sizeSuffix());
                case 0x62: {
                    if (!modrm()) return null;
                    return plain(op("bound", reg(reg, osz), ptr(osz * 2) + mem));
                }
                case 0x63: {
                    boolean m = modrm();
                    return plain(op("arpl", rmText(m, 2), REG16[reg]));
                }
                case 0x68: return plain(op("push" + sizeSuffix(), imm(imm(osz), osz)));
                case 0x6A: return plain(op("push" + sizeSuffix(), imm((byte) next8(), osz)));
                case 0x69: case 0x6B: {
                    boolean m = modrm();
                    int v = b == 0x69 ? imm(osz) : (byte) next8();
                    return plain(op("imul", reg(reg, osz), rmText(m, osz), imm(v, osz)));
                }
                case 0x6C: case 0x6D: return string("ins", b);
                case 0x6E: case 0x6F: return string("outs", b);
                case 0x80: case 0x81: case 0x82: case 0x83: {
                    int size = b == 0x81 || b == 0x83 ? osz : 1;
                    boolean m = modrm();
                    int v = b == 0x81 ? imm(osz) : (byte) next8();
                    return plain(op(ALU[reg], rmText(m, size), imm(v, size)));
                }
                case 0x84: case 0x85: case 0x86: case 0x87: {
                    int size = (b & 1) == 0 ? 1 : osz;
                    boolean m = modrm();
                    return plain(op(b < 0x86 ? "test" : "xchg", rmText(m, size), reg(reg, size)));
                }
                case 0x88: case 0x89: {
                    int size = (b & 1) == 0 ? 1 : osz;
                    boolean m = modrm();
                    return plain(op("mov", rmText(m, size), reg(reg, size)));
                }
                case 0x8A: case 0x8B: {
                    int size = (b & 1) == 0 ? 1 : osz;
                    boolean m = modrm();
                    return plain(op("mov", reg(reg, size), rmText(m, size)));
                }
                case 0x8C: {
                    boolean m = modrm();
                    if (reg > 5) return null;
                    return plain(op("mov", m ? rmText(true, 2) : reg(rm, osz), SEG[reg]));
                }
                case 0x8D: {
                    if (!modrm()) return null;
                    return plain(op("lea", reg(reg, osz), mem));
                }
                case 0x8E: {
                    boolean m = modrm();
                    if (reg > 5 || reg == 1) return null;
                    return plain(op("mov", SEG[reg], m ? rmText(true, 2) : reg(rm, osz)));
                }
                case 0x8F: {
                    boolean m = modrm();
                    if (reg != 0) return null;
                    return plain(op("pop", rmText(m, osz)));
                }
                case 0x90:
                    if (rep == 0xF3) return "pause";
                    return plain(opsizePrefix ? op("xchg", reg(0, osz), reg(0, osz)) : "nop");
                case 0x98: return plain(o32 ? "cwde" : "cbw");
                case 0x99: return plain(o32 ? "cdq" : "cwd");
                case 0x9A: case 0xEA: {
                    int off = imm(osz);
                    int sel = next16();
                    return plain(op(b == 0x9A ? "call" : "jmp", hex(sel) + ":" + imm(off, osz)));
                }
                case 0x9B: return plain("fwait");
                case 0x9C: return plain("pushf" + sizeSuffix());
                case 0x9D: return plain("popf" + sizeSuffix());
                case 0x9E: return plain("sahf");
                case 0x9F: return plain("lahf");
                case 0xA0: case 0xA1: case 0xA2: case 0xA3: {
                    int size = (b & 1) == 0 ? 1 : osz;
                    long addr = a32 ? next32() & 0xFFFFFFFFL : next16();
                    String m = (seg >= 0 ? SEG[seg] : "ds") + ":" + hex(addr);
                    segUsed = true;
                    return b < 0xA2 ? plain(op("mov", reg(0, size), m)) : plain(op("mov", m, reg(0, size)));
                }
                case 0xA4: case 0xA5: return string("movs", b);
                case 0xA6: case 0xA7: return string("cmps", b);
                case 0xA8: return plain(op("test", "al", imm(next8(), 1)));
                case 0xA9: return plain(op("test", reg(0, osz), imm(imm(osz), osz)));
                case 0xAA: case 0xAB: return string("stos", b);
                case 0xAC: case 0xAD: return string("lods", b);
                case 0xAE: case 0xAF: return string("scas", b);
                case 0xC0: case 0xC1: case 0xD0: case 0xD1: case 0xD2: case 0xD3: {
                    int size = (b & 1) == 0 ? 1 : osz;
                    boolean m = modrm();
                    String count = b <= 0xC1 ? imm(next8(), 1) : b <= 0xD1 ? "1" : "cl";
                    return plain(op(SHIFT[reg], rmText(m, size), count));
                }
                case 0xC2: return plain(op("ret" + sizeSuffix(), imm(next16(), 2)));
                case 0xC3: return plain("ret" + sizeSuffix());
                case 0xC4: case 0xC5: {
                    if (!modrm()) return null;
                    return plain(op(b == 0xC4 ? "les" : "lds", reg(reg, osz), ptr(osz + 2) + mem));
                }
                case 0xC6: case 0xC7: {
                    int size = b == 0xC6 ? 1 : osz;
                    boolean m = modrm();
                    if (reg != 0) return null;
                    return plain(op("mov", rmText(m, size), imm(imm(size), size)));
                }
                case 0xC8: {
                    int frame = next16();
                    int level = next8();
                    return plain(op("enter" + sizeSuffix(), imm(frame, 2), imm(level, 1)));
                }
                case 0xC9: return plain("leave" + sizeSuffix());
                case 0xCA: return plain(op("retf" + sizeSuffix(), imm(next16(), 2)));
                case 0xCB: return plain("retf" + sizeSuffix());
                case 0xCC: return plain("int3");
                case 0xCD: return plain(op("int", imm(next8(), 1)));
                case 0xCE: return plain("into");
                case 0xCF: return plain("iret" + sizeSuffix());
                case 0xD4: return plain(op("aam", imm(next8(), 1)));
                case 0xD5: return plain(op("aad", imm(next8(), 1)));
                case 0xD6: return plain("salc");
                case 0xD7: {
                    String m = "BYTE PTR " + (seg >= 0 ? SEG[seg] : "ds") + ":[" + (a32 ? "ebx" : "bx") + "]";
                    segUsed = true;
                    return plain(op("xlat", m));
                }
                case 0xE0: case 0xE1: case 0xE2: {
                    int rel = (byte) next8();
                    return plain(op(b == 0xE0 ? "loopne" : b == 0xE1 ? "loope" : "loop", target(rel)));
                }
                case 0xE3: {
                    int rel = (byte) next8();
                    return plain(op(a32 ? "jecxz" : "jcxz", target(rel)));
                }
                case 0xE4: return plain(op("in", "al", imm(next8(), 1)));
                case 0xE5: return plain(op("in", reg(0, osz), imm(next8(), 1)));
                case 0xE6: return plain(op("out", imm(next8(), 1), "al"));
                case 0xE7: return plain(op("out", imm(next8(), 1), reg(0, osz)));
                case 0xE8: case 0xE9: {
                    int rel = osz == 4 ? next32() : (short) next16();
                    return plain(op((b == 0xE8 ? "call" : "jmp") + sizeSuffix(), target(rel)));
                }
                case 0xEB: {
                    int rel = (byte) next8();
                    return plain(op("jmp", target(rel)));
                }
                case 0xEC: return plain(op("in", "al", "dx"));
                case 0xED: return plain(op("in", reg(0, osz), "dx"));
                case 0xEE: return plain(op("out", "dx", "al"));
                case 0xEF: return plain(op("out", "dx", reg(0, osz)));
                case 0xF1: return plain("int1");
                case 0xF4: return plain("hlt");
                case 0xF5: return plain("cmc");
                case 0xF6: case 0xF7: {
                    int size = b == 0xF6 ? 1 : osz;
                    boolean m = modrm();
                    String dst = rmText(m, size);
                    return switch (reg) {
                        case 0, 1 -> plain(op("test", dst, imm(imm(size), size)));
                        case 2 -> plain(op("not", dst));
                        case 3 -> plain(op("neg", dst));
                        case 4 -> plain(op("mul", dst));
                        case 5 -> plain(op("imul", dst));
                        case 6 -> plain(op("div", dst));
                        default -> plain(op("idiv", dst));
                    };
                }
                case 0xF8: return plain("clc");
                case 0xF9: return plain("stc");
                case 0xFA: return plain("cli");
                case 0xFB: return plain("sti");
                case 0xFC: return plain("cld");
                case 0xFD: return plain("std");
                case 0xFE: {
                    boolean m = modrm();
                    if (reg > 1) return null;
                    return plain(op(reg == 0 ? "inc" : "dec", rmText(m, 1)));
                }
                case 0xFF: {
                    boolean m = modrm();
                    switch (reg) {
                        case 0: return plain(op("inc", rmText(m, osz)));
                        case 1: return plain(op("dec", rmText(m, osz)));
                        case 2: return plain(op("call", rmText(m, osz)));
                        case 3: return m ? plain(op("call", ptr(osz + 2) + mem)) : null;
                        case 4: return plain(op("jmp", rmText(m, osz)));
                        case 5: return m ? plain(op("jmp", ptr(osz + 2) + mem)) : null;
                        case 6: return plain(op("push", rmText(m, osz)));
                        default: return null;
                    }
                }
                default:
                    return null;
            }
        }

        // --- the 0F map ---------------------------------------------------------------------

        String twoByte(int b) {
            int osz = osz();
            if (b >= 0x40 && b < 0x50) {
                boolean m = modrm();
                return plain(op("cmov" + CC[b & 15], reg(reg, osz), rmText(m, osz)));
            }
            if (b >= 0x80 && b < 0x90) {
                int rel = osz == 4 ? next32() : (short) next16();
                return plain(op("j" + CC[b & 15], target(rel)));
            }
            if (b >= 0x90 && b < 0xA0) {
                boolean m = modrm();
                return plain(op("set" + CC[b & 15], rmText(m, 1)));
            }
            if (b >= 0xC8 && b <= 0xCF) return plain(op("bswap", REG32[b & 7]));
            switch (b) {
                case 0x00: {
                    boolean m = modrm();
                    String[] names = {"sldt", "str", "lldt", "ltr", "verr", "verw"};
                    if (reg > 5) return null;
                    String operand = m ? rmText(true, 2) : reg(rm, reg < 2 ? osz : 2);
                    return plain(op(names[reg], operand));
                }
                case 0x01: {
                    boolean m = modrm();
                    if (reg == 5 || (!m && reg != 4 && reg != 6)) return null;
                    String sfx = o32 ? "d" : "w";
                    return switch (reg) {
                        case 0 -> plain(op("sgdt" + sfx, mem));
                        case 1 -> plain(op("sidt" + sfx, mem));
                        case 2 -> plain(op("lgdt" + sfx, mem));
                        case 3 -> plain(op("lidt" + sfx, mem));
                        case 4 -> plain(op("smsw", m ? rmText(true, 2) : reg(rm, osz)));
                        case 6 -> plain(op("lmsw", rmText(m, 2)));
                        default -> plain(op("invlpg", rmText(true, 1)));
                    };
                }
                case 0x02: case 0x03: {
                    boolean m = modrm();
                    return plain(op(b == 0x02 ? "lar" : "lsl", reg(reg, osz), m ? rmText(true, 2) : reg(rm, osz)));
                }
                case 0x06: return plain("clts");
                case 0x08: return plain("invd");
                case 0x09: return plain("wbinvd");
                case 0x0B: return plain("ud2");
                case 0x18: case 0x19: case 0x1A: case 0x1B: case 0x1C: case 0x1D: case 0x1E: case 0x1F: {
                    boolean m = modrm();
                    if (b == 0x1E && rep == 0xF3 && !m && (reg == 7) && (rm == 2 || rm == 3)) {
                        rep = 0;
                        return rm == 3 ? "endbr32" : "endbr64";
                    }
                    if (b == 0x18 && m && reg < 4) {
                        String[] hints = {"prefetchnta", "prefetcht0", "prefetcht1", "prefetcht2"};
                        return plain(op(hints[reg], rmText(true, 1)));
                    }
                    return plain(op("nop", rmText(m, osz)));
                }
                case 0x20: case 0x21: case 0x22: case 0x23: {
                    int m = next8();
                    int r = (m >> 3) & 7, g = m & 7;
                    boolean cr = (b & 1) == 0;
                    if (cr && (r == 1 || r > 4)) return null;
                    String special = (cr ? "cr" : "dr") + r;
                    return plain((b & 2) == 0 ? op("mov", REG32[g], special) : op("mov", special, REG32[g]));
                }
                case 0x30: return plain("wrmsr");
                case 0x31: return plain("rdtsc");
                case 0x32: return plain("rdmsr");
                case 0x33: return plain("rdpmc");
                case 0x34: return plain("sysenter");
                case 0x35: return plain("sysexit");
                case 0xA0: return plain(op("push" + sizeSuffix(), "fs"));
                case 0xA1: return plain(op("pop" + sizeSuffix(), "fs"));
                case 0xA8: return plain(op("push" + sizeSuffix(), "gs"));
                case 0xA9: return plain(op("pop" + sizeSuffix(), "gs"));
                case 0xA2: return plain("cpuid");
                case 0xA3: case 0xAB: case 0xB3: case 0xBB: {
                    boolean m = modrm();
                    String name = b == 0xA3 ? "bt" : b == 0xAB ? "bts" : b == 0xB3 ? "btr" : "btc";
                    return plain(op(name, rmText(m, osz), reg(reg, osz)));
                }
                case 0xA4: case 0xA5: case 0xAC: case 0xAD: {
                    boolean m = modrm();
                    String count = (b & 1) == 0 ? imm(next8(), 1) : "cl";
                    return plain(op(b < 0xAC ? "shld" : "shrd", rmText(m, osz), reg(reg, osz), count));
                }
                case 0xAF: {
                    boolean m = modrm();
                    return plain(op("imul", reg(reg, osz), rmText(m, osz)));
                }
                case 0xB0: case 0xB1: {
                    int size = b == 0xB0 ? 1 : osz;
                    boolean m = modrm();
                    return plain(op("cmpxchg", rmText(m, size), reg(reg, size)));
                }
                case 0xB2: case 0xB4: case 0xB5: {
                    if (!modrm()) return null;
                    String name = b == 0xB2 ? "lss" : b == 0xB4 ? "lfs" : "lgs";
                    return plain(op(name, reg(reg, osz), ptr(osz + 2) + mem));
                }
                case 0xB6: case 0xB7: case 0xBE: case 0xBF: {
                    boolean m = modrm();
                    int src = (b & 1) == 0 ? 1 : 2;
                    return plain(op(b < 0xB8 ? "movzx" : "movsx", reg(reg, osz), rmText(m, src)));
                }
                case 0xBA: {
                    boolean m = modrm();
                    if (reg < 4) return null;
                    String[] names = {"bt", "bts", "btr", "btc"};
                    String dst = rmText(m, osz);
                    return plain(op(names[reg - 4], dst, imm(next8(), 1)));
                }
                case 0xBC: case 0xBD: {
                    boolean m = modrm();
                    return plain(op(b == 0xBC ? "bsf" : "bsr", reg(reg, osz), rmText(m, osz)));
                }
                case 0xC0: case 0xC1: {
                    int size = b == 0xC0 ? 1 : osz;
                    boolean m = modrm();
                    return plain(op("xadd", rmText(m, size), reg(reg, size)));
                }
                case 0xC7: {
                    boolean m = modrm();
                    if (!m || reg != 1) return null;
                    return plain(op("cmpxchg8b", rmText(true, 8)));
                }
                default:
                    return null;
            }
        }

        // --- the x87 ------------------------------------------------------------------------

        private static final String[] ARITH = {"fadd", "fmul", "fcom", "fcomp", "fsub", "fsubr", "fdiv", "fdivr"};
        private static final String[] IARITH = {"fiadd", "fimul", "ficom", "ficomp", "fisub", "fisubr", "fidiv", "fidivr"};
        // DC and DE with a register operand: the destination is ST(i), and sub/subr, div/divr trade places.
        private static final String[] ARITH_REV = {"fadd", "fmul", "fcom2", "fcomp3", "fsubr", "fsub", "fdivr", "fdiv"};
        private static final String[] ARITH_POP = {"faddp", "fmulp", "fcomp5", null, "fsubrp", "fsubp", "fdivrp", "fdivp"};
        private static final String[] D9_E0 = {"fchs", "fabs", null, null, "ftst", "fxam", null, null};
        private static final String[] D9_E8 = {"fld1", "fldl2t", "fldl2e", "fldpi", "fldlg2", "fldln2", "fldz", null};
        private static final String[] D9_F0 = {"f2xm1", "fyl2x", "fptan", "fpatan", "fxtract", "fprem1", "fdecstp", "fincstp"};
        private static final String[] D9_F8 = {"fprem", "fyl2xp1", "fsqrt", "fsincos", "frndint", "fscale", "fsin", "fcos"};
        private static final String[] FCMOV = {"fcmovb", "fcmove", "fcmovbe", "fcmovu", "fcmovnb", "fcmovne", "fcmovnbe", "fcmovnu"};
        private static final String[] DB_E0 = {"fneni", "fndisi", "fnclex", "fninit", "fnsetpm", null, null, null};

        String x87(int esc) {
            boolean m = modrm();
            if (m) return x87Memory(esc);
            String sti = "st(" + rm + ")";
            switch (esc) {
                case 0:
                    return reg == 2 || reg == 3 ? op(ARITH[reg], sti) : op(ARITH[reg], "st", sti);
                case 1:
                    switch (reg) {
                        case 0: return op("fld", sti);
                        case 1: return op("fxch", sti);
                        case 2: return rm == 0 ? "fnop" : null;
                        case 3: return op("fstp1", sti);
                        case 4: return D9_E0[rm];
                        case 5: return D9_E8[rm];
                        case 6: return D9_F0[rm];
                        default: return D9_F8[rm];
                    }
                case 2:
                    if (reg < 4) return op(FCMOV[reg], "st", sti);
                    return reg == 5 && rm == 1 ? "fucompp" : null;
                case 3:
                    if (reg < 4) return op(FCMOV[reg + 4], "st", sti);
                    if (reg == 4) return DB_E0[rm];
                    if (reg == 5) return op("fucomi", "st", sti);
                    if (reg == 6) return op("fcomi", "st", sti);
                    return null;
                case 4:
                    return reg == 2 || reg == 3 ? op(ARITH_REV[reg], sti) : op(ARITH_REV[reg], sti, "st");
                case 5:
                    switch (reg) {
                        case 0: return op("ffree", sti);
                        case 1: return op("fxch4", sti);
                        case 2: return op("fst", sti);
                        case 3: return op("fstp", sti);
                        case 4: return op("fucom", sti);
                        case 5: return op("fucomp", sti);
                        default: return null;
                    }
                case 6:
                    if (reg == 3) return rm == 1 ? "fcompp" : null;
                    return reg == 2 ? op(ARITH_POP[reg], sti) : op(ARITH_POP[reg], sti, "st");
                default:
                    switch (reg) {
                        case 0: return op("ffreep", sti);
                        case 1: return op("fxch7", sti);
                        case 2: return op("fstp8", sti);
                        case 3: return op("fstp9", sti);
                        case 4: return rm == 0 ? op("fnstsw", "ax") : null;
                        case 5: return op("fucomip", "st", sti);
                        case 6: return op("fcomip", "st", sti);
                        default: return null;
                    }
            }
        }

        String x87Memory(int esc) {
            switch (esc) {
                case 0: return op(ARITH[reg], ptr(4) + mem);
                case 4: return op(ARITH[reg], ptr(8) + mem);
                case 2: return op(IARITH[reg], ptr(4) + mem);
                case 6: return op(IARITH[reg], ptr(2) + mem);
                case 1:
                    switch (reg) {
                        case 0: return op("fld", ptr(4) + mem);
                        case 2: return op("fst", ptr(4) + mem);
                        case 3: return op("fstp", ptr(4) + mem);
                        case 4: return op("fldenv", mem);
                        case 5: return op("fldcw", ptr(2) + mem);
                        case 6: return op("fnstenv", mem);
                        case 7: return op("fnstcw", ptr(2) + mem);
                        default: return null;
                    }
                case 3:
                    switch (reg) {
                        case 0: return op("fild", ptr(4) + mem);
                        case 1: return op("fisttp", ptr(4) + mem);
                        case 2: return op("fist", ptr(4) + mem);
                        case 3: return op("fistp", ptr(4) + mem);
                        case 5: return op("fld", ptr(10) + mem);
                        case 7: return op("fstp", ptr(10) + mem);
                        default: return null;
                    }
                case 5:
                    switch (reg) {
                        case 0: return op("fld", ptr(8) + mem);
                        case 1: return op("fisttp", ptr(8) + mem);
                        case 2: return op("fst", ptr(8) + mem);
                        case 3: return op("fstp", ptr(8) + mem);
                        case 4: return op("frstor", mem);
                        case 6: return op("fnsave", mem);
                        case 7: return op("fnstsw", ptr(2) + mem);
                        default: return null;
                    }
                default:
                    switch (reg) {
                        case 0: return op("fild", ptr(2) + mem);
                        case 1: return op("fisttp", ptr(2) + mem);
                        case 2: return op("fist", ptr(2) + mem);
                        case 3: return op("fistp", ptr(2) + mem);
                        case 4: return op("fbld", ptr(10) + mem);
                        case 5: return op("fild", ptr(8) + mem);
                        case 6: return op("fbstp", ptr(10) + mem);
                        default: return op("fistp", ptr(8) + mem);
                    }
            }
        }
    }
}
