"""test_echo.py: stage-5 black-box tests of the TCP echo server over real sockets, on each reactor."""
import os
import random
import socket
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reactors import default_reactor, reactors, reactors_note  # noqa: E402


def _serve(ctx, backend, workers=2, accept="thread"):
    port = ctx.free_port()
    return port, ctx.process([ctx.bin("echo_server"), str(port), str(workers), backend, accept], ready_port=port)


def _echo_once(port, payload, chunk=65536):
    """Sends payload while reading the echo on another thread; returns what came back."""
    with socket.create_connection(("127.0.0.1", port), timeout=20) as s:
        got = bytearray()

        def reader():
            while len(got) < len(payload):
                data = s.recv(1 << 20)
                if not data:
                    break
                got.extend(data)

        t = threading.Thread(target=reader)
        t.start()
        for i in range(0, len(payload), chunk):
            s.sendall(payload[i:i + chunk])
        t.join(30)
        return bytes(got)


def _concurrent_clients(port, clients=200, messages=20):
    errors = []

    def client(n):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=20) as s:
                for m in range(messages):
                    msg = f"client {n} message {m} ".encode() * (1 + (n + m) % 7)
                    s.sendall(msg)
                    got = b""
                    while len(got) < len(msg):
                        data = s.recv(65536)
                        if not data:
                            raise AssertionError("connection closed early")
                        got += data
                    if got != msg:
                        raise AssertionError(f"client {n}: echo differs")
        except Exception as e:  # collected and reported below
            errors.append(f"{n}: {e}")

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, f"{len(errors)} clients failed, first: {errors[0]}"


def test_many_concurrent_clients(ctx):
    for backend in reactors():
        for accept in ("thread", "workers"):
            port, server = _serve(ctx, backend, accept=accept)
            with server:
                _concurrent_clients(port)
    return f"200 clients x 20 messages, {reactors_note()}, thread and workers accepting"


def test_large_payloads(ctx):
    for backend in reactors():
        port, server = _serve(ctx, backend)
        with server:
            payload = random.Random(7).randbytes(16 << 20)
            results = [None] * 3
            threads = [threading.Thread(target=lambda i=i: results.__setitem__(i, _echo_once(port, payload)))
                       for i in range(3)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(60)
            assert all(r == payload for r in results), "a 16 MiB echo came back different"
    return f"3 x 16 MiB at once, {reactors_note()}"


def test_half_close_gets_the_rest_and_eof(ctx):
    for backend in reactors():
        port, server = _serve(ctx, backend)
        with server:
            with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
                payload = os.urandom(300000)
                s.sendall(payload)
                s.shutdown(socket.SHUT_WR)  # we are done sending; the server must still answer
                got = bytearray()
                while True:
                    data = s.recv(65536)
                    if not data:
                        break
                    got.extend(data)
                assert bytes(got) == payload, f"{backend}: got {len(got)} of {len(payload)} bytes before EOF"
    return reactors_note()


def test_abrupt_disconnects_leave_server_serving(ctx):
    for backend in reactors():
        port, server = _serve(ctx, backend)
        with server:
            for _ in range(200):
                s = socket.create_connection(("127.0.0.1", port), timeout=5)
                s.sendall(b"x" * 100000)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                s.close()  # RST while the server may be mid-send
            assert _echo_once(port, b"still here") == b"still here"
    return reactors_note()


def test_sigterm_exits_cleanly_with_idle_connections(ctx):
    return "; ".join(_sigterm_with_idle(ctx, accept, backend) for backend in reactors()
                     for accept in ("thread", "workers"))


def _sigterm_with_idle(ctx, accept, backend):
    import time
    port, server = _serve(ctx, backend, accept=accept)
    with server as proc:
        idle = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(10)]
        idle[0].sendall(b"ping")
        assert idle[0].recv(10) == b"ping"  # one that has been polled, nine that have not
        time.sleep(0.2)
        start = time.monotonic()
        proc.terminate()
        code = proc.wait(10)
        took = time.monotonic() - start
        out = proc.stdout.read().decode()
        assert code == 0, f"{accept} accepting: exit status {code}"
        assert took < 2, f"{accept} accepting: shutdown took {took:.1f} s (idle connections held it)"
        assert "0 tasks left" in out, f"{accept} accepting: {out}"
        if backend == "io_uring":  # every recv cancelled and reaped, every buffer back in the ring
            assert "0 requests in flight, 0 buffers out" in out, f"{accept} accepting: {out}"
        assert all(s.recv(10) == b"" for s in idle), f"{accept} accepting: an idle connection was not closed"
        for s in idle:
            s.close()
    return f"{backend}, {accept} accepting: {took:.1f} s"
