/* user.c - the pmkernel's ring-3 task. It runs on a stack the kernel has not
 * mapped yet, fills a buffer over four pages that are not present (page
 * faults in the middle of REP STOSL, each resumed), writes a page the kernel
 * made read-only (copy-on-write), does x87 arithmetic, and talks to the kernel
 * only through INT 0x80. Everything here lives in pages mapped user-accessible. */
#include "common.h"

static inline uint32_t syscall2(uint32_t n, uint32_t a, uint32_t b)
{
    uint32_t r;
    __asm__ volatile("int $0x80" : "=a"(r) : "a"(n), "b"(a), "c"(b) : "memory");
    return r;
}

/* SYSENTER: EDX and ECX carry the return EIP and ESP for SYSEXIT. */
static inline uint32_t sysenter2(uint32_t n, uint32_t a)
{
    uint32_t r;
    __asm__ volatile("movl %%esp, %%ecx\n\t"
                     "movl $1f, %%edx\n\t"
                     "sysenter\n"
                     "1:"
                     : "=a"(r) : "a"(n), "b"(a) : "ecx", "edx", "memory");
    return r;
}

static void say(const char *f, ...)
{
    char buf[128];
    va_list ap;
    va_start(ap, f);
    int n = fmt_v(buf, sizeof buf, f, ap);
    va_end(ap);
    syscall2(SYS_WRITE, (uint32_t)buf, (uint32_t)n);
}

/* A page of its own, mapped read-only: the first write faults and the kernel
 * makes it writable (a copy-on-write in miniature). */
volatile uint32_t cow_page[1024] __attribute__((section(".ucow"), aligned(4096))) = {0x600DF00D};

static struct x87_result results[X87_RESULTS];

void user_main(void)
{
    say("user: hello from ring 3, cs=%x\n", ({ uint32_t cs; __asm__("movl %%cs, %0" : "=r"(cs)); cs; }));

    /* Demand-zero pages: REP STOSL across four pages that are not present. */
    uint32_t fill = 0xA5A5A5A5u, count = UBUF_LEN / 4;
    void *dst = (void *)UBUF;
    __asm__ volatile("cld; rep stosl" : "+D"(dst), "+c"(count) : "a"(fill) : "memory");
    volatile uint8_t *buf = (volatile uint8_t *)UBUF;
    uint32_t filled = 1;
    for (uint32_t i = 0; i < UBUF_LEN; i++) if (buf[i] != 0xA5) filled = 0;
    for (uint32_t i = 0; i < UBUF_LEN; i++) buf[i] = pattern_byte(i);
    uint32_t mine = crc32_bytes(buf, UBUF_LEN);
    uint32_t kernels = syscall2(SYS_CRC32, UBUF, UBUF_LEN);
    say("user: rep stosl filled=%u, crc32 user=%08x kernel=%08x\n", filled, mine, kernels);

    /* Copy-on-write. */
    uint32_t before = cow_page[0];
    cow_page[0] = before + 1;
    say("user: cow page %08x -> %08x\n", before, cow_page[0]);

    /* The fast system call path. */
    uint32_t n = sysenter2(SYS_GETTICKS, 0);
    say("user: sysenter/sysexit system call: %u so far\n", n);

    /* x87. */
    x87_compute(results);
    for (int i = 0; i < X87_RESULTS; i++) {
        struct x87_result *r = &results[i];
        if (r->exp == 0xFFFFFFFFu)
            say("x87: %s = %08x%08x (x1e6 %d)\n", r->name, r->hi, r->lo, r->scaled);
        else
            say("x87: %s = %04x:%08x%08x (x1e6 %d)\n", r->name, r->exp, r->hi, r->lo, r->scaled);
    }

    say("user: %u system calls so far\n", syscall2(SYS_GETTICKS, 0, 0));
    syscall2(SYS_EXIT, 0, 0);
    for (;;) {}
}
