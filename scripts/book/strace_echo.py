#!/usr/bin/env python3
"""strace_echo.py: one connection to chapter 5's echo server under strace, as the chapter shows it.

Starts build/stage-5/bin/echo_server under `strace -f` with the given backend
on a free port, connects, waits 300 ms, sends "hello, echo\\n", reads the echo,
closes, and stops the server with SIGTERM. Prints the system calls on the
connection's descriptor and the events the poller received for it, in the
order the calls returned (calls split across threads joined, thread ids dropped).

usage: strace_echo.py epoll|ppoll
"""
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main():
    backend = sys.argv[1] if len(sys.argv) > 1 else "epoll"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with tempfile.TemporaryDirectory() as tmp:
        log = os.path.join(tmp, "strace.txt")
        calls = "accept4,epoll_ctl,epoll_wait,ppoll,recvfrom,sendto,close"
        srv = subprocess.Popen(["strace", "-f", "-e", f"trace={calls}", "-o", log,
                                os.path.join(ROOT, "build/stage-5/bin/echo_server"), str(port), "2", backend],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 10
            while True:
                try:
                    c = socket.create_connection(("127.0.0.1", port), timeout=5)
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)
            time.sleep(0.3)
            c.sendall(b"hello, echo\n")
            got = c.recv(100)
            c.close()
            time.sleep(0.3)
        finally:
            # Signal the server, not strace (which would detach and leave it running).
            kids = subprocess.run(["pgrep", "-P", str(srv.pid)], capture_output=True, text=True).stdout.split()
            for k in kids:
                os.kill(int(k), signal.SIGTERM)
            try:
                srv.wait(timeout=10)
            except subprocess.TimeoutExpired:
                for k in kids:
                    os.kill(int(k), signal.SIGKILL)
                srv.wait(timeout=10)
        text = open(log).read().split("\n")
    # Join "<unfinished ...>" with its "<... name resumed>" line, per thread.
    pending, lines = {}, []
    for line in text:
        m = re.match(r"^(\d+)\s+(.*)$", line)
        if not m:
            continue
        pid, rest = m.groups()
        if rest.endswith("<unfinished ...>"):
            pending[pid] = rest[: -len("<unfinished ...>")]
            continue
        r = re.match(r"^<\.\.\. \w+ resumed>\s?(.*)$", rest)
        if r and pid in pending:  # in the order the calls returned
            lines.append(re.sub(r" +$", " ", pending.pop(pid)) + r.group(1))
            continue
        lines.append(rest)
    lines = [l for l in lines if l]
    conn = None
    for l in lines:
        m = re.match(r"^accept4\(.*\) = (\d+)$", l)
        if m:
            conn = m.group(1)
            break
    if conn is None:
        print("no connection accepted")
        return 1
    for l in lines:
        on_fd = re.match(r"^(epoll_ctl\(\d+, \w+, |recvfrom\(|sendto\(|close\()" + conn + r"\b", l)
        # epoll: the connection's registration carries fd + 1 in bits 14 to 31 (chapter 5).
        event = re.match(r"^epoll_wait\(.*data=\{u32=" + str((int(conn) + 1) << 14) + ",", l) or re.match(r"^ppoll\(.*fd=" + conn + r", revents", l)
        if re.match(r"^accept4\(.*\) = " + conn + "$", l) or on_fd or event:
            l = re.sub(r"\s+\)", ")", l)  # strace pads a joined call's result column
            print(re.sub(r"\)\s+= ", ") = ", l))
    print(f"client got {got!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
