#!/usr/bin/env python3
"""check.py: the floor servers build and answer like our server's /plaintext (a few seconds; bench/smoke.py runs it).

    python3 bench/floor/check.py [--server BIN]

Checks the summary's floor table on made-up rows, then builds
build/bench/floor_epoll and floor_uring (floor_uring is skipped with
the reason where the kernel refuses io_uring) and checks each: a keep-alive
request answered byte for byte (Date aside) and the connection kept open, a
pipelined pair answered in order, a head split over three sends, a
Connection: close request answered with "Connection: close" and the socket
closed, two requests followed by EOF, EOF in the middle of a head, a port in use and a bad port refused
with a message, and SIGTERM ending the process with status 0. With --server,
the response must also have the length of our server's. Prints one
[OK]/[FAIL]/[SKIP] line per check; exits 0 iff none fails.
"""
import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import time

sys.dont_write_bytecode = True
BENCH = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, BENCH)
sys.path.insert(0, os.path.join(os.path.dirname(BENCH), "src", "net", "tests"))
import report  # noqa: E402
from servers import HOST, BenchError, Checks, ensure_floor, free_port  # noqa: E402
from reactors import uring_refusal  # noqa: E402

GET = b"GET /plaintext HTTP/1.1\r\nHost: bench\r\n\r\n"
GET_CLOSE = b"GET /plaintext HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n"
DATE = rb"[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT"


def answer(server, close=False):
    """The exact response a floor server must give, as a regular expression."""
    return (rb"HTTP/1\.1 200 OK\r\nServer: " + server + rb"\r\nDate: " + DATE +
            rb"\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n" +
            (rb"Connection: close\r\n" if close else b"") + rb"\r\nHello, World!")


def read_n(s, n, timeout=2.0):
    """Reads exactly n bytes (fewer if the peer closes first or goes silent)."""
    s.settimeout(timeout)
    data = b""
    try:
        while len(data) < n:
            chunk = s.recv(n - len(data))
            if not chunk:
                break
            data += chunk
    except OSError as e:
        return data + f" [{e.__class__.__name__}]".encode()
    return data


def read_to_eof(s, timeout=2.0):
    """Reads until the peer closes; a timeout or a reset is appended to the bytes, so no match."""
    s.settimeout(timeout)
    data = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return data
            data += chunk
    except OSError as e:
        return data + f" [{e.__class__.__name__}: no EOF]".encode()


def ours_length(binary):
    """Bytes of our server's keep-alive /plaintext response."""
    port = free_port()
    p = subprocess.Popen([binary, "1", HOST, str(port), "--no-log"], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        for _ in range(100):
            try:
                with socket.create_connection((HOST, port), timeout=1) as s:
                    s.sendall(GET)
                    head = b""
                    while b"\r\n\r\n" not in head:
                        head += s.recv(4096)
                    n = int(re.search(rb"Content-Length: (\d+)", head).group(1))
                    return head.index(b"\r\n\r\n") + 4 + n
            except OSError:
                time.sleep(0.05)
        return None
    finally:
        p.send_signal(signal.SIGTERM)
        p.wait(5)


def check_floor(check, backend, binary, want_len):
    name = f"floor-{backend}"
    server = b"floor-epoll" if backend == "epoll" else b"floor-uring"
    port = free_port()
    p = subprocess.Popen([binary, HOST, str(port)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         start_new_session=True)
    try:
        for _ in range(100):
            try:
                socket.create_connection((HOST, port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.02)
        one = None
        with socket.create_connection((HOST, port), timeout=3) as s:
            s.sendall(GET)
            first = read_n(s, 136 if want_len is None else want_len)
            one = re.fullmatch(answer(server), first)
            check(f"{name}: a keep-alive request gets /plaintext's answer byte for byte", one,
                  f"got {first!r}")
            if want_len is not None:
                check(f"{name}: the answer has the length of our server's ({want_len} bytes)",
                      len(first) == want_len and one, f"got {len(first)} bytes")
            s.sendall(GET + GET)
            two = read_n(s, 2 * len(first))
            check(f"{name}: the connection stays open; a pipelined pair gets two answers",
                  re.fullmatch(answer(server) * 2, two), f"got {two!r}")
            for part in (GET[:7], GET[7:30], GET[30:]):
                s.sendall(part)
                time.sleep(0.03)
            third = read_n(s, len(first))
            check(f"{name}: a head split over three sends gets one answer", re.fullmatch(answer(server), third),
                  f"got {third!r}")
        with socket.create_connection((HOST, port), timeout=3) as s:
            s.sendall(GET_CLOSE)
            rest = read_to_eof(s)
            check(f"{name}: a Connection: close request gets the answer with Connection: close, then EOF",
                  re.fullmatch(answer(server, close=True), rest), f"got {rest!r}")
        with socket.create_connection((HOST, port), timeout=3) as s:
            s.sendall(GET + GET_CLOSE + GET)
            rest = read_to_eof(s)
            check(f"{name}: pipelined keep-alive, close, keep-alive: two answers, the second with close, then EOF",
                  re.fullmatch(answer(server) + answer(server, close=True), rest), f"got {rest!r}")
        with socket.create_connection((HOST, port), timeout=3) as s:
            s.sendall(GET + GET)
            s.shutdown(socket.SHUT_WR)  # EOF right behind two requests
            rest = read_to_eof(s)
            check(f"{name}: two requests and EOF (a half-close): two answers, then EOF",
                  re.fullmatch(answer(server) * 2, rest), f"got {rest!r}")
        with socket.create_connection((HOST, port), timeout=3) as s:
            s.sendall(GET[:10])  # EOF in the middle of a head
        with socket.create_connection((HOST, port), timeout=3) as s:
            s.sendall(GET)
            after = read_n(s, len(first))
            check(f"{name}: still answers after a client left in the middle of a head",
                  re.fullmatch(answer(server), after), f"got {after!r}")
        r = subprocess.run([binary, HOST, str(port)], capture_output=True, text=True, timeout=5)
        check(f"{name}: a port in use is refused with a message and a non-zero status",
              r.returncode != 0 and "in use" in r.stderr, f"status {r.returncode}, stderr {r.stderr!r}")
        r = subprocess.run([binary, "70000"], capture_output=True, text=True, timeout=5)
        check(f"{name}: a bad port is refused with the usage and a non-zero status",
              r.returncode != 0 and "usage" in r.stderr, f"status {r.returncode}, stderr {r.stderr!r}")
    finally:
        p.send_signal(signal.SIGTERM)
        try:
            status = p.wait(5)
        except subprocess.TimeoutExpired:
            p.kill()
            status = None
    check(f"{name}: SIGTERM ends it with status 0", status == 0, f"status {status}: {p.stdout.read()!r}")


def check_report(check):
    """The summary's floor table divides each server's CPU per request by
    nginx's and by the floor of its own backend; a CSV without floors gets no table."""
    def row(server, cpu):
        return dict(series="headline", point="plaintext-ka-c100", server=server, rps=1000.0, cpu_us_per_req=cpu,
                    discarded=0.0)
    rows = [row("async-nostd", 6.0), row("async-nostd-io_uring", 4.5), row("nginx", 8.0),
            row("floor-epoll", 5.0), row("floor-io_uring", 3.0)]
    text = "\n".join(report.floor_section(rows))
    want = ["| /plaintext keep-alive | async-nostd | epoll | 1,000 | 6.00 | 0.75x | 1.20x |",
            "| /plaintext keep-alive | async-nostd-io_uring | io_uring | 1,000 | 4.50 | 0.56x | 1.50x |",
            "| /plaintext keep-alive | nginx | epoll | 1,000 | 8.00 | 1.00x | 1.60x |",
            "| /plaintext keep-alive | floor-io_uring | io_uring | 1,000 | 3.00 | 0.38x | - |"]
    missing = [w for w in want if w not in text]
    check("report: the floor table gives each server / nginx and / the floor of its backend", not missing,
          f"missing {missing} in:\n{text}")
    check("report: a CSV without floor runs gets no floor table", report.floor_section(rows[:3]) == [],
          "a table for no floors")


def run(check, skip, server=None):
    check_report(check)
    want_len = ours_length(server) if server else None
    for backend in ("epoll", "io_uring"):
        why = uring_refusal() if backend == "io_uring" else None
        if why:
            skip(f"floor-{backend}: the kernel refuses io_uring ({why})")
            continue
        try:
            binary = ensure_floor(backend)
        except BenchError as e:
            check(f"floor-{backend}: builds", False, str(e))
            continue
        check(f"floor-{backend}: builds", True)
        check_floor(check, backend, binary, want_len)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--server", help="our server binary, to compare the response length with")
    args = ap.parse_args()
    check = Checks()
    run(check, check.skip, args.server)
    return 1 if check.failed else 0


if __name__ == "__main__":
    sys.exit(main())
