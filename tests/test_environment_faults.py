"""A faulty environment is a message and exit 2, never a traceback or a half-written release
(issue 10). The operating system's refusals are provoked for real: a file-size limit
(RLIMIT_FSIZE, the kernel then answers EFBIG as on a full quota) set on the build process,
and a records folder that cannot be listed."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

from mini_project import make_mini_project, snapshot

ROOT = Path(__file__).resolve().parent.parent


def _limit_file_size() -> None:
    # the kernel sends SIGXFSZ when a write crosses the limit; ignored, the write fails
    # with EFBIG instead, which is what the build must handle
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000))


def test_file_too_large_is_exit_2_and_keeps_the_previous_release(tmp_path):
    """With 400 more records the dumps cross a 200 kB file-size limit while the release is
    written; the build reports it (exit 2, the errno in words, also when the writer is
    pyoxigraph, whose OSError carries no errno), removes its staging directory and leaves
    output/ byte-identical."""
    project = make_mini_project(tmp_path / "project")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    first = subprocess.run([sys.executable, "-m", "pipeline.cli", "build", "--root",
                            str(project)], capture_output=True, text=True, env=env)
    assert first.returncode == 0, first.stderr
    before = snapshot(project / "output")
    # a records file large enough that the dumps cross 200 kB
    filler = "".join(
        f'  - id: filler-place-{i}\n    label: "Filler place {i}"\n    type: city\n'
        f'    evidence:\n      - source: fixture-dialogue-2024\n'
        f'        quote: "in Eastvale City on Thursday"\n        supports: [label]\n\n'
        for i in range(400))
    (project / "data/records/filler.yaml").write_text("places:\n" + filler, encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "pipeline.cli", "build", "--root",
                             str(project)], capture_output=True, text=True, env=env,
                            preexec_fn=_limit_file_size, timeout=600)
    assert result.returncode == 2, (result.stdout, result.stderr[-2000:])
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    assert "larger than the file system or a limit allows" in result.stderr, result.stderr
    assert snapshot(project / "output") == before
    assert not [p for p in project.iterdir() if ".staging-" in p.name or ".old-" in p.name]


def test_unlistable_records_folder_is_a_located_finding(tmp_path):
    """data/records as a FIFO-filled or unreadable folder must not crash validation: here
    the folder is replaced by a symbolic link to itself (ELOOP on every access)."""
    project = make_mini_project(tmp_path / "project")
    records = project / "data/records"
    import shutil

    shutil.rmtree(records)
    records.symlink_to(records)
    result = subprocess.run([sys.executable, "-m", "pipeline.cli", "validate", "--root",
                             str(project)], capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=300)
    assert result.returncode in (1, 2), result.stdout + result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    assert "data/records" in result.stdout + result.stderr
