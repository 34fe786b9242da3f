// ws_close.h: validation of a received Close frame's payload: status code (RFC 6455 7.4) and UTF-8 reason.
#ifndef WS_CLOSE_H
#define WS_CLOSE_H

#include "ws/ws_proto.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

// True iff a peer may put this status code on the wire: 1000-1003,
// 1007-1011 (RFC 6455 7.4.1), 1012-1014 (IANA registry) and 3000-4999.
// 1004 (reserved), 1005/1006/1015 (local only, never in a frame),
// everything below 1000, 1016-2999 (unassigned) and 5000+ are refused.
bool ws_close_code_valid(unsigned code);

// Checks a Close payload p[0..n) (already unmasked, n <= 125).
// Returns 0 if it is acceptable, else the code to fail the connection with:
// 1002 for a 1-byte payload or a refused status code, 1007 for a reason
// that is not valid UTF-8. On success *code_out (if not NULL) is the
// status code, or WS_CLOSE_NO_STATUS (1005) for an empty payload; the
// reason is then p + 2 .. p + n.
int ws_close_payload_check(const uint8_t *p, size_t n, uint16_t *code_out);

#endif
