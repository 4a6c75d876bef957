/* mcf - min-cost max-flow on a generated transport network: successive shortest paths with SPFA over pointer-linked nodes and arcs */
#include "sdk.h"

struct arc;
struct node {
    struct arc  *first_out;
    struct arc  *pred;                  /* arc into this node on the shortest path */
    struct node *qnext;                 /* unused slot kept for a realistic struct size */
    int32_t      dist;
    uint32_t     relax;                 /* relaxation count (negative-cycle test) */
    uint32_t     id;
    uint8_t      inq;
};

struct arc {
    struct node *head, *tail;
    struct arc  *next_out;
    struct arc  *rev;
    int32_t      cap;                   /* residual capacity */
    int32_t      cost;
    int32_t      orig_cap;              /* 0 for reverse arcs */
};

#define INF 0x3FFFFFFF

static struct node **nodes;
static struct arc  **fwd;               /* forward arcs in creation order */
static uint32_t nnodes, nfwd;
static struct node **queue;

static void add_arc(struct node *u, struct node *v, int32_t cap, int32_t cost)
{
    struct arc *a = malloc(sizeof *a), *b = malloc(sizeof *b);
    check(a && b, 0x2001);
    a->tail = u; a->head = v; a->cap = cap; a->cost = cost; a->orig_cap = cap; a->rev = b;
    b->tail = v; b->head = u; b->cap = 0; b->cost = -cost; b->orig_cap = 0; b->rev = a;
    a->next_out = u->first_out; u->first_out = a;
    b->next_out = v->first_out; v->first_out = b;
    fwd[nfwd++] = a;
}

/* SPFA from src over arcs with residual capacity. With all_sources, every
 * node starts at distance 0 (used for the negative-cycle test). Returns 0 if
 * a negative cycle was found. */
static int spfa(struct node *src, int all_sources)
{
    uint32_t qh = 0, qt = 0, qcap = nnodes + 1;
    for (uint32_t i = 0; i < nnodes; i++) {
        struct node *n = nodes[i];
        n->dist = all_sources ? 0 : INF;
        n->pred = 0;
        n->relax = 0;
        n->inq = (uint8_t)all_sources;
        if (all_sources) { queue[qt++] = n; }
    }
    if (!all_sources) {
        src->dist = 0;
        src->inq = 1;
        queue[qt++] = src;
    }
    while (qh != qt) {
        struct node *u = queue[qh];
        qh = qh + 1 == qcap ? 0 : qh + 1;
        u->inq = 0;
        for (struct arc *a = u->first_out; a; a = a->next_out) {
            if (a->cap <= 0) continue;
            struct node *v = a->head;
            int32_t nd = u->dist + a->cost;
            if (nd < v->dist) {
                v->dist = nd;
                v->pred = a;
                if (++v->relax > nnodes) return 0;
                if (!v->inq) {
                    v->inq = 1;
                    queue[qt] = v;
                    qt = qt + 1 == qcap ? 0 : qt + 1;
                }
            }
        }
    }
    return 1;
}

int workload_main(void)
{
    uint32_t seed = arg_seed(0x3C0F);
    uint32_t rounds = arg_iters(arg_is_test() ? 1 : 6);
    uint32_t nsrc = arg_is_test() ? 30 : 40, nsink = nsrc, nmid = arg_is_test() ? 200 : 600;
    uint32_t deg = 6;
    printf("mcf: size=%s networks=%u nodes=%u seed=%u\n", arg_size_name(), rounds, nsrc + nsink + nmid + 2, seed);

    struct rng r;
    rng_seed(&r, seed);
    uint32_t h = 0;
    for (uint32_t round = 0; round < rounds; round++) {
        nnodes = nsrc + nsink + nmid + 2;
        uint32_t max_arcs = nsrc + nsink + nsrc * deg + nmid * deg + nsrc * 2;
        nodes = calloc(nnodes, sizeof *nodes);
        fwd = calloc(max_arcs, sizeof *fwd);
        queue = calloc(nnodes + 1, sizeof *queue);
        check(nodes && fwd && queue, 0x2002);
        nfwd = 0;
        for (uint32_t i = 0; i < nnodes; i++) {
            nodes[i] = calloc(1, sizeof(struct node));
            check(nodes[i] != 0, 0x2003);
            nodes[i]->id = i;
        }
        struct node *S = nodes[0], *T = nodes[1];
        struct node **src = nodes + 2, **sink = src + nsrc, **mid = sink + nsink;
        for (uint32_t i = 0; i < nsrc; i++)
            add_arc(S, src[i], 20 + (int32_t)rng_below(&r, 80), 0);
        for (uint32_t i = 0; i < nsink; i++)
            add_arc(sink[i], T, 20 + (int32_t)rng_below(&r, 80), 0);
        for (uint32_t i = 0; i < nsrc; i++)
            for (uint32_t k = 0; k < deg; k++)
                add_arc(src[i], mid[rng_below(&r, nmid)], 5 + (int32_t)rng_below(&r, 30), 1 + (int32_t)rng_below(&r, 50));
        for (uint32_t i = 0; i < nmid; i++)
            for (uint32_t k = 0; k < deg; k++) {
                struct node *to = rng_below(&r, 3) == 0 ? sink[rng_below(&r, nsink)] : mid[rng_below(&r, nmid)];
                if (to != mid[i])
                    add_arc(mid[i], to, 5 + (int32_t)rng_below(&r, 30), 1 + (int32_t)rng_below(&r, 50));
            }
        for (uint32_t i = 0; i < nsrc * 2; i++)   /* a few expensive direct routes */
            add_arc(src[rng_below(&r, nsrc)], sink[rng_below(&r, nsink)], 3 + (int32_t)rng_below(&r, 10), 150 + (int32_t)rng_below(&r, 100));

        /* successive shortest paths */
        int64_t flow = 0, cost = 0;
        uint32_t paths = 0;
        while (spfa(S, 0) && T->dist < INF) {
            int32_t push = INF;
            for (struct node *v = T; v != S; v = v->pred->tail)
                if (v->pred->cap < push) push = v->pred->cap;
            for (struct node *v = T; v != S; v = v->pred->tail) {
                v->pred->cap -= push;
                v->pred->rev->cap += push;
            }
            flow += push;
            cost += (int64_t)push * T->dist;
            paths++;
            if ((paths & 63) == 0) heartbeat(paths);
        }

        /* self-checks: capacities, conservation, cost, optimality */
        int64_t *bal = calloc(nnodes, sizeof *bal);
        check(bal != 0, 0x2004);
        int64_t cost2 = 0;
        uint32_t fh = 0;
        for (uint32_t i = 0; i < nfwd; i++) {
            struct arc *a = fwd[i];
            int32_t f = a->orig_cap - a->cap;
            check(f >= 0 && f <= a->orig_cap && a->rev->cap == f, 0x2010);
            bal[a->tail->id] -= f;
            bal[a->head->id] += f;
            cost2 += (int64_t)f * a->cost;
            fh = hash_mix(fh, (uint32_t)f);
        }
        for (uint32_t i = 2; i < nnodes; i++)
            check(bal[i] == 0, 0x2011);
        check(bal[1] == flow && bal[0] == -flow, 0x2012);
        check(cost2 == cost, 0x2013);
        check(spfa(S, 1), 0x2014);              /* no negative residual cycle: optimal */

        h = hash_mix(h, (uint32_t)flow);
        h = hash_mix(h, (uint32_t)cost);
        h = hash_mix(h, (uint32_t)(cost >> 32));
        h = hash_mix(h, fh);
        h = hash_mix(h, paths);
        printf("network %u: arcs=%u flow=%lld cost=%lld paths=%u\n", round, nfwd, flow, cost, paths);

        free(bal);
        for (uint32_t i = 0; i < nfwd; i++) { free(fwd[i]->rev); free(fwd[i]); }
        for (uint32_t i = 0; i < nnodes; i++) free(nodes[i]);
        free(nodes); free(fwd); free(queue);
    }
    printf("checksum=%08x\n", hash_final(h));
    return 0;
}
