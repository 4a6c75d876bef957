package io.mucheckpoint.cpu;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;

import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.Label;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;

/**
 * Compiles a decoded block to a JVM method that HotSpot then compiles to host code.
 *
 * <p>The generated method does, instruction by instruction, exactly what the interpreter's
 * execBlock does, with every Insn field a constant: no dispatch, no field loads of the decoded
 * form, effective addresses without the absent terms, conditions specialised for the flag producer
 * the lazy record names. Memory goes through the processor's own accessors (the same TLB fast path
 * and the one memory door), and everything the interpreter does out of line (execOther: string
 * operations, I/O, system instructions, the x87) is called for that one instruction, so what the
 * translator covers can grow without changing what a translation means.
 *
 * <p>Exits mirror execBlock's: the normal end, a stop after an instruction that let execLimit fall
 * (a write voided the block, a device asked for a stop), and a fault, where each instruction's own
 * exception range names its index so EIP and the count are the interpreter's.
 *
 * <p>Loaded as hidden classes (no name in any loader, unloadable once the block is gone).
 */
final class Translator {
    private Translator() {
    }

    record Result(Translation translation, int bytes) {
    }

    private static final MethodHandles.Lookup LOOKUP = MethodHandles.lookup();
    private static final String CPU = "io/mucheckpoint/cpu/Cpu";
    private static final String TRANSLATION = "io/mucheckpoint/cpu/Translation";
    private static final String BLOCK = "io/mucheckpoint/cpu/Block";
    private static final String INSN = "io/mucheckpoint/cpu/Insn";
    private static final String FAULT = "io/mucheckpoint/cpu/CpuFault";
    private static final String ARITH = "io/mucheckpoint/cpu/Arith";
    private static final MethodType CONSTRUCTOR = MethodType.methodType(void.class, Block[].class);

    // Locals of the generated run(Cpu).
    private static final int THIS = 0, C = 1, R = 2, ENTRY = 3, BASE = 4, T0 = 6, T1 = 7, EA = 8, EXC = 9, HEAD = 10,
            CHAIN = 11, BLOCKS = 12;

    /** Most blocks and instructions one region holds: keeps methods small enough for C2 to compile quickly. */
    static final int MAX_REGION_BLOCKS = 16, MAX_REGION_INSNS = 128;
    /** The class file size above which a region is cut down (its method's bytecode is most of it). */
    static final int MAX_CLASS_BYTES = 6000;

    /** The translation of {@code b} and the region behind it, or null where it is better interpreted. */
    static Result translate(Block b, CodeCache code, int regionBlocks) {
        if (b.count == 0) return null;
        Region region = Region.of(b, code, Math.min(regionBlocks, MAX_REGION_BLOCKS));
        byte[] bytes = new Gen(region).generate();
        // HotSpot never compiles a method of more than 8,000 bytes of bytecode (HugeMethodLimit), and
        // big ones compile slowly: halve the region until the class is well below that.
        while (bytes.length > MAX_CLASS_BYTES && region.blocks.length > 1) {
            region = region.first(region.blocks.length / 2);
            bytes = new Gen(region).generate();
        }
        try {
            MethodHandles.Lookup l = LOOKUP.defineHiddenClass(bytes, true);
            Translation t = (Translation) l.findConstructor(l.lookupClass(), CONSTRUCTOR).invoke(region.blocks);
            return new Result(t, bytes.length);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException("loading a translation failed", e);
        }
    }

    /**
     * The entry block and the blocks it reaches by a direct jump, a conditional branch or by
     * falling through, found among those already decoded, on the entry's page (so that their
     * physical address follows from the entry's whatever the mapping: the page is the one the
     * entry was found on), in 32-bit code. {@code offs[j]} is block j's entry EIP minus the
     * region's; {@code succ[j]} the region blocks block j can go on to.
     */
    record Region(Block[] blocks, int[] offs, int[][] succ) {
        static Region of(Block head, CodeCache code, int maxBlocks) {
            java.util.List<Block> blocks = new java.util.ArrayList<>();
            java.util.List<Integer> offs = new java.util.ArrayList<>();
            blocks.add(head);
            offs.add(0);
            int insns = head.count;
            java.util.List<int[]> succ = new java.util.ArrayList<>();
            for (int j = 0; j < blocks.size(); j++) {
                Block b = blocks.get(j);
                int off = offs.get(j);
                java.util.List<Integer> to = new java.util.ArrayList<>();
                if (head.code32 && maxBlocks > 1) {
                    for (int delta : exits(b)) {
                        int target = off + delta;
                        int inPage = (head.phys & 0xFFF) + target;
                        if (inPage < 0 || inPage >= 4096) continue;
                        // Forward edges only: a loop inside one method runs in HotSpot's interpreter
                        // until an on-stack-replacement compile, whose deoptimisations cost more than
                        // the returns to Cpu.run they save (compress, CPU time: 5.9 s with loops
                        // inside regions, 3.6 s with single blocks).
                        if (target <= off) continue;
                        int at = offs.indexOf(target);
                        if (at < 0) {
                            Block s = code.lookup(head.phys + target, true);
                            if (s == null || !s.valid || s.count == 0 || s.firstPage != s.lastPage
                                    || blocks.size() >= maxBlocks || insns + s.count > MAX_REGION_INSNS) continue;
                            blocks.add(s);
                            offs.add(target);
                            insns += s.count;
                            at = blocks.size() - 1;
                        }
                        if (!to.contains(at)) to.add(at);
                    }
                }
                succ.add(to.stream().mapToInt(Integer::intValue).toArray());
            }
            return new Region(blocks.toArray(new Block[0]), offs.stream().mapToInt(Integer::intValue).toArray(),
                    succ.toArray(new int[0][]));
        }

        /** The region of its first {@code n} blocks (BFS order: each reached from an earlier one). */
        Region first(int n) {
            int[][] s = new int[n][];
            for (int j = 0; j < n; j++) s[j] = java.util.Arrays.stream(succ[j]).filter(x -> x < n).toArray();
            return new Region(java.util.Arrays.copyOf(blocks, n), java.util.Arrays.copyOf(offs, n), s);
        }

        /** Where block b can go next, as offsets from its entry EIP, where that follows from its code alone. */
        private static int[] exits(Block b) {
            Insn last = b.insns[b.count - 1];
            if (!b.terminates) return new int[] {last.end};
            switch (last.op) {
                case Op.JCC: return new int[] {last.end + last.imm, last.end};
                case Op.JMP: return new int[] {last.end + last.imm};
                default: return new int[0];
            }
        }
    }

    /** One block's code generator. */
    private static final class Gen {
        private final Region region;
        private final int ipMask;
        private MethodVisitor mv;
        /** The block being emitted, and its index in the region. */
        private Block b;
        private int cur;

        Gen(Region region) {
            this.region = region;
            this.ipMask = region.blocks[0].code32 ? -1 : 0xFFFF;
        }

        byte[] generate() {
            ClassWriter cw = new ClassWriter(ClassWriter.COMPUTE_FRAMES | ClassWriter.COMPUTE_MAXS) {
                @Override
                protected String getCommonSuperClass(String a, String bb) {
                    return "java/lang/Object"; // frames only ever merge identical types here
                }
            };
            cw.visit(Opcodes.V17, Opcodes.ACC_FINAL | Opcodes.ACC_SUPER, "io/mucheckpoint/cpu/TranslatedBlock",
                    null, TRANSLATION, null);
            MethodVisitor init = cw.visitMethod(0, "<init>", "([L" + BLOCK + ";)V", null, null);
            init.visitCode();
            init.visitVarInsn(Opcodes.ALOAD, 0);
            init.visitVarInsn(Opcodes.ALOAD, 1);
            init.visitMethodInsn(Opcodes.INVOKESPECIAL, TRANSLATION, "<init>", "([L" + BLOCK + ";)V", false);
            init.visitInsn(Opcodes.RETURN);
            init.visitMaxs(0, 0);
            init.visitEnd();

            mv = cw.visitMethod(0, "run", "(L" + CPU + ";)V", null, null);
            mv.visitCode();
            body();
            mv.visitMaxs(0, 0);
            mv.visitEnd();
            cw.visitEnd();
            return cw.toByteArray();
        }

        private void body() {
            aload(C);
            mv.visitFieldInsn(Opcodes.GETFIELD, CPU, "r", "[I");
            mv.visitVarInsn(Opcodes.ASTORE, R);
            aload(C);
            mv.visitFieldInsn(Opcodes.GETFIELD, CPU, "eip", "I");
            mv.visitInsn(Opcodes.DUP);
            mv.visitVarInsn(Opcodes.ISTORE, ENTRY);
            mv.visitVarInsn(Opcodes.ISTORE, HEAD);
            aload(C);
            mv.visitFieldInsn(Opcodes.GETFIELD, CPU, "icount", "J");
            mv.visitVarInsn(Opcodes.LSTORE, BASE);
            aload(C);
            mv.visitFieldInsn(Opcodes.GETFIELD, CPU, "chainGen", "I");
            mv.visitVarInsn(Opcodes.ISTORE, CHAIN);
            aload(THIS);
            mv.visitFieldInsn(Opcodes.GETFIELD, TRANSLATION, "blocks", "[L" + BLOCK + ";");
            mv.visitVarInsn(Opcodes.ASTORE, BLOCKS);

            int n = region.blocks.length;
            Label[] starts = new Label[n];
            for (int j = 0; j < n; j++) starts[j] = new Label();
            java.util.List<Label> handlers = new java.util.ArrayList<>();
            java.util.List<int[]> handlerAt = new java.util.ArrayList<>();
            for (int j = 0; j < n; j++) {
                cur = j;
                b = region.blocks[j];
                mv.visitLabel(starts[j]);
                for (int k = 0; k < b.count; k++) {
                    Insn in = b.insns[k];
                    Label start = new Label(), end = new Label();
                    mv.visitLabel(start);
                    emit(in, k);
                    mv.visitLabel(end);
                    if (emittedSomething) {
                        Label h = new Label();
                        mv.visitTryCatchBlock(start, end, h, FAULT);
                        handlers.add(h);
                        handlerAt.add(new int[] {j, k});
                    }
                    emittedSomething = false;
                    if (k < b.count - 1 && mayLowerLimit(in)) stopCheck(k + 1);
                }
                blockEnd();
                if (region.succ[j].length > 0) transitions(region.succ[j], starts);
                mv.visitInsn(Opcodes.RETURN);
            }

            for (int h = 0; h < handlers.size(); h++) {
                mv.visitLabel(handlers.get(h));
                mv.visitVarInsn(Opcodes.ASTORE, EXC);
                aload(C);
                mv.visitVarInsn(Opcodes.ALOAD, EXC);
                blockRef(handlerAt.get(h)[0]);
                iload(ENTRY);
                mv.visitVarInsn(Opcodes.LLOAD, BASE);
                iconst(handlerAt.get(h)[1]);
                mv.visitMethodInsn(Opcodes.INVOKEVIRTUAL, CPU, "xlatFault", "(L" + FAULT + ";L" + BLOCK + ";IJI)V", false);
                mv.visitInsn(Opcodes.RETURN);
            }
        }

        /** The end of block b: execBlock's "icount = base + i + repExtra; eip = ... unless it terminates". */
        private void blockEnd() {
            aload(C);
            mv.visitVarInsn(Opcodes.LLOAD, BASE);
            mv.visitLdcInsn((long) b.count);
            mv.visitInsn(Opcodes.LADD);
            aload(C);
            mv.visitFieldInsn(Opcodes.GETFIELD, CPU, "repExtra", "J");
            mv.visitInsn(Opcodes.LADD);
            mv.visitFieldInsn(Opcodes.PUTFIELD, CPU, "icount", "J");
            aload(C);
            mv.visitInsn(Opcodes.DUP);
            mv.visitFieldInsn(Opcodes.GETFIELD, CPU, "translatedInstructions", "J");
            aload(C);
            mv.visitFieldInsn(Opcodes.GETFIELD, CPU, "icount", "J");
            mv.visitVarInsn(Opcodes.LLOAD, BASE);
            mv.visitInsn(Opcodes.LSUB);
            mv.visitInsn(Opcodes.LADD);
            mv.visitFieldInsn(Opcodes.PUTFIELD, CPU, "translatedInstructions", "J");
            if (!b.terminates) {
                aload(C);
                nextEip(b.insns[b.count - 1]);
                mv.visitFieldInsn(Opcodes.PUTFIELD, CPU, "eip", "I");
            }
            aload(C);
            mv.visitInsn(Opcodes.ACONST_NULL);
            mv.visitFieldInsn(Opcodes.PUTFIELD, CPU, "currentBlock", "L" + BLOCK + ";");
        }

        /**
         * Going on to a region block without returning to Cpu.run, where run would itself go on to
         * that block whole and without the interpreter: nothing pending (stop, interrupt line, NMI,
         * shadow, halt, shutdown), no single-step, trace or breakpoints, the mapping and CS as when
         * the region was entered (chainGen), CS flat, the block still valid, and the budget
         * holding all of it. Otherwise it returns, with the state run expects after a block.
         */
        private void transitions(int[] succ, Label[] starts) {
            Label out = new Label();
            for (String flag : new String[] {"stopRequested", "shutdown", "halted", "interruptShadow", "intrLine", "nmiPending"}) {
                aload(C);
                mv.visitFieldInsn(Opcodes.GETFIELD, CPU, flag, "Z");
                mv.visitJumpInsn(Opcodes.IFNE, out);
            }
            aload(C);
            mv.visitFieldInsn(Opcodes.GETFIELD, CPU, "breakpoints", "[I");
            mv.visitJumpInsn(Opcodes.IFNONNULL, out);
            aload(C);
            mv.visitFieldInsn(Opcodes.GETFIELD, CPU, "tracer", "Lio/mucheckpoint/cpu/TraceSink;");
            mv.visitJumpInsn(Opcodes.IFNONNULL, out);
            field("eflags");
            iconst(Registers.TF);
            mv.visitInsn(Opcodes.IAND);
            mv.visitJumpInsn(Opcodes.IFNE, out);
            field("chainGen");
            iload(CHAIN);
            mv.visitJumpInsn(Opcodes.IF_ICMPNE, out);
            aload(C);
            mv.visitFieldInsn(Opcodes.GETFIELD, CPU, "segLimit", "[I");
            iconst(Cpu.SEG_CS);
            mv.visitInsn(Opcodes.IALOAD);
            iconst(-1);
            mv.visitJumpInsn(Opcodes.IF_ICMPNE, out);
            for (int s : succ) {
                Label next = new Label();
                Block to = region.blocks[s];
                field("eip");
                iload(HEAD);
                iconst(region.offs[s]);
                mv.visitInsn(Opcodes.IADD);
                mv.visitJumpInsn(Opcodes.IF_ICMPNE, next);
                blockRef(s);
                mv.visitFieldInsn(Opcodes.GETFIELD, BLOCK, "valid", "Z");
                mv.visitJumpInsn(Opcodes.IFEQ, out);
                aload(C);
                mv.visitFieldInsn(Opcodes.GETFIELD, CPU, "stopAt", "J");
                aload(C);
                mv.visitFieldInsn(Opcodes.GETFIELD, CPU, "icount", "J");
                mv.visitInsn(Opcodes.LSUB);
                mv.visitLdcInsn((long) to.count);
                mv.visitInsn(Opcodes.LCMP);
                mv.visitJumpInsn(Opcodes.IFLT, out);
                // execTranslated's set-up for the next block.
                field("eip");
                mv.visitVarInsn(Opcodes.ISTORE, ENTRY);
                aload(C);
                mv.visitFieldInsn(Opcodes.GETFIELD, CPU, "icount", "J");
                mv.visitVarInsn(Opcodes.LSTORE, BASE);
                aload(C);
                blockRef(s);
                mv.visitFieldInsn(Opcodes.PUTFIELD, CPU, "currentBlock", "L" + BLOCK + ";");
                aload(C);
                blockRef(s);
                mv.visitFieldInsn(Opcodes.PUTFIELD, CPU, "lastBlock", "L" + BLOCK + ";");
                aload(C);
                iconst(0);
                mv.visitFieldInsn(Opcodes.PUTFIELD, CPU, "currentBlockVoided", "Z");
                aload(C);
                iconst(to.count);
                mv.visitFieldInsn(Opcodes.PUTFIELD, CPU, "execLimit", "I");
                aload(C);
                mv.visitInsn(Opcodes.LCONST_0);
                mv.visitFieldInsn(Opcodes.PUTFIELD, CPU, "repExtra", "J");
                mv.visitJumpInsn(Opcodes.GOTO, starts[s]);
                mv.visitLabel(next);
            }
            mv.visitLabel(out);
        }

        /** After instruction i-1: leave if execLimit fell to i or below, as execBlock's loop test would. */
        private void stopCheck(int i) {
            Label go = new Label();
            aload(C);
            mv.visitFieldInsn(Opcodes.GETFIELD, CPU, "execLimit", "I");
            iconst(i);
            mv.visitJumpInsn(Opcodes.IF_ICMPGT, go);
            aload(C);
            blockRef(cur);
            iload(ENTRY);
            mv.visitVarInsn(Opcodes.LLOAD, BASE);
            iconst(i);
            mv.visitMethodInsn(Opcodes.INVOKEVIRTUAL, CPU, "xlatStop", "(L" + BLOCK + ";IJI)V", false);
            mv.visitInsn(Opcodes.RETURN);
            mv.visitLabel(go);
        }

        /**
         * Whether the instruction can lower execLimit (only writes, which may void the block, and
         * calls into devices can): the check after it is skipped where it cannot.
         */
        private static boolean mayLowerLimit(Insn in) {
            switch (in.op) {
                case Op.MOV_RR32: case Op.MOV_RI32: case Op.LEA32: case Op.MOVZX8_RR32: case Op.INC_R32:
                case Op.DEC_R32: case Op.ADD_RR32: case Op.ADD_RI32: case Op.SUB_RR32: case Op.SUB_RI32:
                case Op.CMP_RR32: case Op.CMP_RI32: case Op.AND_RR32: case Op.AND_RI32: case Op.OR_RR32:
                case Op.OR_RI32: case Op.XOR_RR32: case Op.XOR_RI32: case Op.TEST_RR32: case Op.TEST_RI32:
                case Op.MOV_RR: case Op.MOV_RI: case Op.ALU_RR: case Op.ALU_RI: case Op.LEA: case Op.MOVZX_RR:
                case Op.MOVSX_RR: case Op.INC_R: case Op.DEC_R: case Op.NOT_R: case Op.NEG_R: case Op.SHIFT_R:
                case Op.SHD_R: case Op.IMUL_RR: case Op.IMUL3_R: case Op.SETCC_R: case Op.CMOV_R: case Op.NOP:
                    return false;
                default:
                    return true; // memory (reads too: a device behind MMIO may ask for a stop)
            }
        }

        private boolean emittedSomething;

        /** Instruction {@code k}: the interpreter's case for its op, with the Insn's fields as constants. */
        private void emit(Insn in, int k) {
            emittedSomething = true;
            switch (in.op) {
                case Op.MOV_RR32 -> storeReg32(in.d, () -> reg(in.s));
                case Op.MOV_RM32 -> storeReg32(in.d, () -> rd(in, 4));
                case Op.MOV_MR32 -> wr(in, 4, () -> reg(in.s));
                case Op.MOV_RI32 -> storeReg32(in.d, () -> iconst(in.imm));
                case Op.LEA32 -> storeReg32(in.d, () -> eaNoMask(in));
                case Op.MOVZX8_RM32 -> storeReg32(in.d, () -> rd(in, 1));
                case Op.MOVZX8_RR32 -> storeReg32(in.d, () -> getReg(in.s, 1));
                case Op.INC_R32 -> cpuCall("inc32", "(I)V", () -> iconst(in.d));
                case Op.DEC_R32 -> cpuCall("dec32", "(I)V", () -> iconst(in.d));
                case Op.ADD_RR32 -> cpuCall("add32", "(II)V", () -> { iconst(in.d); reg(in.s); });
                case Op.ADD_RI32 -> cpuCall("add32", "(II)V", () -> { iconst(in.d); iconst(in.imm); });
                case Op.ADD_RM32 -> cpuCall("add32", "(II)V", () -> { iconst(in.d); rd(in, 4); });
                case Op.SUB_RR32 -> cpuCall("sub32", "(II)V", () -> { iconst(in.d); reg(in.s); });
                case Op.SUB_RI32 -> cpuCall("sub32", "(II)V", () -> { iconst(in.d); iconst(in.imm); });
                case Op.SUB_RM32 -> cpuCall("sub32", "(II)V", () -> { iconst(in.d); rd(in, 4); });
                case Op.CMP_RR32 -> cpuCall("cmp32", "(II)V", () -> { reg(in.d); reg(in.s); });
                case Op.CMP_RI32 -> cpuCall("cmp32", "(II)V", () -> { reg(in.d); iconst(in.imm); });
                case Op.CMP_RM32 -> cpuCall("cmp32", "(II)V", () -> { reg(in.d); rd(in, 4); });
                case Op.CMP_MR32 -> cpuCall("cmp32", "(II)V", () -> { rd(in, 4); reg(in.s); });
                case Op.CMP_MI32 -> cpuCall("cmp32", "(II)V", () -> { rd(in, 4); iconst(in.imm); });
                case Op.AND_RR32 -> logicStore(in.d, Opcodes.IAND, () -> reg(in.s));
                case Op.AND_RI32 -> logicStore(in.d, Opcodes.IAND, () -> iconst(in.imm));
                case Op.AND_RM32 -> logicStore(in.d, Opcodes.IAND, () -> rd(in, 4));
                case Op.OR_RR32 -> logicStore(in.d, Opcodes.IOR, () -> reg(in.s));
                case Op.OR_RI32 -> logicStore(in.d, Opcodes.IOR, () -> iconst(in.imm));
                case Op.XOR_RR32 -> logicStore(in.d, Opcodes.IXOR, () -> reg(in.s));
                case Op.XOR_RI32 -> logicStore(in.d, Opcodes.IXOR, () -> iconst(in.imm));
                case Op.TEST_RR32 -> cpuCall("logic32", "(I)V", () -> { reg(in.d); reg(in.s); mv.visitInsn(Opcodes.IAND); });
                case Op.TEST_RI32 -> cpuCall("logic32", "(I)V", () -> { reg(in.d); iconst(in.imm); mv.visitInsn(Opcodes.IAND); });
                case Op.ADD_MR32 -> cpuCall("addMem32", "(III)V", () -> { iconst(in.seg); ea(in); reg(in.s); });
                case Op.PUSH_R32 -> cpuCall("push32", "(I)V", () -> reg(in.s));
                case Op.POP_R32 -> storeReg32(in.d, () -> cpuCall("pop32", "()I", () -> { }));
                case Op.MOV_RR -> setReg(in.d, in.size, () -> getReg(in.s, in.size));
                case Op.MOV_RM -> setReg(in.d, in.size, () -> rd(in, in.size));
                case Op.MOV_MR -> wr(in, in.size, () -> getReg(in.s, in.size));
                case Op.MOV_RI -> setReg(in.d, in.size, () -> iconst(in.imm));
                case Op.MOV_MI -> wr(in, in.size, () -> iconst(in.imm));
                case Op.ALU_RR -> aluReg(in, () -> getReg(in.s, in.size));
                case Op.ALU_RM -> aluReg(in, () -> rd(in, in.size));
                case Op.ALU_RI -> aluReg(in, () -> iconst(in.imm));
                case Op.ALU_MR -> aluMem(in, () -> getReg(in.s, in.size));
                case Op.ALU_MI -> aluMem(in, () -> iconst(in.imm));
                case Op.LEA -> {
                    if (in.size == 4) storeReg32(in.d, () -> ea(in));
                    else setReg(in.d, 2, () -> ea(in));
                }
                case Op.MOVZX_RR -> setReg(in.d, in.size, () -> getReg(in.s, in.imm));
                case Op.MOVZX_RM -> setReg(in.d, in.size, () -> rd(in, in.imm));
                case Op.MOVSX_RR -> setReg(in.d, in.size, () -> { getReg(in.s, in.imm); signExtend(in.imm); });
                case Op.MOVSX_RM -> setReg(in.d, in.size, () -> { rd(in, in.imm); signExtend(in.imm); });
                case Op.INC_R, Op.DEC_R -> setReg(in.d, in.size, () -> incDec(in.op == Op.INC_R, in.size,
                        () -> getReg(in.d, in.size)));
                case Op.INC_M, Op.DEC_M -> {
                    saveEa(in);
                    wrAtEa(in, in.size, () -> incDec(in.op == Op.INC_M, in.size, () -> rdAtEa(in, in.size)));
                }
                case Op.NOT_R -> setReg(in.d, in.size, () -> { getReg(in.d, in.size); iconst(-1); mv.visitInsn(Opcodes.IXOR); });
                case Op.NEG_R -> setReg(in.d, in.size, () -> cpuCall("neg", "(II)I", () -> { getReg(in.d, in.size); iconst(in.size); }));
                case Op.SHIFT_R -> shiftReg(in);
                case Op.SHIFT_M -> shiftMem(in);
                case Op.SHD_R -> shiftDoubleReg(in);
                case Op.MULDIV_R -> arith("mulDiv", "(L" + CPU + ";III)V", () -> { iconst(in.sub); getReg(in.s, in.size); iconst(in.size); });
                case Op.MULDIV_M -> arith("mulDiv", "(L" + CPU + ";III)V", () -> { iconst(in.sub); rd(in, in.size); iconst(in.size); });
                case Op.IMUL_RR -> setReg(in.d, in.size, () -> arith("imul2", "(L" + CPU + ";III)I",
                        () -> { getReg(in.d, in.size); getReg(in.s, in.size); iconst(in.size); }));
                case Op.IMUL_RM -> setReg(in.d, in.size, () -> arith("imul2", "(L" + CPU + ";III)I",
                        () -> { getReg(in.d, in.size); rd(in, in.size); iconst(in.size); }));
                case Op.IMUL3_R -> setReg(in.d, in.size, () -> arith("imul2", "(L" + CPU + ";III)I",
                        () -> { getReg(in.s, in.size); iconst(in.imm); iconst(in.size); }));
                case Op.SETCC_R -> cpuCall("setReg8", "(II)V", () -> { iconst(in.d); condValue(in.sub); });
                case Op.CMOV_R -> cmov(in, () -> getReg(in.s, in.size));
                case Op.CMOV_M -> cmov(in, () -> rd(in, in.size));
                case Op.JCC -> jcc(in);
                case Op.JMP -> setEip(() -> jumpTarget(in.size, () -> { iload(ENTRY); iconst(in.end + in.imm); mv.visitInsn(Opcodes.IADD); }));
                case Op.CALL -> call(in, () -> { nextEip(in); iconst(in.imm); mv.visitInsn(Opcodes.IADD); });
                case Op.JMP_R -> setEip(() -> jumpTarget(in.size, () -> getReg(in.s, in.size)));
                case Op.JMP_M -> setEip(() -> jumpTarget(in.size, () -> rd(in, in.size)));
                case Op.CALL_R -> call(in, () -> getReg(in.s, in.size));
                case Op.CALL_M -> call(in, () -> rd(in, in.size));
                case Op.RET -> {
                    jumpTarget(in.size, () -> cpuCall("peekStack", "(II)I", () -> { iconst(0); iconst(in.size); }));
                    mv.visitVarInsn(Opcodes.ISTORE, T0);
                    cpuCall("adjustSp", "(I)V", () -> iconst(in.size + in.imm));
                    setEip(() -> iload(T0));
                }
                case Op.PUSH_R -> cpuCall("push", "(II)V", () -> { getReg(in.s, in.size); iconst(in.size); });
                case Op.POP_R -> {
                    cpuCall("peekStack", "(II)I", () -> { iconst(0); iconst(in.size); });
                    mv.visitVarInsn(Opcodes.ISTORE, T0);
                    cpuCall("adjustSp", "(I)V", () -> iconst(in.size));
                    setReg(in.d, in.size, () -> iload(T0));
                }
                case Op.PUSH_I -> cpuCall("push", "(II)V", () -> { iconst(in.imm); iconst(in.size); });
                case Op.NOP -> emittedSomething = false;
                case Op.UD -> {
                    mv.visitMethodInsn(Opcodes.INVOKESTATIC, FAULT, "ud", "()L" + FAULT + ";", false);
                    mv.visitInsn(Opcodes.ATHROW);
                }
                case Op.GP0 -> {
                    iconst(0);
                    mv.visitMethodInsn(Opcodes.INVOKESTATIC, FAULT, "gp", "(I)L" + FAULT + ";", false);
                    mv.visitInsn(Opcodes.ATHROW);
                }
                default -> {
                    // execOther(in, entry, i, base): the interpreter's out-of-line cases, for this one instruction.
                    aload(C);
                    blockRef(cur);
                    mv.visitFieldInsn(Opcodes.GETFIELD, BLOCK, "insns", "[L" + INSN + ";");
                    iconst(k);
                    mv.visitInsn(Opcodes.AALOAD);
                    iload(ENTRY);
                    iconst(k);
                    mv.visitVarInsn(Opcodes.LLOAD, BASE);
                    mv.visitMethodInsn(Opcodes.INVOKEVIRTUAL, CPU, "execOther", "(L" + INSN + ";IIJ)V", false);
                }
            }
        }

        // --- instruction shapes ------------------------------------------------------------------

        private void logicStore(int d, int opcode, Runnable src) {
            reg(d);
            src.run();
            mv.visitInsn(opcode);
            mv.visitVarInsn(Opcodes.ISTORE, T0);
            storeReg32(d, () -> iload(T0));
            cpuCall("logic32", "(I)V", () -> iload(T0));
        }

        /** ALU op reg, src: alu(sub, reg, src, size), written back unless it is CMP or TEST. */
        private void aluReg(Insn in, Runnable src) {
            Runnable alu = () -> cpuCall("alu", "(IIII)I", () -> { iconst(in.sub); getReg(in.d, in.size); src.run(); iconst(in.size); });
            if (in.sub < 7) setReg(in.d, in.size, alu);
            else { alu.run(); mv.visitInsn(Opcodes.POP); }
        }

        private void aluMem(Insn in, Runnable src) {
            saveEa(in);
            Runnable alu = () -> cpuCall("alu", "(IIII)I", () -> { iconst(in.sub); rdAtEa(in, in.size); src.run(); iconst(in.size); });
            if (in.sub < 7) wrAtEa(in, in.size, alu);
            else { alu.run(); mv.visitInsn(Opcodes.POP); }
        }

        private void incDec(boolean inc, int size, Runnable value) {
            cpuCall("incDec", "(IZI)I", () -> { value.run(); iconst(inc ? 1 : 0); iconst(size); });
        }

        /** The shift count: the immediate, or CL; masked to 5 bits. Leaves it in T1. */
        private void shiftCount(Insn in) {
            if (in.imm < 0) reg(Cpu.ECX); else iconst(in.imm);
            iconst(0x1F);
            mv.visitInsn(Opcodes.IAND);
            mv.visitVarInsn(Opcodes.ISTORE, T1);
        }

        /** Arith's method for a 32-bit SHL/SAL, SHR or SAR (count 1 to 31 here), or null for the general one. */
        private static String shift32(Insn in) {
            if (in.size != 4) return null;
            return switch (in.sub) {
                case 4, 6 -> "shl32";
                case 5 -> "shr32";
                case 7 -> "sar32";
                default -> null;
            };
        }

        private void shiftReg(Insn in) {
            if (in.imm >= 0 && (in.imm & 0x1F) == 0) { emittedSomething = false; return; }
            shiftCount(in);
            Label skip = new Label();
            iload(T1);
            mv.visitJumpInsn(Opcodes.IFEQ, skip);
            String fast = shift32(in);
            if (fast != null) setReg(in.d, in.size, () -> arith(fast, "(L" + CPU + ";II)I", () -> { getReg(in.d, in.size); iload(T1); }));
            else setReg(in.d, in.size, () -> arith("shift", "(L" + CPU + ";IIII)I",
                    () -> { iconst(in.sub); getReg(in.d, in.size); iload(T1); iconst(in.size); }));
            mv.visitLabel(skip);
        }

        private void shiftMem(Insn in) {
            saveEa(in);
            shiftCount(in);
            rdAtEa(in, in.size); // the read happens whatever the count
            mv.visitVarInsn(Opcodes.ISTORE, T0);
            Label skip = new Label();
            iload(T1);
            mv.visitJumpInsn(Opcodes.IFEQ, skip);
            String fast = shift32(in);
            if (fast != null) wrAtEa(in, in.size, () -> arith(fast, "(L" + CPU + ";II)I", () -> { iload(T0); iload(T1); }));
            else wrAtEa(in, in.size, () -> arith("shift", "(L" + CPU + ";IIII)I",
                    () -> { iconst(in.sub); iload(T0); iload(T1); iconst(in.size); }));
            mv.visitLabel(skip);
        }

        private void shiftDoubleReg(Insn in) {
            shiftCount(in);
            Label skip = new Label();
            iload(T1);
            mv.visitJumpInsn(Opcodes.IFEQ, skip);
            setReg(in.d, in.size, () -> arith("shiftDouble", "(L" + CPU + ";IIIII)I",
                    () -> { iconst(in.sub); getReg(in.d, in.size); getReg(in.s, in.size); iload(T1); iconst(in.size); }));
            mv.visitLabel(skip);
        }

        private void cmov(Insn in, Runnable src) {
            src.run(); // read whatever the condition (a memory operand faults either way)
            mv.visitVarInsn(Opcodes.ISTORE, T0);
            Label no = new Label(), done = new Label();
            condJump(in.sub, done, no);
            mv.visitLabel(done);
            setReg(in.d, in.size, () -> iload(T0));
            mv.visitLabel(no);
        }

        private void jcc(Insn in) {
            Label taken = new Label(), notTaken = new Label(), out = new Label();
            condJump(in.sub, taken, notTaken);
            mv.visitLabel(taken);
            aload(C);
            jumpTarget(in.size, () -> { iload(ENTRY); iconst(in.end + in.imm); mv.visitInsn(Opcodes.IADD); });
            mv.visitFieldInsn(Opcodes.PUTFIELD, CPU, "eip", "I");
            mv.visitJumpInsn(Opcodes.GOTO, out);
            mv.visitLabel(notTaken);
            aload(C);
            nextEip(in);
            mv.visitFieldInsn(Opcodes.PUTFIELD, CPU, "eip", "I");
            mv.visitLabel(out);
        }

        /** CALL: target checked first, then the push of the return address, then EIP. */
        private void call(Insn in, Runnable target) {
            jumpTarget(in.size, target);
            mv.visitVarInsn(Opcodes.ISTORE, T0);
            cpuCall("push", "(II)V", () -> { nextEip(in); iconst(in.size); });
            setEip(() -> iload(T0));
        }

        private void jumpTarget(int size, Runnable target) {
            cpuCall("jumpTarget", "(II)I", () -> { target.run(); iconst(size); });
        }

        private void setEip(Runnable v) {
            aload(C);
            v.run();
            mv.visitFieldInsn(Opcodes.PUTFIELD, CPU, "eip", "I");
        }

        /** (entry + in.end) & ipMask. */
        private void nextEip(Insn in) {
            iload(ENTRY);
            iconst(in.end);
            mv.visitInsn(Opcodes.IADD);
            if (ipMask != -1) { iconst(ipMask); mv.visitInsn(Opcodes.IAND); }
        }

        private void signExtend(int from) {
            mv.visitInsn(from == 1 ? Opcodes.I2B : Opcodes.I2S);
        }

        // --- conditions ----------------------------------------------------------------------------

        /** Pushes cond(cc) as 0 or 1. */
        private void condValue(int cc) {
            Label t = new Label(), f = new Label(), out = new Label();
            condJump(cc, t, f);
            mv.visitLabel(t);
            iconst(1);
            mv.visitJumpInsn(Opcodes.GOTO, out);
            mv.visitLabel(f);
            iconst(0);
            mv.visitLabel(out);
        }

        /**
         * Jumps to {@code t} if condition {@code cc} holds, else to {@code f}. Registers.cond's fast
         * cases with cc constant: after a SUB/CMP or a logic op (which the lazy record names at run
         * time; C2 folds the test where the producer is in the same translation), else cond() itself.
         */
        private void condJump(int cc, Label t, Label f) {
            boolean negate = (cc & 1) != 0;
            Label yes = negate ? f : t, no = negate ? t : f;
            int c = cc >> 1;
            Label slow = new Label();
            boolean subFast = c == 1 || c == 2 || c == 3 || c == 4 || c == 6 || c == 7;
            boolean logicFast = c != 5;
            if (subFast) {
                Label notSub = new Label();
                fOp();
                iconst(Registers.F_SUB);
                mv.visitJumpInsn(Opcodes.IF_ICMPNE, notSub);
                switch (c) {
                    case 1 -> { unsigned("fA"); unsigned("fB"); mv.visitJumpInsn(Opcodes.IF_ICMPLT, yes); }
                    case 2 -> { field("fA"); field("fB"); mv.visitJumpInsn(Opcodes.IF_ICMPEQ, yes); }
                    case 3 -> { unsigned("fA"); unsigned("fB"); mv.visitJumpInsn(Opcodes.IF_ICMPLE, yes); }
                    case 4 -> { field("fRes"); field("fSign"); mv.visitInsn(Opcodes.IAND); mv.visitJumpInsn(Opcodes.IFNE, yes); }
                    case 6 -> { signed("fA"); signed("fB"); mv.visitJumpInsn(Opcodes.IF_ICMPLT, yes); }
                    default -> { signed("fA"); signed("fB"); mv.visitJumpInsn(Opcodes.IF_ICMPLE, yes); }
                }
                mv.visitJumpInsn(Opcodes.GOTO, no);
                mv.visitLabel(notSub);
            }
            if (logicFast) {
                fOp();
                iconst(Registers.F_LOGIC);
                mv.visitJumpInsn(Opcodes.IF_ICMPNE, slow);
                switch (c) {
                    case 0, 1 -> mv.visitJumpInsn(Opcodes.GOTO, no);
                    case 2, 3 -> { field("fRes"); mv.visitJumpInsn(Opcodes.IFEQ, yes); mv.visitJumpInsn(Opcodes.GOTO, no); }
                    case 4, 6 -> { field("fRes"); field("fSign"); mv.visitInsn(Opcodes.IAND); mv.visitJumpInsn(Opcodes.IFNE, yes); mv.visitJumpInsn(Opcodes.GOTO, no); }
                    default -> {
                        field("fRes");
                        mv.visitJumpInsn(Opcodes.IFEQ, yes);
                        field("fRes"); field("fSign"); mv.visitInsn(Opcodes.IAND);
                        mv.visitJumpInsn(Opcodes.IFNE, yes);
                        mv.visitJumpInsn(Opcodes.GOTO, no);
                    }
                }
            }
            mv.visitLabel(slow);
            aload(C);
            iconst(cc);
            mv.visitMethodInsn(Opcodes.INVOKEVIRTUAL, CPU, "cond", "(I)Z", false);
            mv.visitJumpInsn(Opcodes.IFNE, t);
            mv.visitJumpInsn(Opcodes.GOTO, f);
        }

        private void fOp() {
            field("fOp");
        }

        private void field(String name) {
            aload(C);
            mv.visitFieldInsn(Opcodes.GETFIELD, CPU, name, "I");
        }

        /** A lazy operand biased so that a signed compare orders it as unsigned. */
        private void unsigned(String name) {
            field(name);
            iconst(Integer.MIN_VALUE);
            mv.visitInsn(Opcodes.IXOR);
        }

        /** A lazy operand of the producer's size, biased so that a signed compare orders it as signed (x ^ fSign, unsigned). */
        private void signed(String name) {
            field(name);
            field("fSign");
            mv.visitInsn(Opcodes.IXOR);
            iconst(Integer.MIN_VALUE);
            mv.visitInsn(Opcodes.IXOR);
        }

        // --- registers and memory ------------------------------------------------------------------

        private void reg(int n) {
            if (n == Registers.ZERO_REG) { iconst(0); return; }
            aload(R);
            iconst(n);
            mv.visitInsn(Opcodes.IALOAD);
        }

        private void storeReg32(int n, Runnable v) {
            aload(R);
            iconst(n);
            v.run();
            mv.visitInsn(Opcodes.IASTORE);
        }

        private void getReg(int n, int size) {
            if (size == 4) { reg(n); return; }
            if (size == 2) { reg(n); iconst(0xFFFF); mv.visitInsn(Opcodes.IAND); return; }
            if (n < 4) { reg(n); iconst(0xFF); mv.visitInsn(Opcodes.IAND); return; }
            reg(n - 4);
            iconst(8);
            mv.visitInsn(Opcodes.IUSHR);
            iconst(0xFF);
            mv.visitInsn(Opcodes.IAND);
        }

        /** setReg(n, size, v): the value is computed before the register is read back (as in the interpreter). */
        private void setReg(int n, int size, Runnable v) {
            if (size == 4) { storeReg32(n, v); return; }
            cpuCall("setReg", "(III)V", () -> { iconst(n); iconst(size); v.run(); });
        }

        /** Pushes the effective address seg:(base + index << scale + disp) & eaMask. */
        private void ea(Insn in) {
            eaNoMask(in);
            if (in.eaMask != -1) { iconst(in.eaMask); mv.visitInsn(Opcodes.IAND); }
        }

        private void eaNoMask(Insn in) {
            boolean any = false;
            if (in.base != Registers.ZERO_REG) { reg(in.base); any = true; }
            if (in.index != Registers.ZERO_REG) {
                reg(in.index);
                if (in.scale != 0) { iconst(in.scale); mv.visitInsn(Opcodes.ISHL); }
                if (any) mv.visitInsn(Opcodes.IADD);
                any = true;
            }
            if (!any) { iconst(in.disp); return; }
            if (in.disp != 0) { iconst(in.disp); mv.visitInsn(Opcodes.IADD); }
        }

        private void saveEa(Insn in) {
            ea(in);
            mv.visitVarInsn(Opcodes.ISTORE, EA);
        }

        private static String rdName(int size) {
            return size == 4 ? "rd32" : size == 2 ? "rd16" : "rd8";
        }

        private static String wrName(int size) {
            return size == 4 ? "wr32" : size == 2 ? "wr16" : "wr8";
        }

        private void rd(Insn in, int size) {
            cpuCall(rdName(size), "(II)I", () -> { iconst(in.seg); ea(in); });
        }

        private void rdAtEa(Insn in, int size) {
            cpuCall(rdName(size), "(II)I", () -> { iconst(in.seg); iload(EA); });
        }

        private void wr(Insn in, int size, Runnable v) {
            cpuCall(wrName(size), "(III)V", () -> { iconst(in.seg); ea(in); v.run(); });
        }

        private void wrAtEa(Insn in, int size, Runnable v) {
            cpuCall(wrName(size), "(III)V", () -> { iconst(in.seg); iload(EA); v.run(); });
        }

        // --- bytecode shorthands -------------------------------------------------------------------

        private void cpuCall(String name, String desc, Runnable args) {
            aload(C);
            args.run();
            mv.visitMethodInsn(Opcodes.INVOKEVIRTUAL, CPU, name, desc, false);
        }

        private void arith(String name, String desc, Runnable args) {
            aload(C);
            args.run();
            mv.visitMethodInsn(Opcodes.INVOKESTATIC, ARITH, name, desc, false);
        }

        private void blockRef(int j) {
            mv.visitVarInsn(Opcodes.ALOAD, BLOCKS);
            iconst(j);
            mv.visitInsn(Opcodes.AALOAD);
        }

        private void aload(int slot) {
            mv.visitVarInsn(Opcodes.ALOAD, slot);
        }

        private void iload(int slot) {
            mv.visitVarInsn(Opcodes.ILOAD, slot);
        }

        private void iconst(int v) {
            if (v >= -1 && v <= 5) mv.visitInsn(Opcodes.ICONST_0 + v);
            else if (v >= Byte.MIN_VALUE && v <= Byte.MAX_VALUE) mv.visitIntInsn(Opcodes.BIPUSH, v);
            else if (v >= Short.MIN_VALUE && v <= Short.MAX_VALUE) mv.visitIntInsn(Opcodes.SIPUSH, v);
            else mv.visitLdcInsn(v);
        }
    }
}
