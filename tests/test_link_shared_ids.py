"""Two records linked to one QID or ROR id (issue 14): a warning at the later link, naming the
earlier one at its file:line, unless a reviewer marked the pair as sharing it on purpose
(`shared_with:` the other record, with the reason in `note:`).

A small project of fictional organisations with made-up ROR ids and QIDs (Q900000 range);
nothing is read from outside the test's directory.
"""

from __future__ import annotations

import textwrap
from datetime import date
from pathlib import Path

import yaml

from pipeline.errors import Severity
from pipeline.link import LinkOptions, check_review_file, run_link
from pipeline.link.common import REVIEW_FILE

ACTORS = """\
organisations:
  - id: ruritania-ministry-of-health
    label: "Ruritania Ministry of Health"
    type: ministry
  - id: ruritania-ministry-of-health-and-welfare
    label: "Ruritania Ministry of Health and Welfare"
    type: ministry
  - id: northbridge-university
    label: "Northbridge University"
    type: university
  - id: northbridge-university-lab
    label: "Northbridge University Genomics Lab"
    type: research-institute
"""

DATASET = """\
id: test
version: "9.9.9"
licence: "https://creativecommons.org/licenses/by/4.0/"
"""


def make_project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "data/records").mkdir(parents=True)
    (root / "data/records/actors.yaml").write_text(ACTORS, "utf-8")
    (root / "data/dataset.yaml").write_text(DATASET, "utf-8")
    return root


def accepted(target: str, *, match_type: str = "exact", extra: str = "") -> str:
    """One accepted candidate, as a reviewer writes it (indented for an entry)."""
    lines = [f"- target: {target}",
             f"  reference: https://example.org/registry/{target.rsplit('/', 1)[-1]}",
             "  retrieved_on: '2026-12-01'",
             "  decision: accepted",
             "  reviewer: Test Reviewer",
             "  decision_date: '2026-12-01'",
             f"  match_type: {match_type}"]
    if match_type != "exact":
        lines.append("  match_reason: ours is a part of the target")
    lines += ["  " + line for line in textwrap.dedent(extra).splitlines() if line.strip()]
    return "\n".join("  " + line for line in lines)


def write_review(root: Path, entries: dict[str, list[str]]) -> None:
    body = ["links:"]
    for actor, cands in entries.items():
        body += [f"- actor: {actor}", "  candidates:" + ("" if cands else " []")]
        body += cands
    (root / REVIEW_FILE).write_text("\n".join(body) + "\n", "utf-8")


def shared(root: Path) -> list:
    return [i for i in check_review_file(root) if i.code == "shared-target"]


def line_of(root: Path, text: str, after: str) -> int:
    """1-based line of the first line equal to `text` after the line `after`."""
    lines = (root / REVIEW_FILE).read_text("utf-8").splitlines()
    start = lines.index(after)
    return next(n for n in range(start, len(lines)) if lines[n] == text) + 1


ROR = "https://ror.org/0fake0r01"


def test_one_ror_id_for_two_records_warns_at_the_second_naming_the_first(tmp_path):
    """The later of two records accepting the same ROR id gets a warning (not an error) at
    its target's line, naming the earlier record and the line of its link; the earlier one
    gets none."""
    root = make_project(tmp_path)
    write_review(root, {"ruritania-ministry-of-health": [accepted(ROR)],
                        "ruritania-ministry-of-health-and-welfare": [accepted(ROR)]})
    first = line_of(root, f"  - target: {ROR}", "- actor: ruritania-ministry-of-health")
    second = line_of(root, f"  - target: {ROR}",
                     "- actor: ruritania-ministry-of-health-and-welfare")
    [warning] = shared(root)
    assert warning.severity == Severity.WARNING
    assert (warning.file, warning.line, warning.field) == (
        "data/links.yaml", second, "links[1].candidates[0].target")
    assert warning.record_id == "ruritania-ministry-of-health-and-welfare"
    assert f"'ruritania-ministry-of-health' (data/links.yaml:{first})" in warning.message
    assert "shared_with: ruritania-ministry-of-health" in warning.fix
    assert not [i for i in check_review_file(root) if i.severity == Severity.ERROR]


def test_a_broad_qid_shared_with_the_whole_warns_too(tmp_path):
    """A part linked broadly to the item its whole is linked to exactly is allowed (no
    error), but still named, so that a reviewer confirms it is meant."""
    root = make_project(tmp_path)
    write_review(root, {"northbridge-university": [accepted("Q900001")],
                        "northbridge-university-lab": [accepted("Q900001",
                                                                match_type="broad")]})
    [warning] = shared(root)
    assert warning.record_id == "northbridge-university-lab"
    assert "Q900001 is also accepted for 'northbridge-university'" in warning.message
    assert not [i for i in check_review_file(root) if i.severity == Severity.ERROR]


def test_a_pair_marked_as_sharing_on_purpose_is_not_warned(tmp_path):
    """`shared_with:` naming the other record, with a `note:` saying why, silences the
    warning, whichever of the two links carries the mark."""
    root = make_project(tmp_path)
    mark = ("shared_with: ruritania-ministry-of-health\n"
            "note: the same ministry, renamed; both names are in our sources")
    write_review(root, {"ruritania-ministry-of-health": [accepted(ROR)],
                        "ruritania-ministry-of-health-and-welfare": [accepted(ROR, extra=mark)]})
    assert shared(root) == []
    back = ("shared_with: ruritania-ministry-of-health-and-welfare\n"
            "note: the same ministry, renamed")
    write_review(root, {"ruritania-ministry-of-health": [accepted(ROR, extra=back)],
                        "ruritania-ministry-of-health-and-welfare": [accepted(ROR)]})
    assert shared(root) == []


def test_a_mark_without_a_reason_or_for_the_wrong_record_does_not_count(tmp_path):
    """A `shared_with:` with no note says nothing about why, so the pair is still warned
    about, and so is the mark; a mark naming a record that does not share the target is
    itself a warning."""
    root = make_project(tmp_path)
    write_review(root, {
        "ruritania-ministry-of-health": [accepted(ROR)],
        "ruritania-ministry-of-health-and-welfare": [
            accepted(ROR, extra="shared_with: ruritania-ministry-of-health")],
        "northbridge-university": [accepted("Q900001", extra=(
            "shared_with: northbridge-university-lab\nnote: the lab is part of it"))],
    })
    messages = sorted(i.message for i in shared(root))
    assert len(messages) == 3, messages
    assert any("also accepted for 'ruritania-ministry-of-health'" in m for m in messages)
    assert any("no `note:`" in m for m in messages)
    assert any("names 'northbridge-university-lab', but 'northbridge-university-lab' has no "
               "accepted link to Q900001" in m for m in messages)


def test_two_exact_qids_stay_one_error_not_an_extra_warning(tmp_path):
    """Two records owl:sameAs one item is already an error (it would make them one); the
    shared-target warning does not repeat it."""
    root = make_project(tmp_path)
    write_review(root, {"ruritania-ministry-of-health": [accepted("Q900002")],
                        "ruritania-ministry-of-health-and-welfare": [accepted("Q900002")]})
    issues = check_review_file(root)
    assert [i.code for i in issues if i.severity == Severity.ERROR] == ["duplicate"]
    assert shared(root) == []


def test_the_mark_survives_a_rerun_of_the_linker(tmp_path):
    """`shared_with:` is the reviewer's: a linker run keeps it byte for byte, and a second
    run changes nothing."""
    root = make_project(tmp_path)
    mark = ("shared_with: ruritania-ministry-of-health\n"
            "note: the same ministry, renamed")
    write_review(root, {"ruritania-ministry-of-health": [accepted(ROR)],
                        "ruritania-ministry-of-health-and-welfare": [accepted(ROR, extra=mark)],
                        "northbridge-university": [], "northbridge-university-lab": []})
    options = LinkOptions(wikidata=False, progress=False, today=date(2026, 12, 1))
    run_link(root, options)
    once = (root / REVIEW_FILE).read_bytes()
    data = yaml.load(once.decode("utf-8"), Loader=yaml.BaseLoader)
    entry = next(e for e in data["links"]
                 if e["actor"] == "ruritania-ministry-of-health-and-welfare")
    [cand] = entry["candidates"]
    assert cand["shared_with"] == "ruritania-ministry-of-health"
    assert cand["note"] == "the same ministry, renamed"
    assert shared(root) == []
    run_link(root, options)
    assert (root / REVIEW_FILE).read_bytes() == once
