// ws_sha1.c: SHA-1 message digest (RFC 3174): 512-bit blocks, 80 rounds over a 16-word rolling schedule.
#include "ws/ws_sha1.h"
#include <stddef.h>
#include <stdint.h>

static uint32_t rol32(uint32_t x, unsigned n) { return (x << n) | (x >> (32 - n)); }

static uint32_t load_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void store_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

// [snippet: ws-sha1-compress]
// Compresses one 64-byte block into the chaining value.
// The message schedule W[t] only ever looks back 16 words, so a ring of
// 16 words replaces the textbook 80-word array (RFC 3174, method 2).
// Called by ws_sha1_update for each full block and by ws_sha1_final for the
// padded last one or two.
// [lab: compress]
static void compress(uint32_t h[5], const uint8_t *block)
{
    uint32_t w[16];
    for (int t = 0; t < 16; t++)
        w[t] = load_be32(block + 4 * t);

    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
    for (int t = 0; t < 80; t++) {
        if (t >= 16) {
            uint32_t x = w[(t + 13) & 15] ^ w[(t + 8) & 15] ^ w[(t + 2) & 15] ^ w[t & 15];
            w[t & 15] = rol32(x, 1);
        }
        uint32_t f, k;
        if (t < 20) {
            f = (b & c) | (~b & d); // choose
            k = 0x5A827999;
        } else if (t < 40) {
            f = b ^ c ^ d; // parity
            k = 0x6ED9EBA1;
        } else if (t < 60) {
            f = (b & c) | (b & d) | (c & d); // majority
            k = 0x8F1BBCDC;
        } else {
            f = b ^ c ^ d;
            k = 0xCA62C1D6;
        }
        uint32_t tmp = rol32(a, 5) + f + e + k + w[t & 15];
        e = d;
        d = c;
        c = rol32(b, 30);
        b = a;
        a = tmp;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
}
// [end lab: compress]
// [end: ws-sha1-compress]

void ws_sha1_init(struct ws_sha1 *s)
{
    s->h[0] = 0x67452301;
    s->h[1] = 0xEFCDAB89;
    s->h[2] = 0x98BADCFE;
    s->h[3] = 0x10325476;
    s->h[4] = 0xC3D2E1F0;
    s->total = 0;
    s->used = 0;
}

void ws_sha1_update(struct ws_sha1 *s, const void *data, size_t n)
{
    const uint8_t *p = data;
    if (n == 0) // also makes (NULL, 0) harmless
        return;
    s->total += n;

    // Top up a partial block first; whole blocks are then hashed in place.
    if (s->used > 0) {
        size_t take = 64 - s->used;
        if (take > n)
            take = n;
        __builtin_memcpy(s->block + s->used, p, take);
        s->used += take;
        p += take;
        n -= take;
        if (s->used < 64)
            return;
        compress(s->h, s->block);
        s->used = 0;
    }
    while (n >= 64) {
        compress(s->h, p);
        p += 64;
        n -= 64;
    }
    if (n > 0) {
        __builtin_memcpy(s->block, p, n);
        s->used = n;
    }
}

void ws_sha1_final(struct ws_sha1 *s, uint8_t out[WS_SHA1_DIGEST_LEN])
{
    uint64_t bits = s->total * 8;

    // Padding: one 1 bit, zeros up to 56 mod 64, then the 64-bit length.
    s->block[s->used++] = 0x80;
    if (s->used > 56) {
        __builtin_memset(s->block + s->used, 0, 64 - s->used);
        compress(s->h, s->block);
        s->used = 0;
    }
    __builtin_memset(s->block + s->used, 0, 56 - s->used);
    store_be32(s->block + 56, (uint32_t)(bits >> 32));
    store_be32(s->block + 60, (uint32_t)bits);
    compress(s->h, s->block);

    for (int i = 0; i < 5; i++)
        store_be32(out + 4 * i, s->h[i]);
}

void ws_sha1(const void *data, size_t n, uint8_t out[WS_SHA1_DIGEST_LEN])
{
    struct ws_sha1 s;
    ws_sha1_init(&s);
    ws_sha1_update(&s, data, n);
    ws_sha1_final(&s, out);
}
