// test_vdso.c: stage-1 tests of the vDSO lookup and of the clock that reads through it without a syscall.
#include "sys/clock.h"
#include "sys/string.h"
#include "sys/sys.h"
#include "sys/testing.h"
#include "sys/vdso.h"

#define SEC_NS(ts) ((uint64_t)(ts).tv_sec * NS_PER_SEC + (uint64_t)(ts).tv_nsec)

static const void *vdso(void) { return (const void *)sys_getauxval(AT_SYSINFO_EHDR); }

static uint64_t syscall_ns(int clock)
{
    struct timespec ts;
    sys_clock_gettime(clock, &ts);
    return SEC_NS(ts);
}

// _start looked the clock up before main, and the lookup agrees with a second one.
static void vdso_found(void)
{
    if (!vdso()) {
        SKIP("the kernel passed no AT_SYSINFO_EHDR (booted with vdso=0?)");
        return;
    }
    void *fn = sys_vdso_sym(vdso(), "__vdso_clock_gettime", "LINUX_2.6");
    CHECK(fn != NULL);
    CHECK(sys_vdso_clock_gettime == (sys_vdso_clock_fn)fn);
    CHECK(sys_vdso_sym(vdso(), "__vdso_clock_gettime", NULL) == fn); // any version
    sys_printf("  vDSO at %p, __vdso_clock_gettime at %p: the clock reads it\n", vdso(), fn);
}

// The vDSO's clock is the kernel's clock: a vDSO reading lies between two
// syscall readings, and nothing on this machine takes a second between them.
static void vdso_agrees_with_syscall(void)
{
    if (!sys_vdso_clock_gettime) {
        SKIP("no vDSO clock here");
        return;
    }
    for (int i = 0; i < 1000; i++) {
        struct timespec ts;
        uint64_t a = syscall_ns(CLOCK_MONOTONIC);
        CHECK_EQ(sys_vdso_clock_gettime(CLOCK_MONOTONIC, &ts), 0);
        uint64_t b = SEC_NS(ts), c = syscall_ns(CLOCK_MONOTONIC);
        CHECK(a <= b && b <= c);
        CHECK(c - a < NS_PER_SEC);
        uint64_t d = sys_now_ns();
        CHECK(c <= d && d - c < NS_PER_SEC);
        CHECK_EQ(sys_vdso_clock_gettime(CLOCK_REALTIME, &ts), 0);
        uint64_t r = SEC_NS(ts), s = syscall_ns(CLOCK_REALTIME);
        CHECK(s >= r && s - r < NS_PER_SEC);
    }
}

// Names the vDSO does not define, or not as a function of that version, are NULL.
static void unknown_name_is_null(void)
{
    if (!vdso()) {
        SKIP("no vDSO here");
        return;
    }
    CHECK(sys_vdso_sym(vdso(), "__vdso_no_such_function", NULL) == NULL);
    CHECK(sys_vdso_sym(vdso(), "__vdso_clock_gettim", NULL) == NULL);
    CHECK(sys_vdso_sym(vdso(), "", NULL) == NULL);
    CHECK(sys_vdso_sym(vdso(), "__vdso_clock_gettime", "LINUX_9.9") == NULL);
    CHECK(sys_vdso_sym(vdso(), "LINUX_2.6", NULL) == NULL); // the version's own symbol is no function
}

// A writable copy of the vDSO's image (its one PT_LOAD, from offset 0), to
// take apart. Returns its size in *len, or NULL.
static char *copy_image(size_t *len)
{
    const struct elf64_ehdr *eh = vdso();
    const struct elf64_phdr *ph = (const void *)((const char *)eh + eh->e_phoff);
    size_t n = 0;
    for (int i = 0; i < eh->e_phnum; i++)
        if (ph[i].p_type == PT_LOAD && ph[i].p_offset + ph[i].p_filesz > n)
            n = ph[i].p_offset + ph[i].p_filesz;
    *len = (n + PAGE_SIZE - 1) & ~(size_t)(PAGE_SIZE - 1);
    char *copy = sys_mmap(NULL, *len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (SYS_IS_ERR(copy))
        return NULL;
    sys_memcpy(copy, eh, n);
    return copy;
}

// The copy's dynamic entry with tag `tag`, or NULL.
static struct elf64_dyn *dyn_entry(char *copy, int64_t tag)
{
    struct elf64_ehdr *eh = (void *)copy;
    struct elf64_phdr *ph = (void *)(copy + eh->e_phoff);
    for (int i = 0; i < eh->e_phnum; i++)
        if (ph[i].p_type == PT_DYNAMIC)
            for (struct elf64_dyn *d = (void *)(copy + ph[i].p_offset); d->d_tag != DT_NULL; d++)
                if (d->d_tag == tag)
                    return d;
    return NULL;
}

#define DT_DEBUG 21 // a tag the lookup ignores: what a removed entry becomes

// The lookup works through either hash table alone, and in an image mapped
// anywhere: the copy's functions are at the same offsets as the original's.
static void each_hash_table_finds_it(void)
{
    size_t len;
    char *copy = vdso() ? copy_image(&len) : NULL;
    if (!copy) {
        SKIP("no vDSO here");
        return;
    }
    uintptr_t want = (uintptr_t)sys_vdso_sym(vdso(), "__vdso_clock_gettime", "LINUX_2.6") - (uintptr_t)vdso();
    int64_t tables[2] = {DT_HASH, DT_GNU_HASH};
    for (int t = 0; t < 2; t++) {
        struct elf64_dyn *other = dyn_entry(copy, tables[1 - t]);
        CHECK(dyn_entry(copy, tables[t]) != NULL); // this kernel's vDSO has both
        if (other)
            other->d_tag = DT_DEBUG; // leave only tables[t]
        void *fn = sys_vdso_sym(copy, "__vdso_clock_gettime", "LINUX_2.6");
        CHECK(fn != NULL && (uintptr_t)fn - (uintptr_t)copy == want);
        CHECK(sys_vdso_sym(copy, "__vdso_time", "LINUX_2.6") != NULL);
        CHECK(sys_vdso_sym(copy, "__vdso_no_such_function", NULL) == NULL);
        if (other)
            other->d_tag = tables[1 - t];
    }
    sys_munmap(copy, len);
}

// No vDSO, or an image the lookup cannot read: the clock takes the syscall.
static void no_vdso_falls_back_to_syscall(void)
{
    sys_vdso_init(NULL);
    CHECK(sys_vdso_clock_gettime == NULL);
    uint64_t a = syscall_ns(CLOCK_MONOTONIC), b = sys_now_ns(), c = syscall_ns(CLOCK_MONOTONIC);
    CHECK(a <= b && b <= c);
    struct timespec ts;
    CHECK_EQ(sys_clock_read(CLOCK_REALTIME, &ts), 0);
    CHECK(ts.tv_sec > 1600000000); // after 2020: a wall-clock time, not garbage

    size_t len;
    char *copy = vdso() ? copy_image(&len) : NULL;
    if (copy) {
        struct elf64_ehdr *eh = (void *)copy;
        struct elf64_phdr *ph = (void *)(copy + eh->e_phoff);
        sys_vdso_init(copy);
        CHECK(sys_vdso_clock_gettime != NULL); // the copy itself is readable ...
        copy[1] = 'X';                         // ... not with a broken magic number
        sys_vdso_init(copy);
        CHECK(sys_vdso_clock_gettime == NULL);
        copy[1] = 'E', copy[4] = 1; // nor as a 32-bit image
        sys_vdso_init(copy);
        CHECK(sys_vdso_clock_gettime == NULL);
        copy[4] = ELFCLASS64;
        for (int i = 0; i < eh->e_phnum; i++) // nor without a dynamic table
            if (ph[i].p_type == PT_DYNAMIC)
                ph[i].p_type = 0x6474e550; // PT_GNU_EH_FRAME
        sys_vdso_init(copy);
        CHECK(sys_vdso_clock_gettime == NULL);
        sys_munmap(copy, len);
        copy = copy_image(&len); // a fresh copy: nor without any hash table
        dyn_entry(copy, DT_HASH)->d_tag = DT_DEBUG;
        dyn_entry(copy, DT_GNU_HASH)->d_tag = DT_DEBUG;
        sys_vdso_init(copy);
        CHECK(sys_vdso_clock_gettime == NULL);
        sys_munmap(copy, len);
    }
    sys_vdso_init(vdso());
}

static int fake_calls;
static int failing_clock(int clock, struct timespec *ts)
{
    (void)clock, (void)ts;
    fake_calls++;
    return -ENOSYS;
}

// When the vDSO's function fails, the clock asks the kernel instead.
static void vdso_error_falls_back_to_syscall(void)
{
    sys_vdso_clock_fn saved = sys_vdso_clock_gettime;
    sys_vdso_clock_gettime = failing_clock;
    fake_calls = 0;
    uint64_t a = syscall_ns(CLOCK_MONOTONIC), b = sys_now_ns(), c = syscall_ns(CLOCK_MONOTONIC);
    CHECK_EQ(fake_calls, 1);
    CHECK(a <= b && b <= c);
    struct timespec ts;
    CHECK_EQ(sys_clock_read(12345, &ts), -EINVAL); // the syscall's answer to a clock that does not exist
    sys_vdso_clock_gettime = saved;
}

// ---- proof that the syscall is gone: a seccomp filter --------------------------
// The kernel's BPF filter ABI (linux/filter.h, linux/seccomp.h), as much as
// one filter on one syscall needs.
struct sock_filter {
    uint16_t code;
    uint8_t jt, jf;
    uint32_t k;
};
struct sock_fprog {
    unsigned short len;
    struct sock_filter *filter;
};
#define PR_SET_SECCOMP           22
#define PR_SET_NO_NEW_PRIVS      38
#define SECCOMP_MODE_FILTER      2
#define SECCOMP_RET_KILL_PROCESS 0x80000000u
#define SECCOMP_RET_ERRNO        0x00050000u
#define SECCOMP_RET_ALLOW        0x7fff0000u
#define AUDIT_ARCH_X86_64        0xc000003eu
#define SIGSYS                   31

// Makes every later clock_gettime syscall of this process end with `action`.
static int forbid_clock_gettime(uint32_t action)
{
    struct sock_filter f[] = {
        {0x20, 0, 0, 4},                 // load seccomp_data.arch
        {0x15, 0, 3, AUDIT_ARCH_X86_64}, // not x86_64: allow
        {0x20, 0, 0, 0},                 // load seccomp_data.nr
        {0x15, 0, 1, NR_clock_gettime},  // not clock_gettime: allow
        {0x06, 0, 0, action},
        {0x06, 0, 0, SECCOMP_RET_ALLOW},
    };
    struct sock_fprog prog = {sizeof f / sizeof f[0], f};
    // Without no_new_privs an unprivileged process may not install a filter.
    long r = syscall5(NR_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    return (int)(r < 0 ? r : syscall3(NR_prctl, PR_SET_SECCOMP, SECCOMP_MODE_FILTER, (long)&prog));
}

enum {
    CHILD_OK,
    CHILD_NO_SECCOMP,
    CHILD_FILTER_MISSED,
    CHILD_VDSO_SYSCALLS,
    CHILD_READ_FAILED,
    CHILD_NO_FALLBACK,
    CHILD_BACKWARDS
};

// In a child: first a filter that fails clock_gettime with EPERM, to learn
// whether the vDSO itself can read the clock here (on a clock source it
// cannot read, it makes the syscall); then one that kills, and the clock read
// a thousand times as the server reads it.
static void clock_child(void)
{
    struct timespec ts;
    if (forbid_clock_gettime(SECCOMP_RET_ERRNO | EPERM) < 0)
        sys_exit_group(CHILD_NO_SECCOMP);
    if (sys_clock_gettime(CLOCK_MONOTONIC, &ts) != -EPERM)
        sys_exit_group(CHILD_FILTER_MISSED);
    if (sys_vdso_clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        sys_exit_group(CHILD_VDSO_SYSCALLS);
    if (sys_clock_read(CLOCK_MONOTONIC, &ts) != 0 || sys_clock_read(CLOCK_REALTIME, &ts) != 0)
        sys_exit_group(CHILD_READ_FAILED); // it got EPERM: it made the syscall
    sys_vdso_clock_fn found = sys_vdso_clock_gettime;
    sys_vdso_clock_gettime = NULL; // without the vDSO, the same read is the syscall
    if (sys_clock_read(CLOCK_MONOTONIC, &ts) != -EPERM)
        sys_exit_group(CHILD_NO_FALLBACK);
    sys_vdso_clock_gettime = found;
    if (forbid_clock_gettime(SECCOMP_RET_KILL_PROCESS) < 0)
        sys_exit_group(CHILD_NO_SECCOMP);
    uint64_t last = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t now = sys_now_ns();
        if (now < last)
            sys_exit_group(CHILD_BACKWARDS);
        last = now;
    }
    sys_exit_group(CHILD_OK);
}

static void clock_makes_no_syscall(void)
{
    if (!sys_vdso_clock_gettime) {
        SKIP("no vDSO clock here");
        return;
    }
    int pid = sys_fork();
    if (pid == 0)
        clock_child();
    CHECK(pid > 0);
    int status = 0;
    CHECK_EQ(sys_wait4(pid, &status, 0, NULL), pid);
    int code = W_IFEXITED(status) ? (status >> 8) & 0xff : -W_TERMSIG(status);
    if (code == CHILD_NO_SECCOMP)
        SKIP("this kernel or sandbox refuses a seccomp filter");
    else if (code == CHILD_VDSO_SYSCALLS)
        SKIP("the vDSO itself makes the syscall on this clock source");
    CHECK(code != -SIGSYS || !"sys_now_ns made a clock_gettime syscall");
    CHECK(code != CHILD_READ_FAILED || !"sys_clock_read made a clock_gettime syscall");
    CHECK(code != CHILD_FILTER_MISSED || !"the filter let clock_gettime through");
    CHECK(code != CHILD_NO_FALLBACK || !"sys_clock_read without the vDSO made no syscall");
    CHECK(code == CHILD_OK || code == CHILD_NO_SECCOMP || code == CHILD_VDSO_SYSCALLS);
}

int main(void)
{
    RUN(vdso_found);
    RUN(vdso_agrees_with_syscall);
    RUN(unknown_name_is_null);
    RUN(each_hash_table_finds_it);
    RUN(no_vdso_falls_back_to_syscall);
    RUN(vdso_error_falls_back_to_syscall);
    RUN(clock_makes_no_syscall);
    return test_summary();
}
