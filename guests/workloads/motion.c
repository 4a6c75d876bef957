/* motion - block-matching motion estimation: full-search and diamond-search SAD on 16x16 blocks between generated video frames */
#include "sdk.h"

#define B 16

static uint32_t W, H;
static uint32_t R;                      /* search range: vectors in [-R, R]^2 */

static inline uint32_t absdiff(uint32_t a, uint32_t b) { return a > b ? a - b : b - a; }

static __attribute__((noinline)) uint32_t sad16(const uint8_t *cur, const uint8_t *ref, uint32_t stride)
{
    uint32_t s = 0;
    for (int y = 0; y < B; y++) {
        for (int x = 0; x < B; x++)
            s += absdiff(cur[x], ref[x]);
        cur += stride;
        ref += stride;
    }
    return s;
}

/* A smooth texture: random lattice values every 8 pixels, bilinear interpolation, a little noise. */
static void make_texture(struct rng *r, uint8_t *f)
{
    uint32_t gw = W / 8 + 2, gh = H / 8 + 2;
    uint8_t *g = malloc(gw * gh);
    check(g != 0, 0x6001);
    for (uint32_t i = 0; i < gw * gh; i++) g[i] = (uint8_t)rng_next(r);
    for (uint32_t y = 0; y < H; y++)
        for (uint32_t x = 0; x < W; x++) {
            uint32_t gx = x >> 3, gy = y >> 3, fx = x & 7, fy = y & 7;
            uint32_t a = g[gy * gw + gx], b = g[gy * gw + gx + 1];
            uint32_t c = g[(gy + 1) * gw + gx], d = g[(gy + 1) * gw + gx + 1];
            uint32_t top = a * (8 - fx) + b * fx, bot = c * (8 - fx) + d * fx;
            uint32_t v = (top * (8 - fy) + bot * fy) >> 6;
            v += rng_below(r, 5);
            f[y * W + x] = (uint8_t)(v > 255 ? 255 : v);
        }
    free(g);
}

/* next frame: each 32x32 region moves by its own vector (clamped at the borders), plus noise */
static void make_next(struct rng *r, const uint8_t *prev, uint8_t *next)
{
    uint32_t rw = (W + 31) / 32, rh = (H + 31) / 32;
    int8_t mv[64][2];
    for (uint32_t i = 0; i < rw * rh && i < 64; i++) {
        mv[i][0] = (int8_t)((int)rng_below(r, 2 * R + 1) - (int)R);
        mv[i][1] = (int8_t)((int)rng_below(r, 2 * R + 1) - (int)R);
    }
    for (uint32_t y = 0; y < H; y++)
        for (uint32_t x = 0; x < W; x++) {
            uint32_t reg = (y / 32) * rw + x / 32;
            if (reg > 63) reg = 63;
            int sx = (int)x - mv[reg][0], sy = (int)y - mv[reg][1];
            if (sx < 0) sx = 0;
            if (sx >= (int)W) sx = (int)W - 1;
            if (sy < 0) sy = 0;
            if (sy >= (int)H) sy = (int)H - 1;
            int v = prev[(uint32_t)sy * W + (uint32_t)sx] + (int)rng_below(r, 7) - 3;
            next[y * W + x] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
        }
}

struct result { int dx, dy; uint32_t sad, evals; };

static int inside(int bx, int by, int dx, int dy)
{
    int x = bx + dx, y = by + dy;
    return x >= 0 && y >= 0 && x + B <= (int)W && y + B <= (int)H
        && dx >= -(int)R && dx <= (int)R && dy >= -(int)R && dy <= (int)R;
}

/* the better of two candidates: lower SAD, then shorter vector (deterministic ties) */
static int better(uint32_t sad, int dx, int dy, const struct result *best)
{
    if (sad != best->sad) return sad < best->sad;
    int l1 = (dx < 0 ? -dx : dx) + (dy < 0 ? -dy : dy);
    int l2 = (best->dx < 0 ? -best->dx : best->dx) + (best->dy < 0 ? -best->dy : best->dy);
    if (l1 != l2) return l1 < l2;
    return dy < best->dy || (dy == best->dy && dx < best->dx);
}

static struct result full_search(const uint8_t *cur, const uint8_t *ref, int bx, int by)
{
    struct result best = { 0, 0, 0xFFFFFFFFu, 0 };
    const uint8_t *c = cur + by * (int)W + bx;
    for (int dy = -(int)R; dy <= (int)R; dy++)
        for (int dx = -(int)R; dx <= (int)R; dx++) {
            if (!inside(bx, by, dx, dy)) continue;
            uint32_t s = sad16(c, ref + (by + dy) * (int)W + bx + dx, W);
            best.evals++;
            if (better(s, dx, dy, &best)) { best.sad = s; best.dx = dx; best.dy = dy; }
        }
    return best;
}

static struct result diamond_search(const uint8_t *cur, const uint8_t *ref, int bx, int by)
{
    static const int large[8][2] = { {0,-2}, {1,-1}, {2,0}, {1,1}, {0,2}, {-1,1}, {-2,0}, {-1,-1} };
    static const int small[4][2] = { {0,-1}, {1,0}, {0,1}, {-1,0} };
    const uint8_t *c = cur + by * (int)W + bx;
    struct result best = { 0, 0, sad16(c, ref + by * (int)W + bx, W), 1 };
    for (int step = 0; step < 32; step++) {
        int moved = 0, cx = best.dx, cy = best.dy;
        for (int k = 0; k < 8; k++) {
            int dx = cx + large[k][0], dy = cy + large[k][1];
            if (!inside(bx, by, dx, dy)) continue;
            uint32_t s = sad16(c, ref + (by + dy) * (int)W + bx + dx, W);
            best.evals++;
            if (s < best.sad) { best.sad = s; best.dx = dx; best.dy = dy; moved = 1; }
        }
        if (!moved) break;
    }
    int cx = best.dx, cy = best.dy;
    for (int k = 0; k < 4; k++) {
        int dx = cx + small[k][0], dy = cy + small[k][1];
        if (!inside(bx, by, dx, dy)) continue;
        uint32_t s = sad16(c, ref + (by + dy) * (int)W + bx + dx, W);
        best.evals++;
        if (s < best.sad) { best.sad = s; best.dx = dx; best.dy = dy; }
    }
    return best;
}

int workload_main(void)
{
    uint32_t seed = arg_seed(0x30710);
    int test = arg_is_test();
    W = test ? 96 : 176;
    H = test ? 64 : 144;
    R = test ? 4 : 6;
    uint32_t frames = arg_iters(test ? 3 : 9);
    printf("motion: size=%s frames=%u %ux%u range=%u seed=%u\n", arg_size_name(), frames, W, H, R, seed);

    uint8_t *ref = malloc(W * H), *cur = malloc(W * H);
    check(ref && cur, 0x6002);
    struct rng r;
    rng_seed(&r, seed);
    make_texture(&r, ref);
    uint32_t h = 0;
    uint64_t total_full = 0, total_dia = 0, evals = 0;
    for (uint32_t f = 0; f < frames; f++) {
        make_next(&r, ref, cur);
        uint32_t fsad = 0, dsad = 0, agree = 0;
        for (uint32_t by = 0; by + B <= H; by += B)
            for (uint32_t bx = 0; bx + B <= W; bx += B) {
                struct result a = full_search(cur, ref, (int)bx, (int)by);
                struct result d = diamond_search(cur, ref, (int)bx, (int)by);
                check(a.sad <= d.sad, 0x6003);     /* full search is optimal */
                check(a.sad == sad16(cur + by * W + bx, ref + (uint32_t)((int)by + a.dy) * W + (uint32_t)((int)bx + a.dx), W), 0x6004);
                fsad += a.sad; dsad += d.sad;
                agree += a.dx == d.dx && a.dy == d.dy;
                evals += a.evals + d.evals;
                h = hash_mix(h, (uint32_t)(a.dx + 64) | (uint32_t)(a.dy + 64) << 8 | (uint32_t)(d.dx + 64) << 16 | (uint32_t)(d.dy + 64) << 24);
                h = hash_mix(h, a.sad ^ (d.sad << 16));
            }
        total_full += fsad; total_dia += dsad;
        heartbeat(f);
        if (f < 3 || (f + 1) % 3 == 0)
            printf("frame %u: full_sad=%u diamond_sad=%u same_vector=%u\n", f + 1, fsad, dsad, agree);
        uint8_t *t = ref; ref = cur; cur = t;
    }
    printf("total: full_sad=%llu diamond_sad=%llu evaluations=%llu\n", total_full, total_dia, evals);
    printf("checksum=%08x\n", hash_final(h));
    return 0;
}
