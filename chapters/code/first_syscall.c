// first_syscall.c: chapter 1's first program: a whole process in two system calls, with no library.
//
// Not part of src/ and not linked with libnostd: this file is the entire
// program. The kernel jumps to _start; it writes a line with the `syscall`
// instruction and exits with what write returned. Build and run from the
// repository root with one command line (split here to fit):
//
//   gcc -std=gnu11 -O2 -Wall -Wextra -Werror -ffreestanding -fno-stack-protector
//       -fno-pie -nostdlib -static -no-pie -DSTAGE=1
//       chapters/code/first_syscall.c -o build/first_syscall
//   build/first_syscall; echo "exit status $?"

// [snippet: first-syscall]
// rax = the syscall's number, then rdi, rsi, rdx = its arguments; the result
// comes back in rax. The instruction itself overwrites rcx and r11.
static long syscall3(long nr, long a, long b, long c)
{
    long ret;
    __asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
    return ret;
}

// The kernel jumps here with no return address: _start must never return.
// force_align_arg_pointer realigns the stack ("The entry point is not a
// function", below, explains why that is needed).
__attribute__((noreturn, force_align_arg_pointer)) void _start(void);
void _start(void)
{
    static const char msg[] = "hello from _start\n";
    long n = syscall3(1 /* write */, 1 /* stdout */, (long)msg, sizeof msg - 1);
    syscall3(60 /* exit */, n, 0, 0);
    __builtin_unreachable();
}
// [end: first-syscall]
