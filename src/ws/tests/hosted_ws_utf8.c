// hosted_ws_utf8.c: hosted tests: the incremental UTF-8 validator against vectors and a reference model.
#include "ws/tests/ws_utf8_model.h"
#include "ws/ws_utf8.h"
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ws_test_case.h"

// ---- Plumbing ----------------------------------------------------------

struct result {
    bool ok;    // still a valid prefix
    bool done;  // and complete
    size_t bad; // absolute index of the offending byte when !ok
};

static struct result run_chunks(const uint8_t *p, size_t n, const size_t *cuts, size_t ncuts)
{
    struct result r = {true, false, 0};
    ws_utf8_state st = WS_UTF8_ACCEPT;
    size_t start = 0;
    for (size_t c = 0; c <= ncuts; c++) {
        size_t end = c < ncuts ? cuts[c] : n;
        size_t bad = 0;
        if (!ws_utf8_feed(&st, p + start, end - start, &bad)) {
            r.ok = false;
            r.bad = start + bad;
            return r;
        }
        start = end;
    }
    r.done = ws_utf8_done(st);
    return r;
}

static bool agrees(const uint8_t *p, size_t n, struct result r)
{
    bool rdone;
    size_t rbad = model_first_bad(p, n, &rdone);
    if (rbad < n)
        return !r.ok && r.bad == rbad;
    return r.ok && r.done == rdone;
}

// ---- Cases -------------------------------------------------------------

struct vec {
    const char *name;
    const char *bytes;
    size_t len;
    int bad;   // expected fail-fast index, -1 = no invalid byte
    bool done; // when bad == -1: complete?
};

#define V(name, s, bad, done)             \
    {                                     \
        name, s, sizeof(s) - 1, bad, done \
    }

static const struct vec vecs[] = {
    V("empty", "", -1, true),
    V("ascii", "Hello, world", -1, true),
    V("nul byte is valid", "a\0b", -1, true),
    V("greek kosme", "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5", -1, true),
    V("U+0080 smallest 2-byte", "\xc2\x80", -1, true),
    V("U+07FF largest 2-byte", "\xdf\xbf", -1, true),
    V("U+0800 smallest 3-byte", "\xe0\xa0\x80", -1, true),
    V("U+D7FF below surrogates", "\xed\x9f\xbf", -1, true),
    V("U+E000 above surrogates", "\xee\x80\x80", -1, true),
    V("U+FEFF byte order mark", "\xef\xbb\xbf", -1, true),
    V("U+FFFF largest 3-byte", "\xef\xbf\xbf", -1, true),
    V("U+10000 smallest 4-byte", "\xf0\x90\x80\x80", -1, true),
    V("U+10FFFF largest code point", "\xf4\x8f\xbf\xbf", -1, true),
    V("emoji among ascii",
      "ab\xf0\x9f\x98\x80"
      "cd",
      -1, true),
    V("truncated 2-byte", "\xc2", -1, false),
    V("truncated 3-byte after 1", "\xe2", -1, false),
    V("truncated 3-byte after 2", "\xe2\x82", -1, false),
    V("truncated 4-byte after 3", "\xf0\x9f\x98", -1, false),
    V("overlong C0 80 fails at lead", "\xc0\x80", 0, false),
    V("overlong C1 BF fails at lead", "\xc1\xbf", 0, false),
    V("overlong E0 80 80 fails at 2nd", "\xe0\x80\x80", 1, false),
    V("overlong E0 9F BF fails at 2nd", "\xe0\x9f\xbf", 1, false),
    V("overlong F0 80 80 80 fails at 2nd", "\xf0\x80\x80\x80", 1, false),
    V("overlong F0 8F BF BF fails at 2nd", "\xf0\x8f\xbf\xbf", 1, false),
    V("surrogate U+D800 fails at 2nd", "\xed\xa0\x80", 1, false),
    V("surrogate U+DFFF fails at 2nd", "\xed\xbf\xbf", 1, false),
    V("surrogate pair encoded (CESU-8)", "\xed\xa0\xbd\xed\xb8\x80", 1, false),
    V("U+110000 F4 90 fails at 2nd", "\xf4\x90\x80\x80", 1, false),
    V("F5 lead fails at once", "\xf5\x80\x80\x80", 0, false),
    V("F8 5-byte lead fails at once", "\xf8\x88\x80\x80\x80", 0, false),
    V("FE fails", "\xfe", 0, false),
    V("FF fails", "\xff", 0, false),
    V("lone continuation 80", "\x80", 0, false),
    V("lone continuation BF after ascii", "ab\xbf", 2, false),
    V("2-byte lead then ascii", "\xc2\x41", 1, false),
    V("3-byte cut by ascii", "\xe2\x82\x41", 2, false),
    V("4-byte cut by ascii", "\xf0\x9f\x98\x41", 3, false),
    V("lead then lead", "\xc3\xc3\xa9", 1, false),
    V("extra continuation", "\xc3\xa9\xa9", 2, false),
    V("valid text then bad in the middle", "Hello-\xc3\xa9-\xed\xa0\x80-world", 10, false),
    V("invalid after 8-byte ascii run", "abcdefgh\xff", 8, false),
    V("invalid after 16-byte ascii run", "abcdefghijklmnop\x80xyz", 16, false),
};

static void test_vectors(void)
{
    for (size_t i = 0; i < sizeof vecs / sizeof vecs[0]; i++) {
        const struct vec *v = &vecs[i];
        const uint8_t *p = (const uint8_t *)v->bytes;
        char name[128];
        struct result r = run_chunks(p, v->len, NULL, 0);
        bool ok;
        if (v->bad >= 0)
            ok = !r.ok && r.bad == (size_t)v->bad;
        else
            ok = r.ok && r.done == v->done;
        snprintf(name, sizeof name, "utf8 %s", v->name);
        CASE(name, ok && agrees(p, v->len, r), "ok=%d done=%d bad=%zu (want bad=%d done=%d)", r.ok, r.done,
             r.bad, v->bad, v->done);
        bool one = ws_utf8_valid(p, v->len);
        snprintf(name, sizeof name, "utf8 one-shot %s", v->name);
        CASE(name, one == (v->bad < 0 && v->done), "ws_utf8_valid returned %d", one);
    }
}

// Every split into two and three chunks, and byte by byte, must report
// the same outcome and the same absolute failing byte as one call.
static void test_splits(void)
{
    int bad = 0, runs = 0;
    for (size_t i = 0; i < sizeof vecs / sizeof vecs[0]; i++) {
        const uint8_t *p = (const uint8_t *)vecs[i].bytes;
        size_t n = vecs[i].len;
        struct result whole = run_chunks(p, n, NULL, 0);
        for (size_t a = 0; a <= n; a++) {
            for (size_t b = a; b <= n; b++) {
                size_t cuts[2] = {a, b};
                struct result r = run_chunks(p, n, cuts, 2);
                runs++;
                if (r.ok != whole.ok || r.done != whole.done || r.bad != whole.bad)
                    bad++;
            }
        }
        size_t cuts[64];
        for (size_t k = 0; k < n; k++)
            cuts[k] = k;
        struct result r = run_chunks(p, n, cuts, n);
        runs++;
        if (r.ok != whole.ok || r.done != whole.done || r.bad != whole.bad)
            bad++;
    }
    char name[96];
    snprintf(name, sizeof name, "utf8 split at every byte boundary (%d runs)", runs);
    CASE(name, bad == 0, "%d runs disagree with one call", bad);
}

// Code point split across two frames: state carries over.
static void test_carry(void)
{
    ws_utf8_state st = WS_UTF8_ACCEPT;
    const uint8_t a[] = {'x', 0xf0, 0x9f}, b[] = {0x98, 0x80, 'y'};
    bool r1 = ws_utf8_feed(&st, a, sizeof a, NULL);
    bool mid = ws_utf8_done(st);
    bool r2 = ws_utf8_feed(&st, b, sizeof b, NULL);
    CASE("utf8 state carries a 4-byte code point across calls", r1 && !mid && r2 && ws_utf8_done(st),
         "r1=%d mid=%d r2=%d", r1, mid, r2);

    st = WS_UTF8_ACCEPT;
    const uint8_t c[] = {0xed}, d[] = {0xa0};
    size_t where = 99;
    r1 = ws_utf8_feed(&st, c, 1, NULL);
    r2 = ws_utf8_feed(&st, d, 1, &where);
    CASE("utf8 surrogate split across calls fails at the 2nd call's first byte",
         r1 && !r2 && where == 0 && st == WS_UTF8_REJECT, "r1=%d r2=%d where=%zu", r1, r2, where);

    where = 99;
    r1 = ws_utf8_feed(&st, (const uint8_t *)"ok", 2, &where);
    CASE("utf8 reject is sticky", !r1 && where == 0 && st == WS_UTF8_REJECT, "r=%d where=%zu", r1, where);

    st = WS_UTF8_ACCEPT;
    CASE("utf8 empty feed keeps state", ws_utf8_feed(&st, NULL, 0, NULL) && ws_utf8_done(st), "changed");
}

// The ASCII fast path must stop exactly at the first non-ASCII byte,
// wherever it falls relative to the 8-byte steps and the buffer's alignment.
static void test_fast_path_positions(void)
{
    uint8_t buf[80];
    int bad = 0;
    for (size_t align = 0; align < 8; align++) {
        for (size_t pos = 0; pos + align < 64; pos++) {
            uint8_t *p = buf + align;
            size_t n = 64 - align;
            memset(p, 'a', n);
            p[pos] = 0xff;
            size_t where = 999;
            ws_utf8_state st = WS_UTF8_ACCEPT;
            if (ws_utf8_feed(&st, p, n, &where) || where != pos)
                bad++;
            // And a valid 2-byte sequence there must not disturb the scan.
            memset(p, 'a', n);
            if (pos + 1 < n) {
                p[pos] = 0xc3;
                p[pos + 1] = 0xa9;
                if (!ws_utf8_valid(p, n))
                    bad++;
            }
        }
    }
    CASE("utf8 fail-fast position exact at every offset and alignment", bad == 0, "%d wrong", bad);
}

// Every 1- and 2-byte string, and every 3-byte string, against the model.
static void test_exhaustive(void)
{
    int bad = 0;
    long count = 0;
    uint8_t p[4];
    for (unsigned a = 0; a < 256; a++) {
        p[0] = (uint8_t)a;
        bad += !agrees(p, 1, run_chunks(p, 1, NULL, 0));
        count++;
        for (unsigned b = 0; b < 256; b++) {
            p[1] = (uint8_t)b;
            bad += !agrees(p, 2, run_chunks(p, 2, NULL, 0));
            count++;
        }
    }
    char name[96];
    snprintf(name, sizeof name, "utf8 all 1- and 2-byte strings match the model (%ld)", count);
    CASE(name, bad == 0, "%d disagree", bad);

    bad = 0;
    count = 0;
    for (unsigned a = 0xc0; a < 0x100; a++) {    // leads only: ASCII leads are covered above
        for (unsigned b = 0x70; b < 0xd0; b++) { // around the continuation range
            for (unsigned c = 0; c < 256; c++) {
                p[0] = (uint8_t)a;
                p[1] = (uint8_t)b;
                p[2] = (uint8_t)c;
                bad += !agrees(p, 3, run_chunks(p, 3, NULL, 0));
                count++;
            }
        }
    }
    snprintf(name, sizeof name, "utf8 3-byte strings with a multibyte lead match the model (%ld)", count);
    CASE(name, bad == 0, "%d disagree", bad);

    // 4-byte: every lead F0..FF with every second byte, continuation-ish tails.
    bad = 0;
    count = 0;
    static const uint8_t tails[] = {0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xe0, 0xff};
    for (unsigned a = 0xf0; a < 0x100; a++)
        for (unsigned b = 0; b < 256; b++)
            for (size_t c = 0; c < sizeof tails; c++)
                for (size_t d = 0; d < sizeof tails; d++) {
                    p[0] = (uint8_t)a;
                    p[1] = (uint8_t)b;
                    p[2] = tails[c];
                    p[3] = tails[d];
                    bad += !agrees(p, 4, run_chunks(p, 4, NULL, 0));
                    count++;
                }
    snprintf(name, sizeof name, "utf8 4-byte strings match the model (%ld)", count);
    CASE(name, bad == 0, "%d disagree", bad);
}

static uint64_t rng = 88172645463325252ull;

static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

// Random strings built mostly from valid code points with sporadic bad
// bytes, checked against the model in random chunks.
static void test_random(void)
{
    int bad = 0;
    uint8_t buf[300];
    for (int iter = 0; iter < 20000; iter++) {
        size_t n = 0;
        size_t target = next_rand() % 256;
        while (n < target) {
            uint64_t r = next_rand();
            uint32_t cp;
            switch (r % 6) {
            case 0:
                cp = (uint32_t)(r >> 8) % 0x80;
                break;
            case 1:
                cp = 0x80 + (uint32_t)(r >> 8) % 0x780;
                break;
            case 2:
                cp = 0x800 + (uint32_t)(r >> 8) % 0xF800;
                break;
            case 3:
                cp = 0x10000 + (uint32_t)(r >> 8) % 0x100000;
                break;
            case 4:
                cp = 0xFFFFFFFF;
                break; // raw random byte
            default:
                cp = (uint32_t)(r >> 8) % 0x80;
                break;
            }
            if (cp >= 0xD800 && cp <= 0xDFFF && (r & 0x100000000ull) == 0)
                cp = 'x'; // keep most text valid
            if (cp == 0xFFFFFFFF) {
                buf[n++] = (uint8_t)(r >> 40);
            } else if (cp < 0x80) {
                buf[n++] = (uint8_t)cp;
            } else if (cp < 0x800) {
                buf[n++] = (uint8_t)(0xC0 | cp >> 6);
                buf[n++] = (uint8_t)(0x80 | (cp & 0x3F));
            } else if (cp < 0x10000) {
                buf[n++] = (uint8_t)(0xE0 | cp >> 12);
                buf[n++] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
                buf[n++] = (uint8_t)(0x80 | (cp & 0x3F));
            } else {
                buf[n++] = (uint8_t)(0xF0 | cp >> 18);
                buf[n++] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
                buf[n++] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
                buf[n++] = (uint8_t)(0x80 | (cp & 0x3F));
            }
        }
        if (next_rand() % 4 == 0)
            n -= n > 0 ? next_rand() % (n < 3 ? n : 3) : 0; // sometimes truncate
        size_t cuts[8];
        size_t ncuts = next_rand() % 8;
        for (size_t c = 0; c < ncuts; c++)
            cuts[c] = n ? next_rand() % (n + 1) : 0;
        for (size_t x = 1; x < ncuts; x++) // sort the cut points
            for (size_t y = x; y > 0 && cuts[y - 1] > cuts[y]; y--) {
                size_t t = cuts[y];
                cuts[y] = cuts[y - 1];
                cuts[y - 1] = t;
            }
        bad += !agrees(buf, n, run_chunks(buf, n, cuts, ncuts));
    }
    CASE("utf8 20000 random texts in random chunks match the model", bad == 0, "%d disagree", bad);
}

int main(void)
{
    test_vectors();
    test_splits();
    test_carry();
    test_fast_path_positions();
    test_exhaustive();
    test_random();
    return failures ? 1 : 0;
}
