// ws_conn.c: a WebSocket connection after the 101: read frames, reassemble, echo, answer pings, close.
#include "config.h"
#include "exec/exec.h"
#include "http/http_log.h"
#include "http/http_metrics.h"
#include "http/http_server.h"
#include "mem/mem.h"
#include "net/net.h"
#include "sys/clock.h"
#include "sys/string.h"
#include "sys/sys.h"
#include "ws/ws_frame.h"
#include "ws/ws_handshake.h"
#include "ws/ws_message.h"
#include "ws/ws_server.h"

// [snippet: ws-conn-state]
struct ws_conn {
    int resume;
    struct net_stream *sock; // the HTTP connection's socket (HTTP closes it)
    // Received bytes: [start, len) of in not yet consumed. in is lent while
    // it holds bytes (a pool buffer, or HTTP's grown one handed over at the
    // upgrade: in_cap tells which), NULL while waiting for the next frame.
    uint8_t *in;
    size_t in_cap, start, len;
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
    // Every wait has a deadline: a send must finish within the send timeout,
    // a read within the idle timeout (then one ping, then close), the
    // linger after our close within WS_CLOSE_LINGER_MS. One timer serves all.
    struct ex_timer timer;
    uint64_t deadline;
    bool restart_idle; // bytes arrived or an answer went out: the idle clock starts again
    bool pinged;       // our idle ping is out and nothing came back yet
    bool timed_out;    // the current wait passed its deadline
};
// [end: ws-conn-state]

// An idle WebSocket connection holds this and HTTP's struct http_conn, and
// no buffer. Both must stay in small size classes of the allocator (448 and
// 384 bytes): with the task slot, under 1 KiB. test_ws_state prints them.
_Static_assert(sizeof(struct ws_conn) <= 448, "an idle WebSocket connection's state grew past 448 bytes");
const size_t ws_conn_state_size = sizeof(struct ws_conn);

#define WS_MSG_HEADROOM 10 // the longest frame header (RFC 6455 5.2)
_Static_assert(WS_BIG_READ != NET_BUF_SIZE, "in_cap tells a big read buffer from a pool buffer");
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

// Before a wait for bytes: what holds nothing goes back. The read buffer
// when every byte was consumed, the message buffer between messages (a
// message in progress keeps its bytes). An idle connection holds neither.
static void give_back_idle(struct ws_conn *w)
{
    if (w->in && w->start == w->len) {
        net_buf_release(w->in, w->in_cap);
        w->in = NULL;
        w->in_cap = w->start = w->len = 0;
    }
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
    if (!w->in_frame) {
        if (w->start == w->len) // also: no buffer at all
            return STEP_NEED_MORE;
        int r = ws_frame_parse(w->in + w->start, w->len - w->start, &w->frame);
        if (r == PARSE_NEED_MORE)
            return STEP_NEED_MORE;
        int rc = r == PARSE_ERROR ? w->frame.close_code : ws_msg_on_frame(&w->msg, &w->frame);
        if (rc) {
            w->close_code = (uint16_t)rc;
            return STEP_FAIL;
        }
        w->start += (size_t)r;
        w->in_frame = true;
        w->frame_done = 0;
    }
    uint64_t left = w->frame.payload_len - w->frame_done;
    size_t avail = w->len - w->start;
    size_t k = left < avail ? (size_t)left : avail;
    if (k) {
        uint8_t *p = w->in + w->start;
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
        w->start += k;
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

// [snippet: ws-deadline]
// Sets the deadline of the next wait. The timer is moved only when the new
// deadline is earlier than the armed one; one that fires early is re-armed
// in expired(). Returns false if the timer cannot be armed (EX_MAX_TIMERS in
// use): the caller then closes at once instead of waiting unbounded.
static bool set_deadline(struct ws_conn *w, uint64_t ms, struct sched_cx *cx)
{
    w->deadline = ex_now_ns() + ms * NS_PER_MS;
    if (w->timer.index < 0 || w->timer.deadline > w->deadline)
        return ex_timer_arm(&w->timer, w->deadline, cx->waker) == 0;
    return true;
}

// True once the deadline has passed, or if the timer (fired early for an
// older deadline) cannot be re-armed: a wait without a timer has no end.
static bool expired(struct ws_conn *w, struct sched_cx *cx)
{
    if (ex_now_ns() >= w->deadline)
        return w->timed_out = true;
    if (w->timer.index < 0 && ex_timer_arm(&w->timer, w->deadline, cx->waker) < 0)
        return w->timed_out = true;
    return false;
}

// Reads more frame bytes: READY with io_result > 0, 0 at end of stream, or
// -errno; or READY with timed_out or going_away set instead.
static poll_t ws_read(struct ws_conn *w, struct sched_cx *cx)
{
    // Idle and the server is stopping: tell the peer "going away".
    if (ex_stopping() && w->start == w->len && !w->in_frame)
        return w->going_away = true, READY;
    if (expired(w, cx))
        return READY;
    if (w->start == w->len)
        w->start = w->len = 0;
    else if (w->len == w->in_cap) { // keep the unconsumed tail, make room after it
        sys_memmove(w->in, w->in + w->start, w->len - w->start);
        w->len -= w->start;
        w->start = 0;
    }
    // As in HTTP: a buffer is taken just before the recv, and goes back at
    // once if the recv finds nothing and none of it holds a byte. The
    // payload of a large frame streams through it: that is read WS_BIG_READ
    // bytes at a time (one recv where a pool buffer would take four).
    bool big = w->in_frame && w->frame.payload_len - w->frame_done > NET_BUF_SIZE;
    if (!w->in || (big && w->in_cap == NET_BUF_SIZE && w->len == 0)) {
        uint8_t *in = big ? mem_alloc(WS_BIG_READ) : net_buf_take();
        if (in) {
            if (w->in)
                net_buf_release(w->in, w->in_cap);
            w->in = in;
            w->in_cap = big ? WS_BIG_READ : NET_BUF_SIZE;
        } else if (!w->in) {
            return w->io_result = -ENOMEM, READY;
        }
    }
    poll_t r = net_recv(w->sock, w->in + w->len, w->in_cap - w->len, &w->io_result, cx);
    if (r == PENDING || w->io_result <= 0)
        give_back_idle(w);
    else
        http_metric_add(M_BYTES_IN, (uint64_t)w->io_result);
    return r;
}

// Sends what queue_frame queued, within the send timeout: a peer that does
// not take our bytes in time gets -ETIMEDOUT (and the connection closes).
static poll_t ws_send(struct ws_conn *w, struct sched_cx *cx)
{
    if (expired(w, cx))
        return w->io_result = -ETIMEDOUT, READY;
    return net_send(w->sock, &w->send, &w->io_result, cx);
}
// [end: ws-deadline]

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
            if (w->restart_idle && !set_deadline(w, ws_settings.idle_timeout_ms, cx))
                ASYNC_RETURN(w); // no timer: close now rather than wait unbounded
            w->restart_idle = false;
            AWAIT(w, ws_read(w, cx));
            if (w->going_away) {
                w->close_code = WS_CLOSE_GOING_AWAY;
                break;
            }
            if (w->timed_out) {
                // Silent for a whole period: one ping; silent for another: close.
                w->timed_out = false;
                if (w->pinged) {
                    http_log("[WS] fd=%d idle: no answer to our ping", w->sock->io.fd);
                    w->close_code = WS_CLOSE_GOING_AWAY;
                    break;
                }
                w->pinged = true;
                queue_frame(w, WS_OP_PING, (const uint8_t *)WS_IDLE_PING, sizeof WS_IDLE_PING - 1);
                w->sent_kind = WS_EV_PONG; // nothing to clean up after it
            } else {
                if (w->io_result <= 0)
                    ASYNC_RETURN(w); // the peer vanished without a close frame
                w->len += (size_t)w->io_result;
                w->pinged = false; // any byte is a sign of life, a pong or not
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
            if (set_deadline(w, http_settings.send_timeout_ms, cx))
                AWAIT(w, ws_send(w, cx));
            http_log("[WS] fd=%d closed by peer code=%u", w->sock->io.fd,
                     w->close_code); // not ev: a local, gone after the await
            ASYNC_RETURN(w);
        } else {
            continue; // a fragment or a pong: nothing to send
        }
        // Back-pressure: nothing more is read until this answer is sent, so
        // a peer that does not read its echoes stops being read too (its
        // frames wait in the kernel, and TCP slows the peer down), and the
        // connection holds one message at a time.
        if (!set_deadline(w, http_settings.send_timeout_ms, cx))
            ASYNC_RETURN(w);
        AWAIT(w, ws_send(w, cx));
        if (w->io_result < 0) {
            if (w->io_result == -ETIMEDOUT)
                http_log("[WS] fd=%d send timed out", w->sock->io.fd);
            ASYNC_RETURN(w); // a peer that does not read cannot read a close frame either
        }
        http_metric_add(M_BYTES_OUT, (uint64_t)w->io_result);
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
    http_log("[WS] fd=%d closing code=%u", w->sock->io.fd, w->close_code);
    queue_close(w, w->close_code);
    if (!set_deadline(w, http_settings.send_timeout_ms, cx))
        ASYNC_RETURN(w);
    AWAIT(w, ws_send(w, cx));
    if (w->io_result < 0)
        ASYNC_RETURN(w);
    net_shutdown_write(w->sock);
    if (!set_deadline(w, WS_CLOSE_LINGER_MS, cx))
        ASYNC_RETURN(w);
    w->start = w->len = 0;
    if (!w->in) { // a sink for the bytes we drop
        w->in = net_buf_take();
        w->in_cap = NET_BUF_SIZE;
    }
    for (;;) {
        AWAIT(w, expired(w, cx) || !w->in ? (w->io_result = 0, READY)
                                          : net_recv(w->sock, w->in, w->in_cap, &w->io_result, cx));
        if (w->io_result <= 0)
            break;
    }
    ASYNC_END(w);
}
// [end: ws-poll]

struct ws_settings ws_settings = {.idle_timeout_ms = WS_IDLE_TIMEOUT_MS};

// [snippet: ws-hook]
// HTTP's read buffer comes along as it is: frames the client pipelined
// behind the handshake are never copied, nor refused for their number.
static void *ws_open(struct net_stream *sock, char *buf, size_t cap, size_t start, size_t len)
{
    struct ws_conn *w = mem_alloc(sizeof *w);
    if (!w) {
        if (buf)
            net_buf_release(buf, cap);
        return NULL;
    }
    sys_memset(w, 0, sizeof *w);
    w->sock = sock;
    w->in = (uint8_t *)buf;
    w->in_cap = cap;
    w->start = start;
    w->len = len;
    w->timer = (struct ex_timer)EX_TIMER_INIT;
    w->restart_idle = true;
    ws_msg_init(&w->msg);
    http_metric_add(M_WS_OPENED, 1);
    http_log("[WS] fd=%d handshake complete", sock->io.fd);
    return w;
}

// Runs after HTTP's net_close: a send cut short by the send timeout was
// still the kernel's until then, reading msg_buf (an echo) or frame_out.
static void ws_close(void *state)
{
    struct ws_conn *w = state;
    net_stream_check_quiet(w->sock);
    ex_timer_cancel(&w->timer);
    mem_free(w->msg_buf);
    if (w->in)
        net_buf_release(w->in, w->in_cap);
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
