"""A second SHACL engine, and a validation report that says what SHACL says.

The shapes are a contract every consumer's engine applies, so they are checked with two
independent implementations: pyshacl (what `healthcoop validate` runs) and Apache Jena
SHACL (Debian's libapache-jena-java, through tests/tools/jena; `shacl validate` exits 0
whether or not the data conforms, so its report is parsed). Results are compared as
multisets of (focus node, path, constraint component, severity):

* on the release (healthcoop.nt) against the constraint shapes, the advice shapes, and
  both together;
* on the data graph of each bad-input case whose finding comes from SHACL (the cases named
  `shacl-*` in tests/bad_inputs/), with both shape files, as `healthcoop validate` runs them.

And the published reports: validation-report.ttl (the constraints) and
validation-advice.ttl (the advice) each say sh:conforms true exactly when they hold no
sh:result (SHACL 1.0, section 3.6.1), and the same as Jena does on the same shapes.
"""

from __future__ import annotations

import os
import subprocess
from collections import Counter
from pathlib import Path

import pyoxigraph as ox
import pyshacl
import pytest
from rdflib import RDF, SKOS, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import Namespace
from tools.external import JENA, jena_present, need

ROOT = Path(__file__).resolve().parent.parent
SHAPES_DIR = ROOT / "shapes"
CONSTRAINTS = SHAPES_DIR / "healthcoop-shapes.ttl"
ADVICE = SHAPES_DIR / "healthcoop-advice.ttl"
CASES_DIR = ROOT / "tests" / "bad_inputs"
SHACL_CASES = sorted(p.name for p in CASES_DIR.iterdir()
                     if p.name.startswith("shacl-") and (p / "expect.yaml").is_file())
SH = Namespace("http://www.w3.org/ns/shacl#")


# --- the two engines --------------------------------------------------------------------------

def merged(paths: list[Path], out: Path) -> Path:
    """The triples of Turtle files, as one N-Triples file."""
    triples = [t for p in paths for t in ox.parse(path=str(p), format=ox.RdfFormat.TURTLE)]
    ox.serialize(triples, str(out), ox.RdfFormat.N_TRIPLES)
    return out


def path_text(graph: Graph, path) -> str:
    """A SHACL property path of a report, written out (`<p>`, `^<p>`, `(<a>|<b>)`, ...),
    so that blank-node paths of two reports compare by structure."""
    if isinstance(path, URIRef):
        return f"<{path}>"
    for predicate, mark in ((SH.inversePath, "^"), (SH.zeroOrMorePath, "*"),
                            (SH.oneOrMorePath, "+"), (SH.zeroOrOnePath, "?")):
        inner = graph.value(path, predicate)
        if inner is not None:
            return f"{mark}{path_text(graph, inner)}"
    alternatives = graph.value(path, SH.alternativePath)
    if alternatives is not None:
        return "(" + "|".join(path_text(graph, p) for p in Collection(graph, alternatives)) + ")"
    if (path, RDF.first, None) in graph:
        return "(" + "/".join(path_text(graph, p) for p in Collection(graph, path)) + ")"
    raise AssertionError(f"unreadable path {path!r} in a report")


def _term(node) -> str:
    return node.n3() if isinstance(node, (URIRef, Literal)) else "_:blank"


def results_of(report: Graph) -> tuple[bool, Counter]:
    """sh:conforms and the results of a SHACL report graph."""
    conforms = [bool(o.toPython()) for o in report.objects(None, SH.conforms)]
    assert len(conforms) == 1, conforms
    found: Counter = Counter()
    for result in report.objects(None, SH.result):
        path = report.value(result, SH.resultPath)
        found[(_term(report.value(result, SH.focusNode)),
               path_text(report, path) if path is not None else None,
               str(report.value(result, SH.sourceConstraintComponent)).rsplit("#", 1)[-1],
               str(report.value(result, SH.resultSeverity)).rsplit("#", 1)[-1])] += 1
    return conforms[0], found


def run_pyshacl(data: Path, shapes: Path) -> tuple[bool, Counter]:
    """pyshacl as `healthcoop validate` runs it: no inference, SHACL Core only."""
    data_graph = Graph().parse(data, format="nt")
    shapes_graph = Graph().parse(shapes, format="nt")
    _conforms, report, _text = pyshacl.validate(
        data_graph, shacl_graph=shapes_graph, inference="none", advanced=False)
    return results_of(report)


def run_jena(data: Path, shapes: Path) -> tuple[bool, Counter]:
    """Apache Jena SHACL 4.5 (`shacl validate`); its report, parsed (the exit code is 0
    either way)."""
    need(jena_present(), "Apache Jena (libapache-jena-java, java)")
    result = subprocess.run(
        [str(JENA), "shacl.shacl", "validate", "--shapes", str(shapes), "--data", str(data)],
        capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL,
        env={**os.environ, "JENA_JAVA_OPTS": "-Xmx1g"})
    assert result.returncode == 0, result.stderr[-3000:]
    return results_of(Graph().parse(data=result.stdout, format="turtle"))


@pytest.fixture(scope="module")
def shape_files(tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("shapes")
    return {"constraints": merged([CONSTRAINTS], out / "constraints.nt"),
            "advice": merged([ADVICE], out / "advice.nt"),
            "both": merged(sorted(SHAPES_DIR.glob("*.ttl")), out / "both.nt")}


# --- the release ------------------------------------------------------------------------------

@pytest.mark.external
@pytest.mark.parametrize("shapes", ["constraints", "advice", "both"])
def test_jena_and_pyshacl_agree_on_the_release(shapes, shape_files, release_dir):
    """Jena SHACL and pyshacl give the same conformance and the same results on the built
    data (healthcoop.nt) for the constraint shapes, the advice shapes and both; the release
    conforms to the constraints. Fails when a shape is read differently by the engines."""
    data = release_dir / "healthcoop.nt"
    ours = run_pyshacl(data, shape_files[shapes])
    jena = run_jena(data, shape_files[shapes])
    assert jena == ours, (f"only Jena: {list(jena[1] - ours[1])[:5]}\n"
                          f"only pyshacl: {list(ours[1] - jena[1])[:5]}")
    if shapes == "constraints":
        assert ours == (True, Counter())


def published(path: Path) -> tuple[bool, Counter]:
    """A published report read with pyoxigraph (strict): its one sh:conforms and its
    results as (focus, path or None, component, severity); the published report gives a
    result's path only when it is an IRI."""
    store = ox.Store()
    store.load(path=str(path), format=ox.RdfFormat.TURTLE)
    rows = list(store.query("""
        PREFIX sh: <http://www.w3.org/ns/shacl#>
        SELECT ?report ?conforms (COUNT(?result) AS ?n) WHERE {
          ?report a sh:ValidationReport ; sh:conforms ?conforms .
          OPTIONAL { ?report sh:result ?result } }
        GROUP BY ?report ?conforms"""))
    assert len(rows) == 1, rows
    conforms = rows[0]["conforms"]
    assert conforms.datatype.value == "http://www.w3.org/2001/XMLSchema#boolean"
    results: Counter = Counter()
    for row in store.query("""
        PREFIX sh: <http://www.w3.org/ns/shacl#>
        SELECT ?focus ?path ?component ?severity WHERE {
          ?report sh:result ?r . ?r sh:focusNode ?focus ;
             sh:sourceConstraintComponent ?component ; sh:resultSeverity ?severity .
          OPTIONAL { ?r sh:resultPath ?path } }"""):
        results[(str(row["focus"]), str(row["path"]) if row["path"] else None,
                 row["component"].value.rsplit("#", 1)[-1],
                 row["severity"].value.rsplit("#", 1)[-1])] += 1
    assert sum(results.values()) == int(rows[0]["n"].value)
    return conforms.value == "true", results


def comparable(results: Counter) -> Counter:
    """Engine results in the published form: IRIs in N-Triples form, blank paths left out."""
    return Counter({(focus, path if path and path.startswith("<") else None, component,
                     severity): n for (focus, path, component, severity), n in results.items()})


@pytest.mark.parametrize("name", ["validation-report.ttl", "validation-advice.ttl"])
def test_published_report_conforms_exactly_when_it_has_no_result(name, release_dir):
    """SHACL 1.0 §3.6.1: sh:conforms is true if and only if validation produced no result.
    Each published report (parsed strictly, counting sh:result) says so; before, the report
    said `sh:conforms true` beside 69 warning results. The constraints report of a release
    always conforms (the build refuses data that violates a constraint)."""
    conforms, results = published(release_dir / name)
    assert conforms == (not results), (conforms, sum(results.values()))
    if name == "validation-report.ttl":
        assert conforms and not results


@pytest.mark.external
@pytest.mark.parametrize("name,shapes", [("validation-report.ttl", "constraints"),
                                         ("validation-advice.ttl", "advice")])
def test_jena_says_what_the_published_report_says(name, shapes, shape_files, release_dir):
    """Jena SHACL on the release's data and the shapes each report is about gives the same
    sh:conforms, and the same results, as the report we publish."""
    conforms, results = published(release_dir / name)
    jena_conforms, jena_results = run_jena(release_dir / "healthcoop.nt", shape_files[shapes])
    assert jena_conforms == conforms
    assert comparable(jena_results) == results


def test_advice_is_not_among_the_constraints():
    """The constraint shapes have only sh:Violation (no sh:severity other than it), and
    every advice shape is a sh:Warning: so advice can never make the constraints report
    non-conforming, and what the validator calls an error is exactly a violation."""
    constraints = Graph().parse(CONSTRAINTS, format="turtle")
    assert set(constraints.objects(None, SH.severity)) <= {SH.Violation}
    advice = Graph().parse(ADVICE, format="turtle")
    assert set(advice.objects(None, SH.severity)) == {SH.Warning}
    # every shape that reports (not the helpers used through sh:node, whose results are
    # reported by the shape using them) says sh:Warning
    helpers = set(advice.objects(None, SH.node))
    helpers |= {p for h in helpers for p in advice.objects(h, SH.property)}
    reporting = (set(advice.subjects(RDF.type, SH.NodeShape))
                 | set(advice.objects(None, SH.property))) - helpers
    assert reporting
    for shape in reporting:
        assert advice.value(shape, SH.severity) == SH.Warning, shape


def test_every_constraint_parameter_has_one_value():
    """SHACL lets a shape give several values of a parameter such as sh:disjoint, each its
    own constraint, but engines do not all read that alike (rdf-validate-shacl checked one
    of two sh:disjoint values); our shapes give each parameter one value per shape."""
    graph = Graph()
    for path in sorted(SHAPES_DIR.glob("*.ttl")):
        graph.parse(path, format="turtle")
    lists = {SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf,
             SH.property, SH.message, SH.description, SH.name, SH.declare}
    shapes = {s for s, p in graph.subject_predicates() if str(p).startswith(str(SH))}
    for shape in shapes:
        for predicate in set(graph.predicates(shape)) - lists:
            if str(predicate).startswith(str(SH)):
                values = list(graph.objects(shape, predicate))
                assert len(values) == 1, (shape, predicate, values)


def test_split_disjoint_finds_what_the_two_value_form_found():
    """The `kind: misspelling` rule was one sh:disjoint with two values (rdfs:label,
    skos:altLabel); it is now two shapes with one each. On a record whose hidden label
    repeats both its label and an alt label, pyshacl reports the same results as with the
    old form: one per repeated property."""
    data = Graph().parse(data="""
        @prefix hc: <https://w3id.org/healthcoop/ontology#> .
        @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
        @prefix skos: <http://www.w3.org/2004/02/skos/core#> .
        <https://w3id.org/healthcoop/id/a> a hc:Actor ; rdfs:label "Same"@en ;
            skos:altLabel "Same"@en , "Alt"@en ; skos:hiddenLabel "Same"@en , "Alt"@en .
        """, format="turtle")
    old = Graph().parse(data="""
        @prefix hc: <https://w3id.org/healthcoop/ontology#> .
        @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
        @prefix skos: <http://www.w3.org/2004/02/skos/core#> .
        @prefix sh: <http://www.w3.org/ns/shacl#> .
        <urn:x:old> a sh:NodeShape ; sh:targetClass hc:Actor ; sh:property [
            sh:path skos:hiddenLabel ; sh:disjoint rdfs:label , skos:altLabel ] .
        """, format="turtle")
    new = Graph().parse(CONSTRAINTS, format="turtle")

    def disjoint(shapes: Graph) -> Counter:
        _c, report, _t = pyshacl.validate(data, shacl_graph=shapes, inference="none")
        return Counter((str(report.value(r, SH.focusNode)), str(report.value(r, SH.value)))
                       for r in report.objects(None, SH.result)
                       if report.value(r, SH.sourceConstraintComponent)
                       == SH.DisjointConstraintComponent
                       and report.value(r, SH.resultPath) == SKOS.hiddenLabel)

    assert disjoint(old) == Counter({("https://w3id.org/healthcoop/id/a", "Same"): 2,
                                     ("https://w3id.org/healthcoop/id/a", "Alt"): 1})
    assert disjoint(new) == disjoint(old)


# --- the bad-input corpus ---------------------------------------------------------------------

def case_data(case: str, tmp_path: Path) -> tuple[Path, object]:
    """The data graph of a bad-input case (its records mapped, with the links and the topic
    scheme, as a dump would hold them) as N-Triples, and `healthcoop validate`'s report."""
    from mini_project import make_mini_project
    from test_bad_inputs import apply_case

    from pipeline.build import load_project, map_project, reference_graphs
    from pipeline.check.validate import validate_project
    from pipeline.publish.release import canonical_triples

    project_dir = make_mini_project(tmp_path / "project")
    expect = apply_case(case, project_dir)
    report = validate_project(project_dir)
    finding = [i for i in report.issues if (i.file, i.line, i.field)
               == (expect["file"], expect["line"], expect["field"])]
    assert finding and all(i.code.startswith("shacl-") for i in finding), (
        f"{case}: its finding does not come from SHACL: {finding}")
    project = load_project(project_dir)
    triples, _ctx = map_project(project)
    for extra in reference_graphs(project).values():
        triples = [*triples, *extra]
    out = tmp_path / "data.nt"
    ox.serialize(canonical_triples(triples), str(out), ox.RdfFormat.N_TRIPLES)
    return out, (report, finding)


@pytest.mark.external
@pytest.mark.parametrize("case", SHACL_CASES)
def test_jena_and_pyshacl_agree_on_bad_inputs(case, shape_files, tmp_path):
    """On each bad-input case that SHACL catches, Jena SHACL reports exactly pyshacl's
    results (with both shape files, as `healthcoop validate` runs them), including the one
    the case is about (its constraint component, as the finding's code names it)."""
    assert SHACL_CASES, "no shacl-* case in tests/bad_inputs"
    data, (_report, finding) = case_data(case, tmp_path)
    ours = run_pyshacl(data, shape_files["both"])
    jena = run_jena(data, shape_files["both"])
    assert jena == ours, (f"only Jena: {list(jena[1] - ours[1])[:5]}\n"
                          f"only pyshacl: {list(ours[1] - jena[1])[:5]}")
    components = {key[2].removesuffix("ConstraintComponent").lower() for key in ours[1]}
    assert {i.code.removeprefix("shacl-").lower() for i in finding} <= components


def test_bad_input_cases_exist():
    """The comparison above needs cases: the corpus keeps its SHACL cases."""
    assert len(SHACL_CASES) >= 3, SHACL_CASES
