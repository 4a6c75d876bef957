/* compress - bzip2-like block compressor (BWT, move-to-front, zero-run coding, canonical Huffman) with a round-trip check */
#include "sdk.h"

#define BLOCK     32768u
#define NSYM      258                  /* RUNA, RUNB, MTF values 1..255 as 2..256, EOB */
#define RUNA      0
#define RUNB      1
#define EOB       257
#define MAXLEN    17

/* ---- test input: pseudo-text from a random vocabulary, with some runs and binary ---- */
static char vocab[512][10];
static uint8_t vlen[512];

static void make_vocab(struct rng *r)
{
    static const char letters[] = "etaoinshrdlcumwfgypbvkjxqz";
    for (int i = 0; i < 512; i++) {
        int len = 2 + (int)rng_below(r, 8);
        for (int k = 0; k < len; k++) {
            uint32_t x = rng_below(r, 26);
            x = (x * rng_below(r, 27)) / 26;     /* skew towards common letters */
            vocab[i][k] = letters[x];
        }
        vlen[i] = (uint8_t)len;
    }
}

static void make_block(struct rng *r, uint8_t *buf, uint32_t n)
{
    uint32_t i = 0;
    while (i < n) {
        uint32_t kind = rng_below(r, 100);
        if (kind < 90) {                         /* a word, Zipf-like choice */
            uint32_t w = rng_below(r, rng_below(r, 512) + 1);
            for (int k = 0; k < vlen[w] && i < n; k++)
                buf[i++] = (uint8_t)vocab[w][k];
            if (i < n) buf[i++] = (rng_below(r, 12) == 0) ? '\n' : ' ';
        } else if (kind < 97) {                  /* punctuation */
            buf[i++] = (uint8_t)",.;:!?"[rng_below(r, 6)];
        } else if (kind < 99) {                  /* a run */
            uint32_t len = 4 + rng_below(r, 60);
            uint8_t c = (uint8_t)rng_next(r);
            while (len-- && i < n) buf[i++] = c;
        } else {                                 /* a little binary noise */
            uint32_t len = 1 + rng_below(r, 24);
            while (len-- && i < n) buf[i++] = (uint8_t)rng_next(r);
        }
    }
}

/* ---- BWT by prefix doubling over cyclic rotations ---- */
static uint32_t *sa, *sa2, *rnk, *tmp, *cnt;

static uint32_t bwt(const uint8_t *s, uint32_t n, uint8_t *out)
{
    uint32_t classes = 256;
    for (uint32_t c = 0; c < 256; c++) cnt[c] = 0;
    for (uint32_t i = 0; i < n; i++) cnt[s[i]]++;
    for (uint32_t c = 1; c < 256; c++) cnt[c] += cnt[c - 1];
    for (uint32_t i = n; i-- > 0;) sa[--cnt[s[i]]] = i;
    for (uint32_t i = 0; i < n; i++) rnk[i] = s[i];

    for (uint32_t k = 1; k < n; k <<= 1) {
        /* order by the second key rank[i+k]: shift the current order */
        for (uint32_t j = 0; j < n; j++) {
            uint32_t v = sa[j];
            sa2[j] = v >= k ? v - k : v + n - k;
        }
        /* stable counting sort by the first key */
        for (uint32_t c = 0; c < classes; c++) cnt[c] = 0;
        for (uint32_t i = 0; i < n; i++) cnt[rnk[i]]++;
        for (uint32_t c = 1; c < classes; c++) cnt[c] += cnt[c - 1];
        for (uint32_t j = n; j-- > 0;) {
            uint32_t v = sa2[j];
            sa[--cnt[rnk[v]]] = v;
        }
        /* new ranks */
        tmp[sa[0]] = 0;
        uint32_t cls = 0;
        for (uint32_t j = 1; j < n; j++) {
            uint32_t a = sa[j - 1], b = sa[j];
            uint32_t ak = a + k >= n ? a + k - n : a + k;
            uint32_t bk = b + k >= n ? b + k - n : b + k;
            if (rnk[a] != rnk[b] || rnk[ak] != rnk[bk])
                cls++;
            tmp[b] = cls;
        }
        uint32_t *t = rnk; rnk = tmp; tmp = t;
        classes = cls + 1;
        if (classes == n)
            break;
    }
    uint32_t primary = 0;
    for (uint32_t j = 0; j < n; j++) {
        uint32_t v = sa[j];
        if (v == 0) primary = j;
        out[j] = s[v ? v - 1 : n - 1];
    }
    return primary;
}

static void unbwt(const uint8_t *L, uint32_t n, uint32_t primary, uint8_t *out)
{
    uint32_t C[256];
    for (int c = 0; c < 256; c++) C[c] = 0;
    for (uint32_t j = 0; j < n; j++) C[L[j]]++;
    uint32_t sum = 0;
    for (int c = 0; c < 256; c++) { uint32_t t = C[c]; C[c] = sum; sum += t; }
    for (uint32_t j = 0; j < n; j++) sa[j] = C[L[j]]++;      /* LF mapping */
    uint32_t j = primary;
    for (uint32_t i = n; i-- > 0;) {
        out[i] = L[j];
        j = sa[j];
    }
}

/* ---- MTF + zero runs ---- */
static void put_run(uint16_t *syms, uint32_t *ns, uint32_t run)
{
    while (run) {
        if (run & 1) { syms[(*ns)++] = RUNA; run = (run - 1) >> 1; }
        else         { syms[(*ns)++] = RUNB; run = (run - 2) >> 1; }
    }
}

static uint32_t mtf_encode(const uint8_t *in, uint32_t n, uint16_t *syms)
{
    uint8_t order[256];
    for (int i = 0; i < 256; i++) order[i] = (uint8_t)i;
    uint32_t ns = 0, run = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint8_t c = in[i];
        uint32_t k = 0;
        while (order[k] != c) k++;
        for (uint32_t m = k; m > 0; m--) order[m] = order[m - 1];
        order[0] = c;
        if (k == 0) { run++; continue; }
        put_run(syms, &ns, run);
        run = 0;
        syms[ns++] = (uint16_t)(k + 1);
    }
    put_run(syms, &ns, run);
    syms[ns++] = EOB;
    return ns;
}

/* ---- Huffman code lengths (rebuilt with flattened counts if too long) ---- */
static void huff_lengths(const uint32_t *freq_in, uint8_t *len)
{
    uint32_t freq[NSYM];
    for (int i = 0; i < NSYM; i++) freq[i] = freq_in[i];
    for (;;) {
        uint32_t w[2 * NSYM];
        int parent[2 * NSYM], alive[2 * NSYM];
        int nodes = 0, leaves[NSYM], nl = 0;
        for (int i = 0; i < NSYM; i++) {
            len[i] = 0;
            if (freq[i]) { leaves[nl++] = i; w[nodes] = freq[i]; alive[nodes] = 1; parent[nodes] = -1; nodes++; }
        }
        if (nl == 1) { len[leaves[0]] = 1; return; }
        int live = nl;
        while (live > 1) {                  /* join the two lightest nodes (O(n^2), n <= 258) */
            int a = -1, b = -1;
            for (int i = 0; i < nodes; i++) {
                if (!alive[i]) continue;
                if (a < 0 || w[i] < w[a]) { b = a; a = i; }
                else if (b < 0 || w[i] < w[b]) b = i;
            }
            w[nodes] = w[a] + w[b];
            alive[nodes] = 1; parent[nodes] = -1;
            alive[a] = alive[b] = 0;
            parent[a] = parent[b] = nodes;
            nodes++;
            live--;
        }
        int maxlen = 0;
        for (int i = 0; i < nl; i++) {
            int d = 0;
            for (int x = i; parent[x] >= 0; x = parent[x]) d++;
            len[leaves[i]] = (uint8_t)d;
            if (d > maxlen) maxlen = d;
        }
        if (maxlen <= MAXLEN)
            return;
        for (int i = 0; i < NSYM; i++)
            if (freq[i]) freq[i] = (freq[i] >> 1) | 1;
    }
}

struct canon {
    uint32_t first[MAXLEN + 2], count[MAXLEN + 2], index[MAXLEN + 2];
    uint16_t sorted[NSYM];
    uint32_t code[NSYM];
};

static void canon_build(const uint8_t *len, struct canon *c)
{
    uint32_t n = 0, code = 0;
    for (int l = 1; l <= MAXLEN; l++) {
        c->first[l] = code;
        c->index[l] = n;
        c->count[l] = 0;
        for (int s = 0; s < NSYM; s++)
            if (len[s] == l) {
                c->code[s] = code++;
                c->sorted[n++] = (uint16_t)s;
                c->count[l]++;
            }
        code <<= 1;
    }
}

/* ---- bit I/O ---- */
struct bits { uint8_t *buf; uint32_t pos; uint32_t acc; int nacc; };

static void put_bits(struct bits *b, uint32_t v, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        b->acc = (b->acc << 1) | ((v >> i) & 1);
        if (++b->nacc == 8) { b->buf[b->pos++] = (uint8_t)b->acc; b->acc = 0; b->nacc = 0; }
    }
}

static void flush_bits(struct bits *b)
{
    while (b->nacc) put_bits(b, 0, 1);
}

static uint32_t get_bit(struct bits *b)
{
    uint32_t byte = b->buf[b->pos >> 3];
    uint32_t v = (byte >> (7 - (b->pos & 7))) & 1;
    b->pos++;
    return v;
}

static uint32_t get_bits(struct bits *b, int n)
{
    uint32_t v = 0;
    while (n--) v = (v << 1) | get_bit(b);
    return v;
}

/* ---- block compress / decompress ---- */
static uint8_t *L, *orig, *back, *comp;
static uint16_t *syms;

static uint32_t compress_block(const uint8_t *in, uint32_t n, uint8_t *out)
{
    uint32_t primary = bwt(in, n, L);
    uint32_t ns = mtf_encode(L, n, syms);
    uint32_t freq[NSYM];
    for (int i = 0; i < NSYM; i++) freq[i] = 0;
    for (uint32_t i = 0; i < ns; i++) freq[syms[i]]++;
    uint8_t len[NSYM];
    huff_lengths(freq, len);
    static struct canon c;
    canon_build(len, &c);
    struct bits b = { out, 0, 0, 0 };
    put_bits(&b, n, 32);
    put_bits(&b, primary, 32);
    for (int s = 0; s < NSYM; s++) put_bits(&b, len[s], 5);
    for (uint32_t i = 0; i < ns; i++) put_bits(&b, c.code[syms[i]], len[syms[i]]);
    flush_bits(&b);
    return b.pos;
}

static uint32_t decompress_block(uint8_t *in, uint32_t inlen, uint8_t *out)
{
    struct bits b = { in, 0, 0, 0 };
    uint32_t n = get_bits(&b, 32);
    uint32_t primary = get_bits(&b, 32);
    check(n <= BLOCK && primary < n, 0x1101);
    uint8_t len[NSYM];
    for (int s = 0; s < NSYM; s++) len[s] = (uint8_t)get_bits(&b, 5);
    static struct canon c;
    canon_build(len, &c);
    uint8_t order[256];
    for (int i = 0; i < 256; i++) order[i] = (uint8_t)i;
    uint32_t o = 0, run = 0, weight = 1;
    for (;;) {
        check((b.pos >> 3) < inlen, 0x1102);
        uint32_t code = 0, sym = NSYM;
        for (int l = 1; l <= MAXLEN; l++) {
            code = (code << 1) | get_bit(&b);
            if (code - c.first[l] < c.count[l]) { sym = c.sorted[c.index[l] + code - c.first[l]]; break; }
        }
        check(sym < NSYM, 0x1103);
        if (sym == RUNA || sym == RUNB) {
            run += weight << sym;
            weight <<= 1;
            continue;
        }
        check(o + run <= n, 0x1104);
        while (run) { L[o++] = order[0]; run--; }
        weight = 1;
        if (sym == EOB) break;
        uint32_t k = sym - 1;
        uint8_t ch = order[k];
        for (uint32_t m = k; m > 0; m--) order[m] = order[m - 1];
        order[0] = ch;
        check(o < n, 0x1105);
        L[o++] = ch;
    }
    check(o == n, 0x1106);
    unbwt(L, n, primary, out);
    return n;
}

int workload_main(void)
{
    uint32_t seed = arg_seed(0xC0DE5EED);
    uint32_t blocks = arg_iters(arg_is_test() ? 1 : 24);
    printf("compress: size=%s blocks=%u block_bytes=%u seed=%u\n", arg_size_name(), blocks, BLOCK, seed);

    sa = malloc(BLOCK * 4); sa2 = malloc(BLOCK * 4); rnk = malloc(BLOCK * 4);
    tmp = malloc(BLOCK * 4); cnt = malloc(BLOCK * 4 + 1024);
    L = malloc(BLOCK); orig = malloc(BLOCK); back = malloc(BLOCK);
    comp = malloc(BLOCK * 2 + 1024);
    syms = malloc((BLOCK * 2 + 16) * sizeof *syms);
    check(sa && sa2 && rnk && tmp && cnt && L && orig && back && comp && syms, 0x1000);

    struct rng r;
    rng_seed(&r, seed);
    make_vocab(&r);
    uint64_t total_in = 0, total_out = 0;
    uint32_t h = 0;
    for (uint32_t blk = 0; blk < blocks; blk++) {
        uint32_t n = BLOCK - rng_below(&r, BLOCK / 8);
        make_block(&r, orig, n);
        uint32_t clen = compress_block(orig, n, comp);
        memset(back, 0, BLOCK);
        uint32_t dn = decompress_block(comp, clen, back);
        check(dn == n && memcmp(orig, back, n) == 0, 0x1001);
        h = hash_mix(h, crc32_update(0, comp, clen));
        h = hash_mix(h, clen);
        total_in += n;
        total_out += clen;
        heartbeat(blk);
        if ((blk + 1) % 8 == 0)
            printf("block %u: %u -> %u bytes\n", blk + 1, n, clen);
    }
    printf("compressed %llu -> %llu bytes, round trip ok\n", total_in, total_out);
    printf("checksum=%08x\n", hash_final(h));
    return 0;
}
