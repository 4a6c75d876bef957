/* fmt.c - a small snprintf for the pmkernel and its oracle: %s %c %d %u %x %%,
 * with a field width and the 0 flag. Always NUL-terminates; returns the length. */
#include "common.h"

int fmt_v(char *buf, int size, const char *f, va_list ap)
{
    int n = 0;
#define PUT(ch) do { if (n < size - 1) buf[n] = (ch); n++; } while (0)
    for (; *f; f++) {
        if (*f != '%') { PUT(*f); continue; }
        f++;
        int zero = 0, width = 0;
        if (*f == '0') { zero = 1; f++; }
        while (*f >= '0' && *f <= '9') width = width * 10 + (*f++ - '0');
        char tmp[12];
        int len = 0, neg = 0;
        const char *s = tmp;
        switch (*f) {
        case 's':
            s = va_arg(ap, const char *);
            while (s[len]) len++;
            break;
        case 'c':
            tmp[0] = (char)va_arg(ap, int);
            len = 1;
            break;
        case 'd': case 'u': case 'x': {
            uint32_t v = va_arg(ap, uint32_t);
            uint32_t base = *f == 'x' ? 16 : 10;
            if (*f == 'd' && (int32_t)v < 0) { neg = 1; v = -v; }
            char rev[12];
            int k = 0;
            do { rev[k++] = "0123456789abcdef"[v % base]; v /= base; } while (v);
            if (neg) tmp[len++] = '-';
            while (k) tmp[len++] = rev[--k];
            break;
        }
        case '%':
            tmp[0] = '%';
            len = 1;
            break;
        default:
            tmp[0] = '?';
            len = 1;
        }
        for (int pad = len; pad < width; pad++) PUT(zero ? '0' : ' ');
        for (int i = 0; i < len; i++) PUT(s[i]);
    }
    if (size > 0) buf[n < size ? n : size - 1] = 0;
#undef PUT
    return n;
}

int fmt(char *buf, int size, const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    int n = fmt_v(buf, size, f, ap);
    va_end(ap);
    return n;
}
