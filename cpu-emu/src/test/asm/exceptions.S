# Exceptions and interrupts (ExceptionTest): fault versus trap, #DF and
# triple fault, NMI, the MOV SS / POP SS shadow, CMPXCHG8B.
        .include "common.inc"

        program div_zero, 0x10000
        xorl %ecx, %ecx
        movl $5, %eax
div_insn:
        divl %ecx
        hlt

        program int3_test, 0x10000
        int3
int3_after:
        hlt

        program into_test, 0x10000
        movl $0x7fffffff, %eax
        addl $1, %eax
        into
into_after:
        hlt

        program ud_test, 0x10000
ud_insn:
        ud2

        program bound_test, 0x10000
        movl $25, %eax
bound_insn:
        bound %eax, DATA
        hlt

# DS = BX (a bad selector raises #GP).
        program gp_load, 0x10000
gp_insn:
        movw %bx, %ds
        hlt

# The same from ring 3 (#GP on the TSS stack).
        program user_gp, 0x10000
        to_user user_gp_insn, USTACK
user_gp_insn:
        movw %bx, %ds
        int $0x81

# A handler for ring 3 faults that runs in conforming code at CPL 3 (no
# stack switch): records its error code and CS, then spins.
        program conf_pf_handler, 0x21000
        popl %ss:DATA+0x40
        movl %cs, %eax
        movl %eax, %ss:DATA+0x44
conf_spin:
        jmp conf_spin

# A loop long enough for an NMI to land in.
        program spin_loop, 0x10000
        movl $300, %ecx
spin:
        loop spin
        hlt

# The NMI handler: counts nesting depth (DATA), the deepest (DATA+4) and
# the NMIs taken (DATA+8). The first one writes port 0x99, which the test
# turns into another NMI: it must wait for the IRET.
        program nmi_handler, 0x20000
        incl DATA
        movl DATA, %eax
        cmpl DATA+4, %eax
        jbe 1f
        movl %eax, DATA+4
1:      incl DATA+8
        cmpl $1, DATA+8
        jne 2f
        outb %al, $0x99
        nop
        nop
2:      decl DATA
        iret

# HLT with interrupts on; an interrupt wakes it.
        program sti_hlt, 0x10000
        sti
        hlt
sti_hlt_after:
        hlt

# The MOV SS shadow: interrupts are held off for the instruction after it.
        program movss_shadow, 0x10000
        movl $KDATA, %eax
        sti
        nop
movss_insn:
        movw %ax, %ss
movss_shadowed:
        movl $1, %ebx
movss_after:
        movl $2, %ecx
        hlt

        program popss_shadow, 0x10000
        pushl $KDATA
        sti
        nop
popss_insn:
        popl %ss
popss_shadowed:
        movl $1, %ebx
popss_after:
        movl $2, %ecx
        hlt

# STI's shadow.
        program sti_shadow, 0x10000
        cli
sti_insn:
        sti
sti_shadowed:
        movl $1, %ebx
sti_after:
        movl $2, %ecx
        hlt

# Single-step: TF set by POPF traps after the following instruction.
        program single_step, 0x10000
        pushfl
        orl $0x100, (%esp)
        popfl
ss_first:
        nop
ss_second:
        nop
        hlt

# A faulting instruction under TF raises its fault only.
        program step_fault, 0x10000
        pushfl
        orl $0x100, (%esp)
        popfl
step_ud:
        ud2

# CMPXCHG8B [ESI] (DS = DI if the second entry point is used).
        program cmpxchg8b_test, 0x10000
cx8_insn:
        cmpxchg8b (%esi)
        setz DATA+0x20
        hlt
cx8_ds:
        movw %di, %ds
cx8_ds_insn:
        cmpxchg8b (%esi)
        hlt
cx8_reg:
        .byte 0x0f, 0xc7, 0xc8        # cmpxchg8b %eax: #UD

# INT 0x90 (beyond a short IDT limit).
        program int90, 0x10000
int90_insn:
        int $0x90
        hlt
