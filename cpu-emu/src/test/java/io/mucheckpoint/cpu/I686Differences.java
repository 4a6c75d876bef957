package io.mucheckpoint.cpu;

import static io.mucheckpoint.cpu.Vector286.AX;
import static io.mucheckpoint.cpu.Vector286.BP;
import static io.mucheckpoint.cpu.Vector286.CS;
import static io.mucheckpoint.cpu.Vector286.CX;
import static io.mucheckpoint.cpu.Vector286.DI;
import static io.mucheckpoint.cpu.Vector286.SI;
import static io.mucheckpoint.cpu.Vector286.SP;
import static io.mucheckpoint.cpu.Vector286.SS;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The documented differences between the 80286 the vectors were recorded on and the i686 this
 * emulator is, as rules that any vector can be judged by. A rule has a precondition computed from
 * the vector alone (its bytes, its initial state, the exception the 80286 recorded), never from a
 * list of vectors, and says what the i686 does instead: either a whole expected state derived from
 * the vector's initial state and the documented i686 behaviour (the LOCK #UD, the #DE of IDIV, the
 * executed MOV to FS), or the 80286's recorded state changed exactly where the documentation says
 * the i686 differs (the exception vector, the IOPL/NT bits POPF loads, the string registers at a
 * fault), or, for the length limit alone, the same instruction without its redundant prefixes. The
 * processor must then match that to the bit: a rule only ever replaces one check by another,
 * stricter where it can be, and never turns a comparison off except for flags the SDM declares
 * undefined.
 */
final class I686Differences {
    private I686Differences() {}

    /** One documented difference. */
    interface Rule {
        String id();

        /** What differs, in a line. */
        String title();

        /** Where it is documented. */
        String source();

        /** What the i686 is held to when the rule applies. */
        String check();

        /** Why the rule is right even where it explains many vectors. */
        String why();

        boolean applies(Vector286 v);

        /**
         * Whether, wherever the rule applies, the i686 must end differently from the 80286: then a
         * processor that reproduces the vector as recorded is wrong, and the rule is always applied.
         */
        default boolean mandatory() {
            return true;
        }

        void apply(Vector286 v, VectorRunner runner, Attempt a);
    }

    /** A run and what it must end with. */
    static final class Attempt {
        final VectorRunner.Setup setup = new VectorRunner.Setup();
        Expectation expect;
        /** The expectation is the run of the instruction without its redundant prefixes (the length rule). */
        boolean againstShortForm;

        Attempt(Vector286 v) {
            expect = Expectation.of(v);
        }
    }

    enum Kind { PASS, EXPLAINED, FAIL }

    /**
     * The verdict on one vector: passed as recorded, explained by rules (and then checked), or
     * failed; {@code as80286} marks a failure where the processor reproduced the 80286's result
     * although a rule that applies says the i686 must end differently.
     */
    record Verdict(Kind kind, List<String> rules, String detail, boolean as80286) {
        Verdict(Kind kind, List<String> rules, String detail) {
            this(kind, rules, detail, false);
        }
    }

    // --- the rules ---------------------------------------------------------------------------------

    static final Rule LOCK = new Rule() {
        public String id() {
            return "lock";
        }

        public String title() {
            return "LOCK on an instruction that is not a locked read-modify-write of memory: #UD on the i686, ignored by the 80286";
        }

        public String source() {
            return "SDM Vol. 2A, LOCK (\"#UD if the LOCK prefix is used with an instruction not listed\", and with a register "
                    + "destination); 80386 PRM 14.7 item 10 and 14.8.1 (LOCK restricted to BTS/BTR/BTC/XCHG/INC/DEC/NOT/NEG/ADD/"
                    + "ADC/SUB/SBB/AND/OR/XOR updating memory; the 80286 locks any instruction)";
        }

        public String check() {
            return "both ways: as an i686 the CPU must raise #UD before the instruction does anything (frame, registers and every "
                    + "byte the 80286 wrote checked); with LOCK ignored as on the 80286 it must reproduce the vector (under the "
                    + "other rules that apply)";
        }

        public String why() {
            return "upstream prefixes LOCK to random instructions on purpose (README, \"LOCK and LOCK Prefixes\"), almost always "
                    + "to ones the i686 refuses; each such vector is checked twice, against the i686 rule and against the "
                    + "hardware, so a LOCK vector counts as explained only if the processor is right both ways";
        }

        public boolean applies(Vector286 v) {
            return v.lock && !lockable(v);
        }

        public void apply(Vector286 v, VectorRunner runner, Attempt a) {
            a.setup.lockIgnored = true;
        }
    };

    /** The SDM's list: a locked read-modify-write of a memory destination. */
    static boolean lockable(Vector286 v) {
        int op = v.op;
        if (!v.memoryOperand()) return false;
        if (op < 0x38 && (op & 7) <= 1) return true; // ADD OR ADC SBB AND SUB XOR r/m, r
        if (op >= 0x80 && op <= 0x83) return v.reg() != 7; // not CMP
        if (op == 0xF6 || op == 0xF7) return v.reg() == 2 || v.reg() == 3; // NOT NEG
        if (op == 0xFE || op == 0xFF) return v.reg() <= 1; // INC DEC
        return op == 0x86 || op == 0x87; // XCHG
    }

    static final Rule IOPL_NT = new Rule() {
        public String id() {
            return "popf-iret-iopl-nt";
        }

        public String title() {
            return "POPF and IRET in real mode: the i686 loads FLAGS bits 12-14 (IOPL, NT) from the stack, the 80286 leaves them 0";
        }

        public String source() {
            return "80286 PRM, POPF (\"In real mode the NT and IOPL bits will not be modified\") and IRET; SDM Vol. 2B, POPF "
                    + "(real-address mode: all non-reserved flags except VIP, VIF and VM are loaded) and IRET; 80386 PRM 14.7 item 12 "
                    + "(bits 14-12 reflect the last value loaded into them)";
        }

        public String check() {
            return "the vector's final state, with FLAGS bits 12-14 taken from the FLAGS word the instruction popped";
        }

        public String why() {
            return "the initial FLAGS word on the stack is random, so seven in eight POPF and IRET vectors pop a word with one of "
                    + "bits 12-14 set; the rule changes exactly those three bits, to the popped value, and every other bit of "
                    + "every register and byte is still compared";
        }

        public boolean applies(Vector286 v) {
            if ((v.op != 0x9D && v.op != 0xCF) || v.exception >= 0) return false;
            int w = popped(v);
            return w >= 0 && (w & 0x7000) != 0;
        }

        private int popped(Vector286 v) {
            return v.initWord(SS, v.iregs[SP] + (v.op == 0xCF ? 4 : 0));
        }

        public void apply(Vector286 v, VectorRunner runner, Attempt a) {
            a.expect.flags = (a.expect.flags & ~0x7000) | (popped(v) & 0x7000);
        }
    };

    static final Rule STACK_FAULT = new Rule() {
        public String id() {
            return "ss-12-not-13";
        }

        public String title() {
            return "an SS-relative operand crossing offset 0xFFFF in real mode: #SS (12) on the i686, #GP (13) on the 80286";
        }

        public String source() {
            return "80286 PRM, instruction set introduction (\"Exception 13 is generated whenever a word operand is accessed from "
                    + "effective address 0FFFFH in a segment\"; POP: \"Interrupt 13 for a word operand at offset 0FFFFH\"); 80386 PRM "
                    + "14.7 item 6 (\"exception 13 if the segment is a data segment ..., exception 12 if the segment is a stack "
                    + "segment\"); SDM Vol. 2, Real-Address Mode Exceptions (#SS for an SS-relative address outside the limit). Intel's "
                    + "\"Undocumented iAPX 286 Test Instruction\" speaks of exception 12 for an SS-overridden string instruction; "
                    + "this chip raises 13 there too, as the 80286 PRM's general statement says";
        }

        public String check() {
            return "the vector's final state with the exception delivered through vector 12 instead of 13: the same frame, SP and "
                    + "registers, CS:IP from a handler planted at vector 12";
        }

        public String why() {
            return "applies only where the 80286 recorded #GP and the instruction's first access to cross offset 0xFFFF goes "
                    + "through SS, worked out from the instruction and its initial registers (a BP-based or SS-overridden operand, a "
                    + "pop at SP, LEAVE's pop at BP, an SS-overridden string source); the frame must still match byte for byte";
        }

        public boolean applies(Vector286 v) {
            return v.exception == 13 && faultingSegment(v) == SS;
        }

        public void apply(Vector286 v, VectorRunner runner, Attempt a) {
            a.setup.planted.add(12);
            a.expect.segs[CS] = VectorRunner.HANDLER_CS;
            a.expect.ip = VectorRunner.handlerIp(v, 12) + 1;
        }
    };

    /** Words popped from SS:SP by the instructions that only pop. */
    private static final java.util.Map<Integer, Integer> POPS = java.util.Map.ofEntries(
            java.util.Map.entry(0x07, 1), java.util.Map.entry(0x17, 1), java.util.Map.entry(0x1F, 1), java.util.Map.entry(0x58, 1),
            java.util.Map.entry(0x59, 1), java.util.Map.entry(0x5A, 1), java.util.Map.entry(0x5B, 1), java.util.Map.entry(0x5C, 1),
            java.util.Map.entry(0x5D, 1), java.util.Map.entry(0x5E, 1), java.util.Map.entry(0x5F, 1), java.util.Map.entry(0x61, 8),
            java.util.Map.entry(0x9D, 1), java.util.Map.entry(0xC2, 1), java.util.Map.entry(0xC3, 1), java.util.Map.entry(0xCA, 2),
            java.util.Map.entry(0xCB, 2), java.util.Map.entry(0xCF, 3));

    /**
     * The segment of the instruction's first word access that crosses offset 0xFFFF (the one that
     * faults), from its bytes and initial registers; -1 if there is none or the instruction is not
     * one this knows. Covers what the 80286 set can do: pops, LEAVE, a ModRM memory operand (read
     * or written first, before any push), POP r/m (the pop first), and word string instructions.
     */
    static int faultingSegment(Vector286 v) {
        int op = v.op;
        Integer pops = POPS.get(op);
        if (pops != null) return wordAtLimit(v.iregs[SP], pops) ? SS : -1;
        if (op == 0xC9) return v.iregs[BP] == 0xFFFF ? SS : -1; // LEAVE: SP := BP, then the pop
        if (op == 0x8F && v.iregs[SP] == 0xFFFF) return SS;     // POP r/m pops before it writes
        if (v.memoryOperand() && op != 0x8D && (op < 0xD8 || op > 0xDF)) {
            int bytes = operandBytes(v);
            int ea = v.ea();
            if (bytes == 2 && ea == 0xFFFF) return v.eaSegment();
            if (bytes == 4 && (ea == 0xFFFF || ea == 0xFFFD)) return v.eaSegment(); // two word accesses
            return -1;
        }
        if (WORD_STRING.contains(op)) {
            int[] at = restartRegisters(v);
            if (at == null) return -1;
            boolean siHits = readsSi(op) && at[0] == 0xFFFF, diHits = writesOrReadsDi(op) && at[1] == 0xFFFF;
            int source = v.segOverride >= 0 ? v.segOverride : Vector286.DS;
            if (op == 0xA7) return siHits == diHits ? -1 : siHits ? source : Vector286.ES; // the order of CMPS's reads is not documented
            return siHits ? source : Vector286.ES;
        }
        return -1;
    }

    private static boolean wordAtLimit(int sp, int words) {
        for (int k = 0; k < words; k++) if (((sp + 2 * k) & 0xFFFF) == 0xFFFF) return true;
        return false;
    }

    /** The size of a ModRM memory operand in bytes (4: a far pointer or BOUND's pair, read as two words). */
    static int operandBytes(Vector286 v) {
        int op = v.op;
        if (op == 0x62 || op == 0xC4 || op == 0xC5 || (op == 0xFF && (v.reg() == 3 || v.reg() == 5))) return 4;
        if (op < 0x40) return (op & 1) != 0 ? 2 : 1;
        return switch (op) {
            case 0x80, 0x82, 0x84, 0x86, 0x88, 0x8A, 0xC0, 0xC6, 0xD0, 0xD2, 0xF6, 0xFE -> 1;
            default -> 2;
        };
    }

    static final Rule LENGTH = new Rule() {
        public String id() {
            return "length-10";
        }

        public String title() {
            return "an instruction of 11 to 15 bytes (redundant prefixes): #GP on the 80286, whose limit is 10 bytes; valid on the i686";
        }

        public String source() {
            return "SDM Vol. 2A 2.3.11 (instructions up to 15 bytes); 80386 PRM 14.7 item 5; Ralf Brown's Interrupt List, INT 0D "
                    + "(\"an instruction exceeds the maximum length allowed (10 bytes for 80286, 15 bytes for 80386/80486)\"); the "
                    + "hardware raised 13 here, not the 6 upstream's README names (FORMAT.md)";
        }

        public String check() {
            return "the run must end exactly as a run of the same instruction without its redundant prefixes (one LOCK, one REP and "
                    + "the last segment override kept), placed to end at the same address: every register, FLAGS and every byte the "
                    + "vector names; that shorter form is what the file's other vectors check against the hardware";
        }

        public String why() {
            return "applies only where the 80286 recorded a #GP that changed nothing but the stack, pushing the instruction's own "
                    + "address; the rule does not check the operation's result against the hardware (the vector has none), only "
                    + "that the i686 executes the long form as its short form";
        }

        public boolean applies(Vector286 v) {
            if (v.length() <= 10 || v.length() > 15 || v.exception != 13) return false;
            for (int i = 0; i < 8; i++) if (i != SP && v.fregs[i] != v.iregs[i]) return false;
            int frame = v.fsegs[SS] * 16 + v.fregs[SP];
            Integer lo = v.finalRam.get(frame), hi = v.finalRam.get(v.fsegs[SS] * 16 + ((v.fregs[SP] + 1) & 0xFFFF));
            return lo != null && hi != null && (lo | hi << 8) == v.iip;
        }

        public void apply(Vector286 v, VectorRunner runner, Attempt a) {
            a.againstShortForm = true;
        }
    };

    /** The instruction with at most one prefix of each kind: LOCK, REP (the last), the last segment override. */
    static int[] shortForm(Vector286 v) {
        List<Integer> out = new ArrayList<>();
        if (v.lock) out.add(0xF0);
        if (v.rep != 0) out.add(v.rep);
        if (v.segOverride >= 0) out.add(new int[] {0x26, 0x2E, 0x36, 0x3E}[v.segOverride]);
        for (int i = v.prefixes; i < v.bytes.length; i++) out.add(v.bytes[i]);
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    static final Rule FS_GS = new Rule() {
        public String id() {
            return "fs-gs";
        }

        public String title() {
            return "MOV to or from segment register 4 or 5: #UD on the 80286 (no FS or GS), FS or GS on the i686";
        }

        public String source() {
            return "SDM Vol. 2B, MOV (Sreg 4 = FS, 5 = GS); Vol. 3B 22.13 (FS and GS are new in the Intel386); 80386 PRM 14.2";
        }

        public String check() {
            return "derived from the initial state: the move done (FS and GS preloaded with known selectors; the register, the "
                    + "memory word at the operand's address or FS/GS compared), nothing else changed, no byte of the 80286's #UD frame "
                    + "written, execution on to the HLT";
        }

        public String why() {
            return "applies only to 8C/8E with reg 4 or 5 where the 80286 raised #UD";
        }

        public boolean applies(Vector286 v) {
            return (v.op == 0x8C || v.op == 0x8E) && (v.reg() == 4 || v.reg() == 5) && v.exception == 6;
        }

        public void apply(Vector286 v, VectorRunner runner, Attempt a) {
            a.setup.loadFsGs = true;
            a.setup.withSentinels(v);
            if (v.mod() != 3 && v.ea() == 0xFFFF) {
                // The word operand crosses the segment's end: the i686 faults on it (#SS through SS, else #GP).
                int vector = v.eaSegment() == SS ? 12 : 13;
                a.setup.planted.add(vector);
                a.expect = Expectation.fault(v, VectorRunner.HANDLER_CS, VectorRunner.handlerIp(v, vector), a.setup.sentinels);
                return;
            }
            Expectation e = Expectation.unchanged(v, a.setup.sentinels);
            boolean fs = v.reg() == 4;
            int value = fs ? VectorRunner.FS_VALUE : VectorRunner.GS_VALUE;
            if (v.op == 0x8C) {
                if (v.mod() == 3) e.regs[v.rm()] = value;
                else {
                    e.ram.put(v.eaLinear(0), value & 0xFF);
                    e.ram.put(v.eaLinear(1), value >> 8);
                }
            } else {
                int src = v.mod() == 3 ? v.iregs[v.rm()] : v.initWord(v.eaSegment(), v.ea());
                if (src < 0) {
                    // The 80286 never read the operand, so the vector does not give it: supply one.
                    src = OWN_SOURCE;
                    a.setup.sentinels.put(v.eaLinear(0), src & 0xFF);
                    a.setup.sentinels.put(v.eaLinear(1), src >> 8);
                }
                if (fs) e.fs = src;
                else e.gs = src;
            }
            a.expect = e;
        }
    };

    /** The word an 8E /4 or /5 vector's operand is given when the vector leaves it open. */
    static final int OWN_SOURCE = 0x0C0F;

    static final Rule STRING = new Rule() {
        public String id() {
            return "string-restart";
        }

        public String title() {
            return "a word string instruction faulting on an operand at offset 0xFFFF: the 80286 has already advanced SI/DI (and CX),"
                    + " the i686 leaves them as they were before the faulting element";
        }

        public String source() {
            return "Intel, \"Undocumented iAPX 286 Test Instruction\", pp. 13-14 (as PCjs publishes it: \"Restarting string "
                    + "instructions which caused exception 12 ... or exception 13 requires updating SI, DI, and CX ... Which "
                    + "registers are updated depends on the instruction and when the exception was detected\"); SDM Vol. 3A 6.5 "
                    + "(faults restartable) and Vol. 2B REP (an interrupted repeated string instruction resumes from its registers). "
                    + "The document's per-instruction amounts do not all hold on this chip (its vectors show CX one less for a "
                    + "repeated OUTSW, not two, and none for a repeated CMPSW whose DI faulted): the rule holds the 80286 side to the "
                    + "document's bounds, not its table, and computes the i686 side exactly";
        }

        public String check() {
            return "the vector's final state with SI, DI and CX replaced by the i686's: the values at the start of the first "
                    + "element whose word sits at offset 0xFFFF, computed from the initial registers and DF; the 80286's own "
                    + "values must lie within the document's bounds of those (each index one element further at most, CX at most 2 less)";
        }

        public String why() {
            return "applies only where the 80286 recorded #GP on a word string instruction whose index reaches 0xFFFF; the i686's "
                    + "registers are computed, not copied, and the frame must still match";
        }

        public boolean applies(Vector286 v) {
            if (v.exception != 13 || !WORD_STRING.contains(v.op)) return false;
            int[] want = restartRegisters(v);
            if (want == null) return false;
            int step = v.df() ? -2 : 2;
            boolean si = readsSi(v.op), di = writesOrReadsDi(v.op);
            if (si && !within(v.fregs[SI] - want[0], step)) return false;
            if (di && !within(v.fregs[DI] - want[1], step)) return false;
            int cxBack = (want[2] - v.fregs[CX]) & 0xFFFF;
            if (v.rep == 0 ? cxBack != 0 : cxBack > 2) return false;
            return v.fregs[SI] != want[0] || v.fregs[DI] != want[1] || v.fregs[CX] != want[2];
        }

        private boolean within(int delta, int step) {
            delta &= 0xFFFF;
            return delta == 0 || delta == (step & 0xFFFF);
        }

        public void apply(Vector286 v, VectorRunner runner, Attempt a) {
            int[] want = restartRegisters(v);
            a.expect.regs[SI] = want[0];
            a.expect.regs[DI] = want[1];
            a.expect.regs[CX] = want[2];
        }
    };

    static final Set<Integer> WORD_STRING = Set.of(0x6D, 0x6F, 0xA5, 0xA7, 0xAB, 0xAD, 0xAF);

    static boolean readsSi(int op) {
        return op == 0xA5 || op == 0xA7 || op == 0xAD || op == 0x6F;
    }

    static boolean writesOrReadsDi(int op) {
        return op == 0xA5 || op == 0xA7 || op == 0xAB || op == 0xAF || op == 0x6D;
    }

    /** SI, DI, CX at the start of the first element with a word at offset 0xFFFF, or null if none is reached. */
    static int[] restartRegisters(Vector286 v) {
        int step = v.df() ? -2 : 2;
        int count = v.rep == 0 ? 1 : v.iregs[CX];
        boolean si = readsSi(v.op), di = writesOrReadsDi(v.op);
        for (int k = 0; k < count; k++) {
            int s = (v.iregs[SI] + k * step) & 0xFFFF, d = (v.iregs[DI] + k * step) & 0xFFFF;
            if ((si && s == 0xFFFF) || (di && d == 0xFFFF)) {
                return new int[] {si ? s : v.iregs[SI], di ? d : v.iregs[DI], v.rep == 0 ? v.iregs[CX] : (v.iregs[CX] - k) & 0xFFFF};
            }
        }
        return null;
    }

    static final Rule UNDEFINED_FLAGS = new Rule() {
        public String id() {
            return "undefined-flags";
        }

        public String title() {
            return "flags the SDM declares undefined for this shift or rotate count that upstream's metadata does not mask: OF after "
                    + "a count above 1, CF after SHL/SHR by the operand width or more";
        }

        public String source() {
            return "SDM Vol. 2B, SAL/SAR/SHL/SHR and RCL/RCR/ROL/ROR, \"Flags Affected\" (\"The OF flag is affected only for 1-bit "
                    + "shifts ... otherwise, it is undefined\"; CF \"is undefined for SHL and SHR instructions where the count is "
                    + "greater than or equal to the size\"; OF \"is defined only for the 1-bit rotates\"); FORMAT.md notes that "
                    + "upstream masks OF for C1/D2/D3 rotates but not for C0";
        }

        public String check() {
            return "the vector's final state with those flags, and only those, left out of the FLAGS comparison";
        }

        public String why() {
            return "applies only to C0/C1 with a count (masked to 5 bits, as both processors do) that makes a flag undefined and "
                    + "upstream does not already mask";
        }

        public boolean applies(Vector286 v) {
            return extraUndefined(v) != 0;
        }

        /** Undefined flags may well come out as the 80286's. */
        public boolean mandatory() {
            return false;
        }

        public void apply(Vector286 v, VectorRunner runner, Attempt a) {
            a.expect.flagsMask &= ~extraUndefined(v);
        }
    };

    /** Flags the SDM leaves undefined for this C0/C1 instance that the upstream mask still compares. */
    static int extraUndefined(Vector286 v) {
        if (v.op != 0xC0 && v.op != 0xC1) return 0;
        int imm = v.byteAfterModrm();
        if (imm < 0) return 0;
        int count = imm & 0x1F;
        int width = v.op == 0xC0 ? 8 : 16;
        int undefined = 0;
        if (count > 1) undefined |= 0x800; // OF
        int reg = v.reg();
        if (reg >= 4 && reg <= 6 && count >= width) undefined |= 0x001; // CF after SHL/SHR (reg 6: the SHL alias)
        return undefined & v.flagsMask;
    }

    static final Rule IDIV_QUIRK = new Rule() {
        public String id() {
            return "idiv-quotient-80h";
        }

        public String title() {
            return "8-bit IDIV whose quotient does not fit in AL, where the 80286 returns quotient 80h without #DE: the i686 raises #DE";
        }

        public String source() {
            return "SDM Vol. 2A, IDIV (#DE if the signed quotient is outside -128..127; -128 itself fits, on the 80286 as on the i686: "
                    + "80286 PRM IDIV, 80386 PRM 14.7 item 11 — only the 8086 faults on it); the quirk: SingleStepTests/80386 issue "
                    + "#3 (an 80386 returns AL=80h and the remainder \"as if bit 14 of the numerator was flipped, but only in cases "
                    + "where the new quotient ends up being 80h\"), which this 80286's vectors show too";
        }

        public String check() {
            return "derived from the initial state: #DE delivered before anything changed (frame, registers, memory); the 80286's "
                    + "result must be exactly the quirk's (AL = 80h, AH = the remainder of AX xor 4000h by the divisor)";
        }

        public String why() {
            return "applies only where the true quotient overflows a byte and the 80286's AX equals the quirk's prediction";
        }

        public boolean applies(Vector286 v) {
            if (v.op != 0xF6 || v.reg() != 7 || v.exception >= 0) return false;
            int d = divisor(v);
            if (d == Integer.MIN_VALUE || d == 0) return false;
            int n = (short) v.iregs[AX];
            int q = n / d;
            if (q >= -128 && q <= 127) return false;
            int flipped = (short) (v.iregs[AX] ^ 0x4000);
            int q2 = flipped / d, r2 = flipped % d;
            return q2 == -128 && (v.fregs[AX] & 0xFFFF) == (((r2 & 0xFF) << 8) | 0x80);
        }

        /** The signed 8-bit divisor, or Integer.MIN_VALUE if the vector does not give it. */
        private int divisor(Vector286 v) {
            if (v.mod() == 3) {
                int r = v.rm();
                int w = v.iregs[r & 3];
                return (byte) (r < 4 ? w : w >> 8);
            }
            int b = v.initByte(v.eaLinear(0));
            return b < 0 ? Integer.MIN_VALUE : (byte) b;
        }

        public void apply(Vector286 v, VectorRunner runner, Attempt a) {
            a.setup.planted.add(0);
            a.setup.withSentinels(v);
            Expectation e = Expectation.fault(v, VectorRunner.HANDLER_CS, VectorRunner.handlerIp(v, 0), a.setup.sentinels);
            e.flagsMask = v.flagsMask; // IDIV leaves the arithmetic flags undefined, in the frame too
            a.expect = e;
        }
    };

    /** Every rule, in the order a combination applies them: those that replace the expectation first. */
    static final List<Rule> RULES = List.of(LOCK, IDIV_QUIRK, FS_GS, LENGTH, STACK_FAULT, STRING, IOPL_NT, UNDEFINED_FLAGS);

    // --- the judge ---------------------------------------------------------------------------------

    /** Judges vectors on one processor. */
    static final class Judge {
        final VectorRunner runner = new VectorRunner();

        Verdict judge(Vector286 v) {
            List<Rule> applicable = new ArrayList<>();
            for (Rule r : RULES) if (r.applies(v)) applicable.add(r);
            List<Rule> always = new ArrayList<>(), optional = new ArrayList<>();
            for (Rule r : applicable) (r.mandatory() ? always : optional).add(r);
            if (always.contains(LOCK)) {
                // As an i686 first: #UD before the instruction does anything.
                VectorRunner.Setup ud = new VectorRunner.Setup().withSentinels(v);
                ud.planted.add(6);
                Expectation raised = Expectation.fault(v, VectorRunner.HANDLER_CS, VectorRunner.handlerIp(v, 6), ud.sentinels);
                String why = runner.check(v, ud, raised);
                if (why != null) {
                    boolean as80286 = runner.check(v, new VectorRunner.Setup(), Expectation.of(v)) == null;
                    return new Verdict(Kind.FAIL, List.of(LOCK.id()), "LOCK did not raise #UD first: " + why, as80286);
                }
            }
            if (always.isEmpty()) {
                String plain = runner.check(v, new VectorRunner.Setup(), Expectation.of(v));
                if (plain == null) return new Verdict(Kind.PASS, List.of(), null);
                List<Rule> explaining = firstCombination(v, optional, always);
                if (explaining != null) return new Verdict(Kind.EXPLAINED, ids(explaining), null);
                return new Verdict(Kind.FAIL, ids(applicable), plain + underAll(v, applicable));
            }
            List<Rule> explaining = firstCombination(v, optional, always);
            if (explaining != null) return new Verdict(Kind.EXPLAINED, ids(explaining), null);
            String asRecorded = runner.check(v, new VectorRunner.Setup(), Expectation.of(v));
            String what = asRecorded == null ? "the processor did what the 80286 did, where the i686 must differ"
                    : "differs from the 80286: " + asRecorded;
            return new Verdict(Kind.FAIL, ids(applicable), what + underAll(v, applicable), asRecorded == null);
        }

        /**
         * The first set of rules under which the run matches: {@code base} with the fewest of
         * {@code optional} (none first), or null.
         */
        private List<Rule> firstCombination(Vector286 v, List<Rule> optional, List<Rule> base) {
            int n = optional.size();
            for (int size = base.isEmpty() ? 1 : 0; size <= n; size++) {
                for (int mask = 0; mask < (1 << n); mask++) {
                    if (Integer.bitCount(mask) != size) continue;
                    List<Rule> set = new ArrayList<>(base);
                    for (int i = 0; i < n; i++) if ((mask & (1 << i)) != 0) set.add(optional.get(i));
                    set.sort((x, y) -> RULES.indexOf(x) - RULES.indexOf(y));
                    Attempt a = new Attempt(v);
                    for (Rule r : set) r.apply(v, runner, a);
                    if (evaluate(v, a) == null) return set;
                }
            }
            return null;
        }

        /** What still differs with every applicable rule applied (for the failure report). */
        private String underAll(Vector286 v, List<Rule> rules) {
            if (rules.isEmpty()) return "";
            Attempt a = new Attempt(v);
            for (Rule r : rules) r.apply(v, runner, a);
            return "; as the i686 under those rules: " + evaluate(v, a);
        }

        private String evaluate(Vector286 v, Attempt a) {
            if (!a.againstShortForm) return runner.check(v, a.setup, a.expect);
            // Handlers for the exceptions either form may raise, so neither runs into the random IVT.
            for (int vector : new int[] {0, 5, 6, 12, 13}) if (!a.setup.planted.contains(vector)) a.setup.planted.add(vector);
            VectorRunner.Setup ref = a.setup.copy();
            ref.shortForm = shortForm(v);
            Set<Integer> addresses = new LinkedHashSet<>(v.initRam.keySet());
            addresses.addAll(v.finalRam.keySet());
            int ss = v.isegs[SS] * 16, sp = v.iregs[SP];
            for (int i = 1; i <= 6; i++) addresses.add(ss + ((sp - i) & 0xFFFF));
            String[] why = new String[1];
            Expectation e = runner.capture(v, ref, addresses, why);
            if (e == null) return "the short form " + why[0];
            // A fault in the short form pushes its own start, k bytes later than the long form's.
            int k = v.length() - (ref.shortForm.length - 1);
            int frame = ss + ((sp - 6) & 0xFFFF);
            Integer lo = e.ram.get(frame), hi = e.ram.get(frame + 1);
            if (e.regs[SP] == ((sp - 6) & 0xFFFF) && lo != null && hi != null && (lo | hi << 8) == ((v.iip + k) & 0xFFFF)) {
                Expectation.putWord(e, frame, v.iip);
            }
            return runner.check(v, a.setup, e);
        }

        private static List<String> ids(List<Rule> rules) {
            List<String> out = new ArrayList<>();
            for (Rule r : rules) out.add(r.id());
            return out;
        }
    }
}
