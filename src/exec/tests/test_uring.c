// test_uring.c: stage-4 tests of the io_uring rings and of the backend on a full ring.
#include "exec/completion.h"
#include "exec/exec.h"
#include "exec/tests/exec_testing.h"
#include "exec/uring.h"
#include "sys/atomic.h"
#include "sys/clock.h"
#include "sys/fmt.h"
#include "sys/string.h"
#include "sys/sys.h"
#include "sys/testing.h"

#define WAIT_LIMIT_NS (5 * NS_PER_SEC) // no case waits longer for a completion it expects
#define BACKEND_OPS                                                                         \
    IORING_OP_RECV, IORING_OP_SEND, IORING_OP_SENDMSG, IORING_OP_ACCEPT, IORING_OP_TIMEOUT, \
        IORING_OP_ASYNC_CANCEL, IORING_OP_CLOSE

static struct uring ring;

// Opens the test's ring, or marks the case skipped with the kernel's reason.
static bool open_ring(uint32_t sq, uint32_t cq)
{
    struct uring_config cfg = {.sq_entries = sq, .cq_entries = cq};
    int err = uring_init(&ring, &cfg);
    if (err < 0) {
        char why[160];
        SKIP("%s", uring_explain(err, why, sizeof why));
        return false;
    }
    return true;
}

// Registers a buffer group, or marks the case skipped if the kernel has no buffer rings.
static bool open_buf_ring(struct uring_buf_ring *b, uint16_t bgid, uint32_t count, uint32_t size)
{
    int err = uring_buf_ring_init(&ring, b, bgid, count, count, size);
    if (err == -EINVAL) {
        SKIP("kernel lacks IORING_REGISTER_PBUF_RING (Linux 5.19)");
        return false;
    }
    CHECK_EQ(err, 0);
    return err == 0;
}

static void queue_or_fail(struct io_uring_sqe *s)
{
    CHECK(s != NULL);
    if (s)
        uring_queue(&ring, s);
}

// Submits what is queued and gathers CQEs until want arrived or the limit passed; returns how many.
static uint32_t wait_cqes(struct io_uring_cqe *out, uint32_t want)
{
    uint32_t got = 0;
    uint64_t deadline = sys_now_ns() + WAIT_LIMIT_NS;
    while (got < want) {
        uint64_t now = sys_now_ns();
        if (now >= deadline)
            break;
        int r = uring_submit_and_wait(&ring, 1, (int64_t)(deadline - now));
        if (r < 0 && r != -EBUSY) {
            CHECK_EQ(r, 0);
            break;
        }
        got += uring_reap(&ring, out + got, want - got);
    }
    return got;
}

static void pair(int fds[2]) { CHECK_EQ(sys_socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0); }

// ---- the rings ------------------------------------------------------------------------

// The free-running indices and their masks where the 32-bit counters wrap.
static void index_arithmetic_across_uint32_wrap(void)
{
    CHECK_EQ(uring_ring_count(UINT32_MAX - 1, 2), 4); // head before the wrap, tail after
    CHECK_EQ(uring_ring_count(UINT32_MAX, UINT32_MAX), 0);
    CHECK(uring_ring_full(UINT32_MAX - 3, 0, 4));
    CHECK(!uring_ring_full(UINT32_MAX - 2, 0, 4));
    CHECK(!uring_ring_full(UINT32_MAX, UINT32_MAX, 4));
    CHECK_EQ(uring_ring_slot(UINT32_MAX, 3), 3);
    CHECK_EQ(uring_ring_slot(UINT32_MAX + 1u, 3), 0); // the slot after the last wraps to 0
    CHECK_EQ(uring_ring_slot(0xfffffffeu, 7), 6);
    // The buffer ring's tail is 16 bits: its count wraps the same way.
    uint16_t head = 65534, tail = 2;
    CHECK_EQ((uint16_t)(tail - head), 4);
}

// The names of the setup flags the kernel kept, for the transcript: a
// chapter that names them shows them from here, not from a number in prose.
static void print_setup_flags(uint32_t flags)
{
    static const struct {
        uint32_t bit;
        const char *name;
    } names[] = {{IORING_SETUP_CQSIZE, "CQSIZE"},
                 {IORING_SETUP_CLAMP, "CLAMP"},
                 {IORING_SETUP_SUBMIT_ALL, "SUBMIT_ALL"},
                 {IORING_SETUP_COOP_TASKRUN, "COOP_TASKRUN"},
                 {IORING_SETUP_TASKRUN_FLAG, "TASKRUN_FLAG"},
                 {IORING_SETUP_SINGLE_ISSUER, "SINGLE_ISSUER"},
                 {IORING_SETUP_DEFER_TASKRUN, "DEFER_TASKRUN"}};
    const char *sep = "";
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (flags & names[i].bit) {
            sys_printf("%s%s", sep, names[i].name);
            sep = " ";
            flags &= ~names[i].bit;
        }
    }
    if (flags)
        sys_printf("%s0x%x", sep, flags);
}

// A 4-entry SQ and 8-entry CQ driven through 20,000 NOPs: both masks wrap 2,500 to 5,000 times.
static void nops_wrap_the_rings_many_times(void)
{
    if (!open_ring(4, 8))
        return;
    sys_printf("# io_uring: sq %u, cq %u, features 0x%x, setup flags 0x%x (", ring.sq_entries,
               ring.cq_entries, ring.features, ring.flags);
    print_setup_flags(ring.flags);
    sys_printf(")\n");
    CHECK_EQ(ring.sq_entries, 4);
    CHECK_EQ(ring.cq_entries, 8);
    uint64_t next = 0, expect = 0;
    const uint64_t total = 20000;
    while (expect < total && !test_case_failed) {
        uint32_t got = 0;
        struct io_uring_sqe *s;
        while (next < total && (s = uring_get_sqe(&ring)) != NULL) {
            uring_prep_nop(s, next++);
            uring_queue(&ring, s);
            got++;
        }
        CHECK(got > 0 || next == total);
        CHECK(got <= 4); // the fifth get of a turn must say "full"
        struct io_uring_cqe cqes[8];
        uint32_t n = wait_cqes(cqes, got);
        CHECK_EQ(n, got);
        for (uint32_t i = 0; i < n; i++) {
            CHECK_EQ(cqes[i].user_data, expect); // NOPs complete in submission order
            CHECK_EQ(cqes[i].res, 0);
            expect++;
        }
        if (n == 0)
            break;
    }
    CHECK_EQ(expect, total);
    CHECK_EQ(atomic_load_acquire(ring.sq_head), (uint32_t)total);
    CHECK_EQ(atomic_load_acquire(ring.cq_tail), (uint32_t)total);
    CHECK_EQ(uring_cq_dropped(&ring), 0);
    uring_close(&ring);
}

// More NOPs than the CQ holds, none reaped: with FEAT_NODROP each one still arrives, once.
static void cq_overflow_loses_nothing(void)
{
    if (!open_ring(4, 8))
        return;
    if (!(ring.features & IORING_FEAT_NODROP)) {
        SKIP("kernel lacks IORING_FEAT_NODROP (Linux 5.5)");
        uring_close(&ring);
        return;
    }
    enum { TOTAL = 40 };
    uint8_t seen[TOTAL] = {0};
    uint32_t reaped = 0, busy = 0;
    bool overflowed = false;
    struct io_uring_cqe cqes[TOTAL];
    for (uint64_t id = 0; id < TOTAL;) {
        struct io_uring_sqe *s = uring_get_sqe(&ring);
        if (s) {
            uring_prep_nop(s, id++);
            uring_queue(&ring, s);
            continue;
        }
        int r = uring_submit_and_wait(&ring, 0, 0); // submit, do not reap
        overflowed |= uring_cq_overflowed(&ring);
        if (r == -EBUSY) {
            // The kernel holds completions it cannot post: make room.
            busy++;
            reaped += uring_reap(&ring, cqes + reaped, TOTAL - reaped);
            continue;
        }
        CHECK(r >= 0);
        if (r < 0)
            break;
    }
    uring_submit_and_wait(&ring, 0, 0);
    overflowed |= uring_cq_overflowed(&ring);
    CHECK(overflowed); // 40 completions, 8 slots: the kernel kept the rest aside
    // Reaping frees slots; each enter with GETEVENTS moves held completions in.
    uint64_t deadline = sys_now_ns() + WAIT_LIMIT_NS;
    while (reaped < TOTAL && sys_now_ns() < deadline) {
        reaped += uring_reap(&ring, cqes + reaped, TOTAL - reaped);
        if (reaped < TOTAL)
            uring_submit_and_wait(&ring, 0, 0);
    }
    CHECK_EQ(reaped, TOTAL);
    for (uint32_t i = 0; i < reaped; i++) {
        CHECK(cqes[i].user_data < TOTAL);
        if (cqes[i].user_data < TOTAL)
            seen[cqes[i].user_data]++;
    }
    for (int i = 0; i < TOTAL; i++)
        CHECK_EQ(seen[i], 1);
    CHECK(!uring_cq_overflowed(&ring));
    CHECK_EQ(uring_cq_dropped(&ring), 0);
    sys_printf("# cq overflow: %d NOPs through an 8-entry CQ, %u -EBUSY, none dropped\n", TOTAL, busy);
    uring_close(&ring);
}

// The probe finds the backend's opcodes; an opcode no kernel has is named in the reason.
static void probe_finds_backend_opcodes(void)
{
    if (!open_ring(4, 8))
        return;
    static const uint8_t ops[] = {BACKEND_OPS};
    char why[160] = "";
    int r = uring_check(&ring, ops, (int)sizeof ops, why, sizeof why);
    if (r == -EOPNOTSUPP) {
        SKIP("%s", why);
        uring_close(&ring);
        return;
    }
    CHECK_EQ(r, 0);
    static const uint8_t bogus[] = {IORING_OP_NOP, 250};
    CHECK_EQ(uring_check(&ring, bogus, 2, why, sizeof why), -EOPNOTSUPP);
    CHECK(test_contains(why, "kernel lacks IORING_OP_?"));
    uring_close(&ring);
}

// Each way io_uring can be refused has a sentence.
static void refusals_have_reasons(void)
{
    char why[160];
    CHECK(test_contains(uring_explain(-ENOSYS, why, sizeof why), "no io_uring"));
    CHECK(test_contains(uring_explain(-EPERM, why, sizeof why), "io_uring"));
    CHECK(test_contains(uring_explain(-ENOMEM, why, sizeof why), "RLIMIT_MEMLOCK"));
    why[0] = '\0';
    CHECK(test_contains(uring_explain(-EINVAL, why, sizeof why), "EINVAL"));
}

// ---- operations -------------------------------------------------------------------

// A TIMEOUT completes with -ETIME, no earlier than asked.
static void timeout_completes_with_etime(void)
{
    if (!open_ring(4, 8))
        return;
    struct timespec ts = {0, 20 * (long)NS_PER_MS};
    uint64_t t0 = sys_now_ns();
    struct io_uring_sqe *s = uring_get_sqe(&ring);
    uring_prep_timeout(s, &ts, 7);
    queue_or_fail(s);
    struct io_uring_cqe c;
    CHECK_EQ(wait_cqes(&c, 1), 1);
    uint64_t took = sys_now_ns() - t0;
    CHECK_EQ(c.user_data, 7);
    CHECK_EQ(c.res, -ETIME);
    CHECK(took >= 20 * NS_PER_MS);
    uring_close(&ring);
}

// io_uring_enter with EXT_ARG waits no longer than its timeout when nothing completes.
static void enter_timeout_via_ext_arg(void)
{
    if (!open_ring(4, 8))
        return;
    if (!(ring.features & IORING_FEAT_EXT_ARG)) {
        SKIP("kernel lacks IORING_FEAT_EXT_ARG (Linux 5.11)");
        uring_close(&ring);
        return;
    }
    uint64_t t0 = sys_now_ns();
    CHECK_EQ(uring_submit_and_wait(&ring, 1, 30 * (int64_t)NS_PER_MS), 0);
    uint64_t took = sys_now_ns() - t0;
    CHECK(took >= 30 * NS_PER_MS);
    CHECK(took < 2 * NS_PER_SEC);
    CHECK_EQ(uring_cq_ready(&ring), 0);
    uring_close(&ring);
}

// The second half of the case below: with both buffers taken, a recv gets
// -ENOBUFS; giving one back lets the next recv succeed in it.
static void exhaust_then_recycle(struct uring_buf_ring *b, int rx, int tx, uint16_t bid)
{
    struct io_uring_cqe c;
    // Both buffers are ours now: the kernel has none to give.
    CHECK_EQ(sys_write(tx, "third", 5), 5);
    struct io_uring_sqe *s = uring_get_sqe(&ring);
    uring_prep_recv(s, rx, NULL, 0, b->bgid, false, 102);
    queue_or_fail(s);
    CHECK_EQ(wait_cqes(&c, 1), 1);
    CHECK_EQ(c.res, -ENOBUFS);
    CHECK_EQ(uring_cqe_buffer(&c), -1);
    // Give one back; the bytes still wait in the socket.
    uring_buf_ring_add(b, bid);
    s = uring_get_sqe(&ring);
    uring_prep_recv(s, rx, NULL, 0, b->bgid, false, 103);
    queue_or_fail(s);
    CHECK_EQ(wait_cqes(&c, 1), 1);
    CHECK_EQ(c.res, 5);
    CHECK_EQ(uring_cqe_buffer(&c), bid);
    CHECK(sys_memcmp(uring_buf_addr(b, bid), "third", 5) == 0);
}

// Two buffers: two recvs take them, the third gets -ENOBUFS, a recycled one serves the next.
static void buffer_ring_exhaustion_and_recycling(void)
{
    if (!open_ring(4, 8))
        return;
    struct uring_buf_ring b;
    if (!open_buf_ring(&b, 1, 2, 64)) {
        uring_close(&ring);
        return;
    }
    int fds[2];
    pair(fds);
    int bids[2] = {-1, -1};
    struct io_uring_cqe c;
    for (int i = 0; i < 2; i++) {
        char msg[8] = "msg-0";
        msg[4] = (char)('0' + i);
        CHECK_EQ(sys_write(fds[1], msg, 5), 5);
        struct io_uring_sqe *s = uring_get_sqe(&ring);
        uring_prep_recv(s, fds[0], NULL, 0, b.bgid, false, 100 + (uint64_t)i);
        queue_or_fail(s);
        CHECK_EQ(wait_cqes(&c, 1), 1);
        CHECK_EQ(c.res, 5);
        bids[i] = uring_cqe_buffer(&c);
        CHECK(bids[i] >= 0 && bids[i] < 2);
        if (bids[i] >= 0)
            CHECK(sys_memcmp(uring_buf_addr(&b, (uint16_t)bids[i]), msg, 5) == 0);
    }
    CHECK(bids[0] != bids[1]);
    if (bids[0] >= 0 && bids[1] >= 0) // else reported above; recycling an id never got would be wild
        exhaust_then_recycle(&b, fds[0], fds[1], (uint16_t)bids[0]);
    sys_close(fds[0]);
    sys_close(fds[1]);
    uring_buf_ring_free(&ring, &b);
    uring_close(&ring);
}

// One multishot RECV, 50 messages through 4 recycled buffers, every CQE flagged MORE.
static void multishot_recv_keeps_delivering(void)
{
    if (!open_ring(4, 16))
        return;
    struct uring_buf_ring b;
    if (!open_buf_ring(&b, 2, 4, 64)) {
        uring_close(&ring);
        return;
    }
    int fds[2];
    pair(fds);
    struct io_uring_sqe *s = uring_get_sqe(&ring);
    uring_prep_recv(s, fds[0], NULL, 0, b.bgid, true, 42);
    queue_or_fail(s);
    int delivered = 0;
    for (int i = 0; i < 50 && !test_case_failed; i++) {
        char msg[16];
        size_t len = sys_snprintf(msg, sizeof msg, "message %d", i);
        CHECK_EQ(sys_write(fds[1], msg, len), (long)len);
        struct io_uring_cqe c;
        CHECK_EQ(wait_cqes(&c, 1), 1);
        if (c.res == -EINVAL && i == 0) {
            SKIP("kernel lacks IORING_OP_RECV multishot (Linux 6.0)");
            break;
        }
        CHECK_EQ(c.user_data, 42);
        CHECK_EQ(c.res, (long)len);
        CHECK(c.flags & IORING_CQE_F_MORE); // still armed
        int bid = uring_cqe_buffer(&c);
        CHECK(bid >= 0 && bid < 4);
        if (bid < 0 || c.res != (int)len)
            break;
        CHECK(sys_memcmp(uring_buf_addr(&b, (uint16_t)bid), msg, len) == 0);
        uring_buf_ring_add(&b, (uint16_t)bid); // recycle: 50 messages, 4 buffers
        delivered++;
    }
    if (!test_case_skipped)
        CHECK_EQ(delivered, 50);
    // Closing the peer ends the multishot recv: a 0-byte CQE without MORE.
    sys_close(fds[1]);
    if (!test_case_skipped) {
        struct io_uring_cqe c;
        CHECK_EQ(wait_cqes(&c, 1), 1);
        CHECK_EQ(c.res, 0);
        CHECK(!(c.flags & IORING_CQE_F_MORE));
    }
    sys_close(fds[0]);
    uring_buf_ring_free(&ring, &b);
    uring_close(&ring);
}

// A 256 KiB SEND into a small socket buffer completes in parts; resubmitting the rest delivers every byte in
// order.
static void send_partial_sends_accounted(void)
{
    if (!open_ring(4, 8))
        return;
    enum { TOTAL = 256 * 1024 };
    static uint8_t out[TOTAL], in[TOTAL];
    for (int i = 0; i < TOTAL; i++)
        out[i] = (uint8_t)(i * 7 + (i >> 10));
    int fds[2];
    pair(fds);
    int small = 4096;
    sys_setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    uint32_t sent = 0, received = 0, sends = 0;
    bool in_flight = false;
    uint64_t deadline = sys_now_ns() + 10 * NS_PER_SEC;
    while (received < TOTAL && sys_now_ns() < deadline && !test_case_failed) {
        if (!in_flight && sent < TOTAL) {
            struct io_uring_sqe *s = uring_get_sqe(&ring);
            uring_prep_send(s, fds[0], out + sent, TOTAL - sent, MSG_NOSIGNAL, 9);
            queue_or_fail(s);
            in_flight = true;
        }
        CHECK(uring_submit_and_wait(&ring, 1, 2 * (int64_t)NS_PER_MS) >= 0);
        struct io_uring_cqe c;
        while (uring_reap(&ring, &c, 1) == 1) {
            CHECK_EQ(c.user_data, 9);
            CHECK(c.res > 0); // a send of a partial count is a result, not an error
            if (c.res > 0)
                sent += (uint32_t)c.res;
            sends++;
            in_flight = false;
        }
        ssize_t n;
        while ((n = sys_recv(fds[1], in + received, TOTAL - received, MSG_DONTWAIT)) > 0)
            received += (uint32_t)n;
    }
    CHECK_EQ(sent, TOTAL);
    CHECK_EQ(received, TOTAL);
    CHECK(sends > 1); // the socket buffer held far less than 256 KiB: at least one partial send
    CHECK(sys_memcmp(in, out, TOTAL) == 0);
    sys_printf("# send: %d bytes in %u SEND completions\n", TOTAL, sends);
    sys_close(fds[0]);
    sys_close(fds[1]);
    uring_close(&ring);
}

static int listen_loopback(uint16_t *port)
{
    int fd = sys_socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr = 0x0100007f}; // 127.0.0.1, port 0: any
    if (fd < 0 || sys_bind(fd, &sa, sizeof sa) < 0 || sys_listen(fd, 16) < 0)
        return -1;
    unsigned len = sizeof sa;
    sys_getsockname(fd, &sa, &len);
    *port = sa.sin_port;
    return fd;
}

// One multishot ACCEPT takes three connections, then a cancel ends it with -ECANCELED.
static void accept_multishot_then_cancel(void)
{
    if (!open_ring(4, 16))
        return;
    uint16_t port = 0;
    int lfd = listen_loopback(&port);
    CHECK(lfd >= 0);
    struct io_uring_sqe *s = uring_get_sqe(&ring);
    uring_prep_accept(s, lfd, SOCK_CLOEXEC, true, 77);
    queue_or_fail(s);
    CHECK(uring_submit_and_wait(&ring, 0, 0) >= 0);
    int clients[3], accepted = 0;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = port, .sin_addr = 0x0100007f};
    for (int i = 0; i < 3; i++) {
        clients[i] = sys_socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        CHECK_EQ(sys_connect(clients[i], &sa, sizeof sa), 0);
    }
    struct io_uring_cqe cqes[3];
    uint32_t n = wait_cqes(cqes, 3);
    if (n >= 1 && cqes[0].res == -EINVAL) {
        SKIP("kernel lacks IORING_OP_ACCEPT multishot (Linux 5.19)");
    } else {
        CHECK_EQ(n, 3);
        for (uint32_t i = 0; i < n; i++) {
            CHECK_EQ(cqes[i].user_data, 77);
            CHECK(cqes[i].res >= 0);
            CHECK(cqes[i].flags & IORING_CQE_F_MORE);
            if (cqes[i].res >= 0) {
                sys_close(cqes[i].res);
                accepted++;
            }
        }
        CHECK_EQ(accepted, 3);
        s = uring_get_sqe(&ring);
        uring_prep_cancel(s, 77, false, 78);
        queue_or_fail(s);
        struct io_uring_cqe c[2];
        CHECK_EQ(wait_cqes(c, 2), 2);
        for (int i = 0; i < 2; i++) {
            if (c[i].user_data == 78)
                CHECK_EQ(c[i].res, 0); // found and cancelled
            else
                CHECK(c[i].user_data == 77 && c[i].res == -ECANCELED && !(c[i].flags & IORING_CQE_F_MORE));
        }
    }
    for (int i = 0; i < 3; i++)
        sys_close(clients[i]);
    sys_close(lfd);
    uring_close(&ring);
}

// [snippet: uring-cancel-test]
// Shutdown with a multishot RECV armed: cancel it, reap until its last CQE
// (no MORE), and account for every buffer: the ones CQEs handed us, plus
// the ones still in the ring (tail - the kernel's head), make all of them.
static void cancel_at_shutdown_accounts_every_buffer(void)
{
    if (!open_ring(4, 16))
        return;
    enum { COUNT = 8 };
    struct uring_buf_ring b;
    if (!open_buf_ring(&b, 3, COUNT, 64)) {
        uring_close(&ring);
        return;
    }
    int fds[2];
    pair(fds);
    struct io_uring_sqe *s = uring_get_sqe(&ring);
    uring_prep_recv(s, fds[0], NULL, 0, b.bgid, true, 500);
    queue_or_fail(s);
    uint8_t held[COUNT] = {0}; // 1: a CQE gave it to us and we kept it
    int ours = 0, in_flight = 1;
    for (int i = 0; i < 3; i++) { // three messages, three buffers kept
        CHECK_EQ(sys_write(fds[1], "x", 1), 1);
        struct io_uring_cqe c;
        CHECK_EQ(wait_cqes(&c, 1), 1);
        if (c.res == -EINVAL) {
            SKIP("kernel lacks IORING_OP_RECV multishot (Linux 6.0)");
            in_flight = 0;
            break;
        }
        int bid = uring_cqe_buffer(&c);
        CHECK(bid >= 0 && bid < COUNT && !held[bid]);
        if (bid >= 0 && bid < COUNT && !held[bid])
            held[bid] = 1, ours++;
    }
    // Shutdown: cancel by user_data, then reap until the recv says it is done.
    s = uring_get_sqe(&ring);
    uring_prep_cancel(s, 500, false, 501);
    queue_or_fail(s);
    uint64_t deadline = sys_now_ns() + WAIT_LIMIT_NS;
    bool cancel_done = false;
    while ((in_flight || !cancel_done) && sys_now_ns() < deadline) {
        struct io_uring_cqe c;
        if (wait_cqes(&c, 1) != 1)
            break;
        if (c.user_data == 501) {
            cancel_done = true;
            continue;
        }
        CHECK_EQ(c.user_data, 500);
        int bid = uring_cqe_buffer(&c);
        if (bid >= 0 && bid < COUNT && !held[bid])
            held[bid] = 1, ours++; // a last message may still bring one
        if (!(c.flags & IORING_CQE_F_MORE)) {
            CHECK(c.res == -ECANCELED || c.res >= 0);
            in_flight = 0;
        }
    }
    CHECK_EQ(in_flight, 0);
    CHECK(cancel_done);
    uint16_t head;
    int err = uring_buf_ring_head(&ring, &b, &head);
    if (err == 0) {
        uint16_t in_ring = (uint16_t)(b.tail - head);
        CHECK_EQ(ours + in_ring, COUNT); // nothing leaked, nothing counted twice
        sys_printf("# cancel: %d buffers ours, %u in the ring, of %d\n", ours, in_ring, COUNT);
    } else if (!test_case_skipped) {
        CHECK_EQ(err, -EINVAL); // no IORING_REGISTER_PBUF_STATUS before 6.8
    }
    CHECK_EQ(uring_cq_ready(&ring), 0);
    sys_close(fds[0]);
    sys_close(fds[1]);
    uring_buf_ring_free(&ring, &b); // safe now: no request can select from it
    uring_close(&ring);
}
// [end: uring-cancel-test]

// ---- the backend's start and teardown ------------------------------------------------

// The teardown unregisters the provided-buffer ring while the ring is still
// open: after uring_close the unregister would go to fd -1.
static void teardown_unregisters_the_buffer_ring(void)
{
    if (!ex_uring_available()) { // opens the backend's ring and tears it down
        skip_unavailable_backend();
        return;
    }
    struct ex_op_stats st;
    ex_op_stats(&st);
    CHECK_EQ(st.bufs_unregistered, 0);
}

// ---- the backend's readiness polls ---------------------------------------------------

// One task re-arms its fd for more events while its first wait is still in
// flight, then forgets it and closes the fd. The forget must end the wait
// left: a poll in flight holds the file, and the peer would never see the
// hang-up. The re-arm replaces the poll with one of the same task: if they
// shared a key, the first one's cancelled completion would make the backend
// lose track of the second.
struct rearmer {
    struct ex_io io;
    uint32_t step;
    uint32_t closed;
};

static poll_t rearmer_poll(void *state, struct sched_cx *cx)
{
    struct rearmer *r = state;
    switch (atomic_fetch_add(&r->step, 1)) {
    case 0: // nothing to read: wait for it
        return ex_io_wait(&r->io, EX_READABLE, cx, NULL);
    case 1: // woken by the test, not the fd: wait for room too (the send buffer is full)
        return ex_io_wait(&r->io, EX_READABLE | EX_WRITABLE, cx, NULL);
    default:
        ex_io_forget(&r->io);
        sys_close(r->io.fd);
        atomic_store_seq(&r->closed, 1);
        return READY;
    }
}

// Wakes the task once it has begun its step-th run (a wake before that
// could merge with the one that scheduled the run).
static void wake_after_step(struct rearmer *r, struct waker w, uint32_t step, uint64_t deadline)
{
    while (atomic_load_seq(&r->step) < step && sys_now_ns() < deadline)
        sys_sleep_ns(NS_PER_MS);
    sys_sleep_ns(30 * NS_PER_MS); // its wait is in the reactor, an earlier one's cancel done
    sched_wake(w);
}

static void rearm_then_forget_releases_the_fd(void)
{
    backend = EX_BACKEND_IO_URING;
    if (!ex_uring_available()) {
        skip_unavailable_backend();
        return;
    }
    int p[2];
    CHECK_EQ(sys_socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, p), 0);
    static char fill[4096];
    while (sys_write(p[0], fill, sizeof fill) > 0)
        ; // p[0] is not writable now, nor readable
    static struct rearmer r;
    r = (struct rearmer){.io = {.fd = p[0]}};
    struct waker w;
    start_executor(1, 0);
    CHECK_EQ(sched_spawn(rearmer_poll, &r, NULL, &w), 0);
    uint64_t deadline = sys_now_ns() + 2 * NS_PER_SEC;
    wake_after_step(&r, w, 1, deadline);
    wake_after_step(&r, w, 2, deadline);
    while (!atomic_load_seq(&r.closed) && sys_now_ns() < deadline)
        sys_sleep_ns(NS_PER_MS);
    CHECK(atomic_load_seq(&r.closed));
    // The socket is closed, so the peer sees it hang up, without reading
    // (reading would make room, and a forgotten POLLOUT wait would end by
    // itself). No hang-up: a wait nobody cancelled still holds the socket.
    struct pollfd pf = {.fd = p[1], .events = POLLRDHUP};
    struct timespec half = {0, 500 * 1000 * 1000};
    CHECK_EQ(sys_ppoll(&pf, 1, &half, NULL), 1);
    CHECK(pf.revents & (POLLRDHUP | POLLHUP));
    CHECK(finish_executor(NS_PER_SEC));
    sys_close(p[1]);
}

// ---- the backend on a full ring ------------------------------------------------------

// A burst of one-byte SENDs from one task, each its own request. A send
// into a socket with room completes inside the enter that submits it.
#define BURST_SENDS 64
#define BURST_TASKS 4
struct burst {
    struct ex_op ops[BURST_SENDS];
    int fds[2];
    uint32_t queued;
    int err;
    uint32_t finished;
};

static poll_t burst_poll(void *state, struct sched_cx *cx)
{
    struct burst *b = state;
    while (b->queued < BURST_SENDS) {
        int r = ex_op_send(&b->ops[b->queued], b->fds[0], "x", 1, MSG_NOSIGNAL, cx->waker);
        if (r < 0) {
            b->err = r;
            break;
        }
        b->queued++;
    }
    for (uint32_t i = 0; i < b->queued; i++) {
        if (atomic_load_acquire(&b->ops[i].state) == EX_OP_FLIGHT)
            return PENDING; // its completion wakes us
        if (b->ops[i].res != 1 && !b->err)
            b->err = b->ops[i].res < 0 ? b->ops[i].res : -EIO;
    }
    atomic_store_seq(&b->finished, 1);
    return READY;
}

// The backend on a 4-entry SQ and an 8-entry CQ whose ring refuses a
// submission with -EBUSY while its CQ overflows, as some kernels do. Each
// task queues 64 sends in one poll: every fifth finds the SQ full and
// submits, the sends complete at once, the CQ overflows, and the next enter
// is refused. get_sqe must let the completions be reaped and retry; looping
// on the refusal with sq_lock held never ends (with one worker no one else
// could reap; with two, the poller waits for sq_lock holding cq_lock).
static void full_ring_refusal_reaps_and_retries(void)
{
    static struct burst bursts[BURST_TASKS];
    // 1 and 2 workers sharing a ring, then 2 with a ring each (per-core).
    for (int run = 0; run < 3 && !test_case_failed; run++) {
        int workers = run == 0 ? 1 : 2;
        enum ex_executor kind = run == 2 ? EX_PER_CORE : EX_SHARED;
        ex_uring_set_test_ring(4, 8, true);
        struct ex_config cfg = {.workers = workers, .backend = EX_BACKEND_IO_URING, .executor = kind};
        int r = ex_init(&cfg);
        if (r < 0) {
            SKIP("io_uring unavailable: %s", ex_uring_why());
            ex_uring_set_test_ring(0, 0, false);
            return;
        }
        for (int i = 0; i < BURST_TASKS; i++) {
            bursts[i] = (struct burst){0};
            CHECK_EQ(sys_socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, bursts[i].fds),
                     0);
        }
        CHECK_EQ(ex_start(), 0);
        for (int i = 0; i < BURST_TASKS; i++)
            CHECK_EQ(sched_spawn(burst_poll, &bursts[i], NULL, NULL), 0);
        uint64_t deadline = sys_now_ns() + WAIT_LIMIT_NS;
        int done = 0;
        while (sys_now_ns() < deadline) {
            done = 0;
            for (int i = 0; i < BURST_TASKS; i++)
                done += (int)atomic_load_seq(&bursts[i].finished);
            if (done == BURST_TASKS)
                break;
            sys_sleep_ns(NS_PER_MS);
        }
        if (done != BURST_TASKS) {
            // The workers are stuck in the ring: ex_join would wait for ever.
            sys_printf("[FAIL] full_ring_refusal_reaps_and_retries: %d of %d bursts done after %d s with %d "
                       "worker(s), %s: the submitters are stuck\n",
                       done, BURST_TASKS, (int)(WAIT_LIMIT_NS / NS_PER_SEC), workers, ex_executor_name());
            sys_exit_group(1);
        }
        ex_shutdown();
        CHECK_EQ(ex_join(), 0);
        struct ex_op_stats st;
        ex_op_stats(&st);
        CHECK(st.busy > 0); // the ring did refuse: the case tested the retry
        CHECK_EQ(st.in_flight, 0);
        for (int i = 0; i < BURST_TASKS; i++) {
            CHECK_EQ(bursts[i].err, 0);
            CHECK_EQ(bursts[i].queued, BURST_SENDS);
            char sink[BURST_SENDS + 1];
            CHECK_EQ(sys_read(bursts[i].fds[1], sink, sizeof sink), BURST_SENDS); // each byte once
            sys_close(bursts[i].fds[0]);
            sys_close(bursts[i].fds[1]);
        }
        sys_printf("# full ring, %d worker(s), %s: %d x %d sends, %lu refusals (-EBUSY), none lost\n",
                   workers, ex_executor_name(), BURST_TASKS, BURST_SENDS, (unsigned long)st.busy);
        ex_uring_set_test_ring(0, 0, false);
    }
}

// ---- a ring per worker ------------------------------------------------------------------

// With the per-core executor every worker gets its own ring, set up so that
// only that worker may submit and wait (SINGLE_ISSUER | DEFER_TASKRUN):
// the ring is created disabled by ex_init and started by its worker. Tasks
// spawned from here land on both workers; their sends go through their
// worker's ring. The teardown, from this thread, still unregisters each
// ring's buffers, and nothing is left in flight.
static void per_core_rings_have_one_issuer(void)
{
    static struct burst bursts[BURST_TASKS];
    struct ex_config cfg = {.workers = 2, .backend = EX_BACKEND_IO_URING, .executor = EX_PER_CORE};
    if (ex_init(&cfg) < 0) {
        SKIP("io_uring unavailable: %s", ex_uring_why());
        return;
    }
    for (int i = 0; i < BURST_TASKS; i++) {
        bursts[i] = (struct burst){0};
        CHECK_EQ(sys_socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, bursts[i].fds), 0);
    }
    CHECK_EQ(ex_start(), 0);
    for (int i = 0; i < BURST_TASKS; i++)
        CHECK_EQ(sched_spawn(burst_poll, &bursts[i], NULL, NULL), 0);
    uint64_t deadline = sys_now_ns() + WAIT_LIMIT_NS;
    while (sched_live() && sys_now_ns() < deadline)
        sys_sleep_ns(NS_PER_MS);
    CHECK_EQ(sched_live(), 0);
    ex_shutdown();
    CHECK_EQ(ex_join(), 0);
    struct ex_op_stats st;
    ex_op_stats(&st);
    CHECK_EQ(st.rings, 2);
    CHECK_EQ(st.in_flight, 0);
    CHECK_EQ(st.bufs_unregistered, 0);
    for (int i = 0; i < BURST_TASKS; i++) {
        CHECK_EQ(bursts[i].err, 0);
        char sink[BURST_SENDS + 1];
        CHECK_EQ(sys_read(bursts[i].fds[1], sink, sizeof sink), BURST_SENDS);
        sys_close(bursts[i].fds[0]);
        sys_close(bursts[i].fds[1]);
    }
    if (st.single_issuer != st.rings) {
        SKIP("kernel refused SINGLE_ISSUER | DEFER_TASKRUN (Linux 6.1): %u of %u rings have them",
             st.single_issuer, st.rings);
        return;
    }
    // Only a ring's own worker enters it, and always by its registered fd.
    CHECK(st.enters > 0);
    CHECK_EQ(st.enters_registered, st.enters);
}

int main(void)
{
    RUN(index_arithmetic_across_uint32_wrap);
    RUN(nops_wrap_the_rings_many_times);
    RUN(cq_overflow_loses_nothing);
    RUN(probe_finds_backend_opcodes);
    RUN(refusals_have_reasons);
    RUN(timeout_completes_with_etime);
    RUN(enter_timeout_via_ext_arg);
    RUN(buffer_ring_exhaustion_and_recycling);
    RUN(multishot_recv_keeps_delivering);
    RUN(send_partial_sends_accounted);
    RUN(accept_multishot_then_cancel);
    RUN(cancel_at_shutdown_accounts_every_buffer);
    RUN(teardown_unregisters_the_buffer_ring);
    RUN(rearm_then_forget_releases_the_fd);
    RUN(full_ring_refusal_reaps_and_retries);
    RUN(per_core_rings_have_one_issuer);
    return test_summary();
}
