#!/usr/bin/env python3
"""Checks the book's snippet markers in the sources against the listings the chapters ask for.

Fails on: a listing naming an unknown snippet, a listing with a non-empty body,
a snippet name defined twice, a begin marker never ended, an end marker with no
begin. Unused snippets are reported as information only.

The rules match scripts/book/snippets.lua (the pandoc filter): same folders,
same file types, same marker syntax. Output follows the project's test format:
one "[OK] case" or "[FAIL] case: reason" line per check.

usage: check_snippets.py [-v] [--root DIR]
"""
import argparse
import os
import re
import sys

DEFAULT_DIRS = "src bench scripts chapters/code Makefile test.py"
PRUNE_NAMES = {"build", "node_modules", ".git"}
PRUNE_PATHS = {os.path.join("scripts", "book")}  # this tooling describes the markers in prose
EXTS = {"c", "h", "S", "s", "inc", "mk", "py", "lua", "sh", "html", "htm", "js", "mjs",
        "css", "json", "yaml", "yml", "toml", "conf", "gp", "gnuplot", "plt", "ld", "txt"}
BASENAMES = {"Makefile", "GNUmakefile"}

NAME = r"([\w.\-]+)"
BEGIN_RE = re.compile(r"\[snippet:\s*" + NAME + r"\s*\]")
END_RE = re.compile(r"\[end:\s*" + NAME + r"\s*\]")
FENCE_OPEN_RE = re.compile(r"^ {0,3}(`{3,}|~{3,})\s*\{([^}]*)\}\s*$")
FENCE_ANY_RE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
SNIPPET_ATTR_RE = re.compile(r"""(?:^|\s)snippet\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"']+))""")


def wanted(path):
    base = os.path.basename(path)
    return base in BASENAMES or base.rsplit(".", 1)[-1] in EXTS and "." in base


def source_files(root, dirs):
    for d in dirs:
        top = os.path.join(root, d)
        if os.path.isfile(top):
            if wanted(top):
                yield d
            continue
        for cur, subdirs, files in os.walk(top):
            rel = os.path.relpath(cur, root)
            subdirs[:] = sorted(s for s in subdirs if s not in PRUNE_NAMES
                                and os.path.join(rel, s) not in PRUNE_PATHS)
            for f in sorted(files):
                if wanted(f):
                    yield os.path.join(rel, f)


def scan_sources(root, dirs):
    """Returns (snippets: name -> (path, begin_line, end_line), errors)."""
    snippets, errors = {}, []
    for rel in source_files(root, dirs):
        try:
            with open(os.path.join(root, rel), encoding="utf-8", errors="replace") as fh:
                lines = fh.read().split("\n")
        except OSError as e:
            errors.append("%s: cannot read: %s" % (rel, e))
            continue
        open_at = {}
        for i, line in enumerate(lines, 1):
            if "[" not in line:
                continue
            for name in BEGIN_RE.findall(line):
                if name in open_at:
                    errors.append("%s:%d: snippet '%s' opened again (already open since line %d)"
                                  % (rel, i, name, open_at[name]))
                else:
                    open_at[name] = i
            for name in END_RE.findall(line):
                if name not in open_at:
                    errors.append("%s:%d: end of snippet '%s' without a matching begin" % (rel, i, name))
                    continue
                b = open_at.pop(name)
                if name in snippets:
                    p, pb, _ = snippets[name]
                    errors.append("duplicate snippet '%s': %s:%d and %s:%d" % (name, p, pb, rel, b))
                else:
                    snippets[name] = (rel, b, i)
        for name, b in open_at.items():
            errors.append("%s:%d: snippet '%s' is never ended (no end marker)" % (rel, b, name))
    return snippets, errors


def scan_chapters(root):
    """Returns (refs: list of (chapter, line, name), errors) for fenced listings naming a snippet."""
    refs, errors = [], []
    chdir = os.path.join(root, "chapters")
    if not os.path.isdir(chdir):
        return refs, errors
    for f in sorted(os.listdir(chdir)):
        if not f.endswith(".md"):
            continue
        rel = os.path.join("chapters", f)
        with open(os.path.join(chdir, f), encoding="utf-8", errors="replace") as fh:
            lines = fh.read().split("\n")
        fence = None  # (char, length, ref index or None, body seen)
        for i, line in enumerate(lines, 1):
            if fence is not None:
                m = FENCE_ANY_RE.match(line)
                ch, n, ref, body = fence
                if m and m.group(1)[0] == ch and len(m.group(1)) >= n and not line.strip().strip(ch):
                    if ref is not None and body:
                        c, ln, name = refs[ref]
                        errors.append("%s:%d: listing for snippet '%s' must have an empty body" % (c, ln, name))
                    fence = None
                elif line.strip():
                    fence = (ch, n, ref, True)
                continue
            m = FENCE_OPEN_RE.match(line)
            if m:
                a = SNIPPET_ATTR_RE.search(m.group(2))
                ref = None
                if a:
                    name = next(g for g in a.groups() if g is not None)
                    refs.append((rel, i, name))
                    ref = len(refs) - 1
                fence = (m.group(1)[0], len(m.group(1)), ref, False)
                continue
            m = FENCE_ANY_RE.match(line)
            if m:
                fence = (m.group(1)[0], len(m.group(1)), None, False)
    return refs, errors


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", default=os.path.normpath(os.path.join(here, "..", "..")),
                    help="repository root (default: two levels above this script)")
    ap.add_argument("-v", "--verbose", action="store_true", help="list every marker and reference")
    args = ap.parse_args()
    dirs = os.environ.get("SNIPPET_DIRS", DEFAULT_DIRS).split()

    snippets, src_errors = scan_sources(args.root, dirs)
    refs, ch_errors = scan_chapters(args.root)

    if args.verbose:
        for name in sorted(snippets):
            p, b, e = snippets[name]
            print("info: snippet %-32s %s:%d-%d" % (name, p, b + 1, e - 1))
        for c, ln, name in refs:
            print("info: listing %-32s %s:%d" % (name, c, ln))

    failed = 0

    def report(case, errs):
        nonlocal failed
        if errs:
            failed += 1
            print("[FAIL] %s: %s" % (case, "; ".join(errs)))
        else:
            print("[OK] %s" % case)

    report("snippet markers well-formed and unique (%d snippets)" % len(snippets), src_errors)
    unknown = ["%s:%d: unknown snippet '%s'" % (c, ln, name) for c, ln, name in refs if name not in snippets]
    report("chapter listings resolve (%d listings)" % len(refs), unknown + ch_errors)

    used = {name for _, _, name in refs}
    unused = sorted(set(snippets) - used)
    if unused:
        print("info: %d snippet(s) not used by any chapter: %s" % (len(unused), ", ".join(unused)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
