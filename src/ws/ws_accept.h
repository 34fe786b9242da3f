// ws_accept.h: opening-handshake key check and Sec-WebSocket-Accept computation (RFC 6455 4.2).
#ifndef WS_ACCEPT_H
#define WS_ACCEPT_H

#include "ws/ws_proto.h"
#include <stdbool.h>
#include <stddef.h>

// True iff key[0..len) is the canonical base64 of exactly 16 bytes
// (24 characters ending in "=="). The caller strips the header's optional
// whitespace first; nothing here trims.
bool ws_key_valid(const char *key, size_t len);

// out = base64(SHA-1(key || "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")),
// exactly WS_ACCEPT_LEN (28) characters, not NUL-terminated.
// Works for any key bytes; validate with ws_key_valid first.
void ws_accept_key(const char *key, size_t key_len, char out[WS_ACCEPT_LEN]);

#endif
