"""test_ws.py: black-box RFC 6455 tests of the /ws echo endpoint, spoken byte by byte over raw sockets."""
import base64
import contextlib
import hashlib
import os
import random
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "net", "tests"))
from reactors import default_reactor, executor_args, reactors, reactors_note, uring_refusal  # noqa: E402

# The runner's Skip prints its reason; fall back to a local one when run some other way.
Skip = getattr(sys.modules.get("__main__"), "Skip", None)
if Skip is None:
    class Skip(Exception):
        pass

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
MAX_MESSAGE = 16 << 20  # WS_MAX_MESSAGE in src/config.h


# ---- the server under test -------------------------------------------------------------------

class Server:
    def __init__(self, port, proc, log_path):
        self.port, self.proc, self.log_path = port, proc, log_path
        self.stopped = False  # set by tests that stop the server themselves

    def terminate(self, sig=signal.SIGTERM):
        self.stopped = True
        self.proc.send_signal(sig)

    def connect(self, timeout=5.0):
        return Conn(self.port, timeout)

    def ws(self, timeout=5.0, rcvbuf=None, **kw):
        """A connection that completed the handshake (asserted)."""
        c = Conn(self.port, timeout, rcvbuf)
        try:
            c.upgrade(**kw)
        except BaseException:
            c.close()
            raise
        return c

    def still_serving(self, what):
        """A fresh connection still completes a handshake and an echo."""
        try:
            with self.ws() as c:
                c.echo(OP_TEXT, b"still serving")
                c.close_cleanly()
        except (AssertionError, OSError, EOFError) as e:
            raise AssertionError(f"after {what}, a new connection fails: {e}")


@contextlib.contextmanager
def serve(ctx, backend=None, workers=2, extra=()):
    """Starts the final server on a free port with a private log file; yields a Server.
    Fails the test if the server died while it ran."""
    backend = backend or default_reactor()
    port = ctx.free_port()
    tmp = tempfile.mkdtemp(prefix="ws-test-")
    log = os.path.join(tmp, "server.log")
    argv = [ctx.bin("async-nostd"), str(workers), "127.0.0.1", str(port), f"--reactor={backend}", f"--log={log}",
            *executor_args(), *extra]
    try:
        with ctx.process(argv, ready_port=port) as proc:
            srv = Server(port, proc, log)
            try:
                yield srv
            except BaseException as e:
                if proc.poll() is not None and not srv.stopped:
                    err = proc.stderr.read().decode(errors="replace")[-300:].strip() if proc.stderr else ""
                    raise AssertionError(f"server died (status {proc.returncode}) during the test: {e} {err}")
                raise
            if proc.poll() is not None and not srv.stopped:
                err = proc.stderr.read().decode(errors="replace")[-500:]
                raise AssertionError(f"server died (status {proc.returncode}) during the test: {err}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# ---- a tiny RFC 6455 client ------------------------------------------------------------------

def accept_key(key):
    if isinstance(key, str):
        key = key.encode()
    return base64.b64encode(hashlib.sha1(key + GUID).digest()).decode()


def new_key():
    return base64.b64encode(os.urandom(16)).decode()


def mask_bytes(payload, key):
    n = len(payload)
    if n == 0:
        return b""
    k = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(payload, "little") ^ int.from_bytes(k, "little")).to_bytes(n, "little")


def frame(opcode, payload=b"", fin=True, rsv=0, mask=True, length=None, key=None, form=None):
    """Builds a client frame. length overrides the announced payload length; form forces
    the length encoding (7, 16 or 64 bits) instead of the shortest one."""
    if isinstance(payload, str):
        payload = payload.encode()
    n = len(payload) if length is None else length
    b0 = (0x80 if fin else 0) | (rsv & 7) << 4 | (opcode & 0xF)
    m = 0x80 if mask else 0
    if form is None:
        form = 7 if n < 126 else 16 if n < 65536 else 64
    if form == 7:
        head = bytes([b0, m | n])
    elif form == 16:
        head = bytes([b0, m | 126]) + struct.pack("!H", n)
    else:
        head = bytes([b0, m | 127]) + struct.pack("!Q", n)
    if not mask:
        return head + payload
    key = key or os.urandom(4)
    return head + key + mask_bytes(payload, key)


def close_payload(code, reason=b""):
    if isinstance(reason, str):
        reason = reason.encode()
    return struct.pack("!H", code) + reason


class Frame:
    def __init__(self, fin, rsv, opcode, masked, payload, form):
        self.fin, self.rsv, self.opcode, self.masked, self.payload, self.form = fin, rsv, opcode, masked, payload, form

    def __repr__(self):
        p = self.payload[:40]
        return (f"Frame(fin={int(self.fin)} rsv={self.rsv} op={self.opcode:#x} masked={int(self.masked)} "
                f"len={len(self.payload)} {p!r}{'...' if len(self.payload) > 40 else ''})")


class Conn:
    def __init__(self, port, timeout=5.0, rcvbuf=None):
        if rcvbuf is None:
            self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        else:  # set before connect, so that the window we announce is small from the start
            self.sock = socket.socket()
            self.sock.settimeout(timeout)
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
            self.sock.connect(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.timeout = timeout
        self.buf = bytearray()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        with contextlib.suppress(OSError):
            self.sock.close()

    def send(self, data):
        self.sock.sendall(data)

    def _more(self, want=65536):
        data = self.sock.recv(max(want, 65536))
        if not data:
            raise EOFError("the server closed the connection")
        self.buf += data

    def _take(self, n):
        while len(self.buf) < n:
            self._more(n - len(self.buf))
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    # HTTP side

    def request(self, head):
        if isinstance(head, str):
            head = head.encode()
        self.send(head)

    def read_response(self):
        """Returns (status, {lower-case name: [values]}, body) of one HTTP response."""
        while b"\r\n\r\n" not in self.buf:
            self._more()
        end = self.buf.index(b"\r\n\r\n")
        head = bytes(self.buf[:end]).decode("latin-1")
        del self.buf[:end + 4]
        lines = head.split("\r\n")
        parts = lines[0].split(" ", 2)
        assert len(parts) >= 2 and parts[0] == "HTTP/1.1" and parts[1].isdigit(), f"bad status line {lines[0]!r}"
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers.setdefault(name.strip().lower(), []).append(value.strip())
        status = int(parts[1])
        body = b""
        if status != 101 and "content-length" in headers:
            body = self._take(int(headers["content-length"][0]))
        return status, headers, body

    def upgrade(self, key=None, headers=None, version="13", path="/ws", method="GET", proto="HTTP/1.1",
                trailing=b"", check=True):
        """Sends an opening handshake (headers replace or extend the defaults; a value
        of None drops one) and returns (status, headers, body). With check, asserts a
        correct 101."""
        key = key if key is not None else new_key()
        h = {"Host": "127.0.0.1", "Upgrade": "websocket", "Connection": "Upgrade",
             "Sec-WebSocket-Key": key, "Sec-WebSocket-Version": version}
        for name, value in (headers or {}).items():
            h[name] = value
        lines = [f"{method} {path} {proto}"] + [f"{k}: {v}" for k, v in h.items() if v is not None]
        self.request(("\r\n".join(lines) + "\r\n\r\n").encode() + trailing)
        status, hdrs, body = self.read_response()
        if check:
            check_101(status, hdrs, key)
        return status, hdrs, body

    # WebSocket side

    def send_frame(self, *args, **kw):
        self.send(frame(*args, **kw))

    def recv_frame(self, timeout=None):
        self.sock.settimeout(timeout or self.timeout)
        try:
            b0, b1 = self._take(2)
            n = b1 & 0x7F
            form = 7
            if n == 126:
                n, form = struct.unpack("!H", self._take(2))[0], 16
            elif n == 127:
                n, form = struct.unpack("!Q", self._take(8))[0], 64
            key = self._take(4) if b1 & 0x80 else None
            payload = self._take(n)
            if key:
                payload = mask_bytes(payload, key)
            return Frame(bool(b0 & 0x80), (b0 >> 4) & 7, b0 & 0xF, bool(b1 & 0x80), payload, form)
        finally:
            self.sock.settimeout(self.timeout)

    def recv_server_frame(self, timeout=None):
        """A frame that must be well-formed for a server: unmasked, no RSV, known opcode,
        control frames final and <= 125 bytes, the shortest length encoding."""
        f = self.recv_frame(timeout)
        assert not f.masked, f"the server sent a masked frame: {f}"
        assert f.rsv == 0, f"the server set RSV bits: {f}"
        assert f.opcode in (0, 1, 2, 8, 9, 10), f"the server used a reserved opcode: {f}"
        if f.opcode & 8:
            assert f.fin and len(f.payload) <= 125, f"malformed control frame from the server: {f}"
        n = len(f.payload)
        shortest = 7 if n < 126 else 16 if n < 65536 else 64
        assert f.form == shortest, f"length {n} sent in the {f.form}-bit form, not the shortest ({shortest}-bit)"
        return f

    def echo(self, opcode, payload, check_quiet=False):
        """Sends one message in one frame and asserts the same message comes back in one frame."""
        self.send_frame(opcode, payload)
        self.expect_message(opcode, payload)
        if check_quiet:
            self.expect_quiet(0.3)

    def expect_message(self, opcode, payload):
        f = self.recv_server_frame()
        kind = {OP_TEXT: "text", OP_BINARY: "binary"}
        assert f.opcode == opcode, (f"sent a {kind.get(opcode, opcode)} message of {len(payload)} bytes, "
                                    f"got back {f}")
        assert f.fin, f"the echo of a whole message is not one final frame: {f}"
        if f.payload != payload:
            i = next((i for i, (a, b) in enumerate(zip(f.payload, payload)) if a != b), min(len(f.payload), len(payload)))
            raise AssertionError(f"echo differs: sent {len(payload)} bytes, got {len(f.payload)}, first difference "
                                 f"at byte {i}")

    def expect_quiet(self, seconds):
        r, _, _ = select.select([self.sock], [], [], seconds)
        if r:
            data = self.sock.recv(4096)
            raise AssertionError(f"unsolicited bytes from the server: {data[:60]!r}" if data else
                                 "the server closed the connection unexpectedly")
        assert not self.buf, f"unsolicited bytes from the server: {bytes(self.buf[:60])!r}"

    def expect_eof(self, timeout=3.0):
        self.sock.settimeout(timeout)
        try:
            while True:
                if self.buf:
                    raise AssertionError(f"bytes after the close frame: {bytes(self.buf[:60])!r}")
                data = self.sock.recv(65536)
                if not data:
                    return
                self.buf += data
        except socket.timeout:
            raise AssertionError(f"the server did not close TCP within {timeout} s after its close frame")
        except ConnectionResetError:
            raise AssertionError("the server reset the connection instead of closing it")
        finally:
            self.sock.settimeout(self.timeout)

    def expect_close(self, codes, timeout=5.0, what="", answer=True):
        """Reads the server's close frame (it must be the next frame), checks its code is
        one of codes, answers it (unless this close was itself the answer to ours), then
        checks that TCP closes. Returns (code, reason)."""
        if isinstance(codes, int):
            codes = (codes,)
        try:
            f = self.recv_server_frame(timeout)
        except socket.timeout:
            raise AssertionError(f"{what}no close frame within {timeout} s (expected {codes})")
        except EOFError:
            raise AssertionError(f"{what}TCP closed without a close frame (expected {codes})")
        except ConnectionResetError:
            raise AssertionError(f"{what}connection reset without a close frame (expected {codes})")
        assert f.opcode == OP_CLOSE, f"{what}expected a close frame with {codes}, got {f}"
        assert len(f.payload) != 1, f"{what}close frame with a 1-byte payload: {f}"
        code = struct.unpack("!H", f.payload[:2])[0] if len(f.payload) >= 2 else 1005
        reason = f.payload[2:]
        try:
            reason.decode("utf-8")
        except UnicodeDecodeError:
            raise AssertionError(f"{what}close reason is not UTF-8: {reason!r}")
        assert code in codes, f"{what}close code {code}, expected {' or '.join(map(str, codes))}"
        # Answer the close as a client must, then the server closes TCP.
        if answer:
            with contextlib.suppress(OSError):
                self.send_frame(OP_CLOSE, f.payload[:2])
        self.expect_eof()
        return code, reason

    def close_cleanly(self, code=1000, reason=b""):
        self.send_frame(OP_CLOSE, close_payload(code, reason))
        self.expect_close(code, what="client-initiated close: ", answer=False)


def check_101(status, hdrs, key):
    assert status == 101, f"expected 101, got {status} {hdrs}"
    up = hdrs.get("upgrade", [""])
    assert [v.lower() for v in up] == ["websocket"], f"Upgrade header {up}"
    conn = ",".join(hdrs.get("connection", [])).lower()
    assert "upgrade" in [t.strip() for t in conn.split(",")], f"Connection header {hdrs.get('connection')}"
    acc = hdrs.get("sec-websocket-accept", [])
    assert acc == [accept_key(key)], f"Sec-WebSocket-Accept {acc}, expected {accept_key(key)}"
    assert "sec-websocket-extensions" not in hdrs, f"an extension was accepted: {hdrs['sec-websocket-extensions']}"
    assert "sec-websocket-protocol" not in hdrs, f"a subprotocol was chosen: {hdrs['sec-websocket-protocol']}"
    for name in ("content-length", "transfer-encoding"):  # RFC 9110 8.6, 6.1: not in a 1xx response
        assert name not in hdrs, f"101 carries {name}: {hdrs[name]}"


def run_cases(cases):
    """Runs (name, fn) pairs, collecting every failure, so one line reports them all."""
    errors = []
    for name, fn in cases:
        try:
            fn()
        except (AssertionError, OSError, EOFError) as e:
            errors.append(f"{name}: {type(e).__name__ + ': ' if not isinstance(e, AssertionError) else ''}{e}")
    if errors:
        raise AssertionError(f"{len(errors)} of {len(cases)} cases failed; " + " | ".join(errors))
    return f"{len(cases)} cases"


def violation(srv, data, codes, what, then=None):
    """Sends data on a fresh WebSocket, expects a close with one of codes, then checks the
    server still serves. then(conn) may send more after data before the close is read."""
    with srv.ws() as c:
        c.send(data)
        if then:
            then(c)
        c.expect_close(codes, what=f"{what}: ")
    srv.still_serving(what)


# ---- handshake -------------------------------------------------------------------------------

def test_handshake_accept_key(ctx):
    assert accept_key("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="  # RFC 6455 1.3
    with serve(ctx) as srv:
        def rfc_key():
            with srv.connect() as c:
                _, h, _ = c.upgrade(key="dGhlIHNhbXBsZSBub25jZQ==")
                assert h["sec-websocket-accept"] == ["s3pPLMBiTxaQ9kYGzzhZRbK+xOo="]
                c.echo(OP_TEXT, b"hello")

        def random_keys():
            for _ in range(20):
                with srv.connect() as c:
                    c.upgrade()

        def offers_declined():
            with srv.connect() as c:
                c.upgrade(headers={"Sec-WebSocket-Extensions": "permessage-deflate; client_max_window_bits",
                                   "Sec-WebSocket-Protocol": "chat, superchat", "Origin": "http://127.0.0.1"})
                c.echo(OP_BINARY, b"\x00\x01")

        def frames_behind_handshake():
            # A client may send its first frames in the same segment as the handshake.
            with srv.connect() as c:
                c.upgrade(trailing=frame(OP_TEXT, "early") + frame(OP_BINARY, b"\xff\xfe"))
                c.expect_message(OP_TEXT, b"early")
                c.expect_message(OP_BINARY, b"\xff\xfe")

        def handshake_in_pieces():
            with srv.connect() as c:
                key = new_key()
                req = (f"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                       f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode()
                for i in range(0, len(req), 7):
                    c.send(req[i:i + 7])
                    time.sleep(0.001)
                check_101(*c.read_response()[:2], key)
                c.echo(OP_TEXT, b"pieces")

        def other_targets():
            for target in ("/ws?room=1", "http://127.0.0.1/ws"):
                with srv.connect() as c:
                    c.upgrade(path=target)
                    c.echo(OP_TEXT, target.encode())

        def after_keep_alive_request():
            # An upgrade may follow ordinary requests on the same connection, even pipelined.
            with srv.connect() as c:
                c.request("GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n")
                assert c.read_response()[0] == 200
                c.upgrade()
                c.echo(OP_TEXT, b"kept alive")
            with srv.connect() as c:
                key = new_key()
                c.request(f"GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\nGET /ws HTTP/1.1\r\nHost: x\r\n"
                          f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                          f"Sec-WebSocket-Version: 13\r\n\r\n".encode() + frame(OP_TEXT, b"pipelined"))
                assert c.read_response()[0] == 200
                check_101(*c.read_response()[:2], key)
                c.expect_message(OP_TEXT, b"pipelined")

        def big_head_and_frames():
            # A 9 KiB head makes the HTTP layer grow its buffer; 12 KiB of frames follow in one send.
            with srv.connect() as c:
                msgs = [os.urandom(1000) for _ in range(12)]
                c.upgrade(headers={"Cookie": "c=" + "x" * 9000},
                          trailing=b"".join(frame(OP_BINARY, m) for m in msgs))
                for m in msgs:
                    c.expect_message(OP_BINARY, m)

        return run_cases([("RFC sample key", rfc_key), ("20 random keys", random_keys),
                          ("extension and subprotocol offers declined", offers_declined),
                          ("frames in the handshake's segment", frames_behind_handshake),
                          ("handshake 7 bytes at a time", handshake_in_pieces),
                          ("query string and absolute-form targets", other_targets),
                          ("upgrade after a keep-alive request", after_keep_alive_request),
                          ("9 KiB head and 12 KiB of frames at once", big_head_and_frames)])


def _expect_status(srv, want, what, must_close=True, **kw):
    with srv.connect() as c:
        status, h, body = c.upgrade(check=False, **kw)
        if isinstance(want, int):
            want = (want,)
        assert status in want, f"{what}: expected {' or '.join(map(str, want))}, got {status} {body[:80]!r}"
        assert "sec-websocket-accept" not in h, f"{what}: an error reply carries Sec-WebSocket-Accept"
        # An error reply to a handshake closes the connection.
        if must_close:
            c.expect_eof()
        return status, h


def test_handshake_bad_key_400(ctx):
    with serve(ctx) as srv:
        cases = [("missing key", {"headers": {"Sec-WebSocket-Key": None}}),
                 ("empty key", {"key": ""}),
                 ("22 chars, no padding", {"key": "dGhlIHNhbXBsZSBub25jZQ"}),
                 ("15-byte nonce", {"key": base64.b64encode(b"x" * 15).decode()}),
                 ("17-byte nonce", {"key": base64.b64encode(b"x" * 17).decode()}),
                 ("not base64", {"key": "not*base64*at*all*!!!!=="}),
                 ("two keys", {"headers": {"Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==\r\n"
                                                                  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=="}})]
        out = run_cases([(name, lambda kw=kw, name=name: _expect_status(srv, 400, name, **kw)) for name, kw in cases])
        srv.still_serving("bad keys")
        return out


def test_handshake_version_8_gets_426_with_version_13(ctx):
    with serve(ctx) as srv:
        def version(v):
            _, h = _expect_status(srv, 426, f"version {v}", version=v)
            assert h.get("sec-websocket-version") == ["13"], f"version {v}: Sec-WebSocket-Version {h.get('sec-websocket-version')}"

        def missing():
            _expect_status(srv, (400, 426), "no version", headers={"Sec-WebSocket-Version": None})

        return run_cases([("version 8", lambda: version("8")), ("version 14", lambda: version("14")),
                          ("no version header", missing)])


def test_handshake_without_upgrade_gets_426(ctx):
    with serve(ctx) as srv:
        def no_upgrade():
            _, h = _expect_status(srv, 426, "no Upgrade header", headers={"Upgrade": None})
            assert [v.lower() for v in h.get("upgrade", [])] == ["websocket"], f"426 without Upgrade: websocket: {h}"

        def plain_get():
            with srv.connect() as c:
                c.request("GET /ws HTTP/1.1\r\nHost: x\r\n\r\n")
                status, h, _ = c.read_response()
                assert status == 426, f"plain GET /ws: {status}"

        def other_protocol():
            _expect_status(srv, (400, 426), "Upgrade: h2c", headers={"Upgrade": "h2c"})

        def no_connection_upgrade():
            _expect_status(srv, (400, 426), "Connection: keep-alive only", headers={"Connection": "keep-alive"})

        return run_cases([("no Upgrade header", no_upgrade), ("plain GET /ws", plain_get),
                          ("Upgrade: h2c", other_protocol), ("Connection without upgrade", no_connection_upgrade)])


def test_handshake_post_refused(ctx):
    with serve(ctx) as srv:
        # A POST is a normal request whose Upgrade the server may ignore (RFC 9110 7.8),
        # so the connection may stay open; it must not switch protocols.
        status, h = _expect_status(srv, (400, 405), "POST /ws", method="POST", must_close=False,
                                   headers={"Content-Length": "0"})
        if status == 405:
            allow = ",".join(h.get("allow", [])).replace(" ", "").split(",")
            assert "GET" in allow, f"405 without Allow: GET ({h.get('allow')})"
        srv.still_serving("POST /ws")
        return f"POST /ws -> {status}"


def test_handshake_http10_refused(ctx):
    with serve(ctx) as srv:
        status, _ = _expect_status(srv, 400, "HTTP/1.0 handshake", proto="HTTP/1.0")
        srv.still_serving("HTTP/1.0 handshake")


def test_handshake_with_body_not_half_upgraded(ctx):
    # A GET handshake that announces a body: refusing it (400) is fine, switching is fine,
    # but a 101 followed by closing TCP tells the client a WebSocket exists that never does.
    with serve(ctx) as srv:
        def with_body(headers, body):
            with srv.connect() as c:
                status, _, _ = c.upgrade(headers=headers, trailing=body, check=False)
                if status == 101:
                    try:
                        c.echo(OP_TEXT, b"after a 101")
                    except (AssertionError, EOFError, OSError) as e:
                        raise AssertionError(f"sent 101 Switching Protocols, then no WebSocket: {e}")
                else:
                    assert status == 400, f"expected 400 (or a working 101), got {status}"
                    c.expect_eof()

        return run_cases([
            ("Content-Length: 5", lambda: with_body({"Content-Length": "5"}, b"hello")),
            ("Transfer-Encoding: chunked", lambda: with_body({"Transfer-Encoding": "chunked"},
                                                             b"5\r\nhello\r\n0\r\n\r\n")),
        ])


def test_handshake_header_variants_accepted(ctx):
    with serve(ctx) as srv:
        def variant(headers):
            with srv.connect() as c:
                c.upgrade(headers=headers)
                c.echo(OP_TEXT, b"variant")
                c.close_cleanly()

        return run_cases([
            ("Connection: keep-alive, Upgrade", lambda: variant({"Connection": "keep-alive, Upgrade"})),
            ("Connection: upgrade", lambda: variant({"Connection": "upgrade"})),
            ("Upgrade: WebSocket", lambda: variant({"Upgrade": "WebSocket"})),
            ("Upgrade: WEBSOCKET", lambda: variant({"Upgrade": "WEBSOCKET"})),
            ("lower-case header names", lambda: variant({"upgrade": "websocket", "connection": "Upgrade",
                                                          "Upgrade": None, "Connection": None})),
        ])


# ---- echo ------------------------------------------------------------------------------------

def test_echo_keeps_opcode_and_sends_nothing_else(ctx):
    with serve(ctx) as srv:
        with srv.ws() as c:
            c.echo(OP_TEXT, "héllo wörld €𝄞".encode(), check_quiet=True)
            c.echo(OP_BINARY, bytes(range(256)), check_quiet=True)
            c.echo(OP_TEXT, b"", check_quiet=True)
            c.echo(OP_BINARY, b"", check_quiet=True)
            # Valid UTF-8 at the edges: noncharacters, the last code points before and after
            # the surrogates, the largest code point, NUL.
            c.echo(OP_TEXT, "\ufffe\uffff\ud7ff\ue000\U0010ffff\x00\x7f\u0080\u07ff\u0800\U00010000".encode(
                "utf-8", "surrogatepass"))
            # Interleaved kinds keep their order and kind.
            for i in range(20):
                op = OP_TEXT if i % 2 else OP_BINARY
                c.send_frame(op, f"message {i}".encode())
            for i in range(20):
                c.expect_message(OP_TEXT if i % 2 else OP_BINARY, f"message {i}".encode())
            c.expect_quiet(0.3)
            c.close_cleanly()


def test_echo_length_encodings(ctx):
    rnd = random.Random(6455)
    with serve(ctx) as srv:
        with srv.ws(timeout=15) as c:
            for n in (0, 1, 125, 126, 127, 65535, 65536, 1 << 20):
                for op in (OP_BINARY, OP_TEXT):
                    payload = rnd.randbytes(n) if op == OP_BINARY else bytes(rnd.choice(b"abcxyz") for _ in range(min(n, 70000))) * (n // 70000 + 1)
                    c.echo(op, payload[:n])
            # Non-minimal length forms from the client are legal to accept.
            c.send_frame(OP_BINARY, b"short", form=16)
            c.expect_message(OP_BINARY, b"short")
            c.send_frame(OP_BINARY, b"short", form=64)
            c.expect_message(OP_BINARY, b"short")
            c.close_cleanly()
    return "0..1 MiB, 7/16/64-bit forms"


def test_echo_large_messages(ctx):
    rnd = random.Random(1)
    with serve(ctx) as srv:
        with srv.ws(timeout=20) as c:
            for n in (64 << 10, 1 << 20, 4 << 20):
                payload = rnd.randbytes(n)
                c.echo(OP_BINARY, payload)
            text = ("UTF-8 ✓ " * ((1 << 20) // 10)).encode()
            c.echo(OP_TEXT, text)
            c.close_cleanly()
    return "64 KiB, 1 MiB, 4 MiB binary; 1 MiB text"


def test_fragmented_with_interleaved_pings(ctx):
    with serve(ctx) as srv:
        with srv.ws(timeout=15) as c:
            c.send_frame(OP_TEXT, "frag-one ", fin=False)
            c.send_frame(OP_PING, b"ping-1")
            c.send_frame(OP_CONT, "frag-two ", fin=False)
            c.send_frame(OP_PING, b"")
            c.send_frame(OP_CONT, b"", fin=False)  # empty fragments are legal
            c.send_frame(OP_PING, b"p" * 125)
            c.send_frame(OP_CONT, "frag-€-three", fin=True)
            for want in (b"ping-1", b"", b"p" * 125):
                f = c.recv_server_frame()
                assert f.opcode == OP_PONG and f.payload == want, f"expected a pong {want[:10]!r}, got {f}"
            c.expect_message(OP_TEXT, "frag-one frag-two frag-€-three".encode())
            c.expect_quiet(0.3)
            # A code point split across fragments is fine.
            euro = "€".encode()
            c.send_frame(OP_TEXT, b"a" + euro[:1], fin=False)
            c.send_frame(OP_CONT, euro[1:2], fin=False)
            c.send_frame(OP_CONT, euro[2:] + b"b", fin=True)
            c.expect_message(OP_TEXT, b"a" + euro + b"b")
            # Many small binary fragments, and 1 MiB in 16 fragments with pings between.
            parts = [bytes([i]) * (i + 1) for i in range(100)]
            c.send_frame(OP_BINARY, parts[0], fin=False)
            for p in parts[1:-1]:
                c.send_frame(OP_CONT, p, fin=False)
            c.send_frame(OP_CONT, parts[-1], fin=True)
            c.expect_message(OP_BINARY, b"".join(parts))
            big = os.urandom(1 << 20)
            chunks = [big[i:i + 65536] for i in range(0, len(big), 65536)]
            for i, ch in enumerate(chunks):
                c.send_frame(OP_BINARY if i == 0 else OP_CONT, ch, fin=i == len(chunks) - 1)
                if i < len(chunks) - 1:
                    c.send_frame(OP_PING, str(i).encode())
            for i in range(len(chunks) - 1):
                f = c.recv_server_frame()
                assert f.opcode == OP_PONG and f.payload == str(i).encode(), f"pong {i}: {f}"
            c.expect_message(OP_BINARY, big)
            # An unsolicited pong is ignored.
            c.send_frame(OP_PONG, b"unsolicited")
            c.echo(OP_TEXT, b"after pong", check_quiet=True)
            c.close_cleanly()


def test_byte_at_a_time(ctx):
    with serve(ctx) as srv:
        with srv.ws() as c:
            for op, payload in ((OP_TEXT, ("slow €" * 30).encode()), (OP_BINARY, os.urandom(10))):
                data = frame(op, payload)
                for i in range(len(data)):
                    c.send(data[i:i + 1])
                    time.sleep(0.0005)
                c.expect_message(op, payload)
            data = frame(OP_TEXT, "one-", fin=False) + frame(OP_PING, b"pp") + frame(OP_CONT, "two")
            for i in range(len(data)):
                c.send(data[i:i + 1])
                time.sleep(0.0005)
            f = c.recv_server_frame()
            assert f.opcode == OP_PONG and f.payload == b"pp", f"expected pong, got {f}"
            c.expect_message(OP_TEXT, b"one-two")
            c.close_cleanly()


# ---- protocol violations ---------------------------------------------------------------------

def test_unmasked_frame_closes_1002(ctx):
    with serve(ctx) as srv:
        return run_cases([
            ("unmasked text", lambda: violation(srv, frame(OP_TEXT, b"hi", mask=False), 1002, "unmasked text")),
            ("unmasked ping", lambda: violation(srv, frame(OP_PING, b"", mask=False), 1002, "unmasked ping")),
            ("unmasked after a good frame", lambda: violation(
                srv, frame(OP_TEXT, b"ok") + frame(OP_BINARY, b"x" * 300, mask=False), 1002,
                "unmasked after good", then=lambda c: c.expect_message(OP_TEXT, b"ok"))),
        ])


def test_rsv_bits_close_1002(ctx):
    with serve(ctx) as srv:
        return run_cases([(f"RSV {r}", lambda r=r: violation(srv, frame(OP_TEXT, b"x", rsv=r), 1002, f"RSV {r}"))
                          for r in (4, 2, 1, 7)] +
                         [("RSV1 on a ping", lambda: violation(srv, frame(OP_PING, b"", rsv=4), 1002, "RSV ping"))])


def test_reserved_opcodes_close_1002(ctx):
    with serve(ctx) as srv:
        return run_cases([(f"opcode {op:#x}", lambda op=op: violation(srv, frame(op, b"abc"), 1002, f"opcode {op:#x}"))
                          for op in (3, 7, 0xB, 0xF)])


def test_bad_control_frames_close_1002(ctx):
    with serve(ctx) as srv:
        return run_cases([
            ("ping of 126 bytes", lambda: violation(srv, frame(OP_PING, b"x" * 126), 1002, "ping 126")),
            ("close of 126 bytes", lambda: violation(srv, frame(OP_CLOSE, close_payload(1000, b"r" * 124)), 1002,
                                                     "close 126")),
            ("pong of 126 bytes", lambda: violation(srv, frame(OP_PONG, b"x" * 126), 1002, "pong 126")),
            ("ping of 200 bytes", lambda: violation(
                srv, frame(OP_PING, b"x" * 200, form=16), 1002, "ping 200")),
            ("fragmented ping", lambda: violation(srv, frame(OP_PING, b"a", fin=False), 1002, "fragmented ping")),
            ("fragmented close", lambda: violation(srv, frame(OP_CLOSE, close_payload(1000), fin=False), 1002,
                                                   "fragmented close")),
        ])


def test_fragmentation_errors_close_1002(ctx):
    with serve(ctx) as srv:
        return run_cases([
            ("continuation without a start", lambda: violation(srv, frame(OP_CONT, b"x"), 1002, "bare continuation")),
            ("final continuation without a start", lambda: violation(srv, frame(OP_CONT, b"x", fin=False), 1002,
                                                                     "bare continuation (fin=0)")),
            ("text during a fragmented message", lambda: violation(
                srv, frame(OP_TEXT, b"a", fin=False) + frame(OP_TEXT, b"b"), 1002, "new text mid-message")),
            ("binary during a fragmented message", lambda: violation(
                srv, frame(OP_BINARY, b"a", fin=False) + frame(OP_CONT, b"b", fin=False) + frame(OP_BINARY, b"c"),
                1002, "new binary mid-message")),
            ("continuation after a finished message", lambda: violation(
                srv, frame(OP_TEXT, b"done") + frame(OP_CONT, b"more"), 1002, "continuation after fin",
                then=lambda c: c.expect_message(OP_TEXT, b"done"))),
        ])


def test_invalid_utf8_closes_1007(ctx):
    bad = {"lone continuation byte": b"ab\x80cd", "0xFF": b"\xff", "overlong '/'": b"\xc0\xaf",
           "UTF-16 surrogate": b"\xed\xa0\x80", "above U+10FFFF": b"\xf4\x90\x80\x80",
           "truncated at the end": b"ok\xe2\x82"}
    with serve(ctx) as srv:
        cases = [(name, lambda d=d, name=name: violation(srv, frame(OP_TEXT, d), 1007, name)) for name, d in bad.items()]
        cases.append(("invalid across fragments", lambda: violation(
            srv, frame(OP_TEXT, b"ok \xe2\x82", fin=False) + frame(OP_CONT, b"\x28 rest"), 1007, "split invalid")))
        cases.append(("message ends inside a code point", lambda: violation(
            srv, frame(OP_TEXT, b"ok", fin=False) + frame(OP_CONT, b"\xf0\x9d", fin=True), 1007, "split truncated")))
        cases.append(("invalid in a later fragment, pings between", lambda: violation(
            srv, frame(OP_TEXT, b"fine", fin=False) + frame(OP_PING, b"1") + frame(OP_CONT, b"\xc3\x28", fin=False),
            1007, "later fragment", then=lambda c: _expect_pong(c, b"1"))))

        def fail_fast_fragment():
            # The first fragment is already invalid: 1007 must come before the rest is sent.
            violation(srv, frame(OP_TEXT, b"\xff never valid", fin=False), 1007, "invalid first fragment")

        def fail_fast_in_frame():
            # One 1 MiB frame whose first bytes are invalid: only its first 100 bytes are sent.
            payload = b"\xfe" + b"a" * 99
            key = os.urandom(4)
            head = frame(OP_TEXT, b"", length=1 << 20, key=key)
            violation(srv, head + mask_bytes(payload, key), 1007, "invalid start of a 1 MiB frame")

        def fail_fast_deep():
            # The invalid byte sits 40 KiB in (past the first read buffers) of a 1 MiB frame; 48 KiB are sent.
            payload = "ü".encode() * 20000 + b"\xc3\x28" + b"a" * 8000
            key = os.urandom(4)
            head = frame(OP_TEXT, b"", length=1 << 20, key=key)
            violation(srv, head + mask_bytes(payload, key), 1007, "invalid 40 KiB into a 1 MiB frame")

        cases += [("fail-fast: invalid first fragment", fail_fast_fragment),
                  ("fail-fast: invalid start of a large frame", fail_fast_in_frame),
                  ("fail-fast: invalid 40 KiB into a large frame", fail_fast_deep)]
        return run_cases(cases)


def _expect_pong(c, payload):
    f = c.recv_server_frame()
    assert f.opcode == OP_PONG and f.payload == payload, f"expected pong {payload!r}, got {f}"


def test_too_big_closes_1009_early(ctx):
    with serve(ctx) as srv:
        def one_frame():
            # Announce a 17 MiB frame but send only its header and 1 KiB.
            key = os.urandom(4)
            head = frame(OP_BINARY, b"", length=17 << 20, key=key)
            violation(srv, head + mask_bytes(b"z" * 1024, key), 1009, "17 MiB frame")

        def fragments():
            key = os.urandom(4)
            start = frame(OP_BINARY, b"y" * 1024, fin=False)
            head = frame(OP_CONT, b"", length=MAX_MESSAGE - 1000, key=key)
            violation(srv, start + head, 1009, "fragments over 16 MiB")

        def huge_length():
            # A 64-bit length with the top bit set is a protocol error (or simply too big).
            violation(srv, frame(OP_BINARY, b"", length=1 << 63), (1002, 1009), "2^63 length")

        def exactly_limit():
            # The limit itself is allowed: 16 MiB in one message comes back.
            with srv.ws(timeout=30) as c:
                payload = os.urandom(MAX_MESSAGE)
                done = []
                t = threading.Thread(target=lambda: (c.send_frame(OP_BINARY, payload), done.append(1)))
                t.start()
                c.expect_message(OP_BINARY, payload)
                t.join(30)
                c.close_cleanly()

        return run_cases([("17 MiB frame", one_frame), ("fragments adding up past 16 MiB", fragments),
                          ("2^63 length", huge_length), ("exactly 16 MiB echoes", exactly_limit)])


# ---- closing ---------------------------------------------------------------------------------

def test_close_handshake(ctx):
    with serve(ctx) as srv:
        def normal():
            with srv.ws() as c:
                c.echo(OP_TEXT, b"before close")
                c.send_frame(OP_CLOSE, close_payload(1000, "bye now ✓"))
                f = c.recv_server_frame()
                assert f.opcode == OP_CLOSE, f"expected the close reply, got {f}"
                assert f.payload[:2] == b"\x03\xe8", f"close reply payload {f.payload!r}, expected code 1000"
                c.expect_eof()

        def empty_close():
            with srv.ws() as c:
                c.send_frame(OP_CLOSE, b"")
                f = c.recv_server_frame()
                assert f.opcode == OP_CLOSE and len(f.payload) in (0, 2), f"close reply to an empty close: {f}"
                if f.payload:
                    assert f.payload == b"\x03\xe8", f"reply to an empty close has code {f.payload!r}"
                c.expect_eof()

        def valid_codes():
            for code in (1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999):
                with srv.ws() as c:
                    c.send_frame(OP_CLOSE, close_payload(code, "r"))
                    c.expect_close(code, what=f"client close {code}: ", answer=False)

        def close_mid_message():
            with srv.ws() as c:
                c.send_frame(OP_TEXT, b"half", fin=False)
                c.close_cleanly()

        def invalid_code(code):
            violation(srv, frame(OP_CLOSE, close_payload(code)), 1002, f"close code {code}")

        cases = [("close 1000 + reason", normal), ("close without payload", empty_close),
                 ("valid codes echoed", valid_codes), ("close in the middle of a fragmented message", close_mid_message)]
        cases += [(f"invalid code {code}", lambda code=code: invalid_code(code))
                  for code in (0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535)]
        cases += [("1-byte close payload", lambda: violation(srv, frame(OP_CLOSE, b"\x03"), 1002, "1-byte close")),
                  ("close reason not UTF-8", lambda: violation(srv, frame(OP_CLOSE, close_payload(1000, b"bad \xff")),
                                                               1007, "close reason")),
                  ("frames after close are not echoed", lambda: _after_close(srv)),
                  ("a peer that never answers our close is dropped", lambda: _silent_peer_dropped(srv)),
                  ("close queued behind a 4 MiB echo", lambda: _close_behind_echo(srv))]
        return run_cases(cases)


def _close_behind_echo(srv):
    # The client sends a big message and its close at once, then reads late: the
    # echo comes whole, then the close reply, then EOF.
    with srv.ws(timeout=15) as c:
        big = os.urandom(4 << 20)
        c.send(frame(OP_BINARY, big) + frame(OP_CLOSE, close_payload(1000, "done")))
        time.sleep(0.3)
        c.expect_message(OP_BINARY, big)
        c.expect_close(1000, what="close behind an echo: ", answer=False)


def _after_close(srv):
    with srv.ws() as c:
        c.send(frame(OP_CLOSE, close_payload(1000)) + frame(OP_TEXT, b"too late"))
        f = c.recv_server_frame()
        assert f.opcode == OP_CLOSE, f"after a close, the server sent {f}"
        c.expect_eof()


def metrics(port):
    """The server's /metrics as {name or name{labels}: value}."""
    with Conn(port) as c:
        c.request("GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        status, _, body = c.read_response()
        assert status == 200, f"/metrics answered {status}"
    out = {}
    for line in body.decode().splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            out[name] = int(value)
    return out


def _silent_peer_dropped(srv):
    linger = 2.0  # WS_CLOSE_LINGER_MS in src/config.h
    c = srv.ws()
    try:
        c.send(frame(OP_TEXT, b"x", mask=False))
        f = c.recv_server_frame()
        assert f.opcode == OP_CLOSE and f.payload[:2] == struct.pack("!H", 1002), f"expected close 1002, got {f}"
        t0 = time.monotonic()
        while time.monotonic() - t0 < linger + 2:
            if metrics(srv.port)["async_nostd_connections_active"] <= 1:  # only the /metrics request itself
                return
            time.sleep(0.2)
        raise AssertionError(f"a peer that neither answers our close nor closes TCP is still connected "
                             f"{linger + 2:.0f} s later")
    finally:
        c.close()


def test_peer_vanishing_leaves_server_serving(ctx):
    with serve(ctx) as srv:
        for i in range(50):
            c = srv.ws()
            if i % 3 == 0:
                c.send(frame(OP_BINARY, b"x" * 100000)[:5000])  # in the middle of a frame
            elif i % 3 == 1:
                c.send(frame(OP_BINARY, b"y" * 200000))  # the echo may be mid-send
            c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            c.close()  # RST
        srv.still_serving("50 abrupt disconnects")


# ---- limits: send timeout, idle ping, back-pressure, pipelined frames ------------------------

IDLE_PING = b"idle"  # WS_IDLE_PING in src/config.h


def _wait_closed(srv, t0, limit):
    """Seconds from t0 until /metrics shows no connection but its own; fails after limit s."""
    while time.monotonic() - t0 < limit:
        if metrics(srv.port)["async_nostd_connections_active"] <= 1:  # only the /metrics request itself
            return time.monotonic() - t0
        time.sleep(0.05)
    raise AssertionError(f"the connection is still open {limit:.1f} s later")


def _stalled_reader(ctx, backend, send_ms):
    # The client announces a small window and never reads: the echo of an 8 MiB
    # message cannot go out (at most the server's send buffer, 4 MiB, and our
    # window fit in the kernels). The server must give up after the send timeout.
    payload = os.urandom(8 << 20)
    with serve(ctx, backend=backend, extra=[f"--send-timeout={send_ms}"]) as srv:
        with srv.ws(timeout=10, rcvbuf=16384) as c:
            c.send_frame(OP_BINARY, payload)
            t0 = time.monotonic()  # the server has (nearly) all of it: its echo starts now
            held = _wait_closed(srv, t0, send_ms / 1000 + 5)
            # What reached us is a cut-short echo, then the end of the stream.
            got = bytearray()
            c.sock.settimeout(10)
            with contextlib.suppress(ConnectionResetError):
                while True:
                    data = c.sock.recv(1 << 20)
                    if not data:
                        break
                    got += data
            assert len(got) < len(payload), f"the whole echo ({len(got)} bytes) arrived: the send never stalled"
            # Every byte that did arrive is the echo's: no byte of freed (reused) memory.
            head = bytes([0x80 | OP_BINARY, 127]) + struct.pack("!Q", len(payload))
            assert got[:len(head)] == head[:len(got)], f"the echo's header is wrong: {bytes(got[:10])!r}"
            body = got[len(head):]
            assert body == payload[:len(body)], "bytes that are not the echo's reached the peer"
        srv.still_serving("a send timeout")
        assert held >= 0.5 * send_ms / 1000, f"closed after {held:.2f} s, before the {send_ms} ms send timeout"
        assert held <= send_ms / 1000 + 1.5, f"held {held:.2f} s with --send-timeout={send_ms}"
        return held, len(got)


def test_send_timeout_closes_stalled_reader(ctx):
    out = []
    for backend in reactors():
        held, got = _stalled_reader(ctx, backend, 1000)
        out.append(f"{backend}: closed {held:.2f} s after the echo began ({got >> 10} KiB of 8 MiB delivered)")
    return "--send-timeout=1000: " + "; ".join(out)


def test_io_uring_send_timeout_frees_after_the_send(ctx):
    """On io_uring the echo cut short by the send timeout is a SEND still in
    flight from the message buffer when the connection ends. The buffer may
    go only after net_close has cancelled it and its completion is in; freed
    before, the server's check panics (status 134) instead of letting the
    kernel send reused memory to the peer."""
    why = uring_refusal()
    if why:
        raise Skip(f"io_uring unavailable: {why}")
    out = []
    for send_ms in (300, 600):
        held, got = _stalled_reader(ctx, "io_uring", send_ms)
        out.append(f"{send_ms} ms: closed after {held:.2f} s, {got >> 10} KiB of the echo, all its own")
    return "; ".join(out)


def _silent_peer(ctx, backend, idle_ms):
    idle = idle_ms / 1000
    with serve(ctx, backend=backend, extra=[f"--ws-idle-timeout={idle_ms}"]) as srv:
        with srv.ws(timeout=10) as c:
            t0 = time.monotonic()
            f = c.recv_server_frame(idle + 3)
            t_ping = time.monotonic() - t0
            assert f.opcode == OP_PING and f.payload == IDLE_PING, f"expected our idle ping, got {f}"
            f = c.recv_server_frame(idle + 3)  # exactly one ping: the next frame is the close
            t_close = time.monotonic() - t0
            assert f.opcode == OP_CLOSE and f.payload[:2] == struct.pack("!H", 1001), \
                f"after an unanswered ping expected close 1001, got {f}"
            c.expect_eof()  # our close frame is not needed: the server stops writing
            t_eof = time.monotonic() - t0
            t_gone = _wait_closed(srv, t0, t_eof + 5)  # the task ended: the server lingered for our close
        assert 0.8 * idle <= t_ping <= idle + 0.5, f"ping after {t_ping:.2f} s with --ws-idle-timeout={idle_ms}"
        assert 0.8 * idle <= t_close - t_ping <= idle + 0.5, \
            f"close {t_close - t_ping:.2f} s after the ping with --ws-idle-timeout={idle_ms}"
        # The server lingers up to WS_CLOSE_LINGER_MS (2 s) for the peer's close.
        assert t_gone <= t_close + 2.5, f"the connection was released {t_gone - t_close:.2f} s after the close frame"
        return t_ping, t_close, t_eof, t_gone


def test_idle_peer_gets_one_ping_then_close(ctx):
    out = []
    for backend in reactors():
        t_ping, t_close, t_eof, t_gone = _silent_peer(ctx, backend, 600)
        out.append(f"{backend}: ping {t_ping:.2f} s, close 1001 {t_close:.2f} s, EOF {t_eof:.2f} s, "
                   f"released {t_gone:.2f} s")
    return "--ws-idle-timeout=600: " + "; ".join(out)


def _answering_peer(ctx, backend, idle_ms, periods):
    idle = idle_ms / 1000
    with serve(ctx, backend=backend, extra=[f"--ws-idle-timeout={idle_ms}"]) as srv:
        with srv.ws(timeout=10) as c:
            # A peer that talks more often than the idle timeout is never pinged.
            for i in range(4):
                c.echo(OP_TEXT, f"chatty {i}".encode())
                time.sleep(idle / 2)
            c.expect_quiet(idle / 4)
            # A silent peer that answers every ping stays, period after period.
            pings, t0 = 0, time.monotonic()
            while time.monotonic() - t0 < periods * idle:
                f = c.recv_server_frame(idle + 3)
                assert f.opcode == OP_PING and f.payload == IDLE_PING, f"while answering pings, got {f}"
                pings += 1
                c.send_frame(OP_PONG, f.payload)
            c.echo(OP_BINARY, b"still here")
            c.close_cleanly()
        assert pings >= periods // 2, f"{pings} pings in {periods} periods"
        return pings


def test_idle_peer_answering_pings_stays(ctx):
    out = []
    for backend in reactors():
        pings = _answering_peer(ctx, backend, 300, 8)
        out.append(f"{backend}: {pings} pings answered over 8 periods, then an echo")
    return "--ws-idle-timeout=300: " + "; ".join(out)


def _pipelined_behind_handshake(ctx, backend):
    with serve(ctx, backend=backend) as srv:
        with srv.connect(timeout=10) as c:
            # A long first head makes HTTP grow its read buffer to HTTP_READ_BUF_MAX
            # (given back once answered). The handshake and 17,000 bytes of frames then
            # arrive in one write: HTTP reads the head with as many frames as its
            # buffer holds, and hands that buffer, frames and all, to WebSocket.
            c.request(f"GET /plaintext HTTP/1.1\r\nHost: x\r\nX-Pad: {'p' * 6000}\r\n\r\n")
            status, _, _ = c.read_response()
            assert status == 200, f"the padded request got {status}"
            msgs = [(OP_BINARY if i % 2 else OP_TEXT, bytes([65 + i]) * 1000) for i in range(16)]
            msgs.append((OP_BINARY, b"z" * 864))
            data = b"".join(frame(op, p) for op, p in msgs)
            assert len(data) == 17000, len(data)
            c.upgrade(key=new_key(), trailing=data)
            for op, p in msgs:
                c.expect_message(op, p)
            c.close_cleanly()
        return len(data)


def test_frames_pipelined_behind_handshake_all_echoed(ctx):
    for backend in reactors():
        n = _pipelined_behind_handshake(ctx, backend)
    return f"{n} bytes of frames in the handshake's write, all 17 echoed ({reactors_note()})"


def _backpressure(ctx, backend):
    big = os.urandom(8 << 20)
    queued = [os.urandom(256 << 10) for _ in range(24)]
    data = b"".join(frame(OP_BINARY, m) for m in queued)
    with serve(ctx, backend=backend, extra=["--send-timeout=30000"]) as srv:
        base = metrics(srv.port)["async_nostd_ws_messages_total"]
        with srv.ws(timeout=30, rcvbuf=65536) as c:
            c.send_frame(OP_BINARY, big)
            t0 = time.monotonic()
            while metrics(srv.port)["async_nostd_ws_messages_total"] == base:  # the echo has begun
                assert time.monotonic() - t0 < 10, "the 8 MiB message was never echoed"
                time.sleep(0.05)
            time.sleep(0.3)
            m0 = metrics(srv.port)
            # While the echo is stuck, offer 6 MiB more: as much as the kernels take.
            c.sock.setblocking(False)
            sent, t1 = 0, time.monotonic()
            while sent < len(data) and time.monotonic() - t1 < 2:
                try:
                    sent += c.sock.send(data[sent:sent + (1 << 20)])
                except BlockingIOError:
                    time.sleep(0.05)
            time.sleep(0.5)
            m1 = metrics(srv.port)
            c.sock.setblocking(True)
            c.sock.settimeout(30)
            read = m1["async_nostd_bytes_received_total"] - m0["async_nostd_bytes_received_total"]
            echoed = m1["async_nostd_ws_messages_total"] - m0["async_nostd_ws_messages_total"]
            assert sent >= 1 << 20, f"only {sent} bytes could be queued: the test proves nothing"
            # The server read none of it: only the one /metrics request (under 100 bytes) between m0 and m1.
            assert read < 1024, f"the server read {read} bytes of the {sent} queued behind a stuck echo"
            assert echoed == 0, f"{echoed} more messages were echoed while the first echo was stuck"
            # Then the peer reads: everything arrives, in order.
            rest = threading.Thread(target=c.send, args=(data[sent:],), daemon=True)
            rest.start()
            c.expect_message(OP_BINARY, big)
            for m in queued:
                c.expect_message(OP_BINARY, m)
            rest.join(30)
            c.close_cleanly()
        return sent, read


def test_backpressure_one_message_at_a_time(ctx):
    out = []
    for backend in reactors():
        sent, read = _backpressure(ctx, backend)
        out.append(f"{backend}: {sent >> 10} KiB queued behind a stuck 8 MiB echo, {read} bytes of it read")
    return "; ".join(out)


def test_bad_option_values_exit_2(ctx):
    exe = ctx.bin("async-nostd")
    r = subprocess.run([exe, "--help"], capture_output=True, text=True, timeout=5)
    assert r.returncode == 0 and "--ws-idle-timeout=MS" in r.stdout and "default 60000" in r.stdout, \
        f"--help does not describe --ws-idle-timeout: {r.stdout}"
    for arg in ("--ws-idle-timeout=0", "--ws-idle-timeout=", "--ws-idle-timeout=abc", "--ws-idle-timeout=-5",
                "--ws-idle-timeout=3600001", "--ws-idle-timeout=99999999999999999999999", "--ws-idle-timeout=1e3",
                "--send-timeout=0"):
        r = subprocess.run([exe, "1", "127.0.0.1", "1", arg], capture_output=True, text=True, timeout=5)
        name = arg.split("=")[0]
        assert r.returncode == 2, f"{arg}: exit status {r.returncode}, not 2"
        assert f"{name} must be 1..3600000 ms" in r.stderr, f"{arg}: message {r.stderr!r}"
    return "8 bad values: exit 2 with a message"


# ---- load and lifecycle ----------------------------------------------------------------------

def _many_clients(srv, clients, messages):
    errors = []
    start = threading.Barrier(clients, timeout=30)

    def client(n):
        rnd = random.Random(n)
        try:
            with srv.ws(timeout=30) as c:
                start.wait()
                for m in range(messages):
                    op = OP_TEXT if (n + m) % 2 else OP_BINARY
                    payload = f"client {n} message {m} ".encode() * rnd.randint(1, 100)
                    c.echo(op, payload)
                c.close_cleanly()
        except threading.BrokenBarrierError:
            errors.append(f"{n}: the barrier broke (another client failed to connect)")
        except Exception as e:  # collected and reported below
            errors.append(f"{n}: {type(e).__name__}: {e}")
            with contextlib.suppress(Exception):
                start.abort()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads), "clients still running after 60 s"
    assert not errors, f"{len(errors)} of {clients} clients failed, first: {errors[0]}"


def test_pipelined_flood_with_backpressure(ctx):
    # 19 MiB of frames sent without reading: both directions fill up; every echo still
    # arrives, in order, with its kind.
    rnd = random.Random(5)
    msgs = [rnd.randbytes(1000 * (i % 70) + i) for i in range(400)]
    want = [(OP_TEXT, m.hex().encode()) if i % 2 == 0 else (OP_BINARY, m) for i, m in enumerate(msgs)]
    data = b"".join(frame(op, p) for op, p in want)
    with serve(ctx) as srv:
        with srv.ws(timeout=20) as c:
            sender = threading.Thread(target=c.send, args=(data,), daemon=True)
            sender.start()
            time.sleep(0.5)
            for op, p in want:
                c.expect_message(op, p)
            sender.join(20)
            c.close_cleanly()
    return f"{len(data) >> 20} MiB in {len(want)} messages"


def test_idle_connections_do_not_hold_peak_buffers(ctx):
    # Each connection echoes one message of the largest size, then sits idle. Twenty
    # of them must not make the server refuse a 1 MiB message on a fresh connection:
    # memory for a message is needed while it is handled, not for the life of the
    # connection (big blocks are bounded by MEM_BIG_LIMIT, 256 MiB).
    payload = os.urandom(MAX_MESSAGE)
    data = frame(OP_BINARY, payload)
    with serve(ctx) as srv:
        idle = []
        try:
            for i in range(20):
                c = srv.ws(timeout=20)
                idle.append(c)
                c.send(data)
                f = c.recv_server_frame(20)
                if f.opcode == OP_CLOSE:
                    raise AssertionError(f"connection {i + 1} of 20 got close {int.from_bytes(f.payload[:2], 'big')} for its 16 MiB "
                                         f"message while {i} earlier connections sat idle after one such echo "
                                         f"(their message buffers are still held)")
                assert f.opcode == OP_BINARY and f.payload == payload, f"connection {i + 1}: echo {f}"
            with srv.ws() as c:
                small = os.urandom(1 << 20)
                c.echo(OP_BINARY, small)
                c.close_cleanly()
        finally:
            for c in idle:
                c.close()
    return "20 x 16 MiB, then 1 MiB on a fresh connection"


def _wait_for(cond, timeout):
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _idle_holds_no_buffers(ctx, backend):
    with serve(ctx, backend=backend) as srv:
        def in_use():
            return metrics(srv.port)["async_nostd_io_buffers_in_use"]
        conns = []
        try:
            for i in range(20):
                c = srv.ws()
                conns.append(c)
                c.echo(OP_TEXT if i % 2 else OP_BINARY, os.urandom(3000 if i % 2 == 0 else 50).hex().encode())
            # The /metrics request holds its own read and output buffers while it is answered.
            idle = _wait_for(lambda: in_use() <= 2, 3)
            assert idle, f"20 idle WebSockets hold {in_use() - 2:.0f} I/O buffers, expected none"
            # Half a frame header: that connection holds its read buffer (payload bytes would
            # be copied out into the message at once), and gives it back with the rest.
            data = frame(OP_BINARY, b"q" * 1000)
            conns[0].send(data[:3])
            assert _wait_for(lambda: in_use() >= 3, 3), "a connection holding half a header holds no buffer"
            conns[0].send(data[3:])
            conns[0].expect_message(OP_BINARY, b"q" * 1000)
            assert _wait_for(lambda: in_use() <= 2, 3), "the buffer stayed after the frame was echoed"
            for c in conns:
                c.close_cleanly()
        finally:
            for c in conns:
                c.close()


def test_idle_websockets_hold_no_buffers(ctx):
    for backend in reactors():
        _idle_holds_no_buffers(ctx, backend)
    return f"20 idle after an echo: 0 buffers in use ({', '.join(reactors())})"


def test_announced_lengths_do_not_reserve_memory(ctx):
    # Twenty clients each send only the 10-byte header of a 16 MiB frame (plus its
    # mask) and stall. Memory should follow the bytes that arrive, not the length
    # a header announces, or 280 bytes lock every other client out of big messages.
    with serve(ctx) as srv:
        stalled = []
        try:
            for _ in range(20):
                c = srv.ws()
                stalled.append(c)
                c.send(frame(OP_BINARY, b"", length=MAX_MESSAGE))
            time.sleep(0.3)
            with srv.ws() as c:
                small = os.urandom(1 << 20)
                c.send_frame(OP_BINARY, small)
                f = c.recv_server_frame()
                if f.opcode == OP_CLOSE:
                    raise AssertionError(f"a 1 MiB message got close {int.from_bytes(f.payload[:2], 'big')} while 20 "
                                         f"other clients had sent only the header of a 16 MiB frame each")
                assert f.opcode == OP_BINARY and f.payload == small, f"echo {f}"
                c.close_cleanly()
        finally:
            for c in stalled:
                c.close()
    return "20 stalled 16 MiB headers, then 1 MiB on a fresh connection"


def test_many_concurrent_connections(ctx):
    with serve(ctx) as srv:
        _many_clients(srv, 200, 20)
        srv.still_serving("200 concurrent clients")
    return "200 connections x 20 messages"


def _shutdown_check(ctx, backend, sig=signal.SIGTERM):
    with serve(ctx, backend=backend) as srv:
        idle = [srv.ws() for _ in range(3)]
        try:
            idle[0].echo(OP_TEXT, b"polled once")
            half = srv.ws()
            idle.append(half)
            half.send_frame(OP_TEXT, b"open message", fin=False)  # between fragments counts as idle
            time.sleep(0.2)
            t0 = time.monotonic()
            srv.terminate(sig)
            for i, c in enumerate(idle):
                c.expect_close(1001, timeout=5, what=f"client {i} at SIGTERM: ")
                c.close()
            code = srv.proc.wait(10)
            took = time.monotonic() - t0
            out = srv.proc.stdout.read().decode(errors="replace")
            assert code == 0, f"exit status {code} after SIGTERM"
            assert took < 1.5, f"shutdown took {took:.1f} s though every client answered its close at once"
            assert "0 still open at exit" in out, f"connections left at exit: {out.strip()}"
            return took
        finally:
            for c in idle:
                c.close()


def test_sigterm_sends_1001_and_exits(ctx):
    took = _shutdown_check(ctx, default_reactor())
    took_int = _shutdown_check(ctx, default_reactor(), signal.SIGINT)
    return f"exit {took:.2f} s after SIGTERM, {took_int:.2f} s after SIGINT"


def test_sigterm_with_client_mid_frame(ctx):
    # A client stalled in the middle of a frame must not hold the process forever.
    with serve(ctx) as srv:
        with srv.ws() as c:
            c.send(frame(OP_BINARY, b"q" * 1000)[:100])
            time.sleep(0.2)
            t0 = time.monotonic()
            srv.terminate()
            try:
                code = srv.proc.wait(15)
            except Exception:
                raise AssertionError("the server did not exit within 15 s of SIGTERM while a WebSocket client "
                                     "was stalled mid-frame")
            took = time.monotonic() - t0
            assert code == 0, f"exit status {code}"
            # The executor gives tasks a grace period (EX_SHUTDOWN_GRACE_MS, 5 s) and then stops anyway.
            assert took < 8, f"exit took {took:.1f} s"
            return f"exit {took:.2f} s after SIGTERM"


def test_core_set_on_ppoll(ctx):
    with serve(ctx, backend="ppoll") as srv:
        def basic():
            with srv.connect() as c:
                _, h, _ = c.upgrade(key="dGhlIHNhbXBsZSBub25jZQ==", headers={"Connection": "keep-alive, Upgrade"})
                c.echo(OP_TEXT, "texte ✓".encode(), check_quiet=True)
                c.echo(OP_BINARY, os.urandom(126))
                c.echo(OP_BINARY, os.urandom(65536))
                c.echo(OP_TEXT, b"x" * (1 << 20))
                c.close_cleanly()

        def fragments():
            with srv.ws() as c:
                c.send(frame(OP_TEXT, "a", fin=False) + frame(OP_PING, b"q") + frame(OP_CONT, "b"))
                _expect_pong(c, b"q")
                c.expect_message(OP_TEXT, b"ab")
                data = frame(OP_BINARY, b"slowly")
                for i in range(len(data)):
                    c.send(data[i:i + 1])
                    time.sleep(0.0005)
                c.expect_message(OP_BINARY, b"slowly")
                c.close_cleanly()

        cases = [("handshake and echo", basic), ("fragments, ping, byte at a time", fragments),
                 ("unmasked -> 1002", lambda: violation(srv, frame(OP_TEXT, b"x", mask=False), 1002, "unmasked")),
                 ("invalid UTF-8 -> 1007", lambda: violation(srv, frame(OP_TEXT, b"\xff"), 1007, "utf-8")),
                 ("17 MiB -> 1009", lambda: violation(srv, frame(OP_BINARY, b"", length=17 << 20), 1009, "17 MiB")),
                 ("200 clients x 20 messages", lambda: _many_clients(srv, 200, 20))]
        out = run_cases(cases)
    took = _shutdown_check(ctx, "ppoll")
    return f"{out} + SIGTERM 1001 in {took:.2f} s"
