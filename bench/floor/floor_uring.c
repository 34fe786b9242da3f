// floor_uring.c: the least an HTTP/1.1 responder can do per request with io_uring (hosted C, liburing).
//
//   floor_uring [IPV4] PORT
//
// One thread, one ring (IORING_SETUP_SINGLE_ISSUER | DEFER_TASKRUN where
// the kernel takes them), one io_uring_submit_and_wait per turn. One
// multishot accept; one multishot recv per connection into buffers the
// kernel picks from a provided-buffer ring; after the turn's completions,
// one send per connection that answers every complete request head it
// received with our server's /plaintext response. Connection: close is
// answered, then the recv is cancelled and the socket closed through the
// ring; EOF closes it too. Same counting and answers as floor_epoll.c.
#define _GNU_SOURCE
#include "common.h"

#include <errno.h>
#include <liburing.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#define NAME       "floor_uring"
#define SQ_ENTRIES 4096
#define CQ_ENTRIES 16384 // multishot requests post many completions per submission
#define NBUFS      4096  // provided buffers (a power of two)
#define BUF_SIZE   2048
#define BGID       0

// user_data: the operation in the low byte, the fd and the fd's generation
// above it, so that a completion of a closed connection whose fd number was
// reused is recognised as stale.
enum { OP_ACCEPT = 1, OP_RECV, OP_SEND, OP_CLOSE, OP_CANCEL };
#define UD(op, fd, gen) ((uint64_t)(op) | (uint64_t)(uint32_t)(fd) << 8 | (uint64_t)(gen) << 40)
#define UD_OP(u)        ((int)((u)&0x0f))
#define UD_TABLE(u)     ((int)((u) >> 4 & 1)) // which answer table a send reads
#define UD_FD(u)        ((int)((u) >> 8 & 0xffffffff))
#define UD_GEN(u)       ((uint32_t)((u) >> 40))

struct conn {
    uint32_t gen;   // bumped when the connection closes: its late completions are stale
    int open;       // accepted and not yet closing
    int recv_armed; // a multishot recv is pending
    int sending;    // a send is in flight: the next waits for it (sends must not overtake)
    int dirty;      // on the dirty list
    unsigned owed;  // keep-alive responses owed
    int close_owed; // a Connection: close response is owed after them
    int eof;        // the peer sent EOF: close once what is owed is sent
    size_t len;     // bytes of an unfinished request head in carry
    char *carry;    // FLOOR_HEAD_MAX bytes, allocated on first use
};

static struct io_uring ring;
static struct io_uring_buf_ring *br;
static char *bufs;
static unsigned bufs_returned; // buffers given back to br this turn
static struct conn *conns;     // indexed by fd
static int nconns;
static int *dirty; // fds with responses owed, answered after the turn's completions
static int ndirty;
// Two answer tables: a send reads its table until it completes, so the Date
// is rewritten only in a table no send is reading.
static struct floor_answers answers[2];
static unsigned reading[2];
static int cur;

static struct io_uring_sqe *sqe_get(void)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
    while (!sqe) { // the SQ is full: hand it to the kernel and retry
        io_uring_submit(&ring);
        sqe = io_uring_get_sqe(&ring);
    }
    return sqe;
}

static void arm_accept(int lfd)
{
    struct io_uring_sqe *sqe = sqe_get();
    io_uring_prep_multishot_accept(sqe, lfd, NULL, NULL, SOCK_CLOEXEC);
    io_uring_sqe_set_data64(sqe, UD(OP_ACCEPT, lfd, 0));
}

static void arm_recv(int fd)
{
    struct io_uring_sqe *sqe = sqe_get();
    io_uring_prep_recv_multishot(sqe, fd, NULL, 0, 0);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = BGID;
    io_uring_sqe_set_data64(sqe, UD(OP_RECV, fd, conns[fd].gen));
    conns[fd].recv_armed = 1;
}

// The pending multishot recv holds the socket open after a close: cancel it.
static void cancel_recv(int fd)
{
    struct conn *c = &conns[fd];
    if (c->recv_armed) {
        struct io_uring_sqe *sqe = sqe_get();
        io_uring_prep_cancel64(sqe, UD(OP_RECV, fd, c->gen), 0);
        io_uring_sqe_set_data64(sqe, UD(OP_CANCEL, fd, c->gen));
        c->recv_armed = 0;
    }
}

// Closes the fd through the ring; from here on the connection's completions are stale.
static void conn_close(int fd)
{
    struct conn *c = &conns[fd];
    cancel_recv(fd);
    struct io_uring_sqe *sqe = sqe_get();
    io_uring_prep_close(sqe, fd);
    io_uring_sqe_set_data64(sqe, UD(OP_CLOSE, fd, c->gen));
    c->gen++;
    c->open = c->sending = 0;
    c->owed = c->close_owed = c->eof = 0;
    c->len = 0;
}

static void mark_dirty(int fd)
{
    if (!conns[fd].dirty) {
        conns[fd].dirty = 1;
        dirty[ndirty++] = fd;
    }
}

// Counts the heads in data[0..n), after what carry holds of an unfinished one.
static void conn_data(int fd, const char *data, size_t n)
{
    struct conn *c = &conns[fd];
    // What follows a Connection: close request is not answered.
    while (n && c->open && !c->close_owed) {
        const char *p = data;
        size_t m = n, pn = n;
        if (c->len) {
            m = n < FLOOR_HEAD_MAX - c->len ? n : FLOOR_HEAD_MAX - c->len;
            memcpy(c->carry + c->len, data, m);
            p = c->carry;
            pn = c->len + m;
        }
        unsigned reqs;
        int close;
        size_t used = floor_scan(p, pn, &reqs, &close);
        c->owed += reqs - (unsigned)close;
        c->close_owed = close;
        if (reqs)
            mark_dirty(fd);
        size_t rest = close ? 0 : pn - used;
        if (rest == FLOOR_HEAD_MAX || (rest && !c->carry && !(c->carry = malloc(FLOOR_HEAD_MAX)))) {
            conn_close(fd); // a head longer than FLOOR_HEAD_MAX
            return;
        }
        if (rest)
            memmove(c->carry, p + used, rest);
        c->len = rest;
        data += m;
        n -= m;
    }
}

// One send with every response owed (up to FLOOR_MAX_PIPELINE); the close
// follows it through a hard link, so it runs even if the send fails.
static void conn_flush(int fd)
{
    struct conn *c = &conns[fd];
    c->dirty = 0;
    if (!c->open || c->sending)
        return;
    if (!c->owed && !c->close_owed) {
        if (c->eof)
            conn_close(fd);
        return;
    }
    int last = c->close_owed && c->owed < FLOOR_MAX_PIPELINE;
    unsigned n = last || c->owed < FLOOR_MAX_PIPELINE ? c->owed : FLOOR_MAX_PIPELINE;
    int closing = last || (c->eof && n == c->owed);
    size_t len;
    const char *p = floor_answers_span(&answers[cur], n, last, &len);
    if (closing)
        cancel_recv(fd); // before the send: the close is linked to it
    struct io_uring_sqe *sqe = sqe_get();
    // MSG_WAITALL: the kernel retries a short send itself.
    io_uring_prep_send(sqe, fd, p, len, MSG_WAITALL | MSG_NOSIGNAL);
    io_uring_sqe_set_data64(sqe, UD(OP_SEND | cur << 4, fd, c->gen));
    reading[cur]++;
    c->owed -= n;
    c->sending = 1;
    if (closing) {
        sqe->flags |= IOSQE_IO_HARDLINK;
        conn_close(fd);
    }
}

static void on_cqe(struct io_uring_cqe *cqe, int lfd)
{
    uint64_t u = io_uring_cqe_get_data64(cqe);
    int op = UD_OP(u), fd = UD_FD(u), more = cqe->flags & IORING_CQE_F_MORE;
    if (op == OP_RECV && (cqe->flags & IORING_CQE_F_BUFFER)) {
        // Whatever happens to the connection, the buffer goes back to the ring.
        unsigned bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
        char *data = bufs + (size_t)bid * BUF_SIZE;
        if (conns[fd].open && conns[fd].gen == UD_GEN(u) && cqe->res > 0)
            conn_data(fd, data, (size_t)cqe->res);
        io_uring_buf_ring_add(br, data, BUF_SIZE, (unsigned short)bid, io_uring_buf_ring_mask(NBUFS),
                              (int)bufs_returned++);
        if (conns[fd].open && conns[fd].gen == UD_GEN(u) && !more) {
            conns[fd].recv_armed = 0;
            arm_recv(fd); // it stopped (e.g. on a full CQ): rearm
        }
        return;
    }
    if (op == OP_SEND)
        reading[UD_TABLE(u)]--;
    if (op == OP_ACCEPT) {
        if (cqe->res >= 0 && cqe->res < nconns) {
            struct conn *c = &conns[cqe->res];
            c->open = 1;
            arm_recv(cqe->res);
        } else if (cqe->res >= 0) {
            close(cqe->res); // beyond the fd table: refuse
        }
        if (cqe->res == -EINVAL) { // a kernel before 5.19: rearming would spin
            fprintf(stderr, "%s: multishot accept refused: %s\n", NAME, strerror(EINVAL));
            exit(1);
        }
        if (!more)
            arm_accept(lfd);
        return;
    }
    if (op == OP_CLOSE || op == OP_CANCEL || !conns[fd].open || conns[fd].gen != UD_GEN(u))
        return; // stale: the connection is closed or closing
    struct conn *c = &conns[fd];
    if (op == OP_RECV) { // the recv ended without data: EOF, an error, or out of buffers
        c->recv_armed = more;
        if (more)
            return;
        if (cqe->res == -ENOBUFS) {
            arm_recv(fd);
        } else if (cqe->res == 0 && (c->owed || c->close_owed || c->sending)) {
            c->eof = 1; // a half-close: answer what was asked first
            mark_dirty(fd);
        } else {
            conn_close(fd);
        }
    } else if (op == OP_SEND) {
        c->sending = 0;
        if (cqe->res < 0)
            conn_close(fd);
        else if (c->owed || c->close_owed || c->eof)
            mark_dirty(fd);
    }
}

static int setup_ring(void)
{
    struct io_uring_params p = {.flags = IORING_SETUP_CQSIZE | IORING_SETUP_SINGLE_ISSUER |
                                         IORING_SETUP_DEFER_TASKRUN,
                                .cq_entries = CQ_ENTRIES};
    int r = io_uring_queue_init_params(SQ_ENTRIES, &ring, &p);
    if (r == -EINVAL) { // a kernel before 6.1 refuses the two flags
        memset(&p, 0, sizeof p);
        p.flags = IORING_SETUP_CQSIZE;
        p.cq_entries = CQ_ENTRIES;
        r = io_uring_queue_init_params(SQ_ENTRIES, &ring, &p);
    }
    if (r < 0) {
        fprintf(stderr, "%s: io_uring_queue_init: %s\n", NAME, strerror(-r));
        return r;
    }
    size_t ring_bytes = NBUFS * sizeof(struct io_uring_buf);
    br = mmap(NULL, ring_bytes, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
    bufs = malloc((size_t)NBUFS * BUF_SIZE);
    if (br == MAP_FAILED || !bufs) {
        fprintf(stderr, "%s: out of memory for the buffer ring\n", NAME);
        return -ENOMEM;
    }
    io_uring_buf_ring_init(br);
    struct io_uring_buf_reg reg = {.ring_addr = (unsigned long)br, .ring_entries = NBUFS, .bgid = BGID};
    r = io_uring_register_buf_ring(&ring, &reg, 0);
    if (r < 0) {
        fprintf(stderr, "%s: io_uring_register_buf_ring: %s (a kernel before 5.19?)\n", NAME, strerror(-r));
        return r;
    }
    for (unsigned i = 0; i < NBUFS; i++)
        io_uring_buf_ring_add(br, bufs + (size_t)i * BUF_SIZE, BUF_SIZE, (unsigned short)i,
                              io_uring_buf_ring_mask(NBUFS), (int)i);
    io_uring_buf_ring_advance(br, NBUFS);
    return 0;
}

int main(int argc, char **argv)
{
    struct floor_addr a;
    floor_args(argc, argv, NAME, &a);
    // Blocking: io_uring waits on it; a non-blocking listener would make accept fail with EAGAIN.
    int lfd = floor_listen(NAME, &a, 0);
    floor_signals();
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    nconns = rl.rlim_cur > 1 << 20 ? 1 << 20 : (int)rl.rlim_cur;
    conns = calloc((size_t)nconns, sizeof *conns);
    dirty = calloc((size_t)nconns, sizeof *dirty);
    if (!conns || !dirty || setup_ring() < 0)
        return 1;
    floor_answers_init(&answers[0], "floor-uring", time(NULL));
    floor_answers_init(&answers[1], "floor-uring", time(NULL));
    arm_accept(lfd);
    printf("%s: listening on http://%s:%d/\n", NAME, a.ip, a.port);
    fflush(stdout);
    while (!floor_stop) {
        int r = io_uring_submit_and_wait(&ring, 1);
        if (r < 0 && r != -EINTR && r != -EAGAIN && r != -EBUSY) {
            fprintf(stderr, "%s: io_uring_submit_and_wait: %s\n", NAME, strerror(-r));
            return 1;
        }
        time_t now = time(NULL);
        if (now != answers[cur].second && !reading[cur ^ 1]) {
            floor_answers_date(&answers[cur ^ 1], now);
            cur ^= 1;
        }
        struct io_uring_cqe *cqe;
        unsigned head, seen = 0;
        io_uring_for_each_cqe(&ring, head, cqe)
        {
            on_cqe(cqe, lfd);
            seen++;
        }
        io_uring_cq_advance(&ring, seen);
        io_uring_buf_ring_advance(br, (int)bufs_returned);
        bufs_returned = 0;
        for (int i = 0; i < ndirty; i++)
            conn_flush(dirty[i]);
        ndirty = 0;
    }
    printf("%s: stopped\n", NAME);
    return 0;
}
