"""Shared fixtures: the project root, and one build of the real dataset per test session."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyoxigraph as ox
import pytest

from pipeline.build import build_release

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def project_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def release_dir(tmp_path_factory) -> Path:
    """The real dataset, built once from the repository into a temporary directory."""
    out = tmp_path_factory.mktemp("release") / "output"
    build_release(ROOT, out)
    return out


@pytest.fixture(scope="session")
def dataset_store(release_dir) -> ox.Store:
    """A pyoxigraph store holding the built dataset (parsed from the N-Triples dump)."""
    store = ox.Store()
    store.bulk_load(path=str(release_dir / "healthcoop.nt"), format=ox.RdfFormat.N_TRIPLES)
    return store


@pytest.fixture
def project_copy(tmp_path) -> Path:
    """A private copy of the project's inputs, for tests that break or change them."""
    dest = tmp_path / "project"
    for part in ("data", "ontology", "shapes"):
        if (ROOT / part).exists():
            shutil.copytree(ROOT / part, dest / part)
    return dest


@pytest.fixture
def mini(tmp_path) -> Path:
    """A private copy of the small valid project (tests/mini_project.py)."""
    from mini_project import make_mini_project

    return make_mini_project(tmp_path / "project")


@pytest.hookimpl(wrapper=True, tryfirst=True)  # outermost: after pytest's short summary
def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """One clear line, after the short summary, when checks were skipped because an external
    tool is missing (only CI=true turns a missing tool into a failure): which tools, and the
    command that installs them."""
    import re

    result = yield
    missing: set[str] = set()
    count = 0
    for report in terminalreporter.stats.get("skipped", []):
        reason = str(report.longrepr[2]) if isinstance(report.longrepr, tuple) else ""
        if "install-tools" in reason:
            count += 1
            found = re.search(r"Skipped: (.+?) (is missing|is not installed)", reason)
            missing.add(found.group(1) if found else reason[:60])
    if count:
        terminalreporter.write_line(
            f"skipped {count} external check(s): missing {', '.join(sorted(missing))}. "
            "Install them with: sudo bash .ci/install-tools (then run make test again).",
            yellow=True, bold=True)
    return result
