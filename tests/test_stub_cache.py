"""The stubs' cache (pipeline/check/stub_cache.py): the referenced records of an unchanged
file are not mapped again to find their stubs, and what `ShaclRun.prepare` gives is the same
as without the cache; a changed file is mapped again; a damaged entry is never trusted."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.build import load_project
from pipeline.check import stub_cache, stubs
from pipeline.check.shacl import ShaclRun, load_shapes
from pipeline.errors import IssueList
from pipeline.read.record_types import Role

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    from pipeline.curate.synthetic import generate_project

    out = tmp_path_factory.mktemp("stubs") / "project"
    generate_project(out, 300, 7, ROOT)
    return out


def _prepared(root: Path, cache: Path | None, monkeypatch) -> tuple[tuple, list[str]]:
    """(what prepare made: stubs as sets, labels, unmappable ids, findings; the ids it
    mapped for their stubs), in this process."""
    mapped: list[str] = []
    real = stubs.stub_chunk

    def counting(run, ids):
        mapped.extend(ids)
        return real(run, ids)

    monkeypatch.setattr(stubs, "stub_chunk", counting)
    monkeypatch.setenv("HEALTHCOOP_JOBS", "1")
    project = load_project(root)
    issues = IssueList()
    run = ShaclRun(project, load_shapes(root, issues), issues, stub_cache=cache).prepare()
    made = ({node: set(stub) for node, stub in run.stubs.items()}, dict(run.labels),
            sorted(run._bad), sorted((i.file, i.line, i.message) for i in run.issues.items))
    return made, sorted(mapped)


def test_unchanged_files_give_the_same_stubs_unmapped(corpus, tmp_path, monkeypatch):
    plain, everything = _prepared(corpus, None, monkeypatch)
    assert len(everything) > 50 and len(plain[1]) > 50
    cache = tmp_path / "stubs"
    first, mapped = _prepared(corpus, cache, monkeypatch)
    assert first == plain and mapped == everything
    again, mapped = _prepared(corpus, cache, monkeypatch)
    assert again == plain and mapped == []  # every file from the cache
    # a label changed in one file: only that file's referenced records are mapped again,
    # and the stubs are those of an uncached run of the changed project
    project = load_project(corpus)
    rid = everything[0]
    where = project.records.where[rid]
    path = corpus / where.file
    label = project.records.records[rid].label
    original = path.read_text(encoding="utf-8")
    try:
        path.write_text(original.replace(f'"{label}"', f'"{label} (renamed)"', 1),
                        encoding="utf-8")
        changed, mapped = _prepared(corpus, cache, monkeypatch)
        same_file = sorted(r for r in everything
                           if load_project(corpus).records.where[r].file == where.file)
        assert mapped == same_file and rid in mapped
        assert changed == _prepared(corpus, None, monkeypatch)[0] != plain
        assert any(v.endswith("(renamed)") for v in changed[1].values())
        assert len(list(cache.glob("*.pickle"))) == len(
            {project.records.where[r].file for r in everything})  # the old entry pruned
    finally:
        path.write_text(original, encoding="utf-8")


def test_a_damaged_entry_is_mapped_again(corpus, tmp_path, monkeypatch):
    cache = tmp_path / "stubs"
    plain, everything = _prepared(corpus, cache, monkeypatch)
    entries = sorted(cache.glob("*.pickle"))
    entries[0].write_bytes(entries[0].read_bytes()[:-3] + b"xyz")  # bytes changed
    record = entries[1].read_bytes()
    stub_cache.store(cache, entries[1].stem, ["not", "stubs"])  # intact, but not stubs
    again, mapped = _prepared(corpus, cache, monkeypatch)
    assert again == plain
    assert 0 < len(mapped) < len(everything)
    assert entries[1].read_bytes() == record  # written again as it was


def test_a_roles_key_follows_its_persons_label(corpus):
    """A role's label is made from its person's (mapping._role_label), which may be in
    another file: the key of the role's file changes with it."""
    project = load_project(corpus)
    issues = IssueList()
    run = ShaclRun(project, load_shapes(corpus, issues), issues)
    role = next(r for r in project.records.records.values() if isinstance(r, Role))
    file = project.records.where[role.id].file
    before = stub_cache.key(run, file, [role.id])
    person = project.records.records[role.person]
    project.records.records[person.id] = person.model_copy(update={"label": "Someone Else"})
    assert stub_cache.key(run, file, [role.id]) != before
    project.records.records[person.id] = person
    assert stub_cache.key(run, file, [role.id]) == before
