"""`healthcoop serve --workers N` (pipeline/serve/workers.py): N pre-forked processes on one
socket. A real server with workers, driven by a real concurrent client (8 keep-alive
connections mixing pages, documents, 303s and reconciliation batches), answers exactly as
the single-process server does; and however it is stopped (SIGTERM, Ctrl-C to its process
group, SIGKILL of the parent) no worker is left behind and no traceback is printed."""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from tools.site_release import (  # noqa: E402
    LIVE,
    SUCCESSOR,
    build_site_release,
    free_port,
    wait_for_port,
)

ROOT = Path(__file__).resolve().parent.parent
BATCH = json.dumps({"a": {"query": "Alice Grant"}, "b": {"query": "Northbridge Ministry"},
                    "c": {"query": "zzzz"}, "d": {"query": "Li Wen", "type": "Person"}})
REQUESTS = [
    ("GET", f"/doc/{LIVE}.html", {}, None),
    ("GET", f"/doc/{LIVE}.ttl", {}, None),
    ("GET", f"/id/{LIVE}", {"Accept": "text/turtle"}, None),
    ("HEAD", f"/doc/{SUCCESSOR}.jsonld", {}, None),
    ("GET", "/no/such/page.html", {}, None),
    ("POST", "/reconcile", {"Content-Type": "application/x-www-form-urlencoded"},
     urlencode({"queries": BATCH})),
]


@pytest.fixture(scope="module")
def release(tmp_path_factory) -> Path:
    return build_site_release(tmp_path_factory.mktemp("serve-workers"))


def start(release: Path, workers: int):
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipeline.cli", "serve", str(release), "--port", str(port),
         "--workers", str(workers)], cwd=ROOT, start_new_session=True,
        env={**os.environ, "HEALTHCOOP_SERVE_QUIET": "1"},
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wait_for_port(port, proc)
    return port, proc


def leave_nothing(proc) -> None:
    """Whatever a test found, nothing it started stays running: SIGKILL to the server's
    process group (its own session: the parent and its workers)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(timeout=15)


def workers_of(proc, expected: int) -> list[int]:
    """The parent's children, once there are `expected` of them (or after 10 s)."""
    deadline = time.monotonic() + 10
    kids: list[str] = []
    while time.monotonic() < deadline:
        kids = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
        if len(kids) >= expected:
            break
        time.sleep(0.05)
    return [int(k) for k in kids]


def running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def gone(pids: list[int], within: float = 10) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if not any(running(p) for p in pids):
            return True
        time.sleep(0.05)
    return False


def answers(port: int, rounds: int) -> list[tuple[int, list[tuple[str, str]], bytes]]:
    """REQUESTS `rounds` times over one keep-alive connection: (status, headers but Date,
    body) of each."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    out = []
    try:
        for _ in range(rounds):
            for method, path, headers, body in REQUESTS:
                conn.request(method, path, body=body, headers=headers)
                resp = conn.getresponse()
                out.append((resp.status, [h for h in resp.getheaders() if h[0] != "Date"],
                            resp.read()))
    finally:
        conn.close()
    return out


def test_workers_answer_a_concurrent_client_as_one_process_does(release):
    """The single-process answers to REQUESTS are the reference; 8 connections at once
    against 2 workers get exactly those answers, every time; both workers are running."""
    port, proc = start(release, 1)
    try:
        reference = answers(port, 1)
    finally:
        proc.terminate()
        proc.communicate(timeout=10)
    assert [a[0] for a in reference] == [200, 200, 303, 200, 404, 200]
    assert json.loads(reference[-1][2])["a"]["result"][0]["id"] == LIVE

    port, proc = start(release, 2)
    try:
        kids = workers_of(proc, 2)
        assert len(kids) == 2 and all(running(k) for k in kids)
        results: dict[int, list] = {}

        def client(n: int) -> None:
            results[n] = answers(port, 15)

        threads = [threading.Thread(target=client, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert sorted(results) == list(range(8))
        for got in results.values():
            assert got == reference * 15
        assert all(running(k) for k in kids)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=15)
        assert proc.returncode == -signal.SIGTERM
        assert gone(kids), "a worker outlived SIGTERM to its parent"
        assert b"Traceback" not in err, err.decode(errors="replace")
    finally:
        leave_nothing(proc)


@pytest.mark.parametrize("how", ["ctrl-c", "sigkill"])
def test_no_worker_outlives_its_parent(release, how):
    """Ctrl-C (SIGINT to the whole process group, as a terminal sends it): the parent
    stops its workers and ends with 130 and one line, no traceback. SIGKILL of the parent
    (which cannot clean up): the workers notice and exit by themselves within seconds."""
    port, proc = start(release, 3)
    try:
        kids = workers_of(proc, 3)
        assert len(kids) == 3
        if how == "ctrl-c":
            os.killpg(proc.pid, signal.SIGINT)
        else:
            proc.kill()
        _, err = proc.communicate(timeout=15)
        assert gone(kids), f"workers left after {how}: {[k for k in kids if running(k)]}"
        assert b"Traceback" not in err, err.decode(errors="replace")
        if how == "ctrl-c":
            assert proc.returncode == 130 and err.decode().count("\n") == 1
    finally:
        leave_nothing(proc)


def test_workers_must_be_a_small_positive_number(release):
    """--workers 0 is a usage error (exit 2), not a server without workers."""
    result = subprocess.run([sys.executable, "-m", "pipeline.cli", "serve", str(release),
                             "--port", str(free_port()), "--workers", "0"], cwd=ROOT,
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 2 and "--workers" in result.stderr
    assert "Traceback" not in result.stderr


FORK_WINDOW = """
import os, socketserver, sys, time
from pipeline.errors import EnvironmentProblem
from pipeline.serve.workers import run_workers

def inside_fork():  # runs in the new worker before os.fork() returns there
    os.write(1, b"%d\\n" % os.getpid())
    time.sleep(1.0)

os.register_at_fork(after_in_child=inside_fork)
server = socketserver.TCPServer(("127.0.0.1", 0), socketserver.BaseRequestHandler)
try:
    run_workers(server, 1)
except EnvironmentProblem:
    sys.exit(3)
"""


def test_a_signal_during_the_fork_ends_the_new_worker_quietly():
    """SIGTERM that reaches a worker while it is still being forked (held there for a
    second by an after-fork hook): the worker must not run the parent's handler, where
    Python can only print the exception and the worker would live on, but end as SIGTERM
    ends it once it is a worker. The parent sees a worker that died at its start (exit 3
    here) and nothing prints a traceback."""
    proc = subprocess.Popen([sys.executable, "-c", FORK_WINDOW], cwd=ROOT,
                            start_new_session=True, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    try:
        worker = int(proc.stdout.readline())
        os.kill(worker, signal.SIGTERM)
        assert gone([worker], within=5), "the worker outlived SIGTERM during its fork"
        _, err = proc.communicate(timeout=15)
        assert b"Traceback" not in err, err.decode(errors="replace")
        assert proc.returncode == 3
    finally:
        leave_nothing(proc)
