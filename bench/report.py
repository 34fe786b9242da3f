#!/usr/bin/env python3
"""report.py: turns a bench CSV into the summary table and the gnuplot plots (stdlib only).

    python3 bench/report.py summary [CSV]            print the summary (default: results/latest.csv)
    python3 bench/report.py plots [CSV] [--out DIR]  redraw plots/*.png and *.svg from the CSV

The CSV is the only input: every run is a row, and medians, spreads and
ratios are computed here. The plots are drawn by bench/plots/*.gp from small
.dat tables this script writes under build/bench/plotdata/.
"""
import argparse
import csv
import os
import shutil
import statistics
import subprocess
import sys

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH_DIR)
GP_DIR = os.path.join(BENCH_DIR, "plots")
NUMERIC = {"workers", "connections", "keepalive", "pinned", "idle_conns", "run", "runs", "rps", "requests",
           "p50_us", "p90_us", "p99_us", "p999_us", "lat_max_us", "lat_mean_us", "cpu_us_per_req", "cpu_s",
           "err_connect", "err_read", "err_write", "err_status", "err_timeout", "bytes_per_req", "msg_size",
           "discarded", "elapsed_s", "loadgen_cpu_s", "other_cpu_pct", "syscalls", "syscalls_per_req",
           "offered_rps", "load_pct", "peak_rps", "p9999_us", "svc_p99_us", "unfinished", "depth",
           "shared_writes_per_req"}
ERRORS = ("err_connect", "err_read", "err_write", "err_status", "err_timeout")
OURS = "async-nostd"
THREAD = "async-nostd-thread"  # the same server with --accept=thread (Connection: close points)
URING = "async-nostd-io_uring"  # the same server with --reactor=io_uring
PERCORE = "async-nostd-per-core"  # the same server with --executor=per-core
URING_PC = "async-nostd-io_uring-per-core"  # io_uring with a single-issuer ring per worker
PERCORE_RP = "async-nostd-per-core-reuseport"  # ... and a SO_REUSEPORT listener per worker
# The servers of the workers series, in the order of its table and plots: (label, server).
WORKER_SERVERS = [("ours, shared", OURS), ("ours, per-core", PERCORE), ("ours, per-core reuseport", PERCORE_RP),
                  ("ours, shared, --accept=thread", THREAD), ("nginx", "nginx")]
FLOORS = {"epoll": "floor-epoll", "io_uring": "floor-io_uring"}  # bench/floor/: the least per request
# The servers of the pipelined series, in the order of its table and plot:
# (label, CSV match).
PIPELINED = [("async-nostd epoll", dict(server=OURS, reactor="epoll")),
             ("async-nostd ppoll", dict(server=OURS, reactor="ppoll")),
             ("async-nostd io_uring", dict(server=URING)), ("nginx", dict(server="nginx")),
             ("h2o (static file)", dict(server="h2o")), ("h2o (mruby)", dict(server="h2o-mruby")),
             ("floor-epoll", dict(server=FLOORS["epoll"])), ("floor-io_uring", dict(server=FLOORS["io_uring"]))]


def load(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    for r in rows:
        # CSVs from before the executor column ran our server with the shared executor only.
        if not r.get("executor") and r.get("server", "").startswith(OURS):
            r["executor"] = "shared"
        for k in NUMERIC:
            v = r.get(k, "")
            try:
                r[k] = float(v) if v not in ("", None) else None
            except ValueError:
                r[k] = None
    return rows


# [snippet: bench-median]
def stat(rows, metric, **match):
    """Median, min, max and count of `metric` over the runs matching every
    key=value given. The CSV keeps each run; only here do they become one
    figure. Runs marked discarded (too noisy, repeated) do not count."""
    vals = [r[metric] for r in rows if r.get(metric) is not None and not r.get("discarded")
            and all(r.get(k) == v for k, v in match.items())]
    if not vals:
        return None
    return {"med": statistics.median(vals), "min": min(vals), "max": max(vals), "n": len(vals)}
# [end: bench-median]


def med(rows, metric, **match):
    s = stat(rows, metric, **match)
    return s["med"] if s else None


def ratio(a, b):
    return a / b if a is not None and b else None


# ---- formatting -------------------------------------------------------------

def f_rate(v):
    return "-" if v is None else f"{v:,.0f}"


def f_us(v):
    if v is None:
        return "-"
    return f"{v / 1000:.2f} ms" if v >= 1000 else f"{v:.0f} µs"


def f_cpu(v):
    return "-" if v is None else f"{v:.2f}"


def f_ratio(v):
    return "-" if v is None else f"{v:.2f}x"


def f_spread(s):
    if not s or not s["med"] or s["n"] < 2:
        return ""
    return f"±{(s['max'] - s['min']) / 2 / s['med'] * 100:.0f}%"


def table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" if i == 0 else "--:" for i in range(len(header))) + "|"]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def first(rows, key):
    return rows[0][key] if rows and key in rows[0] else ""


# ---- the summary ------------------------------------------------------------

def summary(rows, command="", total_s=None, notes=()):
    m = rows[0] if rows else {}
    out = [f"# Benchmark summary ({m.get('date', '')}, profile {m.get('profile', '')})", ""]
    out.append(f"- machine: {m.get('cpu_model')}, {m.get('cores')} cores, Linux {m.get('kernel')}, host {m.get('host')}")
    h2o = f"h2o {m['h2o_version']}, " if m.get("h2o_version") else ""  # CSVs from before h2o have none
    out.append(f"- commit: {m.get('commit')}; nginx {m.get('nginx_version')}, {h2o}wrk {m.get('wrk_version')}, "
               f"node ws {m.get('node_ws_version')}")
    if command:
        out.append(f"- command: `{command}`")
    if total_s is not None:
        kept = sum(1 for r in rows if not r.get("discarded"))
        out.append(f"- total time: {int(total_s) // 60} min {int(total_s) % 60} s, {kept} measured runs")
    others = [float(r["other_cpu_pct"]) for r in rows if r.get("other_cpu_pct") not in (None, "")]
    if others:
        busy = " (a busy machine: expect noise)" if statistics.median(others) > 10 else ""
        out.append(f"- CPU used by other processes during the runs: median {statistics.median(others):.0f}%, "
                   f"max {max(others):.0f}% of the machine{busy}")
    dropped = sum(1 for r in rows if r.get("discarded"))
    if dropped:
        out.append(f"- {dropped} run(s) set aside and repeated because other processes used over 10% of the machine")
    out.append("- every figure is the median of the runs; ratios are ours / reference (nginx; node `ws` for "
               "WebSocket); ± is half the min-max spread of req/s")
    out.append("")
    targets = []
    out += headline_section(rows, targets)
    out += floor_section(rows)
    out += workers_section(rows)
    out += spread_section(rows)
    out += reactor_section(rows, targets)
    out += syscalls_section(rows, targets)
    out += ws_section(rows)
    out += pipelined_section(rows)
    out += latency_section(rows)
    work_targets(rows, targets)
    if targets:
        out += ["## Targets", "", table(["target", "measured", "status"], targets), ""]
    errs = []
    for series in sorted({r["series"] for r in rows}):
        for server in sorted({r["server"] for r in rows if r["series"] == series}):
            sel = [r for r in rows if r["series"] == series and r["server"] == server]
            tot = {k: int(sum(r[k] or 0 for r in sel)) for k in ERRORS}
            if any(tot.values()):
                errs.append(f"- {series} / {server}: " + ", ".join(f"{k[4:]} {v}" for k, v in tot.items() if v))
    out += ["## Socket errors reported by the load generators", ""] + (errs or ["- none"]) + [""]
    if notes:
        out += ["## Notes", ""] + [f"- {n}" for n in notes] + [""]
    return "\n".join(out)


def headline_section(rows, targets):
    h = [r for r in rows if r["series"] == "headline"]
    if not h:
        return []
    pinned = "server pinned to CPU 0, `wrk -t1` on CPU 1" if h[0]["pinned"] else "unpinned"
    conns = int(h[0]["connections"])
    out = [f"## Headline: 1 worker each, {pinned}, {conns} connections, "
           f"median of {int(h[0]['runs'])} alternating runs", ""]
    lines = []
    gen_busy = []
    points = []
    for r in h:
        if r["point"] not in points:
            points.append(r["point"])
    for p in points:
        name = {"plaintext-ka": "/plaintext keep-alive", "plaintext-close": "/plaintext Connection: close",
                "page-ka": "/ (demo page) keep-alive"}.get(p.rsplit("-c", 1)[0], p)
        o = dict(point=p, server=OURS)
        n = dict(point=p, server="nginx")
        so, sn = stat(h, "rps", **o), stat(h, "rps", **n)
        ro, rn = (so or {}).get("med"), (sn or {}).get("med")
        lines.append([f"{name}: req/s", f"{f_rate(ro)} {f_spread(so)}".strip(), f"{f_rate(rn)} {f_spread(sn)}".strip(),
                      f_ratio(ratio(ro, rn))])
        for pct, label in (("p50_us", "p50"), ("p99_us", "p99")):
            a, c = med(h, pct, **o), med(h, pct, **n)
            lines.append([f"{name}: {label} latency", f_us(a), f_us(c), f_ratio(ratio(a, c))])
        a, c = med(h, "cpu_us_per_req", **o), med(h, "cpu_us_per_req", **n)
        lines.append([f"{name}: server CPU µs/request", f_cpu(a), f_cpu(c), f_ratio(ratio(a, c))])
        a, c = busy(h, "cpu_s", **o), busy(h, "cpu_s", **n)
        lines.append([f"{name}: server busy (share of one core)", f_pct(a), f_pct(c), f_ratio(ratio(a, c))])
        # The variants of our server measured at this point, each beside nginx.
        for variant, option in ((PERCORE, "--executor=per-core"), (THREAD, "--accept=thread"),
                                (URING, "--reactor=io_uring"), (URING_PC, "--reactor=io_uring --executor=per-core")):
            v = dict(point=p, server=variant)
            if med(h, "cpu_us_per_req", **v) is None:
                continue
            a, c = med(h, "cpu_us_per_req", **v), med(h, "cpu_us_per_req", **n)
            lines.append([f"{name}, {option}: server CPU µs/request", f_cpu(a), f_cpu(c), f_ratio(ratio(a, c))])
            a = med(h, "rps", **v)
            lines.append([f"{name}, {option}: req/s", f_rate(a), f_rate(rn), f_ratio(ratio(a, rn))])
        gen = busy(h, "loadgen_cpu_s", point=p)
        if gen is not None:
            gen_busy.append(gen)
    out += [table(["figure", OURS, "nginx", "ratio"], lines), ""]
    if gen_busy and min(gen_busy) > 0.9:
        out += [f"The load generator's core was {min(gen_busy) * 100:.0f}-{max(gen_busy) * 100:.0f}% busy: "
                "req/s is bounded by `wrk`, and a server can raise it only by making `wrk`'s work per request "
                "smaller (fewer, fuller reads). Compare the servers by CPU µs/request and by how busy each was.", ""]
    return out


def ratio_target(targets, text, a, b, op, limit):
    """Adds the target row `text` for the ratio a / b, once its reference b was measured."""
    if b is not None:
        q = ratio(a, b)
        targets.append([text, f_ratio(q), verdict(q, op, limit)])


# [snippet: bench-targets]
def work_targets(rows, targets):
    """The targets the server is built to: CPU per request against the floor of
    its own backend and against nginx (headline), shared writes per request
    (spread), pipelined req/s and CPU (depth 16, 100 connections) and the
    open-loop rate held under a 1 ms p99. Rows only for what the CSV measured."""
    h = [r for r in rows if r["series"] == "headline"]
    for kind, mode, nginx_limit in (("plaintext-ka", "keep-alive", 0.78), ("plaintext-close", "Connection: close",
                                                                            0.80)):
        p = next((r["point"] for r in h if r["point"].rsplit("-c", 1)[0] == kind), None)
        if p is None:
            continue
        cn = med(h, "cpu_us_per_req", point=p, server="nginx")
        for server, backend, label in ((OURS, "epoll", "epoll, shared"), (PERCORE, "epoll", "epoll, per-core"),
                                       (URING, "io_uring", "io_uring, shared"),
                                       (URING_PC, "io_uring", "io_uring, per-core")):
            c = med(h, "cpu_us_per_req", point=p, server=server)
            floor = med(h, "cpu_us_per_req", point=p, server=FLOORS[backend])
            if c is None:
                continue
            ratio_target(targets, f"{mode} CPU µs/request, {label}: at most 1.05x the {backend} floor", c, floor,
                         "<=", 1.05)
            if backend == "io_uring":
                ratio_target(targets, f"{mode} CPU µs/request, {label}: at most {nginx_limit:.2f}x nginx", c, cn,
                             "<=", nginx_limit)
    sp = [r for r in rows if r["series"] == "spread" and r["keepalive"] and r["workers"] == 2]
    q = med(sp, "shared_writes_per_req", server=PERCORE)
    if q is not None:  # what remains is one placement per connection, not a write per request
        targets.append(["shared writes per keep-alive request at 2 workers, per-core: 0 on the request path "
                        "(at most 0.01)", f"{q:.3f} (shared: {f_shared(med(sp, 'shared_writes_per_req', server=OURS))})",
                        verdict(q, "<=", 0.01)])
    pr = [r for r in rows if r["series"] == "pipelined" and r["depth"] == 16 and r["connections"] == 100]
    rn = med(pr, "rps", server="nginx")
    for label, match, backend in (("epoll", dict(server=OURS, reactor="epoll"), "epoll"),
                                  ("ppoll", dict(server=OURS, reactor="ppoll"), "epoll"),
                                  ("io_uring", dict(server=URING), "io_uring")):
        rps, c = med(pr, "rps", **match), med(pr, "cpu_us_per_req", **match)
        if rps is None:
            continue
        ratio_target(targets, f"pipelined depth 16, 100 connections, {label}: req/s at least 5x nginx", rps, rn,
                     ">=", 5.0)
        ratio_target(targets, f"pipelined depth 16, 100 connections, {label}: CPU µs/request at most 1.10x the "
                     f"{backend} floor", c, med(pr, "cpu_us_per_req", server=FLOORS[backend]), "<=", 1.10)
    lt = [r for r in rows if r["series"] == "latency"]
    if lt:
        a, c = held_up_to(lt, OURS, 1000), held_up_to(lt, "nginx", 1000)
        q = ratio(a, c) if a and c else None
        shown = f_ratio(q) if q is not None else f"{f_rate(a)} vs {f_rate(c)} req/s"
        targets.append(["open-loop: highest rate held with p99 < 1 ms at least 1.2x nginx's", shown,
                        verdict(q, ">=", 1.2) if q is not None else ("met" if a and not c else "**missed**")])
# [end: bench-targets]


def floor_section(rows):
    """CPU per request of every headline server next to the floor servers of
    bench/floor/: each as a ratio to nginx, and each server as a ratio to the
    floor of its own backend (nginx's is epoll). Empty for a CSV without floors."""
    h = [r for r in rows if r["series"] == "headline"]
    points = [p for p in dict.fromkeys(r["point"] for r in h)
              if any(r["server"] in FLOORS.values() and r["point"] == p for r in h)]
    if not points:
        return []
    servers = [(OURS, "epoll"), (PERCORE, "epoll"), (THREAD, "epoll"), (URING, "io_uring"), (URING_PC, "io_uring"),
               ("nginx", "epoll"),
               ("h2o", "epoll"),
               (FLOORS["epoll"], "epoll"), (FLOORS["io_uring"], "io_uring")]
    lines = []
    for p in points:
        name = {"plaintext-ka": "/plaintext keep-alive", "plaintext-close": "/plaintext Connection: close"}.get(
            p.rsplit("-c", 1)[0], p)
        cn = med(h, "cpu_us_per_req", point=p, server="nginx")
        for server, backend in servers:
            c = med(h, "cpu_us_per_req", point=p, server=server)
            if c is None:
                continue
            floor = med(h, "cpu_us_per_req", point=p, server=FLOORS[backend])
            lines.append([name, server, backend, f_rate(med(h, "rps", point=p, server=server)), f_cpu(c),
                          f_ratio(ratio(c, cn)), f_ratio(ratio(c, floor)) if server not in FLOORS.values() else "-"])
    return ["## Distance to the floor: server CPU µs/request at the headline's /plaintext points", "",
            "The floor servers (bench/floor/) do the least an HTTP responder can do per request on their "
            "backend: one thread, the fixed /plaintext answer, one receive and one send per batch.", "",
            table(["point", "server", "backend", "req/s", "CPU µs/request", "/ nginx", "/ floor of its backend"],
                  lines), ""]


def pipelined_section(rows):
    """The pipelined series: for each connection count and depth, every
    server's req/s, CPU µs/request (and / nginx's), how busy its core was and
    how busy the load generator's was. A generator near 100% is the limit of
    that point, and the text says so."""
    pr = [r for r in rows if r["series"] == "pipelined"]
    if not pr:
        return []
    pinned = "server pinned to CPU 0, the load generator on CPU 1" if pr[0]["pinned"] else "unpinned"
    out = [f"## Pipelined /plaintext: 1 worker each, {pinned}, median of {int(pr[0]['runs'])} alternating runs",
           "", "Each connection writes `depth` requests at once and the next batch once all are answered "
           "(bench/pipeline_load.c). Busy: the share of one core used during the run.", ""]
    lines, limited, idle = [], [], []
    for conns in sorted({r["connections"] for r in pr}):
        for depth in sorted({r["depth"] for r in pr if r["connections"] == conns}):
            at = dict(connections=conns, depth=depth)
            cn = med(pr, "cpu_us_per_req", server="nginx", **at)
            gen_bound, neither = [], []
            for label, match in PIPELINED:
                s = stat(pr, "rps", **at, **match)
                if not s:
                    continue
                c = med(pr, "cpu_us_per_req", **at, **match)
                sb, gb = busy(pr, "cpu_s", **at, **match), busy(pr, "loadgen_cpu_s", **at, **match)
                lines.append([int(conns), int(depth), label, f"{f_rate(s['med'])} {f_spread(s)}".strip(), f_cpu(c),
                              f_ratio(ratio(c, cn)), f_pct(sb), f_pct(gb)])
                if gb is not None and gb >= 0.9:
                    gen_bound.append(label)
                elif sb is not None and sb < 0.9 and gb is not None:
                    neither.append(label)
            where = f"depth {int(depth)}, {int(conns)} connections"
            if gen_bound:
                limited.append(f"{', '.join(gen_bound)} at {where}")
            if neither:
                idle.append(f"{', '.join(neither)} at {where}")
    out += [table(["conns", "depth", "server", "req/s", "CPU µs/request", "/ nginx", "server busy",
                   "load generator busy"], lines), ""]
    if limited:
        out += ["The load generator's core was at least 90% busy for " + "; ".join(limited) + ": there req/s "
                "is the generator's limit, not the server's; compare by CPU µs/request and server busy.", ""]
    if idle:
        others = [r["other_cpu_pct"] for r in pr if r.get("other_cpu_pct") is not None and not r.get("discarded")]
        why = (f"other processes used a median {statistics.median(others):.0f}% of the machine meanwhile, so "
               "neither side had its core to itself" if others and statistics.median(others) > 10 else
               "req/s there is bounded by round trips (one batch in flight per connection), not by either "
               "side's CPU")
        out += ["Neither the server's nor the load generator's core was 90% busy for " + "; ".join(idle) +
                f": {why}.", ""]
    return out


def busy(rows, metric, **match):
    """Median share of one core used during the runs (metric: a CPU-seconds column)."""
    vals = [r[metric] / r["elapsed_s"] for r in rows if r.get(metric) is not None and r.get("elapsed_s")
            and not r.get("discarded") and all(r.get(k) == v for k, v in match.items())]
    return statistics.median(vals) if vals else None


def f_pct(v):
    return "-" if v is None else f"{v * 100:.0f}%"


def verdict(q, op, limit):
    if q is None:
        return "no data"
    ok = q <= limit if op == "<=" else q >= limit
    return "met" if ok else "**missed**"


def per_worker(rows, field, **match):
    """Per-worker counts ("n0/n1/...") of the runs matching, summed run by run: a list, or None."""
    total = None
    for r in rows:
        if r.get(field) and not r.get("discarded") and all(r.get(k) == v for k, v in match.items()):
            vals = [int(x) for x in r[field].split("/")]
            total = vals if total is None else [a + b for a, b in zip(total, vals)]
    return total


def f_split(vals):
    """Counts per worker as shares of their sum, e.g. "52% / 48%"; "-" without counts."""
    if not vals or not sum(vals):
        return "-"
    return " / ".join(f"{v * 100 / sum(vals):.0f}%" for v in vals)


def workers_section(rows):
    """Ours with each executor beside nginx at each worker count: req/s, server CPU per
    request and each as a ratio to nginx's, and where the requests landed. Says how it
    was pinned, and which worker counts this machine's cores cannot show fairly."""
    w = [r for r in rows if r["series"] == "workers"]
    if not w:
        return []
    cores = int(float(w[0].get("cores") or 0))
    if w[0]["pinned"]:
        how = (f"{cores} cores; the server pinned to cores 0..N-1, `wrk` to the other cores (one thread each)")
    else:
        how = "unpinned, `wrk -t1`"
    out = [f"## Workers series: {how}, median of {int(w[0]['runs'])} alternating runs", "",
           "Ours with the shared executor (one ready queue and reactor, leader/follower) and with the "
           "per-core one (a queue, reactor and timers per worker; one listener spreading connections "
           "round robin, or a SO_REUSEPORT listener per worker), beside nginx with as many worker "
           "processes. Requests per worker: from our /metrics, the share each worker sent.", ""]
    lines = []
    keys = sorted({(r["keepalive"], r["connections"], r["workers"]) for r in w}, key=lambda k: (-k[0], k[1], k[2]))
    for ka, conns, workers in keys:
        at = dict(keepalive=ka, connections=conns, workers=workers)
        rn, cn = med(w, "rps", server="nginx", **at), med(w, "cpu_us_per_req", server="nginx", **at)
        for label, server in WORKER_SERVERS:
            so = stat(w, "rps", server=server, **at)
            if not so:
                continue
            c = med(w, "cpu_us_per_req", server=server, **at)
            lines.append(["keep-alive" if ka else "close", int(conns), int(workers), label,
                          f"{f_rate(so['med'])} {f_spread(so)}".strip(),
                          f_ratio(ratio(so["med"], rn)) if server != "nginx" else "-",
                          f_us(med(w, "p99_us", server=server, **at)), f_cpu(c),
                          f_ratio(ratio(c, cn)) if server != "nginx" else "-",
                          f_split(per_worker(w, "worker_requests", server=server, **at))])
    out += [table(["mode", "conns", "workers", "server", "req/s", "req/s / nginx", "p99", "CPU µs/request",
                   "CPU / nginx", "requests per worker"], lines), ""]
    shown = sorted({int(r["workers"]) for r in w})
    if w[0]["pinned"] and cores:
        limit = cores - 1
        text = (f"This machine has {cores} cores. A fair point gives the server its own cores and the load "
                f"generator at least one more, so it can measure at most {limit} worker{'s' * (limit != 1)} "
                f"(measured: {', '.join(map(str, shown))}).")
        if limit < 2:
            text += (" With one worker both executors have one queue and one reactor: what differs is only "
                     "bookkeeping, so this machine cannot show how the per-core executor scales with workers "
                     "(no shared ready queue, no poller hand-off, no word written by two workers) against "
                     "the shared one, nor how nginx's worker processes compare there. That needs a machine "
                     "with at least 3 cores for 2 workers, 9 for 8; the same command runs it there.")
        out += [text, ""]
    return out


def f_shared(v):
    return "-" if v is None else f"{v:.2f}"


def spread_section(rows):
    """Where connections and requests land on the workers, with each executor and accept mode."""
    sp = [r for r in rows if r["series"] == "spread"]
    if not sp:
        return []
    out = ["## Connection spread: which worker accepts, runs and answers", "",
           "From our server's per-worker counters in /metrics, over one unpinned `wrk` run each (a count, "
           "not a speed). Accepted: which worker's listener took the connection (the acceptor thread is "
           "no worker); connections: which worker ran each one last (per-core: its home for life); "
           "requests: which worker sent the responses. Shares of the run's total, worker 0 first.", ""]
    lines = []
    modes = {"async-nostd": ("shared", "workers (one listener)"), "async-nostd-thread": ("shared", "thread"),
             PERCORE: ("per-core", "workers (one listener, round robin)"), PERCORE_RP: ("per-core", "reuseport"),
             "async-nostd-per-core-thread": ("per-core", "thread")}
    keys = sorted({(r["workers"], r["keepalive"], r["connections"]) for r in sp}, key=lambda k: (k[0], -k[1], k[2]))
    for workers, ka, conns in keys:
        for server, (executor, accept) in modes.items():
            at = dict(server=server, workers=workers, keepalive=ka, connections=conns)
            req = per_worker(sp, "worker_requests", **at)
            if req is None:
                continue
            acc = per_worker(sp, "worker_accepted", **at)
            lines.append([int(workers), f"{'keep-alive' if ka else 'close'} c{int(conns)}", executor, accept,
                          "acceptor thread" if acc is not None and not sum(acc) else f_split(acc),
                          f_split(per_worker(sp, "worker_closed", **at)), f_split(req),
                          f"{max(req) * len(req) / sum(req):.2f}" if sum(req) else "-",
                          f_shared(med(sp, "shared_writes_per_req", **at))])
    out += [table(["workers", "load", "executor", "accept", "accepted", "connections", "requests",
                   "busiest / mean", "shared writes / req"], lines), ""]
    out += ["Shared writes: writes to words other workers write too (the ready queues, the poller role, "
            "parking, kicks, the timer heaps' and rings' locks), as the server counts them "
            "(`async_nostd_shared_writes_total` in /metrics), per response.", ""]
    if any(r["server"] in (OURS, THREAD) for r in sp):
        out += ["Unpinned and sharing the cores with `wrk`, the shared executor's split also shows how the kernel "
                "scheduled its threads; the per-core executor's connection counts are placements (each "
                "connection's home) and do not depend on it.", ""]
    return out


def reactor_section(rows, targets):
    rr = [r for r in rows if r["series"] == "reactor"]
    if not rr:
        return []
    out = [f"## Reactor series: 1 worker, {int(rr[0]['connections'])} keep-alive connections plus idle ones, "
           f"median of {int(rr[0]['runs'])}", ""]
    idles = sorted({r["idle_conns"] for r in rr})
    uring = any(r["server"] == URING for r in rr)
    lines = []
    for idle in idles:
        e = med(rr, "rps", idle_conns=idle, server=OURS, reactor="epoll")
        p = med(rr, "rps", idle_conns=idle, server=OURS, reactor="ppoll")
        n = med(rr, "rps", idle_conns=idle, server="nginx")
        ce = med(rr, "cpu_us_per_req", idle_conns=idle, server=OURS, reactor="epoll")
        cp = med(rr, "cpu_us_per_req", idle_conns=idle, server=OURS, reactor="ppoll")
        cn = med(rr, "cpu_us_per_req", idle_conns=idle, server="nginx")
        if not uring:
            lines.append([int(idle), f_rate(e), f_rate(p), f_rate(n), f_ratio(ratio(e, n)), f_ratio(ratio(p, n)),
                          f_cpu(ce), f_cpu(cp), f_cpu(cn)])
            continue
        u = med(rr, "rps", idle_conns=idle, server=URING)
        cu = med(rr, "cpu_us_per_req", idle_conns=idle, server=URING)
        lines.append([int(idle), f_rate(e), f_rate(p), f_rate(u), f_rate(n), f_ratio(ratio(e, n)),
                      f_ratio(ratio(p, n)), f_ratio(ratio(u, n)), f_cpu(ce), f_cpu(cp), f_cpu(cu), f_cpu(cn)])
    if not uring:  # a CSV from before the io_uring backend
        out += [table(["idle conns", "epoll req/s", "ppoll req/s", "nginx req/s", "epoll/nginx", "ppoll/nginx",
                       "epoll µs/req", "ppoll µs/req", "nginx µs/req"], lines), ""]
    else:
        out += [table(["idle conns", "epoll req/s", "ppoll req/s", "io_uring req/s", "nginx req/s", "epoll/nginx",
                       "ppoll/nginx", "io_uring/nginx", "epoll µs/req", "ppoll µs/req", "io_uring µs/req",
                       "nginx µs/req"], lines), ""]
    if len(idles) >= 2:
        lo, hi = idles[0], idles[-1]
        fe = ratio(med(rr, "rps", idle_conns=hi, server=OURS, reactor="epoll"),
                   med(rr, "rps", idle_conns=lo, server=OURS, reactor="epoll"))
        fp = ratio(med(rr, "rps", idle_conns=hi, server=OURS, reactor="ppoll"),
                   med(rr, "rps", idle_conns=lo, server=OURS, reactor="ppoll"))
        targets.append([f"epoll flat from {int(lo)} to {int(hi)} idle connections (req/s kept ≥ 0.90x)",
                        f_ratio(fe), verdict(fe, ">=", 0.9)])
        targets.append([f"ppoll visibly not flat (req/s at {int(hi)} idle ≤ 0.90x of {int(lo)})",
                        f_ratio(fp), verdict(fp, "<=", 0.9)])
        reopened = sum(r.get("idle_reopened") and float(r["idle_reopened"]) or 0 for r in rr)
        if reopened:
            out += [f"Idle connections closed by servers and reopened during the series: {int(reopened)}", ""]
    return out


def syscalls_section(rows, targets):
    sc = [r for r in rows if r["series"] == "syscalls"]
    if not sc:
        return []
    out = [f"## System calls per keep-alive request: 1 worker, every thread counted "
           f"(`perf stat -e raw_syscalls:sys_enter`), median of {int(sc[0]['runs'])}", ""]
    servers = [(OURS, "epoll", "epoll"), (OURS, "ppoll", "ppoll"), (URING, "io_uring", "io_uring"),
               ("nginx", None, "nginx")]
    lines = []
    for c in sorted({r["connections"] for r in sc}):
        line = [int(c)]
        for server, reactor, _ in servers:
            match = dict(server=server, connections=c, **({"reactor": reactor} if reactor else {}))
            st = stat(sc, "syscalls_per_req", **match)
            line.append("–" if not st else f"{st['med']:.3f} ({st['min']:.3f}-{st['max']:.3f})")
        lines.append(line)
    out += [table(["connections"] + [f"{label} (range)" for _, _, label in servers], lines), ""]
    for server, reactor, label, limit in ((URING, None, "io_uring", 0.3), (OURS, "epoll", "epoll", 2.0)):
        q = med(sc, "syscalls_per_req", server=server, connections=100, **({"reactor": reactor} if reactor else {}))
        if q is not None:
            targets.append([f"{label} system calls per keep-alive request at 100 connections: at most {limit}",
                            f"{q:.3f}", verdict(q, "<=", limit)])
    return out


def ws_section(rows):
    ws = [r for r in rows if r["series"] == "ws"]
    if not ws:
        return []
    out = [f"## WebSocket echo: {int(ws[0]['msg_size'] or 64)}-byte text messages, one in flight per connection, "
           f"1 worker (node: 1 thread), median of {int(ws[0]['runs'])}", ""]
    lines = []
    for conns in sorted({r["connections"] for r in ws}):
        o, n = dict(connections=conns, server=OURS), dict(connections=conns, server="node-ws")
        so, sn = stat(ws, "rps", **o), stat(ws, "rps", **n)
        ro, rn = (so or {}).get("med"), (sn or {}).get("med")
        p50o, p50n = med(ws, "p50_us", **o), med(ws, "p50_us", **n)
        p99o, p99n = med(ws, "p99_us", **o), med(ws, "p99_us", **n)
        co, cn = med(ws, "cpu_us_per_req", **o), med(ws, "cpu_us_per_req", **n)
        lines.append([int(conns), f"{f_rate(ro)} {f_spread(so)}".strip(), f"{f_rate(rn)} {f_spread(sn)}".strip(),
                      f_ratio(ratio(ro, rn)), f_us(p50o), f_us(p50n), f_us(p99o), f_us(p99n),
                      f_ratio(ratio(p99o, p99n)), f_cpu(co), f_cpu(cn), f_ratio(ratio(co, cn))])
    out += [table(["conns", "ours msg/s", "node msg/s", "ratio", "ours p50", "node p50", "ours p99", "node p99",
                   "p99 ratio", "ours µs/msg", "node µs/msg", "ratio"], lines), ""]
    return out


# [snippet: bench-latency-held]
HELD_SHARE = 0.95  # a point is held if the server answered at least this share of the offered rate ...


def held_up_to(rows, server, limit_us):
    """The highest offered rate at which `server` held p99 under limit_us, and
    at every lower offered rate too (... with p99 under the limit). None if
    it did not hold even the lowest one."""
    best = None
    for rate in sorted({r["offered_rps"] for r in rows if r["server"] == server}):
        p99, got = med(rows, "p99_us", server=server, offered_rps=rate), med(rows, "rps", server=server,
                                                                              offered_rps=rate)
        if p99 is None or got is None or p99 >= limit_us or got < HELD_SHARE * rate:
            break
        best = rate
    return best
# [end: bench-latency-held]


def latency_section(rows):
    lt = [r for r in rows if r["series"] == "latency"]
    if not lt:
        return []
    pinned = "server pinned to CPU 0, `openloop` on CPU 1" if lt[0]["pinned"] else "unpinned"
    out = [f"## Open-loop latency: 1 worker each, {pinned}, {int(lt[0]['connections'])} connections, "
           f"/plaintext keep-alive, constant offered rates; latency from each request's intended send time", ""]
    peaks = []
    for server in (OURS, "nginx"):
        p = med(lt, "peak_rps", server=server)
        if p is not None:
            peaks.append(f"{server} {f_rate(p)} req/s")
    if peaks:
        out += ["Closed-loop maximum (`wrk`, the sweep's 100% is the larger): " + ", ".join(peaks), ""]
    lines = []
    for rate in sorted({r["offered_rps"] for r in lt}):
        pct = med(lt, "load_pct", offered_rps=rate)
        line = [f"{pct:.0f}%" if pct is not None else "-", f_rate(rate)]
        for server in (OURS, "nginx"):
            m = dict(server=server, offered_rps=rate)
            line += [f_rate(med(lt, "rps", **m)), f_us(med(lt, "p50_us", **m)), f_us(med(lt, "p99_us", **m)),
                     f_us(med(lt, "p999_us", **m))]
        lines.append(line)
    out += [table(["load", "offered req/s", "ours answered/s", "ours p50", "ours p99", "ours p99.9",
                   "nginx answered/s", "nginx p50", "nginx p99", "nginx p99.9"], lines), ""]
    lines = []
    for limit_us, label in ((1000, "1 ms"), (10000, "10 ms")):
        a, c = held_up_to(lt, OURS, limit_us), held_up_to(lt, "nginx", limit_us)
        lines.append([f"highest offered rate held with p99 < {label}", f_rate(a), f_rate(c), f_ratio(ratio(a, c))])
    out += [table(["figure", OURS, "nginx", "ratio"], lines), ""]
    out += [f"A rate is held when p99 stays under the limit and the server answers at least "
            f"{HELD_SHARE:.0%} of it, there and at every lower offered rate.", ""]
    unfinished = {s: int(sum(r["unfinished"] or 0 for r in lt if r["server"] == s)) for s in (OURS, "nginx")}
    if any(unfinished.values()):
        out += ["Requests still unanswered when a run ended (past saturation; counted in the percentiles at "
                "the time they had waited): " + ", ".join(f"{k} {v:,}" for k, v in unfinished.items()), ""]
    return out


# ---- plots -----------------------------------------------------------------

def num(v, scale=1.0):
    return "NaN" if v is None else f"{v * scale:.6g}"


def triple(rows, metric, scale=1.0, **match):
    s = stat(rows, metric, **match)
    return ["NaN"] * 3 if not s else [num(s["med"], scale), num(s["min"], scale), num(s["max"], scale)]


def write_dat(path, header, lines):
    with open(path, "w") as f:
        f.write("# " + " ".join(header) + "\n")
        for line in lines:
            f.write(" ".join(str(c) for c in line) + "\n")


def dat_files(rows, d):
    """Writes the tables the .gp scripts plot; returns the names of the plots that have data."""
    have = []
    h = [r for r in rows if r["series"] == "headline"]
    if h:
        lines = []
        for p in dict.fromkeys(r["point"] for r in h):
            kind = p.rsplit("-c", 1)[0]
            label = {"plaintext-ka": "keep-alive", "plaintext-close": "close", "page-ka": "page"}.get(kind, kind)
            # The one target the headline has: CPU per request within 1.05x of
            # the epoll floor's (work_targets), drawn in nginx's terms.
            floor_q = ratio(med(h, "cpu_us_per_req", point=p, server=FLOORS["epoll"]),
                            med(h, "cpu_us_per_req", point=p, server="nginx"))
            cpu_target = {kind: 1.05 * floor_q} if floor_q is not None and kind.startswith("plaintext") else {}
            for metric, mname, target in (("rps", "req/s", {}), ("p99_us", "p99", {}),
                                          ("cpu_us_per_req", "CPU/req", cpu_target)):
                a = med(h, metric, point=p, server=OURS)
                b = med(h, metric, point=p, server="nginx")
                q = ratio(a, b)
                t = target.get(kind)
                better = q is not None and t is not None and (q >= t if metric == "rps" else q <= t)
                color = "0x1f77b4" if t is None or q is None else ("0x2ca02c" if better else "0xd62728")
                lines.append([f'"{label}\\n{mname}"', num(q), num(t), color])
            for backend, floor in FLOORS.items():  # grey: the floors' CPU/request, for scale
                q = ratio(med(h, "cpu_us_per_req", point=p, server=floor), med(h, "cpu_us_per_req", point=p,
                                                                               server="nginx"))
                if q is not None:
                    shown = floor.replace("_", "\\\\_")  # not a subscript in gnuplot's enhanced text
                    lines.append([f'"{label}\\n{shown}\\nCPU/req"', num(q), "NaN", "0x7f7f7f"])
        write_dat(os.path.join(d, "headline.dat"), ["label", "ratio", "target", "color"], lines)
        if any(line[1] != "NaN" for line in lines):
            have.append("headline")
    w = [r for r in rows if r["series"] == "workers"]
    if w:
        # One panel per keep-alive connection count and one for close (its smallest count);
        # in each, ours shared, per-core, per-core reuseport, nginx. CSVs from before the
        # per-core executor have the per-core columns NaN.
        close_c = min({r["connections"] for r in w if r["keepalive"] == 0} or {100.0})
        servers = [OURS, PERCORE, PERCORE_RP, "nginx"]
        panels = [(1, c) for c in sorted({r["connections"] for r in w if r["keepalive"] == 1})] + \
                 ([(0, close_c)] if any(r["keepalive"] == 0 for r in w) else [])
        # CPU per request and latency: at the smallest keep-alive count (and close).
        ka_c = min({r["connections"] for r in w if r["keepalive"] == 1} or {100.0})
        cpu_panels = [(1, ka_c)] + panels[-1:] if panels and panels[-1][0] == 0 else [(1, ka_c)]
        ws_ = sorted({r["workers"] for r in w})
        lines, lat, cpu = [], [], []
        for x in ws_:
            line = [int(x)]
            for ka, c in panels:
                for s in servers:
                    line += triple(w, "rps", 1e-3, server=s, keepalive=ka, connections=c, workers=x)
            lines.append(line)
            line = [int(x)]
            for s in (OURS, "nginx"):
                for pc in ("p50_us", "p90_us", "p99_us", "p999_us"):
                    line.append(num(med(w, pc, server=s, keepalive=1, connections=ka_c, workers=x)))
            lat.append(line)
            line = [int(x)]
            for ka, c in cpu_panels:
                for s in servers + [THREAD]:
                    line += triple(w, "cpu_us_per_req", 1, server=s, keepalive=ka, connections=c, workers=x)
            cpu.append(line)
        write_dat(os.path.join(d, "workers.dat"), ["workers"] + [f"{s}-{'ka' if ka else 'close'}-c{int(c)}(med,min,max)"
                                                                 for ka, c in panels for s in servers], lines)
        write_dat(os.path.join(d, "latency.dat"), ["workers", "ours p50 p90 p99 p999", "nginx p50 p90 p99 p999"], lat)
        write_dat(os.path.join(d, "cpu.dat"), ["workers", "keep-alive then close: shared per-core per-core-reuseport "
                                               "nginx thread (med,min,max)"], cpu)
        cores = int(float(w[0].get("cores") or 0))
        how = (f"pinned: server on cores 0..N-1, wrk on the other {'core' if cores == 2 else 'cores'} of {cores}"
               if w[0]["pinned"] else "unpinned, wrk -t1")
        titles = [f"keep-alive, {int(c)} connections" if ka else f"Connection: close, {int(c)} connections"
                  for ka, c in panels]
        with open(os.path.join(d, "workers-info.gp"), "w") as f:
            f.write(f"pinning = {gp_quote(how)}\nclose_conns = {int(close_c)}\nnpanels = {len(panels)}\n"
                    f"array panel_title[{len(panels)}] = [{', '.join(gp_quote(t) for t in titles)}]\n"
                    f"ka_conns = {int(ka_c)}\ncpu_panels = {len(cpu_panels)}\n")
        have += ["rps-vs-workers", "latency-vs-workers", "cpu-per-request"]
    rr = [r for r in rows if r["series"] == "reactor"]
    if rr:
        lines = []
        for idle in sorted({r["idle_conns"] for r in rr}):
            line = [int(idle)]
            for match in (dict(server=OURS, reactor="epoll"), dict(server=OURS, reactor="ppoll"), dict(server="nginx"),
                          dict(server=URING)):
                line += triple(rr, "rps", 1e-3, idle_conns=idle, **match)
                line += triple(rr, "cpu_us_per_req", 1, idle_conns=idle, **match)
            lines.append(line)
        write_dat(os.path.join(d, "reactor.dat"), ["idle", "epoll(rps3,cpu3) ppoll(...) nginx(...) io_uring(...)"], lines)
        have.append("reactor-idle")
    sc = [r for r in rows if r["series"] == "syscalls"]
    if sc and any(r.get("syscalls_per_req") not in (None, "") for r in sc):
        lines = []
        for c in sorted({r["connections"] for r in sc}):
            line = [int(c)]
            for match in (dict(server=OURS, reactor="epoll"), dict(server=OURS, reactor="ppoll"), dict(server=URING),
                          dict(server="nginx")):
                line += triple(sc, "syscalls_per_req", 1, connections=c, **match)
            lines.append(line)
        write_dat(os.path.join(d, "syscalls.dat"), ["conns", "epoll(med,min,max) ppoll(...) io_uring(...) nginx(...)"],
                  lines)
        have.append("syscalls-per-request")
    ws = [r for r in rows if r["series"] == "ws"]
    if ws:
        lines = []
        for c in sorted({r["connections"] for r in ws}):
            line = [int(c)]
            for s in (OURS, "node-ws"):
                line += triple(ws, "rps", 1e-3, server=s, connections=c)
                line += [num(med(ws, "p50_us", server=s, connections=c)), num(med(ws, "p99_us", server=s, connections=c)),
                         num(med(ws, "cpu_us_per_req", server=s, connections=c))]
            lines.append(line)
        write_dat(os.path.join(d, "ws.dat"), ["conns", "ours(rate3,p50,p99,cpu) node(...)"], lines)
        have.append("ws-echo")
    pr = [r for r in rows if r["series"] == "pipelined"]
    if pr:
        # One block per connection count (gnuplot's index), one line per depth:
        # for each server of PIPELINED, req/s (k; med,min,max) and CPU µs/request (med,min,max).
        with open(os.path.join(d, "pipelined.dat"), "w") as f:
            f.write("# depth, then per server " + ", ".join(label for label, _ in PIPELINED) +
                    ": krps(med,min,max) cpu_us(med,min,max); one block per connection count\n")
            for conns in sorted({r["connections"] for r in pr}):
                f.write(f"# connections {int(conns)}\n")
                for depth in sorted({r["depth"] for r in pr if r["connections"] == conns}):
                    line = [int(depth)]
                    for _, match in PIPELINED:
                        line += triple(pr, "rps", 1e-3, connections=conns, depth=depth, **match)
                        line += triple(pr, "cpu_us_per_req", 1, connections=conns, depth=depth, **match)
                    f.write(" ".join(str(c) for c in line) + "\n")
                f.write("\n\n")
        with open(os.path.join(d, "pipelined-conns.gp"), "w") as f:
            f.write("conns = '" + " ".join(str(int(c)) for c in sorted({r["connections"] for r in pr})) + "'\n")
        have.append("pipelined")
    lt = [r for r in rows if r["series"] == "latency"]
    if lt:
        lines = []
        for rate in sorted({r["offered_rps"] for r in lt}):
            line = [num(rate, 1e-3)]
            for s in (OURS, "nginx"):
                line += [num(med(lt, pc, server=s, offered_rps=rate)) for pc in ("p50_us", "p99_us", "p999_us")]
                line.append(num(med(lt, "rps", server=s, offered_rps=rate), 1e-3))
            lines.append(line)
        write_dat(os.path.join(d, "latency-openloop.dat"),
                  ["offered_k", "ours(p50,p99,p999 us; answered k/s)", "nginx(...)"], lines)
        have.append("latency-openloop")
    return have


def gp_quote(s):
    return "'" + str(s).replace("'", "''") + "'"


# [snippet: bench-draw-plots]
def plots(csv_path, out_dir):
    """Draws every plot the CSV has data for, as PNG and SVG; returns the files."""
    if not shutil.which("gnuplot"):
        raise SystemExit("bench: gnuplot not found; install it with scripts/setup.sh bench")
    rows = load(csv_path)
    if not rows:
        raise SystemExit(f"bench: {csv_path} has no rows")
    work = os.path.join(ROOT, "build", "bench", "plotdata", os.path.basename(os.path.realpath(csv_path))[:-4])
    os.makedirs(work, exist_ok=True)
    os.makedirs(out_dir, exist_ok=True)
    m = rows[0]
    machine = f"{m['cpu_model']}, {m['cores']} cores, Linux {m['kernel']}, commit {m['commit']}, {m['date'][:10]}"
    drawn = []
    for name in dat_files(rows, work):
        for fmt in ("png", "svg"):
            out = os.path.join(out_dir, f"{name}.{fmt}")
            setup = (f"datadir={gp_quote(work)}; out={gp_quote(out)}; fmt={gp_quote(fmt)}; "
                     f"machine={gp_quote(machine)}; nginx={gp_quote('nginx ' + m['nginx_version'])}; "
                     f"gpdir={gp_quote(GP_DIR)}")
            r = subprocess.run(["gnuplot", "-e", setup, os.path.join(GP_DIR, f"{name}.gp")],
                               capture_output=True, text=True, timeout=60)
            noise = [line for line in r.stderr.splitlines() if line.strip() and "warning" not in line.lower()]
            if r.returncode != 0 or noise:
                raise SystemExit(f"bench: gnuplot failed on {name}.gp:\n{r.stderr}")
            drawn.append(out)
    return drawn
# [end: bench-draw-plots]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("what", choices=["summary", "plots"])
    ap.add_argument("csv", nargs="?", default=os.path.join(ROOT, "results", "latest.csv"))
    ap.add_argument("--out", default=os.path.join(ROOT, "plots"))
    args = ap.parse_args()
    if not os.path.exists(args.csv):
        sys.exit(f"bench: no CSV at {args.csv}; run `make bench` (or `make bench-quick`) first")
    if args.what == "summary":
        print(summary(load(args.csv)))
    else:
        for p in plots(args.csv, args.out):
            print(f"bench: wrote {os.path.relpath(p, ROOT)}")


if __name__ == "__main__":
    main()
