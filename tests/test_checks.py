"""Cross-record checks that must stay fast at scale give the answers of the plain pairwise
definition (pipeline/check/checks.py)."""

from __future__ import annotations

import random
import re
from pathlib import Path

from rapidfuzz import fuzz

from pipeline.check.checks import _check_duplicate_actors
from pipeline.errors import IssueList
from pipeline.read.record_types import Organisation, Person
from pipeline.read.records import load_records

ROOT = Path(__file__).resolve().parent.parent


def key(text: str) -> str:
    return " ".join(re.sub(r"[^\w]+", " ", text.casefold()).split())


def pairwise_duplicates(records) -> list[tuple[str, str, str]]:
    """The definition, every pair compared: (record id, field, id of the earlier record) for
    the first name of each actor that equals, or (both at least 10 characters) has ratio
    >= 95 with, a name of an earlier actor of the same kind (file order)."""
    actors = sorted((r for r in records.records.values()
                     if isinstance(r, (Person, Organisation)) and not r.deprecated),
                    key=lambda r: (records.where[r.id].file, records.where[r.id].line, r.id))
    seen, found = [], []
    for record in actors:
        names = [(record.label, "label")] + [(a.label, f"alt_labels[{i}].label")
                                             for i, a in enumerate(record.alt_labels)
                                             if a.kind != "acronym"]
        for name, field in names:
            k = key(name)
            if len(k) < 4:
                continue
            match = next((other for other_key, other in seen
                          if other.kind == record.kind and other.id != record.id
                          and (k == other_key or (min(len(k), len(other_key)) >= 10
                                                  and fuzz.ratio(k, other_key) >= 95))), None)
            if match is not None:
                found.append((record.id, field, match.id))
                break
        seen.extend((key(n), record) for n, _f in names)
    return found


def test_duplicate_actor_check_equals_pairwise_definition(tmp_path):
    """On a generated corpus with 80 planted near-duplicates (upper case, a letter dropped,
    a letter added, doubled spaces, a word swapped), the fast check warns exactly where
    comparing every pair would, naming the same earlier record."""
    from pipeline.curate.synthetic import generate_project

    project = tmp_path / "corpus"
    generate_project(project, 2000, 11, ROOT)
    records = load_records(project, IssueList())
    actors = sorted((r for r in records.records.values()
                     if isinstance(r, (Person, Organisation))), key=lambda r: r.id)
    rng = random.Random(3)
    for record in rng.sample(actors, 80):
        label = rng.choice(actors).label
        change = rng.randrange(5)
        if change == 0:
            label = label.upper()
        elif change == 1 and len(label) > 12:
            i = rng.randrange(len(label))
            label = label[:i] + label[i + 1:]
        elif change == 2:
            label += "s"
        elif change == 3:
            label = label.replace(" ", "  ")
        else:
            words = label.split()
            label = " ".join(words[1:] + words[:1])
        records.records[record.id] = record.model_copy(update={"label": label})
    expected = pairwise_duplicates(records)
    issues = IssueList()
    _check_duplicate_actors(records, issues)
    got = [(i.record_id, i.field.rsplit("].", 1)[-1],  # "organisations[16].label" -> "label"
            re.search(r"of \w+ '([^']+)'", i.message).group(1)) for i in issues.items]
    assert len(expected) >= 10  # the planted copies really are found (14 with this seed)
    assert sorted(got) == sorted(expected)


def test_record_checks_on_fresh_workers_equal_those_in_one_process(tmp_path, monkeypatch):
    """The per-record checks run in chunks on forked workers, fresh ones every few chunks
    (pipeline/parallel.py, `per_worker`): the findings are those of one process, in the
    same order, on a corpus with planted unknown references."""
    from pipeline.check import checks
    from pipeline.curate.synthetic import generate_project
    from pipeline.read.record_types import Agreement
    from pipeline.read.sources import load_sources

    project = tmp_path / "corpus"
    generate_project(project, 600, 5, ROOT)
    records = load_records(project, IssueList())
    sources = load_sources(project, IssueList())
    agreements = sorted(rid for rid, r in records.records.items() if isinstance(r, Agreement))
    for n, rid in enumerate(agreements[::40]):
        records.records[rid] = records.records[rid].model_copy(
            update={"parties": [f"nobody-{n}"]})
    monkeypatch.setattr(checks, "CHECK_CHUNK", 25)
    monkeypatch.setattr(checks, "CHECK_WORKER_CHUNKS", 1)
    found = {}
    for jobs in (1, 2):
        issues = IssueList()
        checks.check_records(records, sources, None, issues, jobs=jobs)
        found[jobs] = [(i.file, i.line, i.field, i.message) for i in issues.items]
    assert found[1] == found[2]
    assert sum("nobody-" in message for *_rest, message in found[1]) >= len(agreements[::40])
