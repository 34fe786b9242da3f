#!/usr/bin/env python3
"""test_listings.py: proves the listings check fails on a listing that shows a later chapter's symbol.

1. The check on the real chapters passes.
2. In a copy of the tree: chapter 4 listing the per-core notify, a chapter-4
   fence that says show="per-core", chapter 4 without the sentence that
   introduces `sched_home`, and src/exec/timer.c without the
   "[later" ": per-core]" marker that hides a per-core line from chapter 4:
   each fails, naming the chapter line, the listing and the symbol. Without
   its allow-list, chapter 3's deliberate show="per-core" fails too.
3. The symbol index: functions, static functions, macros, types and enum
   constants of src/; the kernel's names (EAGAIN) are not in it, and an
   English word in a comment ("the free list") is not a name.
Prints one "[OK] ..." or "[FAIL] ..." line per case; exits non-zero on a failure.
"""
import os
import re
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import check_listings  # noqa: E402

from cases import captured, case, edit, status  # noqa: E402


def run_check(root, allow=check_listings.ALLOW_FILE):
    return captured(check_listings.check, root, allow_file=allow)


def copy_tree(tmp):
    """A copy of what the check reads: src/ and chapters/ copied, the other snippet folders linked."""
    root = os.path.join(tmp, "tree")
    os.makedirs(root)
    for d in ("src", "chapters"):
        shutil.copytree(os.path.join(ROOT, d), os.path.join(root, d),
                        ignore=shutil.ignore_patterns("node_modules", "build"))
    for d in ("bench", "scripts", "Makefile", "test.py"):
        if os.path.exists(os.path.join(ROOT, d)):
            os.symlink(os.path.join(ROOT, d), os.path.join(root, d))
    return root


def restore(root, rel):
    shutil.copy(os.path.join(ROOT, rel), os.path.join(root, rel))


def chapter_cases(tmp):
    status, out = run_check(ROOT)
    case("the chapters pass the check", status == 0, out[-1500:])
    root = copy_tree(tmp)
    ch4 = os.path.join("chapters", "04-executor.md")

    # A listing of chapter 10's notify in chapter 4.
    line = edit(root, ch4, "```{.c snippet=\"notify\"}\n", "```{.c snippet=\"notify-per-core\"}\n```\n\n"
                "```{.c snippet=\"notify\"}\n")
    status, out = run_check(root)
    case("chapter 4 listing the per-core notify fails, naming chapter, listing and symbol",
         status != 0 and f"04-executor.md:{line}: listing 'notify-per-core' names notify_per_core" in out
         and "chapter 10 (per-core)" in out, out[-1200:])
    restore(root, ch4)

    # A fence that shows the per-core lines in chapter 4.
    line = edit(root, ch4, "```{.c snippet=\"worker-main\"}", "```{.c snippet=\"worker-main\" show=\"per-core\"}")
    status, out = run_check(root)
    case("a chapter-4 fence that says show=\"per-core\" fails, naming the listing",
         status != 0 and f"04-executor.md:{line}: listing 'worker-main' says show=\"per-core\"" in out, out[-1200:])
    case("... and the per-core symbols it would show",
         "listing 'worker-main' names per_core_loop" in out, out[-1200:])
    restore(root, ch4)

    # Chapter 4 without the sentence that introduces sched_home: its listings
    # name it before chapter 9's prose does.
    edit(root, ch4, "task's waker (`sched_home`, the task's ready queue), which", "task's waker, which")
    status, out = run_check(root)
    case("chapter 4 without its mention of sched_home fails on its reactor listings",
         status != 0 and re.search(r"04-executor\.md:\d+: listing 'epoll-arm' names sched_home .*introduces it "
                                   r"in chapter 9", out) is not None, out[-1200:])
    restore(root, ch4)

    # A per-core line of the timer heap without its marker shows in chapter 4.
    timer = os.path.join("src", "exec", "timer.c")
    edit(root, timer, "// the lock [later: per-core]\n    sys_mutex_lock(&h->lock);\n    if (t->index",
         "// the lock\n    sys_mutex_lock(&h->lock);\n    if (t->index")
    status, out = run_check(root)
    case("a per-core source line without its [later] marker fails in chapter 4's timer-heap listing",
         status != 0 and re.search(r"04-executor\.md:\d+: listing 'timer-heap' names sched_note_shared_writes "
                                   r"\(src/exec/timer\.c:\d+\)", out) is not None, out[-1200:])
    restore(root, timer)

    empty = os.path.join(tmp, "no-allow.txt")
    open(empty, "w").close()
    status, out = run_check(root, empty)
    case("without the allow-list, chapter 3's show=\"per-core\" fails",
         status != 0 and "03-scheduler.md" in out and "listing 'task-table' says show=\"per-core\"" in out,
         out[-1200:])
    status, out = run_check(root)
    case("the restored copy passes again", status == 0, out[-1200:])


def index_cases():
    text = """#define LIMIT 4
struct thing { int a; };
typedef int (*thing_fn)(struct thing *t);
enum colour { RED, GREEN = 2 };
static int helper(int x) { return x + LIMIT; }
int api_call(struct thing *t, const char *s)
{
    static const char *msg = "not_a_function(";
    return helper(t->a);
}
_Static_assert(LIMIT > 0, "a limit");
"""
    got = {(name, kind, static) for name, kind, _, static in check_listings.c_definitions(text)}
    want = {("LIMIT", "macro", True), ("thing", "struct", True), ("thing_fn", "typedef", True),
            ("colour", "enum", True), ("RED", "enum constant", True), ("GREEN", "enum constant", True),
            ("helper", "function", True), ("api_call", "function", False)}
    case("c_definitions finds macros, types, enum constants and functions, nothing else", got == want,
         f"{sorted(got ^ want)}")
    index = check_listings.symbol_index(ROOT)
    case("src/'s functions, types and macros are symbols",
         all(k in index for k in (("sched_wake", None), ("reactor_ops", None), ("EX_PER_CORE", None))),
         "sched_wake, reactor_ops or EX_PER_CORE missing")
    case("the kernel's names are not symbols (EAGAIN, EPOLLIN, NR_read)",
         not any(k[0] in ("EAGAIN", "EPOLLIN", "NR_read") for k in index), "found one")
    case("a static function is its file's own", ("per_core_loop", os.path.join("src", "exec", "worker.c")) in index
         and ("per_core_loop", None) not in index, "per_core_loop's scope")
    line = "    SLOT_NET_BUF,      // net: the thread's free list of I/O buffers"
    m = next(m for m in check_listings.TOKEN_RE.finditer(line) if m.group(2) == "free")
    case("an English word in a comment is not a name",
         check_listings.in_comment(line, m.start(2)) and not check_listings.code_like(line, m), line)


def main():
    with tempfile.TemporaryDirectory(prefix="book-listings-") as tmp:
        chapter_cases(tmp)
        index_cases()
    return status()


if __name__ == "__main__":
    sys.exit(main())
