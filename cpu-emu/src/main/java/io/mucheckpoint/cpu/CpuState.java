package io.mucheckpoint.cpu;

import java.util.List;

/**
 * Everything about the processor a checkpoint must hold, as a plain value. Lazily computed flags are
 * folded into {@code eflags} and caches (TLB, decoded code) are left out, so two processors that
 * behave the same have equal states.
 */
public record CpuState(
        int[] regs, int eip, int eflags,
        List<SegmentCache> segments, SegmentCache ldtr, SegmentCache tr,
        int gdtBase, int gdtLimit, int idtBase, int idtLimit,
        int cr0, int cr2, int cr3, int cr4, int[] dr, int cpl,
        boolean halted, boolean interruptShadow, boolean nmiPending, boolean nmiBlocked, boolean shutdown,
        long icount, long tscOffset, int sysenterCs, int sysenterEsp, int sysenterEip,
        long apicBase, long miscEnable, long[] mtrr, FpuState fpu) {

    /** A segment register with its hidden descriptor cache. */
    public record SegmentCache(int selector, int base, int limit, int attr) {}

    /** The x87 state, registers kept as raw 80-bit values so saves round-trip exactly. */
    public record FpuState(int control, int status, int tag, byte[] registers, int fip, int fcs, int fdp, int fds,
                           int fop) {}
}
