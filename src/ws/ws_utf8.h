// ws_utf8.h: incremental, fail-fast UTF-8 validator (RFC 3629) for text messages split across frames.
#ifndef WS_UTF8_H
#define WS_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

// The state is one small integer, so it can live in a connection's
// message state and carry a code point split across reads or fragments.
// Start every message at WS_UTF8_ACCEPT. WS_UTF8_REJECT is sticky.
typedef uint8_t ws_utf8_state;
#define WS_UTF8_ACCEPT 0 // on a code point boundary: the text may end here
#define WS_UTF8_REJECT 1 // not a prefix of any valid UTF-8 text

// Advances *st over p[0..n). Returns true if everything seen so far is still
// a prefix of valid UTF-8. Returns false as soon as one byte makes that
// impossible (0xC0, 0xF5.., a stray continuation, an overlong form, a
// surrogate, a value above U+10FFFF, a lead byte where a continuation was
// due): *st becomes WS_UTF8_REJECT and, if bad is not NULL, *bad is the
// index in p of that byte. Bytes after it are not examined. Called with a
// rejected state it returns false with *bad = 0.
bool ws_utf8_feed(ws_utf8_state *st, const uint8_t *p, size_t n, size_t *bad);

// True iff the text may end in this state (no code point left half-done).
bool ws_utf8_done(ws_utf8_state st);

// One-shot: true iff p[0..n) is complete, valid UTF-8.
bool ws_utf8_valid(const uint8_t *p, size_t n);

#endif
