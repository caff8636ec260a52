"""`healthcoop validate`: SHACL run in batches and traced back to YAML, the four report
formats, exit codes, the SHACL report published with a build, and builds that a failure or
Ctrl-C cannot half-write."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyoxigraph as ox
import pyshacl
import pytest
import yaml
from click.testing import CliRunner
from mini_project import edit, make_mini_project, snapshot
from rdflib import Graph

from pipeline.build import build_release, load_project
from pipeline.check.shacl import merge_field
from pipeline.check.validate import (
    SH,
    ShaclRun,
    ValidationReport,
    github_escape_data,
    github_escape_property,
    load_shapes,
    render,
    use_color,
    validate_project,
)
from pipeline.cli import main
from pipeline.errors import Issue, IssueList, Severity
from pipeline.link import link_triples
from pipeline.rdf.mapping import MappingContext, map_dataset

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
DIALOGUE = "data/records/fixture-dialogue-2024.yaml"










# --- the mini project and the real data are valid -------------------------------------------

def test_mini_project_is_valid(mini):
    """The fixture every bad input starts from must itself be valid, or each bad-input case
    would pass for the wrong reason."""
    report = validate_project(mini)
    assert report.errors == [], render(report)
    assert report.shacl_ran and report.shacl_conforms
    assert report.stats["triples"] > 300 and report.stats["records"] == 14


def test_repository_data_is_valid(project_root):
    """The curated records, sources, register and shapes of the repository validate: the
    same check CI runs on every pull request."""
    report = validate_project(project_root)
    assert report.errors == [], render(report, "text")
    assert report.shacl_ran


# --- SHACL in batches finds what one whole-graph run finds -----------------------------------

def _whole_graph_results(root: Path, run: ShaclRun) -> set:
    """pyshacl over the whole dataset plus the topic scheme, as the shapes file describes."""
    project = load_project(root)
    graph = Graph()
    for triple in map_dataset(MappingContext(project.records, project.sources)):
        graph.add(triple)
    for triple in link_triples(root):
        graph.add(triple)
    graph.parse(root / "ontology" / "topics.ttl")
    _conforms, report, _text = pyshacl.validate(graph, shacl_graph=run.shapes, inference="none",
                                                allow_warnings=True)
    found = set()
    for result in report.objects(None, SH.result):
        value = report.value(result, SH.value)
        shape = report.value(result, SH.sourceShape)
        found.add((str(report.value(result, SH.focusNode)),
                   value.n3() if value is not None else None,
                   run.shape_info(shape)["label"] or str(shape),
                   str(report.value(result, SH.sourceConstraintComponent))))
    return found


@pytest.mark.parametrize("which", ["mini", "repository"])
def test_batches_find_what_one_graph_finds(which, mini, project_root):
    """Batching (with stubs of the nodes a batch points at) must neither miss a result nor
    invent one: compare with pyshacl over the whole graph, with tiny batches so that almost
    every reference crosses a batch boundary. A retired `replaced_by` target and an unknown
    one are added to the mini project so that sh:node shapes on referenced nodes are hit."""
    root = mini if which == "mini" else project_root
    if which == "mini":
        edit(root / "data/records/actors.yaml", "    country: northbridge\n    evidence:\n"
             "      - source: fixture-dialogue-2024\n        quote: \"The Northbridge Ministry",
             "    country: northbridge\n    deprecated: \"Test: retired.\"\n    evidence:\n"
             "      - source: fixture-dialogue-2024\n        quote: \"The Northbridge Ministry")
    project = load_project(root)
    issues = IssueList(list(project.issues.items))
    run = ShaclRun(project, load_shapes(root, issues), issues, batch_triples=40)
    run.run()
    assert run.stats["batches"] > 5
    batched = {(r.focus, r.value, r.shape, r.component) for r in run.results}
    whole = _whole_graph_results(root, run)
    assert batched == whole, (sorted(batched - whole)[:5], sorted(whole - batched)[:5])
    if which == "mini":
        assert any("NotRetired" in r.component or "itself retired" in r.message
                   for r in run.results), [r.message for r in run.results]


# --- SHACL results name file, line and field ------------------------------------------------

EXTRA_SHAPES = """
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix hc: <https://w3id.org/healthcoop/ontology#> .
@prefix hcsh: <https://w3id.org/healthcoop/shapes#> .
@prefix schema: <https://schema.org/> .
@prefix oa: <http://www.w3.org/ns/oa#> .

hcsh:TestSignedAtShape a sh:NodeShape ;
    sh:targetClass hc:Agreement ;
    sh:property [ sh:path hc:signedAt ; sh:name "signed_at" ; sh:minCount 1 ;
                  sh:message "Test: every agreement needs `signed_at:`."@en ] .

hcsh:TestAmountShape a sh:NodeShape ;
    sh:targetClass schema:MonetaryAmount ;
    sh:property [ sh:path schema:currency ; sh:name "amount.currency" ;
                  sh:in ( "GBP" ) ; sh:description "Test: write GBP."@en ;
                  sh:message "Test: only pounds."@en ] .

hcsh:TestQuoteShape a sh:NodeShape ;
    sh:targetClass oa:TextQuoteSelector ;
    sh:property [ sh:path oa:exact ; sh:name "evidence.quote" ; sh:maxLength 40 ;
                  sh:message "Test: quotes are short."@en ] .

hcsh:TestNoNameShape a sh:NodeShape ;
    sh:targetClass hc:Event ;
    sh:property [ sh:path hc:host ; sh:maxCount 0 ] .
"""


def test_shacl_results_point_at_the_yaml(mini):
    """Each SHACL result becomes file:line:field: the focus node gives the record (or the
    record's amount or evidence entry), the shape's sh:name the field, the value the list
    item; sh:message is the message and sh:description the fix. A shape with neither
    sh:name nor sh:message still gets a field (from the predicate) and a fix."""
    (mini / "shapes" / "test-extra.ttl").write_text(EXTRA_SHAPES, encoding="utf-8")
    report = validate_project(mini)
    by_code = {}
    for issue in report.errors:
        by_code.setdefault((issue.file, issue.field), issue)
    signed = by_code[(DIALOGUE, "agreements[0].signed_at")]
    assert signed.line == 26 and signed.message.startswith("Test: every agreement needs")
    assert signed.code == "shacl-minCount" and "TestSignedAtShape" in signed.fix
    currency = by_code[("data/records/fixture-fund-2024.yaml", "agreements[0].amount.currency")]
    assert currency.line == 10 and currency.fix == "Test: write GBP."
    assert '"CNY"' in currency.message  # the offending value is shown
    quote = by_code[(DIALOGUE, "agreements[0].evidence[0].quote")]
    assert quote.line == 37 and quote.message.startswith("Test: quotes are short.")
    host = by_code[(DIALOGUE, "events[0].hosts")]  # no sh:name: field from the predicate
    assert host.line == 17 and host.fix.startswith("Give `hosts` only as many values")
    published = {r.issue for r in report.shacl_results}
    assert {signed, currency, quote, host} <= published


def test_merge_field():
    """sh:name names a field from the record's top; the node it was found on may be a list
    entry (evidence[2]) or a nested mapping (amount)."""
    assert merge_field("", "parties") == "parties"
    assert merge_field("evidence[2]", "evidence.quote") == "evidence[2].quote"
    assert merge_field("evidence[2]", "evidence") == "evidence[2]"
    assert merge_field("amount", "amount.currency") == "amount.currency"
    assert merge_field("amount", "currency") == "amount.currency"
    assert merge_field("evidence[0]", None) == "evidence[0]"


def test_unknown_reference_is_reported_once(mini):
    """A misspelt id is an 'unknown id' error from the record checks; the SHACL shapes that
    would also fail on it (sh:class) must not repeat it as a second, vaguer error."""
    edit(mini / DIALOGUE, "leaders: [alice-grant]", "leaders: [alice-grnat]")
    report = validate_project(mini)
    assert [(i.line, i.field, i.code) for i in report.errors] == [
        (18, "events[0].leaders[0]", "unknown-reference")]


def test_records_with_schema_errors_cause_no_cascade(mini):
    """A record dropped for a schema error is still 'known': references to it are not each
    reported again as unknown ids, and a file YAML cannot read does not turn every record
    pointing into it into errors either."""
    edit(mini / "data/records/actors.yaml", 'label: "Harbour Pharma"', 'label: ["Harbour"]')
    edit(mini / "data/records/places.yaml", 'label: "Eastvale City"', 'label: "Eastvale City')
    report = validate_project(mini)
    assert {(i.file, i.code) for i in report.errors} == {
        ("data/records/actors.yaml", "schema"), ("data/records/places.yaml", "yaml-syntax")}


# --- formats ----------------------------------------------------------------------------------

def _report(mini: Path, strict: bool = False) -> ValidationReport:
    edit(mini / DIALOGUE, "leaders: [alice-grant]", "leaders: [alice-grnat]")
    edit(mini / "data/published-iris.txt", "https://w3id.org/healthcoop/id/li-wen\n", "")
    return validate_project(mini, strict=strict)


def test_json_format(mini):
    """--format json: one document with every issue's file, line, column, field, severity,
    code, message and fix."""
    doc = json.loads(render(_report(mini), "json"))
    assert doc["valid"] is False and doc["errors"] == 1 and doc["warnings"] >= 1
    issue = next(i for i in doc["issues"] if i["code"] == "unknown-reference")
    assert issue == {**issue, "file": DIALOGUE, "line": 18, "column": 15,
                     "field": "events[0].leaders[0]", "severity": "error",
                     "record_id": "northbridge-eastvale-health-dialogue-2024"}
    assert "alice-grant" in issue["fix"]


def test_sarif_format(mini):
    """--format sarif: SARIF 2.1.0 that code-scanning tools accept: a tool driver with
    rules, results with ruleId/ruleIndex/level/message and a physical location (relative
    URI and 1-based start line)."""
    doc = json.loads(render(_report(mini), "sarif"))
    assert doc["version"] == "2.1.0" and doc["$schema"].endswith("sarif-2.1.0.json")
    run = doc["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert run["tool"]["driver"]["name"] == "healthcoop"
    assert len({r["id"] for r in rules}) == len(rules)
    levels = {r["level"] for r in run["results"]}
    assert levels <= {"error", "warning", "note"} and "error" in levels
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["message"]["text"]
        location = result["locations"][0]["physicalLocation"]
        assert not location["artifactLocation"]["uri"].startswith("/")
        if "region" in location:
            assert location["region"]["startLine"] >= 1
    unknown = next(r for r in run["results"] if r["ruleId"] == "unknown-reference")
    assert unknown["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": DIALOGUE, "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 18, "startColumn": 15}}
    strict = json.loads(render(_report(make_mini_project(mini.parent / "b"), strict=True),
                               "sarif"))
    assert "warning" not in {r["level"] for r in strict["runs"][0]["results"]}


def test_github_escaping():
    """GitHub's workflow-command rules: %, CR and LF escaped in the message; additionally
    ':' and ',' in properties, which would otherwise end a property early."""
    assert github_escape_data("50% done\r\nnext: a, b") == "50%25 done%0D%0Anext: a, b"
    assert github_escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"


def test_github_format_escapes_hostile_text(tmp_path):
    """A message carrying newlines, '::' and '%' stays one annotation."""
    issue = Issue("data/records/x, y.yaml", 3, "persons[0].label",
                  "line one\n::error::forged 100%", "fix it")
    report = ValidationReport(tmp_path, [issue])
    lines = render(report, "github").splitlines()
    assert lines[0] == ("::error file=data/records/x%2C y.yaml,line=3,"
                        "title=persons[0].label (invalid)::line one%0A::error::forged 100%25"
                        "%0Afix: fix it")
    assert len(lines) == 2


def test_text_colour_only_on_a_terminal(monkeypatch):
    """Colour codes go to terminals only, never into CI logs or files, and never when
    NO_COLOR is set (no-color.org)."""
    class Tty:
        def isatty(self):
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    assert use_color(Tty()) is True
    monkeypatch.setenv("NO_COLOR", "1")
    assert use_color(Tty()) is False
    assert use_color(open(os.devnull, "w")) is False  # noqa: SIM115
    report = ValidationReport(Path("."), [Issue("f.yaml", 1, "x", "bad", "fix")])
    assert "\x1b[" in render(report, "text", color=True)
    assert "\x1b[" not in render(report, "text")


def test_text_output_neutralises_escape_sequences():
    """Curated text reaches the terminal in messages; an ESC in it must not drive the
    terminal (for example clear the screen or hide the rest of the report)."""
    report = ValidationReport(Path("."), [Issue("f.yaml", 1, "x", "bad \x1b[2J text", "fix")])
    text = render(report, "text")
    assert "\x1b" not in text and "\\u001b[2J" in text


def test_text_is_grouped_by_file(mini):
    """Text output: one heading per file, each finding under it with file:line:col, the
    severity, the field, the message and the fix; a summary last."""
    text = render(_report(mini), "text")
    lines = text.splitlines()
    assert DIALOGUE in lines
    at = lines.index(DIALOGUE)
    assert lines[at + 1].startswith(f"  {DIALOGUE}:18:15: error: events[0].leaders[0]: Unknown")
    assert lines[at + 2].startswith("    fix: Did you mean 'alice-grant'?")
    assert lines[-1].startswith("invalid: 1 error, ")


# --- exit codes and options -----------------------------------------------------------------

def test_exit_codes(mini, tmp_path):
    """0 valid, 1 invalid data, 2 usage or environment error; warnings fail only under
    --strict."""
    runner = CliRunner()
    assert runner.invoke(main, ["validate", "--root", str(mini)]).exit_code == 0
    edit(mini / "data/published-iris.txt", "https://w3id.org/healthcoop/id/li-wen\n", "")
    warned = runner.invoke(main, ["validate", "--root", str(mini)])
    assert warned.exit_code == 0 and "warning: persons[1].id: New IRI" in warned.output
    assert runner.invoke(main, ["validate", "--root", str(mini), "--strict"]).exit_code == 1
    edit(mini / DIALOGUE, "leaders: [alice-grant]", "leaders: [alice-grnat]")
    assert runner.invoke(main, ["validate", "--root", str(mini)]).exit_code == 1
    missing = runner.invoke(main, ["validate", "--root", str(tmp_path / "nowhere")])
    assert missing.exit_code == 2 and "not a healthcoop project" in missing.output
    usage = runner.invoke(main, ["validate", "--root", str(mini), "--format", "xml"])
    assert usage.exit_code == 2


def test_quiet_and_output_file(mini, tmp_path):
    """--quiet lists only what fails the run (the count of the rest stays in the summary);
    --output-file writes the report there and only the summary to the terminal."""
    _report(mini)
    result = CliRunner().invoke(main, ["validate", "--root", str(mini), "-q"])
    assert "warning:" not in result.output and "error: events[0].leaders[0]" in result.output
    assert "(not shown: --quiet)" in result.output.splitlines()[-1]
    out = tmp_path / "report.sarif"
    result = CliRunner().invoke(main, ["validate", "--root", str(mini), "--format", "sarif",
                                       "--output-file", str(out)])
    assert result.exit_code == 1 and result.output.startswith("invalid:")
    assert json.loads(out.read_text(encoding="utf-8"))["version"] == "2.1.0"


def test_broken_shapes_file_is_located(mini):
    """A syntax error in the shapes is reported at its line, and the run fails rather than
    silently skipping SHACL."""
    path = mini / "shapes" / "healthcoop-shapes.ttl"
    lines = path.read_text(encoding="utf-8").split("\n")
    index = next(i for i, line in enumerate(lines) if line.startswith("hcsh:"))
    lines[index] = lines[index] + " ]]"
    path.write_text("\n".join(lines), encoding="utf-8")
    report = validate_project(mini)
    assert not report.shacl_ran
    assert [(i.file, i.code) for i in report.errors] == [
        ("shapes/healthcoop-shapes.ttl", "shapes-syntax")]
    assert report.errors[0].line in (index + 1, index + 2)


# --- the build validates first and publishes the SHACL report -------------------------------

def test_build_publishes_the_validation_report(mini, tmp_path):
    """A release holds the SHACL report as RDF (a sh:ValidationReport that strict parsers
    read, no blank nodes) and as a page; both come out byte-identical on a second build."""
    _report_with_warning = mini / "data/records/actors.yaml"
    edit(_report_with_warning, '    honorific: "Professor"\n',
         '    honorific: "Professor"\n    alt_labels:\n      - label: "Li <b>Wen</b>"\n'
         '        source: fixture-fund-2024\n')
    a, b = tmp_path / "a", tmp_path / "b"
    build_release(mini, a)
    build_release(mini, b)
    for name in ("validation-report.ttl", "validation-report.html"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    quads = list(ox.parse(path=str(a / "validation-report.ttl"), format=ox.RdfFormat.TURTLE))
    assert not any(isinstance(q.subject, ox.BlankNode) or isinstance(q.object, ox.BlankNode)
                   for q in quads)
    conforms = [q.object.value for q in quads if q.predicate.value == str(SH.conforms)]
    assert conforms == ["true"]
    assert not any(q.object.value == str(SH.Warning) for q in quads)
    # the advice is not a SHACL result of the contract: it has its own report (issue 13)
    advice = list(ox.parse(path=str(a / "validation-advice.ttl"), format=ox.RdfFormat.TURTLE))
    warnings = [q for q in advice if q.object.value == str(SH.Warning)]
    assert warnings, "the Wikidata advice should be published as sh:Warning results"
    html = (a / "validation-report.html").read_text(encoding="utf-8")
    assert "Li &lt;b&gt;Wen&lt;/b&gt;" in html and "<b>Wen" not in html
    assert "data/records/actors.yaml:16" in html


def test_build_refuses_invalid_data_and_keeps_output(mini):
    """`healthcoop build` runs the full validation first: on an error nothing is written
    and the previous output/ stays byte for byte."""
    build_release(mini)
    before = snapshot(mini / "output")
    edit(mini / DIALOGUE, 'value: "2024-03-14"', 'value: "2024-02-30"')
    result = CliRunner().invoke(main, ["build", "--root", str(mini)])
    assert result.exit_code == 1
    assert f"{DIALOGUE}:31:7: agreements[0].date.value" in result.output
    assert snapshot(mini / "output") == before
    assert not [p for p in mini.iterdir() if ".staging-" in p.name]


def test_keyboard_interrupt_while_writing_leaves_nothing(mini, monkeypatch):
    """Ctrl-C while the release is being written: no staging directory stays behind and
    output/ is exactly the previous release."""
    build_release(mini)
    before = snapshot(mini / "output")

    def interrupted(report, out_dir):
        (out_dir / "partial.txt").write_text("half", encoding="utf-8")
        raise KeyboardInterrupt

    monkeypatch.setattr("pipeline.check.validate.write_report_files", interrupted)
    with pytest.raises(KeyboardInterrupt):
        build_release(mini)
    assert snapshot(mini / "output") == before
    # (.cache holds the shard cache of the first build, kept by design: docs/scaling.md)
    assert sorted(p.name for p in mini.iterdir()) == [".cache", "data", "ontology", "output",
                                                      "shapes"]


def test_sigint_just_before_the_swap(mini):
    """A real SIGINT to a build process at its most delicate point (release staged, not yet
    swapped in): the process stops, the staging directory is removed and output/ is the
    previous release. Without the interrupt, the same paused build completes."""
    build_release(mini)
    before = snapshot(mini / "output")
    flag = mini.parent / "paused"
    env = {**os.environ, "HEALTHCOOP_TEST_PAUSE_BEFORE_SWAP": str(flag)}
    command = [sys.executable, "-m", "pipeline.cli", "build", "--root", str(mini)]
    process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while not flag.exists():
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the build never reached the swap"
            time.sleep(0.05)
        assert [p for p in mini.iterdir() if ".staging-" in p.name], "nothing was staged"
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode != 0
    assert snapshot(mini / "output") == before
    assert not [p for p in mini.iterdir() if ".staging-" in p.name or ".old-" in p.name]

    flag.unlink(missing_ok=True)
    edit(mini / "data/records/actors.yaml", 'label: "Li Wen"', 'label: "Wen Li"')
    process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while not flag.exists():
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.05)
        flag.unlink()  # let it go on
        process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0
    assert snapshot(mini / "output") != before
    assert not [p for p in mini.iterdir() if ".staging-" in p.name]


def test_report_severity_mapping(mini):
    """sh:Warning results are warnings (they never fail a run without --strict) and
    sh:Violation results errors."""
    report = validate_project(mini)
    shacl = [r for r in report.shacl_results]
    assert shacl and all(r.severity == "Warning" for r in shacl)
    assert all(r.issue.severity == Severity.WARNING for r in shacl)
    assert report.exit_code == 0


def test_pull_request_workflow_runs_validation(project_root):
    """The ready-made GitHub Actions workflow validates on pull requests with annotations,
    and the commands it runs exist (a renamed option would silently break it)."""
    workflow = yaml.safe_load((project_root / ".github/workflows/validate.yml").read_text())
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as True
    assert "pull_request" in triggers
    commands = [step["run"] for job in workflow["jobs"].values() for step in job["steps"]
                if "run" in step]
    assert "healthcoop validate --format github" in commands
    assert "bash .ci/run" in commands
    result = CliRunner().invoke(main, ["validate", "--root", str(project_root),
                                       "--format", "github", "--quiet"])
    assert result.exit_code == 0, result.output
