"""The URI register: published entity IRIs never vanish. Deleting or renaming a record
fails the build with a clear error; retiring it properly keeps it as a tombstone."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner
from mini_project import edit, snapshot

from pipeline.build import build_release, load_project
from pipeline.check.register import REGISTER, check_register, read_register, update_register
from pipeline.check.validate import validate_project
from pipeline.cli import main
from pipeline.errors import InvalidData, IssueList

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
ACTORS = "data/records/actors.yaml"
HCID = "https://w3id.org/healthcoop/id/"
LI_WEN = ('  - id: li-wen\n    label: "Li Wen"\n    honorific: "Professor"\n    evidence:\n'
          '      - source: fixture-fund-2024\n        quote: "Professor Li Wen, director of the '
          'Eastvale Digital Health Institute"\n        supports: [label, honorific]\n\n')










def _subjects(out: Path) -> set[str]:
    return {q.subject.value for q in ox.parse(path=str(out / "healthcoop.nt"),
                                             format=ox.RdfFormat.N_TRIPLES)}


def _register_line(root: Path, iri: str) -> int:
    return read_register(root, IssueList()).iris[iri]


def test_the_repository_register_covers_every_entity(project_root):
    """The committed register lists every entity IRI the records and sources define (and is
    well-formed and sorted), so CI catches a deletion from the first release on."""
    project = load_project(project_root)
    issues = IssueList()
    check_register(project, issues)
    assert [i for i in issues.items if i.code != "unregistered-iri"] == []
    assert not [i for i in issues.items if i.code == "unregistered-iri"], (
        "run `healthcoop register --update` and commit data/published-iris.txt")


def test_deleting_a_published_record_fails_the_build(mini):
    """Deleting a record whose IRI was published: validate and build fail at the register
    line, and the previous release stays as it was."""
    build_release(mini)
    before = snapshot(mini / "output")
    edit(mini / ACTORS, LI_WEN, "")
    report = validate_project(mini)
    [error] = report.errors
    assert (error.file, error.line, error.field, error.code) == (
        REGISTER.as_posix(), _register_line(mini, HCID + "li-wen"), "(iri)", "vanished-iri")
    assert "deprecated:" in error.fix and "replaced_by:" in error.fix
    result = CliRunner().invoke(main, ["build", "--root", str(mini)])
    assert result.exit_code == 1 and f"{HCID}li-wen was published" in result.output
    assert snapshot(mini / "output") == before


def test_renaming_a_published_record_fails_and_says_so(mini):
    """Changing an id renames the IRI: the error points at the register and names the new
    id and where it is, so the maintainer can rename it back."""
    edit(mini / ACTORS, "  - id: li-wen\n", "  - id: wen-li\n")
    report = validate_project(mini)
    [error] = report.errors
    assert error.code == "vanished-iri"
    assert "looks renamed to 'wen-li' (data/records/actors.yaml:12)" in error.message
    new = [i for i in report.warnings if i.code == "unregistered-iri"]
    assert [(i.file, i.line, i.field) for i in new] == [(ACTORS, 12, "persons[1].id")]


def test_retiring_keeps_a_tombstone(mini, tmp_path):
    """The proper way out: keep the record with `deprecated:` (and `replaced_by:` when
    merged). It validates, and the release still holds the IRI, marked owl:deprecated with
    its reason and dct:isReplacedBy."""
    edit(mini / ACTORS, '    honorific: "Professor"\n',
         '    honorific: "Professor"\n    deprecated: "Duplicate of alice-grant; merged."\n'
         '    replaced_by: alice-grant\n')
    assert validate_project(mini).errors == []
    out = tmp_path / "out"
    build_release(mini, out)
    nt = (out / "healthcoop.nt").read_text(encoding="utf-8")
    li = f"<{HCID}li-wen>"
    assert f'{li} <http://www.w3.org/2002/07/owl#deprecated> "true"' in nt
    assert f"{li} <http://purl.org/dc/terms/isReplacedBy> <{HCID}alice-grant>" in nt
    assert "Duplicate of alice-grant; merged." in nt


def test_a_new_record_is_a_warning_and_the_release_build_registers_it(mini, tmp_path):
    """A new IRI is fine (a warning, never an error without --strict). A build into a
    scratch directory leaves the register alone; the build into the project's output/
    (a release) adds it, keeping the header and the order, and never removes a line."""
    edit(mini / ACTORS, LI_WEN, LI_WEN + LI_WEN.replace("li-wen", "li-wen-2"))
    report = validate_project(mini)
    assert report.errors == []
    assert [(i.line, i.field) for i in report.warnings if i.code == "unregistered-iri"] == [
        (20, "persons[2].id")]
    register = mini / REGISTER
    before = register.read_text(encoding="utf-8")
    build_release(mini, tmp_path / "scratch")
    assert register.read_text(encoding="utf-8") == before
    build_release(mini)
    after = register.read_text(encoding="utf-8")
    assert after.startswith(before.split("\n\n")[0])  # the comment header is kept
    iris = [line for line in after.splitlines() if line.startswith("http")]
    assert iris == sorted(iris) and f"{HCID}li-wen-2" in iris and f"{HCID}li-wen" in iris
    assert set(before.splitlines()) <= set(after.splitlines())
    assert validate_project(mini, strict=True).errors == []


def test_update_never_removes(mini):
    """`register --update` only adds: a registered IRI without a record stays listed (and
    keeps failing validation until the record is restored or retired)."""
    edit(mini / ACTORS, LI_WEN, "")
    added = update_register(mini, load_project(mini))
    assert added == []
    assert f"{HCID}li-wen\n" in (mini / REGISTER).read_text(encoding="utf-8")


def test_malformed_register_lines(mini):
    """A line that is not an entity IRI (a fragment, a typo, stray text) is a located error,
    and `register --update` refuses to rewrite such a file."""
    edit(mini / REGISTER, f"{HCID}li-wen\n", f"{HCID}li-wen\n{HCID}li-wen#amount\n")
    report = validate_project(mini)
    errors = [(i.file, i.code) for i in report.errors]
    assert errors == [(REGISTER.as_posix(), "register-syntax")]
    with pytest.raises(InvalidData):
        update_register(mini, load_project(mini))


def test_register_command(mini):
    """`healthcoop register` checks (exit 1 when an IRI vanished); `--update` adds."""
    runner = CliRunner()
    assert runner.invoke(main, ["register", "--root", str(mini)]).exit_code == 0
    edit(mini / REGISTER, f"{HCID}li-wen\n", "")
    result = runner.invoke(main, ["register", "--root", str(mini), "--update"])
    assert result.exit_code == 0 and f"registered {HCID}li-wen" in result.output
    edit(mini / ACTORS, LI_WEN, "")
    result = runner.invoke(main, ["register", "--root", str(mini)])
    assert result.exit_code == 1 and "its IRI would vanish" in result.output


def test_a_file_that_does_not_parse_does_not_look_like_mass_deletion(mini):
    """A YAML syntax error drops the file's records; their ids are salvaged from the text,
    so the register does not report every one of them as vanished."""
    edit(mini / ACTORS, 'label: "Li Wen"', 'label: "Li Wen')
    report = validate_project(mini)
    assert {i.code for i in report.errors} == {"yaml-syntax"}


def test_entity_iris_only(mini):
    """Sources are registered like records; fragment IRIs are not."""
    text = (mini / REGISTER).read_text(encoding="utf-8")
    assert f"{HCID}fixture-fund-2024\n" in text and "#" not in text.split("\n\n", 1)[1]
    assert _subjects_of_register(text) <= {HCID + i for i in _all_ids(mini)}


def _subjects_of_register(text: str) -> set[str]:
    return {line for line in text.splitlines() if line.startswith("http")}


def _all_ids(root: Path) -> set[str]:
    project = load_project(root)
    return set(project.records.records) | set(project.sources)
