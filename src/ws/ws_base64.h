// ws_base64.h: Base64 (RFC 4648 section 4, standard alphabet, padded): encoder and strict decoder.
#ifndef WS_BASE64_H
#define WS_BASE64_H

#include <stddef.h>
#include <stdint.h>

// Encoded length of n bytes (always a multiple of 4).
#define WS_BASE64_ENC_LEN(n) ((((n) + 2) / 3) * 4)

// Writes WS_BASE64_ENC_LEN(n) characters to out (no NUL); returns that count.
size_t ws_base64_encode(const uint8_t *in, size_t n, char *out);

// Strict decode of in[0..n): the length must be a multiple of 4, only the
// alphabet is allowed (no whitespace, no line breaks, no URL-safe chars),
// '=' only as the last one or two characters, and the unused bits before the
// padding must be zero, so every accepted string is the canonical encoding
// of its bytes. Returns the decoded length, or -1 if the input is not
// canonical base64 or the result would not fit in out_cap bytes.
// out may be NULL (with out_cap 0 ignored) to validate and measure only.
ptrdiff_t ws_base64_decode(const char *in, size_t n, uint8_t *out, size_t out_cap);

#endif
