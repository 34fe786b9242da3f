"""cases.py: the one-line case report of the book's checks (check_*.py) and of their own tests (test_*.py)."""
import io
import os
import sys

failed = 0


def case(name, ok, why=""):
    """Prints "[OK] name" or "[FAIL] name: why" and counts the failures."""
    global failed
    print(f"[OK] {name}" if ok else f"[FAIL] {name}: {why}", flush=True)
    failed += not ok


def status():
    """The exit status of the test program: 1 if any case failed."""
    sys.stdout.flush()
    return 1 if failed else 0


def report(name, problems, noun, out=sys.stdout):
    """A check's verdict: "[OK] name", or "[FAIL] name: N noun(s):" and each
    problem on a line of its own. Returns the exit status, 0 or 1."""
    if problems:
        print(f"[FAIL] {name}: {len(problems)} {noun}(s):", file=out)
        for p in problems:
            print("  " + p, file=out)
        return 1
    print(f"[OK] {name}", file=out)
    return 0


def captured(check, *args, **kw):
    """Runs a check that prints to its `out` argument; returns (its status, what it printed)."""
    out = io.StringIO()
    return check(*args, out=out, **kw), out.getvalue()


def edit(root, rel, old, new):
    """Replaces the first `old` in root/rel by `new` (a planted fault in a copied
    tree); returns the line it was on. Fails loudly when the text moved."""
    path = os.path.join(root, rel)
    text = open(path, encoding="utf-8").read()
    if old not in text:
        raise AssertionError(f"{rel} no longer holds {old!r}: update this test")
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text.replace(old, new, 1))
    return text.split(old, 1)[0].count("\n") + 1
