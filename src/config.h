// config.h: every tunable of async-nostd in one place (sizes, limits, timeouts, paths).
#ifndef CONFIG_H
#define CONFIG_H

// ---- stage 1: syscalls, threads ---------------------------------------------
#define THREAD_STACK_SIZE   (64 * 1024)   // worker stack, as in the original
#define THREAD_GUARD_SIZE   4096          // unmapped page below each stack
#define LOG_FILE_PATH       "/tmp/async-nostd.log"

#endif
