"""A small release with a site, for the site and serve tests: the mini project
(tests/fixtures/mini_project) plus one withdrawn record without a successor, so that it
holds every case /id/<id> answers: a live entity, a merged one (northbridge-health-ministry
-> northbridge-ministry-of-health, in the fixture) and a withdrawn one (li-wen-duplicate)."""

from __future__ import annotations

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


def build_site_release(tmp: Path) -> Path:
    """Build the release (with its site) into `tmp/output` and return that directory."""
    from pipeline.build import build_release

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
    return build_release(root, tmp / "output")


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
