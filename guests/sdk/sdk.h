/* sdk.h - the uCheckpoint guest SDK: a tiny freestanding runtime for multiboot
 * v1 guests. The same header is used by the host oracle build (SDK_HOST
 * defined, see host.c), so a workload's source is identical on both. */
#ifndef SDK_H
#define SDK_H

#include <stdint.h>
#include <stddef.h>
#include <stdarg.h>

#ifdef SDK_HOST
/* On the host, keep clear of libc's symbols of the same name. */
#define printf  sdk_printf
#define vprintf sdk_vprintf
#define putchar sdk_putchar
#define puts    sdk_puts
#define malloc  sdk_malloc
#define free    sdk_free
#define calloc  sdk_calloc
#define realloc sdk_realloc
#define exit    sdk_exit
#endif

/* ---- Ports used by the SDK (see README.md) ---- */
#define PORT_COM1        0x3F8   /* console: 16550 UART */
#define PORT_DEBUG_EXIT  0xF4    /* isa-debug-exit: outl(status) ends the VM */
#define PORT_HEARTBEAT   0x520   /* progress marker for a hang watchdog */
#define PORT_EXC_REPORT  0x524   /* vector number of an unexpected exception */
#define PORT_CHECK_FAIL  0x528   /* id of a failed self-check */

/* ---- Exit statuses ---- */
#define EXIT_OK         0
#define EXIT_CHECK_FAIL 1        /* self-check / checksum / round-trip failure */
#define EXIT_BAD_ARGS   2        /* bad command line (or not started by multiboot) */
#define EXIT_EXCEPTION  3        /* unexpected CPU exception */

/* ---- The workload's entry point: return value = exit status ---- */
int workload_main(void);

/* ---- Console (COM1, polled; '\n' is sent as is, never translated) ---- */
int  printf(const char *fmt, ...) __attribute__((format(__printf__, 1, 2)));
int  vprintf(const char *fmt, va_list ap);
int  putchar(int c);
int  puts(const char *s);               /* writes s and '\n' */

/* ---- Ending and checking ---- */
void exit(int status) __attribute__((noreturn));
void heartbeat(uint32_t value);         /* outl(0x520, value) */
void check_failed(uint32_t id) __attribute__((noreturn));
static inline void check(int cond, uint32_t id)
{
    if (__builtin_expect(!cond, 0))
        check_failed(id);
}

/* ---- Command-line arguments: size=test|bench iters=N seed=S ---- */
int         arg_is_test(void);          /* 1 for size=test, 0 for size=bench (default) */
const char *arg_size_name(void);        /* "test" or "bench" */
uint32_t    arg_iters(uint32_t dflt);   /* iters=N if given, else dflt */
uint32_t    arg_seed(uint32_t dflt);    /* seed=S if given, else dflt */
void        args_parse(const char *cmdline); /* used by the start-up code */

/* ---- Memory ---- */
void  *malloc(size_t n);
void   free(void *p);
void  *calloc(size_t n, size_t size);
void  *realloc(void *p, size_t n);
void   heap_init(void *start, void *end);
size_t heap_size(void);                 /* bytes managed by the allocator */
size_t heap_peak(void);                 /* highest offset ever allocated in the heap */

void  *memcpy(void *d, const void *s, size_t n);
void  *memmove(void *d, const void *s, size_t n);
void  *memset(void *d, int c, size_t n);
int    memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int    strcmp(const char *a, const char *b);
int    strncmp(const char *a, const char *b, size_t n);
char  *strcpy(char *d, const char *s);

/* ---- Interrupts, PIC and PIT ---- */
typedef void (*irq_handler_t)(unsigned irq);
void irq_install(unsigned irq, irq_handler_t h); /* irq 0-15; unmasks it in the PIC */
void irq_uninstall(unsigned irq);                /* masks it again */
void sti(void);
void cli(void);
void wait_irq(void);                    /* sti; hlt: sleep until an interrupt has been handled */
void pit_start(uint32_t hz);            /* PIT channel 0, mode 2, at about hz Hz (IRQ 0) */
void pit_stop(void);                    /* masks IRQ 0 */

/* ---- Deterministic PRNG: xoshiro128** seeded by splitmix32 ---- */
struct rng { uint32_t s[4]; };

static inline uint32_t rng_rotl(uint32_t x, int k) { return (x << k) | (x >> (32 - k)); }

static inline void rng_seed(struct rng *r, uint32_t seed)
{
    for (int i = 0; i < 4; i++) {
        uint32_t z = (seed += 0x9E3779B9u);
        z = (z ^ (z >> 16)) * 0x85EBCA6Bu;
        z = (z ^ (z >> 13)) * 0xC2B2AE35u;
        r->s[i] = z ^ (z >> 16);
    }
    if ((r->s[0] | r->s[1] | r->s[2] | r->s[3]) == 0)
        r->s[0] = 1;
}

static inline uint32_t rng_next(struct rng *r)
{
    uint32_t *s = r->s;
    uint32_t result = rng_rotl(s[1] * 5, 7) * 9;
    uint32_t t = s[1] << 9;
    s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rng_rotl(s[3], 11);
    return result;
}

/* Uniform-ish in [0, n) without division (n > 0). */
static inline uint32_t rng_below(struct rng *r, uint32_t n)
{
    return (uint32_t)(((uint64_t)rng_next(r) * n) >> 32);
}

/* ---- Checksums ---- */
static inline uint32_t hash_mix(uint32_t h, uint32_t v)
{
    h ^= v * 0xCC9E2D51u;
    h = rng_rotl(h, 13) * 5 + 0xE6546B64u;
    return h;
}

static inline uint32_t hash_final(uint32_t h)
{
    h ^= h >> 16; h *= 0x85EBCA6Bu;
    h ^= h >> 13; h *= 0xC2B2AE35u;
    h ^= h >> 16;
    return h;
}

uint32_t crc32_update(uint32_t crc, const void *data, size_t n); /* crc starts at 0 */

#endif /* SDK_H */
