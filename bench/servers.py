"""servers.py: starts, checks, measures and stops the servers under test for bench/run.py.

Four kinds: our server (build/stage-N/bin/async-nostd), the reference nginx
(started from bench/nginx.template.conf, never the system service), the node
`ws` echo server (reference for the WebSocket series) and the floor servers
of bench/floor/ (the least an HTTP responder can do per request, per backend). Each is started in
its own process group so that stopping it can never reach anything else.
"""
import http.client
import os
import shutil
import signal
import socket
import subprocess
import time

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH_DIR)
PAGE = os.path.join(ROOT, "src", "http", "page", "index.html")
NODE_MODULES = os.path.join(ROOT, "scripts", "node", "node_modules")
HOST = "127.0.0.1"
CLK_TCK = os.sysconf("SC_CLK_TCK")


class BenchError(Exception):
    """A server or tool misbehaved; the message says which and why."""


def free_port():
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


# [snippet: bench-proc-cpu]
def proc_cpu_seconds(pid):
    """utime + stime of process `pid` (all of its threads), in seconds.

    Fields 14 and 15 of /proc/PID/stat, counted in clock ticks. The command
    name (field 2) may hold spaces, so split after its closing parenthesis."""
    with open(f"/proc/{pid}/stat") as f:
        after_name = f.read().rsplit(")", 1)[1].split()
    utime, stime = int(after_name[11]), int(after_name[12])
    return (utime + stime) / CLK_TCK


def child_pids(pid):
    """Direct children of `pid` (nginx's workers are children of its master)."""
    kids = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                kids += [int(x) for x in f.read().split()]
        return kids
    except OSError:
        pass
    for entry in os.listdir("/proc"):  # kernels without .../children
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        kids.append(int(entry))
            except OSError:
                continue
    return kids
# [end: bench-proc-cpu]


def tool(name, hint="scripts/setup.sh bench"):
    path = shutil.which(name) or (f"/usr/sbin/{name}" if os.access(f"/usr/sbin/{name}", os.X_OK) else None)
    if not path:
        raise BenchError(f"{name} not found; install it with {hint}")
    return path


def pin_prefix(cpu):
    """argv prefix that runs a command on one CPU (None: anywhere)."""
    return [] if cpu is None else [tool("taskset", "util-linux"), "-c", str(cpu)]


class Server:
    """One server process. Subclasses fill in argv() and may override hooks."""
    kind = "server"

    def __init__(self, tmp, workers=1, cpu=None, label=None):
        self.tmp = tmp
        self.workers = workers
        self.cpu = cpu
        self.port = free_port()
        self.proc = None
        self.label = label or self.kind
        self.log_path = os.path.join(tmp, f"{self.label}-{self.port}.log")
        self.exit_status = None

    # -- to override
    def argv(self):
        raise NotImplementedError

    def env(self):
        return None

    def prepare(self):
        pass

    def pids(self):
        return [self.proc.pid]

    def args_text(self):
        return ""

    # -- common
    def start(self, timeout=10.0):
        self.prepare()
        self.log = open(self.log_path, "wb")
        cmd = pin_prefix(self.cpu) + self.argv()
        self.cmdline = " ".join(cmd)
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT,
                                     env=self.env(), cwd=ROOT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchError(f"{self.label} exited with status {self.proc.returncode} at start:\n"
                                 f"  {self.cmdline}\n{self.log_tail()}")
            try:
                socket.create_connection((HOST, self.port), timeout=0.5).close()
                return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise BenchError(f"{self.label} did not listen on port {self.port} within {timeout:.0f} s:\n"
                         f"  {self.cmdline}\n{self.log_tail()}")

    def log_tail(self, n=15):
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join("    " + line for line in f.readlines()[-n:])
        except OSError:
            return ""

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def cpu_seconds(self):
        """CPU time of the whole server so far (every process, every thread)."""
        total = 0.0
        for pid in self.pids():
            try:
                total += proc_cpu_seconds(pid)
            except OSError:
                pass
        return total

    def stop(self, grace=8.0):
        """SIGTERM, wait, then SIGKILL the process group. Returns the exit status
        (None if it had to be killed)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(signal.SIGTERM)
                self.exit_status = self.proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                self.exit_status = None
        else:
            self.exit_status = self.proc.returncode
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)  # leftovers of this group only
        except OSError:
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        self.log.close()
        self.proc = None
        return self.exit_status

    def url(self, path):
        return f"http://{HOST}:{self.port}{path}"


class Ours(Server):
    kind = "async-nostd"

    # nginx runs with its access log off; ours runs with its log off too.
    DEFAULT_ARGS = ("--no-log",)

    def __init__(self, tmp, binary, workers=1, cpu=None, reactor="epoll", max_tasks=8192, label=None,
                 extra_args=(), accept="workers", executor="shared"):
        self.binary = binary
        self.reactor = reactor
        self.max_tasks = max_tasks
        self.accept = accept
        self.executor = executor
        # The executor is always named, so a row stays right if the server's default changes.
        self.extra_args = list(self.DEFAULT_ARGS) + [f"--executor={executor}"] + list(extra_args)
        if accept != "workers":
            self.extra_args.append(f"--accept={accept}")
        # Each variant is another curve: the CSV's server column says which (its executor,
        # reactor and server_args columns say so too). The shared executor, epoll and
        # workers accepting are the unmarked defaults: async-nostd, async-nostd-per-core,
        # async-nostd-per-core-reuseport, async-nostd-thread, async-nostd-io_uring, ...
        base = "async-nostd-io_uring" if reactor == "io_uring" else "async-nostd"
        self.kind = base + ("-per-core" if executor == "per-core" else "") + \
            ("" if accept == "workers" or reactor == "io_uring" else f"-{accept}")
        super().__init__(tmp, workers, cpu, label or f"ours-{reactor}" + ("-per-core" if executor == "per-core" else "")
                         + ("" if accept == "workers" else f"-{accept}"))

    def argv(self):
        return [self.binary, str(self.workers), HOST, str(self.port),
                f"--reactor={self.reactor}", f"--max-tasks={self.max_tasks}"] + self.extra_args

    def args_text(self):
        return " ".join(self.argv()[4:])

    def worker_counts(self):
        """Per-worker counters from /metrics: {"requests": [n0, n1, ...], "accepted": [...],
        "closed": [...]}, index = worker number (what threads that are not workers counted
        is left out). Empty lists if the server has no such metrics."""
        conn = http.client.HTTPConnection(HOST, self.port, timeout=5)
        try:
            conn.request("GET", "/metrics", headers={"Connection": "close"})
            text = conn.getresponse().read().decode()
        finally:
            conn.close()
        names = {"async_nostd_worker_requests_total": "requests",
                 "async_nostd_worker_connections_accepted_total": "accepted",
                 "async_nostd_worker_connections_closed_total": "closed"}
        out = {v: [0] * self.workers for v in names.values()}
        out["shared_writes"] = 0
        for line in text.splitlines():
            if line.startswith("async_nostd_shared_writes_total "):
                out["shared_writes"] = int(float(line.split()[1]))
            name, _, rest = line.partition("{worker=\"")
            if name in names and rest:
                who, _, val = rest.partition("\"} ")
                if who.isdigit() and int(who) < self.workers:
                    out[names[name]][int(who)] = int(float(val))
        return out


FLOOR_DIR = os.path.join(BENCH_DIR, "floor")
FLOOR_BACKENDS = {"epoll": ("floor_epoll.c", []), "io_uring": ("floor_uring.c", ["-luring"])}


def ensure_floor(backend):
    """Builds build/bench/floor_<epoll|uring> (hosted cc -O2) unless it is
    newer than its sources, as bench/bench.mk does; returns the binary."""
    main, libs = FLOOR_BACKENDS[backend]
    binary = os.path.join(ROOT, "build", "bench", main[:-2])
    srcs = [os.path.join(FLOOR_DIR, f) for f in (main, "common.c", "common.h")]
    if os.path.exists(binary) and all(os.path.getmtime(binary) >= os.path.getmtime(f) for f in srcs):
        return binary
    os.makedirs(os.path.dirname(binary), exist_ok=True)
    cc = os.environ.get("BENCH_CC", "cc")
    r = subprocess.run([cc, "-O2", "-Wall", "-Wextra", "-o", binary, srcs[0], srcs[1]] + libs,
                       capture_output=True, text=True)
    if r.returncode != 0:
        hint = " (liburing-dev: scripts/setup.sh bench)" if libs else ""
        raise BenchError(f"could not build {os.path.relpath(binary, ROOT)}{hint}:\n{r.stderr[-1500:]}")
    return binary


class Floor(Server):
    """A floor server: one thread, one backend, the /plaintext answer to any
    request. It is compared only where the route is /plaintext."""
    routes = ("/plaintext",)

    def __init__(self, tmp, backend, cpu=None, binary=None):
        self.reactor = backend
        self.kind = f"floor-{backend}"
        self.binary = binary or ensure_floor(backend)
        super().__init__(tmp, 1, cpu)

    def argv(self):
        return [self.binary, HOST, str(self.port)]


def fill_template(name, fields, out):
    """Writes bench/<name> to out with every @KEY@ replaced by fields[KEY]; returns out."""
    with open(os.path.join(BENCH_DIR, name)) as f:
        text = f.read()
    for k, v in fields.items():
        text = text.replace(f"@{k}@", v)
    with open(out, "w") as f:
        f.write(text)
    return out


class Checks:
    """The bench's own checks: one [OK]/[FAIL] line each (name prefixed), and a
    count of failures. Call it as check(name, ok, why); it returns ok."""

    def __init__(self, prefix=""):
        self.prefix, self.failed = prefix, 0

    def __call__(self, name, ok, why=""):
        print(f"[OK] {self.prefix}{name}" if ok else f"[FAIL] {self.prefix}{name}: {why}", flush=True)
        self.failed += not ok
        return ok

    def skip(self, why):
        print(f"[SKIP] {self.prefix}{why}", flush=True)


class Nginx(Server):
    kind = "nginx"

    def __init__(self, tmp, workers=1, cpu=None, connections=16384, label=None):
        self.connections = connections
        super().__init__(tmp, workers, cpu, label or "nginx")
        self.dir = os.path.abspath(os.path.join(tmp, f"nginx-{self.port}"))

    def prepare(self):
        os.makedirs(self.dir, exist_ok=True)
        nofile = resource_nofile()
        fields = {
            "WORKERS": str(self.workers), "TMP": self.dir, "ADDR": HOST, "PORT": str(self.port),
            "CONNECTIONS": str(self.connections), "NOFILE": str(nofile), "BACKLOG": "1024",
            "PAGE_DIR": os.path.dirname(PAGE), "PAGE_FILE": os.path.basename(PAGE),
            # As root, nginx's workers would switch to `nobody`, who may not
            # be able to read the repository; our server runs as us, so does nginx.
            "USER": "user root root;" if os.geteuid() == 0 else "",
        }
        self.conf = fill_template("nginx.template.conf", fields, os.path.join(self.dir, "nginx.conf"))

    def argv(self):
        return [tool("nginx"), "-q", "-p", self.dir + "/", "-e", os.path.join(self.dir, "error.log"),
                "-c", self.conf]

    def pids(self):
        return [self.proc.pid] + child_pids(self.proc.pid)


class H2o(Server):
    """h2o from bench/h2o.template.conf: /plaintext by the static file handler
    (handler="file") or by an mruby handler (handler="mruby")."""
    HANDLERS = {
        "file": "        file.file: @TMP@/plaintext.txt\n",
        "mruby": "        mruby.handler: |\n"
                 "          Proc.new do |env|\n"
                 "            [200, {\"content-type\" => \"text/plain\"}, [\"Hello, World!\"]]\n"
                 "          end\n",
    }

    def __init__(self, tmp, workers=1, cpu=None, handler="file", connections=16384, label=None):
        if workers != 1:
            raise BenchError("the h2o reference runs with one thread only")
        self.handler = handler
        self.kind = "h2o" if handler == "file" else f"h2o-{handler}"
        self.connections = connections
        super().__init__(tmp, workers, cpu, label or self.kind)
        self.dir = os.path.abspath(os.path.join(tmp, f"h2o-{self.port}"))

    def prepare(self):
        os.makedirs(self.dir, exist_ok=True)
        with open(os.path.join(self.dir, "plaintext.txt"), "wb") as f:
            f.write(b"Hello, World!")
        fields = {
            "PLAINTEXT_HANDLER": self.HANDLERS[self.handler].rstrip("\n"), "TMP": self.dir, "ADDR": HOST,
            "PORT": str(self.port), "CONNECTIONS": str(self.connections), "PAGE": PAGE,
            "PLAINTEXT": "the static file handler" if self.handler == "file" else "an mruby handler",
            # As root, h2o would switch to `nobody`; our server runs as us, so does h2o.
            "USER": "user: root" if os.geteuid() == 0 else "",
        }
        self.conf = fill_template("h2o.template.conf", fields, os.path.join(self.dir, "h2o.conf"))

    def argv(self):
        return [tool("h2o"), "-c", self.conf]


class NodeWs(Server):
    kind = "node-ws"

    def argv(self):
        return [tool("node", "scripts/setup.sh interop"), os.path.join(BENCH_DIR, "ws_echo_server.js"),
                HOST, str(self.port)]

    def env(self):
        if not os.path.isdir(os.path.join(NODE_MODULES, "ws")):
            raise BenchError("scripts/node/node_modules/ws is missing; run scripts/setup.sh interop")
        return dict(os.environ, NODE_PATH=NODE_MODULES)


def resource_nofile():
    import resource
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def fetch(server, path, close=False):
    """One GET; returns (status, content-type, body, response header bytes)."""
    conn = http.client.HTTPConnection(HOST, server.port, timeout=5)
    try:
        conn.request("GET", path, headers={"Connection": "close"} if close else {})
        r = conn.getresponse()
        body = r.read()
        head = sum(len(k) + len(v) + 4 for k, v in r.getheaders()) + len("HTTP/1.1 200 OK\r\n\r\n")
        return r.status, r.getheader("Content-Type", ""), body, head
    finally:
        conn.close()


def check_same_answers(ours, ref, routes):
    """Both servers must answer each route with status 200, the same body and
    the same media type, or the comparison would be of different work. A
    floor server (ref) is asked only for the routes it serves: /plaintext."""
    with open(PAGE, "rb") as f:
        page = f.read()
    want = {"/plaintext": (b"Hello, World!", "text/plain"), "/": (page, "text/html")}
    notes = []
    for path in [r for r in routes if r in getattr(ref, "routes", want)]:
        body_want, type_want = want[path]
        for srv in (ours, ref):
            status, ctype, body, head = fetch(srv, path)
            if status != 200 or body != body_want or not ctype.startswith(type_want):
                raise BenchError(f"{srv.label} answers GET {path} with status {status}, {ctype!r}, "
                                 f"{len(body)} body bytes; expected 200, {type_want}, {len(body_want)} bytes")
            notes.append(f"{srv.label} {path}: {len(body)} B body + {head} B head")
    return notes
