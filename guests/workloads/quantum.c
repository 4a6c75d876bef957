/* quantum - libquantum-like simulation of a qubit register: a dense state vector over GF(2^31-1) under Hadamard, Toffoli, CNOT, CZ and rotation gates, then the inverse circuit */
#include "sdk.h"

#define P 0x7FFFFFFFu                   /* amplitudes live in GF(2^31 - 1) */

static uint32_t *amp;
static uint32_t nstates;

static inline uint32_t addm(uint32_t a, uint32_t b) { uint32_t s = a + b; return s >= P ? s - P : s; }
static inline uint32_t subm(uint32_t a, uint32_t b) { return a >= b ? a - b : a + P - b; }
static inline uint32_t mulm(uint32_t a, uint32_t b)
{
    uint64_t t = (uint64_t)a * b;
    uint32_t r = (uint32_t)(t & P) + (uint32_t)(t >> 31);
    r = (r & P) + (r >> 31);
    return r >= P ? r - P : r;
}

static uint32_t powm(uint32_t a, uint32_t e)
{
    uint32_t r = 1;
    while (e) {
        if (e & 1) r = mulm(r, a);
        a = mulm(a, a);
        e >>= 1;
    }
    return r;
}

static uint32_t inv_sqrt2;              /* c with 2c^2 = 1: the Hadamard is exactly orthogonal */

enum { G_H, G_X, G_CNOT, G_TOFFOLI, G_CZ, G_ROT, G_KINDS };

struct gate { uint8_t kind, t, c1, c2; uint32_t c, s; };

/* Every gate is orthogonal over GF(p); ROT with -s is the inverse of ROT with s,
 * all others are their own inverses. */
static void apply(const struct gate *g, int inverse)
{
    uint32_t tb = 1u << g->t;
    uint32_t cm = 0;
    if (g->kind == G_CNOT || g->kind == G_CZ || g->kind == G_ROT) cm = 1u << g->c1;
    if (g->kind == G_TOFFOLI) cm = (1u << g->c1) | (1u << g->c2);
    switch (g->kind) {
    case G_H:
        for (uint32_t base = 0; base < nstates; base += 2 * tb)
            for (uint32_t i = base; i < base + tb; i++) {
                uint32_t a = amp[i], b = amp[i | tb];
                amp[i] = mulm(addm(a, b), inv_sqrt2);
                amp[i | tb] = mulm(subm(a, b), inv_sqrt2);
            }
        break;
    case G_X: case G_CNOT: case G_TOFFOLI:
        for (uint32_t base = 0; base < nstates; base += 2 * tb)
            for (uint32_t i = base; i < base + tb; i++) {
                if ((i & cm) != cm) continue;
                uint32_t t = amp[i]; amp[i] = amp[i | tb]; amp[i | tb] = t;
            }
        break;
    case G_CZ:
        cm |= tb;
        for (uint32_t i = 0; i < nstates; i++)
            if ((i & cm) == cm && amp[i]) amp[i] = P - amp[i];
        break;
    case G_ROT: {
        uint32_t c = g->c, s = inverse ? (g->s ? P - g->s : 0) : g->s;
        for (uint32_t base = 0; base < nstates; base += 2 * tb)
            for (uint32_t i = base; i < base + tb; i++) {
                if ((i & cm) != cm) continue;
                uint32_t a = amp[i], b = amp[i | tb];
                amp[i] = subm(mulm(c, a), mulm(s, b));
                amp[i | tb] = addm(mulm(s, a), mulm(c, b));
            }
        break;
    }
    }
}

static void random_gate(struct rng *r, struct gate *g, int qubits)
{
    g->kind = (uint8_t)rng_below(r, G_KINDS);
    g->t = (uint8_t)rng_below(r, (uint32_t)qubits);
    do g->c1 = (uint8_t)rng_below(r, (uint32_t)qubits); while (g->c1 == g->t);
    do g->c2 = (uint8_t)rng_below(r, (uint32_t)qubits); while (g->c2 == g->t || g->c2 == g->c1);
    g->c = g->s = 0;
    if (g->kind == G_ROT) {             /* c = (1-u^2)/(1+u^2), s = 2u/(1+u^2): c^2 + s^2 = 1 */
        uint32_t u = 1 + rng_below(r, P - 2);
        uint32_t u2 = mulm(u, u);
        uint32_t d = powm(addm(1, u2), P - 2);   /* 1 + u^2 != 0 since p = 3 mod 4 */
        g->c = mulm(subm(1, u2), d);
        g->s = mulm(addm(u, u), d);
    }
}

/* sum of squares of the amplitudes: invariant (= 1) under orthogonal gates */
static uint32_t norm(void)
{
    uint32_t s = 0;
    for (uint32_t i = 0; i < nstates; i++) s = addm(s, mulm(amp[i], amp[i]));
    return s;
}

static uint32_t state_hash(uint32_t *nonzero)
{
    uint32_t h = 0, nz = 0;
    for (uint32_t i = 0; i < nstates; i++) {
        uint32_t a = amp[i];
        if (a) { nz++; h = hash_mix(h, a ^ i); }
    }
    *nonzero = nz;
    return h;
}

int workload_main(void)
{
    uint32_t seed = arg_seed(0x9B17);
    int qubits = arg_is_test() ? 16 : 20;
    uint32_t ngates = arg_iters(arg_is_test() ? 10 : 12);
    nstates = 1u << qubits;
    printf("quantum: size=%s qubits=%d gates=%u state=%u KiB seed=%u\n", arg_size_name(), qubits, ngates,
           (unsigned)(nstates * 4 / 1024), seed);

    /* c = sqrt(1/2) = (1/2)^((p+1)/4) since p = 3 mod 4 */
    inv_sqrt2 = powm(powm(2, P - 2), (P + 1) / 4);
    check(mulm(mulm(inv_sqrt2, inv_sqrt2), 2) == 1, 0x5001);

    amp = calloc(nstates, sizeof *amp);
    struct gate *gates = malloc(ngates * sizeof *gates);
    check(amp && gates, 0x5002);

    struct rng r;
    rng_seed(&r, seed);
    uint32_t init = rng_below(&r, nstates);
    amp[init] = 1;
    /* the circuit starts with Hadamards on distinct qubits to spread the state out */
    uint32_t prep = (uint32_t)qubits / 2 < ngates / 2 ? (uint32_t)qubits / 2 : ngates / 2;
    for (uint32_t i = 0; i < ngates; i++) {
        random_gate(&r, &gates[i], qubits);
        if (i < prep) { gates[i].kind = G_H; gates[i].t = (uint8_t)((init + i * 7) % (uint32_t)qubits); }
    }
    for (uint32_t i = 0; i < ngates; i++) {
        apply(&gates[i], 0);
        heartbeat(i);
    }
    check(norm() == 1, 0x5003);
    uint32_t nz;
    uint32_t h = state_hash(&nz);
    printf("after circuit: nonzero=%u state_hash=%08x\n", nz, h);
    for (uint32_t i = ngates; i-- > 0;) {
        apply(&gates[i], 1);
        heartbeat(0x10000 | i);
    }
    uint32_t nz2;
    uint32_t h2 = state_hash(&nz2);
    check(nz2 == 1 && amp[init] == 1, 0x5004);  /* back to the initial basis state */
    printf("after inverse: nonzero=%u basis=%u\n", nz2, init);
    printf("checksum=%08x\n", hash_final(hash_mix(hash_mix(h, nz), h2)));
    return 0;
}
