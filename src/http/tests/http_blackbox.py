"""http_blackbox.py: raw-socket client, response reader and server runner for the HTTP black-box tests."""
import contextlib
import email.utils
import os
import re
import select
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "net", "tests"))
from reactors import default_reactor, executor_args, reactors, reactors_note, uring_refusal  # noqa: E402,F401
HELLO = b"Hello, World!"
PAGE_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "page", "index.html")

# The runner's Skip prints its reason; fall back to a local one when run some other way.
Skip = getattr(sys.modules.get("__main__"), "Skip", None)
if Skip is None:
    class Skip(Exception):
        """A test that cannot run here."""

_DATE = re.compile(r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
                   r"\d{4} \d\d:\d\d:\d\d GMT")


def page_bytes():
    with open(PAGE_PATH, "rb") as f:
        return f.read()


@contextlib.contextmanager
def server(ctx, reactor=None, workers=2, args=()):
    """Runs the stage's server on a free port (default_reactor() unless named); yields the Popen with .port set."""
    reactor = reactor or default_reactor()
    port = ctx.free_port()
    argv = [ctx.bin("async-nostd"), str(workers), "127.0.0.1", str(port), f"--reactor={reactor}", "--no-log",
            *executor_args(), *args]
    with ctx.process(argv, ready_port=port) as proc:
        proc.port = port
        yield proc


def request(path="/plaintext", method="GET", version="1.1", headers=(), host="test", body=b""):
    """One request as bytes; headers is a list of "Name: value" strings."""
    lines = [f"{method} {path} HTTP/{version}"]
    if host is not None:
        lines.append(f"Host: {host}")
    lines.extend(headers)
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class Response:
    def __init__(self, version, status, reason, headers, body, head_raw):
        self.version, self.status, self.reason = version, status, reason
        self.headers = headers          # list of (lower-case name, value)
        self.body = body
        self.head_raw = head_raw

    def header(self, name):
        """The value of the only field called name, or None; fails if it is repeated."""
        vals = self.all(name)
        assert len(vals) <= 1, f"header {name} repeated: {vals}"
        return vals[0] if vals else None

    def all(self, name):
        return [v for n, v in self.headers if n == name.lower()]

    def closes(self):
        return any(t.strip().lower() == "close" for v in self.all("connection") for t in v.split(","))

    def __repr__(self):
        return f"<{self.status} {self.reason} {len(self.body)} body bytes>"


class Conn:
    """A client connection that reads HTTP responses off the wire."""

    def __init__(self, port, timeout=5.0, rcvbuf=None):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.settimeout(timeout)
        self.sock.connect(("127.0.0.1", port))
        self.timeout = timeout
        self.buf = bytearray()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self.sock.close()

    def send(self, data):
        self.sock.sendall(data)

    def send_slowly(self, data, pause=0.001):
        for i in range(len(data)):
            self.sock.sendall(data[i:i + 1])
            time.sleep(pause)

    def _fill(self, what):
        try:
            data = self.sock.recv(1 << 20)
        except socket.timeout:
            raise AssertionError(f"no {what} within {self.timeout} s; have {bytes(self.buf[:200])!r}") from None
        except ConnectionResetError:
            raise AssertionError(f"connection reset while waiting for {what}; "
                                 f"have {bytes(self.buf[:200])!r}") from None
        if not data:
            raise EOFError(f"connection closed while waiting for {what}; have {bytes(self.buf[:200])!r}")
        self.buf.extend(data)

    def read_response(self, head_only=False):
        """Reads one response; head_only for the answer to HEAD. EOF before it is an AssertionError."""
        try:
            return self._read_response(head_only)
        except EOFError as e:
            raise AssertionError(str(e)) from None

    def read_response_or_eof(self, head_only=False):
        """Like read_response, but returns None when the server closes cleanly between responses."""
        try:
            return self._read_response(head_only)
        except EOFError as e:
            if self.buf:
                raise AssertionError(f"closed in the middle of a response: {e}") from None
            return None

    def _read_response(self, head_only):
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end >= 0:
                break
            assert len(self.buf) < 65536, "response head larger than 64 KiB"
            self._fill("response head")
        head = bytes(self.buf[:end])
        del self.buf[:end + 4]
        lines = head.split(b"\r\n")
        m = re.fullmatch(rb"(HTTP/\d\.\d) (\d{3}) ?(.*)", lines[0])
        assert m, f"bad status line {lines[0]!r}"
        headers = []
        for line in lines[1:]:
            name, sep, value = line.partition(b":")
            assert sep and name and name.strip() == name, f"bad response header line {line!r}"
            headers.append((name.decode().lower(), value.strip().decode("latin-1")))
        resp = Response(m.group(1).decode(), int(m.group(2)), m.group(3).decode(), headers, b"", head)
        if head_only or resp.status in (204, 304) or 100 <= resp.status < 200:
            return resp
        cl = resp.header("content-length")
        assert cl is not None and cl.isdigit(), f"{resp.status} response without a valid Content-Length: {head!r}"
        n = int(cl)
        while len(self.buf) < n:
            self._fill(f"{n}-byte body")
        resp.body = bytes(self.buf[:n])
        del self.buf[:n]
        return resp

    def expect_eof(self, within=3.0, allow_reset=False):
        """Asserts that nothing more comes and the server closes within `within` s; returns the time taken."""
        start = time.monotonic()
        assert not self.buf, f"unexpected bytes after the response: {bytes(self.buf[:200])!r}"
        self.sock.settimeout(within)
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            raise AssertionError(f"server did not close the connection within {within} s") from None
        except ConnectionResetError:
            if allow_reset:
                return time.monotonic() - start
            raise AssertionError("connection reset (RST) instead of an orderly close (FIN)") from None
        finally:
            self.sock.settimeout(self.timeout)
        assert data == b"", f"unexpected bytes instead of a close: {data[:200]!r}"
        return time.monotonic() - start

    def expect_open(self, quiet=0.1):
        """Asserts the connection is neither closed nor sending anything for `quiet` s."""
        r, _, _ = select.select([self.sock], [], [], quiet)
        if r:
            data = self.sock.recv(65536, socket.MSG_PEEK)
            assert data, "the server closed a connection that should stay open"
            raise AssertionError(f"unexpected bytes: {data[:200]!r}")


def check_common_headers(resp, head_only=False):
    """Every response carries Server, Date (IMF-fixdate, about now), Content-Type and a true Content-Length."""
    where = f"{resp.status} response"
    assert resp.version == "HTTP/1.1", f"{where}: version {resp.version}"
    assert resp.header("server"), f"{where} has no Server"
    assert resp.header("content-type"), f"{where} has no Content-Type"
    date = resp.header("date")
    assert date and _DATE.fullmatch(date), f"{where}: Date {date!r} is not an IMF-fixdate"
    skew = abs(email.utils.parsedate_to_datetime(date).timestamp() - time.time())
    assert skew < 60, f"{where}: Date {date!r} is {skew:.0f} s off"
    cl = resp.header("content-length")
    assert cl is not None, f"{where} has no Content-Length"
    if not head_only:
        assert int(cl) == len(resp.body), f"{where}: Content-Length {cl} but {len(resp.body)} body bytes"


def get(port, path="/plaintext", timeout=5.0, **kw):
    """One request on a fresh connection (Connection: close); returns the response."""
    headers = list(kw.pop("headers", ())) + ["Connection: close"]
    with Conn(port, timeout) as c:
        c.send(request(path, headers=headers, **kw))
        return c.read_response(head_only=kw.get("method") == "HEAD")


def assert_serving(port, what="afterwards"):
    r = get(port)
    assert r.status == 200 and r.body == HELLO, f"server not serving {what}: {r}"


def metrics(port):
    """/metrics as {"name{labels}": value}."""
    r = get(port, "/metrics")
    assert r.status == 200, f"/metrics answered {r.status}"
    out = {}
    for line in r.body.decode().splitlines():
        if line and not line.startswith("#"):
            key, _, val = line.rpartition(" ")
            out[key] = float(val)
    return out


def wait_for(cond, timeout, step=0.05):
    """Polls cond() until true or timeout; returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v or time.monotonic() > deadline:
            return v
        time.sleep(step)


def proc_fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def proc_rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")
