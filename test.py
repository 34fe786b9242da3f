#!/usr/bin/env python3
"""test.py: the one test runner of async-nostd (stdlib only).

    python3 test.py                  everything: every stage, the book, the bench smoke test and
                                     the open-loop generator's check
    python3 test.py --fast           the fast half (`make test`): all but the clang rebuild of the
                                     unit tests, the black-box tests' io_uring pass, the per-core
                                     executor's WebSocket pass, the lab check and the book's
                                     rendering and transcripts (`make check` runs everything)
    python3 test.py ch4              stages 1..4 (what `make test STAGE=4` runs)
    python3 test.py sched http       only those stages' tests (built at the highest one)
    python3 test.py browser          only tests tagged "browser" (also: http, ws)
    python3 test.py -k name          only tests whose name contains "name"
    python3 test.py -k sched/test_sched:slots_run_out_cleanly
                                     one case of one unit-test binary

Stages: syscalls(1) alloc(2) sched(3) exec(4) net(5) http(6) ws(7).
Each layer's tests live beside its code:
  src/<layer>/tests/test_*.c     freestanding unit tests   -> build/stage-N/tests/<layer>/
  src/<layer>/tests/hosted_*.c   hosted tests (sanitizers)  -> build/stage-N/hosted/<layer>/
  src/<layer>/tests/tsan_*.c     ThreadSanitizer stress     -> build/tsan/<layer>/ (short run here)
  src/<layer>/tests/test_*.py    black-box tests: functions named test_* taking a Context
Every test prints one line ([OK], [FAIL] or [SKIP]); the last line is
"N passed, N failed" and the exit status is non-zero if anything failed.
"""
import contextlib
import importlib.util
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.abspath(__file__))
STAGES = ["syscalls", "alloc", "sched", "exec", "net", "http", "ws"]
LAYERS = ["sys", "mem", "sched", "exec", "net", "http", "ws"]
UNIT_TIMEOUT = float(os.environ.get("TEST_TIMEOUT", "300"))
# TEST_LOG: where the log goes (the book build runs test.py inside a test run; two logs).
LOG_PATH = os.environ.get("TEST_LOG") or os.path.join(ROOT, "build", "test-output.log")


class Skip(Exception):
    """Raised by a black-box test that cannot run here; the reason is printed."""


class Results:
    def __init__(self, log):
        self.passed = self.failed = self.skipped = 0
        self.failures = []
        self.log = log

    def line(self, text):
        print(text, flush=True)
        self.log.write(text + "\n")
        self.log.flush()

    def ok(self, name, detail=""):
        self.passed += 1
        self.line(f"[OK] {name}" + (f" ({detail})" if detail else ""))

    def fail(self, name, why):
        self.failed += 1
        self.failures.append(name)
        self.line(f"[FAIL] {name}: {why}")

    def skip(self, name, why):
        self.skipped += 1
        self.line(f"[SKIP] {name}: {why}")


class Context:
    """What black-box tests get: the stage's build paths and helpers to run servers."""

    def __init__(self, stage, results):
        self.stage = stage
        self.root = ROOT
        self.build = os.path.join(ROOT, "build", f"stage-{stage}")
        self.results = results

    def bin(self, name):
        return os.path.join(self.build, "bin", name)

    @staticmethod
    def free_port():
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]

    @contextlib.contextmanager
    def process(self, argv, ready_port=None, env=None, timeout=10.0):
        """Starts argv; if ready_port is given, waits until it accepts connections.
        Yields the Popen; on exit sends SIGTERM, then SIGKILL after 5 s."""
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env=env, cwd=ROOT)
        try:
            if ready_port is not None:
                self.wait_port(ready_port, timeout, proc)
            yield proc
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            for f in (proc.stdout, proc.stderr):
                if f:
                    f.close()

    @staticmethod
    def wait_port(port, timeout, proc=None):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc is not None and proc.poll() is not None:
                raise AssertionError(f"process exited early ({exit_reason(proc.returncode)}): "
                                     f"{proc.stderr.read().decode(errors='replace')[-500:]}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        raise AssertionError(f"nothing listening on port {port} after {timeout} s")


def fast_leaves_out(stage, layers, tag, name_filter, whole_tree):
    """What `--fast` leaves out of this run, said at its end: only what the
    full run would have run here (a stage-1 reader hears nothing of io_uring)."""
    out = ["the unit tests built with clang"] if tag is None and not name_filter else []
    if any(layer in layers for layer in LAYERS[4:stage]):
        out.append("the black-box tests on io_uring")
    if "ws" in layers and stage >= 7 and tag is None:
        out.append("the WebSocket tests on the per-core executor")
    if whole_tree:
        out += ["the lab check", "the book's HTML, EPUB and transcripts"]
    return out


def parse_filters(args):
    """Returns (stage to build, set of layers, tag filter or None, name filter or None)."""
    layers, tag, name = set(), None, None
    want_book = not args
    i = 0
    while i < len(args):
        a = args[i]
        i += 1
        if a == "-k" and i < len(args):
            name = args[i]
            i += 1
            continue
        m = re.fullmatch(r"ch([1-7])", a)
        if m:
            layers.update(LAYERS[: int(m.group(1))])
        elif a in STAGES:
            layers.add(LAYERS[STAGES.index(a)])
        elif a in LAYERS:
            layers.add(a)
        elif a == "browser":
            layers.add("ws")
            tag = "browser"
        elif a in ("book", "bench"):
            want_book = want_book or a == "book"
            layers.add(a)
        else:
            sys.exit(f"test.py: unknown filter {a!r}; use one of {' '.join(STAGES)} "
                     f"ch1..ch7 browser book bench -k NAME")
    if not args:
        layers = {l for l in LAYERS if os.path.isdir(os.path.join(ROOT, "src", l))} | {"book", "bench"}
    elif not layers:  # only -k NAME: look for it in every stage there is
        layers = {l for l in LAYERS if os.path.isdir(os.path.join(ROOT, "src", l))}
    stage = max([LAYERS.index(l) + 1 for l in layers if l in LAYERS] or [1])
    return stage, layers, tag, name, want_book


def run_make(results, stage, extra=()):
    cmd = ["make", "-s", f"-j{os.cpu_count() or 2}", f"STAGE={stage}", *extra]
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    name = f"build: {' '.join(cmd[3:])}"
    if r.returncode != 0:
        results.fail(name, (r.stdout + r.stderr)[-3000:])
        return False
    results.ok(name)
    return True


def exit_reason(code):
    """'exit status 3', or 'killed by SIGILL' for a process a signal ended (returncode -4)."""
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit status {code}"


def run_unit_binaries(results, stage, layer, kind, name_filter, build_dir=None, runner=(), env=None):
    folder = os.path.join(build_dir or os.path.join(ROOT, "build", f"stage-{stage}"), kind, layer)
    if not os.path.isdir(folder):
        return
    for exe in sorted(os.listdir(folder)):
        path = os.path.join(folder, exe)
        if "." in exe or not os.access(path, os.X_OK) or os.path.isdir(path):
            continue
        prefix = f"{layer}/{exe}" + ("" if build_dir is None else f" [{os.path.basename(build_dir)}]")
        argv = [path]
        binary_filter, _, case = (name_filter or "").partition(":")
        if case:  # "layer/binary:case": run just that case (the harness takes case names as arguments)
            if binary_filter.strip() != f"{layer}/{exe}":
                continue
            argv.append(case.strip())
        elif name_filter and name_filter not in prefix:
            continue
        start = time.monotonic()
        try:
            r = subprocess.run([*runner, *argv], cwd=ROOT, capture_output=True, text=True,
                               timeout=UNIT_TIMEOUT, env=env)
            out, code = r.stdout, r.returncode
        except subprocess.TimeoutExpired as e:
            out = (e.stdout or b"").decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
            code = None
        cases = failed = 0
        for line in out.splitlines():
            m = re.match(r"\[(OK|FAIL|SKIP)\] (.*)", line)
            if not m:
                continue
            cases += 1
            status, rest = m.groups()
            case, _, why = rest.partition(": ")
            if status == "OK":
                results.ok(f"{prefix}: {rest}")
            elif status == "SKIP":
                results.skip(f"{prefix}: {case}", why)
            else:
                failed += 1
                results.fail(f"{prefix}: {case}", why)
        elapsed = time.monotonic() - start
        if code is None:
            results.fail(f"{prefix}", f"timed out after {UNIT_TIMEOUT:.0f} s ({cases} cases reported)")
        elif code != 0 and failed == 0:
            err = r.stderr or ""
            at = err.find("WARNING: ThreadSanitizer")  # a report's first stacks say the most
            tail = err[at:at + 1500] if at >= 0 else err[-1500:]
            results.fail(f"{prefix}", f"{exit_reason(code)} after {cases} cases, {elapsed:.1f} s: {tail}")
        elif cases == 0:
            results.fail(f"{prefix}", "reported no test cases")


def load_blackbox_tests(layer):
    folder = os.path.join(ROOT, "src", layer, "tests")
    if not os.path.isdir(folder):
        return []
    tests = []
    for f in sorted(os.listdir(folder)):
        if not (f.startswith("test_") and f.endswith(".py")):
            continue
        spec = importlib.util.spec_from_file_location(f"{layer}_{f[:-3]}", os.path.join(folder, f))
        mod = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = mod
        spec.loader.exec_module(mod)
        for attr in dir(mod):
            fn = getattr(mod, attr)
            if attr.startswith("test_") and callable(fn):
                order = fn.__code__.co_firstlineno
                tests.append((f"{layer}/{f[:-3]}: {attr[5:]}", fn, getattr(fn, "tags", set()), order))
    tests.sort(key=lambda t: (t[0].split(":")[0], t[3]))
    return [(n, fn, tags) for n, fn, tags, _ in tests]


def run_blackbox(results, ctx, layer, tag, name_filter, suffix="", modules=None):
    for name, fn, tags in load_blackbox_tests(layer):
        if modules and name.split(":")[0] not in modules:
            continue
        name += suffix
        if tag and tag not in tags:
            continue
        if name_filter and name_filter not in name:
            continue
        start = time.monotonic()
        try:
            detail = fn(ctx)
            results.ok(name, detail if isinstance(detail, str) else f"{time.monotonic() - start:.1f} s")
        except Skip as e:
            results.skip(name, str(e))
        except AssertionError as e:
            results.fail(name, str(e) or "assertion failed")
        except Exception as e:  # a crash of the test itself is a failure too
            results.fail(name, f"{type(e).__name__}: {e}")


def run_blackbox_on_io_uring(results, ctx, stage, layers, tag, name_filter):
    """Every black-box test of net, http and ws once more, with io_uring as the
    reactor of the helpers (src/net/tests/reactors.py); one skip, with the
    kernel's reason, where it refuses io_uring."""
    todo = [layer for layer in ("net", "http", "ws") if layer in LAYERS[:stage] and layer in layers]
    if not todo:
        return
    sys.path.insert(0, os.path.join(ROOT, "src", "net", "tests"))
    from reactors import uring_refusal
    why = uring_refusal()
    if why:
        results.skip("black-box tests on io_uring", why)
        return
    os.environ["ASYNC_NOSTD_REACTOR"] = "io_uring"
    try:
        for layer in todo:
            run_blackbox(results, ctx, layer, tag, name_filter, " [io_uring]")
    finally:
        del os.environ["ASYNC_NOSTD_REACTOR"]


# The black-box tests run once more on the per-core executor (--executor=per-core):
# the HTTP and WebSocket suites, whose servers accept, time out, close and shut
# down, which is what the executor decides (where a connection's task runs,
# whose reactor and timers serve it, who wakes whom). The load, interop and
# browser suites test the protocol and the clients, not the executor, and run
# on the default executor only. A fast run does this for HTTP on epoll (the
# WebSocket suite shares HTTP's accept, deadlines and lifecycle, and takes a
# minute); a full run for both on epoll and io_uring (ppoll's instances are
# epoll's in structure, and the executor cases of test_per_core run on ppoll too).
PER_CORE_MODULES = ("http/test_http", "ws/test_ws")


def run_blackbox_per_core(results, ctx, stage, layers, tag, name_filter, fast):
    todo = [layer for layer in (("http",) if fast else ("http", "ws")) if layer in LAYERS[:stage] and layer in layers]
    if not todo:
        return
    passes = [("epoll", " [per-core]")] + ([] if fast else [("io_uring", " [per-core, io_uring]")])
    sys.path.insert(0, os.path.join(ROOT, "src", "net", "tests"))
    from reactors import uring_refusal
    os.environ["ASYNC_NOSTD_EXECUTOR"] = "per-core"
    try:
        for reactor, suffix in passes:
            if reactor == "io_uring" and uring_refusal():
                results.skip("black-box tests on io_uring, per-core", uring_refusal())
                continue
            if reactor:
                os.environ["ASYNC_NOSTD_REACTOR"] = reactor
            for layer in todo:
                run_blackbox(results, ctx, layer, tag, name_filter, suffix, PER_CORE_MODULES)
            os.environ.pop("ASYNC_NOSTD_REACTOR", None)
    finally:
        del os.environ["ASYNC_NOSTD_EXECUTOR"]
        os.environ.pop("ASYNC_NOSTD_REACTOR", None)


def run_command_test(results, name, cmd, timeout=600):
    try:
        r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        results.fail(name, f"timed out after {timeout} s")
        return
    if r.returncode == 0:
        results.ok(name)
    else:
        results.fail(name, (r.stdout + r.stderr)[-2000:])


def main():
    args = sys.argv[1:]
    fast = "--fast" in args
    args = [a for a in args if a != "--fast"]
    stage, layers, tag, name_filter, want_book = parse_filters(args)
    os.makedirs(os.path.dirname(LOG_PATH), exist_ok=True)
    with open(LOG_PATH, "w") as log:
        results = Results(log)
        started = time.monotonic()
        results.line(f"# stage {stage}: layers {' '.join(l for l in LAYERS if l in layers)}")
        if run_make(results, stage, ["all"]):
            run_command_test(results, f"freestanding: every stage-{stage} binary is static with no libc",
                             ["make", "-s", f"STAGE={stage}", "check-freestanding"])
            ctx = Context(stage, results)
            # The ThreadSanitizer stress tests (`make tsan`), in their short
            # version; any TSan report fails the binary (scripts/tsan-run.sh).
            tsan = tag is None and shutil.which("clang") and run_make(results, stage, ["tsan-build"])
            tsan_env = dict(os.environ, TSAN_SHORT="1")
            for layer in LAYERS[:stage]:
                if layer not in layers:
                    continue
                if tag is None:
                    run_unit_binaries(results, stage, layer, "tests", name_filter)
                    run_unit_binaries(results, stage, layer, "hosted", name_filter)
                if tsan:
                    run_unit_binaries(results, stage, layer, "", name_filter, os.path.join(ROOT, "build", "tsan"),
                                      ["sh", os.path.join(ROOT, "scripts", "tsan-run.sh")], tsan_env)
                run_blackbox(results, ctx, layer, tag, name_filter)
            if not fast:
                run_blackbox_on_io_uring(results, ctx, stage, layers, tag, name_filter)
            run_blackbox_per_core(results, ctx, stage, layers, tag, name_filter, fast)
            if tag is None and shutil.which("clang") and not name_filter and not fast:
                clang_dir = os.path.join(ROOT, "build", f"stage-{stage}-clang")
                if run_make(results, stage, ["CC=clang", f"B={os.path.relpath(clang_dir, ROOT)}", "tests"]):
                    for layer in LAYERS[:stage]:
                        if layer in layers:
                            run_unit_binaries(results, stage, layer, "tests", None, clang_dir)
        if want_book:  # whole-tree checks: only on a full run (or `test.py book`)
            if shutil.which("clang-format"):
                run_command_test(results, "format: every C file matches .clang-format",
                                 ["make", "-s", "format-check"])
            else:
                results.fail("format: every C file matches .clang-format",
                             "clang-format is missing (scripts/setup.sh installs it)")
        if want_book and os.path.isfile(os.path.join(ROOT, "scripts", "book", "book.mk")):
            run_command_test(results, "book: every snippet reference resolves, no listing names a later "
                             "chapter's symbol, the glossary has every defined term", ["make", "-s", "book-check"])
            run_command_test(results, "book: the listings check fails on a planted later chapter's symbol",
                             [sys.executable, "scripts/book/test_listings.py"], timeout=300)
            run_command_test(results, "book: the glossary check fails on a planted term with no entry",
                             [sys.executable, "scripts/book/test_glossary.py"], timeout=300)
            run_command_test(results, "book: every number in the prose comes from the build, is approximate "
                             "with its source or sits in a measured box", ["make", "-s", "book-numbers"])
            run_command_test(results, "book: the numbers check fails on a planted number and a missing figure",
                             [sys.executable, "scripts/book/test_numbers.py"], timeout=300)
            # The rendering and the transcripts (minutes: each stage is built
            # and every chapter's commands run) belong to the full run.
            if not fast:
                run_command_test(results, "book: pandoc renders HTML and EPUB; every transcript matches its command",
                                 ["make", "-s", "book"], timeout=900)
            run_command_test(results, "book: a stale transcript fails the book build",
                             [sys.executable, "scripts/book/test_transcripts.py"], timeout=900)
        # Lab mode (`make lab`): only on a full run of the whole tree; a lab
        # exported for one stage lacks the later layers and skips this.
        full_tree = all(os.path.isdir(os.path.join(ROOT, "src", l)) for l in LAYERS)
        if not args and not fast and full_tree and os.path.isfile(os.path.join(ROOT, "scripts", "lab.py")):
            run_command_test(results, "lab: every stage's lab fails its tests, every reference passes, "
                             "its book shows the stubs", ["make", "-s", "lab-check"], timeout=900)
        if "bench" in layers and os.path.isfile(os.path.join(ROOT, "bench", "smoke.py")):
            run_command_test(results, "bench: smoke run writes a CSV row and a plot",
                             [sys.executable, "bench/smoke.py"], timeout=300)
        if "bench" in layers and os.path.isfile(os.path.join(ROOT, "bench", "openloop_test.py")):
            run_command_test(results, "bench: the open-loop generator counts a stall from the intended send times",
                             [sys.executable, "bench/openloop_test.py"], timeout=120)
        left_out = fast_leaves_out(stage, layers, tag, name_filter, want_book) if fast else []
        if left_out:
            results.line("# fast run: not run here: " + ", ".join(left_out) + " (make check runs them)")
        results.line(f"# {time.monotonic() - started:.0f} s; log in {os.path.relpath(LOG_PATH, ROOT)}")
        if results.failures:
            results.line("# failed: " + ", ".join(results.failures[:20]))
        tail = f", {results.skipped} skipped" if results.skipped else ""
        results.line(f"{results.passed} passed, {results.failed} failed{tail}")
    sys.exit(1 if results.failed else 0)


if __name__ == "__main__":
    main()
