// hosted_string_fmt.c: differential test of our mem*/formatting against the host libc, under sanitizers.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sys/fmt.h"
#include "sys/string.h"

// fmt.c flushes through sys_write_all; hosted, route it to write(2).
long sys_write_all(int fd, const void *buf, size_t n);
long sys_write_all(int fd, const void *buf, size_t n) { return write(fd, buf, n); }

static int failures;

static void report(const char *name, int ok, const char *why)
{
    if (ok)
        printf("[OK] %s\n", name);
    else
        printf("[FAIL] %s: %s\n", name, why), failures++;
}

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint64_t next(void)
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return rng;
}

static void mem_functions_match_libc(void)
{
    unsigned char a[512], b[512], c[512], d[512];
    int ok = 1;
    for (int iter = 0; iter < 20000 && ok; iter++) {
        for (int i = 0; i < 512; i++)
            a[i] = b[i] = (unsigned char)next();
        size_t n = next() % 200, so = next() % 256, dof = next() % 256;
        memcpy(c, a, 512), memcpy(d, a, 512);
        memmove(c + dof, c + so, n);
        sys_memmove(d + dof, d + so, n);
        ok &= memcmp(c, d, 512) == 0;
        memcpy(c, a, 512), memcpy(d, a, 512);
        if (so + n <= 256 && dof >= 256) {
            memcpy(c + dof, c + so, n);
            sys_memcpy(d + dof, d + so, n);
            ok &= memcmp(c, d, 512) == 0;
        }
        int v = (int)(next() & 0xff);
        memset(c + so, v, n), sys_memset(d + so, v, n);
        ok &= memcmp(c, d, 512) == 0;
        b[next() % 512] ^= (unsigned char)(next() | 1);
        int x = memcmp(a, b, n), y = sys_memcmp(a, b, n);
        ok &= (x < 0) == (y < 0) && (x > 0) == (y > 0);
        a[n] = 0;
        ok &= strlen((char *)a) == sys_strlen((char *)a);
    }
    report("mem_functions_match_libc", ok, "a result differs from libc");
}

static void formatting_matches_snprintf(void)
{
    char want[128], got[128];
    int ok = 1;
    for (int iter = 0; iter < 100000 && ok; iter++) {
        uint64_t u = next() >> (next() % 64);
        int64_t s = (int64_t)next() >> (next() % 64);
        int w = (int)(next() % 12);
        snprintf(want, sizeof want, "%lu %ld %lx %0*lu %*d|%s", (unsigned long)u, (long)s, (unsigned long)u,
                 w, (unsigned long)u, w, (int)s, "x");
        sys_snprintf(got, sizeof got, "%lu %ld %lx %0*lu %*d|%s", (unsigned long)u, (long)s, (unsigned long)u,
                     w, (unsigned long)u, w, (int)s, "x");
        if (strcmp(want, got) != 0)
            ok = 0, fprintf(stderr, "want '%s' got '%s'\n", want, got);
    }
    report("formatting_matches_snprintf", ok, "output differs from snprintf");
}

static void parse_round_trips(void)
{
    int ok = 1;
    for (int iter = 0; iter < 100000 && ok; iter++) {
        uint64_t u = next() >> (next() % 64), back = 0;
        char b[24];
        int n = snprintf(b, sizeof b, "%lu", (unsigned long)u);
        ok &= sys_parse_u64(b, (size_t)n, &back) == 0 && back == u;
    }
    report("parse_round_trips", ok, "parse(format(x)) != x");
}

int main(void)
{
    mem_functions_match_libc();
    formatting_matches_snprintf();
    parse_round_trips();
    return failures ? 1 : 0;
}
