/* pmkernel - a small protected-mode kernel: its own GDT with ring-3 segments
 * and a TSS, an IDT, paging with 4 KiB and 4 MiB pages (CR0.WP on), a ring-3
 * task that makes system calls through a DPL 3 interrupt gate (and one with
 * SYSENTER/SYSEXIT), demand-zero
 * page faults resumed in the middle of REP STOSL, a copy-on-write fault, and
 * x87 arithmetic in ring 3. Its console output is compared with an oracle
 * computed on the host (oracle.c). */
#include "common.h"

struct regs {
    uint32_t es, ds;
    uint32_t edi, esi, ebp, esp0, ebx, edx, ecx, eax;
    uint32_t vector, err;
    uint32_t eip, cs, eflags, uesp, uss;
};

struct tss {
    uint32_t link, esp0, ss0, esp1, ss1, esp2, ss2, cr3, eip, eflags;
    uint32_t eax, ecx, edx, ebx, esp, ebp, esi, edi;
    uint32_t es, cs, ss, ds, fs, gs, ldt;
    uint16_t trap, iomap;
};

extern char __user_start[], __user_end[], __ucow_start[];
extern void user_entry(void);
extern void sysenter_entry(void);
extern uint32_t enter_user(uint32_t eip, uint32_t esp);
extern void leave_user(uint32_t status) __attribute__((noreturn));
void kexit(uint32_t status) __attribute__((noreturn));

static uint64_t gdt[6];
static uint64_t idt[256];
static struct tss tss;
static uint8_t ring0_stack[8192] __attribute__((aligned(16)));
static uint8_t sysenter_stack[4096] __attribute__((aligned(16)));
static uint32_t page_dir[1024] __attribute__((aligned(4096)));
static uint32_t pt_low[1024] __attribute__((aligned(4096)));   /* 0-4 MiB */
static uint32_t pt_user[1024] __attribute__((aligned(4096)));  /* 8-12 MiB */
static uint32_t next_frame = POOL_BASE;
static uint32_t demand_faults, cow_faults, syscalls;
static uint32_t fault_addr[8];

/* --- console ------------------------------------------------------------------------------- */

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline void wrmsr(uint32_t msr, uint32_t lo) { __asm__ volatile("wrmsr" : : "c"(msr), "a"(lo), "d"(0)); }
static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port)); }

static void serial_init(void)
{
    outb(0x3F9, 0x00);
    outb(0x3FB, 0x80);
    outb(0x3F8, 0x01);
    outb(0x3F9, 0x00);
    outb(0x3FB, 0x03);
    outb(0x3FA, 0xC7);
    outb(0x3FC, 0x03);
}

static void putch(char c)
{
    while (!(inb(0x3FD) & 0x20)) {}
    outb(0x3F8, (uint8_t)c);
}

static void kprint(const char *f, ...)
{
    char buf[160];
    va_list ap;
    va_start(ap, f);
    fmt_v(buf, sizeof buf, f, ap);
    va_end(ap);
    for (const char *p = buf; *p; p++) putch(*p);
}

void kexit(uint32_t status)
{
    outl(0xF4, status);
    for (;;) __asm__ volatile("cli; hlt");
}

/* --- descriptors --------------------------------------------------------------------------- */

static uint64_t segment(uint32_t base, uint32_t limit, uint32_t access, uint32_t flags)
{
    return (uint64_t)(limit & 0xFFFF) | (uint64_t)(base & 0xFFFFFF) << 16 | (uint64_t)access << 40
         | (uint64_t)((limit >> 16) & 0xF) << 48 | (uint64_t)flags << 52 | (uint64_t)(base >> 24) << 56;
}

static void gate(int v, void (*handler)(void), int dpl)
{
    uint32_t off = (uint32_t)handler;
    idt[v] = (uint64_t)(off & 0xFFFF) | (uint64_t)KCODE << 16 | (uint64_t)(0x8E | dpl << 5) << 40
           | (uint64_t)(off >> 16) << 48;
}

#define STUB(n) extern void isr_##n(void)
STUB(0); STUB(1); STUB(2); STUB(3); STUB(4); STUB(5); STUB(6); STUB(7); STUB(8); STUB(9);
STUB(10); STUB(11); STUB(12); STUB(13); STUB(14); STUB(15); STUB(16); STUB(17); STUB(18); STUB(19);
STUB(128);

static void setup_descriptors(void)
{
    gdt[1] = segment(0, 0xFFFFF, 0x9A, 0xC);
    gdt[2] = segment(0, 0xFFFFF, 0x92, 0xC);
    gdt[3] = segment(0, 0xFFFFF, 0xFA, 0xC);
    gdt[4] = segment(0, 0xFFFFF, 0xF2, 0xC);
    tss.ss0 = KDATA;
    tss.esp0 = (uint32_t)(ring0_stack + sizeof ring0_stack);
    tss.iomap = sizeof tss;   /* no I/O bitmap: ring 3 may not touch ports */
    gdt[5] = segment((uint32_t)&tss, sizeof tss - 1, 0x89, 0x0);
    struct { uint16_t limit; uint32_t base; } __attribute__((packed)) gdtr = {sizeof gdt - 1, (uint32_t)gdt};
    __asm__ volatile("lgdt %0\n\t"
                     "ljmp %1, $1f\n"
                     "1:\n\t"
                     "movw %w2, %%ax\n\t"
                     "movw %%ax, %%ds\n\t"
                     "movw %%ax, %%es\n\t"
                     "movw %%ax, %%fs\n\t"
                     "movw %%ax, %%gs\n\t"
                     "movw %%ax, %%ss"
                     : : "m"(gdtr), "i"(KCODE), "r"(KDATA) : "eax", "memory");
    __asm__ volatile("ltr %w0" : : "r"(TSSSEL));

    void (*stubs[20])(void) = {isr_0, isr_1, isr_2, isr_3, isr_4, isr_5, isr_6, isr_7, isr_8, isr_9,
                               isr_10, isr_11, isr_12, isr_13, isr_14, isr_15, isr_16, isr_17, isr_18, isr_19};
    for (int v = 0; v < 20; v++) gate(v, stubs[v], 0);
    gate(0x80, isr_128, 3);
    wrmsr(0x174, KCODE);   /* SYSENTER_CS: ring 3 gets KCODE + 16 | 3 = UCODE, KCODE + 24 | 3 = UDATA */
    wrmsr(0x175, (uint32_t)(sysenter_stack + sizeof sysenter_stack));
    wrmsr(0x176, (uint32_t)sysenter_entry);
    struct { uint16_t limit; uint32_t base; } __attribute__((packed)) idtr = {sizeof idt - 1, (uint32_t)idt};
    __asm__ volatile("lidt %0" : : "m"(idtr));
}

/* --- paging -------------------------------------------------------------------------------- */

#define PTE_P 1u
#define PTE_W 2u
#define PTE_U 4u
#define PDE_PS 0x80u

static inline void invlpg(uint32_t a) { __asm__ volatile("invlpg (%0)" : : "r"(a) : "memory"); }
static inline uint32_t read_cr2(void) { uint32_t v; __asm__ volatile("movl %%cr2, %0" : "=r"(v)); return v; }

static void setup_paging(void)
{
    uint32_t ustart = (uint32_t)__user_start, uend = (uint32_t)__user_end, cow = (uint32_t)__ucow_start;
    for (uint32_t i = 1; i < 1024; i++) {   /* page 0 stays unmapped */
        uint32_t a = i << 12, flags = PTE_P | PTE_W;
        if (a >= ustart && a < uend) flags = a == cow ? PTE_P | PTE_U : PTE_P | PTE_W | PTE_U;
        pt_low[i] = a | flags;
    }
    page_dir[0] = (uint32_t)pt_low | PTE_P | PTE_W | PTE_U;
    page_dir[1] = POOL_BASE | PTE_P | PTE_W | PDE_PS;          /* one 4 MiB page */
    page_dir[2] = (uint32_t)pt_user | PTE_P | PTE_W | PTE_U;  /* empty: demand-zero */
    uint32_t cr4, cr0;
    __asm__ volatile("movl %%cr4, %0" : "=r"(cr4));
    __asm__ volatile("movl %0, %%cr4" : : "r"(cr4 | 0x10));     /* PSE */
    __asm__ volatile("movl %0, %%cr3" : : "r"(page_dir));
    cr0 = 0x80010033;                                          /* PG WP NE ET MP PE */
    __asm__ volatile("movl %0, %%cr0" : : "r"(cr0) : "memory");
}

static void page_fault(struct regs *r)
{
    uint32_t a = read_cr2();
    if (!(r->err & PTE_P) && a >= UREGION_BASE && a < UREGION_END && next_frame < POOL_END) {
        if (demand_faults < 8) fault_addr[demand_faults] = a;
        uint32_t frame = next_frame;
        next_frame += 4096;
        uint32_t *p = (uint32_t *)frame;   /* the pool is identity-mapped (the 4 MiB page) */
        for (int i = 0; i < 1024; i++) p[i] = 0;
        pt_user[(a - UREGION_BASE) >> 12] = frame | PTE_P | PTE_W | PTE_U;
        demand_faults++;
        return;
    }
    if ((r->err & 7) == 7 && (a & ~0xFFFu) == (uint32_t)__ucow_start) {
        pt_low[a >> 12] |= PTE_W;
        invlpg(a);
        cow_faults++;
        return;
    }
    kprint("kernel: unexpected page fault at eip=%08x cr2=%08x err=%x\n", r->eip, a, r->err);
    kexit(3);
}

/* --- system calls ---------------------------------------------------------------------------- */

static int user_range(uint32_t p, uint32_t n)
{
    if (p + n < p) return 0;
    return (p >= (uint32_t)__user_start && p + n <= (uint32_t)__user_end)
        || (p >= UREGION_BASE && p + n <= UREGION_END);
}

static void system_call(struct regs *r)
{
    syscalls++;
    switch (r->eax) {
    case SYS_WRITE:
        if (!user_range(r->ebx, r->ecx)) { r->eax = (uint32_t)-1; return; }
        for (uint32_t i = 0; i < r->ecx; i++) putch(((const char *)r->ebx)[i]);
        r->eax = r->ecx;
        return;
    case SYS_CRC32:
        r->eax = user_range(r->ebx, r->ecx) ? crc32_bytes((const uint8_t *)r->ebx, r->ecx) : 0;
        return;
    case SYS_GETTICKS:
        r->eax = syscalls;
        return;
    case SYS_EXIT:
        leave_user(r->ebx);
    default:
        r->eax = (uint32_t)-1;
    }
}

/* The SYSENTER path: the same calls, fewer of them (no pointers, no exit). */
uint32_t sysenter_dispatch(uint32_t nr, uint32_t arg)
{
    (void)arg;
    syscalls++;
    return nr == SYS_GETTICKS ? syscalls : (uint32_t)-1;
}

void isr_dispatch(struct regs *r)
{
    if (r->vector == 14) {
        page_fault(r);
        return;
    }
    if (r->vector == 0x80) {
        system_call(r);
        return;
    }
    kprint("kernel: unexpected exception %u at eip=%08x err=%x\n", r->vector, r->eip, r->err);
    kexit(3);
}

/* --- main ------------------------------------------------------------------------------------ */

int kmain(uint32_t magic, uint32_t info)
{
    (void)info;
    serial_init();
    kprint("pmkernel: protected-mode kernel test\n");
    if (magic != 0x2BADB002) {
        kprint("pmkernel: not started by a multiboot loader\n");
        return 2;
    }
    setup_descriptors();
    setup_paging();
    uint32_t cr0, cr4;
    __asm__ volatile("movl %%cr0, %0; movl %%cr4, %1" : "=r"(cr0), "=r"(cr4));
    kprint("kernel: paging on, cr0=%08x cr4=%08x\n", cr0, cr4 & 0x10);

    uint32_t status = enter_user((uint32_t)user_entry, USTACK_TOP);

    kprint("kernel: task exited with status %u after %u system calls\n", status, syscalls);
    kprint("kernel: page faults: %u demand-zero, %u copy-on-write\n", demand_faults, cow_faults);
    kprint("kernel: demand-zero faults at");
    for (uint32_t i = 0; i < demand_faults && i < 8; i++) kprint(" %08x", fault_addr[i]);
    kprint("\n");
    uint32_t ok = status == 0 && demand_faults == 5 && cow_faults == 1;
    kprint("pmkernel: %s\n", ok ? "ok" : "FAILED");
    return ok ? 0 : 1;
}
