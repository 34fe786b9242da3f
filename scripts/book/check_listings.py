#!/usr/bin/env python3
"""Checks that no listing names a C symbol of src/ before the book has introduced it.

A symbol is a function, a type (struct, union, enum, typedef), an enum
constant or a macro defined in src/ (libc and kernel names such as EAGAIN
are not). Its home chapter is the later of:

  - the chapter that first introduces it: the first chapter (in book order)
    whose prose names it in `code`, or whose listing shows the line that
    defines it; a symbol neither named nor shown defined has no such chapter;
  - its floor: the chapter of its layer (src/sys/ 1, mem 2, sched 3, exec 4,
    net 5, http 6, ws 7; src/config.h and src/main.c have none), raised to 9
    for io_uring and to 10 for the per-core executor. A symbol is io_uring's
    when its name or file says `uring`, or its definition sits on a source
    line marked "[later" ": io_uring]"; the per-core executor's when its name
    says `per_core`, or its definition sits on a "[later" ": per-core]" line.
    Naming such a symbol in earlier prose (a forward reference) does not
    make it the reader's yet.

A C listing (a fenced snippet from a .c or .h file) of chapter N fails when
it names, in code or comment, a symbol whose home chapter is after N. The
listing is read as the book shows it: lines marked "[later" ": topic]" are
left out unless the fence says show="topic", so a listing before chapter 9
(10) that says show="io_uring" ("per-core") fails too. A short, commented
allow-list (scripts/book/listings-allow.txt) names the exceptions.

Output follows the project's test format: "[OK] case" or "[FAIL] case: reason".

usage: check_listings.py [-v] [--root DIR] [CHAPTER.md ...]
"""
import argparse
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import check_snippets  # noqa: E402
from cases import report  # noqa: E402

LAYER_CHAPTER = {"sys": 1, "mem": 2, "sched": 3, "exec": 4, "net": 5, "http": 6, "ws": 7}
TOPIC_CHAPTER = {"io_uring": 9, "per-core": 10}
LATER_RE = re.compile(r"\[later:\s*([\w.\-]+)\s*\]")
LAB_RE = re.compile(r"^\s*//\s*\[(?:end )?lab:\s*[\w.\-]+\s*\]\s*$")
IDENT_RE = re.compile(r"\b[A-Za-z_]\w*\b")
KEYWORDS = set("""auto break case char const continue default do double else enum extern float for goto if
inline int long register restrict return short signed sizeof static struct switch typedef union unsigned void
volatile while _Alignas _Alignof _Atomic _Bool _Complex _Generic _Imaginary _Noreturn _Static_assert
_Thread_local __attribute__ __asm__ asm __typeof__ typeof __builtin_offsetof __extension__ main""".split())
ALLOW_FILE = os.path.join(HERE, "listings-allow.txt")
# The kernel's names (errno values, syscall numbers, ABI structs and flags):
# defined here only because there is no libc to define them.
KERNEL_FILES = {os.path.join("src", "sys", f) for f in ("errno.h", "kernel_abi.h", "syscall_nr.h")}
# io_uring's files whose names do not say so.
URING_FILES = {os.path.join("src", "exec", "completion.h")}  # the completion requests net makes on io_uring
TAG_KINDS = {"struct", "union", "enum"}
PROGRAM_DIRS = {"tests", "demo", "fuzz", "hosted"}
TOKEN_RE = re.compile(r"\b(?:(struct|union|enum)\s+)?([A-Za-z_]\w*)\b")


# ---------------------------------------------------------------- symbols of src/

COMMENT_OR_STRING_RE = re.compile(r"""//[^\n]*|/\*.*?(?:\*/|\Z)|"(?:\\.|[^"\\\n])*"?|'(?:\\.|[^'\\\n])*'?""", re.S)


def blank_comments_and_strings(text):
    """The text with comments and the insides of string/char literals turned to spaces (newlines kept)."""
    def blank(m):
        t = m.group(0)
        if t[0] in "\"'":
            return t[0] + re.sub(r"[^\n]", " ", t[1:-1]) + t[-1] if len(t) > 1 else t
        return re.sub(r"[^\n]", " ", t)
    return COMMENT_OR_STRING_RE.sub(blank, text)


def c_definitions(text):
    """Yields (name, kind, line, file-local) for the macros, types, enum constants and functions a C file defines."""
    code = blank_comments_and_strings(text)
    starts = [0] + [m.end() for m in re.finditer("\n", code)]

    def line_of(pos):
        lo, hi = 0, len(starts) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if starts[mid] <= pos:
                lo = mid
            else:
                hi = mid - 1
        return lo + 1

    # Preprocessor lines (with their continuations): macros, then blanked out.
    chars = list(code)
    for m in re.finditer(r"(?m)^[ \t]*#(?:[^\n\\]|\\.|\\\n)*", code):
        d = re.match(r"[ \t]*#[ \t]*define[ \t]+(\w+)", m.group(0))
        if d:
            yield d.group(1), "macro", line_of(m.start()), True
        for k in range(m.start(), m.end()):
            if chars[k] != "\n":
                chars[k] = " "
    code = "".join(chars)

    for m in re.finditer(r"\b(struct|union|enum)\s+(\w+)\s*\{", code):
        yield m.group(2), m.group(1), line_of(m.start(2)), True
    # Enum constants: the first identifier of each item of an enum body.
    for m in re.finditer(r"\benum\b[^;{}()]*\{", code):
        depth, k = 1, m.end()
        item_start = k
        while k < len(code) and depth:
            ch = code[k]
            if ch in "({[":
                depth += 1
            elif ch in ")}]":
                depth -= 1
            if (ch == "," and depth == 1) or depth == 0:
                item = re.match(r"\s*([A-Za-z_]\w*)", code[item_start:k])
                if item:
                    yield item.group(1), "enum constant", line_of(item_start + item.start(1)), True
                item_start = k + 1
            k += 1

    # Top-level statements: typedef names and function names.
    depth, stmt_start, typedef_body = 0, 0, False
    for k, ch in enumerate(code):
        if ch == "{":
            if depth == 0:
                typedef_body = bool(re.match(r"\s*typedef\b", code[stmt_start:k]))
                if not typedef_body:
                    yield from _top_statement(code, stmt_start, k, line_of, body=True)
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                stmt_start = k + 1
        elif ch == ";" and depth == 0:
            if typedef_body:  # typedef struct { ... } name;
                name = re.search(r"(\w+)\s*$", code[stmt_start:k])
                if name:
                    yield name.group(1), "typedef", line_of(stmt_start + name.start(1)), True
                typedef_body = False
            else:
                yield from _top_statement(code, stmt_start, k, line_of, body=False)
            stmt_start = k + 1


def _top_statement(code, start, end, line_of, body):
    stmt = code[start:end]
    if not stmt.strip():
        return
    if re.match(r"\s*typedef\b", stmt) and not body:
        fp = re.search(r"\(\s*\*\s*(\w+)\s*\)\s*\(", stmt)
        name = fp.group(1) if fp else None
        if not name:
            last = re.search(r"(\w+)\s*(?:\[[^\]]*\]\s*)*(?:__attribute__\s*\(\(.*\)\)\s*)?$", stmt, re.S)
            name = last.group(1) if last else None
        if name:
            pos = start + stmt.rfind(name)
            yield name, "typedef", line_of(pos), True
        return
    if re.match(r"\s*(?:struct|union|enum)\b[^()=]*$", stmt) or "=" in stmt.split("(")[0]:
        return
    # The first identifier followed by '(' outside any parentheses: a function.
    pdepth = 0
    for m in re.finditer(r"[()]|\b[A-Za-z_]\w*\b", stmt):
        t = m.group(0)
        if t == "(":
            pdepth += 1
        elif t == ")":
            pdepth -= 1
        elif pdepth == 0 and t not in KEYWORDS and re.match(r"\s*\(", stmt[m.end():]):
            yield t, "function", line_of(start + m.start()), bool(re.match(r"\s*static\b", stmt))
            return


def later_topic(lines, line):
    m = LATER_RE.search(lines[line - 1]) if 0 < line <= len(lines) else None
    return m.group(1) if m else None


def symbol_index(root):
    """(name, scope) -> list of dict(path, line, kind, floor, topic): every definition in src/.

    scope is None for a symbol any file can see (defined in a header, or a
    function of a .c file that is not static) and the file's path for one
    only its file sees (a static function, a macro or a type of a .c file):
    a listing resolves a name to its own file's symbol first."""
    index = {}
    src = os.path.join(root, "src")
    for cur, subdirs, files in os.walk(src):
        subdirs[:] = sorted(s for s in subdirs if s not in ("node_modules", "build"))
        for f in sorted(files):
            if not f.endswith((".c", ".h")):
                continue
            path = os.path.join(cur, f)
            rel = os.path.relpath(path, root)
            if rel in KERNEL_FILES:
                continue
            text = open(path, encoding="utf-8", errors="replace").read()
            lines = text.split("\n")
            parts = rel.split(os.sep)
            for name, kind, line, static in c_definitions(text):
                if name in KEYWORDS:
                    continue
                topic = later_topic(lines, line)
                if topic is None and ("uring" in name.lower() or "uring" in f or rel in URING_FILES):
                    topic = "io_uring"
                if topic is None and "per_core" in name.lower():
                    topic = "per-core"
                program = set(parts[2:-1]) & PROGRAM_DIRS  # a test or demo: a program of its own
                scope = None if not program and (f.endswith(".h") or (kind == "function" and not static)) else rel
                index.setdefault((name, scope), []).append(
                    {"path": rel, "line": line, "kind": kind, "floor": TOPIC_CHAPTER.get(topic, 0),
                     "topic": topic})
    return index


def resolve(index, name, path, tagged):
    """The symbol a listing from `path` means by `name`, or None. A struct,
    union or enum tag counts only after its keyword (`tagged`)."""
    for key in ((name, path), (name, None)):
        defs = index.get(key)
        if defs and (tagged or any(d["kind"] not in TAG_KINDS for d in defs)):
            return key
    return None


# ---------------------------------------------------------------- chapters

def chapter_files(root):
    chdir = os.path.join(root, "chapters")
    return [os.path.join("chapters", f) for f in sorted(os.listdir(chdir))
            if f.endswith(".md") and f != "glossary.md"]


def chapter_number(rel):
    """The chapter a file is: 00-introduction 0, 00a-... 0, 01-syscalls 1, ..."""
    m = re.match(r"(\d+)", os.path.basename(rel))
    return int(m.group(1)) if m else 0


FENCE_OPEN_RE = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")
INLINE_CODE_RE = re.compile(r"(`+)(.+?)\1")
ATTR_RE = re.compile(r"""(?:^|\s)(\w[\w-]*)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'}]+))""")


def read_chapter(root, rel):
    """Returns (prose: list of (line, text) outside fences, listings: list of (line, attrs))."""
    lines = open(os.path.join(root, rel), encoding="utf-8", errors="replace").read().split("\n")
    prose, listings, fence = [], [], None
    for i, line in enumerate(lines, 1):
        if fence:
            if line.strip().startswith(fence) and not line.strip().strip(fence[0]):
                fence = None
            continue
        m = FENCE_OPEN_RE.match(line)
        if m:
            fence = m.group(1)
            attrs = {a.group(1): next(g for g in a.groups()[1:] if g is not None)
                     for a in ATTR_RE.finditer(m.group(2))}
            if "snippet" in attrs:
                listings.append((i, attrs))
            continue
        prose.append((i, line))
    return prose, listings


def listing_lines(snippet_lines, first, last, show):
    """The (source line number, text) pairs a listing shows, as scripts/book/snippets.lua extracts them."""
    out = []
    for n in range(first, last + 1):
        line = snippet_lines[n - 1]
        later = LATER_RE.search(line)
        if later and later.group(1) not in show:
            continue
        if (check_snippets.BEGIN_RE.search(line) or check_snippets.END_RE.search(line)
                or LAB_RE.match(line)):
            continue
        out.append((n, line))
    return out


def in_comment(line, pos):
    """Whether pos of a listing line is inside a comment (a // or a /* on the line before it)."""
    code = blank_comments_and_strings(line + "\n")
    return code[pos] == " " and line[pos] != " " and "/" in line[:pos]


def code_like(line, m):
    """A name in a comment counts when it looks like code: snake_case, a call, or after struct."""
    return bool(m.group(1)) or "_" in m.group(2) or line[m.end():].startswith("(")


def load_allow(path):
    """(chapter file name, snippet, symbol or show=topic) triples allowed to leak; '*' matches any."""
    allow = set()
    if os.path.isfile(path):
        for line in open(path, encoding="utf-8"):
            line = line.split("#", 1)[0].strip()
            if line:
                parts = line.split()
                if len(parts) == 3:
                    allow.add(tuple(parts))
    return allow


def allowed(allow, chapter, snippet, symbol):
    base = os.path.basename(chapter)
    return any(all(p == "*" or p == v for p, v in zip(a, (base, snippet, symbol))) for a in allow)


def check(root, chapters=None, allow_file=ALLOW_FILE, verbose=False, out=sys.stdout):
    """Runs the check; prints one [OK]/[FAIL] line (and the leaks); returns 0 or 1."""
    dirs = os.environ.get("SNIPPET_DIRS", check_snippets.DEFAULT_DIRS).split()
    snippets, _ = check_snippets.scan_sources(root, dirs)
    index = symbol_index(root)
    by_name, defined_at = {}, {}
    for key, defs in index.items():
        by_name.setdefault(key[0], []).append(key)
        for d in defs:
            defined_at.setdefault((d["path"], d["line"]), []).append(key)
    chapters = chapters or chapter_files(root)
    file_lines = {}

    def shown_lines(attrs):
        """(snippet path, [(line number, text)]) of a C listing, or None."""
        sn = snippets.get(attrs["snippet"])
        if not sn or not sn[0].endswith((".c", ".h")):
            return None
        path, b, e = sn
        if path not in file_lines:
            with open(os.path.join(root, path), encoding="utf-8", errors="replace") as fh:
                file_lines[path] = fh.read().split("\n")
        show = set(re.findall(r"[\w.\-]+", attrs.get("show", "")))
        return path, listing_lines(file_lines[path], b + 1, e - 1, show)

    # Pass 1: where each symbol is introduced.
    intro = {}  # key -> (chapter number, where)
    parsed = []
    for ch in chapters:
        num = chapter_number(ch)
        prose, listings = read_chapter(root, ch)
        parsed.append((ch, num, listings))
        for ln, text in prose:
            for m in INLINE_CODE_RE.finditer(text):
                if text[m.end():].startswith("{.n}"):
                    continue  # a number from the build, not a name
                for name in IDENT_RE.findall(m.group(2)):
                    for key in by_name.get(name, ()):
                        intro.setdefault(key, (num, "%s:%d (prose)" % (ch, ln)))
        for ln, attrs in listings:
            got = shown_lines(attrs)
            if not got:
                continue
            path, shown = got
            for n, _ in shown:
                for key in defined_at.get((path, n), ()):
                    intro.setdefault(key, (num, "%s:%d (listing '%s' shows its definition)"
                                           % (ch, ln, attrs["snippet"])))

    def home(key):
        floor = min(d["floor"] for d in index[key])
        first = intro.get(key, (0, None))
        return max(floor, first[0]), first[1], floor

    # Pass 2: every C listing against the homes of the symbols it names.
    allow = load_allow(allow_file)
    leaks, nlistings = [], 0
    for ch, num, listings in parsed:
        for ln, attrs in listings:
            name = attrs["snippet"]
            got = shown_lines(attrs)
            if not got:
                continue
            nlistings += 1
            path, shown = got
            for topic in sorted(set(re.findall(r"[\w.\-]+", attrs.get("show", "")))):
                if TOPIC_CHAPTER.get(topic, 0) > num and not allowed(allow, ch, name, "show=" + topic):
                    leaks.append("%s:%d: listing '%s' says show=\"%s\", which belongs to chapter %d"
                                 % (ch, ln, name, topic, TOPIC_CHAPTER[topic]))
            seen = set()
            for n, text in shown:
                for m in TOKEN_RE.finditer(text):
                    if in_comment(text, m.start(2)) and not code_like(text, m):
                        continue  # an English word of a comment ("the free list"), not a name
                    key = resolve(index, m.group(2), path, bool(m.group(1)))
                    if key is None or key in seen:
                        continue
                    seen.add(key)
                    h, where, floor = home(key)
                    if h <= num or allowed(allow, ch, name, key[0]):
                        continue
                    if floor == h:
                        topics = sorted({d["topic"] for d in index[key]} - {None})
                        why = "it belongs to chapter %d (%s)" % (floor, ", ".join(topics))
                    else:
                        why = "the book introduces it in chapter %d, at %s" % (h, where)
                    leaks.append("%s:%d: listing '%s' names %s (%s:%d), but %s"
                                 % (ch, ln, name, key[0], path, n, why))
    if verbose:
        for key in sorted(index, key=lambda k: (k[0], k[1] or "")):
            h, where, floor = home(key)
            print("info: %-36s %-36s home %2d floor %2d %s" % (key[0], key[1] or "(global)", h, floor,
                                                             where or ""), file=out)
    case = "no listing names a symbol of a later chapter (%d C listings, %d symbols of src/)" % (
        nlistings, len(index))
    return report(case, leaks, "leak", out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", default=os.path.normpath(os.path.join(HERE, "..", "..")))
    ap.add_argument("--allow", default=ALLOW_FILE, help="allow-list (default: %(default)s)")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every symbol's home chapter")
    ap.add_argument("chapters", nargs="*", help="chapter files, relative to --root (default: chapters/*.md)")
    a = ap.parse_args()
    return 1 if check(a.root, a.chapters or None, a.allow, a.verbose) else 0


if __name__ == "__main__":
    sys.exit(main())
