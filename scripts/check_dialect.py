#!/usr/bin/env python3
"""check_dialect.py: the rules of the project's C dialect that clang-format cannot check.

    python3 scripts/check_dialect.py FILE...      (make format-check runs it on every C file)

1. The first line of every file is its purpose comment, on one line:
       // name.c: what this file is for.
2. Every header's include guard is named after its path: src/<layer>/<name>.h
   is <LAYER>_<NAME>_H (src/sys/lock.h: SYS_LOCK_H), src/config.h is CONFIG_H,
   and a header elsewhere is <DIR>_<NAME>_H after its folder.
Prints one line per problem and exits 1 if there is any.
"""
import os
import re
import sys


def guard_for(path):
    parts = path.split(os.sep)
    name = re.sub(r"\W", "_", os.path.splitext(parts[-1])[0]).upper()
    if parts[:1] == ["src"] and len(parts) == 2:
        return f"{name}_H"
    layer = parts[1] if parts[:1] == ["src"] else parts[-2]
    prefix = layer.upper() + "_"
    # A file already named after its layer (sys/sys.h, http/http_parse.h) is not prefixed twice.
    return f"{name}_H" if name.startswith(prefix) or name == layer.upper() else f"{prefix}{name}_H"


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
