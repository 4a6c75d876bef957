/*
 * faultlab: a tiny flat guest for deterministic recovery tests (loaded at 0x100000, entered in
 * flat 32-bit protected mode). The scenario number is the first dword of .data (0x101000; the
 * test patches it in the image). Each scenario prints a result line
 * on COM1 and exits through isa-debug-exit with status 0. Every exception is reported through the
 * guest-services port 0x524 (the guest-exception detector) and the guest then halts.
 *
 * Scenarios (the test injects faults at the labelled instructions; their offsets are printed by
 * the assembler listing and kept in FaultlabTest):
 *   0 dead:   EBX is written before it is read          -> a flip in EBX at dead_here is never used
 *   1 masked: ECX is read but only its low byte matters -> a flip in a high bit of ECX is masked
 *   2 call:   CALL *%esi through a function pointer     -> a high-bit flip in ESI jumps off RAM: #UD
 *   3 late:   a 4 KiB buffer is summed, then a long loop runs, then the sum is checked (self-check
 *             port 0x528): a flip in the buffer during the loop is detected only at the end
 *   4 echo:   reads 16 bytes from COM1 (polling the line status), writing each back with a line of
 *             busy work in between, then prints the result line: input and output across rollbacks
 *   5 idle echo: a 1 kHz PIT tick, and the guest halts between ticks; each byte from COM1 (its
 *             receive interrupt wakes the guest) is answered with the TSC read right then, in hex,
 *             and the byte. Never exits: input that arrives while the guest halts must be replayed
 *             at the same guest time, not merely the same instruction count
 *   6 print, then check: EBX holds a value through a long loop (hold_loop), is printed as
 *             "sum=XXXXXXXX", and only then compared with its copy in memory; on a mismatch the
 *             guest reports a failed self-check and goes on (prints the result line and exits), as
 *             a logging guest would: a flip in EBX during the loop puts a wrong line on the console
 *             before the detection, and anything after the detection shows whether the run stopped
 *   7 hang:   a counting loop (hang_loop) ends when ECX reaches zero by steps of two: with bit 0
 *             of ECX flipped it never ends, and the guest prints nothing (a watchdog's case)
 */
        .code32
        .text
        .globl _start
_start:
        mov     scenario, %ebp
        lgdt    gdtr
        ljmp    $0x08, $1f
1:      mov     $0x10, %ax
        mov     %ax, %ds
        mov     %ax, %es
        mov     %ax, %ss
        mov     %ax, %fs
        mov     %ax, %gs
        mov     $0x180000, %esp
        /* IDT: 32 interrupt gates to the stubs */
        mov     $idt, %edi
        mov     $stubs, %edx
        mov     $32, %ecx
2:      mov     %edx, %eax
        mov     %ax, (%edi)
        movw    $0x08, 2(%edi)
        movw    $0x8E00, 4(%edi)
        shr     $16, %eax
        mov     %ax, 6(%edi)
        add     $8, %edi
        add     $8, %edx
        loop    2b
        lidt    idtr
        cmp     $0, %ebp
        je      dead
        cmp     $1, %ebp
        je      masked
        cmp     $2, %ebp
        je      callptr
        cmp     $4, %ebp
        je      echo
        cmp     $5, %ebp
        je      idle_echo
        cmp     $6, %ebp
        je      printcheck
        cmp     $7, %ebp
        je      hang
        jmp     late

printcheck:
        mov     $0x1234abcd, %ebx
        mov     %ebx, saved_sum
        .globl hold_loop
hold_loop:
        mov     $1000000, %ecx
40:     dec     %ecx
        jnz     40b
        mov     $summsg, %esi
41:     movzbl  (%esi), %eax
        test    %al, %al
        jz      42f
        call    putc
        inc     %esi
        jmp     41b
42:     call    put_hex                     /* EBX, as the guest holds it */
        mov     $10, %eax
        call    putc
        cmp     saved_sum, %ebx
        je      43f
        mov     $0x00005006, %eax
        mov     $0x528, %dx
        out     %eax, (%dx)                 /* self-check failed; the guest goes on */
43:     mov     %ebx, %eax
        jmp     print_eax_exit

hang:   mov     $-2000000, %ecx
        .globl hang_loop
hang_loop:
44:     add     $2, %ecx
        jnz     44b
        mov     $42, %eax
        jmp     print_eax_exit

idle_echo:
        /* IRQ 0 and 4 gates at vectors 0x20 and 0x24 */
        mov     $irq0, %eax
        mov     $(idt + 0x20 * 8), %edi
        call    set_gate
        mov     $irq4, %eax
        mov     $(idt + 0x24 * 8), %edi
        call    set_gate
        /* 8259s: vectors 0x20/0x28, only IRQ 0 and 4 unmasked */
        mov     $0x11, %al
        out     %al, $0x20
        out     %al, $0xA0
        mov     $0x20, %al
        out     %al, $0x21
        mov     $0x28, %al
        out     %al, $0xA1
        mov     $4, %al
        out     %al, $0x21
        mov     $2, %al
        out     %al, $0xA1
        mov     $1, %al
        out     %al, $0x21
        out     %al, $0xA1
        mov     $0xEE, %al
        out     %al, $0x21
        mov     $0xFF, %al
        out     %al, $0xA1
        /* PIT channel 0, rate generator at about 1 kHz */
        mov     $0x34, %al
        out     %al, $0x43
        mov     $1193 & 0xFF, %al
        out     %al, $0x40
        mov     $1193 >> 8, %al
        out     %al, $0x40
        /* COM1: receive interrupt on, OUT2 gates the IRQ */
        mov     $0x3F9, %dx
        mov     $1, %al
        out     %al, (%dx)
        mov     $0x3FC, %dx
        mov     $0x08, %al
        out     %al, (%dx)
14:     cli
        cmpb    $0, rxflag
        jne     15f
        sti
        hlt
        jmp     14b
15:     movb    $0, rxflag
        sti
        rdtsc
        mov     %edx, %ebx
        call    put_hex
        mov     %eax, %ebx
        call    put_hex
        mov     $' ', %eax
        call    putc
        movzbl  rxbyte, %eax
        call    putc
        mov     $10, %eax
        call    putc
        jmp     14b

/* EAX = handler, EDI = the gate: a 32-bit interrupt gate in the flat code segment */
set_gate:
        mov     %ax, (%edi)
        movw    $0x08, 2(%edi)
        movw    $0x8E00, 4(%edi)
        shr     $16, %eax
        mov     %ax, 6(%edi)
        ret

/* Prints EBX as 8 hex digits; keeps EAX and EDX */
put_hex:
        push    %eax
        push    %edx
        push    %edi
        mov     $8, %edi
16:     rol     $4, %ebx
        mov     %ebx, %eax
        and     $0xF, %eax
        movzbl  hexdigits(%eax), %eax
        call    putc
        dec     %edi
        jnz     16b
        pop     %edi
        pop     %edx
        pop     %eax
        ret

irq0:   push    %eax
        mov     $0x20, %al
        out     %al, $0x20
        pop     %eax
        iret

irq4:   push    %eax
        push    %edx
        mov     $0x3F8, %dx
        in      (%dx), %al
        mov     %al, rxbyte
        movb    $1, rxflag
        mov     $0x20, %al
        out     %al, $0x20
        pop     %edx
        pop     %eax
        iret

echo:   mov     $16, %edi
        xor     %ebx, %ebx
12:     mov     $0x3FD, %dx                 /* wait for a byte */
        in      (%dx), %al
        test    $1, %al
        jz      12b
        mov     $0x3F8, %dx
        in      (%dx), %al
        out     %al, (%dx)                  /* echo it */
        movzbl  %al, %eax
        add     %eax, %ebx
        mov     $20000, %ecx                /* busy work between bytes */
13:     dec     %ecx
        jnz     13b
        dec     %edi
        jnz     12b
        mov     %ebx, %eax
        jmp     print_eax_exit

dead:   mov     $7, %eax
        .globl dead_here
dead_here:
        mov     $5, %ebx                    /* EBX overwritten: the flip before this is dead */
        add     %ebx, %eax
        jmp     print_eax_exit

masked: mov     $0x12345678, %ecx
        .globl masked_here
masked_here:
        and     $0xFF, %ecx                 /* reads ECX; only bits 0-7 survive */
        mov     %ecx, %eax
        jmp     print_eax_exit

callptr:
        mov     $func, %esi
        mov     $3, %eax
        .globl call_here
call_here:
        call    *%esi
        jmp     print_eax_exit
func:   add     $39, %eax
        ret

late:   /* fill and sum the buffer */
        mov     $buffer, %edi
        xor     %ecx, %ecx
3:      mov     %ecx, %eax
        imul    $2654435761, %eax, %eax
        mov     %eax, (%edi,%ecx,4)
        inc     %ecx
        cmp     $1024, %ecx
        jne     3b
        call    sum_buffer
        mov     %eax, saved_sum
        /* a long loop that does not touch the buffer: about 3 million instructions */
        .globl late_loop
late_loop:
        mov     $1000000, %ecx
4:      dec     %ecx
        jnz     4b
        call    sum_buffer
        cmp     saved_sum, %eax
        je      print_eax_exit
        mov     $0x00002001, %eax
        mov     $0x528, %dx
        out     %eax, (%dx)                 /* self-check failed */
        cli
5:      hlt
        jmp     5b

sum_buffer:
        xor     %eax, %eax
        xor     %ecx, %ecx
6:      add     buffer(,%ecx,4), %eax
        rol     $3, %eax
        inc     %ecx
        cmp     $1024, %ecx
        jne     6b
        ret

/* Prints "result=XXXXXXXX\n" for EAX on COM1 and exits with status 0. */
print_eax_exit:
        mov     %eax, %ebx
        mov     $msg, %esi
7:      movzbl  (%esi), %eax
        test    %al, %al
        jz      8f
        call    putc
        inc     %esi
        jmp     7b
8:      mov     $8, %edi
9:      rol     $4, %ebx
        mov     %ebx, %eax
        and     $0xF, %eax
        movzbl  hexdigits(%eax), %eax
        call    putc
        dec     %edi
        jnz     9b
        mov     $10, %eax
        call    putc
        mov     $0xF4, %dx
        xor     %eax, %eax
        out     %eax, (%dx)
        cli
10:     hlt
        jmp     10b

putc:   mov     $0x3F8, %dx
        out     %al, (%dx)
        ret

/* Exception stubs: push the vector, report it on 0x524, halt. */
        .balign 8
stubs:
        .set    v, 0
        .rept   32
        push    $v
        jmp     report
        .balign 8
        .set    v, v+1
        .endr
report: pop     %eax
        mov     $0x524, %dx
        out     %eax, (%dx)
        cli
11:     hlt
        jmp     11b

        .data
scenario: .long 0
        .balign 8
gdt:    .quad   0
        .quad   0x00CF9A000000FFFF
        .quad   0x00CF92000000FFFF
gdtr:   .word   23
        .long   gdt
idtr:   .word   0x30 * 8 - 1
        .long   idt
msg:    .asciz  "result="
summsg: .asciz  "sum="
hexdigits: .ascii "0123456789abcdef"
saved_sum: .long 0
rxbyte: .byte 0
rxflag: .byte 0
        .balign 4096
buffer: .space  4096
idt:    .space  0x30 * 8
