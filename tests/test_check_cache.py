"""The record checks' cache (pipeline/check/check_cache.py): a file whose records and what
they look up did not change gives last time's findings without being checked again; a
change elsewhere that its findings depend on (a record it points at, a source it quotes)
checks it again; a damaged entry is never trusted."""

from __future__ import annotations

import dataclasses

from mini_project import edit

from pipeline.check import checks
from pipeline.check.checks import check_records
from pipeline.errors import IssueList
from pipeline.read.project import load_topics
from pipeline.read.records import load_records
from pipeline.read.sources import load_sources


def _checked(root, cache, monkeypatch, sources=None) -> tuple[list, list[str]]:
    """(the findings of check_records, sorted; the ids it checked), in this process."""
    checked: list[str] = []
    real = checks._check_chunk

    def counting(state, chunk):
        checked.extend(chunk)
        return real(state, chunk)

    monkeypatch.setattr(checks, "_check_chunk", counting)
    read = IssueList()
    if sources is None:
        sources = load_sources(root, read)
    records = load_records(root, read, jobs=1)
    issues = IssueList()
    check_records(records, sources, load_topics(root, read), issues, jobs=1, cache=cache)
    found = sorted((i.file, i.line, i.field, i.code, i.message, i.fix) for i in issues.items)
    return found, sorted(checked)


def _all_ids(root) -> list[str]:
    return sorted(load_records(root, IssueList(), jobs=1).records)


def test_unchanged_files_give_the_same_findings_unchecked(mini, tmp_path, monkeypatch):
    edit(mini / "data/records/fixture-dialogue-2024.yaml",
         "hosts: [eastvale-digital-health-institute]", "hosts: [eastvale-digital-institute]")
    plain, checked = _checked(mini, None, monkeypatch)
    assert checked == _all_ids(mini)
    assert any(f[3] == "unknown-reference" and "Did you mean" in f[5] for f in plain)
    cache = tmp_path / "checks"
    first, checked = _checked(mini, cache, monkeypatch)
    assert first == plain and checked == _all_ids(mini)
    again, checked = _checked(mini, cache, monkeypatch)
    assert again == plain and checked == []  # every file from the cache
    # one file changed: only its records are checked again; the old entry is pruned
    entries = len(list(cache.glob("*.pickle")))
    places_file = mini / "data/records/places.yaml"
    places_file.write_text(places_file.read_text(encoding="utf-8") + "\n# a comment\n",
                           encoding="utf-8")
    changed, checked = _checked(mini, cache, monkeypatch)
    places = load_records(mini, IssueList(), jobs=1)
    assert changed == plain
    assert checked == sorted(r for r, w in places.where.items()
                             if w.file == "data/records/places.yaml")
    assert len(list(cache.glob("*.pickle"))) == entries


def test_a_record_removed_elsewhere_reaches_the_unchanged_file_that_points_at_it(
        mini, tmp_path, monkeypatch):
    cache = tmp_path / "checks"
    before, _ = _checked(mini, cache, monkeypatch)
    assert not any("harbour-pharma" in f[4] for f in before)
    edit(mini / "data/records/actors.yaml", """  - id: harbour-pharma
    label: "Harbour Pharma"
    type: company
    evidence:
      - source: fixture-fund-2024
        quote: "The Eastvale Digital Health Institute and Harbour Pharma signed an agreement"
        supports: [label]
""", "")
    after, checked = _checked(mini, cache, monkeypatch)
    assert after == _checked(mini, None, monkeypatch)[0]
    assert ("data/records/fixture-fund-2024.yaml", "unknown-reference") in {
        (f[0], f[3]) for f in after if "harbour-pharma" in f[4]}
    assert "eastvale-harbour-rare-disease-fund" in checked  # its file was checked again


def test_a_source_text_changed_reaches_the_files_that_quote_it(mini, tmp_path, monkeypatch):
    cache = tmp_path / "checks"
    sources = load_sources(mini, IssueList())
    before, _ = _checked(mini, cache, monkeypatch, sources)
    assert not any(f[3] == "stated-as-not-in-source" for f in before)
    fund = sources["fixture-fund-2024"]
    sources["fixture-fund-2024"] = dataclasses.replace(
        fund, text=fund.text.replace("5 billion RMB", "five billion yuan"))
    after, _ = _checked(mini, cache, monkeypatch, sources)
    assert after == _checked(mini, None, monkeypatch, sources)[0]
    assert any(f[3] == "stated-as-not-in-source" for f in after)


def test_a_damaged_entry_is_checked_again(mini, tmp_path, monkeypatch):
    cache = tmp_path / "checks"
    plain, _ = _checked(mini, cache, monkeypatch)
    entries = sorted(cache.glob("*.pickle"))
    assert len(entries) == len(list((mini / "data/records").glob("*.yaml")))
    for entry in entries[1:]:
        blob = entry.read_bytes()
        entry.write_bytes(blob[:-1] + bytes([blob[-1] ^ 1]))  # one bit flipped
    import hashlib
    import pickle
    payload = pickle.dumps({"not": "a list of findings"})  # intact, of another shape
    entries[0].write_bytes(hashlib.sha256(payload).digest() + payload)
    again, checked = _checked(mini, cache, monkeypatch)
    assert again == plain and checked == _all_ids(mini)


def test_a_record_of_another_kind_elsewhere_reaches_the_file_that_points_at_it(
        mini, tmp_path, monkeypatch):
    """Same ids as before, but alice-grant is now an organisation: the role in another,
    unchanged file that names her as its person is wrong now."""
    cache = tmp_path / "checks"
    before, _ = _checked(mini, cache, monkeypatch)
    assert not any(f[3] == "wrong-reference-kind" for f in before)
    actors = mini / "data/records/actors.yaml"
    block = """  - id: alice-grant
    label: "Alice Grant"
    country: northbridge
    evidence:
      - source: fixture-dialogue-2024
        quote: "Minister of Health Alice Grant led the Northbridge delegation"
        supports: [label, country]

"""
    edit(actors, block, "")
    edit(actors, "organisations:\n", "organisations:\n" + block.replace(
        "    country:", "    type: ministry\n    country:"))
    after, _ = _checked(mini, cache, monkeypatch)
    assert load_records(mini, IssueList(), jobs=1).kind_of("alice-grant") == "organisation"
    assert after == _checked(mini, None, monkeypatch)[0]
    assert ("data/records/fixture-dialogue-2024.yaml", "wrong-reference-kind") in {
        (f[0], f[3]) for f in after}


def test_a_replaced_by_chain_changed_elsewhere_reaches_the_file_at_its_start(
        mini, tmp_path, monkeypatch):
    """old-harbour (its own file, unchanged) is replaced by harbour-pharma; when
    harbour-pharma, in another file, is then replaced by old-harbour, the chain that starts
    in the unchanged file is a cycle."""
    (mini / "data/records/retired.yaml").write_text("""organisations:
  - id: old-harbour
    label: "Harbour Pharma"
    type: company
    deprecated: "Merged into harbour-pharma."
    replaced_by: harbour-pharma
    evidence:
      - source: fixture-fund-2024
        quote: "Harbour Pharma signed an agreement"
        supports: [label]
""", encoding="utf-8")
    cache = tmp_path / "checks"
    before, _ = _checked(mini, cache, monkeypatch)
    assert not any(f[3] == "replaced-by-cycle" for f in before)
    edit(mini / "data/records/actors.yaml", """    label: "Harbour Pharma"
    type: company
""", """    label: "Harbour Pharma"
    type: company
    deprecated: "Merged into old-harbour."
    replaced_by: old-harbour
""")
    after, _ = _checked(mini, cache, monkeypatch)
    assert after == _checked(mini, None, monkeypatch)[0]
    assert ("data/records/retired.yaml", "replaced-by-cycle") in {(f[0], f[3]) for f in after}
