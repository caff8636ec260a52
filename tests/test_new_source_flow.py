# ruff: noqa: E501 - the records carry verbatim quotes on one line
"""Adding a source never breaks the build or the tests (issue 14, point 5).

On a copy of the real repository, a maintainer follows CONTRIBUTING.md with a small article
written for this test (tests/fixtures/new_article.txt, invented and marked as a test fixture,
never published): `healthcoop new-source`, `healthcoop draft`, records written by hand with
verbatim quotes, `healthcoop validate` (exit 0), `healthcoop build`; then the data tests run
against the copy (its own tests/ folder, so their ROOT is the copy) and pass.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import yaml
from click.testing import CliRunner

from pipeline.cli import main

ROOT = Path(__file__).resolve().parent.parent
ARTICLE = ROOT / "tests" / "fixtures" / "new_article.txt"
SID = "uk-china-cancer-nurse-training-test"

RECORDS = f"""
events:
  - id: uk-china-cancer-nurse-training-forum
    label: "Forum in London on cancer nurse training"
    type: forum
    locations: [london]
    organisers: [china-britain-business-council]
    evidence:
      - source: {SID}
        quote: "at a forum in London"
        supports: [type, locations]
      - source: {SID}
        quote: "The forum, organised by the China-Britain Business Council"
        supports: [organisers]

agreements:
  - id: healthcare-uk-pkuhsc-cancer-nurse-training-mou
    label: "Memorandum of understanding on nurse training in oncology between Healthcare UK and Peking University Health Science Center"
    type: memorandum-of-understanding
    parties: [healthcare-uk, peking-university-health-science-center]
    signed_at: uk-china-cancer-nurse-training-forum
    purpose: "nurse training in oncology"
    topics: [cancer, health-workforce]
    evidence:
      - source: {SID}
        quote: "Healthcare UK and Peking University Health Science Center signed a memorandum of understanding on nurse training in oncology at a forum in London"
        supports: [type, parties, signed_at, purpose]
"""

DATA_TESTS = ["tests/test_expectations.py", "tests/test_sources.py",
              "tests/test_queries.py::test_agreements_of_an_organisation",
              "tests/test_queries.py::test_events_of_a_person",
              "tests/test_queries.py::test_agreements_by_topic_and_year",
              "tests/test_queries.py::test_who_signed_with_whom",
              "tests/test_queries.py::test_evidence_for_a_fact"]


def _copy_repository(dest: Path) -> Path:
    for part in ("data", "ontology", "shapes", "queries", "tests", "docs"):
        shutil.copytree(ROOT / part, dest / part,
                        ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    for name in ("pyproject.toml", "README.md", "CONTRIBUTING.md"):
        shutil.copy(ROOT / name, dest / name)
    return dest


def test_adding_a_source_by_contributing_md_keeps_the_data_tests_green(tmp_path):
    """new-source, draft, hand-written records, validate (exit 0), build, and the data
    tests against the copy pass, with the new source's facts in the release."""
    repo = _copy_repository(tmp_path / "repo")
    runner = CliRunner()
    added = runner.invoke(main, ["new-source", "--root", str(repo), str(ARTICLE), "--id", SID,
                                 "--title", "UK and Chinese partners agree to train cancer "
                                            "nurses together"])
    assert added.exit_code == 0, added.output
    assert f"healthcoop draft {SID}" in added.output

    drafted = runner.invoke(main, ["draft", "--root", str(repo), SID])
    assert drafted.exit_code == 0, drafted.output
    draft_file = repo / "data" / "records" / f"{SID}.draft.yaml"
    block = yaml.safe_load(draft_file.read_text(encoding="utf-8"))["draft"]
    assert {"healthcare-uk", "peking-university-health-science-center",
            "china-britain-business-council", "london"} <= {m["id"] for m in block["mentions"]}
    assert any(d["quote"] == "on Thursday" for d in block["relative_dates"])
    # the maintainer has read the draft: the records go into the skeleton, the draft goes
    draft_file.unlink()
    records_file = repo / "data" / "records" / f"{SID}.yaml"
    skeleton = records_file.read_text(encoding="utf-8")
    header = skeleton[:skeleton.index("\nroles:")]
    records_file.write_text(header + "\n" + RECORDS, encoding="utf-8")

    valid = runner.invoke(main, ["validate", "--root", str(repo)])
    assert valid.exit_code == 0, valid.output
    built = runner.invoke(main, ["build", "--root", str(repo)])
    assert built.exit_code == 0, built.output
    nt = (repo / "output" / "healthcoop.nt").read_text(encoding="utf-8")
    assert "https://w3id.org/healthcoop/id/healthcare-uk-pkuhsc-cancer-nurse-training-mou" in nt

    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                             *DATA_TESTS], cwd=repo, capture_output=True, text=True,
                            timeout=900)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
