/* align - sequence alignment with affine gaps: Smith-Waterman local scores and Needleman-Wunsch/Gotoh global alignment with traceback and re-scoring */
#include "sdk.h"

#define ALPHA 20
#define GO 10                           /* gap of length k costs GO + (k-1)*GE */
#define GE 1
#define NEG (-100000000)

static int8_t sub[ALPHA][ALPHA];

static void make_matrix(struct rng *r)
{
    for (int a = 0; a < ALPHA; a++)
        for (int b = 0; b <= a; b++) {
            int v = a == b ? 4 + (int)rng_below(r, 4) : -1 - (int)rng_below(r, 4);
            if (a != b && rng_below(r, 8) == 0) v = 1;   /* a few similar residues */
            sub[a][b] = sub[b][a] = (int8_t)v;
        }
}

static uint32_t gen_random(struct rng *r, uint8_t *s, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) s[i] = (uint8_t)rng_below(r, ALPHA);
    return n;
}

/* b = random flank + mutated copy of part of a + random flank */
static uint32_t gen_related(struct rng *r, const uint8_t *a, uint32_t na, uint8_t *b, uint32_t cap)
{
    uint32_t nb = 0;
    uint32_t start = rng_below(r, na / 4), end = na - rng_below(r, na / 4);
    uint32_t flank = rng_below(r, na / 8);
    for (uint32_t i = 0; i < flank && nb < cap; i++) b[nb++] = (uint8_t)rng_below(r, ALPHA);
    for (uint32_t i = start; i < end && nb < cap; i++) {
        uint32_t x = rng_below(r, 100);
        if (x < 3) continue;                                    /* deletion */
        if (x < 6) { b[nb++] = (uint8_t)rng_below(r, ALPHA); if (nb >= cap) break; }  /* insertion */
        b[nb++] = x < 16 ? (uint8_t)rng_below(r, ALPHA) : a[i];  /* substitution or copy */
    }
    flank = rng_below(r, na / 8);
    for (uint32_t i = 0; i < flank && nb < cap; i++) b[nb++] = (uint8_t)rng_below(r, ALPHA);
    return nb;
}

static int32_t *Hrow, *Erow, *Frow;

/* Smith-Waterman local alignment score in linear space. */
static int32_t smith_waterman(const uint8_t *a, uint32_t n, const uint8_t *b, uint32_t m, uint32_t *end_i, uint32_t *end_j)
{
    for (uint32_t j = 0; j <= m; j++) { Hrow[j] = 0; Erow[j] = NEG; }
    int32_t best = 0;
    *end_i = *end_j = 0;
    for (uint32_t i = 1; i <= n; i++) {
        const int8_t *srow = sub[a[i - 1]];
        int32_t diag = 0, hleft = 0, f = NEG;
        for (uint32_t j = 1; j <= m; j++) {
            int32_t up = Hrow[j];
            int32_t e = Erow[j] - GE, t = up - GO;
            if (t > e) e = t;
            f -= GE; t = hleft - GO;
            if (t > f) f = t;
            int32_t h = diag + srow[b[j - 1]];
            if (e > h) h = e;
            if (f > h) h = f;
            if (h < 0) h = 0;
            diag = up;
            Hrow[j] = h; Erow[j] = e; hleft = h;
            if (h > best) { best = h; *end_i = i; *end_j = j; }
        }
    }
    return best;
}

/* Gotoh global alignment; tb gets per-cell traceback bits; returns the score.
 * bits 0-1: H from diag (0), E (1) or F (2); bit 2: E extends E; bit 3: F extends F.
 * E: gap in a (consumes b_j, horizontal); F: gap in b (consumes a_i, vertical). */
static int32_t gotoh(const uint8_t *a, uint32_t n, const uint8_t *b, uint32_t m, uint8_t *tb)
{
    uint32_t w = m + 1;
    Hrow[0] = 0;
    for (uint32_t j = 1; j <= m; j++) { Hrow[j] = -(GO + (int32_t)(j - 1) * GE); Frow[j] = NEG; }
    for (uint32_t i = 1; i <= n; i++) {
        const int8_t *srow = sub[a[i - 1]];
        uint8_t *t = tb + i * w;
        int32_t diag = Hrow[0];
        int32_t hleft = -(GO + (int32_t)(i - 1) * GE);
        int32_t e = NEG;
        Hrow[0] = hleft;
        for (uint32_t j = 1; j <= m; j++) {
            uint8_t bits = 0;
            int32_t eo = hleft - GO, ee = e - GE;
            if (ee > eo) { e = ee; bits |= 4; } else e = eo;
            int32_t up = Hrow[j];
            int32_t fo = up - GO, fe = Frow[j] - GE, f;
            if (fe > fo) { f = fe; bits |= 8; } else f = fo;
            int32_t h = diag + srow[b[j - 1]];
            if (e > h) { h = e; bits = (uint8_t)((bits & ~3) | 1); }
            if (f > h) { h = f; bits = (uint8_t)((bits & ~3) | 2); }
            t[j] = bits;
            diag = up;
            Hrow[j] = h; Frow[j] = f; hleft = h;
        }
    }
    return Hrow[m];
}

/* Walk the traceback into ops (from the end), then re-score the alignment. */
static int32_t traceback_score(const uint8_t *a, uint32_t n, const uint8_t *b, uint32_t m, const uint8_t *tb,
                               uint8_t *ops, uint32_t *nops_out, uint32_t *matches)
{
    uint32_t w = m + 1, i = n, j = m, nops = 0;
    int state = 0;                      /* 0 = H, 1 = E, 2 = F */
    while (i > 0 && j > 0) {
        uint8_t bits = tb[i * w + j];
        if (state == 0) {
            int src = bits & 3;
            if (src == 0) { ops[nops++] = 'M'; i--; j--; }
            else state = src;
        } else if (state == 1) {
            ops[nops++] = 'E'; j--;
            state = (bits & 4) ? 1 : 0;
        } else {
            ops[nops++] = 'F'; i--;
            state = (bits & 8) ? 2 : 0;
        }
    }
    while (i > 0) { ops[nops++] = 'F'; i--; }
    while (j > 0) { ops[nops++] = 'E'; j--; }
    *nops_out = nops;

    int32_t score = 0;
    uint32_t ia = 0, jb = 0, same = 0;
    char prev = 0;
    for (uint32_t k = nops; k-- > 0;) {
        char op = (char)ops[k];
        if (op == 'M') { score += sub[a[ia]][b[jb]]; same += a[ia] == b[jb]; ia++; jb++; }
        else {
            score -= op == prev ? GE : GO;
            if (op == 'E') jb++; else ia++;
        }
        prev = op;
    }
    check(ia == n && jb == m, 0x4002);
    *matches = same;
    return score;
}

int workload_main(void)
{
    uint32_t seed = arg_seed(0xA11C);
    uint32_t pairs = arg_iters(arg_is_test() ? 5 : 20);
    uint32_t len = arg_is_test() ? 240 : 600;
    printf("align: size=%s pairs=%u length=%u seed=%u\n", arg_size_name(), pairs, len, seed);

    uint32_t maxlen = len + len / 2 + 8;
    uint8_t *a = malloc(maxlen), *b = malloc(maxlen * 2), *ops = malloc(maxlen * 4);
    Hrow = malloc((maxlen * 2 + 1) * 4); Erow = malloc((maxlen * 2 + 1) * 4); Frow = malloc((maxlen * 2 + 1) * 4);
    uint8_t *tb = malloc((maxlen + 1) * (maxlen * 2 + 1));
    check(a && b && ops && Hrow && Erow && Frow && tb, 0x4001);

    struct rng r;
    rng_seed(&r, seed);
    make_matrix(&r);
    uint32_t h = 0;
    uint64_t cells = 0;
    for (uint32_t p = 0; p < pairs; p++) {
        uint32_t n = gen_random(&r, a, len - len / 4 + rng_below(&r, len / 2));
        uint32_t m = gen_related(&r, a, n, b, maxlen * 2);
        uint32_t ei, ej;
        int32_t sw = smith_waterman(a, n, b, m, &ei, &ej);
        int32_t nw = gotoh(a, n, b, m, tb);
        uint32_t nops, same;
        int32_t rescored = traceback_score(a, n, b, m, tb, ops, &nops, &same);
        check(rescored == nw, 0x4003);
        check(sw >= nw, 0x4004);
        cells += 2ull * n * m;
        h = hash_mix(h, (uint32_t)sw); h = hash_mix(h, ei); h = hash_mix(h, ej);
        h = hash_mix(h, (uint32_t)nw); h = hash_mix(h, nops); h = hash_mix(h, same);
        heartbeat(p);
        if (p < 4 || (p + 1) % 10 == 0)
            printf("pair %u: %ux%u local=%d end=(%u,%u) global=%d columns=%u identical=%u\n",
                   p, n, m, sw, ei, ej, nw, nops, same);
    }
    printf("cells=%llu\n", cells);
    printf("checksum=%08x\n", hash_final(h));
    return 0;
}
