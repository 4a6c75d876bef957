package io.mucheckpoint.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mucheckpoint.vmm.Workloads;
import org.junit.jupiter.api.Test;

/** --output-commit latency on vmm run: the output is the guest's, held a while, and the delay is told with --stats. */
class OutputCommitTest {
    @Test
    void heldOutputFromAPipeIsAllThereAndItsDelayIsTold() {
        CliRun r = CliRun.of("run", "mcf", "--append", "size=test", "--recover", "--interval", "10ms", "--latency", "10ms",
                "--output-commit", "latency", "--stats");
        assertEquals(0, r.status, r.toString());
        assertEquals(Workloads.expected("mcf", "test"), r.out);
        // Each byte waits for the checkpoint after it (at most one 10 ms interval) and then for L = 10 ms.
        java.util.regex.Matcher m = java.util.regex.Pattern.compile(
                "vmm: output commit: ([0-9,]+) bytes held, for ([0-9.]+) ms of guest time on average, ([0-9.]+) ms at most\n")
                .matcher(r.err);
        assertTrue(m.find(), r.err);
        assertEquals(Workloads.expected("mcf", "test").length(), Integer.parseInt(m.group(1).replace(",", "")));
        double max = Double.parseDouble(m.group(3));
        assertTrue(max >= 10 && max <= 20, r.err);
    }

    @Test
    void heldOutputOnATerminalIsAllThere() throws Exception {
        try (ScriptedTerminal t = new ScriptedTerminal("dumb").start("run", "mcf", "--append", "size=test", "--recover",
                "--output-commit", "latency", "--latency", "10ms")) {
            assertEquals(0, t.status(), t.toString());
            assertEquals(Workloads.expected("mcf", "test"), t.screen(), t.toString());
        }
    }

    @Test
    void badValuesAreUsageErrors() {
        CliRun noRecover = CliRun.of("run", "mcf", "--output-commit", "latency");
        assertEquals(ExitStatus.USAGE, noRecover.status, noRecover.toString());
        assertEquals("vmm: --output-commit latency goes with --recover\n", noRecover.err);
        CliRun word = CliRun.of("inject", "mcf", "--faults", "1", "--output-commit", "later");
        assertEquals(ExitStatus.USAGE, word.status, word.toString());
        assertEquals("vmm: --output-commit takes immediate or latency, not 'later'\n", word.err);
    }
}
