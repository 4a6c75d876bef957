# System instructions (SystemInstructionTest): CPUID, RDMSR/WRMSR, RDTSC,
# WBINVD/INVD, debug registers, and their privilege checks.
        .include "common.inc"

        program cpuid_prog, 0x10000
        cpuid
        hlt

        program rdmsr_prog, 0x10000
rdmsr_insn:
        rdmsr
        hlt

        program wrmsr_prog, 0x10000
wrmsr_insn:
        wrmsr
        hlt

# WRMSR then RDMSR of the same MSR (ECX): EDX:EAX round trip.
        program msr_roundtrip, 0x10000
        wrmsr
        xorl %eax, %eax
        xorl %edx, %edx
        rdmsr
        hlt

# IA32_TIME_STAMP_COUNTER = 0x100000000, then RDTSC.
        program tsc_write, 0x10000
        movl $0x10, %ecx
        movl $1, %edx
        xorl %eax, %eax
        wrmsr
        rdtsc
        hlt

        program cache_prog, 0x10000
        wbinvd
        invd
        hlt

# Debug registers: DR0 and DR3 round trip, DR6 and DR7 with their fixed
# bits, DR4/DR5 as aliases of DR6/DR7 while CR4.DE = 0.
        program dr_prog, 0x10000
        movl $0x11111111, %eax
        movl %eax, %dr0
        movl $0x00333000, %eax
        movl %eax, %dr3
        movl %dr0, %ebx
        movl %dr3, %ebp
        xorl %eax, %eax
        movl %eax, %dr6
        movl %dr6, %ecx
        movl %eax, %dr7
        movl %dr7, %edx
        movl %dr4, %esi
        movl %dr5, %edi
        hlt

        program dr4_prog, 0x10000
dr4_insn:
        movl %dr4, %eax
        hlt

# Ring 3 runs one privileged instruction (ESI) and must #GP; the list.
        program user_priv, 0x10000
        to_user up_user, USTACK
up_user:
        user_segs
        jmp *%esi
up_rdmsr:
        rdmsr
up_wrmsr:
        wrmsr
up_wbinvd:
        wbinvd
up_invd:
        invd
up_movcr:
        movl %cr0, %eax
up_movcr3:
        movl %eax, %cr3
up_movdr:
        movl %dr7, %eax
up_clts:
        clts
up_lgdt:
        lgdt DATA
up_lidt:
        lidt DATA
up_lldt:
        lldt %ax
up_ltr:
        ltr %ax
up_lmsw:
        lmsw %ax
up_invlpg:
        invlpg DATA
up_rdtsc:
        rdtsc
        int $0x81
up_smsw:
        smsw %eax
        sgdt DATA
        sidt DATA+8
        sldt DATA+16
        str DATA+18
        int $0x81
