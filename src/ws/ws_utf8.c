// ws_utf8.c: UTF-8 validation as a 9-state DFA over 12 byte classes, with an 8-bytes-at-a-time ASCII path.
#include "ws/ws_utf8.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

// Byte classes. The continuation range 80..BF is cut in three because
// the second byte after E0, ED, F0 and F4 is restricted to a sub-range:
// that is how overlongs, surrogates and values above U+10FFFF are refused
// without ever assembling the code point.
enum {
    C_ASCII, // 00..7F
    C_80_8F, // continuation
    C_90_9F, // continuation
    C_A0_BF, // continuation
    C_BAD,   // C0, C1 (overlong 2-byte), F5..FF (beyond U+10FFFF)
    C_L2,    // C2..DF  lead of 2
    C_E0,    // lead of 3, next must be A0..BF (else overlong)
    C_L3,    // E1..EC, EE, EF  lead of 3
    C_ED,    // lead of 3, next must be 80..9F (else surrogate D800..DFFF)
    C_F0,    // lead of 4, next must be 90..BF (else overlong)
    C_L4,    // F1..F3  lead of 4
    C_F4,    // lead of 4, next must be 80..8F (else > U+10FFFF)
    NCLASS
};

static const uint8_t byte_class[256] = {
    [0x00 ... 0x7F] = C_ASCII,
    [0x80 ... 0x8F] = C_80_8F,
    [0x90 ... 0x9F] = C_90_9F,
    [0xA0 ... 0xBF] = C_A0_BF,
    [0xC0 ... 0xC1] = C_BAD,
    [0xC2 ... 0xDF] = C_L2,
    [0xE0] = C_E0,
    [0xE1 ... 0xEC] = C_L3,
    [0xED] = C_ED,
    [0xEE ... 0xEF] = C_L3,
    [0xF0] = C_F0,
    [0xF1 ... 0xF3] = C_L4,
    [0xF4] = C_F4,
    [0xF5 ... 0xFF] = C_BAD,
};

// [snippet: ws-utf8-table]
// States: ACCEPT and REJECT are fixed by the header (0 and 1); the rest
// say how many continuation bytes are still due and, for the four special
// leads, which sub-range the next one must fall in.
enum {
    S_OK = WS_UTF8_ACCEPT,
    S_NO = WS_UTF8_REJECT,
    S_1,  // 1 more continuation, any 80..BF
    S_2,  // 2 more, any
    S_3,  // 3 more, any
    S_E0, // after E0: A0..BF, then 1 more
    S_ED, // after ED: 80..9F, then 1 more
    S_F0, // after F0: 90..BF, then 2 more
    S_F4, // after F4: 80..8F, then 2 more
    NSTATE
};

// next[state][class]. Every row spells out all twelve classes: an omitted
// entry would silently be 0, which is S_OK, the one wrong default here.
static const uint8_t next[NSTATE][NCLASS] = {
    //           ASCII  80_8F 90_9F A0_BF BAD   L2    E0    L3    ED    F0    L4    F4
    [S_OK] = {S_OK, S_NO, S_NO, S_NO, S_NO, S_1, S_E0, S_2, S_ED, S_F0, S_3, S_F4},
    [S_NO] = {S_NO, S_NO, S_NO, S_NO, S_NO, S_NO, S_NO, S_NO, S_NO, S_NO, S_NO, S_NO},
    [S_1] = {S_NO, S_OK, S_OK, S_OK, S_NO, S_NO, S_NO, S_NO, S_NO, S_NO, S_NO, S_NO},
    [S_2] = {S_NO, S_1, S_1, S_1, S_NO, S_NO, S_NO, S_NO, S_NO, S_NO, S_NO, S_NO},
    [S_3] = {S_NO, S_2, S_2, S_2, S_NO, S_NO, S_NO, S_NO, S_NO, S_NO, S_NO, S_NO},
    [S_E0] = {S_NO, S_NO, S_NO, S_1, S_NO, S_NO, S_NO, S_NO, S_NO, S_NO, S_NO, S_NO},
    [S_ED] = {S_NO, S_1, S_1, S_NO, S_NO, S_NO, S_NO, S_NO, S_NO, S_NO, S_NO, S_NO},
    [S_F0] = {S_NO, S_NO, S_2, S_2, S_NO, S_NO, S_NO, S_NO, S_NO, S_NO, S_NO, S_NO},
    [S_F4] = {S_NO, S_2, S_NO, S_NO, S_NO, S_NO, S_NO, S_NO, S_NO, S_NO, S_NO, S_NO},
};
// [end: ws-utf8-table]

#define HIGH_BITS 0x8080808080808080ull

// Advances *st over p[0..n) through the table above. Returns true while
// what was seen is still a prefix of valid UTF-8; false at the first byte
// that makes it impossible, with *st = WS_UTF8_REJECT and *bad (if not
// NULL) its index (ws_utf8.h). Called by ws_msg_on_payload for each chunk of
// a text message, and by ws_utf8_valid for a close reason.
// [lab: ws_utf8_feed]
bool ws_utf8_feed(ws_utf8_state *st, const uint8_t *p, size_t n, size_t *bad)
{
    unsigned s = *st;
    size_t i = 0;

    if (s == S_NO) {
        if (bad != NULL)
            *bad = 0;
        return false;
    }
    while (i < n) {
        // Between code points, skip runs of ASCII a word at a time: most
        // text frames are mostly ASCII, and no state changes inside a run.
        if (s == S_OK) {
            while (i + 8 <= n) {
                uint64_t w;
                __builtin_memcpy(&w, p + i, 8);
                if (w & HIGH_BITS)
                    break;
                i += 8;
            }
            if (i == n)
                break;
        }
        // [snippet: ws-utf8-dfa-step]
        s = next[s][byte_class[p[i]]];
        if (s == S_NO) { // fail fast: report the very byte
            *st = S_NO;
            if (bad != NULL)
                *bad = i;
            return false;
        }
        i++;
        // [end: ws-utf8-dfa-step]
    }
    *st = (ws_utf8_state)s;
    return true;
}
// [end lab: ws_utf8_feed]

bool ws_utf8_done(ws_utf8_state st) { return st == S_OK; }

bool ws_utf8_valid(const uint8_t *p, size_t n)
{
    ws_utf8_state st = WS_UTF8_ACCEPT;
    return ws_utf8_feed(&st, p, n, NULL) && ws_utf8_done(st);
}
