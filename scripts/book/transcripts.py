#!/usr/bin/env python3
"""transcripts.py: runs every console transcript of the book and compares it with its output.

A transcript is a fenced block with class `transcript` in a chapter:

    ```{.transcript command="python3 test.py ch1" stage=1}
    # stage 1: layers sys
    ...
    {{n}} passed, 0 failed
    ```

Attributes:
  command   what the reader types; run with bash from the repository root,
            stdout and stderr merged, as the reader's terminal would show them.
  stage     the stage the chapter belongs to: `make -s STAGE=N` is built first,
            so build/stage-N holds layers 1..N of today's sources.
  timeout   seconds before the command is killed (default 180); a killed
            command fails the check.
  status    the exit status the command must end with (default 0).

Lines of the block, compared with the command's output line by line (trailing
blanks ignored):
  `...` alone on a line   elides any number of output lines (also none).
  `{{n}}`                 a number that varies: digits, with `.` `,` or a sign.
  `{{hex}}`               a hexadecimal address such as 0x7ff691250f80.
  `{{word}}`              one run of non-blank characters.
  `{{any}}`               anything up to the end of what follows it.
  anything else           a literal: the command must print exactly this line.
Each line may hold several markers; the rest of the line stays literal.

Output that matched its block is cached under build/book/transcripts/, keyed
by the command, the stage, a hash of the inputs the stage is built from (src/
of layers 1..N and the top-level sources, Makefile, test.py, scripts/ but this
tooling, chapters/code/, bench/) and a fingerprint of what the machine has
installed (see environment_fingerprint), so a second run only compares. Output
that did not match is never kept: the next build runs the command again, so a
failure that came from the machine (a package not yet installed) does not
outlive its cause. A changed block that the cached output does not match runs
the command again before it fails.

usage: transcripts.py check [--chapters FILES...]    run and compare every transcript
                                                    (BOOK_SKIP_SUITES=1: all but those that run test.py)
       transcripts.py summary --out DIR [FILES...]   check the figures, print the summary line
"""
import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LAYERS = ["sys", "mem", "sched", "exec", "net", "http", "ws"]
CACHE = os.path.join("build", "book", "transcripts")
FENCE_OPEN_RE = re.compile(r"^\s*(`{3,})\s*\{(.*)\}\s*$")
ATTR_RE = re.compile(r"""([\w-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|'([^']*)'|([^\s"'}]+))""")
CLASS_RE = re.compile(r"(?:^|\s)\.([\w-]+)")
IMAGE_RE = re.compile(r"!\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
MARKERS = {
    "n": r"[-+]?[0-9][0-9,.]*",
    "hex": r"(?:0x)?[0-9a-fA-F]+",
    "word": r"\S+",
    "any": r".*",
}
MARKER_RE = re.compile(r"\{\{(" + "|".join(MARKERS) + r")\}\}")
ELLIPSIS = "..."


class Block:
    def __init__(self, path, line, attrs, classes, body):
        self.path, self.line, self.attrs, self.classes, self.body = path, line, attrs, classes, body

    def where(self, offset=0):
        return f"{self.path}:{self.line + 1 + offset}"


def fenced_blocks(path):
    """Yields every fenced block with an attribute list: (line of the fence, attrs, classes, body)."""
    with open(path, encoding="utf-8") as fh:
        lines = fh.read().split("\n")
    i = 0
    while i < len(lines):
        m = FENCE_OPEN_RE.match(lines[i])
        plain = re.match(r"^\s*(`{3,}|~{3,})", lines[i])
        if not plain:
            i += 1
            continue
        fence = plain.group(1)
        j = i + 1
        while j < len(lines) and lines[j].strip() != fence:
            j += 1
        if m:
            raw = m.group(2)
            attrs = {}
            for am in ATTR_RE.finditer(raw):
                v = next(g for g in am.groups()[1:] if g is not None)
                attrs[am.group(1)] = v.replace('\\"', '"')
            classes = CLASS_RE.findall(ATTR_RE.sub("", raw))
            yield i + 1, attrs, classes, lines[i + 1:j]
        i = j + 1


def transcripts(chapters):
    out = []
    for path in chapters:
        for line, attrs, classes, body in fenced_blocks(path):
            if "transcript" in classes:
                out.append(Block(path, line, attrs, classes, body))
    return out


def line_regex(pattern):
    parts, pos = [], 0
    for m in MARKER_RE.finditer(pattern):
        parts.append(re.escape(pattern[pos:m.start()]))
        parts.append(MARKERS[m.group(1)])
        pos = m.end()
    parts.append(re.escape(pattern[pos:]))
    return re.compile("".join(parts) + r"\Z")


def compare(expected, actual):
    """Returns None if the output matches the block, else (index into expected, message)."""
    exp = [e.rstrip() for e in expected]
    while exp and exp[-1] == "":
        exp.pop()
    act = [a.rstrip() for a in actual]
    while act and act[-1] == "":
        act.pop()
    pats = [None if e == ELLIPSIS else line_regex(e) for e in exp]
    # Longest-prefix matcher with backtracking over the elisions; remembers the
    # furthest expected line reached, to name it when nothing matches.
    best = [0, 0]  # expected index, actual index of the deepest failure
    memo = set()

    def match(i, j):
        if (i, j) in memo:
            return False
        if i == len(pats):
            if j == len(act):
                return True
            if i > best[0] or (i == best[0] and j > best[1]):
                best[:] = [i, j]
            memo.add((i, j))
            return False
        if pats[i] is None:
            for k in range(j, len(act) + 1):
                if match(i + 1, k):
                    return True
        elif j < len(act) and pats[i].match(act[j]):
            if match(i + 1, j + 1):
                return True
        else:
            if i > best[0] or (i == best[0] and j > best[1]):
                best[:] = [i, j]
        memo.add((i, j))
        return False

    sys.setrecursionlimit(max(10000, 4 * (len(pats) + len(act))))
    if match(0, 0):
        return None
    i, j = best
    if i == len(pats):
        return (i - 1 if i else 0, f"the command prints more after the block's last line: {act[j]!r}")
    got = repr(act[j]) if j < len(act) else "the end of the output"
    return (i, f"expected {exp[i]!r}, the command printed {got}")


def input_files(stage):
    """The files whose content decides what a stage-N command prints."""
    keep_layers = set(LAYERS[:stage])
    roots = ["src", "Makefile", "test.py", "scripts", "chapters/code", "bench"]
    for top in roots:
        full = os.path.join(ROOT, top)
        if os.path.isfile(full):
            yield top
            continue
        for cur, dirs, files in os.walk(full):
            rel = os.path.relpath(cur, ROOT)
            keep = []
            for d in sorted(dirs):
                sub = os.path.join(rel, d)
                if d in ("node_modules", "__pycache__", ".git") or sub == os.path.join("scripts", "book"):
                    continue
                if rel == "src" and d in LAYERS and d not in keep_layers:
                    continue
                keep.append(d)
            dirs[:] = keep
            for f in sorted(files):
                yield os.path.join(rel, f)


_digest = {}


def inputs_digest(stage):
    if stage not in _digest:
        h = hashlib.sha256()
        for rel in input_files(stage):
            h.update(rel.encode() + b"\0")
            with open(os.path.join(ROOT, rel), "rb") as fh:
                h.update(hashlib.sha256(fh.read()).digest())
        _digest[stage] = h.hexdigest()
    return _digest[stage]


def stage_of(b):
    s = b.attrs.get("stage", "")
    if not s.isdigit() or not 1 <= int(s) <= len(LAYERS):
        raise ValueError(f"{b.where()}: transcript needs stage=1..{len(LAYERS)}, not {s!r}")
    return int(s)


_built = set()


def build_stage(stage):
    if stage in _built:
        return
    r = subprocess.run(["make", "-s", f"STAGE={stage}", "all"], cwd=ROOT, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"make STAGE={stage} failed:\n{(r.stdout + r.stderr)[-3000:]}")
    _built.add(stage)


# [snippet: transcript-environment]
# What a command prints depends on more than the sources: on the packages
# scripts/setup.sh installs (a test skips where a tool or an npm package is
# missing), their versions (some transcripts print them) and the kernel (the
# io_uring tests skip where it refuses). All of it goes into the cache key, so
# installing or upgrading any of it runs every transcript again.
SETUP_SCRIPT = os.path.join("scripts", "setup.sh")
NODE_DIR = os.path.join("scripts", "node", "node_modules")


def setup_packages(root):
    """The Debian packages scripts/setup.sh knows of (its PKGS_* groups)."""
    try:
        text = open(os.path.join(root, SETUP_SCRIPT), encoding="utf-8").read()
    except OSError:
        return []
    names = []
    for m in re.finditer(r'^PKGS_\w+="([^"]*)"', text, re.M):
        names += m.group(1).split()
    return sorted(set(names))


def node_modules_state(root):
    """The npm packages installed under scripts/node: each top-level package's name and version."""
    top = os.path.join(root, NODE_DIR)
    if not os.path.isdir(top):
        return "node_modules absent"
    found = []
    for d in sorted(os.listdir(top)):
        pj = os.path.join(top, d, "package.json")
        if os.path.isfile(pj):
            with open(pj, "rb") as fh:
                found.append(f"{d}:{hashlib.sha256(fh.read()).hexdigest()[:16]}")
    return " ".join(found)


def environment_fingerprint(root=ROOT):
    parts = [node_modules_state(root), os.uname().release, str(shutil.which("node"))]
    pkgs = setup_packages(root)
    if pkgs:
        try:
            r = subprocess.run(["dpkg-query", "-W", "-f=${Package} ${Version} ${db:Status-Abbrev}\\n", *pkgs],
                               capture_output=True, text=True)
            parts.append(r.stdout)
        except OSError:  # not Debian: at least which of the tools are on PATH
            parts.append(" ".join(p for p in pkgs if shutil.which(p)))
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()
# [end: transcript-environment]


_environment = []


def cache_path(b, stage, timeout):
    cmd = b.attrs["command"]
    # Files the command names (a script under scripts/book, say) are inputs too.
    named = "".join(hashlib.sha256(open(os.path.join(ROOT, t), "rb").read()).hexdigest()
                    for t in cmd.split() if os.path.isfile(os.path.join(ROOT, t)))
    if not _environment:
        _environment.append(environment_fingerprint())
    key = hashlib.sha256(f"{cmd}\0{stage}\0{timeout}\0{inputs_digest(stage)}\0{named}\0{_environment[0]}"
                         .encode()).hexdigest()[:24]
    return os.path.join(ROOT, CACHE, key)


def cached(path):
    """(exit status, output lines) of a run kept under path, or None."""
    if not os.path.isfile(path):
        return None
    with open(path, encoding="utf-8", errors="replace") as fh:
        status, _, text = fh.read().partition("\n")
    return int(status), text.split("\n")


def keep(path, status, out):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path + ".tmp", "w", encoding="utf-8") as fh:
        fh.write(f"{status}\n" + "\n".join(out))
    os.replace(path + ".tmp", path)


def run(b, stage, timeout):
    """Runs the block's command. Returns (exit status, output lines, seconds)."""
    cmd = b.attrs["command"]
    build_stage(stage)
    env = dict(os.environ)
    # A test run inside the book build keeps its log apart from the run that called it.
    env["TEST_LOG"] = os.path.join(ROOT, "build", "book", "test-output.log")
    env.pop("MAKEFLAGS", None)
    env.pop("MFLAGS", None)
    env.pop("MAKELEVEL", None)
    started = time.monotonic()
    try:
        r = subprocess.run(["bash", "-c", cmd], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           stdin=subprocess.DEVNULL, timeout=timeout, env=env, start_new_session=True)
        status, text = r.returncode, r.stdout.decode("utf-8", "replace")
    except subprocess.TimeoutExpired as e:
        status, text = 124, (e.stdout or b"").decode("utf-8", "replace") + f"\n(killed after {timeout} s)"
    return status, text.split("\n"), time.monotonic() - started


def verdict(b, status, out, want):
    """None if the output and exit status are what the block shows, else (line index, message)."""
    diff = compare(b.body, out)
    if status != want:
        diff = (0, f"exit status {status}, expected {want}" + (f"; {diff[1]}" if diff else ""))
    return diff


def reruns_a_suite(b):
    """True for a transcript whose command runs the test runner (python3 test.py ...)."""
    return re.search(r"(^|[;&|(\s])(python3\s+)?(\./)?test\.py\b", b.attrs.get("command", "")) is not None


def check(chapters, verbose, skip_suites=False):
    blocks = transcripts(chapters)
    failures = 0
    skipped = [b for b in blocks if skip_suites and reruns_a_suite(b)]
    if skipped:
        # `make test` has just run these suites itself; `make check` runs the
        # transcripts too, and compares what they print with the chapters.
        print(f"book: {len(skipped)} transcripts that re-run a test suite not run here (make check runs them)")
        blocks = [b for b in blocks if b not in skipped]
    for b in blocks:
        try:
            if "command" not in b.attrs:
                raise ValueError(f"{b.where()}: transcript without command=\"...\"")
            stage = stage_of(b)
            timeout = float(b.attrs.get("timeout", "180"))
            want = int(b.attrs.get("status", "0"))
            # [snippet: transcript-cache]
            # Only a run that matched is kept; a cached run that this block
            # does not match (the block changed) is run again before it fails.
            path = cache_path(b, stage, timeout)
            hit = cached(path)
            diff = verdict(b, *hit, want) if hit else True
            how = "cached"
            if diff:
                status, out, took = run(b, stage, timeout)
                diff = verdict(b, status, out, want)
                how = f"{took:.1f} s"
                if not diff:
                    keep(path, status, out)
            else:
                status, out = hit
            # [end: transcript-cache]
        except (ValueError, RuntimeError) as e:
            print(f"book: transcript FAILED: {e}", file=sys.stderr)
            failures += 1
            continue
        if diff:
            failures += 1
            idx, msg = diff
            print(f"book: transcript FAILED at {b.where(idx)} ({b.attrs['command']}): {msg}", file=sys.stderr)
            tail = "\n".join("    | " + o for o in out[-40:])
            print(f"    output ({len(out)} lines, last 40):\n{tail}", file=sys.stderr)
        elif verbose:
            print(f"book: transcript ok: {b.where()} {b.attrs['command']} ({how})")
    return failures, len(blocks)


def listings(chapters):
    n = 0
    for path in chapters:
        for _, attrs, _, _ in fenced_blocks(path):
            n += "snippet" in attrs
    return n


def figures(chapters, out_dir):
    """Every image a chapter shows: it must exist (in the sources or the build) and be non-empty."""
    found, missing = 0, []
    for path in chapters:
        in_code = None
        with open(path, encoding="utf-8") as fh:
            for no, line in enumerate(fh, 1):
                fence = re.match(r"^\s*(`{3,}|~{3,})", line)
                if fence:
                    in_code = None if in_code and line.strip() == in_code else (in_code or fence.group(1))
                    continue
                if in_code:
                    continue
                for ref in IMAGE_RE.findall(line):
                    if re.match(r"^[a-z]+:", ref):
                        missing.append(f"{path}:{no}: {ref}: remote images are not allowed")
                        continue
                    cands = [os.path.join(ROOT, ref), os.path.join(ROOT, "chapters", ref),
                             os.path.join(ROOT, out_dir, ref), os.path.join(ROOT, out_dir, os.path.basename(ref))]
                    if any(os.path.isfile(c) and os.path.getsize(c) > 0 for c in cands):
                        found += 1
                    else:
                        missing.append(f"{path}:{no}: {ref}: missing or empty after the book build")
    return found, missing


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["check", "summary"])
    ap.add_argument("--out", default=os.path.join("build", "book"))
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("chapters", nargs="*")
    a = ap.parse_intermixed_args()
    chapters = a.chapters or sorted(os.path.join("chapters", f) for f in os.listdir(os.path.join(ROOT, "chapters"))
                                    if f.endswith(".md"))
    os.chdir(ROOT)
    if a.what == "check":
        failed, total = check(chapters, a.verbose, os.environ.get("BOOK_SKIP_SUITES") == "1")
        if failed:
            print(f"book: {failed} of {total} transcripts do not match their command's output", file=sys.stderr)
            return 1
        return 0
    n_fig, missing = figures(chapters, a.out)
    for m in missing:
        print(f"book: figure FAILED: {m}", file=sys.stderr)
    if missing:
        return 1
    print(f"book: {listings(chapters)} listings, {len(transcripts(chapters))} transcripts, {n_fig} figures checked")
    return 0


if __name__ == "__main__":
    sys.exit(main())
