// test_per_core.c: the executor's stage-4 cases (test_exec.c) again, on the per-core executor.
// Every case that crosses workers (pipes, wakes, timers, shutdown) must hold
// when each worker has its own queue, reactor instance and timers: the
// tasks the main thread spawns are spread over the workers' queues, so the
// wakes in these cases go from one worker's reactor to another's queue.
#define EXEC_TEST_EXECUTOR EX_PER_CORE
#include "exec/tests/test_exec.c"
