"""The root cause first, on the real repository (issue 10, point 4).

The real repository holds what the mini project does not (data/links.yaml, 164 records that
point at each other), and there two defects hid: an actor record with a schema error, or one
retired as CONTRIBUTING.md describes, surfaced only as "unknown actor id" in
data/links.yaml. These tests make each mistake on a copy of the real repository and check
what a maintainer reads first.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner

from pipeline.cli import main

ROOT = Path(__file__).resolve().parent.parent
FINDING = re.compile(r"^\s+(\S+?):(\d+)(?::\d+)?: (error|warning): (\S+): (.*)$")


@pytest.fixture
def real(tmp_path) -> Path:
    dest = tmp_path / "project"
    for part in ("data", "ontology", "shapes", "queries"):
        shutil.copytree(ROOT / part, dest / part)
    return dest


def _edit(path: Path, old: str, new: str) -> int:
    """Replace `old` (once) and return the 1-based line where `new` starts."""
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")
    return text[: text.index(old)].count("\n") + 1


def _first_finding(output: str) -> tuple[str, int, str, str, str]:
    for line in output.splitlines():
        match = FINDING.match(line)
        if match:
            return (match.group(1), int(match.group(2)), match.group(3), match.group(4),
                    match.group(5))
    raise AssertionError(output)


def test_actor_with_a_schema_error_is_the_first_finding(real):
    """A misspelt field in an actor that has an entry in data/links.yaml: the first finding
    is the actor's record at that field, and the review file does not call it unknown."""
    actors = real / "data/records/actors.yaml"
    line = _edit(actors, '    label: "Anne Blackwood"\n', '    lable: "Anne Blackwood"\n')
    assert "actor: anne-blackwood" in (real / "data/links.yaml").read_text(encoding="utf-8")
    result = CliRunner().invoke(main, ["validate", "--root", str(real)])
    assert result.exit_code == 1
    file, at, severity, field, _message = _first_finding(result.output)
    assert (file, severity) == ("data/records/actors.yaml", "error")
    # first the record (a required field is missing: its `- id:` line), then the field
    assert at in (line - 1, line) and field.startswith("persons[0]."), result.output
    assert f"data/records/actors.yaml:{line}:5: error: persons[0].lable: Unknown field" in (
        result.output)
    assert "Unknown actor id 'anne-blackwood'" not in result.output


def test_retiring_an_actor_as_contributing_describes_works(real):
    """CONTRIBUTING.md: never delete a published record, mark it `deprecated:` instead.
    Doing exactly that to an actor with a review-file entry validates and builds, and the
    tombstone is published; records that still point at it get a warning there."""
    contributing = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    assert 'deprecated: "Duplicate of national-health-commission' in contributing
    _edit(real / "data/records/actors.yaml", '    label: "Anne Blackwood"\n',
          '    label: "Anne Blackwood"\n    deprecated: "Recorded by mistake; retired."\n')
    runner = CliRunner()
    result = runner.invoke(main, ["validate", "--root", str(real)])
    assert result.exit_code == 0, result.output
    assert "points at 'anne-blackwood', a retired record" in runner.invoke(
        main, ["validate", "--root", str(real), "--verbose"]).output
    build = runner.invoke(main, ["build", "--root", str(real)])
    assert build.exit_code == 0, build.output
    store = ox.Store()
    store.bulk_load(path=str(real / "output/healthcoop.nt"), format=ox.RdfFormat.N_TRIPLES)
    assert store.query("ASK { <https://w3id.org/healthcoop/id/anne-blackwood> "
                       "<http://www.w3.org/2002/07/owl#deprecated> true }")


def test_a_deleted_registry_is_named_first_and_its_consequences_counted(real):
    """279 findings follow from a deleted data/sources.yaml; the first one printed names the
    registry, and the rest are one line with their count."""
    (real / "data/sources.yaml").unlink()
    result = CliRunner().invoke(main, ["validate", "--root", str(real)])
    assert result.exit_code == 1
    lines = [ln for ln in result.output.splitlines() if ": error: " in ln]
    assert lines[0].strip().startswith("data/sources.yaml: error: (file):"), result.output
    assert len(lines) < 5, result.output
    assert re.search(r"and \d{3} findings that follow from it \(\d+ unknown-source",
                     result.output), result.output
    verbose = CliRunner().invoke(main, ["validate", "--root", str(real), "--verbose"])
    assert verbose.output.count(": error: ") > 200
