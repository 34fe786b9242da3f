// timer_echo.c: stage-4 demo: a pipe echo between two tasks and a ticking timer, on two workers.
#include "config.h"
#include "exec/exec.h"
#include "sys/clock.h"
#include "sys/fmt.h"
#include "sys/string.h"
#include "sys/sys.h"

// A ticker prints every 100 ms, five times.
struct ticker {
    int resume;
    int i;
    struct ex_sleep sleep;
    uint64_t start;
};

static poll_t ticker_poll(void *state, struct sched_cx *cx)
{
    struct ticker *t = state;
    ASYNC_BEGIN(t);
    t->start = ex_now_ns();
    for (t->i = 1; t->i <= 5; t->i++) {
        ex_sleep_init(&t->sleep, 100 * NS_PER_MS);
        AWAIT(t, ex_sleep_poll(&t->sleep, cx));
        sys_printf("tick %d at +%lu ms\n", t->i, (ex_now_ns() - t->start) / NS_PER_MS);
    }
    ASYNC_END(t);
}

// The echo task reads lines from one pipe and writes them back upper-cased.
struct echo {
    struct ex_io in;
    int out;
    int lines;
};

static poll_t echo_poll(void *state, struct sched_cx *cx)
{
    struct echo *e = state;
    char buf[128];
    for (;;) {
        ssize_t n = sys_read(e->in.fd, buf, sizeof buf);
        if (n == -EAGAIN)
            return ex_io_wait(&e->in, EX_READABLE, cx, NULL);
        if (n <= 0)
            return READY; // writer closed: done
        for (ssize_t i = 0; i < n; i++)
            if (buf[i] >= 'a' && buf[i] <= 'z')
                buf[i] = (char)(buf[i] - 32);
        sys_write_all(e->out, buf, (size_t)n);
        e->lines++;
    }
}

int main(int argc, char **argv)
{
    enum ex_backend backend = EX_BACKEND_EPOLL;
    if (argc > 1 && ex_backend_parse(argv[1], &backend) < 0) {
        sys_eprintf("usage: %s [epoll|ppoll]\n", argv[0]);
        return 2;
    }
    int in[2], out[2];
    sys_pipe2(in, O_NONBLOCK | O_CLOEXEC);
    sys_pipe2(out, O_CLOEXEC);
    struct ex_config cfg = {.workers = 2, .backend = backend};
    if (ex_init(&cfg) < 0 || ex_start() < 0) {
        sys_eprintf("executor failed to start\n");
        return 1;
    }
    sys_printf("executor: 2 workers, %s reactor\n", ex_backend_name());
    struct ticker t = {0};
    struct echo e = {.in = {.fd = in[0]}, .out = out[1]};
    sched_spawn(ticker_poll, &t, NULL, NULL);
    sched_spawn(echo_poll, &e, NULL, NULL);
    const char *lines[] = {"hello from main\n", "the echo task runs on a worker\n", "bye\n"};
    for (int i = 0; i < 3; i++) {
        sys_sleep_ns(150 * NS_PER_MS);
        sys_write_all(in[1], lines[i], sys_strlen(lines[i]));
        char buf[128];
        ssize_t n = sys_read(out[0], buf, sizeof buf);
        sys_printf("echoed: %.*s", (int)n, buf);
    }
    sys_close(in[1]);
    while (sched_live())
        sys_sleep_ns(10 * NS_PER_MS);
    ex_shutdown();
    ex_join();
    sys_printf("done: %d lines echoed, all tasks finished\n", e.lines);
    return 0;
}
