"""loads.py: the load generators of bench/run.py: wrk (HTTP), openloop (HTTP at a fixed rate), ws_load
(WebSocket) and the idle-connection holder.

Each measured run reads the server's CPU time (/proc/PID/stat) just before
the load starts and just after it ends, so every row of the CSV carries the
server's CPU microseconds per request next to req/s and latency.
"""
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from servers import BENCH_DIR, CLK_TCK, HOST, BenchError, pin_prefix, tool

WRK_SCRIPT = os.path.join(BENCH_DIR, "wrk", "report.lua")
WRK_TIMEOUT = "4s"  # per-request timeout; slower answers count as errors


def machine_busy_seconds():
    """CPU time all CPUs spent not idle since boot (/proc/stat, first line)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]  # idle + iowait
    return (sum(v[:8]) - idle) / CLK_TCK


# [snippet: bench-measured-run]
def measured(server, load):
    """Runs load() (which returns a dict with "requests") and adds the server's
    CPU time across it: seconds, and microseconds per request. Also notes how
    much CPU everything else on the machine used meanwhile: noise."""
    time.sleep(0.05)  # let the previous run's connections finish closing
    cpu0, gen0, all0, t0 = server.cpu_seconds(), children_cpu(), machine_busy_seconds(), time.monotonic()
    result = load()
    time.sleep(0.05)  # ... and this run's, whose teardown is part of its cost
    cpu = server.cpu_seconds() - cpu0
    gen = children_cpu() - gen0
    other = machine_busy_seconds() - all0 - cpu - gen
    result["cpu_s"] = round(cpu, 3)
    result["loadgen_cpu_s"] = round(gen, 3)
    result["other_cpu_pct"] = round(max(0.0, other) * 100 / ((time.monotonic() - t0) * os.cpu_count()), 1)
    n = result.get("requests", 0)
    result["cpu_us_per_req"] = round(cpu * 1e6 / n, 3) if n else ""
    if not server.alive():
        raise BenchError(f"{server.label} died during the run:\n{server.log_tail()}")
    return result
# [end: bench-measured-run]


# [snippet: bench-syscalls]
def syscalls_during(pid, load):
    """Runs load() while `perf stat` counts the raw_syscalls:sys_enter
    tracepoint for every thread of pid (the workers, the acceptor, the
    signal thread: all of them). Adds "syscalls" and "syscalls_per_req".
    A tracepoint count costs the server almost nothing, unlike strace, whose
    stops would slow it down and so change how much each io_uring_enter
    batches. Without perf (or with perf_event_paranoid refusing) the columns
    stay empty."""
    perf = shutil.which("perf")
    if not perf:
        return dict(load(), syscalls="", syscalls_per_req="")
    with tempfile.NamedTemporaryFile(prefix="perf-", suffix=".txt", delete=False) as f:
        out = f.name
    p = subprocess.Popen([perf, "stat", "-x", ",", "-e", "raw_syscalls:sys_enter", "-p", str(pid), "-o", out],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.3)  # perf attaches to every thread before the load starts
    try:
        result = load()
    finally:
        p.send_signal(signal.SIGINT)
        p.wait(10)
    count = ""
    with open(out) as f:
        for line in f:
            parts = line.strip().split(",")
            if len(parts) > 2 and parts[2] == "raw_syscalls:sys_enter" and parts[0].isdigit():
                count = int(parts[0])
    os.unlink(out)
    n = result.get("requests", 0)
    result["syscalls"] = count
    result["syscalls_per_req"] = round(count / n, 4) if n and count != "" else ""
    return result
# [end: bench-syscalls]


def children_cpu():
    """CPU time of our finished children (each wrk or ws_load once it exits)."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


# [snippet: bench-wrk-run]
def wrk(url, connections, duration, threads=1, close=False, cpu=None):
    """One wrk run; the figures come from the done() hook of bench/wrk/report.lua."""
    threads = max(1, min(threads, connections))
    with tempfile.NamedTemporaryFile(prefix="wrk-", suffix=".json", delete=False) as f:
        out = f.name
    env = dict(os.environ, BENCH_JSON=out, BENCH_CLOSE="1" if close else "0")
    cmd = pin_prefix(cpu) + [tool("wrk"), "-t", str(threads), "-c", str(connections), "-d", f"{duration}s",
                             "--timeout", WRK_TIMEOUT, "-s", WRK_SCRIPT, url]
    try:
        r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=duration + 30)
        with open(out) as f:
            text = f.read()
        if r.returncode != 0 or not text.strip():
            raise BenchError(f"wrk failed (status {r.returncode}): {' '.join(cmd)}\n{r.stderr[-800:]}")
        res = json.loads(text)
    except subprocess.TimeoutExpired:
        raise BenchError(f"wrk did not finish within {duration + 30} s: {' '.join(cmd)}")
    finally:
        os.unlink(out)
    res["elapsed_s"] = res["duration_us"] / 1e6
    res["rps"] = res["requests"] / res["elapsed_s"] if res["elapsed_s"] else 0.0
    res["bytes_per_req"] = round(res["bytes"] / res["requests"], 1) if res["requests"] else ""
    return res
# [end: bench-wrk-run]


def ws_load(binary, port, connections, duration, warmup=1.0, size=64, path="/ws", cpu=None):
    """One run of build/bench/ws_load; returns its JSON, renamed to the CSV's columns."""
    cmd = pin_prefix(cpu) + [binary, "-c", str(connections), "-d", str(duration), "-w", str(warmup),
                             "-s", str(size), "-p", path, HOST, str(port)]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + warmup + 40)
    except subprocess.TimeoutExpired:
        raise BenchError(f"ws_load did not finish: {' '.join(cmd)}")
    if r.returncode != 0:
        raise BenchError(f"ws_load failed (status {r.returncode}): {' '.join(cmd)}\n{r.stderr[-800:]}")
    j = json.loads(r.stdout)
    return {
        "requests": j["messages"], "elapsed_s": j["duration_s"], "rps": j["msgs_per_s"],
        "bytes_per_req": j["size"], "p50_us": j["p50_us"], "p90_us": j["p90_us"], "p99_us": j["p99_us"],
        "p999_us": j["p999_us"], "lat_mean_us": j["lat_mean_us"], "lat_max_us": j["lat_max_us"],
        "err_connect": j["err_connect"], "err_status": j["err_handshake"] + j["err_protocol"],
        "err_read": j["err_closed"], "err_write": 0, "err_timeout": 0,
    }


def openloop(binary, port, path, connections, rate, duration, warmup=1.0, drain=1.0, cpu=None):
    """One run of build/bench/openloop at a constant offered rate; returns its
    `result:` line renamed to the CSV's columns. Latencies count from each
    request's intended send time; requests still unanswered when the drain
    ends are counted in `unfinished` (and in the percentiles, at the time they
    had waited so far), not as socket errors."""
    cmd = pin_prefix(cpu) + [binary, "-c", str(connections), "-R", str(rate), "-d", str(duration),
                             "-w", str(warmup), "-T", str(drain), f"http://{HOST}:{port}{path}"]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + warmup + drain + 60)
    except subprocess.TimeoutExpired:
        raise BenchError(f"openloop did not finish: {' '.join(cmd)}")
    line = next((x for x in r.stdout.splitlines() if x.startswith("result: ")), None)
    if r.returncode != 0 or line is None:
        raise BenchError(f"openloop failed (status {r.returncode}): {' '.join(cmd)}\n{(r.stdout + r.stderr)[-800:]}")
    j = {k: float(v) for k, v in (kv.split("=", 1) for kv in line[8:].split())}
    return {
        "requests": int(j["answered"]), "elapsed_s": j["duration_s"], "rps": j["achieved_rps"],
        "offered_rps": j["offered_rps"], "p50_us": j["p50_us"], "p90_us": j["p90_us"], "p99_us": j["p99_us"],
        "p999_us": j["p999_us"], "p9999_us": j["p9999_us"], "lat_mean_us": j["mean_us"], "lat_max_us": j["max_us"],
        "svc_p99_us": j["svc_p99_us"], "unfinished": int(j["unfinished"]), "err_connect": int(j["err_connect"]),
        "err_read": int(j["err_read"]), "err_write": 0, "err_status": int(j["err_status"] + j["err_parse"]),
        "err_timeout": 0,
    }


class IdleHolder:
    """bench/idle_conns.py as a context manager: N idle connections to a server."""

    def __init__(self, port, n):
        self.port, self.n, self.proc, self.report = port, n, None, ""

    def __enter__(self):
        if self.n == 0:
            return self
        self.proc = subprocess.Popen([sys.executable, os.path.join(BENCH_DIR, "idle_conns.py"), HOST,
                                      str(self.port), str(self.n)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, start_new_session=True)
        line = _readline(self.proc, 60)
        if not line.startswith("ready"):
            self.__exit__()
            raise BenchError(f"idle_conns.py could not open {self.n} connections to port {self.port}: {line!r}")
        return self

    def status(self):
        """(connections open now, connections the server closed so far)."""
        if self.proc is None:
            return 0, 0
        self.proc.stdin.write("?\n")
        self.proc.stdin.flush()
        words = _readline(self.proc, 10).split()
        if len(words) != 4:
            return 0, 0
        return int(words[1]), int(words[3])

    def __exit__(self, *exc):
        if self.proc is None:
            return
        try:
            self.proc.stdin.close()  # EOF: the holder closes its connections and exits
            self.proc.wait(timeout=15)
            self.report = self.proc.stdout.read().strip()
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()
        self.proc = None


def _readline(proc, timeout):
    import selectors
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    if not sel.select(timeout):
        return ""
    return proc.stdout.readline().strip()


PIPELINE_LOAD_SRC = os.path.join(BENCH_DIR, "pipeline_load.c")
PIPELINE_LOAD_BIN = os.path.join(os.path.dirname(BENCH_DIR), "build", "bench", "pipeline_load")


def ensure_built(src, binary, flags=()):
    """bench.mk builds the generators; build one here too (hosted cc -O2) when
    the bench runs alone and the binary is older than its source or than the
    histogram header the generators share."""
    hist = os.path.join(BENCH_DIR, "hist.h")
    newest = max(os.path.getmtime(src), os.path.getmtime(hist) if os.path.exists(hist) else 0)
    if os.path.exists(binary) and os.path.getmtime(binary) >= newest:
        return binary
    os.makedirs(os.path.dirname(binary), exist_ok=True)
    cc = os.environ.get("BENCH_CC", "cc")
    r = subprocess.run([cc, "-O2", "-Wall", "-Wextra", *flags, "-o", binary, src, "-lm"], capture_output=True,
                       text=True)
    if r.returncode != 0:
        raise BenchError(f"could not build {os.path.basename(binary)}:\n{r.stderr[-1500:]}")
    return binary


def ensure_pipeline_load():
    """build/bench/pipeline_load, built if it is missing or stale."""
    return ensure_built(PIPELINE_LOAD_SRC, PIPELINE_LOAD_BIN)
    os.makedirs(os.path.dirname(PIPELINE_LOAD_BIN), exist_ok=True)
    cc = os.environ.get("BENCH_CC", "cc")
    r = subprocess.run([cc, "-O2", "-Wall", "-Wextra", "-o", PIPELINE_LOAD_BIN, PIPELINE_LOAD_SRC],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise BenchError(f"could not build pipeline_load:\n{r.stderr[-1500:]}")
    return PIPELINE_LOAD_BIN


def pipeline_load(binary, port, connections, depth, duration, path="/plaintext", cpu=None, batches=None):
    """One run of build/bench/pipeline_load: `depth` requests written at once on
    each connection, the next batch once all are answered; its JSON, renamed to
    the CSV's columns (latencies are of whole batches)."""
    cmd = pin_prefix(cpu) + [binary, "-c", str(connections), "-D", str(depth), "-d", str(duration),
                             "-p", path] + (["-n", str(batches)] if batches else []) + [HOST, str(port)]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 30)
    except subprocess.TimeoutExpired:
        raise BenchError(f"pipeline_load did not finish: {' '.join(cmd)}")
    if r.returncode != 0 or not r.stdout.strip():
        raise BenchError(f"pipeline_load failed (status {r.returncode}): {' '.join(cmd)}\n{r.stderr[-800:]}")
    j = json.loads(r.stdout)
    return {
        "requests": j["requests"], "elapsed_s": j["duration_s"], "rps": j["rps"],
        "bytes_per_req": round(j["bytes"] / j["requests"], 1) if j["requests"] else "",
        "p50_us": j["batch_p50_us"], "p90_us": j["batch_p90_us"], "p99_us": j["batch_p99_us"],
        "p999_us": j["batch_p999_us"], "lat_mean_us": j["batch_mean_us"], "lat_max_us": j["batch_max_us"],
        "err_connect": j["err_connect"], "err_read": j["err_read"], "err_write": j["err_write"],
        "err_status": j["err_status"], "err_timeout": 0, "loadgen_self_cpu_s": j["cpu_s"], "raw": j,
    }
