// ws_server.h: the WebSocket endpoint at /ws: handshake, framing and echo, installed into the HTTP server.
#ifndef WS_SERVER_H
#define WS_SERVER_H

#include <stddef.h>
#include <stdint.h>

// Runtime settings (defaults from config.h; the server's options override
// them before ws_server_install). The send timeout is HTTP's: one answer
// (an echo, a pong, a close) must be sent within http_settings.send_timeout_ms.
struct ws_settings {
    uint32_t idle_timeout_ms; // silence before our ping; as long again without an answer, then close
};
extern struct ws_settings ws_settings;

// sizeof the per-connection WebSocket state (the test of an idle connection's memory prints it).
extern const size_t ws_conn_state_size;

// Installs the /ws upgrade hook into the HTTP layer.
void ws_server_install(void);

#endif
