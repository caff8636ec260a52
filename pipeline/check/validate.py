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
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, RDF, RDFS

from pipeline import __version__
from pipeline.check.shacl import (  # noqa: F401 - ShaclRun and load_shapes are part of this stage's API
    SH,
    SHAPES_DIR,
    ShaclResult,
    ShaclRun,
    _curie,
    _issue_order,
    load_shapes,
    turtle_syntax_error,
)
from pipeline.errors import EnvironmentProblem, InvalidData, Issue, IssueList, Severity
from pipeline.heap import freeze_loaded, long_lived_heap
from pipeline.rdf.vocab import DATASET, HCID

REPORT_IRI = URIRef(DATASET + "/validation-report")
REPORT_FILES = ("validation-report.ttl", "validation-report.html")
FORMATS = ("text", "json", "github", "sarif")
DOCS = "docs/records.md"


# --- the report -------------------------------------------------------------------------------

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

def validate_project(root: Path, *, strict: bool = False, engine: str | None = None,
                     executor: str = "auto", jobs: int | None = None) -> ValidationReport:
    """Run every check on the project at `root`; nothing is written."""
    report, _outputs = check_project(root, strict=strict, engine=engine, executor=executor,
                                     jobs=jobs)
    return report


def check_project(root: Path, *, strict: bool = False, write: bool = False,
                  cache: Path | None = None, engine: str | None = None,
                  executor: str = "auto", jobs: int | None = None,
                  scheduler: str | None = None, record_cache: Path | None = None
                  ) -> tuple[ValidationReport, list]:
    """`_check_project`, with the collector kept off the loaded project (pipeline/heap.py)."""
    with long_lived_heap():
        return _check_project(root, strict=strict, write=write, cache=cache, engine=engine,
                              executor=executor, jobs=jobs, scheduler=scheduler,
                              record_cache=record_cache)


def _check_project(root: Path, *, strict: bool, write: bool, cache: Path | None,
                   engine: str | None, executor: str, jobs: int | None,
                   scheduler: str | None, record_cache: Path | None
                   ) -> tuple[ValidationReport, list]:
    """Read, check, map and validate the project shard by shard (pipeline/shards/).

    Returns the report and every shard's output; with `write`, each shard's pieces of the
    release are written into `cache` (the build assembles the dumps from them); with
    `record_cache`, parsed record files are kept there (read/record_cache.py)."""
    from pipeline.check.register import check_register
    from pipeline.link import accepted_links, enrichment_triples
    from pipeline.publish.release import TURTLE_PREFIXES
    from pipeline.read.project import load_project
    from pipeline.shards import entity_graphs, plan_shards, project_digest, run_shards

    started = time.perf_counter()
    timings: dict[str, float] = {}
    root = Path(root)
    if not root.is_dir() or not (root / "data").is_dir():
        raise EnvironmentProblem(
            f"{root} is not a healthcoop project (it has no data/ directory).",
            fix="Run the command in the repository root, or pass --root PATH.")
    root = root.resolve()
    project = load_project(root, record_cache)
    issues = IssueList(list(project.issues.items))
    check_register(project, issues)
    # "not linked yet" is advice the shapes give at the actor's own record; the review
    # file's copy of it would only repeat it
    issues.extend(i for i in accepted_links(root, project.records).issues
                  if i.code != "unlinked")
    shapes = load_shapes(root, issues)
    timings["read and check"] = time.perf_counter() - started
    report = ValidationReport(root, [], strict, project=project)
    outputs: list = []
    if shapes is not None:
        from pipeline.publish.describe import load_metadata
        from pipeline.shards import ShardEnv

        run = ShaclRun(project, shapes, issues, engine=engine,
                       stub_cache=record_cache.parent / "stubs" if record_cache else None)
        enrichment: dict[str, list] = defaultdict(list)
        if write:
            try:
                for triple in enrichment_triples(root, project.records):
                    subject = str(triple[0])
                    rid = (subject[len(str(HCID)):].split("#", 1)[0]
                           if subject.startswith(str(HCID)) else "")
                    enrichment[rid].append(triple)
            except InvalidData:
                enrichment.clear()  # the review file's errors are reported above
        env = ShardEnv(
            run, write, cache, entity_graphs(project) if write else {}, dict(enrichment),
            load_metadata(root).uri_space if write else "", TURTLE_PREFIXES,
            project_digest(root) if write else "")
        step = time.perf_counter()
        freeze_loaded()  # the project lives until the end: out of the collector's sight
        outputs = run_shards(env, plan_shards(project, graphs=env.entity_graphs),
                             executor=executor, jobs=jobs, scheduler=scheduler)
        timings["map, validate and write pieces"] = time.perf_counter() - step
        results = []
        for output in outputs:
            issues.extend(output.issues)
            issues.extend(r.issue for r in output.results)
            results.extend(output.results)
        report.shacl_results = sorted(results, key=lambda r: (_issue_order(r.issue), r.shape))
        report.shacl_ran = True
        report.stats.update({"shapes": run.stats["shapes"], "shards": len(outputs),
                             "triples": sum(o.checked for o in outputs)})
    report.issues = sorted(set(issues.items), key=_issue_order)
    report.stats.update({
        "records": len(project.records.records),
        "sources": len(project.sources),
        "files": len(project.records.files),
        "seconds": round(time.perf_counter() - started, 3),
    })
    report.stats["stage seconds"] = {k: round(v, 3) for k, v in timings.items()}
    return report, outputs


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

    from pipeline.publish.release import canonical_triples
    from pipeline.rdf.vocab import PREFIXES

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
    (`verbose` lists them all; pipeline/check/triage.py says how they are told apart)."""
    from pipeline.check.triage import consequence_summary, triage

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
