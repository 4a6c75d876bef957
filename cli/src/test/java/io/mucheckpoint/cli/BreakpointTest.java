package io.mucheckpoint.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mucheckpoint.cpu.Disassembler;
import io.mucheckpoint.vmm.ConsoleCapture;
import io.mucheckpoint.vmm.Machine;
import io.mucheckpoint.vmm.MachineConfig;
import io.mucheckpoint.vmm.RunResult;
import io.mucheckpoint.vmm.Workloads;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The processor's breakpoint hook, through the machine: a run stops exactly before the first
 * instruction at the address (even inside a decoded block), resuming passes it, and a run with
 * breakpoints otherwise behaves exactly like one without.
 */
class BreakpointTest {
    private static Machine machine(ConsoleCapture out) throws Exception {
        return new Machine(MachineConfig.defaults(), Workloads.multiboot("mcf", "size=test"), out, b -> {});
    }

    /** The instruction counts at which EIP is at {@code linear}, by single-stepping up to {@code until}. */
    private static List<Long> visits(int linear, long until) throws Exception {
        Machine m = machine(new ConsoleCapture());
        List<Long> at = new ArrayList<>();
        while (m.cpu.icount() < until) {
            if (m.cpu.linearEip() == linear) at.add(m.cpu.icount());
            RunResult r = m.run(Long.MAX_VALUE, m.cpu.icount() + 1);
            if (r.finished()) break;
        }
        return at;
    }

    @Test
    void stopsExactlyBeforeEachVisitAndResumingPassesIt() throws Exception {
        // An address in the middle of a hot stretch of code: where the guest is after 300000 instructions.
        Machine probe = machine(new ConsoleCapture());
        probe.run(Long.MAX_VALUE, 300_000);
        int target = probe.cpu.linearEip();
        List<Long> expected = visits(target, 400_000);
        assertTrue(expected.size() >= 2, "the address is visited more than once: " + expected);

        Machine m = machine(new ConsoleCapture());
        m.cpu.setBreakpoints(new int[] {target});
        List<Long> hits = new ArrayList<>();
        while (hits.size() < expected.size()) {
            RunResult r = m.run(Long.MAX_VALUE, 400_000);
            if (r.kind() == RunResult.Kind.LIMIT) break;
            assertEquals(RunResult.Kind.BREAKPOINT, r.kind(), r.message());
            assertEquals(target, m.cpu.linearEip());
            hits.add(m.cpu.icount());
        }
        assertEquals(expected, hits);
    }

    @Test
    void aBreakpointInsideABlockStopsThere() throws Exception {
        int start = ElfSymbols.address(Workloads.guests().resolve("build/mcf.elf"), "sdk_start");
        // The third instruction of sdk_start: not where a block begins.
        Machine probe = machine(new ConsoleCapture());
        int third = start;
        for (int i = 0; i < 2; i++) third += Disassembler.at(probe.cpu, third).length();
        List<Long> expected = visits(third, 100_000);
        assertTrue(!expected.isEmpty(), "reached within 100000 instructions");

        Machine m = machine(new ConsoleCapture());
        m.cpu.setBreakpoints(new int[] {third});
        RunResult r = m.run(Long.MAX_VALUE, Long.MAX_VALUE);
        assertEquals(RunResult.Kind.BREAKPOINT, r.kind(), r.message());
        assertEquals(expected.get(0), m.cpu.icount());
        assertEquals(third, m.cpu.linearEip());
    }

    @Test
    void aRunWithBreakpointsEndsLikeOneWithout() throws Exception {
        ConsoleCapture plain = new ConsoleCapture();
        Machine a = machine(plain);
        assertEquals(RunResult.Kind.EXIT, a.run(Long.MAX_VALUE, Long.MAX_VALUE).kind());

        int exit = ElfSymbols.address(Workloads.guests().resolve("build/mcf.elf"), "exit");
        ConsoleCapture out = new ConsoleCapture();
        Machine b = machine(out);
        b.cpu.setBreakpoints(new int[] {exit, 0xdeadbeef});
        int hits = 0;
        RunResult r;
        while ((r = b.run(Long.MAX_VALUE, Long.MAX_VALUE)).kind() == RunResult.Kind.BREAKPOINT) hits++;
        assertEquals(RunResult.Kind.EXIT, r.kind());
        assertEquals(1, hits, "exit is called once");
        assertEquals(a.cpu.icount(), b.cpu.icount());
        assertEquals(plain.text(), out.text());
        assertEquals(a.saveState().hash(), b.saveState().hash());
    }
}
