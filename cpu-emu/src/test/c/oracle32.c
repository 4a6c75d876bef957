/*
 * oracle32.c - host-native test-vector generator for the cpu-emu x86 interpreter.
 *
 * Runs integer ALU, shift/rotate, multiply/divide, bit, BCD and a few misc
 * instructions on the real CPU (32-bit process, gcc -m32) with random operands
 * and random input arithmetic flags, and writes one text line per case.
 * The line format and every form are described in
 * src/test/resources/oracle32/FORMAT.md.  Build and run with gen.sh.
 *
 * The generator is deterministic: each form is seeded from a hash of its name
 * and GLOBAL_SEED, so re-running it on the same machine reproduces the files
 * byte for byte (the CPU model line in the header comes from /proc/cpuinfo).
 *
 * Conventions used by every asm stub:
 *   - input EFLAGS = 0x202 | (6 random arithmetic flag bits), loaded by popfl
 *     immediately before the instruction; output EFLAGS captured by pushfl
 *     immediately after it and masked to CF PF AF ZF SF OF (0x8d5).
 *   - operands live in registers only (no memory operands: push/pop move ESP).
 *   - divide errors (#DE -> SIGFPE) are caught with sigsetjmp/siglongjmp.
 */
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <stdarg.h>
#include <signal.h>
#include <setjmp.h>

typedef uint32_t u32;
typedef uint64_t u64;
typedef int32_t s32;
typedef int64_t s64;

#define F_CF 0x001u
#define F_PF 0x004u
#define F_AF 0x010u
#define F_ZF 0x040u
#define F_SF 0x080u
#define F_OF 0x800u
#define F_ARITH 0x8d5u
#define F_BASE 0x202u /* reserved bit 1 + IF (popf at CPL3 ignores IF anyway) */

#define GLOBAL_SEED 0x6f7261636c653332ULL /* "oracle32" */

/* ------------------------------------------------------------------ RNG */

static u64 rng_state;

static u64 rnd64(void)
{
    u64 z = (rng_state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}
static u32 rnd32(void) { return (u32)(rnd64() >> 32); }
static u32 rndn(u32 n) { return (u32)(((u64)rnd32() * n) >> 32); }

static void seed_form(const char *name)
{
    u64 h = 1469598103934665603ULL;
    for (const char *p = name; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    rng_state = h ^ GLOBAL_SEED;
}

static u32 wmask(int bits) { return bits == 32 ? 0xffffffffu : ((1u << bits) - 1); }
static u32 sext(u32 v, int bits)
{
    return bits == 32 ? v : (u32)(((s32)(v << (32 - bits))) >> (32 - bits));
}

/* random operand biased toward edge values */
static u32 gen_val(int bits)
{
    static const u32 edges[] = {
        0, 1, 2, 3, 0x0f, 0x10, 0x7e, 0x7f, 0x80, 0x81, 0xfe, 0xff, 0x100,
        0x7ffe, 0x7fff, 0x8000, 0x8001, 0xfffe, 0xffff, 0x10000,
        0x7ffffffe, 0x7fffffff, 0x80000000, 0x80000001, 0xfffffffe, 0xffffffff,
        0x55555555, 0xaaaaaaaa, 0x0f0f0f0f, 0xf0f0f0f0, 0x00ff00ff, 0x12345678,
    };
    u32 m = wmask(bits), smin = 1u << (bits - 1);
    u32 r = rndn(100);
    if (r < 25) return edges[rndn(sizeof edges / sizeof edges[0])] & m;
    if (r < 33) return rndn(17);
    if (r < 41) return (m - rndn(17)) & m;
    if (r < 48) return (smin + rndn(17) - 8) & m;
    if (r < 53) { u32 v = 1u << rndn(bits); return (rndn(2) ? v : ~v) & m; }
    return rnd32() & m;
}

/* second ALU operand: sometimes related to the first */
static u32 gen_val2(int bits, u32 a)
{
    u32 m = wmask(bits);
    switch (rndn(20)) {
    case 0: return a;
    case 1: return (0 - a) & m;
    case 2: return ~a & m;
    case 3: return (a + 1) & m;
    case 4: return (a - 1) & m;
    default: return gen_val(bits);
    }
}

static u32 gen_flags(void) { return rnd32() & F_ARITH; }

/* shift/rotate count (the whole CL value), biased to interesting counts */
static u32 gen_count(int bits)
{
    u32 r = rndn(100);
    if (r < 45) {
        const u32 l[] = {0, 1, 2, (u32)bits - 1, (u32)bits, (u32)bits + 1, 31, 32, 33, 63,
                         7, 8, 9, 15, 16, 17};
        return l[rndn(sizeof l / sizeof l[0])];
    }
    if (r < 95) return rndn(64);
    return rndn(256);
}

/* ------------------------------------------------------------------ output */

static FILE *out;
static char line[512];
static int lp;

static void L(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lp += vsnprintf(line + lp, sizeof line - (size_t)lp, fmt, ap);
    va_end(ap);
}
static void Lstart(const char *name) { lp = 0; line[0] = 0; L("%s", name); }
static void Lhex(const char *k, u32 v, int bits) { L(" %s=%0*x", k, bits / 4, v & wmask(bits)); }
static void Lfin(u32 f) { L(" f=%03x ->", f & F_ARITH); }
static void Lfout(u32 f, u32 m) { L(" f=%03x m=%03x", f & F_ARITH, m); }
static void Lend(void) { fputs(line, out); fputc('\n', out); }

static char cpu_desc[320];

static void read_cpu(void)
{
    char buf[512], model[160] = "unknown", vendor[32] = "unknown";
    int fam = -1, mod = -1, step = -1;
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f) {
        int got = 0;
        while (fgets(buf, sizeof buf, f)) {
            char *c = strchr(buf, ':');
            if (!c) { if (got) break; continue; }
            char *v = c + 1;
            while (*v == ' ' || *v == '\t') v++;
            v[strcspn(v, "\n")] = 0;
            if (!strncmp(buf, "model name", 10)) { snprintf(model, sizeof model, "%.159s", v); got = 1; }
            else if (!strncmp(buf, "vendor_id", 9)) snprintf(vendor, sizeof vendor, "%.31s", v);
            else if (!strncmp(buf, "cpu family", 10)) fam = atoi(v);
            else if (!strncmp(buf, "model", 5) && (buf[5] == ' ' || buf[5] == '\t')) mod = atoi(v);
            else if (!strncmp(buf, "stepping", 8)) step = atoi(v);
        }
        fclose(f);
    }
    snprintf(cpu_desc, sizeof cpu_desc, "%s (%s family %d model %d stepping %d)",
             model, vendor, fam, mod, step);
}

static const char *outdir;

static void open_family(const char *fam, const char *what)
{
    char path[1024];
    if (out) fclose(out);
    snprintf(path, sizeof path, "%s/%s.txt", outdir, fam);
    out = fopen(path, "w");
    if (!out) { perror(path); exit(1); }
    fprintf(out, "# uCheckpoint cpu-emu oracle32 test vectors: %s\n", what);
    fprintf(out, "# generated natively by cpu-emu/src/test/c/oracle32.c (gcc -m32, 32-bit user mode), seed %016llx\n",
            (unsigned long long)GLOBAL_SEED);
    fprintf(out, "# cpu: %s\n", cpu_desc);
    fprintf(out, "# format: see FORMAT.md; hex values, flags masked to CF PF AF ZF SF OF (0x8d5); m = defined output flags\n");
}

/* ------------------------------------------------------------------ asm stubs */

#define PRE  "pushl %[fi]\n\tpopfl\n\t"
#define POST "\n\tpushfl\n\tpopl %[fo]"

/* two-operand ALU: op src, dst (AT&T) */
#define BIN(op, W, S, M)                                                        \
    static u32 op##W(u32 *a, u32 b, u32 fi)                                    \
    {                                                                           \
        u32 x = *a, fo;                                                         \
        __asm__ volatile(PRE #op S " %" M "[b], %" M "[x]" POST                 \
                         : [x] "+q"(x), [fo] "=&r"(fo)                          \
                         : [b] "q"(b), [fi] "r"(fi)                             \
                         : "cc");                                               \
        *a = x;                                                                 \
        return fo;                                                              \
    }
#define BIN3(op) BIN(op, 8, "b", "b") BIN(op, 16, "w", "w") BIN(op, 32, "l", "k")
BIN3(add) BIN3(adc) BIN3(sub) BIN3(sbb) BIN3(and) BIN3(or) BIN3(xor) BIN3(cmp) BIN3(test)

#define UN(op, W, S, M)                                                         \
    static u32 op##W(u32 *a, u32 fi)                                            \
    {                                                                           \
        u32 x = *a, fo;                                                         \
        __asm__ volatile(PRE #op S " %" M "[x]" POST                            \
                         : [x] "+q"(x), [fo] "=&r"(fo)                          \
                         : [fi] "r"(fi)                                         \
                         : "cc");                                               \
        *a = x;                                                                 \
        return fo;                                                              \
    }
#define UN3(op) UN(op, 8, "b", "b") UN(op, 16, "w", "w") UN(op, 32, "l", "k")
UN3(neg) UN3(not) UN3(inc) UN3(dec)

/* shift/rotate by CL */
#define SHC(op, W, S, M)                                                        \
    static u32 op##W##cl(u32 *a, u32 c, u32 fi)                                 \
    {                                                                           \
        u32 x = *a, fo;                                                         \
        __asm__ volatile(PRE #op S " %%cl, %" M "[x]" POST                      \
                         : [x] "+q"(x), [fo] "=&r"(fo)                          \
                         : "c"(c), [fi] "r"(fi)                                 \
                         : "cc");                                               \
        *a = x;                                                                 \
        return fo;                                                              \
    }
/* shift/rotate by 1 (opcodes D0/D1) */
#define SH1(op, W, S, M)                                                        \
    static u32 op##W##one(u32 *a, u32 c, u32 fi)                                \
    {                                                                           \
        u32 x = *a, fo;                                                         \
        (void)c;                                                                \
        __asm__ volatile(PRE #op S " %" M "[x]" POST                            \
                         : [x] "+q"(x), [fo] "=&r"(fo)                          \
                         : [fi] "r"(fi)                                         \
                         : "cc");                                               \
        *a = x;                                                                 \
        return fo;                                                              \
    }
#define SH3(op) SHC(op, 8, "b", "b") SHC(op, 16, "w", "w") SHC(op, 32, "l", "k") \
                SH1(op, 8, "b", "b") SH1(op, 16, "w", "w") SH1(op, 32, "l", "k")
SH3(shl) SH3(shr) SH3(sar) SH3(rol) SH3(ror) SH3(rcl) SH3(rcr)

/* SHLD/SHRD by CL: op %cl, src, dst */
#define SHD(op, W, S, M)                                                        \
    static u32 op##W(u32 *a, u32 b, u32 c, u32 fi)                              \
    {                                                                           \
        u32 x = *a, fo;                                                         \
        __asm__ volatile(PRE #op S " %%cl, %" M "[b], %" M "[x]" POST           \
                         : [x] "+r"(x), [fo] "=&r"(fo)                          \
                         : [b] "r"(b), "c"(c), [fi] "r"(fi)                     \
                         : "cc");                                               \
        *a = x;                                                                 \
        return fo;                                                              \
    }
SHD(shld, 16, "w", "w") SHD(shld, 32, "l", "k") SHD(shrd, 16, "w", "w") SHD(shrd, 32, "l", "k")

/* one-operand MUL/IMUL/DIV/IDIV.  8-bit: AX (in/out), src; 16/32: eAX, eDX, src */
#define MD8(op)                                                                 \
    static u32 op##8(u32 *ax, u32 *dx, u32 b, u32 fi)                           \
    {                                                                           \
        u32 x = *ax, fo;                                                        \
        (void)dx;                                                               \
        __asm__ volatile(PRE #op "b %b[b]" POST                                 \
                         : "+a"(x), [fo] "=&r"(fo)                              \
                         : [b] "q"(b), [fi] "r"(fi)                             \
                         : "cc");                                               \
        *ax = x;                                                                \
        return fo;                                                              \
    }
#define MD(op, W, S, M)                                                         \
    static u32 op##W(u32 *ax, u32 *dx, u32 b, u32 fi)                           \
    {                                                                           \
        u32 x = *ax, y = *dx, fo;                                               \
        __asm__ volatile(PRE #op S " %" M "[b]" POST                            \
                         : "+a"(x), "+d"(y), [fo] "=&r"(fo)                     \
                         : [b] "r"(b), [fi] "r"(fi)                             \
                         : "cc");                                               \
        *ax = x;                                                                \
        *dx = y;                                                                \
        return fo;                                                              \
    }
#define MD3(op) MD8(op) MD(op, 16, "w", "w") MD(op, 32, "l", "k")
MD3(mul) MD3(imul) MD3(div) MD3(idiv)

/* IMUL r, r/m */
#define IMUL2(W, S, M)                                                          \
    static u32 imul2_##W(u32 *a, u32 b, u32 fi)                                 \
    {                                                                           \
        u32 x = *a, fo;                                                         \
        __asm__ volatile(PRE "imul" S " %" M "[b], %" M "[x]" POST              \
                         : [x] "+r"(x), [fo] "=&r"(fo)                          \
                         : [b] "r"(b), [fi] "r"(fi)                             \
                         : "cc");                                               \
        *a = x;                                                                 \
        return fo;                                                              \
    }
IMUL2(16, "w", "w") IMUL2(32, "l", "k")

/* IMUL r, r/m, imm : dst(x) = src(b) * imm */
typedef u32 (*imul3fn)(u32 *, u32, u32);
#define IMUL3(W, S, M, IDX, IMM)                                                \
    static u32 imul3_##W##_##IDX(u32 *a, u32 b, u32 fi)                         \
    {                                                                           \
        u32 x = *a, fo;                                                         \
        __asm__ volatile(PRE "imul" S " $" #IMM ", %" M "[b], %" M "[x]" POST   \
                         : [x] "+r"(x), [fo] "=&r"(fo)                          \
                         : [b] "r"(b), [fi] "r"(fi)                             \
                         : "cc");                                               \
        *a = x;                                                                 \
        return fo;                                                              \
    }
#define IMUL3_LIST(X)                                                           \
    X(0, 0) X(1, 1) X(2, -1) X(3, 2) X(4, 3) X(5, 10) X(6, -7) X(7, 127)        \
    X(8, -128) X(9, 128) X(10, 0x7fff) X(11, -32768) X(12, 0x1234)
#define IMUL3_LIST32(X)                                                         \
    X(13, 0x12345678) X(14, 0x7fffffff) X(15, 0x80000000) X(16, -100000)
#define I3_16(IDX, IMM) IMUL3(16, "w", "w", IDX, IMM)
#define I3_32(IDX, IMM) IMUL3(32, "l", "k", IDX, IMM)
IMUL3_LIST(I3_16)
IMUL3_LIST(I3_32)
IMUL3_LIST32(I3_32)
struct imul3ent { imul3fn f; s32 imm; };
#define E3_16(IDX, IMM) {imul3_16_##IDX, (s32)(IMM)},
#define E3_32(IDX, IMM) {imul3_32_##IDX, (s32)(IMM)},
static const struct imul3ent imul3_16_tab[] = {IMUL3_LIST(E3_16)};
static const struct imul3ent imul3_32_tab[] = {IMUL3_LIST(E3_32) IMUL3_LIST32(E3_32)};

/* BT/BTS/BTR/BTC/BSF/BSR reg,reg: op src(b), dst(x) */
#define BITOP(op, W, S, M)                                                      \
    static u32 op##W(u32 *a, u32 b, u32 fi)                                     \
    {                                                                           \
        u32 x = *a, fo;                                                         \
        __asm__ volatile(PRE #op S " %" M "[b], %" M "[x]" POST                 \
                         : [x] "+r"(x), [fo] "=&r"(fo)                          \
                         : [b] "r"(b), [fi] "r"(fi)                             \
                         : "cc");                                               \
        *a = x;                                                                 \
        return fo;                                                              \
    }
#define BITOP2(op) BITOP(op, 16, "w", "w") BITOP(op, 32, "l", "k")
BITOP2(bt) BITOP2(bts) BITOP2(btr) BITOP2(btc) BITOP2(bsf) BITOP2(bsr)

static u32 bswap32(u32 *a, u32 b, u32 fi)
{
    u32 x = *a, fo;
    (void)b;
    __asm__ volatile(PRE "bswap %[x]" POST : [x] "+r"(x), [fo] "=&r"(fo) : [fi] "r"(fi) : "cc");
    *a = x;
    return fo;
}

/* BCD and other implicit-EAX instructions: EAX (and EDX) in/out */
typedef u32 (*eaxfn)(u32 *, u32 *, u32);
#define EAXOP(name, insn)                                                       \
    static u32 name(u32 *ax, u32 *dx, u32 fi)                                   \
    {                                                                           \
        u32 x = *ax, y = *dx, fo;                                               \
        __asm__ volatile(PRE insn POST                                          \
                         : "+a"(x), "+d"(y), [fo] "=&r"(fo)                     \
                         : [fi] "r"(fi)                                         \
                         : "cc");                                               \
        *ax = x;                                                                \
        *dx = y;                                                                \
        return fo;                                                              \
    }
EAXOP(daa_, "daa") EAXOP(das_, "das") EAXOP(aaa_, "aaa") EAXOP(aas_, "aas")
EAXOP(cbw_, "cbtw") EAXOP(cwde_, "cwtl") EAXOP(cwd_, "cwtd") EAXOP(cdq_, "cltd")
EAXOP(lahf_, "lahf") EAXOP(sahf_, "sahf")

#define AAM_LIST(X) X(10) X(16) X(1) X(2) X(7) X(255) X(0)
#define AAD_LIST(X) X(10) X(16) X(0) X(1) X(7) X(255)
#define AAMFN(IMM) EAXOP(aam_##IMM, ".byte 0xd4, " #IMM)
#define AADFN(IMM) EAXOP(aad_##IMM, ".byte 0xd5, " #IMM)
AAM_LIST(AAMFN)
AAD_LIST(AADFN)
struct immeaxent { eaxfn f; u32 imm; };
#define AAMENT(IMM) {aam_##IMM, IMM},
#define AADENT(IMM) {aad_##IMM, IMM},
static const struct immeaxent aam_tab[] = {AAM_LIST(AAMENT)};
static const struct immeaxent aad_tab[] = {AAD_LIST(AADENT)};

/* XADD src, dst */
#define XADD(W, S, M)                                                           \
    static u32 xadd##W(u32 *a, u32 *b, u32 fi)                                  \
    {                                                                           \
        u32 x = *a, y = *b, fo;                                                 \
        __asm__ volatile(PRE "xadd" S " %" M "[y], %" M "[x]" POST              \
                         : [x] "+q"(x), [y] "+q"(y), [fo] "=&r"(fo)             \
                         : [fi] "r"(fi)                                         \
                         : "cc");                                               \
        *a = x;                                                                 \
        *b = y;                                                                 \
        return fo;                                                              \
    }
XADD(8, "b", "b") XADD(16, "w", "w") XADD(32, "l", "k")

/* CMPXCHG src, dst with accumulator in eAX */
#define CMPXCHG(W, S, M)                                                        \
    static u32 cmpxchg##W(u32 *a, u32 b, u32 *acc, u32 fi)                      \
    {                                                                           \
        u32 x = *a, y = *acc, fo;                                               \
        __asm__ volatile(PRE "cmpxchg" S " %" M "[b], %" M "[x]" POST           \
                         : [x] "+q"(x), "+a"(y), [fo] "=&r"(fo)                 \
                         : [b] "q"(b), [fi] "r"(fi)                             \
                         : "cc");                                               \
        *a = x;                                                                 \
        *acc = y;                                                               \
        return fo;                                                              \
    }
CMPXCHG(8, "b", "b") CMPXCHG(16, "w", "w") CMPXCHG(32, "l", "k")

/* SETcc / CMOVcc, cc in opcode order 0..15 */
#define CC_LIST(X) X(o) X(no) X(b) X(ae) X(e) X(ne) X(be) X(a) \
                   X(s) X(ns) X(p) X(np) X(l) X(ge) X(le) X(g)
#define SETCC(cc)                                                               \
    static u32 set_##cc(u32 *a, u32 b, u32 fi)                                  \
    {                                                                           \
        u32 x = *a, fo;                                                         \
        (void)b;                                                                \
        __asm__ volatile(PRE "set" #cc " %b[x]" POST                            \
                         : [x] "+q"(x), [fo] "=&r"(fo)                          \
                         : [fi] "r"(fi)                                         \
                         : "cc");                                               \
        *a = x;                                                                 \
        return fo;                                                              \
    }
#define CMOVCC(cc)                                                              \
    static u32 cmov_##cc(u32 *a, u32 b, u32 fi)                                 \
    {                                                                           \
        u32 x = *a, fo;                                                         \
        __asm__ volatile(PRE "cmov" #cc "l %k[b], %k[x]" POST                   \
                         : [x] "+r"(x), [fo] "=&r"(fo)                          \
                         : [b] "r"(b), [fi] "r"(fi)                             \
                         : "cc");                                               \
        *a = x;                                                                 \
        return fo;                                                              \
    }
CC_LIST(SETCC)
CC_LIST(CMOVCC)
typedef u32 (*binfn)(u32 *, u32, u32);
#define CCENT_SET(cc) set_##cc,
#define CCENT_CMOV(cc) cmov_##cc,
static const binfn set_tab[16] = {CC_LIST(CCENT_SET)};
static const binfn cmov_tab[16] = {CC_LIST(CCENT_CMOV)};

/* ------------------------------------------------------------------ #DE handling */

static sigjmp_buf de_jmp;

static void on_sigfpe(int sig)
{
    (void)sig;
    siglongjmp(de_jmp, 1);
}

static void install_sigfpe(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigfpe;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGFPE, &sa, NULL);
}

/* Run a stub that may raise #DE.  Returns 1 if it faulted (SIGFPE).  The stub
 * writes *ax / *dx only after the instruction completed, so on a fault they
 * still hold the inputs. */
typedef u32 (*mdfn)(u32 *, u32 *, u32, u32);
static int __attribute__((noinline)) try_md(mdfn f, u32 *ax, u32 *dx, u32 b, u32 fi, u32 *fo)
{
    if (sigsetjmp(de_jmp, 1) != 0) return 1;
    *fo = f(ax, dx, b, fi);
    return 0;
}
static int __attribute__((noinline)) try_eax(u32 (*f)(u32 *, u32 *, u32), u32 *ax, u32 *dx, u32 fi, u32 *fo)
{
    if (sigsetjmp(de_jmp, 1) != 0) return 1;
    *fo = f(ax, dx, fi);
    return 0;
}

/* ------------------------------------------------------------------ families */

/* number of cases per form */
#define N_ALU   1400
#define N_UN    1000
#define N_NOT   300
#define N_SHCL  1500
#define N_SH1   500
#define N_SHD   1800
#define N_MUL   1400
#define N_DIV   1800
#define N_IMUL3 120 /* per immediate */
#define N_BT    1100
#define N_BSX   1200
#define N_BSWAP 300
#define N_CVT   300
#define N_XADD  1000
#define N_CMPX  1200

struct binform { const char *name; binfn f; int bits; u32 mask; int has_r; };

static void fam_alu(void)
{
    static const struct binform bins[] = {
#define B3(N, f, m, r) {N "8", f##8, 8, m, r}, {N "16", f##16, 16, m, r}, {N "32", f##32, 32, m, r},
        B3("ADD", add, 0x8d5, 1) B3("ADC", adc, 0x8d5, 1) B3("SUB", sub, 0x8d5, 1)
        B3("SBB", sbb, 0x8d5, 1) B3("AND", and, 0x8c5, 1) B3("OR", or, 0x8c5, 1)
        B3("XOR", xor, 0x8c5, 1) B3("CMP", cmp, 0x8d5, 0) B3("TEST", test, 0x8c5, 0)
#undef B3
    };
    struct unform { const char *name; u32 (*f)(u32 *, u32); int bits; int n; };
    static const struct unform uns[] = {
#define U3(N, f, n) {N "8", f##8, 8, n}, {N "16", f##16, 16, n}, {N "32", f##32, 32, n},
        U3("NEG", neg, N_UN) U3("NOT", not, N_NOT) U3("INC", inc, N_UN) U3("DEC", dec, N_UN)
#undef U3
    };
    open_family("alu", "ADD ADC SUB SBB AND OR XOR CMP TEST NEG NOT INC DEC (8/16/32)");
    for (size_t k = 0; k < sizeof bins / sizeof bins[0]; k++) {
        const struct binform *F = &bins[k];
        seed_form(F->name);
        for (int i = 0; i < N_ALU; i++) {
            u32 a = gen_val(F->bits), b = gen_val2(F->bits, a), f = gen_flags(), x = a;
            u32 fo = F->f(&x, b, F_BASE | f);
            Lstart(F->name);
            Lhex("a", a, F->bits);
            Lhex("b", b, F->bits);
            Lfin(f);
            if (F->has_r) Lhex("r", x, F->bits);
            Lfout(fo, F->mask);
            Lend();
        }
    }
    for (size_t k = 0; k < sizeof uns / sizeof uns[0]; k++) {
        const struct unform *F = &uns[k];
        seed_form(F->name);
        for (int i = 0; i < F->n; i++) {
            u32 a = gen_val(F->bits), f = gen_flags(), x = a;
            u32 fo = F->f(&x, F_BASE | f);
            Lstart(F->name);
            Lhex("a", a, F->bits);
            Lfin(f);
            Lhex("r", x, F->bits);
            Lfout(fo, 0x8d5);
            Lend();
        }
    }
}

enum { K_SHL, K_SHR, K_SAR, K_ROL, K_ROR, K_RCL, K_RCR };

/* defined-flag mask for SHL/SHR/SAR/ROL/ROR/RCL/RCR given the CL value */
static u32 shift_mask(int k, int bits, u32 cl)
{
    u32 c = cl & 31;
    if (c == 0) return F_ARITH; /* flags unaffected */
    if (k <= K_SAR) {
        u32 m = F_CF | F_PF | F_ZF | F_SF; /* AF undefined for count != 0 */
        if (c == 1) m |= F_OF;
        if (k != K_SAR && c >= (u32)bits) m &= ~F_CF; /* SHL/SHR count >= size */
        return m;
    }
    /* rotates: SF ZF AF PF unaffected; CF defined; OF only for masked count 1 */
    return c == 1 ? F_ARITH : (F_ARITH & ~F_OF);
}

static void fam_shift(void)
{
    struct shform { const char *name; binfn f; int bits; int kind; int one; };
    static const struct shform sh[] = {
#define S3(N, f, k) {N "8", f##8cl, 8, k, 0}, {N "16", f##16cl, 16, k, 0}, {N "32", f##32cl, 32, k, 0}, \
                    {N "8_1", f##8one, 8, k, 1}, {N "16_1", f##16one, 16, k, 1}, {N "32_1", f##32one, 32, k, 1},
        S3("SHL", shl, K_SHL) S3("SHR", shr, K_SHR) S3("SAR", sar, K_SAR) S3("ROL", rol, K_ROL)
        S3("ROR", ror, K_ROR) S3("RCL", rcl, K_RCL) S3("RCR", rcr, K_RCR)
#undef S3
    };
    struct shdform { const char *name; u32 (*f)(u32 *, u32, u32, u32); int bits; };
    static const struct shdform shd[] = {
        {"SHLD16", shld16, 16}, {"SHLD32", shld32, 32}, {"SHRD16", shrd16, 16}, {"SHRD32", shrd32, 32},
    };
    open_family("shift", "SHL SHR SAR ROL ROR RCL RCR (by CL and by 1, 8/16/32), SHLD SHRD (by CL, 16/32)");
    for (size_t k = 0; k < sizeof sh / sizeof sh[0]; k++) {
        const struct shform *F = &sh[k];
        seed_form(F->name);
        int n = F->one ? N_SH1 : N_SHCL;
        for (int i = 0; i < n; i++) {
            u32 a = gen_val(F->bits), c = F->one ? 1 : gen_count(F->bits), f = gen_flags(), x = a;
            u32 fo = F->f(&x, c, F_BASE | f);
            Lstart(F->name);
            Lhex("a", a, F->bits);
            if (!F->one) Lhex("c", c, 8);
            Lfin(f);
            Lhex("r", x, F->bits);
            Lfout(fo, shift_mask(F->kind, F->bits, c));
            Lend();
        }
    }
    for (size_t k = 0; k < sizeof shd / sizeof shd[0]; k++) {
        const struct shdform *F = &shd[k];
        seed_form(F->name);
        for (int i = 0; i < N_SHD; i++) {
            u32 a = gen_val(F->bits), b = gen_val(F->bits), c = gen_count(F->bits), f = gen_flags(), x = a;
            u32 fo = F->f(&x, b, c, F_BASE | f);
            u32 cm = c & 31, m;
            int ru = 0;
            if (cm == 0) m = F_ARITH;
            else if (cm > (u32)F->bits) { m = 0; ru = 1; } /* result and flags undefined */
            else m = (F_CF | F_PF | F_ZF | F_SF) | (cm == 1 ? F_OF : 0);
            Lstart(F->name);
            Lhex("a", a, F->bits);
            Lhex("b", b, F->bits);
            Lhex("c", c, 8);
            Lfin(f);
            Lhex("r", x, F->bits);
            Lfout(fo, m);
            if (ru) L(" ru=1");
            Lend();
        }
    }
}

/* dividend/divisor generator.  Returns dividend in *lo (AX for 8-bit, eAX
 * otherwise) and *hi (eDX, unused for 8-bit). */
static void gen_div(int bits, int sgn, u32 *lo, u32 *hi, u32 *div)
{
    u32 m = wmask(bits);
    u32 r = rndn(100);
    u32 b = gen_val(bits);
    if (rndn(40) == 0) b = 0;
    *div = b;
    if (r < 60 && b != 0) {
        /* constructed: quotient * divisor + remainder (mostly in range) */
        u32 q = gen_val(bits);
        if (!sgn) {
            u64 bb = b, qq = q;
            u64 rem = rnd64() % bb;
            if (rndn(8) == 0) rem = bb - 1;
            u64 d = qq * bb + rem;
            if (bits == 8) { *lo = (u32)d & 0xffff; *hi = 0; }
            else if (bits == 16) { *lo = (u32)d & 0xffff; *hi = (u32)(d >> 16) & 0xffff; }
            else { *lo = (u32)d; *hi = (u32)(d >> 32); }
        } else {
            s64 sb = (s32)sext(b, bits), sq = (s32)sext(q, bits);
            s64 ab = sb < 0 ? -sb : sb;
            s64 rem = (s64)(rnd64() % (u64)ab);
            if (rndn(8) == 0) rem = ab - 1;
            s64 prod = sq * sb;
            if (prod < 0 || (prod == 0 && rndn(2))) rem = -rem;
            s64 d = prod + rem;
            if (bits == 8) { *lo = (u32)d & 0xffff; *hi = 0; }
            else if (bits == 16) { *lo = (u32)d & 0xffff; *hi = (u32)(d >> 16) & 0xffff; }
            else { *lo = (u32)d; *hi = (u32)((u64)d >> 32); }
        }
    } else if (r < 80) {
        /* dividend sign/zero-extended from the low half */
        u32 v = gen_val(bits);
        if (bits == 8) {
            *lo = sgn ? (sext(v, 8) & 0xffff) : v;
            *hi = 0;
        } else {
            *lo = v;
            *hi = sgn ? (sext(v, bits) >> 31 ? m : 0) : 0;
        }
    } else {
        /* random / edge dividend, often overflows */
        if (bits == 8) { *lo = gen_val(16); *hi = 0; }
        else { *lo = gen_val(bits); *hi = gen_val(bits); }
    }
}

static void fam_muldiv(void)
{
    struct mdform { const char *name; mdfn f; int bits; int isdiv; int sgn; };
    static const struct mdform md[] = {
        {"MUL8", mul8, 8, 0, 0}, {"MUL16", mul16, 16, 0, 0}, {"MUL32", mul32, 32, 0, 0},
        {"IMUL8", imul8, 8, 0, 1}, {"IMUL16", imul16, 16, 0, 1}, {"IMUL32", imul32, 32, 0, 1},
        {"DIV8", div8, 8, 1, 0}, {"DIV16", div16, 16, 1, 0}, {"DIV32", div32, 32, 1, 0},
        {"IDIV8", idiv8, 8, 1, 1}, {"IDIV16", idiv16, 16, 1, 1}, {"IDIV32", idiv32, 32, 1, 1},
    };
    install_sigfpe();

    open_family("muldiv", "MUL IMUL DIV IDIV (one operand, 8/16/32), IMUL r,r/m and IMUL r,r/m,imm (16/32)");
    for (size_t k = 0; k < sizeof md / sizeof md[0]; k++) {
        const struct mdform *F = &md[k];
        int bits = F->bits;
        seed_form(F->name);
        int n = F->isdiv ? N_DIV : N_MUL;
        for (int i = 0; i < n; i++) {
            u32 lo, hi = 0, b, f = gen_flags();
            if (F->isdiv) gen_div(bits, F->sgn, &lo, &hi, &b);
            else { lo = gen_val(bits); b = gen_val2(bits, lo); }
            Lstart(F->name);
            if (F->isdiv && bits == 8) Lhex("a", lo, 16);
            else Lhex("a", lo, bits);
            if (F->isdiv && bits > 8) Lhex("d", hi, bits);
            Lhex("b", b, bits);
            Lfin(f);
            u32 x = lo, y = hi, fo = 0;
            if (try_md(F->f, &x, &y, b, F_BASE | f, &fo)) {
                L(" ex=DE");
                Lend();
                continue;
            }
            if (bits == 8) { Lhex("r", x, 8); Lhex("r2", x >> 8, 8); }
            else { Lhex("r", x, bits); Lhex("r2", y, bits); }
            Lfout(fo, F->isdiv ? 0 : (F_CF | F_OF));
            Lend();
        }
    }
    /* IMUL r, r/m */
    {
        struct { const char *name; binfn f; int bits; } i2[] = {{"IMUL2_16", imul2_16, 16}, {"IMUL2_32", imul2_32, 32}};
        for (int k = 0; k < 2; k++) {
            seed_form(i2[k].name);
            int bits = i2[k].bits;
            for (int i = 0; i < N_MUL; i++) {
                u32 a = gen_val(bits), b = gen_val2(bits, a), f = gen_flags(), x = a;
                u32 fo = i2[k].f(&x, b, F_BASE | f);
                Lstart(i2[k].name);
                Lhex("a", a, bits);
                Lhex("b", b, bits);
                Lfin(f);
                Lhex("r", x, bits);
                Lfout(fo, F_CF | F_OF);
                Lend();
            }
        }
    }
    /* IMUL r, r/m, imm */
    {
        struct { const char *name; const struct imul3ent *t; size_t n; int bits; } i3[] = {
            {"IMUL3_16", imul3_16_tab, sizeof imul3_16_tab / sizeof imul3_16_tab[0], 16},
            {"IMUL3_32", imul3_32_tab, sizeof imul3_32_tab / sizeof imul3_32_tab[0], 32},
        };
        for (int k = 0; k < 2; k++) {
            seed_form(i3[k].name);
            int bits = i3[k].bits;
            for (size_t j = 0; j < i3[k].n; j++) {
                for (int i = 0; i < N_IMUL3; i++) {
                    u32 a = gen_val(bits), f = gen_flags(), x = gen_val(bits);
                    u32 fo = i3[k].t[j].f(&x, a, F_BASE | f);
                    Lstart(i3[k].name);
                    Lhex("a", a, bits);
                    Lhex("i", (u32)i3[k].t[j].imm, bits);
                    Lfin(f);
                    Lhex("r", x, bits);
                    Lfout(fo, F_CF | F_OF);
                    Lend();
                }
            }
        }
    }
}

static void fam_bit(void)
{
    struct btform { const char *name; binfn f; int bits; int kind; };
    enum { BTK, BTMOD, BSX, BSW };
    static const struct btform bt[] = {
        {"BT16", bt16, 16, BTK}, {"BT32", bt32, 32, BTK},
        {"BTS16", bts16, 16, BTMOD}, {"BTS32", bts32, 32, BTMOD},
        {"BTR16", btr16, 16, BTMOD}, {"BTR32", btr32, 32, BTMOD},
        {"BTC16", btc16, 16, BTMOD}, {"BTC32", btc32, 32, BTMOD},
        {"BSF16", bsf16, 16, BSX}, {"BSF32", bsf32, 32, BSX},
        {"BSR16", bsr16, 16, BSX}, {"BSR32", bsr32, 32, BSX},
        {"BSWAP32", bswap32, 32, BSW},
    };
    open_family("bit", "BT BTS BTR BTC (reg,reg 16/32), BSF BSR (16/32), BSWAP (32)");
    for (size_t k = 0; k < sizeof bt / sizeof bt[0]; k++) {
        const struct btform *F = &bt[k];
        int bits = F->bits;
        seed_form(F->name);
        int n = F->kind == BSW ? N_BSWAP : F->kind == BSX ? N_BSX : N_BT;
        for (int i = 0; i < n; i++) {
            u32 a = gen_val(bits), b, f = gen_flags(), m;
            int ru = 0;
            if (F->kind == BSX) {
                b = rndn(8) == 0 ? 0 : gen_val(bits);
                a = rnd32() & wmask(bits);
                m = F_ZF;
                ru = (b & wmask(bits)) == 0;
            } else if (F->kind == BSW) {
                b = 0;
                m = F_ARITH;
            } else {
                u32 r = rndn(10);
                b = r < 4 ? rndn(bits) : r < 8 ? rndn(256) : gen_val(bits);
                m = F_CF | F_ZF;
            }
            u32 x = a;
            u32 fo = F->f(&x, b, F_BASE | f);
            Lstart(F->name);
            Lhex("a", a, bits);
            if (F->kind != BSW) Lhex("b", b, bits);
            Lfin(f);
            if (F->kind != BTK) Lhex("r", x, bits);
            Lfout(fo, m);
            if (ru) L(" ru=1");
            Lend();
        }
    }
}

static u32 gen_ah(void)
{
    static const u32 e[] = {0x00, 0x01, 0x09, 0x7f, 0x80, 0xfe, 0xff};
    return rndn(2) ? e[rndn(7)] : rndn(256);
}

static void fam_bcd(void)
{
    install_sigfpe();

    open_family("bcd", "DAA DAS AAA AAS AAM AAD");
    /* DAA/DAS: exhaustive AL x CF x AF (AH and other flags random) */
    /* AAA/AAS: exhaustive AL x CF x AF, twice, AH random/edge */
    struct { const char *name; eaxfn f; u32 m; int reps; } b0[] = {
        {"DAA", daa_, F_CF | F_PF | F_AF | F_ZF | F_SF, 1},
        {"DAS", das_, F_CF | F_PF | F_AF | F_ZF | F_SF, 1},
        {"AAA", aaa_, F_CF | F_AF, 2},
        {"AAS", aas_, F_CF | F_AF, 2},
    };
    for (int k = 0; k < 4; k++) {
        seed_form(b0[k].name);
        for (int rep = 0; rep < b0[k].reps; rep++)
            for (u32 al = 0; al < 256; al++)
                for (u32 cfaf = 0; cfaf < 4; cfaf++) {
                    u32 f = (gen_flags() & ~(F_CF | F_AF)) | ((cfaf & 1) ? F_CF : 0) | ((cfaf & 2) ? F_AF : 0);
                    u32 a = (gen_ah() << 8) | al, x = a, y = 0;
                    u32 fo = b0[k].f(&x, &y, F_BASE | f);
                    Lstart(b0[k].name);
                    Lhex("a", a, 16);
                    Lfin(f);
                    Lhex("r", x, 16);
                    Lfout(fo, b0[k].m);
                    Lend();
                }
    }
    /* AAM imm: exhaustive AL for each immediate */
    seed_form("AAM");
    for (size_t j = 0; j < sizeof aam_tab / sizeof aam_tab[0]; j++)
        for (u32 al = 0; al < 256; al++) {
            u32 f = gen_flags(), a = (gen_ah() << 8) | al;
            Lstart("AAM");
            Lhex("a", a, 16);
            Lhex("i", aam_tab[j].imm, 8);
            Lfin(f);
            u32 x = a, y = 0, fo = 0;
            if (try_eax(aam_tab[j].f, &x, &y, F_BASE | f, &fo)) {
                L(" ex=DE");
                Lend();
                continue;
            }
            Lhex("r", x, 16);
            Lfout(fo, F_PF | F_ZF | F_SF);
            Lend();
        }
    /* AAD imm: random AX for each immediate */
    seed_form("AAD");
    for (size_t j = 0; j < sizeof aad_tab / sizeof aad_tab[0]; j++)
        for (int i = 0; i < 400; i++) {
            u32 f = gen_flags(), a = (gen_ah() << 8) | (rndn(2) ? rndn(10) : rndn(256)), x = a, y = 0;
            if (rndn(2)) a = x = ((rndn(10)) << 8) | rndn(10); /* valid unpacked BCD */
            u32 fo = aad_tab[j].f(&x, &y, F_BASE | f);
            Lstart("AAD");
            Lhex("a", a, 16);
            Lhex("i", aad_tab[j].imm, 8);
            Lfin(f);
            Lhex("r", x, 16);
            Lfout(fo, F_PF | F_ZF | F_SF);
            Lend();
        }
}

static void fam_misc(void)
{
    open_family("misc", "CBW CWDE CWD CDQ, XADD, CMPXCHG (8/16/32), SETcc, CMOVcc (32), LAHF, SAHF");
    struct { const char *name; eaxfn f; int inbits; int outbits; int outdx; } cv[] = {
        {"CBW", cbw_, 16, 16, 0}, {"CWDE", cwde_, 32, 32, 0}, {"CWD", cwd_, 16, 16, 1}, {"CDQ", cdq_, 32, 32, 1},
    };
    for (int k = 0; k < 4; k++) {
        seed_form(cv[k].name);
        for (int i = 0; i < N_CVT; i++) {
            u32 a = gen_val(cv[k].inbits), f = gen_flags(), x, y = rnd32();
            if (k == 0 && rndn(2)) a = (a & 0xff) | (rnd32() & 0xff00);
            x = a;
            u32 fo = cv[k].f(&x, &y, F_BASE | f);
            Lstart(cv[k].name);
            Lhex("a", a, cv[k].inbits);
            Lfin(f);
            Lhex("r", cv[k].outdx ? y : x, cv[k].outbits);
            Lfout(fo, F_ARITH);
            Lend();
        }
    }
    struct { const char *name; u32 (*f)(u32 *, u32 *, u32); int bits; } xa[] = {
        {"XADD8", xadd8, 8}, {"XADD16", xadd16, 16}, {"XADD32", xadd32, 32},
    };
    for (int k = 0; k < 3; k++) {
        int bits = xa[k].bits;
        seed_form(xa[k].name);
        for (int i = 0; i < N_XADD; i++) {
            u32 a = gen_val(bits), b = gen_val2(bits, a), f = gen_flags(), x = a, y = b;
            u32 fo = xa[k].f(&x, &y, F_BASE | f);
            Lstart(xa[k].name);
            Lhex("a", a, bits);
            Lhex("b", b, bits);
            Lfin(f);
            Lhex("r", x, bits);
            Lhex("r2", y, bits);
            Lfout(fo, F_ARITH);
            Lend();
        }
    }
    struct { const char *name; u32 (*f)(u32 *, u32, u32 *, u32); int bits; } cx[] = {
        {"CMPXCHG8", cmpxchg8, 8}, {"CMPXCHG16", cmpxchg16, 16}, {"CMPXCHG32", cmpxchg32, 32},
    };
    for (int k = 0; k < 3; k++) {
        int bits = cx[k].bits;
        seed_form(cx[k].name);
        for (int i = 0; i < N_CMPX; i++) {
            u32 a = gen_val(bits), b = gen_val(bits), acc = rndn(2) ? a : gen_val2(bits, a), f = gen_flags();
            u32 x = a, y = acc;
            u32 fo = cx[k].f(&x, b, &y, F_BASE | f);
            Lstart(cx[k].name);
            Lhex("a", a, bits);
            Lhex("b", b, bits);
            Lhex("acc", acc, bits);
            Lfin(f);
            Lhex("r", x, bits);
            Lhex("r2", y, bits);
            Lfout(fo, F_ARITH);
            Lend();
        }
    }
    /* SETcc: every cc x every combination of the six flags */
    seed_form("SETCC");
    for (u32 cc = 0; cc < 16; cc++)
        for (u32 fl = 0; fl < 64; fl++) {
            u32 f = ((fl & 1) ? F_CF : 0) | ((fl & 2) ? F_PF : 0) | ((fl & 4) ? F_AF : 0) |
                    ((fl & 8) ? F_ZF : 0) | ((fl & 16) ? F_SF : 0) | ((fl & 32) ? F_OF : 0);
            u32 a = rnd32() & 0xff, x = a;
            u32 fo = set_tab[cc](&x, 0, F_BASE | f);
            Lstart("SETCC");
            L(" cc=%x", cc);
            Lhex("a", a, 8);
            Lfin(f);
            Lhex("r", x, 8);
            Lfout(fo, F_ARITH);
            Lend();
        }
    seed_form("CMOV32");
    for (u32 cc = 0; cc < 16; cc++)
        for (u32 fl = 0; fl < 64; fl++) {
            u32 f = ((fl & 1) ? F_CF : 0) | ((fl & 2) ? F_PF : 0) | ((fl & 4) ? F_AF : 0) |
                    ((fl & 8) ? F_ZF : 0) | ((fl & 16) ? F_SF : 0) | ((fl & 32) ? F_OF : 0);
            u32 a = gen_val(32), b = gen_val(32), x = a;
            u32 fo = cmov_tab[cc](&x, b, F_BASE | f);
            Lstart("CMOV32");
            L(" cc=%x", cc);
            Lhex("a", a, 32);
            Lhex("b", b, 32);
            Lfin(f);
            Lhex("r", x, 32);
            Lfout(fo, F_ARITH);
            Lend();
        }
    /* LAHF: every flag combination, random AX */
    seed_form("LAHF");
    for (int rep = 0; rep < 4; rep++)
        for (u32 fl = 0; fl < 64; fl++) {
            u32 f = ((fl & 1) ? F_CF : 0) | ((fl & 2) ? F_PF : 0) | ((fl & 4) ? F_AF : 0) |
                    ((fl & 8) ? F_ZF : 0) | ((fl & 16) ? F_SF : 0) | ((fl & 32) ? F_OF : 0);
            u32 a = rnd32() & 0xffff, x = a, y = 0;
            u32 fo = lahf_(&x, &y, F_BASE | f);
            Lstart("LAHF");
            Lhex("a", a, 16);
            Lfin(f);
            Lhex("r", x, 16);
            Lfout(fo, F_ARITH);
            Lend();
        }
    /* SAHF: every AH value, twice, random AL and input flags */
    seed_form("SAHF");
    for (int rep = 0; rep < 2; rep++)
        for (u32 ah = 0; ah < 256; ah++) {
            u32 f = gen_flags(), a = (ah << 8) | rndn(256), x = a, y = 0;
            u32 fo = sahf_(&x, &y, F_BASE | f);
            Lstart("SAHF");
            Lhex("a", a, 16);
            Lfin(f);
            Lfout(fo, F_ARITH);
            Lend();
        }
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
        return 2;
    }
    outdir = argv[1];
    read_cpu();
    fam_alu();
    fam_shift();
    fam_muldiv();
    fam_bit();
    fam_bcd();
    fam_misc();
    if (out) fclose(out);
    return 0;
}
