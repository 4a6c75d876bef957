/* string.c - memory and string functions for the guest (gcc may emit calls
 * to memcpy/memset/memmove/memcmp even with -ffreestanding). The host build
 * uses libc's. */
#include "sdk.h"

void *memcpy(void *d, const void *s, size_t n)
{
    void *ret = d;
    uint32_t dw, sw;
    if ((((uintptr_t)d | (uintptr_t)s) & 3) == 0) {
        size_t words = n >> 2;
        __asm__ volatile("rep movsl" : "=D"(dw), "=S"(sw), "+c"(words) : "0"(d), "1"(s) : "memory");
        d = (void *)dw; s = (const void *)sw;
        n &= 3;
    }
    __asm__ volatile("rep movsb" : "=D"(dw), "=S"(sw), "+c"(n) : "0"(d), "1"(s) : "memory");
    return ret;
}

void *memmove(void *d, const void *s, size_t n)
{
    uint8_t *dp = (uint8_t *)d;
    const uint8_t *sp = (const uint8_t *)s;
    if (dp <= sp || dp >= sp + n)
        return memcpy(d, s, n);
    while (n--)
        dp[n] = sp[n];
    return d;
}

void *memset(void *d, int c, size_t n)
{
    void *ret = d;
    uint32_t dw;
    if (((uintptr_t)d & 3) == 0 && n >= 4) {
        uint32_t v = (uint8_t)c * 0x01010101u;
        size_t words = n >> 2;
        __asm__ volatile("rep stosl" : "=D"(dw), "+c"(words) : "0"(d), "a"(v) : "memory");
        d = (void *)dw;
        n &= 3;
    }
    __asm__ volatile("rep stosb" : "=D"(dw), "+c"(n) : "0"(d), "a"(c) : "memory");
    return ret;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const uint8_t *x = (const uint8_t *)a, *y = (const uint8_t *)b;
    for (size_t i = 0; i < n; i++)
        if (x[i] != y[i])
            return x[i] < y[i] ? -1 : 1;
    return 0;
}

size_t strlen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

int strcmp(const char *a, const char *b)
{
    while (*a && *a == *b) { a++; b++; }
    return (unsigned char)*a - (unsigned char)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
    for (; n; n--, a++, b++) {
        if (*a != *b)
            return (unsigned char)*a - (unsigned char)*b;
        if (!*a)
            return 0;
    }
    return 0;
}

char *strcpy(char *d, const char *s)
{
    char *r = d;
    while ((*d++ = *s++))
        ;
    return r;
}
