#!/usr/bin/env python3
"""test_transcripts.py: proves the transcript check fails on a stale transcript, and how it matches.

1. The matcher: elisions, markers, and a literal line the output lacks.
2. A copy of a chapter with one line of a transcript changed: the book
   build's transcript step (`make book-transcripts` on that copy) must fail and
   name that line; the unchanged copy must pass. The copy's commands hit the
   cache the real chapter filled, and the changed block runs its (quick)
   command once more before it fails.
3. The cache keeps only what matched: a transcript that failed because the
   machine lacked something passes on the next build once that is supplied,
   with nothing removed by hand; and the cache key changes with the npm
   packages installed under scripts/node.
Prints one "[OK] ..." or "[FAIL] ..." line per case; exits non-zero on a failure.
"""
import os
import re
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import transcripts  # noqa: E402

from cases import case, status  # noqa: E402


def matcher_cases():
    out = ["# stage 1", "[OK] a", "[OK] b", "[OK] c", "# 3 s; log in x.log", "64 passed, 0 failed"]
    good = ["# stage 1", "...", "[OK] c", "# {{n}} s; log in {{any}}", "{{n}} passed, 0 failed"]
    case("matcher: elision and markers accept the output", transcripts.compare(good, out) is None)
    r = transcripts.compare(["# stage 1", "...", "[OK] d", "..."], out)
    case("matcher: a literal line the command does not print fails, naming it",
         r is not None and r[0] == 2 and "[OK] d" in r[1], repr(r))
    r = transcripts.compare(["# stage 1", "[OK] a"], out)
    case("matcher: output past the block's end fails without a trailing elision", r is not None, repr(r))
    r = transcripts.compare(["{{n}} passed, 0 failed"], ["x passed, 0 failed"])
    case("matcher: {{n}} matches only a number", r is not None, repr(r))
    r = transcripts.compare(["tls={{hex}} ok"], ["tls=0x7ff691250f80 ok"])
    case("matcher: {{hex}} matches an address", r is None, repr(r))


def stale_chapter_case():
    src = os.path.join(ROOT, "chapters", "01-syscalls.md")
    lines = open(src, encoding="utf-8").read().split("\n")
    blocks = list(transcripts.transcripts([src]))
    if not blocks:
        case("stale transcript fails make book-transcripts", False, f"no transcript in {src}")
        return
    # A block whose command is quick (no test suite): it runs again once changed.
    b = next((b for b in blocks if "test.py" not in b.attrs.get("command", "")), blocks[0])
    # Change the first literal line of the block that is neither an elision nor a marker line.
    idx = next(i for i, l in enumerate(b.body) if l.strip() and l != "..." and "{{" not in l)
    target = b.line + 1 + idx  # 1-based line of the changed line in the chapter
    tmpdir = os.path.join(ROOT, "build", "book", "tests")
    os.makedirs(tmpdir, exist_ok=True)
    good = os.path.join(tmpdir, "same.md")
    stale = os.path.join(tmpdir, "stale.md")
    with open(good, "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines))
    changed = list(lines)
    changed[target - 1] = changed[target - 1] + " (stale)"
    with open(stale, "w", encoding="utf-8") as fh:
        fh.write("\n".join(changed))

    def run(path):
        return subprocess.run(["make", "-s", "book-transcripts", f"BOOK_CHAPTERS={os.path.relpath(path, ROOT)}"],
                              cwd=ROOT, capture_output=True, text=True, timeout=900)

    r = run(good)
    case("unchanged chapter copy passes make book-transcripts", r.returncode == 0, (r.stdout + r.stderr)[-1500:])
    r = run(stale)
    where = f"{os.path.relpath(stale, ROOT)}:{target}"
    named = re.search(re.escape(where) + r"\b", r.stderr) is not None
    case(f"stale transcript fails make book-transcripts, naming {where}",
         r.returncode != 0 and named, f"exit {r.returncode}; {(r.stdout + r.stderr)[-1500:]}")


def missing_dependency_case():
    """The issue this guards against: a transcript run before scripts/setup.sh
    printed a [SKIP]; after the install the next build still served that output."""
    tmpdir = os.path.join(ROOT, "build", "book", "tests")
    deps = os.path.join(tmpdir, "deps")
    shutil.rmtree(deps, ignore_errors=True)
    os.makedirs(deps)
    chapter = os.path.join(tmpdir, "needs-dep.md")
    rel_deps = os.path.relpath(deps, ROOT)
    # `ls DIR` names a directory, not a file, so the dependency is not in the
    # key as a named input: only the cache rule can make this pass.
    with open(chapter, "w", encoding="utf-8") as fh:
        fh.write(f"# A chapter\n\n```{{.transcript command=\"ls {rel_deps}\" stage=1}}\nplaywright-core\n```\n")

    def run():
        return subprocess.run(["make", "-s", "book-transcripts", f"BOOK_CHAPTERS={os.path.relpath(chapter, ROOT)}"],
                              cwd=ROOT, capture_output=True, text=True, timeout=600)

    # The pass that the last run of this test cached has the same key (the
    # dependency is deliberately not in it): start from no cached result.
    block = transcripts.transcripts([chapter])[0]
    cached = transcripts.cache_path(block, 1, float(block.attrs.get("timeout", "180")))
    if os.path.exists(cached):
        os.remove(cached)
    r = run()
    case("a transcript fails while the machine lacks what it prints", r.returncode != 0, (r.stdout + r.stderr)[-800:])
    open(os.path.join(deps, "playwright-core"), "w").close()
    r = run()
    case("once the dependency is there, the next build passes (the failure was not cached)",
         r.returncode == 0, (r.stdout + r.stderr)[-800:])
    os.remove(os.path.join(deps, "playwright-core"))
    r = run()
    case("a passing run is cached: the next build passes without running the command",
         r.returncode == 0, (r.stdout + r.stderr)[-800:])
    shutil.rmtree(deps, ignore_errors=True)

    root = os.path.join(tmpdir, "fake-root")
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(os.path.join(root, "scripts"))
    before = transcripts.environment_fingerprint(root)
    pkg = os.path.join(root, transcripts.NODE_DIR, "ws")
    os.makedirs(pkg)
    with open(os.path.join(pkg, "package.json"), "w") as fh:
        fh.write('{"name": "ws", "version": "8.0.0"}')
    installed = transcripts.environment_fingerprint(root)
    with open(os.path.join(pkg, "package.json"), "w") as fh:
        fh.write('{"name": "ws", "version": "8.1.0"}')
    upgraded = transcripts.environment_fingerprint(root)
    case("the cache key changes when npm packages are installed or upgraded",
         len({before, installed, upgraded}) == 3, f"{before} {installed} {upgraded}")
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    matcher_cases()
    stale_chapter_case()
    missing_dependency_case()
    sys.exit(status())
