// lab.h: the stub standing in for a body the reader writes in a lab (`make lab`); never in the reference.
#ifndef SYS_LAB_H
#define SYS_LAB_H

// A lab removes a function's body, so a static helper or table only that
// body used is unused in the lab: that is expected, not a mistake to stop on.
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wunused-variable"
#pragma GCC diagnostic ignored "-Wunused-const-variable"

// LAB_TODO("lab: write name (chapter N)") ends the process with that message
// (as "panic: ..."), so a test that reaches a body not written yet fails at
// once and says which body to write. Pure code is also built hosted (for the
// sanitizers), where there is no sys_panic: there it aborts after the message.
// No libc header here: this file may be included after kernel_abi.h, whose
// structs the libc headers would define a second time.
#ifdef HOSTED
int dprintf(int fd, const char *fmt, ...);
#define LAB_TODO(msg) (dprintf(2, "panic: %s\n", msg), __builtin_abort())
#else
__attribute__((noreturn)) void sys_panic(const char *msg);
#define LAB_TODO(msg) sys_panic(msg)
#endif

#endif
