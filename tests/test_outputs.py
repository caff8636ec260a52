"""No command may destroy what it did not create (issue 10).

`build --output` once replaced `data/` with the release and, given `.`, swapped out and
deleted the whole repository (`.git` included), both with exit 0. These tests give every
dangerous target to the real CLI (a subprocess, as a maintainer types it) on a copy of the
project with a `.git` directory, and compare a hash of the whole tree before and after:
refused with exit 2, a message saying what was found, and not one byte changed.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from mini_project import make_mini_project

from pipeline.outputs import RELEASE_MARKER, sweep_leftovers

ROOT = Path(__file__).resolve().parent.parent


def tree_hash(directory: Path) -> str:
    """One digest of every path, link target and file content under `directory`."""
    digest = hashlib.sha256()
    for path in sorted(directory.rglob("*")):
        rel = path.relative_to(directory).as_posix()
        if path.is_symlink():
            digest.update(f"L {rel} -> {os.readlink(path)}\n".encode())
        elif path.is_file():
            digest.update(f"F {rel} ".encode() + hashlib.sha256(path.read_bytes()).digest())
        else:
            digest.update(f"D {rel}\n".encode())
    return digest.hexdigest()


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipeline.cli", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})


@pytest.fixture
def project(tmp_path) -> Path:
    """The mini project with a .git directory, a built release in output/ and, beside it,
    a folder of someone else's files."""
    root = make_mini_project(tmp_path / "project")
    (root / ".git").mkdir()
    (root / ".git" / "HEAD").write_text("ref: refs/heads/main\n", encoding="utf-8")
    result = cli("build", "--root", str(root), cwd=root)
    assert result.returncode == 0, result.stderr
    foreign = tmp_path / "photos"
    foreign.mkdir()
    (foreign / "holiday.jpg").write_bytes(b"\xff\xd8 not really a photo")
    (tmp_path / "notes.txt").write_text("my notes\n", encoding="utf-8")
    (tmp_path / "link-to-data").symlink_to(root / "data")
    return root


DANGEROUS = {
    "data": ("data", "inside the project's data/"),
    "records": ("data/records", "inside the project's data/"),
    "project root": (".", "project root"),
    "above the root": ("..", "project root or a directory above it"),
    "git": (".git", "inside the project's .git/"),
    "a file": ("../notes.txt", "not a directory"),
    "a symlink": ("../link-to-data", "symbolic link"),
    "a foreign directory": ("../photos", "not a healthcoop release"),
}


@pytest.mark.parametrize("name", list(DANGEROUS))
def test_build_refuses_to_replace(name, project):
    """Each target is refused with exit 2 and a message naming what was found; the whole
    tree (project, release, neighbours) is byte-identical afterwards."""
    target, said = DANGEROUS[name]
    before = tree_hash(project.parent)
    result = cli("build", "--root", str(project), "--output", target, cwd=project)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert said in result.stderr and "Nothing was changed" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert tree_hash(project.parent) == before


def test_build_replaces_its_own_release_and_an_empty_directory(project, tmp_path):
    """What the build may replace it does replace: its earlier release (marked) and an empty
    directory; the marker is there afterwards, so the next build may replace it again."""
    empty = tmp_path / "empty"
    empty.mkdir()
    for target in ("output", str(empty)):
        result = cli("build", "--root", str(project), "--output", target, cwd=project)
        assert result.returncode == 0, result.stderr
    assert (empty / RELEASE_MARKER).is_file() and (empty / "healthcoop.nt").is_file()


def test_validate_report_file_may_not_overwrite_a_record(project):
    """`validate --output-file data/records/actors.yaml` would have overwritten the records
    with the report."""
    before = tree_hash(project.parent)
    result = cli("validate", "--root", str(project), "--output-file",
                 "data/records/actors.yaml", cwd=project)
    assert result.returncode == 2 and "inside the project's data/" in result.stderr
    assert tree_hash(project.parent) == before


def test_link_cache_may_not_live_in_the_records(project):
    """The Wikidata cache adds and replaces files in its directory: not inside data/."""
    before = tree_hash(project.parent)
    result = cli("link", "--root", str(project), "--offline", "--cache-dir", "data/records",
                 cwd=project)
    assert result.returncode == 2 and "--cache-dir" in result.stderr, result.stderr
    assert tree_hash(project.parent) == before


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_leftovers_of_a_killed_build_are_swept(tmp_path):
    """A staging or swapped-out directory whose process is gone and that carries the
    release marker is removed by the next build; one whose process still runs, and one
    without the marker (not ours), are left alone."""
    out = tmp_path / "output"
    dead, alive = _dead_pid(), os.getppid()
    ours = tmp_path / f".output.staging-{dead}-abc123"
    old = tmp_path / f".output.old-{dead}"
    running = tmp_path / f".output.staging-{alive}-def456"
    foreign = tmp_path / f".output.staging-{dead}-mine"
    for directory in (ours, old, running, foreign):
        directory.mkdir()
        (directory / "healthcoop.nt").write_text("", encoding="utf-8")
    for directory in (ours, old, running):
        (directory / RELEASE_MARKER).write_text("", encoding="utf-8")
    removed = sweep_leftovers(out)
    assert sorted(removed) == sorted([ours, old])
    assert running.is_dir() and foreign.is_dir() and not ours.exists() and not old.exists()


def test_a_build_sweeps_before_it_builds(project):
    """End to end: the leftover of a killed build is gone after the next build."""
    leftover = project / f".output.staging-{_dead_pid()}-zzzzzz"
    shutil.copytree(project / "output", leftover)
    result = cli("build", "--root", str(project), cwd=project)
    assert result.returncode == 0, result.stderr
    assert not leftover.exists()


def test_leftovers_are_git_ignored():
    """A killed build's directories never show up in `git status`."""
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8")
    assert "/.*.staging-*/" in ignored and "/.*.old-*/" in ignored
