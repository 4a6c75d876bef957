# Segmentation test programs (SegmentationTest). The test puts the extra
# descriptors in the GDT (see SegmentationTest for the table).
        .include "common.inc"

# DS = BX.
        program seg_load, 0x10000
seg_load_insn:
        movw %bx, %ds
        hlt

# DS = BX, then EAX = DS:[ESI].
        program seg_read, 0x10000
        movw %bx, %ds
seg_read_insn:
        movl (%esi), %eax
        hlt

# DS = BX, then DS:[ESI] = EAX.
        program seg_write, 0x10000
        movw %bx, %ds
seg_write_insn:
        movl %eax, (%esi)
        hlt

# DS = BX, then AL = DS:[ESI] (one byte).
        program seg_read8, 0x10000
        movw %bx, %ds
seg_read8_insn:
        movb (%esi), %al
        hlt

# SS = BX.
        program ss_load, 0x10000
ss_load_insn:
        movw %bx, %ss
        hlt

# From ring 3: SS = BX, ESP = ESI, two pushes, then INT 0x80.
        program user_ss_push, 0x10000
        to_user user_ss_push_code, USTACK
user_ss_push_code:
        movw %bx, %ss
        movl %esi, %esp
        pushl %eax
user_ss_push2:
        pushl %eax
        int $0x80

# From ring 3: DS = BX, then INT 0x80.
        program user_seg_load, 0x10000
        to_user user_seg_load_insn, USTACK
user_seg_load_insn:
        movw %bx, %ds
        int $0x80

# Far jump to execute-only code (selector 0x50), which reads and writes
# through CS.
        program cs_access, 0x10000
        ljmp $0x50, $cs_access_code
cs_access_code:
cs_read_insn:
        movl %cs:(%esi), %eax
        hlt
cs_write:
cs_write_insn:
        movl %eax, %cs:(%esi)
        hlt

# LLDT BX; SLDT; DS = DX (an LDT selector); EAX = DS:[ESI].
        program ldt_use, 0x10000
lldt_insn:
        lldt %bx
        sldt %ecx
        movw %dx, %ds
        movl (%esi), %eax
        hlt

# Ring 3 calls conforming ring-0 code (selector 0x70) and a non-conforming
# ring-0 segment directly (must #GP).
        program conforming_call, 0x10000
        to_user conf_user, USTACK
conf_user:
        lcall $0x70, $conf_target
        movl %ecx, %ebx
conf_direct_insn:
        lcall $0x08, $conf_target
        int $0x80
conf_target:
        movl %cs, %ecx
        movl %esp, %edx
        lret

# Ring 3 pushes two parameters and calls through the call gate BX (to
# gate_target with 2 dword parameters); gate_target records its stack and
# CPL, loads ES with a ring-0 selector and returns with RET 8.
        program gate_call, 0x10000
        to_user gate_user, USTACK
gate_user:
        user_segs
        pushl $0x1111
        pushl $0x2222
        movl %ebx, gate_ptr+4
gate_call_insn:
        lcall *gate_ptr
gate_return:
        movl %es, %edi
        int $0x80
gate_ptr:
        .long 0, 0
gate_target:
        movl %cs, %eax
        movl %eax, DATA+24
        movl %ss, %eax
        movl %eax, DATA+28
        movl %esp, DATA+32
        movl 0(%esp), %eax
        movl %eax, DATA
        movl 4(%esp), %eax
        movl %eax, DATA+4
        movl 8(%esp), %eax
        movl %eax, DATA+8
        movl 12(%esp), %eax
        movl %eax, DATA+12
        movl 16(%esp), %eax
        movl %eax, DATA+16
        movl 20(%esp), %eax
        movl %eax, DATA+20
        movw $KDATA, %ax
        movw %ax, %es
        lret $8

# The same through a 16-bit call gate from ring 0 to ring 0 (no stack switch).
        program gate16_call, 0xA000
        lcall $0xA0, $0
gate16_ret:
        hlt
gate16_target:
        movl %esp, %edx
        lretw

# LAR, LSL, VERR, VERW of selector BX (results: EAX, EDX, flags in DATA..DATA+3).
        .macro access_checks
        movl $0xDEADBEEF, %eax
        movl $0xDEADBEEF, %edx
        lar %bx, %eax
        setz DATA
        lsl %bx, %edx
        setz DATA+1
        verr %bx
        setz DATA+2
        verw %bx
        setz DATA+3
        .endm
        program access_checks0, 0x10000
        access_checks
        hlt

        program access_checks3, 0x10000
        to_user access3_user, USTACK
access3_user:
        user_segs
        access_checks
        int $0x80

# ARPL: AX's RPL raised to BX's; ZF in DATA+4; and the memory form.
        program arpl_test, 0x10000
        arpl %bx, %ax
        setz DATA+4
        movw %cx, DATA+6
        arpl %bx, DATA+6
        setz DATA+5
        hlt

# SGDT, SIDT, SLDT, STR to memory; LTR BX; STR to a register.
        program desc_regs, 0x10000
        sgdt DATA
        sidt DATA+8
        sldt DATA+16
        str DATA+18
ltr_insn:
        ltr %bx
        str %ecx
        hlt

# SMSW, CR0.TS, CLTS, LMSW (which cannot clear PE).
        program msw_test, 0x10000
        smsw %eax
        movl %cr0, %ecx
        orl $8, %ecx
        movl %ecx, %cr0
        smsw %ebx
        clts
        smsw %edx
        movw $0x0006, %si
        lmsw %si
        movl %cr0, %edi
        movw $0x0000, %si
        lmsw %si
        movl %cr0, %ebp
        hlt

# LGDT / LIDT from memory at DATA+0x40 / DATA+0x48, then reload DS.
        program lgdt_test, 0x10000
        lgdt DATA+0x40
        lidt DATA+0x48
        movw $KDATA, %ax
        movw %ax, %ds
        sgdt DATA+0x50
        hlt
