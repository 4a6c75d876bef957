/* crt0.S - multiboot v1 header and start-up code for uCheckpoint guests. */

#define MB_MAGIC     0x1BADB002
#define MB_FLAGS     0x00000003          /* bit 0: page-align modules, bit 1: memory info */
#define MB_CHECKSUM  (-(MB_MAGIC + MB_FLAGS))
#define STACK_SIZE   65536

    .section .multiboot, "a"
    .p2align 2
    .long MB_MAGIC
    .long MB_FLAGS
    .long MB_CHECKSUM

    .section .text.entry, "ax"
    .globl _start
    .type _start, @function
_start:
    cli
    cld
    movl %eax, %esi                     /* multiboot magic (0x2BADB002 expected) */
                                        /* %ebx = multiboot info pointer */
    /* Zero .bss explicitly (the stack lives there too; nothing uses it yet). */
    movl $__bss_start, %edi
    movl $__bss_end, %ecx
    subl %edi, %ecx
    shrl $2, %ecx
    xorl %eax, %eax
    rep stosl

    movl $sdk_stack_top, %esp
    xorl %ebp, %ebp
    pushl %ebx
    pushl %esi
    call sdk_start                      /* does all set-up, runs workload_main */
    pushl %eax
    call exit                           /* never returns */
1:  cli
    hlt
    jmp 1b
    .size _start, . - _start

    .section .bss
    .p2align 4
    .globl sdk_stack_bottom
sdk_stack_bottom:
    .skip STACK_SIZE
    .globl sdk_stack_top
sdk_stack_top:

    .section .note.GNU-stack, "", @progbits
