// ws_message.c: receive-side message machine: fragments, interleaved control frames, UTF-8, size, close.
#include "ws/ws_message.h"
#include "ws/ws_close.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

static int fail(struct ws_msg *st, uint16_t code)
{
    st->error = code;
    return code;
}

void ws_msg_init(struct ws_msg *st)
{
    __builtin_memset(st, 0, sizeof *st);
    st->utf8 = WS_UTF8_ACCEPT;
}

// [snippet: ws-fragmentation-rules]
int ws_msg_on_frame(struct ws_msg *st, const struct ws_frame *f)
{
    if (st->error)
        return st->error;
    if (st->in_frame) // caller skipped on_frame_end
        return fail(st, WS_CLOSE_INTERNAL);
    if (st->closed) // nothing may follow a Close
        return fail(st, WS_CLOSE_PROTOCOL);

    unsigned op = f->opcode;
    if (op & 0x08) {
        // Control frames may sit between fragments of a data message and
        // leave it untouched. The parser already enforces these; checking
        // again keeps the machine safe with hand-built headers.
        if (op > WS_OP_PONG || !f->fin || f->payload_len > WS_CONTROL_MAX)
            return fail(st, WS_CLOSE_PROTOCOL);
        st->ctl_len = 0;
    } else {
        if (op == WS_OP_CONT) {
            if (!st->in_message) // nothing to continue
                return fail(st, WS_CLOSE_PROTOCOL);
        } else if (op == WS_OP_TEXT || op == WS_OP_BINARY) {
            if (st->in_message) // previous message unfinished
                return fail(st, WS_CLOSE_PROTOCOL);
            st->in_message = true;
            st->msg_opcode = (uint8_t)op;
            st->msg_len = 0;
            st->utf8 = WS_UTF8_ACCEPT;
        } else {
            return fail(st, WS_CLOSE_PROTOCOL);
        }
        // Checked per header, against the running total, so the caller
        // never buffers a byte of a message that cannot be accepted.
        if (f->payload_len > WS_MAX_MESSAGE - st->msg_len)
            return fail(st, WS_CLOSE_TOO_BIG);
    }
    st->in_frame = true;
    st->frame_fin = f->fin;
    st->frame_opcode = (uint8_t)op;
    st->frame_left = f->payload_len;
    return 0;
}
// [end: ws-fragmentation-rules]

int ws_msg_on_payload(struct ws_msg *st, const uint8_t *data, size_t n)
{
    if (st->error)
        return st->error;
    if (!st->in_frame || n > st->frame_left)
        return fail(st, WS_CLOSE_INTERNAL);
    st->frame_left -= n;

    if (st->frame_opcode & 0x08) {
        // on_frame capped the frame at WS_CONTROL_MAX, so this fits.
        if (n > 0)
            __builtin_memcpy(st->ctl + st->ctl_len, data, n);
        st->ctl_len = (uint8_t)(st->ctl_len + n);
        return 0;
    }
    st->msg_len += n;
    if (st->msg_opcode == WS_OP_TEXT && !ws_utf8_feed(&st->utf8, data, n, NULL))
        return fail(st, WS_CLOSE_BAD_DATA); // fail fast, mid-fragment
    return 0;
}

int ws_msg_on_frame_end(struct ws_msg *st, struct ws_event *ev)
{
    if (st->error)
        return st->error;
    if (!st->in_frame || st->frame_left != 0)
        return fail(st, WS_CLOSE_INTERNAL);
    st->in_frame = false;

    __builtin_memset(ev, 0, sizeof *ev);
    ev->opcode = st->frame_opcode;
    switch (st->frame_opcode) {
    case WS_OP_CONT:
    case WS_OP_TEXT:
    case WS_OP_BINARY:
        if (!st->frame_fin) {
            ev->kind = WS_EV_NONE;
            return 0;
        }
        // A text message may only end on a code point boundary.
        if (st->msg_opcode == WS_OP_TEXT && !ws_utf8_done(st->utf8))
            return fail(st, WS_CLOSE_BAD_DATA);
        st->in_message = false;
        ev->kind = WS_EV_MESSAGE;
        ev->opcode = st->msg_opcode;
        ev->msg_len = st->msg_len;
        return 0;
    case WS_OP_PING:
    case WS_OP_PONG:
        ev->kind = st->frame_opcode == WS_OP_PING ? WS_EV_PING : WS_EV_PONG;
        ev->data = st->ctl;
        ev->len = st->ctl_len;
        return 0;
    default: { // WS_OP_CLOSE
        uint16_t code = 0;
        int rc = ws_close_payload_check(st->ctl, st->ctl_len, &code);
        if (rc != 0)
            return fail(st, (uint16_t)rc);
        st->closed = true;
        ev->kind = WS_EV_CLOSE;
        ev->close_code = code;
        ev->data = st->ctl + (st->ctl_len >= 2 ? 2 : 0);
        ev->len = st->ctl_len >= 2 ? st->ctl_len - 2u : 0;
        return 0;
    }
    }
}
