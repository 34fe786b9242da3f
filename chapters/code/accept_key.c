// accept_key.c: chapter 7's first program: the Sec-WebSocket-Accept of RFC 6455's example key, step by step.
//
// Not part of src/. The server proves it read the client's handshake by
// hashing the client's key with a fixed GUID (SHA-1) and sending the digest
// in base64. This does that with the stage 7 SHA-1 and base64 for the key in
// RFC 6455 section 1.3, whose answer the RFC gives. Build and run from the
// repository root, after `make STAGE=7`, with one command line (split here to fit):
//
//   gcc -std=gnu11 -O2 -Wall -Wextra -Werror -ffreestanding -fno-stack-protector
//       -fno-pie -nostdlib -static -no-pie -iquote src -DSTAGE=7
//       chapters/code/accept_key.c build/stage-7/libnostd.a -o build/accept_key
//   build/accept_key
#include "sys/fmt.h"
#include "sys/string.h"
#include "ws/ws_base64.h"
#include "ws/ws_sha1.h"

// [snippet: first-accept-key]
int main(void)
{
    const char *key = "dGhlIHNhbXBsZSBub25jZQ==";              // Sec-WebSocket-Key, from the client
    const char *guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"; // the same for every server
    sys_printf("key:  %s\nguid: %s\n", key, guid);

    uint8_t digest[WS_SHA1_DIGEST_LEN];
    struct ws_sha1 sha;
    ws_sha1_init(&sha);
    ws_sha1_update(&sha, key, sys_strlen(key));
    ws_sha1_update(&sha, guid, sys_strlen(guid));
    ws_sha1_final(&sha, digest);
    sys_printf("SHA-1(key guid): ");
    for (int i = 0; i < WS_SHA1_DIGEST_LEN; i++)
        sys_printf("%02x", digest[i]);
    sys_printf("\n");

    char accept[WS_BASE64_ENC_LEN(WS_SHA1_DIGEST_LEN)];
    size_t n = ws_base64_encode(digest, sizeof digest, accept);
    sys_printf("Sec-WebSocket-Accept: %.*s\n", (int)n, accept);
    return 0;
}
// [end: first-accept-key]
