// ws_base64.c: Base64 encoder and strict (canonical-only) decoder over the RFC 4648 standard alphabet.
#include "ws/ws_base64.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

static const char alphabet[64] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t ws_base64_encode(const uint8_t *in, size_t n, char *out)
{
    char *o = out;
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        *o++ = alphabet[v >> 18];
        *o++ = alphabet[(v >> 12) & 63];
        *o++ = alphabet[(v >> 6) & 63];
        *o++ = alphabet[v & 63];
    }
    // 1 or 2 leftover bytes: zero-fill on the right, pad with '='.
    if (n - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        *o++ = alphabet[v >> 18];
        *o++ = alphabet[(v >> 12) & 63];
        *o++ = '=';
        *o++ = '=';
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        *o++ = alphabet[v >> 18];
        *o++ = alphabet[(v >> 12) & 63];
        *o++ = alphabet[(v >> 6) & 63];
        *o++ = '=';
    }
    return (size_t)(o - out);
}

// Value of one alphabet character, or -1 (this includes '=').
static int sextet(char ch)
{
    unsigned char c = (unsigned char)ch;
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

ptrdiff_t ws_base64_decode(const char *in, size_t n, uint8_t *out, size_t out_cap)
{
    if (n % 4 != 0)
        return -1;
    if (n == 0)
        return 0;

    size_t pad = 0;
    if (in[n - 1] == '=')
        pad = (in[n - 2] == '=') ? 2 : 1;
    size_t len = n / 4 * 3 - pad;
    if (out != NULL && len > out_cap)
        return -1;

    size_t o = 0;
    for (size_t i = 0; i < n; i += 4) {
        bool last = (i + 4 == n);
        // In the last quantum the padded positions are skipped; anywhere
        // else '=' fails sextet() like any other stray character.
        size_t real = last ? 4 - pad : 4;
        uint32_t v = 0;
        for (size_t j = 0; j < 4; j++) {
            int s = 0;
            if (j < real) {
                s = sextet(in[i + j]);
                if (s < 0)
                    return -1;
            }
            v = v << 6 | (uint32_t)s;
        }
        // Canonical check: bits that fall off the end must be zero,
        // otherwise two strings would decode to the same bytes.
        if (last && pad == 1 && (v & 0xFF) != 0)
            return -1;
        if (last && pad == 2 && (v & 0xFFFF) != 0)
            return -1;
        size_t nbytes = last ? 3 - pad : 3;
        if (out != NULL) {
            out[o] = (uint8_t)(v >> 16);
            if (nbytes > 1)
                out[o + 1] = (uint8_t)(v >> 8);
            if (nbytes > 2)
                out[o + 2] = (uint8_t)v;
        }
        o += nbytes;
    }
    return (ptrdiff_t)o;
}
