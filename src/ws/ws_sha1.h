// ws_sha1.h: SHA-1 (RFC 3174), incremental and one-shot; used only for the handshake accept key.
#ifndef WS_SHA1_H
#define WS_SHA1_H

#include <stddef.h>
#include <stdint.h>

#define WS_SHA1_DIGEST_LEN 20

struct ws_sha1 {
    uint32_t h[5];     // chaining value
    uint64_t total;    // bytes hashed so far (the padding needs the bit length)
    uint8_t block[64]; // partial block not yet compressed
    size_t used;       // bytes valid in block, always < 64 between calls
};

void ws_sha1_init(struct ws_sha1 *s);
// Hashes n more bytes; any split of the input across calls gives the same digest.
void ws_sha1_update(struct ws_sha1 *s, const void *data, size_t n);
// Pads, writes the digest (big-endian) and leaves *s unusable until ws_sha1_init.
void ws_sha1_final(struct ws_sha1 *s, uint8_t out[WS_SHA1_DIGEST_LEN]);
void ws_sha1(const void *data, size_t n, uint8_t out[WS_SHA1_DIGEST_LEN]);

#endif
