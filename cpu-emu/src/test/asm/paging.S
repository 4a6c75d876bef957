# Paging test programs (PagingTest). Page tables are built by the test:
# TestMachine.PD = 0x80000, the first page table at 0x81000 maps 0-4 MiB.
        .include "common.inc"
        .set PT0, 0x81000

# A read through a page directory entry that is not present.
        program pf_read, 0x10000
        movl $0x11111111, %ebx
pf_read_insn:
        movl 0x400000, %ebx
        hlt

# One load and one store: EAX = [ESI], then [EDI] = EAX.
        program load_store, 0x10000
        movl (%esi), %eax
load_store_write:
        movl %eax, (%edi)
        hlt

# The same from ring 3; ends with INT 0x80 (a DPL 3 gate to a HLT).
        program user_load_store, 0x10000
        to_user user_ls, USTACK
user_ls:
        user_segs
user_ls_read:
        movl (%esi), %eax
user_ls_write:
        movl %eax, (%edi)
        int $0x80

# A stale translation survives a page-table write until INVLPG, then goes.
# EDI = the PTE's address, EDX = its new value, ESI = the linear address.
        program invlpg_4k, 0x10000
        movl (%esi), %eax
        movl %edx, (%edi)
        movl (%esi), %ebx
        invlpg (%esi)
        movl (%esi), %ecx
        hlt

# The same for a 4 MiB page: the PDE changes, INVLPG names another 4 KiB
# part of the same large page, and the first address must be re-walked.
        program invlpg_4m, 0x10000
        movl 0x805000, %eax
        movl %edx, (%edi)
        movl 0x805000, %ebx
        invlpg 0x9FF000
        movl 0x805000, %ecx
        hlt

# A CR3 reload (same value) flushes the TLB.
        program cr3_reload, 0x10000
        movl (%esi), %eax
        movl %edx, (%edi)
        movl (%esi), %ebx
        movl %cr3, %ebp
        movl %ebp, %cr3
        movl (%esi), %ecx
        hlt

# REP MOVSD from ESI to EDI, ECX dwords, forwards.
        program rep_movsd, 0x10000
        cld
rep_movsd_insn:
        rep movsl
        hlt

# REP MOVSB backwards.
        program rep_movsb_down, 0x10000
        std
rep_movsb_insn:
        rep movsb
        cld
        hlt

# REP STOSW forwards.
        program rep_stosw, 0x10000
        cld
rep_stosw_insn:
        rep stosw
        hlt

# The #PF handler for the restart tests: counts the fault, records CR2, the
# error code and ECX/ESI/EDI at the fault, sets the present bit of the
# faulting page's PTE (first page table) and returns to the faulting
# instruction. 14 instructions.
        program pf_fixup, 0x20000
        pushl %eax
        movl %cr2, %eax
        movl %eax, DATA
        incl DATA+4
        movl %ecx, DATA+8
        movl %esi, DATA+12
        movl %edi, DATA+16
        pushl 4(%esp)
        popl DATA+20
        shrl $12, %eax
        orl $1, PT0(,%eax,4)
        popl %eax
        addl $4, %esp
pf_fixup_iret:
        iret

# A page fault while the fixup handler would have to be entered with an
# unmapped stack: the push of the #PF frame faults again -> #DF.
        program push_unmapped, 0x10000
        movl $0x5a5a5a5a, %eax
push_insn:
        pushl %eax
        hlt

# A push from ring 3 onto a user stack page that is not present.
        program user_push, 0x10000
        to_user user_push_insn, 0x59000
user_push_insn:
        pushl %eax
        int $0x80

# A 4-byte store crossing into a read-only page (WP=1): nothing may land.
        program split_store, 0x10000
        movl $0xAABBCCDD, %eax
split_store_insn:
        movl %eax, 0x50FFE
        hlt

# An instruction whose last bytes lie on a page that is not present.
        program fetch_split, 0x2FFFE
fetch_split_insn:
        movl $0x12345678, %eax
        hlt

# PUSHAD from ring 3 with ESP 16 bytes above a page that is not present.
        program pushad_split, 0x10000
        to_user pushad_insn, 0x58010
pushad_insn:
        pushal
        int $0x80

# Control registers: CR2 round trip, CR4 with an unsupported bit (PAE).
        program cr_moves, 0x10000
        movl $0xCAFEF00D, %eax
        movl %eax, %cr2
        movl %cr2, %ebx
        movl %cr4, %ecx
        orl $0x20, %ecx
cr4_pae_insn:
        movl %ecx, %cr4
        hlt

# Turns paging on from a program (EAX = CR3 value), writes through a page
# whose PTE has no accessed/dirty bits yet, turns paging off again.
        program paging_on_off, 0x10000
        movl %eax, %cr3
        movl %cr4, %ecx
        orl $0x10, %ecx
        movl %ecx, %cr4
        movl %cr0, %ecx
        orl $0x80010000, %ecx
        movl %ecx, %cr0
        movl (%esi), %ebx
        movl %ebx, 4(%esi)
        andl $0x7FFFFFFF, %ecx
        movl %ecx, %cr0
        hlt
