/* format.c - printf for the guest SDK (also used by the host shim, so both
 * produce the same bytes). Supports %d %i %u %x %X %o %c %s %p %% with flags
 * '-' and '0', a field width (digits or '*'), and the length modifiers
 * h, l (32-bit on i386), ll (64-bit), z. */
#include "sdk.h"

static int emit(char c)
{
    putchar((unsigned char)c);
    return 1;
}

static int emit_padded(const char *s, int len, int width, int left, char pad)
{
    int n = 0;
    if (!left)
        for (; width > len; width--)
            n += emit(pad);
    for (int i = 0; i < len; i++)
        n += emit(s[i]);
    if (left)
        for (; width > len; width--)
            n += emit(' ');
    return n;
}

/* Digits of v in base into the end of buf; returns the start. */
static char *utoa64(char *end, uint64_t v, unsigned base, int upper)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char *p = end;
    if ((v >> 32) == 0) {               /* fast path without libgcc */
        uint32_t w = (uint32_t)v;
        do { *--p = digits[w % base]; w /= base; } while (w);
    } else {
        do { *--p = digits[v % base]; v /= base; } while (v);
    }
    return p;
}

int vprintf(const char *fmt, va_list ap)
{
    int count = 0;
    char buf[32];

    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            count += emit(*fmt);
            continue;
        }
        fmt++;
        int left = 0, zero = 0, width = 0, lng = 0;
        for (;; fmt++) {
            if (*fmt == '-') left = 1;
            else if (*fmt == '0') zero = 1;
            else break;
        }
        if (*fmt == '*') {
            width = va_arg(ap, int);
            if (width < 0) { left = 1; width = -width; }
            fmt++;
        } else {
            while (*fmt >= '0' && *fmt <= '9')
                width = width * 10 + (*fmt++ - '0');
        }
        for (;; fmt++) {
            if (*fmt == 'l') lng++;
            else if (*fmt == 'h' || *fmt == 'z') ;
            else break;
        }
        char pad = (zero && !left) ? '0' : ' ';
        char *end = buf + sizeof buf;
        char *p;
        uint64_t u;
        switch (*fmt) {
        case 'd': case 'i': {
            int64_t v = lng >= 2 ? va_arg(ap, int64_t) : (int64_t)va_arg(ap, int32_t);
            int neg = v < 0;
            u = neg ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
            p = utoa64(end, u, 10, 0);
            if (neg) {
                if (pad == '0' && width > 0) {   /* sign before the zeros */
                    count += emit('-');
                    width--;
                } else {
                    *--p = '-';
                }
            }
            count += emit_padded(p, (int)(end - p), width, left, pad);
            break;
        }
        case 'u': case 'x': case 'X': case 'o': {
            u = lng >= 2 ? va_arg(ap, uint64_t) : (uint64_t)va_arg(ap, uint32_t);
            unsigned base = *fmt == 'u' ? 10 : *fmt == 'o' ? 8 : 16;
            p = utoa64(end, u, base, *fmt == 'X');
            count += emit_padded(p, (int)(end - p), width, left, pad);
            break;
        }
        case 'p':
            u = (uintptr_t)va_arg(ap, void *);
            p = utoa64(end, u, 16, 0);
            while (end - p < 8) *--p = '0';
            *--p = 'x'; *--p = '0';
            count += emit_padded(p, (int)(end - p), width, left, ' ');
            break;
        case 'c':
            buf[0] = (char)va_arg(ap, int);
            count += emit_padded(buf, 1, width, left, ' ');
            break;
        case 's': {
            const char *s = va_arg(ap, const char *);
            if (!s) s = "(null)";
            count += emit_padded(s, (int)strlen(s), width, left, ' ');
            break;
        }
        case '%':
            count += emit('%');
            break;
        case '\0':
            return count;
        default:                        /* unknown conversion: print it verbatim */
            count += emit('%');
            count += emit(*fmt);
            break;
        }
    }
    return count;
}

int printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vprintf(fmt, ap);
    va_end(ap);
    return n;
}

int puts(const char *s)
{
    while (*s)
        putchar((unsigned char)*s++);
    putchar('\n');
    return 1;
}
