"""Stage `publish`: triples -> the files of a release, byte-for-byte reproducible.

In:  the mapped dataset (rdflib or pyoxigraph triples), the project (for `data/dataset.yaml`,
     `ontology/`, `shapes/`, `queries/`), an output directory (the build's staging directory)
     and optionally the previous release (for `CHANGES`).
Out: the release (README.md, "What `make build` produces"):

     healthcoop.{ttl,nt,jsonld}   the data + the dataset description, in the default graph
     healthcoop.{nq,trig}         the same, one named graph per source, one per reference
                                  graph (links, topics, Wikidata labels), one for the description
     *.gz                         each of the five, gzip-compressed (no name, mtime 0)
     context.jsonld               the JSON-LD context on its own
     void.ttl                     the dataset description (DCAT + VoID), complete
     ontology/*.ttl, shapes/*.ttl the ontology, topic scheme and SHACL shapes, byte for byte
     tables/*.csv, tables/csv-metadata.json, datapackage.json
                                  the data as CSV on the Web tables (`tables.write_table_rows`)
     queries/*.rq                 the example queries
     CHANGES                      what changed since the previous release (when given)
     SHA256SUMS                   `sha256sum -c` list of every other file

Entry function: `publish_release(project, triples, out_dir, previous=None)`. Triples are
converted to pyoxigraph terms (strict, fast writers), de-duplicated and sorted, so the files
do not depend on mapping order or hash seeds; there are no blank nodes. Which named graph a
triple belongs to is decided by `assign_graphs` (docs/model.md, "Named graphs").

Checksums and self-reference: a file cannot hold its own checksum, and every dump embeds
the description. So the description embedded in the dumps gives byte size and SHA-256 of
every file that does not itself embed the description (context, ontology, shapes, queries,
tables)
and lists the dumps without them; `void.ttl` is that description plus the dumps' sizes and
checksums (it describes every file but itself, SHA256SUMS and CHANGES); `SHA256SUMS`
covers every file, `void.ttl` included.
"""

from __future__ import annotations

import json
import re
import shutil
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
from rdflib import BNode, Literal, URIRef

from pipeline.errors import InvalidData, Issue
from pipeline.publish import describe, jsonld
from pipeline.publish.describe import sha256_file
from pipeline.publish.pieces import merged_rows
from pipeline.publish.tables import write_table_rows
from pipeline.rdf import vocab
from pipeline.rdf.oxterms import literal
from pipeline.rdf.vocab import PREFIXES

Triples = list[ox.Triple]
Quads = list[ox.Quad]

GRAPH_BASE = vocab.BASE + "graph/"
DESCRIPTION_GRAPH = describe.DESCRIPTION_GRAPH
UNSOURCED_GRAPH = GRAPH_BASE + "unsourced"
LINKS_GRAPH = GRAPH_BASE + "links"
TOPICS_GRAPH = GRAPH_BASE + "topics"
TURTLE_PREFIXES = {**PREFIXES, **describe.EXTRA_PREFIXES}

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
DCT_SOURCE = "http://purl.org/dc/terms/source"
OA = str(vocab.OA)
HC = str(vocab.HC)
HCID = str(vocab.HCID)
PROV_DERIVED = "http://www.w3.org/ns/prov#wasDerivedFrom"


def to_oxigraph(term) -> ox.NamedNode | ox.Literal | ox.BlankNode:
    """One rdflib term as a pyoxigraph term; pyoxigraph rejects IRIs that are not valid."""
    if isinstance(term, (ox.NamedNode, ox.Literal, ox.BlankNode)):
        return term
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, Literal):
        return literal(term)
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    raise TypeError(f"not an RDF term: {term!r}")


def canonical_triples(triples: Iterable[tuple]) -> Triples:
    """Convert, de-duplicate and sort (by the N-Triples form of subject, predicate, object)."""
    converted: set[ox.Triple] = set()  # pyoxigraph terms hash and compare by value
    for s, p, o in triples:
        try:
            triple = ox.Triple(to_oxigraph(s), to_oxigraph(p), to_oxigraph(o))
        except (ValueError, TypeError) as err:
            raise InvalidData(
                f"cannot write the triple ({s}, {p}, {o}): {err}",
                issues=[Issue("(mapping)", 0, str(p), f"Invalid RDF term: {err}",
                              "Check the record that produced this value for invalid characters.")],
            ) from err
        converted.add(triple)
    return sorted(converted, key=_triple_key)


def _triple_key(t: ox.Triple) -> tuple:
    # group by subject first so Turtle and JSON-LD can stream one subject at a time; sort
    # rdf:type first within a subject for readability
    return (str(t.subject), t.predicate.value != RDF_TYPE, str(t.predicate), str(t.object))


def _quad_key(q: ox.Quad) -> tuple:
    return (str(q.graph_name), *_triple_key(q.triple))


# --- named graphs ----------------------------------------------------------------------------

def source_graph(source_id: str) -> str:
    """The named graph of one source: https://w3id.org/healthcoop/graph/<source-id>."""
    return GRAPH_BASE + source_id


def entity_of(node) -> str | None:
    """The entity a node belongs to: `…/id/<id>#anything` -> `…/id/<id>`; None for literals."""
    if not isinstance(node, ox.NamedNode):
        return None
    iri = node.value
    if iri.startswith(HCID) and "#" in iri:
        return iri.split("#", 1)[0]
    return iri


def assign_graphs(triples: Iterable[ox.Triple]) -> Quads:
    """Each data triple in the named graph(s) of the sources it derives from.

    The rule (docs/model.md, "Named graphs"):
    - a source node's triples go to the source's own graph;
    - an evidence annotation (and its target and selectors, and the entity's `hc:evidence`
      link to it) goes to the graph of the source it quotes (`oa:hasSource`);
    - every other triple of an entity (and of its fragment nodes, e.g. `#amount`) goes to
      the graph of every source the entity cites (`dct:source`, evidence `oa:hasSource`);
    - an entity that cites no source (a place recorded without evidence) goes wherever the
      entities that refer to it go (followed transitively); one that nothing refers to goes
      to `…/graph/unsourced`.
    A triple may so be in several graphs. Returns sorted, de-duplicated quads.
    """
    triples = list(triples)
    sources: set[str] = set()
    cites: dict[str, set[str]] = {}
    target_of: dict[str, str] = {}        # annotation -> its target
    source_of_target: dict[str, str] = {}  # target -> source quoted
    derived: dict[str, str] = {}          # annotation -> source (prov:wasDerivedFrom)
    selectors: dict[str, str] = {}        # selector -> target
    for t in triples:
        s, p, o = t.subject, t.predicate.value, t.object
        if p == RDF_TYPE and o == ox.NamedNode(HC + "Source"):
            sources.add(s.value)
        elif p == DCT_SOURCE and isinstance(o, ox.NamedNode):
            cites.setdefault(entity_of(s), set()).add(o.value)
        elif p == OA + "hasTarget":
            target_of[s.value] = o.value
        elif p == OA + "hasSource":
            source_of_target[s.value] = o.value
        elif p == PROV_DERIVED and isinstance(o, ox.NamedNode):
            derived[s.value] = o.value
        elif p == OA + "hasSelector":
            selectors[o.value] = s.value
    quoted: dict[str, str] = {}  # evidence node (annotation, target, selector) -> source
    for ann, target in target_of.items():
        src = source_of_target.get(target) or derived.get(ann)
        if src:
            quoted[ann] = quoted[target] = src
    for selector, target in selectors.items():
        if target in quoted:
            quoted[selector] = quoted[target]
    for node, src in quoted.items():
        cites.setdefault(entity_of(ox.NamedNode(node)), set()).add(src)
    for src in sources:
        cites[src] = {src}

    graphs: dict[str, set[str]] = {e: {source_graph(_source_id(s)) for s in srcs}
                                   for e, srcs in cites.items()}
    # entities citing nothing inherit the graphs of the entities that refer to them
    referrers: dict[str, set[str]] = {}
    for t in triples:
        target = entity_of(t.object)
        subject = entity_of(t.subject)
        if target and target != subject:
            referrers.setdefault(target, set()).add(subject)
    changed = True
    while changed:
        changed = False
        for entity, refs in referrers.items():
            if entity in cites:
                continue
            inherited = set().union(*(graphs.get(r, set()) for r in refs))
            if not inherited <= graphs.get(entity, set()):
                graphs.setdefault(entity, set()).update(inherited)
                changed = True

    quads: set[ox.Quad] = set()
    for t in triples:
        s = t.subject.value
        if s in quoted:
            names = {source_graph(_source_id(quoted[s]))}
        elif t.predicate.value == HC + "evidence" and t.object.value in quoted:
            names = {source_graph(_source_id(quoted[t.object.value]))}
        else:
            names = graphs.get(entity_of(t.subject)) or {UNSOURCED_GRAPH}
        for name in names:
            quads.add(ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(name)))
    return sorted(quads, key=_quad_key)


def _source_id(iri: str) -> str:
    return iri[len(HCID):] if iri.startswith(HCID) else describe.slug(iri)


# --- writers ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Exporter:
    """One dump format: its file name, media type, W3C format IRI and how to write it."""

    format: str
    file_name: str
    media_type: str
    format_iri: str
    write: Callable[[Triples, Quads, Path], None]
    quads: bool = False


def _write_ntriples(triples: Triples, quads: Quads, path: Path) -> None:
    ox.serialize(triples, str(path), ox.RdfFormat.N_TRIPLES)


def _write_turtle(triples: Triples, quads: Quads, path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="\n") as out:
        TurtleWriter(TURTLE_PREFIXES, triples).write_triples(triples, out)


def _write_jsonld(triples: Triples, quads: Quads, path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="\n") as out:
        jsonld.write(triples, out)


def _write_nquads(triples: Triples, quads: Quads, path: Path) -> None:
    ox.serialize(quads, str(path), ox.RdfFormat.N_QUADS)


def _write_trig(triples: Triples, quads: Quads, path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="\n") as out:
        TurtleWriter(TURTLE_PREFIXES, (q.triple for q in quads)).write_quads(quads, out)


class TurtleWriter:
    """A small Turtle / TriG writer that only uses syntax every parser reads the same way.

    Why not pyoxigraph's: it writes fragment nodes as prefixed names with an escaped `#`
    (`hcid:ma-xiaowei\\#evidence-…`), valid Turtle 1.1 that serdi, rapper, riot and N3.js
    read correctly, but that Virtuoso 7.2 loads as an IRI *containing a backslash*. Here a
    prefixed name is used only when the local name is plain (`[A-Za-z][A-Za-z0-9_-]*`);
    every other IRI is written in full, and literals in their N-Triples form (with `^^`
    datatypes shortened to a prefixed name when plain). Output is grouped by subject (and
    graph) in the order given, prefixes are those used, sorted: deterministic.
    """

    PLAIN_LOCAL = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
    RDF_TYPE = RDF_TYPE

    def __init__(self, prefixes: dict[str, str], triples: Iterable[ox.Triple]) -> None:
        self.namespaces = sorted(prefixes.items(), key=lambda kv: (-len(kv[1]), kv[0]))
        self.cache: dict[str, str] = {}
        self.used: set[str] = set()
        for t in triples:  # first pass: which prefixes the output needs
            for term in (t.subject, t.predicate, t.object):
                self.term(term)
        self.prefixes = sorted((p, ns) for p, ns in prefixes.items() if p in self.used)

    def iri(self, iri: str) -> str:
        name = self.cache.get(iri)
        if name is None:
            name = "<" + iri + ">"
            for prefix, ns in self.namespaces:
                if iri.startswith(ns) and self.PLAIN_LOCAL.fullmatch(iri[len(ns):]):
                    name = f"{prefix}:{iri[len(ns):]}"
                    self.used.add(prefix)
                    break
            self.cache[iri] = name
        return name

    def term(self, term) -> str:
        if isinstance(term, ox.NamedNode):
            return self.iri(term.value)
        if isinstance(term, ox.Literal) and not term.language and \
                term.datatype.value != jsonld.XSD_STRING:
            lexical = str(ox.Literal(term.value))
            return f"{lexical}^^{self.iri(term.datatype.value)}"
        return str(term)

    def _header(self, out) -> None:
        for prefix, ns in self.prefixes:
            out.write(f"@prefix {prefix}: <{ns}> .\n")
        out.write("\n")

    def _block(self, triples: list[ox.Triple], out, indent: str = "") -> None:
        """One subject's triples: `s p o1 , o2 ; p2 o3 .` (predicates in the order given)."""
        out.write(indent + self.term(triples[0].subject) + "\n")
        by_predicate: dict = {}
        for t in triples:
            by_predicate.setdefault(t.predicate, []).append(t.object)
        parts = []
        for predicate, objects in by_predicate.items():
            verb = "a" if predicate.value == self.RDF_TYPE else self.term(predicate)
            values = f" ,\n{indent}        ".join(self.term(o) for o in objects)
            parts.append(f"{indent}    {verb} {values}")
        out.write(" ;\n".join(parts) + " .\n")

    def _subjects(self, triples: Iterable[ox.Triple], out, indent: str = "") -> None:
        group: list[ox.Triple] = []
        for t in triples:
            if group and t.subject != group[0].subject:
                self._block(group, out, indent)
                out.write("\n")
                group = []
            group.append(t)
        if group:
            self._block(group, out, indent)

    def write_triples(self, triples: Iterable[ox.Triple], out) -> None:
        self._header(out)
        self._subjects(triples, out)

    def write_quads(self, quads: Iterable[ox.Quad], out) -> None:
        self._header(out)
        graph = None
        batch: list[ox.Triple] = []
        for q in list(quads) + [None]:
            if batch and (q is None or q.graph_name != graph):
                out.write(f"{self.term(graph)} {{\n")
                self._subjects(batch, out, "    ")
                out.write("}\n\n" if q is not None else "}\n")
                batch = []
            if q is not None:
                graph = q.graph_name
                batch.append(q.triple)


_F = "http://www.w3.org/ns/formats/"
EXPORTERS: list[Exporter] = [
    Exporter("ntriples", "healthcoop.nt", "application/n-triples", _F + "N-Triples",
             _write_ntriples),
    Exporter("turtle", "healthcoop.ttl", "text/turtle", _F + "Turtle", _write_turtle),
    Exporter("jsonld", "healthcoop.jsonld", "application/ld+json", _F + "JSON-LD",
             _write_jsonld),
    Exporter("nquads", "healthcoop.nq", "application/n-quads", _F + "N-Quads",
             _write_nquads, quads=True),
    Exporter("trig", "healthcoop.trig", "application/trig", _F + "TriG", _write_trig,
             quads=True),
]
EXPORTERS_BY_FORMAT = {e.format: e for e in EXPORTERS}


# --- the release -----------------------------------------------------------------------------

COPIED_DIRS = (("ontology", "*.ttl"), ("shapes", "*.ttl"), ("queries", "*.rq"))
MEDIA_TYPES = {".ttl": "text/turtle", ".rq": "application/sparql-query",
               ".jsonld": "application/ld+json"}


def publish_release(project, outputs: list, out_dir: Path,
                    previous: Path | None = None, timings: dict | None = None) -> list[Path]:
    """Everything a release holds, written into `out_dir` (a staging directory), from the
    shards' outputs (pipeline/shards/): their statistics, merged, make the description;
    their pieces, concatenated after it, make the dumps (pipeline/publish/pieces.py)."""
    import time

    from pipeline.publish.pieces import assemble_dumps

    timings = timings if timings is not None else {}
    root = Path(project.root)
    meta = describe.load_metadata(root)
    stats = describe.DataStats(meta.uri_space)
    graph_sizes: Counter = Counter()
    for output in outputs:
        stats.merge(output.stats)
        graph_sizes.update(output.graph_sizes)

    # 1. the files that do not embed the description (and any the build wrote before, such
    #    as the validation report)
    started = time.perf_counter()
    earlier = _describe_existing(out_dir)
    static, conforms_to = _write_static(root, out_dir)
    pieces = [o.piece for o in outputs if o.piece is not None]
    problems = [i for o in outputs for i in (o.table_issues or ())]
    if problems:
        raise InvalidData("the tables cannot be written", issues=problems)
    tables = write_table_rows(  # CSVW + datapackage.json, merged from the shards' rows
        lambda name: merged_rows([p.rows_path(name) for p in pieces if name in p.tables]),
        out_dir, meta)
    timings["tables"] = time.perf_counter() - started
    static = sorted(earlier + static + tables, key=lambda f: f.path)
    # 2. the description the dumps embed: dumps listed without size and checksum
    started = time.perf_counter()
    planned = [_dump_info(out_dir, e.file_name, e, gz) for e in EXPORTERS for gz in (False, True)]
    sources = sorted(getattr(project, "sources", {}) or {})
    info = describe.Description(meta, stats, dict(graph_sizes), sources,
                                files=static + [p.unstated() for p in planned],
                                conforms_to=conforms_to)
    embedded = canonical_triples(describe.describe(info))
    # 3. the dumps and their gzip copies: header, description, pieces
    dumps = assemble_dumps(out_dir, embedded, DESCRIPTION_GRAPH, pieces, TURTLE_PREFIXES)
    timings["dumps"] = time.perf_counter() - started
    # 4. void.ttl: the complete description
    started = time.perf_counter()
    info.files = static + [_dump_info(out_dir, e.file_name, e, gz, measured=dumps)
                           for e in EXPORTERS for gz in (False, True)]
    void_path = out_dir / "void.ttl"
    _write_turtle(canonical_triples(describe.describe(info)), [], void_path)
    written = [out_dir / f.path for f in static] + list(dumps) + [void_path]
    # 5. CHANGES against the previous release
    if previous is not None:
        from pipeline.consume.diff import write_changes

        written.append(write_changes(previous, out_dir, out_dir / "CHANGES"))
    # 6. SHA256SUMS
    # (every file described so far was hashed when it was written or described)
    written.append(write_checksums(out_dir, {f.path: f.sha256 for f in info.files if f.sha256}))
    timings["description and checksums"] = time.perf_counter() - started
    return written


def _dump_info(out_dir: Path, name: str, exporter: Exporter, gz: bool,
               measured: dict[Path, tuple[int, str]] | None = None) -> describe.FileInfo:
    """A dump's entry in the description: without size and checksum, or with those
    `assemble_dumps` measured."""
    rel = name + (".gz" if gz else "")
    kind = "quads, one named graph per source" if exporter.quads else "default graph"
    text = (f"The data and its description ({kind})"
            + (", gzip-compressed." if gz else "."))
    kwargs = dict(format=exporter.format_iri, compressed=gz, data_dump=True, description=text)
    if measured is not None:
        size, sha256 = measured[out_dir / rel]
        return describe.FileInfo(rel, exporter.media_type, size, sha256, **kwargs)
    return describe.FileInfo(rel, exporter.media_type, None, None, **kwargs)


def _write_static(root: Path, out_dir: Path) -> tuple[list[describe.FileInfo], list[str]]:
    """context.jsonld, and the ontology, shapes and queries copied byte for byte (each RDF
    file is parsed strictly first: a consumer must never get a file that does not parse)."""
    files: list[describe.FileInfo] = []
    context_path = out_dir / "context.jsonld"
    context_path.write_text(
        json.dumps({"@context": jsonld.context()}, indent=2, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    files.append(describe.FileInfo.of(
        context_path, "context.jsonld", "application/ld+json", distributes=None,
        description="The JSON-LD context of healthcoop.jsonld, on its own."))
    conforms_to: list[str] = []
    for folder, pattern in COPIED_DIRS:
        for src in sorted((root / folder).glob(pattern)) if (root / folder).is_dir() else []:
            rel = f"{folder}/{src.name}"
            dest = out_dir / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dest)
            distributes = None
            if src.suffix == ".ttl":
                distributes = _described_resource(src, rel, folder)
                if folder == "shapes" or _is_ontology(src):
                    conforms_to.append(distributes)
            description = (_query_comment(src) if folder == "queries"
                           else f"{folder.capitalize()}: {src.name}.")
            files.append(describe.FileInfo.of(
                dest, rel, MEDIA_TYPES[src.suffix],
                format=_F + "Turtle" if src.suffix == ".ttl" else None,
                distributes=distributes, description=description))
    if not conforms_to:
        conforms_to = [describe.ONTOLOGY_DEFAULT, describe.SHAPES_DEFAULT]
    return files, conforms_to


OTHER_MEDIA_TYPES = {".html": "text/html", ".json": "application/json", ".txt": "text/plain",
                     ".sarif": "application/sarif+json", ".csv": "text/csv",
                     ".tsv": "text/tab-separated-values"}


MARKER = ".healthcoop-release"  # outputs.RELEASE_MARKER: bookkeeping, not part of the release


def _describe_existing(out_dir: Path) -> list[describe.FileInfo]:
    """Files already in the staging directory (written by an earlier build step)."""
    files = []
    for path in sorted(p for p in out_dir.rglob("*") if p.is_file() and p.name != MARKER):
        rel = path.relative_to(out_dir).as_posix()
        media = MEDIA_TYPES.get(path.suffix) or OTHER_MEDIA_TYPES.get(path.suffix,
                                                                      "application/octet-stream")
        if path.suffix == ".ttl":
            _parse_strict(path, rel)
        files.append(describe.FileInfo.of(path, rel, media, distributes=None,
                                          description=f"Also in the release: {rel}."))
    return files


def _parse_strict(path: Path, rel: str) -> list:
    try:
        return list(ox.parse(path=str(path), format=ox.RdfFormat.TURTLE))
    except (SyntaxError, ValueError, OSError) as err:
        raise InvalidData(
            f"{rel} does not parse: {err}",
            issues=[Issue(rel, 0, "(file)", f"Turtle syntax error: {err}",
                          "Fix the file; the release ships it byte for byte.")],
        ) from err


def _described_resource(src: Path, rel: str, folder: str) -> str:
    """The owl:Ontology (or skos:ConceptScheme) the file declares; else a default IRI."""
    kinds = ("http://www.w3.org/2002/07/owl#Ontology",
             "http://www.w3.org/2004/02/skos/core#ConceptScheme")
    declared = {}
    for t in _parse_strict(src, rel):
        if (t.predicate.value == RDF_TYPE and isinstance(t.subject, ox.NamedNode)
                and t.object.value in kinds):
            declared.setdefault(t.object.value, []).append(t.subject.value)
    for kind in kinds:
        if declared.get(kind):
            return sorted(declared[kind])[0]
    return describe.SHAPES_DEFAULT if folder == "shapes" else describe.ONTOLOGY_DEFAULT


def _is_ontology(src: Path) -> bool:
    return any(t.predicate.value == RDF_TYPE
               and t.object.value == "http://www.w3.org/2002/07/owl#Ontology"
               for t in ox.parse(path=str(src), format=ox.RdfFormat.TURTLE))


def _query_comment(path: Path) -> str:
    """The leading `#` comment of a query file: what the query answers."""
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        lines.append(line.lstrip("#").strip())
    return " ".join(x for x in lines if x) or f"Example query {path.name}."


def write_checksums(out_dir: Path, known: dict[str, str] | None = None) -> Path:
    """SHA256SUMS: `<hex>  <path>` for every file of the release but itself, sorted by path
    (check with `sha256sum -c SHA256SUMS` inside the release directory). `known`: the
    sha256 of files (by relative path) hashed as they were written; the others are read."""
    known = known or {}
    target = out_dir / "SHA256SUMS"
    lines = []
    for path in sorted(p for p in out_dir.rglob("*")
                       # (nor a copy of a SHA256SUMS, such as the site's download of it)
                       if p.is_file() and p.name not in (target.name, MARKER)):
        rel = path.relative_to(out_dir).as_posix()
        lines.append(f"{known.get(rel) or sha256_file(path)}  {rel}\n")
    target.write_text("".join(lines), encoding="utf-8", newline="\n")
    return target
