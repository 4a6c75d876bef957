package io.mucheckpoint.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code vmm run --trace FILE --trace-disasm}: the qemu-trace line, then the instruction's bytes and text. */
class TraceDisasmTest {
    @TempDir
    Path tmp;

    @Test
    void appendsTheInstructionAndKeepsTheLinePrefix() throws Exception {
        Path plain = tmp.resolve("plain.txt");
        Path dis = tmp.resolve("dis.txt");
        CliRun a = CliRun.of("run", "mcf", "--append", "size=test", "--no-checkpoint", "--trace", plain.toString(), "--trace-limit", "300");
        assertEquals(0, a.status, a.toString());
        CliRun b = CliRun.of("run", "mcf", "--append", "size=test", "--no-checkpoint", "--trace", dis.toString(), "--trace-limit", "300",
                "--trace-disasm");
        assertEquals(0, b.status, b.toString());
        List<String> p = Files.readAllLines(plain);
        List<String> d = Files.readAllLines(dis);
        assertEquals(300, d.size());
        for (int i = 0; i < d.size(); i++) {
            assertEquals(p.get(i), d.get(i).substring(0, d.get(i).indexOf(" | ")), "line " + i);
        }
        // _start begins: cli; cld; mov esi,eax
        assertTrue(d.get(0).endsWith(" | fa                   cli"), d.get(0));
        assertTrue(d.get(2).endsWith(" | 89 c6                mov    esi,eax"), d.get(2));
    }

    @Test
    void needsTrace() {
        CliRun r = CliRun.of("run", "mcf", "--trace-disasm");
        assertEquals(ExitStatus.USAGE, r.status);
        assertEquals("vmm: --trace-disasm goes with --trace FILE\n", r.err);
    }
}
