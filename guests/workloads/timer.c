/* timer - interrupt-driven job processing: the PIT at 1000 Hz raises IRQ 0, whose handler runs queued jobs (sorting, CRC, matrix products, sieving) while the main loop produces jobs and halts */
#include "sdk.h"

#define QSLOTS       32                 /* job queue: a single-producer, single-consumer ring */
#define JOBS_PER_TICK 2
#define MAXWORDS     256

struct job {
    uint32_t id, kind, n, param;
    uint32_t data[MAXWORDS];
};

static struct job queue[QSLOTS];
static volatile uint32_t q_head, q_tail;    /* head: next job to run; tail: next free slot */
static volatile uint32_t ticks;             /* never printed: depends on timing */
static uint32_t result_hash;                /* touched only by the handler until the end */
static uint32_t done_by_kind[4];

#define barrier() __asm__ volatile("" : : : "memory")

static uint32_t job_sort(struct job *j)
{
    uint32_t *a = j->data, n = j->n;
    for (uint32_t gap = n / 2; gap > 0; gap /= 2)         /* shell sort */
        for (uint32_t i = gap; i < n; i++) {
            uint32_t v = a[i], k = i;
            while (k >= gap && a[k - gap] > v) { a[k] = a[k - gap]; k -= gap; }
            a[k] = v;
        }
    uint32_t h = 0;
    for (uint32_t i = 0; i < n; i++) {
        check(i == 0 || a[i - 1] <= a[i], 0x9001);
        h = hash_mix(h, a[i]);
    }
    return h;
}

static uint32_t job_crc(struct job *j)
{
    uint32_t crc = 0;
    for (uint32_t round = 0; round < j->param; round++)
        crc = crc32_update(crc, j->data, j->n * 4);
    return crc;
}

static uint32_t job_matrix(struct job *j)
{
    uint32_t a[8][8], b[8][8], c[8][8];
    for (int i = 0; i < 64; i++) { a[i / 8][i % 8] = j->data[i]; b[i / 8][i % 8] = j->data[64 + i]; }
    for (uint32_t p = 0; p < j->param; p++) {             /* c = a * b, a = c */
        for (int r = 0; r < 8; r++)
            for (int col = 0; col < 8; col++) {
                uint32_t s = 0;
                for (int k = 0; k < 8; k++) s += a[r][k] * b[k][col];
                c[r][col] = s;
            }
        memcpy(a, c, sizeof a);
    }
    uint32_t h = 0;
    for (int i = 0; i < 64; i++) h = hash_mix(h, a[i / 8][i % 8]);
    return h;
}

static uint32_t job_sieve(struct job *j)
{
    uint8_t comp[2048];
    uint32_t lo = j->param, count = 0, sum = 0;
    memset(comp, 0, sizeof comp);
    for (uint32_t p = 2; p * p < lo + sizeof comp; p++) {
        uint32_t start = ((lo + p - 1) / p) * p;
        if (start < p * p) start = p * p;
        for (uint32_t m = start; m < lo + sizeof comp; m += p) comp[m - lo] = 1;
    }
    for (uint32_t i = 0; i < sizeof comp; i++)
        if (!comp[i] && lo + i >= 2) { count++; sum += lo + i; }
    return hash_mix(count, sum);
}

static void run_job(struct job *j)
{
    uint32_t r = 0;
    switch (j->kind) {
    case 0: r = job_sort(j); break;
    case 1: r = job_crc(j); break;
    case 2: r = job_matrix(j); break;
    case 3: r = job_sieve(j); break;
    }
    done_by_kind[j->kind]++;
    result_hash = hash_mix(hash_mix(result_hash, j->id), r);
}

/* IRQ 0: run up to JOBS_PER_TICK queued jobs, oldest first. */
static void on_tick(unsigned irq)
{
    (void)irq;
    ticks++;
    for (int k = 0; k < JOBS_PER_TICK && q_head != q_tail; k++) {
        run_job(&queue[q_head % QSLOTS]);
        barrier();
        q_head = q_head + 1;
    }
}

static void make_job(struct rng *r, struct job *j, uint32_t id)
{
    j->id = id;
    j->kind = rng_below(r, 4);
    switch (j->kind) {
    case 0: j->n = 64 + rng_below(r, MAXWORDS - 63); break;
    case 1: j->n = 32 + rng_below(r, 96); j->param = 1 + rng_below(r, 4); break;
    case 2: j->n = 128; j->param = 4 + rng_below(r, 8); break;
    case 3: j->n = 0; j->param = rng_below(r, 1u << 20); break;
    }
    for (uint32_t i = 0; i < j->n; i++) j->data[i] = rng_next(r) >> (rng_below(r, 4) * 8);
}

int workload_main(void)
{
    uint32_t seed = arg_seed(0x71C4);
    uint32_t njobs = arg_iters(arg_is_test() ? 500 : 12000);
    printf("timer: size=%s jobs=%u jobs_per_tick=%u seed=%u\n", arg_size_name(), njobs, JOBS_PER_TICK, seed);

    struct rng r;
    rng_seed(&r, seed);
    irq_install(0, on_tick);
    pit_start(1000);
    sti();
    for (uint32_t id = 0; id < njobs; id++) {
        while (q_tail - q_head == QSLOTS)       /* queue full: sleep until a tick ran jobs */
            wait_irq();
        make_job(&r, &queue[q_tail % QSLOTS], id);
        barrier();
        q_tail = q_tail + 1;
        if ((id & 1023) == 0) heartbeat(id);
    }
    while (q_head != njobs)
        wait_irq();
    cli();
    pit_stop();
    check(q_head == q_tail, 0x9002);
    printf("jobs done: sort=%u crc=%u matrix=%u sieve=%u\n", done_by_kind[0], done_by_kind[1], done_by_kind[2], done_by_kind[3]);
    printf("checksum=%08x\n", hash_final(result_hash));
    return 0;
}
