"""`healthcoop draft`: pre-curation of a new source, and how well it does on our five sources.

The measurement holds each source out in turn and drafts it from the other four's records
only (`draft_text(..., hold_out=...)`). Of the actors (persons, organisations) the held-out
source's curated records name:
* known (the other four have a record of them): how many the draft finds with a correct
  quote (it occurs in the text at the given occurrence and names the actor);
* new: how many appear among the suggestions;
and how many suggestions match no actor or place of the dataset (false suggestions).
Run `python tests/test_draft.py` to print the figures that README.md gives.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from rapidfuzz import fuzz

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.cli import main  # noqa: E402
from pipeline.curate.draft import _norm, draft_text, known_names  # noqa: E402
from pipeline.read.record_types import Organisation, Person, Place  # noqa: E402
from pipeline.read.records import load_records  # noqa: E402
from pipeline.read.sources import load_sources  # noqa: E402

KNOWN_FOUND_MIN = 0.90
NEW_SUGGESTED_MIN = 0.60


def _names(record) -> list[str]:
    return [_norm(n) for n in [record.label, *(a.label for a in record.alt_labels)]]


def _names_actor(quote: str, record) -> bool:
    q = _norm(quote)
    return any(n and (n in q or fuzz.ratio(n, q) >= 88) for n in _names(record))


def _suggests(name: str, record) -> bool:
    s = _norm(name)
    return any(n and (s == n or (len(n) >= 6 and f" {n} " in f" {s} ")
                      or (len(s.split()) > 1 and f" {s} " in f" {n} ")
                      or fuzz.ratio(s, n) >= 85) for n in _names(record))


def actors_named(records, source_id: str, kinds=(Person, Organisation)) -> set[str]:
    """Persons and organisations (or other `kinds`) the curated records of a source name:
    those whose own evidence cites it, and those that records citing it point at."""
    out = set()
    for record in records.records.values():
        if record.deprecated or not any(ev.source == source_id for ev in record.evidence):
            continue
        if isinstance(record, kinds):
            out.add(record.id)
        for _field, _index, target in record.references():
            if isinstance(records.records.get(target), kinds):
                out.add(target)
    return out


def measure(root: Path = ROOT) -> dict[str, dict]:
    """Hold-one-out figures per source."""
    records = load_records(root)
    sources = load_sources(root)
    entities = [r for r in records.records.values()
                if isinstance(r, (Person, Organisation, Place)) and not r.deprecated]
    out = {}
    for sid, source in sources.items():
        draft = draft_text(source, records, hold_out=sid)
        named = actors_named(records, sid)
        known_ids = set(known_names(records, hold_out=sid))
        known = named & known_ids
        new = named - known_ids
        found = set()
        for m in draft.mentions:
            location = source.locate_quote(m.quote, m.occurrence)
            if m.id in known and location is not None and _names_actor(
                    location.exact, records.records[m.id]):
                found.add(m.id)
        suggested = {rid for rid in new
                     if any(_suggests(s.name, records.records[rid]) for s in draft.suggestions)}
        false = [s.name for s in draft.suggestions
                 if not any(_suggests(s.name, r) for r in entities)]
        everything = actors_named(records, sid, (Person, Organisation, Place))
        wrong = sorted({m.id for m in draft.mentions} - everything)
        out[sid] = {
            "mentions": len(draft.mentions), "wrong_mentions": wrong,
            "known": len(known), "found": len(found), "new": len(new),
            "suggested": len(suggested), "suggestions": len(draft.suggestions),
            "false": len(false),
            "missed_known": sorted(known - found), "missed_new": sorted(new - suggested),
            "false_names": false,
        }
    return out


@pytest.fixture(scope="module")
def figures() -> dict[str, dict]:
    return measure()


def test_hold_one_out_known_actors_found_with_verified_quotes(figures):
    """Of every held-out source's actors that the other four sources already know, at least
    90% are in its draft with a quote that occurs in the text and names the actor."""
    for sid, f in figures.items():
        if f["known"]:
            assert f["found"] / f["known"] >= KNOWN_FOUND_MIN, (sid, f)
    total_known = sum(f["known"] for f in figures.values())
    assert total_known >= 5  # the measurement measures something
    assert sum(f["found"] for f in figures.values()) / total_known >= KNOWN_FOUND_MIN


def test_hold_one_out_new_actors_suggested(figures):
    """Of the actors only the held-out source names, at least 60% are among the draft's
    suggestions (over all five sources, and in each source with any)."""
    total_new = sum(f["new"] for f in figures.values())
    assert total_new >= 10
    assert sum(f["suggested"] for f in figures.values()) / total_new >= NEW_SUGGESTED_MIN, figures
    for sid, f in figures.items():
        if f["new"] >= 3:
            assert f["suggested"] / f["new"] >= NEW_SUGGESTED_MIN - 0.15, (sid, f)


def test_false_suggestions_stay_a_minority(figures):
    """Suggestions that match no actor or place of the dataset stay under half of all
    suggestions, so the list is worth a curator's reading."""
    total = sum(f["suggestions"] for f in figures.values())
    assert total
    assert sum(f["false"] for f in figures.values()) / total < 0.5, figures


def _registered_mini(mini: Path) -> str:
    text = mini / "new.txt"
    text.write_text(
        "TEST FIXTURE, invented: Harbour Pharma and Eastvale University Hospital sign pact\n"
        "Professor Li Wen of the eastvale digital-health institute said on Friday that "
        "Harbour Pharma and the Eastvale University Hospital will work with Dr Maya Stone. "
        "Li Wen spoke in Eastvale City yesterday.\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["new-source", "--root", str(mini), str(text),
                                       "--id", "fixture-pact-2024", "--title", "pact"])
    assert result.exit_code == 0, result.output
    return "fixture-pact-2024"


def test_draft_command_writes_a_located_draft(mini):
    """`healthcoop draft` writes data/records/<id>.draft.yaml: known actors matched despite
    case and punctuation, with quotes located at the right occurrence, relative dates
    flagged, and the unknown hospital and person suggested."""
    sid = _registered_mini(mini)
    result = CliRunner().invoke(main, ["draft", "--root", str(mini), sid])
    assert result.exit_code == 0, result.output
    path = mini / "data" / "records" / f"{sid}.draft.yaml"
    block = yaml.safe_load(path.read_text(encoding="utf-8"))["draft"]
    source = load_sources(mini)[sid]
    mentions = {m["id"]: m for m in block["mentions"]}
    assert {"harbour-pharma", "li-wen", "eastvale-digital-health-institute",
            "eastvale-city"} <= set(mentions)
    assert mentions["eastvale-digital-health-institute"]["quote"] == \
        "eastvale digital-health institute"
    for m in block["mentions"]:
        assert source.locate_quote(m["quote"], m["occurrence"]) is not None, m
    assert {d["quote"] for d in block["relative_dates"]} >= {"on Friday", "yesterday"}
    names = {s["name"] for s in block["suggestions"]}
    assert "Eastvale University Hospital" in names and "Maya Stone" in names, names
    assert not names & {"Harbour Pharma", "Li Wen"}


def test_draft_never_overwrites_and_never_validates(mini):
    """A second `draft` refuses to overwrite the first (exit 2, file unchanged), and
    `validate` reports the draft as not confirmed at its `draft:` key until a person
    removes the block and renames the file."""
    sid = _registered_mini(mini)
    runner = CliRunner()
    assert runner.invoke(main, ["draft", "--root", str(mini), sid]).exit_code == 0
    path = mini / "data" / "records" / f"{sid}.draft.yaml"
    before = path.read_bytes()
    again = runner.invoke(main, ["draft", "--root", str(mini), sid])
    assert again.exit_code == 2 and "never overwrites" in again.output
    assert path.read_bytes() == before
    result = runner.invoke(main, ["validate", "--root", str(mini)])
    assert result.exit_code == 1
    assert f"data/records/{sid}.draft.yaml:" in result.output
    assert "draft not confirmed" in result.output
    # confirmed: the block removed and the file renamed
    text = path.read_text(encoding="utf-8")
    kept = text[text.index("\nroles:"):]
    path.unlink()
    (mini / "data" / "records" / f"{sid}.yaml").unlink()
    (mini / "data" / "records" / f"{sid}.yaml").write_text(kept, encoding="utf-8")
    result = runner.invoke(main, ["validate", "--root", str(mini)])
    assert result.exit_code == 0, result.output


def test_draft_of_unknown_source_is_refused(mini):
    """Drafting a source id that is not registered exits 1 and writes nothing."""
    before = sorted(p.name for p in (mini / "data" / "records").iterdir())
    result = CliRunner().invoke(main, ["draft", "--root", str(mini), "no-such-source"])
    assert result.exit_code == 1 and "not a registered source" in result.output
    assert sorted(p.name for p in (mini / "data" / "records").iterdir()) == before


if __name__ == "__main__":
    for sid, f in measure().items():
        print(f"{sid}: known {f['found']}/{f['known']} found with verified quotes; "
              f"new {f['suggested']}/{f['new']} suggested; "
              f"{f['false']} of {f['suggestions']} suggestions false; "
              f"{len(f['wrong_mentions'])} of {f['mentions']} mentions not in its records")
        if "-v" in sys.argv:
            print("   missed known:", f["missed_known"], "\n   missed new:", f["missed_new"],
                  "\n   false:", f["false_names"], "\n   wrong mentions:", f["wrong_mentions"])
