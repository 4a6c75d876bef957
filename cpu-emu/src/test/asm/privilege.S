# Privilege transitions (PrivilegeTransitionTest): IRET to ring 3, system
# calls through a DPL 3 interrupt gate on the TSS ring-0 stack, gate and I/O
# privilege checks, SYSENTER/SYSEXIT.
        .include "common.inc"

# Ring 0 enters ring 3 by IRET; ring 3 makes a system call (INT 0x80 to
# sys_handler, which adds 41 to EAX) and ends with INT 0x81 (a HLT).
        program syscall_roundtrip, 0x10000
        to_user sc_user, USTACK
sc_user:
        user_segs
        movl $1, %eax
sc_int:
        int $0x80
sc_after:
        movl %eax, %ebx
        movl %ds, %ecx
        int $0x81

# The system call handler: records its frame (EIP CS EFLAGS ESP SS) at
# DATA, its CS and SS at DATA+20/24, EFLAGS at entry at DATA+28, DS at
# DATA+32; EAX += 41; IRET.
        program sys_handler, 0x20000
        pushl %ebp
        movl %esp, %ebp
        pushl %eax
        movl 4(%ebp), %eax
        movl %eax, %ss:DATA
        movl 8(%ebp), %eax
        movl %eax, %ss:DATA+4
        movl 12(%ebp), %eax
        movl %eax, %ss:DATA+8
        movl 16(%ebp), %eax
        movl %eax, %ss:DATA+12
        movl 20(%ebp), %eax
        movl %eax, %ss:DATA+16
        movl %cs, %eax
        movl %eax, %ss:DATA+20
        movl %ss, %eax
        movl %eax, %ss:DATA+24
        pushfl
        popl %ss:DATA+28
        movl %ds, %eax
        movl %eax, %ss:DATA+32
        popl %eax
        popl %ebp
        addl $41, %eax
        iret

# Ring 3 runs one instruction chosen by the test at user_probe_at (INT
# 0x30, CLI, STI, HLT, IN/OUT ...) then INT 0x81.
        program user_probe, 0x10000
        to_user user_probe_code, USTACK
user_probe_code:
        user_segs
        jmp *%esi
probe_int30:
        int $0x30
        int $0x81
probe_cli:
        cli
        int $0x81
probe_sti:
        sti
        int $0x81
probe_hlt:
        hlt
        int $0x81
probe_io:
        outb %al, $0x80
        inb $0x80, %al
probe_outw:
        outw %ax, $0x80
        int $0x81
probe_io81:
        outb %al, $0x81
        int $0x81
probe_dx_io:
        outl %eax, %dx
        int $0x81

# Ring 3: POPF and IRET try to set IF and IOPL; PUSHF shows what stuck.
        program user_flags, 0x10000
        to_user uf_user, USTACK
uf_user:
        user_segs
        pushl $0x3202
        popfl
        pushfl
        popl DATA
        pushl $0x3202
        pushl $UCODE
        pushl $uf_after
        iret
uf_after:
        pushfl
        popl DATA+4
        int $0x81

# Ring 0: STI; INT 0x40 (trap gate) and INT 0x41 (interrupt gate); each
# handler stores EFLAGS and returns.
        program gate_kinds, 0x10000
        sti
        int $0x40
        int $0x41
        hlt
trap_gate_handler:
        pushfl
        popl DATA
        iret
intr_gate_handler:
        pushfl
        popl DATA+4
        iret

# SYSENTER from ring 3 and SYSEXIT back. Ring 0 programs the MSRs first.
        program sysenter_test, 0x10000
        movl $0x174, %ecx
        movl $KCODE, %eax
        xorl %edx, %edx
        wrmsr
        movl $0x175, %ecx
        movl $0x8800, %eax
        wrmsr
        movl $0x176, %ecx
        movl $sysenter_entry, %eax
        wrmsr
        to_user se_user, USTACK
se_user:
        user_segs
        movl $se_after, %edx
        movl %esp, %ecx
        movl $7, %eax
se_insn:
        sysenter
se_after:
        movl %eax, %ebx
        int $0x81
sysenter_entry:
        movl %esp, DATA
        movl %cs, %esi
        movl %esi, DATA+4
        movl %ss, %esi
        movl %esi, DATA+8
        pushfl
        popl DATA+12
        imull $6, %eax
        sysexit

# SYSEXIT at ring 3 and SYSENTER with SYSENTER_CS = 0: both #GP(0).
        program sysexit_ring3, 0x10000
        to_user sx_user, USTACK
sx_user:
sysexit_insn:
        sysexit

        program sysenter_nocs, 0x10000
        movl $0x174, %ecx
        xorl %eax, %eax
        xorl %edx, %edx
        wrmsr
sysenter_nocs_insn:
        sysenter

# The #TS handler for the bad-SS0 test runs in conforming code (no stack
# switch, so it can run when SS0 is bad): records its error code and spins.
        program ts_handler, 0x21000
        popl %ss:DATA+0x40
        movl %cs, %eax
        movl %eax, %ss:DATA+0x44
ts_spin:
        jmp ts_spin

# An IRET to ring 3 whose SS has RPL 0: #GP(SS).
        program bad_iret, 0x10000
        pushl $KDATA
        pushl $USTACK
        pushfl
        pushl $UCODE
        pushl $bad_iret_target
bad_iret_insn:
        iret
bad_iret_target:
        hlt
