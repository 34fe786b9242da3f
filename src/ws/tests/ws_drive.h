// ws_drive.h: test/fuzz driver playing the connection over a byte stream: parse, unmask, feed the machine.
// Header-only and hosted (uses libc); not part of the library.
#ifndef WS_TESTS_DRIVE_H
#define WS_TESTS_DRIVE_H

#include "ws/ws_close.h"
#include "ws/ws_frame.h"
#include "ws/ws_message.h"
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// Record of everything the stream produced, as text, so that the same
// stream delivered in different chunkings can be compared with strcmp.
#define DRIVE_LOG_MAX 8192

struct drive {
    struct ws_msg st;
    uint8_t pending[WS_FRAME_HEADER_MAX]; // header bytes seen so far
    size_t pending_len;
    bool in_payload;
    struct ws_frame f;
    uint64_t off; // payload bytes of the current frame consumed
    uint8_t *msg; // the caller-side message buffer (growable)
    size_t msg_len, msg_cap;
    int error;       // close code the connection would fail with
    int error_where; // 1 parse, 2 on_frame, 3 on_payload, 4 on_frame_end
    size_t nevents;
    char log[DRIVE_LOG_MAX];
    size_t log_len;
    // Invariant violations found by the driver itself (used by the fuzzer).
    const char *broken;
};

static inline void drive_init(struct drive *d)
{
    memset(d, 0, sizeof *d);
    ws_msg_init(&d->st);
}

static inline void drive_free(struct drive *d)
{
    free(d->msg);
    d->msg = NULL;
}

static inline void drive_logf(struct drive *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline void drive_logf(struct drive *d, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (d->log_len < DRIVE_LOG_MAX) {
        int k = vsnprintf(d->log + d->log_len, DRIVE_LOG_MAX - d->log_len, fmt, ap);
        if (k > 0)
            d->log_len += (size_t)k;
        if (d->log_len > DRIVE_LOG_MAX - 1)
            d->log_len = DRIVE_LOG_MAX - 1;
    }
    va_end(ap);
}

static inline void drive_fail(struct drive *d, int code, int where)
{
    d->error = code;
    d->error_where = where;
    drive_logf(d, "E%d@%d|", code, where);
}

static inline void drive_event(struct drive *d, const struct ws_event *ev)
{
    d->nevents++;
    switch (ev->kind) {
    case WS_EV_NONE:
        drive_logf(d, "N|");
        break;
    case WS_EV_MESSAGE:
        if (ev->msg_len != d->msg_len)
            d->broken = "MESSAGE length differs from the bytes buffered";
        if (ev->opcode == WS_OP_TEXT && !ws_utf8_valid(d->msg, d->msg_len))
            d->broken = "TEXT message reported with invalid UTF-8";
        if (ev->opcode != WS_OP_TEXT && ev->opcode != WS_OP_BINARY)
            d->broken = "MESSAGE with a non-data opcode";
        drive_logf(d, "M%u:%zu:%.*s|", ev->opcode, d->msg_len, (int)(d->msg_len > 40 ? 40 : d->msg_len),
                   d->msg_len ? (const char *)d->msg : "");
        d->msg_len = 0;
        break;
    case WS_EV_PING:
    case WS_EV_PONG:
        if (ev->len > WS_CONTROL_MAX)
            d->broken = "control payload above 125";
        drive_logf(d, "%s:%zu:%.*s|", ev->kind == WS_EV_PING ? "PI" : "PO", ev->len, (int)ev->len,
                   ev->len ? (const char *)ev->data : "");
        break;
    case WS_EV_CLOSE:
        if (ev->close_code != WS_CLOSE_NO_STATUS && !ws_close_code_valid(ev->close_code))
            d->broken = "CLOSE event with an invalid code";
        if (!ws_utf8_valid(ev->data, ev->len))
            d->broken = "CLOSE reason not UTF-8";
        drive_logf(d, "C%u:%.*s|", ev->close_code, (int)ev->len, ev->len ? (const char *)ev->data : "");
        break;
    }
}

// Consumes the payload bytes available in p[0..n); returns bytes used.
static inline size_t drive_payload(struct drive *d, uint8_t *p, size_t n)
{
    uint64_t left = d->f.payload_len - d->off;
    size_t k = n < left ? n : (size_t)left;
    ws_unmask(p, k, d->f.mask, (size_t)d->off);
    int rc = ws_msg_on_payload(&d->st, p, k);
    if (rc) {
        drive_fail(d, rc, 3);
        return k;
    }
    if ((d->f.opcode & 8) == 0 && k > 0) {
        if (d->msg_len + k > d->msg_cap) {
            size_t cap = d->msg_cap ? d->msg_cap : 64;
            while (cap < d->msg_len + k)
                cap *= 2;
            d->msg = realloc(d->msg, cap);
            d->msg_cap = cap;
        }
        memcpy(d->msg + d->msg_len, p, k);
        d->msg_len += k;
    }
    d->off += k;
    if (d->off == d->f.payload_len) {
        struct ws_event ev;
        rc = ws_msg_on_frame_end(&d->st, &ev);
        if (rc) {
            drive_fail(d, rc, 4);
            return k;
        }
        drive_event(d, &ev);
        d->in_payload = false;
    }
    return k;
}

// Feeds the next chunk of the stream. p is modified (unmasked in place).
static inline void drive_feed(struct drive *d, uint8_t *p, size_t n)
{
    while (d->error == 0) {
        if (d->in_payload) {
            size_t k = drive_payload(d, p, n);
            p += k;
            n -= k;
            if (d->in_payload && n == 0)
                return;
            continue;
        }
        if (n == 0)
            return;
        // Header bytes may straddle chunks: collect them in pending.
        size_t room = WS_FRAME_HEADER_MAX - d->pending_len;
        size_t k = n < room ? n : room;
        memcpy(d->pending + d->pending_len, p, k);
        int h = ws_frame_parse(d->pending, d->pending_len + k, &d->f);
        if (h == PARSE_NEED_MORE) {
            d->pending_len += k;
            p += k;
            n -= k;
            continue;
        }
        if (h == PARSE_ERROR) {
            if (d->f.close_code != WS_CLOSE_PROTOCOL && d->f.close_code != WS_CLOSE_TOO_BIG)
                d->broken = "parser error with an unexpected close code";
            drive_fail(d, d->f.close_code, 1);
            return;
        }
        if (h < 6 || h > WS_FRAME_HEADER_MAX || (size_t)h <= d->pending_len)
            d->broken = "header length out of range";
        size_t used = (size_t)h - d->pending_len; // bytes of this chunk in the header
        p += used;
        n -= used;
        d->pending_len = 0;
        int rc = ws_msg_on_frame(&d->st, &d->f);
        if (rc) {
            drive_fail(d, rc, 2);
            return;
        }
        d->in_payload = true;
        d->off = 0;
        if (d->f.payload_len == 0)
            drive_payload(d, p, 0);
    }
}

// Builds a masked client frame into out; returns its length.
static inline size_t drive_build(uint8_t *out, bool fin, unsigned opcode, const void *payload, size_t len,
                                 uint32_t maskseed)
{
    size_t h = ws_frame_header_encode(out, fin, opcode, len);
    out[1] |= 0x80;
    uint8_t mask[4] = {(uint8_t)maskseed, (uint8_t)(maskseed >> 8), (uint8_t)(maskseed >> 16),
                       (uint8_t)(maskseed >> 24)};
    memcpy(out + h, mask, 4);
    if (len)
        memcpy(out + h + 4, payload, len);
    for (size_t i = 0; i < len; i++)
        out[h + 4 + i] ^= mask[i & 3];
    return h + 4 + len;
}

#endif
