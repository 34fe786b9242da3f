#!/usr/bin/env python3
"""idle_mem.py: resident memory of idle keep-alive connections, our server against nginx, behind `make bench-idle`.

    python3 bench/idle_mem.py [--server BIN] [--reactor epoll|ppoll|io_uring] [--executor shared|per-core]
                              [--workers 1] [--conns 10000] [--runs 3] [--after 10]
                              [--results DIR] [--no-reference] [--strict]

For each server (ours and nginx, 1 worker each unless --workers says
otherwise, pinned to CPU 0 while this client runs on CPU 1), alternating
runs so that drift hits both:

  1. start the server, send one request, wait a moment: the RSS at start;
  2. open N connections that each send `GET /plaintext` (keep-alive) and
     read the whole response, then stay open and idle; after a second, the
     RSS with them idle (and a check that the server closed none of them);
  3. close them all (the client closes first, as a browser that goes away)
     and sample the RSS every quarter second for the next 10 seconds.

RSS is VmRSS of every process of the server (our one process; nginx's
master and worker). It prints KiB per idle connection and the RSS after
close for both, and checks the issue's targets on our server:

  growth:  N = 10,000 idle connections add at most 12 MiB to the RSS;
  return:  10 s after they close, the RSS is at most start + growth/4 + 2 MiB.

PASS/FAIL is printed per run and overall (overall PASS only if every run
passes). One CSV row per server and run goes to
results/idle-<date>-<host>-<commit>.csv (results/idle-latest.csv points at
it). The exit status is 0 when the measurement ran, whatever the targets
say; --strict makes a FAIL exit 1.
"""
import argparse
import csv
import datetime
import os
import selectors
import socket
import statistics
import sys
import tempfile
import time
import shutil

sys.dont_write_bytecode = True  # no __pycache__ folders in bench/
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from servers import HOST, ROOT, BenchError, Nginx, Ours  # noqa: E402
from run import default_server, machine, raise_fd_limit  # noqa: E402

GROWTH_LIMIT_KIB = 12 * 1024   # target: what 10,000 idle connections may add
BACK_SLACK_KIB = 2 * 1024      # target: RSS after close within growth/4 + this
TARGET_CONNS = 10000           # the targets are stated for this many connections
SAMPLE_S = 0.25
BATCH = 256                    # connections with a request in flight at once while opening
REQUEST = b"GET /plaintext HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"

COLUMNS = [
    "date", "host", "commit", "cpu_model", "cores", "kernel", "nginx_version",
    "server", "server_args", "workers", "pinned", "run", "runs", "conns",
    "opened", "alive_idle", "open_s",
    "rss_start_kib", "rss_idle_kib", "growth_kib", "per_conn_kib",
    "rss_after_kib", "rss_after_min_kib", "back_after_s", "after_s", "back_limit_kib",
    "growth_pass", "back_pass", "loadavg_1m", "after_close",
]


# [snippet: bench-idle-rss]
def rss_kib(server):
    """VmRSS of every process of the server, summed, in KiB (/proc/PID/status)."""
    total = 0
    for pid in server.pids():
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
                        break
        except OSError:
            pass
    return total
# [end: bench-idle-rss]


def response_done(buf):
    """True once buf holds a whole response head and its Content-Length body."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return False
    length = 0
    for line in buf[:end].split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    return len(buf) >= end + 4 + length


def open_idle(port, n, source):
    """n connections from source (a loopback address of their own, so that the
    TIME_WAIT ports of earlier runs are never in the way), each with one
    request answered. Returns the sockets; raises BenchError on a failure."""
    socks = []
    deadline = time.monotonic() + 120
    while len(socks) < n:
        batch = []
        for _ in range(min(BATCH, n - len(socks))):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                s.bind((source, 0))
                s.settimeout(10)
                s.connect((HOST, port))
                s.sendall(REQUEST)
            except OSError as e:
                s.close()
                for t in socks + batch:
                    t.close()
                raise BenchError(f"connection {len(socks) + len(batch) + 1} of {n} failed: {e}")
            batch.append(s)
        for s in batch:
            buf = b""
            while not response_done(buf):
                try:
                    chunk = s.recv(4096)
                except OSError as e:
                    chunk, err = b"", e
                else:
                    err = "closed by the server"
                if not chunk or time.monotonic() > deadline:
                    for t in socks + batch:
                        t.close()
                    raise BenchError(f"no whole response on connection {len(socks) + 1} of {n}: {err}")
                buf += chunk
            if not buf.startswith(b"HTTP/1.1 200"):
                raise BenchError(f"unexpected response: {buf[:40]!r}")
            s.setblocking(False)
            socks.append(s)
    return socks


def still_open(socks):
    """How many of socks the server has not closed (none readable: no EOF, no data)."""
    sel = selectors.DefaultSelector()
    for s in socks:
        sel.register(s, selectors.EVENT_READ)
    readable = len(sel.select(timeout=0))
    sel.close()
    return len(socks) - readable


# [snippet: bench-idle-one]
def one_run(server, n, after_s, settle_s, source):
    """Steps 1-3 of the docstring on a started server; returns the row's measurements."""
    time.sleep(settle_s)
    start = rss_kib(server)
    t0 = time.monotonic()
    socks = open_idle(server.port, n, source)
    open_s = time.monotonic() - t0
    time.sleep(settle_s)  # let the server finish with the last requests
    idle = rss_kib(server)
    alive = still_open(socks)
    for s in socks:
        s.close()
    t_close = time.monotonic()
    samples = []
    while True:
        t = time.monotonic() - t_close
        samples.append((round(t, 2), rss_kib(server)))
        if t >= after_s:
            break
        time.sleep(SAMPLE_S)
    growth = idle - start
    limit = start + max(growth, 0) / 4 + BACK_SLACK_KIB
    back = next((t for t, r in samples if r <= limit), None)
    return {
        "conns": n, "opened": len(socks), "alive_idle": alive, "open_s": round(open_s, 2),
        "rss_start_kib": start, "rss_idle_kib": idle, "growth_kib": growth,
        # Per connection the server still held (a server that closed some
        # idle ones no longer pays for them).
        "per_conn_kib": round(growth / alive, 3) if alive else "", "rss_after_kib": samples[-1][1],
        "rss_after_min_kib": min(r for _, r in samples), "after_s": samples[-1][0],
        "back_after_s": "" if back is None else back, "back_limit_kib": int(limit),
        # The targets: growth for 10,000 connections (scaled if N differs),
        # all of them still open; and the RSS at the end of the window within the limit.
        "growth_pass": int(alive == n and growth <= GROWTH_LIMIT_KIB * n / TARGET_CONNS),
        "back_pass": int(samples[-1][1] <= limit),
        "after_close": ";".join(f"{t}:{r}" for t, r in samples),
    }
# [end: bench-idle-one]


def mib(kib):
    return f"{kib / 1024:.1f} MiB"


def rng(vals, fmt):
    vals = sorted(vals)
    if len(vals) == 1:
        return fmt(vals[0])
    return f"{fmt(statistics.median(vals))} (range {fmt(vals[0])} .. {fmt(vals[-1])})"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--server", default=default_server(), help="our server binary")
    ap.add_argument("--conns", type=int, default=TARGET_CONNS)
    ap.add_argument("--runs", type=int, default=3, help="runs per server, alternating")
    ap.add_argument("--after", type=float, default=10.0, help="seconds of RSS samples after the close")
    ap.add_argument("--settle", type=float, default=1.0, help="seconds to wait before each RSS reading")
    ap.add_argument("--results", default=os.path.join(ROOT, "results"))
    ap.add_argument("--reactor", default="epoll", choices=["epoll", "ppoll", "io_uring"],
                    help="our server's reactor")
    ap.add_argument("--executor", default="shared", choices=["shared", "per-core"], help="our server's executor")
    ap.add_argument("--workers", type=int, default=1, help="worker threads (processes for nginx)")
    ap.add_argument("--no-reference", dest="reference", action="store_false", help="skip nginx")
    ap.add_argument("--strict", action="store_true", help="exit 1 if a target fails")
    ap.add_argument("--command", default="", help="the command line to quote in the output")
    args = ap.parse_args()

    if not os.access(args.server, os.X_OK):
        sys.exit(f"bench-idle: no server binary at {args.server}; build it with `make STAGE=7 all`")
    nofile = raise_fd_limit()
    if nofile < args.conns + 256:
        sys.exit(f"bench-idle: the fd limit is {nofile}; {args.conns} connections need {args.conns + 256}")
    pinned = (os.cpu_count() or 1) >= 2
    if pinned:
        os.sched_setaffinity(0, {1})  # the client; the servers go on CPU 0
    mach = machine()
    os.makedirs(args.results, exist_ok=True)
    os.makedirs(os.path.join(ROOT, "build", "bench"), exist_ok=True)
    stem = f"idle-{datetime.datetime.now():%Y%m%d-%H%M%S}-{mach['host']}-{mach['commit']}"
    csv_path = os.path.join(args.results, f"{stem}.csv")
    tmp = tempfile.mkdtemp(prefix="idle-", dir=os.path.join(ROOT, "build", "bench"))
    binary = os.path.join(tmp, "async-nostd")  # a private copy: a rebuild cannot swap it mid-run
    shutil.copy2(args.server, binary)
    command = args.command or "python3 " + " ".join([os.path.relpath(sys.argv[0], ROOT)] + sys.argv[1:])
    print(f"bench-idle: {args.conns} idle keep-alive connections, {args.runs} run(s) per server; "
          f"{mach['cpu_model']}, {mach['cores']} cores, Linux {mach['kernel']}; commit {mach['commit']}; "
          f"load average {os.getloadavg()[0]:.2f}; "
          f"{'server on CPU 0, client on CPU 1' if pinned else 'unpinned'}", flush=True)

    # The server holds each connection as a task: room for all of them, and
    # no timeout that could close an idle one during the run.
    keep = ["--header-timeout=600000", "--idle-timeout=600000"]
    kinds = [lambda: Ours(tmp, binary, workers=args.workers, cpu=0 if pinned else None, reactor=args.reactor,
                          executor=args.executor, max_tasks=min(16384, args.conns + 256), extra_args=keep)]
    if args.reference:
        # Twice the connections: nginx closes idle keep-alive connections to
        # make room once fewer than 1/16 of worker_connections are free.
        kinds.append(lambda: Nginx(tmp, workers=args.workers, cpu=0 if pinned else None,
                                   connections=2 * args.conns + 256))
    rows = []
    source = 1
    with open(csv_path, "w", newline="") as f:
        out = csv.DictWriter(f, COLUMNS, extrasaction="ignore")
        out.writeheader()
        try:
            for r in range(args.runs):
                for make in kinds:
                    srv = make()
                    source += 1
                    try:
                        srv.start()
                        res = one_run(srv, args.conns, args.after, args.settle, f"127.0.{source // 250}.{source % 250 + 2}")
                        if not srv.alive():
                            raise BenchError(f"{srv.label} died during the run:\n{srv.log_tail()}")
                    finally:
                        srv.stop()
                    row = dict(mach, server=srv.kind, server_args=srv.args_text(), workers=args.workers,
                               pinned=int(pinned), run=r + 1, runs=args.runs,
                               loadavg_1m=round(os.getloadavg()[0], 2), **res)
                    out.writerow(row)
                    f.flush()
                    rows.append(row)
                    if row["alive_idle"] < row["opened"]:
                        print(f"  note: {srv.kind} closed {row['opened'] - row['alive_idle']} of the idle "
                              f"connections before the reading", flush=True)
                    back = f"{row['back_after_s']} s" if row["back_after_s"] != "" else f"not within {row['after_s']} s"
                    print(f"  run {r + 1}/{args.runs} {srv.kind:12s} start {mib(row['rss_start_kib'])}, "
                          f"idle {mib(row['rss_idle_kib'])} ({row['alive_idle']}/{row['opened']} open): "
                          f"{row['per_conn_kib'] or 0:.2f} KiB per connection; after close {mib(row['rss_after_kib'])} "
                          f"at {row['after_s']} s (limit {mib(row['back_limit_kib'])}, reached: {back}); "
                          f"load {row['loadavg_1m']:.2f}", flush=True)
        except BenchError as e:
            print(f"bench-idle: {e}", flush=True)
            shutil.rmtree(tmp, ignore_errors=True)
            sys.exit(1)
    shutil.rmtree(tmp, ignore_errors=True)
    latest = os.path.join(args.results, "idle-latest.csv")
    if os.path.islink(latest) or os.path.exists(latest):
        os.unlink(latest)
    os.symlink(os.path.basename(csv_path), latest)

    print(f"\nbench-idle: `{command}`; {args.conns} connections; medians of {args.runs} run(s)")
    for kind in dict.fromkeys(r["server"] for r in rows):
        mine = [r for r in rows if r["server"] == kind]
        print(f"  {kind:12s} start {rng([r['rss_start_kib'] for r in mine], mib)}, "
              f"idle {rng([r['rss_idle_kib'] for r in mine], mib)}: "
              f"{rng([r['per_conn_kib'] or 0 for r in mine], lambda v: f'{v:.2f} KiB')} per idle connection; "
              f"{args.after:g} s after close {rng([r['rss_after_kib'] for r in mine], mib)}")
    ours = [r for r in rows if r["server"].startswith("async-nostd")]  # any reactor
    failed = not ours  # no run of ours: nothing can pass
    scale = f" (scaled to {args.conns} connections)" if args.conns != TARGET_CONNS else ""
    for name, key, text in (
            ("growth", "growth_pass", f"idle connections add at most {mib(GROWTH_LIMIT_KIB * args.conns / TARGET_CONNS)}"
                                      f"{scale}"),
            ("return", "back_pass", f"{args.after:g} s after close, RSS <= start + growth/4 + {mib(BACK_SLACK_KIB)}")):
        ok = all(r[key] for r in ours)
        failed |= not ok
        per_run = ", ".join("PASS" if r[key] else "FAIL" for r in ours)
        print(f"  target {name}: {text}: {'PASS' if ok else 'FAIL'} (runs: {per_run})")
    print(f"bench-idle: CSV {os.path.relpath(csv_path, ROOT)}")
    sys.exit(1 if failed and args.strict else 0)


if __name__ == "__main__":
    main()
