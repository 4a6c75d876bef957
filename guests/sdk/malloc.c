/* malloc.c - the SDK allocator (also used by the host shim over a static
 * arena): boundary tags, immediate coalescing, segregated free lists.
 *
 * A block starts with a 4-byte header: size (multiple of 8, >= 16) | flags.
 * Payloads are 8-byte aligned. A free block also holds next/prev links after
 * the header and a copy of its size in its last word (the footer).
 * Bins 0..127 hold free blocks of exactly 8*i bytes; bins 128.. hold blocks of
 * 2^k..2^(k+1)-1 bytes for k >= 10. A bitmap finds the next non-empty bin.
 * The heap ends with a zero-size in-use header (the epilogue). */
#include "sdk.h"

#define IN_USE     1u
#define PREV_USED  2u
#define FLAGS      7u
#define MIN_BLOCK  16u
#define NSMALL     128u                 /* exact bins for sizes < 1024 */
#define NBINS      (NSMALL + 22u)
#define BITMAP_WORDS ((NBINS + 31) / 32)

struct fblock {                         /* overlays a free block */
    uint32_t hdr;
    struct fblock *next, *prev;
};

static struct fblock *bins[NBINS];
static uint32_t bitmap[BITMAP_WORDS];
static uint8_t *heap_lo, *heap_hi;      /* first header, epilogue header */
static uint8_t *heap_top;               /* high-water mark of allocated blocks */

#define HDR(b)        (((struct fblock *)(b))->hdr)
#define BSIZE(b)      (HDR(b) & ~FLAGS)
#define NEXT_BLK(b)   ((uint8_t *)(b) + BSIZE(b))

static void heap_corrupt(uint32_t what)
{
    check_failed(0xA110C000u | what);
}

static unsigned bin_of(uint32_t size)
{
    if (size < 1024)
        return size >> 3;
    unsigned k = 31 - (unsigned)__builtin_clz(size);   /* >= 10 */
    unsigned b = NSMALL + (k - 10);
    return b < NBINS ? b : NBINS - 1;
}

static void set_footer(uint8_t *b, uint32_t size)
{
    *(uint32_t *)(b + size - 4) = size;
}

static void bin_insert(struct fblock *f)
{
    unsigned b = bin_of(BSIZE(f));
    f->prev = 0;
    f->next = bins[b];
    if (f->next)
        f->next->prev = f;
    bins[b] = f;
    bitmap[b >> 5] |= 1u << (b & 31);
}

static void bin_remove(struct fblock *f)
{
    unsigned b = bin_of(BSIZE(f));
    if (f->prev)
        f->prev->next = f->next;
    else {
        if (bins[b] != f)
            heap_corrupt(1);
        bins[b] = f->next;
        if (!f->next)
            bitmap[b >> 5] &= ~(1u << (b & 31));
    }
    if (f->next)
        f->next->prev = f->prev;
}

void heap_init(void *start, void *end)
{
    uintptr_t a = ((uintptr_t)start + 7) & ~(uintptr_t)7;
    uintptr_t e = ((uintptr_t)end & ~(uintptr_t)7) - 4;
    a += 4;
    memset(bins, 0, sizeof bins);
    memset(bitmap, 0, sizeof bitmap);
    if (e <= a || e - a < 64) {
        heap_lo = heap_hi = heap_top = 0;
        return;
    }
    heap_lo = (uint8_t *)a;
    heap_hi = (uint8_t *)e;
    heap_top = 0;
    uint32_t size = (uint32_t)(e - a);
    HDR(heap_lo) = size | PREV_USED;
    set_footer(heap_lo, size);
    HDR(heap_hi) = 0 | IN_USE;          /* epilogue */
    bin_insert((struct fblock *)heap_lo);
}

size_t heap_size(void)
{
    return heap_lo ? (size_t)(heap_hi - heap_lo) : 0;
}

size_t heap_peak(void)
{
    return heap_top ? (size_t)(heap_top - heap_lo) : 0;
}

static struct fblock *find_fit(uint32_t size)
{
    unsigned b = bin_of(size);
    if (b >= NSMALL) {                  /* a range bin: first fit, bounded scan */
        int scan = 32;
        for (struct fblock *f = bins[b]; f && scan; f = f->next, scan--)
            if (BSIZE(f) >= size)
                return f;
        b++;
    }
    /* any block in a bin >= b fits (exact bins: same size; range bins: larger) */
    for (unsigned w = b >> 5; w < BITMAP_WORDS; w++) {
        uint32_t m = bitmap[w];
        if (w == (b >> 5))
            m &= ~0u << (b & 31);
        if (m)
            return bins[(w << 5) + (unsigned)__builtin_ctz(m)];
    }
    return 0;
}

void *malloc(size_t n)
{
    if (n > 0x7FFFFF00u || !heap_lo)
        return 0;
    uint32_t size = ((uint32_t)n + 4 + 7) & ~7u;
    if (size < MIN_BLOCK)
        size = MIN_BLOCK;
    struct fblock *f = find_fit(size);
    if (!f)
        return 0;
    if ((HDR(f) & IN_USE) || BSIZE(f) < size)
        heap_corrupt(2);
    bin_remove(f);
    uint8_t *b = (uint8_t *)f;
    uint32_t have = BSIZE(f);
    uint32_t prev = HDR(f) & PREV_USED;
    if (have - size >= MIN_BLOCK) {     /* split; the rest stays free */
        uint8_t *r = b + size;
        HDR(r) = (have - size) | PREV_USED;
        set_footer(r, have - size);
        bin_insert((struct fblock *)r);
        HDR(b) = size | prev | IN_USE;
    } else {
        HDR(b) = have | prev | IN_USE;
        HDR(b + have) |= PREV_USED;
    }
    if (b + BSIZE(b) > heap_top)
        heap_top = b + BSIZE(b);
    return b + 4;
}

void free(void *p)
{
    if (!p)
        return;
    uint8_t *b = (uint8_t *)p - 4;
    if (b < heap_lo || b >= heap_hi || ((uintptr_t)p & 7) || !(HDR(b) & IN_USE))
        heap_corrupt(3);
    uint32_t size = BSIZE(b);
    uint8_t *nb = b + size;
    if (nb > heap_hi)
        heap_corrupt(4);
    if (!(HDR(nb) & IN_USE)) {          /* merge with the next block */
        bin_remove((struct fblock *)nb);
        size += BSIZE(nb);
    }
    uint32_t prev_used = HDR(b) & PREV_USED;
    if (!prev_used) {                   /* merge with the previous block */
        uint32_t psize = *(uint32_t *)(b - 4);
        uint8_t *pb = b - psize;
        if (pb < heap_lo || BSIZE(pb) != psize || (HDR(pb) & IN_USE))
            heap_corrupt(5);
        bin_remove((struct fblock *)pb);
        b = pb;
        size += psize;
        prev_used = HDR(pb) & PREV_USED;
    }
    HDR(b) = size | prev_used;
    set_footer(b, size);
    HDR(b + size) &= ~PREV_USED;
    bin_insert((struct fblock *)b);
}

void *calloc(size_t n, size_t size)
{
    uint64_t total = (uint64_t)n * size;
    if (total > 0x7FFFFF00u)
        return 0;
    void *p = malloc((size_t)total);
    if (p)
        memset(p, 0, (size_t)total);
    return p;
}

void *realloc(void *p, size_t n)
{
    if (!p)
        return malloc(n);
    uint8_t *b = (uint8_t *)p - 4;
    if (b < heap_lo || b >= heap_hi || !(HDR(b) & IN_USE))
        heap_corrupt(6);
    uint32_t have = BSIZE(b) - 4;
    if (n <= have)
        return p;
    void *q = malloc(n);
    if (q) {
        memcpy(q, p, have);
        free(p);
    }
    return q;
}

/* CRC-32 (IEEE, reflected), bytewise with a table built on first use. */
static uint32_t crc_table[256];
static int crc_ready;

uint32_t crc32_update(uint32_t crc, const void *data, size_t n)
{
    if (!crc_ready) {
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++)
                c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            crc_table[i] = c;
        }
        crc_ready = 1;
    }
    const uint8_t *s = (const uint8_t *)data;
    crc = ~crc;
    while (n--)
        crc = crc_table[(crc ^ *s++) & 0xFF] ^ (crc >> 8);
    return ~crc;
}
