package io.mucheckpoint.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A debugger's data watch in the slow path: every access to a watched linear page is reported, in
 * program order, however often the page is touched (it never enters the TLB); pages not watched
 * report nothing; with paging the watch is on the linear address, whatever physical page backs
 * it; and a run with a watch ends in exactly the state of a run without.
 */
class DataWatchTest {
    /** 100 times: store ECX at [0x20000], load [0x20004], store EAX at [0x30000]. */
    private static final int[] LOOP = {
        0xB9, 0x64, 0x00, 0x00, 0x00,             // mov ecx, 100
        0x89, 0x0D, 0x00, 0x00, 0x02, 0x00,       // mov [0x20000], ecx
        0xA1, 0x04, 0x00, 0x02, 0x00,             // mov eax, [0x20004]
        0xA3, 0x00, 0x00, 0x03, 0x00,             // mov [0x30000], eax
        0x49,                                     // dec ecx
        0x75, 0xED,                               // jnz 5
    };

    private record Access(int lin, int size, boolean write) {}

    private static List<Access> watch(Cpu cpu, int page) {
        List<Access> seen = new ArrayList<>();
        cpu.setDataWatch(new DataWatch() {
            @Override
            public boolean watches(int linearPage) {
                return linearPage == page;
            }

            @Override
            public void accessed(int lin, int size, boolean write) {
                seen.add(new Access(lin, size, write));
            }
        });
        return seen;
    }

    @Test
    void everyAccessToAWatchedPageIsReportedInOrder() {
        TestMachine m = new TestMachine();
        List<Access> seen = watch(m.cpu, 0x20);
        m.runCode(LOOP);
        List<Access> expected = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            expected.add(new Access(0x20000, 4, true));
            expected.add(new Access(0x20004, 4, false));
        }
        assertEquals(expected, seen);
    }

    @Test
    void aRunWithAWatchEndsAsOneWithout() {
        TestMachine plain = new TestMachine();
        plain.runCode(LOOP);
        TestMachine watched = new TestMachine();
        watch(watched.cpu, 0x30);
        watched.runCode(LOOP);
        assertEquals(plain.cpu.save().icount(), watched.cpu.save().icount());
        assertEquals(plain.read32(0x20000), watched.read32(0x20000));
        assertEquals(plain.read32(0x30000), watched.read32(0x30000));
        assertEquals(plain.cpu.reg(Cpu.EAX), watched.cpu.reg(Cpu.EAX));
    }

    @Test
    void withPagingTheWatchIsOnTheLinearAddress() {
        TestMachine m = new TestMachine();
        m.identityMap(4 << 20, TestMachine.PG_P | TestMachine.PG_W | TestMachine.PG_U);
        // Linear page 0x20 is backed by physical page 0x70; physical 0x20 is reached through nothing.
        m.mapPage(0x20000, 0x70000, TestMachine.PG_P | TestMachine.PG_W | TestMachine.PG_U);
        m.enablePaging(false, false);
        List<Access> onLinear = watch(m.cpu, 0x20);
        m.runCode(LOOP);
        assertEquals(200, onLinear.size());
        assertEquals(1, m.read32(0x70000), "the stores landed in the physical page behind it");

        TestMachine n = new TestMachine();
        n.identityMap(4 << 20, TestMachine.PG_P | TestMachine.PG_W | TestMachine.PG_U);
        n.mapPage(0x20000, 0x70000, TestMachine.PG_P | TestMachine.PG_W | TestMachine.PG_U);
        n.enablePaging(false, false);
        List<Access> onPhysical = watch(n.cpu, 0x70);
        n.runCode(LOOP);
        assertEquals(List.of(), onPhysical, "linear page 0x70 is never touched");
    }
}
