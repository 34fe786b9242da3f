// ws_utf8_model.h: test/fuzz-only reference model of UTF-8 validity, independent of the DFA under test.
#ifndef WS_TESTS_UTF8_MODEL_H
#define WS_TESTS_UTF8_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

// A partial sequence is acceptable iff some code point that is legal for
// its length (no overlong form, no surrogate, at most U+10FFFF) starts with
// those bytes. The code points sharing a prefix form one interval
// [lo, hi] (fill the missing bits with 0s / 1s), so the test is an
// interval intersection. This shares nothing with the DFA under test.

static inline bool model_completable(const uint8_t *t, size_t k, size_t len)
{
    static const uint32_t min_cp[5] = {0, 0, 0x80, 0x800, 0x10000};
    static const uint32_t max_cp[5] = {0, 0, 0x7FF, 0xFFFF, 0x10FFFF};
    static const uint8_t lead_bits[5] = {0, 0, 5, 4, 3};
    uint32_t lo = t[0] & ((1u << lead_bits[len]) - 1);
    for (size_t j = 1; j < k; j++) {
        if ((t[j] & 0xC0) != 0x80)
            return false;
        lo = lo << 6 | (t[j] & 0x3F);
    }
    uint32_t hi = lo;
    for (size_t j = k; j < len; j++) {
        lo = lo << 6;
        hi = hi << 6 | 0x3F;
    }
    uint32_t a = lo > min_cp[len] ? lo : min_cp[len];
    uint32_t b = hi < max_cp[len] ? hi : max_cp[len];
    if (a > b)
        return false;
    return !(a >= 0xD800 && b <= 0xDFFF);
}

// Returns the index of the first byte after which p can no longer be a
// prefix of valid UTF-8, or n if there is none; *done = ends on a boundary.
static inline size_t model_first_bad(const uint8_t *p, size_t n, bool *done)
{
    size_t i = 0;
    *done = true;
    while (i < n) {
        uint8_t b = p[i];
        size_t len = b < 0x80 ? 1 : b < 0xC0 ? 0 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : b < 0xF8 ? 4 : 0;
        if (len == 0)
            return i;
        if (len == 1) {
            i++;
            continue;
        }
        for (size_t k = 1; k <= len; k++) {
            if (i + k > n) {
                *done = false;
                return n;
            }
            if (!model_completable(p + i, k, len))
                return i + k - 1;
        }
        i += len;
    }
    return n;
}

#endif
