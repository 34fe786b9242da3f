#!/usr/bin/env python3
"""lab.py: exports a stage as a lab workspace whose key bodies the reader writes; checks every lab.

    scripts/lab.py export STAGE DIR [--reference] [--only NAME] [--no-book]
    scripts/lab.py check [--jobs N] [--each]

In the sources a lab body is a whole function between two comment lines:

    // [lab: name]
    static int name(int a, char *b)
    {
        ...
    }
    // [end lab: name]

The reference build only sees comments. `export` copies layers 1..STAGE (and
the Makefile, test.py, scripts, chapters) to DIR and replaces the bodies marked
in the stage's own layer with a stub that compiles and panics with
"lab: write name (chapter STAGE)". --reference keeps every body (the same tree
with the lab's answers written in); --only keeps all bodies but NAME's.

A lab also gets its edition of the book in DIR/book/ (one HTML page per
chapter, as `make book-pages` writes them; transcripts are shown, not re-run):
the same chapters and listings, read through scripts/book/snippets.lua with
SNIPPET_OVERLAY=DIR, so a listing that holds a removed body shows the lab's
file: the contract above the function and the stub. --no-book skips it.

A lab reader sees only the signature and the comment above the marker, so
every lab function needs its contract there: what it must do, what it returns
and what calls it (a snippet marker or a pragma may stand between).

`check` proves, for every stage, that the exported lab fails the stage's unit
tests and the reference export passes the very same run, and first that every
lab function has its contract comment (stdlib only).
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
LAYERS = ["sys", "mem", "sched", "exec", "net", "http", "ws"]
MIN_BODIES = 3  # per stage: fewer and the lab teaches too little of its chapter
BEGIN_RE = re.compile(r"^\s*//\s*\[lab:\s*([A-Za-z_]\w*)\s*\]\s*$")
END_RE = re.compile(r"^\s*//\s*\[end lab:\s*([A-Za-z_]\w*)\s*\]\s*$")
# The first line of a stub's body: the one marker `grep -rn 'lab-todo' src`
# finds, so a lab lists what is left to write (the [lab: ...] markers stay
# around every body, written or not).
TODO_MARK = "[lab-todo"
TODO_RE = re.compile(r"//\s*\[lab-todo:\s*([A-Za-z_]\w*)\]")
# What a lab holds besides src/<layer> for its layers.
TOP_FILES = ["Makefile", "test.py", "README.md", ".clang-format", ".gitignore", "src/config.h"]
TOP_DIRS = ["scripts", "chapters"]
SKIP_NAMES = {"node_modules", "build", "__pycache__", ".git"}
UNIT_TIMEOUT = 120
# What a layer's tests use beyond scripts/setup.sh's `core` group: the lab of
# stage N installs core and the groups of layers 1..N (`make test` there runs
# `scripts/setup.sh core`, never npm, until stage 7).
SETUP_BY_LAYER = {"http": ["http"], "ws": ["interop", "browser"]}


class LabError(Exception):
    pass


def chapter_of(layer):
    return LAYERS.index(layer) + 1


def find_bodies(path):
    """Returns [(name, begin index, end index)] for the lab markers of one file (0-based lines)."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    found, open_name, open_at = [], None, None
    for i, line in enumerate(lines):
        m = BEGIN_RE.match(line)
        if m:
            if open_name:
                raise LabError(f"{path}:{i + 1}: lab '{m.group(1)}' opened inside lab '{open_name}'")
            open_name, open_at = m.group(1), i
            continue
        m = END_RE.match(line)
        if m:
            if m.group(1) != open_name:
                raise LabError(f"{path}:{i + 1}: end of lab '{m.group(1)}' without its begin")
            found.append((open_name, open_at, i))
            open_name = None
    if open_name:
        raise LabError(f"{path}:{open_at + 1}: lab '{open_name}' is never ended")
    return lines, found


def layer_bodies(root, layer):
    """Returns {path relative to root: [(name, begin, end)]} for one layer's sources."""
    out = {}
    top = os.path.join(root, "src", layer)
    for cur, dirs, files in os.walk(top):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_NAMES)
        for f in sorted(files):
            if f.endswith((".c", ".h")):
                path = os.path.join(cur, f)
                _, found = find_bodies(path)
                if found:
                    out[os.path.relpath(path, root)] = found
    return out


# Lines that may stand between a lab function's contract and its begin marker.
BETWEEN_RE = re.compile(r"^\s*(//\s*\[(snippet|end):[^\]]*\]\s*|#pragma .*)$")
CALLER_RE = re.compile(r"\bcall(ed|ers?)\b", re.I)


def contract_problems(path, lines, name, begin):
    """Checks that the lab function `name` (begin marker at lines[begin]) has its
    contract directly above it: a comment block (snippet markers and pragmas may
    stand between) that names its callers and, unless it returns void, its
    return values. A lab reader sees only that comment and the signature."""
    where = f"{os.path.relpath(path, ROOT)}:{begin + 1}"
    i = begin - 1
    while i >= 0 and BETWEEN_RE.match(lines[i]):
        i -= 1
    block = []
    while i >= 0 and lines[i].lstrip().startswith("//") and not BETWEEN_RE.match(lines[i]):
        block.insert(0, lines[i].strip().lstrip("/").strip())
        i -= 1
    if not block:
        return [f"{where}: lab '{name}' has no contract comment directly above it"]
    text = " ".join(block)
    problems = []
    signature = " ".join(lines[begin + 1 : begin + 4])
    head = signature[: signature.find(name)] if name in signature else signature
    if not re.search(r"\bvoid\s*$", head.replace("static", "").replace("inline", "").strip() + " ") \
            and not re.search(r"\breturn", text, re.I):
        problems.append(f"{where}: the contract above lab '{name}' does not say what it returns")
    if not CALLER_RE.search(text):
        problems.append(f"{where}: the contract above lab '{name}' does not say what calls it")
    return problems


def contracts(root=ROOT):
    """Returns the problems of every lab function's contract comment, in every layer."""
    problems = []
    for layer in LAYERS:
        for rel, found in layer_bodies(root, layer).items():
            lines, _ = find_bodies(os.path.join(root, rel))
            for name, b, _ in found:
                problems += contract_problems(os.path.join(root, rel), lines, name, b)
    return problems


def split_params(text):
    """Splits a parameter list at its top-level commas."""
    parts, depth, cur = [], 0, ""
    for ch in text:
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    return [p.strip() for p in parts if p.strip()]


def param_names(signature, name, where):
    m = re.search(r"\b" + re.escape(name) + r"\s*\(", signature)
    if not m:
        raise LabError(f"{where}: the marked function is not named '{name}'")
    depth, start = 0, m.end() - 1
    for j in range(start, len(signature)):
        if signature[j] == "(":
            depth += 1
        elif signature[j] == ")":
            depth -= 1
            if depth == 0:
                break
    else:
        raise LabError(f"{where}: unbalanced parameter list of '{name}'")
    names = []
    for p in split_params(signature[start + 1 : j]):
        if p in ("void", "..."):
            continue
        fp = re.search(r"\(\s*\*\s*([A-Za-z_]\w*)\s*\)", p)  # int (*fn)(void *)
        if fp:
            names.append(fp.group(1))
            continue
        ids = re.findall(r"[A-Za-z_]\w*", re.sub(r"\[[^\]]*\]", "", p))
        if len(ids) < 2:
            raise LabError(f"{where}: cannot name parameter '{p}' of '{name}'")
        names.append(ids[-1])
    return names


def wrap_signature(text, width=110):
    """Wraps a one-line signature the way .clang-format does: parameters packed,
    continuation lines aligned after the opening parenthesis."""
    if len(text) <= width:
        return [text]
    open_at = text.index("(")
    head, params = text[: open_at + 1], split_params(text[open_at + 1 : text.rindex(")")])
    lines, cur = [], head
    for i, p in enumerate(params):
        piece = p + ("," if i < len(params) - 1 else ")")
        if cur not in (head, " " * len(head)) and len(cur) + 1 + len(piece) > width:
            lines.append(cur)
            cur = " " * len(head)
        cur += ("" if cur in (head, " " * len(head)) else " ") + piece
    lines.append(cur + text[text.rindex(")") + 1 :])
    return lines


def stub(lines, name, begin, end, chapter, where):
    """Returns the lines that replace lines[begin+1:end] (the function between the markers)."""
    region = lines[begin + 1 : end]
    try:
        brace = region.index("{")
    except ValueError:
        raise LabError(f"{where}: lab '{name}' must hold one function whose body opens with a lone '{{'")
    if region[-1] != "}":
        raise LabError(f"{where}: lab '{name}' must end with the function's closing '}}'")
    signature = region[:brace]
    params = param_names(" ".join(signature), name, where)
    out = []
    naked = any("__attribute__((naked))" in s for s in signature)
    if naked:  # a naked function's body may only be asm: the stub is plain C
        signature = wrap_signature(" ".join(s.strip() for s in signature).replace("__attribute__((naked)) ", ""))
    out.extend(signature)
    out.append("{")
    out.append(f"    // {TODO_MARK}: {name}] write this body (chapter {chapter}); the comment above is its contract")
    if naked:
        out.append("    // The reference is __attribute__((naked)): put it back, and write the body as one asm")
        out.append("    // statement (a naked function may hold nothing else).")
    out.extend(f"    (void){p};" for p in params)
    out.append(f'    LAB_TODO("lab: write {name} (chapter {chapter})");')
    out.append("}")
    return out


def todo_names(tree):
    """The names that `grep -rn 'lab-todo' src` finds in tree: every line it
    matches must be a lab-todo marker (the bodies a lab removed)."""
    names = []
    for cur, dirs, files in os.walk(os.path.join(tree, "src")):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_NAMES)
        for f in sorted(files):
            with open(os.path.join(cur, f), encoding="utf-8", errors="replace") as fh:
                for n, line in enumerate(fh, 1):
                    if "lab-todo" in line:
                        m = TODO_RE.search(line)
                        if not m:
                            raise LabError(f"{os.path.join(cur, f)}:{n}: 'lab-todo' outside a lab-todo marker")
                        names.append(m.group(1))
    return names


def setup_groups(stage):
    """The scripts/setup.sh groups the tests of stages 1..stage use."""
    return ["core"] + [g for layer in LAYERS[:stage] for g in SETUP_BY_LAYER.get(layer, [])]


def export(stage, dest, reference=False, only=None):
    """Writes the lab of `stage` to dest; returns the names of the bodies removed."""
    if not 1 <= stage <= len(LAYERS):
        raise LabError(f"STAGE must be 1..{len(LAYERS)}, not {stage}")
    if os.path.exists(dest) and (not os.path.isdir(dest) or os.listdir(dest)):
        raise LabError(f"{dest} exists and is not an empty directory: choose a new LAB=DIR")
    layer = LAYERS[stage - 1]
    bodies = layer_bodies(ROOT, layer)
    names = [n for found in bodies.values() for n, _, _ in found]
    if len(names) < MIN_BODIES:
        raise LabError(f"stage {stage} marks {len(names)} lab bodies in src/{layer}; it needs {MIN_BODIES}")
    if only and only not in names:
        raise LabError(f"no lab body '{only}' in stage {stage} (it has {', '.join(names)})")

    ignore = shutil.ignore_patterns(*SKIP_NAMES)
    os.makedirs(dest, exist_ok=True)
    for f in TOP_FILES + (["src/main.c"] if stage >= LAYERS.index("http") + 1 else []):
        if os.path.isfile(os.path.join(ROOT, f)):
            os.makedirs(os.path.dirname(os.path.join(dest, f)) or dest, exist_ok=True)
            shutil.copy2(os.path.join(ROOT, f), os.path.join(dest, f))
    for d in TOP_DIRS + [f"src/{l}" for l in LAYERS[:stage]]:
        shutil.copytree(os.path.join(ROOT, d), os.path.join(dest, d), ignore=ignore, symlinks=True)
    # `make`, `make run` and `make test` in the lab default to its stage, and
    # `make test` installs only what that stage's tests use.
    mk = os.path.join(dest, "Makefile")
    with open(mk) as f:
        text = f.read()
    for pat, value in ((r"^(STAGE\s*\?=).*$", str(stage)), (r"^(LAB_STAGE\s*:=).*$", str(stage)),
                       (r"^(SETUP_GROUPS\s*\?=).*$", " ".join(setup_groups(stage)))):
        text, n = re.subn(pat, lambda m: f"{m.group(1)} {value}", text, count=1, flags=re.M)
        if n != 1:
            raise LabError(f"the Makefile has no line {pat!r} to set for the lab")
    with open(mk, "w") as f:
        f.write(text)

    removed = []
    for rel, found in bodies.items():
        lines, _ = find_bodies(os.path.join(ROOT, rel))
        out, at = [], 0
        for name, b, e in found:
            out.extend(lines[at : b + 1])
            if reference or (only and name != only):
                out.extend(lines[b + 1 : e])
            else:
                out.extend(stub(lines, name, b, e, stage, f"{rel}:{b + 1}"))
                removed.append(name)
            at = e
        out.extend(lines[at:])
        if len(out) != len(lines) or out != lines:
            # The stub's panic comes from sys/lab.h; include it right after
            # the file's includes (in a block of its own, so the includes stay
            # sorted), before any helper its pragmas must cover.
            incs = [i for i, l in enumerate(out) if l.startswith("#include ")]
            at = incs[-1] + 1 if incs else 1
            out[at:at] = ([""] if incs else []) + ['#include "sys/lab.h" // lab: the stubs of the bodies you write']
        with open(os.path.join(dest, rel), "w", encoding="utf-8") as f:
            f.write("\n".join(out))
    return removed


def write_book(stage, dest, removed):
    """Writes the lab edition of the book to dest/book; returns its index page, or None
    (with the reason printed) when pandoc is missing."""
    pandoc = shutil.which("pandoc")
    if not pandoc:
        print("lab: no book: pandoc is missing (scripts/setup.sh book installs it)", file=sys.stderr)
        return None
    out = os.path.join(os.path.abspath(dest), "book")
    print(f"lab: writing its edition of the book into {os.path.join(dest, 'book')} ...", flush=True)
    chapters = sorted(os.path.join("chapters", f) for f in os.listdir(os.path.join(ROOT, "chapters"))
                      if f.endswith(".md"))
    edition = (f"Lab edition, stage {stage}: you write the bodies of {', '.join(removed)} (chapter {stage}); "
               f"a listing that holds one shows that function's contract and stub, not its body.")
    with tempfile.TemporaryDirectory(prefix="lab-book-") as tmp:
        # The figures by the book's own rules, into a scratch build directory.
        code, log = run(["make", "-s", "-f", "scripts/book/figures.mk", f"BUILD={tmp}", "book-figures"], ROOT, 300)
        if code != 0:
            raise LabError(f"the book's figures failed: {log.strip()[-600:]}")
        env = dict(os.environ, SNIPPET_OVERLAY=os.path.abspath(dest))
        env.pop("SNIPPET_DIRS", None)
        code, log = run([sys.executable, "scripts/book/pages.py", "--out", out, "--pandoc", pandoc,
                         "--css", "scripts/book/book.css", "--filter", "scripts/book/snippets.lua",
                         "--meta", "chapters/_book/metadata.yaml", "--resources", f"{tmp}/book:.:chapters",
                         "--edition", edition, *chapters], ROOT, 900, env)
        if code != 0:
            raise LabError(f"the lab's book failed: {log.strip()[-1200:]}")
    return os.path.join(out, "index.html")


def run(cmd, cwd, timeout, env=None):
    try:
        r = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)
        return r.returncode, r.stdout + r.stderr
    except subprocess.TimeoutExpired:
        return None, f"timed out after {timeout} s"


def unit_targets(tree, stage):
    """The stage's own unit-test programs, as make targets relative to tree."""
    layer = LAYERS[stage - 1]
    folder = os.path.join(tree, "src", layer, "tests")
    out = []
    for f in sorted(os.listdir(folder)) if os.path.isdir(folder) else []:
        for prefix, kind in (("test_", "tests"), ("hosted_", "hosted")):
            if f.startswith(prefix) and f.endswith(".c"):
                out.append(f"build/stage-{stage}/{kind}/{layer}/{f[:-2]}")
    return out


def unit_run(tree, stage, jobs):
    """Builds the stage's own unit-test programs in tree and runs them, stopping at the
    first failure. Returns (passed, detail)."""
    targets = unit_targets(tree, stage)
    if not targets:
        return False, f"no unit tests in src/{LAYERS[stage - 1]}/tests"
    code, out = run(["make", "-s", f"-j{jobs}", f"STAGE={stage}", *targets], tree, 900)
    if code != 0:
        return False, "build failed: " + out.strip()[-600:]
    for t in targets:
        code, out = run([os.path.join(tree, t)], tree, UNIT_TIMEOUT)
        if code != 0:
            m = re.search(r"lab: write \w+ \(chapter \d+\)", out)
            why = m.group(0) if m else out.strip()[-300:]
            return False, f"{os.path.basename(t)}: {why}"
    return True, f"{len(targets)} programs pass"


def contract_lines(lines, begin):
    """The comment block directly above the lab marker at lines[begin], stripped."""
    i = begin - 1
    while i >= 0 and BETWEEN_RE.match(lines[i]):
        i -= 1
    block = []
    while i >= 0 and lines[i].lstrip().startswith("//") and not BETWEEN_RE.match(lines[i]):
        block.insert(0, lines[i].strip())
        i -= 1
    return block


def listings(chapter, overlay):
    """Renders a chapter through the book's filter; returns {snippet: listing text}."""
    env = dict(os.environ)
    env.pop("SNIPPET_DIRS", None)
    if overlay:
        env["SNIPPET_OVERLAY"] = os.path.abspath(overlay)
    code, out = run(["pandoc", "--from=markdown", "--lua-filter=scripts/book/snippets.lua", "--to=json", chapter],
                    ROOT, 300, env)
    if code != 0:
        raise LabError(f"pandoc failed on {chapter}{' for ' + overlay if overlay else ''}: {out.strip()[-600:]}")
    found = {}

    def texts(node):
        if isinstance(node, dict):
            if node.get("t") == "CodeBlock":
                yield node["c"][1]
            else:
                yield from texts(node.get("c"))
        elif isinstance(node, list):
            for n in node:
                yield from texts(n)

    def walk(node):
        if isinstance(node, dict):
            if node.get("t") == "Div":
                (_, classes, attrs), blocks = node["c"]
                if "listing" in classes:
                    name = dict(attrs).get("data-snippet")
                    found[name] = found.get(name, "") + "\n".join(texts(blocks)) + "\n"
                    return
            walk(node.get("c"))
        elif isinstance(node, list):
            for n in node:
                walk(n)

    walk(json.loads(out[out.index("{"):])["blocks"])
    return found


def book_problems(stage, lab, removed):
    """Every listing of the book that shows a body the lab removed must show, in the lab's
    edition, that function's contract and its stub (lab-todo), and in the published
    book the body itself."""
    if not shutil.which("pandoc"):
        print(f"lab-check: stage {stage}: the lab's book is not checked: pandoc is missing", flush=True)
        return []
    snip_re = re.compile(r"\[(snippet|end):\s*([\w.-]+)\s*\]")
    shows = []  # (snippet, lab name, contract lines)
    for rel, found in layer_bodies(ROOT, LAYERS[stage - 1]).items():
        lines, _ = find_bodies(os.path.join(ROOT, rel))
        spans, opened = [], {}
        for i, line in enumerate(lines):
            for m in snip_re.finditer(line):
                if m.group(1) == "snippet":
                    opened[m.group(2)] = i
                elif m.group(2) in opened:
                    spans.append((m.group(2), opened.pop(m.group(2)), i))
        for name, b, e in found:
            if name in removed:
                shows += [(sn, name, contract_lines(lines, b)) for sn, sb, se in spans if sb < e and se > b]
    chapters = {}
    for f in sorted(os.listdir(os.path.join(ROOT, "chapters"))):
        if f.endswith(".md"):
            text = open(os.path.join(ROOT, "chapters", f), encoding="utf-8").read()
            for sn, name, contract in shows:
                if re.search(r"snippet\s*=\s*[\"']?" + re.escape(sn) + r"[\"'\s}]", text):
                    chapters.setdefault(os.path.join("chapters", f), []).append((sn, name, contract))
    problems = []
    for chapter, wanted in chapters.items():
        in_lab, published = listings(chapter, lab), listings(chapter, None)
        for sn, name, contract in wanted:
            where = f"stage {stage}: {chapter}, listing {sn}"
            text = in_lab.get(sn, "")
            lines = {l.strip() for l in text.splitlines()}
            if f"// [lab-todo: {name}]" not in text:
                problems.append(f"{where}: the lab's book does not show the stub of {name}")
            missing = [c for c in contract if c not in lines]
            if missing:
                problems.append(f"{where}: the lab's book does not show the contract of {name} ({missing[0]!r})")
            if "lab-todo" in published.get(sn, "lab-todo"):
                problems.append(f"{where}: the published book does not show the body of {name}")
    return problems


def make_test_problems(tree, stage):
    """What `make test` runs in a lab must be the lab's stage and only its setup groups."""
    env = {k: v for k, v in os.environ.items() if k not in ("STAGE", "NO_SETUP", "SETUP_GROUPS", "MAKEFLAGS")}
    try:
        r = subprocess.run(["make", "-n", "-s", "test"], cwd=tree, env=env, capture_output=True, text=True,
                           timeout=60)
    except subprocess.TimeoutExpired:
        return [f"stage {stage}: make -n test did not finish"]
    want = [f"scripts/setup.sh {' '.join(setup_groups(stage))}", f"python3 test.py --fast ch{stage}"]
    got = [l.strip() for l in r.stdout.splitlines() if l.strip()]
    if r.returncode != 0 or got != want:
        return [f"stage {stage}: make test in the lab runs {got or r.stderr.strip()[-200:]}, not {want}"]
    return []


def check_stage(stage, top, jobs):
    lab, ref = os.path.join(top, f"lab-{stage}"), os.path.join(top, f"ref-{stage}")
    export(stage, ref, reference=True)
    ref_ok, ref_why = unit_run(ref, stage, jobs)
    # The lab differs from the reference only in its stub files, which are
    # written now, after the reference objects: starting from a copy of the
    # reference's build, make recompiles just those (the same commands).
    removed = export(stage, lab)
    if os.path.isdir(os.path.join(ref, "build")):
        shutil.copytree(os.path.join(ref, "build"), os.path.join(lab, "build"), symlinks=True)
    lab_ok, lab_why = unit_run(lab, stage, jobs)
    problems = []
    todo, ref_todo = todo_names(lab), todo_names(ref)
    if sorted(todo) != sorted(removed):
        problems.append(f"stage {stage}: grep lab-todo finds {', '.join(todo) or 'nothing'}, "
                        f"not the bodies removed ({', '.join(removed)})")
    if ref_todo:
        problems.append(f"stage {stage}: the reference has lab-todo markers: {', '.join(ref_todo)}")
    problems += make_test_problems(lab, stage)
    problems += book_problems(stage, lab, removed)
    if lab_ok:
        problems.append(f"stage {stage}: the lab passes its tests with {', '.join(removed)} removed")
    elif "lab: write" not in lab_why:
        problems.append(f"stage {stage}: the lab fails, but not in a stub: {lab_why}")
    if not ref_ok:
        problems.append(f"stage {stage}: the reference fails: {ref_why}")
    return stage, removed, lab_why, problems


def check_each(stage, top, jobs):
    """Removes the stage's bodies one at a time; returns the names its unit tests do not catch."""
    ref = os.path.join(top, f"ref-{stage}")
    export(stage, ref, reference=True)
    ok, why = unit_run(ref, stage, jobs)
    if not ok:
        return [f"(the reference fails: {why})"]
    missed = []
    for name in [n for found in layer_bodies(ROOT, LAYERS[stage - 1]).values() for n, _, _ in found]:
        one = os.path.join(top, f"only-{stage}-{name}")
        export(stage, one, only=name)
        shutil.copytree(os.path.join(ref, "build"), os.path.join(one, "build"), symlinks=True)
        ok, why = unit_run(one, stage, jobs)
        print(f"lab-check: stage {stage}: without {name}: " + ("unit tests PASS" if ok else f"fail: {why}"),
              flush=True)
        if ok:
            missed.append(name)
        shutil.rmtree(one)
    return missed


def check(jobs, each=False):
    started = time.monotonic()
    stages = [i + 1 for i, l in enumerate(LAYERS) if os.path.isdir(os.path.join(ROOT, "src", l))]
    total, problems = 0, []
    bad = contracts()  # cheap, and a lab without its contracts is no lab: first
    for p in bad:
        print(f"lab-check: FAIL: {p}")
    if bad:
        return 1
    with tempfile.TemporaryDirectory(prefix="lab-check-") as top:
        if each:  # slower: one lab per body, to see which the unit tests alone catch
            missed = [n for s in stages for n in check_each(s, top, jobs)]
            print(f"lab-check: bodies the unit tests alone do not catch: {', '.join(missed) or 'none'}")
            return 0
        # Two stages at a time, each building with one job: the small stages
        # finish while the big ones compile.
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            for stage, removed, lab_why, probs in pool.map(lambda s: check_stage(s, top, 1), stages):
                total += len(removed)
                problems += probs
                print(f"lab-check: stage {stage}: {len(removed)} bodies ({', '.join(removed)}); "
                      f"the lab fails: {lab_why}", flush=True)
    for p in problems:
        print(f"lab-check: FAIL: {p}")
    if problems:
        return 1
    print(f"lab-check: {len(stages)} stages, {total} bodies, every lab fails and every reference passes; "
          f"lab-todo marks each removed body, and the lab's book shows its contract and stub "
          f"({time.monotonic() - started:.0f} s)")
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("export", help="write the lab of a stage to an empty directory")
    e.add_argument("stage")
    e.add_argument("dir")
    e.add_argument("--reference", action="store_true", help="keep every body (the lab, solved)")
    e.add_argument("--only", metavar="NAME", help="remove only this body")
    e.add_argument("--no-book", action="store_true", help="do not write the lab's edition of the book")
    c = sub.add_parser("check", help="prove every lab fails and every reference passes")
    c.add_argument("--jobs", type=int, default=2)
    c.add_argument("--each", action="store_true",
                   help="remove one body at a time and name those the unit tests miss")
    args = ap.parse_args()
    try:
        if args.cmd == "check":
            return check(args.jobs, args.each)
        if not args.stage:
            raise LabError("say which stage: make lab STAGE=1..7 LAB=DIR")
        if not args.dir:
            raise LabError("say where: make lab STAGE=N LAB=DIR (a new or empty directory)")
        if not args.stage.isdigit():
            raise LabError(f"STAGE must be 1..{len(LAYERS)}, not {args.stage!r}")
        stage = int(args.stage)
        removed = export(stage, args.dir, args.reference, args.only)
        print(f"lab: stage {stage} in {args.dir}: layers {' '.join(LAYERS[:stage])}")
        if removed:
            print(f"lab: {len(removed)} bodies removed: {', '.join(removed)} (chapter {stage})")
            index = None if args.no_book else write_book(stage, args.dir, removed)
            if index:
                print(f"lab: its book, with stubs where the bodies were: {index}")
        else:
            print("lab: 0 bodies removed (the reference)")
        print(f"lab: now: cd {args.dir} && make test STAGE={stage}   (fails until you write them)")
        return 0
    except LabError as err:
        print(f"lab: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
