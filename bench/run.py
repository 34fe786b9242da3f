#!/usr/bin/env python3
"""run.py: the benchmark driver behind `make bench` (stdlib only).

    python3 bench/run.py [--profile default|quick|smoke] [--server BIN] [--series a,b]
                         [--results DIR] [--plots DIR] [--no-plots]

Runs these series against our server and a reference started in the same
run, alternating the two so that drift on a shared machine hits both:

  headline  1 worker each, server pinned to CPU 0 and `wrk -t1` to CPU 1;
            /plaintext keep-alive and Connection: close, and the demo page /
            (ours and nginx only);
            ours with the shared and with the per-core executor; the floor
            servers of bench/floor/ (epoll, io_uring) join the /plaintext
            points: the least any server can spend per request
  workers   1, 2, 4, 8 workers: ours with --executor=shared, per-core, and
            per-core with --accept=reuseport, beside nginx; keep-alive at 100
            and 1,000 connections and a Connection: close series; the
            server pinned to cores 0..N-1, wrk on all the other cores (a
            thread each). A worker count that leaves no core for wrk is
            skipped and the summary says so (on 2 cores: only 1 worker)
The Connection: close points of both also run our server with
--accept=thread (the acceptor thread) beside the default --accept=workers.
  spread    where connections and requests land on the workers (accepted,
            run, answered: the per-worker counters of /metrics) for each
            executor and accept mode, at 2 and 4 workers, unpinned
  reactor   --reactor=epoll vs ppoll vs io_uring (and nginx) with 0, 1,000
            and 5,000 extra idle connections held open
  syscalls  system calls per keep-alive request (all threads, counted by
            `perf stat -e raw_syscalls:sys_enter`) at 1, 100 and 1,000
            connections, for each reactor and nginx
The headline runs --reactor=io_uring beside the default epoll where the kernel
allows io_uring.
  ws        WebSocket echo, 1 / 100 / 1,000 connections, against node's `ws`
  pipelined /plaintext with 1, 4 and 16 requests pipelined per connection
            (TechEmpower's plaintext shape) at 100 and 1,000 connections:
            ours on every reactor, nginx, h2o (static file and mruby
            handlers) and the floor servers, 1 worker pinned to CPU 0, the
            load from build/bench/pipeline_load (bench/pipeline_load.c) on
            CPU 1, which reports its own CPU share: `wrk` with a Lua
            pipelining script runs out of CPU before our server does
  latency   open-loop latency against offered load: 1 worker each, pinned
            like the headline; each server's closed-loop maximum from one
            `wrk` run, then build/bench/openloop at constant rates from 10%
            of the larger maximum to past it (p50, p99, p99.9 from each
            request's intended send time)
h2o (its static file handler) joins the headline as a second reference.

Every run becomes one CSV row (results/<date>-<host>-<commit>.csv, with the
machine and every parameter); results/latest.csv points at the newest. The
summary (medians, ratios to the reference, targets) is printed and written
beside the CSV; bench/report.py draws the plots from the CSV. Only a full
default run writes to results/ and plots/; other runs go to build/bench/.
"""
import argparse
import csv
import datetime
import os
import platform
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ folders in bench/
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from servers import ROOT, BenchError, Floor, H2o, Nginx, NodeWs, Ours, check_same_answers, ensure_floor  # noqa: E402
from loads import (IdleHolder, ensure_built, ensure_pipeline_load, measured, openloop,  # noqa: E402
                   pipeline_load, syscalls_during, ws_load, wrk)
import report  # noqa: E402

WS_LOAD_SRC = os.path.join(ROOT, "bench", "ws_load.c")
WS_LOAD_BIN = os.path.join(ROOT, "build", "bench", "ws_load")
OPENLOOP_SRC = os.path.join(ROOT, "bench", "openloop.c")
OPENLOOP_BIN = os.path.join(ROOT, "build", "bench", "openloop")
NOISY_PCT = 10    # other processes' share of the machine (%) above which a run is repeated
MAX_REPEATS = 3   # repeats of one run at most
MAX_TASKS = 8192  # above the largest connection count + idle connections of any series

# [snippet: bench-profiles]
# Durations are whole seconds (wrk's -d takes no fractions). The default
# profile stays under 15 minutes on a 2-core machine with the idle-memory
# run that `make bench` adds; quick under 4 minutes. `--dry-run` prints a plan.
PROFILES = {
    "default": {
        "limit_s": 780,  # repeats of noisy runs stop when the total would pass this
        "headline": dict(runs=5, duration=2, warmup=1, conns=100,
                         points=[("/plaintext", False), ("/plaintext", True), ("/", False)]),
        "workers": dict(workers=[1, 2, 4, 8], keepalive_conns=[100, 1000], close_conns=[100],
                        runs=2, duration=2, warmup=1),
        # counts, not speed: unpinned, one run per point
        "spread": dict(workers=[2, 4], keepalive_conns=[100], close_conns=[100], duration=1),
        "reactor": dict(idle=[0, 1000, 5000], conns=100, runs=2, duration=2, warmup=1),
        "ws": dict(conns=[1, 100, 1000], runs=2, duration=2, warmup=1, size=64),
        "syscalls": dict(conns=[1, 100, 1000], runs=1, duration=2, warmup=1),  # a count: one run each
        # h2o: its handlers in this series (the headline runs the static file handler)
        "pipelined": dict(depths=[1, 4, 16], conns=[100, 1000], runs=2, duration=1, warmup=1, h2o=["file", "mruby"]),
        # offered load in % of the larger closed-loop maximum; probe: the wrk run that finds it
        "latency": dict(loads=[10, 30, 50, 70, 80, 90, 100, 110], conns=100, duration=3, warmup=1, drain=1,
                        probe=2),
    },
    "quick": {
        "limit_s": 235,
        "headline": dict(runs=3, duration=1, warmup=1, conns=100,
                         points=[("/plaintext", False), ("/plaintext", True)]),
        "workers": dict(workers=[1, 2, 4], keepalive_conns=[100], close_conns=[100],
                        runs=1, duration=1, warmup=1),
        "spread": dict(workers=[2], keepalive_conns=[100], close_conns=[], duration=1),
        "reactor": dict(idle=[0, 1000], conns=100, runs=1, duration=1, warmup=1),
        "ws": dict(conns=[1, 100], runs=1, duration=1, warmup=0.5, size=64),
        "syscalls": dict(conns=[100], runs=1, duration=1, warmup=1),
        "pipelined": dict(depths=[1, 4, 16], conns=[100], runs=1, duration=1, warmup=0.5, h2o=["file", "mruby"]),
        "latency": dict(loads=[10, 50, 80, 100, 110], conns=100, duration=2, warmup=0.5, drain=1, probe=1),
    },
    "smoke": {
        "limit_s": 40,
        "headline": dict(runs=2, duration=2, warmup=1, conns=50, points=[("/plaintext", False)], floors=False,
                         h2o=False, per_core=False),
        # each executor starts, serves and spreads: one short run per server
        "workers": dict(workers=[1], keepalive_conns=[50], close_conns=[], runs=1, duration=1, warmup=0),
        "spread": dict(workers=[2], keepalive_conns=[50], close_conns=[], duration=1, executors=["per-core"]),
    },
}
# [end: bench-profiles]

COLUMNS = [
    # the machine and the build
    "date", "host", "commit", "cpu_model", "cores", "kernel", "profile",
    "nginx_version", "h2o_version", "wrk_version", "node_ws_version",
    # the parameters of the run
    "series", "point", "server", "reactor", "executor", "route", "workers", "connections", "keepalive", "pinned",
    "idle_conns", "max_tasks", "server_args", "load_threads", "msg_size", "depth", "run", "runs", "duration_s",
    "warmup_s",
    # what was measured
    "requests", "elapsed_s", "rps", "bytes_per_req", "p50_us", "p90_us", "p99_us", "p999_us",
    "lat_mean_us", "lat_max_us", "err_connect", "err_read", "err_write", "err_status", "err_timeout",
    "cpu_s", "cpu_us_per_req", "loadgen_cpu_s", "other_cpu_pct", "idle_alive", "idle_reopened",
    "syscalls", "syscalls_per_req", "discarded", "loadavg_1m", "t_s",
    # the open-loop series: the offered rate (also as % of the larger closed-loop maximum,
    # and the server's own maximum), p99.99, p99 timed from the actual send, requests never answered
    "offered_rps", "load_pct", "peak_rps", "p9999_us", "svc_p99_us", "unfinished",
    # the workers and spread series: the CPUs the server and the load generator were pinned to,
    # and from our server's /metrics, per worker ("n0/n1/..."): responses sent, connections
    # accepted, connections ended (with the per-core executor: where they lived)
    "server_cpus", "load_cpus", "worker_requests", "worker_accepted", "worker_closed", "shared_writes_per_req",
]


def sh(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=10).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return ""


def source_changed():
    """True if the server's sources differ from HEAD: new files under src/, or
    changes to src/ or the Makefile other than book snippet markers (which
    are comments and cannot change the binary)."""
    if any(line.startswith("??") for line in
           sh(["git", "status", "--porcelain", "--untracked-files=all", "--", "src", "Makefile"]).splitlines()):
        return True
    r = subprocess.run(["git", "diff", "--quiet", r"-I\[(snippet|end): ", "HEAD", "--", "src", "Makefile"],
                       cwd=ROOT, capture_output=True)
    return r.returncode != 0


def machine():
    cpu = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    commit = sh(["git", "rev-parse", "--short", "HEAD"]) or "nocommit"
    if commit != "nocommit" and source_changed():
        commit += "-dirty"
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    nginx_v = subprocess.run([nginx, "-v"], capture_output=True, text=True).stderr.strip().split("/")[-1] \
        if os.access(nginx, os.X_OK) else ""
    h2o_v = sh(["h2o", "--version"]).split("\n")[0].split(" ")[-1] if shutil.which("h2o") else ""
    wrk_v = sh(["wrk", "--version"]).split("\n")[0].split(" ")[1] if shutil.which("wrk") else ""
    ws_v = ""
    try:
        import json
        with open(os.path.join(ROOT, "scripts", "node", "node_modules", "ws", "package.json")) as f:
            ws_v = json.load(f)["version"]
    except (OSError, ValueError, KeyError):
        pass
    return {
        "date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S"),
        "host": socket.gethostname().split(".")[0], "commit": commit, "cpu_model": cpu,
        "cores": str(os.cpu_count()), "kernel": platform.release(),
        "nginx_version": nginx_v, "h2o_version": h2o_v, "wrk_version": wrk_v, "node_ws_version": ws_v,
    }


# [snippet: bench-raise-nofile]
def raise_fd_limit():
    """Lift the soft fd limit to the hard one: children (servers, wrk, the idle
    holder) inherit it, and 5,000 idle + 1,000 active connections need it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        hard = 1 << 20
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard
# [end: bench-raise-nofile]


def ensure_ws_load():
    return ensure_built(WS_LOAD_SRC, WS_LOAD_BIN)


def ensure_openloop():
    return ensure_built(OPENLOOP_SRC, OPENLOOP_BIN, ["-pthread"])


def fmt_dur(s):
    s = max(0, int(s + 0.5))
    return f"{s // 60}:{s % 60:02d}"


class Bench:
    """Holds the plan's clock, the CSV writer and the servers currently up."""

    def __init__(self, args, mach, csv_path):
        self.args = args
        self.mach = mach
        self.pinned_ok = (os.cpu_count() or 1) >= 2
        self.cpu_server = 0 if self.pinned_ok else None
        self.cpu_load = 1 if self.pinned_ok else None
        self.csv_path = csv_path
        self.csv_file = None  # opened by open_csv() once the plan is made
        self.rows = 0
        self.started = time.monotonic()
        self.planned_total = 0.0
        self.planned_done = 0.0
        self.steps_total = 0
        self.steps_done = 0
        self.live = []
        self.notes = []
        self.limit_s = PROFILES[args.profile]["limit_s"]
        # io_uring joins the series where the kernel allows it; else a note says why not.
        sys.path.insert(0, os.path.join(ROOT, "src", "net", "tests"))
        from reactors import uring_refusal
        why = uring_refusal()
        self.uring_ok = why is None
        if why:
            self.notes.append(f"io_uring left out: {why}")
        self.noisy_kept = 0
        self.tmp = None
        self._floors = None

    def floor_backends(self):
        """The floor servers that can run here: built (once), and io_uring's
        only where the kernel allows it; a note says why one is left out."""
        if self._floors is None:
            self._floors = {}
            for backend in ("epoll", "io_uring"):
                if backend == "io_uring" and not self.uring_ok:
                    self.notes.append("floor-io_uring left out: the kernel refuses io_uring")
                    continue
                try:
                    self._floors[backend] = ensure_floor(backend)
                except BenchError as e:
                    self.notes.append(f"floor-{backend} left out: {str(e).splitlines()[0]}")
        return self._floors

    def h2o(self, cpu, handler="file"):
        """Starts h2o with the given /plaintext handler, or notes why it cannot
        run (not installed, its mruby handler missing) and returns None."""
        server = H2o(self.tmp, workers=1, cpu=cpu, handler=handler)
        try:
            return self.start(server)
        except BenchError as e:
            lines = [line.strip() for line in str(e).splitlines() if line.strip()]
            note = f"h2o ({handler} handler) left out: {lines[0]} {lines[-1] if len(lines) > 2 else ''}".strip()
            if note not in self.notes:
                self.notes.append(note)
            if self.live and self.live[-1] is server:
                self.live.pop()
            server.stop()
            return None

    def open_csv(self):
        self.tmp = tempfile.mkdtemp(prefix="run-", dir=os.path.join(ROOT, "build", "bench"))
        self.csv_file = open(self.csv_path, "w", newline="")
        self.csv = csv.DictWriter(self.csv_file, COLUMNS, extrasaction="ignore")
        self.csv.writeheader()
        self.csv_file.flush()

    # -- servers
    def start(self, server):
        self.live.append(server)
        server.start()
        return server

    def stop_all(self):
        for s in self.live:
            status = s.stop()
            if s.kind.startswith(("async-nostd", "floor-")) and status != 0:
                self.notes.append(f"{s.label} ({s.workers} workers) did not exit cleanly on SIGTERM "
                                  f"(status {status if status is not None else 'none: killed'})")
        self.live = []

    # -- progress
    def plan(self, seconds, steps=1):
        self.planned_total += seconds
        self.steps_total += steps

    def time_left(self):
        """Estimated seconds still to run: the plan's remaining seconds, scaled
        by how the plan's estimate has compared with the clock so far."""
        elapsed = time.monotonic() - self.started
        speed = elapsed / self.planned_done if self.planned_done > 5 else 1.07
        return (self.planned_total - self.planned_done) * speed

    def progress(self, what, seconds):
        """Prints what is about to run and an estimate of the time left."""
        elapsed = time.monotonic() - self.started
        left = self.time_left()
        self.steps_done += 1
        print(f"[{self.steps_done:3d}/{self.steps_total} {fmt_dur(elapsed)} elapsed, ~{fmt_dur(left)} left] {what}",
              end=" ", flush=True)
        self.planned_done += seconds

    # -- rows
    def row(self, params, result):
        row = dict(self.mach, profile=self.args.profile, **params, **result)
        row["loadavg_1m"] = os.getloadavg()[0]
        row["t_s"] = round(time.monotonic() - self.started, 1)
        for k in ("rps", "elapsed_s", "p50_us", "p90_us", "p99_us", "p999_us", "lat_mean_us", "lat_max_us",
                  "p9999_us", "svc_p99_us"):
            if isinstance(row.get(k), float):
                row[k] = round(row[k], 3 if k == "elapsed_s" else 1)
        self.csv.writerow(row)
        self.csv_file.flush()
        self.rows += 1
        errs = sum(int(result.get(k) or 0) for k in ("err_connect", "err_read", "err_write", "err_status", "err_timeout"))
        print(f"{result['rps']:>10,.0f}/s  p99 {result['p99_us'] / 1000:6.2f} ms  "
              f"{result['cpu_us_per_req'] if result['cpu_us_per_req'] != '' else float('nan'):6.2f} µs/req"
              + (f"  others {result['other_cpu_pct']:.0f}%" if result.get("other_cpu_pct", 0) >= 10 else "")
              + (f"  ERRORS {errs}" if errs else "")
              + (f"  unanswered {result['unfinished']}" if result.get("unfinished") else ""), flush=True)

    # -- one HTTP point: warm up each server, then alternate measured runs
    # [snippet: bench-alternate]
    def http_point(self, series, point, servers, route, conns, close, runs, duration, warmup,
                   pinned, extra=None, idle=None, count_syscalls=False, load=None, spread=False, repeat=True):
        """load: (CPUs, wrk threads) of the load generator; default: CPU 1 (pinned) and one
        thread. spread: record our servers' requests and connections per worker (/metrics).
        repeat=False: keep a noisy run as it is (for counts of where work landed, not speeds)."""
        load_cpu, threads = load or (self.cpu_load if pinned else None, 1)
        for s in servers if warmup else ():
            self.progress(f"{series} {point}: {s.label} warm-up {warmup} s", warmup)
            wrk(s.url(route), conns, warmup, threads=threads, close=close, cpu=load_cpu)
            print("done", flush=True)
        for r in range(runs):
            for s in servers:  # ours, reference, ours, reference, ...
                def one():
                    self.progress(f"{series} {point}: {s.label} run {r + 1}/{runs}", duration)
                    def run():
                        return wrk(s.url(route), conns, duration, threads=threads, close=close, cpu=load_cpu)
                    counted = spread and s.workers > 1 and hasattr(s, "worker_counts")
                    before = s.worker_counts() if counted else None
                    res = measured(s, (lambda: syscalls_during(",".join(map(str, s.pids())), run))
                                   if count_syscalls else run)
                    if counted:
                        res.update(worker_deltas(s, before))
                    if idle is not None and s.label in idle:
                        res["idle_alive"], res["idle_reopened"] = idle[s.label].status()
                    return res
                (self.keep_quiet_run if repeat else self.keep_run)(one, dict(
                    series=series, point=point, server=s.kind, reactor=getattr(s, "reactor", "epoll"),
                    executor=getattr(s, "executor", ""),
                    route=route, workers=s.workers, connections=conns, keepalive=0 if close else 1,
                    pinned=int(pinned), max_tasks=getattr(s, "max_tasks", ""), server_args=s.args_text(),
                    load_threads=min(threads, conns), run=r + 1, runs=runs, duration_s=duration, warmup_s=warmup,
                    **(extra or {})))
    # [end: bench-alternate]

    # [snippet: bench-noisy-runs]
    def keep_quiet_run(self, one, params):
        """Runs one() and writes its row. A run during which other processes
        took more than NOISY_PCT of the machine is written with discarded=1
        (the CSV keeps it; medians skip it) and repeated: at most
        MAX_REPEATS times, and only while the whole run stays in its time limit."""
        res = one()
        cost = float(params.get("duration_s", 1)) + 0.5
        for _ in range(MAX_REPEATS):
            if res.get("other_cpu_pct", 0) <= NOISY_PCT:
                break
            elapsed = time.monotonic() - self.started
            if elapsed + self.time_left() + cost > self.limit_s:
                self.noisy_kept += 1
                break
            self.row(dict(params, discarded=1), res)
            print(f"  (other processes used {res['other_cpu_pct']:.0f}% of the machine: repeating that run)")
            self.plan(cost, 1)
            res = one()
        else:
            if res.get("other_cpu_pct", 0) > NOISY_PCT:
                self.noisy_kept += 1
        self.row(dict(params, discarded=0), res)
    # [end: bench-noisy-runs]

    def keep_run(self, one, params):
        """Runs one() and writes its row, however noisy the machine was."""
        self.row(dict(params, discarded=0), one())

    def http_point_cost(self, nservers, runs, duration, warmup):
        self.plan(nservers * (warmup + runs * duration) + 0.3 * nservers * runs,
                  nservers * ((1 if warmup else 0) + runs))


def worker_deltas(server, before, settle=0.3):
    """What each worker of `server` counted since `before` (its worker_counts()), as CSV
    fields "n0/n1/...". Waits `settle` s first, so the run's connections have ended."""
    time.sleep(settle)
    after = server.worker_counts()
    out = {f"worker_{k}": "/".join(str(a - b) for a, b in zip(after[k], before[k]))
           for k in ("requests", "accepted", "closed")}
    requests = sum(after["requests"]) - sum(before["requests"])
    if requests > 0:  # writes to words other workers write too, per response (the executor's count)
        out["shared_writes_per_req"] = round((after["shared_writes"] - before["shared_writes"]) / requests, 3)
    return out


def point_name(route, close, conns):
    return f"{'page' if route == '/' else route.strip('/')}-{'close' if close else 'ka'}-c{conns}"


# ---- the four series --------------------------------------------------------

def series_headline(b, cfg, plan_only):
    pinned = b.pinned_ok
    floors = b.floor_backends() if cfg.get("floors", True) else {}
    if plan_only:
        for route, close in cfg["points"]:
            h2o = 1 if b.args.reference and cfg.get("h2o", True) else 0
            if route != "/plaintext":  # the page: ours (default setup) beside nginx
                n = 2 if b.args.reference else 1
            else:
                n = (2 if b.args.reference else 1) + close + b.uring_ok * (1 + cfg.get("per_core", True)) + \
                    len(floors) + h2o + cfg.get("per_core", True)
            b.http_point_cost(n, cfg["runs"], cfg["duration"], cfg["warmup"])
        return
    cpu = b.cpu_server if pinned else None
    ours = b.start(Ours(b.tmp, b.args.server, workers=1, cpu=cpu, max_tasks=MAX_TASKS))
    servers = [ours]
    if cfg.get("per_core", True):  # the per-core executor with one worker: what its bookkeeping costs
        servers.append(b.start(Ours(b.tmp, b.args.server, workers=1, cpu=cpu, max_tasks=MAX_TASKS,
                                    executor="per-core")))
    if b.uring_ok:
        servers.append(b.start(Ours(b.tmp, b.args.server, workers=1, cpu=cpu, max_tasks=MAX_TASKS,
                                    reactor="io_uring")))
        if cfg.get("per_core", True):  # its ring set up for one issuer (SINGLE_ISSUER | DEFER_TASKRUN)
            servers.append(b.start(Ours(b.tmp, b.args.server, workers=1, cpu=cpu, max_tasks=MAX_TASKS,
                                        reactor="io_uring", executor="per-core")))
    if b.args.reference:
        servers.append(b.start(Nginx(b.tmp, workers=1, cpu=cpu)))
        for note in check_same_answers(ours, servers[-1], sorted({p[0] for p in cfg["points"]})):
            print("  check:", note)
    # h2o and the floors run at the /plaintext points only.
    plaintext_only = []
    h2o = b.h2o(cpu) if b.args.reference and cfg.get("h2o", True) else None
    if h2o:
        plaintext_only.append(h2o)
        for note in check_same_answers(ours, h2o, ["/plaintext"]):
            print("  check:", note)
    for backend, binary in floors.items():
        try:
            plaintext_only.append(b.start(Floor(b.tmp, backend, cpu=cpu, binary=binary)))
        except BenchError as e:  # e.g. a kernel that refuses the buffer ring
            lines = [line.strip() for line in str(e).splitlines() if line.strip()]
            b.notes.append(f"floor-{backend} left out: {lines[0]} {lines[-1] if len(lines) > 2 else ''}".strip())
            b.live.pop().stop()
            continue
        for note in check_same_answers(ours, plaintext_only[-1], ["/plaintext"]):
            print("  check:", note)
    thread = None
    if any(close for _, close in cfg["points"]):
        thread = b.start(Ours(b.tmp, b.args.server, workers=1, cpu=cpu, max_tasks=MAX_TASKS, accept="thread"))
    # The demo page is the same path as /plaintext plus a file's bytes: it
    # compares ours (the default setup) with nginx only, which keeps the
    # whole `make bench` under its 15 minutes.
    for route, close in cfg["points"]:
        if route == "/plaintext":
            at_point = servers[:1] + ([thread] if close else []) + servers[1:] + plaintext_only
        else:
            at_point = servers[:1] + [s for s in servers if s.kind == "nginx"]
        b.http_point("headline", point_name(route, close, cfg["conns"]), at_point,
                     route, cfg["conns"], close, cfg["runs"], cfg["duration"], cfg["warmup"], pinned)
    b.stop_all()


# [snippet: bench-series-workers]
# Our server in each executor beside nginx, at each worker count: (label, executor, accept).
WORKER_VARIANTS = [("shared", "shared", "workers"), ("per-core", "per-core", "workers"),
                   ("per-core reuseport", "per-core", "reuseport")]


def workers_layout(w, cores):
    """(server CPUs, load CPUs, load threads) for w workers on a machine with `cores`
    CPUs: the server on cores 0..w-1, wrk on all the others, one thread per core.
    None if fewer than one core would be left for the load: that point would measure
    the server and wrk fighting over cores, not the server."""
    if w + 1 > cores:
        return None
    return (f"0-{w - 1}" if w > 1 else "0"), (f"{w}-{cores - 1}" if cores - 1 > w else str(w)), cores - w


def series_workers(b, cfg, plan_only):
    """Workers series: ours with the shared and the per-core executor (and per-core
    with a reuseport listener per worker) beside nginx, at each worker count, each
    pinned to cores 0..N-1 with wrk on the remaining cores. A worker count this
    machine has no spare core for is skipped, and the summary says so."""
    cores = os.cpu_count() or 1
    variants = WORKER_VARIANTS if cfg.get("reuseport", True) else WORKER_VARIANTS[:2]
    points = [("/plaintext", False, c) for c in cfg["keepalive_conns"]] + \
             [("/plaintext", True, c) for c in cfg["close_conns"]]
    fair = [w for w in cfg["workers"] if workers_layout(w, cores)]
    skipped = [w for w in cfg["workers"] if w not in fair]
    n_ref = 1 if b.args.reference else 0
    if plan_only:
        for w in fair:
            for i, (_, close, _) in enumerate(points):
                b.http_point_cost(len(variants) + n_ref + close, cfg["runs"], cfg["duration"],
                                  cfg["warmup"] if i == 0 or close else 0)
                b.plan(0.3 * len(variants) * cfg["runs"] * (w > 1))  # reading /metrics after each run
        return
    shown = ", ".join(f"{w} on CPU {workers_layout(w, cores)[0]} (load on {workers_layout(w, cores)[1]})"
                      for w in fair) or "none"
    print(f"workers: {cores} cores; worker counts measured: {shown}", flush=True)
    if skipped:
        b.notes.append(f"workers series: {cores} cores here, so {', '.join(map(str, skipped))} worker(s) were not "
                       f"measured (each needs its own cores plus at least one for the load generator: "
                       f"{', '.join(str(w + 1) for w in skipped)} cores)")
    for w in fair:
        server_cpus, load_cpus, threads = workers_layout(w, cores)
        servers = [b.start(Ours(b.tmp, b.args.server, workers=w, cpu=server_cpus, max_tasks=MAX_TASKS,
                                executor=executor, accept=accept)) for _, executor, accept in variants]
        if b.args.reference:
            servers.append(b.start(Nginx(b.tmp, workers=w, cpu=server_cpus)))
        thread = b.start(Ours(b.tmp, b.args.server, workers=w, cpu=server_cpus, max_tasks=MAX_TASKS,
                              accept="thread"))
        for i, (route, close, conns) in enumerate(points):
            # The acceptor thread only matters with Connection: close; it is warmed up there.
            b.http_point("workers", f"w{w}-" + point_name(route, close, conns),
                         servers[:1] + ([thread] if close else []) + servers[1:], route, conns, close,
                         cfg["runs"], cfg["duration"], cfg["warmup"] if i == 0 or close else 0, pinned=True,
                         load=(load_cpus, threads), spread=True,
                         extra=dict(server_cpus=server_cpus, load_cpus=load_cpus))
        b.stop_all()
# [end: bench-series-workers]


# [snippet: bench-series-spread]
# Who accepts and where connections land: (executor, accept) pairs of our server.
SPREAD_VARIANTS = [("shared", "workers"), ("shared", "thread"), ("per-core", "workers"),
                   ("per-core", "reuseport"), ("per-core", "thread")]


def series_spread(b, cfg, plan_only):
    """Connection spread: how connections and requests land on the workers with each
    executor and accept mode, from the server's per-worker /metrics counters. It is a
    count, not a speed, so it runs unpinned at worker counts the machine may not have
    spare cores for (the shared executor's split then also shows the kernel's scheduling)."""
    modes = [(False, c) for c in cfg["keepalive_conns"]] + [(True, c) for c in cfg["close_conns"]]
    variants = [v for v in SPREAD_VARIANTS if v[0] in cfg.get("executors", ("shared", "per-core"))]
    n = len(variants)
    if plan_only:
        for _ in cfg["workers"]:
            for _ in modes:
                b.plan(n * (cfg["duration"] + 0.7), n)
        return
    for w in cfg["workers"]:
        servers = [b.start(Ours(b.tmp, b.args.server, workers=w, max_tasks=MAX_TASKS, executor=executor,
                                accept=accept)) for executor, accept in variants]
        for close, conns in modes:
            b.http_point("spread", f"w{w}-" + point_name("/plaintext", close, conns), servers, "/plaintext", conns,
                         close, 1, cfg["duration"], 0, pinned=False, load=(None, 1), spread=True, repeat=False)
        b.stop_all()
# [end: bench-series-spread]


def series_reactor(b, cfg, plan_only):
    pinned = b.pinned_ok
    reactors = ("epoll", "ppoll") + (("io_uring",) if b.uring_ok else ())
    n = len(reactors) + (1 if b.args.reference else 0)
    if plan_only:
        for idle in cfg["idle"]:
            b.http_point_cost(n, cfg["runs"], cfg["duration"], cfg["warmup"])
            b.planned_total += n * idle / 2000  # opening the idle connections
        return
    cpu = b.cpu_server if pinned else None
    # Idle connections never send a request head: lift the head timeout (as
    # the nginx config does) so they stay open for the whole series.
    keep = ["--header-timeout=600000", "--idle-timeout=600000"]
    servers = [b.start(Ours(b.tmp, b.args.server, workers=1, cpu=cpu, reactor=r, max_tasks=MAX_TASKS,
                            extra_args=keep)) for r in reactors]
    if b.args.reference:
        servers.append(b.start(Nginx(b.tmp, workers=1, cpu=cpu)))
    for idle in cfg["idle"]:
        holders = {}
        try:
            for s in servers:
                holders[s.label] = IdleHolder(s.port, idle).__enter__()
            b.http_point("reactor", f"idle{idle}-plaintext-ka-c{cfg['conns']}", servers, "/plaintext",
                         cfg["conns"], False, cfg["runs"], cfg["duration"], cfg["warmup"], pinned,
                         extra=dict(idle_conns=idle), idle=holders)
        finally:
            for h in holders.values():
                h.__exit__()
    b.stop_all()


# [snippet: bench-series-syscalls]
def series_syscalls(b, cfg, plan_only):
    """System calls per keep-alive request, for every thread of the server,
    at each connection count: what io_uring's batching buys, in its own unit."""
    pinned = b.pinned_ok
    reactors = ("epoll", "ppoll") + (("io_uring",) if b.uring_ok else ())
    n = len(reactors) + (1 if b.args.reference else 0)
    if plan_only:
        for _ in cfg["conns"]:
            b.http_point_cost(n, cfg["runs"], cfg["duration"], cfg["warmup"])
        return
    cpu = b.cpu_server if pinned else None
    servers = [b.start(Ours(b.tmp, b.args.server, workers=1, cpu=cpu, reactor=r, max_tasks=MAX_TASKS))
               for r in reactors]
    if b.args.reference:
        servers.append(b.start(Nginx(b.tmp, workers=1, cpu=cpu)))
    for conns in cfg["conns"]:
        b.http_point("syscalls", point_name("/plaintext", False, conns), servers, "/plaintext", conns, False,
                     cfg["runs"], cfg["duration"], cfg["warmup"], pinned, count_syscalls=True)
    b.stop_all()
# [end: bench-series-syscalls]


def series_ws(b, cfg, plan_only):
    pinned = b.pinned_ok
    n = 2 if b.args.reference else 1
    if plan_only:
        for _ in cfg["conns"]:
            b.plan(n * cfg["runs"] * (cfg["duration"] + cfg["warmup"] + 0.4), n * cfg["runs"])
        return
    gen = ensure_ws_load()
    cpu = b.cpu_server if pinned else None
    servers = [b.start(Ours(b.tmp, b.args.server, workers=1, cpu=cpu, max_tasks=MAX_TASKS))]
    if b.args.reference:
        servers.append(b.start(NodeWs(b.tmp, workers=1, cpu=cpu)))
    for conns in cfg["conns"]:
        for r in range(cfg["runs"]):
            for s in servers:
                def one():
                    b.progress(f"ws c{conns}: {s.label} run {r + 1}/{cfg['runs']}",
                               cfg["duration"] + cfg["warmup"] + 0.4)
                    return measured(s, lambda: ws_load(gen, s.port, conns, cfg["duration"], cfg["warmup"],
                                                       cfg["size"], "/ws", b.cpu_load if pinned else None))
                b.keep_quiet_run(one, dict(series="ws", point=f"ws-echo-c{conns}", server=s.kind,
                           reactor=getattr(s, "reactor", ""), executor=getattr(s, "executor", ""), route="/ws",
                           workers=s.workers,
                           connections=conns, keepalive=1, pinned=int(pinned),
                           max_tasks=getattr(s, "max_tasks", ""), server_args=s.args_text(),
                           load_threads=1, msg_size=cfg["size"],
                           run=r + 1, runs=cfg["runs"], duration_s=cfg["duration"], warmup_s=cfg["warmup"]))
    b.stop_all()


# [snippet: bench-series-pipelined]
def series_pipelined(b, cfg, plan_only):
    """TechEmpower's plaintext shape: `depth` requests written at once per
    connection, the next batch once all are answered. Every server runs one
    worker pinned to CPU 0; build/bench/pipeline_load runs on CPU 1 and
    reports its own CPU share, so the summary can say when it was the limit."""
    pinned = b.pinned_ok
    reactors = ("epoll", "ppoll") + (("io_uring",) if b.uring_ok else ())
    floors = b.floor_backends()
    n = len(reactors) + (1 + len(cfg.get("h2o", ["file"])) if b.args.reference else 0) + len(floors)
    points = [(d, c) for c in cfg["conns"] for d in cfg["depths"]]
    if plan_only:
        b.plan(n * cfg["warmup"], n)
        for _ in points:
            b.http_point_cost(n, cfg["runs"], cfg["duration"], 0)
        return
    gen = ensure_pipeline_load()
    cpu = b.cpu_server if pinned else None
    load_cpu = b.cpu_load if pinned else None
    servers = [b.start(Ours(b.tmp, b.args.server, workers=1, cpu=cpu, reactor=r, max_tasks=MAX_TASKS))
               for r in reactors]
    if b.args.reference:
        servers.append(b.start(Nginx(b.tmp, workers=1, cpu=cpu)))
        servers += [s for s in (b.h2o(cpu, handler) for handler in cfg.get("h2o", ["file"])) if s]
    for backend, binary in floors.items():
        try:
            servers.append(b.start(Floor(b.tmp, backend, cpu=cpu, binary=binary)))
        except BenchError as e:
            b.notes.append(f"floor-{backend} left out of the pipelined series: {str(e).splitlines()[0]}")
            b.live.pop().stop()
    for s in servers[1:]:
        for note in check_same_answers(servers[0], s, ["/plaintext"]):
            print("  check:", note)
    for s in servers:  # one warm-up per server, at the deepest pipeline
        b.progress(f"pipelined: {s.label} warm-up {cfg['warmup']} s", cfg["warmup"])
        pipeline_load(gen, s.port, max(cfg["conns"]), max(cfg["depths"]), cfg["warmup"], cpu=load_cpu)
        print("done", flush=True)
    for depth, conns in points:
        point = f"plaintext-d{depth}-c{conns}"
        for r in range(cfg["runs"]):
            for s in servers:  # alternating, as in every series
                def one():
                    b.progress(f"pipelined {point}: {s.label} run {r + 1}/{cfg['runs']}", cfg["duration"])
                    return measured(s, lambda: pipeline_load(gen, s.port, conns, depth, cfg["duration"],
                                                             cpu=load_cpu))
                b.keep_quiet_run(one, dict(
                    series="pipelined", point=point, server=s.kind, reactor=getattr(s, "reactor", "epoll"),
                    executor=getattr(s, "executor", ""),
                    route="/plaintext", workers=1, connections=conns, keepalive=1, pinned=int(pinned),
                    max_tasks=getattr(s, "max_tasks", ""), server_args=s.args_text(), load_threads=1,
                    depth=depth, run=r + 1, runs=cfg["runs"], duration_s=cfg["duration"],
                    warmup_s=cfg["warmup"]))
    b.stop_all()
# [end: bench-series-pipelined]



# [snippet: bench-series-latency]
def series_latency(b, cfg, plan_only):
    """Open-loop latency against offered load. One `wrk` run finds each
    server's closed-loop maximum; the sweep's 100% is the larger of the two,
    so both servers get the same offered rates, alternating at each point."""
    pinned = b.pinned_ok
    n = 2 if b.args.reference else 1
    cost = cfg["warmup"] + cfg["duration"] + cfg["drain"] / 2 + 0.3
    if plan_only:
        b.plan(n * (cfg["probe"] + 0.3), n)
        b.plan(n * len(cfg["loads"]) * cost, n * len(cfg["loads"]))
        return
    gen = ensure_openloop()
    cpu, cpu_load = (b.cpu_server, b.cpu_load) if pinned else (None, None)
    servers = [b.start(Ours(b.tmp, b.args.server, workers=1, cpu=cpu, max_tasks=MAX_TASKS))]
    if b.args.reference:
        servers.append(b.start(Nginx(b.tmp, workers=1, cpu=cpu)))
        check_same_answers(servers[0], servers[1], ["/plaintext"])
    peak = {}
    for s in servers:  # also the warm-up
        b.progress(f"latency: {s.label} closed-loop maximum ({cfg['probe']} s of wrk)", cfg["probe"] + 0.3)
        peak[s.label] = wrk(s.url("/plaintext"), cfg["conns"], cfg["probe"], cpu=cpu_load)["rps"]
        print(f"{peak[s.label]:>10,.0f}/s", flush=True)
    top = max(peak.values())
    if top <= 0:
        raise BenchError("wrk measured no requests: no rate to sweep")
    for pct in cfg["loads"]:
        rate = max(1, round(top * pct / 100))
        for s in servers:
            def one():
                b.progress(f"latency {pct}% ({rate:,} req/s offered): {s.label}", cost)
                return measured(s, lambda: openloop(gen, s.port, "/plaintext", cfg["conns"], rate, cfg["duration"],
                                                    cfg["warmup"], cfg["drain"], cpu_load))
            b.keep_quiet_run(one, dict(
                series="latency", point=f"load{pct}", server=s.kind, reactor=getattr(s, "reactor", "epoll"),
                    executor=getattr(s, "executor", ""),
                route="/plaintext", workers=1, connections=cfg["conns"], keepalive=1, pinned=int(pinned),
                max_tasks=getattr(s, "max_tasks", ""), server_args=s.args_text(), load_threads=1, run=1, runs=1,
                duration_s=cfg["duration"], warmup_s=cfg["warmup"], load_pct=pct,
                peak_rps=round(peak[s.label])))
    b.stop_all()
# [end: bench-series-latency]



SERIES = {"headline": series_headline, "workers": series_workers, "spread": series_spread,
          "reactor": series_reactor, "ws": series_ws, "syscalls": series_syscalls, "pipelined": series_pipelined,
          "latency": series_latency}


def on_sigterm(signum, frame):
    raise KeyboardInterrupt


def default_server():
    for stage in (7, 6):
        p = os.path.join(ROOT, "build", f"stage-{stage}", "bin", "async-nostd")
        if os.access(p, os.X_OK):
            return p
    return os.path.join(ROOT, "build", "stage-7", "bin", "async-nostd")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--profile", choices=sorted(PROFILES), default="default")
    ap.add_argument("--server", default=default_server(), help="our server binary")
    ap.add_argument("--series", default="", help="comma-separated subset of " + ",".join(SERIES))
    ap.add_argument("--results", help="folder for the CSV and summary (default: results/ for a full default "
                    "run, else build/bench/<profile>/)")
    ap.add_argument("--plots", help="folder for the PNG and SVG plots (default: plots/ for a full default run, "
                    "else a plots/ folder beside the CSV)")
    ap.add_argument("--no-plots", action="store_true")
    ap.add_argument("--no-reference", dest="reference", action="store_false", help="skip nginx and node")
    ap.add_argument("--command", default="", help="the command line to quote in the summary")
    ap.add_argument("--dry-run", action="store_true", help="print the plan's size and expected time, run nothing")
    args = ap.parse_args()

    if not os.access(args.server, os.X_OK):
        sys.exit(f"bench: no server binary at {args.server}; build it with `make STAGE=7 all`")
    args.server = os.path.abspath(args.server)
    profile = PROFILES[args.profile]
    wanted = [s for s in (args.series.split(",") if args.series else SERIES) if s in profile and s in SERIES]
    unknown = [s for s in args.series.split(",") if s and s not in SERIES]
    if unknown:
        sys.exit(f"bench: unknown series {', '.join(unknown)} (known: {', '.join(SERIES)})")

    # Only a complete default run may replace the reference files in
    # results/ and plots/; partial or reduced runs go under build/.
    full = args.profile == "default" and set(wanted) == set(SERIES)
    if args.results is None:
        args.results = os.path.join(ROOT, "results") if full else os.path.join(ROOT, "build", "bench", args.profile)
    if args.plots is None:
        args.plots = os.path.join(ROOT, "plots") if full else os.path.join(args.results, "plots")

    nofile = raise_fd_limit()
    server_src = args.server
    os.makedirs(os.path.join(ROOT, "build", "bench"), exist_ok=True)
    os.makedirs(args.results, exist_ok=True)
    mach = machine()
    stem = f"{datetime.datetime.now():%Y%m%d-%H%M%S}-{mach['host']}-{mach['commit']}"
    csv_path = os.path.join(args.results, f"{stem}.csv")
    b = Bench(args, mach, csv_path)

    # SIGTERM (e.g. from make or a CI timeout) unwinds like Ctrl-C, so the
    # finally below stops every server we started.
    signal.signal(signal.SIGTERM, on_sigterm)

    for name in wanted:
        SERIES[name](b, profile[name], plan_only=True)
    print(f"bench: profile {args.profile}: {', '.join(wanted)}; about {fmt_dur(b.planned_total * 1.07)} "
          f"(min:s) for {b.steps_total} steps")
    print(f"bench: server {os.path.relpath(server_src, ROOT)}; {mach['cpu_model']}, {mach['cores']} cores, "
          f"Linux {mach['kernel']}; commit {mach['commit']}; fd limit {nofile}; "
          f"pinning {'server CPU 0, load CPU 1' if b.pinned_ok else 'off (1 CPU)'}")
    if args.dry_run:
        return
    b.open_csv()
    # Run a private copy: a rebuild of the tree during the run must not swap
    # the binary between one run and the next.
    args.server = os.path.join(b.tmp, "async-nostd")
    shutil.copy2(server_src, args.server)
    load1 = os.getloadavg()[0]
    if load1 > 0.5:
        print(f"bench: WARNING: load average is {load1:.2f} before the start; other work on this machine "
              f"will show up as noise (the CSV records the load of every run)")
    failed = []
    interrupted = False
    try:
        for name in wanted:
            try:
                SERIES[name](b, profile[name], plan_only=False)
            except BenchError as e:
                print(f"\nbench: series {name} failed: {e}", flush=True)
                failed.append(name)
                b.notes.append(f"series {name} failed: {str(e).splitlines()[0]}")
                b.stop_all()
    except KeyboardInterrupt:
        interrupted = True
        print("\nbench: interrupted; stopping servers", flush=True)
    finally:
        b.stop_all()
        b.csv_file.close()
    total = time.monotonic() - b.started

    if b.rows == 0:
        print(f"bench: no rows written (kept {os.path.relpath(b.tmp, ROOT)} for the logs)")
        os.unlink(csv_path)
        sys.exit(1)
    shutil.rmtree(b.tmp, ignore_errors=True)
    latest = os.path.join(args.results, "latest.csv")
    if not interrupted:
        if os.path.islink(latest) or os.path.exists(latest):
            os.unlink(latest)
        os.symlink(os.path.basename(csv_path), latest)
    command = args.command or "python3 " + " ".join([os.path.relpath(sys.argv[0], ROOT)] + sys.argv[1:])
    if b.noisy_kept:
        b.notes.append(f"{b.noisy_kept} run(s) kept although other processes used over {NOISY_PCT}% of the "
                       f"machine (no time left to repeat them)")
    text = report.summary(report.load(csv_path), command=command, total_s=total,
                          notes=b.notes + (["interrupted: partial results"] if interrupted else []))
    summary_path = os.path.join(args.results, f"summary-{stem}.md")
    with open(summary_path, "w") as f:
        f.write(text)
    print()
    print(text)
    print(f"bench: {b.rows} runs in {fmt_dur(total)} (min:s); CSV {os.path.relpath(csv_path, ROOT)}, "
          f"summary {os.path.relpath(summary_path, ROOT)}")
    if not args.no_plots and not interrupted:
        drawn = report.plots(csv_path, args.plots)
        print(f"bench: plots {', '.join(os.path.relpath(p, ROOT) for p in drawn)}")
    sys.exit(1 if failed or interrupted else 0)


if __name__ == "__main__":
    main()
