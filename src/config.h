// config.h: every tunable of async-nostd in one place (sizes, limits, timeouts, paths).
#ifndef CONFIG_H
#define CONFIG_H

// ---- stage 1: syscalls, threads ---------------------------------------------
#define THREAD_STACK_SIZE (64 * 1024) // worker stack, as in the original
#define THREAD_GUARD_SIZE 4096        // unmapped page below each stack
#define LOG_FILE_PATH     "/tmp/async-nostd.log"

// ---- stage 2: allocator -------------------------------------------------------
// The original had 16 MB and never freed. Ours reuses memory, so the size only
// bounds how many connections fit at once: an idle one takes under 1 KiB (its
// task state), a busy one up to 8 KiB more (its I/O buffers), so 128 MB holds
// well over 10,000. Pages are touched only when used: an idle server stays small.
#define HEAP_SIZE             (128ul << 20) // arena for blocks up to MEM_CHUNK_SIZE
#define MEM_CHUNK_SIZE        (64 * 1024) // unit of the arena lent to one size class; also the largest class
#define MEM_BIG_LIMIT         (256ul << 20) // most bytes of big blocks (each its own mmap) alive at once
#define MEM_CACHE_BYTES       (256 * 1024)  // most bytes of free blocks one thread's cache may hold
#define MEM_CACHE_BATCH_BYTES (32 * 1024)   // bytes of blocks a cache moves to/from the central lists at once
#define MEM_CACHE_BATCH_MAX   32            // ... but never more than this many blocks per move
#define MEM_MAX_CACHES        64 // threads with a cache at once; further threads use the central lists
// Empty chunks kept committed (pages resident) for reuse: MEM_RESERVE_CHUNKS,
// plus one per MEM_RESERVE_SHARE chunks in use. Chunks freed beyond that go
// back to the kernel with madvise (chapter 2 measures the trade-off).
#define MEM_RESERVE_CHUNKS    16 // 1 MiB: kept even when nothing is in use
#define MEM_RESERVE_SHARE     4  // a busy heap keeps up to a quarter of its size on top

// ---- stage 3: scheduler -------------------------------------------------------
// The original had 1024 task slots, fixed. Slots are cheap (64 bytes of
// static memory each, touched only when used), so the table is sized for a
// server holding many idle connections, and sched_init() takes a runtime
// limit up to this maximum (the server's --max-tasks, whose default follows
// from the descriptor limit: see SERVER_FD_RESERVE at the end).
#define SCHED_MAX_TASK_SLOTS 16384
#define SCHED_DEFAULT_TASKS  1024 // the original's MAX_TASK_SLOTS: the demos' and tests' limit
#define SCHED_MAX_QUEUES     64   // ready queues: one per worker with the per-core executor

// ---- stage 4: executor ------------------------------------------------------------
#define EX_MAX_WORKERS       64
#define EX_RUN_BATCH         64    // tasks run before the reactor is checked again
#define EX_EPOLL_EVENTS      256   // events taken per epoll_wait
#define EX_PPOLL_MAX_FDS     16384 // registrations the ppoll backend can hold
#define EX_EPOLL_HUP_FDS     65536 // fds below this keep a hang-up mark (8 bytes each); above, reads never skip
#define EX_TIMER_FIRE_BATCH  64    // due timers collected under the heap lock, then woken outside it
#define EX_MAX_TIMERS        65536 // armed timers at once
#define EX_SHUTDOWN_GRACE_MS 5000  // how long shutdown waits for tasks to finish
#define EX_URING_SQ_ENTRIES  4096  // io_uring: SQEs queued between two enters before one is forced
#define EX_URING_CQ_ENTRIES  16384 // io_uring: CQ slots (more wait in the kernel's overflow list)
#define EX_URING_CQE_BATCH   256   // io_uring: CQEs reaped at a time
#define EX_URING_POLL_FDS    32767 // io_uring: fds below this keep a readiness mark; above, arm re-adds
#define EX_URING_BUFS        1024  // io_uring: provided receive buffers shared by all connections
#define EX_URING_BUF_SIZE    8192  // io_uring: bytes of each; a recv reads at most this much
#define EX_URING_BUFS_FIRST  64    // io_uring: of them, in each ring at start; one more per recv finding none
#define EX_URING_TRIM_MS     100   // io_uring: least time between two returns of their pages to the kernel

// ---- stage 5: net --------------------------------------------------------------------
// The original used 128. Under a 1,000-connection `Connection: close` load a
// short accept queue overflows and the kernel drops SYNs, which clients
// retry after a full second: a p99 disaster. nginx uses 511; the kernel caps
// the value at net.core.somaxconn (4096 by default).
#define NET_LISTEN_BACKLOG    1024
#define NET_REFUSE_DRAIN      2048 // bytes read (and dropped) from a client refused at accept
#define NET_DEFAULT_PORT      8080
#define NET_DEFAULT_IP        "127.0.0.1"
#define NET_EMFILE_BACKOFF_MS 50 // accept pause when out of file descriptors (thread or listener task)
#define NET_ACCEPT_BATCH      64 // accept4 calls per listener poll before it yields to the connections
// I/O buffers are lent to a connection while it has bytes to parse or send,
// and given back when it goes idle (src/net/buf_pool.c).
#define NET_BUF_SIZE          4096 // one read or output buffer (HTTP_READ_BUF, HTTP_OUT_BUF)
#define NET_BUF_CACHE         64   // most free buffers a thread keeps; more go back to the allocator
#define NET_BUF_MAX_CACHES    72   // threads with a free list (EX_MAX_WORKERS + 8); others use the allocator

// ---- stage 6: http ---------------------------------------------------------------------
// Parser limits: the request head (src/http/http_parse.c) and the chunked body
// (src/http/http_chunked.c). A head over a limit gets the status on the right;
// broken body framing is a 400 whatever its size, since the stream can no
// longer be split into requests.
#define HTTP_MAX_HEADERS       64            // header fields per request head; one more -> 431
#define HTTP_MAX_HEAD_BYTES    16384         // request head incl. the blank line; more -> 431
#define HTTP_MAX_URI           8192          // request-target bytes; more -> 414
#define HTTP_MAX_METHOD        32            // method token bytes; more -> 501 (RFC 9112 3)
#define HTTP_MAX_EMPTY_LINES   8             // empty lines tolerated before a request-line; more -> 400
#define HTTP_MAX_BODY          (1024 * 1024) // request body bytes (Content-Length or chunked); more -> 413
#define HTTP_MAX_CHUNK_LINE    4096          // bytes of one chunk-size line (size + extensions); more -> 400
#define HTTP_MAX_CHUNK_EXT     16384         // chunk-extension bytes summed over a whole body; more -> 400
#define HTTP_MAX_TRAILER_BYTES 16384         // bytes of the trailer section of a chunked body; more -> 413
// Connection handling.
#define HTTP_READ_BUF          4096 // first read buffer, from the pool; grows up to HTTP_READ_BUF_MAX
// The read buffer grown for a long head: a head at its limit and the start of
// the next. At an upgrade, the buffer itself, with the bytes read past the
// head (WebSocket frames), is handed to the next layer.
#define HTTP_READ_BUF_MAX      (HTTP_MAX_HEAD_BYTES + 1024)
#define HTTP_UPGRADE_PATH      "/ws" // where stage 7 upgrades to WebSocket; with no hook (stage 6), a 426
#define HTTP_OUT_BUF           4096  // response bytes gathered before one send (a pool buffer)
#define HTTP_COPY_BODY_MAX     2048  // bodies up to this size are copied after their head (one send)
#define HTTP_METRICS_BUF       16384 // the /metrics text (three lines per worker: 64 workers fit)
#define HTTP_HEADER_TIMEOUT_MS 10000 // a started request head must complete within this
#define HTTP_IDLE_TIMEOUT_MS   30000 // keep-alive connection with no request
#define HTTP_SEND_TIMEOUT_MS   30000 // the most time sending one batch of responses may take
#define HTTP_LINGER_MS         2000  // drain a client's bytes before closing (a quarter at shutdown)
#define HTTP_SERVER_NAME       "async-nostd"
#define HTTP_LOG_BUF           16384 // per-thread log buffer, flushed when idle or full

// ---- stage 7: websocket -------------------------------------------------------------------
#define WS_MAX_MESSAGE     (16u * 1024u * 1024u) // largest reassembled message; more -> close 1009
#define WS_MAX_FRAME       WS_MAX_MESSAGE        // largest single frame payload; more -> close 1009
#define WS_SMALL_FRAME     16                    // control frames up to this size are sent from the state
#define WS_BIG_READ        HTTP_READ_BUF_MAX     // read buffer for a frame payload larger than a pool buffer
#define WS_CLOSE_LINGER_MS 2000                  // wait for the peer's close after ours
#define WS_KEEP_BUF        65536                 // message buffers above this are freed after each echo
#define WS_IDLE_TIMEOUT_MS 60000                 // silence before a ping; as long again, then close
#define WS_IDLE_PING       "idle"                // payload of that ping (at most 125 bytes)

// ---- the server binary (src/main.c) ---------------------------------------------------------------
// The default --max-tasks: a task slot for each descriptor the server may
// open (RLIMIT_NOFILE's soft limit, raised at start-up to the hard limit), up
// to SCHED_MAX_TASK_SLOTS, less the descriptors that are not connections:
// stdio, the log, the reactor and its eventfd, and spares (SERVER_FD_RESERVE);
// and per worker a listening socket (--accept=reuseport) and a connection
// being refused, which holds a descriptor while it is told 503
// (SERVER_FD_RESERVE_PER_WORKER). So a full server answers 503 rather than
// running out of descriptors. Memory does not bind first: an idle connection
// takes under 1 KiB of heap, and one stalled in a request head a read buffer
// (NET_BUF_SIZE) more, so SCHED_MAX_TASK_SLOTS of either fit in HEAP_SIZE.
#define SERVER_FD_RESERVE            16
#define SERVER_FD_RESERVE_PER_WORKER 2

#endif
