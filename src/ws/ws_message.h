// ws_message.h: the message-level machine (RFC 6455 5.4-5.6, 8.1): fragments, control frames, text, close.
#ifndef WS_MESSAGE_H
#define WS_MESSAGE_H

#include "config.h"
#include "ws/ws_frame.h"
#include "ws/ws_proto.h"
#include "ws/ws_utf8.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

// What a finished frame means for the connection.
enum ws_event_kind {
    WS_EV_NONE,    // a non-final data fragment was taken in: keep reading
    WS_EV_MESSAGE, // a data message is complete (opcode TEXT or BINARY)
    WS_EV_PING,    // answer with a PONG carrying data[0..len)
    WS_EV_PONG,    // unsolicited or not, a PONG needs no answer
    WS_EV_CLOSE,   // the peer closes: echo close_code (if not 1005), then close
};

struct ws_event {
    enum ws_event_kind kind;
    uint8_t opcode;      // MESSAGE: WS_OP_TEXT or WS_OP_BINARY; else the frame's opcode
    uint16_t close_code; // CLOSE: the peer's code, WS_CLOSE_NO_STATUS (1005) if none
    uint64_t msg_len;    // MESSAGE: total payload bytes of the message
    const uint8_t *data; // PING/PONG: payload; CLOSE: reason (UTF-8, not NUL-terminated)
    size_t len;          //   (points into the state's ctl[]: valid until the next frame)
};

// Per-connection receive state. Caller-owned storage (160 bytes on x86_64),
// no allocation. Fields are private except where noted.
struct ws_msg {
    uint16_t error;     // sticky close code once any call failed, else 0
    bool closed;        // a Close frame was received
    bool in_message;    // a data message was started and not yet finished
    uint8_t msg_opcode; // TEXT or BINARY of the open message
    ws_utf8_state utf8; // validation state of the open text message
    uint64_t msg_len;   // readable: payload bytes accepted so far in the open message

    bool in_frame; // between ws_msg_on_frame and ws_msg_on_frame_end
    bool frame_fin;
    uint8_t frame_opcode;
    uint64_t frame_left; // readable: payload bytes of this frame still to be fed

    uint8_t ctl_len;
    uint8_t ctl[WS_CONTROL_MAX]; // payload of the current control frame
};

// Contract. For every frame the caller (which does the I/O) does:
//
//   1. f from ws_frame_parse(); on PARSE_ERROR fail with f.close_code.
//   2. rc = ws_msg_on_frame(st, &f)           (rc != 0: fail with rc)
//   3. for each chunk of the payload, in order: ws_unmask() it, then
//      rc = ws_msg_on_payload(st, chunk, n)   (rc != 0: fail with rc),
//      and, if the frame is a data frame (f.opcode & 8 == 0), append the
//      chunk to the caller's message buffer. Control payloads are copied
//      into st->ctl by the machine; the caller need not keep them.
//      Chunks may have any size, including 0, and must total f.payload_len.
//   4. rc = ws_msg_on_frame_end(st, &ev)      (also for empty payloads)
//      rc != 0: fail with rc. Else act on ev; after WS_EV_MESSAGE the
//      message buffer holds exactly ev.msg_len bytes and can be reset.
//
// "Fail with code" means: send a Close frame with that code, then close.
// Every function returns 0 or such a close code (1002 protocol error,
// 1007 invalid UTF-8, 1009 message too big, 1011 calls out of order).
// Errors are sticky: once a call failed, every later call returns the same
// code. Guarantees when the calls return 0:
//   - after ws_msg_on_frame, st->msg_len + f.payload_len <= WS_MAX_MESSAGE
//     for a data frame, so the buffer can be grown before reading;
//   - a TEXT message is reported only if all of it is valid UTF-8, and a
//     text message is refused (1007) at the first byte that makes it
//     invalid, even in the middle of a fragment;
//   - control frames may arrive between the fragments of a message and do
//     not disturb it;
//   - a CLOSE event has a valid code and a UTF-8 reason. After it, any
//     further frame is refused with 1002 (a peer must not send after Close).

void ws_msg_init(struct ws_msg *st);

// Accepts a parsed frame header. Returns 0 or a close code:
//   1002  CONT with no message open; TEXT/BINARY while one is open;
//         a frame after Close; a malformed header (defensive re-check).
//   1009  the message would exceed WS_MAX_MESSAGE.
//   1011  the previous frame was not finished with ws_msg_on_frame_end.
int ws_msg_on_frame(struct ws_msg *st, const struct ws_frame *f);

// Takes the next n unmasked payload bytes of the current frame.
// Returns 0, 1007 (text is no longer valid UTF-8), or 1011 (no frame open,
// or more bytes than the header announced).
int ws_msg_on_payload(struct ws_msg *st, const uint8_t *data, size_t n);

// Ends the current frame once all of its payload was fed; fills *ev.
// Returns 0, 1007 (text message ends inside a code point; Close reason
// not UTF-8), 1002 (Close payload of 1 byte or refused status code), or
// 1011 (no frame open, or payload bytes still missing).
int ws_msg_on_frame_end(struct ws_msg *st, struct ws_event *ev);

#endif
