/* stack.S - the ROM guest's 16-bit stack checks and its interrupt stubs (32-bit protected mode).
 *
 * Each check_* routine switches SS:ESP to the case it tests, runs the instruction, stores what it
 * left in st[] (rom.h's R_* slots) and returns on the flat stack it came from; rom.c compares the
 * values with the rule. The 16-bit stack is GDT selector 0x18: base STACK16_BASE, limit 0xFFFF,
 * B=0, so its offsets wrap within 16 bits and the processor changes only SP.
 */
#include "rom.h"

#define SLOT(n) (st + 4 * (n))
#define S16(off) (STACK16_BASE + (off))

/* Keep the caller's registers and flat stack; come back to them. */
#define SAVE            \
    pushl %ebp;         \
    pushl %ebx;         \
    pushl %esi;         \
    pushl %edi;         \
    pushfl;             \
    movl %esp, saved_esp
#define RESTORE         \
    movw $SEL_DATA32, %cx; \
    movw %cx, %ss;      \
    movl saved_esp, %esp; \
    popfl;              \
    popl %edi;          \
    popl %esi;          \
    popl %ebx;          \
    popl %ebp
#define ON_STACK16(v) \
    movw $SEL_STACK16, %cx; \
    movw %cx, %ss;      \
    movl $(v), %esp

    .text
    .code32

/* POP SS advances the stack it read the selector from. */
    .globl check_pop_ss
check_pop_ss:
    SAVE
    movl $SEL_DATA32, S16(0xFFFC)
    ON_STACK16(0x0002FFFC)
    popl %ss                            /* 32-bit pop through the 16-bit stack: SP FFFC -> 0000 */
    movl %esp, SLOT(R_POPSS16_ESP)
    movw %ss, %ax
    movzwl %ax, %eax
    movl %eax, SLOT(R_POPSS16_SS)
    movl $SEL_STACK16, 0x0004FFFC
    movl $0x0004FFFC, %esp              /* SS is the flat 32-bit segment now */
    popl %ss                            /* 32-bit pop through the 32-bit stack, loading the 16-bit one */
    movl %esp, SLOT(R_POPSS32_ESP)
    movw %ss, %ax
    movzwl %ax, %eax
    movl %eax, SLOT(R_POPSS32_SS)
    RESTORE
    ret

/* LSS loads ESP from its operand: a load, not a pop. */
    .globl check_lss
check_lss:
    SAVE
    movl $0x1234FFF0, lss_pointer
    movw $SEL_STACK16, lss_pointer + 4
    lssl lss_pointer, %esp
    movl %esp, SLOT(R_LSS_ESP)
    RESTORE
    ret

/* ENTER 8, 2 with 32-bit operands on the 16-bit stack. */
    .globl check_enter
check_enter:
    SAVE
    movl $0xCAFEBABE, S16(0x000C)       /* the frame pointer ENTER copies from [BP-4] */
    ON_STACK16(0x12340008)
    movl $0xAAAA0010, %ebp
    enter $8, $2
    movl %esp, SLOT(R_ENTER_ESP)
    movl %ebp, SLOT(R_ENTER_EBP)
    RESTORE
    movl S16(0xFFFC), %eax
    movl %eax, SLOT(R_ENTER_FP)
    movl S16(0x0000), %eax
    movl %eax, SLOT(R_ENTER_COPY)
    movl S16(0x0004), %eax
    movl %eax, SLOT(R_ENTER_OLDBP)
    ret

/* LEAVE with 32-bit operands on the 16-bit stack: SP := BP, pop EBP, SP wraps. */
    .globl check_leave
check_leave:
    SAVE
    movl $0x0BADF00D, S16(0xFFFC)
    ON_STACK16(0x1234FFF4)
    movl $0x5678FFFC, %ebp
    leave
    movl %esp, SLOT(R_LEAVE_ESP)
    movl %ebp, SLOT(R_LEAVE_EBP)
    RESTORE
    ret

/* PUSHAD and POPAD across the 16-bit stack's wrap. */
    .globl check_pusha
check_pusha:
    SAVE
    ON_STACK16(0x12340008)
    pushal
    movl %esp, SLOT(R_PUSHA_ESP)
    movl S16(0xFFF4), %eax              /* the ESP PUSHAD saved */
    movl %eax, SLOT(R_PUSHA_PUSHED)
    popal
    movl %esp, SLOT(R_POPA_ESP)
    RESTORE
    ret

/* IRETD popping EIP at FFF8, CS at FFFC and EFLAGS at 0000. */
    .globl check_iret
check_iret:
    SAVE
    movl $1f, S16(0xFFF8)
    movl $SEL_CODE32, S16(0xFFFC)
    movl $0x00000887, S16(0x0000)       /* OF SF PF CF: no TF, IF or DF */
    ON_STACK16(0x0005FFF8)
    iretl
1:  movl %esp, SLOT(R_IRET_ESP)
    pushfl
    popl %eax
    movl %eax, SLOT(R_IRET_FLAGS)
    RESTORE
    ret

/* INT 0x40 at the same level: EFLAGS at 0000, CS at FFFC, EIP at FFF8. */
    .globl check_int
check_int:
    SAVE
    ON_STACK16(0x00030004)
    int $0x40
    movl %esp, SLOT(R_INT_ESP)
    RESTORE
    movzwl S16(0xFFFC), %eax
    movl %eax, SLOT(R_INT_CS)
    ret

    .globl isr_int40
isr_int40:
    movl %esp, SLOT(R_INT_ESP_IN)
    iretl

/* A far CALL and RET: CS at 0000, EIP at FFFC. */
    .globl check_lcall
check_lcall:
    SAVE
    ON_STACK16(0x12340004)
    lcall $SEL_CODE32, $far_target
    movl %esp, SLOT(R_LCALL_ESP)
    RESTORE
    ret
far_target:
    movl %esp, SLOT(R_LCALL_ESP_IN)
    lret

/* The single-step trap after MOV SS / POP SS waits one instruction; after MOV DS it does not. POPF sets TF, so the trap can first follow the instruction after POPF; the #DB handler
 * records EBX (which of the MOVs had run) and clears TF. */
#define TF_ON               \
    pushfl;                 \
    orl $0x100, (%esp);     \
    popfl
    .globl check_shadow
check_shadow:
    SAVE
    movw $SEL_DATA32, %ax
    movl $-1, db_ebx
    xorl %ebx, %ebx
    TF_ON
    movw %ax, %ss
    movl $1, %ebx
    movl $2, %ebx
    movl db_ebx, %ecx
    movl %ecx, SLOT(R_DB_MOVSS)

    movl $-1, db_ebx
    xorl %ebx, %ebx
    pushl $SEL_DATA32
    TF_ON
    popl %ss
    movl $1, %ebx
    movl $2, %ebx
    movl db_ebx, %ecx
    movl %ecx, SLOT(R_DB_POPSS)

    movl $-1, db_ebx
    xorl %ebx, %ebx
    TF_ON
    movw %ax, %ds
    movl $1, %ebx
    movl $2, %ebx
    movl db_ebx, %ecx
    movl %ecx, SLOT(R_DB_MOVDS)

    RESTORE
    ret

    .globl isr_db
isr_db:
    movl %ebx, db_ebx
    andl $~0x100, 8(%esp)               /* TF off in the EFLAGS IRET restores */
    iretl

/* Every other vector: report it and stop (rom_unexpected does not return). */
    .globl isr_stubs
isr_stubs:
    vector = 0
    .rept 32
    pushl $vector
    jmp isr_unexpected
    .p2align 3
    vector = vector + 1
    .endr
isr_unexpected:
    popl %eax                           /* the vector, from whatever stack the exception used */
    movw $SEL_DATA32, %cx
    movw %cx, %ds
    movw %cx, %ss
    movl $PM_STACK - 0x1000, %esp       /* a known-good stack whatever SS:ESP was */
    pushl %eax
    call rom_unexpected

    .bss
    .p2align 2
saved_esp:      .long 0
lss_pointer:    .long 0, 0
    .globl db_ebx
db_ebx:         .long 0

    .section .note.GNU-stack, "", @progbits
