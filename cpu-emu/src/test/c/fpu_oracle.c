/*
 * fpu_oracle.c - records real x87 results on the host, as test vectors for the
 * cpu-emu x87 (io.mucheckpoint.cpu.Fpu).  Build and run with fpu_gen.sh; the
 * format is described in src/test/resources/fpu/FORMAT.md.
 *
 * Every case runs, natively in a 32-bit process:
 *     fninit; fldcw CW; fldt B; fldt A; <instruction>; pushfl; fnsave
 * (register forms: ST0 = A, ST1 = B), or
 *     fninit; fldcw CW; fldt B; <instruction with memory operand M>; pushfl; fnsave
 * (memory forms: ST0 = B, the operand M holds the bytes of A, and stores go to M).
 * FNSAVE does not wait, so unmasked exceptions are recorded without a trap.
 * The line records the status and tag words and ST(0), ST(1) from the FNSAVE
 * image, EFLAGS after the instruction and the 10 bytes of M.
 *
 * Deterministic: each instruction's cases come from its own seed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;

static u64 rng_state;
static u64 rnd64(void)
{
    u64 z = (rng_state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}
static u32 rndn(u32 n) { return (u32)(((rnd64() >> 32) * n) >> 32); }
static void seed(const char *s)
{
    u64 h = 0x6670756f7261636cULL; /* "fpuoracl" */
    while (*s) h = (h ^ (u8)*s++) * 0x100000001B3ULL;
    rng_state = h;
}

typedef struct { u16 se; u64 sig; } ext;

struct io {
    u16 cw;
    u8 a[16];
    u8 b[16];
    u8 m[16];
    u8 save[108];
    u32 fl;
};

#define INT_BIT 0x8000000000000000ULL

static ext rnd_ext(void)
{
    ext v;
    u16 s = (rnd64() & 1) ? 0x8000 : 0;
    u32 k = rndn(100);
    if (k < 35) {            /* ordinary */
        v.se = 0x3FFF + rndn(80) - 40;
        v.sig = rnd64() | INT_BIT;
    } else if (k < 45) {     /* a double */
        v.se = 0x3FFF + rndn(40) - 20;
        v.sig = (rnd64() | INT_BIT) & ~0x7FFULL;
    } else if (k < 50) {     /* a single */
        v.se = 0x3FFF + rndn(40) - 20;
        v.sig = (rnd64() | INT_BIT) & ~0xFFFFFFFFFFULL;
    } else if (k < 58) {     /* an integer or a half */
        int n = (int)rndn(4000) - 2000;
        int half = rndn(3) == 0;
        double d = n + (half ? 0.5 : 0.0);
        if (d == 0) { v.se = s; v.sig = 0; return v; }
        long double ld = d;
        memcpy(&v.sig, &ld, 8); memcpy(&v.se, (u8 *)&ld + 8, 2);
        return v;
    } else if (k < 63) {     /* any exponent */
        v.se = 1 + rndn(0x7FFE);
        v.sig = rnd64() | INT_BIT;
    } else if (k < 66) {     /* near overflow */
        v.se = 0x7FFE - rndn(70);
        v.sig = rnd64() | INT_BIT;
    } else if (k < 69) {     /* near underflow */
        v.se = 1 + rndn(70);
        v.sig = rnd64() | INT_BIT;
    } else if (k < 72) {     /* denormal */
        v.se = 0;
        v.sig = rnd64() >> (1 + rndn(63));
        if (!v.sig) v.sig = 1;
    } else if (k < 75) {     /* zero */
        v.se = 0; v.sig = 0;
    } else if (k < 78) {     /* infinity */
        v.se = 0x7FFF; v.sig = INT_BIT;
    } else if (k < 81) {     /* QNaN */
        v.se = 0x7FFF; v.sig = INT_BIT | 0x4000000000000000ULL | (rnd64() >> (2 + rndn(3) * 20));
    } else if (k < 83) {     /* SNaN */
        v.se = 0x7FFF; v.sig = INT_BIT | (rnd64() >> (2 + rndn(3) * 20));
        if (v.sig == INT_BIT) v.sig |= 1;
    } else if (k < 90) {     /* rounding edges: runs of ones or zeros */
        v.se = 0x3FFF + rndn(60) - 30;
        int lo = rndn(64), len = 1 + rndn(20);
        u64 run = (len >= 64 ? ~0ULL : ((1ULL << len) - 1)) << lo;
        v.sig = (rndn(2) ? run : ~run) | INT_BIT;
        if (rndn(2)) v.sig ^= 1ULL << rndn(64);
        v.sig |= INT_BIT;
    } else if (k < 92) {     /* unsupported formats, pseudo-denormals */
        switch (rndn(4)) {
        case 0: v.se = 1 + rndn(0x7FFE); v.sig = rnd64() & ~INT_BIT; break; /* unnormal */
        case 1: v.se = 0; v.sig = rnd64() | INT_BIT; break;                  /* pseudo-denormal */
        case 2: v.se = 0x7FFF; v.sig = 0; break;                              /* pseudo-infinity */
        default: v.se = 0x7FFF; v.sig = (rnd64() & ~INT_BIT) | 1; break;      /* pseudo-NaN */
        }
    } else {                 /* a large integer */
        v.se = 0x3FFF + 10 + rndn(60);
        v.sig = rnd64() | INT_BIT;
    }
    v.se |= s;
    return v;
}

/* A second operand, often related to the first (same exponent, equal, a few ulps away). */
static ext rnd_related(ext a)
{
    u32 k = rndn(100);
    ext b;
    if (k < 60) return rnd_ext();
    b = a;
    if (k < 70) return b;
    if (k < 80) { b.sig += (u64)(int64_t)((int)rndn(9) - 4); b.sig |= INT_BIT; return b; }
    if (k < 85) { b.se ^= 0x8000; return b; }
    if (k < 95) { b.se = (b.se & 0x8000) | (((b.se & 0x7FFF) + rndn(140) - 70) & 0x7FFF); if (!(b.se & 0x7FFF)) b.se++; b.sig = rnd64() | INT_BIT; return b; }
    b.se = (b.se & 0x8000) | (((b.se & 0x7FFF) + rndn(400)) & 0x7FFF);
    return b;
}

static void put_ext(u8 *p, ext v) { memcpy(p, &v.sig, 8); memcpy(p + 8, &v.se, 2); }

static u16 rnd_cw(void)
{
    static const u16 pcs[3] = {0x000, 0x200, 0x300};
    u16 cw = 0x40 | pcs[rndn(3)] | (rndn(4) << 10);
    if (rndn(4) == 0) cw |= rnd64() & 0x3F; /* some exceptions unmasked */
    else cw |= 0x3F;
    return cw;
}

static void hex(FILE *f, const u8 *p, int n)
{
    for (int i = n - 1; i >= 0; i--) fprintf(f, "%02X", p[i]);
}

static void emit(FILE *f, const char *name, struct io *io)
{
    fprintf(f, "%s %04X ", name, io->cw);
    hex(f, io->a, 10); fputc(' ', f);
    hex(f, io->b, 10);
    fprintf(f, " -> %02X%02X %02X%02X ", io->save[5], io->save[4], io->save[9], io->save[8]);
    hex(f, io->save + 28, 10); fputc(' ', f);
    hex(f, io->save + 38, 10);
    fprintf(f, " %03X ", io->fl & 0x8D5);
    for (int i = 0; i < 10; i++) fprintf(f, "%02X", io->m[i]); /* memory order */
    fputc('\n', f);
}

#define REGOP(fn, insn) \
static void fn(struct io *io) { \
    __asm__ volatile("fninit\n\tfldcw %[cw]\n\tfldt %[b]\n\tfldt %[a]\n\t" insn "\n\tpushfl\n\tpopl %[fl]\n\tfnsave %[sv]" \
        : [sv] "=m"(io->save), [fl] "=r"(io->fl), [m] "+m"(io->m) \
        : [cw] "m"(io->cw), [a] "m"(io->a), [b] "m"(io->b) : "cc", "memory"); }
#define MEMOP(fn, insn) \
static void fn(struct io *io) { \
    __asm__ volatile("fninit\n\tfldcw %[cw]\n\tfldt %[b]\n\t" insn "\n\tpushfl\n\tpopl %[fl]\n\tfnsave %[sv]" \
        : [sv] "=m"(io->save), [fl] "=r"(io->fl), [m] "+m"(io->m) \
        : [cw] "m"(io->cw), [b] "m"(io->b) : "cc", "memory"); }

/* Register forms: ST0 = A, ST1 = B.  Encodings as bytes, to dodge AT&T's fsub/fdiv naming. */
REGOP(r_fadd, ".byte 0xD8,0xC1")
REGOP(r_fmul, ".byte 0xD8,0xC9")
REGOP(r_fsub, ".byte 0xD8,0xE1")
REGOP(r_fsubr, ".byte 0xD8,0xE9")
REGOP(r_fdiv, ".byte 0xD8,0xF1")
REGOP(r_fdivr, ".byte 0xD8,0xF9")
REGOP(r_faddp, ".byte 0xDE,0xC1")
REGOP(r_fmulp, ".byte 0xDE,0xC9")
REGOP(r_fsubrp, ".byte 0xDE,0xE1")
REGOP(r_fsubp, ".byte 0xDE,0xE9")
REGOP(r_fdivrp, ".byte 0xDE,0xF1")
REGOP(r_fdivp, ".byte 0xDE,0xF9")
REGOP(r_fsub_st1, ".byte 0xDC,0xE9")
REGOP(r_fdivr_st1, ".byte 0xDC,0xF1")
REGOP(r_fsqrt, ".byte 0xD9,0xFA")
REGOP(r_fprem, ".byte 0xD9,0xF8")
REGOP(r_fprem1, ".byte 0xD9,0xF5")
REGOP(r_fscale, ".byte 0xD9,0xFD")
REGOP(r_frndint, ".byte 0xD9,0xFC")
REGOP(r_fxtract, "fstp %%st(1)\n\t.byte 0xD9,0xF4")
REGOP(r_fxam, ".byte 0xD9,0xE5")
REGOP(r_ftst, ".byte 0xD9,0xE4")
REGOP(r_fchs, ".byte 0xD9,0xE0")
REGOP(r_fabs, ".byte 0xD9,0xE1")
REGOP(r_fcom, ".byte 0xD8,0xD1")
REGOP(r_fcomp, ".byte 0xD8,0xD9")
REGOP(r_fcompp, ".byte 0xDE,0xD9")
REGOP(r_fucom, ".byte 0xDD,0xE1")
REGOP(r_fucomp, ".byte 0xDD,0xE9")
REGOP(r_fucompp, ".byte 0xDA,0xE9")
REGOP(r_fcomi, ".byte 0xDB,0xF1")
REGOP(r_fucomi, ".byte 0xDB,0xE9")
REGOP(r_fcomip, ".byte 0xDF,0xF1")
REGOP(r_fucomip, ".byte 0xDF,0xE9")
REGOP(r_fxch, ".byte 0xD9,0xC9")
REGOP(r_fsin, ".byte 0xD9,0xFE")
REGOP(r_fcos, ".byte 0xD9,0xFF")
REGOP(r_fsincos, "fstp %%st(1)\n\t.byte 0xD9,0xFB")
REGOP(r_fptan, "fstp %%st(1)\n\t.byte 0xD9,0xF2")
REGOP(r_fpatan, ".byte 0xD9,0xF3")
REGOP(r_f2xm1, ".byte 0xD9,0xF0")
REGOP(r_fyl2x, ".byte 0xD9,0xF1")
REGOP(r_fyl2xp1, ".byte 0xD9,0xF9")

/* Stack faults: a register freed first (FFREE), or the stack filled up (six FLD1 on top of A and B). */
#define FULL "fld1\n\tfld1\n\tfld1\n\tfld1\n\tfld1\n\tfld1\n\t"
REGOP(e_fadd, ".byte 0xDD,0xC1,0xD8,0xC1")
REGOP(e_faddp, ".byte 0xDD,0xC0,0xDE,0xC1")
REGOP(e_fcom, ".byte 0xDD,0xC1,0xD8,0xD1")
REGOP(e_fcompp, ".byte 0xDD,0xC1,0xDE,0xD9")
REGOP(e_fcomi, ".byte 0xDD,0xC1,0xDB,0xF1")
REGOP(e_fucomip, ".byte 0xDD,0xC0,0xDF,0xE9")
REGOP(e_fxch, ".byte 0xDD,0xC1,0xD9,0xC9")
REGOP(e_fst, ".byte 0xDD,0xC0,0xDD,0xD1")
REGOP(e_fstp, ".byte 0xDD,0xC0,0xDD,0xD9")
REGOP(e_fld, ".byte 0xDD,0xC1,0xD9,0xC1")
REGOP(e_fsqrt, ".byte 0xDD,0xC0,0xD9,0xFA")
REGOP(e_fchs, ".byte 0xDD,0xC0,0xD9,0xE0")
REGOP(e_fxam, ".byte 0xDD,0xC0,0xD9,0xE5")
REGOP(e_ftst, ".byte 0xDD,0xC0,0xD9,0xE4")
REGOP(e_fprem, ".byte 0xDD,0xC1,0xD9,0xF8")
REGOP(e_fscale, ".byte 0xDD,0xC1,0xD9,0xFD")
REGOP(e_fpatan, ".byte 0xDD,0xC1,0xD9,0xF3")
REGOP(e_fyl2x, ".byte 0xDD,0xC0,0xD9,0xF1")
REGOP(e_fxtract, ".byte 0xDD,0xC0,0xD9,0xF4")
REGOP(e_fptan, ".byte 0xDD,0xC0,0xD9,0xF2")
REGOP(e_fsincos, ".byte 0xDD,0xC0,0xD9,0xFB")
REGOP(e_fcmovb, ".byte 0xDD,0xC1,0xDA,0xC1")
REGOP(f_fld1, FULL ".byte 0xD9,0xE8")
REGOP(f_fld, FULL ".byte 0xD9,0xC7")
REGOP(f_fptan, FULL ".byte 0xD9,0xF2")
REGOP(f_fxtract, FULL ".byte 0xD9,0xF4")
REGOP(f_fsincos, FULL ".byte 0xD9,0xFB")

/* Memory forms: ST0 = B, M = the bytes of A. */
MEMOP(m_fld32, "flds %[m]")
MEMOP(m_fld64, "fldl %[m]")
MEMOP(m_fld80, "fldt %[m]")
MEMOP(m_fild16, "filds %[m]")
MEMOP(m_fild32, "fildl %[m]")
MEMOP(m_fild64, "fildll %[m]")
MEMOP(m_fbld, "fbld %[m]")
MEMOP(m_fst32, "fsts %[m]")
MEMOP(m_fstp32, "fstps %[m]")
MEMOP(m_fst64, "fstl %[m]")
MEMOP(m_fstp64, "fstpl %[m]")
MEMOP(m_fstp80, "fstpt %[m]")
MEMOP(m_fist16, "fists %[m]")
MEMOP(m_fistp16, "fistps %[m]")
MEMOP(m_fist32, "fistl %[m]")
MEMOP(m_fistp32, "fistpl %[m]")
MEMOP(m_fistp64, "fistpll %[m]")
MEMOP(m_fbstp, "fbstp %[m]")
MEMOP(m_fadd32, "fadds %[m]")
MEMOP(m_fmul64, "fmull %[m]")
MEMOP(m_fsubr32, "fsubrs %[m]")
MEMOP(m_fdiv64, "fdivl %[m]")
MEMOP(m_fiadd16, "fiadds %[m]")
MEMOP(m_fidivr32, "fidivrl %[m]")
MEMOP(m_fcom32, "fcoms %[m]")
MEMOP(m_fcomp64, "fcompl %[m]")
MEMOP(m_ficom16, "ficoms %[m]")
MEMOP(m_fld1, "fld1")
MEMOP(m_fldl2t, "fldl2t")
MEMOP(m_fldl2e, "fldl2e")
MEMOP(m_fldpi, "fldpi")
MEMOP(m_fldlg2, "fldlg2")
MEMOP(m_fldln2, "fldln2")
MEMOP(m_fldz, "fldz")
MEMOP(e_fstp32, ".byte 0xDD,0xC0\n\tfstps %[m]")
MEMOP(e_fst64, ".byte 0xDD,0xC0\n\tfstl %[m]")
MEMOP(e_fstp80, ".byte 0xDD,0xC0\n\tfstpt %[m]")
MEMOP(e_fistp16, ".byte 0xDD,0xC0\n\tfistps %[m]")
MEMOP(e_fist32, ".byte 0xDD,0xC0\n\tfistl %[m]")
MEMOP(e_fbstp, ".byte 0xDD,0xC0\n\tfbstp %[m]")
MEMOP(e_fadd32, ".byte 0xDD,0xC0\n\tfadds %[m]")
MEMOP(e_fcom64, ".byte 0xDD,0xC0\n\tfcoml %[m]")
MEMOP(f_fld32, FULL "fld1\n\tflds %[m]")
MEMOP(f_fld80, FULL "fld1\n\tfldt %[m]")
MEMOP(f_fild16, FULL "fld1\n\tfilds %[m]")

/* Kinds of memory operand A: how to fill M. */
enum { A_EXT, A_F32, A_F64, A_I16, A_I32, A_I64, A_BCD, A_NONE };

struct form {
    const char *name;
    void (*fn)(struct io *);
    int count;
    int kind;      /* memory operand */
    int related;   /* B related to A */
};

static const struct form forms[] = {
    {"fadd", r_fadd, 3000, A_EXT, 1}, {"fmul", r_fmul, 3000, A_EXT, 1},
    {"fsub", r_fsub, 3000, A_EXT, 1}, {"fsubr", r_fsubr, 600, A_EXT, 1},
    {"fdiv", r_fdiv, 3000, A_EXT, 1}, {"fdivr", r_fdivr, 600, A_EXT, 1},
    {"faddp", r_faddp, 400, A_EXT, 1}, {"fmulp", r_fmulp, 400, A_EXT, 1},
    {"fsubrp", r_fsubrp, 400, A_EXT, 1}, {"fsubp", r_fsubp, 400, A_EXT, 1},
    {"fdivrp", r_fdivrp, 400, A_EXT, 1}, {"fdivp", r_fdivp, 400, A_EXT, 1},
    {"fsub_st1", r_fsub_st1, 300, A_EXT, 1}, {"fdivr_st1", r_fdivr_st1, 300, A_EXT, 1},
    {"fsqrt", r_fsqrt, 2000, A_EXT, 0},
    {"fprem", r_fprem, 2000, A_EXT, 1}, {"fprem1", r_fprem1, 2000, A_EXT, 1},
    {"fscale", r_fscale, 1000, A_EXT, 0}, {"frndint", r_frndint, 1500, A_EXT, 0},
    {"fxtract", r_fxtract, 500, A_EXT, 0}, {"fxam", r_fxam, 500, A_EXT, 0},
    {"ftst", r_ftst, 300, A_EXT, 0}, {"fchs", r_fchs, 200, A_EXT, 0}, {"fabs", r_fabs, 200, A_EXT, 0},
    {"fcom", r_fcom, 800, A_EXT, 1}, {"fcomp", r_fcomp, 300, A_EXT, 1}, {"fcompp", r_fcompp, 300, A_EXT, 1},
    {"fucom", r_fucom, 800, A_EXT, 1}, {"fucomp", r_fucomp, 300, A_EXT, 1}, {"fucompp", r_fucompp, 300, A_EXT, 1},
    {"fcomi", r_fcomi, 800, A_EXT, 1}, {"fucomi", r_fucomi, 800, A_EXT, 1},
    {"fcomip", r_fcomip, 300, A_EXT, 1}, {"fucomip", r_fucomip, 300, A_EXT, 1},
    {"fxch", r_fxch, 100, A_EXT, 0},
    {"fsin", r_fsin, 400, A_EXT, 0}, {"fcos", r_fcos, 400, A_EXT, 0}, {"fsincos", r_fsincos, 300, A_EXT, 0},
    {"fptan", r_fptan, 400, A_EXT, 0}, {"fpatan", r_fpatan, 400, A_EXT, 0}, {"f2xm1", r_f2xm1, 400, A_EXT, 0},
    {"fyl2x", r_fyl2x, 400, A_EXT, 0}, {"fyl2xp1", r_fyl2xp1, 400, A_EXT, 0},
    {"fld32", m_fld32, 500, A_F32, 0}, {"fld64", m_fld64, 500, A_F64, 0}, {"fld80", m_fld80, 300, A_EXT, 0},
    {"fild16", m_fild16, 200, A_I16, 0}, {"fild32", m_fild32, 200, A_I32, 0}, {"fild64", m_fild64, 300, A_I64, 0},
    {"fbld", m_fbld, 300, A_BCD, 0},
    {"fst32", m_fst32, 1500, A_NONE, 0}, {"fstp32", m_fstp32, 300, A_NONE, 0},
    {"fst64", m_fst64, 1500, A_NONE, 0}, {"fstp64", m_fstp64, 300, A_NONE, 0}, {"fstp80", m_fstp80, 300, A_NONE, 0},
    {"fist16", m_fist16, 1000, A_NONE, 0}, {"fistp16", m_fistp16, 300, A_NONE, 0},
    {"fist32", m_fist32, 1000, A_NONE, 0}, {"fistp32", m_fistp32, 300, A_NONE, 0},
    {"fistp64", m_fistp64, 1500, A_NONE, 0}, {"fbstp", m_fbstp, 1000, A_NONE, 0},
    {"fadd32", m_fadd32, 500, A_F32, 0}, {"fmul64", m_fmul64, 500, A_F64, 0},
    {"fsubr32", m_fsubr32, 300, A_F32, 0}, {"fdiv64", m_fdiv64, 500, A_F64, 0},
    {"fiadd16", m_fiadd16, 300, A_I16, 0}, {"fidivr32", m_fidivr32, 300, A_I32, 0},
    {"fcom32", m_fcom32, 300, A_F32, 0}, {"fcomp64", m_fcomp64, 300, A_F64, 0}, {"ficom16", m_ficom16, 300, A_I16, 0},
    {"fld1", m_fld1, 20, A_NONE, 0}, {"fldl2t", m_fldl2t, 20, A_NONE, 0}, {"fldl2e", m_fldl2e, 20, A_NONE, 0},
    {"fldpi", m_fldpi, 20, A_NONE, 0}, {"fldlg2", m_fldlg2, 20, A_NONE, 0}, {"fldln2", m_fldln2, 20, A_NONE, 0},
    {"fldz", m_fldz, 20, A_NONE, 0},
    {"e_fadd", e_fadd, 60, A_EXT, 0}, {"e_faddp", e_faddp, 60, A_EXT, 0}, {"e_fcom", e_fcom, 60, A_EXT, 0},
    {"e_fcompp", e_fcompp, 60, A_EXT, 0}, {"e_fcomi", e_fcomi, 60, A_EXT, 0}, {"e_fucomip", e_fucomip, 60, A_EXT, 0},
    {"e_fxch", e_fxch, 60, A_EXT, 0}, {"e_fst", e_fst, 60, A_EXT, 0}, {"e_fstp", e_fstp, 60, A_EXT, 0},
    {"e_fld", e_fld, 60, A_EXT, 0}, {"e_fsqrt", e_fsqrt, 60, A_EXT, 0}, {"e_fchs", e_fchs, 60, A_EXT, 0},
    {"e_fxam", e_fxam, 60, A_EXT, 0}, {"e_ftst", e_ftst, 60, A_EXT, 0}, {"e_fprem", e_fprem, 60, A_EXT, 0},
    {"e_fscale", e_fscale, 60, A_EXT, 0}, {"e_fpatan", e_fpatan, 60, A_EXT, 0}, {"e_fyl2x", e_fyl2x, 60, A_EXT, 0},
    {"e_fxtract", e_fxtract, 60, A_EXT, 0}, {"e_fptan", e_fptan, 60, A_EXT, 0}, {"e_fsincos", e_fsincos, 60, A_EXT, 0},
    {"e_fcmovb", e_fcmovb, 60, A_EXT, 0},
    {"f_fld1", f_fld1, 60, A_EXT, 0}, {"f_fld", f_fld, 60, A_EXT, 0}, {"f_fptan", f_fptan, 60, A_EXT, 0},
    {"f_fxtract", f_fxtract, 60, A_EXT, 0}, {"f_fsincos", f_fsincos, 60, A_EXT, 0},
    {"e_fstp32", e_fstp32, 60, A_NONE, 0}, {"e_fst64", e_fst64, 60, A_NONE, 0}, {"e_fstp80", e_fstp80, 60, A_NONE, 0},
    {"e_fistp16", e_fistp16, 60, A_NONE, 0}, {"e_fist32", e_fist32, 60, A_NONE, 0}, {"e_fbstp", e_fbstp, 60, A_NONE, 0},
    {"e_fadd32", e_fadd32, 60, A_F32, 0}, {"e_fcom64", e_fcom64, 60, A_F64, 0},
    {"f_fld32", f_fld32, 60, A_F32, 0}, {"f_fld80", f_fld80, 60, A_EXT, 0}, {"f_fild16", f_fild16, 60, A_I16, 0},
};

static void fill_a(u8 *a, int kind)
{
    memset(a, 0, 16);
    u64 r = rnd64();
    switch (kind) {
    case A_F32: {
        u32 v = (u32)r;
        u32 k = rndn(10);
        if (k == 0) v &= 0x807FFFFF;                 /* zero / denormal */
        else if (k == 1) v |= 0x7F800000;             /* inf / NaN */
        else if (k == 2) v = (v & 0x80000000) | 0x7F800000;
        else if (k < 6) v = (v & 0x807FFFFF) | ((u32)(127 + rndn(40) - 20) << 23);
        memcpy(a, &v, 4);
        break;
    }
    case A_F64: {
        u64 v = r;
        u32 k = rndn(10);
        if (k == 0) v &= 0x800FFFFFFFFFFFFFULL;
        else if (k == 1) v |= 0x7FF0000000000000ULL;
        else if (k == 2) v = (v & INT_BIT) | 0x7FF0000000000000ULL;
        else if (k < 6) v = (v & 0x800FFFFFFFFFFFFFULL) | ((u64)(1023 + rndn(40) - 20) << 52);
        memcpy(a, &v, 8);
        break;
    }
    case A_I16: { u16 v = (u16)(rndn(3) ? (int)rndn(200) - 100 : (int)r); memcpy(a, &v, 2); break; }
    case A_I32: { u32 v = rndn(2) ? (u32)((int)rndn(2000) - 1000) : (u32)r >> rndn(32); if (rndn(2)) v = -v; memcpy(a, &v, 4); break; }
    case A_I64: { u64 v = rndn(2) ? r >> rndn(64) : (u64)((int)rndn(2000) - 1000); if (rndn(2)) v = -v; memcpy(a, &v, 8); break; }
    case A_BCD: {
        for (int i = 0; i < 9; i++) a[i] = (u8)(rndn(10) | rndn(10) << 4);
        int nd = rndn(19);                 /* digits in use */
        for (int d = nd; d < 18; d++) a[d / 2] &= (d & 1) ? 0x0F : 0xF0;
        a[9] = rndn(2) ? 0x80 : 0;
        break;
    }
    default: put_ext(a, rnd_ext()); break;
    }
}

int main(int argc, char **argv)
{
    const char *out = argc > 1 ? argv[1] : "fpu.txt";
    FILE *f = fopen(out, "w");
    if (!f) { perror(out); return 1; }
    fprintf(f, "# x87 results recorded by fpu_oracle.c; see FORMAT.md\n");
    FILE *ci = fopen("/proc/cpuinfo", "r");
    if (ci) {
        char line[256];
        while (fgets(line, sizeof line, ci)) {
            if (!strncmp(line, "model name", 10)) { fprintf(f, "# cpu:%s", strchr(line, ':') + 1); break; }
        }
        fclose(ci);
    }
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        const struct form *fm = &forms[i];
        seed(fm->name);
        for (int n = 0; n < fm->count; n++) {
            struct io io;
            memset(&io, 0, sizeof io);
            io.cw = rnd_cw();
            ext a = rnd_ext();
            put_ext(io.a, a);
            if (fm->kind == A_EXT && fm->fn != m_fld80) {
                put_ext(io.b, fm->related ? rnd_related(a) : rnd_ext());
            } else {
                fill_a(io.a, fm->kind);
                put_ext(io.b, rnd_ext());
            }
            if (fm->fn == r_fprem || fm->fn == r_fprem1) {
                /* keep most exponent differences in reach of a complete or partial step */
                ext b = rnd_ext();
                if (rndn(4)) { b.se = (b.se & 0x8000) | ((a.se & 0x7FFF) - rndn(140) + 10); b.sig |= INT_BIT; }
                put_ext(io.b, b);
            }
            if (fm->fn == r_fscale && rndn(4)) {
                long double sc = (int)rndn(300) - 150 + (rndn(2) ? 0.5L : 0);
                memcpy(io.b, &sc, 10);
            }
            if (fm->kind == A_NONE) memset(io.m, 0xCC, 10);  /* stores and constants */
            else memcpy(io.m, io.a, 10);                     /* loads and arithmetic: M = A */
            fm->fn(&io);
            emit(f, fm->name, &io);
        }
    }
    fclose(f);
    return 0;
}
