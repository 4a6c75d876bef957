/* rom - a ROM entered at the reset vector: real mode, protected mode, 16-bit stacks
 *
 * The machine starts it at F000:FFF0 (guests/rom/reset.S): a far jump into the ROM's alias below
 * 1 MiB, COM1 set up and real-mode checks that the ROM window ignores writes and that RAM below it
 * is RAM, then protected mode and this file: the 4 GiB copy of the ROM must equal the low one byte
 * for byte and ignore writes too, RAM above 1 MiB must work, and stack.S runs instructions that push
 * or pop on a 16-bit stack (B=0), or load SS, whose results are compared here with what the rule in
 * the Intel SDM says (each check names it). Progress goes to port 0x80 (POST codes, rom.h) and
 * every result to COM1; the exit status (isa-debug-exit, port 0xF4) is the number of failed checks.
 * The console output is therefore fixed by this source: guests/expected/rom.txt is written from it.
 */
#include <stdint.h>
#include "rom.h"

uint32_t st[ST_COUNT];                  /* stack.S's results */

void check_pop_ss(void);
void check_lss(void);
void check_enter(void);
void check_leave(void);
void check_pusha(void);
void check_iret(void);
void check_int(void);
void check_lcall(void);
void check_shadow(void);
extern char isr_db[], isr_int40[], isr_stubs[];

static int failures;

static inline void outb(uint16_t port, uint8_t v) {
    __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port) {
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static void con_putc(char c) {
    while (!(inb(COM1 + 5) & 0x20))
        ;
    outb(COM1, (uint8_t)c);
}

static void con_puts(const char *s) {
    while (*s) con_putc(*s++);
}

static void puthex(uint32_t v) {
    for (int shift = 28; shift >= 0; shift -= 4) con_putc("0123456789abcdef"[(v >> shift) & 0xF]);
}

/* One line per check: what, the value, and "ok" or the value the rule gives. */
static void expect(const char *what, uint32_t got, uint32_t rule) {
    con_puts(what);
    con_puts(" = ");
    puthex(got);
    if (got == rule) {
        con_puts(" ok\n");
    } else {
        con_puts(" FAIL, the rule gives ");
        puthex(rule);
        con_putc('\n');
        failures++;
    }
}

static void require(const char *what, int ok) {
    con_puts(what);
    con_puts(ok ? ": ok\n" : ": FAIL\n");
    if (!ok) failures++;
}

/* An interrupt gate to a 32-bit handler at ring 0. */
static void gate(int vector, void *handler) {
    volatile uint32_t *g = (volatile uint32_t *)(IDT_BASE + 8 * vector);
    uint32_t off = (uint32_t)handler;
    g[0] = (off & 0xFFFF) | (SEL_CODE32 << 16);
    g[1] = (off & 0xFFFF0000) | 0x8E00;
}

static void load_idt(void) {
    for (int v = 0; v < 256; v++) gate(v, isr_stubs + 8 * (v < 32 ? v : 13));
    gate(1, isr_db);
    gate(0x40, isr_int40);
    struct __attribute__((packed)) { uint16_t limit; uint32_t base; } idtr = {256 * 8 - 1, IDT_BASE};
    __asm__ volatile("lidt %0" : : "m"(idtr));
}

/* An exception nobody expected (stack.S's stubs come here): say which, stop with status 3. */
__attribute__((noreturn)) void rom_unexpected(uint32_t vector) {
    con_puts("rom: unexpected exception ");
    puthex(vector);
    con_putc('\n');
    __asm__ volatile("outl %0, %1" : : "a"(3u), "Nd"((uint16_t)DEBUG_EXIT));
    for (;;) __asm__ volatile("cli; hlt");
}

static void check_map(void) {
    const volatile uint8_t *low = (const volatile uint8_t *)ROM_BASE;
    const volatile uint8_t *high = (const volatile uint8_t *)ROM_HIGH;
    uint32_t differ = 0;
    for (uint32_t i = 0; i < ROM_SIZE; i++) differ += low[i] != high[i];
    expect("rom: bytes that differ between f0000-fffff and ffff0000-ffffffff", differ, 0);
    expect("rom: the opcode at the reset vector ffff_fff0 (far jmp)", high[0xFFF0], 0xEA);
    expect("rom: and its target segment at ffff_fff3", high[0xFFF3] | (uint32_t)high[0xFFF4] << 8, 0xF000);

    /* Writes to either window are dropped; a string copy out of the ROM reads what a load reads. */
    volatile uint8_t *wl = (volatile uint8_t *)(ROM_BASE + 0x100);
    volatile uint8_t *wh = (volatile uint8_t *)(ROM_HIGH + 0x200);
    uint8_t bl = *wl, bh = *wh;
    *wl = (uint8_t)~bl;
    *wh = (uint8_t)~bh;
    require("rom: a write to the low window is ignored", *wl == bl && high[0x100] == bl);
    require("rom: a write to the 4 GiB copy is ignored", *wh == bh && low[0x200] == bh);
    static uint8_t copy[256];
    void *dst = copy;
    const void *src = (const void *)(ROM_BASE + 0xFF00);
    uint32_t n = sizeof copy;
    __asm__ volatile("rep movsb" : "+D"(dst), "+S"(src), "+c"(n) : : "memory");
    uint32_t same = 0;
    for (uint32_t i = 0; i < sizeof copy; i++) same += copy[i] == low[0xFF00 + i];
    expect("rom: bytes REP MOVSB copied out of the ROM that match", same, sizeof copy);

    volatile uint32_t *ram = (volatile uint32_t *)RAM_PROBE;
    ram[0] = 0x12345678;
    ram[1] = 0x9ABCDEF0;
    require("rom: RAM above 1 MiB reads back (A20 on)", ram[0] == 0x12345678 && ram[1] == 0x9ABCDEF0);
}

/*
 * The rule (SDM Vol. 1 6.2.3, and the StackAddrSize cases of each instruction): a stack access
 * goes through SS with the address size of that SS's B flag. With B=0 the offset wraps within
 * 16 bits and only SP changes; ESP[31:16] keep their value. The SS that counts is the one the
 * access went through, not the one the instruction loads.
 */
static void check_stacks(void) {
    check_pop_ss();
    /* ESP 0002FFFC, 16-bit stack: SP FFFC + 4 wraps to 0000, ESP[31:16] = 0002 stay. */
    expect("stack16: popl %ss from the 16-bit stack: esp", st[R_POPSS16_ESP], 0x00020000);
    expect("stack16: and ss (the flat selector it popped)", st[R_POPSS16_SS], SEL_DATA32);
    /* ESP 0004FFFC, 32-bit stack: ESP + 4, although the SS it loads is 16-bit. */
    expect("stack16: popl %ss from a 32-bit stack: esp", st[R_POPSS32_ESP], 0x00050000);
    expect("stack16: and ss (the 16-bit selector it popped)", st[R_POPSS32_SS], SEL_STACK16);

    check_lss();
    /* LSS is a load: the 32-bit operand goes to ESP whole, whatever the B flag (SDM LSS). */
    expect("stack16: lssl into the 16-bit stack: esp", st[R_LSS_ESP], 0x1234FFF0);

    check_enter();
    /* ENTER 8,2, 32-bit operands, ESP 12340008, EBP AAAA0010: push EBP at 0004; frame-ptr :=
     * ESP = 12340004; copy [BP-4] (000C) to 0000; push frame-ptr at FFFC; EBP := frame-ptr;
     * SP := FFFC - 8 = FFF4. */
    expect("stack16: enter $8,$2: esp", st[R_ENTER_ESP], 0x1234FFF4);
    expect("stack16: enter $8,$2: ebp (frame-ptr, ESP after the first push)", st[R_ENTER_EBP], 0x12340004);
    expect("stack16: enter $8,$2: frame-ptr pushed at ss:fffc", st[R_ENTER_FP], 0x12340004);
    expect("stack16: enter $8,$2: frame pointer copied to ss:0000", st[R_ENTER_COPY], 0xCAFEBABE);
    expect("stack16: enter $8,$2: old ebp at ss:0004", st[R_ENTER_OLDBP], 0xAAAA0010);

    check_leave();
    /* LEAVE, ESP 1234FFF4, EBP 5678FFFC: SP := BP = FFFC, pop EBP, SP wraps to 0000. */
    expect("stack16: leave: esp", st[R_LEAVE_ESP], 0x12340000);
    expect("stack16: leave: ebp", st[R_LEAVE_EBP], 0x0BADF00D);

    check_pusha();
    /* PUSHAD at ESP 12340008: eight dwords from 0004 down to FFE8; the ESP saved is the old one. */
    expect("stack16: pushal: esp", st[R_PUSHA_ESP], 0x1234FFE8);
    expect("stack16: pushal: the esp it saved at ss:fff4", st[R_PUSHA_PUSHED], 0x12340008);
    expect("stack16: popal: esp", st[R_POPA_ESP], 0x12340008);

    check_iret();
    /* IRETD at ESP 0005FFF8: EIP at FFF8, CS at FFFC, EFLAGS at 0000, SP := 0004. */
    expect("stack16: iretl: esp", st[R_IRET_ESP], 0x00050004);
    expect("stack16: iretl: eflags (popped past the wrap)", st[R_IRET_FLAGS], 0x00000887);

    check_int();
    /* INT 0x40 at ESP 00030004: EFLAGS at 0000, CS at FFFC, EIP at FFF8; IRET back to 0004. */
    expect("stack16: int $0x40: esp in the handler", st[R_INT_ESP_IN], 0x0003FFF8);
    expect("stack16: int $0x40: cs pushed at ss:fffc", st[R_INT_CS], SEL_CODE32);
    expect("stack16: int $0x40: esp after iretl", st[R_INT_ESP], 0x00030004);

    check_lcall();
    /* LCALL at ESP 12340004: CS at 0000, EIP at FFFC; LRET back to 0004. */
    expect("stack16: lcall: esp in the callee", st[R_LCALL_ESP_IN], 0x1234FFFC);
    expect("stack16: lcall: esp after lret", st[R_LCALL_ESP], 0x12340004);
}

/*
 * SDM Vol. 3A 6.8.3: after MOV SS or POP SS, interrupts, debug exceptions and single-step traps
 * are held until the instruction after the next one has completed. The #DB handler records
 * EBX, which "movl $1, %ebx" right after the instruction sets. (STI is left out: the SDM says
 * nothing of the trap after it, and QEMU holds that trap too.)
 */
static void check_trap_shadow(void) {
    check_shadow();
    expect("shadow: single-step trap after movw %ax,%ss comes after the next insn: ebx", st[R_DB_MOVSS], 1);
    expect("shadow: single-step trap after popl %ss comes after the next insn: ebx", st[R_DB_POPSS], 1);
    expect("shadow: single-step trap after movw %ax,%ds comes at once: ebx", st[R_DB_MOVDS], 0);
}

int rom_main(void) {
    outb(POST_PORT, POST_C_MAIN);
    con_puts("rom: protected mode, 32-bit C\n");
    load_idt();
    uint8_t rm_failures;
    __asm__ volatile("movb %c1, %0" : "=q"(rm_failures) : "i"(RM_FAILURES)); /* below 4 KiB: gcc's -Warray-bounds */
    failures = rm_failures;
    check_map();
    outb(POST_PORT, POST_MAP_CHECKED);
    check_stacks();
    outb(POST_PORT, POST_STACK_CHECKED);
    check_trap_shadow();
    outb(POST_PORT, POST_SHADOW_CHECKED);
    if (failures == 0) {
        con_puts("rom: all checks passed\n");
    } else {
        con_puts("rom: checks failed: ");
        puthex((uint32_t)failures);
        con_putc('\n');
    }
    return failures;
}
