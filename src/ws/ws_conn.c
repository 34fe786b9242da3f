// ws_conn.c: a WebSocket connection after the 101: read frames, reassemble, echo, answer pings, close.
#include "config.h"
#include "exec/exec.h"
#include "http/http_lifecycle.h"
#include "http/http_log.h"
#include "http/http_metrics.h"
#include "http/http_server.h"
#include "mem/mem.h"
#include "net/net.h"
#include "sys/string.h"
#include "sys/sys.h"
#include "ws/ws_frame.h"
#include "ws/ws_handshake.h"
#include "ws/ws_message.h"
#include "ws/ws_server.h"

// [snippet: ws-conn-state]
struct ws_conn {
    int resume;
    // The connection's lifecycle, HTTP's until the upgrade: the socket, the
    // timer of every wait, and the read buffer, whose [start, len) holds the
    // received bytes not yet consumed. It ends the connection (and frees this).
    struct http_lifecycle *life;
    // The frame being read, and the message machine (fragments, UTF-8, close).
    struct ws_msg msg;
    struct ws_frame frame;
    bool in_frame;
    uint64_t frame_done; // payload bytes of this frame consumed (unmask offset)
    // The message being reassembled, at msg_buf + WS_MSG_HEADROOM (grown as
    // its bytes arrive; freed when the connection goes idle). The echo's
    // header is written into the headroom: header and message leave as one
    // buffer, with no copy and no output buffer.
    uint8_t *msg_buf;
    size_t msg_len, msg_cap;
    // A control frame up to WS_SMALL_FRAME bytes (a close, the idle ping) is
    // built whole here; a larger pong is this header + the ping's payload.
    uint8_t frame_out[WS_SMALL_FRAME];
    struct net_send send;
    ssize_t io_result;
    uint16_t close_code; // our close frame's code, once we close
    bool going_away;     // the server is stopping: close with 1001
    uint8_t sent_kind;   // the event whose answer is being sent (survives the await)
    // Every wait has a deadline (the lifecycle's one timer): a send must
    // finish within the send timeout, a read within the idle timeout (then
    // one ping, then close), the linger after our close within WS_CLOSE_LINGER_MS.
    bool restart_idle; // bytes arrived or an answer went out: the idle clock starts again
    bool pinged;       // our idle ping is out and nothing came back yet
};
// [end: ws-conn-state]

// An idle WebSocket connection holds this and HTTP's struct http_conn (with
// the lifecycle), and no buffer. Both must stay in small size classes of the
// allocator (384 bytes each): with the task slot, under 1 KiB. test_ws_state prints them.
_Static_assert(sizeof(struct ws_conn) <= 384, "an idle WebSocket connection's state grew past 384 bytes");
const size_t ws_conn_state_size = sizeof(struct ws_conn);

#define WS_MSG_HEADROOM 10 // the longest frame header (RFC 6455 5.2)
_Static_assert(WS_SMALL_FRAME >= 2 + 2 + sizeof WS_IDLE_PING - 1 && WS_SMALL_FRAME >= WS_MSG_HEADROOM,
               "a close frame, the idle ping and any header fit frame_out");

// [snippet: ws-queue-frame]
// Frames a server sends are never masked (RFC 6455 5.1). A control frame:
// payload stays valid until the send completes (a ping's payload is in the
// message machine's ctl[] until the next frame, and no frame is read while
// an answer is being sent), so a frame that does not fit frame_out is sent
// as two iovecs.
static void queue_frame(struct ws_conn *w, unsigned opcode, const uint8_t *payload, size_t n)
{
    size_t h = ws_frame_header_encode(w->frame_out, true, opcode, n);
    if (n <= WS_SMALL_FRAME - h) {
        sys_memcpy(w->frame_out + h, payload, n);
        net_send_init(&w->send, w->frame_out, h + n);
    } else {
        net_send_init(&w->send, w->frame_out, h);
        net_send_add(&w->send, payload, n);
    }
}

// The echo of the message in msg_buf: its header goes into the headroom
// right before it, and the frame leaves as one buffer.
static void queue_message(struct ws_conn *w, unsigned opcode)
{
    if (!w->msg_buf) // an empty message: no buffer was ever needed
        return queue_frame(w, opcode, NULL, 0);
    uint8_t hdr[WS_MSG_HEADROOM];
    size_t h = ws_frame_header_encode(hdr, true, opcode, w->msg_len);
    uint8_t *frame = w->msg_buf + WS_MSG_HEADROOM - h;
    sys_memcpy(frame, hdr, h);
    net_send_init(&w->send, frame, h + w->msg_len);
}

static void queue_close(struct ws_conn *w, uint16_t code)
{
    w->close_code = code ? code : WS_CLOSE_NORMAL;
    uint8_t payload[2] = {(uint8_t)(w->close_code >> 8), (uint8_t)w->close_code};
    if (code == WS_CLOSE_NO_STATUS) // the peer's close had no code: so has ours (5.5.1)
        queue_frame(w, WS_OP_CLOSE, payload, 0);
    else
        queue_frame(w, WS_OP_CLOSE, payload, 2);
}
// [end: ws-queue-frame]

// Before a wait for bytes, the message buffer goes back between messages
// (a message in progress keeps its bytes), as the lifecycle's read buffer
// does when every byte was consumed. An idle connection holds neither.
static void give_back_idle(struct ws_conn *w)
{
    if (w->msg_buf && w->msg_len == 0) {
        mem_free(w->msg_buf);
        w->msg_buf = NULL;
        w->msg_cap = 0;
    }
}

static bool grow_message(struct ws_conn *w, uint64_t need)
{
    if (need <= w->msg_cap)
        return true;
    // Up to the allocator's largest class, headroom and message together
    // fill 4 KiB, 8 KiB, ... 64 KiB: exact classes. Past it, blocks are
    // mapped by the page and the message alone doubles from 128 KiB, so a
    // 1 MiB message takes 1 MiB and a page, not 2 MiB.
    size_t cap = w->msg_cap ? w->msg_cap : 4096 - WS_MSG_HEADROOM;
    while (cap < need) {
        if (cap + WS_MSG_HEADROOM < MEM_CHUNK_SIZE)
            cap = 2 * cap + WS_MSG_HEADROOM;
        else
            cap = cap < 2 * MEM_CHUNK_SIZE ? 2 * MEM_CHUNK_SIZE : 2 * cap;
    }
    if (cap > WS_MAX_MESSAGE)
        cap = WS_MAX_MESSAGE;
    uint8_t *p = mem_realloc(w->msg_buf, WS_MSG_HEADROOM + cap);
    if (!p)
        return false;
    w->msg_buf = p;
    w->msg_cap = cap;
    return true;
}

enum step { STEP_NEED_MORE, STEP_EVENT, STEP_FAIL };

// [snippet: ws-step]
// Consumes buffered bytes until a frame is complete (STEP_EVENT with *ev),
// more bytes are needed, or the peer broke the protocol (STEP_FAIL with
// w->close_code set). No I/O here: the poll function does that.
static enum step step(struct ws_conn *w, struct ws_event *ev)
{
    struct http_lifecycle *l = w->life;
    if (!w->in_frame) {
        if (l->start == l->len) // also: no buffer at all
            return STEP_NEED_MORE;
        int r = ws_frame_parse((const uint8_t *)l->in + l->start, l->len - l->start, &w->frame);
        if (r == PARSE_NEED_MORE)
            return STEP_NEED_MORE;
        int rc = r == PARSE_ERROR ? w->frame.close_code : ws_msg_on_frame(&w->msg, &w->frame);
        if (rc) {
            w->close_code = (uint16_t)rc;
            return STEP_FAIL;
        }
        l->start += (size_t)r;
        w->in_frame = true;
        w->frame_done = 0;
    }
    uint64_t left = w->frame.payload_len - w->frame_done;
    size_t avail = l->len - l->start;
    size_t k = left < avail ? (size_t)left : avail;
    if (k) {
        uint8_t *p = (uint8_t *)l->in + l->start;
        ws_unmask(p, k, w->frame.mask, (size_t)w->frame_done);
        int rc = ws_msg_on_payload(&w->msg, p, k);
        if (rc) {
            w->close_code = (uint16_t)rc; // e.g. 1007 at the first invalid UTF-8 byte
            return STEP_FAIL;
        }
        if ((w->frame.opcode & 8) == 0) {
            // Grow as bytes arrive, not as headers announce: a header alone
            // must not make us reserve 16 MiB.
            if (!grow_message(w, w->msg_len + k)) {
                w->close_code = WS_CLOSE_TOO_BIG; // no memory for it now
                return STEP_FAIL;
            }
            sys_memcpy(w->msg_buf + WS_MSG_HEADROOM + w->msg_len, p, k);
            w->msg_len += k;
        }
        l->start += k;
        w->frame_done += k;
    }
    if (w->frame_done < w->frame.payload_len)
        return STEP_NEED_MORE;
    w->in_frame = false;
    int rc = ws_msg_on_frame_end(&w->msg, ev);
    if (rc) {
        w->close_code = (uint16_t)rc;
        return STEP_FAIL;
    }
    return STEP_EVENT;
}
// [end: ws-step]

// [snippet: ws-read]
// Reads more frame bytes through the lifecycle (within the deadline the
// poll set): READY with io_result > 0, 0 at end of stream, -ETIMEDOUT, or
// -errno; or READY with going_away set instead.
static poll_t ws_read(struct ws_conn *w, struct sched_cx *cx)
{
    // Idle and the server is stopping: tell the peer "going away".
    if (ex_stopping() && w->life->start == w->life->len && !w->in_frame)
        return w->going_away = true, READY;
    // The payload of a large frame streams through the read buffer, which
    // then grows to WS_BIG_READ: one recv where a pool buffer would take four.
    bool big = w->in_frame && w->frame.payload_len - w->frame_done > NET_BUF_SIZE;
    if (!http_lifecycle_room(w->life, big ? WS_BIG_READ : NET_BUF_SIZE))
        return w->io_result = -ENOMEM, READY;
    poll_t r = http_lifecycle_recv(w->life, &w->io_result, cx);
    if (r == PENDING || w->io_result <= 0)
        give_back_idle(w);
    return r;
}
// [end: ws-read]

// [snippet: ws-poll]
static poll_t ws_poll(void *state, struct sched_cx *cx)
{
    struct ws_conn *w = state;
    struct ws_event ev;
    enum step s; // assigned, not initialised: a resume must not jump over an initialiser
    ASYNC_BEGIN(w);
    for (;;) {
        s = step(w, &ev);
        if (s == STEP_FAIL)
            break;
        if (s == STEP_NEED_MORE) {
            if (w->restart_idle)
                http_deadline_in(&w->life->deadline, ws_settings.idle_timeout_ms, cx);
            w->restart_idle = false;
            AWAIT(w, ws_read(w, cx));
            if (w->going_away) {
                w->close_code = WS_CLOSE_GOING_AWAY;
                break;
            }
            if (w->io_result == -ETIMEDOUT) {
                // Silent for a whole period: one ping; silent for another: close.
                if (w->pinged) {
                    http_log("[WS] fd=%d idle: no answer to our ping", w->life->sock.io.fd);
                    w->close_code = WS_CLOSE_GOING_AWAY;
                    break;
                }
                w->pinged = true;
                queue_frame(w, WS_OP_PING, (const uint8_t *)WS_IDLE_PING, sizeof WS_IDLE_PING - 1);
                w->sent_kind = WS_EV_PONG; // nothing to clean up after it
            } else {
                if (w->io_result <= 0)
                    ASYNC_RETURN(w); // the peer vanished without a close frame
                w->pinged = false;   // any byte is a sign of life, a pong or not
                w->restart_idle = true;
                continue;
            }
        } else if (ev.kind == WS_EV_MESSAGE) {
            // Echo: the same opcode (text stays text), the whole message.
            queue_message(w, ev.opcode);
            http_metric_add(M_WS_MESSAGES, 1);
            w->sent_kind = WS_EV_MESSAGE;
        } else if (ev.kind == WS_EV_PING) {
            queue_frame(w, WS_OP_PONG, ev.data, ev.len);
            w->sent_kind = WS_EV_PING;
        } else if (ev.kind == WS_EV_CLOSE) {
            w->close_code = ev.close_code;
            queue_close(w, ev.close_code); // echo the code, then close TCP (5.5.1)
            http_deadline_in(&w->life->deadline, http_settings.send_timeout_ms, cx);
            AWAIT(w, http_lifecycle_send(w->life, &w->send, &w->io_result, cx));
            http_log("[WS] fd=%d closed by peer code=%u", w->life->sock.io.fd,
                     w->close_code); // not ev: a local, gone after the await
            ASYNC_RETURN(w);
        } else {
            continue; // a fragment or a pong: nothing to send
        }
        // Back-pressure: nothing more is read until this answer is sent, so
        // a peer that does not read its echoes stops being read too (its
        // frames wait in the kernel, and TCP slows the peer down), and the
        // connection holds one message at a time.
        http_deadline_in(&w->life->deadline, http_settings.send_timeout_ms, cx);
        AWAIT(w, http_lifecycle_send(w->life, &w->send, &w->io_result, cx));
        if (w->io_result < 0) {
            if (w->io_result == -ETIMEDOUT)
                http_log("[WS] fd=%d send timed out", w->life->sock.io.fd);
            ASYNC_RETURN(w); // a peer that does not read cannot read a close frame either
        }
        w->restart_idle = true;
        if (w->sent_kind == WS_EV_MESSAGE) {
            w->msg_len = 0;                 // only now: the echo was sent from msg_buf
            if (w->msg_cap > WS_KEEP_BUF) { // an idle connection keeps no peak-sized buffer
                mem_free(w->msg_buf);
                w->msg_buf = NULL;
                w->msg_cap = 0;
            }
        }
    }
    // We close: send our close frame, then wait a little for the peer's
    // close (or EOF) so that it reads our reason before the TCP close.
    http_log("[WS] fd=%d closing code=%u", w->life->sock.io.fd, w->close_code);
    queue_close(w, w->close_code);
    http_deadline_in(&w->life->deadline, http_settings.send_timeout_ms, cx);
    AWAIT(w, http_lifecycle_send(w->life, &w->send, &w->io_result, cx));
    if (w->io_result >= 0)
        AWAIT(w, http_lifecycle_linger(w->life, WS_CLOSE_LINGER_MS, cx));
    ASYNC_END(w);
}
// [end: ws-poll]

struct ws_settings ws_settings = {.idle_timeout_ms = WS_IDLE_TIMEOUT_MS};

// [snippet: ws-hook]
// The connection's lifecycle comes along as it is: its read buffer holds
// the frames the client pipelined behind the handshake, never copied, nor
// refused for their number.
static void *ws_open(struct http_lifecycle *life)
{
    struct ws_conn *w = mem_alloc(sizeof *w);
    if (!w)
        return NULL;
    sys_memset(w, 0, sizeof *w);
    w->life = life;
    w->restart_idle = true;
    ws_msg_init(&w->msg);
    http_metric_add(M_WS_OPENED, 1);
    http_log("[WS] fd=%d handshake complete", life->sock.io.fd);
    return w;
}

// Called by http_lifecycle_end after the socket is closed: a send cut short
// by the send timeout was still the kernel's until then, reading msg_buf
// (an echo) or frame_out. The read buffer is the lifecycle's to free.
static void ws_close(void *state)
{
    struct ws_conn *w = state;
    net_stream_check_quiet(&w->life->sock);
    mem_free(w->msg_buf);
    mem_free(w);
}

static const struct http_upgrade_hook ws_hook = {
    .path = HTTP_UPGRADE_PATH,
    .handshake = ws_handshake,
    .open = ws_open,
    .poll = ws_poll,
    .close = ws_close,
};

void ws_server_install(void) { http_set_upgrade_hook(&ws_hook); }
// [end: ws-hook]
