#!/usr/bin/env python3
"""test_glossary.py: proves the glossary check fails on a defined term the glossary lacks.

1. The check on the real chapters passes.
2. In a copy of the chapters: a term a chapter defines with no entry, an
   entry taken out (multishot), an entry that links to a section instead of
   the definition, a term defined twice, an entry whose term no chapter
   defines, and a cross-reference to no entry: each fails, naming the
   chapter or glossary line and the term.
3. The book's filter: a definition is shown in italics with the anchor the
   check expects, and every anchor the glossary links to is in the book.
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
import check_glossary  # noqa: E402

from cases import captured, case, edit, status  # noqa: E402


def run_check(root):
    return captured(check_glossary.check, root)


def chapter_cases(tmp):
    status, out = run_check(ROOT)
    case("the chapters and the glossary pass the check", status == 0, out[-1500:])
    root = os.path.join(tmp, "tree")
    shutil.copytree(os.path.join(ROOT, "chapters"), os.path.join(root, "chapters"))
    ch4, ch9 = os.path.join("chapters", "04-executor.md"), os.path.join("chapters", "09-io-uring.md")
    glossary = os.path.join("chapters", "glossary.md")

    def restore(rel):
        shutil.copy(os.path.join(ROOT, rel), os.path.join(root, rel))

    line = edit(root, ch4, "## Two places to sleep\n", "## Two places to sleep\n\nA [run batch]{.dfn} is "
                "what a worker runs before it looks at the reactor again.\n")
    status, out = run_check(root)
    case("a term chapter 4 defines without a glossary entry fails, naming the chapter line and the term",
         status != 0 and f"04-executor.md:{line + 2}: defines 'run batch', but chapters/glossary.md has no entry"
         in out, out[-1200:])
    restore(ch4)

    entry = re.search(r"\nmultishot\n(?::   .*\n)(?:    .*\n)*\n", open(os.path.join(ROOT, glossary)).read()).group(0)
    edit(root, glossary, entry, "\n")
    dline = next(i for i, l in enumerate(open(os.path.join(ROOT, ch9), encoding="utf-8"), 1)
                 if "[multishot]{.dfn}" in l)
    status, out = run_check(root)
    case("the glossary without its multishot entry fails, naming chapter 9's definition",
         status != 0 and f"09-io-uring.md:{dline}: defines 'multishot', but chapters/glossary.md has no entry" in out,
         out[-1200:])
    restore(glossary)

    edit(root, glossary, "[Chapter 4](#dfn-kick)", "[Chapter 4](#the-decision-on-paper)")
    status, out = run_check(root)
    case("an entry that links to a section, not to the definition, fails",
         status != 0 and "entry 'kick' links first to #the-decision-on-paper, not to its definition #dfn-kick"
         in out, out[-1200:])
    restore(glossary)

    line = edit(root, ch9, "time is the *poller* (leader/follower).", "time is the [poller]{.dfn} (leader/follower).")
    status, out = run_check(root)
    case("a term defined twice fails, naming both places",
         status != 0 and f"09-io-uring.md:{line}: 'poller' is defined again (first at chapters/04-executor.md:"
         in out, out[-1200:])
    restore(ch9)

    edit(root, ch4, "[Edge-triggered]{.dfn} means", "Edge-triggered means")
    status, out = run_check(root)
    case("an entry whose term no chapter defines fails, saying how to mark it",
         status != 0 and "entry 'edge-triggered': no chapter defines 'edge-triggered' (mark its first use "
         "[edge-triggered]{.dfn})" in out, out[-1200:])
    restore(ch4)

    edit(root, glossary, "See *poll function*.", "See *poll routine*.")
    status, out = run_check(root)
    case("a cross-reference to no entry fails",
         status != 0 and "entry 'poll' refers to 'poll routine', which has no entry" in out, out[-1200:])
    restore(glossary)
    status, out = run_check(root)
    case("the restored copy passes again", status == 0, out[-1200:])


def pandoc_cases(tmp):
    if not shutil.which("pandoc"):
        case("pandoc renders the definitions", False, "pandoc is missing (scripts/setup.sh book installs it)")
        return
    path = os.path.join(tmp, "d.md")
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("# D\n\nA worker [parks]{.dfn term=\"park\"} on a futex; see [park](#dfn-park).\n")
    r = subprocess.run(["pandoc", "--from=markdown", "--lua-filter=scripts/book/snippets.lua", "--to=html5", path],
                       cwd=ROOT, capture_output=True, text=True)
    html = " ".join(r.stdout.split())
    case("a definition is shown in italics with the anchor the check expects",
         r.returncode == 0 and re.search(r'id="dfn-park"[^>]*><em>parks</em>', html) is not None
         and check_glossary.anchor("park") == "dfn-park" and "term=" not in html, html + r.stderr[-600:])
    chapters = sorted(os.path.join("chapters", f) for f in os.listdir(os.path.join(ROOT, "chapters"))
                      if f.endswith(".md"))
    r = subprocess.run(["pandoc", "--from=markdown", "--lua-filter=scripts/book/snippets.lua", "--to=html5",
                        *chapters], cwd=ROOT, capture_output=True, text=True)
    html = " ".join(r.stdout.split())
    ids = set(re.findall(r'<dfn id="(dfn-[^"]+)"', html))
    want = {ident for ch in check_glossary.chapter_files(ROOT)
            for _, _, ident in check_glossary.definitions(os.path.join(ROOT, ch), ch)}
    case("the book's anchors are the ones the check computes", r.returncode == 0 and ids == want,
         f"only in the book: {sorted(ids - want)}; only in the check: {sorted(want - ids)}; {r.stderr[-400:]}")
    links = {ident for e in check_glossary.glossary_entries(os.path.join(ROOT, "chapters", "glossary.md"))
             for ident in e["links"]}
    all_ids = set(re.findall(r'\sid="([^"]+)"', html))
    case("every link of the glossary lands in the book", links <= all_ids, f"missing: {sorted(links - all_ids)}")


def main():
    with tempfile.TemporaryDirectory(prefix="book-glossary-") as tmp:
        chapter_cases(tmp)
        pandoc_cases(tmp)
    return status()


if __name__ == "__main__":
    sys.exit(main())
