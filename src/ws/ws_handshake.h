// ws_handshake.h: checks a WebSocket opening handshake and writes the 101 (or the error) response.
#ifndef WS_HANDSHAKE_H
#define WS_HANDSHAKE_H

#include <stddef.h>

#include "http/http_parse.h"

// Writes a complete response head into out[0..cap) and sets *len. Returns
// 101 for a valid handshake, 426 for a missing upgrade or wrong version
// (with Sec-WebSocket-Version: 13), 400 for anything else malformed, and
// 500 if the response does not fit in cap bytes: then out holds a bare 500
// if that fits, else nothing (*len = 0). A head is never cut short.
int ws_handshake(const struct http_request *req, char *out, size_t cap, size_t *len);

#endif
