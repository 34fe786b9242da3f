"""cases.py: the one-line case report of the book tools' own tests (test_*.py here)."""
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
