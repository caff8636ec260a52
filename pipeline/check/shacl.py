"""Stage `shacl`: mapped triples + SHACL shapes -> located findings, shard by shard.

In:  the loaded project (records with positions, sources), the shapes (shapes/*.ttl), and
     for each shard the triples of its records (mapped once, by pipeline/shards/).
Out: `ShaclResult`s, each translated to a file:line:field `Issue` with a fix.

Entry: `ShaclRun(project, shapes, issues).validate_triples(triples, owned)`.

A shard is validated with its own triples plus, for every node it points at but does not
hold, that node's "stub" (its rdf:type, labels and the few other predicates a shape may test
on a value node, `stub_predicates`). Results are kept only for nodes the shard owns, so
shapes must target nodes by class or subject, which ours do; the same result set comes out
whatever the shards are (tests/test_validate.py compares with one whole-graph run).

Two engines give the same results: `pipeline/shacl_fast.py` (the shapes compiled to Python
checks; the default) and pyshacl (the reference, `engine="pyshacl"`); tests/test_shacl_fast.py
shows they agree on the bad-input corpus and on injected faults.

SHACL results are traced back to YAML: the focus node gives the record (the mapping's
`origins`), the result's source shape gives the field (its `sh:name`, the YAML field name),
and the record's `Where` gives the line of that field (of the list item, when the value
names one). `sh:message` is the message; the shape's `sh:description`, if any, the fix.
"""

from __future__ import annotations

import json
import re
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, RDF, RDFS

from pipeline.check.stubs import stub_predicates, stubs_of
from pipeline.errors import InvalidData, Issue, IssueList, Severity
from pipeline.link import link_triples
from pipeline.rdf.mapping import MappingContext, entity_iri, map_record, map_source
from pipeline.rdf.oxterms import OxConverter
from pipeline.rdf.vocab import HCID, HCTOPIC
from pipeline.read.records import Where

SH = Namespace("http://www.w3.org/ns/shacl#")
SHAPES_DIR = Path("shapes")
ONTOLOGY_DIR = Path("ontology")
TOPICS_FILE = "ontology/topics.ttl"
BATCH_TRIPLES = 20_000  # triples per pyshacl run (~30 MB of rdflib graph)
DOCS = "docs/records.md"

@dataclass
class ShaclResult:
    """One SHACL result, as pyshacl reported it, with the issue it was translated into."""

    focus: str
    path: str | None
    value: str | None
    shape: str  # readable: hcsh:Name, or "<node shape>/<sh:name>" for a blank property shape
    shape_iri: str | None  # the shape's IRI; None for a blank node
    component: str
    severity: str
    message: str  # the shape's sh:message (or pyshacl's own text)
    issue: Issue




def load_shapes(root: Path, issues: IssueList) -> Graph | None:
    """Every shapes/*.ttl file in one graph; a missing or broken file is a located issue."""
    directory = root / SHAPES_DIR
    files = sorted(directory.glob("*.ttl")) if directory.is_dir() else []
    if not files:
        issues.add(SHAPES_DIR.as_posix(), 0, "(file)",
                   "No SHACL shapes found (shapes/*.ttl); the graph cannot be validated.",
                   "Restore shapes/healthcoop-shapes.ttl from version control.",
                   code="shapes-missing")
        return None
    graph = Graph()
    ok = True
    for path in files:
        rel = path.relative_to(root).as_posix()
        problem = turtle_syntax_error(path)
        if problem:
            line, message = problem
            issues.add(rel, line, "(syntax)", f"The shapes file is not valid Turtle: {message}",
                       "Fix the Turtle syntax (a parser such as `riot --validate` shows where).",
                       code="shapes-syntax")
            ok = False
            continue
        graph.parse(path, format="turtle")
    if not ok:
        return None
    if not any(graph.subjects(RDF.type, SH.NodeShape)):
        issues.add(SHAPES_DIR.as_posix(), 0, "(file)", "The shapes files define no sh:NodeShape.",
                   "Restore shapes/healthcoop-shapes.ttl from version control.",
                   code="shapes-missing")
        return None
    return graph


def turtle_syntax_error(path: Path) -> tuple[int, str] | None:
    """(line, message) of the first Turtle syntax error, by pyoxigraph (strict, located)."""
    import pyoxigraph as ox

    try:
        for _ in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE):
            pass
    except SyntaxError as err:
        line = getattr(err, "lineno", None) or 0
        return int(line), str(err.msg if hasattr(err, "msg") else err)
    except (ValueError, OSError) as err:
        return 0, str(err)
    return None


class ShaclRun:
    """SHACL over the mapped dataset, shard by shard, results translated to YAML places.

    `prepare()` collects the "stub" of every node a shard may point at without holding it:
    the triples of that entity's node whose predicate a shape may test on a node that
    *points at* it (always rdf:type, for sh:class; plus the paths of shapes used through
    sh:node and friends, e.g. rdfs:label and owl:deprecated). Only records that some record
    refers to are mapped for this (actors, places, roles, sources), not the agreements and
    events that make up most of the data. `validate_triples(triples, owned)` then validates
    one shard's triples with the stubs of the nodes they point at. The topic scheme
    (ontology/topics.ttl) is a shard of its own.

    `engine`: "fast" (pipeline/shacl_fast.py, the shapes compiled once) or "pyshacl".
    """

    def __init__(self, project, shapes: Graph, issues: IssueList,
                 batch_triples: int = BATCH_TRIPLES, engine: str | None = None,
                 stub_cache: Path | None = None):
        self.project = project
        self.stub_cache = stub_cache  # (check/stub_cache.py; None: every stub is mapped)
        self.shapes = shapes
        self.issues = issues
        self.batch_triples = batch_triples
        self.engine = engine or default_engine()
        self.ctx = MappingContext(project.records, project.sources)
        self.results: list[ShaclResult] = []
        self.stats: dict = {"triples": 0, "batches": 0, "shacl_seconds": 0.0,
                            "shapes": len(set(shapes.subjects(RDF.type, SH.NodeShape)))}
        self._shape_info: dict = {}
        self._source_doc = None
        self._compiled = None
        self._bad = {i.record_id for i in issues.errors if i.record_id}
        self._known = (set(project.records.records) | set(project.records.failed)
                       | set(project.sources))
        self.stub_predicates = stub_predicates(shapes)
        self.topic_lines: dict[URIRef, int] = {}
        self.topic_triples: list = []
        self.stubs: dict[URIRef, list] = {}
        self.labels: dict[str, str] = {}  # IRI of a pointed-at node -> its rdfs:label (tables)
        self.links: dict[str, list] | None = None
        self.ox = OxConverter()
        self.prepared = False

    def __getstate__(self) -> dict:
        # the compiled shapes are closures: a process that receives a ShaclRun compiles its own
        state = dict(self.__dict__)
        state["_compiled"] = None
        return state

    # the stub of every node a shard may point at

    def prepare(self) -> ShaclRun:
        """Stubs, the accepted links by record, and the topic scheme; once per run."""
        if self.prepared:
            return self
        from pipeline.rdf.mapping import _classes  # the mapping's own record -> classes table

        stubs = self.stubs
        records = self.project.records.records
        referenced = {target for rid in records
                      for _field, _index, target in self.project.records.references_of(rid)}
        # a source's publisher is an organisation record too
        referenced.update(s.publisher for s in self.project.sources.values() if s.publisher)
        referenced = sorted(referenced)
        for source in sorted(self.project.sources.values(), key=lambda s: s.id):
            if source.id not in self._bad:
                self._add_stub(source.id, self._map(source.id, map_source, source))
        wanted = [rid for rid in referenced if rid in records and rid not in self._bad]
        for rid, stub, label, issues in stubs_of(self, wanted):
            if issues:  # it cannot be turned into RDF: reported at the record
                self.issues.extend(issues)
                self._bad.add(rid)
                stub, label = [], None
            node = entity_iri(rid)
            self.stubs[node] = stub
            if label is not None:
                self.labels[str(node)] = label
        for rid in sorted(self._bad):
            if rid in records:  # not mapped: its types still let references to it pass
                stubs[entity_iri(rid)] = [(entity_iri(rid), RDF.type, c)
                                          for c in _classes(records[rid])[0]]
        for path in sorted((self.project.root / ONTOLOGY_DIR).glob("*.ttl")):
            if turtle_syntax_error(path):
                continue  # a broken topic scheme is reported by load_topics
            graph = Graph()
            graph.parse(path, format="turtle")
            for s, p, o in graph:
                if isinstance(s, URIRef) and p in self.stub_predicates:
                    stubs.setdefault(s, []).append((s, p, o))
            if path.name == "topics.ttl":
                self.topic_triples = sorted(t for t in graph if isinstance(t[0], URIRef))
                self.topic_lines = _subject_lines(path, {t[0] for t in self.topic_triples})
        self.links_of("")  # read data/links.yaml once, here, not in every worker process
        if self.engine == "fast":
            from pipeline.shacl_fast import compile_shapes

            self._compiled = compile_shapes(self.shapes)
        self.prepared = True
        return self

    def _add_stub(self, rid: str, triples: list) -> None:
        node = entity_iri(rid)
        self.stubs[node], label = self._stub(node, triples)
        if label is not None:
            self.labels[str(node)] = label

    def _stub(self, node: URIRef, triples: list) -> tuple[list, str | None]:
        """The triples of `node` a shape may test on it as a value, and its label."""
        label = next((t[2] for t in triples if t[0] == node and t[1] == RDFS.label), None)
        return ([t for t in triples if t[0] == node and t[1] in self.stub_predicates],
                None if label is None else str(label))

    def links_of(self, rid: str) -> list:
        """The accepted Wikidata/ROR links of a record (they travel with their actor)."""
        if self.links is None:
            links: dict[str, list] = defaultdict(list)
            try:
                for triple in link_triples(self.project.root, self.project.records):
                    links[str(triple[0]).split("#", 1)[0].rsplit("/", 1)[-1]].append(triple)
            except InvalidData:
                links.clear()  # the review file's errors are reported by check_review_file
            self.links = dict(links)
        return self.links.get(rid, [])

    def map_entity(self, rid: str) -> list:
        """The triples of one source or record (with its links); [] if it cannot be mapped."""
        if rid in self._bad:
            return []
        if rid in self.project.sources:
            return self._map(rid, map_source, self.project.sources[rid])
        record = self.project.records.records.get(rid)
        if record is None:
            return []
        return self._map(rid, map_record, record) + self.links_of(rid)

    def entities(self) -> Iterator[tuple[str, list]]:
        """(id, triples) for every source and record that has no errors, in id order."""
        for source in sorted(self.project.sources.values(), key=lambda s: s.id):
            if source.id not in self._bad:
                yield source.id, self.map_entity(source.id)
        for record in self.project.records.sorted():
            if record.id not in self._bad:
                yield record.id, self.map_entity(record.id)

    def _map(self, rid: str, mapper, item, keyed: list | None = None) -> list:
        """The triples of one record or source ([] when it cannot be turned into RDF, which
        is reported at the record). Each triple is converted to pyoxigraph here: what a
        strict serialiser would refuse is found at the record. With `keyed`, each triple's
        sort key and pyoxigraph terms are appended to it, for the writers
        (pipeline/rdf/oxterms.py)."""
        try:
            triples = list(mapper(item, self.ctx))
            convert = self.ox.keyed
            converted = [convert(s, p, o) for s, p, o in triples]
            if keyed is not None:
                keyed += converted
            return triples
        except Exception as err:  # noqa: BLE001 - any failure is reported at the record
            if rid not in self._bad:
                file, line, fld = self._record_place(rid, "")
                self.issues.add(file, line, fld,
                                f"The record cannot be turned into RDF: {err}",
                                "Check the record's ids and text for characters that cannot "
                                "appear in an IRI or literal.", code="mapping", record_id=rid)
                self._bad.add(rid)
            return []

    def batches(self) -> Iterator[tuple[Graph, set]]:
        """The whole dataset in batches of about `batch_triples` (the reference path that the
        tests compare engines and shardings on), each with the stubs it needs."""
        self.prepare()
        graph, owned, count = Graph(), set(), 0
        for _rid, triples in self.entities():
            for triple in triples:
                graph.add(triple)
                owned.add(triple[0])
            count += len(triples)
            if count >= self.batch_triples:
                yield self._with_stubs(graph, owned), owned
                graph, owned, count = Graph(), set(), 0
        if count:
            yield self._with_stubs(graph, owned), owned
        if self.topic_triples:
            yield self.topic_batch()

    def topic_batch(self) -> tuple[Graph, set]:
        graph = Graph()
        for triple in self.topic_triples:
            graph.add(triple)
        owned = {t[0] for t in self.topic_triples}
        return self._with_stubs(graph, owned), owned

    def _with_stubs(self, graph: Graph, owned: set) -> Graph:
        """Add the stubs of every node the batch points at but does not hold."""
        referenced = {o for o in graph.objects() if isinstance(o, URIRef) and o not in owned}
        for node in referenced:
            for triple in self.stubs.get(node, ()):
                graph.add(triple)
        return graph

    def with_stubs(self, triples: list, owned: set) -> list:
        """`triples` plus the stubs of the nodes they point at but do not hold."""
        referenced = {t[2] for t in triples if isinstance(t[2], URIRef) and t[2] not in owned}
        extra = [s for node in referenced for s in self.stubs.get(node, ())]
        return triples + extra

    def run(self) -> None:
        """Validate the whole project in batches (the reference path)."""
        for graph, owned in self.batches():
            self.results.extend(self.validate_graph(graph, owned))
        self.results.sort(key=lambda r: (_issue_order(r.issue), r.shape))

    def validate_triples(self, triples: list, owned: set) -> list[ShaclResult]:
        """One shard: its triples (rdflib terms) and the subjects it owns -> its results."""
        self.prepare()
        return self.validate_graph(self.with_stubs(triples, owned), owned)

    def validate_graph(self, graph, owned: set) -> list[ShaclResult]:
        """Results of one engine run over `graph` (an rdflib Graph or a list of triples)
        that concern nodes in `owned`, translated; their issues are added to self.issues."""
        started = time.perf_counter()
        raw = self._engine_results(graph)
        self.stats["shacl_seconds"] = round(
            self.stats["shacl_seconds"] + time.perf_counter() - started, 3)
        self.stats["batches"] += 1
        self.stats["triples"] += len(graph)
        return self._collect(raw, graph, owned)

    def _engine_results(self, graph) -> list[tuple]:
        """(focus, path, value, shape, component, severity, messages) per result."""
        if self.engine == "pyshacl":
            import pyshacl

            if not isinstance(graph, Graph):
                triples, graph = graph, Graph()
                for triple in triples:
                    graph.add(triple)
            _conforms, report, _text = pyshacl.validate(
                graph, shacl_graph=self.shapes, inference="none", inplace=True,
                allow_warnings=True, allow_infos=True, advanced=False,
            )
            out = []
            for result in report.objects(None, SH.result):
                out.append((
                    report.value(result, SH.focusNode), report.value(result, SH.resultPath),
                    report.value(result, SH.value), report.value(result, SH.sourceShape),
                    report.value(result, SH.sourceConstraintComponent),
                    report.value(result, SH.resultSeverity),
                    [m for m in report.objects(result, SH.resultMessage)
                     if isinstance(m, Literal)]))
            return out
        if self._compiled is None:
            from pipeline.shacl_fast import compile_shapes

            self._compiled = compile_shapes(self.shapes)
        return [(r.focus, r.path, r.value, r.source_shape, r.component, r.severity,
                 list(r.messages)) for r in self._compiled.validate(graph)]

    # translation of results

    def _collect(self, raw: list[tuple], graph, owned: set) -> list[ShaclResult]:
        pointing: dict | None = None
        results = []
        for focus, path, value, shape, component, severity, messages in raw:
            holder = focus
            if focus not in owned:
                if _is_entity_or_topic(focus):
                    continue  # a stub borrowed from another shard: judged in its own
                # an outside node (a Wikidata item): judged where the shard points at it
                if pointing is None:
                    pointing = defaultdict(list)
                    for s, _p, o in graph:
                        pointing[o].append(s)
                holder = next((s for s in sorted(pointing.get(focus, ())) if s in owned), None)
                if holder is None:
                    continue
            if self._is_known_broken(value):
                continue  # an unknown id or a record with errors: reported where it is
            results.append(self.translate(focus, holder, path, value, shape, component,
                                          severity, messages))
        return results

    def _is_known_broken(self, value) -> bool:
        if not isinstance(value, URIRef) or not str(value).startswith(str(HCID)):
            return False
        ident = str(value)[len(str(HCID)):].split("#", 1)[0]
        return (ident not in self._known or ident in self.project.records.failed
                or ident in self._bad)

    def shape_info(self, shape) -> dict:
        """sh:name, sh:message, sh:description of a shape, and a readable name for it."""
        if shape in self._shape_info:
            return self._shape_info[shape]
        g = self.shapes
        parent = next(iter(g.subjects(SH.property, shape)), None)
        name = g.value(shape, SH.name)
        info = {
            "name": str(name) if name is not None else None,
            "description": _english(g.objects(shape, SH.description)),
            "message": _english(g.objects(shape, SH.message)),
            "label": _shape_label(shape, parent, name),
        }
        self._shape_info[shape] = info
        return info

    def translate(self, focus, holder, path, value, shape, component, severity, messages
                  ) -> ShaclResult:
        info = self.shape_info(shape) if shape is not None else {
            "name": None, "description": None, "message": None, "label": ""}
        name = info["name"] or _field_for_predicate(path)
        component_name = _local(component).removesuffix("ConstraintComponent") or "shape"
        if holder in self.topic_lines:
            file, line = TOPICS_FILE, self.topic_lines[holder]
            shown_field, rid = name or _curie(holder), ""
        else:
            origin = self.ctx.origins.get(str(holder))
            rid = origin.record_id if origin else ""
            base = origin.field if origin else ""
            if not base and isinstance(value, URIRef):
                # a value that is a fragment of this record (an evidence annotation) says
                # which list entry is meant
                value_origin = self.ctx.origins.get(str(value))
                if value_origin and value_origin.record_id == rid:
                    base = value_origin.field
            field_path = self._with_index(rid, merge_field(base, name), value)
            file, line, shown_field = self._record_place(rid, field_path)
        level = {"Violation": Severity.ERROR, "Warning": Severity.WARNING,
                 "Info": Severity.INFO}.get(_local(severity), Severity.ERROR)
        raw = _english(messages) or info["message"] or f"SHACL {component_name} failed."
        message = raw
        shown_value = _show(value)
        if shown_value and shown_value not in message:
            message = f"{message.rstrip('.')}. (value: {shown_value})"
        rule = f"shape {info['label']} in {SHAPES_DIR.as_posix()}/" if info["label"] else ""
        if info["description"]:
            fix = info["description"]
        elif info["message"]:  # the shapes' messages are written for maintainers
            fix = f"Do as the message says (the rule: {rule})." if rule else "As above."
        else:
            fix = _component_fix(component_name, name or "the field") + (
                f" (The rule: {rule}.)" if rule else "")
        issue = Issue(file, line, shown_field, message, fix, severity=level,
                      code=f"shacl-{component_name[:1].lower()}{component_name[1:]}",
                      record_id=rid)
        self.issues.items.append(issue)
        return ShaclResult(str(focus), str(path) if isinstance(path, URIRef) else None,
                           _term_text(value), info["label"] or str(shape),
                           str(shape) if isinstance(shape, URIRef) else None, str(component),
                           _local(severity) or "Violation", raw, issue)

    def _with_index(self, rid: str, field_path: str, value) -> str:
        """`parties` -> `parties[1]` when the offending value is the second party."""
        record = self.project.records.records.get(rid)
        if record is None or not field_path or value is None or "." in field_path:
            return field_path
        items = getattr(record, field_path, None)
        if not isinstance(items, list):
            return field_path
        from pipeline.read.sources import repair_text

        for index, item in enumerate(items):
            if isinstance(item, str) and (entity_iri(item) == value or HCTOPIC[item] == value):
                return f"{field_path}[{index}]"
            label = getattr(item, "label", None)  # an alt_labels entry
            if isinstance(value, Literal) and label is not None and repair_text(label) == str(
                    value):
                return f"{field_path}[{index}].label"
        return field_path

    def _record_place(self, rid: str, field_path: str) -> tuple[str, int, str]:
        """(file, line, field) of a field of a record or of a source registry entry."""
        where: Where | None = self.project.records.where.get(rid)
        if where is not None:
            if not field_path:
                return where.file, where.line, where.field_name(())
            return where.file, where.field_line(field_path), where.field_name(field_path)
        if rid in self.project.sources:
            return self._source_place(rid, field_path)
        return "(dataset)", 0, field_path or "(graph)"

    def _source_place(self, sid: str, field_path: str) -> tuple[str, int, str]:
        from pipeline.read.sources import REGISTRY
        from pipeline.read.yamlfile import load_yaml

        if self._source_doc is None:
            self._source_doc = load_yaml(self.project.root / REGISTRY, self.project.root,
                                         IssueList(), remember=True)
        doc = self._source_doc
        index = 0
        if doc is not None and isinstance(doc.data, dict):
            for i, entry in enumerate(doc.data.get("sources") or []):
                if isinstance(entry, dict) and entry.get("id") == sid:
                    index = i
                    break
        parts = [p for p in re.split(r"[.\[\]]+", field_path) if p]
        path = ("sources", index, *[int(p) if p.isdigit() else p for p in parts])
        line = doc.line(path) if doc is not None else self.project.sources[sid].registry_line
        shown = f"sources[{index}]" + (f".{field_path}" if field_path else "")
        return REGISTRY.as_posix(), line, shown


def default_engine() -> str:
    """The fast engine, unless HEALTHCOOP_SHACL_ENGINE=pyshacl asks for the reference."""
    import os

    return "pyshacl" if os.environ.get("HEALTHCOOP_SHACL_ENGINE") == "pyshacl" else "fast"


def _issue_order(issue: Issue) -> tuple:
    return (issue.file, issue.line, issue.column, issue.field, issue.message, issue.code)


def merge_field(base: str, name: str | None) -> str:
    """The record field a result is about, from the field of the node it was found on
    (`evidence[2]`, `amount`, or "" for the entity itself) and the shape's sh:name, which
    names fields from the record's top (`evidence.quote`, `amount.currency`, `parties`)."""
    if not name:
        return base
    if not base:
        return name
    root = re.sub(r"\[\d+\]$", "", base)
    if name == root or name.startswith(root + "."):
        return base + name[len(root):]
    return f"{base}.{name}"


def _is_entity_or_topic(node) -> bool:
    return isinstance(node, URIRef) and (str(node).startswith(str(HCID))
                                         or str(node).startswith(str(HCTOPIC)))


def _subject_lines(path: Path, subjects: set) -> dict:
    """The line where each subject's description starts in a Turtle file (first line that
    begins with its prefixed name or full IRI)."""
    lines: dict = {}
    text = path.read_text(encoding="utf-8")
    by_text = {}
    for s in subjects:
        iri = str(s)
        by_text[f"<{iri}>"] = s
        if iri.startswith(str(HCTOPIC)):
            by_text["hctopic:" + iri[len(str(HCTOPIC)):]] = s
    for number, line in enumerate(text.split("\n"), start=1):
        token = line.split(" ", 1)[0].strip()
        if token in by_text and by_text[token] not in lines:
            lines[by_text[token]] = number
    return lines


def _english(literals: Iterable) -> str | None:
    """The English (or untagged) text among literals, else any."""
    values = [v for v in literals if isinstance(v, Literal)]
    for v in values:
        if v.language in (None, "en") or (v.language or "").startswith("en-"):
            return str(v)
    return str(values[0]) if values else None


def _local(term) -> str:
    if term is None:
        return ""
    text = str(term)
    return re.split(r"[#/]", text)[-1]


def _shape_label(shape, parent, name) -> str:
    if isinstance(shape, URIRef):
        return _curie(shape)
    if parent is not None and name is not None:
        return f"{_curie(parent)}/{name}"
    return _curie(parent) if parent is not None else ""


def _curie(term) -> str:
    text = str(term)
    for prefix, ns in (("hcsh:", "https://w3id.org/healthcoop/shapes#"),
                       ("hc:", "https://w3id.org/healthcoop/ontology#"),
                       ("hcid:", str(HCID))):
        if text.startswith(ns):
            return prefix + text[len(ns):]
    return text if isinstance(term, URIRef) else ""


def _show(value) -> str:
    if value is None:
        return ""
    if isinstance(value, URIRef):
        text = str(value)
        if text.startswith(str(HCID)):
            return text[len(str(HCID)):]
        if text.startswith(str(HCTOPIC)):
            return text[len(str(HCTOPIC)):]
        return text
    if isinstance(value, Literal):
        text = str(value)
        text = text if len(text) <= 80 else text[:77] + "..."
        return json.dumps(text, ensure_ascii=False)
    return ""


def _term_text(value) -> str | None:
    if value is None or isinstance(value, BNode):
        return None
    return value.n3() if isinstance(value, (URIRef, Literal)) else str(value)


def _field_for_predicate(path) -> str:
    """A predicate -> the record field it comes from, for shapes without sh:name."""
    if not isinstance(path, URIRef):
        return ""
    from pipeline.rdf.vocab import REFERENCE_PREDICATES

    for name, predicate in REFERENCE_PREDICATES.items():
        if predicate == path:
            return name
    return {
        str(RDFS.label): "label",
        "http://www.w3.org/2004/02/skos/core#prefLabel": "label",
        "http://www.w3.org/2004/02/skos/core#altLabel": "alt_labels",
        "http://www.w3.org/2004/02/skos/core#hiddenLabel": "alt_labels",
        "http://www.w3.org/2004/02/skos/core#editorialNote": "note",
        str(DCTERMS.title): "title",
        str(DCTERMS.isReplacedBy): "replaced_by",
        "http://www.w3.org/2002/07/owl#deprecated": "deprecated",
        "https://w3id.org/healthcoop/ontology#deprecationReason": "deprecated",
        "https://w3id.org/healthcoop/ontology#evidence": "evidence",
        "https://w3id.org/healthcoop/ontology#date": "date",
        "https://w3id.org/healthcoop/ontology#amount": "amount",
        "https://w3id.org/healthcoop/ontology#purpose": "purpose",
        "https://w3id.org/healthcoop/ontology#topic": "topics",
        "https://w3id.org/healthcoop/ontology#duration": "duration",
        "https://w3id.org/healthcoop/ontology#roleTitle": "title",
        "https://w3id.org/healthcoop/ontology#roleStatus": "status",
        "https://schema.org/startDate": "date",
        "https://schema.org/endDate": "date",
        "https://schema.org/currency": "currency",
        "https://schema.org/value": "value",
        "http://xmlns.com/foaf/0.1/title": "honorific",
    }.get(str(path), "")


def _component_fix(component: str, field_name: str) -> str:
    return {
        "MinCount": f"Add `{field_name}` (see {DOCS} for what each kind of record needs).",
        "MaxCount": f"Give `{field_name}` only as many values as allowed.",
        "Class": f"Point `{field_name}` at a record of the kind it expects "
                 f"(see {DOCS}).",
        "Datatype": f"Write `{field_name}` in the required form (dates: YYYY, YYYY-MM or "
                    "YYYY-MM-DD).",
        "Pattern": f"Write `{field_name}` in the required form.",
        "In": f"Use one of the allowed values for `{field_name}`.",
        "LanguageIn": f"Write `{field_name}` in English.",
        "NodeKind": f"`{field_name}` must be a link to a record (an id), not text.",
    }.get(component, f"Correct `{field_name}` (see {DOCS}).")
