// ws_accept.c: Sec-WebSocket-Key validation and the Sec-WebSocket-Accept value derived from it.
#include "ws/ws_accept.h"
#include "ws/ws_base64.h"
#include "ws/ws_sha1.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

bool ws_key_valid(const char *key, size_t len)
{
    // A 16-byte nonce always encodes to 24 characters, so checking the
    // length first keeps the decode buffer fixed-size.
    uint8_t nonce[WS_KEY_NONCE_LEN];
    if (len != WS_KEY_LEN)
        return false;
    return ws_base64_decode(key, len, nonce, sizeof nonce) == WS_KEY_NONCE_LEN;
}

// [snippet: ws-accept-key]
// The GUID is fixed by RFC 6455; only a WebSocket server knows to append it,
// which is the whole point of the exchange.
static const char ws_guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

void ws_accept_key(const char *key, size_t key_len, char out[WS_ACCEPT_LEN])
{
    struct ws_sha1 s;
    uint8_t digest[WS_SHA1_DIGEST_LEN];

    ws_sha1_init(&s);
    ws_sha1_update(&s, key, key_len);
    ws_sha1_update(&s, ws_guid, sizeof ws_guid - 1);
    ws_sha1_final(&s, digest);
    ws_base64_encode(digest, sizeof digest, out); // 20 bytes -> 28 chars
}
// [end: ws-accept-key]
