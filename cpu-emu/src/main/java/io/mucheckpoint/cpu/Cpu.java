package io.mucheckpoint.cpu;

import java.util.function.LongSupplier;

/**
 * An i686 processor: the interpreter loop and the semantics of ordinary instructions. Protected-mode
 * control transfers and interrupt delivery live in {@link ControlTransfer}, string instructions in
 * {@link StringOps}, system instructions in {@link SystemOps}, arithmetic helpers in {@link Arith},
 * the x87 in {@link Fpu}.
 *
 * <p>Execution is by blocks of decoded instructions. Instructions inside a block do not update EIP;
 * they know their offset from the block's entry EIP. The retired-instruction count is added once
 * per block. Interrupts are only ever accepted between blocks, and every instruction that can make
 * an interrupt deliverable ends its block, so interrupt delivery does not depend on where a run was
 * paused (design brief, invariant 1).
 */
public final class Cpu extends AddressSpace implements MemoryClient {
    public static final int EAX = 0, ECX = 1, EDX = 2, EBX = 3, ESP = 4, EBP = 5, ESI = 6, EDI = 7;
    public static final int SEG_ES = 0, SEG_CS = 1, SEG_SS = 2, SEG_DS = 3, SEG_FS = 4, SEG_GS = 5;
    private static final int MAX_BLOCK = 64;
    /**
     * Exceptions delivered in a row without an instruction completing, after which the processor is
     * declared stuck in an exception loop and shuts down (a real-mode or 16-bit stack wraps, so such
     * a loop never reaches a triple fault). Far more than any guest that makes progress needs: a
     * handler that runs at all completes an instruction.
     */
    static final int FAULT_LOOP_LIMIT = 1 << 16;

    /** Why {@link #run} returned. */
    public enum Stop { BUDGET, HALTED, REQUESTED, SHUTDOWN, BREAKPOINT }

    final IoBus io;
    final CodeCache code;
    final Decoder decoder;
    final Fpu fpu = new Fpu();
    InterruptController pic;
    LongSupplier tscSource = this::icount;
    TraceSink tracer;

    long icount;
    long stopAt;
    boolean stopRequested;
    boolean halted;
    boolean shutdown;
    /** Interrupts are held off for one instruction (after STI, MOV SS, POP SS). */
    boolean interruptShadow;
    /**
     * The instruction just executed loaded SS (MOV SS, POP SS): its single-step trap waits for the
     * next instruction (SDM Vol. 3A 6.8.3), which STI's shadow does not. Lives only from that
     * instruction to the trap decision right after it, so it is not part of the saved state.
     */
    boolean trapShadow;
    boolean intrLine;
    boolean nmiPending;
    boolean nmiBlocked;
    boolean code32;
    boolean stack32;
    int ipMask = 0xFFFF;
    int[] dr = new int[8];
    long tscOffset;
    int sysenterCs, sysenterEsp, sysenterEip;
    long miscEnable = 1;
    long apicBase = SystemOps.APIC_BASE;
    long[] mtrr = new long[SystemOps.MTRR_COUNT];
    String shutdownReason = "";
    /** The exception-loop watchdog: the instruction count at the last exception, and exceptions since. */
    long faultLoopIcount = -1;
    int faultLoopCount;

    // Interpreter state of the block being executed.
    Block currentBlock;
    int execLimit;
    /**
     * A write voided the block being executed. A REP instruction then stops after the current
     * iteration and is fetched again, so a string instruction that overwrites its own code behaves
     * the same whether or not a run happens to end between its iterations (invariants 1 and 5).
     */
    boolean currentBlockVoided;
    /** Iterations beyond the first retired by a REP instruction in the current block. */
    long repExtra;
    /** Most REP iterations one execution of a REP instruction may perform before yielding. */
    long repCap = Long.MAX_VALUE;

    // Breakpoints (a debugger's): linear addresses to stop before, null when there are none.
    int[] breakpoints;
    /** Where the last breakpoint stop was (instruction count and linear EIP), so that resuming passes it. */
    private long breakpointIcount = -1;
    private int breakpointLinear;

    public Cpu(PhysicalMemory memory, IoBus io) {
        super(memory);
        this.io = io;
        this.code = new CodeCache(memory);
        this.decoder = new Decoder(this);
        memory.attach(this);
        reset();
    }

    // --- configuration ------------------------------------------------------------------------

    public void setInterruptController(InterruptController pic) {
        this.pic = pic;
    }

    /** The INTR pin, driven by the interrupt controller. */
    public void setInterruptLine(boolean high) {
        intrLine = high;
    }

    public void raiseNmi() {
        nmiPending = true;
    }

    /** Where RDTSC's count comes from (the machine's virtual clock); defaults to instructions retired. */
    public void setTimeSource(LongSupplier ticks) {
        this.tscSource = ticks;
    }

    public void setA20(boolean enabled) {
        int m = enabled ? -1 : ~(1 << 20);
        if (m != a20Mask) {
            a20Mask = m;
            flushTlb();
        }
    }

    public void setTracer(TraceSink tracer) {
        this.tracer = tracer;
    }

    /** Power-on/RESET state: real mode, CS:IP = F000:FFF0 with CS base FFFF0000. */
    public void reset() {
        java.util.Arrays.fill(r, 0);
        r[EDX] = 0x00000633; // family 6, model 3, stepping 3 (matches CPUID leaf 1)
        eip = 0xFFF0;
        eflags = 2;
        fOp = F_NONE;
        cr0 = CR0_ET | CR0_CD | CR0_NW;
        cr2 = cr3 = cr4 = 0;
        cpl = 0;
        for (int s = 0; s < 6; s++) setSegmentCache(s, 0, 0, 0xFFFF, 0x93);
        setSegmentCache(CS, 0xF000, 0xFFFF0000, 0xFFFF, 0x9B);
        gdtBase = 0; gdtLimit = 0xFFFF; idtBase = 0; idtLimit = 0x3FF;
        ldtSel = 0; ldtBase = 0; ldtLimit = 0xFFFF; ldtAttr = 0x82;
        trSel = 0; trBase = 0; trLimit = 0xFFFF; trAttr = 0x8B;
        java.util.Arrays.fill(dr, 0);
        dr[6] = 0xFFFF0FF0;
        dr[7] = 0x400;
        halted = false;
        shutdown = false;
        shutdownReason = "";
        faultLoopIcount = -1;
        faultLoopCount = 0;
        interruptShadow = false;
        nmiPending = false;
        nmiBlocked = false;
        tscOffset = -tscSource.getAsLong();
        sysenterCs = sysenterEsp = sysenterEip = 0;
        miscEnable = 1;
        apicBase = SystemOps.APIC_BASE;
        java.util.Arrays.fill(mtrr, 0);
        fpu.reset();
        a20Mask = -1;
        modeChanged();
        flushTlb();
        code.clear();
    }

    /** Recomputes everything derived from CR0, EFLAGS.VM and the CS/SS caches. */
    void modeChanged() {
        chainGen++;
        boolean pm = (cr0 & CR0_PE) != 0;
        boolean v86 = pm && (eflags & VM) != 0;
        code32 = pm && !v86 && (segAttr[CS] & 0x4000) != 0;
        stack32 = pm && !v86 && (segAttr[SS] & 0x4000) != 0;
        ipMask = code32 ? -1 : 0xFFFF;
        if (!pm) cpl = 0;
        else if (v86) cpl = 3;
        updateAllSegmentBounds();
        updateTlbKeys();
    }

    // --- accessors used by the machine, loaders, tests and the trace --------------------------

    public long icount() {
        return icount;
    }

    public int reg(int n) {
        return r[n];
    }

    public void setReg(int n, int v) {
        r[n] = v;
    }

    public int eip() {
        return eip;
    }

    public void setEip(int v) {
        eip = v;
    }

    public int eflags() {
        return getEflags();
    }

    public void setEflags(int v) {
        fOp = F_NONE;
        eflags = (v | 2) & 0x3F7FD7;
        modeChanged();
    }

    public int segmentSelector(int seg) {
        return segSel[seg];
    }

    public int segmentBase(int seg) {
        return segBase[seg];
    }

    public int cr0() {
        return cr0;
    }

    public int cr2() {
        return cr2;
    }

    public int cr3() {
        return cr3;
    }

    public int cpl() {
        return cpl;
    }

    public boolean halted() {
        return halted;
    }

    public boolean interruptsEnabled() {
        return (eflags & IF) != 0;
    }

    public String shutdownReason() {
        return shutdownReason;
    }

    /**
     * Flips bits of a segment register's hidden base, as a transient error in the descriptor cache
     * would (for fault injection); the selector is left alone.
     */
    public void flipSegmentBase(int seg, int mask) {
        setSegmentCache(seg, segSel[seg], segBase[seg] ^ mask, segLimit[seg], segAttr[seg]);
        modeChanged();
    }

    public int cr4() {
        return cr4;
    }

    /**
     * Flips bits of CR0, CR2, CR3 or CR4 as a transient error in the register would (for fault
     * injection): no checks as MOV to CR makes, effective at once, so the TLB and the processor mode
     * follow the new value.
     */
    public void flipControlRegister(int n, int mask) {
        switch (n) {
            case 0 -> cr0 ^= mask;
            case 2 -> cr2 ^= mask;
            case 3 -> cr3 ^= mask;
            case 4 -> cr4 ^= mask;
            default -> throw new IllegalArgumentException("no control register CR" + n);
        }
        flushTlb();
        modeChanged();
    }

    /**
     * The bits of x87 physical register {@code reg} (0-7, not relative to TOP): its 64-bit
     * significand, or with {@code signExponent} its 16-bit sign and exponent.
     */
    public long fpuRegisterBits(int reg, boolean signExponent) {
        return fpu.registerBits(reg, signExponent);
    }

    /**
     * How many x87 instructions this processor has started since it was made (the only readers of
     * the x87 registers): a campaign's def-use probe compares it before and after a point.
     */
    public long x87Instructions() {
        return fpu.executed();
    }

    /**
     * How many times this processor has used control register {@code n} (0, 3 or 4) in a way that
     * can change what the guest sees, since it was made; -1 for CR2, which is not followed. For CR0
     * the count covers every bit but PE and PG, which nearly every instruction reads and are not
     * counted at all.
     */
    public long controlRegisterUses(int n) {
        return n == 0 ? cr0Uses : n == 3 ? cr3Uses : n == 4 ? cr4Uses : -1;
    }

    /** Flips bits of x87 physical register {@code reg} (see {@link #fpuRegisterBits}), for fault injection. */
    public void flipFpuRegister(int reg, boolean signExponent, long mask) {
        fpu.flipRegister(reg, signExponent, mask);
    }

    /**
     * Sets the linear addresses (CS base + EIP) before which {@link #run} stops with
     * {@link Stop#BREAKPOINT}; null or empty removes them all. The instruction the processor stands
     * at is passed over once, like one a breakpoint stop left it at: resuming executes it before a
     * breakpoint there can stop the run again. With no breakpoints the interpreter pays one field
     * check per block.
     */
    public void setBreakpoints(int[] linear) {
        breakpoints = linear == null || linear.length == 0 ? null : linear.clone();
        breakpointIcount = icount;
        breakpointLinear = segBase[CS] + eip;
    }

    /**
     * The next run stops before the instruction the processor stands at if a breakpoint is there,
     * instead of passing over it: for a debugger that has put the machine back into a past state
     * where a forward run would have stopped.
     */
    public void stopAtBreakpointHere() {
        breakpointIcount = -1;
    }

    /**
     * Installs a debugger's data watchpoints (null: none). Every cached translation is dropped, so
     * the watched pages go through the slow path from the next access on; call again whenever the
     * set of watched pages changes.
     */
    public void setDataWatch(DataWatch watch) {
        dataWatch = watch;
        flushTlb();
    }

    /**
     * What the next instruction reads: bits 0-7 the general registers EAX..EDI, bit 8 EFLAGS,
     * bits 9-14 the segments ES..GS it addresses memory through. Conservative (see OperandUse);
     * -1 if the instruction cannot be fetched. For fault-injection activation tracking.
     */
    public int nextInstructionReads() {
        try {
            Insn in = new Insn();
            decoder.decode(in, eip, eip, code32);
            return OperandUse.reads(in);
        } catch (CpuFault f) {
            return -1;
        }
    }

    /** The linear address of CS:EIP. */
    public int linearEip() {
        return segBase[CS] + eip;
    }

    /**
     * Reads guest memory at a linear address for a debugger or a test: little-endian, {@code size}
     * bytes. Looking must not change the guest, so the page walk sets no accessed or dirty bits and
     * fills no TLB entry. Throws IllegalArgumentException where a byte is not mapped or not memory.
     */
    public int peekLinear(int lin, int size) {
        int v = 0;
        for (int i = 0; i < size; i++) {
            int b = Disassembler.peek(this, lin + i);
            if (b < 0) throw new IllegalArgumentException(String.format("linear 0x%08x is not mapped", lin + i));
            v |= b << (8 * i);
        }
        return v;
    }

    /** The physical address a linear address maps to now, or -1; a read-only walk, as {@link #peekLinear}. */
    public long linearToPhysical(int lin) {
        return Disassembler.physical(this, lin);
    }

    public int decodedBlocks() {
        return code.size();
    }

    /**
     * Sets real mode segment register {@code seg} to {@code sel} (base sel*16), or in protected
     * mode loads it from the descriptor tables with every check. For loaders and tests.
     */
    public void loadSegment(int seg, int sel) {
        ControlTransfer.loadSegment(this, seg, sel);
        modeChanged();
    }

    /**
     * The machine state the multiboot specification promises at entry: protected mode, paging off,
     * flat 4 GiB code and data segments, interrupts off. Uses hidden descriptor caches, as a
     * loader would leave them; the guest must load its own GDT before reloading a segment.
     */
    public void enterFlatProtectedMode() {
        cr0 = (cr0 | CR0_PE) & ~(CR0_PG | CR0_CD | CR0_NW);
        eflags = 2;
        fOp = F_NONE;
        setSegmentCache(CS, 0x08, 0, 0xFFFFFFFF, 0xC09B);
        for (int s : new int[] {ES, SS, DS, FS, GS}) setSegmentCache(s, 0x10, 0, 0xFFFFFFFF, 0xC093);
        modeChanged();
        flushTlb();
    }

    /**
     * The state the Linux 32-bit boot protocol enters a kernel in: protected mode, paging off, the
     * given GDT loaded with flat __BOOT_CS (0x10) and __BOOT_DS (0x18) in CS and the data segments,
     * ESI = boot_params, EBP = EDI = EBX = 0, interrupts off.
     */
    public void enterLinuxBootState(int gdtBase, int gdtLimit, int entry, int bootParams) {
        cr0 = (cr0 | CR0_PE) & ~(CR0_PG | CR0_CD | CR0_NW);
        eflags = 2;
        fOp = F_NONE;
        this.gdtBase = gdtBase;
        this.gdtLimit = gdtLimit;
        setSegmentCache(CS, 0x10, 0, 0xFFFFFFFF, 0xC09B);
        for (int s : new int[] {ES, SS, DS, FS, GS}) setSegmentCache(s, 0x18, 0, 0xFFFFFFFF, 0xC093);
        java.util.Arrays.fill(r, 0);
        r[ESI] = bootParams;
        eip = entry;
        modeChanged();
        flushTlb();
    }

    // --- save / restore -------------------------------------------------------------------------

    public CpuState save() {
        java.util.List<CpuState.SegmentCache> segs = new java.util.ArrayList<>(6);
        for (int s = 0; s < 6; s++) segs.add(new CpuState.SegmentCache(segSel[s], segBase[s], segLimit[s], segAttr[s]));
        return new CpuState(java.util.Arrays.copyOf(r, 8), eip, getEflags(), java.util.List.copyOf(segs),
                new CpuState.SegmentCache(ldtSel, ldtBase, ldtLimit, ldtAttr),
                new CpuState.SegmentCache(trSel, trBase, trLimit, trAttr),
                gdtBase, gdtLimit, idtBase, idtLimit, cr0, cr2, cr3, cr4, dr.clone(), cpl,
                halted, interruptShadow, nmiPending, nmiBlocked, shutdown,
                icount, tscOffset, sysenterCs, sysenterEsp, sysenterEip, apicBase, miscEnable, mtrr.clone(),
                fpu.save());
    }

    /**
     * Whether this processor and {@code o} differ, apart from {@code except}, in what a fault
     * lockstep compares of {@link #save}: the general registers, EIP, EFLAGS, the six segment
     * registers with their descriptor caches, CR0, CR3, CR4, CPL and the x87 control, status and
     * tag words, last opcode and registers. It allocates nothing, unlike comparing two saves, since
     * a lockstep asks after every instruction.
     */
    public boolean differsFrom(Cpu o, StateLocation except) {
        StateLocation.Kind k = except.kind();
        int x = except.index();
        if (eip != o.eip || cpl != o.cpl) return true;
        for (int i = 0; i < 8; i++) if (r[i] != o.r[i] && !(k == StateLocation.Kind.REGISTER && i == x)) return true;
        for (int s = 0; s < 6; s++) {
            if (segSel[s] != o.segSel[s] || segLimit[s] != o.segLimit[s] || segAttr[s] != o.segAttr[s]) return true;
            if (segBase[s] != o.segBase[s] && !(k == StateLocation.Kind.SEGMENT_BASE && s == x)) return true;
        }
        boolean cr = k == StateLocation.Kind.CONTROL_REGISTER;
        if (cr0 != o.cr0 && !(cr && x == 0)) return true;
        if (cr3 != o.cr3 && !(cr && x == 3)) return true;
        if (cr4 != o.cr4 && !(cr && x == 4)) return true;
        int flags = k == StateLocation.Kind.EFLAGS_BITS ? x : 0;
        if (((getEflags() ^ o.getEflags()) & ~flags) != 0) return true;
        return fpu.differsFrom(o.fpu, k == StateLocation.Kind.X87_SIGNIFICAND ? x : -1,
                k == StateLocation.Kind.X87_SIGN_EXPONENT ? x : -1);
    }

    /** Puts the processor back in {@code s}; translations and decoded code are dropped. */
    public void restore(CpuState s) {
        if (s.regs().length != 8 || s.segments().size() != 6 || s.dr().length != 8 || s.mtrr().length != mtrr.length) {
            throw new IllegalArgumentException("malformed CPU state");
        }
        System.arraycopy(s.regs(), 0, r, 0, 8);
        r[ZERO_REG] = 0;
        eip = s.eip();
        eflags = s.eflags() | 2;
        fOp = F_NONE;
        for (int i = 0; i < 6; i++) {
            CpuState.SegmentCache sc = s.segments().get(i);
            segSel[i] = sc.selector();
            segBase[i] = sc.base();
            segLimit[i] = sc.limit();
            segAttr[i] = sc.attr();
        }
        ldtSel = s.ldtr().selector(); ldtBase = s.ldtr().base(); ldtLimit = s.ldtr().limit(); ldtAttr = s.ldtr().attr();
        trSel = s.tr().selector(); trBase = s.tr().base(); trLimit = s.tr().limit(); trAttr = s.tr().attr();
        gdtBase = s.gdtBase(); gdtLimit = s.gdtLimit(); idtBase = s.idtBase(); idtLimit = s.idtLimit();
        cr0 = s.cr0(); cr2 = s.cr2(); cr3 = s.cr3(); cr4 = s.cr4();
        System.arraycopy(s.dr(), 0, dr, 0, 8);
        halted = s.halted();
        interruptShadow = s.interruptShadow();
        nmiPending = s.nmiPending();
        nmiBlocked = s.nmiBlocked();
        shutdown = s.shutdown();
        icount = s.icount();
        faultLoopIcount = -1;
        faultLoopCount = 0;
        tscOffset = s.tscOffset();
        sysenterCs = s.sysenterCs(); sysenterEsp = s.sysenterEsp(); sysenterEip = s.sysenterEip();
        apicBase = s.apicBase();
        miscEnable = s.miscEnable();
        System.arraycopy(s.mtrr(), 0, mtrr, 0, mtrr.length);
        fpu.restore(s.fpu());
        modeChanged();
        cpl = s.cpl();
        updateTlbKeys();
        flushTlb();
        // Decoded code stays: memory that changes with a restore is written through the memory door,
        // which invalidates exactly the blocks it touches.
    }

    // --- MemoryClient -------------------------------------------------------------------------

    @Override
    public void revokeWrites() {
        revokeWriteEntries();
    }

    @Override
    public void codeModified(int paddr, int len) {
        if (code.invalidate(paddr, len, currentBlock)) {
            execLimit = 0; // finish the current instruction, then leave the stale block
            currentBlockVoided = true; // a REP instruction stops after this iteration (StringOps)
        }
    }

    @Override
    public void accessPathsChanged() {
        flushTlb();
        execLimit = 0;
    }

    @Override
    public void memoryReplaced() {
        flushTlb();
        code.clear();
        execLimit = 0;
    }

    // --- the run loop -------------------------------------------------------------------------

    /**
     * Instructions that talk to the outside (I/O, RDTSC, CPUID...) first set {@link #icount} to the
     * exact count before them, so devices and the clock see exact time; the block's end sets the
     * final count regardless.
     *
     * Runs until {@link #icount()} reaches {@code stopAt}, the CPU halts or shuts down, or a device
     * asks for a stop during an I/O instruction. Every return is at an instruction boundary.
     */
    public Stop run(long stopAt) {
        this.stopAt = stopAt;
        stopRequested = false;
        while (true) {
            if (shutdown) return Stop.SHUTDOWN;
            if (stopRequested) return Stop.REQUESTED;
            // Only when one will be taken: a line held high under CLI (the PIT's IRQ 0 while the
            // Linux decompressor runs) must not cost every block a call, nor its chaining.
            if (!interruptShadow && ((nmiPending && !nmiBlocked) || (intrLine && (eflags & IF) != 0 && pic != null))) {
                acceptInterrupts();
                if (shutdown) return Stop.SHUTDOWN;
            }
            if (halted) return Stop.HALTED;
            long left = stopAt - icount;
            if (left <= 0) return Stop.BUDGET;
            boolean single = interruptShadow || tracer != null || (eflags & TF) != 0;
            int limit = single ? 1 : (int) Math.min(left, MAX_BLOCK);
            repCap = single ? 1 : Long.MAX_VALUE; // single-stepping takes one REP iteration per step, as TF does
            boolean trap = (eflags & TF) != 0;
            boolean shadow = interruptShadow;
            interruptShadow = false;
            trapShadow = false;
            Block b;
            try {
                b = currentBlock();
            } catch (CpuFault f) {
                lastBlock = null;
                ControlTransfer.exception(this, f);
                continue;
            }
            if (breakpoints != null) {
                int k = breakpointIn(b, Math.min(limit, b.count));
                if (k == 0) {
                    interruptShadow = shadow;
                    breakpointIcount = icount;
                    breakpointLinear = segBase[CS] + eip;
                    return Stop.BREAKPOINT;
                }
                if (k > 0) limit = k; // run up to the breakpoint, then stop before it
            }
            if (tracer != null) tracer.beforeInstruction(this);
            lastBlock = b;
            faulted = false;
            int n = Math.min(limit, b.count);
            Translation t = n == b.count && !single ? translationFor(b) : null;
            if (t != null) execTranslated(b, t);
            else execBlock(b, n);
            if (trap && !shutdown && !faulted && !trapShadow) { // a faulting instruction did not complete: no trap
                dr[6] |= 0x4000;
                ControlTransfer.interrupt(this, CpuFault.DB, 0, false, ControlTransfer.KIND_TRAP);
            }
        }
    }

    /**
     * The index of the first of the block's first {@code n} instructions that sits at a breakpoint,
     * or -1. The instruction a run last stopped at is passed over once, so that resuming goes on.
     */
    private int breakpointIn(Block b, int n) {
        int base = segBase[CS];
        int entry = eip;
        Insn[] ins = b.insns;
        for (int k = 0; k < n; k++) {
            int lin = base + ((entry + ins[k].ofs) & ipMask);
            for (int a : breakpoints) {
                if (a != lin) continue;
                if (k == 0 && icount == breakpointIcount && lin == breakpointLinear) break;
                return k;
            }
        }
        return -1;
    }

    /** Asks {@link #run} to return after the current instruction (for devices, from I/O callbacks). */
    public void requestStop() {
        stopRequested = true;
        execLimit = 0;
    }

    private void acceptInterrupts() {
        if (nmiPending && !nmiBlocked) {
            lastBlock = null; // the handler is no successor of the block before it
            nmiPending = false;
            nmiBlocked = true;
            halted = false;
            ControlTransfer.interrupt(this, CpuFault.NMI, 0, false, ControlTransfer.KIND_EXTERNAL);
            return;
        }
        if (intrLine && (eflags & IF) != 0 && pic != null) {
            lastBlock = null;
            int vector = pic.acknowledge() & 0xFF;
            halted = false;
            ControlTransfer.interrupt(this, vector, 0, false, ControlTransfer.KIND_EXTERNAL);
        }
    }

    private Block currentBlock() {
        Block prev = lastBlock;
        int eip = this.eip;
        if (prev != null && prev.chainGen == chainGen) {
            Block n = prev.next0;
            if (n != null && prev.next0Eip == eip && n.valid) return n;
            n = prev.next1;
            if (n != null && prev.next1Eip == eip && n.valid) return n;
        }
        if (Integer.compareUnsigned(eip, segLimit[CS]) > 0) throw CpuFault.gp(0);
        int phys = codePhys(segBase[CS] + eip);
        Block b = code.lookup(phys, code32);
        if (b == null || !b.fits(eip, segLimit[CS])) b = decodeBlock(phys); // (decoded for another CS)
        if (prev != null) {
            if (prev.chainGen != chainGen) {
                prev.chainGen = chainGen;
                prev.next0 = null;
                prev.next1 = null;
            }
            // Keep the two most recent successors: a conditional branch has two.
            prev.next1 = prev.next0;
            prev.next1Eip = prev.next0Eip;
            prev.next0 = b;
            prev.next0Eip = eip;
        }
        return b;
    }

    /** The last execBlock ended in an exception (single-step traps only follow completed instructions). */
    boolean faulted;

    /** The block executed last, for chaining (null after anything that is not a plain block end). */
    Block lastBlock;

    long decodes;

    private Block decodeBlock(int phys) {
        decodes++;
        int entry = eip;
        Insn[] buf = new Insn[MAX_BLOCK];
        int n = 0;
        int firstPage = phys >>> 12;
        int lastPage = firstPage;
        int at = entry;
        int endPhys = phys;
        boolean terminates = false;
        int firstLinearPage = (segBase[CS] + entry) >>> 12;
        while (n < MAX_BLOCK) {
            Insn in = new Insn();
            int startPhys;
            try {
                // Decoding ahead must not touch a page the block does not run on: translating it
                // would set its accessed bit (a write to the guest's page tables) depending on where
                // a block happened to start, that is on where runs were cut (invariant 1).
                if (n > 0 && ((segBase[CS] + at) >>> 12) != firstLinearPage) break;
                startPhys = codePhys(segBase[CS] + at);
                if (n > 0 && (startPhys >>> 12) != firstPage) break;
                fetchPages = 0;
                decodePage = n > 0 ? firstLinearPage : -1;
                decoder.decode(in, at, entry, code32);
            } catch (CpuFault f) {
                if (n == 0) throw f;
                break; // the fault belongs to this instruction (or it crosses the page): raise it when it is reached
            } finally {
                decodePage = -1;
            }
            int len = decoder.length();
            int lastByte = codePhys(segBase[CS] + ((at + len - 1) & ipMask));
            if ((lastByte >>> 12) != firstPage) {
                if (n > 0) break; // a page-crossing instruction starts its own block
                lastPage = lastByte >>> 12;
            }
            endPhys = lastByte + 1;
            buf[n++] = in;
            at = (at + len) & ipMask;
            if (Op.endsBlock(in.op, in.rep)) {
                terminates = true;
                break;
            }
            if (!code32 && at == 0) break; // IP wrapped
        }
        Insn[] insns = java.util.Arrays.copyOf(buf, n);
        Block b = new Block(phys, code32, insns, n, terminates, firstPage, lastPage, endPhys, entry);
        if (code.instructions() + n > CODE_CACHE_INSTRUCTIONS) flushCode();
        code.add(b);
        return b;
    }

    /**
     * The decoded instructions the code cache holds before it is emptied (as QEMU empties its
     * translation cache when full): about 100 MB of decoded form. A guest that runs through data
     * decodes a new block at almost every step; a flipped ESP in astar (campaign injection 356 of
     * the suite) filled a 6 GB heap in seconds. The Linux boot holds far fewer.
     */
    public static final long CODE_CACHE_INSTRUCTIONS = 1_000_000;
    private long codeFlushes;

    /** How often the code cache was emptied for holding more than {@link #CODE_CACHE_INSTRUCTIONS}. */
    public long codeCacheFlushes() {
        return codeFlushes;
    }

    private void flushCode() {
        codeFlushes++;
        code.clear(); // voids every block, and their translations with them
        translations.clear();
        lastBlock = null;
    }

    int fetchPages;

    /**
     * While decoding a block past its first instruction: the linear page the block is on. A fetch
     * from any other page ends the block there (the instruction that crosses starts the next block).
     */
    private int decodePage = -1;
    private static final CpuFault OFF_THE_PAGE = CpuFault.gp(0);

    /** One byte of code at CS:off, for the decoder: CS limit, paging and A20 all apply. */
    int fetchCode(int off) {
        if (Integer.compareUnsigned(off, segLimit[CS]) > 0) throw CpuFault.gp(0);
        int lin = segBase[CS] + off;
        if (decodePage != -1 && (lin >>> 12) != decodePage) throw OFF_THE_PAGE;
        return readPhys8(codePhys(lin));
    }

    // --- translated blocks (Translator) ------------------------------------------------------

    final TranslationCache translations = new TranslationCache();
    /** Instructions retired inside translations, for the share reported by --stats. */
    long translatedInstructions;

    /**
     * The block's translation, made now if the block has run whole often enough; null while it
     * is to be interpreted. Counted in executions, so when a block gets translated depends on the
     * guest's path only, never on host timing.
     */
    private Translation translationFor(Block b) {
        Translation t = b.translation;
        if (t != null || translations.threshold < 0) return t;
        if (++b.executions < translations.due) return null;
        return translations.translate(b, code);
    }

    /** Runs a translation, with execBlock's set-up; the generated code does execBlock's exits. */
    private void execTranslated(Block b, Translation t) {
        currentBlock = b;
        currentBlockVoided = false;
        execLimit = b.count;
        repExtra = 0;
        t.run(this);
    }

    /**
     * A translation stopped after {@code i} instructions because execLimit fell (a write voided the
     * block, a device asked for a stop): execBlock's exit for that case.
     */
    void xlatStop(Block b, int entry, long base, int i) {
        icount = base + i + repExtra;
        translatedInstructions += icount - base;
        eip = (entry + b.insns[i - 1].end) & ipMask;
        currentBlock = null;
    }

    /** A translation's instruction {@code i} raised {@code f}: execBlock's exit for a fault. */
    void xlatFault(CpuFault f, Block b, int entry, long base, int i) {
        faulted = true;
        icount = base + i + repExtra;
        translatedInstructions += icount - base;
        eip = (entry + b.insns[i].ofs) & ipMask;
        lastBlock = null;
        currentBlock = null;
        ControlTransfer.exception(this, f);
    }

    /**
     * Sets how often a block must run whole before it is translated: 1 translates everything on
     * its first run, a negative value interprets only (the reference).
     */
    public void setTranslationThreshold(int executions) {
        translations.setThreshold(executions);
    }

    /** {@code --translate on}, what users get: the default threshold, rising with the translations held. */
    public void setTranslationOn() {
        translations.setRisingThreshold();
    }

    /** Most blocks one translation may chain (1: each block its own translation). */
    public void setTranslationRegion(int blocks) {
        translations.regionBlocks = Math.max(1, blocks);
    }

    public TranslationStats translationStats() {
        return translations.stats(translatedInstructions);
    }

    private void execBlock(Block b, int n) {
        final Insn[] ins = b.insns;
        final int entry = eip;
        final long base = icount;
        final int[] r = this.r;
        currentBlock = b;
        currentBlockVoided = false;
        execLimit = n;
        repExtra = 0;
        int i = 0;
        try {
            // The hot loop: one dispatch per instruction over the frequent forms (specialised 32-bit
            // ones first); everything rarer goes through execOther so this method stays small enough
            // for the JIT to compile and inline well.
            while (i < execLimit) {
                Insn in = ins[i];
                switch (in.op) {
                    case Op.MOV_RR32:
                        r[in.d] = r[in.s];
                        break;
                    case Op.MOV_RM32:
                        r[in.d] = rd32(in.seg, (r[in.base] + (r[in.index] << in.scale) + in.disp) & in.eaMask);
                        break;
                    case Op.MOV_MR32:
                        wr32(in.seg, (r[in.base] + (r[in.index] << in.scale) + in.disp) & in.eaMask, r[in.s]);
                        break;
                    case Op.MOV_RI32:
                        r[in.d] = in.imm;
                        break;
                    case Op.LEA32:
                        r[in.d] = r[in.base] + (r[in.index] << in.scale) + in.disp;
                        break;
                    case Op.MOVZX8_RM32:
                        r[in.d] = rd8(in.seg, (r[in.base] + (r[in.index] << in.scale) + in.disp) & in.eaMask);
                        break;
                    case Op.MOVZX8_RR32:
                        r[in.d] = getReg8(in.s);
                        break;
                    case Op.INC_R32: {
                        int v = r[in.d];
                        keepCarry();
                        fOp = F_INC; fA = v; fB = 1; fRes = r[in.d] = v + 1; fSign = 0x80000000;
                        break;
                    }
                    case Op.DEC_R32: {
                        int v = r[in.d];
                        keepCarry();
                        fOp = F_DEC; fA = v; fB = 1; fRes = r[in.d] = v - 1; fSign = 0x80000000;
                        break;
                    }
                    case Op.ADD_RR32: add32(in.d, r[in.s]); break;
                    case Op.ADD_RI32: add32(in.d, in.imm); break;
                    case Op.ADD_RM32: add32(in.d, rd32(in.seg, ea(in))); break;
                    case Op.SUB_RR32: sub32(in.d, r[in.s]); break;
                    case Op.SUB_RI32: sub32(in.d, in.imm); break;
                    case Op.SUB_RM32: sub32(in.d, rd32(in.seg, ea(in))); break;
                    case Op.CMP_RR32: cmp32(r[in.d], r[in.s]); break;
                    case Op.CMP_RI32: cmp32(r[in.d], in.imm); break;
                    case Op.CMP_RM32: cmp32(r[in.d], rd32(in.seg, ea(in))); break;
                    case Op.CMP_MR32: cmp32(rd32(in.seg, ea(in)), r[in.s]); break;
                    case Op.CMP_MI32: cmp32(rd32(in.seg, ea(in)), in.imm); break;
                    case Op.AND_RR32: logic32(r[in.d] = r[in.d] & r[in.s]); break;
                    case Op.AND_RI32: logic32(r[in.d] = r[in.d] & in.imm); break;
                    case Op.AND_RM32: logic32(r[in.d] = r[in.d] & rd32(in.seg, ea(in))); break;
                    case Op.OR_RR32: logic32(r[in.d] = r[in.d] | r[in.s]); break;
                    case Op.OR_RI32: logic32(r[in.d] = r[in.d] | in.imm); break;
                    case Op.XOR_RR32: logic32(r[in.d] = r[in.d] ^ r[in.s]); break;
                    case Op.XOR_RI32: logic32(r[in.d] = r[in.d] ^ in.imm); break;
                    case Op.TEST_RR32: logic32(r[in.d] & r[in.s]); break;
                    case Op.TEST_RI32: logic32(r[in.d] & in.imm); break;
                    case Op.ADD_MR32: {
                        int ea = ea(in);
                        int a = rd32(in.seg, ea), v = r[in.s];
                        int res = a + v;
                        wr32(in.seg, ea, res);
                        fOp = F_ADD; fA = a; fB = v; fRes = res; fSign = 0x80000000;
                        break;
                    }
                    case Op.PUSH_R32: {
                        int v = r[in.s];
                        if (stack32) {
                            int sp = r[ESP] - 4;
                            wr32(SS, sp, v);
                            r[ESP] = sp;
                        } else {
                            push(v, 4);
                        }
                        break;
                    }
                    case Op.POP_R32: {
                        int v;
                        if (stack32) {
                            v = rd32(SS, r[ESP]);
                            r[ESP] += 4;
                        } else {
                            v = peekStack(0, 4);
                            adjustSp(4);
                        }
                        r[in.d] = v;
                        break;
                    }
                    case Op.MOV_RR:
                        if (in.size == 4) r[in.d] = r[in.s];
                        else setReg(in.d, in.size, getReg(in.s, in.size));
                        break;
                    case Op.MOV_RM: {
                        int ea = (r[in.base] + (r[in.index] << in.scale) + in.disp) & in.eaMask;
                        if (in.size == 4) r[in.d] = rd32(in.seg, ea);
                        else setReg(in.d, in.size, rd(in.seg, ea, in.size));
                        break;
                    }
                    case Op.MOV_MR: {
                        int ea = (r[in.base] + (r[in.index] << in.scale) + in.disp) & in.eaMask;
                        if (in.size == 4) wr32(in.seg, ea, r[in.s]);
                        else wr(in.seg, ea, in.size, getReg(in.s, in.size));
                        break;
                    }
                    case Op.MOV_RI:
                        if (in.size == 4) r[in.d] = in.imm;
                        else setReg(in.d, in.size, in.imm);
                        break;
                    case Op.MOV_MI:
                        wr(in.seg, ea(in), in.size, in.imm);
                        break;
                    case Op.ALU_RR: {
                        int v = alu(in.sub, getReg(in.d, in.size), getReg(in.s, in.size), in.size);
                        if (in.sub < 7) setReg(in.d, in.size, v);
                        break;
                    }
                    case Op.ALU_RM: {
                        int v = alu(in.sub, getReg(in.d, in.size), rd(in.seg, ea(in), in.size), in.size);
                        if (in.sub < 7) setReg(in.d, in.size, v);
                        break;
                    }
                    case Op.ALU_MR: {
                        int ea = ea(in);
                        int v = alu(in.sub, rd(in.seg, ea, in.size), getReg(in.s, in.size), in.size);
                        if (in.sub < 7) wr(in.seg, ea, in.size, v);
                        break;
                    }
                    case Op.ALU_RI: {
                        int v = alu(in.sub, getReg(in.d, in.size), in.imm, in.size);
                        if (in.sub < 7) setReg(in.d, in.size, v);
                        break;
                    }
                    case Op.ALU_MI: {
                        int ea = ea(in);
                        int v = alu(in.sub, rd(in.seg, ea, in.size), in.imm, in.size);
                        if (in.sub < 7) wr(in.seg, ea, in.size, v);
                        break;
                    }
                    case Op.LEA: {
                        int ea = ea(in);
                        if (in.size == 4) r[in.d] = ea;
                        else setReg(in.d, 2, ea);
                        break;
                    }
                    case Op.MOVZX_RR:
                        setReg(in.d, in.size, getReg(in.s, in.imm));
                        break;
                    case Op.MOVZX_RM:
                        setReg(in.d, in.size, rd(in.seg, ea(in), in.imm));
                        break;
                    case Op.MOVSX_RR: {
                        int v = getReg(in.s, in.imm);
                        setReg(in.d, in.size, in.imm == 1 ? (byte) v : (short) v);
                        break;
                    }
                    case Op.MOVSX_RM: {
                        int v = rd(in.seg, ea(in), in.imm);
                        setReg(in.d, in.size, in.imm == 1 ? (byte) v : (short) v);
                        break;
                    }
                    case Op.INC_R:
                        setReg(in.d, in.size, incDec(getReg(in.d, in.size), true, in.size));
                        break;
                    case Op.DEC_R:
                        setReg(in.d, in.size, incDec(getReg(in.d, in.size), false, in.size));
                        break;
                    case Op.INC_M: case Op.DEC_M: {
                        int ea = ea(in);
                        wr(in.seg, ea, in.size, incDec(rd(in.seg, ea, in.size), in.op == Op.INC_M, in.size));
                        break;
                    }
                    case Op.NOT_R:
                        setReg(in.d, in.size, ~getReg(in.d, in.size));
                        break;
                    case Op.NEG_R:
                        setReg(in.d, in.size, neg(getReg(in.d, in.size), in.size));
                        break;
                    case Op.SHIFT_R: {
                        int count = (in.imm < 0 ? r[ECX] : in.imm) & 0x1F;
                        if (count != 0) setReg(in.d, in.size, Arith.shift(this, in.sub, getReg(in.d, in.size), count, in.size));
                        break;
                    }
                    case Op.SHIFT_M: {
                        int ea = ea(in);
                        int count = (in.imm < 0 ? r[ECX] : in.imm) & 0x1F;
                        int v = rd(in.seg, ea, in.size);
                        if (count != 0) wr(in.seg, ea, in.size, Arith.shift(this, in.sub, v, count, in.size));
                        break;
                    }
                    case Op.SHD_R: {
                        int count = (in.imm < 0 ? r[ECX] : in.imm) & 0x1F;
                        if (count != 0) {
                            setReg(in.d, in.size, Arith.shiftDouble(this, in.sub, getReg(in.d, in.size),
                                    getReg(in.s, in.size), count, in.size));
                        }
                        break;
                    }
                    case Op.MULDIV_R:
                        Arith.mulDiv(this, in.sub, getReg(in.s, in.size), in.size);
                        break;
                    case Op.MULDIV_M:
                        Arith.mulDiv(this, in.sub, rd(in.seg, ea(in), in.size), in.size);
                        break;
                    case Op.IMUL_RR:
                        setReg(in.d, in.size, Arith.imul2(this, getReg(in.d, in.size), getReg(in.s, in.size), in.size));
                        break;
                    case Op.IMUL_RM:
                        setReg(in.d, in.size, Arith.imul2(this, getReg(in.d, in.size), rd(in.seg, ea(in), in.size), in.size));
                        break;
                    case Op.IMUL3_R:
                        setReg(in.d, in.size, Arith.imul2(this, getReg(in.s, in.size), in.imm, in.size));
                        break;
                    case Op.SETCC_R:
                        setReg8(in.d, cond(in.sub) ? 1 : 0);
                        break;
                    case Op.CMOV_R: {
                        int v = getReg(in.s, in.size);
                        if (cond(in.sub)) setReg(in.d, in.size, v);
                        else if (in.size == 4) r[in.d] = r[in.d];
                        break;
                    }
                    case Op.CMOV_M: {
                        int v = rd(in.seg, ea(in), in.size); // the load happens whatever the condition
                        if (cond(in.sub)) setReg(in.d, in.size, v);
                        break;
                    }
                    case Op.JCC: {
                        int next = entry + in.end;
                        eip = cond(in.sub) ? jumpTarget(next + in.imm, in.size) : next & ipMask;
                        break;
                    }
                    case Op.JMP:
                        eip = jumpTarget(entry + in.end + in.imm, in.size);
                        break;
                    case Op.CALL: {
                        int next = (entry + in.end) & ipMask;
                        int target = jumpTarget(next + in.imm, in.size);
                        push(next, in.size);
                        eip = target;
                        break;
                    }
                    case Op.JMP_R:
                        eip = jumpTarget(getReg(in.s, in.size), in.size);
                        break;
                    case Op.JMP_M:
                        eip = jumpTarget(rd(in.seg, ea(in), in.size), in.size);
                        break;
                    case Op.CALL_R: case Op.CALL_M: {
                        int next = (entry + in.end) & ipMask;
                        int target = jumpTarget(in.op == Op.CALL_R ? getReg(in.s, in.size) : rd(in.seg, ea(in), in.size), in.size);
                        push(next, in.size);
                        eip = target;
                        break;
                    }
                    case Op.RET: {
                        int target = jumpTarget(peekStack(0, in.size), in.size);
                        adjustSp(in.size + in.imm);
                        eip = target;
                        break;
                    }
                    case Op.PUSH_R:
                        push(getReg(in.s, in.size), in.size);
                        break;
                    case Op.POP_R: {
                        int v = peekStack(0, in.size);
                        adjustSp(in.size);
                        setReg(in.d, in.size, v);
                        break;
                    }
                    case Op.PUSH_I:
                        push(in.imm, in.size);
                        break;
                    case Op.NOP:
                        break;
                    case Op.UD:
                        throw CpuFault.ud();
                    case Op.GP0:
                        throw CpuFault.gp(0);

                    default:
                        execOther(in, entry, i, base);
                        break;
                }
                i++;
            }
            icount = base + i + repExtra;
            if (i != b.count || !b.terminates) eip = (entry + ins[i - 1].end) & ipMask;
        } catch (CpuFault f) {
            faulted = true;
            icount = base + i + repExtra;
            eip = (entry + ins[i].ofs) & ipMask;
            lastBlock = null;
            ControlTransfer.exception(this, f);
        }
        currentBlock = null;
    }

    /** The instructions too rare to sit in execBlock's switch. Same conventions as there. */
    void execOther(Insn in, int entry, int i, long base) {
        final int[] r = this.r;
        switch (in.op) {
                    case Op.NOT_M: {
                        int ea = ea(in);
                        wr(in.seg, ea, in.size, ~rd(in.seg, ea, in.size));
                        break;
                    }
                    case Op.NEG_M: {
                        int ea = ea(in);
                        wr(in.seg, ea, in.size, neg(rd(in.seg, ea, in.size), in.size));
                        break;
                    }
                    case Op.SHD_M: {
                        int ea = ea(in);
                        int count = (in.imm < 0 ? r[ECX] : in.imm) & 0x1F;
                        int v = rd(in.seg, ea, in.size);
                        if (count != 0) {
                            wr(in.seg, ea, in.size, Arith.shiftDouble(this, in.sub, v, getReg(in.s, in.size), count, in.size));
                        }
                        break;
                    }
                    case Op.IMUL3_M:
                        setReg(in.d, in.size, Arith.imul2(this, rd(in.seg, ea(in), in.size), in.imm, in.size));
                        break;
                    case Op.BT_RR: {
                        int bit = getReg(in.s, in.size) & (in.size * 8 - 1);
                        int v = Arith.bitOp(this, in.sub, getReg(in.d, in.size), bit);
                        if (in.sub != 0) setReg(in.d, in.size, v);
                        break;
                    }
                    case Op.BT_RI: {
                        int bit = in.imm & (in.size * 8 - 1);
                        int v = Arith.bitOp(this, in.sub, getReg(in.d, in.size), bit);
                        if (in.sub != 0) setReg(in.d, in.size, v);
                        break;
                    }
                    case Op.BT_MR: {
                        // A register bit offset reaches beyond the addressed operand.
                        int off = getReg(in.s, in.size);
                        if (in.size == 2) off = (short) off;
                        int ea = (ea(in) + ((off >> (in.size == 2 ? 4 : 5)) * in.size)) & in.eaMask;
                        int bit = off & (in.size * 8 - 1);
                        int v = Arith.bitOp(this, in.sub, rd(in.seg, ea, in.size), bit);
                        if (in.sub != 0) wr(in.seg, ea, in.size, v);
                        break;
                    }
                    case Op.BT_MI: {
                        int ea = ea(in);
                        int bit = in.imm & (in.size * 8 - 1);
                        int v = Arith.bitOp(this, in.sub, rd(in.seg, ea, in.size), bit);
                        if (in.sub != 0) wr(in.seg, ea, in.size, v);
                        break;
                    }
                    case Op.BSF_R: case Op.BSR_R:
                        Arith.bitScan(this, in.op == Op.BSR_R, in.d, getReg(in.s, in.size), in.size);
                        break;
                    case Op.BSF_M: case Op.BSR_M:
                        Arith.bitScan(this, in.op == Op.BSR_M, in.d, rd(in.seg, ea(in), in.size), in.size);
                        break;
                    case Op.BSWAP:
                        if (in.size == 4) r[in.d] = Integer.reverseBytes(r[in.d]);
                        else setReg(in.d, 2, 0); // 16-bit BSWAP is undefined; P6 processors clear it
                        break;
                    case Op.SETCC_M:
                        wr8(in.seg, ea(in), cond(in.sub) ? 1 : 0);
                        break;
                    case Op.LOOP: {
                        int next = entry + in.end;
                        eip = loop(in) ? jumpTarget(next + in.imm, in.size) : next & ipMask;
                        break;
                    }
                    case Op.JMPF:
                        ControlTransfer.farJump(this, in.imm2, in.size == 2 ? in.imm & 0xFFFF : in.imm,
                                (entry + in.end) & ipMask);
                        break;
                    case Op.CALLF:
                        ControlTransfer.farCall(this, in.imm2, in.size == 2 ? in.imm & 0xFFFF : in.imm, in.size,
                                (entry + in.end) & ipMask);
                        break;
                    case Op.JMPF_M: case Op.CALLF_M: {
                        int ea = ea(in);
                        int off = rd(in.seg, ea, in.size);
                        int sel = rd16(in.seg, (ea + in.size) & in.eaMask);
                        if (in.op == Op.JMPF_M) ControlTransfer.farJump(this, sel, off, (entry + in.end) & ipMask);
                        else ControlTransfer.farCall(this, sel, off, in.size, (entry + in.end) & ipMask);
                        break;
                    }
                    case Op.RETF:
                        ControlTransfer.farReturn(this, in.size, in.imm);
                        break;
                    case Op.IRET:
                        ControlTransfer.iret(this, in.size);
                        break;
                    case Op.PUSH_M:
                        push(rd(in.seg, ea(in), in.size), in.size);
                        break;
                    case Op.POP_M: {
                        // ESP is incremented before the destination address is computed.
                        int v = peekStack(0, in.size);
                        int oldSp = r[ESP];
                        adjustSp(in.size);
                        try {
                            wr(in.seg, ea(in), in.size, v);
                        } catch (CpuFault f) {
                            r[ESP] = oldSp;
                            throw f;
                        }
                        break;
                    }
                    case Op.PUSH_SEG:
                        pushSegment(segSel[in.sub], in.size);
                        break;
                    case Op.POP_SEG:
                        popSegment(in.sub, in.size);
                        eip = (entry + in.end) & ipMask;
                        break;
                    case Op.PUSHA:
                        pusha(in.size);
                        break;
                    case Op.POPA:
                        popa(in.size);
                        break;
                    case Op.PUSHF:
                        ControlTransfer.pushf(this, in.size);
                        break;
                    case Op.POPF:
                        ControlTransfer.popf(this, in.size);
                        eip = (entry + in.end) & ipMask;
                        break;
                    case Op.ENTER:
                        enter(in.imm, in.imm2 & 31, in.size);
                        break;
                    case Op.LEAVE: {
                        int bp = stack32 ? r[EBP] : r[EBP] & 0xFFFF;
                        int v = in.size == 4 ? rd32(SS, bp) : rd16(SS, bp);
                        if (stack32) r[ESP] = bp + in.size;
                        else r[ESP] = (r[ESP] & 0xFFFF0000) | ((bp + in.size) & 0xFFFF);
                        setReg(EBP, in.size, v);
                        break;
                    }
                    case Op.XCHG_RR: {
                        int a = getReg(in.d, in.size);
                        setReg(in.d, in.size, getReg(in.s, in.size));
                        setReg(in.s, in.size, a);
                        break;
                    }
                    case Op.XCHG_RM: {
                        int ea = ea(in);
                        int v = rd(in.seg, ea, in.size);
                        wr(in.seg, ea, in.size, getReg(in.d, in.size));
                        setReg(in.d, in.size, v);
                        break;
                    }
                    case Op.XADD_RR: {
                        int dst = getReg(in.d, in.size), src = getReg(in.s, in.size);
                        int sum = alu(0, dst, src, in.size);
                        setReg(in.s, in.size, dst);
                        setReg(in.d, in.size, sum);
                        break;
                    }
                    case Op.XADD_RM: {
                        int ea = ea(in);
                        int dst = rd(in.seg, ea, in.size), src = getReg(in.s, in.size);
                        int sum = alu(0, dst, src, in.size);
                        wr(in.seg, ea, in.size, sum);
                        setReg(in.s, in.size, dst);
                        break;
                    }
                    case Op.CMPXCHG_RR: {
                        int dst = getReg(in.d, in.size);
                        alu(7, getReg(EAX, in.size), dst, in.size);
                        if (zf()) setReg(in.d, in.size, getReg(in.s, in.size));
                        else setReg(EAX, in.size, dst);
                        break;
                    }
                    case Op.CMPXCHG_RM: {
                        int ea = ea(in);
                        int dst = rd(in.seg, ea, in.size);
                        int acc = getReg(EAX, in.size);
                        // The destination is always written (with its own value on failure).
                        boolean equal = ((acc ^ dst) & sizeMask(in.size)) == 0;
                        wr(in.seg, ea, in.size, equal ? getReg(in.s, in.size) : dst);
                        alu(7, acc, dst, in.size);
                        if (!equal) setReg(EAX, in.size, dst);
                        break;
                    }
                    case Op.CMPXCHG8B: {
                        int ea = ea(in);
                        int lo = rd32(in.seg, ea), hi = rd32(in.seg, (ea + 4) & in.eaMask);
                        materializeFlags();
                        if (lo == r[EAX] && hi == r[EDX]) {
                            probeWrite(in.seg, ea, 8 <= 4 ? 4 : 4);
                            probeWrite(in.seg, (ea + 4) & in.eaMask, 4);
                            wr32(in.seg, ea, r[EBX]);
                            wr32(in.seg, (ea + 4) & in.eaMask, r[ECX]);
                            eflags |= ZF;
                        } else {
                            probeWrite(in.seg, ea, 4);
                            probeWrite(in.seg, (ea + 4) & in.eaMask, 4);
                            wr32(in.seg, ea, lo);
                            wr32(in.seg, (ea + 4) & in.eaMask, hi);
                            r[EAX] = lo;
                            r[EDX] = hi;
                            eflags &= ~ZF;
                        }
                        break;
                    }
                    case Op.CBW:
                        if (in.size == 4) r[EAX] = (short) r[EAX];
                        else setReg(EAX, 2, (byte) r[EAX]);
                        break;
                    case Op.CWD:
                        if (in.size == 4) r[EDX] = r[EAX] >> 31;
                        else setReg(EDX, 2, ((short) r[EAX]) >> 15);
                        break;
                    case Op.LAHF:
                        setReg8(4, getEflags() & 0xD7 | 2);
                        break;
                    case Op.SAHF:
                        setEflagsMasked(getReg8(4), SF | ZF | AF | PF | CF);
                        break;
                    case Op.CLC: setCarry(false); break;
                    case Op.STC: setCarry(true); break;
                    case Op.CMC: setCarry(!cf()); break;
                    case Op.CLD: eflags &= ~DF; break;
                    case Op.STD: eflags |= DF; break;
                    case Op.CLI:
                        ControlTransfer.cli(this);
                        eip = (entry + in.end) & ipMask;
                        break;
                    case Op.STI:
                        ControlTransfer.sti(this);
                        eip = (entry + in.end) & ipMask;
                        break;
                    case Op.HLT:
                        if (cpl != 0) throw CpuFault.gp(0);
                        halted = true;
                        eip = (entry + in.end) & ipMask;
                        break;
                    case Op.WAIT:
                        fpu.waitInstruction(this);
                        break;
                    case Op.MOVS: case Op.CMPS: case Op.STOS: case Op.LODS: case Op.SCAS: case Op.INS: case Op.OUTS:
                        icount = base + i;
                        if (in.rep != 0 || in.op == Op.INS || in.op == Op.OUTS) {
                            boolean done = StringOps.execute(this, in, Math.min(repCap, stopAt - (base + i)));
                            eip = ((entry + (done ? in.end : in.ofs)) & ipMask);
                        } else {
                            StringOps.once(this, in);
                        }
                        break;
                    case Op.IN: {
                        icount = base + i;
                        int port = in.imm < 0 ? r[EDX] & 0xFFFF : in.imm;
                        ControlTransfer.checkIo(this, port, in.size);
                        setReg(EAX, in.size, io.in(port, in.size));
                        eip = (entry + in.end) & ipMask;
                        break;
                    }
                    case Op.OUT: {
                        icount = base + i;
                        int port = in.imm < 0 ? r[EDX] & 0xFFFF : in.imm;
                        ControlTransfer.checkIo(this, port, in.size);
                        io.out(port, in.size, getReg(EAX, in.size));
                        eip = (entry + in.end) & ipMask;
                        break;
                    }
                    case Op.INT:
                        ControlTransfer.softwareInterrupt(this, in.imm, (entry + in.end) & ipMask, ControlTransfer.KIND_SOFT);
                        break;
                    case Op.INT3:
                        ControlTransfer.softwareInterrupt(this, CpuFault.BP, (entry + in.end) & ipMask, ControlTransfer.KIND_INT3);
                        break;
                    case Op.INTO:
                        if (of()) {
                            ControlTransfer.softwareInterrupt(this, CpuFault.OF, (entry + in.end) & ipMask, ControlTransfer.KIND_INT3);
                        } else {
                            eip = (entry + in.end) & ipMask;
                        }
                        break;
                    case Op.INT1:
                        ControlTransfer.softwareInterrupt(this, CpuFault.DB, (entry + in.end) & ipMask, ControlTransfer.KIND_ICEBP);
                        break;
                    case Op.BOUND: {
                        int ea = ea(in);
                        int lo = rd(in.seg, ea, in.size), hi = rd(in.seg, (ea + in.size) & in.eaMask, in.size);
                        int v = getReg(in.d, in.size);
                        if (in.size == 2) { lo = (short) lo; hi = (short) hi; v = (short) v; }
                        if (v < lo || v > hi) throw CpuFault.of(CpuFault.BR);
                        break;
                    }
                    case Op.XLAT: {
                        int addr = (r[EBX] + (r[EAX] & 0xFF)) & in.eaMask;
                        setReg8(0, rd8(in.seg, addr));
                        break;
                    }
                    case Op.DAA: Arith.daa(this); break;
                    case Op.DAS: Arith.das(this); break;
                    case Op.AAA: Arith.aaa(this); break;
                    case Op.AAS: Arith.aas(this); break;
                    case Op.AAM: Arith.aam(this, in.imm); break;
                    case Op.AAD: Arith.aad(this, in.imm); break;
                    case Op.SALC: setReg8(0, cf() ? 0xFF : 0); break;
                    case Op.MOV_SR_R: case Op.MOV_SR_M: {
                        int v = in.op == Op.MOV_SR_R ? r[in.s] & 0xFFFF : rd16(in.seg, ea(in));
                        ControlTransfer.loadSegment(this, in.sub, v);
                        if (in.sub == SS) stackSegmentLoaded();
                        eip = (entry + in.end) & ipMask;
                        break;
                    }
                    case Op.MOV_RS_R:
                        if (in.size == 4) r[in.d] = segSel[in.sub];
                        else setReg(in.d, 2, segSel[in.sub]);
                        break;
                    case Op.MOV_RS_M:
                        wr16(in.seg, ea(in), segSel[in.sub]);
                        break;
                    case Op.LSEG: {
                        int ea = ea(in);
                        int off = rd(in.seg, ea, in.size);
                        int sel = rd16(in.seg, (ea + in.size) & in.eaMask);
                        ControlTransfer.loadSegment(this, in.sub, sel);
                        setReg(in.d, in.size, off);
                        if (in.sub == SS) modeChanged();
                        eip = (entry + in.end) & ipMask;
                        break;
                    }
                    case Op.FPU:
                        fpu.execute(this, in);
                        break;
            default:
                icount = base + i;
                SystemOps.execute(this, in);
                // SYSENTER and SYSEXIT set EIP themselves.
                if (Op.endsBlock(in.op, 0) && in.op != Op.SYSENTER && in.op != Op.SYSEXIT) eip = (entry + in.end) & ipMask;
                break;
        }
    }

    // The interpreter's inline 32-bit cases as methods, for translations to call (execBlock keeps
    // its own copies inline: a call there would not be inlined into the huge switch).

    void inc32(int d) {
        int v = r[d];
        keepCarry();
        fOp = F_INC; fA = v; fB = 1; fRes = r[d] = v + 1; fSign = 0x80000000;
    }

    void dec32(int d) {
        int v = r[d];
        keepCarry();
        fOp = F_DEC; fA = v; fB = 1; fRes = r[d] = v - 1; fSign = 0x80000000;
    }

    void addMem32(int seg, int ea, int v) {
        int a = rd32(seg, ea);
        int res = a + v;
        wr32(seg, ea, res);
        fOp = F_ADD; fA = a; fB = v; fRes = res; fSign = 0x80000000;
    }

    void push32(int v) {
        if (stack32) {
            int sp = r[ESP] - 4;
            wr32(SS, sp, v);
            r[ESP] = sp;
        } else {
            push(v, 4);
        }
    }

    int pop32() {
        int v;
        if (stack32) {
            v = rd32(SS, r[ESP]);
            r[ESP] += 4;
        } else {
            v = peekStack(0, 4);
            adjustSp(4);
        }
        return v;
    }

    void add32(int d, int v) {
        int a = r[d];
        int res = a + v;
        r[d] = res;
        fOp = F_ADD; fA = a; fB = v; fRes = res; fSign = 0x80000000;
    }

    void sub32(int d, int v) {
        int a = r[d];
        int res = a - v;
        r[d] = res;
        fOp = F_SUB; fA = a; fB = v; fRes = res; fSign = 0x80000000;
    }

    void cmp32(int a, int v) {
        fOp = F_SUB; fA = a; fB = v; fRes = a - v; fSign = 0x80000000;
    }

    void logic32(int res) {
        fOp = F_LOGIC; fRes = res; fSign = 0x80000000;
    }

    // --- operand helpers ----------------------------------------------------------------------

    final int ea(Insn in) {
        return (r[in.base] + (r[in.index] << in.scale) + in.disp) & in.eaMask;
    }

    /** A near branch target: masked to the operand size and checked against the CS limit. */
    int jumpTarget(int target, int size) {
        if (size == 2) target &= 0xFFFF;
        if (Integer.compareUnsigned(target, segLimit[CS]) > 0) throw CpuFault.gp(0);
        return target;
    }

    private boolean loop(Insn in) {
        int mask = in.eaMask;
        if (in.sub == 3) return (r[ECX] & mask) == 0;
        int c = (r[ECX] - 1) & mask;
        r[ECX] = (r[ECX] & ~mask) | c;
        if (c == 0) return false;
        if (in.sub == 2) return true;
        return zf() == (in.sub == 1);
    }

    final int alu(int sub, int a, int b, int size) {
        int res;
        switch (sub) {
            case 0:
                res = a + b;
                setFlagsAdd(a, b, res, size);
                return res;
            case 1:
                res = a | b;
                setFlagsLogic(res, size);
                return res;
            case 2: {
                int c = cf() ? 1 : 0;
                res = a + b + c;
                setFlagsAdd(a, b, res, size);
                fOp = F_ADC;
                fCin = c;
                return res;
            }
            case 3: {
                int c = cf() ? 1 : 0;
                res = a - b - c;
                setFlagsSub(a, b, res, size);
                fOp = F_SBB;
                fCin = c;
                return res;
            }
            case 4: case 8:
                res = a & b;
                setFlagsLogic(res, size);
                return res;
            case 5: case 7:
                res = a - b;
                setFlagsSub(a, b, res, size);
                return res;
            default:
                res = a ^ b;
                setFlagsLogic(res, size);
                return res;
        }
    }

    int incDec(int v, boolean inc, int size) {
        keepCarry();
        int res = inc ? v + 1 : v - 1;
        int m = sizeMask(size);
        fOp = inc ? F_INC : F_DEC;
        fA = v & m;
        fB = 1;
        fRes = res & m;
        fSign = signBit(size);
        return res;
    }

    int neg(int v, int size) {
        int res = -v;
        setFlagsSub(0, v, res, size);
        return res;
    }

    // --- the stack ------------------------------------------------------------------------------

    final void push(int v, int size) {
        int sp = r[ESP] - size;
        if (stack32) {
            if (size == 4) wr32(SS, sp, v); else wr16(SS, sp, v);
            r[ESP] = sp;
        } else {
            sp &= 0xFFFF;
            if (size == 4) wr32(SS, sp, v); else wr16(SS, sp, v);
            r[ESP] = (r[ESP] & 0xFFFF0000) | sp;
        }
    }

    /** Pushes a segment selector: with a 32-bit operand size P6 processors write only 16 bits. */
    private void pushSegment(int sel, int size) {
        int sp = r[ESP] - size;
        if (!stack32) sp &= 0xFFFF;
        if (size == 4) probeWrite(SS, sp, 4);
        wr16(SS, sp, sel);
        if (stack32) r[ESP] = sp; else r[ESP] = (r[ESP] & 0xFFFF0000) | sp;
    }

    /** Reads the stack at ESP + {@code offset} without popping. */
    final int peekStack(int offset, int size) {
        int sp = stack32 ? r[ESP] + offset : (r[ESP] + offset) & 0xFFFF;
        return size == 4 ? rd32(SS, sp) : rd16(SS, sp);
    }

    final void adjustSp(int delta) {
        r[ESP] = espPlus(delta);
    }

    /** ESP moved by {@code delta} on the current stack: all of it with B=1, only SP with B=0. */
    private int espPlus(int delta) {
        return stack32 ? r[ESP] + delta : (r[ESP] & 0xFFFF0000) | ((r[ESP] + delta) & 0xFFFF);
    }

    /**
     * POP Sreg. The pop reads through the current SS, so SP advances by that stack's address size,
     * not by the B bit of the SS it may load (a 32-bit POP SS from a 16-bit stack wraps within SP).
     */
    private void popSegment(int seg, int size) {
        int v = peekStack(0, size) & 0xFFFF;
        int esp = espPlus(size);
        ControlTransfer.loadSegment(this, seg, v);
        r[ESP] = esp;
        if (seg == SS) stackSegmentLoaded();
    }

    /** After MOV SS or POP SS: interrupts, and the single-step trap, wait one instruction. */
    private void stackSegmentLoaded() {
        modeChanged();
        interruptShadow = true;
        trapShadow = true;
    }

    private void pusha(int size) {
        int sp0 = r[ESP];
        // Check every slot in push order before the first store, so a fault leaves memory alone
        // and reports the address the processor's first failing store would (CR2).
        for (int n = 1; n <= 8; n++) probeWrite(SS, stack32 ? sp0 - n * size : (sp0 - n * size) & 0xFFFF, size);
        for (int n = 0; n < 8; n++) push(n == ESP ? sp0 : r[n], size);
    }

    private void popa(int size) {
        int[] v = new int[8];
        for (int n = 7; n >= 0; n--) v[n] = peekStack((7 - n) * size, size);
        for (int n = 7; n >= 0; n--) if (n != ESP) setReg(n, size, v[n]);
        adjustSp(8 * size);
    }

    private void enter(int frame, int level, int size) {
        int framePtr;
        int bp = r[EBP];
        int sp = r[ESP];
        // Compute everything first so a fault leaves no partial state.
        int spNew = sp - size;
        // frame-ptr := eSP after pushing (E)BP: on a 16-bit stack only SP moved, ESP[31:16] stay.
        int fp = stack32 ? spNew : (sp & 0xFFFF0000) | (spNew & 0xFFFF);
        int[] copies = new int[Math.max(0, level - 1)];
        for (int k = 1; k < level; k++) {
            int from = stack32 ? bp - k * size : (bp - k * size) & 0xFFFF;
            copies[k - 1] = size == 4 ? rd32(SS, from) : rd16(SS, from);
        }
        int finalSp = spNew - (level > 0 ? (level - 1) * size + size : 0) - frame;
        int last = stack32 ? finalSp : finalSp & 0xFFFF;
        probeWrite(SS, stack32 ? spNew : spNew & 0xFFFF, size);
        if (level > 0 || frame > 0) probeWrite(SS, last, 1);
        push(bp, size);
        framePtr = fp;
        for (int k = 1; k < level; k++) push(copies[k - 1], size);
        if (level > 0) push(framePtr, size);
        setReg(EBP, size, framePtr);
        adjustSp(-frame);
    }
}
