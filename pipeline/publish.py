"""Stage `publish`: triples -> the dump files of a release, byte-for-byte reproducible.

In:  an iterable of rdflib triples (the mapped dataset), and an output directory.
Out: `healthcoop.nt` (canonical N-Triples), `healthcoop.ttl` (Turtle with prefixes),
     `healthcoop.jsonld` (compact JSON-LD with an inline context) and `context.jsonld`.

Entry function: `write_dumps(triples, out_dir)`. Triples are converted to pyoxigraph terms
(whose writers are strict and fast), de-duplicated and sorted, so the files do not depend on
mapping order, hash seeds or blank-node labels (there are none: every node is an IRI).
Exporters are registered by format in `EXPORTERS`; a serialiser error fails the build.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
from rdflib import BNode, Literal, URIRef

from . import jsonld
from .errors import InvalidData, Issue
from .vocab import PREFIXES

Triples = list[ox.Triple]


def to_oxigraph(term) -> ox.NamedNode | ox.Literal | ox.BlankNode:
    """One rdflib term as a pyoxigraph term; pyoxigraph rejects IRIs that are not valid."""
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype:
            return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
        return ox.Literal(str(term))
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    raise TypeError(f"not an RDF term: {term!r}")


def canonical_triples(triples: Iterable[tuple]) -> Triples:
    """Convert, de-duplicate and sort (by the N-Triples form of subject, predicate, object)."""
    converted: dict[str, ox.Triple] = {}
    for s, p, o in triples:
        try:
            triple = ox.Triple(to_oxigraph(s), to_oxigraph(p), to_oxigraph(o))
        except (ValueError, TypeError) as err:
            raise InvalidData(
                f"cannot write the triple ({s}, {p}, {o}): {err}",
                issues=[Issue("(mapping)", 0, str(p), f"Invalid RDF term: {err}",
                              "Check the record that produced this value for invalid characters.")],
            ) from err
        converted.setdefault(str(triple), triple)
    return [converted[key] for key in sorted(converted, key=_order_key(converted))]


def _order_key(converted: dict[str, ox.Triple]) -> Callable[[str], tuple]:
    # group by subject first so Turtle and JSON-LD can stream one subject at a time; sort
    # rdf:type first within a subject for readability
    def key(line: str) -> tuple:
        t = converted[line]
        is_type = t.predicate.value != "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
        return (str(t.subject), is_type, str(t.predicate), str(t.object))

    return key


@dataclass(frozen=True)
class Exporter:
    """One dump format: its file name, media type and how to write it."""

    format: str
    file_name: str
    media_type: str
    write: Callable[[Triples, Path], None]


def _write_ntriples(triples: Triples, path: Path) -> None:
    ox.serialize(triples, str(path), ox.RdfFormat.N_TRIPLES)


def _write_turtle(triples: Triples, path: Path) -> None:
    ox.serialize(triples, str(path), ox.RdfFormat.TURTLE, prefixes=PREFIXES)


def _write_jsonld(triples: Triples, path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="\n") as out:
        jsonld.write(triples, out)


EXPORTERS: list[Exporter] = [
    Exporter("ntriples", "healthcoop.nt", "application/n-triples", _write_ntriples),
    Exporter("turtle", "healthcoop.ttl", "text/turtle", _write_turtle),
    Exporter("jsonld", "healthcoop.jsonld", "application/ld+json", _write_jsonld),
]


def publish_release(project, triples: Triples, out_dir: Path) -> list[Path]:
    """Everything a release holds, written into `out_dir` (a staging directory)."""
    return write_dumps(triples, out_dir)


def write_dumps(triples: Triples, out_dir: Path) -> list[Path]:
    """Write every registered dump format into `out_dir`; return the paths written."""
    written = []
    for exporter in EXPORTERS:
        path = out_dir / exporter.file_name
        exporter.write(triples, path)
        written.append(path)
    context_path = out_dir / "context.jsonld"
    context_path.write_text(
        json.dumps({"@context": jsonld.context()}, indent=2, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    written.append(context_path)
    return written
