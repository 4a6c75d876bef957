# Virtual-8086 mode (V86Test). Ring 0 enters V86 by IRET with VM set in the
# EFLAGS image (EBX = that image, ESI = IP); the V86 code runs at 2000:IP
# with DS = ES = 2400, SS:SP = 2800:1000.
        .include "common.inc"

        program v86_enter, 0x10000
        pushl $0
        pushl $0
        pushl $0x2400
        pushl $0x2400
        pushl $0x2800
        pushl $0x1000
        pushl %ebx
        pushl $0x2000
        pushl %esi
v86_iret:
        iret

# INT 0x21 from V86 lands here (ring 0): copies the 9-dword V86 frame to
# DATA, DS as seen by the handler to DATA+0x40, then AX = 0x4321 and IRET
# back to V86.
        program v86_int21, 0x21000
        movl %esp, %ebp
        movl $0, %ecx
1:      movl %ss:(%ebp,%ecx,4), %eax
        movl %eax, %ss:DATA(,%ecx,4)
        incl %ecx
        cmpl $9, %ecx
        jne 1b
        movl %ds, %eax
        movl %eax, %ss:DATA+0x40
        movl %es, %eax
        movl %eax, %ss:DATA+0x44
        movl $0x4321, %eax
        iret

        .code16
        program v86_code, 0x20000
v86_main:
        movw $0x1234, %ax
        movw %ax, 0x10
        movw %ds, %bx
        movw $0x2500, %cx
        movw %cx, %es
        movw %ax, %es:0x20
        cli
        sti
        pushfw
        popw %cx
        movw %cx, 0x12
v86_int21_insn:
        int $0x21
v86_after21:
        movw %ax, 0x14
        movl $0x12345678, %edx
        movl %edx, 0x18
        outb %al, $0x80
        int $0x22
v86_cli:
        cli
        int $0x22
v86_sti:
        sti
        int $0x22
v86_pushf:
        pushfw
        int $0x22
v86_popf_setup:
        pushw $0
v86_popf:
        popfw
        int $0x22
v86_int:
        int $0x21
v86_iret16:
        iret
v86_hlt:
        hlt
v86_io81:
        outb %al, $0x81
        int $0x22
v86_popf_iopl:
        pushw $0x0000
        popfw
        pushfw
        popw %cx
        movw %cx, 0x16
        int $0x22
v86_intr:
        sti
v86_wait:
        jmp v86_wait
v86_lar:
        lar %ax, %bx
        int $0x22
v86_iret_ok:
        pushw $0x3002
        pushw $0x2000
        pushw $(v86_iret_target - v86_main)
        iret
v86_iret_target:
        movw %cs, %dx
        int $0x22
        .code32
