"""A small release with a site, for the site and serve tests: the mini project
(tests/fixtures/mini_project) plus one withdrawn record without a successor, so that it
holds every case /id/<id> answers: a live entity, a merged one (northbridge-health-ministry
-> northbridge-ministry-of-health, in the fixture) and a withdrawn one (li-wen-duplicate)."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(TESTS))

from mini_project import edit, make_mini_project  # noqa: E402

LIVE = "alice-grant"
MERGED = "northbridge-health-ministry"
SUCCESSOR = "northbridge-ministry-of-health"
WITHDRAWN = "li-wen-duplicate"
WITHDRAWN_REASON = "Duplicate of li-wen, withdrawn."
SOURCE = "fixture-fund-2024"


def site_project(tmp: Path) -> Path:
    """The mini project in `tmp/project` with the withdrawn record added; its root."""
    root = make_mini_project(tmp / "project")
    edit(root / "data/records/actors.yaml", """  - id: li-wen
    label: "Li Wen"
""", f"""  - id: {WITHDRAWN}
    label: "Li Wen"
    deprecated: "{WITHDRAWN_REASON}"
    evidence:
      - source: fixture-fund-2024
        quote: "Professor Li Wen, director of the Eastvale Digital Health Institute"
        supports: [label]

  - id: li-wen
    label: "Li Wen"
""")
    return root


def build_site_release(tmp: Path) -> Path:
    """Build the release (with its site) into `tmp/output` and return that directory."""
    from pipeline.build import build_release

    return build_release(site_project(tmp), tmp / "output")


@contextlib.contextmanager
def serving(release: Path):
    """A real `healthcoop serve` process for `release` on a free loopback port; when it is
    stopped, it must not have printed a traceback."""
    port = free_port()
    env = {**os.environ, "HEALTHCOOP_SERVE_QUIET": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "pipeline.cli", "serve", str(release),
                             "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    try:
        wait_for_port(port, proc)
        yield port
    finally:
        proc.terminate()
    _, err = proc.communicate(timeout=10)
    assert b"Traceback" not in err, err.decode(errors="replace")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen | None = None, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port}")
