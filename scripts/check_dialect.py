#!/usr/bin/env python3
"""check_dialect.py: the rules of the project's C dialect that clang-format cannot check.

    python3 scripts/check_dialect.py FILE...      (make format-check runs it on every C file)

1. The first line of every file is its purpose comment, on one line:
       // name.c: what this file is for.
2. Every header's include guard is named after its path below src/:
   src/sys/lock.h is SYS_LOCK_H, src/mem/tests/stress.h MEM_TESTS_STRESS_H,
   src/config.h CONFIG_H; a name that starts with its layer is not prefixed
   twice (src/http/http_parse.h: HTTP_PARSE_H, src/sys/sys.h: SYS_H).
Prints one line per problem and exits 1 if there is any.
"""
import os
import re
import sys


def guard_for(path):
    """src/<layer>/[<folder>/]<name>.h -> <LAYER>_[<FOLDER>_]<NAME>_H, where a name that starts
    with its layer's prefix (http_parse.h) or is the layer (sys.h) does not repeat it."""
    parts = path.split(os.sep)
    if parts[0] == "src":
        parts = parts[1:]
    name = os.path.splitext(parts[-1])[0]
    layer, folders = (parts[0], parts[1:-1]) if len(parts) > 1 else ("", [])
    if name == layer:
        name = ""
    elif layer and name.startswith(layer + "_"):
        name = name[len(layer) + 1:]
    words = [w for w in [layer, *folders, name] if w]
    return re.sub(r"\W", "_", "_".join(words)).upper() + "_H"


def check(path):
    problems = []
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    base = os.path.basename(path)
    if not lines or not re.fullmatch(rf"// {re.escape(base)}: \S.*\.", lines[0]):
        problems.append(f"{path}:1: first line must be '// {base}: <purpose>.' (one line, ending with a period)")
    elif len(lines) > 1 and lines[1].startswith("//") and not lines[1].strip("/ "):
        pass  # a blank comment line after the purpose starts a longer note: fine
    if path.endswith(".h"):
        want = guard_for(os.path.normpath(path))
        text = "\n".join(lines)
        if not re.search(rf"^#ifndef {want}\n#define {want}$", text, re.M):
            problems.append(f"{path}: include guard must be #ifndef {want} / #define {want}")
    return problems


def main():
    problems = [p for path in sys.argv[1:] for p in check(path)]
    for p in problems:
        print(p)
    if problems:
        print(f"dialect: {len(problems)} problems in {len(sys.argv) - 1} files", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
