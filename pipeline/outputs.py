"""Where the commands may write: refuse any target whose replacement could destroy data.

In:  a target path a maintainer typed (`build --output`, `validate --output-file`,
     `link --cache-dir`) and the project root.
Out: nothing when the target is safe; otherwise an `EnvironmentProblem` (exit 2) saying
     what was found there and what to do. Nothing is touched either way.

The build replaces its output directory as a whole, so it may only ever replace a
directory that is absent, empty, or a previous healthcoop release: one holding the marker
file `.healthcoop-release` that every build writes (or, for releases built before the
marker existed, the release's own SHA256SUMS, void.ttl and healthcoop.nt and nothing a
project holds). The project root, its input folders (`data/`, `ontology/`, `shapes/`,
`.git`), anything above the root, a regular file and a symlink are refused.

Also here: `sweep_leftovers`, which removes staging and swap directories that a killed
build left beside its output, but only those whose owning process is gone.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from pipeline.errors import EnvironmentProblem

RELEASE_MARKER = ".healthcoop-release"
INPUT_DIRS = ("data", "ontology", "shapes", ".git")
# what a project (or any repository) holds and a release never does
# (a release holds ontology/ and shapes/ copies, so those are no sign)
PROJECT_SIGNS = ("data", ".git", "records", "sources.yaml", "pyproject.toml", "Makefile")
LEGACY_RELEASE_FILES = ("SHA256SUMS", "void.ttl", "healthcoop.nt")
FIX = ("Pass --output a new or empty directory, or a previous release (a directory holding "
       f"{RELEASE_MARKER}); the default, <root>/output, is always safe.")


def _shown(path: Path) -> str:
    return str(path)


def _inside(path: Path, parent: Path) -> bool:
    return path == parent or parent in path.parents


def _refuse(message: str, fix: str = FIX) -> None:
    raise EnvironmentProblem(message + " Nothing was changed.", fix=fix)


def _listing(directory: Path, limit: int = 5) -> str:
    try:
        names = sorted(p.name for p in directory.iterdir())
    except OSError:
        return "(cannot list it)"
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def is_release(directory: Path) -> bool:
    """A directory the build wrote: it holds the release marker, or (before the marker
    existed) the release's own files and nothing that belongs to a project."""
    if (directory / RELEASE_MARKER).is_file() and not (directory / RELEASE_MARKER).is_symlink():
        return not any((directory / sign).exists() for sign in PROJECT_SIGNS)
    return (all((directory / name).is_file() for name in LEGACY_RELEASE_FILES)
            and not any((directory / sign).exists() for sign in PROJECT_SIGNS))


def check_release_target(out_dir: Path, root: Path) -> Path:
    """The absolute output directory, if the build may replace it; else exit 2."""
    given = Path(out_dir)
    absolute = Path(os.path.abspath(given))  # symlinks are looked at, not followed
    if absolute.is_symlink():
        _refuse(f"--output {_shown(given)} is a symbolic link (to {os.readlink(absolute)}); "
                "the build replaces its output directory and will not follow a link.",
                "Pass the real directory the link points to, or a new directory.")
    resolved = absolute.resolve()
    root = Path(root).resolve()
    if _inside(root, resolved):
        _refuse(f"--output {_shown(given)} is the project root or a directory above it; "
                "replacing it would delete the project.")
    for name in INPUT_DIRS:
        if _inside(resolved, root / name):
            _refuse(f"--output {_shown(given)} is inside the project's {name}/ folder, "
                    "which holds inputs the build must never replace.")
    if not resolved.exists():
        return resolved
    if not resolved.is_dir():
        _refuse(f"--output {_shown(given)} exists and is not a directory.")
    try:
        empty = not any(resolved.iterdir())
    except OSError as err:
        _refuse(f"--output {_shown(given)} cannot be read: {err.strerror}.")
    if empty or is_release(resolved):
        return resolved
    _refuse(f"--output {_shown(given)} is a non-empty directory that is not a healthcoop "
            f"release (it holds {_listing(resolved)}; no {RELEASE_MARKER} file).")
    return resolved  # not reached


def check_output_file(path: Path, root: Path) -> Path:
    """A file a command may (over)write with a report; refuses symlinks, directories,
    devices and anything inside the project's input folders."""
    given = Path(path)
    absolute = Path(os.path.abspath(given))
    fix = "Write the report to a new file outside data/, ontology/ and shapes/."
    if absolute.is_symlink():
        _refuse(f"{_shown(given)} is a symbolic link; the report is not written through it.",
                fix)
    resolved = absolute.resolve()
    root = Path(root).resolve()
    for name in INPUT_DIRS:
        if _inside(resolved, root / name):
            _refuse(f"{_shown(given)} is inside the project's {name}/ folder; a report there "
                    "could overwrite a record or a source.", fix)
    if resolved.exists() and not resolved.is_file():
        _refuse(f"{_shown(given)} exists and is not a regular file.", fix)
    return resolved


def check_cache_dir(path: Path, root: Path) -> Path:
    """A cache directory for the Wikidata client: not a file, not a link, not the project
    root or one of its input folders (the cache adds and replaces files in it)."""
    given = Path(path)
    absolute = Path(os.path.abspath(given))
    fix = "Pass --cache-dir a new directory, or leave it out (default <root>/.cache/wikidata)."
    if absolute.is_symlink():
        _refuse(f"--cache-dir {_shown(given)} is a symbolic link.", fix)
    resolved = absolute.resolve()
    root = Path(root).resolve()
    if _inside(root, resolved):
        _refuse(f"--cache-dir {_shown(given)} is the project root or a directory above it.",
                fix)
    for name in INPUT_DIRS:
        if _inside(resolved, root / name):
            _refuse(f"--cache-dir {_shown(given)} is inside the project's {name}/ folder.", fix)
    if resolved.exists() and not resolved.is_dir():
        _refuse(f"--cache-dir {_shown(given)} exists and is not a directory.", fix)
    return resolved


_LEFTOVER = re.compile(r"\.(?P<name>.+)\.(?:staging|old)-(?P<pid>\d+)(?:-.*)?")


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # someone else's process, or not ours to judge: leave it
    return True


def sweep_leftovers(out_dir: Path) -> list[Path]:
    """Remove `.<name>.staging-<pid>-*` and `.<name>.old-<pid>` directories beside
    `out_dir` whose process is gone and that the build marked as its own; return them."""
    parent = out_dir.parent
    removed = []
    try:
        entries = sorted(parent.iterdir())
    except OSError:
        return removed
    for entry in entries:
        match = _LEFTOVER.fullmatch(entry.name)
        if not match or match.group("name") != out_dir.name:
            continue
        if entry.is_symlink() or not entry.is_dir():
            continue
        if os.getpid() == int(match.group("pid")) or _process_alive(int(match.group("pid"))):
            continue
        # only what the build made: staging and swapped-out directories carry the marker
        if not is_release(entry):
            continue
        shutil.rmtree(entry, ignore_errors=True)
        removed.append(entry)
    return removed
