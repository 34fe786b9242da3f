"""test_browser.py: the demo page in a real browser (headless Chromium via playwright-core): echo console, counters, clean close."""
import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "net", "tests"))
from reactors import default_reactor  # noqa: E402
CHROMIUM = "/usr/bin/chromium"

try:
    Skip = sys.modules["__main__"].Skip
except (KeyError, AttributeError):
    class Skip(Exception):
        """Raised when a test cannot run here."""


def _metrics(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
        out = {}
        for line in r.read().decode().splitlines():
            m = re.match(r"([a-z_]+)(\{[^}]*\})? (\d+)$", line)
            if m:
                out[m.group(1) + (m.group(2) or "")] = int(m.group(3))
        return out


def test_demo_page_in_chromium(ctx):
    node = shutil.which("node")
    modules = os.path.join(ctx.root, "scripts", "node", "node_modules")
    if not os.access(CHROMIUM, os.X_OK):
        raise Skip(f"{CHROMIUM} is missing (scripts/setup.sh installs Debian's chromium)")
    if not node:
        raise Skip("node is missing (scripts/setup.sh installs it)")
    if not os.path.isfile(os.path.join(modules, "playwright-core", "package.json")):
        raise Skip("playwright-core is missing from scripts/node/node_modules (run scripts/setup.sh)")

    tmp = tempfile.mkdtemp(prefix="browser-test-")
    try:
        port = ctx.free_port()
        log = os.path.join(tmp, "server.log")
        shot = os.path.join(ctx.root, "build", "browser-test.png")
        os.makedirs(os.path.dirname(shot), exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            os.remove(shot)
        argv = [ctx.bin("async-nostd"), "2", "127.0.0.1", str(port), f"--log={log}", f"--reactor={default_reactor()}"]
        with ctx.process(argv, ready_port=port) as proc:
            env = dict(os.environ, NODE_PATH=modules, HOME=tmp)
            cmd = [node, os.path.join(HERE, "browser_check.js"), f"http://127.0.0.1:{port}/", shot,
                   os.path.join(tmp, "profile"), CHROMIUM]
            try:
                r = subprocess.run(cmd, capture_output=True, text=True, timeout=55, env=env, cwd=tmp)
            except subprocess.TimeoutExpired:
                raise AssertionError("the browser check did not finish within 55 s")
            lines = [l for l in r.stdout.splitlines() if l.startswith("{")]
            if not lines:
                raise AssertionError(f"no report from the browser check (exit {r.returncode}): "
                                     f"{(r.stderr or r.stdout)[-1500:]}")
            report = json.loads(lines[-1])
            steps = "; ".join(report.get("steps", []))
            if report.get("error"):
                raise AssertionError(f"{report['error']} (after: {steps}; console: {report.get('console')}; "
                                     f"page errors: {report.get('pageErrors')})")
            errors = [m for m in report.get("console", []) if m.get("type") == "error"]
            assert not errors, f"console errors: {errors}"
            assert not report.get("pageErrors"), f"page errors: {report['pageErrors']}"
            assert not report.get("failedBeforeClose"), f"failed requests: {report['failedBeforeClose']}"
            assert "1000" in report.get("closedStatus", ""), f"status after closing: {report.get('closedStatus')!r}"
            assert os.path.getsize(shot) > 10000, "the screenshot is missing or tiny"

            # The server saw the page's close (code 1000) and counted the echoes.
            deadline = time.monotonic() + 5
            text = ""
            while time.monotonic() < deadline:
                with open(log, errors="replace") as f:
                    text = f.read()
                if re.search(r"\[WS\] fd=\d+ closed by peer code=1000", text):
                    break
                time.sleep(0.1)
            else:
                tail = "\n".join(text.splitlines()[-10:])
                raise AssertionError(f"the server log does not show the close with 1000; its tail: {tail}")
            assert re.search(r"\[WS\] fd=\d+ handshake complete", text), "the log shows no handshake"
            m = _metrics(port)
            assert m.get("async_nostd_ws_messages_total", 0) >= 3, f"ws_messages_total {m.get('async_nostd_ws_messages_total')}"
            assert m.get("async_nostd_ws_connections_total", 0) >= 1, "no WebSocket connection counted"
            assert proc.poll() is None, f"the server exited with {proc.returncode}"
        return (f"echoes ok, metrics {report.get('metrics')}, closed '{report.get('closedStatus')}', "
                f"{len(report.get('console', []))} console messages, screenshot build/browser-test.png")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


test_demo_page_in_chromium.tags = {"browser"}

