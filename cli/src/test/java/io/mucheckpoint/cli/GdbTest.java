package io.mucheckpoint.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mucheckpoint.vmm.Workloads;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The gdb stub with the real gdb, in batch mode, against the bundled timer workload's ELF (symbols
 * and DWARF). Every expected value comes from the program's source (ticks is incremented once at
 * the top of on_tick; a job's run increments q_head and one done_by_kind) or from what the same
 * gdb session showed in the forward run, never from our own output.
 */
class GdbTest {
    private static final Path TIMER_ELF = Workloads.guests().resolve("build/timer.elf");
    private static final Path TIMER_C = Workloads.guests().resolve("workloads/timer.c");
    private static final String TIMER = Workloads.expected("timer", "test");
    private static final String REGS = "printf \"TAG %x %x %x %x %x %x %x %x %x %x %x %x %x %x %x %x %lu\\n\", $eax, $ecx, $edx, $ebx, $esp, $ebp,"
            + " $esi, $edi, $eip, $eflags, $cs, $ss, $ds, $es, $fs, $gs, $icount\n";

    @TempDir
    Path tmp;

    @BeforeAll
    static void needsGdb() {
        GdbRig.gdb();
    }

    private static String regs(String tag) {
        return REGS.replace("TAG", tag);
    }

    /** The values printed on the line starting with {@code tag} (the n-th such line). */
    private static List<String> line(String out, String tag, int nth) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(tag) + " (.*)$").matcher(out);
        int i = 0;
        while (m.find()) {
            if (i++ == nth) return List.of(m.group(1).trim().split("\\s+"));
        }
        throw new AssertionError("no line " + nth + " starting with '" + tag + "' in gdb's output:\n" + out);
    }

    private static List<String> line(String out, String tag) {
        return line(out, tag, 0);
    }

    private static int sourceLine(String text) throws Exception {
        List<String> lines = Files.readAllLines(TIMER_C);
        for (int i = 0; i < lines.size(); i++) if (lines.get(i).contains(text)) return i + 1;
        throw new AssertionError(text + " is not in " + TIMER_C);
    }

    @Test
    void breakContinueStepAndReadGlobals() throws Exception {
        try (GdbRig vmm = new GdbRig("timer", "--append", "size=test", "--gdb-wait")) {
            String out = vmm.gdb(TIMER_ELF, """
                    break on_tick
                    continue
                    continue
                    continue
                    printf "TICKS %u\\n", ticks
                    info line *$pc
                    next
                    printf "TICKS %u\\n", ticks
                    info line *$pc
                    printf "JOBS %u %u\\n", done_by_kind[0] + done_by_kind[1] + done_by_kind[2] + done_by_kind[3], q_head
                    detach
                    """, tmp);
            assertTrue(out.contains("Breakpoint 1 at 0x" + Integer.toHexString(ElfSymbols.address(TIMER_ELF, "on_tick"))), out);
            assertTrue(out.contains("Breakpoint 1, on_tick ("), out);
            // ticks++ is the first statement of on_tick: at its third entry two ticks were counted.
            assertEquals("2", line(out, "TICKS", 0).get(0), out);
            int ticksLine = sourceLine("ticks++;");
            assertTrue(out.contains("Line " + ticksLine + " of \"workloads/timer.c\""), out);
            // next executes it and stops at the next line, the loop over the queued jobs.
            assertEquals("3", line(out, "TICKS", 1).get(0), out);
            assertEquals(sourceLine("for (int k = 0; k < JOBS_PER_TICK"), ticksLine + 1);
            assertTrue(out.contains("Line " + (ticksLine + 1) + " of \"workloads/timer.c\""), out);
            // Every job that ran counted itself once in done_by_kind and once in q_head.
            List<String> jobs = line(out, "JOBS");
            assertEquals(jobs.get(1), jobs.get(0), out);
            // Detached, the guest runs on to its end: the same output as a run without gdb.
            assertEquals(0, vmm.status(60), vmm.toString());
            assertEquals(TIMER, vmm.out());
        }
    }

    @Test
    void reverseContinueLandsOnThePreviousHitWithTheStateAForwardRunShowedThere() throws Exception {
        try (GdbRig vmm = new GdbRig("timer", "--append", "size=test", "--gdb-wait")) {
            String out = vmm.gdb(TIMER_ELF, "break on_tick\ncontinue\n" + regs("FWD1") + "x/16xw $esp\nprintf \"TICKS %u\\n\", ticks\n"
                    + "continue\n" + regs("FWD2") + "x/16xw $esp\nprintf \"TICKS %u\\n\", ticks\n"
                    + "continue\n" + regs("FWD3")
                    + "reverse-continue\n" + regs("BACK2") + "x/16xw $esp\nprintf \"TICKS %u\\n\", ticks\n"
                    + "reverse-continue\n" + regs("BACK1") + "x/16xw $esp\nprintf \"TICKS %u\\n\", ticks\n"
                    + "detach\n", tmp);
            assertNotEquals(line(out, "FWD2"), line(out, "FWD3"), out);
            assertEquals(line(out, "FWD2"), line(out, "BACK2"), "registers and instruction count at the previous hit\n" + out);
            assertEquals(line(out, "FWD1"), line(out, "BACK1"), out);
            List<String> stacks = stackDumps(out);
            assertEquals(4, stacks.size(), out);
            assertEquals(stacks.get(1), stacks.get(2), "the stack at hit 2, forward and back\n" + out);
            assertEquals(stacks.get(0), stacks.get(3), "the stack at hit 1, forward and back\n" + out);
            assertEquals(line(out, "TICKS", 1), line(out, "TICKS", 2), out);
            assertEquals(line(out, "TICKS", 0), line(out, "TICKS", 3), out);
            assertEquals(0, vmm.status(60), vmm.toString());
            assertEquals(TIMER, vmm.out(), "going back re-executes without printing again");
        }
    }

    private static List<String> stackDumps(String out) {
        List<String> dumps = new ArrayList<>();
        StringBuilder cur = null;
        for (String l : out.split("\n")) {
            if (l.matches("^0x[0-9a-f]+:\\s+0x.*")) {
                if (cur == null) cur = new StringBuilder();
                cur.append(l).append('\n');
            } else if (cur != null) {
                dumps.add(cur.toString());
                cur = null;
            }
        }
        if (cur != null) dumps.add(cur.toString());
        return dumps;
    }

    @Test
    void reverseStepiUndoesAStoreAndStepiRedoesIt() throws Exception {
        try (GdbRig vmm = new GdbRig("timer", "--append", "size=test", "--gdb-wait")) {
            String out = vmm.gdb(TIMER_ELF, """
                    break on_tick
                    continue
                    continue
                    delete
                    printf "BEFORE %u %lu\\n", ticks, $icount
                    while ticks == 1
                      stepi
                    end
                    printf "AFTER %u %lu %x\\n", ticks, $icount, $pc
                    reverse-stepi
                    printf "UNDONE %u %lu %x\\n", ticks, $icount, $pc
                    x/i $pc
                    printf "ADDR %x\\n", &ticks
                    stepi
                    printf "AGAIN %u %lu %x\\n", ticks, $icount, $pc
                    detach
                    """, tmp);
            // At on_tick's second entry one tick was counted; stepping on, the store makes it two.
            assertEquals("1", line(out, "BEFORE").get(0), out);
            List<String> after = line(out, "AFTER"), undone = line(out, "UNDONE"), again = line(out, "AGAIN");
            assertEquals("2", after.get(0), out);
            assertEquals("1", undone.get(0), "reverse-stepi undid the store: memory holds the old value\n" + out);
            assertEquals(Long.parseLong(after.get(1)) - 1, Long.parseLong(undone.get(1)), out);
            String addr = line(out, "ADDR").get(0);
            Matcher insn = Pattern.compile("=> 0x" + undone.get(2) + " <on_tick\\+\\d+>:\\s+mov\\s+%\\w+,0x" + addr).matcher(out);
            assertTrue(insn.find(), "the instruction gone back over is the store to ticks\n" + out);
            assertEquals(after, again, "stepi redoes it\n" + out);
            assertEquals(0, vmm.status(60), vmm.toString());
            assertEquals(TIMER, vmm.out());
        }
    }

    @Test
    void aWatchpointAndReverseContinueFindTheInstructionThatLastWroteAVariable() throws Exception {
        try (GdbRig vmm = new GdbRig("timer", "--append", "size=test", "--gdb-wait")) {
            String out = vmm.gdb(TIMER_ELF, """
                    break on_tick
                    continue
                    continue
                    delete
                    watch result_hash
                    continue
                    printf "W1 %u %lu %x\\n", result_hash, $icount, $pc
                    continue
                    printf "W2 %u %lu %x\\n", result_hash, $icount, $pc
                    continue
                    printf "W3 %u %lu %x\\n", result_hash, $icount, $pc
                    reverse-continue
                    printf "R %u %lu %x\\n", result_hash, $icount, $pc
                    x/i $pc
                    printf "ADDR %x\\n", &result_hash
                    info line *$pc
                    delete
                    detach
                    """, tmp);
            List<String> w2 = line(out, "W2"), w3 = line(out, "W3"), r = line(out, "R");
            assertNotEquals(w2.get(0), w3.get(0), out);
            // Back before the last write: the value the forward run showed before it, one instruction
            // before the forward stop that followed the write.
            assertEquals(w2.get(0), r.get(0), out);
            assertEquals(Long.parseLong(w3.get(1)) - 1, Long.parseLong(r.get(1)), out);
            assertTrue(out.contains("Old value = " + w3.get(0) + "\nNew value = " + w2.get(0)), "gdb saw the change going backwards\n" + out);
            // The instruction found is a store to result_hash, in run_job (inlined into on_tick).
            String addr = line(out, "ADDR").get(0);
            assertTrue(Pattern.compile("=> 0x" + r.get(2) + " <on_tick\\+\\d+>:\\s+mov\\s+%\\w+,0x" + addr).matcher(out).find(), out);
            assertEquals(0, vmm.status(60), vmm.toString());
            assertEquals(TIMER, vmm.out());
        }
    }

    @Test
    void goingBackPastTheOldestCheckpointStopsThereAndSaysSo() throws Exception {
        try (GdbRig vmm = new GdbRig("timer", "--append", "size=test", "--gdb-wait")) {
            String out = vmm.gdb(TIMER_ELF, """
                    break on_tick
                    continue
                    printf "HIT %lu\\n", $icount
                    delete
                    reverse-continue
                    printf "BEGIN %lu %x\\n", $icount, $pc
                    reverse-stepi
                    printf "STILL %lu %x\\n", $icount, $pc
                    break on_tick
                    continue
                    printf "HIT %lu\\n", $icount
                    detach
                    """, tmp);
            assertTrue(out.contains("No more reverse-execution history."), out);
            // The run is younger than the retained window, so history begins at the guest's entry point.
            String entry = Integer.toHexString(elfEntry(TIMER_ELF));
            assertEquals(List.of("0", entry), line(out, "BEGIN"), out);
            assertEquals(List.of("0", entry), line(out, "STILL"), out);
            assertEquals(line(out, "HIT", 0), line(out, "HIT", 1), "forward again, the same first hit\n" + out);
            assertEquals(0, vmm.status(60), vmm.toString());
            assertEquals(TIMER, vmm.out(), "the first line, printed before the first hit, is not printed twice");
        }
    }

    @Test
    void aWriteInThePastForksTheTimelineAndGoingBackPastItUndoesIt() throws Exception {
        try (GdbRig vmm = new GdbRig("timer", "--append", "size=test", "--gdb-wait")) {
            String out = vmm.gdb(TIMER_ELF, """
                    break on_tick
                    continue
                    printf "H1 %u %u\\n", result_hash, ticks
                    continue
                    printf "H2 %u %u\\n", result_hash, ticks
                    continue
                    printf "H3 %u %u\\n", result_hash, ticks
                    reverse-continue
                    set var ticks = 1000
                    continue
                    printf "F3 %u %u\\n", result_hash, ticks
                    reverse-continue
                    printf "F2 %u %u\\n", result_hash, ticks
                    reverse-continue
                    printf "B1 %u %u\\n", result_hash, ticks
                    continue
                    printf "B2 %u %u\\n", result_hash, ticks
                    delete
                    detach
                    """, tmp);
            // After the write, the next entry counts on from the written value...
            assertEquals("1001", line(out, "F3").get(1), out);
            // ...and going back lands on the written state: the write is part of this timeline's past.
            assertEquals("1000", line(out, "F2").get(1), out);
            // Going back past it undoes it: the original history again.
            assertEquals(line(out, "H1"), line(out, "B1"), out);
            assertEquals(line(out, "H2"), line(out, "B2"), out);
            assertEquals(0, vmm.status(60), vmm.toString());
            assertEquals(TIMER, vmm.out(), "the guest's output (which ticks never reaches) is the uninterrupted run's");
        }
    }

    @Test
    void anInferiorCallRunsInTheGuestAndTheGuestGoesOnAsBefore() throws Exception {
        try (GdbRig vmm = new GdbRig("timer", "--append", "size=test", "--gdb-wait")) {
            String out = vmm.gdb(TIMER_ELF, """
                    break on_tick
                    continue
                    continue
                    printf "TICKS %u\\n", ticks
                    printf "CRC %u\\n", crc32_update(0, &ticks, 4)
                    continue
                    printf "TICKS %u\\n", ticks
                    delete
                    detach
                    """, tmp);
            // The SDK's crc32_update is the usual CRC-32: the host computes it for the four bytes of ticks.
            java.util.zip.CRC32 crc = new java.util.zip.CRC32();
            crc.update(new byte[] {1, 0, 0, 0});
            assertEquals("1", line(out, "TICKS", 0).get(0), out);
            assertEquals(Long.toString(crc.getValue()), line(out, "CRC").get(0), out);
            assertEquals("2", line(out, "TICKS", 1).get(0), "the guest goes on as before the call\n" + out);
            assertEquals(0, vmm.status(60), vmm.toString());
            assertEquals(TIMER, vmm.out());
        }
    }

    @Test
    void monitorCommandsWorkFromGdb() throws Exception {
        try (GdbRig vmm = new GdbRig("timer", "--append", "size=test", "--gdb-wait")) {
            String out = vmm.gdb(TIMER_ELF, """
                    break on_tick
                    continue
                    delete
                    monitor checkpoints
                    monitor stats
                    monitor continue
                    printf "EAX %x\\n", $eax
                    monitor inject eax 3
                    maint flush register-cache
                    printf "EAX %x\\n", $eax
                    monitor rollback 0
                    maint flush register-cache
                    printf "AT %lu %x\\n", $icount, $pc
                    detach
                    """, tmp);
            assertTrue(out.contains("id  guest time  instructions"), out);
            assertTrue(out.contains("checkpointing: mode cow"), out);
            assertTrue(out.contains("time travel:"), out);
            assertTrue(out.contains("error: 'continue' is not a monitor command here"), out);
            long before = Long.parseLong(line(out, "EAX", 0).get(0), 16), after = Long.parseLong(line(out, "EAX", 1).get(0), 16);
            assertEquals(before ^ 8, after, "inject eax 3 flipped bit 3 of EAX\n" + out);
            assertTrue(out.contains("rolled back to checkpoint 0"), out);
            assertEquals(List.of("0", Integer.toHexString(elfEntry(TIMER_ELF))), line(out, "AT"), out);
            assertEquals(0, vmm.status(60), vmm.toString());
        }
    }

    @Test
    void breakpointsAndWatchpointsFollowTheGuestsPaging() throws Exception {
        Path elf = Workloads.guests().resolve("build/pmkernel.elf");
        try (GdbRig vmm = new GdbRig("--kernel", elf.toString(), "--gdb-wait")) {
            // UBUF (0x900800) is a ring-3 buffer in pages that are not present until the guest
            // touches them; the kernel then maps them to frames of its pool at 4 MiB: the linear
            // address gdb watches is not the physical address the bytes land at.
            String out = vmm.gdb(elf, """
                    break user_main
                    continue
                    printf "CS %x\\n", $cs
                    delete
                    watch *(unsigned int *)0x900800
                    continue
                    printf "FILL %x\\n", *(unsigned int *)0x900800
                    reverse-stepi
                    printf "ZERO %x\\n", *(unsigned int *)0x900800
                    delete
                    detach
                    """, tmp);
            assertTrue(out.contains("Breakpoint 1, user_main ()"), out);
            assertEquals("1b", line(out, "CS").get(0), "ring 3, as the program prints (cs=1b)\n" + out);
            assertEquals("a5a5a5a5", line(out, "FILL").get(0), "rep stosl stores 0xA5A5A5A5 (user.c)\n" + out);
            assertEquals("0", line(out, "ZERO").get(0), "before the store the page was demand-zero\n" + out);
            assertEquals(0, vmm.status(60), vmm.toString());
            assertEquals(Files.readString(Workloads.guests().resolve("expected/pmkernel.txt")), vmm.out());
        }
    }

    private static int elfEntry(Path elf) throws Exception {
        return ByteBuffer.wrap(Files.readAllBytes(elf)).order(ByteOrder.LITTLE_ENDIAN).getInt(0x18);
    }
}
