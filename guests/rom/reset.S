/* reset.S - the ROM guest's reset vector, its real-mode part and the switch to protected mode.
 *
 * The processor starts at F000:FFF0 (CS base FFFF0000: the copy of the ROM just below 4 GiB). The
 * far jump there reloads CS with F000 (base F0000), so everything after it runs from the ROM's
 * alias at the top of the first MiB. See rom.c for what the guest prints and why.
 */
#include "rom.h"

    .code16
    .section .text16, "ax"
    .globl rm_start
rm_start:
    cli
    cld
    xorw %ax, %ax
    movw %ax, %ss
    movw $RM_STACK, %sp
    movw %cs, %ax
    movw %ax, %ds                       /* strings and the ROM byte, addressed from F000 */
    movb $POST_REAL_MODE, %al
    outb %al, $POST_PORT

    /* 8259s: mask every IRQ before anything could enable interrupts. */
    movb $0xFF, %al
    outb %al, $0x21
    outb %al, $0xA1

    /* COM1: 115200 8N1, FIFO on, no interrupts (the SDK's settings). */
    movw $COM1 + 1, %dx
    xorb %al, %al
    outb %al, %dx                       /* IER: none */
    movw $COM1 + 3, %dx
    movb $0x80, %al
    outb %al, %dx                       /* LCR: DLAB */
    movw $COM1, %dx
    movb $1, %al
    outb %al, %dx                       /* divisor 1 */
    movw $COM1 + 1, %dx
    xorb %al, %al
    outb %al, %dx
    movw $COM1 + 3, %dx
    movb $0x03, %al
    outb %al, %dx                       /* 8N1 */
    movw $COM1 + 2, %dx
    movb $0x07, %al
    outb %al, %dx                       /* FIFO on, cleared */
    movw $COM1 + 4, %dx
    movb $0x03, %al
    outb %al, %dx                       /* DTR, RTS */
    movb $POST_COM1_READY, %al
    outb %al, $POST_PORT

    movw $(msg_hello - rm_start), %si
    call puts16
    movw %cs, %ax                       /* CS as the far jump left it */
    call puthex16
    movw $(msg_nl - rm_start), %si
    call puts16

    /* Failures found in real mode are counted at RM_FAILURES (RAM, ES=0) for rom_main. */
    xorw %ax, %ax
    movw %ax, %es
    movb $0, %es:(RM_FAILURES)

    /* A write into the ROM window must not stick: flip a ROM byte through DS=F000. */
    movb (rom_probe - rm_start), %al
    movb %al, %bl
    notb %al
    movb %al, (rom_probe - rm_start)
    movw $(msg_rom_kept - rm_start), %si
    cmpb (rom_probe - rm_start), %bl
    je 1f
    movw $(msg_rom_changed - rm_start), %si
    incb %es:(RM_FAILURES)
1:  call puts16

    /* RAM below the window is RAM: write and read back through ES=0. */
    movw $0x5AA5, %es:(RM_SCRATCH)
    movw $(msg_ram_ok - rm_start), %si
    cmpw $0x5AA5, %es:(RM_SCRATCH)
    je 1f
    movw $(msg_ram_bad - rm_start), %si
    incb %es:(RM_FAILURES)
1:  call puts16
    movb $POST_ROM_CHECKED, %al
    outb %al, $POST_PORT

    /* A20 on (port 0x92, bit 1), for the alias at 4 GiB - 64 KiB. */
    inb $0x92, %al
    orb $0x02, %al
    andb $0xFE, %al                     /* bit 0 would reset the machine */
    outb %al, $0x92

    /* Protected mode: the GDT is in the ROM, its accessed bits preset so loads write nothing. */
    movw $(msg_to_pm - rm_start), %si
    call puts16
    lgdtl (gdt_desc - rm_start)
    movl %cr0, %eax
    orl $1, %eax
    movl %eax, %cr0
    ljmpl $SEL_CODE32, $pm_start

/* Prints the NUL-terminated string at DS:SI on COM1. */
puts16:
    lodsb
    testb %al, %al
    jz 2f
    movb %al, %ah
    movw $COM1 + 5, %dx
1:  inb %dx, %al
    testb $0x20, %al
    jz 1b
    movb %ah, %al
    movw $COM1, %dx
    outb %al, %dx
    jmp puts16
2:  ret

/* Prints AX as four lower-case hex digits on COM1. */
puthex16:
    movw $4, %cx
1:  rolw $4, %ax
    pushw %ax
    andb $0x0F, %al
    addb $'0', %al
    cmpb $'9', %al
    jbe 2f
    addb $('a' - '9' - 1), %al
2:  movb %al, %ah
    movw $COM1 + 5, %dx
3:  inb %dx, %al
    testb $0x20, %al
    jz 3b
    movb %ah, %al
    movw $COM1, %dx
    outb %al, %dx
    popw %ax
    loop 1b
    ret

    .code32
pm_start:
    movw $SEL_DATA32, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %fs
    movw %ax, %gs
    movw %ax, %ss
    movl $PM_STACK, %esp
    movb $POST_PROTECTED, %al
    outb %al, $POST_PORT
    /* Zero .bss (in RAM: the ROM holds no writable data). */
    movl $__bss_start, %edi
    movl $__bss_end, %ecx
    subl %edi, %ecx
    xorl %eax, %eax
    rep stosb
    call rom_main                       /* returns the exit status */
    movl %eax, %edx
    movb $POST_DONE, %al
    outb %al, $POST_PORT
    movl %edx, %eax
    outl %eax, $DEBUG_EXIT
1:  cli
    hlt
    jmp 1b

    /* Real-mode data stays in this section: offsets from rm_start, which rom.ld puts at F000:0000. */
msg_hello:      .asciz "rom: real mode, reset vector jumped to cs="
msg_nl:         .asciz "\n"
msg_rom_kept:   .asciz "rom: a write to the ROM at f000 is ignored\n"
msg_rom_changed:.asciz "rom: FAIL: a write to the ROM at f000 stuck\n"
msg_ram_ok:     .asciz "rom: RAM below the ROM window reads back\n"
msg_ram_bad:    .asciz "rom: FAIL: RAM below the ROM window does not read back\n"
msg_to_pm:      .asciz "rom: entering protected mode\n"
rom_probe:      .byte 0xC3

    .p2align 3
gdt:
    .quad 0
    .quad 0x00CF9B000000FFFF            /* 0x08: code, flat 4 GiB, 32-bit, accessed */
    .quad 0x00CF93000000FFFF            /* 0x10: data, flat 4 GiB, 32-bit, accessed */
    .quad 0x000093040000FFFF            /* 0x18: data, base 0x40000, limit 0xFFFF, B=0 (16-bit stack) */
gdt_end:
gdt_desc:
    .word gdt_end - gdt - 1
    .long gdt

    /* The reset vector: the last 16 bytes of the ROM. */
    .section .reset, "ax"
    .code16
    .globl reset_vector
reset_vector:
    ljmp $0xF000, $0                    /* rm_start: rom.ld asserts it is at F000:0000 */
    .fill 16 - (. - reset_vector), 1, 0xF4

    .section .note.GNU-stack, "", @progbits
