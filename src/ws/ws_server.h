// ws_server.h: the WebSocket endpoint at /ws: handshake, framing and echo, installed into the HTTP server.
#ifndef WS_WS_SERVER_H
#define WS_WS_SERVER_H

// Installs the /ws upgrade hook into the HTTP layer.
void ws_server_install(void);

#endif
