"""The README's dereferencing recipe, run exactly as written (only the port is changed, to a
free one): `healthcoop serve output` in the background, then its `curl` line, which must
show the 303 to the Turtle document."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
from tools.external import need

ROOT = Path(__file__).resolve().parent.parent


def _recipe() -> tuple[str, str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Entity pages and dereferencing", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S).group(1).strip().splitlines()
    serve, curl = block
    assert serve.endswith(" &") and curl.startswith("curl ")
    return serve[:-2], curl


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_readme_serve_recipe(release_dir, tmp_path):
    """A reader in a checkout after `make build`: `.venv/bin/healthcoop` and `output/`."""
    need(shutil.which("curl"), "curl")
    serve, curl = _recipe()
    port = str(_free_port())
    serve, curl = serve.replace("8080", port), curl.replace("8080", port)
    (tmp_path / ".venv").symlink_to(ROOT / ".venv")
    (tmp_path / "output").symlink_to(release_dir)
    if not (ROOT / ".venv/bin/healthcoop").exists():
        pytest.fail("no .venv/bin/healthcoop: run `make test`, which creates it")
    server = subprocess.Popen(serve, shell=True, cwd=tmp_path, start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        for _ in range(100):
            answer = subprocess.run(curl, shell=True, cwd=tmp_path, capture_output=True,
                                    text=True)
            if answer.stdout:
                break
            time.sleep(0.1)
        head = answer.stdout
        assert head.startswith("HTTP/1.") and " 303" in head.splitlines()[0], head
        location = re.search(r"(?im)^location:\s*(\S+)", head).group(1)
        assert location.endswith("/doc/matt-hancock.ttl"), head
        assert re.search(r"(?im)^vary:.*accept", head), head
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=10)
