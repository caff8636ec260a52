"""Helpers for tests that work on a private copy of the small valid project
`tests/fixtures/mini_project/` (with the repository's real ontology and shapes)."""

from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MINI = ROOT / "tests" / "fixtures" / "mini_project"


def make_mini_project(dest: Path) -> Path:
    """A private copy of the mini project with the repository's real ontology and shapes."""
    shutil.copytree(MINI, dest)
    for part in ("ontology", "shapes"):
        shutil.copytree(ROOT / part, dest / part)
    if not (dest / "data" / "dataset.yaml").exists():
        shutil.copy(ROOT / "data" / "dataset.yaml", dest / "data" / "dataset.yaml")
    return dest


def edit(path: Path, old: str, new: str) -> None:
    """Replace `old`, which must occur exactly once, by `new`."""
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")


def snapshot(directory: Path) -> dict[str, bytes]:
    """Every file under `directory`, by relative path, with its bytes."""
    return {p.relative_to(directory).as_posix(): p.read_bytes()
            for p in sorted(directory.rglob("*")) if p.is_file()}
