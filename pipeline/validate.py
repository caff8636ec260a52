"""Stage `validate`: records + graph + SHACL shapes -> one report of located issues.

In:  the project root (data/, ontology/, shapes/).
Out: a `ValidationReport`: every issue with file, line, field and a fix, whether it comes
     from the YAML reader, the record schema, the cross-record checks, the URI register or
     SHACL; plus the SHACL report itself (as RDF, for publication), and writers for four
     formats: text (grouped by file), json, github (workflow commands) and sarif (2.1.0).

Entry function: `validate_project(root, strict=False)`.

SHACL runs record by record in batches, not over one big graph: pyshacl holds an rdflib
graph at about 1.4 KB per triple, so a batch holds only its records' triples plus, for every
node they point at, that node's `rdf:type` triples (the "type index"), which is what
`sh:class` needs. Memory stays bounded by the batch size and time grows linearly. Results
are kept only for the nodes a batch owns; shapes must therefore target nodes by class or
subject (sh:targetClass, sh:targetNode, sh:targetSubjectsOf), which is what ours do;
`tests/test_validate.py` checks that batches find exactly what one whole-graph run finds.

SHACL results are traced back to YAML: the focus node gives the record (the mapping's
`origins`), the result's source shape gives the field (its `sh:name`, the YAML field name),
and the record's `Where` gives the line of that field (of the list item, when the value
names one). `sh:message` is the message; the shape's `sh:description`, if any, the fix.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import resource
import sys
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, RDF, RDFS

from . import __version__
from .errors import EnvironmentProblem, InvalidData, Issue, IssueList, Severity
from .link import check_review_file, link_triples
from .mapping import MappingContext, entity_iri, map_record, map_source
from .records import Where
from .vocab import DATASET, HCID, HCTOPIC

SH = Namespace("http://www.w3.org/ns/shacl#")
SHAPES_DIR = Path("shapes")
ONTOLOGY_DIR = Path("ontology")
TOPICS_FILE = "ontology/topics.ttl"
BATCH_TRIPLES = 20_000  # triples per pyshacl run (~30 MB of rdflib graph)
REPORT_IRI = URIRef(DATASET + "/validation-report")
REPORT_FILES = ("validation-report.ttl", "validation-report.html")
FORMATS = ("text", "json", "github", "sarif")
DOCS = "docs/records.md"


# --- the report -------------------------------------------------------------------------------

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


@dataclass
class ValidationReport:
    """Everything one validation found, and what was validated."""

    root: Path
    issues: list[Issue]
    strict: bool = False
    stats: dict = field(default_factory=dict)
    shacl_results: list[ShaclResult] = field(default_factory=list)
    shacl_ran: bool = False
    project: object = field(default=None, repr=False)

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == Severity.ERROR]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == Severity.WARNING]

    @property
    def failing(self) -> list[Issue]:
        """The issues that fail the run: errors, and warnings too under --strict."""
        return self.errors + (self.warnings if self.strict else [])

    @property
    def valid(self) -> bool:
        return not self.failing

    @property
    def exit_code(self) -> int:
        return 0 if self.valid else 1

    def only_failing(self) -> ValidationReport:
        """The same report listing only the issues that fail the run (counts stay)."""
        import dataclasses

        hidden = len(self.issues) - len(self.failing)
        return dataclasses.replace(self, issues=list(self.failing),
                                   stats={**self.stats, "not shown": hidden})

    @property
    def shacl_conforms(self) -> bool:
        return self.shacl_ran and not any(r.severity == "Violation" for r in self.shacl_results)


# --- validation -------------------------------------------------------------------------------

def validate_project(root: Path, *, strict: bool = False) -> ValidationReport:
    """Run every check on the project at `root`; nothing is written."""
    from .build import load_project
    from .register import check_register

    started = time.perf_counter()
    root = Path(root)
    if not root.is_dir() or not (root / "data").is_dir():
        raise EnvironmentProblem(
            f"{root} is not a healthcoop project (it has no data/ directory).",
            fix="Run the command in the repository root, or pass --root PATH.")
    root = root.resolve()
    project = load_project(root)
    issues = IssueList(list(project.issues.items))
    check_register(project, issues)
    # "not linked yet" is advice the shapes give at the actor's own record; the review
    # file's copy of it would only repeat it
    issues.extend(i for i in check_review_file(root) if i.code != "unlinked")
    shapes = load_shapes(root, issues)
    report = ValidationReport(root, [], strict, project=project)
    if shapes is not None:
        shacl = ShaclRun(project, shapes, issues)
        shacl.run()
        report.shacl_results = shacl.results
        report.shacl_ran = True
        report.stats.update(shacl.stats)
    report.issues = sorted(set(issues.items), key=_issue_order)
    report.stats.update({
        "records": len(project.records.records),
        "sources": len(project.sources),
        "files": len(project.records.files),
        "seconds": round(time.perf_counter() - started, 3),
    })
    return report


def _issue_order(issue: Issue) -> tuple:
    return (issue.file, issue.line, issue.column, issue.field, issue.message, issue.code)


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
    """SHACL over the mapped dataset in bounded batches, results translated to YAML places.

    Two passes over the records. The first maps each record and keeps only its "stub": the
    triples of its entity node whose predicate a shape may test on a node that *points at*
    it (always rdf:type, for sh:class; plus the paths of shapes used through sh:node and
    friends, e.g. rdfs:label and owl:deprecated). The second maps the records again, batch
    by batch, and adds to each batch the stubs of the nodes it points at. The topic scheme
    (ontology/topics.ttl) is validated as a batch of its own.
    """

    def __init__(self, project, shapes: Graph, issues: IssueList,
                 batch_triples: int = BATCH_TRIPLES):
        self.project = project
        self.shapes = shapes
        self.issues = issues
        self.batch_triples = batch_triples
        self.ctx = MappingContext(project.records, project.sources)
        self.results: list[ShaclResult] = []
        self.stats: dict = {"triples": 0, "batches": 0, "shacl_seconds": 0.0,
                            "shapes": len(set(shapes.subjects(RDF.type, SH.NodeShape)))}
        self._shape_info: dict = {}
        self._source_doc = None
        self._bad = {i.record_id for i in issues.errors if i.record_id}
        self._known = (set(project.records.records) | set(project.records.failed)
                       | set(project.sources))
        self.stub_predicates = stub_predicates(shapes)
        self.topic_lines: dict[URIRef, int] = {}
        self.topic_triples: list = []
        self.stubs: dict[URIRef, list] = {}

    # pass 1: the stub of every node a batch may point at

    def _build_stubs(self) -> None:
        from .mapping import _classes  # the mapping's own record -> classes table

        stubs = self.stubs
        for rid, triples in self.entities():
            node = entity_iri(rid)
            stubs[node] = [t for t in triples
                           if t[0] == node and t[1] in self.stub_predicates]
        for rid, record in self.project.records.records.items():
            if rid in self._bad:  # not mapped: its types still let references to it pass
                stubs[entity_iri(rid)] = [(entity_iri(rid), RDF.type, c)
                                          for c in _classes(record)[0]]
        for path in sorted((self.project.root / ONTOLOGY_DIR).glob("*.ttl")):
            if turtle_syntax_error(path):
                continue  # a broken topic scheme is reported by load_topics
            graph = Graph()
            graph.parse(path, format="turtle")
            for s, p, o in graph:
                if isinstance(s, URIRef) and p in self.stub_predicates:
                    stubs.setdefault(s, []).append((s, p, o))
            if path.name == "topics.ttl":
                self.topic_triples = [t for t in graph if isinstance(t[0], URIRef)]
                self.topic_lines = _subject_lines(path, {t[0] for t in self.topic_triples})

    # pass 2: batches

    def entities(self) -> Iterator[tuple[str, list]]:
        """(id, triples) for every source and record that has no errors, in id order."""
        for source in sorted(self.project.sources.values(), key=lambda s: s.id):
            if source.id not in self._bad:
                yield source.id, self._map(source.id, map_source, source)
        # accepted Wikidata/ROR links travel with the actor they belong to
        links: dict[str, list] = defaultdict(list)
        try:
            for triple in link_triples(self.project.root):
                links[str(triple[0]).split("#", 1)[0].rsplit("/", 1)[-1]].append(triple)
        except InvalidData:
            links.clear()  # the review file's errors are reported by check_review_file
        for record in self.project.records.sorted():
            if record.id not in self._bad:
                yield record.id, self._map(record.id, map_record, record) + links[record.id]

    def _map(self, rid: str, mapper, item) -> list:
        from .publish import to_oxigraph

        try:
            triples = list(mapper(item, self.ctx))
            for triple in triples:  # what the strict serialiser would refuse, found here
                for term in triple:
                    to_oxigraph(term)
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
        graph, owned, count = Graph(), set(), 0
        for _rid, triples in self.entities():
            for triple in triples:
                graph.add(triple)
                owned.add(triple[0])
            count += len(triples)
            self.stats["triples"] += len(triples)
            if count >= self.batch_triples:
                yield self._with_stubs(graph, owned), owned
                graph, owned, count = Graph(), set(), 0
        if count:
            yield self._with_stubs(graph, owned), owned
        if self.topic_triples:
            graph = Graph()
            for triple in self.topic_triples:
                graph.add(triple)
            owned = {t[0] for t in self.topic_triples}
            yield self._with_stubs(graph, owned), owned

    def _with_stubs(self, graph: Graph, owned: set) -> Graph:
        """Add the stubs of every node the batch points at but does not hold."""
        referenced = {o for o in graph.objects() if isinstance(o, URIRef) and o not in owned}
        for node in referenced:
            for triple in self.stubs.get(node, ()):
                graph.add(triple)
        return graph

    def run(self) -> None:
        import pyshacl

        self._build_stubs()
        for graph, owned in self.batches():
            started = time.perf_counter()
            _conforms, report, _text = pyshacl.validate(
                graph, shacl_graph=self.shapes, inference="none", inplace=True,
                allow_warnings=True, allow_infos=True, advanced=False,
            )
            self.stats["shacl_seconds"] += time.perf_counter() - started
            self.stats["batches"] += 1
            self._collect(report, graph, owned)
        self.stats["shacl_seconds"] = round(self.stats["shacl_seconds"], 3)
        self.results.sort(key=lambda r: (_issue_order(r.issue), r.shape))

    # translation of results

    def _collect(self, report: Graph, graph: Graph, owned: set) -> None:
        for result in report.objects(None, SH.result):
            focus = report.value(result, SH.focusNode)
            holder = focus
            if focus not in owned:
                if _is_entity_or_topic(focus):
                    continue  # a stub borrowed from another batch: judged in its own
                # an outside node (a Wikidata item): judged where the batch points at it
                holder = next((s for s in graph.subjects(None, focus) if s in owned), None)
                if holder is None:
                    continue
            value = report.value(result, SH.value)
            if self._is_known_broken(value):
                continue  # an unknown id or a record with errors: reported where it is
            path = report.value(result, SH.resultPath)
            shape = report.value(result, SH.sourceShape)
            component = report.value(result, SH.sourceConstraintComponent)
            severity = report.value(result, SH.resultSeverity)
            messages = [m for m in report.objects(result, SH.resultMessage)
                        if isinstance(m, Literal)]
            self.results.append(self.translate(focus, holder, path, value, shape, component,
                                               severity, messages))

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
        from .sources import repair_text

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
        from .sources import REGISTRY
        from .yamlfile import load_yaml

        if self._source_doc is None:
            self._source_doc = load_yaml(self.project.root / REGISTRY, self.project.root,
                                         IssueList())
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


def stub_predicates(shapes: Graph) -> set:
    """rdf:type, and the paths of every shape that may be evaluated on a value node (one
    used through sh:node, sh:qualifiedValueShape, or inside sh:or/and/xone/not), with their
    property shapes: the triples a node needs in a batch where it is only pointed at."""
    from rdflib.collection import Collection

    value_shapes: set = set()
    for predicate in (SH.node, SH.qualifiedValueShape, SH["not"]):
        value_shapes.update(shapes.objects(None, predicate))
    for predicate in (SH["or"], SH["and"], SH.xone):
        for head in shapes.objects(None, predicate):
            value_shapes.update(Collection(shapes, head))
    found = {RDF.type}
    todo, seen = list(value_shapes), set()
    while todo:
        shape = todo.pop()
        if shape in seen:
            continue
        seen.add(shape)
        path = shapes.value(shape, SH.path)
        if isinstance(path, URIRef):
            found.add(path)
        todo.extend(shapes.objects(shape, SH.property))
        todo.extend(shapes.objects(shape, SH.node))
    return found


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
    from .vocab import REFERENCE_PREDICATES

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


# --- the SHACL report as RDF, and as a page ---------------------------------------------------

# Advice is not a constraint: its shapes are in a file of their own, and its results are
# published in a report of their own, so that validation-report.ttl is the SHACL report of
# the constraint shapes alone (sh:conforms true exactly when it has no result, SHACL 1.0
# section 3.6.1) and any SHACL engine given shapes/healthcoop-shapes.ttl says the same.
CONSTRAINT_SHAPES_FILE = "healthcoop-shapes.ttl"
ADVICE_SHAPES_FILE = "healthcoop-advice.ttl"
ADVICE_IRI = URIRef(DATASET + "/validation-advice")
ADVICE_REPORT_FILE = "validation-advice.ttl"


def advice_shape_names(root: Path) -> set[str]:
    """The readable names (hcsh:Name) of the shapes defined in shapes/healthcoop-advice.ttl,
    the names `ShaclResult.shape` uses (with "/<sh:name>" for their blank property shapes)."""
    path = Path(root) / SHAPES_DIR / ADVICE_SHAPES_FILE
    if not path.is_file() or turtle_syntax_error(path):
        return set()
    graph = Graph()
    graph.parse(path, format="turtle")
    shapes = set(graph.subjects(RDF.type, SH.NodeShape))
    shapes |= set(graph.subjects(RDF.type, SH.PropertyShape))
    shapes |= set(graph.objects(None, SH.property))
    return {_curie(s) for s in shapes if isinstance(s, URIRef)}


def is_advice(result: ShaclResult, advice_names: set[str]) -> bool:
    """Whether a result comes from an advice shape (or a property shape of one)."""
    return result.shape in advice_names or result.shape.split("/", 1)[0] in advice_names


def split_results(report: ValidationReport) -> tuple[list[ShaclResult], list[ShaclResult]]:
    """(results of the constraint shapes, results of the advice shapes)."""
    names = advice_shape_names(report.root)
    constraints = [r for r in report.shacl_results if not is_advice(r, names)]
    advice = [r for r in report.shacl_results if is_advice(r, names)]
    return constraints, advice


def report_graph(report: ValidationReport, *, advice: bool = False) -> list:
    """The SHACL report as triples with stable IRIs (no blank nodes), for publication:
    the same inputs give the same bytes.

    By default the report of the constraint shapes (validation-report.ttl); with
    `advice=True` the report of the advice shapes (validation-advice.ttl). Each says
    sh:conforms true exactly when it has no sh:result, as SHACL defines it."""
    constraints, advice_results = split_results(report)
    results = advice_results if advice else constraints
    iri = ADVICE_IRI if advice else REPORT_IRI
    if advice:
        label = "SHACL report of the healthcoop dataset against the advice shapes"
        comment = (f"Advice, not constraints: the results of {SHAPES_DIR.as_posix()}/"
                   f"{ADVICE_SHAPES_FILE} (each a sh:Warning), such as actors not yet linked "
                   "to Wikidata. sh:conforms is as SHACL defines it for these shapes alone; "
                   "advice never makes the data non-conforming to the constraints "
                   f"({SHAPES_DIR.as_posix()}/{CONSTRAINT_SHAPES_FILE}, reported in "
                   f"{REPORT_FILES[0]}).")
    else:
        label = "SHACL validation report of the healthcoop dataset"
        comment = (f"The data against the constraint shapes {SHAPES_DIR.as_posix()}/"
                   f"{CONSTRAINT_SHAPES_FILE}; sh:conforms is true exactly when there is no "
                   f"result. Advice ({SHAPES_DIR.as_posix()}/{ADVICE_SHAPES_FILE}) is "
                   f"reported in {ADVICE_REPORT_FILE}.")
    triples = [
        (iri, RDF.type, SH.ValidationReport),
        (iri, SH.conforms, Literal(report.shacl_ran and not results)),
        (iri, RDFS.label, Literal(label, lang="en")),
        (iri, RDFS.comment, Literal(comment, lang="en")),
        (iri, DCTERMS.subject, URIRef(DATASET)),
    ]
    for r in results:
        key = hashlib.sha256("\n".join(
            [r.focus, r.path or "", r.value or "", r.shape, r.component, r.message]
        ).encode()).hexdigest()[:16]
        node = URIRef(f"{iri}#result-{key}")
        triples += [
            (iri, SH.result, node),
            (node, RDF.type, SH.ValidationResult),
            (node, SH.focusNode, URIRef(r.focus)),
            (node, SH.resultSeverity, SH[r.severity]),
            (node, SH.sourceConstraintComponent, URIRef(r.component)),
            (node, SH.resultMessage, Literal(r.message, lang="en")),
            (node, RDFS.comment, Literal(
                f"{r.issue.location()}: {r.issue.field} (shape {r.shape})", lang="en")),
        ]
        if r.path:
            triples.append((node, SH.resultPath, URIRef(r.path)))
        if r.shape_iri:
            triples.append((node, SH.sourceShape, URIRef(r.shape_iri)))
        if r.value:
            term = _parse_term(r.value)
            if term is not None:
                triples.append((node, SH.value, term))
    return triples


def _parse_term(n3: str):
    from rdflib.util import from_n3

    try:
        return from_n3(n3)
    except Exception:  # noqa: BLE001 - a value we cannot re-read is left out of the RDF
        return None


def write_report_files(report: ValidationReport, out_dir: Path) -> list[Path]:
    """validation-report.ttl (the SHACL report of the constraint shapes),
    validation-advice.ttl (the SHACL report of the advice shapes) and
    validation-report.html (both, readable)."""
    import pyoxigraph as ox

    from .publish import canonical_triples
    from .vocab import PREFIXES

    prefixes = {**PREFIXES, "sh": str(SH)}
    ttl = out_dir / REPORT_FILES[0]
    ox.serialize(canonical_triples(report_graph(report)), str(ttl), ox.RdfFormat.TURTLE,
                 prefixes=prefixes)
    advice = out_dir / ADVICE_REPORT_FILE
    ox.serialize(canonical_triples(report_graph(report, advice=True)), str(advice),
                 ox.RdfFormat.TURTLE, prefixes=prefixes)
    html = out_dir / REPORT_FILES[1]
    html.write_text(render_html(report), encoding="utf-8", newline="\n")
    return [ttl, advice, html]


def render_html(report: ValidationReport) -> str:
    """The page: the SHACL results of the constraint shapes (what validation-report.ttl
    holds, and what its conformance says) and every other finding, advice included."""
    import dataclasses

    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(loader=PackageLoader("pipeline", "templates"),
                      autoescape=select_autoescape(["html"], default=True),
                      keep_trailing_newline=True)
    template = env.get_template("validation-report.html")
    constraints, _advice = split_results(report)
    shacl_issues = {id(r.issue) for r in constraints}
    other = [i for i in report.issues if id(i) not in shacl_issues]
    return template.render(
        report=dataclasses.replace(report, shacl_results=constraints),
        by_file=_group(i for i in report.issues),
        shacl=constraints,
        other=other,
        stats={k: v for k, v in report.stats.items() if "seconds" not in k},
        version=__version__,
    )


def _group(issues: Iterable[Issue]) -> dict[str, list[Issue]]:
    grouped: dict[str, list[Issue]] = defaultdict(list)
    for issue in issues:
        grouped[issue.file].append(issue)
    return dict(sorted(grouped.items()))


# --- writers ----------------------------------------------------------------------------------

def render(report: ValidationReport, fmt: str = "text", *, color: bool = False,
           verbose: bool = False) -> str:
    """The report in one of FORMATS (machine formats always list every finding)."""
    if fmt == "text":
        return render_text(report, color=color, verbose=verbose)
    if fmt == "json":
        return render_json(report)
    if fmt == "github":
        return render_github(report)
    if fmt == "sarif":
        return render_sarif(report)
    raise ValueError(f"unknown format {fmt!r}")


def use_color(stream=None) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org)."""
    stream = stream or sys.stdout
    return bool(getattr(stream, "isatty", lambda: False)()) and not os.environ.get("NO_COLOR")


_COLORS = {"error": "\x1b[31m", "warning": "\x1b[33m", "info": "\x1b[36m", "bold": "\x1b[1m",
           "dim": "\x1b[2m", "green": "\x1b[32m", "reset": "\x1b[0m"}


def _terminal_safe(text: str) -> str:
    """Curated text may hold escape sequences; never let them reach a terminal raw."""
    return "".join(ch if ch in "\n" or (ch.isprintable() or ch == " ") else
                   f"\\u{ord(ch):04x}" for ch in text)


def render_text(report: ValidationReport, *, color: bool = False, verbose: bool = False
                ) -> str:
    """Grouped by file, the root cause first: findings about a file or record that could not
    be read at all come before everything else, and the findings that only follow from
    them, like warnings repeated at many places, are summarised in one line each
    (`verbose` lists them all; pipeline/triage.py says how they are told apart)."""
    from .triage import consequence_summary, triage

    def c(name: str, text: str) -> str:
        return f"{_COLORS[name]}{text}{_COLORS['reset']}" if color else text

    def finding(issue: Issue) -> list[str]:
        severity = issue.severity.value
        out = [f"  {_terminal_safe(issue.location())}: {c(severity, severity)}: "
               f"{_terminal_safe(issue.field)}: {_terminal_safe(issue.message)}"]
        if issue.fix:
            out.append(f"    {c('dim', 'fix:')} {_terminal_safe(issue.fix)}")
        return out

    sorted_issues = triage(report.issues, group_repeats=not verbose)
    lines: list[str] = []
    if sorted_issues.roots and (sorted_issues.consequences or len(report.errors) > 1):
        lines.append(c("bold", "fix first (other findings follow from these):"))
        for issue in sorted_issues.roots:
            lines += finding(issue)
        if sorted_issues.consequences and not verbose:
            lines.append(f"  … {consequence_summary(sorted_issues.consequences)}; fix the "
                         "above and run again (--verbose lists them).")
        lines.append("")
        rest = sorted_issues.rest + (sorted_issues.consequences if verbose else [])
    else:
        rest = sorted(sorted_issues.roots + sorted_issues.rest, key=_issue_order) + \
            (sorted_issues.consequences if verbose else [])
    for file, issues in _group(sorted(rest, key=_issue_order)).items():
        lines.append(c("bold", _terminal_safe(file)))
        for issue in issues:
            lines += finding(issue)
        lines.append("")
    if sorted_issues.repeated:
        lines.append(c("bold", "repeated (--verbose lists each place):"))
        for group in sorted_issues.repeated:
            first = group.first
            lines.append(f"  {group.count}× {c(first.severity.value, first.severity.value)}: "
                         f"{_terminal_safe(first.field)}: {_terminal_safe(first.message)} "
                         f"(first at {_terminal_safe(first.location())})")
            if first.fix:
                lines.append(f"    {c('dim', 'fix:')} {_terminal_safe(first.fix)}")
        lines.append("")
    lines.append(_summary(report, c))
    return "\n".join(lines) + "\n"


def _summary(report: ValidationReport, c=lambda name, text: text) -> str:
    errors, warnings = len(report.errors), len(report.warnings)
    s = report.stats
    checked = (f"{s.get('records', 0)} records, {s.get('sources', 0)} sources"
               + (f", {s.get('triples', 0)} triples of records, sources and links against "
                  f"{s.get('shapes', 0)} shapes"
                  if report.shacl_ran else ", SHACL not run"))
    warnings += s.get("not shown", 0)
    counts = f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}"
    if s.get("not shown"):
        counts += " (not shown: --quiet)"
    if report.valid:
        return c("green", f"valid: {checked}; {counts}.")
    strict = " (--strict: warnings fail the run)" if report.strict and not errors else ""
    return c("error", f"invalid: {counts}{strict}; checked {checked}.")


def _issue_dict(issue: Issue) -> dict:
    return {
        "file": issue.file,
        "line": issue.line,
        "column": issue.column,
        "field": issue.field,
        "severity": issue.severity.value,
        "code": issue.code,
        "message": issue.message,
        "fix": issue.fix,
        "record_id": issue.record_id,
    }


def render_json(report: ValidationReport) -> str:
    doc = {
        "valid": report.valid,
        "strict": report.strict,
        "errors": len(report.errors),
        "warnings": len(report.warnings),
        "shacl": {"ran": report.shacl_ran, "conforms": report.shacl_conforms},
        "stats": report.stats,
        "issues": [_issue_dict(i) for i in report.issues],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def github_escape_data(text: str) -> str:
    """Escape a workflow command's message (GitHub's rules: %, CR, LF)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def github_escape_property(text: str) -> str:
    """Escape a workflow command property value (also ':' and ',')."""
    return github_escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render_github(report: ValidationReport) -> str:
    """One `::error file=…,line=…,col=…,title=…::message` line per issue, so each shows on
    its line of a pull request's diff; then the summary as plain text."""
    lines = []
    for issue in report.issues:
        command = {"error": "error", "warning": "warning"}.get(issue.severity.value, "notice")
        if issue.severity == Severity.WARNING and report.strict:
            command = "error"
        props = [f"file={github_escape_property(issue.file)}"]
        if issue.line:
            props.append(f"line={issue.line}")
            if issue.column:
                props.append(f"col={issue.column}")
        props.append(f"title={github_escape_property(f'{issue.field} ({issue.code})')}")
        body = issue.message + (f"\nfix: {issue.fix}" if issue.fix else "")
        lines.append(f"::{command} {','.join(props)}::{github_escape_data(body)}")
    lines.append(_summary(report))
    return "\n".join(lines) + "\n"


SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def render_sarif(report: ValidationReport) -> str:
    """SARIF 2.1.0: one run, one rule per issue code, one result per issue."""
    rules: dict[str, dict] = {}
    results = []
    for issue in report.issues:
        if issue.code not in rules:
            rules[issue.code] = {
                "id": issue.code,
                "name": "".join(p.capitalize() for p in re.split(r"[^A-Za-z0-9]+", issue.code)),
                "shortDescription": {"text": _rule_description(issue.code)},
                "helpUri": "https://w3id.org/healthcoop/docs/records",
                "defaultConfiguration": {"level": _sarif_level(issue.severity, False)},
            }
        location: dict = {"physicalLocation": {
            "artifactLocation": {"uri": issue.file, "uriBaseId": "%SRCROOT%"}}}
        if issue.line:
            region = {"startLine": issue.line}
            if issue.column:
                region["startColumn"] = issue.column
            location["physicalLocation"]["region"] = region
        if issue.field:
            location["logicalLocations"] = [{"fullyQualifiedName": issue.field,
                                             "kind": "member"}]
        results.append({
            "ruleId": issue.code,
            "ruleIndex": list(rules).index(issue.code),
            "level": _sarif_level(issue.severity, report.strict),
            "message": {"text": f"{issue.field}: {issue.message}"
                        + (f" Fix: {issue.fix}" if issue.fix else "")},
            "locations": [location],
            "partialFingerprints": {"healthcoop/v1": hashlib.sha256(
                f"{issue.file}|{issue.field}|{issue.code}|{issue.message}".encode()
            ).hexdigest()[:32]},
        })
    doc = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "healthcoop",
                "version": __version__,
                "informationUri": "https://w3id.org/healthcoop/",
                "rules": list(rules.values()),
            }},
            "originalUriBaseIds": {"%SRCROOT%": {"uri": report.root.as_uri() + "/"}},
            "results": results,
            "columnKind": "unicodeCodePoints",
        }],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def _sarif_level(severity: Severity, strict: bool) -> str:
    if severity == Severity.ERROR or (strict and severity == Severity.WARNING):
        return "error"
    return "warning" if severity == Severity.WARNING else "note"


_RULES = {
    "yaml-syntax": "The file is not valid YAML.",
    "yaml-tab": "YAML indentation uses a tab.",
    "yaml-control-character": "The file holds an invisible control or line-separator character.",
    "duplicate-key": "A key is set twice in one mapping.",
    "schema": "A record does not follow the record format (docs/records.md).",
    "duplicate-id": "Two records (or a record and a source) share an id.",
    "unknown-reference": "A reference names an id no record has.",
    "wrong-reference-kind": "A reference points at the wrong kind of record.",
    "unknown-source": "An evidence entry names an unregistered source.",
    "quote-not-found": "A quote does not occur in its source.",
    "unsupported-field": "A fact field is not supported by any quote.",
    "unknown-topic": "A topic id is not in the topic scheme.",
    "replaced-by-cycle": "`replaced_by` links form a cycle.",
    "vanished-iri": "A published IRI has no record or source any more.",
    "unregistered-iri": "A new IRI is not yet in the URI register.",
    "mapping": "A record cannot be turned into valid RDF.",
    "currency-not-stated": "An amount has a currency its text does not state.",
}


def _rule_description(code: str) -> str:
    if code.startswith("shacl-"):
        return f"SHACL constraint {code[6:]} is violated."
    return _RULES.get(code, code.replace("-", " ").capitalize() + ".")


def peak_rss_mb() -> float:
    """This process's peak resident memory (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024, 1)


__all__ = ["ValidationReport", "validate_project", "render", "write_report_files", "FORMATS"]
