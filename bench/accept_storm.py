#!/usr/bin/env python3
"""accept_storm.py: storms of sequential connects against the server, and the kernel's count of
listen-queue overflows (nstat -az TcpExtListenOverflows) before and after.

    python3 bench/accept_storm.py [--server BIN] [--accept workers|thread|reuseport] [--storms 3]
                                  [--connects 10000] [--workers 2] [--reactor epoll|ppoll]

Each storm opens --connects connections one after the other as fast as a
client can: connect, close, next; the client never waits for the server to
accept, so a server that falls behind fills its listen queue and the kernel
drops SYNs (ListenOverflows), which stall those clients about a second.
Exit status 1 if any overflow was counted. The counter is the whole network
namespace's: another program's overflows during the run would count too.
"""
import argparse
import os
import socket
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def overflows():
    out = subprocess.run(["nstat", "-az", "TcpExtListenOverflows"], capture_output=True, text=True,
                         check=True).stdout
    for line in out.splitlines():
        if line.startswith("TcpExtListenOverflows"):
            return int(line.split()[1])
    raise RuntimeError(f"nstat printed no TcpExtListenOverflows:\n{out}")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def storm(port, n):
    """n sequential connects; returns (total connect seconds, slowest connect seconds)."""
    total = worst = 0.0
    for _ in range(n):
        s = socket.socket()
        t = time.perf_counter()
        s.connect(("127.0.0.1", port))
        dt = time.perf_counter() - t
        s.close()
        total += dt
        worst = max(worst, dt)
    return total, worst


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--server", default=os.path.join(ROOT, "build", "stage-7", "bin", "async-nostd"))
    ap.add_argument("--accept", default="workers")
    ap.add_argument("--reactor", default="epoll")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--storms", type=int, default=3)
    ap.add_argument("--connects", type=int, default=10000)
    a = ap.parse_args()
    port = free_port()
    srv = subprocess.Popen([a.server, str(a.workers), "127.0.0.1", str(port), f"--accept={a.accept}",
                            f"--reactor={a.reactor}", "--no-log"], stdout=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), 0.1).close()
                break
            except OSError:
                time.sleep(0.05)
        total = 0
        for i in range(a.storms):
            before = overflows()
            t, worst = storm(port, a.connects)
            got = overflows() - before
            total += got
            print(f"storm {i + 1}: {a.connects} connects, connect phase {t:.2f} s, slowest {worst * 1000:.1f} ms, "
                  f"ListenOverflows +{got}", flush=True)
    finally:
        srv.terminate()
        srv.wait(10)
    print(f"--accept={a.accept}, {a.workers} workers, {a.reactor}: {total} ListenOverflows in {a.storms} storms")
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main())
