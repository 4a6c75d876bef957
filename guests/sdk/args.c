/* args.c - command-line parsing shared by the guest and the host shim.
 * Words are separated by spaces; a word without '=' is skipped (QEMU passes
 * the image path as the first word). Known keys: size=test|bench, iters=N,
 * seed=S (N and S decimal or 0x-prefixed hex). Anything else: one line on the
 * console and exit status 2. */
#include "sdk.h"

static int      size_is_test;           /* default: bench */
static int      iters_set, seed_set;
static uint32_t iters_val, seed_val;

int arg_is_test(void)             { return size_is_test; }
const char *arg_size_name(void)   { return size_is_test ? "test" : "bench"; }
uint32_t arg_iters(uint32_t dflt) { return iters_set ? iters_val : dflt; }
uint32_t arg_seed(uint32_t dflt)  { return seed_set ? seed_val : dflt; }

static int word_eq(const char *w, int n, const char *lit)
{
    int i = 0;
    for (; i < n && lit[i]; i++)
        if (w[i] != lit[i])
            return 0;
    return i == n && lit[i] == 0;
}

static void bad_word(const char *msg, const char *w, int n)
{
    printf("%s: ", msg);
    for (int i = 0; i < n; i++)
        putchar(w[i]);
    putchar('\n');
    exit(EXIT_BAD_ARGS);
}

/* Parses decimal or 0x-hex; returns 0 on a malformed number. */
static int parse_u32(const char *s, int n, uint32_t *out)
{
    uint32_t v = 0;
    int i = 0, base = 10;
    if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        i = 2;
    }
    if (i >= n)
        return 0;
    for (; i < n; i++) {
        char c = s[i];
        uint32_t d;
        if (c >= '0' && c <= '9') d = (uint32_t)(c - '0');
        else if (base == 16 && c >= 'a' && c <= 'f') d = (uint32_t)(c - 'a' + 10);
        else if (base == 16 && c >= 'A' && c <= 'F') d = (uint32_t)(c - 'A' + 10);
        else return 0;
        uint64_t nv = (uint64_t)v * base + d;
        if (nv > 0xFFFFFFFFu)
            return 0;
        v = (uint32_t)nv;
    }
    *out = v;
    return 1;
}

void args_parse(const char *cmdline)
{
    const char *p = cmdline;
    if (!p)
        return;
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
            p++;
        if (!*p)
            break;
        const char *w = p;
        while (*p && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
            p++;
        int n = (int)(p - w);
        int eq = -1;
        for (int i = 0; i < n; i++)
            if (w[i] == '=') { eq = i; break; }
        if (eq < 0)
            continue;                   /* e.g. the image path */
        const char *v = w + eq + 1;
        int vn = n - eq - 1;
        if (word_eq(w, eq, "size")) {
            if (word_eq(v, vn, "test")) size_is_test = 1;
            else if (word_eq(v, vn, "bench")) size_is_test = 0;
            else bad_word("bad argument (size must be test or bench)", w, n);
        } else if (word_eq(w, eq, "iters")) {
            if (!parse_u32(v, vn, &iters_val) || iters_val == 0)
                bad_word("bad argument (iters must be a positive number)", w, n);
            iters_set = 1;
        } else if (word_eq(w, eq, "seed")) {
            if (!parse_u32(v, vn, &seed_val))
                bad_word("bad argument (seed must be a number)", w, n);
            seed_set = 1;
        } else {
            bad_word("unknown argument", w, n);
        }
    }
}
