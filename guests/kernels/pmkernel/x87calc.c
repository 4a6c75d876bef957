/* x87calc.c - the pmkernel's ring-3 floating-point work: IEEE-exact x87
 * operations only (add, subtract, multiply, divide, square root, rounding,
 * integer loads and stores, compares), so real hardware and any faithful x87
 * give the same bits. One object file is linked into both the guest and the
 * host oracle, so both run the very same instructions. */
#include "common.h"

union ld { long double v; struct { uint32_t lo, hi; uint16_t se; } p; };
union d { double v; struct { uint32_t lo, hi; } p; };

static long double x_sqrt(long double x) { __asm__("fsqrt" : "+t"(x)); return x; }
static long double x_round(long double x) { __asm__("frndint" : "+t"(x)); return x; }
static int32_t x_fist(long double x) { int32_t r; __asm__("fistl %0" : "=m"(r) : "t"(x)); return r; }

static void put_ld(struct x87_result *r, const char *name, long double v)
{
    union ld u;
    u.v = v;
    r->name = name;
    r->hi = u.p.hi;
    r->lo = u.p.lo;
    r->exp = u.p.se;
    r->scaled = x_fist(v * 1000000.0L);
}

static void put_d(struct x87_result *r, const char *name, double v)
{
    union d u;
    u.v = v;
    r->name = name;
    r->hi = u.p.hi;
    r->lo = u.p.lo;
    r->exp = 0xFFFFFFFFu;
    r->scaled = x_fist((long double)v * 1000000.0L);
}

void x87_compute(struct x87_result out[X87_RESULTS])
{
    __asm__ volatile("fninit");   /* round to nearest, 64-bit significands, all masked */

    long double h = 0;
    for (int k = 1; k <= 2000; k++) h += 1.0L / k;
    put_ld(&out[0], "harmonic2000", h);

    volatile double pi4 = 0;
    for (int k = 0; k < 5000; k++) pi4 = pi4 + ((k & 1) ? -1.0 : 1.0) / (2 * k + 1);
    put_d(&out[1], "leibniz*4", pi4 * 4);

    double x = 1;
    for (int i = 0; i < 6; i++) x = (x + 2 / x) / 2;
    put_d(&out[2], "newton-sqrt2", x);

    put_ld(&out[3], "fsqrt3", x_sqrt(3.0L));

    /* The determinant of the 5x5 Hilbert matrix by Gaussian elimination. */
    double a[5][5];
    for (int i = 0; i < 5; i++)
        for (int j = 0; j < 5; j++) a[i][j] = 1.0 / (i + j + 1);
    double det = 1;
    for (int c = 0; c < 5; c++) {
        det *= a[c][c];
        for (int r = c + 1; r < 5; r++) {
            double f = a[r][c] / a[c][c];
            for (int j = c; j < 5; j++) a[r][j] -= f * a[c][j];
        }
    }
    put_d(&out[4], "hilbert5-det*1e12", det * 1e12);

    /* Single precision. */
    volatile float third = 1.0f / 3.0f;
    put_d(&out[5], "float-third*3-1", (double)(third * 3.0f - 1.0f));

    /* Perfect squares up to 100000, found with FSQRT, FRNDINT and compares. */
    int squares = 0;
    for (int n = 1; n <= 100000; n++) {
        long double s = x_round(x_sqrt((long double)n));
        if (s * s == (long double)n) squares++;
    }
    put_ld(&out[6], "squares", (long double)squares);

    /* A 64-bit integer through FILD/FISTP and back. */
    volatile long long big = 0x123456789ABCDLL;
    long double q = (long double)big / 7e12L;
    put_ld(&out[7], "big/7e12", q);
}
