/* gametree - connect-four game-tree search: iterative-deepening alpha-beta negamax with a transposition table on 64-bit bitboards */
#include "sdk.h"

#define W 7
#define H 6
#define WIN_BASE 1000
#define TT_BITS 18
#define TT_SIZE (1u << TT_BITS)

enum { EXACT = 1, LOWER = 2, UPPER = 3 };

struct tt_entry {
    uint64_t key;
    int16_t  value;
    uint8_t  depth, flag, move, gen;
    uint8_t  pad[2];
};

static struct tt_entry *tt;
static uint8_t tt_gen;
static uint64_t nodes;

static const int order[W] = { 3, 2, 4, 1, 5, 0, 6 };
static const uint64_t BOTTOM = 0x0000040810204081ull;   /* bit 0 of each column */
static const uint64_t BOARD  = 0x0000FDFBF7EFDFBFull;   /* the 42 playable cells */

struct pos { uint64_t cur, mask; int moves; };

static inline uint64_t top_bit(int c)    { return 1ull << (H - 1 + c * (H + 1)); }
static inline uint64_t bottom_bit(int c) { return 1ull << (c * (H + 1)); }
static inline uint64_t col_mask(int c)   { return ((1ull << H) - 1) << (c * (H + 1)); }
static inline int can_play(const struct pos *p, int c) { return (p->mask & top_bit(c)) == 0; }

static inline void play(struct pos *p, int c)
{
    p->cur ^= p->mask;
    p->mask |= p->mask + bottom_bit(c);
    p->moves++;
}

static inline uint32_t popcount64(uint64_t x)
{
    uint32_t a = (uint32_t)x, b = (uint32_t)(x >> 32);
    a = a - ((a >> 1) & 0x55555555u); b = b - ((b >> 1) & 0x55555555u);
    a = (a & 0x33333333u) + ((a >> 2) & 0x33333333u); b = (b & 0x33333333u) + ((b >> 2) & 0x33333333u);
    a = (a + (a >> 4)) & 0x0F0F0F0Fu; b = (b + (b >> 4)) & 0x0F0F0F0Fu;
    return ((a + b) * 0x01010101u) >> 24;
}

/* Empty cells that would complete four for the stones in s. */
static uint64_t winning_cells(uint64_t s, uint64_t mask)
{
    uint64_t r = (s << 1) & (s << 2) & (s << 3);         /* vertical */
    static const int dirs[3] = { H + 1, H, H + 2 };
    for (int i = 0; i < 3; i++) {
        int d = dirs[i];
        uint64_t p = (s << d) & (s << 2 * d);
        r |= p & (s << 3 * d);
        r |= p & (s >> d);
        p = (s >> d) & (s >> 2 * d);
        r |= p & (s << d);
        r |= p & (s >> 3 * d);
    }
    return r & (BOARD ^ mask);
}

static int wins_now(const struct pos *p, int c)
{
    return (winning_cells(p->cur, p->mask) & (p->mask + bottom_bit(c)) & col_mask(c)) != 0;
}

static int evaluate(const struct pos *p, uint64_t mine)
{
    uint64_t opp = p->cur ^ p->mask;
    int v = 4 * ((int)popcount64(mine) - (int)popcount64(winning_cells(opp, p->mask)));
    v += 2 * ((int)popcount64(p->cur & col_mask(3)) - (int)popcount64(opp & col_mask(3)));
    v += (int)popcount64(p->cur & (col_mask(2) | col_mask(4))) - (int)popcount64(opp & (col_mask(2) | col_mask(4)));
    return v;
}

/* Common rules of both searches: returns 1 and sets *v for a decided node. */
static int terminal(const struct pos *p, int depth, int *v)
{
    uint64_t mine = winning_cells(p->cur, p->mask);
    if (mine & (p->mask + BOTTOM) & BOARD) { *v = WIN_BASE - (p->moves + 1); return 1; }
    if (p->moves >= W * H) { *v = 0; return 1; }
    if (depth == 0) { *v = evaluate(p, mine); return 1; }
    return 0;
}

static uint32_t tt_index(uint64_t key)
{
    uint32_t x = (uint32_t)key ^ (uint32_t)(key >> 27) * 0x85EBCA6Bu;
    return (x * 0x9E3779B1u) >> (32 - TT_BITS);
}

static int alphabeta(const struct pos *p, int depth, int alpha, int beta)
{
    nodes++;
    int v;
    if (terminal(p, depth, &v))
        return v;
    uint64_t key = p->cur + p->mask;
    struct tt_entry *e = &tt[tt_index(key)];
    int first = -1;
    if (e->gen == tt_gen && e->key == key) {
        first = e->move;
        if (e->depth >= depth) {
            if (e->flag == EXACT) return e->value;
            if (e->flag == LOWER && e->value > alpha) alpha = e->value;
            if (e->flag == UPPER && e->value < beta) beta = e->value;
            if (alpha >= beta) return e->value;
        }
    }
    int alpha0 = alpha, best = -2 * WIN_BASE, bm = -1;
    for (int i = -1; i < W; i++) {
        int c = i < 0 ? first : order[i];
        if (c < 0 || (i >= 0 && c == first) || !can_play(p, c)) continue;
        struct pos q = *p;
        play(&q, c);
        v = -alphabeta(&q, depth - 1, -beta, -alpha);
        if (v > best) { best = v; bm = c; }
        if (v > alpha) alpha = v;
        if (alpha >= beta) break;
    }
    if (bm < 0) return 0;               /* cannot happen: terminal() covers full boards */
    e->key = key;
    e->value = (int16_t)best;
    e->depth = (uint8_t)depth;
    e->flag = best <= alpha0 ? UPPER : best >= beta ? LOWER : EXACT;
    e->move = (uint8_t)bm;
    e->gen = tt_gen;
    return best;
}

static int minimax(const struct pos *p, int depth)
{
    int v;
    if (terminal(p, depth, &v))
        return v;
    int best = -2 * WIN_BASE;
    for (int c = 0; c < W; c++) {
        if (!can_play(p, c)) continue;
        struct pos q = *p;
        play(&q, c);
        v = -minimax(&q, depth - 1);
        if (v > best) best = v;
    }
    return best;
}

static int random_position(struct rng *r, struct pos *p)
{
    int n = 4 + (int)rng_below(r, 8);
    p->cur = p->mask = 0; p->moves = 0;
    for (int i = 0; i < n; i++) {
        int c = (int)rng_below(r, W);
        if (!can_play(p, c) || wins_now(p, c)) return 0;
        play(p, c);
    }
    /* the side to move must not win at once */
    return (winning_cells(p->cur, p->mask) & (p->mask + BOTTOM) & BOARD) == 0;
}

int workload_main(void)
{
    uint32_t seed = arg_seed(0xC4);
    uint32_t npos = arg_iters(arg_is_test() ? 3 : 16);
    int maxdepth = arg_is_test() ? 8 : 10;
    printf("gametree: size=%s positions=%u depth=%d seed=%u\n", arg_size_name(), npos, maxdepth, seed);
    tt = calloc(TT_SIZE, sizeof *tt);
    check(tt != 0, 0x3001);

    struct rng r;
    rng_seed(&r, seed);
    uint32_t h = 0;
    for (uint32_t i = 0; i < npos; i++) {
        struct pos p;
        while (!random_position(&r, &p))
            ;
        tt_gen++;
        if (tt_gen == 0) { memset(tt, 0, TT_SIZE * sizeof *tt); tt_gen = 1; }
        nodes = 0;
        int v = 0;
        for (int d = 1; d <= maxdepth; d++) {
            v = alphabeta(&p, d, -2 * WIN_BASE, 2 * WIN_BASE);
            heartbeat((i << 8) | (uint32_t)d);
        }
        struct tt_entry *e = &tt[tt_index(p.cur + p.mask)];
        int best = (e->gen == tt_gen && e->key == p.cur + p.mask) ? e->move : -1;
        uint64_t searched = nodes;
        if (i == 0) {                       /* alpha-beta + TT must agree with plain minimax */
            int d = 4;
            tt_gen++;
            int a = alphabeta(&p, d, -2 * WIN_BASE, 2 * WIN_BASE);
            check(a == minimax(&p, d), 0x3002);
        }
        printf("position %u: moves=%d value=%d best=%d nodes=%llu\n", i, p.moves, v, best, searched);
        h = hash_mix(h, (uint32_t)v);
        h = hash_mix(h, (uint32_t)best);
        h = hash_mix(h, (uint32_t)searched);
    }
    printf("checksum=%08x\n", hash_final(h));
    return 0;
}
