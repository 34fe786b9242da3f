#!/usr/bin/env python3
"""check_solutions.py: applies each exercise solution in chapters/solutions/ to a clean copy and tests it.

    python3 scripts/check_solutions.py            every solution listed in chapters/solutions/solutions.txt
    python3 scripts/check_solutions.py 03 05      only the solutions whose names start with these

For each patch: copy the repository's files (git ls-files: tracked and untracked-but-not-ignored)
to a temporary directory, with the tree's objects (build/stage-*, build/tsan, times kept, so make
rebuilds what the patch touches; not for a patch that changes the build's rules, nor with
SOLUTIONS_FRESH_BUILD=1), `git apply` the patch there (a patch that no longer
applies fails here, loudly), run `python3 test.py <tests>` from solutions.txt, check that every C
file matches .clang-format (`make format-check`), then run the patch's own check command. A
section without a patch names, with `reference`, code a later chapter added to the tree: its
tests and check run on an unpatched copy. Prints one line per solution and, when all pass,
"solutions: N passed (P patches applied, R references in the tree)"; otherwise names the failing
ones and exits 1. Stdlib only.
"""
import configparser
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOLUTIONS = os.path.join(ROOT, "chapters", "solutions")
INDEX = os.path.join(SOLUTIONS, "solutions.txt")
STEP_TIMEOUT = 600


def repo_files():
    out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                         cwd=ROOT, capture_output=True, check=True).stdout
    return [f for f in out.decode().split("\0") if f and os.path.isfile(os.path.join(ROOT, f))]


def clean_copy(files, dest):
    for f in files:
        target = os.path.join(dest, f)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copy2(os.path.join(ROOT, f), target)
    # The interop tests' node packages are installed, not tracked; link them if present.
    node = os.path.join(ROOT, "scripts", "node", "node_modules")
    if os.path.isdir(node):
        os.symlink(node, os.path.join(dest, "scripts", "node", "node_modules"))


# What a patch may change and still build on the tree's objects: sources, not
# the build's own rules (a changed flag would not rebuild what it affects).
BUILD_RULES = re.compile(r"^diff --git a/(Makefile|\S+\.mk|scripts/\S+|test\.py) ", re.M)


def copy_build(dest):
    """Copies the tree's stage and TSan objects (build/stage-*, build/tsan) into dest,
    times kept: make then rebuilds only what the patch touched and what depends on it
    (the objects' .d files name every header; the hosted and fuzz programs depend on all
    of them). A whole stage-7 build takes about 35 s on a two-core machine, once per
    solution without this. Returns the number of directories copied."""
    top = os.path.join(ROOT, "build")
    if os.path.isdir(top) and not os.environ.get("SOLUTIONS_FRESH_BUILD"):
        kept = [d for d in sorted(os.listdir(top)) if re.fullmatch(r"stage-\d+(-clang)?|tsan", d)]
        for d in kept:
            shutil.copytree(os.path.join(top, d), os.path.join(dest, "build", d), symlinks=True)
        return len(kept)
    return 0


def run(cmd, cwd, shell=False):
    """Runs cmd; returns (ok, combined output)."""
    try:
        r = subprocess.run(cmd, cwd=cwd, shell=shell, executable="/bin/bash" if shell else None,
                           capture_output=True, text=True, timeout=STEP_TIMEOUT)
    except subprocess.TimeoutExpired:
        return False, f"timed out after {STEP_TIMEOUT} s"
    return r.returncode == 0, r.stdout + r.stderr


def check_one(name, meta, files):
    """Returns None if the patch applies and passes (a reference: if the tree passes), else the reason."""
    patch = os.path.join(SOLUTIONS, name)
    tmp = tempfile.mkdtemp(prefix="solution-")
    try:
        clean_copy(files, tmp)
        if "reference" in meta or not BUILD_RULES.search(open(patch, encoding="utf-8").read()):
            copy_build(tmp)
        if "reference" not in meta:
            ok, out = run(["git", "apply", "--whitespace=error-all", patch], tmp)
            if not ok:
                return f"does not apply to today's tree:\n{out.strip()}"
        tests = shlex.split(meta.get("tests", ""))
        ok, out = run([sys.executable, "test.py", *tests], tmp)
        ran = len(re.findall(r"^\[OK\] (?!build:|freestanding:)", out, re.M))
        if not ok:
            fails = "\n".join(l for l in out.splitlines() if l.startswith("[FAIL]"))
            return f"`python3 test.py {' '.join(tests)}` failed:\n{(fails or out)[-3000:]}"
        if ran == 0:
            return f"`python3 test.py {' '.join(tests)}` ran no test beyond the build"
        ok, out = run(["make", "-s", "format-check"], tmp)
        if not ok:
            return f"the patched code is not clang-format clean:\n{out[-2000:]}"
        check = meta.get("check", "").strip()
        if check:
            ok, out = run(check, tmp, shell=True)
            if not ok:
                return f"its check failed:\n{check}\n{out[-2000:]}"
        return None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    index = configparser.ConfigParser(interpolation=None, comment_prefixes=("#",))
    if not index.read(INDEX):
        sys.exit(f"check_solutions: {os.path.relpath(INDEX, ROOT)} is missing")
    patches = sorted(f for f in os.listdir(SOLUTIONS) if f.endswith(".patch"))
    unlisted = [p for p in patches if p not in index]
    missing = [s for s in index.sections() if s not in patches and "reference" not in index[s]]
    if unlisted or missing:
        sys.exit(f"check_solutions: solutions.txt and the patches disagree: "
                 f"unlisted {unlisted}, listed but absent {missing}")
    wanted = sys.argv[1:]
    names = [s for s in index.sections() if not wanted or any(s.startswith(w) for w in wanted)]
    files = repo_files()
    failed = []
    started = time.monotonic()
    for name in names:
        t0 = time.monotonic()
        why = check_one(name, index[name], files)
        took = time.monotonic() - t0
        ref = index[name].get("reference")
        what = index[name].get("exercise", "?") + (f"; reference: {ref}" if ref else "")
        if why is None:
            print(f"[OK] {name} ({what}; {took:.0f} s)", flush=True)
        else:
            failed.append(name)
            print(f"[FAIL] {name}: {why}", flush=True)
    print(f"# {time.monotonic() - started:.0f} s")
    if failed:
        print(f"solutions: {len(failed)} of {len(names)} failed: {', '.join(failed)}")
        sys.exit(1)
    refs = sum(1 for n in names if "reference" in index[n])
    print(f"solutions: {len(names)} passed ({len(names) - refs} patches applied, "
          f"{refs} reference{'' if refs == 1 else 's'} in the tree)")


if __name__ == "__main__":
    main()
