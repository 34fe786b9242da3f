#!/usr/bin/env python3
"""accept_compare.py: one shared listener (--accept=workers) against one SO_REUSEPORT listener per
worker (--accept=reuseport) and the acceptor thread (--accept=thread), with Connection: close:
server CPU per request, p99, and how the CPU splits over the server's threads.

    python3 bench/accept_compare.py [--server BIN] [--workers 2] [--conns 1,100,1000] [--runs 3]
                                    [--duration 2]

Unpinned, the modes alternating run by run. "threads" lists each thread's
share of the server's CPU time during the runs, busiest first (the main
thread, asleep, rounds to 0; under --accept=thread one of them is the acceptor).
"""
import argparse
import os
import statistics
import sys
import tempfile
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from servers import ROOT, Ours  # noqa: E402
from loads import measured, wrk  # noqa: E402

MODES = ("workers", "reuseport", "thread")


def thread_cpu(pid):
    """{tid: utime + stime ticks} of each thread of pid."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            out[tid] = int(fields[11]) + int(fields[12])
        except OSError:
            pass
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--server", default=os.path.join(ROOT, "build", "stage-7", "bin", "async-nostd"))
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--conns", default="1,100,1000")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--duration", type=int, default=2)
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="accept-")
    servers = {m: Ours(tmp, a.server, workers=a.workers, accept=m, label=m) for m in MODES}
    for s in servers.values():
        s.start()
    try:
        print(f"load average {os.getloadavg()[0]:.2f}; {a.workers} workers, Connection: close, "
              f"median of {a.runs} runs of {a.duration} s")
        for conns in (int(c) for c in a.conns.split(",")):
            res = {m: [] for m in MODES}
            ticks = {m: {} for m in MODES}
            for s in servers.values():
                wrk(s.url("/plaintext"), conns, 1, close=True)  # warm-up
            for _ in range(a.runs):
                for m, s in servers.items():
                    before = thread_cpu(s.proc.pid)
                    res[m].append(measured(s, lambda: wrk(s.url("/plaintext"), conns, a.duration, close=True)))
                    for tid, t in thread_cpu(s.proc.pid).items():
                        ticks[m][tid] = ticks[m].get(tid, 0) + t - before.get(tid, 0)
            for m in MODES:
                cpu = statistics.median(r["cpu_us_per_req"] for r in res[m])
                p99 = statistics.median(r["p99_us"] for r in res[m])
                rps = statistics.median(r["rps"] for r in res[m])
                total = sum(ticks[m].values()) or 1
                shares = sorted((100 * t / total for t in ticks[m].values()), reverse=True)
                print(f"c{conns:<5} {m:<10} {rps:>8,.0f} req/s  p99 {p99 / 1000:7.2f} ms  "
                      f"{cpu:6.2f} µs/req  threads " + " ".join(f"{x:.0f}%" for x in shares if x >= 0.5),
                      flush=True)
    finally:
        for s in servers.values():
            s.stop()
        print(f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
