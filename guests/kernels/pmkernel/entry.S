/* entry.S - the pmkernel's multiboot header, start-up, interrupt stubs, the
 * switch to ring 3 and back, and the ring-3 entry point. */

#define MB_MAGIC    0x1BADB002
#define MB_FLAGS    0x00000003
#define KDATA 0x10
#define UCODE 0x1B
#define UDATA 0x23

    .section .multiboot, "a"
    .p2align 2
    .long MB_MAGIC
    .long MB_FLAGS
    .long -(MB_MAGIC + MB_FLAGS)

    .section .text.entry, "ax"
    .globl _start
_start:
    cli
    cld
    movl $__bss_start, %edi
    movl $__bss_end, %ecx
    subl %edi, %ecx
    shrl $2, %ecx
    movl %eax, %edx
    xorl %eax, %eax
    rep stosl
    movl $kstack_top, %esp
    pushl %ebx
    pushl %edx
    call kmain
    pushl %eax
    call kexit
1:  cli
    hlt
    jmp 1b

/* Interrupt stubs: push a dummy error code where the CPU pushes none, then the
 * vector; isr_common saves the registers and calls isr_dispatch(struct regs *). */
.macro ISR_NOERR n
    .globl isr_\n
isr_\n:
    pushl $0
    pushl $\n
    jmp isr_common
.endm
.macro ISR_ERR n
    .globl isr_\n
isr_\n:
    pushl $\n
    jmp isr_common
.endm
    .text
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
ISR_NOERR 128

isr_common:
    pushal
    pushl %ds
    pushl %es
    movw $KDATA, %ax
    movw %ax, %ds
    movw %ax, %es
    pushl %esp
    call isr_dispatch
    addl $4, %esp
    popl %es
    popl %ds
    popal
    addl $8, %esp
    iret

/* enter_user(eip, esp): saves the kernel's context and IRETs to ring 3 with
 * IF = 0 and IOPL = 0. It returns (with the status) when leave_user is called
 * from the SYS_EXIT system call. */
    .globl enter_user
enter_user:
    pushl %ebp
    pushl %ebx
    pushl %esi
    pushl %edi
    movl %esp, kernel_ctx
    movl 20(%esp), %eax
    movl 24(%esp), %ecx
    pushl $UDATA
    pushl %ecx
    pushl $0x00000002
    pushl $UCODE
    pushl %eax
    iret

/* SYSENTER lands here (CPL 0, ESP = IA32_SYSENTER_ESP, IF = 0) with EAX = the
 * call number, EBX = its argument, ECX = the user ESP and EDX = the user EIP,
 * which SYSEXIT takes back. */
    .globl sysenter_entry
sysenter_entry:
    pushl %ecx
    pushl %edx
    pushl %ds
    pushl %es
    movw $KDATA, %cx
    movw %cx, %ds
    movw %cx, %es
    pushl %ebx
    pushl %eax
    call sysenter_dispatch
    addl $8, %esp
    popl %es
    popl %ds
    popl %edx
    popl %ecx
    sysexit

/* leave_user(status): back into enter_user's caller, on the kernel stack. */
    .globl leave_user
leave_user:
    movl 4(%esp), %eax
    movl kernel_ctx, %esp
    popl %edi
    popl %esi
    popl %ebx
    popl %ebp
    ret

    .section .bss
    .p2align 4
kstack:
    .skip 16384
    .globl kstack_top
kstack_top:
    .p2align 2
kernel_ctx:
    .skip 4

/* The ring-3 entry point (a user-accessible page). */
    .section .utext, "ax"
    .globl user_entry
user_entry:
    movw $UDATA, %ax
    movw %ax, %ds
    movw %ax, %es
    call user_main
1:  jmp 1b

    .section .note.GNU-stack, "", @progbits
