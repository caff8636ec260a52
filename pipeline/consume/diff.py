"""`healthcoop diff OLD NEW`: what changed between two releases, entity by entity.

In:  two releases, each a release directory (its N-Quads, N-Triples or Turtle dump is read)
     or one dump file in any RDF format, chosen by extension (`.nt .nq .ttl .trig .jsonld
     .rdf .owl`, each optionally `.gz`). Parsing is strict (pyoxigraph); a JSON-LD file that
     asks for a remote context is refused rather than fetched.
Out: a `ReleaseDiff`: the triples added and removed, grouped by entity (a fragment node
     `…/id/<id>#…` belongs to entity `…/id/<id>`), and which entities are new, changed,
     retired (newly `owl:deprecated true`) or gone (a published IRI that vanished: the URI
     policy forbids it). `format_text` and `format_json` render it; `write_changes` writes
     a release's CHANGES file.

Only the data is compared: named graphs are merged (a triple is in a release or not), and
the dataset description (`https://w3id.org/healthcoop/dataset` and its `#…` nodes, which
change with every release: version, checksums) is left out.

Reading a release (`release_file`, `read_dump`, `parse_dump`, also used by `healthcoop load`
and `build --previous`) refuses bad input with a message naming the file and what to do,
never a traceback, and never blocks or exhausts memory. Exit codes, consistently:
  2 (EnvironmentProblem) the path cannot be used as a release: it does not exist, is not a
    regular file (a FIFO or device is never opened for reading, so nothing hangs), is a
    directory holding no dump, is a symbolic link from a release directory to outside it
    (a release holds its own files), cannot be read, has an unknown extension, or is
    larger than MAX_DUMP_BYTES (compressed or decompressed);
  1 (InvalidData) the file is there but its content is not a release dump: 0 bytes (never
    a valid release: every dump holds at least the dataset description), a .gz that is
    empty, truncated, damaged or not gzip at all, bytes that are not UTF-8, content that
    is not the format its extension says, or a dump that parses to no triple at all.
Every path, label and parser message put into a message or report goes through
`pipeline.terminal` first, so file content never drives the terminal.
"""

from __future__ import annotations

import errno
import gzip
import io
import json
import os
import re
import stat
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from pipeline.errors import EnvironmentProblem, InvalidData, Issue
from pipeline.rdf import vocab
from pipeline.terminal import terminal_safe

DESCRIPTION_PREFIX = vocab.DATASET  # the dataset node, its #fragments and version IRIs
DESCRIPTION_GRAPH = "https://w3id.org/healthcoop/graph/description"
HCID = str(vocab.HCID)
OWL_DEPRECATED = "http://www.w3.org/2002/07/owl#deprecated"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
# a dump may be this large, compressed or not: 18 times the 100x benchmark's N-Quads, and
# what a diff of two such releases can hold in memory
MAX_DUMP_BYTES = 2 * 2**30

FORMATS = {
    ".nt": ox.RdfFormat.N_TRIPLES,
    ".nq": ox.RdfFormat.N_QUADS,
    ".ttl": ox.RdfFormat.TURTLE,
    ".trig": ox.RdfFormat.TRIG,
    ".jsonld": ox.RdfFormat.JSON_LD,
    ".json": ox.RdfFormat.JSON_LD,
    ".rdf": ox.RdfFormat.RDF_XML,
    ".owl": ox.RdfFormat.RDF_XML,
    ".n3": ox.RdfFormat.N3,
}
# what to read from a release directory, best first (all hold the same data)
RELEASE_DUMPS = ("healthcoop.nq", "healthcoop.nq.gz", "healthcoop.nt", "healthcoop.nt.gz",
                 "healthcoop.ttl", "healthcoop.ttl.gz", "healthcoop.trig", "healthcoop.jsonld")
_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a named pipe (FIFO)"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISSOCK, "a socket"))
GIVE_RELEASE = "Give a release directory (e.g. output/) or a dump file."


def shown(path: Path | str) -> str:
    """A path as messages print it: control characters and escapes made visible."""
    return terminal_safe(str(path))


def format_of(path: Path) -> tuple[ox.RdfFormat, bool]:
    """The RDF format of a file from its extension, and whether it is gzip-compressed."""
    suffixes = [s.lower() for s in path.suffixes]
    compressed = bool(suffixes) and suffixes[-1] == ".gz"
    if compressed:
        suffixes = suffixes[:-1]
    if not suffixes or suffixes[-1] not in FORMATS:
        raise EnvironmentProblem(
            f"cannot tell the RDF format of {shown(path)}",
            fix="Name the file with one of the extensions "
                f"{', '.join(sorted(FORMATS))} (optionally followed by .gz).",
        )
    return FORMATS[suffixes[-1]], compressed


def release_file(path: Path, names: tuple[str, ...] = RELEASE_DUMPS) -> Path:
    """The dump to read for a release: the file itself, or the first of `names` in a
    directory. Only ever a regular file; see the module docstring for what is refused."""
    path = Path(path)
    info = _stat(path)
    if not stat.S_ISDIR(info.st_mode):
        _require_regular(path, info)
        return path
    try:
        os.listdir(path)
    except OSError as err:
        raise EnvironmentProblem(f"cannot read the directory {shown(path)}: "
                                 f"{err.strerror}", fix="Check its permissions.") from err
    for name in names:
        candidate = path / name
        if os.path.lexists(candidate):
            _require_inside(path, candidate)
            _require_regular(candidate, _stat(candidate))
            return candidate
    listed = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")
    raise EnvironmentProblem(
        f"{shown(path)} holds no healthcoop dump ({listed})",
        fix=GIVE_RELEASE + " `healthcoop build` writes a release into output/.")


def _stat(path: Path) -> os.stat_result:
    try:
        return path.stat()
    except FileNotFoundError as err:
        if path.is_symlink():
            raise EnvironmentProblem(
                f"{shown(path)} is a symbolic link to {shown(os.readlink(path))}, which does "
                "not exist", fix=GIVE_RELEASE) from err
        raise EnvironmentProblem(f"{shown(path)} does not exist", fix=GIVE_RELEASE) from err
    except OSError as err:
        raise EnvironmentProblem(f"cannot read {shown(path)}: {err.strerror}",
                                 fix="Check the path and its permissions.") from err


def _require_regular(path: Path, info: os.stat_result) -> None:
    if stat.S_ISREG(info.st_mode):
        return
    kind = next((name for test, name in _KINDS if test(info.st_mode)), "not a regular file")
    raise EnvironmentProblem(
        f"{shown(path)} is {kind}, not a dump file",
        fix=GIVE_RELEASE + " Pipes and devices are not read: they could block forever.")


def _require_inside(directory: Path, candidate: Path) -> None:
    """A dump in a release directory must be in it: a symbolic link out of it is refused."""
    try:
        target = candidate.resolve(strict=True)
        inside = target.is_relative_to(directory.resolve(strict=True))
    except (OSError, RuntimeError) as err:  # RuntimeError: a symlink loop (Python < 3.13)
        raise EnvironmentProblem(f"cannot follow {shown(candidate)}: it is a broken or looping "
                                 "symbolic link", fix=GIVE_RELEASE) from err
    if not inside:
        raise EnvironmentProblem(
            f"{shown(candidate)} is a symbolic link to {shown(target)}, outside the release "
            f"directory {shown(directory)}",
            fix="A release directory holds its own files: copy the dump into it, or give the "
                "dump file itself.")


def read_dump(file: Path, limit: int = MAX_DUMP_BYTES) -> bytes:
    """The bytes of a dump, gunzipped if its name ends in .gz, at most `limit` of them."""
    file = Path(file)
    _format, compressed = format_of(file)
    try:  # O_NONBLOCK: opening a FIFO that appeared since release_file must not block
        fd = os.open(file, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as err:
        if err.errno == errno.ENOENT:
            raise EnvironmentProblem(f"{shown(file)} does not exist", fix=GIVE_RELEASE) from err
        raise EnvironmentProblem(f"cannot read {shown(file)}: {err.strerror}",
                                 fix="Check the file's permissions.") from err
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(fd)
        _require_regular(file, info)
        if info.st_size > limit:
            raise _too_large(file, f"is {info.st_size} bytes,", limit)
        try:
            data = handle.read(limit + 1)
        except OSError as err:
            raise EnvironmentProblem(f"cannot read {shown(file)}: {err.strerror}",
                                     fix="Check the disk and the file.") from err
    if len(data) > limit:  # it grew while we read
        raise _too_large(file, "is", limit)
    if not data:
        raise _invalid(file, "is empty (0 bytes); an empty file is not a release",
                       "Rebuild the release (`healthcoop build`) or copy it again: every "
                       "release dump holds at least the dataset description.")
    return _gunzip(file, data, limit) if compressed else data


def _gunzip(file: Path, data: bytes, limit: int) -> bytes:
    again = "Copy or download the file again, or rebuild the release."
    if data[:2] != b"\x1f\x8b":
        raise _invalid(file, "is not gzip-compressed although its name ends in .gz",
                       "Rename it without .gz if it is a plain dump; otherwise " + again)
    chunks, size = [], 0
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as stream:
            while chunk := stream.read(1 << 20):
                size += len(chunk)
                if size > limit:  # a small file that inflates without end
                    raise _too_large(file, "decompresses to", limit)
                chunks.append(chunk)
    except EOFError as err:
        raise _invalid(file, "is a truncated gzip file (the compressed data ends early)",
                       again) from err
    except (OSError, zlib.error) as err:
        raise _invalid(file, f"is a damaged gzip file ({terminal_safe(str(err))})",
                       again) from err
    if not size:
        raise _invalid(file, "decompresses to nothing (0 bytes); that is not a release", again)
    return b"".join(chunks)


def parse_dump(file: Path, raw: bytes, fmt: ox.RdfFormat) -> Iterator[ox.Quad]:
    """The statements of a dump, parsed strictly; InvalidData (naming the file and what is
    wrong) for bytes that are not UTF-8, a syntax error, or no statement at all."""
    count = 0
    try:
        for quad in ox.parse(raw, format=fmt, base_iri=None):
            count += 1
            yield quad
    except (SyntaxError, ValueError) as err:
        raise _not_valid(file, raw, fmt, err) from err
    if not count:
        raise _invalid(file, "holds no triples; a release dump holds at least the dataset "
                       "description", "Rebuild the release, or give another file.")


def _not_valid(file: Path, raw: bytes, fmt: ox.RdfFormat, err: Exception) -> InvalidData:
    if raw[:2] == b"\x1f\x8b":
        return _invalid(file, "is gzip-compressed, but its name does not end in .gz",
                        f"Rename it to {shown(file.name)}.gz.")
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as bad:
        return _invalid(file, f"is not UTF-8 text (byte 0x{raw[bad.start]:02X} at offset "
                              f"{bad.start}); release dumps are UTF-8",
                        "Give the dump itself, as `healthcoop build` wrote it.")
    message = terminal_safe(str(err))[:500]
    return _invalid(file, f"is not valid {fmt.name}: {message}",
                    "Check that the file is a complete healthcoop dump and that its "
                    "extension says its format.")


def _invalid(file: Path, what: str, fix: str) -> InvalidData:
    return InvalidData(f"{shown(file)} {what}",
                       issues=[Issue(shown(file), 0, "(file)", what, fix)], fix=fix)


def _too_large(file: Path, what: str, limit: int) -> EnvironmentProblem:
    return EnvironmentProblem(
        f"{shown(file)} {what} more than the {limit} bytes a release dump may have",
        fix="Check that this is a healthcoop dump; a larger release needs a larger "
            "MAX_DUMP_BYTES in pipeline/consume/diff.py.")


def read_data(path: Path) -> set[ox.Triple]:
    """The data triples of a release (graphs merged, the dataset description left out)."""
    file = release_file(path)
    fmt, _compressed = format_of(file)
    triples = set()
    for item in parse_dump(file, read_dump(file), fmt):
        # pyoxigraph parses every format to quads (a quad never equals a triple): keep the
        # triple, so releases in different formats compare
        triple = ox.Triple(item.subject, item.predicate, item.object)
        graph = getattr(item, "graph_name", None)
        if isinstance(graph, ox.NamedNode):
            # quads: the description is exactly its named graph (it also types vocabulary
            # IRIs such as media types, whose subjects are not ours)
            if graph.value != DESCRIPTION_GRAPH:
                triples.add(triple)
        elif not _is_description(triple.subject):
            triples.add(triple)
    return triples


def _is_description(node) -> bool:
    return isinstance(node, ox.NamedNode) and node.value.startswith(DESCRIPTION_PREFIX)


def entity_of(node) -> str:
    """`…/id/<id>#evidence-…` -> `…/id/<id>`; any other IRI (or blank node) is its own."""
    value = node.value if isinstance(node, ox.NamedNode) else str(node)
    if value.startswith(HCID) and "#" in value:
        return value.split("#", 1)[0]
    return value


@dataclass
class EntityChange:
    """The triples added to and removed from one entity (and its fragment nodes)."""

    entity: str
    label: str = ""
    status: str = "changed"  # new | changed | retired | gone
    added: list[str] = field(default_factory=list)    # N-Triples lines, sorted
    removed: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"entity": self.entity, "label": self.label, "status": self.status,
                "added": self.added, "removed": self.removed}


@dataclass
class ReleaseDiff:
    old: str
    new: str
    old_triples: int
    new_triples: int
    entities: list[EntityChange] = field(default_factory=list)

    def by_status(self, status: str) -> list[EntityChange]:
        return [e for e in self.entities if e.status == status]

    @property
    def added(self) -> int:
        return sum(len(e.added) for e in self.entities)

    @property
    def removed(self) -> int:
        return sum(len(e.removed) for e in self.entities)

    def summary(self) -> dict:
        return {
            "old_triples": self.old_triples, "new_triples": self.new_triples,
            "added_triples": self.added, "removed_triples": self.removed,
            **{status: [e.entity for e in self.by_status(status)]
               for status in ("new", "changed", "retired", "gone")},
        }


def diff_triples(old: set[ox.Triple], new: set[ox.Triple], old_name: str = "old",
                 new_name: str = "new") -> ReleaseDiff:
    """Compare two sets of data triples."""
    added, removed = new - old, old - new
    old_entities = {entity_of(t.subject) for t in old}
    new_entities = {entity_of(t.subject) for t in new}
    deprecated_old = _deprecated(old)
    deprecated_new = _deprecated(new)
    labels = _labels(old)
    labels.update(_labels(new))
    changes: dict[str, EntityChange] = {}
    for kind, triples in (("added", added), ("removed", removed)):
        for t in triples:
            entity = entity_of(t.subject)
            change = changes.setdefault(entity, EntityChange(entity, labels.get(entity, "")))
            getattr(change, kind).append(str(t) + " .")
    for entity, change in changes.items():
        change.added.sort()
        change.removed.sort()
        if entity not in old_entities:
            change.status = "new"
        elif entity not in new_entities:
            change.status = "gone"
        elif entity in deprecated_new and entity not in deprecated_old:
            change.status = "retired"
    return ReleaseDiff(old_name, new_name, len(old), len(new),
                       sorted(changes.values(), key=lambda c: c.entity))


def diff_releases(old: Path, new: Path) -> ReleaseDiff:
    """Compare two releases (directories or dump files in any RDF format)."""
    return diff_triples(read_data(Path(old)), read_data(Path(new)), str(old), str(new))


def _deprecated(triples: set[ox.Triple]) -> set[str]:
    return {entity_of(t.subject) for t in triples
            if t.predicate.value == OWL_DEPRECATED and isinstance(t.object, ox.Literal)
            and t.object.value in ("true", "1")}


def _labels(triples: set[ox.Triple]) -> dict[str, str]:
    labels: dict[str, str] = {}
    for t in sorted(triples, key=str):
        if t.predicate.value == RDFS_LABEL and isinstance(t.object, ox.Literal):
            labels.setdefault(entity_of(t.subject), t.object.value)
    return labels


def short(iri: str) -> str:
    return "hcid:" + iri[len(HCID):] if iri.startswith(HCID) else f"<{iri}>"


def format_text(diff: ReleaseDiff, *, triples: bool = True) -> str:
    """The report for people: a summary, then each entity with its added/removed triples."""
    lines = [
        f"healthcoop diff: {terminal_safe(diff.old)} -> {terminal_safe(diff.new)}",
        f"triples: {diff.old_triples} -> {diff.new_triples} "
        f"(+{diff.added} added, -{diff.removed} removed)",
    ]
    for status, title in (("new", "new entities"), ("changed", "changed entities"),
                          ("retired", "retired entities (owl:deprecated)"),
                          ("gone", "GONE: published IRIs that vanished (not allowed)")):
        group = diff.by_status(status)
        lines.append(f"{title}: {len(group)}")
        for change in group:
            label = f" ({terminal_safe(change.label)})" if change.label else ""
            lines.append(f"  {terminal_safe(short(change.entity))}{label}: "
                         f"+{len(change.added)} -{len(change.removed)}")
    if triples and diff.entities:
        lines.append("")
        lines.append("triples by entity:")
        for change in diff.entities:
            lines.append(f"{terminal_safe(short(change.entity))} [{change.status}]")
            lines.extend(f"  + {_nt_safe(t)}" for t in change.added)
            lines.extend(f"  - {_nt_safe(t)}" for t in change.removed)
    if not diff.entities:
        lines.append("no changes")
    return "\n".join(lines) + "\n"


# what pyoxigraph's N-Triples and json.dumps leave raw but a terminal acts on (C0 controls
# they escape themselves); written as \\uXXXX, which both formats read back as the character
_RAW_UNSAFE = re.compile("[\x7f-\x9f\ud800-\udfff\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _u_escaped(text: str) -> str:
    return _RAW_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04X}", text)


def _nt_safe(line: str) -> str:
    """An N-Triples line safe to print, and still N-Triples."""
    return terminal_safe(_u_escaped(line))


def format_json(diff: ReleaseDiff) -> str:
    """The report for programs; still valid JSON with the same values, but nothing in it
    can act on a terminal (DEL, C1, bidi controls are written as \\u escapes)."""
    document = {"old": diff.old, "new": diff.new, "summary": diff.summary(),
                "entities": [e.as_dict() for e in diff.entities]}
    return _u_escaped(json.dumps(document, indent=2, ensure_ascii=False, sort_keys=True)) + "\n"


def run_diff(old: Path, new: Path, output_format: str = "text") -> str:
    """What the CLI prints: the report of `diff_releases(old, new)` as text or JSON."""
    diff = diff_releases(old, new)
    return format_json(diff) if output_format == "json" else format_text(diff)


def write_changes(previous: Path, release_dir: Path, target: Path) -> Path:
    """The release's CHANGES file: the text report against the previous release.

    Paths in the report are the previous release's as given and `this release`, so the file
    does not depend on where the build ran."""
    diff = diff_triples(read_data(Path(previous)), read_data(release_dir),
                        _release_name(Path(previous)), "this release")
    try:
        target.write_text(format_text(diff), encoding="utf-8", newline="\n")
    except OSError as err:
        raise EnvironmentProblem(f"cannot write {shown(target)}: {err.strerror}",
                                 fix="Check the disk space and permissions.") from err
    return target


def _release_name(path: Path) -> str:
    """The previous release's version (from its void.ttl) when it can be read, else its name."""
    directory = path if path.is_dir() else path.parent
    void = directory / "void.ttl"
    try:  # the same care as for the dumps: a regular file inside the directory, bounded
        if os.path.lexists(void):
            _require_inside(directory, void)
            _require_regular(void, _stat(void))
            for t in parse_dump(void, read_dump(void, 64 * 2**20), ox.RdfFormat.TURTLE):
                if (t.subject == ox.NamedNode(vocab.DATASET)
                        and t.predicate.value == "http://www.w3.org/ns/dcat#version"):
                    return f"release {terminal_safe(t.object.value)}"
    except (EnvironmentProblem, InvalidData):
        pass  # the name is only a courtesy: fall back to the path's name
    return path.name
