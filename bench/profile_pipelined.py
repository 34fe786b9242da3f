#!/usr/bin/env python3
"""profile_pipelined.py: where a pipelined request's CPU goes, ours vs the epoll floor (perf): `make bench-profile`.

    python3 bench/profile_pipelined.py [--server BIN] [--depth 16] [--conns 100] [--duration 8]
                                       [--freq 2000] [--results DIR] [--command TEXT]

Starts our server (1 worker, --reactor=epoll) and bench/floor/floor_epoll,
both pinned to CPU 0, and drives each with build/bench/pipeline_load
(DEPTH requests per write, CONNS connections) pinned to CPU 1. Each server
gets a warm-up, one run without perf (its CPU per request as the bench
measures it) and one run under

    perf record -e cpu-clock -F FREQ -p PID

(perf itself on CPU 1 too). The samples are split into kernel and user
space by address, and our user-space samples into groups by the name of the
function they land in (GROUPS below: the one table of rules; the first that
matches wins). Each part is given as a share of the server's samples and as
nanoseconds per request: that share of the server's CPU time across the
profiled run (/proc/PID/stat) over the requests the load generator counted.

No call graph: our server is static, freestanding and built without frame
pointers, so perf can unwind neither its frame pointers (there are none) nor
its DWARF call frames (perf does not unwind a static binary's), and a
sample's user-space caller is unknown. Self time it is: a sample counts for
the function it lands in. The small shared helpers (memcpy, memcmp, strlen)
are charged in GROUPS to the part whose functions call them on this path;
the results list each helper's callers in the binary (objdump -d) that also
had samples of their own, so the charge can be checked.

Needs perf (linux-perf) and objdump. Kernel samples of a process of one's
own need kernel.perf_event_paranoid <= 1, or root. The event is cpu-clock (a
timer), which works in a VM without hardware counters; its samples in the
kernel pile up where interrupts are enabled again (_raw_spin_unlock_irqrestore),
so kernel functions are not broken down here, only the kernel's total.
Each sample costs the server a timer interrupt (in a VM, a trip through the
hypervisor too), which is why the rate is a modest 2000 a second and the
results give the CPU per request without perf beside the one under it.

Writes results/profile-pipelined-<date>-<host>-<commit>.md and .csv (one row
per server and part), with the machine's load average before and after and
other processes' share of the machine during each run.
"""
import argparse
import csv
import datetime
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ folders in bench/
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from servers import ROOT, BenchError, Floor, Ours, check_same_answers, ensure_floor, tool  # noqa: E402
from loads import ensure_pipeline_load, measured, pipeline_load  # noqa: E402
from run import default_server, machine, raise_fd_limit  # noqa: E402

# [snippet: profile-groups]
# Our user-space functions by part: (key, label, names). A function belongs
# to the first group whose regex matches its whole name (a compiler suffix
# such as .part.0 or .isra.0 dropped); anything else is "other". The helpers
# memcpy, strlen, memcmp and sys_memeq_nocase are shared: on this path only
# the response writer (http_head_write, http_respond, http_date_now) calls
# memcpy and strlen, and only the router memcmp and sys_memeq_nocase; ex_now_ns,
# the worker's cached clock, is read once per request for the Date and once
# per batch by the connection task.
GROUPS = [
    ("parse", "parse the request head",
     r"http_parse_request|scan_\w+|valid_host|http_find_header|http_name_eq|http_list_has_token"
     r"|http_should_reparse|http_body_\w+|http_chunked_\w+|sys_parse_u64"),
    ("route", "route (target, table, handler)",
     r"http_route\w*|target_path|plaintext|page|http_allow_field|(sys_)?memcmp|sys_memeq_nocase"),
    ("respond", "respond: head, Date, body copy",
     r"http_respond|http_head_write|put_str|http_date_\w+|format_now|publish|http_reason_phrase|sys_fmt_u64"
     r"|answer|answer_error|http_reply_error|http_error_reply|ex_now_ns|(sys_)?memcpy|(sys_)?strlen"),
    ("metrics", "metrics and the log call",
     r"http_metric\w*|my_row|http_log\w*"),
    ("conn", "connection task and socket calls",
     r"conn_poll|conn_drop|http_answer_requests|http_lifecycle_\w+|http_deadline_\w+|http_out_sent|http_accept"
     r"|net_(recv|send|send_\w+|stream_\w+|close|shutdown_write)|ready_\w+"),
    ("exec", "executor, scheduler, reactor",
     r"sched_\w+|ex_\w+|worker_main|poll_reactor|epoll_\w+|ppoll_\w+|uring_\w+|kick_\w+|timer_\w+|enqueue"
     r"|spawn|notify|should_exit|reap_all|submit|enter|arm_kick|completion_\w+|thread_entry|sys_now_ns|__vdso_\w+"),
    ("memory", "memory: allocator, buffer pool, memset",
     r"mem_\w+|cache_\w+|net_buf_\w+|(sys_)?memset|(sys_)?memmove"),
]
# [end: profile-groups]
OTHER = ("other", "other")
HELPERS = ("memcpy", "memcmp", "strlen", "memeq_nocase", "memset", "memmove", "ex_now_ns")
KERNEL_MIN = 0xFFFF800000000000  # x86_64: kernel addresses are the upper half

COLUMNS = ["date", "host", "commit", "cpu_model", "cores", "kernel", "loadavg_before", "loadavg_after",
           "server", "server_args", "depth", "connections", "duration_s", "freq_hz", "requests", "rps",
           "cpu_s", "cpu_us_per_req", "cpu_us_per_req_no_perf", "other_cpu_pct", "samples",
           "part", "label", "part_samples", "pct_of_samples", "pct_of_user", "ns_per_req"]


def group_of(fn):
    base = re.sub(r"(\.(part|isra|constprop|cold|lto_priv)(\.\d+)?)+$", "", fn)
    for key, label, rx in GROUPS:
        if re.fullmatch(rx, base):
            return key, label
    return OTHER


def check_perf():
    """perf must be there and allowed to sample the kernel side of our servers."""
    perf = tool("perf", "apt-get install linux-perf")
    tool("objdump", "binutils")
    with open("/proc/sys/kernel/perf_event_paranoid") as f:
        paranoid = int(f.read())
    if paranoid > 1 and os.geteuid() != 0:
        raise BenchError(f"kernel.perf_event_paranoid is {paranoid}: sampling the kernel side of a process "
                         f"needs 1 or less (sysctl kernel.perf_event_paranoid=1), or root")
    return perf, paranoid


def check_binary(path):
    """Our server is static and freestanding: its symbols must be there (`nm`), and no libc."""
    syms = subprocess.run(["nm", path], capture_output=True, text=True).stdout
    funcs = {line.split()[2] for line in syms.splitlines() if len(line.split()) == 3 and line.split()[1] in "tT"}
    missing = [f for f in ("http_parse_request", "http_respond", "sched_run_one") if f not in funcs]
    if missing:
        raise BenchError(f"{path} has no symbols for {', '.join(missing)} (stripped?): perf could name nothing")
    undefined = subprocess.run(["nm", "-u", path], capture_output=True, text=True).stdout.split()
    heads = subprocess.run(["readelf", "-lW", path], capture_output=True, text=True).stdout
    if undefined or "INTERP" in heads or "DYNAMIC" in heads:
        raise BenchError(f"{path} is not static and freestanding (undefined: {undefined[:5]})")
    return funcs


def stale_rules(funcs):
    """Rules that match no function of the binary: renamed code the table missed."""
    return [key for key, _, rx in GROUPS if not any(re.fullmatch(rx, f) for f in funcs)]


def callers(path):
    """{callee: {caller, ...}} for direct calls and tail calls in the binary."""
    out = {}
    fn = None
    dis = subprocess.run(["objdump", "-d", "--no-show-raw-insn", path], capture_output=True, text=True).stdout
    for line in dis.splitlines():
        m = re.match(r"^[0-9a-f]+ <(.+)>:$", line)
        if m:
            fn = m.group(1)
            continue
        m = re.search(r"\s(?:call|jmp)\s+[0-9a-f]+ <([^+>]+)>", line)
        if m and fn:
            out.setdefault(m.group(1), set()).add(fn)
    return out


def profiled(perf, pid, data, freq, cpu, load):
    """Runs load() while perf samples every thread of pid on the cpu-clock
    timer; perf itself runs on the load generator's CPU, not the server's."""
    cmd = ([tool("taskset", "util-linux"), "-c", str(cpu)] if cpu is not None else []) + \
        [perf, "record", "-e", "cpu-clock", "-F", str(freq), "-p", str(pid), "-o", data]
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    time.sleep(0.5)  # perf attaches to every thread before the load starts
    try:
        result = load()
    finally:
        p.send_signal(signal.SIGINT)
        err = p.communicate(timeout=60)[1]
    if p.returncode not in (0, -signal.SIGINT) or not os.path.exists(data):
        raise BenchError(f"perf record failed (status {p.returncode}): {' '.join(cmd)}\n{err[-800:]}")
    return result


def samples(perf, data):
    """[(function, dso, is_kernel, period in ns)] for every sample of the recording."""
    r = subprocess.run([perf, "script", "-i", data, "-F", "period,ip,sym,dso", "--no-inline"],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise BenchError(f"perf script failed:\n{r.stderr[-800:]}")
    out = []
    for line in r.stdout.splitlines():
        m = re.match(r"^\s*(\d+)\s+([0-9a-f]+)\s+(.*?)\s+\((.*)\)\s*$", line)
        if m:
            ip, sym, dso = int(m.group(2), 16), m.group(3), m.group(4)
            out.append((sym, dso, ip >= KERNEL_MIN or dso.startswith("[kernel"), int(m.group(1))))
    return out


def on_sigterm(signum, frame):
    raise KeyboardInterrupt


def functions(smp):
    """{(function, dso): samples} of the user-space samples."""
    out = {}
    for sym, dso, kern, _ in smp:
        if not kern:
            out[(sym, dso)] = out.get((sym, dso), 0) + 1
    return out


def loadavg():
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--server", default=default_server(), help="our server binary")
    ap.add_argument("--depth", type=int, default=16)
    ap.add_argument("--conns", type=int, default=100)
    ap.add_argument("--duration", type=int, default=8, help="seconds of load per run")
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--freq", type=int, default=2000, help="samples per second of the server's CPU time")
    ap.add_argument("--results", default=os.path.join(ROOT, "results"))
    ap.add_argument("--command", default="", help="the command line to quote in the results")
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, on_sigterm)  # make or a timeout: unwind, so the servers are stopped
    if not os.access(args.server, os.X_OK):
        sys.exit(f"profile: no server binary at {args.server}; build it with `make`")
    try:
        perf, paranoid = check_perf()
        funcs = check_binary(args.server)
    except BenchError as e:
        sys.exit(f"profile: {e}")
    raise_fd_limit()
    gen = ensure_pipeline_load()
    floor_bin = ensure_floor("epoll")
    pinned = (os.cpu_count() or 1) >= 2 and subprocess.run(
        [tool("taskset", "util-linux"), "-c", "0", "true"], capture_output=True).returncode == 0
    cpu, load_cpu = (0, 1) if pinned else (None, None)
    mach = machine()
    before = loadavg()
    tmp = tempfile.mkdtemp(prefix="profile-", dir=os.path.join(ROOT, "build", "bench"))
    server_bin = os.path.join(tmp, "async-nostd")  # a private copy: a rebuild must not swap it mid-run
    shutil.copy2(args.server, server_bin)
    print(f"profile: {mach['cpu_model']}, {mach['cores']} cores, Linux {mach['kernel']}; commit {mach['commit']}; "
          f"load average {before}; pinning {'server CPU 0, load and perf CPU 1' if pinned else 'off'}", flush=True)

    servers = []
    runs = {}
    try:
        servers = [Ours(tmp, server_bin, workers=1, cpu=cpu, reactor="epoll").start(),
                   Floor(tmp, "epoll", cpu=cpu, binary=floor_bin).start()]
        check_same_answers(servers[0], servers[1], ["/plaintext"])

        def load(s):
            return pipeline_load(gen, s.port, args.conns, args.depth, args.duration, cpu=load_cpu)
        for s in servers:
            pipeline_load(gen, s.port, args.conns, args.depth, args.warmup, cpu=load_cpu)
        for s in servers:  # without perf: the CPU per request the bench would report
            r = measured(s, lambda: load(s))
            runs[s.kind] = {"plain": r}
            print(f"profile: {s.kind} without perf: {r['rps']:,.0f} req/s, {r['cpu_us_per_req']} CPU µs/request",
                  flush=True)
        for s in servers:
            data = os.path.join(tmp, f"{s.kind}.data")
            r = measured(s, lambda: profiled(perf, s.proc.pid, data, args.freq, load_cpu, lambda: load(s)))
            runs[s.kind].update(prof=r, samples=samples(perf, data), args=s.args_text())
            print(f"profile: {s.kind} under perf: {r['rps']:,.0f} req/s, {r['cpu_us_per_req']} CPU µs/request, "
                  f"{len(runs[s.kind]['samples'])} samples", flush=True)
    except BenchError as e:
        sys.exit(f"profile: {e}")
    finally:
        for s in servers:
            s.stop()
    after = loadavg()
    calls = callers(args.server)
    shutil.rmtree(tmp, ignore_errors=True)

    stem = f"profile-pipelined-{datetime.datetime.now():%Y%m%d-%H%M%S}-{mach['host']}-{mach['commit']}"
    os.makedirs(args.results, exist_ok=True)
    rows, parts = [], {}
    for kind, run in runs.items():
        smp, prof = run["samples"], run["prof"]
        n = len(smp) or 1
        ns_total = prof["cpu_s"] * 1e9 / prof["requests"] if prof["requests"] else 0.0
        user = [x for x in smp if not x[2]]
        counts = [("all", "all of the server's CPU", len(smp)), ("kernel", "kernel", len(smp) - len(user)),
                  ("user", "user space", len(user))]
        if kind.startswith("async-nostd"):
            by = {}
            for sym, _, _, _ in user:
                by[group_of(sym)] = by.get(group_of(sym), 0) + 1
            counts += [(k, label, by.get((k, label), 0)) for k, label, _ in GROUPS]
            counts.append(OTHER + (by.get(OTHER, 0),))
        parts[kind] = {}
        for key, label, c in counts:
            row = dict(mach, loadavg_before=before, loadavg_after=after, server=kind, server_args=run["args"],
                       depth=args.depth, connections=args.conns, duration_s=args.duration, freq_hz=args.freq,
                       requests=prof["requests"], rps=round(prof["rps"]), cpu_s=prof["cpu_s"],
                       cpu_us_per_req=prof["cpu_us_per_req"], cpu_us_per_req_no_perf=run["plain"]["cpu_us_per_req"],
                       other_cpu_pct=prof["other_cpu_pct"], samples=len(smp), part=key, label=label,
                       part_samples=c, pct_of_samples=round(100 * c / n, 1),
                       pct_of_user=round(100 * c / len(user), 1) if user and key not in ("all", "kernel") else "",
                       ns_per_req=round(ns_total * c / n))
            rows.append(row)
            parts[kind][key] = row
    csv_path = os.path.join(args.results, stem + ".csv")
    with open(csv_path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    md_path = os.path.join(args.results, stem + ".md")
    with open(md_path, "w") as f:
        f.write(report(args, mach, paranoid, before, after, runs, parts, funcs, calls, pinned,
                       os.path.basename(csv_path)))
    print(open(md_path).read())
    print(f"profile: {os.path.relpath(md_path, ROOT)}, {os.path.relpath(csv_path, ROOT)}")


def report(args, mach, paranoid, before, after, runs, parts, funcs, calls, pinned, csv_name):
    ours, floor = [k for k in runs if k.startswith("async-nostd")][0], [k for k in runs if k.startswith("floor")][0]
    command = args.command or "python3 bench/profile_pipelined.py"
    L = [f"# Pipelined profile: {ours} against {floor} ({mach['date']})", "",
         f"- command: `{command}`",
         f"- machine: {mach['cpu_model']}, {mach['cores']} cores, Linux {mach['kernel']} (host {mach['host']})",
         f"- commit: {mach['commit']}",
         f"- load average (1, 5, 15 min) before: {before}; after: {after}",
         f"- servers: {ours} {runs[ours]['args']}; {floor} (bench/floor/floor_epoll.c)",
         f"- load: build/bench/pipeline_load -c {args.conns} -D {args.depth} -d {args.duration} /plaintext"
         + (" on CPU 1; each server (1 worker) on CPU 0" if pinned else ", unpinned"),
         f"- perf: perf record -e cpu-clock -F {args.freq} -p PID (on CPU 1); perf_event_paranoid {paranoid}"
         f"{' (run as root)' if os.geteuid() == 0 else ''}; no call graph (self time: see bench/profile_pipelined.py)",
         f"- data: {csv_name}", "",
         "## The runs", "",
         "| server | requests | req/s | CPU s | CPU µs/request | CPU µs/request without perf | samples | "
         "sampled CPU s | other processes' share of the machine |",
         "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for k in (ours, floor):
        p, q = runs[k]["prof"], runs[k]["plain"]
        sampled = sum(x[3] for x in runs[k]["samples"]) / 1e9  # cpu-clock periods: a cross-check of CPU s
        L.append(f"| {k} | {p['requests']:,} | {p['rps']:,.0f} | {p['cpu_s']} | {p['cpu_us_per_req']} | "
                 f"{q['cpu_us_per_req']} | {len(runs[k]['samples']):,} | {sampled:.3f} | {p['other_cpu_pct']}% |")
    L += ["", "## Where a request's CPU goes", "",
          "Shares of each server's samples; ns/request is that share of its CPU time over the requests.", "",
          f"| part | {ours} % | {ours} ns/request | {floor} % | {floor} ns/request |", "|---|---:|---:|---:|---:|"]
    for key, label, _ in [("all", "", ""), ("kernel", "", ""), ("user", "", "")] + GROUPS + [OTHER + ("",)]:
        a, b = parts[ours].get(key), parts[floor].get(key)
        name = a["label"] if key in ("all", "kernel", "user") else f"user: {a['label']}"
        L.append(f"| {name} | {a['pct_of_samples']} | {a['ns_per_req']} | "
                 f"{b['pct_of_samples'] if b else ''} | {b['ns_per_req'] if b else ''} |")
    by_fn = functions(runs[ours]["samples"])
    for k, top in ((ours, None), (floor, 12)):
        smp, prof = runs[k]["samples"], runs[k]["prof"]
        n, ns = len(smp) or 1, prof["cpu_s"] * 1e9 / max(1, prof["requests"])
        fns = sorted(functions(smp).items(), key=lambda kv: -kv[1])
        L += ["", f"## {k}: the user-space functions with samples" + (f" (the first {top})" if top else ""), "",
              "| function | part | % of samples | ns/request |", "|---|---|---:|---:|"]
        for (sym, dso), c in fns[:top]:
            part = group_of(sym)[0] if k == ours else os.path.basename(dso)
            L.append(f"| {sym} | {part} | {100 * c / n:.2f} | {ns * c / n:.1f} |")
    by_fn = {sym: c for (sym, _), c in by_fn.items()}
    L += ["", "## The shared helpers and their callers", "",
          "Callers in the binary (objdump -d) that had samples of their own in this profile:", ""]
    for h in HELPERS:
        who = sorted(c for c in calls.get(h, set()) | calls.get("sys_" + h, set()) if c in by_fn)
        for name in (h, "sys_" + h):
            if name in by_fn:
                L.append(f"- {name} ({by_fn[name]} samples, charged to {group_of(name)[0]}): "
                         f"{', '.join(who) or 'none'}")
    stale = stale_rules(funcs)
    L += ["", "## The rules", "",
          "From GROUPS in bench/profile_pipelined.py; the first that matches a function's whole name wins."
          + (f" Rules that match no function of the binary: {', '.join(stale)}." if stale else ""), "",
          "| part | what | functions |", "|---|---|---|"]
    for key, label, rx in GROUPS:
        L.append(f"| {key} | {label} | `{rx.replace('|', chr(92) + '|')}` |")
    return "\n".join(L) + "\n"


if __name__ == "__main__":
    main()
