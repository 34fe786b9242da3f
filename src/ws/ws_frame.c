// ws_frame.c: client frame header parsing, server frame header encoding, and payload unmasking.
#include "ws/ws_frame.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

static int fail(struct ws_frame *f, uint16_t code)
{
    f->close_code = code;
    return PARSE_ERROR;
}

static bool opcode_defined(unsigned op)
{
    return op <= WS_OP_BINARY || (op >= WS_OP_CLOSE && op <= WS_OP_PONG);
}

// [snippet: ws-frame-parse]
// Parses the header of a client frame from buf[0..len), in byte order.
// Returns its length (2..14) with *f filled in, PARSE_NEED_MORE for a
// partial header, or PARSE_ERROR with f->close_code 1002 or 1009 (the rules
// are in ws_frame.h). Called by the connection's step (ws_conn.c) whenever a
// new frame starts in the read buffer.
// [lab: ws_frame_parse]
int ws_frame_parse(const uint8_t *buf, size_t len, struct ws_frame *f)
{
    // Checks run in byte order, so a rule is enforced as soon as its byte
    // arrives and a partial header can never hide a violation.
    f->close_code = 0;
    if (len < 1)
        return PARSE_NEED_MORE;

    uint8_t b0 = buf[0];
    f->fin = (b0 & 0x80) != 0;
    f->opcode = b0 & 0x0F;
    bool control = (f->opcode & 0x08) != 0;
    if (b0 & 0x70) // RSV1..3: no extensions here
        return fail(f, WS_CLOSE_PROTOCOL);
    if (!opcode_defined(f->opcode))
        return fail(f, WS_CLOSE_PROTOCOL);
    if (control && !f->fin) // control frames are never fragmented
        return fail(f, WS_CLOSE_PROTOCOL);

    if (len < 2)
        return PARSE_NEED_MORE;
    uint8_t b1 = buf[1];
    f->masked = (b1 & 0x80) != 0;
    if (!f->masked) // every client frame is masked
        return fail(f, WS_CLOSE_PROTOCOL);
    unsigned len7 = b1 & 0x7F;
    if (control && len7 > WS_CONTROL_MAX)
        return fail(f, WS_CLOSE_PROTOCOL);

    size_t pos;
    uint64_t plen;
    if (len7 < 126) {
        plen = len7;
        pos = 2;
    } else if (len7 == 126) { // 16-bit big-endian length
        if (len < 4)
            return PARSE_NEED_MORE;
        plen = (uint64_t)buf[2] << 8 | buf[3];
        pos = 4;
    } else { // 64-bit big-endian length
        if (len < 3)
            return PARSE_NEED_MORE;
        if (buf[2] & 0x80) // the MSB must be 0
            return fail(f, WS_CLOSE_PROTOCOL);
        if (len < 10)
            return PARSE_NEED_MORE;
        plen = 0;
        for (int i = 2; i < 10; i++)
            plen = plen << 8 | buf[i];
        pos = 10;
    }
    if (plen > WS_MAX_FRAME) // refuse before buffering any of it
        return fail(f, WS_CLOSE_TOO_BIG);

    if (len < pos + 4)
        return PARSE_NEED_MORE;
    __builtin_memcpy(f->mask, buf + pos, 4);
    f->payload_len = plen;
    return (int)(pos + 4);
}
// [end lab: ws_frame_parse]
// [end: ws-frame-parse]

size_t ws_frame_header_encode(uint8_t out[10], bool fin, unsigned opcode, uint64_t len)
{
    out[0] = (uint8_t)((fin ? 0x80 : 0) | (opcode & 0x0F));
    if (len < 126) {
        out[1] = (uint8_t)len; // mask bit 0: servers never mask
        return 2;
    }
    if (len <= 0xFFFF) {
        out[1] = 126;
        out[2] = (uint8_t)(len >> 8);
        out[3] = (uint8_t)len;
        return 4;
    }
    out[1] = 127;
    for (int i = 0; i < 8; i++)
        out[2 + i] = (uint8_t)(len >> (56 - 8 * i));
    return 10;
}

// [snippet: ws-unmask]
// XORs p[0..n) in place with the masking key, key byte (offset + i) % 4 for
// p[i], so a payload unmasks chunk by chunk (offset: where p[0] sits in the
// payload). Called by the connection's step for each payload chunk read.
// [lab: ws_unmask]
void ws_unmask(uint8_t *p, size_t n, const uint8_t mask[4], size_t offset)
{
    // Key byte j applies to payload byte j mod 4. Rotating the key by the
    // chunk's offset makes p[0] line up with key byte 0, and since 8 is a
    // multiple of 4 the same 8-byte pattern then fits every 8-byte step.
    uint8_t rot[8];
    for (int i = 0; i < 8; i++)
        rot[i] = mask[(offset + (size_t)i) & 3];
    uint64_t m;
    __builtin_memcpy(&m, rot, 8);

    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w; // memcpy: p need not be aligned
        __builtin_memcpy(&w, p + i, 8);
        w ^= m;
        __builtin_memcpy(p + i, &w, 8);
    }
    for (; i < n; i++)
        p[i] ^= rot[i & 7];
}
// [end lab: ws_unmask]
// [end: ws-unmask]
