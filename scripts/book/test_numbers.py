#!/usr/bin/env python3
"""test_numbers.py: proves the numbers check fails on a number the build does not vouch for.

1. The check on the real chapters passes; a copy of a chapter with a bare
   number planted in its prose fails, naming that line. Two contradictions
   the book once held ("about 400 lines in five files" for the network layer,
   "an idle 16 MB heap") are caught when written back.
2. The forms: a `SPEC`{.n} resolves from the code and from a results file;
   a missing constant, file or results row fails; an .approx span without its
   source and a .measured box without its command fail; a number in a listing,
   a transcript or `code` is not prose.
3. The book's filter: pandoc shows the value, not the spec, and stops with the
   chapter line when a spec does not resolve.
Prints one "[OK] ..." or "[FAIL] ..." line per case; exits non-zero on a failure.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import book_numbers  # noqa: E402

from cases import captured, case, status  # noqa: E402


def run_check(paths):
    return captured(book_numbers.check, paths)


def check_text(tmp, text, name="x.md"):
    path = os.path.join(tmp, name)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)
    return run_check([path])


def chapter_cases(tmp):
    status, out = run_check(book_numbers.default_files())
    case("the chapters and README.md pass the check", status == 0, out[-1500:])
    src = os.path.join(ROOT, "chapters", "05-net.md")
    lines = open(src, encoding="utf-8").read().split("\n")
    # The first prose line after the title: a paragraph, not a fence or a heading.
    at = next(i for i, l in enumerate(lines) if i > 0 and l and l[0].isalpha())
    planted = lines[:at] + ["The accept loop takes 12 ms on a quiet machine."] + lines[at:]
    copy = os.path.join(tmp, "05-net.md")
    with open(copy, "w", encoding="utf-8") as fh:
        fh.write("\n".join(planted))
    status, out = run_check([copy])
    case("a planted '12 ms' in chapter 5's prose fails, naming its line",
         status != 0 and f"05-net.md:{at + 1}:" in out and "12 ms" in out, out[-800:])
    for text, what in (("The network layer is about 400 lines in five files.\n", "400 lines"),
                       ("Each worker draws on an idle 16 MB heap.\n", "16 MB"),
                       ("The first flag set is accepted with `0x198`.\n", "0x198")):
        status, out = check_text(tmp, text)
        case(f"the stale claim '{what}' is caught when written back", status != 0 and what in out, out)


def form_cases(tmp):
    v = book_numbers.resolve("const src/config.h EX_URING_BUFS")
    want = re.search(r"#define EX_URING_BUFS\s+(\d+)", open(os.path.join(ROOT, "src", "config.h")).read()).group(1)
    case("a constant comes from src/config.h", v == want, f"{v} != {want}")
    v = book_numbers.resolve("const src/config.h THREAD_STACK_SIZE size")
    case("an expression constant is evaluated and shown as a size", v == "64 KiB", v)
    n = sum(1 for _ in open(os.path.join(ROOT, "src", "config.h")))
    v = book_numbers.resolve("lines src/config.h")
    case("lines counts the file's lines", v == str(n), f"{v} != {n}")
    results = sorted(f for f in os.listdir(os.path.join(ROOT, "results")) if f.endswith(".csv"))
    if results:
        v = book_numbers.resolve(f"csv results/{results[0]} server=nginx rps count")
        case("a results CSV answers a row count", v.isdigit() and int(v) > 0, v)
    for spec, what in (("const src/config.h NO_SUCH_CONSTANT", "a missing constant"),
                       ("lines src/no-such-dir/*.c", "a missing file"),
                       ("csv results/no-such.csv rps", "a missing results file"),
                       (f"csv results/{results[0] if results else 'x.csv'} server=no-such-server rps", "a missing row")):
        status, out = check_text(tmp, f"It is `{spec}`{{.n}} wide.\n")
        case(f"{what} fails the check", status != 0 and spec in out, out)
    status, out = check_text(tmp, "A delayed ACK waits [about 40 ms]{.approx}.\n")
    case("an approximate figure without its source fails", status != 0 and "src=" in out, out)
    status, out = check_text(tmp, "A delayed ACK waits [about 40 ms]{.approx src=\"Linux TCP_DELACK_MIN\"}.\n")
    case("an approximate figure with its source passes", status == 0, out)
    status, out = check_text(tmp, "::: {.measured on=\"a 2-core VM\"}\n| a |\n|---|\n| 3 ms |\n:::\n")
    case("a measured box without its command fails", status != 0 and "command" in out, out)
    status, out = check_text(tmp, "::: {.measured on=\"a 2-core VM\" command=\"make bench\"}\n| a |\n|---|\n"
                             "| 3 ms |\n:::\n")
    case("a measured box with machine and command passes", status == 0, out)
    status, out = check_text(tmp, "Text.\n\n```c\nsleep(10 ms);\n```\n\nThe `10 ms` and `--max=5s` are code.\n")
    case("numbers in a listing and in `code` are not prose", status == 0, out)


def pandoc_cases(tmp):
    if not shutil.which("pandoc"):
        case("pandoc renders the figures", False, "pandoc is missing (scripts/setup.sh book installs it)")
        return
    path = os.path.join(tmp, "p.md")
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("# P\n\nStacks of `const src/config.h THREAD_STACK_SIZE size`{.n} each.\n")
    r = subprocess.run(["pandoc", "--from=markdown", "--lua-filter=scripts/book/snippets.lua", "--to=plain", path],
                       cwd=ROOT, capture_output=True, text=True)
    case("pandoc shows the value, not the spec", r.returncode == 0 and "Stacks of 64 KiB each." in
         " ".join(r.stdout.split()), r.stdout + r.stderr)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("# P\n\nA figure: `const src/config.h NO_SUCH_CONSTANT`{.n}.\n")
    r = subprocess.run(["pandoc", "--from=markdown", "--lua-filter=scripts/book/snippets.lua", "--to=plain", path],
                       cwd=ROOT, capture_output=True, text=True)
    case("pandoc stops on a figure that does not resolve, naming the chapter line",
         r.returncode != 0 and "p.md:3" in r.stderr and "NO_SUCH_CONSTANT" in r.stderr, r.stderr[-600:])


def main():
    with tempfile.TemporaryDirectory(prefix="book-numbers-") as tmp:
        chapter_cases(tmp)
        form_cases(tmp)
        pandoc_cases(tmp)
    return status()


if __name__ == "__main__":
    sys.exit(main())
