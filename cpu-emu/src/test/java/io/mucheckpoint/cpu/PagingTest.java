package io.mucheckpoint.cpu;

import static io.mucheckpoint.cpu.TestMachine.PG_A;
import static io.mucheckpoint.cpu.TestMachine.PG_D;
import static io.mucheckpoint.cpu.TestMachine.PG_P;
import static io.mucheckpoint.cpu.TestMachine.PG_U;
import static io.mucheckpoint.cpu.TestMachine.PG_W;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Paging: page faults with CR2 and error codes, U/S and R/W with CR0.WP, 4 KiB and 4 MiB pages,
 * accessed and dirty bits, INVLPG and CR3 flushes, and faults that leave no partial state (REP
 * string instructions restarting in the middle). Programs: src/test/asm/paging.S.
 */
class PagingTest {
    static final int RWU = PG_P | PG_W | PG_U;
    static final int DATA = 0x60000;

    final TestMachine m = new TestMachine();

    @BeforeEach
    void identityMapFirst4M() {
        m.identityMap(4 << 20, RWU);
        m.putGate(0x80, TestMachine.HANDLERS + 0x80, 0xEE); // INT 0x80 from ring 3
    }

    private void assertPageFault(int cr2, int err, int eip) {
        assertEquals(CpuFault.PF, m.exceptionTaken(), "#PF expected");
        assertEquals(cr2, m.cpu.cr2(), "CR2");
        assertEquals(err, m.stack(0), "error code");
        assertEquals(eip, m.stack(1), "faulting EIP");
    }

    @Test
    void notPresentPageDirectoryEntryFaultsWithCr2AndErrorCode0() {
        m.enablePaging(false, false);
        m.run(PagingAsm.pf_read);
        assertPageFault(0x400000, 0, PagingAsm.AT_pf_read_insn);
        assertEquals(0x11111111, m.cpu.reg(Cpu.EBX), "the faulting load wrote nothing");
    }

    @Test
    void notPresentPageTableEntryOnWriteHasErrorCode2() {
        m.mapPage(0x51000, 0x51000, 0);
        m.enablePaging(false, false);
        m.cpu.setReg(Cpu.ESI, 0x50000);
        m.cpu.setReg(Cpu.EDI, 0x51008);
        m.run(PagingAsm.load_store);
        assertPageFault(0x51008, 2, PagingAsm.AT_load_store_write);
    }

    @Test
    void userAccessToSupervisorPageAndUserWriteToReadOnlyPage() {
        m.mapPage(0x52000, 0x52000, PG_P | PG_W);      // supervisor only
        m.mapPage(0x53000, 0x53000, PG_P | PG_U);      // user, read-only
        m.enablePaging(false, false);

        m.cpu.setReg(Cpu.ESI, 0x52010);
        m.cpu.setReg(Cpu.EDI, 0x54000);
        m.run(PagingAsm.user_load_store);
        assertPageFault(0x52010, 5, PagingAsm.AT_user_ls_read); // present, read, user
        assertEquals(3, m.stack(2) & 3, "came from ring 3");

        m.reset32();
        m.putGate(0x80, TestMachine.HANDLERS + 0x80, 0xEE);
        m.enablePaging(false, false);
        m.cpu.setReg(Cpu.ESI, 0x53000);
        m.cpu.setReg(Cpu.EDI, 0x53ffc);
        m.run(PagingAsm.user_load_store);
        assertPageFault(0x53ffc, 7, PagingAsm.AT_user_ls_write); // present, write, user

        m.reset32();
        m.putGate(0x80, TestMachine.HANDLERS + 0x80, 0xEE);
        m.mapPage(0x55000, 0x55000, PG_U | PG_W);        // not present
        m.enablePaging(false, false);
        m.cpu.setReg(Cpu.ESI, 0x55abc);
        m.run(PagingAsm.user_load_store);
        assertPageFault(0x55abc, 4, PagingAsm.AT_user_ls_read);

        // And a user access that is allowed completes: INT 0x80 ends the program.
        m.reset32();
        m.putGate(0x80, TestMachine.HANDLERS + 0x80, 0xEE);
        m.write32(0x56000, 0x13579BDF);
        m.enablePaging(false, true);
        m.cpu.setReg(Cpu.ESI, 0x56000);
        m.cpu.setReg(Cpu.EDI, 0x56004);
        m.run(PagingAsm.user_load_store);
        assertEquals(0x80, m.exceptionTaken());
        assertEquals(0x13579BDF, m.read32(0x56004));
    }

    @Test
    void userPageNeedsUserBitInBothLevels() {
        m.write32(TestMachine.PD, m.pde(0) & ~PG_U); // PDE supervisor, PTEs user
        m.enablePaging(false, false);
        m.cpu.setReg(Cpu.ESI, 0x50000);
        m.cpu.setReg(Cpu.EDI, 0x50000);
        m.run(PagingAsm.user_load_store);
        // The IRET's first fetch at ring 3 already faults.
        assertPageFault(PagingAsm.AT_user_ls, 5, PagingAsm.AT_user_ls);
    }

    @Test
    void supervisorWriteToReadOnlyPageFaultsOnlyWithWp() {
        m.mapPage(0x53000, 0x53000, PG_P | PG_U);
        m.enablePaging(false, false);
        m.cpu.setReg(Cpu.EAX, 0);
        m.cpu.setReg(Cpu.ESI, 0x50000);
        m.cpu.setReg(Cpu.EDI, 0x53010);
        m.write32(0x50000, 0x1234);
        m.run(PagingAsm.load_store);
        assertEquals(-1, m.exceptionTaken(), "WP=0: the supervisor may write a read-only page");
        assertEquals(0x1234, m.read32(0x53010));

        m.reset32();
        m.enablePaging(false, true);
        m.write32(0x50000, 0x5678);
        m.cpu.setReg(Cpu.ESI, 0x50000);
        m.cpu.setReg(Cpu.EDI, 0x53010);
        m.run(PagingAsm.load_store);
        assertPageFault(0x53010, 3, PagingAsm.AT_load_store_write);
        assertEquals(0x1234, m.read32(0x53010));
    }

    @Test
    void settingWpFlushesWritePermissionsAlreadyCached() {
        m.mapPage(0x53000, 0x53000, PG_P | PG_U);
        m.enablePaging(false, false);
        m.cpu.setReg(Cpu.ESI, 0x50000);
        m.cpu.setReg(Cpu.EDI, 0x53010);
        m.run(PagingAsm.load_store); // installs a supervisor write entry for the read-only page
        assertEquals(-1, m.exceptionTaken());
        m.cpu.setReg(Cpu.EAX, AddressSpace.CR0_WP);
        // or %eax,%cr0 through a register: mov %cr0,%ecx; or %eax,%ecx; mov %ecx,%cr0; mov %eax,(%edi); hlt
        m.load(0x11000, 0x0F, 0x20, 0xC1, 0x09, 0xC1, 0x0F, 0x22, 0xC1, 0x89, 0x07, 0xF4);
        m.runAt(0x11000);
        assertPageFault(0x53010, 3, 0x11008);
    }

    @Test
    void lookingAtMemoryLeavesNoTrace() {
        m.mapPage(0x50000, 0x60000, RWU);
        m.write32(0x60010, 0x12345678);
        m.write32(TestMachine.PD, m.pde(0) & ~PG_A);
        m.enablePaging(false, false);
        assertEquals(0x60010, m.cpu.linearToPhysical(0x50010));
        assertEquals(0x12345678, m.cpu.peekLinear(0x50010, 4));
        assertEquals(0, m.pte(0x50000) & (PG_A | PG_D), "a debugger's look sets no accessed bit");
        assertEquals(0, m.pde(0) & PG_A);
        assertEquals(-1, m.cpu.linearToPhysical(0x7F0000));
        assertThrows(IllegalArgumentException.class, () -> m.cpu.peekLinear(0x7F0000, 1));
    }

    @Test
    void accessedAndDirtyBitsAreSetInPteAndPde() {
        m.mapPage(0x50000, 0x50000, RWU);
        m.mapPage(0x51000, 0x51000, RWU);
        m.write32(TestMachine.PD, m.pde(0) & ~PG_A);
        m.enablePaging(false, false);
        m.cpu.setReg(Cpu.ESI, 0x50000);
        m.cpu.setReg(Cpu.EDI, 0x51000);
        m.run(PagingAsm.load_store);
        assertEquals(-1, m.exceptionTaken());
        assertEquals(PG_A, m.pte(0x50000) & (PG_A | PG_D), "read: accessed, not dirty");
        assertEquals(PG_A | PG_D, m.pte(0x51000) & (PG_A | PG_D), "written: accessed and dirty");
        assertEquals(PG_A, m.pde(0) & (PG_A | PG_D), "PDE: accessed, never dirty");
        assertEquals(0, m.pte(0x52000) & PG_A, "untouched page");
    }

    @Test
    void dirtyBitIsSetOnFirstWriteAfterReadCachedTheTranslation() {
        m.mapPage(0x50000, 0x50000, RWU);
        m.enablePaging(false, false);
        m.cpu.setReg(Cpu.ESI, 0x50000);
        m.cpu.setReg(Cpu.EDI, 0x50004);
        m.run(PagingAsm.load_store);
        assertEquals(PG_A | PG_D, m.pte(0x50000) & (PG_A | PG_D));
    }

    @Test
    void pageWalkerWritesGoThroughThePhysicalWriteDoor() {
        m.mapPage(0x51000, 0x51000, RWU);
        m.enablePaging(false, false);
        m.mem.writeLog = new ArrayList<>();
        m.cpu.setReg(Cpu.ESI, 0x50000);
        m.cpu.setReg(Cpu.EDI, 0x51000);
        m.run(PagingAsm.load_store);
        int pteAt = m.pteAddress(0x51000);
        assertTrue(m.mem.writeLog.stream().anyMatch(w -> w[0] == pteAt && (w[2] & PG_D) != 0),
                "the dirty bit was written by PhysicalMemory.write");
    }

    @Test
    void fourMegabytePagesWithPse() {
        m.map4M(0x800000, 0xC00000, RWU);
        m.enablePaging(true, false);
        m.write32(0xC05000, 0xFEEDBEEF);
        m.cpu.setReg(Cpu.ESI, 0x805000);
        m.cpu.setReg(Cpu.EDI, 0x9FFFFC);
        m.run(PagingAsm.load_store);
        assertEquals(-1, m.exceptionTaken());
        assertEquals(0xFEEDBEEF, m.cpu.reg(Cpu.EAX));
        assertEquals(0xFEEDBEEF, m.read32(0xDFFFFC), "written at the end of the large page");
        assertEquals(PG_A | PG_D, m.pde(0x800000) & (PG_A | PG_D), "A and D live in the PDE");
        assertEquals(0, m.cpu.linearToPhysical(0xC00000) + 1, "next 4 MiB not mapped");
    }

    @Test
    void largePageBitIsIgnoredWithoutPse() {
        // CR4.PSE = 0: the PS bit is ignored and the PDE names a page table (here page 0xC00000's
        // first 4 KiB, which holds one PTE for linear 0x800000 -> 0x20000).
        m.map4M(0x800000, 0xC00000, RWU);
        m.write32(0xC00000, 0x20000 | RWU);
        m.write32(0x20000, 0x600DF00D);
        m.enablePaging(false, false);
        m.cpu.setReg(Cpu.ESI, 0x800000);
        m.cpu.setReg(Cpu.EDI, 0x50000);
        m.run(PagingAsm.load_store);
        assertEquals(-1, m.exceptionTaken());
        assertEquals(0x600DF00D, m.cpu.reg(Cpu.EAX));
    }

    @Test
    void largePageUserAndWriteChecks() {
        m.map4M(0x800000, 0xC00000, PG_P | PG_U); // user, read-only
        m.enablePaging(true, true);
        m.cpu.setReg(Cpu.ESI, 0x800000);
        m.cpu.setReg(Cpu.EDI, 0x800010);
        m.run(PagingAsm.user_load_store);
        assertPageFault(0x800010, 7, PagingAsm.AT_user_ls_write);
    }

    @Test
    void staleTranslationSurvivesUntilInvlpg() {
        m.mapPage(0x300000, 0x300000, RWU);
        m.write32(0x300000, 0xAAAA);
        m.write32(0x500000, 0xBBBB);
        m.enablePaging(false, false);
        m.cpu.setReg(Cpu.ESI, 0x300000);
        m.cpu.setReg(Cpu.EDI, m.pteAddress(0x300000));
        m.cpu.setReg(Cpu.EDX, 0x500000 | RWU);
        m.run(PagingAsm.invlpg_4k);
        assertEquals(-1, m.exceptionTaken());
        assertEquals(0xAAAA, m.cpu.reg(Cpu.EAX));
        assertEquals(0xAAAA, m.cpu.reg(Cpu.EBX), "no flush on a page-table write: the TLB still has the old entry");
        assertEquals(0xBBBB, m.cpu.reg(Cpu.ECX), "INVLPG dropped it");
    }

    @Test
    void invlpgAnywhereInALargePageDropsAllOfIt() {
        m.map4M(0x800000, 0x800000, RWU);
        m.write32(0x805000, 0x1111);
        m.write32(0xC05000, 0x2222);
        m.enablePaging(true, false);
        m.cpu.setReg(Cpu.EDI, TestMachine.PD + (0x800000 >>> 22) * 4);
        m.cpu.setReg(Cpu.EDX, 0xC00000 | RWU | TestMachine.PG_PS);
        m.run(PagingAsm.invlpg_4m);
        assertEquals(-1, m.exceptionTaken());
        assertEquals(0x1111, m.cpu.reg(Cpu.EAX));
        assertEquals(0x1111, m.cpu.reg(Cpu.EBX));
        assertEquals(0x2222, m.cpu.reg(Cpu.ECX));
    }

    @Test
    void cr3ReloadFlushesTheTlb() {
        m.mapPage(0x300000, 0x300000, RWU);
        m.write32(0x300000, 0xAAAA);
        m.write32(0x500000, 0xBBBB);
        m.enablePaging(false, false);
        m.cpu.setReg(Cpu.ESI, 0x300000);
        m.cpu.setReg(Cpu.EDI, m.pteAddress(0x300000));
        m.cpu.setReg(Cpu.EDX, 0x500000 | RWU);
        m.run(PagingAsm.cr3_reload);
        assertEquals(0xAAAA, m.cpu.reg(Cpu.EBX));
        assertEquals(0xBBBB, m.cpu.reg(Cpu.ECX));
    }

    @Test
    void pagingTurnedOnAndOffByTheProgram() {
        m.mapPage(0x50000, 0x51000, RWU); // linear 0x50000 -> physical 0x51000
        m.write32(0x51000, 0x4242);
        m.cpu.setReg(Cpu.EAX, TestMachine.PD);
        m.cpu.setReg(Cpu.ESI, 0x50000);
        m.run(PagingAsm.paging_on_off);
        assertEquals(-1, m.exceptionTaken());
        assertEquals(0x4242, m.cpu.reg(Cpu.EBX));
        assertEquals(0x4242, m.read32(0x51004), "the store went through the mapping");
        assertEquals(0, m.cpu.cr0() & AddressSpace.CR0_PG, "paging off again");
        assertEquals(AddressSpace.CR0_WP, m.cpu.cr0() & AddressSpace.CR0_WP);
        assertEquals(PG_A | PG_D, m.pte(0x50000) & (PG_A | PG_D));
    }

    @Test
    void controlRegisterMovesAndUnsupportedCr4Bits() {
        m.run(PagingAsm.cr_moves);
        assertEquals(0xCAFEF00D, m.cpu.reg(Cpu.EBX));
        assertEquals(CpuFault.GP, m.exceptionTaken(), "CR4.PAE is not supported (CPUID says so)");
        assertEquals(PagingAsm.AT_cr4_pae_insn, m.stack(1));
    }

    // --- faults leave no partial state; REP string instructions restart ---------------------------

    private void setUpRestart() {
        m.load(PagingAsm.pf_fixup);
        m.putGate(CpuFault.PF, TestMachine.KCODE, PagingAsm.AT_pf_fixup, 0x8E);
    }

    @Test
    void repMovsPageFaultInTheMiddleRestartsWhereItStopped() {
        setUpRestart();
        for (int i = 0; i < 0x400; i += 4) m.write32(0x40000 + i, 0x01010101 * (i / 4 + 1));
        m.mapPage(0x51000, 0x51000, PG_W | PG_U); // destination's second page not present
        m.enablePaging(false, false);
        m.cpu.setReg(Cpu.ESI, 0x40000);
        m.cpu.setReg(Cpu.EDI, 0x50F00);
        m.cpu.setReg(Cpu.ECX, 0x100);
        long start = m.cpu.icount();
        m.run(PagingAsm.rep_movsd);
        assertEquals(-1, m.exceptionTaken());
        assertEquals(PagingAsm.AT_rep_movsd_insn + 3, m.cpu.eip(), "halted after the REP MOVSD");
        assertEquals(1, m.read32(DATA + 4), "one page fault");
        assertEquals(0x51000, m.read32(DATA), "CR2");
        assertEquals(2, m.read32(DATA + 20), "error code: write, not present");
        assertEquals(0xC0, m.read32(DATA + 8), "ECX at the fault: 64 dwords done");
        assertEquals(0x40100, m.read32(DATA + 12), "ESI at the fault");
        assertEquals(0x51000, m.read32(DATA + 16), "EDI at the fault");
        for (int i = 0; i < 0x400; i += 4) assertEquals(0x01010101 * (i / 4 + 1), m.read32(0x50F00 + i), "dword " + i / 4);
        assertEquals(0, m.cpu.reg(Cpu.ECX));
        assertEquals(0x40400, m.cpu.reg(Cpu.ESI));
        assertEquals(0x51300, m.cpu.reg(Cpu.EDI));
        // Every iteration retired exactly once: CLD, 256 iterations, the 14-instruction handler, HLT.
        assertEquals(1 + 0x100 + 14 + 1, m.cpu.icount() - start);
    }

    @Test
    void repMovsbBackwardsWithSourceFaultRestarts() {
        setUpRestart();
        for (int i = 0; i < 0x200; i++) m.mem.poke(0x42F00 + i, i * 7);
        m.mapPage(0x42000, 0x42000, PG_W | PG_U); // source's lower page not present
        m.enablePaging(false, false);
        m.cpu.setReg(Cpu.ESI, 0x430FF);
        m.cpu.setReg(Cpu.EDI, 0x450FF);
        m.cpu.setReg(Cpu.ECX, 0x200);
        m.run(PagingAsm.rep_movsb_down);
        assertEquals(-1, m.exceptionTaken());
        assertEquals(0x42FFF, m.read32(DATA), "CR2: the first byte below the page");
        assertEquals(0, m.read32(DATA + 20), "error code: read, not present");
        assertEquals(0x100, m.read32(DATA + 8), "ECX at the fault");
        assertEquals(0x42FFF, m.read32(DATA + 12));
        assertEquals(0x44FFF, m.read32(DATA + 16));
        for (int i = 0; i < 0x200; i++) assertEquals(i * 7 & 0xFF, m.mem.peek(0x44F00 + i), "byte " + i);
        assertEquals(0x42EFF, m.cpu.reg(Cpu.ESI));
        assertEquals(0x44EFF, m.cpu.reg(Cpu.EDI));
    }

    @Test
    void repStoswFaultOnReadOnlyPageWithWpRestartsAfterFix() {
        setUpRestart();
        // Read-only (present) second page: the handler's OR of the present bit leaves it read-only,
        // so make the page writable here and only "not present" the first time.
        m.mapPage(0x51000, 0x51000, PG_W | PG_U);
        m.enablePaging(false, true);
        m.cpu.setReg(Cpu.EAX, 0xBEEF);
        m.cpu.setReg(Cpu.EDI, 0x50FFA);
        m.cpu.setReg(Cpu.ECX, 8);
        m.run(PagingAsm.rep_stosw);
        assertEquals(-1, m.exceptionTaken());
        assertEquals(5, m.read32(DATA + 8), "ECX at the fault: 3 words stored, 5 left");
        for (int i = 0; i < 8; i++) assertEquals(0xBEEF, m.mem.read(0x50FFA + 2 * i, 2));
        assertEquals(0x5100A, m.cpu.reg(Cpu.EDI));
    }

    @Test
    void repMovsStoppedByTheBudgetResumesFromItsRegisters() {
        for (int i = 0; i < 0x400; i += 4) m.write32(0x40000 + i, i);
        m.enablePaging(false, false);
        m.cpu.setReg(Cpu.ESI, 0x40000);
        m.cpu.setReg(Cpu.EDI, 0x50F00);
        m.cpu.setReg(Cpu.ECX, 0x100);
        m.load(PagingAsm.rep_movsd);
        long start = m.cpu.icount();
        assertEquals(Cpu.Stop.BUDGET, m.runAt(PagingAsm.AT_rep_movsd, 51));
        assertEquals(PagingAsm.AT_rep_movsd_insn, m.cpu.eip(), "between iterations, at the REP instruction");
        assertEquals(0x100 - 50, m.cpu.reg(Cpu.ECX));
        assertEquals(start + 51, m.cpu.icount());
        assertEquals(Cpu.Stop.HALTED, m.resume(1000));
        for (int i = 0; i < 0x400; i += 4) assertEquals(i, m.read32(0x50F00 + i));
        assertEquals(start + 1 + 0x100 + 1, m.cpu.icount());
    }

    @Test
    void pushToUnmappedStackLeavesEspAlone() {
        m.mapPage(0x8000, 0x8000, PG_W | PG_U); // not present
        m.enablePaging(false, false);
        m.cpu.setReg(Cpu.ESP, 0x9000);
        m.putGate(CpuFault.PF, TestMachine.KCODE, TestMachine.HANDLERS + 14, 0x8E);
        m.run(PagingAsm.push_unmapped);
        // The #PF frame itself cannot be pushed on the same unmapped stack: a second #PF while
        // delivering a #PF is a double fault, whose frame cannot be pushed either: triple fault.
        assertTrue(m.cpu.shutdown, "triple fault");
        assertTrue(m.cpu.shutdownReason().contains("triple fault"), m.cpu.shutdownReason());
        assertEquals(0x9000, m.cpu.reg(Cpu.ESP), "ESP unchanged");
        assertEquals(PagingAsm.AT_push_insn, m.cpu.eip());
    }

    @Test
    void userPushToUnmappedPageFaultsOnTheRing0StackAndLeavesEspAlone() {
        m.mapPage(0x58000, 0x58000, PG_W | PG_U); // not present
        m.enablePaging(false, false);
        m.run(PagingAsm.user_push);
        assertPageFault(0x58FFC, 6, PagingAsm.AT_user_push_insn);
        assertEquals(0x59000, m.stack(4), "the user ESP in the frame is the one before the push");
        assertEquals(TestMachine.STACK_TOP - 24, m.cpu.reg(Cpu.ESP), "frame on the TSS ring-0 stack");
    }

    @Test
    void storeCrossingIntoReadOnlyPageWritesNothing() {
        m.mapPage(0x51000, 0x51000, PG_P | PG_U);
        m.enablePaging(false, true);
        m.write32(0x50FFC, 0x11223344);
        m.run(PagingAsm.split_store);
        assertPageFault(0x51000, 3, PagingAsm.AT_split_store_insn);
        assertEquals(0x11223344, m.read32(0x50FFC), "no byte landed on the first page");
    }

    @Test
    void pushadCrossingIntoMissingPageWritesNothing() {
        m.mapPage(0x57000, 0x57000, PG_W | PG_U); // not present
        m.enablePaging(false, false);
        m.write32(0x58000, 0x77777777);
        m.run(PagingAsm.pushad_split);
        assertPageFault(0x57FFC, 6, PagingAsm.AT_pushad_insn);
        assertEquals(0x58010, m.stack(4), "user ESP unchanged");
        assertEquals(0x77777777, m.read32(0x58000), "nothing written above the missing page");
    }

    @Test
    void instructionFetchFaultsReportTheInstructionStart() {
        m.mapPage(0x30000, 0x30000, PG_W | PG_U); // not present
        m.enablePaging(false, false);
        m.load(PagingAsm.fetch_split);
        m.runAt(PagingAsm.AT_fetch_split_insn);
        assertPageFault(0x30000, 0, PagingAsm.AT_fetch_split_insn);
    }

    @Test
    void jumpToUnmappedPageFaultsOnTheTarget() {
        m.mapPage(0x30000, 0x30000, PG_W | PG_U); // not present
        m.enablePaging(false, false);
        m.runAt(0x30010);
        assertPageFault(0x30010, 0, 0x30010);
    }
}
