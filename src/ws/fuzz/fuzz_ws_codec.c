// fuzz_ws_codec.c: libFuzzer target: base64 round trips, SHA-1 split invariance, handshake key check.
#include "ws/ws_accept.h"
#include "ws/ws_base64.h"
#include "ws/ws_sha1.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    // Bytes -> base64 -> bytes is the identity.
    char *enc = malloc(WS_BASE64_ENC_LEN(size) + 1);
    uint8_t *dec = malloc(size + 1);
    size_t en = ws_base64_encode(data, size, enc);
    if (en != WS_BASE64_ENC_LEN(size))
        abort();
    if (ws_base64_decode(enc, en, dec, size) != (ptrdiff_t)size || memcmp(dec, data, size) != 0)
        abort();
    if (size > 0 && ws_base64_decode(enc, en, dec, size - 1) != -1) // one byte short of room
        abort();

    // Arbitrary text -> bytes: strictness means whatever is accepted is the
    // canonical encoding, so re-encoding reproduces the input exactly.
    const char *txt = (const char *)data;
    uint8_t *raw = malloc(size / 4 * 3 + 1);
    ptrdiff_t dn = ws_base64_decode(txt, size, raw, size / 4 * 3);
    if (dn != ws_base64_decode(txt, size, NULL, 0))
        abort();
    if (dn >= 0) {
        char *again = malloc(WS_BASE64_ENC_LEN((size_t)dn) + 1);
        size_t an = ws_base64_encode(raw, (size_t)dn, again);
        if (an != size || memcmp(again, txt, size) != 0)
            abort();
        free(again);
    }
    bool key = ws_key_valid(txt, size);
    if (key != (size == 24 && dn == 16))
        abort();

    // SHA-1: one call equals a three-way split chosen by the data.
    uint8_t d1[20], d2[20];
    ws_sha1(data, size, d1);
    size_t a = size ? data[0] % (size + 1) : 0;
    size_t b = size ? a + (data[size - 1] % (size - a + 1)) : 0;
    struct ws_sha1 s;
    ws_sha1_init(&s);
    ws_sha1_update(&s, data, a);
    ws_sha1_update(&s, data + a, b - a);
    ws_sha1_update(&s, data + b, size - b);
    ws_sha1_final(&s, d2);
    if (memcmp(d1, d2, 20) != 0)
        abort();

    char acc[WS_ACCEPT_LEN];
    ws_accept_key(txt, size, acc);
    if (ws_base64_decode(acc, WS_ACCEPT_LEN, d2, 20) != 20)
        abort();

    free(enc);
    free(dec);
    free(raw);
    return 0;
}
