/* common.h - what the pmkernel's kernel, its ring-3 task and the host oracle share:
 * the memory layout, the system call numbers, the test pattern and CRC-32. */
#ifndef PMKERNEL_COMMON_H
#define PMKERNEL_COMMON_H

#include <stdint.h>

/* Selectors. */
#define KCODE 0x08
#define KDATA 0x10
#define UCODE 0x1B
#define UDATA 0x23
#define TSSSEL 0x28

/* Linear layout. 0-4 MiB: identity, 4 KiB pages (kernel supervisor-only, the
 * user sections user-accessible). 4-8 MiB: identity, one 4 MiB page
 * (supervisor): the frame pool. 8-12 MiB: user demand-zero region. */
#define POOL_BASE    0x00400000u
#define POOL_END     0x00800000u
#define UREGION_BASE 0x00800000u
#define UREGION_END  0x00C00000u
#define USTACK_TOP   0x00C00000u
#define UBUF         0x00900800u   /* a buffer over 4 pages that are not present */
#define UBUF_LEN     12288u

/* System calls (INT 0x80): EAX = number, EBX, ECX = arguments, EAX = result. */
#define SYS_WRITE    1   /* (buf, len) -> len: console output */
#define SYS_CRC32    2   /* (buf, len) -> CRC-32 of user memory, computed by the kernel */
#define SYS_GETTICKS 3   /* () -> number of system calls so far */
#define SYS_EXIT     4   /* (status): back to the kernel */

static inline uint8_t pattern_byte(uint32_t i)
{
    return (uint8_t)((i * 37u + 11u) ^ (i >> 8));
}

static inline uint32_t crc32_bytes(const volatile uint8_t *p, uint32_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (uint32_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xEDB88320u & -(c & 1u));
    }
    return ~c;
}

/* x87calc.c: the ring-3 task's floating-point work (one object file, linked
 * into both the kernel image and the host oracle). */
#define X87_RESULTS 8
struct x87_result {
    const char *name;
    uint32_t hi, lo;       /* the 64-bit image (double) or significand (long double) */
    uint32_t exp;          /* the sign and exponent word of a long double, or 0xFFFFFFFF */
    int32_t scaled;        /* the value times 10^6, rounded by FIST */
};
void x87_compute(struct x87_result out[X87_RESULTS]);

/* fmt.c: a small snprintf (%s %c %d %u %x with width and 0 flag). */
#include <stdarg.h>
int fmt_v(char *buf, int size, const char *f, va_list ap);
int fmt(char *buf, int size, const char *f, ...);

#endif
