"""test_ws_interop.py: the /ws echo endpoint against established WebSocket clients: Node's `ws` and Python's `websockets`."""
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "net", "tests"))
from reactors import default_reactor, executor_args  # noqa: E402
SYSTEM_PYTHON = "/usr/bin/python3"  # Debian's python3-websockets is installed for this interpreter only

try:
    Skip = sys.modules["__main__"].Skip
except (KeyError, AttributeError):
    class Skip(Exception):
        """Raised when a test cannot run here."""


def _serve(ctx, backend=None):
    backend = backend or default_reactor()
    port = ctx.free_port()
    argv = [ctx.bin("async-nostd"), "2", "127.0.0.1", str(port), f"--reactor={backend}", "--no-log", *executor_args()]
    return port, ctx.process(argv, ready_port=port)


def _run_client(argv, env=None, timeout=60):
    """Runs a client script; returns its output, failing with every FAIL line it printed."""
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired as e:
        raise AssertionError(f"client timed out after {timeout} s; output so far: {e.stdout!r}")
    lines = r.stdout.splitlines()
    fails = [l[5:] for l in lines if l.startswith("FAIL ")]
    oks = [l for l in lines if l.startswith("OK ")]
    if fails:
        raise AssertionError(f"{len(fails)} of {len(fails) + len(oks)} cases failed: " + " | ".join(fails))
    if r.returncode != 0 or not oks:
        raise AssertionError(f"client exited with {r.returncode} after {len(oks)} cases: {(r.stderr or r.stdout)[-800:]}")
    return len(oks)


def _node_env(ctx):
    node = shutil.which("node")
    if not node:
        raise Skip("node is not installed (scripts/setup.sh installs it)")
    modules = os.path.join(ctx.root, "scripts", "node", "node_modules")
    if not os.path.isfile(os.path.join(modules, "ws", "package.json")):
        raise Skip("the ws package is missing from scripts/node/node_modules (run scripts/setup.sh)")
    env = dict(os.environ, NODE_PATH=modules)
    return node, env


def test_node_ws_client(ctx):
    node, env = _node_env(ctx)
    port, server = _serve(ctx)
    with server as proc:
        n = _run_client([node, os.path.join(HERE, "ws_node_client.js"), str(port)], env=env)
        assert proc.poll() is None, f"the server exited with {proc.returncode}"
    return f"{n} cases with ws"


def test_python_websockets_client(ctx):
    if not os.access(SYSTEM_PYTHON, os.X_OK):
        raise Skip(f"{SYSTEM_PYTHON} is missing")
    probe = subprocess.run([SYSTEM_PYTHON, "-c", "import websockets; print(websockets.__version__)"],
                           capture_output=True, text=True)
    if probe.returncode != 0:
        raise Skip(f"{SYSTEM_PYTHON} has no websockets module (Debian package python3-websockets, scripts/setup.sh)")
    version = probe.stdout.strip()
    if int(version.split(".")[0]) < 10:
        raise Skip(f"websockets {version} is older than 10")
    port, server = _serve(ctx)
    with server as proc:
        n = _run_client([SYSTEM_PYTHON, os.path.join(HERE, "ws_py_client.py"), str(port)])
        assert proc.poll() is None, f"the server exited with {proc.returncode}"
    return f"{n} cases with websockets {version}"


def test_node_ws_client_on_ppoll(ctx):
    node, env = _node_env(ctx)
    port, server = _serve(ctx, backend="ppoll")
    with server as proc:
        n = _run_client([node, os.path.join(HERE, "ws_node_client.js"), str(port)], env=env)
        assert proc.poll() is None, f"the server exited with {proc.returncode}"
    return f"{n} cases with ws, ppoll reactor"
