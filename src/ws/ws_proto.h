// ws_proto.h: wire constants of RFC 6455: opcodes, close status codes, fixed sizes.
#ifndef WS_PROTO_H
#define WS_PROTO_H

// Opcodes (RFC 6455 5.2). Bit 3 set means "control frame".
#define WS_OP_CONT   0x0
#define WS_OP_TEXT   0x1
#define WS_OP_BINARY 0x2
#define WS_OP_CLOSE  0x8
#define WS_OP_PING   0x9
#define WS_OP_PONG   0xA

// Close status codes (RFC 6455 7.4.1) that this layer sends or reports.
#define WS_CLOSE_NORMAL      1000
#define WS_CLOSE_GOING_AWAY  1001
#define WS_CLOSE_PROTOCOL    1002
#define WS_CLOSE_UNSUPPORTED 1003
#define WS_CLOSE_NO_STATUS   1005 // never on the wire: "the close frame carried no code"
#define WS_CLOSE_ABNORMAL    1006 // never on the wire: "no close frame at all"
#define WS_CLOSE_BAD_DATA    1007
#define WS_CLOSE_POLICY      1008
#define WS_CLOSE_TOO_BIG     1009
#define WS_CLOSE_INTERNAL    1011

// Protocol constants, not tunables.
#define WS_CONTROL_MAX      125 // control frame payload limit (RFC 6455 5.5)
#define WS_FRAME_HEADER_MAX 14  // 2 + 8 extended length + 4 mask
#define WS_KEY_LEN          24  // base64 of the 16-byte Sec-WebSocket-Key nonce
#define WS_KEY_NONCE_LEN    16
#define WS_ACCEPT_LEN       28 // base64 of a 20-byte SHA-1 digest

#endif
