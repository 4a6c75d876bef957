/* runtime.c - guest start-up and machine set-up: COM1, GDT, IDT, 8259 PIC,
 * 8254 PIT, exit, heartbeat, self-check failure. No firmware has run before
 * us (multiboot), so everything is programmed here. */
#include "sdk.h"

/* ---- Port I/O ---- */
static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

/* ---- Multiboot v1 information block (the fields we use) ---- */
struct multiboot_info {
    uint32_t flags;
    uint32_t mem_lower, mem_upper;      /* KiB, valid if flags bit 0 */
    uint32_t boot_device;
    uint32_t cmdline;                   /* physical address, valid if flags bit 2 */
};
#define MULTIBOOT_BOOTLOADER_MAGIC 0x2BADB002u

extern char __image_end[];

/* ---- COM1 ---- */
#define COM1_THR 0x3F8
#define COM1_IER 0x3F9
#define COM1_FCR 0x3FA
#define COM1_LCR 0x3FB
#define COM1_MCR 0x3FC
#define COM1_LSR 0x3FD

static void uart_init(void)
{
    outb(COM1_IER, 0x00);               /* no UART interrupts: we poll */
    outb(COM1_LCR, 0x80);               /* DLAB on */
    outb(COM1_THR, 0x01);               /* divisor 1 = 115200 baud */
    outb(COM1_IER, 0x00);
    outb(COM1_LCR, 0x03);               /* 8N1, DLAB off */
    outb(COM1_FCR, 0x07);               /* FIFO on, both FIFOs cleared */
    outb(COM1_MCR, 0x03);               /* DTR, RTS (OUT2 off: no IRQ) */
}

int putchar(int c)
{
    while (!(inb(COM1_LSR) & 0x20))     /* wait for THR empty */
        ;
    outb(COM1_THR, (uint8_t)c);
    return (unsigned char)c;
}

/* ---- Exit, heartbeat, self-checks ---- */
void exit(int status)
{
    outl(PORT_DEBUG_EXIT, (uint32_t)status);
    for (;;)                            /* plain hardware: nothing to exit to */
        __asm__ volatile("cli; hlt");
}

void heartbeat(uint32_t value)
{
    outl(PORT_HEARTBEAT, value);
}

void check_failed(uint32_t id)
{
    outl(PORT_CHECK_FAIL, id);
    printf("self-check %08x failed\n", id);
    exit(EXIT_CHECK_FAIL);
}

/* ---- GDT: null, flat 32-bit code (0x08), flat 32-bit data (0x10) ----
 * Accessed bits are preset so the CPU never writes the descriptors. */
static const uint64_t gdt[3] __attribute__((aligned(8))) = {
    0,
    0x00CF9B000000FFFFull,
    0x00CF93000000FFFFull,
};

struct __attribute__((packed)) dtr {
    uint16_t limit;
    uint32_t base;
};

static void gdt_init(void)
{
    struct dtr d = { sizeof gdt - 1, (uint32_t)(uintptr_t)gdt };
    __asm__ volatile(
        "lgdt %0\n\t"
        "ljmp $0x08, $1f\n"
        "1:\n\t"
        "movw $0x10, %%ax\n\t"
        "movw %%ax, %%ds\n\t"
        "movw %%ax, %%es\n\t"
        "movw %%ax, %%fs\n\t"
        "movw %%ax, %%gs\n\t"
        "movw %%ax, %%ss\n\t"
        : : "m"(d) : "eax", "memory");
}

/* ---- IDT: vectors 0-31 exceptions, 32-47 IRQs ---- */
#define IDT_ENTRIES 48
static uint64_t idt[IDT_ENTRIES] __attribute__((aligned(8)));
extern const uint32_t isr_stub_table[IDT_ENTRIES];

struct isr_frame {
    uint32_t edi, esi, ebp, esp0, ebx, edx, ecx, eax;   /* pushal */
    uint32_t vector, err;
    uint32_t eip, cs, eflags;           /* pushed by the CPU */
};

static void idt_init(void)
{
    for (int i = 0; i < IDT_ENTRIES; i++) {
        uint32_t a = isr_stub_table[i];
        idt[i] = (uint64_t)(a & 0xFFFFu) | ((uint64_t)0x08 << 16)
               | ((uint64_t)0x8E00 << 32)               /* present, DPL 0, 32-bit interrupt gate */
               | ((uint64_t)(a >> 16) << 48);
    }
    struct dtr d = { sizeof idt - 1, (uint32_t)(uintptr_t)idt };
    __asm__ volatile("lidt %0" : : "m"(d) : "memory");
}

/* ---- 8259 PIC pair: remapped to 0x20/0x28, everything masked ---- */
#define PIC1_CMD  0x20
#define PIC1_DATA 0x21
#define PIC2_CMD  0xA0
#define PIC2_DATA 0xA1

static uint16_t irq_mask = 0xFFFF;      /* bit set = masked */
static irq_handler_t irq_handlers[16];

static void pic_write_mask(void)
{
    outb(PIC1_DATA, (uint8_t)irq_mask);
    outb(PIC2_DATA, (uint8_t)(irq_mask >> 8));
}

static void pic_init(void)
{
    outb(PIC1_CMD, 0x11);               /* ICW1: edge, cascade, ICW4 */
    outb(PIC2_CMD, 0x11);
    outb(PIC1_DATA, 0x20);              /* ICW2: vector base */
    outb(PIC2_DATA, 0x28);
    outb(PIC1_DATA, 0x04);              /* ICW3: slave on IRQ 2 */
    outb(PIC2_DATA, 0x02);
    outb(PIC1_DATA, 0x01);              /* ICW4: 8086 mode, normal EOI */
    outb(PIC2_DATA, 0x01);
    irq_mask = 0xFFFF;
    pic_write_mask();
}

static uint32_t irq_save(void)
{
    uint32_t fl;
    __asm__ volatile("pushfl; popl %0; cli" : "=r"(fl) : : "memory");
    return fl;
}

static void irq_restore(uint32_t fl)
{
    if (fl & 0x200)
        __asm__ volatile("sti" : : : "memory");
}

void irq_install(unsigned irq, irq_handler_t h)
{
    if (irq >= 16)
        return;
    uint32_t fl = irq_save();
    irq_handlers[irq] = h;
    irq_mask &= (uint16_t)~(1u << irq);
    if (irq >= 8)
        irq_mask &= (uint16_t)~(1u << 2);   /* cascade */
    pic_write_mask();
    irq_restore(fl);
}

void irq_uninstall(unsigned irq)
{
    if (irq >= 16)
        return;
    uint32_t fl = irq_save();
    irq_mask |= (uint16_t)(1u << irq);
    irq_handlers[irq] = 0;
    pic_write_mask();
    irq_restore(fl);
}

void sti(void)      { __asm__ volatile("sti" : : : "memory"); }
void cli(void)      { __asm__ volatile("cli" : : : "memory"); }
void wait_irq(void) { __asm__ volatile("sti; hlt" : : : "memory"); }

/* ---- 8254 PIT channel 0 ---- */
#define PIT_HZ 1193182u

void pit_start(uint32_t hz)
{
    uint32_t div = hz ? PIT_HZ / hz : 0;
    if (div < 2) div = 2;
    if (div > 65535) div = 0;           /* 0 means 65536 */
    uint32_t fl = irq_save();
    outb(0x43, 0x34);                   /* channel 0, lobyte/hibyte, mode 2, binary */
    outb(0x40, (uint8_t)div);
    outb(0x40, (uint8_t)(div >> 8));
    irq_restore(fl);
}

void pit_stop(void)
{
    irq_uninstall(0);
}

static uint8_t pic_isr(unsigned pic_cmd)
{
    outb((uint16_t)pic_cmd, 0x0B);      /* OCW3: read ISR */
    return inb((uint16_t)pic_cmd);
}

/* Called from isr_common with interrupts disabled. */
void isr_dispatch(struct isr_frame *f);
void isr_dispatch(struct isr_frame *f)
{
    uint32_t v = f->vector;
    if (v < 32) {
        printf("unexpected exception %u at eip=%08x err=%x\n", v, f->eip, f->err);
        outl(PORT_EXC_REPORT, v);
        exit(EXIT_EXCEPTION);
    }
    unsigned irq = v - 32;
    if (irq == 7 && !(pic_isr(PIC1_CMD) & 0x80))
        return;                         /* spurious: no EOI */
    if (irq == 15 && !(pic_isr(PIC2_CMD) & 0x80)) {
        outb(PIC1_CMD, 0x20);           /* the master did see the cascade */
        return;
    }
    irq_handler_t h = irq_handlers[irq];
    if (h)
        h(irq);
    if (irq >= 8)
        outb(PIC2_CMD, 0x20);
    outb(PIC1_CMD, 0x20);
}

/* ---- Start-up: called by crt0 with the multiboot magic and info ---- */
static char cmdline_copy[1024];

int sdk_start(uint32_t magic, const struct multiboot_info *mbi);
int sdk_start(uint32_t magic, const struct multiboot_info *mbi)
{
    uart_init();
    gdt_init();
    idt_init();
    pic_init();

    if (magic != MULTIBOOT_BOOTLOADER_MAGIC) {
        printf("not started by a multiboot loader (eax=%08x)\n", magic);
        return EXIT_BAD_ARGS;
    }

    /* Copy the command line before the heap may overwrite it (loaders often
     * place the info block and strings right after the image). */
    if (mbi->flags & 4u) {
        const char *s = (const char *)(uintptr_t)mbi->cmdline;
        size_t i = 0;
        while (s[i] && i < sizeof cmdline_copy - 1) {
            cmdline_copy[i] = s[i];
            i++;
        }
        cmdline_copy[i] = 0;
    }

    uint32_t top = 0x100000u + 32u * 1024 * 1024;   /* if the loader says nothing */
    if (mbi->flags & 1u) {
        uint32_t upper = mbi->mem_upper;
        if (upper > 3u * 1024 * 1024)   /* cap at 3 GiB */
            upper = 3u * 1024 * 1024;
        top = 0x100000u + upper * 1024u;
    }

    args_parse(cmdline_copy);
    heap_init(__image_end, (void *)(uintptr_t)top);
    return workload_main();
}
