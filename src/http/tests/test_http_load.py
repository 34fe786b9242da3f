"""test_http_load.py: sustained load with wrk (the original hung after about 1,000 requests):
a million keep-alive requests, 100,000 `Connection: close` requests, zero errors, and the
server's open files and memory back to where they were."""
import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from http_blackbox import Skip, assert_serving, metrics, proc_fds, proc_rss_kb, server, wait_for  # noqa: E402

KEEP_ALIVE_TARGET = 1_000_000
CLOSE_TARGET = 100_000
RSS_SLACK_KB = 30 * 1024
MAX_SECONDS = 90  # per phase; a healthy server on a busy 2-core machine needs a fraction of it


def _wrk(port, seconds, connections, extra=()):
    """Runs wrk once; returns (requests, errors text or None, raw output)."""
    argv = [shutil.which("wrk"), "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s", *extra,
            f"http://127.0.0.1:{port}/plaintext"]
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 30)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"wrk did not finish a {seconds} s run (server hung?)") from None
    out = r.stdout
    m = re.search(r"(\d+) requests in ", out)
    assert r.returncode == 0 and m, f"wrk failed ({r.returncode}): {(out + r.stderr)[-800:]}"
    errors = [line.strip() for line in out.splitlines() if "Socket errors" in line or "Non-2xx" in line]
    return int(m.group(1)), "; ".join(errors) or None, out


def _load_until(port, target, connections, extra=(), first=4):
    """Repeats wrk runs until `target` requests were served; fails on any error."""
    total, runs, start = 0, 0, time.monotonic()
    seconds = first
    while total < target:
        elapsed = time.monotonic() - start
        assert elapsed < MAX_SECONDS, f"only {total} of {target} requests after {elapsed:.0f} s"
        n, errors, out = _wrk(port, seconds, connections, extra)
        runs += 1
        assert not errors, f"run {runs} ({n} requests): {errors}"
        assert n > 0, f"run {runs}: no request completed (server hung after {total}):\n{out[-500:]}"
        total += n
        rate = n / seconds
        seconds = max(1, min(30, int((target - total) / rate * 1.1) + 1))
    return total, time.monotonic() - start, runs


def _settled(pid, baseline_fds):
    return wait_for(lambda: proc_fds(pid) == baseline_fds, 5)


def test_sustained_load_and_resources_return(ctx):
    if not shutil.which("wrk"):
        raise Skip("wrk is not installed (scripts/setup.sh installs it)")
    with server(ctx, workers=2) as srv:
        pid = srv.pid
        time.sleep(0.3)
        baseline_fds = proc_fds(pid)
        # Warm-up: both kinds of load, so the allocator and buffers reach their working size.
        _wrk(srv.port, 1, 50)
        _wrk(srv.port, 1, 50, ("-H", "Connection: close"))
        assert _settled(pid, baseline_fds), f"fds {proc_fds(pid)} after warm-up, {baseline_fds} at start"
        warm_rss = proc_rss_kb(pid)

        ka, ka_s, ka_runs = _load_until(srv.port, KEEP_ALIVE_TARGET, 50)
        assert_serving(srv.port, f"after {ka} keep-alive requests")
        cl, cl_s, cl_runs = _load_until(srv.port, CLOSE_TARGET, 50, ("-H", "Connection: close"), first=3)
        assert_serving(srv.port, f"after {cl} Connection: close requests")

        m = metrics(srv.port)
        assert m['async_nostd_requests_total{status="200"}'] >= ka + cl, m
        others = {k: v for k, v in m.items() if k.startswith("async_nostd_requests_total") and
                  '"200"' not in k and v}
        assert not others, f"non-200 responses under load: {others}"
        assert _settled(pid, baseline_fds), f"fds {proc_fds(pid)} after the load, {baseline_fds} before (a leak)"
        active = wait_for(lambda: metrics(srv.port)["async_nostd_connections_active"] == 1, 3)
        assert active, "connections_active does not return to 1 (the /metrics connection) after the load"
        rss = proc_rss_kb(pid)
        assert rss <= warm_rss + RSS_SLACK_KB, f"RSS {rss} kB after the load, {warm_rss} kB after warm-up"
    return (f"{ka} keep-alive in {ka_s:.0f} s ({ka_runs} runs), {cl} close in {cl_s:.0f} s ({cl_runs} runs), "
            f"RSS {warm_rss}->{rss} kB, fds {baseline_fds}")


def test_sustained_close_load_accept_thread(ctx):
    """The same 100,000 `Connection: close` requests with the acceptor thread (--accept=thread)."""
    if not shutil.which("wrk"):
        raise Skip("wrk is not installed (scripts/setup.sh installs it)")
    with server(ctx, workers=2, args=("--accept=thread",)) as srv:
        pid = srv.pid
        time.sleep(0.3)
        baseline_fds = proc_fds(pid)
        _wrk(srv.port, 1, 50, ("-H", "Connection: close"))
        cl, cl_s, cl_runs = _load_until(srv.port, CLOSE_TARGET, 50, ("-H", "Connection: close"), first=3)
        assert_serving(srv.port, f"after {cl} Connection: close requests")
        m = metrics(srv.port)
        others = {k: v for k, v in m.items() if k.startswith("async_nostd_requests_total") and
                  '"200"' not in k and v}
        assert not others, f"non-200 responses under load: {others}"
        assert _settled(pid, baseline_fds), f"fds {proc_fds(pid)} after the load, {baseline_fds} before (a leak)"
    return f"{cl} close in {cl_s:.0f} s ({cl_runs} runs), fds {baseline_fds}"
