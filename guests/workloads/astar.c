/* astar - A* path finding with a binary heap on a generated cave map with weighted terrain, checked against Dijkstra */
#include "sdk.h"

static uint32_t W, H, N;
static uint8_t  *terrain;               /* 0 = wall, else the cost of entering (1..3) */
static uint32_t *g, *f, *stamp, *heap;
static int32_t  *hpos;                  /* position in the heap, -1 if not there */
static uint8_t  *closed, *from;         /* from: direction index we came by */
static uint32_t  hsize, query_id;
static uint32_t  fkey_h;                /* heuristic weight: 1 = A*, 0 = Dijkstra */
static uint32_t  goal_x, goal_y;

static const int DX[8] = { 1, -1, 0, 0, 1, 1, -1, -1 };
static const int DY[8] = { 0, 0, 1, -1, 1, -1, 1, -1 };

static inline uint32_t heur(uint32_t x, uint32_t y)
{
    if (!fkey_h) return 0;
    uint32_t dx = x > goal_x ? x - goal_x : goal_x - x;
    uint32_t dy = y > goal_y ? y - goal_y : goal_y - y;
    uint32_t mn = dx < dy ? dx : dy, mx = dx < dy ? dy : dx;
    return 10 * mx + 4 * mn;            /* octile distance, exact for cost-1 terrain */
}

/* heap order: f, then larger g (deeper first), then cell index */
static inline int less(uint32_t a, uint32_t b)
{
    if (f[a] != f[b]) return f[a] < f[b];
    if (g[a] != g[b]) return g[a] > g[b];
    return a < b;
}

static void heap_up(uint32_t i)
{
    uint32_t c = heap[i];
    while (i > 0) {
        uint32_t p = (i - 1) >> 1;
        if (!less(c, heap[p])) break;
        heap[i] = heap[p]; hpos[heap[i]] = (int32_t)i;
        i = p;
    }
    heap[i] = c; hpos[c] = (int32_t)i;
}

static void heap_down(uint32_t i)
{
    uint32_t c = heap[i];
    for (;;) {
        uint32_t l = 2 * i + 1;
        if (l >= hsize) break;
        uint32_t m = l;
        if (l + 1 < hsize && less(heap[l + 1], heap[l])) m = l + 1;
        if (!less(heap[m], c)) break;
        heap[i] = heap[m]; hpos[heap[i]] = (int32_t)i;
        i = m;
    }
    heap[i] = c; hpos[c] = (int32_t)i;
}

static void touch(uint32_t c)
{
    if (stamp[c] != query_id) {
        stamp[c] = query_id;
        g[c] = 0xFFFFFFFFu;
        hpos[c] = -1;
        closed[c] = 0;
    }
}

/* Returns the path cost or 0xFFFFFFFF; *expanded gets the number of expansions. */
static uint32_t search(uint32_t s, uint32_t t, int use_h, uint32_t *expanded)
{
    query_id++;
    fkey_h = (uint32_t)use_h;
    goal_x = t % W; goal_y = t / W;
    hsize = 0;
    *expanded = 0;
    touch(s);
    g[s] = 0;
    f[s] = heur(s % W, s / W);
    heap[hsize++] = s; hpos[s] = 0;
    while (hsize) {
        uint32_t c = heap[0];
        hpos[c] = -1;
        if (--hsize) { heap[0] = heap[hsize]; heap_down(0); }
        closed[c] = 1;
        (*expanded)++;
        if (c == t) return g[c];
        int cx = (int)(c % W), cy = (int)(c / W);
        for (int d = 0; d < 8; d++) {
            int nx = cx + DX[d], ny = cy + DY[d];
            if (nx < 0 || ny < 0 || nx >= (int)W || ny >= (int)H) continue;
            uint32_t n = (uint32_t)ny * W + (uint32_t)nx;
            if (!terrain[n]) continue;
            if (d >= 4 && (!terrain[(uint32_t)cy * W + (uint32_t)nx] || !terrain[(uint32_t)ny * W + (uint32_t)cx]))
                continue;                   /* no corner cutting */
            touch(n);
            if (closed[n]) continue;
            uint32_t ng = g[c] + (d < 4 ? 10u : 14u) * terrain[n];
            if (ng < g[n]) {
                g[n] = ng;
                f[n] = ng + heur((uint32_t)nx, (uint32_t)ny);
                from[n] = (uint8_t)d;
                if (hpos[n] < 0) { heap[hsize] = n; heap_up(hsize++); }
                else heap_up((uint32_t)hpos[n]);
            }
        }
    }
    return 0xFFFFFFFFu;
}

/* Walks the path back from t and re-adds its costs. */
static uint32_t path_cost(uint32_t s, uint32_t t, uint32_t *len)
{
    uint32_t cost = 0, n = 0, c = t;
    while (c != s) {
        int d = from[c];
        cost += (d < 4 ? 10u : 14u) * terrain[c];
        int px = (int)(c % W) - DX[d], py = (int)(c / W) - DY[d];
        c = (uint32_t)py * W + (uint32_t)px;
        check(++n <= N, 0x7003);
    }
    *len = n;
    return cost;
}

static void make_map(struct rng *r)
{
    uint8_t *tmp = malloc(N);
    check(tmp != 0, 0x7002);
    for (uint32_t i = 0; i < N; i++) terrain[i] = rng_below(r, 100) < 42 ? 0 : 1;
    for (int round = 0; round < 4; round++) {   /* cellular automaton: caves */
        for (uint32_t y = 0; y < H; y++)
            for (uint32_t x = 0; x < W; x++) {
                int walls = 0;
                for (int dy = -1; dy <= 1; dy++)
                    for (int dx = -1; dx <= 1; dx++) {
                        int nx = (int)x + dx, ny = (int)y + dy;
                        if (nx < 0 || ny < 0 || nx >= (int)W || ny >= (int)H) walls++;
                        else walls += terrain[(uint32_t)ny * W + (uint32_t)nx] == 0;
                    }
                tmp[y * W + x] = walls >= 5 ? 0 : 1;
            }
        memcpy(terrain, tmp, N);
    }
    for (uint32_t i = 0; i < N; i++)             /* weighted terrain: mostly 1, some 2-3 */
        if (terrain[i]) terrain[i] = (uint8_t)(1 + (rng_below(r, 10) < 3) + (rng_below(r, 10) < 1));
    free(tmp);
}

static uint32_t random_free(struct rng *r)
{
    for (;;) {
        uint32_t c = rng_below(r, N);
        if (terrain[c]) return c;
    }
}

int workload_main(void)
{
    uint32_t seed = arg_seed(0xA5A4);
    int test = arg_is_test();
    W = test ? 128 : 512;
    H = test ? 96 : 384;
    N = W * H;
    uint32_t queries = arg_iters(test ? 8 : 16);
    printf("astar: size=%s map=%ux%u queries=%u seed=%u\n", arg_size_name(), W, H, queries, seed);

    terrain = malloc(N); g = malloc(N * 4); f = malloc(N * 4); stamp = calloc(N, 4); heap = malloc(N * 4);
    hpos = malloc(N * 4); closed = malloc(N); from = malloc(N);
    check(terrain && g && f && stamp && heap && hpos && closed && from, 0x7001);

    struct rng r;
    rng_seed(&r, seed);
    make_map(&r);
    uint32_t h = 0, found = 0;
    uint64_t total_exp = 0, total_cost = 0;
    for (uint32_t q = 0; q < queries; q++) {
        uint32_t s = random_free(&r), t = random_free(&r);
        uint32_t exp, len = 0;
        uint32_t cost = search(s, t, 1, &exp);
        if (cost != 0xFFFFFFFFu) {
            check(path_cost(s, t, &len) == cost, 0x7004);
            found++;
            total_cost += cost;
        }
        total_exp += exp;
        if (q % 16 == 0) {                          /* A* must agree with Dijkstra */
            uint32_t exp2;
            check(search(s, t, 0, &exp2) == cost, 0x7005);
        }
        h = hash_mix(h, cost); h = hash_mix(h, exp); h = hash_mix(h, len);
        heartbeat(q);
        if (q < 4 || (q + 1) % 5 == 0)
            printf("query %u: cost=%d steps=%u expanded=%u\n", q, (int)cost, len, exp);
    }
    printf("found=%u total_cost=%llu expanded=%llu\n", found, total_cost, total_exp);
    printf("checksum=%08x\n", hash_final(h));
    return 0;
}
