// bare_ring.c: chapter 9's first program: one NOP and one RECV through a bare io_uring, no library.
//
// Not part of src/. io_uring_setup, one mapping for both rings and one for
// the SQEs, two SQEs, io_uring_enter, and the CQEs read from shared memory.
// The RECV reads from a socket pair on which nothing has been sent yet, so
// it completes only after the send. Prints "io_uring unavailable: ..." and
// exits 0 if the kernel refuses io_uring. Build and run from the repository
// root, after `make STAGE=5`, with one command line (split here to fit):
//
//   gcc -std=gnu11 -O2 -Wall -Wextra -Werror -ffreestanding -fno-stack-protector
//       -fno-pie -nostdlib -static -no-pie -iquote src -DSTAGE=5
//       chapters/code/bare_ring.c build/stage-5/libnostd.a -o build/bare_ring
//   build/bare_ring
#include "sys/atomic.h"
#include "sys/errno.h"
#include "sys/fmt.h"
#include "sys/sys.h"

// [snippet: first-ring]
static struct io_uring_params p; // the kernel fills in sizes and offsets
static char *rings;              // both rings, in one shared mapping
static struct io_uring_sqe *sqes;
#define FIELD(off) ((uint32_t *)(rings + (off))) // a ring field, at the offset the kernel gave

static void queue(uint8_t opcode, int fd, void *buf, uint32_t len, uint64_t tag)
{
    uint32_t tail = *FIELD(p.sq_off.tail), i = tail & (p.sq_entries - 1); // only we write the SQ tail
    sqes[i] = (struct io_uring_sqe){
        .opcode = opcode, .fd = fd, .addr = (uint64_t)buf, .len = len, .user_data = tag};
    FIELD(p.sq_off.array)[i] = i;
    atomic_store_release(FIELD(p.sq_off.tail), tail + 1); // the kernel must see the SQE before the tail
}

static void wait_one(int ring, unsigned to_submit)
{
    sys_io_uring_enter(ring, to_submit, 1, IORING_ENTER_GETEVENTS, NULL, 0);
    uint32_t head = *FIELD(p.cq_off.head), tail = atomic_load_acquire(FIELD(p.cq_off.tail)); // then the CQE
    struct io_uring_cqe *c = (struct io_uring_cqe *)(rings + p.cq_off.cqes) + (head & (p.cq_entries - 1));
    sys_printf("completion of %lu: res %d (%u in the ring)\n", c->user_data, c->res, tail - head);
    atomic_store_release(FIELD(p.cq_off.head), head + 1); // the kernel may reuse the slot now
}

int main(void)
{
    int ring = sys_io_uring_setup(4, &p);
    if (ring < 0 || !(p.features & IORING_FEAT_SINGLE_MMAP)) {
        sys_printf("io_uring unavailable: %s\n",
                   ring < 0 ? sys_errno_name(ring) : "no single mmap (before 5.4)");
        return 0;
    }
    size_t sq_len = p.sq_off.array + p.sq_entries * 4,
           cq_len = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
    rings = sys_mmap(NULL, sq_len > cq_len ? sq_len : cq_len, PROT_READ | PROT_WRITE, MAP_SHARED, ring,
                     IORING_OFF_SQ_RING);
    sqes = sys_mmap(NULL, p.sq_entries * sizeof *sqes, PROT_READ | PROT_WRITE, MAP_SHARED, ring,
                    IORING_OFF_SQES);
    int fds[2];
    if (SYS_IS_ERR(rings) || SYS_IS_ERR(sqes) || sys_socketpair(AF_UNIX, SOCK_STREAM, 0, fds) < 0)
        sys_panic("mmap or socketpair failed");

    char buf[16];
    queue(IORING_OP_NOP, -1, NULL, 0, 1);
    queue(IORING_OP_RECV, fds[0], buf, sizeof buf, 2);
    wait_one(ring, 2); // submits both; the NOP is done at once, the RECV waits in the kernel
    sys_printf("send \"hello\": %ld\n", (long)sys_send(fds[1], "hello", 5, 0));
    wait_one(ring, 0);
    sys_printf("buf: \"%.*s\"\n", 5, buf);
    return 0;
}
// [end: first-ring]
