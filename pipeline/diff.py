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
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from . import vocab
from .errors import EnvironmentProblem, InvalidData, Issue

DESCRIPTION_PREFIX = vocab.DATASET  # the dataset node, its #fragments and version IRIs
HCID = str(vocab.HCID)
OWL_DEPRECATED = "http://www.w3.org/2002/07/owl#deprecated"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"

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


def format_of(path: Path) -> tuple[ox.RdfFormat, bool]:
    """The RDF format of a file from its extension, and whether it is gzip-compressed."""
    suffixes = [s.lower() for s in path.suffixes]
    compressed = bool(suffixes) and suffixes[-1] == ".gz"
    if compressed:
        suffixes = suffixes[:-1]
    if not suffixes or suffixes[-1] not in FORMATS:
        raise EnvironmentProblem(
            f"cannot tell the RDF format of {path}",
            fix="Name the file with one of the extensions "
                f"{', '.join(sorted(FORMATS))} (optionally followed by .gz).",
        )
    return FORMATS[suffixes[-1]], compressed


def release_file(path: Path) -> Path:
    """The dump to read for a release: the file itself, or the best dump of a directory."""
    if path.is_dir():
        for name in RELEASE_DUMPS:
            if (path / name).is_file():
                return path / name
        raise EnvironmentProblem(
            f"{path} holds no healthcoop dump ({', '.join(RELEASE_DUMPS[:5])}, ...)",
            fix="Give a release directory (e.g. output/) or a dump file.")
    if not path.is_file():
        raise EnvironmentProblem(f"{path} does not exist",
                                 fix="Give a release directory or a dump file.")
    return path


def read_data(path: Path) -> set[ox.Triple]:
    """The data triples of a release (graphs merged, the dataset description left out)."""
    file = release_file(path)
    fmt, compressed = format_of(file)
    try:
        raw = file.read_bytes()
        if compressed:
            raw = gzip.decompress(raw)
        parsed = ox.parse(raw, format=fmt, base_iri=None)
        triples = set()
        for item in parsed:
            # pyoxigraph parses every format to quads (a quad never equals a triple): keep
            # the triple, so releases in different formats compare
            triple = ox.Triple(item.subject, item.predicate, item.object)
            if not _is_description(triple.subject):
                triples.add(triple)
    except (SyntaxError, ValueError, OSError, EOFError) as err:
        raise InvalidData(
            f"cannot read {file}: {err}",
            issues=[Issue(str(file), 0, "(file)", f"Not a valid {fmt.name} file: {err}",
                          "Check that the file is a complete healthcoop dump.")],
        ) from err
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
        f"healthcoop diff: {diff.old} -> {diff.new}",
        f"triples: {diff.old_triples} -> {diff.new_triples} "
        f"(+{diff.added} added, -{diff.removed} removed)",
    ]
    for status, title in (("new", "new entities"), ("changed", "changed entities"),
                          ("retired", "retired entities (owl:deprecated)"),
                          ("gone", "GONE: published IRIs that vanished (not allowed)")):
        group = diff.by_status(status)
        lines.append(f"{title}: {len(group)}")
        for change in group:
            label = f" ({change.label})" if change.label else ""
            lines.append(f"  {short(change.entity)}{label}: "
                         f"+{len(change.added)} -{len(change.removed)}")
    if triples and diff.entities:
        lines.append("")
        lines.append("triples by entity:")
        for change in diff.entities:
            lines.append(f"{short(change.entity)} [{change.status}]")
            lines.extend(f"  + {t}" for t in change.added)
            lines.extend(f"  - {t}" for t in change.removed)
    if not diff.entities:
        lines.append("no changes")
    return "\n".join(lines) + "\n"


def format_json(diff: ReleaseDiff) -> str:
    document = {"old": diff.old, "new": diff.new, "summary": diff.summary(),
                "entities": [e.as_dict() for e in diff.entities]}
    return json.dumps(document, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


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
    target.write_text(format_text(diff), encoding="utf-8", newline="\n")
    return target


def _release_name(path: Path) -> str:
    """The previous release's version (from its void.ttl) when it can be read, else its name."""
    directory = path if path.is_dir() else path.parent
    void = directory / "void.ttl"
    if void.is_file():
        try:
            for t in ox.parse(path=str(void), format=ox.RdfFormat.TURTLE):
                if (t.subject == ox.NamedNode(vocab.DATASET)
                        and t.predicate.value == "http://www.w3.org/ns/dcat#version"):
                    return f"release {t.object.value}"
        except (SyntaxError, ValueError, OSError):
            pass
    return path.name
