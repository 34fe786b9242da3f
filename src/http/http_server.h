// http_server.h: the HTTP/1.1 connection task, its routes, and the upgrade seam for WebSocket.
#ifndef HTTP_SERVER_H
#define HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "exec/exec.h"
#include "http/http_parse.h"
#include "net/net.h"

struct http_lifecycle;

// [snippet: upgrade-hook]
// The seam through which a later layer takes over a connection (RFC 9110
// section 7.8, Upgrade). The HTTP layer knows nothing of WebSocket; stage 7
// installs a hook, and without one HTTP_UPGRADE_PATH is answered 426.
struct http_upgrade_hook {
    const char *path; // where the route table sends upgrades, e.g. "/ws"
    // Checks the request and writes a complete response head into out[0..cap).
    // Returns 101 to switch protocols, or an error status (400, 426) whose
    // response it wrote; the connection is then closed after sending it.
    int (*handshake)(const struct http_request *req, char *out, size_t cap, size_t *len);
    // After the 101 has been sent: the protocol's state for this connection.
    // It reads, sends and lingers through the connection's lifecycle (see
    // http_lifecycle.h), whose read buffer holds the bytes the client sent
    // behind the handshake in in[start, len). NULL on failure (no memory):
    // the connection is then closed.
    void *(*open)(struct http_lifecycle *life);
    // Polled by the connection's task until READY (the protocol is done).
    poll_t (*poll)(void *state, struct sched_cx *cx);
    // Frees the state. Called by http_lifecycle_end after the socket is
    // closed: no request is in flight any more, so what a send read from may go.
    void (*close)(void *state);
};
void http_set_upgrade_hook(const struct http_upgrade_hook *hook);
// [end: upgrade-hook]

// Runtime settings (defaults from config.h; the server's options override them).
struct http_settings {
    uint32_t header_timeout_ms; // a started request head must complete within this
    uint32_t idle_timeout_ms;   // keep-alive connection with no request
    uint32_t send_timeout_ms;   // the most time sending one batch of responses may take
};
extern struct http_settings http_settings;

// The acceptor's callbacks: start a connection task for fd (0 or -errno),
// and answer 503 when no task can be had.
int http_accept(int fd, void *arg);
void http_refuse(int fd);

// The demo page compiled into the binary (generated from src/http/page/index.html).
extern const unsigned char http_page[];
extern const unsigned long http_page_len;

#endif
