#!/usr/bin/env python3
"""smoke.py: the bench smoke test that `make test` runs: a few-second bench run must work end to end.

    python3 bench/smoke.py [--server BIN]

First runs bench/floor/check.py's checks: the floor servers build and answer
keep-alive, pipelined and Connection: close requests with the right bytes;
then bench/pipeline_check.py's: the pipelining load generator counts exactly
the complete responses of the floor server, of our server and of faulty ones;
then h2o, the second reference, must start from bench/h2o.template.conf with
each /plaintext handler and give our server's answers.
Then runs bench/run.py with the "smoke" profile (the headline: our server and
nginx, 1 worker, 2 runs of 2 s; the workers series at 1 worker with both
executors; the spread series with the per-core executor at 2 workers) into
build/bench/smoke/ and checks that it wrote a CSV row for each run, drew a
plot, that our server reached at least 10,000 req/s, that the per-core
executor served in the workers series (one listener, and a reuseport one per
worker), and that its one listener spread connections over both workers.
Prints one [OK]/[FAIL]/[SKIP] line per check; exits 0 iff none fails.
"""
import argparse
import csv
import os
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ folders in bench/
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "bench", "floor"))
import check as floor_check  # noqa: E402
sys.path.insert(0, os.path.join(ROOT, "bench"))
import pipeline_check  # noqa: E402
from servers import H2o, BenchError, Checks, Ours, check_same_answers, tool  # noqa: E402
OUT = os.path.join(ROOT, "build", "bench", "smoke")
MIN_RPS = 10000
TIMEOUT = 90


def default_server():
    for stage in (7, 6):
        p = os.path.join(ROOT, "build", f"stage-{stage}", "bin", "async-nostd")
        if os.access(p, os.X_OK):
            return p
    return None


def check_h2o(check, skip, server):
    """h2o starts from its template with each /plaintext handler, answers /plaintext
    and / with our server's status, media type and body, and stops on SIGTERM."""
    try:
        tool("h2o")
    except BenchError as e:
        skip(f"h2o: {e}")
        return
    tmp = os.path.join(ROOT, "build", "bench", "smoke", "h2o")
    os.makedirs(tmp, exist_ok=True)
    ours = Ours(tmp, server, workers=1)
    try:
        ours.start()
        for handler in ("file", "mruby"):
            h2o = H2o(tmp, handler=handler)
            try:
                h2o.start()
                notes = check_same_answers(ours, h2o, ["/plaintext", "/"])
                check(f"h2o ({handler} handler): answers /plaintext and / as our server does", len(notes) == 4,
                      f"{notes}")
            except BenchError as e:
                check(f"h2o ({handler} handler): answers /plaintext and / as our server does", False, str(e))
            finally:
                status = h2o.stop()
            check(f"h2o ({handler} handler): SIGTERM stops it", status is not None, "it had to be killed")
    finally:
        ours.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--server", default=default_server())
    args = ap.parse_args()
    check = Checks()

    if not check("bench smoke: server binary exists", args.server and os.access(args.server, os.X_OK),
                 "no build/stage-7 or stage-6 async-nostd; run `make STAGE=7 all`"):
        return 1
    floor_check.run(lambda name, ok, why="": check("bench smoke: " + name, ok, why),
                    lambda why: print(f"[SKIP] bench smoke: {why}", flush=True), args.server)
    pipeline_check.run(lambda name, ok, why="": check("bench smoke: " + name, ok, why),
                       lambda why: print(f"[SKIP] bench smoke: {why}", flush=True), args.server)
    check_h2o(lambda name, ok, why="": check("bench smoke: " + name, ok, why),
              lambda why: print(f"[SKIP] bench smoke: {why}", flush=True), args.server)
    started = time.time()
    cmd = [sys.executable, os.path.join(ROOT, "bench", "run.py"), "--profile", "smoke", "--server", args.server,
           "--results", OUT, "--plots", os.path.join(OUT, "plots"), "--command", "python3 bench/smoke.py"]
    try:
        r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        check("bench smoke: run finishes", False, f"bench/run.py took over {TIMEOUT} s")
        return 1
    if not check("bench smoke: bench/run.py exits 0", r.returncode == 0,
                 f"status {r.returncode}:\n{(r.stdout + r.stderr)[-2500:]}"):
        return 1
    latest = os.path.join(OUT, "latest.csv")
    with open(latest, newline="") as f:
        rows = list(csv.DictReader(f))
    ours = [row for row in rows if row["server"] == "async-nostd"]
    check("bench smoke: CSV has a header and a row per run", len(ours) >= 1 and all(row["rps"] for row in rows),
          f"{len(rows)} rows in {latest}")
    best = max((float(row["rps"]) for row in ours), default=0.0)
    check(f"bench smoke: server reaches {MIN_RPS:,} req/s", best >= MIN_RPS,
          f"best run {best:,.0f} req/s (load average {os.getloadavg()[0]:.1f})")
    errs = sum(int(row[k] or 0) for row in ours for k in ("err_connect", "err_read", "err_write", "err_status",
                                                        "err_timeout"))
    check("bench smoke: no socket errors", errs == 0, f"{errs} errors reported by wrk")
    for kind in ("async-nostd-per-core", "async-nostd-per-core-reuseport"):
        mine = [row for row in rows if row["series"] == "workers" and row["server"] == kind]
        check(f"bench smoke: workers series runs {kind}", mine and all(float(row["rps"] or 0) > 0 and
                                                                   row["executor"] == "per-core" for row in mine),
              f"{len(mine)} rows: {[(row['rps'], row['executor']) for row in mine]}")
    spread = [row for row in rows if row["series"] == "spread" and row["server"] == "async-nostd-per-core"]
    placed = [int(x) for x in spread[0]["worker_closed"].split("/")] if spread and spread[0]["worker_closed"] else []
    check("bench smoke: per-core with one listener spreads connections over both workers (/metrics)",
          len(placed) == 2 and min(placed) > 0 and abs(placed[0] - placed[1]) <= 2,
          f"connections per worker {placed or 'not reported'}")
    png = os.path.join(OUT, "plots", "headline.png")
    check("bench smoke: a plot was drawn", os.path.exists(png) and os.path.getsize(png) > 1000
          and os.path.getmtime(png) >= started - 1, f"no fresh {png}")
    return 1 if check.failed else 0


if __name__ == "__main__":
    sys.exit(main())
