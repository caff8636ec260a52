"""Where records came from, kept compactly: a compacted document's positions in arrays
(`yamlfile.KeptPositions`) and the records' `Where`s as one integer each
(`read/where.WhereIndex`) give exactly what the dicts of objects they replaced gave,
pickled too (the record cache and the worker processes pickle them)."""

from __future__ import annotations

import pickle

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.errors import IssueList
from pipeline.read.records import load_records
from pipeline.read.where import Where, WhereIndex
from pipeline.read.yamlfile import KeptPositions, YamlDocument

NAME = st.sampled_from(["agreements", "events", "persons"])
PATH = st.one_of(
    st.just(()),
    st.tuples(NAME),
    st.tuples(NAME, st.integers(0, 40)),
    st.tuples(NAME, st.integers(0, 40), st.sampled_from(["id", "label"])),
    st.tuples(NAME, st.sampled_from(["x", -1])),
    st.tuples(NAME, st.integers(0, 5), st.just("id"), st.just("deeper")),
)
AT = st.tuples(st.integers(0, 10**6), st.integers(0, 300))


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(PATH, AT, max_size=40), st.lists(PATH, max_size=20))
def test_kept_positions_are_the_dict_they_were_made_from(positions, probes):
    """Every path it was given has its (line, column); no other path has one (a KeyError,
    as the dict gives); iterating gives the same paths; pickled it is the same."""
    for kept in (KeptPositions(positions, 2, "id"),
                 pickle.loads(pickle.dumps(KeptPositions(positions, 2, "id")))):
        assert dict(kept) == positions and len(kept) == len(positions)
        for path in [*positions, *probes]:
            assert kept.get(path) == positions.get(path)
            assert (path in kept) == (path in positions)
        missing = [p for p in probes if p not in positions]
        for path in missing:
            with pytest.raises(KeyError):
                kept[path]


def _doc(name: str, lines: dict) -> YamlDocument:
    return YamlDocument(name, None, {(): (1, 1), **lines})


DOCS = [_doc(f"data/records/f{n}.yaml",
             {(kind, i): (10 * i + n + 2, 3) for kind in ("agreements", "events")
              for i in range(6)}) for n in range(3)]
WHERE = st.one_of(
    # as `load_records` makes them: the line is the document's for the path
    st.builds(lambda d, kind, i: Where(DOCS[d].rel_path, DOCS[d].line((kind, i)), (kind, i),
                                       DOCS[d]),
              st.integers(0, 2), st.sampled_from(["agreements", "events"]), st.integers(0, 5)),
    # anything else is kept as it is: another line, another shape of path, another file
    st.builds(lambda d, line, path: Where(DOCS[d].rel_path, line, path, DOCS[d]),
              st.integers(0, 2), st.integers(1, 99),
              st.sampled_from([(), ("agreements",), ("agreements", "x"), ("x", 2, "y")])),
    st.builds(lambda d: Where("elsewhere.yaml", 2, ("agreements", 0), DOCS[d]),
              st.integers(0, 2)),
)
STEP = st.tuples(st.sampled_from(["set", "set", "del"]), st.sampled_from("abcdefgh"), WHERE)


@settings(max_examples=200, deadline=None)
@given(st.lists(STEP, max_size=30))
def test_the_where_index_behaves_as_a_dict_of_where(steps):
    index, model = WhereIndex(), {}
    for step, rid, where in steps:
        if step == "set":
            index[rid] = model[rid] = where
        elif rid in model:
            del index[rid], model[rid]
    merged = WhereIndex()  # as load_records merges one file's index into the project's
    # (numbered first here: the integers of `index` have to be renumbered)
    merged["first"] = Where(DOCS[2].rel_path, DOCS[2].line(("events", 5)), ("events", 5),
                            DOCS[2])
    merged.add_from(index, list(index))
    del merged["first"]
    for got in (index, pickle.loads(pickle.dumps(index)), merged):
        assert list(got) == list(model) and len(got) == len(model)
        for rid, where in model.items():
            found = got[rid]
            assert found == where  # (file, line, path; the document is not compared)
            assert found.doc.rel_path == where.doc.rel_path
            assert found.field_line("id") == where.field_line("id")
            # the shortcuts that do not make the Where
            assert (got.file_of(rid), got.line_of(rid)) == (where.file, where.line)
        assert "nobody" not in got
        assert {d.rel_path for d in got.documents()} >= {w.doc.rel_path for w in model.values()}


def test_loaded_records_keep_one_integer_each(tmp_path):
    """The records of a file as `load_records` gives them: each `Where` names the file, the
    record's line and its path, and none is kept as an object."""
    folder = tmp_path / "data" / "records"
    folder.mkdir(parents=True)
    (folder / "a.yaml").write_text(
        "persons:\n  - id: ann\n    label: Ann\n  - id: bob\n    label: Bob\n"
        "places:\n  - id: kenya\n    label: Kenya\n    type: country\n", encoding="utf-8")
    issues = IssueList()
    records = load_records(tmp_path, issues)
    assert not issues.items
    assert [(w.file, w.line, w.path) for w in records.where.values()] == [
        ("data/records/a.yaml", 2, ("persons", 0)), ("data/records/a.yaml", 4, ("persons", 1)),
        ("data/records/a.yaml", 7, ("places", 0))]
    assert all(type(v) is int for v in records.where._at.values())
    assert records.where["bob"].field_line("label") == 5
