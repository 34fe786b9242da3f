// hist.h: the bench's load generators' latency histogram (hosted C): log-linear buckets, no sample dropped.
#ifndef BENCH_HIST_H
#define BENCH_HIST_H

#include <stdint.h>

// Values below 64 ns get a bucket each; above, each power of two is split
// into 32 buckets, so any reported value is within about 3% of the truth.

#define HIST_SUB  32
#define HIST_SIZE (64 + 58 * HIST_SUB)
static uint64_t hist[HIST_SIZE];

static int hist_index(uint64_t v)
{
    if (v < 64)
        return (int)v;
    int msb = 63 - __builtin_clzll(v);
    int sub = (int)((v >> (msb - 5)) & (HIST_SUB - 1));
    return 64 + (msb - 6) * HIST_SUB + sub;
}

static uint64_t hist_value(int i)
{ // middle of bucket i, in ns
    if (i < 64)
        return (uint64_t)i;
    int msb = (i - 64) / HIST_SUB + 6, sub = (i - 64) % HIST_SUB;
    uint64_t lo = ((uint64_t)(HIST_SUB + sub)) << (msb - 5);
    return lo + ((1ull << (msb - 5)) >> 1);
}

static double hist_percentile(uint64_t total, double p)
{ // in µs
    if (total == 0)
        return 0;
    uint64_t want = (uint64_t)(p / 100.0 * (double)total + 0.5), seen = 0;
    if (want < 1)
        want = 1;
    for (int i = 0; i < HIST_SIZE; i++) {
        seen += hist[i];
        if (seen >= want)
            return (double)hist_value(i) / 1000.0;
    }
    return 0;
}

#endif
