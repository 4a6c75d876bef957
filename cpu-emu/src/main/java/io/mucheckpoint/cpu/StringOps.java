package io.mucheckpoint.cpu;

import static io.mucheckpoint.cpu.AddressSpace.ES;
import static io.mucheckpoint.cpu.AddressSpace.I16;
import static io.mucheckpoint.cpu.AddressSpace.I32;
import static io.mucheckpoint.cpu.AddressSpace.TLB_MASK;
import static io.mucheckpoint.cpu.Cpu.ECX;
import static io.mucheckpoint.cpu.Cpu.EDI;
import static io.mucheckpoint.cpu.Cpu.EDX;
import static io.mucheckpoint.cpu.Cpu.ESI;
import static io.mucheckpoint.cpu.Registers.DF;

/**
 * MOVS, CMPS, STOS, LODS, SCAS, INS and OUTS, with and without REP. Each REP iteration is one
 * retired instruction; a REP instruction stops between iterations when the run's budget ends and
 * resumes from its registers, exactly as an interrupt would find it.
 *
 * <p>REP MOVS and REP STOS move whole runs within a page straight through the TLB's host offsets
 * when both pages are already mapped for the access (which means any copy-on-write capture has
 * already happened): the common memcpy/memset case costs one array copy, not one dispatch per
 * element.
 */
final class StringOps {
    private StringOps() {}

    /** One iteration, no REP prefix. */
    static void once(Cpu c, Insn in) {
        step(c, in);
    }

    /**
     * A REP-prefixed instruction (or INS/OUTS). Returns true when it finished, false when it stopped
     * for the budget with iterations left. Leaves {@link Cpu#repExtra} at iterations - 1.
     */
    static boolean execute(Cpu c, Insn in, long budget) {
        if (in.rep == 0) {
            step(c, in);
            return true;
        }
        int am = in.eaMask;
        long done = 0;
        long start = c.icount;
        try {
            while ((c.r[ECX] & am) != 0) {
                if (done >= budget || ((c.stopRequested || c.currentBlockVoided) && done > 0)) {
                    // Out of budget, someone needs the machine between iterations (a forced
                    // checkpoint), or the instruction's own code was overwritten: stop here,
                    // restartable, as an interrupt would (the run loop fetches it again).
                    c.repExtra = done - 1;
                    return false;
                }
                if (in.op == Op.MOVS || in.op == Op.STOS) {
                    int n = bulk(c, in, budget - done);
                    if (n > 0) {
                        done += n;
                        continue;
                    }
                } else if (in.op == Op.SCAS || in.op == Op.CMPS) {
                    int n = scan(c, in, budget - done);
                    if (n > 0) {
                        done += n;
                        boolean zf = c.zf();
                        if (in.rep == Insn.REP_E ? !zf : zf) break;
                        continue;
                    }
                }
                c.icount = start + done;
                step(c, in);
                c.r[ECX] = (c.r[ECX] & ~am) | ((c.r[ECX] - 1) & am);
                done++;
                if (in.op == Op.CMPS || in.op == Op.SCAS) {
                    boolean zf = c.zf();
                    if (in.rep == Insn.REP_E ? !zf : zf) break;
                }
            }
        } catch (CpuFault f) {
            c.repExtra = done; // completed iterations retired; the faulting one did not
            throw f;
        }
        c.repExtra = Math.max(done, 1) - 1;
        return true;
    }

    private static void advance(Cpu c, int reg, int am, int delta) {
        c.r[reg] = (c.r[reg] & ~am) | ((c.r[reg] + delta) & am);
    }

    private static void step(Cpu c, Insn in) {
        int am = in.eaMask;
        int size = in.size;
        int delta = (c.eflags & DF) != 0 ? -size : size;
        switch (in.op) {
            case Op.MOVS: {
                int v = c.rd(in.seg, c.r[ESI] & am, size);
                c.wr(ES, c.r[EDI] & am, size, v);
                advance(c, ESI, am, delta);
                advance(c, EDI, am, delta);
                return;
            }
            case Op.CMPS: {
                int a = c.rd(in.seg, c.r[ESI] & am, size);
                int b = c.rd(ES, c.r[EDI] & am, size);
                c.alu(7, a, b, size);
                advance(c, ESI, am, delta);
                advance(c, EDI, am, delta);
                return;
            }
            case Op.STOS:
                c.wr(ES, c.r[EDI] & am, size, c.getReg(0, size));
                advance(c, EDI, am, delta);
                return;
            case Op.LODS:
                c.setReg(0, size, c.rd(in.seg, c.r[ESI] & am, size));
                advance(c, ESI, am, delta);
                return;
            case Op.SCAS: {
                int b = c.rd(ES, c.r[EDI] & am, size);
                c.alu(7, c.getReg(0, size), b, size);
                advance(c, EDI, am, delta);
                return;
            }
            case Op.INS: {
                int port = c.r[EDX] & 0xFFFF;
                ControlTransfer.checkIo(c, port, size);
                c.probeWrite(ES, c.r[EDI] & am, size);
                int v = c.io.in(port, size);
                c.wr(ES, c.r[EDI] & am, size, v);
                advance(c, EDI, am, delta);
                return;
            }
            case Op.OUTS: {
                int port = c.r[EDX] & 0xFFFF;
                ControlTransfer.checkIo(c, port, size);
                int v = c.rd(in.seg, c.r[ESI] & am, size);
                c.io.out(port, size, v);
                advance(c, ESI, am, delta);
                return;
            }
            default:
                throw new IllegalStateException("not a string op: " + in.op);
        }
    }

    /**
     * Moves as many elements as fit in the current source and destination pages in one go, or
     * returns 0 if this iteration must take the element-by-element path (a TLB miss, a limit, an
     * overlap that a block copy would get wrong, a watched code page).
     */
    private static int bulk(Cpu c, Insn in, long budget) {
        int am = in.eaMask;
        int size = in.size;
        boolean down = (c.eflags & DF) != 0;
        boolean movs = in.op == Op.MOVS;
        int n = pageRun(c, in, budget, movs);
        int di = c.r[EDI] & am, dLin = c.segBase[ES] + di;
        int si = c.r[ESI] & am, sLin = c.segBase[in.seg] + si;
        if (n < 2) return 0;
        int bytes = n * size;
        long dLow = (down ? di - (long) (n - 1) * size : di) & 0xFFFFFFFFL;
        if (dLow + bytes > c.segWrEnd[ES]) return 0;
        int dIdx = (dLin >>> 12) & TLB_MASK;
        if (c.tlbWTag[dIdx] != ((dLin >>> 12) | c.wKey)) return 0;
        int dHost = c.tlbWOfs[dIdx] + dLin;
        byte[] mem = c.mem;
        if (movs) {
            long sLow = (down ? si - (long) (n - 1) * size : si) & 0xFFFFFFFFL;
            if (sLow + bytes > c.segRdEnd[in.seg]) return 0;
            int sIdx = (sLin >>> 12) & TLB_MASK;
            if (c.tlbRTag[sIdx] != ((sLin >>> 12) | c.rKey)) return 0;
            int sHost = c.tlbROfs[sIdx] + sLin;
            int dStart = down ? dHost - (n - 1) * size : dHost;
            int sStart = down ? sHost - (n - 1) * size : sHost;
            boolean overlap = dStart < sStart + bytes && sStart < dStart + bytes;
            // Element order matters only when the destination runs into source not yet read.
            if (overlap && (down ? dStart < sStart : dStart > sStart)) return 0;
            System.arraycopy(mem, sStart, mem, dStart, bytes);
            advance(c, ESI, am, down ? -bytes : bytes);
        } else {
            int dStart = down ? dHost - (n - 1) * size : dHost;
            int v = c.r[0];
            if (size == 1) {
                java.util.Arrays.fill(mem, dStart, dStart + bytes, (byte) v);
            } else if (size == 2) {
                for (int k = 0; k < bytes; k += 2) I16.set(mem, dStart + k, (short) v);
            } else {
                for (int k = 0; k < bytes; k += 4) I32.set(mem, dStart + k, v);
            }
        }
        advance(c, EDI, am, down ? -bytes : bytes);
        c.r[ECX] = (c.r[ECX] & ~am) | ((c.r[ECX] - n) & am);
        return n;
    }

    /**
     * REPE/REPNE SCAS and CMPS over the elements that lie in the current page(s): compares them
     * straight from the TLB's host offsets up to the first element that ends the repetition, sets
     * the flags from that last comparison, and returns how many iterations it retired; or returns 0
     * when this iteration must take the element-by-element path (as {@link #bulk}). Only reads, so
     * no write trap is involved. churn's verify loops (repe scasl) spent most of their time
     * dispatching one element at a time.
     */
    private static int scan(Cpu c, Insn in, long budget) {
        int am = in.eaMask;
        int size = in.size;
        boolean down = (c.eflags & DF) != 0;
        boolean cmps = in.op == Op.CMPS;
        int n = pageRun(c, in, budget, cmps);
        int di = c.r[EDI] & am, dLin = c.segBase[ES] + di;
        int si = c.r[ESI] & am, sLin = c.segBase[in.seg] + si;
        if (n < 2) return 0;
        int bytes = n * size;
        long dLow = (down ? di - (long) (n - 1) * size : di) & 0xFFFFFFFFL;
        if (dLow + bytes > c.segRdEnd[ES]) return 0;
        int dIdx = (dLin >>> 12) & TLB_MASK;
        if (c.tlbRTag[dIdx] != ((dLin >>> 12) | c.rKey)) return 0;
        int dHost = c.tlbROfs[dIdx] + dLin;
        int sHost = 0;
        if (cmps) {
            long sLow = (down ? si - (long) (n - 1) * size : si) & 0xFFFFFFFFL;
            if (sLow + bytes > c.segRdEnd[in.seg]) return 0;
            int sIdx = (sLin >>> 12) & TLB_MASK;
            if (c.tlbRTag[sIdx] != ((sLin >>> 12) | c.rKey)) return 0;
            sHost = c.tlbROfs[sIdx] + sLin;
        }
        byte[] mem = c.mem;
        int step = down ? -size : size;
        boolean whileEqual = in.rep == Insn.REP_E;
        int acc = cmps ? 0 : c.getReg(0, size);
        int a = acc, b = 0, k = 0;
        while (k < n) {
            b = element(mem, dHost + k * step, size);
            if (cmps) a = element(mem, sHost + k * step, size);
            k++;
            if ((a == b) != whileEqual) break;
        }
        c.alu(7, a, b, size);
        int moved = k * step;
        advance(c, EDI, am, moved);
        if (cmps) advance(c, ESI, am, moved);
        c.r[ECX] = (c.r[ECX] & ~am) | ((c.r[ECX] - k) & am);
        return k;
    }

    /**
     * How many of the repetition's next iterations stay within the current page of ES:EDI (and of
     * the source's ESI when {@code withSource}), within ECX, the budget and a 16-bit offset's wrap:
     * the elements {@link #bulk} and {@link #scan} may take at once.
     */
    private static int pageRun(Cpu c, Insn in, long budget, boolean withSource) {
        int am = in.eaMask;
        int size = in.size;
        boolean down = (c.eflags & DF) != 0;
        long count = Math.min(c.r[ECX] & (am & 0xFFFFFFFFL), budget);
        int di = c.r[EDI] & am;
        int n = (int) Math.min(count, elementsInPage(c.segBase[ES] + di, size, down));
        if (am == 0xFFFF) n = Math.min(n, elementsBeforeWrap(di, size, down));
        if (withSource) {
            int si = c.r[ESI] & am;
            n = Math.min(n, elementsInPage(c.segBase[in.seg] + si, size, down));
            if (am == 0xFFFF) n = Math.min(n, elementsBeforeWrap(si, size, down));
        }
        return n;
    }

    private static int element(byte[] mem, int at, int size) {
        return size == 4 ? (int) I32.get(mem, at) : size == 2 ? (short) I16.get(mem, at) & 0xFFFF : mem[at] & 0xFF;
    }

    private static int elementsInPage(int lin, int size, boolean down) {
        int off = lin & 0xFFF;
        if (down) return off + size > 0x1000 ? 0 : off / size + 1;
        return (0x1000 - off) / size;
    }

    private static int elementsBeforeWrap(int off16, int size, boolean down) {
        return down ? off16 / size + 1 : (0x10000 - off16) / size;
    }
}
