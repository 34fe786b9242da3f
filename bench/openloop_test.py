#!/usr/bin/env python3
"""openloop_test.py: checks bench/openloop.c against a server whose latency is known (stdlib only).

    python3 bench/openloop_test.py

Builds build/bench/openloop, then:
  - feeds its histogram known values (`openloop -H`): every value comes back
    within the histogram's relative error, percentiles of a known
    distribution come out right, values past the range are kept;
  - runs it against a small server in this process that answers each
    request exactly D ms after reading it, and checks that p50 is D;
  - stalls that server once for S ms while the generator offers R req/s and
    checks that the latencies counted from the intended send times show the
    stall (about S*R requests delayed, max about S) while the ones counted
    from the actual send times, what a closed-loop tool would report, hide it;
  - reads chunked responses, and refuses bad arguments;
  - turns a made-up latency series into bench/report.py's summary (the
    highest rate held under a p99 limit) and its plot.
Prints one [OK]/[FAIL] line per check; exits 0 iff all pass. About 10 s.
"""
import csv
import os
import random
import shutil
import socket
import socketserver
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC = os.path.join(ROOT, "bench", "openloop.c")
BIN = os.path.join(ROOT, "build", "bench", "openloop")
REL_ERR = 1 / 256  # half a bucket: 128 buckets per power of two

sys.path.insert(0, os.path.join(ROOT, "bench"))
from servers import Checks  # noqa: E402

check = Checks("openloop: ")


def build():
    os.makedirs(os.path.dirname(BIN), exist_ok=True)
    cc = os.environ.get("BENCH_CC", "cc")
    r = subprocess.run([cc, "-O2", "-Wall", "-Wextra", "-Werror", "-pthread", "-o", BIN, SRC, "-lm"],
                       capture_output=True, text=True)
    return check("builds without warnings", r.returncode == 0, r.stderr[-2000:])


def result_line(text):
    for line in text.splitlines():
        if line.startswith("result: "):
            return {k: float(v) for k, v in (kv.split("=", 1) for kv in line[8:].split())}
    return None


def hist(values):
    r = subprocess.run([BIN, "-H"], input="".join(f"{v}\n" for v in values), capture_output=True, text=True,
                       timeout=30)
    pairs = [tuple(int(x) for x in line.split()) for line in r.stdout.splitlines() if not line.startswith("result")]
    return pairs, result_line(r.stdout)


def histogram_checks():
    # Every value from 1 ns to past 60 s (dense at the bucket edges, random in between).
    vals = list(range(0, 600)) + [(1 << b) + d for b in range(8, 36) for d in (-1, 0, 1)]
    rnd = random.Random(7)
    vals += [int(10 ** rnd.uniform(0, 10.78)) for _ in range(20000)]  # up to 60 s
    pairs, _ = hist(vals)
    bad = [(v, r) for v, r in pairs if abs(r - v) > v * REL_ERR]
    check(f"histogram: {len(pairs)} values from 0 ns to 60 s come back within 1/256",
          len(pairs) == len(vals) and not bad, f"{len(bad)} off, e.g. {bad[:3]}; {len(pairs)} of {len(vals)} read")

    # Uniform 1..100,000 µs: the percentiles are known exactly.
    _, res = hist([i * 1000 for i in range(1, 100001)])
    want = {"p50_ns": 50e6, "p90_ns": 90e6, "p99_ns": 99e6, "p999_ns": 99.9e6, "p9999_ns": 99.99e6}
    off = {k: res[k] for k, v in want.items() if abs(res[k] - v) > v * REL_ERR}
    check("histogram: percentiles of a uniform distribution within 1/256",
          res["count"] == 100000 and res["max_ns"] == 100e6 and not off, f"{off or res}")

    # 990 requests at 1 ms and 10 at 1 s: p99 is 1 ms, p99.9 is 1 s, max is exact.
    _, res = hist([1000000] * 990 + [1000000000] * 10)
    check("histogram: p99 and p99.9 of a two-valued distribution",
          abs(res["p99_ns"] - 1e6) <= 1e6 * REL_ERR and abs(res["p999_ns"] - 1e9) <= 1e9 * REL_ERR
          and res["max_ns"] == 1e9, f"{res}")

    # 999 at 1 ms and one at 1 s: the 99.9th percentile is the 999th value,
    # although 99.9 / 100 * 1000 is 999.0000000000001 in floating point.
    _, res = hist([1000000] * 999 + [1000000000])
    check("histogram: p99.9 of 1,000 values is the 999th", abs(res["p999_ns"] - 1e6) <= 1e6 * REL_ERR, f"{res}")

    # Past the top of the range (2^36 ns, 68.7 s): kept, counted, max exact.
    _, res = hist([5, 100 * 10 ** 9])
    check("histogram: a value past the range is kept, not dropped",
          res["count"] == 2 and res["clamped"] == 1 and res["max_ns"] == 100e9, f"{res}")


class DelayServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
    """Answers every request delay_s after reading it. With stall_s, every
    answer that would leave in [first request + stall_at_s, + stall_s) waits
    until the stall ends, once: a server stopped for stall_s."""
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, delay_s, stall_at_s=None, stall_s=0.0):
        self.delay_s, self.stall_at_s, self.stall_s = delay_s, stall_at_s, stall_s
        self.first = None
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), DelayHandler)

    def answer_time(self, got):
        with self.lock:
            if self.first is None:
                self.first = got
        t = got + self.delay_s
        if self.stall_at_s is not None:
            start = self.first + self.stall_at_s
            if start <= t < start + self.stall_s:
                t = start + self.stall_s
        return t


class DelayHandler(socketserver.BaseRequestHandler):
    def handle(self):
        sock = self.request
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        buf = b""
        while True:
            while b"\r\n\r\n" not in buf:
                data = sock.recv(4096)
                if not data:
                    return
                buf += data
            head, buf = buf.split(b"\r\n\r\n", 1)
            at = self.server.answer_time(time.monotonic())
            path = head.split(b" ")[1]
            if path == b"/chunked":
                resp = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                        b"5;ext=1\r\nHello\r\n8\r\n, World!\r\n0\r\nX-Trailer: 1\r\n\r\n")
            else:
                resp = b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\nContent-Type: text/plain\r\n\r\nHello, World!"
            wait = at - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            sock.sendall(resp)


def run_against(server, args, path="/"):
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}{path}"
        r = subprocess.run([BIN] + args + [url], capture_output=True, text=True, timeout=30)
    finally:
        server.shutdown()
        server.server_close()
    return r, result_line(r.stdout)


def server_checks():
    d = 0.020
    r, res = run_against(DelayServer(d), ["-c", "4", "-R", "100", "-w", "0.3", "-d", "1.5", "-T", "1"])
    if check("runs against a fixed-delay server", r.returncode == 0 and res, f"status {r.returncode}: {r.stderr}"):
        p50 = res["p50_us"] / 1e3
        # Never below D (the server waits D); above it only by scheduling delays.
        check(f"fixed delay {d * 1e3:.0f} ms: p50 is {d * 1e3:.0f} ms (measured {p50:.2f} ms)",
              d * 1e3 * (1 - REL_ERR) <= p50 <= d * 1e3 + 6, r.stdout)
        check("fixed delay: every scheduled request answered, no errors",
              res["answered"] == res["scheduled"] == 150 and res["errors"] == 0, r.stdout)

    # One stall of S ms at R req/s over C connections, each answer D ms after its request.
    d, s, rate = 0.005, 0.400, 400
    r, res = run_against(DelayServer(d, stall_at_s=1.2, stall_s=s),
                         ["-c", "4", "-R", str(rate), "-w", "0.5", "-d", "2.5", "-T", "2"])
    if check("runs against a stalling server", r.returncode == 0 and res, f"status {r.returncode}: {r.stderr}"):
        n = res["scheduled"]
        stalled = s * rate / n  # the share of requests that fell due during the stall
        print(f"  # {int(n)} requests, {s * rate:.0f} ({stalled:.0%}) due during the {s * 1e3:.0f} ms stall; "
              f"p90 {res['p90_us'] / 1e3:.1f} ms, p99 {res['p99_us'] / 1e3:.1f} ms, max {res['max_us'] / 1e3:.1f} ms; "
              f"from the actual send: p99 {res['svc_p99_us'] / 1e3:.1f} ms, max {res['svc_max_us'] / 1e3:.1f} ms")
        check("stall: no request lost", res["answered"] == n and res["errors"] == 0, r.stdout)
        # The stalled requests' latencies spread from D to S: over 10% of all
        # requests waited more than S/4, so p90 is above it; p99 above S/2.
        check("stall: p90 > S/4 and p99 > S/2: the requests due during the stall are counted",
              res["p90_us"] > s * 1e6 / 4 and res["p99_us"] > s * 1e6 / 2, r.stdout)
        check("stall: max is about S", s * 0.9e6 <= res["max_us"] <= (s + 0.3) * 1e6, r.stdout)
        # Timed from the actual send, only the C requests in flight saw the stall: under 1%.
        check("stall: timed from the actual send, p99 hides it (what a closed-loop tool reports)",
              res["svc_p99_us"] < s * 1e6 / 4 and res["svc_max_us"] >= s * 0.9e6, r.stdout)

    r, res = run_against(DelayServer(0.002), ["-c", "6", "-t", "3", "-R", "300", "-w", "0.1", "-d", "0.5"])
    check("three threads share the schedule: every request answered once",
          r.returncode == 0 and res and res["answered"] == res["scheduled"] == 150 and res["errors"] == 0
          and res["p50_us"] >= 2000 * (1 - REL_ERR), r.stdout + r.stderr)

    r, res = run_against(DelayServer(0.001), ["-c", "2", "-R", "200", "-w", "0.1", "-d", "0.5"], path="/chunked")
    check("chunked responses (extensions, trailers) are read to their end",
          r.returncode == 0 and res and res["answered"] == res["scheduled"] == 100 and res["errors"] == 0,
          r.stdout + r.stderr)


def argument_checks():
    bad = [["-c", "0", "http://127.0.0.1:1/"], ["-R", "fast", "http://127.0.0.1:1/"], ["-d", "-1", "x"],
           ["-t", "4", "-c", "2", "http://127.0.0.1:1/"], [], ["a", "b"], ["http://127.0.0.1:99999/"],
           ["https://127.0.0.1/"]]
    wrong = []
    for args in bad:
        r = subprocess.run([BIN] + args, capture_output=True, text=True, timeout=10)
        if r.returncode != 2 or not r.stderr.strip():
            wrong.append((args, r.returncode))
    check("bad arguments: a message and status 2", not wrong, f"{wrong}")
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    r = subprocess.run([BIN, "-d", "0.1", f"http://127.0.0.1:{port}/"], capture_output=True, text=True, timeout=20)
    check("no server: a message and a non-zero status", r.returncode != 0 and "connect" in r.stderr,
          f"status {r.returncode}: {r.stderr}")


def report_checks():
    import report
    # offered rate -> (answered/s, p99 µs) for each server; made up, with a
    # lucky point past a bad one (nginx at 7,000) that must not count, and one
    # under 10 ms with too few answers (ours at 7,000).
    points = {"async-nostd": {1000: (1000, 200), 3000: (2990, 700), 5000: (4990, 4000), 7000: (6200, 9000)},
              "nginx": {1000: (1000, 300), 3000: (2990, 1500), 5000: (4900, 12000), 7000: (6990, 800)}}
    work = os.path.join(ROOT, "build", "bench", "openloop-test")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    path = os.path.join(work, "latency.csv")
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, ["date", "host", "commit", "cpu_model", "cores", "kernel", "profile", "nginx_version",
                               "series", "point", "server", "connections", "pinned", "runs", "offered_rps",
                               "load_pct", "peak_rps", "rps", "p50_us", "p99_us", "p999_us", "unfinished",
                               "discarded"])
        w.writeheader()
        for server, pts in points.items():
            for rate, (got, p99) in pts.items():
                w.writerow(dict(date="2026-01-01 00:00:00", host="test", commit="test", cpu_model="test", cores=2,
                                kernel="test", profile="test", nginx_version="test", series="latency",
                                point=f"load{rate // 70}", server=server, connections=100, pinned=1, runs=1,
                                offered_rps=rate, load_pct=rate // 70, peak_rps=7000, rps=got, p50_us=p99 / 4,
                                p99_us=p99, p999_us=p99 * 2, unfinished=0, discarded=0))
    text = report.summary(report.load(path))
    want = ["| highest offered rate held with p99 < 1 ms | 3,000 | 1,000 | 3.00x |",
            "| highest offered rate held with p99 < 10 ms | 5,000 | 3,000 | 1.67x |"]
    check("report: highest offered rate held under p99 1 ms and 10 ms, and the ratio",
          all(line in text.splitlines() for line in want), text)
    if shutil.which("gnuplot"):
        drawn = report.plots(path, os.path.join(work, "plots"))
        png = os.path.join(work, "plots", "latency-openloop.png")
        check("report: the latency-openloop plot is drawn", png in drawn and os.path.getsize(png) > 1000, f"{drawn}")


def main():
    started = time.monotonic()
    if not build():
        return 1
    histogram_checks()
    server_checks()
    argument_checks()
    report_checks()
    print(f"  # {time.monotonic() - started:.1f} s")
    return 1 if check.failed else 0


if __name__ == "__main__":
    sys.exit(main())
