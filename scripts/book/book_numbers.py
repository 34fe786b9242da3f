#!/usr/bin/env python3
"""book_numbers.py: the book's numbers come from the build, and a check that prose holds no other.

A number in a chapter's prose (a time, a size, a ratio, a count of lines,
files, tests, system calls) is one of:

  `SPEC`{.n}                        resolved at build time (scripts/book/numbers.lua
                                    calls `book_numbers.py resolve`); the reader sees
                                    only the value. A spec that does not resolve
                                    (a missing file, key, constant or column)
                                    fails the build, naming the chapter line.
  [about 40 ms]{.approx src="..."}  an approximate figure; src names where it comes
                                    from (a command, a document, a source file).
  ::: {.measured on="..." command="..."}
  a table or figure and the sentences that read it
  :::                               figures measured once, by hand: the box
                                    names the machine and load, the commit, and
                                    the command; at most MEASURED_MAX_LINES lines.
  ::: {.approx src="..."}
  an estimate worked through, or a table derived from the code
  :::                               the same for approximate figures with a source.
  (An .approx span or a `SPEC`{.n} stays on one line of the chapter.)
  854<!--n: SPEC-->                 a checked literal, for text that is read as it is
                                    (README.md on GitHub): the value written just
                                    before the comment must be what SPEC gives.
  inside a checked transcript, a listing or `code`.

Specs (words separated by blanks; "quoted words" may hold blanks):
  lines GLOB...                     lines of the files (sum)
  files GLOB...                     how many files
  bytes GLOB...                     the files' size in bytes (sum)
  tests GLOB...                     test cases: RUN(...) lines in C files, `def test_`
                                    functions in Python files
  const [FILE] NAME                 an integer constant (FILE: src/config.h if left out): #define, enum member or
                                    `static const` in FILE, its expression evaluated
                                    (names it uses are looked up in FILE, then
                                    src/config.h)
  expr [FILE] EXPR                  a C expression of FILE's (src/config.h's) constants, without
                                    blanks (HTTP_MAX_HEADERS+2)
  match FILE REGEX                  the regex's first group in FILE (a literal of a
                                    test, say); it must match, each time alike
  py FILE NAME.KEY...               a number, or a list of numbers ("1, 2, 4 and 8"), from a
                                    Python literal in FILE (bench/run.py's PROFILES)
  csv FILE COL=VALUE... COLUMN [median|min|max|count]
                                    the rows of a results CSV where every COL equals
                                    VALUE, and of those rows' COLUMN the median
                                    (default), min or max, or how many rows
  cell FILE "ROW" "COLUMN"          the cell of a Markdown table in FILE (a bench
                                    summary under results/) in the row whose first
                                    cell is ROW and the column headed COLUMN, as
                                    printed there ("A | B" for ROW matches the first
                                    two cells); `number` after it: its first number
  item FILE "KEY"                   the text after "- KEY: " in FILE (a summary's
                                    header: machine, commit, total time)
Options, after the spec (any order):
  /K /Ki /M /Mi /1000 ...           divide first (/Ki = by 1024, /Mi = by 1048576)
  *100 ...                          multiply first (a share as a percentage, say)
  .N                                N digits after the point (default: as computed,
                                    integers without a point)
  ,                                 thousands separators (100,000)
  size                              a byte count as the exact largest binary unit:
                                    "64 KiB", "16 MiB", "4096 bytes" (if not whole)
  hex                               in hexadecimal (0x12000)

The check (`book_numbers.py check [FILES]`, run by `make book` and `make test`)
resolves every spec, and scans prose (not code blocks, transcripts, `code`,
the forms above, link targets or comments) for a number followed by a unit
(UNITS below). Every hit fails the check, listed as file:line, unless a line
of scripts/book/numbers-allow.txt allows it: a regex that must cover the hit
in its line, then `#` and the reason. That list is for facts of the world (a
protocol's limits, an ABI's alignment), not for measurements.

usage: book_numbers.py check [FILE...]       (default: chapters/*.md and README.md)
       book_numbers.py resolve               one spec a line on stdin -> "ok<TAB>value" or "error<TAB>why" a line
       book_numbers.py show SPEC             prints one spec's value
"""
import ast
import csv
import glob
import os
import re
import shlex
import statistics
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ALLOW = os.path.join("scripts", "book", "numbers-allow.txt")
MEASURED_MAX_LINES = 50

# Units that make a number a claim about time, size, rate or count. Bits are
# not among them: "64-bit", "32 bits" describe a type, not a measurement.
UNITS = (r"ms|µs|us|ns|s|secs?|seconds?|minutes?|mins?|hours?|"
         r"(?:KiB|MiB|GiB|KB|MB|GB|kB|B)/s|KiB|MiB|GiB|TiB|KB|MB|GB|kB|B|bytes?|"
         r"lines|files|tests|syscalls|system calls|req/s|requests|%|x|×|"
         r"connections|cores|CPUs|threads|workers|runs|times")
DIGITS = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"
NUMBER = r"(?<![\w.^#/@$+-])" + DIGITS
HIT_RE = re.compile(r"(" + NUMBER + r"(?:\s*(?:to|-|–)\s*" + DIGITS + r")?)(?:[ \u00a0]|-|&nbsp;)?(?:" + UNITS
                    + r")(?![\w/])")
INLINE_N_RE = re.compile(r"`([^`]+)`\{\s*\.n\s*\}")
CHECKED_RE = re.compile(r"<!--\s*n:\s*(.*?)\s*-->")
APPROX_RE = re.compile(r"\[([^\[\]]*)\]\{\s*\.approx\b([^}]*)\}")
SRC_ATTR_RE = re.compile(r"""\bsrc\s*=\s*"([^"]*)\"""")
CODE_RE = re.compile(r"(`+)(?:(?!\1).)+?\1(?:\{[^}]*\})?")
LINK_TARGET_RE = re.compile(r"\]\([^)]*\)")
HEADING_ATTR_RE = re.compile(r"\{#[^}]*\}")
FENCE_RE = re.compile(r"^\s*(`{3,}|~{3,})")
DIV_RE = re.compile(r"^\s*(:{3,})\s*(.*)$")
MEASURED_OPEN_RE = re.compile(r"^\s*:{3,}\s*\{[^}]*\.(measured|approx)\b([^}]*)\}\s*$")
NEEDS = {"measured": ("on", "command"), "approx": ("src",)}


class SpecError(Exception):
    pass


# ------------------------------------------------------------------ resolving
def files_of(globs):
    out = []
    for g in globs:
        hits = sorted(glob.glob(os.path.join(ROOT, g), recursive=True))
        hits = [h for h in hits if os.path.isfile(h)]
        if not hits:
            raise SpecError(f"no file matches {g!r}")
        out += [h for h in hits if h not in out]
    return out


def read(path):
    full = os.path.join(ROOT, path)
    if not os.path.isfile(full):
        raise SpecError(f"no file {path}")
    with open(full, encoding="utf-8", errors="replace") as fh:
        return fh.read()


def count_tests(path):
    text = open(path, encoding="utf-8", errors="replace").read()
    if path.endswith(".py"):
        return len(re.findall(r"^def test_\w+\s*\(", text, re.M))
    return len(re.findall(r"^\s*RUN\w*\s*\(", text, re.M))


def py_literal(node):
    """A literal, also through dict(key=...) calls: the shape of bench/run.py's PROFILES."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict" and not node.args:
        return {k.arg: py_literal(k.value) for k in node.keywords}
    if isinstance(node, ast.Dict):
        return {py_literal(k): py_literal(v) for k, v in zip(node.keys, node.values)}
    if isinstance(node, (ast.List, ast.Tuple)):
        return [py_literal(e) for e in node.elts]
    ops = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b,
           ast.FloorDiv: lambda a, b: a // b, ast.Div: lambda a, b: a / b, ast.LShift: lambda a, b: a << b}
    if isinstance(node, ast.BinOp) and type(node.op) in ops:
        return ops[type(node.op)](py_literal(node.left), py_literal(node.right))
    return ast.literal_eval(node)


def py_value(path, dotted):
    name, *keys = dotted.split(".")
    tree = ast.parse(read(path))
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in stmt.targets):
            try:
                v = py_literal(stmt.value)
            except ValueError as e:
                raise SpecError(f"{path}: {name} is not a literal: {e}")
            for k in keys:
                if isinstance(v, list) and k.isdigit() and int(k) < len(v):
                    v = v[int(k)]
                    continue
                if not isinstance(v, dict) or k not in v:
                    raise SpecError(f"{path}: {dotted}: no key {k!r}")
                v = v[k]
            return v
    raise SpecError(f"{path}: no top-level assignment to {name}")


def strip_c_comments(text):
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return re.sub(r"//[^\n]*", "", text)


def c_constant(path, name, seen=()):
    if name in seen:
        raise SpecError(f"{name} refers to itself")
    text = strip_c_comments(read(path))
    pats = [rf"^\s*#\s*define\s+{name}\s+(.+?)\s*$",
            rf"\b{name}\s*=\s*([^,;}}\n]+)",
            rf"\bconst\s+[\w\s]*\b{name}\s*=\s*([^;]+);"]
    for p in pats:
        m = re.search(p, text, re.M)
        if m:
            return c_eval(m.group(1), path, seen + (name,))
    if path != os.path.join("src", "config.h"):
        return c_constant(os.path.join("src", "config.h"), name, seen)
    raise SpecError(f"no constant {name} in {path}")


def c_eval(expr, path, seen):
    expr = expr.strip()
    names = set(re.findall(r"\b[A-Za-z_]\w*\b", re.sub(r"\b\d+[uUlL]*\b", "", expr)))
    env = {}
    for n in names:
        if n in ("sizeof",):
            raise SpecError(f"cannot evaluate {expr!r}")
        env[n] = c_constant(path, n, seen)
    py = re.sub(r"\b(0x[0-9a-fA-F]+|\d+)[uUlL]+\b", r"\1", expr)
    py = re.sub(r"\(\s*(?:unsigned|signed|long|int|short|char|u?int\d+_t|size_t|\s)+\)", "", py)  # casts
    py = py.replace("/", "//")
    if not re.fullmatch(r"[\w\s()+\-*/<>|&~^]+", py):
        raise SpecError(f"cannot evaluate {expr!r}")
    try:
        return int(eval(py, {"__builtins__": {}}, env))  # only digits, names resolved above, operators
    except Exception as e:  # noqa: BLE001
        raise SpecError(f"cannot evaluate {expr!r}: {e}")


def csv_value(path, words):
    rows = list(csv.DictReader(open(os.path.join(ROOT, path), encoding="utf-8")))
    if not rows:
        raise SpecError(f"{path} has no rows")
    filters = [w.split("=", 1) for w in words if "=" in w]
    rest = [w for w in words if "=" not in w]
    if not rest:
        raise SpecError("csv: no column named")
    col, how = rest[0], (rest[1] if len(rest) > 1 else "median")
    for k, _ in filters + [(col, None)]:
        if k not in rows[0]:
            raise SpecError(f"{path} has no column {k!r}")
    sel = [r for r in rows if all(r[k] == v for k, v in filters)]
    if how == "count":
        if not sel:
            raise SpecError(f"{path}: no row where {' '.join(words[:-1])}")
        return len(sel)
    vals = [float(r[col]) for r in sel if r[col] not in ("",)]
    if not vals:
        raise SpecError(f"{path}: no row with a {col} where {' '.join('='.join(f) for f in filters)}")
    if how == "median":
        return statistics.median(vals)
    if how == "min":
        return min(vals)
    if how == "max":
        return max(vals)
    raise SpecError(f"csv: unknown aggregate {how!r}")


def table_cell(path, row, column):
    """ROW names the first cell, or the first cells joined by " | " ("keep-alive | 100 | 1")."""
    key = [c.strip() for c in row.split("|")]
    header = None
    for line in read(path).split("\n"):
        if not line.startswith("|"):
            header = None
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if header is None:
            header = cells
            continue
        if set("".join(cells)) <= set("-: "):
            continue
        if cells[:len(key)] == key and column in header:
            return cells[header.index(column)]
    raise SpecError(f"{path}: no table row {row!r} with a column {column!r}")


def summary_item(path, key):
    for line in read(path).split("\n"):
        m = re.match(r"^- ([^:]+): (.*)$", line)
        if m and m.group(1).strip() == key:
            return m.group(2).strip()
    raise SpecError(f"{path}: no line '- {key}: ...'")


def fmt_number(v, digits, commas):
    if digits is None:
        if float(v) == int(v):
            return f"{int(v):,}" if commas else str(int(v))
        digits = 2
    return f"{v:,.{digits}f}" if commas else f"{v:.{digits}f}"


def size_text(v):
    v = int(v)
    for unit, n in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if v >= n and v % n == 0:
            return f"{v // n} {unit}"
    return f"{v} bytes"


DIVISORS = {"K": 1000, "Ki": 1024, "M": 10 ** 6, "Mi": 1 << 20, "G": 10 ** 9, "Gi": 1 << 30}


def resolve(spec):
    """The text a spec stands for; raises SpecError."""
    try:
        words = shlex.split(spec)
    except ValueError as e:
        raise SpecError(str(e))
    if not words:
        raise SpecError("empty spec")
    kind, args = words[0], words[1:]
    opts = []
    while args and re.fullmatch(r"/\w+|\*[\d.]+|\.\d|,|size|hex", args[-1]):
        opts.insert(0, args.pop())
    if kind == "bytes":
        v = sum(os.path.getsize(p) for p in files_of(args))
    elif kind in ("lines", "files", "tests"):
        paths = files_of(args)
        if kind == "files":
            v = len(paths)
        elif kind == "lines":
            v = sum(open(p, encoding="utf-8", errors="replace").read().count("\n") for p in paths)
        else:
            v = sum(count_tests(p) for p in paths)
    elif kind == "const" and len(args) in (1, 2):
        v = c_constant(*args) if len(args) == 2 else c_constant(os.path.join("src", "config.h"), args[0])
    elif kind == "py" and len(args) == 2:
        v = py_value(*args)
        if isinstance(v, list):
            items = [resolve_value_text(x, opts) for x in v]
            return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise SpecError(f"{args[0]}: {args[1]} is {v!r}, not a number or a list of numbers")
    elif kind == "expr" and len(args) in (1, 2):
        v = c_eval(args[-1], args[0] if len(args) == 2 else os.path.join("src", "config.h"), ())
    elif kind == "match" and len(args) == 2:
        found = re.findall(args[1], read(args[0]), re.M)
        if not found or len(set(map(str, found))) != 1:
            raise SpecError(f"{args[0]}: /{args[1]}/ matches {len(found)} times, not once "
                            f"(or always giving the same value)")
        v = found[0] if isinstance(found[0], str) else found[0][0]
        try:
            v = float(v.replace(",", ""))
        except ValueError:
            if opts:
                raise SpecError(f"{args[0]}: /{args[1]}/ gives {v!r}, not a number")
            return v
    elif kind == "csv" and len(args) >= 2:
        read(args[0])
        v = csv_value(args[0], args[1:])
    elif kind in ("cell", "item") and len(args) in (2, 3, 4):
        number = args[-1] == "number"
        if number:
            args = args[:-1]
        if opts or len(args) != (3 if kind == "cell" else 2):
            raise SpecError(f"{kind}: wrong arguments (a cell or item is shown as printed; `number` takes "
                            f"its first number)")
        text = table_cell(*args) if kind == "cell" else summary_item(*args)
        if number:
            m = re.search(r"-?\d[\d,]*(?:\.\d+)?", text)
            if not m:
                raise SpecError(f"{args[0]}: {text!r} holds no number")
            return m.group(0)
        return text
    else:
        raise SpecError(f"unknown spec kind or wrong arguments: {kind!r}")
    return resolve_value_text(v, opts)


def resolve_value_text(v, opts):
    digits, commas = None, False
    for o in opts:
        if o.startswith("/"):
            d = o[1:]
            v = v / (DIVISORS[d] if d in DIVISORS else float(d))
        elif o.startswith("*"):
            v = v * float(o[1:])
        elif o.startswith("."):
            digits = int(o[1:])
        elif o == ",":
            commas = True
        elif o == "size":
            return size_text(v)
        elif o == "hex":
            return hex(int(v))
    return fmt_number(v, digits, commas)


# ------------------------------------------------------------------ the check
def load_allow():
    out = []
    path = os.path.join(ROOT, ALLOW)
    if not os.path.isfile(path):
        return out
    for no, line in enumerate(open(path, encoding="utf-8"), 1):
        line = line.rstrip("\n")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        pat, sep, why = line.partition("  #")
        if not sep or not why.strip():
            raise SystemExit(f"{ALLOW}:{no}: an entry needs '  # reason' after its pattern")
        out.append((re.compile(pat.strip()), f"{ALLOW}:{no}"))
    return out


HEX_RE = re.compile(r"(?<![\w$])0x[0-9a-fA-F]{3,}\b")
_SOURCE_HEX = None


def source_hex():
    """Every hexadecimal literal of the sources (lower case), read once."""
    global _SOURCE_HEX
    if _SOURCE_HEX is None:
        _SOURCE_HEX = set()
        for top in ("src", "chapters/code", "bench"):
            for dirpath, dirs, files in os.walk(os.path.join(ROOT, top)):
                dirs[:] = [d for d in dirs if d != "node_modules"]
                for f in files:
                    if f.endswith((".c", ".h", ".py", ".S", ".lua")):
                        with open(os.path.join(dirpath, f), encoding="utf-8", errors="replace") as fh:
                            _SOURCE_HEX.update(h.lower() for h in HEX_RE.findall(fh.read()))
    return _SOURCE_HEX


def prose_lines(path):
    """Yields (line number, prose text, inline specs) for the lines outside code blocks
    and .measured boxes; problems with those forms are yielded as (line, None, message)."""
    with open(path, encoding="utf-8") as fh:
        lines = fh.read().split("\n")
    fence, measured, in_comment = None, None, False
    for no, line in enumerate(lines, 1):
        f = FENCE_RE.match(line)
        if f and not measured:
            if fence and line.strip() == fence:
                fence = None
            elif not fence:
                fence = f.group(1)
            continue
        if fence:
            continue
        specs = INLINE_N_RE.findall(line)
        mo = MEASURED_OPEN_RE.match(line)
        if mo:
            kind, attrs = mo.group(1), mo.group(2)
            for need in NEEDS[kind]:
                if not re.search(rf'\b{need}\s*=\s*"[^"]+"', attrs):
                    yield no, None, f'a .{kind} box needs {need}="..."'
            measured = no
            yield no, "", INLINE_N_RE.findall(attrs)
            continue
        if measured:
            d = DIV_RE.match(line)
            if d and not d.group(2).strip():
                if no - measured - 1 > MEASURED_MAX_LINES:
                    yield measured, None, (f"a box of {no - measured - 1} lines: at most "
                                           f"{MEASURED_MAX_LINES} (one table or figure and what reads it)")
                measured = None
            yield no, "", specs
            continue
        text = line
        # A checked literal: the value written just before <!--n: SPEC--> must be what SPEC gives.
        while CHECKED_RE.search(text):
            m = CHECKED_RE.search(text)
            before = text[:m.start()]
            try:
                value = resolve(m.group(1))
            except SpecError as e:
                yield no, None, f"<!--n: {m.group(1)}-->: {e}"
                value = None
            if value is not None and not before.endswith(value):
                got = re.search(r"(\S+(?: \S+)?)$", before)
                yield no, None, (f"<!--n: {m.group(1)}--> gives {value!r}, the text before it says "
                                 f"{got.group(1) if got else before!r}")
                value = None
            if value is not None:
                before = before[:len(before) - len(value)]
            specs.append(None)
            text = before + " " + text[m.end():]
        if in_comment or "<!--" in text:
            if in_comment:
                end = text.find("-->")
                text = "" if end < 0 else text[end + 3:]
                in_comment = end < 0
            while "<!--" in text:
                a = text.find("<!--")
                b = text.find("-->", a)
                if b < 0:
                    text, in_comment = text[:a], True
                else:
                    text = text[:a] + text[b + 3:]
        for m in APPROX_RE.finditer(text):
            if not SRC_ATTR_RE.search(m.group(2)) or not SRC_ATTR_RE.search(m.group(2)).group(1).strip():
                yield no, None, f'[{m.group(1)}]{{.approx}} without src="where it comes from"'
        text = INLINE_N_RE.sub(" ", text)
        text = APPROX_RE.sub(" ", text)
        # A hexadecimal value (a flag set, an address) that no source file
        # holds came from one run, like "accepted with 0x198": it belongs in a
        # transcript, where the build checks it.
        for h in HEX_RE.findall(text):
            if h.lower() not in source_hex():
                yield no, None, (f"{h}: a hexadecimal value no source file holds (a value from a run "
                                 f"goes in a transcript or comes from the build)")
        text = CODE_RE.sub(" ", text)
        text = LINK_TARGET_RE.sub("]", text)
        text = HEADING_ATTR_RE.sub("", text)
        # a document's, chapter's or section's number, not a quantity
        text = re.sub(r"\b(RFC|[Cc]hapters?|[Ss]ections?|[Ss]tages?|[Ff]igure|[Ee]xercises?)\s+[\d.]+", r"\1", text)
        text = re.sub(r"<[^>]+>", " ", text)
        yield no, text, specs
    if measured:
        yield measured, None, "a .measured or .approx box that is never closed"


def check(paths, out=sys.stdout, report_unused=False):
    allow = load_allow()
    used = set()
    problems, resolved = [], 0
    for path in paths:
        rel = os.path.relpath(path, ROOT) if os.path.isabs(path) else path
        lines = list(prose_lines(path))
        for i, (no, text, extra) in enumerate(lines):
            if text is None:
                problems.append(f"{rel}:{no}: {extra}")
                continue
            # A number at the end of a line and its unit at the start of the next one.
            own = len(text.rstrip())
            nxt = lines[i + 1] if i + 1 < len(lines) else None
            if nxt and nxt[0] == no + 1 and nxt[1] and nxt[1].strip():
                text = text.rstrip() + " " + nxt[1].lstrip()[:24]
            for spec in extra:
                if spec is None:  # a checked literal, resolved while reading the line
                    resolved += 1
                    continue
                try:
                    resolve(spec)
                    resolved += 1
                except SpecError as e:
                    problems.append(f"{rel}:{no}: `{spec}`{{.n}}: {e}")
            for m in HIT_RE.finditer(text):
                if m.start() >= own:
                    continue
                ok = False
                for pat, where in allow:
                    for am in pat.finditer(text):
                        if am.start() <= m.start() and m.end() <= am.end():
                            ok = True
                            used.add(where)
                            break
                    if ok:
                        break
                if not ok:
                    problems.append(f"{rel}:{no}: bare number with a unit: {m.group(0).strip()!r} in "
                                    f"{text.strip()[:100]!r}")
    for pat, where in allow if report_unused else ():
        if where not in used:
            problems.append(f"{where}: allow-list entry matches nothing: {pat.pattern}")
    for p in problems:
        print(f"numbers: {p}", file=out)
    if problems:
        print(f"numbers: {len(problems)} problem(s): a number in prose comes from the build (`SPEC`{{.n}}), "
              f"is marked [approximate]{{.approx src=\"...\"}}, sits in a .measured box, or is allowed by "
              f"{ALLOW}; see scripts/book/book_numbers.py", file=out)
        return 1
    print(f"numbers: {resolved} figures from the build, no bare number with a unit in "
          f"{len(paths)} files", file=out)
    return 0


def default_files():
    ch = sorted(os.path.join("chapters", f) for f in os.listdir(os.path.join(ROOT, "chapters")) if f.endswith(".md"))
    return ch + ["README.md"]


def main():
    os.chdir(ROOT)
    args = sys.argv[1:]
    if not args or args[0] not in ("check", "resolve", "show"):
        print(__doc__, file=sys.stderr)
        return 2
    if args[0] == "check":
        return check(args[1:] or default_files(), report_unused=not args[1:])
    if args[0] == "show":
        try:
            print(resolve(" ".join(args[1:])))
        except SpecError as e:
            print(f"numbers: {e}", file=sys.stderr)
            return 1
        return 0
    for spec in sys.stdin.read().split("\n"):
        if spec:
            try:
                print("ok\t" + resolve(spec))
            except SpecError as e:
                print("error\t" + str(e).replace("\n", " "))
    return 0


if __name__ == "__main__":
    sys.exit(main())
