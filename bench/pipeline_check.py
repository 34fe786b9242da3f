#!/usr/bin/env python3
"""pipeline_check.py: the pipelining load generator counts right (a few seconds; bench/smoke.py runs it).

    python3 bench/pipeline_check.py [--server BIN]

Builds build/bench/pipeline_load and runs it with -n (a fixed number of
batches per connection) against the floor server floor_epoll, our server
(with --server) and small servers written here that each count the requests
they receive: one that cuts its responses into pieces at arbitrary bytes and
varies the body length and the header's case, one that answers 404, one that
closes every connection after a few answers, and one that answers each batch
with a response too many. The generator must count exactly the complete
responses, and report each fault as its kind of error. Prints one
[OK]/[FAIL]/[SKIP] line per check; exits 0 iff none fails.
"""
import argparse
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True
BENCH = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, BENCH)
import report  # noqa: E402
from loads import ensure_pipeline_load  # noqa: E402
from servers import HOST, BenchError, Checks, ensure_floor, free_port  # noqa: E402


class FakeServer:
    """A threaded HTTP/1.1 responder for one fault: it counts the request
    heads it receives and answers each as `mode` says."""

    def __init__(self, mode):
        self.mode = mode
        self.received = 0
        self.lock = threading.Lock()
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((HOST, 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.stopping = False
        threading.Thread(target=self.accept_loop, daemon=True).start()

    def response(self, i):
        if self.mode == "404":
            return b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nNot Found"
        body = b"x" * (i % 7 * 300)  # 0 to 1,800 bytes: lengths vary within a batch
        name = (b"content-length", b"Content-Length", b"CONTENT-LENGTH")[i % 3]
        return b"HTTP/1.1 200 OK\r\nServer: fake\r\n" + name + b": " + str(len(body)).encode() + \
            b"\r\nContent-Type: text/plain\r\n\r\n" + body

    def serve(self, conn):
        rng = random.Random(conn.fileno())
        buf, answered = b"", 0
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            while True:
                data = conn.recv(65536)
                if not data:
                    return
                buf += data
                out = b""
                while b"\r\n\r\n" in buf:
                    _, buf = buf.split(b"\r\n\r\n", 1)
                    with self.lock:
                        self.received += 1
                    out += self.response(answered)
                    answered += 1
                    if self.mode == "extra" and answered % 4 == 0:
                        out += self.response(answered)  # an answer to nothing
                    if self.mode == "close" and answered == 5:
                        conn.sendall(out)  # the 5th answer, then the connection ends
                        return
                if self.mode == "split":
                    # Arbitrary cuts with a pause between: heads and bodies
                    # arrive in pieces, several responses share a piece.
                    while out:
                        k = rng.randint(1, 200)
                        conn.sendall(out[:k])
                        out = out[k:]
                        time.sleep(0.0005)
                else:
                    conn.sendall(out)
        except OSError:
            pass
        finally:
            conn.close()

    def accept_loop(self):
        while not self.stopping:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(conn,), daemon=True).start()

    def stop(self):
        self.stopping = True
        self.sock.close()


def run_load(binary, port, conns, depth, batches, duration=10):
    r = subprocess.run([binary, "-c", str(conns), "-D", str(depth), "-n", str(batches), "-d", str(duration),
                        HOST, str(port)], capture_output=True, text=True, timeout=duration + 20)
    try:
        return json.loads(r.stdout), r.returncode
    except ValueError:
        return {"stdout": r.stdout, "stderr": r.stderr}, r.returncode


def errors(j):
    return sum(j.get(k, 0) for k in ("err_connect", "err_read", "err_write", "err_status"))


def start(cmd, port):
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    for _ in range(200):
        try:
            socket.create_connection((HOST, port), timeout=1).close()
            return p
        except OSError:
            time.sleep(0.02)
    return p


def stop(p):
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(5)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


def check_exact(check, name, binary, port, conns, depth, batches):
    j, rc = run_load(binary, port, conns, depth, batches)
    want = conns * depth * batches
    check(f"pipeline_load vs {name}: {conns} connections x {batches} batches of {depth}: {want} responses, "
          f"no errors", rc == 0 and j.get("requests") == want and j.get("batches") == conns * batches
          and errors(j) == 0 and j.get("open_at_end") == conns, f"status {rc}: {j}")
    return j


def check_report(check):
    """The summary's pipelined table: CPU per request / nginx's, each core's
    busy share, and a sentence naming the points where the load generator
    was the limit (and only those)."""
    def row(server, depth, rps, cpu_s, gen_s, reactor="epoll"):
        return dict(series="pipelined", point=f"plaintext-d{depth}-c100", server=server, reactor=reactor,
                    connections=100.0, depth=float(depth), pinned=1.0, runs=1.0, rps=rps, elapsed_s=1.0,
                    cpu_s=cpu_s, loadgen_cpu_s=gen_s, cpu_us_per_req=cpu_s * 1e6 / rps, discarded=0.0)
    rows = [row("async-nostd", 16, 800000.0, 0.6, 0.98), row("nginx", 16, 100000.0, 0.95, 0.2),
            row("async-nostd", 1, 100000.0, 0.5, 0.6)]
    text = "\n".join(report.pipelined_section(rows))
    want = ["| 100 | 16 | async-nostd epoll | 800,000 | 0.75 | 0.08x | 60% | 98% |",
            "| 100 | 16 | nginx | 100,000 | 9.50 | 1.00x | 95% | 20% |",
            "at least 90% busy for async-nostd epoll at depth 16, 100 connections:",
            "core was 90% busy for async-nostd epoll at depth 1, 100 connections: "
            "req/s there is bounded by round trips"]
    missing = [w for w in want if w not in text]
    check("report: the pipelined table gives CPU/request / nginx, both cores' busy shares, and names the "
          "generator-bound points", not missing and "nginx at depth" not in text, f"missing {missing} in:\n{text}")
    check("report: a CSV without pipelined runs gets no pipelined table", report.pipelined_section(
        [dict(r, series="headline") for r in rows]) == [], "a table for no pipelined runs")


def run(check, skip, server=None):
    check_report(check)
    try:
        binary = ensure_pipeline_load()
        check("pipeline_load: builds", True)
    except BenchError as e:
        check("pipeline_load: builds", False, str(e))
        return
    try:
        floor = ensure_floor("epoll")
    except BenchError as e:
        floor = None
        check("pipeline_load: floor_epoll builds", False, str(e))
    if floor:
        port = free_port()
        p = start([floor, HOST, str(port)], port)
        try:
            check_exact(check, "floor-epoll", binary, port, 3, 16, 40)
            check_exact(check, "floor-epoll", binary, port, 2, 1, 50)
            j, rc = run_load(binary, port, 4, 4, 0, duration=0.5)
            check("pipeline_load vs floor-epoll: -d 0.5 stops after about half a second with responses counted",
                  rc == 0 and 0.4 < j.get("duration_s", 0) < 1.5 and j.get("requests", 0) > 0
                  and errors(j) == 0, f"status {rc}: {j}")
        finally:
            stop(p)
    if server:
        port = free_port()
        p = start([server, "1", HOST, str(port), "--no-log"], port)
        try:
            check_exact(check, "async-nostd", binary, port, 3, 16, 40)
            check_exact(check, "async-nostd", binary, port, 2, 4, 25)
        finally:
            stop(p)
    else:
        skip("pipeline_load vs async-nostd: no server binary given (--server)")

    fake = FakeServer("split")
    try:
        j = check_exact(check, "responses cut at arbitrary bytes, bodies of 0-1,800 bytes", binary, fake.port,
                        2, 7, 6)
        check("pipeline_load vs the splitting server: the server received as many requests as were counted",
              fake.received == j.get("requests"), f"server received {fake.received}, generator counted {j}")
    finally:
        fake.stop()
    for mode, key, what in (("404", "err_status", "404 answers"), ("close", "err_read", "a server closing "
                            "after 5 answers"), ("extra", "err_status", "an answer nobody asked for")):
        fake = FakeServer(mode)
        try:
            j, rc = run_load(binary, fake.port, 1, 4, 3, duration=1)
            ok = j.get(key, 0) > 0 and j.get("requests", -1) == 4 * j.get("batches", -1)
            if mode == "close":
                # 4 answers complete the first batch; the 5th is one of the
                # next, which the close cuts short: it is not counted, and
                # a new connection takes over.
                ok = ok and j.get("batches", 0) >= 1 and j.get("reconnects", 0) > 0
            else:
                ok = ok and j.get("batches", 0) == 0 and (mode != "404" or rc != 0)
            check(f"pipeline_load vs {what}: counted as {key}, the batch not counted", ok, f"status {rc}: {j}")
        finally:
            fake.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--server", help="our server binary (build/stage-7/bin/async-nostd)")
    args = ap.parse_args()
    check = Checks()
    run(check, check.skip, args.server)
    return 1 if check.failed else 0


if __name__ == "__main__":
    sys.exit(main())
