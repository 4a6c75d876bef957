/* oracle.c - the pmkernel's expected console output, computed on the host:
 * the x87 results by the very same object file (x87calc.o) on the host's own
 * FPU, the CRC-32 of the test pattern by plain C, and the kernel's fixed lines
 * (the page faults follow from the memory layout in common.h: one stack page,
 * UBUF over four pages, one copy-on-write page; the system calls are counted
 * as the task makes them). */
#include <stdio.h>
#include "common.h"

static void out(const char *f, ...)
{
    char buf[160];
    va_list ap;
    va_start(ap, f);
    fmt_v(buf, sizeof buf, f, ap);
    va_end(ap);
    fputs(buf, stdout);
}

int main(void)
{
    static uint8_t buf[UBUF_LEN];
    for (uint32_t i = 0; i < UBUF_LEN; i++) buf[i] = pattern_byte(i);
    uint32_t crc = crc32_bytes(buf, UBUF_LEN);
    struct x87_result r[X87_RESULTS];
    x87_compute(r);
    uint32_t syscalls = 0;

    out("pmkernel: protected-mode kernel test\n");
    out("kernel: paging on, cr0=%08x cr4=%08x\n", 0x80010033, 0x10);
    out("user: hello from ring 3, cs=%x\n", UCODE); syscalls++;
    syscalls++; /* SYS_CRC32 */
    out("user: rep stosl filled=%u, crc32 user=%08x kernel=%08x\n", 1, crc, crc); syscalls++;
    out("user: cow page %08x -> %08x\n", 0x600DF00D, 0x600DF00E); syscalls++;
    syscalls++; /* SYSENTER GETTICKS */
    out("user: sysenter/sysexit system call: %u so far\n", syscalls); syscalls++;
    for (int i = 0; i < X87_RESULTS; i++) {
        if (r[i].exp == 0xFFFFFFFFu)
            out("x87: %s = %08x%08x (x1e6 %d)\n", r[i].name, r[i].hi, r[i].lo, r[i].scaled);
        else
            out("x87: %s = %04x:%08x%08x (x1e6 %d)\n", r[i].name, r[i].exp, r[i].hi, r[i].lo, r[i].scaled);
        syscalls++;
    }
    syscalls++; /* SYS_GETTICKS */
    out("user: %u system calls so far\n", syscalls); syscalls++;
    syscalls++; /* SYS_EXIT */
    out("kernel: task exited with status %u after %u system calls\n", 0, syscalls);
    out("kernel: page faults: %u demand-zero, %u copy-on-write\n", 5, 1);
    /* The first push onto the unmapped stack (the CALL of user_main), then REP STOSL at UBUF
     * and at each following page boundary. */
    out("kernel: demand-zero faults at %08x %08x %08x %08x %08x\n",
        USTACK_TOP - 4, UBUF, (UBUF & ~0xFFFu) + 0x1000, (UBUF & ~0xFFFu) + 0x2000, (UBUF & ~0xFFFu) + 0x3000);
    out("pmkernel: ok\n");
    return 0;
}
