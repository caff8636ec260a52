"""Nothing typed into data/links.yaml crashes the linker, validation or the build, and an
offline run in a fresh clone changes nothing (issue 10).

Every test works on a private copy of the real repository (`project_copy`), so the real
review file, records and ROR copy are what is mutated.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.errors import HealthcoopError, InvalidData, Issue, Severity
from pipeline.link import (
    LinkOptions,
    check_review_file,
    link_triples,
    linkset_files,
    load_entities,
    run_link,
)
from pipeline.link.common import REVIEW_FILE, ROR_DIR

FUZZ_EXAMPLES = int(os.environ.get("HEALTHCOOP_FUZZ_EXAMPLES", "60"))  # make fuzz: more

GOOD_HEAD = """\
links:
- actor: world-health-organization
  candidates:
  - target: Q7817
    reference: https://ror.org/01f80g185
    retrieved_on: '2026-12-01'
    decision: accepted
    reviewer: Test Reviewer
    decision_date: '2026-12-01'
"""


def _offline(root: Path, tmp_path: Path, day: date = date(2031, 5, 6)) -> LinkOptions:
    return LinkOptions(offline=True, cache_dir=tmp_path / "empty-cache", progress=False,
                       today=day)


def test_offline_link_changes_nothing_in_a_fresh_clone(project_copy, tmp_path):
    """`healthcoop link --offline` in a fresh clone makes no request and so must leave the
    tracked review file and ROR copy exactly as they are (it used to rewrite
    `retrieved_on` with today's date): same bytes, not even rewritten."""
    tracked = [project_copy / REVIEW_FILE,
               *sorted((project_copy / ROR_DIR).iterdir())]
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in tracked}
    summary = run_link(project_copy, _offline(project_copy, tmp_path))
    assert summary.requests == 0 and not summary.review_file_changed
    after = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in tracked}
    assert after == before


def test_decisions_survive_reruns_byte_for_byte(project_copy, tmp_path):
    """Every accepted and rejected candidate of the real review file (decision, reviewer,
    date, note, match type and reason, reference) is kept byte for byte by a rerun, on
    another day and even after the file lost its formatting."""
    import yaml

    path = project_copy / REVIEW_FILE
    original = path.read_text("utf-8")
    data = yaml.load(original, Loader=yaml.BaseLoader)
    path.write_text(yaml.safe_dump(data, width=60, allow_unicode=True), "utf-8")  # reflowed
    run_link(project_copy, _offline(project_copy, tmp_path))
    assert path.read_text("utf-8") == original


@pytest.mark.parametrize("name,body", [
    ("a list where text belongs", GOOD_HEAD.replace("reviewer: Test Reviewer",
                                                   "reviewer: [Ann, Bob]")),
    ("a mapping where a list belongs", "links:\n- actor: world-health-organization\n"
                                       "  candidates:\n    target: Q7817\n"),
    ("a list where a mapping belongs", "links:\n- [actor, world-health-organization]\n"),
    ("a 5,000-digit number", GOOD_HEAD.replace("retrieved_on: '2026-12-01'",
                                               "checked_revision: " + "9" * 5000)),
    ("a 5,000-digit QID", GOOD_HEAD.replace("Q7817", "Q" + "7" * 5000)),
    ("deeply nested values", "links:\n- actor: world-health-organization\n  candidates: "
                             + "[" * 3000 + "]" * 3000 + "\n"),
    ("an unknown actor", GOOD_HEAD.replace("world-health-organization", "no-such-body")),
    ("an actor id that is not an id", GOOD_HEAD.replace("world-health-organization",
                                                        "'World Health Org!'")),
    ("a control character", GOOD_HEAD.replace("Test Reviewer", '"Test\\aReviewer"')),
    ("a lone surrogate", GOOD_HEAD.replace("Test Reviewer", '"Test\\uD800Reviewer"')),
    ("a reference that is no address", GOOD_HEAD.replace("https://ror.org/01f80g185",
                                                         "'https://ror.org/01f80g185 \"x\"'")),
    ("a score that is no number", GOOD_HEAD.replace("decision: accepted",
                                                    "score: nan\n    decision: accepted")),
    ("a place entry naming an actor", GOOD_HEAD.replace("- actor:", "- place:")),
    ("an ISO code on an actor", GOOD_HEAD.replace("Q7817", "iso3166-1:CH")),
    ("an unknown top-level field", GOOD_HEAD + "extra: 1\n"),
])
def test_wrong_yaml_types_give_located_findings(project_copy, tmp_path, name, body):
    """Each mistake a person can make in the review file is a located error (file, line,
    field, fix) from check_review_file; `healthcoop link` refuses to rewrite the file or
    keeps going, and link_triples / linkset_files refuse to publish: never a traceback."""
    path = project_copy / REVIEW_FILE
    path.write_text(body, "utf-8")
    errors = [i for i in check_review_file(project_copy) if i.severity == Severity.ERROR]
    assert errors, name
    for issue in errors:
        assert issue.file == "data/links.yaml" and issue.line >= 1 and issue.field, issue
        assert issue.fix and issue.message
    for publish in (lambda: list(link_triples(project_copy)),
                    lambda: linkset_files(project_copy, tmp_path / "out")):
        with pytest.raises(InvalidData):
            publish()
    try:
        run_link(project_copy, _offline(project_copy, tmp_path))
    except InvalidData as err:
        assert err.issues and path.read_text("utf-8") == body  # left as it was


def test_non_utf8_review_file_is_a_located_finding(project_copy, tmp_path):
    """Bytes that are not UTF-8 are reported at their line; the file is left alone."""
    path = project_copy / REVIEW_FILE
    raw = GOOD_HEAD.encode() + b"- actor: caf\xe9\n"
    path.write_bytes(raw)
    [issue] = check_review_file(project_copy)
    assert (issue.file, issue.line) == ("data/links.yaml", 10) and "UTF-8" in issue.message
    with pytest.raises(InvalidData):
        run_link(project_copy, _offline(project_copy, tmp_path))
    assert path.read_bytes() == raw


@pytest.mark.parametrize("command", [["validate"], ["link", "--offline"]])
def test_commands_report_a_broken_review_file_without_a_traceback(project_copy, tmp_path,
                                                                  command):
    """`healthcoop validate` and `healthcoop link` (and so `build`, which validates first)
    answer a deeply nested, oversized review file with findings and exit code 1."""
    from pipeline.cli import main

    (project_copy / REVIEW_FILE).write_text(
        "links:\n- actor: world-health-organization\n  candidates: " + "[" * 3000
        + "]" * 3000 + "\n", "utf-8")
    args = [*command, "--root", str(project_copy)]
    if command[0] == "link":
        args += ["--cache-dir", str(tmp_path / "cache")]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output and "data/links.yaml" in result.output


# --- property-based: mutate the real review file ------------------------------------------------

STRUCTURAL = ["[a, b]", "{a: b}", "[" * 400 + "]" * 400, "[[x]]", "{}", "[]"]
TEXTUAL = ["9" * 5000, '"\\a"', '"\\uD800"', "", "~", "'   '", "Q" + "1" * 40,
           "'https://x y'", "-1", "1e999", "'2026-02-30'", "accepted", "rejected", "close",
           "iso3166-1:ZZ", "https://ror.org/0bad", "*alias", "&anchor x",
           "!!python/object:os.system x"]
HOSTILE = st.one_of(st.sampled_from(STRUCTURAL), st.sampled_from(TEXTUAL))


KEYS = ["checked_revision", "score", "target", "reference", "match_type", "redirected_to",
        "enrichment", "evidence", "decision", "retrieved_on", "decision_date", "actor",
        "place", "candidates", "status", "label", "match_reason", "problem"]


@st.composite
def mutations(draw, lines: list[str]) -> bytes:
    kind = draw(st.sampled_from(["value", "rekey", "delete", "truncate", "bytes",
                                 "duplicate"]))
    fields = [i for i, line in enumerate(lines) if ": " in line or line.endswith(":")]
    at = draw(st.one_of(st.sampled_from(fields), st.integers(0, len(lines) - 1)))
    out = list(lines)
    if kind == "value":
        line = out[at]
        key, sep, _ = line.partition(": ")
        out[at] = (key + ": " if sep else line + ": ") + draw(HOSTILE)
    elif kind == "rekey":  # another field of the same entry or candidate, a hostile value
        line = out[at]
        indent = line[: len(line) - len(line.lstrip(" -"))]
        out[at] = indent + draw(st.sampled_from(KEYS)) + ": " + draw(HOSTILE)
    elif kind == "delete":
        del out[at]
    elif kind == "duplicate":
        out.insert(at, out[at])
    text = "\n".join(out).encode("utf-8")
    if kind == "truncate":
        text = text[: draw(st.integers(0, len(text)))]
    if kind == "bytes":
        where = draw(st.integers(0, len(text)))
        text = text[:where] + draw(st.binary(min_size=1, max_size=4)) + text[where:]
    return text


@pytest.fixture(scope="module")
def real_copy(tmp_path_factory):
    import shutil

    from conftest import ROOT

    dest = tmp_path_factory.mktemp("fuzz") / "project"
    for part in ("data", "ontology", "shapes"):
        shutil.copytree(ROOT / part, dest / part)
    return dest, (dest / REVIEW_FILE).read_text("utf-8").split("\n"), load_entities(dest)


def test_mutated_review_files_never_raise(real_copy):
    """Hypothesis (derandomised, small budget): any mutation of the real review file (a
    hostile value in any field, a deleted or duplicated line, truncation, stray bytes) makes
    check_review_file return located issues or none, and link_triples either publish or
    refuse with InvalidData; nothing else is ever raised."""
    root, lines, entities = real_copy
    path = root / REVIEW_FILE

    @settings(max_examples=FUZZ_EXAMPLES, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(mutations(lines))
    def check(raw: bytes):
        path.write_bytes(raw)
        issues = check_review_file(root, entities)
        assert all(isinstance(i, Issue) for i in issues)
        for issue in issues:
            if issue.severity == Severity.ERROR:
                assert issue.file == "data/links.yaml" and issue.field, issue
                assert issue.line >= 1 or issue.field == "(file)", issue
        try:
            list(link_triples(root))
        except InvalidData as err:
            assert err.issues
        except HealthcoopError as err:  # pragma: no cover - would be a defect
            raise AssertionError(f"unexpected {type(err).__name__}: {err}") from err

    check()
