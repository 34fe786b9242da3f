// ws_frame.h: frame layer (RFC 6455 5.2): client frame header parser, server header encoder, unmasking.
#ifndef WS_FRAME_H
#define WS_FRAME_H

#include "config.h"
#include "sys/parse_result.h"
#include "ws/ws_proto.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ws_frame {
    bool fin;             // last frame of its message
    uint8_t opcode;       // WS_OP_*
    bool masked;          // always true when parsing succeeds (clients must mask)
    uint8_t mask[4];      // masking key
    uint64_t payload_len; // payload bytes that follow the header
    uint16_t close_code;  // on PARSE_ERROR: the code to close with; else 0
};

// Parses the header of a frame sent by a client, from buf[0..len).
// Returns the header length (2..14) with *f filled in; the payload starts
// at buf + return value. Returns PARSE_NEED_MORE if buf holds only part
// of a header, PARSE_ERROR if the header breaks the protocol,
// with f->close_code set:
//   1002  RSV1-3 set (no extension is ever negotiated), reserved opcode
//         (3-7, B-F), control frame with FIN=0 or payload > 125, unmasked
//         frame, 64-bit length with its most significant bit set;
//   1009  payload length above WS_MAX_FRAME.
// Fails fast: an error is reported as soon as the bytes that prove it are
// present, so a prefix of a header gives either PARSE_NEED_MORE or the same
// result as the whole header. Non-minimal length encodings are accepted.
// Other fields of *f are unspecified after PARSE_ERROR or PARSE_NEED_MORE.
int ws_frame_parse(const uint8_t *buf, size_t len, struct ws_frame *f);

// Writes an unmasked (server-to-client) frame header using the shortest
// length form. opcode is masked to 4 bits. Returns its length: 2, 4 or 10.
size_t ws_frame_header_encode(uint8_t out[10], bool fin, unsigned opcode, uint64_t len);

// XORs p[0..n) with the masking key in place. offset is the position of
// p[0] within the frame's payload, so a payload arriving over several reads
// is unmasked chunk by chunk: call with offset 0, then offset += n.
void ws_unmask(uint8_t *p, size_t n, const uint8_t mask[4], size_t offset);

#endif
