// threads.c: stage-1 demo: four threads print from their own stacks and TLS, then join.
#include "config.h"
#include "sys/clock.h"
#include "sys/fmt.h"
#include "sys/sys.h"
#include "sys/thread.h"

static int worker(void *arg)
{
    long id = (long)arg;
    struct sys_thread *self = sys_thread_self();
    sys_printf("thread %ld: tid=%d tls=%p stack near %p\n", id, sys_gettid(), (void *)self,
               __builtin_frame_address(0));
    sys_sleep_ns((uint64_t)(4 - id) * 10 * NS_PER_MS);
    return (int)(id * id);
}

int main(int argc, char **argv)
{
    (void)argc;
    sys_printf("%s: pid=%d, %d cpus, no libc\n", argv[0], sys_getpid(), sys_cpu_count());
    struct sys_thread *t[4];
    for (long i = 0; i < 4; i++) {
        int r = sys_thread_spawn(&t[i], worker, (void *)i, THREAD_STACK_SIZE);
        if (r < 0) {
            sys_eprintf("spawn failed: %s\n", sys_errno_name(r));
            return 1;
        }
    }
    for (int i = 0; i < 4; i++)
        sys_printf("joined thread %d: returned %d\n", i, sys_thread_join(t[i]));
    return 0;
}
