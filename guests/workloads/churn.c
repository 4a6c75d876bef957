/* churn - write-heavy hash table with allocator churn: inserts, updates, deletes and verified lookups of variable-size records over a working set of 16+ MiB */
#include "sdk.h"

struct entry {
    struct entry *next;
    uint32_t key, version, words;
    uint32_t data[];
};

#define NBUCKETS (1u << 16)
#define NBLOBS   32

static struct entry **buckets;
static uint32_t live, live_words;

static inline uint32_t bucket_of(uint32_t key) { return (key * 0x9E3779B1u) >> 16; }

static inline uint32_t pattern0(uint32_t key, uint32_t version) { return (key * 0x85EBCA6Bu) ^ (version * 0x27D4EB2Fu); }

/* Records are filled with one 32-bit pattern word per (key, version) using
 * rep stosl and verified with repe scasl: a store-heavy workload that also
 * exercises the string instructions (the same code runs on the host). */
static inline void fill_words(uint32_t *p, uint32_t n, uint32_t v)
{
    __asm__ volatile("rep stosl" : "+D"(p), "+c"(n) : "a"(v) : "memory");
}

static inline int all_words(const uint32_t *p, uint32_t n, uint32_t v)
{
    if (n == 0) return 1;
    uint8_t eq;
    __asm__ volatile("repe scasl; sete %0" : "=q"(eq), "+D"(p), "+c"(n) : "a"(v) : "memory", "cc");
    return eq && n == 0;
}

static void fill(struct entry *e)
{
    fill_words(e->data, e->words, pattern0(e->key, e->version));
}

static void verify(const struct entry *e)
{
    check(all_words(e->data, e->words, pattern0(e->key, e->version)), 0x8003);
}

/* sizes: mostly small records, some medium, a few large */
static uint32_t random_words(struct rng *r)
{
    uint32_t x = rng_below(r, 100);
    if (x < 55) return 8 + rng_below(r, 64);
    if (x < 93) return 72 + rng_below(r, 128);
    return 200 + rng_below(r, 384);
}

static struct entry *new_entry(uint32_t key, uint32_t version, uint32_t words)
{
    struct entry *e = malloc(sizeof *e + words * 4);
    check(e != 0, 0x8002);
    e->key = key; e->version = version; e->words = words;
    fill(e);
    live++; live_words += words;
    return e;
}

static void drop_entry(struct entry *e)
{
    verify(e);
    live--; live_words -= e->words;
    free(e);
}

static struct entry **find(uint32_t key)
{
    struct entry **pp = &buckets[bucket_of(key)];
    while (*pp && (*pp)->key != key) pp = &(*pp)->next;
    return pp;
}

int workload_main(void)
{
    uint32_t seed = arg_seed(0xC4A9);
    int test = arg_is_test();
    uint32_t keyspace = 1u << 16;
    uint32_t ops = arg_iters(test ? 5000 : 1200000);
    printf("churn: size=%s keys=%u ops=%u seed=%u\n", arg_size_name(), keyspace, ops, seed);

    buckets = calloc(NBUCKETS, sizeof *buckets);
    uint32_t **blobs = calloc(NBLOBS, sizeof *blobs);
    uint32_t *blob_words = calloc(NBLOBS, sizeof *blob_words);
    check(buckets && blobs && blob_words, 0x8001);

    struct rng r;
    rng_seed(&r, seed);
    /* fill about three quarters of the key space */
    for (uint32_t k = 0; k < keyspace; k++) {
        if (rng_below(&r, 4) == 0) continue;
        struct entry **pp = find(k);
        struct entry *e = new_entry(k, 0, random_words(&r));
        e->next = *pp; *pp = e;
    }
    printf("filled: records=%u payload=%u KiB\n", live, live_words / 256);

    uint32_t h = 0, hits = 0, misses = 0, blob_i = 0;
    for (uint32_t op = 0; op < ops; op++) {
        uint32_t key = rng_below(&r, keyspace);
        uint32_t kind = rng_below(&r, 100);
        struct entry **pp = find(key);
        struct entry *e = *pp;
        if (kind < 30) {                        /* lookup and verify */
            if (e) { verify(e); hits++; h = hash_mix(h, e->version ^ e->words); }
            else { misses++; h = hash_mix(h, key); }
        } else if (kind < 47) {                 /* delete */
            if (e) { *pp = e->next; drop_entry(e); }
        } else if (kind < 67) {                 /* in-place update: new version, same size */
            if (e) { e->version++; fill(e); h = hash_mix(h, e->version); }
        } else if (kind < 99) {                 /* insert, or replace with a new size */
            struct entry *n = new_entry(key, e ? e->version + 1 : 0, random_words(&r));
            if (e) { n->next = e->next; drop_entry(e); }
            else n->next = 0;
            *pp = n;
        } else {                                /* a large blob, replacing the oldest one */
            if (blobs[blob_i]) {
                uint32_t *b = blobs[blob_i];
                check(all_words(b + 1, blob_words[blob_i] - 1, b[0]), 0x8006);
                h = hash_mix(h, b[0] ^ blob_words[blob_i]);
                free(b);
            }
            uint32_t w = 4096 + rng_below(&r, 12288);
            blobs[blob_i] = malloc(w * 4);
            check(blobs[blob_i] != 0, 0x8004);
            blob_words[blob_i] = w;
            fill_words(blobs[blob_i], w, key * 0x9E3779B1u + op);
            blob_i = (blob_i + 1) % NBLOBS;
        }
        if ((op & 0xFFFF) == 0) heartbeat(op);
        if (op && (op % 300000) == 0)
            printf("op %u: records=%u payload=%u KiB\n", op, live, live_words / 256);
    }

    /* final walk: verify everything, hash the table in bucket order */
    uint32_t count = 0;
    for (uint32_t b = 0; b < NBUCKETS; b++)
        for (struct entry *e = buckets[b]; e; e = e->next) {
            verify(e);
            count++;
            h = hash_mix(h, e->key);
            h = hash_mix(h, e->version ^ (e->words << 16));
        }
    check(count == live, 0x8005);
    printf("final: records=%u payload=%u KiB hits=%u misses=%u\n", live, live_words / 256, hits, misses);
    printf("checksum=%08x\n", hash_final(h));
    return 0;
}
