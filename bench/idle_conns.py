#!/usr/bin/env python3
"""idle_conns.py: holds N idle TCP connections open to a server, for the reactor series of bench/run.py.

    python3 bench/idle_conns.py HOST PORT N

Opens N connections that never send a byte, prints "ready N" once all are
connected, then waits. A connection the server closes is opened again and
counted. Each line on stdin is answered with "alive A reopened R"; on
SIGTERM, or when stdin closes (the harness is done or died), it prints that
line once more and exits. The connections sit in the server's reactor
as registered, never-ready descriptors: exactly what a ppoll-based reactor
has to scan on every call and an epoll-based one does not.
"""
import os
import resource
import selectors
import signal
import socket
import sys


def open_one(host, port):
    s = socket.create_connection((host, port), timeout=10)
    s.setblocking(False)
    return s


def main():
    host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < n + 64:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, n + 64)), hard))
    sel = selectors.DefaultSelector()
    socks = []
    for _ in range(n):
        s = open_one(host, port)
        socks.append(s)
        sel.register(s, selectors.EVENT_READ)
    sel.register(sys.stdin, selectors.EVENT_READ, data="stdin")
    print(f"ready {len(socks)}", flush=True)

    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    reopened = 0
    while not stop:
        for key, _ in sel.select(timeout=0.5):
            if key.data == "stdin":  # a line asks for the counts, EOF means stop
                if os.read(sys.stdin.fileno(), 4096):
                    print(f"alive {len(socks)} reopened {reopened}", flush=True)
                else:
                    stop.append(1)
                continue
            s = key.fileobj
            try:
                data = s.recv(4096)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            if data:
                continue  # the server spoke first (it should not); stay idle
            sel.unregister(s)
            s.close()
            socks.remove(s)
            try:
                s = open_one(host, port)
                socks.append(s)
                sel.register(s, selectors.EVENT_READ)
                reopened += 1
            except OSError:
                pass
    try:
        print(f"alive {len(socks)} reopened {reopened}", flush=True)
    except BrokenPipeError:
        pass


if __name__ == "__main__":
    main()
