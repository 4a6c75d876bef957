/* isr.S - interrupt entry stubs for vectors 0-47 and the common path.
 * Each stub pushes a dummy error code (when the CPU does not push one) and the
 * vector number, then jumps to isr_common, which saves the registers and calls
 * isr_dispatch(struct isr_frame *). */

    .text

.macro ISR_NOERR n
    .p2align 2
isr_\n:
    pushl $0
    pushl $\n
    jmp isr_common
.endm

.macro ISR_ERR n
    .p2align 2
isr_\n:
    pushl $\n
    jmp isr_common
.endm

ISR_NOERR 0
ISR_NOERR 1
ISR_NOERR 2
ISR_NOERR 3
ISR_NOERR 4
ISR_NOERR 5
ISR_NOERR 6
ISR_NOERR 7
ISR_ERR   8
ISR_NOERR 9
ISR_ERR   10
ISR_ERR   11
ISR_ERR   12
ISR_ERR   13
ISR_ERR   14
ISR_NOERR 15
ISR_NOERR 16
ISR_ERR   17
ISR_NOERR 18
ISR_NOERR 19
ISR_NOERR 20
ISR_ERR   21
ISR_NOERR 22
ISR_NOERR 23
ISR_NOERR 24
ISR_NOERR 25
ISR_NOERR 26
ISR_NOERR 27
ISR_NOERR 28
ISR_ERR   29
ISR_ERR   30
ISR_NOERR 31
ISR_NOERR 32
ISR_NOERR 33
ISR_NOERR 34
ISR_NOERR 35
ISR_NOERR 36
ISR_NOERR 37
ISR_NOERR 38
ISR_NOERR 39
ISR_NOERR 40
ISR_NOERR 41
ISR_NOERR 42
ISR_NOERR 43
ISR_NOERR 44
ISR_NOERR 45
ISR_NOERR 46
ISR_NOERR 47

    .p2align 4
isr_common:
    pushal
    cld
    movl %esp, %eax
    pushl %eax
    call isr_dispatch
    addl $4, %esp
    popal
    addl $8, %esp                       /* vector number and error code */
    iret

/* Table of the 48 stub addresses, read by idt_init(). */
    .section .rodata
    .p2align 2
    .globl isr_stub_table
isr_stub_table:
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47
    .long isr_\n
    .endr

    .section .note.GNU-stack, "", @progbits
