// hosted_ws_codec.c: hosted tests: SHA-1 (RFC 3174), base64 (RFC 4648, strict), handshake accept key.
#include "ws/ws_accept.h"
#include "ws/ws_base64.h"
#include "ws/ws_sha1.h"
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ws_test_case.h"

static void hex(const uint8_t *d, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", d[i]);
}

// Hashes text repeated `repeat` times and compares with the expected hex digest.
static void sha1_vector(const char *name, const char *text, long repeat, const char *want)
{
    struct ws_sha1 s;
    uint8_t d[20];
    char got[41];
    ws_sha1_init(&s);
    for (long i = 0; i < repeat; i++)
        ws_sha1_update(&s, text, strlen(text));
    ws_sha1_final(&s, d);
    hex(d, 20, got);
    CASE(name, strcmp(got, want) == 0, "got %s want %s", got, want);
}

static void test_sha1_vectors(void)
{
    // RFC 3174 section 7.3 test cases.
    sha1_vector("sha1 rfc3174 test1 abc", "abc", 1, "a9993e364706816aba3e25717850c26c9cd0d89d");
    sha1_vector("sha1 rfc3174 test2 448-bit", "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 1,
                "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
    sha1_vector("sha1 rfc3174 test3 million a", "a", 1000000, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
    sha1_vector("sha1 rfc3174 test4 640 bytes",
                "0123456701234567012345670123456701234567012345670123456701234567", 10,
                "dea356a2cddd90c7a7ecedc5ebb563934f460452");
    sha1_vector("sha1 empty", "", 1, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    sha1_vector("sha1 quick brown fox", "The quick brown fox jumps over the lazy dog", 1,
                "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12");

    // The million 'a' again in one update, as one large contiguous input.
    char *big = malloc(1000000);
    memset(big, 'a', 1000000);
    uint8_t d[20];
    char got[41];
    ws_sha1(big, 1000000, d);
    hex(d, 20, got);
    CASE("sha1 million a one-shot", strcmp(got, "34aa973cd4c4daa4f61eeb2bdbad27316534016f") == 0, "got %s",
         got);
    free(big);
}

// Every two-way split and byte-at-a-time feeding equal the one-shot digest,
// for lengths around the 55/56/64 padding boundaries.
static void test_sha1_splits(void)
{
    uint8_t buf[200];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (uint8_t)(i * 131 + 7);
    int bad = 0;
    size_t lens[] = {0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 200};
    for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
        size_t n = lens[li];
        uint8_t want[20], got[20];
        ws_sha1(buf, n, want);
        for (size_t cut = 0; cut <= n; cut++) {
            struct ws_sha1 s;
            ws_sha1_init(&s);
            ws_sha1_update(&s, buf, cut);
            ws_sha1_update(&s, buf + cut, n - cut);
            ws_sha1_final(&s, got);
            bad += memcmp(got, want, 20) != 0;
        }
        struct ws_sha1 s;
        ws_sha1_init(&s);
        for (size_t i = 0; i < n; i++)
            ws_sha1_update(&s, buf + i, 1);
        ws_sha1_final(&s, got);
        bad += memcmp(got, want, 20) != 0;
    }
    CASE("sha1 every split point equals one-shot", bad == 0, "%d mismatches", bad);
}

struct b64vec {
    const char *raw, *enc;
};

static void test_base64_vectors(void)
{
    // RFC 4648 section 10.
    static const struct b64vec v[] = {
        {"", ""},
        {"f", "Zg=="},
        {"fo", "Zm8="},
        {"foo", "Zm9v"},
        {"foob", "Zm9vYg=="},
        {"fooba", "Zm9vYmE="},
        {"foobar", "Zm9vYmFy"},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        char name[64], enc[16];
        uint8_t dec[16];
        size_t n = strlen(v[i].raw);
        size_t en = ws_base64_encode((const uint8_t *)v[i].raw, n, enc);
        snprintf(name, sizeof name, "base64 rfc4648 encode \"%s\"", v[i].raw);
        CASE(name, en == strlen(v[i].enc) && en == WS_BASE64_ENC_LEN(n) && memcmp(enc, v[i].enc, en) == 0,
             "got %.*s", (int)en, enc);
        ptrdiff_t dn = ws_base64_decode(v[i].enc, strlen(v[i].enc), dec, sizeof dec);
        snprintf(name, sizeof name, "base64 rfc4648 decode \"%s\"", v[i].enc);
        CASE(name, dn == (ptrdiff_t)n && memcmp(dec, v[i].raw, n) == 0, "got length %td", dn);
    }
    // All byte values survive a round trip.
    uint8_t all[256], back[256];
    char enc[WS_BASE64_ENC_LEN(256)];
    for (int i = 0; i < 256; i++)
        all[i] = (uint8_t)i;
    size_t en = ws_base64_encode(all, 256, enc);
    ptrdiff_t dn = ws_base64_decode(enc, en, back, sizeof back);
    CASE("base64 round trip of all byte values", dn == 256 && memcmp(all, back, 256) == 0, "got %td", dn);
    // The RFC 4648 section 9 illustration: 0x14fb9c03d97e -> FPucA9l+.
    static const uint8_t ill[] = {0x14, 0xfb, 0x9c, 0x03, 0xd9, 0x7e};
    en = ws_base64_encode(ill, sizeof ill, enc);
    CASE("base64 rfc4648 illustration uses + and /", en == 8 && memcmp(enc, "FPucA9l+", 8) == 0, "got %.*s",
         (int)en, enc);
}

static void test_base64_strict(void)
{
    static const char *bad[] = {
        "Zg=",  "Zg",   "Z",    "Zm9vY",  "Z===",  "====",  "=Zg=", "Zg==Zg==", "Zm9v====", "Z=g=",  "Zh==",
        "Zm9=", "Zm9-", "Zm9_", "Zm9v\n", " Zm9v", "Zm9v ", "Zm 9", "Zm9\x80",  "Zg=A",     "Z\0==",
    };
    static const size_t badlen[] = {
        3, 2, 1, 5, 4, 4, 4, 8, 8, 4, 4, 4, 4, 4, 5, 5, 5, 4, 4, 4, 4,
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char name[80];
        uint8_t out[16];
        snprintf(name, sizeof name, "base64 strict rejects #%zu (len %zu)", i, badlen[i]);
        ptrdiff_t r = ws_base64_decode(bad[i], badlen[i], out, sizeof out);
        CASE(name, r == -1, "returned %td", r);
    }
    uint8_t small[2];
    CASE("base64 decode refuses a too small output", ws_base64_decode("Zm9v", 4, small, 2) == -1, "accepted");
    CASE("base64 decode exact-fit output", ws_base64_decode("Zm8=", 4, small, 2) == 2, "refused");
    CASE("base64 decode NULL out measures", ws_base64_decode("Zm9vYmE=", 8, NULL, 0) == 5, "wrong length");
    CASE("base64 decode NULL out still validates", ws_base64_decode("Zm9vYmF=", 8, NULL, 0) == -1,
         "accepted");
}

static void test_accept(void)
{
    // RFC 6455 section 1.3 / 4.2.2 example.
    const char *key = "dGhlIHNhbXBsZSBub25jZQ==";
    char out[WS_ACCEPT_LEN + 1];
    out[WS_ACCEPT_LEN] = 0;
    ws_accept_key(key, strlen(key), out);
    // The RFC gives the digest b37a4f2c...c4ea and its base64 below.
    CASE("accept key rfc6455 example", strcmp(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") == 0, "got %s", out);
    uint8_t d[20];
    char h[41];
    char cat[64];
    snprintf(cat, sizeof cat, "%s258EAFA5-E914-47DA-95CA-C5AB0DC85B11", key);
    ws_sha1(cat, strlen(cat), d);
    hex(d, 20, h);
    CASE("accept key rfc6455 example digest", strcmp(h, "b37a4f2cc0624f1690f64606cf385945b2bec4ea") == 0,
         "got %s", h);
    CASE("key valid rfc6455 example", ws_key_valid(key, 24), "rejected");
    CASE("key valid all-zero nonce", ws_key_valid("AAAAAAAAAAAAAAAAAAAAAA==", 24), "rejected");
    CASE("key invalid 18-byte nonce", !ws_key_valid("AAAAAAAAAAAAAAAAAAAAAAAA", 24), "accepted");
    CASE("key invalid 17-byte nonce", !ws_key_valid("AAAAAAAAAAAAAAAAAAAAAAA=", 24), "accepted");
    CASE("key invalid short", !ws_key_valid("dGhlIHNhbXBsZSBub25jZQ=", 23), "accepted");
    CASE("key invalid long", !ws_key_valid("dGhlIHNhbXBsZSBub25jZQ== ", 25), "accepted");
    CASE("key invalid empty", !ws_key_valid("", 0), "accepted");
    CASE("key invalid non-canonical pad bits", !ws_key_valid("dGhlIHNhbXBsZSBub25jZR==", 24), "accepted");
    CASE("key invalid bad char", !ws_key_valid("dGhlIHNhbXBsZSBub25jZ.==", 24), "accepted");
    CASE("key invalid leading space", !ws_key_valid(" GhlIHNhbXBsZSBub25jZQ==", 24), "accepted");
}

int main(void)
{
    test_sha1_vectors();
    test_sha1_splits();
    test_base64_vectors();
    test_base64_strict();
    test_accept();
    return failures ? 1 : 0;
}
