"""`healthcoop build`: chain the stages and publish a release into `output/` atomically.

In:  the project root (data/, ontology/, shapes/).
Out: `output/` replaced as a whole by the new release, or left exactly as it was when
     anything fails (invalid data, a serialiser error, Ctrl-C).

Entry function: `build_release(root, out_dir)`. Stages: sources -> records -> checks ->
validate (URI register, SHACL) -> mapping -> publish, each its own module. The release is
written into a temporary directory beside `out_dir` and swapped in with one rename.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph
from rdflib.namespace import RDF, SKOS

from .checks import check_records, check_sources
from .dataset_meta import check_dataset_metadata
from .errors import EnvironmentProblem, InvalidData, IssueList
from .link import ENRICHMENT_GRAPH, enrichment_triples, link_triples, linkset_files
from .mapping import MappingContext, map_dataset
from .outputs import RELEASE_MARKER, check_release_target, sweep_leftovers
from .publish import LINKS_GRAPH, TOPICS_GRAPH, canonical_triples, publish_release
from .records import RecordSet, load_records
from .relations import check_relations
from .sources import SourceText, load_sources
from .vocab import HCTOPIC

TOPICS_FILE = Path("ontology/topics.ttl")


@dataclass
class LoadedProject:
    """Everything read from the project before mapping, with the issues found."""

    root: Path
    sources: dict[str, SourceText]
    records: RecordSet
    topics: set[str]
    issues: IssueList = field(default_factory=IssueList)


def load_topics(root: Path, issues: IssueList) -> set[str]:
    """Topic ids of the SKOS concept scheme in ontology/topics.ttl."""
    path = root / TOPICS_FILE
    if not path.is_file():
        issues.add(TOPICS_FILE.as_posix(), 0, "(file)", "The topic scheme is missing.",
                   "Restore ontology/topics.ttl from version control.")
        return set()
    graph = Graph()
    try:
        graph.parse(path, format="turtle")
    except Exception as err:  # rdflib raises many kinds of parse errors
        issues.add(TOPICS_FILE.as_posix(), 0, "(file)", f"Cannot parse the topic scheme: {err}",
                   "Fix the Turtle syntax of ontology/topics.ttl.")
        return set()
    prefix = str(HCTOPIC)
    return {
        str(c)[len(prefix):] for c in graph.subjects(RDF.type, SKOS.Concept)
        if str(c).startswith(prefix)
    }


def load_project(root: Path) -> LoadedProject:
    """Read and check sources, records and topics; nothing is written."""
    issues = IssueList()
    sources = load_sources(root, issues)
    records = load_records(root, issues)
    before = len(issues.items)
    topics = load_topics(root, issues)
    # an unreadable scheme is reported once, not as one "unknown topic" per reference
    check_records(records, sources, topics if len(issues.items) == before else None, issues)
    check_sources(root, sources, records, issues)
    check_relations(records, issues)
    check_dataset_metadata(root, issues)
    return LoadedProject(root, sources, records, topics, issues)


def map_project(project: LoadedProject) -> tuple[list, MappingContext]:
    """The dataset's triples, canonically ordered, and the mapping context (origins)."""
    ctx = MappingContext(project.records, project.sources)
    return canonical_triples(map_dataset(ctx)), ctx


def reference_graphs(project: LoadedProject) -> dict[str, Iterable]:
    """Triples that derive from no one source, by the named graph they are published in:
    accepted Wikidata/ROR links (data/links.yaml), the topic scheme (so that a consumer who
    loads only a dump still gets topic labels) and, where `healthcoop link --enrich` stored
    them, labels from Wikidata with their provenance."""
    root = Path(project.root)
    return {
        LINKS_GRAPH: link_triples(root),
        TOPICS_GRAPH: ((t.subject, t.predicate, t.object)
                       for t in ox.parse(path=str(root / TOPICS_FILE), format=ox.RdfFormat.TURTLE)),
        str(ENRICHMENT_GRAPH): enrichment_triples(root),
    }


def build_release(root: Path, out_dir: Path | None = None, *,
                  register: bool | None = None, previous: Path | None = None,
                  site: bool = True) -> Path:
    """Validate, map and publish; return the output directory.

    Validation is `healthcoop validate`'s (records, URI register, SHACL) and runs before
    anything is written; its SHACL report goes into the release. `register`: afterwards add
    the new entity IRIs to data/published-iris.txt; by default only when publishing into the
    project's own output/ (builds elsewhere, such as previews and tests, are not releases).
    `previous`: the previous release (directory or dump); the release then gets a CHANGES file.
    `site`: also write the static web site into `site/` (pipeline/site; its checksums in
    site/SHA256SUMS).
    """
    from .register import update_register
    from .validate import validate_project, write_report_files

    root = root.resolve()
    out_dir = check_release_target(out_dir or root / "output", root)
    sweep_leftovers(out_dir)
    report = validate_project(root)
    if report.errors:
        from .triage import consequence_summary, triage

        sorted_issues = triage(report.errors, group_repeats=False)
        message = f"{len(report.errors)} error(s) in the records; nothing was written."
        if sorted_issues.consequences:
            cause = ("The first finding is the cause" if len(sorted_issues.roots) == 1
                     else f"The first {len(sorted_issues.roots)} findings are the cause")
            message += f" {cause}, {consequence_summary(sorted_issues.consequences)}."
        raise InvalidData(
            message, issues=sorted_issues.shown() or report.errors,
            fix="Run `healthcoop validate` for the full report, fix the records, build again.",
        )
    project = report.project
    triples, _ctx = map_project(project)
    with staging_directory(out_dir) as staging:
        # the report first, so that the release's SHA256SUMS (written last) covers it
        write_report_files(report, staging)
        linkset_files(root, staging)
        publish_release(project, triples, staging, previous=previous,
                        graphs=reference_graphs(project))
        if site:
            from .site import write_site

            write_site(staging, root)
            # the site is derived from the release: its own site/SHA256SUMS (the release's
            # SHA256SUMS, which the site's download page lists, stays that of the data)
            from .publish import write_checksums

            write_checksums(staging / "site")
    if register if register is not None else out_dir == (root / "output").resolve():
        update_register(root, project)
    return out_dir


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
