"""`healthcoop build`: chain the stages and publish a release into `output/` atomically.

In:  the project root (data/, ontology/, shapes/).
Out: `output/` replaced as a whole by the new release, or left exactly as it was when
     anything fails (invalid data, a serialiser error, Ctrl-C).

Entry function: `build_release(root, out_dir)`. Stages, each its own module, data flowing
down: read (pipeline/read/project.py: sources, records, checks) -> shards (pipeline/shards/:
each shard mapped once, validated with pipeline/check/shacl.py, written as pieces, in parallel,
unchanged shards from the cache) -> publish (pipeline/publish/release.py: the dumps assembled from
the pieces, description, tables, checksums) -> site. The release is written into a
temporary directory beside `out_dir` and swapped in with one rename.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import shutil
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

import pyoxigraph as ox

from pipeline.check.validate import check_project
from pipeline.errors import EnvironmentProblem, InvalidData
from pipeline.heap import long_lived_heap
from pipeline.link import ENRICHMENT_GRAPH, enrichment_triples, link_triples, linkset_files
from pipeline.outputs import RELEASE_MARKER, check_release_target, sweep_leftovers
from pipeline.publish.release import LINKS_GRAPH, TOPICS_GRAPH, canonical_triples, publish_release
from pipeline.rdf.mapping import MappingContext, map_dataset
from pipeline.read.project import TOPICS_FILE, LoadedProject, load_project  # noqa: F401 - the read stage
from pipeline.shards import CACHE_DIR, prune_cache

RECORD_CACHE_DIR = Path(".cache/records")  # parsed record files (read/record_cache.py)


def map_project(project: LoadedProject) -> tuple[list, MappingContext]:
    """The dataset's triples, mapped in one go and canonically ordered, and the mapping
    context (origins): the whole-dataset reference the tests compare the shards with."""
    ctx = MappingContext(project.records, project.sources)
    return canonical_triples(map_dataset(ctx)), ctx


def reference_graphs(project: LoadedProject) -> dict[str, Iterable]:
    """Triples that derive from no one source, by the named graph they are published in
    (the whole-dataset reference; the build puts them into the shards of their actors):
    accepted Wikidata/ROR links (data/links.yaml), the topic scheme, and labels from
    Wikidata with their provenance."""
    root = Path(project.root)
    return {
        LINKS_GRAPH: link_triples(root, project.records),
        TOPICS_GRAPH: ((t.subject, t.predicate, t.object)
                       for t in ox.parse(path=str(root / TOPICS_FILE), format=ox.RdfFormat.TURTLE)),
        str(ENRICHMENT_GRAPH): enrichment_triples(root, project.records),
    }


def build_release(root: Path, out_dir: Path | None = None, *,
                  register: bool | None = None, previous: Path | None = None,
                  site: bool = True, executor: str = "auto", jobs: int | None = None,
                  scheduler: str | None = None, cache: bool = True,
                  timings: dict | None = None) -> Path:
    """Validate, map and publish; return the output directory.

    Validation is `healthcoop validate`'s (records, URI register, SHACL), shard by shard;
    nothing is written into `out_dir` unless it finds no error; its SHACL report goes into
    the release. `register`: afterwards add the new entity IRIs to data/published-iris.txt;
    by default only when publishing into the project's own output/ (builds elsewhere, such
    as previews and tests, are not releases). `previous`: the previous release (directory or
    dump); the release then gets a CHANGES file. `site`: also write the static web site
    into `site/` (pipeline/site; its checksums in site/SHA256SUMS). `executor`, `jobs`,
    `scheduler`: where shards run (pipeline/shards/). `cache`: keep shard pieces in
    .cache/shards/ and reuse those whose inputs did not change (else a temporary folder).
    `timings`: filled with the seconds of each stage.
    """
    with long_lived_heap():  # (pipeline/heap.py)
        return _build_release(root, out_dir, register=register, previous=previous, site=site,
                              executor=executor, jobs=jobs, scheduler=scheduler, cache=cache,
                              timings=timings)


def _build_release(root: Path, out_dir: Path | None, *, register: bool | None,
                   previous: Path | None, site: bool, executor: str, jobs: int | None,
                   scheduler: str | None, cache: bool, timings: dict | None) -> Path:
    from pipeline.check.register import update_register
    from pipeline.check.validate import write_report_files

    root = root.resolve()
    out_dir = check_release_target(out_dir or root / "output", root)
    sweep_leftovers(out_dir)
    timings = timings if timings is not None else {}
    with _cache_folder(root, cache) as cache_dir:
        report, outputs = check_project(root, write=True, cache=cache_dir, executor=executor,
                                        jobs=jobs, scheduler=scheduler,
                                        record_cache=root / RECORD_CACHE_DIR if cache else None)
        timings.update(report.stats.get("stage seconds", {}))
        if report.errors:
            raise _invalid(report)
        project = report.project
        step = time.perf_counter()
        with staging_directory(out_dir) as staging:
            # the report first, so that the release's SHA256SUMS (written last) covers it
            write_report_files(report, staging)
            linkset_files(root, staging, project.records)
            publish_release(project, outputs, staging, previous=previous, timings=timings)
            if site:
                from pipeline.site import write_site

                started = time.perf_counter()
                write_site(staging, root)
                # the site is derived from the release: its own site/SHA256SUMS (the
                # release's SHA256SUMS, which the site's download page lists, stays that of
                # the data)
                from pipeline.publish.release import write_checksums

                write_checksums(staging / "site")
                timings["site"] = time.perf_counter() - started
        timings["publish"] = time.perf_counter() - step
        if cache:
            prune_cache(cache_dir, {Path(o.piece.folder).name for o in outputs if o.piece})
    if register if register is not None else out_dir == (root / "output").resolve():
        update_register(root, project)
    return out_dir


def _invalid(report) -> InvalidData:
    from pipeline.check.triage import consequence_summary, triage

    sorted_issues = triage(report.errors, group_repeats=False)
    message = f"{len(report.errors)} error(s) in the records; nothing was written."
    if sorted_issues.consequences:
        cause = ("The first finding is the cause" if len(sorted_issues.roots) == 1
                 else f"The first {len(sorted_issues.roots)} findings are the cause")
        message += f" {cause}, {consequence_summary(sorted_issues.consequences)}."
    return InvalidData(
        message, issues=sorted_issues.shown() or report.errors,
        fix="Run `healthcoop validate` for the full report, fix the records, build again.",
    )


@contextlib.contextmanager
def _cache_folder(root: Path, keep: bool) -> Iterator[Path]:
    """The shard cache: .cache/shards/ in the project, or a temporary folder removed after."""
    if keep:
        folder = root / CACHE_DIR
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise EnvironmentProblem(f"cannot create the shard cache {folder}: {err}",
                                     fix="Make the project folder writable, or build with "
                                         "--no-cache.") from err
        yield folder
        return
    folder = Path(tempfile.mkdtemp(prefix="healthcoop-shards-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def staging_directory(out_dir: Path) -> Iterator[Path]:
    """A temporary directory beside `out_dir`; on success it replaces `out_dir` in one step.

    On any exception, KeyboardInterrupt included, the temporary directory is removed and
    `out_dir` is untouched.
    """
    parent = out_dir.parent
    with sigint_deferred():  # Ctrl-C between mkdtemp and `try` would leak the directory
        try:
            parent.mkdir(parents=True, exist_ok=True)
            # the pid in the name lets a later build sweep it if this process dies
            staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.staging-{os.getpid()}-",
                                            dir=parent))
            # the marker says "the build made this and may replace it" (outputs.is_release):
            # a later build may sweep it if this process dies; it is bookkeeping, not data,
            # so the release's description and SHA256SUMS leave it out
            (staging / RELEASE_MARKER).write_text(
                "This directory is a healthcoop release written by `healthcoop build`; "
                "the next build may replace it as a whole.\n", encoding="utf-8")
        except OSError as err:
            raise EnvironmentProblem(
                f"cannot create a staging directory in {parent}: {err}") from err
    try:
        yield staging
        os.chmod(staging, 0o755)
        _pause_for_tests()
        with sigint_deferred():  # the swap and the clean-up complete, or never start
            swap_directories(staging, out_dir)
            shutil.rmtree(staging, ignore_errors=True)
    finally:
        with sigint_deferred():
            shutil.rmtree(staging, ignore_errors=True)


@contextlib.contextmanager
def sigint_deferred() -> Iterator[None]:
    """Hold Ctrl-C (SIGINT) back until the block is done, then deliver it.

    Python raises KeyboardInterrupt between any two bytecodes; inside a swap or a clean-up
    that would leave a half-done state. Only the main thread can set signal handlers;
    elsewhere the block simply runs.
    """
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: received.append(frame))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if received and previous is not signal.SIG_IGN:
            if callable(previous):
                previous(signal.SIGINT, received[0])
            else:
                raise KeyboardInterrupt


def _pause_for_tests() -> None:
    """Test hook: with HEALTHCOOP_TEST_PAUSE_BEFORE_SWAP=<file>, create <file> once the
    release is staged and wait until it is removed, so a test can interrupt a build at its
    most delicate point. Unset (always, outside the test-suite) it does nothing."""
    flag = os.environ.get("HEALTHCOOP_TEST_PAUSE_BEFORE_SWAP")
    if not flag:
        return
    import time

    Path(flag).write_text(str(os.getpid()), encoding="utf-8")
    while Path(flag).exists():
        time.sleep(0.02)


_RENAME_EXCHANGE = 2


def swap_directories(new: Path, target: Path) -> None:
    """Make `new` become `target`. With an existing target the two are exchanged atomically
    (Linux renameat2 RENAME_EXCHANGE); the old contents end up at `new` for the caller to
    delete. Elsewhere, fall back to two renames (a very short window without `target`)."""
    if not target.exists():
        os.rename(new, target)
        return
    if _exchange(new, target):
        return
    old = target.with_name(f".{target.name}.old-{os.getpid()}")
    os.rename(target, old)
    try:
        os.rename(new, target)
    except OSError:
        os.rename(old, target)
        raise
    os.rename(old, new)


def _exchange(a: Path, b: Path) -> bool:
    libc_name = ctypes.util.find_library("c")
    if not libc_name:
        return False
    try:
        libc = ctypes.CDLL(libc_name, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd = -100
    result = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE)
    return result == 0
