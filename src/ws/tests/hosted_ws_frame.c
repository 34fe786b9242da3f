// hosted_ws_frame.c: hosted tests: frame header rules, every split point, guard pages, encoder, unmask.
#include "ws/tests/ws_drive.h"
#include "ws/ws_frame.h"
#include "ws/ws_utf8.h"
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ws_test_case.h"

// Parses h[0..n) and expects `want` (header length or -2), or -1 with code.
static void expect(const char *name, const uint8_t *h, size_t n, int want, int code)
{
    struct ws_frame f;
    memset(&f, 0xAA, sizeof f);
    int r = ws_frame_parse(h, n, &f);
    bool ok = r == want && (want != PARSE_ERROR || f.close_code == code) &&
              (want == PARSE_ERROR || f.close_code == 0);
    CASE(name, ok, "returned %d close_code %u (want %d / %d)", r, f.close_code, want, code);
}

static void test_rfc_examples(void)
{
    // RFC 6455 5.7: a single-frame masked text message containing "Hello".
    uint8_t m[] = {0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58};
    struct ws_frame f;
    int r = ws_frame_parse(m, sizeof m, &f);
    bool ok = r == 6 && f.fin && f.opcode == WS_OP_TEXT && f.masked && f.payload_len == 5 &&
              memcmp(f.mask, "\x37\xfa\x21\x3d", 4) == 0;
    CASE("parse rfc6455 masked Hello header", ok, "r=%d fin=%d op=%u len=%llu", r, f.fin, f.opcode,
         (unsigned long long)f.payload_len);
    ws_unmask(m + 6, 5, f.mask, 0);
    CASE("unmask rfc6455 masked Hello", memcmp(m + 6, "Hello", 5) == 0, "got %.5s", (char *)m + 6);

    // The same example's unmasked frame is what a server sends, and a
    // server must refuse it from a client.
    static const uint8_t u[] = {0x81, 0x05, 'H', 'e', 'l', 'l', 'o'};
    expect("parse rfc6455 unmasked Hello refused 1002", u, sizeof u, PARSE_ERROR, 1002);
    uint8_t out[10];
    size_t n = ws_frame_header_encode(out, true, WS_OP_TEXT, 5);
    CASE("encode rfc6455 unmasked Hello header", n == 2 && out[0] == 0x81 && out[1] == 0x05, "n=%zu", n);
    n = ws_frame_header_encode(out, false, WS_OP_TEXT, 3);
    CASE("encode rfc6455 first fragment Hel", n == 2 && out[0] == 0x01 && out[1] == 0x03, "n=%zu", n);
    n = ws_frame_header_encode(out, true, WS_OP_CONT, 2);
    CASE("encode rfc6455 last fragment lo", n == 2 && out[0] == 0x80 && out[1] == 0x02, "n=%zu", n);
    n = ws_frame_header_encode(out, true, WS_OP_PING, 5);
    CASE("encode rfc6455 ping", n == 2 && out[0] == 0x89 && out[1] == 0x05, "n=%zu", n);
    n = ws_frame_header_encode(out, true, WS_OP_BINARY, 256);
    CASE("encode rfc6455 256-byte binary", n == 4 && memcmp(out, "\x82\x7e\x01\x00", 4) == 0, "n=%zu", n);
    n = ws_frame_header_encode(out, true, WS_OP_BINARY, 65536);
    CASE("encode rfc6455 64KiB binary",
         n == 10 && memcmp(out, "\x82\x7f\x00\x00\x00\x00\x00\x01\x00\x00", 10) == 0, "n=%zu", n);
    // RFC 6455 5.7 masked pong "Hello".
    static const uint8_t pong[] = {0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58};
    r = ws_frame_parse(pong, sizeof pong, &f);
    CASE("parse rfc6455 masked pong", r == 6 && f.opcode == WS_OP_PONG && f.payload_len == 5, "r=%d", r);
}

static void test_rules(void)
{
    uint8_t h[14];
    char name[96];

    // RSV bits, each alone.
    for (int bit = 4; bit <= 6; bit++) {
        h[0] = (uint8_t)(0x81 | 1 << bit);
        h[1] = 0x80;
        snprintf(name, sizeof name, "parse RSV%d set -> 1002", 7 - bit);
        expect(name, h, 6, PARSE_ERROR, 1002);
        snprintf(name, sizeof name, "parse RSV%d set fails on the first byte alone", 7 - bit);
        expect(name, h, 1, PARSE_ERROR, 1002);
    }
    // Every opcode: defined ones parse, reserved ones are refused.
    for (unsigned op = 0; op < 16; op++) {
        bool defined = op <= 2 || (op >= 8 && op <= 10);
        memset(h, 0, sizeof h);
        h[0] = (uint8_t)(0x80 | op);
        h[1] = 0x80;
        snprintf(name, sizeof name, "parse opcode 0x%X %s", op, defined ? "accepted" : "reserved -> 1002");
        expect(name, h, 6, defined ? 6 : PARSE_ERROR, 1002);
    }
    // Control frames: FIN=0 refused, 125 bytes fine, 126 and 127 length forms refused.
    static const unsigned ctl[] = {WS_OP_CLOSE, WS_OP_PING, WS_OP_PONG};
    for (int i = 0; i < 3; i++) {
        memset(h, 0, sizeof h);
        h[0] = (uint8_t)ctl[i]; // FIN=0
        h[1] = 0x80;
        snprintf(name, sizeof name, "parse control 0x%X with FIN=0 -> 1002 on first byte", ctl[i]);
        expect(name, h, 1, PARSE_ERROR, 1002);
        h[0] = (uint8_t)(0x80 | ctl[i]);
        h[1] = 0x80 | 125;
        snprintf(name, sizeof name, "parse control 0x%X with 125-byte payload", ctl[i]);
        expect(name, h, 6, 6, 0);
        h[1] = 0x80 | 126;
        h[2] = 0;
        h[3] = 126;
        snprintf(name, sizeof name, "parse control 0x%X with 16-bit length -> 1002", ctl[i]);
        expect(name, h, 2, PARSE_ERROR, 1002);
        h[1] = 0x80 | 127;
        snprintf(name, sizeof name, "parse control 0x%X with 64-bit length -> 1002", ctl[i]);
        expect(name, h, 2, PARSE_ERROR, 1002);
    }
    // Data frames with FIN=0 are fine (fragments).
    static const uint8_t frag[] = {0x01, 0x80, 1, 2, 3, 4};
    expect("parse text fragment FIN=0 accepted", frag, 6, 6, 0);
    // Unmasked.
    static const uint8_t unm[] = {0x82, 0x00};
    expect("parse unmasked binary -> 1002", unm, 2, PARSE_ERROR, 1002);
    static const uint8_t unm_ctl[] = {0x89, 0x00};
    expect("parse unmasked ping -> 1002", unm_ctl, 2, PARSE_ERROR, 1002);
    // Length forms.
    static const uint8_t l16[] = {0x82, 0xfe, 0x12, 0x34, 9, 8, 7, 6};
    struct ws_frame f;
    int r = ws_frame_parse(l16, sizeof l16, &f);
    CASE("parse 16-bit length",
         r == 8 && f.payload_len == 0x1234 && memcmp(f.mask, "\x09\x08\x07\x06", 4) == 0, "r=%d len=%llu", r,
         (unsigned long long)f.payload_len);
    static const uint8_t l64[] = {0x82, 0xff, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00, 1, 2, 3, 4};
    r = ws_frame_parse(l64, sizeof l64, &f);
    CASE("parse 64-bit length", r == 14 && f.payload_len == 0x10000, "r=%d len=%llu", r,
         (unsigned long long)f.payload_len);
    static const uint8_t nonmin[] = {0x82, 0xfe, 0x00, 0x05, 1, 2, 3, 4};
    r = ws_frame_parse(nonmin, sizeof nonmin, &f);
    CASE("parse non-minimal 16-bit length accepted", r == 8 && f.payload_len == 5, "r=%d", r);
    // 64-bit with MSB set: refused as soon as the first length byte is there.
    static const uint8_t msb[] = {0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4};
    expect("parse 64-bit length with MSB set -> 1002", msb, sizeof msb, PARSE_ERROR, 1002);
    expect("parse 64-bit length MSB fails on 3 bytes", msb, 3, PARSE_ERROR, 1002);
    static const uint8_t huge[] = {0x82, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4};
    expect("parse 2^63-1 length -> 1009", huge, sizeof huge, PARSE_ERROR, 1009);
    // The frame size limit.
    uint64_t lim = WS_MAX_FRAME;
    uint8_t big[14] = {0x82, 0xff};
    for (int i = 0; i < 8; i++)
        big[2 + i] = (uint8_t)(lim >> (56 - 8 * i));
    r = ws_frame_parse(big, 14, &f);
    snprintf(name, sizeof name, "parse payload of exactly WS_MAX_FRAME (%llu) accepted",
             (unsigned long long)lim);
    CASE(name, r == 14 && f.payload_len == lim, "r=%d", r);
    lim++;
    for (int i = 0; i < 8; i++)
        big[2 + i] = (uint8_t)(lim >> (56 - 8 * i));
    expect("parse payload of WS_MAX_FRAME + 1 -> 1009", big, 14, PARSE_ERROR, 1009);
    expect("parse over-limit length fails before the mask arrives", big, 10, PARSE_ERROR, 1009);
    expect("parse empty buffer needs more", big, 0, PARSE_NEED_MORE, 0);
}

// Every proper prefix of a valid header needs more; the whole parses.
static void test_prefixes(void)
{
    static const uint8_t hs[][14] = {
        {0x81, 0x85, 1, 2, 3, 4},
        {0x82, 0xfe, 0x01, 0x00, 1, 2, 3, 4},
        {0x82, 0xff, 0, 0, 0, 0, 0, 1, 0, 0, 1, 2, 3, 4},
        {0x88, 0x80, 1, 2, 3, 4},
    };
    static const int lens[] = {6, 8, 14, 6};
    int bad = 0;
    for (int i = 0; i < 4; i++) {
        struct ws_frame f;
        for (int k = 0; k < lens[i]; k++)
            bad += ws_frame_parse(hs[i], (size_t)k, &f) != PARSE_NEED_MORE;
        bad += ws_frame_parse(hs[i], (size_t)lens[i], &f) != lens[i];
        bad += ws_frame_parse(hs[i], 14, &f) != lens[i]; // trailing payload ignored
    }
    CASE("parse every proper header prefix needs more", bad == 0, "%d wrong", bad);
}

// Encoder: shortest form at each boundary, and parse(encode + mask) round-trips.
static void test_encoder(void)
{
    static const uint64_t lens[] = {
        0, 1, 125, 126, 127, 65535, 65536, 0xFFFFFFFFull, 0x100000000ull, 0x7FFFFFFFFFFFFFFFull};
    static const size_t want[] = {2, 2, 2, 4, 4, 4, 10, 10, 10, 10};
    int bad = 0;
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        uint8_t out[14];
        size_t n = ws_frame_header_encode(out, i & 1, WS_OP_BINARY, lens[i]);
        if (n != want[i] || (out[1] & 0x80) != 0)
            bad++;
        uint64_t back = n == 2 ? out[1] : 0;
        for (size_t j = 2; j < n; j++)
            back = back << 8 | out[j];
        if (back != lens[i] || (out[0] >> 7) != (i & 1) || (out[0] & 0x0F) != WS_OP_BINARY || (out[0] & 0x70))
            bad++;
        if (lens[i] <= WS_MAX_FRAME) {
            out[1] |= 0x80;
            memcpy(out + n, "\1\2\3\4", 4);
            struct ws_frame f;
            int r = ws_frame_parse(out, n + 4, &f);
            if (r != (int)(n + 4) || f.payload_len != lens[i] || f.fin != (bool)(i & 1))
                bad++;
        }
    }
    CASE("encode shortest length form at every boundary, parse round-trip", bad == 0, "%d wrong", bad);
    uint8_t out[10];
    ws_frame_header_encode(out, true, 0x1F, 0);
    CASE("encode keeps the opcode to 4 bits", out[0] == 0x8F, "byte0 %02x", out[0]);
}

static void test_unmask(void)
{
    uint8_t buf[80], want[80];
    const uint8_t mask[4] = {0xA1, 0x5C, 0x03, 0xF7};
    int bad = 0;
    for (size_t align = 0; align < 8; align++)
        for (size_t off = 0; off < 8; off++)
            for (size_t n = 0; n <= 40; n++) {
                for (size_t i = 0; i < n; i++)
                    want[i] = buf[align + i] = (uint8_t)(i * 7 + off);
                for (size_t i = 0; i < n; i++)
                    want[i] ^= mask[(off + i) % 4];
                ws_unmask(buf + align, n, mask, off);
                bad += memcmp(buf + align, want, n) != 0;
            }
    CASE("unmask equals the byte-wise rule for every length, offset, alignment", bad == 0, "%d wrong", bad);

    // Resuming across reads: any chunking gives the same result.
    uint8_t whole[1000], parts[1000];
    for (int i = 0; i < 1000; i++)
        whole[i] = parts[i] = (uint8_t)(i ^ (i >> 3));
    ws_unmask(whole, 1000, mask, 0);
    bad = 0;
    for (size_t step = 1; step <= 23; step++) {
        uint8_t tmp[1000];
        memcpy(tmp, parts, 1000);
        for (size_t off = 0; off < 1000; off += step)
            ws_unmask(tmp + off, off + step > 1000 ? 1000 - off : step, mask, off);
        bad += memcmp(tmp, whole, 1000) != 0;
    }
    CASE("unmask resumed in chunks of 1..23 equals one call", bad == 0, "%d wrong", bad);
    uint8_t again[1000];
    memcpy(again, whole, 1000);
    ws_unmask(again, 1000, mask, 0);
    CASE("unmask twice restores the input", memcmp(again, parts, 1000) == 0, "differs");
}

// A stream of several frames delivered at every split point and in every
// fixed chunk size yields the same events as one delivery.
static void test_stream_splits(void)
{
    uint8_t stream[2048];
    size_t n = 0;
    static uint8_t big[300];
    for (int i = 0; i < 300; i++)
        big[i] = (uint8_t)('a' + i % 26);
    n += drive_build(stream + n, false, WS_OP_TEXT, "Hel", 3, 0x11223344);
    n += drive_build(stream + n, true, WS_OP_PING, "ping!", 5, 0xdeadbeef);
    n += drive_build(stream + n, true, WS_OP_CONT, "lo", 2, 0x01020304);
    n += drive_build(stream + n, true, WS_OP_BINARY, big, 300, 0xcafef00d);
    n += drive_build(stream + n, true, WS_OP_TEXT, "", 0, 0x55aa55aa);
    n += drive_build(stream + n, true, WS_OP_PONG, "", 0, 0x12345678);
    n += drive_build(stream + n, true, WS_OP_CLOSE,
                     "\x03\xe8"
                     "bye",
                     5, 0x9abcdef0);

    uint8_t copy[2048];
    struct drive d;
    memcpy(copy, stream, n);
    drive_init(&d);
    drive_feed(&d, copy, n);
    char ref[DRIVE_LOG_MAX];
    strcpy(ref, d.log);
    bool sane = strcmp(ref, "N|PI:5:ping!|M1:5:Hello|M2:300:abcdefghijklmnopqrstuvwxyzabcdefghijklmn|M1:0:|"
                            "PO:0:|C1000:bye|") == 0 &&
                d.broken == NULL;
    drive_free(&d);
    CASE("stream of 7 frames decodes", sane, "log %s", ref);

    int bad = 0, runs = 0;
    for (size_t cut = 0; cut <= n; cut++) {
        memcpy(copy, stream, n);
        drive_init(&d);
        drive_feed(&d, copy, cut);
        drive_feed(&d, copy + cut, n - cut);
        bad += strcmp(d.log, ref) != 0 || d.broken != NULL;
        runs++;
        drive_free(&d);
    }
    for (size_t step = 1; step <= n; step++) {
        memcpy(copy, stream, n);
        drive_init(&d);
        for (size_t off = 0; off < n; off += step)
            drive_feed(&d, copy + off, off + step > n ? n - off : step);
        bad += strcmp(d.log, ref) != 0 || d.broken != NULL;
        runs++;
        drive_free(&d);
    }
    char name[96];
    snprintf(name, sizeof name, "stream split at every point and every chunk size (%d runs)", runs);
    CASE(name, bad == 0, "%d runs differ", bad);
}

// Inputs that end exactly at an unmapped page: any read past the end faults.
static void test_guard_page(void)
{
    long pg = sysconf(_SC_PAGESIZE);
    uint8_t *base = mmap(NULL, (size_t)pg * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED || mprotect(base + pg, (size_t)pg, PROT_NONE) != 0) {
        CASE("guard page setup", false, "mmap/mprotect failed");
        return;
    }
    uint8_t *end = base + pg;
    static const uint8_t hs[][14] = {
        {0x81, 0x85, 1, 2, 3, 4},
        {0x82, 0xfe, 0x01, 0x00, 1, 2, 3, 4},
        {0x82, 0xff, 0, 0, 0, 0, 0, 1, 0, 0, 1, 2, 3, 4},
        {0x82, 0xff, 0x80, 0, 0, 0, 0, 1, 0, 0, 1, 2, 3, 4},
        {0x82, 0xff, 0x7f, 0, 0, 0, 0, 1, 0, 0, 1, 2, 3, 4},
        {0xc1, 0x85, 1, 2, 3, 4},
        {0x09, 0x85, 1, 2, 3, 4},
        {0x81, 0x05},
    };
    int calls = 0;
    for (size_t i = 0; i < sizeof hs / sizeof hs[0]; i++) {
        for (size_t k = 0; k <= 14; k++) {
            memcpy(end - k, hs[i], k);
            struct ws_frame f;
            (void)ws_frame_parse(end - k, k, &f);
            calls++;
        }
    }
    char name[96];
    snprintf(name, sizeof name, "parse never reads past the input (guard page, %d calls)", calls);
    CASE(name, true, "%s", "faulted");

    const uint8_t mask[4] = {1, 2, 3, 4};
    for (size_t k = 0; k <= 64; k++)
        for (size_t off = 0; off < 4; off++)
            ws_unmask(end - k, k, mask, off);
    CASE("unmask never touches past the input (guard page)", true, "%s", "faulted");

    memset(base, 'a', (size_t)pg);
    for (size_t k = 0; k <= 64; k++) {
        ws_utf8_state st = WS_UTF8_ACCEPT;
        (void)ws_utf8_feed(&st, end - k, k, NULL);
    }
    end[-1] = 0xe2;
    bool pending = false;
    for (size_t k = 1; k <= 64; k++) {
        ws_utf8_state st = WS_UTF8_ACCEPT;
        pending |= ws_utf8_feed(&st, end - k, k, NULL) && !ws_utf8_done(st);
    }
    CASE("utf8 fast path never reads past the input (guard page)", pending, "truncated lead not pending");
    munmap(base, (size_t)pg * 2);
}

int main(void)
{
    test_rfc_examples();
    test_rules();
    test_prefixes();
    test_encoder();
    test_unmask();
    test_stream_splits();
    test_guard_page();
    return failures ? 1 : 0;
}
