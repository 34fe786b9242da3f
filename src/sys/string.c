// string.c: memcpy and friends with x86 string instructions, plus small string helpers.
#include "sys/string.h"

#include <stdint.h>

// [snippet: memcpy]
// A C loop here is a trap: the optimiser recognises "copy n bytes" and turns
// the loop into a call to memcpy, i.e. into infinite recursion. `rep movsb`
// says it in one instruction, and on CPUs with ERMSB/FSRM (most since 2013)
// the microcode copies in wide chunks, so it is also fast.
void *sys_memcpy(void *dst, const void *src, size_t n)
{
    void *d = dst;
    __asm__ volatile("rep movsb" : "+D"(d), "+S"(src), "+c"(n) : : "memory");
    return dst;
}
// [end: memcpy]

void *sys_memmove(void *dst, const void *src, size_t n)
{
    if ((uintptr_t)dst - (uintptr_t)src >= n) // no harmful overlap: forward copy is safe
        return sys_memcpy(dst, src, n);
    // dst overlaps the tail of src: copy backwards with the direction flag set.
    char *d = (char *)dst + n - 1;
    const char *s = (const char *)src + n - 1;
    __asm__ volatile("std\n\trep movsb\n\tcld" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
    return dst;
}

void *sys_memset(void *dst, int c, size_t n)
{
    void *d = dst;
    __asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
    return dst;
}

int sys_memcmp(const void *a, const void *b, size_t n)
{
    const unsigned char *x = a, *y = b;
    for (size_t i = 0; i < n; i++)
        if (x[i] != y[i])
            return x[i] < y[i] ? -1 : 1;
    return 0;
}

size_t sys_strlen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

// [snippet: mem-aliases]
#ifndef HOSTED
void *memcpy(void *dst, const void *src, size_t n) __attribute__((alias("sys_memcpy")));
void *memmove(void *dst, const void *src, size_t n) __attribute__((alias("sys_memmove")));
void *memset(void *dst, int c, size_t n) __attribute__((alias("sys_memset")));
int memcmp(const void *a, const void *b, size_t n) __attribute__((alias("sys_memcmp")));
size_t strlen(const char *s) __attribute__((alias("sys_strlen")));
#endif
// [end: mem-aliases]

bool sys_streq(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return *a == *b;
}

bool sys_starts_with(const char *s, const char *prefix)
{
    while (*prefix)
        if (*s++ != *prefix++)
            return false;
    return true;
}

static inline unsigned char ascii_lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c | 0x20) : c;
}

bool sys_memeq_nocase(const void *a, const void *b, size_t n)
{
    const unsigned char *x = a, *y = b;
    for (size_t i = 0; i < n; i++)
        if (ascii_lower(x[i]) != ascii_lower(y[i]))
            return false;
    return true;
}
