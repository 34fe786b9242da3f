// syscall_raw.h: tier 1 of the syscall layer, the raw x86_64 `syscall` instruction in inline asm.
#ifndef SYS_SYSCALL_RAW_H
#define SYS_SYSCALL_RAW_H

// [snippet: syscall-raw]
// The x86_64 Linux syscall ABI:
//   rax = syscall number, arguments in rdi, rsi, rdx, r10, r8, r9.
//   The 4th argument goes in r10, not rcx as in the C calling convention,
//   because the `syscall` instruction itself overwrites rcx (with the return
//   rip) and r11 (with rflags). So both are clobbered, and so is memory: the
//   kernel may read or write any buffer we passed by pointer.
//   The result comes back in rax: -4095..-1 is -errno, anything else success.
static inline long syscall3(long n, long a1, long a2, long a3)
{
    long ret;
    __asm__ volatile("syscall" : "=a"(ret) : "a"(n), "D"(a1), "S"(a2), "d"(a3) : "rcx", "r11", "memory");
    return ret;
}

// syscall6: the same with six arguments, the 4th to 6th in r10, r8, r9.
// Returns what the kernel left in rax (-errno on failure). Called by the
// wrappers in sys.h whose calls take six arguments (mmap, recvfrom, sendto,
// io_uring_enter); syscall0..5 below are the same with fewer registers.
// [lab: syscall6]
static inline long syscall6(long n, long a1, long a2, long a3, long a4, long a5, long a6)
{
    register long r10 __asm__("r10") = a4;
    register long r8 __asm__("r8") = a5;
    register long r9 __asm__("r9") = a6;
    long ret;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(n), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
}
// [end lab: syscall6]
// [end: syscall-raw]

static inline long syscall0(long n)
{
    long ret;
    __asm__ volatile("syscall" : "=a"(ret) : "a"(n) : "rcx", "r11", "memory");
    return ret;
}

static inline long syscall1(long n, long a1)
{
    long ret;
    __asm__ volatile("syscall" : "=a"(ret) : "a"(n), "D"(a1) : "rcx", "r11", "memory");
    return ret;
}

static inline long syscall2(long n, long a1, long a2)
{
    long ret;
    __asm__ volatile("syscall" : "=a"(ret) : "a"(n), "D"(a1), "S"(a2) : "rcx", "r11", "memory");
    return ret;
}

static inline long syscall4(long n, long a1, long a2, long a3, long a4)
{
    register long r10 __asm__("r10") = a4;
    long ret;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(n), "D"(a1), "S"(a2), "d"(a3), "r"(r10)
                     : "rcx", "r11", "memory");
    return ret;
}

static inline long syscall5(long n, long a1, long a2, long a3, long a4, long a5)
{
    register long r10 __asm__("r10") = a4;
    register long r8 __asm__("r8") = a5;
    long ret;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(n), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8)
                     : "rcx", "r11", "memory");
    return ret;
}

#endif
