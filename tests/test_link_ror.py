"""Offline ROR candidates: the name forms a reviewer must see, and the real examples.

The table runs against the fictional ROR fixture (tests/fixtures/ror/); the examples run
against the repository's own ROR copy (data/reference/ror/), never outside the repository.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml

from pipeline.link import LinkOptions, run_link
from pipeline.link.common import REVIEW_FILE

FIXTURES = Path(__file__).parent / "fixtures"
TODAY = date(2026, 12, 1)

# row -> (our label, our country, our type)
TABLE = {
    "exact": ("Eastvale Institute of Tropical Health", "united-kingdom", "research-institute"),
    "alias": ("Lakeshore MRC", "china", "government-agency"),
    "other-language-label": ("湖滨医学研究理事会", "china", "government-agency"),
    "abbreviation": ("LKMRC", "china", "government-agency"),
    "reordered-words": ("Tropical Health Institute of Eastvale", "united-kingdom",
                        "research-institute"),
    "misspelling": ("Eastvale Institute of Tropcal Health", "united-kingdom",
                    "research-institute"),
    "shorter-name": ("Riverside Trust", "united-kingdom", "health-service"),
    "wrong-country-exact": ("Northvale University", "china", "university"),
    "wrong-country-words": ("Tropical Health Eastvale Institute", "china",
                            "research-institute"),
    "one-word-apart": ("Southvale University", "united-kingdom", "university"),
}
# what each row must give: (ROR id or None, how the name matched, may it be accepted?)
EXPECTED = {
    "exact": ("0fake0a01", "exactly", True),
    "alias": ("0fake0k11", "exactly", True),
    "other-language-label": ("0fake0k11", "exactly", True),
    "abbreviation": ("0fake0k11", "as an acronym", False),
    "reordered-words": ("0fake0a01", "with similarity", False),  # words compared sorted
    "misspelling": ("0fake0a01", "with similarity", False),
    "shorter-name": ("0fake0c03", "by words", False),
    "wrong-country-exact": ("0fake0h08", "exactly", False),
    "wrong-country-words": (None, "", False),
    "one-word-apart": (None, "", False),
}


def _records_yaml() -> str:
    lines = ["organisations:"]
    for key, (label, country, kind) in TABLE.items():
        lines += [f"  - id: t-{key}", f'    label: "{label}"', f"    type: {kind}",
                  f"    country: {country}"]
    lines += ["places:", "  - id: china", '    label: "China"', "    type: country",
              "  - id: united-kingdom", '    label: "United Kingdom"', "    type: country"]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def table_review(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("table") / "project"
    (root / "data/records").mkdir(parents=True)
    (root / "data/records/actors.yaml").write_text(_records_yaml(), "utf-8")
    run_link(root, LinkOptions(wikidata=False, progress=False, today=TODAY,
                               ror_source=FIXTURES / "ror" / "ror-sample.jsonl"))
    data = yaml.load((root / REVIEW_FILE).read_text("utf-8"), Loader=yaml.BaseLoader)
    return {e.get("actor") or e.get("place"): e for e in data["links"]}


@pytest.mark.parametrize("key", list(TABLE))
def test_name_forms_give_the_expected_ror_candidate(table_review, key):
    """Each way a source may write an organisation's name (exact, alias, a label in another
    language, abbreviation, words reordered, a misspelling, a shorter name) proposes the
    right ROR record, with a score and the evidence behind it; another country or one word
    apart does not give a candidate one could accept. Only the exact same-country match of a
    fitting type may be accepted by the linker itself."""
    expected_id, how, may_accept = EXPECTED[key]
    entry = table_review[f"t-{key}"]
    rors = [c for c in entry["candidates"] if c["target"].startswith("https://ror.org/")]
    if expected_id is None:
        near = {"wrong-country-words": "0fake0a01", "one-word-apart": "0fake0h08"}[key]
        assert not [c for c in rors if c["target"].endswith(near)], rors
        return
    top = rors[0]
    assert top["target"] == f"https://ror.org/{expected_id}", rors
    assert 0.75 <= float(top["score"]) <= 1.0
    assert how in top["evidence"][0]
    assert any(line.startswith("score = ") for line in top["evidence"])
    assert any(line.startswith("country ") for line in top["evidence"])
    assert any(line.startswith("type ") for line in top["evidence"])
    assert (top["decision"] == "accepted") == may_accept, top


def test_wrong_country_is_said_in_the_evidence(table_review):
    """A ROR record of the same name in another country stays a proposal that says why."""
    top = table_review["t-wrong-country-exact"]["candidates"][0]
    assert any(line.startswith("country inconsistent") for line in top["evidence"])


def _real_copy(project_copy: Path) -> Path:
    """The real records and ROR copy, without any review decisions."""
    (project_copy / REVIEW_FILE).unlink()
    return project_copy


def test_real_examples_reach_the_review_file(project_copy):
    """With no decisions yet, the repository's ROR copy proposes the cases issue 14 names:
    'Barts NHS Trust' -> Barts Health NHS Trust, the 2020 'UK Department of Health' -> the
    Department of Health and Social Care, Shenzhen Tencent Computer Systems -> Tencent; each
    with the QID the ROR record lists, referenced to that record."""
    root = _real_copy(project_copy)
    run_link(root, LinkOptions(wikidata=False, progress=False, today=TODAY))
    data = yaml.load((root / REVIEW_FILE).read_text("utf-8"), Loader=yaml.BaseLoader)
    entries = {e.get("actor") or e.get("place"): e for e in data["links"]}
    for actor, ror, name in (("barts-nhs-trust", "00b31g692", "Barts Health NHS Trust"),
                             ("uk-department-of-health", "03sbpja79",
                              "Department of Health and Social Care"),
                             ("shenzhen-tencent-computer-systems", "00hhjss72", "Tencent")):
        cands = {c["target"]: c for c in entries[actor]["candidates"]}
        ror_cand = cands[f"https://ror.org/{ror}"]
        assert name in ror_cand["label"]
        assert float(ror_cand["score"]) >= 0.75 and ror_cand["decision"] == "proposed"
        listed = [c for c in cands.values() if c["method"] == "ror-listed-wikidata"
                  and c["reference"] == f"https://ror.org/{ror}"]
        assert listed, actor
        assert listed[0]["reference_release"] and listed[0]["retrieved_on"]


def test_copy_in_the_repository_says_where_it_comes_from(project_root):
    """The ROR copy names its source file, checksum, record counts, the ROR data dump DOI,
    the releases and the selection rule; every line is a record it says it holds."""
    import json

    folder = project_root / "data/reference/ror"
    selection = json.loads((folder / "selection.json").read_text("utf-8"))
    lines = (folder / "ror-subset.jsonl").read_text("utf-8").splitlines()
    assert selection["records"] == len(lines)
    assert len(selection["source_sha256"]) == 64 and selection["source_records"] > len(lines)
    assert selection["dump_doi"].startswith("https://doi.org/10.5281/zenodo.")
    readme = (folder / "README.md").read_text("utf-8")
    for needed in ("CC0", "ror-community/ror-records", selection["dump_doi"],
                   "How it was selected", "--ror-source", selection["source_sha256"]):
        assert needed in readme
    releases = {json.loads(line)["ror_release"] for line in lines}
    assert releases <= set(selection["releases"])


def test_subset_proposes_what_the_full_file_proposes(tmp_path):
    """A score depends only on the two records compared, so candidates from the re-selected
    copy equal those from the full file they were selected from."""
    source = FIXTURES / "ror" / "ror-sample.jsonl"
    root = tmp_path / "project"
    (root / "data/records").mkdir(parents=True)
    (root / "data/records/actors.yaml").write_text(_records_yaml(), "utf-8")
    run_link(root, LinkOptions(wikidata=False, progress=False, today=TODAY, ror_source=source))
    from_full = (root / REVIEW_FILE).read_text("utf-8")
    (root / REVIEW_FILE).unlink()
    run_link(root, LinkOptions(wikidata=False, progress=False, today=TODAY))
    assert (root / REVIEW_FILE).read_text("utf-8") == from_full
