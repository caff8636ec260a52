"""The linker: candidates, scoring, ROR matching, the review file, checks and outputs.

Wikidata is a fake API on 127.0.0.1 (tests/wikidata_server.py) serving fixture items with
made-up QIDs (Q900000 range) about fictional actors; ROR is a small fixture file with made-up
ROR ids. Nothing here reads outside the repository or the internet.
"""

from __future__ import annotations

import json
import re
import textwrap
from datetime import date
from pathlib import Path

import pytest
import rdflib.namespace as ns
import yaml
from click.testing import CliRunner
from mini_project import make_mini_project
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import OWL, PROV, RDF, SKOS
from wikidata_server import FakeClock, running

from pipeline.errors import InvalidData, Severity
from pipeline.link import (
    ENRICHMENT_GRAPH,
    LinkOptions,
    check_review_file,
    enrichment_triples,
    link_triples,
    linkset_files,
    load_entities,
    run_link,
)
from pipeline.link.common import REVIEW_FILE, ROR_SUBSET, name_similarity, terminal_safe
from pipeline.link.linkset import SSSOM_COLUMNS
from pipeline.rdf.vocab import HC, HCID, WD

UA = "healthcoop-linker-test/0.1 (https://example.org/healthcoop-tests) python-requests"
TODAY = date(2026, 11, 23)
FIXTURES = Path(__file__).parent / "fixtures"

ACTORS = """\
persons:
  - id: amber-sterling
    label: "Amber Sterling"
    country: ruritania
  - id: john-carter
    label: "John Carter"
    country: ruritania
  - id: orla-quinn
    label: "Orla Quinn"
  - id: xiaoming-li
    label: "Xiaoming Li"
    alt_labels:
      - label: "李小明"
    country: ruritania
organisations:
  - id: evil-clinic
    label: "Evil Clinic"
    type: hospital
  - id: lost-foundation
    label: "Lost Foundation"
    type: association
  - id: northbridge-university
    label: "Northbridge University"
    type: university
    country: ruritania
  - id: ruritanian-medicines-agency
    label: "Ruritanian Medicines Agency"
    type: regulator
    country: ruritania
  - id: westmarch-hospital
    label: "Westmarch Hospital"
    type: hospital
places:
  - id: ruritania
    label: "Ruritania"
    type: country
roles:
  - id: xiaoming-li-minister
    person: xiaoming-li
    title: "Minister of Health of Ruritania"
"""

ROR_ACTORS = """\
organisations:
  - id: eastvale-institute
    label: "Eastvale Institute of Tropical Health"
    type: research-institute
    country: united-kingdom
    alt_labels:
      - label: "EITH"
        kind: acronym
  - id: greenfield-centre
    label: "Greenfield Centre for Genomics"
    type: research-institute
    country: united-kingdom
  - id: harbourside-hospital
    label: "Harbourside Hospital"
    type: hospital
    country: china
  - id: riverside-health-trust
    label: "Riverside Health Trust"
    type: health-service
    country: united-kingdom
  - id: southvale-university
    label: "Southvale University"
    type: university
    country: united-kingdom
  - id: twin-oaks-hospital
    label: "Twin Oaks Hospital"
    type: hospital
    country: united-kingdom
  - id: westvale-medical-college
    label: "The Westvale Medical College"
    type: college
    alt_labels:
      - label: "WMC"
        kind: acronym
places:
  - id: china
    label: "China"
    type: country
  - id: united-kingdom
    label: "United Kingdom"
    type: country
    alt_labels:
      - label: "UK"
"""

@pytest.fixture
def wikidata_server():
    """A fake Wikidata API on 127.0.0.1 for this test (started and stopped around it)."""
    with running() as server:
        yield server


DATASET = """\
id: test
version: "9.9.9"
licence: "https://creativecommons.org/licenses/by/4.0/"
"""


def make_project(tmp_path: Path, actors: str = ACTORS) -> Path:
    root = tmp_path / "project"
    (root / "data/records").mkdir(parents=True)
    (root / "data/records/actors.yaml").write_text(actors, "utf-8")
    (root / "data/dataset.yaml").write_text(DATASET, "utf-8")
    return root


def run(root: Path, server, tmp_path: Path, **kwargs):
    kwargs.setdefault("clock", FakeClock())
    options = LinkOptions(endpoint=server.url, user_agent=UA, cache_dir=tmp_path / "cache",
                          progress=False, today=TODAY, **kwargs)
    return run_link(root, options)


def review(root: Path) -> dict[str, dict]:
    data = yaml.load((root / REVIEW_FILE).read_text("utf-8"), Loader=yaml.BaseLoader)
    return {e.get("actor") or e["place"]: e for e in data["links"]}


def targets(entry: dict, decision: str | None = None) -> list[str]:
    return [c["target"] for c in entry.get("candidates") or []
            if decision is None or c["decision"] == decision]


def decide(root: Path, actor: str, target: str, decision: str, *, reviewer="Test Reviewer",
           extra: str = "") -> None:
    """Edit the review file as a maintainer would: set one candidate's decision, reviewer,
    date and any `extra` fields (replacing the lines that are there, adding the others)."""
    path = root / REVIEW_FILE
    lines = path.read_text("utf-8").split("\n")
    start = lines.index(f"- actor: {actor}")
    first = next(n for n in range(start, len(lines)) if lines[n] == f"  - target: {target}")
    last = next((n for n in range(first + 1, len(lines))
                 if not lines[n].startswith("    ")), len(lines))
    fields = {"decision": decision, "reviewer": reviewer, "decision_date": "'2026-11-20'"}
    for line in extra.splitlines():
        key, _, value = line.partition(": ")
        fields[key] = value
    block = lines[first:last]
    for key, value in fields.items():
        new = f"    {key}: {value}"
        at = next((i for i, line in enumerate(block) if line.startswith(f"    {key}:")), None)
        if at is None:
            block.append(new)
        else:
            block[at] = new
    lines[first:last] = block
    path.write_text("\n".join(lines), "utf-8")


def write_review(root: Path, body: str) -> None:
    (root / REVIEW_FILE).write_text(textwrap.dedent(body), "utf-8")


# --- candidates and scoring ---------------------------------------------------------------------

def test_exact_name_gives_the_right_top_candidate(wikidata_server, tmp_path):
    """Exact label, right type and country: Q900001 is proposed first; its namesake in
    another country (Q900003), the similarly named publisher (Q900002) and a same-name
    television series in the same country (Q900004) are not proposed."""
    root = make_project(tmp_path)
    run(root, wikidata_server, tmp_path)
    entry = review(root)["northbridge-university"]
    assert entry["status"] == "proposed"
    assert targets(entry) == ["Q900001"]
    top = entry["candidates"][0]
    assert top["decision"] == "proposed" and top["label"] == "Northbridge University"
    assert top["checked_revision"] == "3000001" and top["retrieved_on"] == "2026-11-23"
    assert top["reference"] == "https://www.wikidata.org/wiki/Q900001"


def test_alias_gives_the_right_top_candidate(wikidata_server, tmp_path):
    """Our label is only a Wikidata alias: still found, and the evidence says so."""
    root = make_project(tmp_path)
    run(root, wikidata_server, tmp_path)
    entry = review(root)["ruritanian-medicines-agency"]
    assert targets(entry) == ["Q900011"]
    evidence = " | ".join(entry["candidates"][0]["evidence"])
    assert "Wikidata alias (en) 'Ruritanian Medicines Agency'" in evidence
    assert "type compatible" in evidence and "country consistent" in evidence


def test_transliterated_name_gives_the_right_top_candidate(wikidata_server, tmp_path):
    """'Xiaoming Li' matches 'Lǐ Xiǎomíng' (tone marks, other word order); the Chinese
    alternative label is searched in Chinese; the held position adds evidence."""
    root = make_project(tmp_path)
    run(root, wikidata_server, tmp_path)
    entry = review(root)["xiaoming-li"]
    assert targets(entry) == ["Q900021"]
    languages = {(r.params.get("search"), r.params.get("language"))
                 for r in wikidata_server.requests if r.params["action"] == "wbsearchentities"}
    assert ("李小明", "zh") in languages and ("Xiaoming Li", "en") in languages
    evidence = " | ".join(entry["candidates"][0]["evidence"])
    assert "position: P39 position held 'Minister of Health of Ruritania'" in evidence
    assert "+ position 0.05" in evidence
    assert name_similarity("Xiaoming Li", "Lǐ Xiǎomíng") == 100


def test_same_name_of_the_wrong_type_is_not_chosen(wikidata_server, tmp_path):
    """'Amber Sterling' the ship is never proposed for Amber Sterling the person; when the
    only namesake is a ship, the person stays unlinked."""
    root = make_project(tmp_path)
    run(root, wikidata_server, tmp_path)
    entries = review(root)
    assert targets(entries["amber-sterling"]) == ["Q900032"]
    assert entries["orla-quinn"]["status"] == "not-found"
    assert targets(entries["orla-quinn"]) == []


def test_ambiguity_is_reported_not_guessed(wikidata_server, tmp_path):
    """Two humans called John Carter, same country, same score: both are listed for a
    person to choose, none is accepted, and the summary names the actor as ambiguous."""
    root = make_project(tmp_path)
    summary = run(root, wikidata_server, tmp_path)
    entry = review(root)["john-carter"]
    assert entry["status"] == "ambiguous"
    assert sorted(targets(entry)) == ["Q900041", "Q900042"]
    assert targets(entry, "accepted") == []
    assert "john-carter" in summary.ambiguous
    assert any("ambiguous" in line and "john-carter" in line for line in summary.lines())


def test_every_score_shows_its_evidence(wikidata_server, tmp_path):
    """Each proposal explains its score: name, type, country and the arithmetic."""
    root = make_project(tmp_path)
    run(root, wikidata_server, tmp_path)
    for entry in review(root).values():
        for cand in entry["candidates"]:
            text = " | ".join(cand["evidence"])
            for part in ("name ", "type ", "country ", "score = "):
                assert part in text, (entry["actor"], cand["target"], part)


def test_summary_counts_every_actor_once(wikidata_server, tmp_path):
    """The end-of-run summary: linked, proposed, ambiguous, not found, errors."""
    root = make_project(tmp_path)
    summary = run(root, wikidata_server, tmp_path)
    buckets = [summary.linked, summary.proposed, summary.ambiguous, summary.not_found,
               summary.not_looked_up, summary.errors]
    assert sum(len(b) for b in buckets) == summary.actors == 9
    assert "linked" in summary.lines()[0] and "errors" in summary.lines()[0]


# --- offline ------------------------------------------------------------------------------------

def test_offline_uses_the_cache_and_lists_what_it_could_not_look_up(wikidata_server, tmp_path):
    """--offline makes no request; with an empty cache every actor is 'not looked up' and
    the summary names the missing look-ups; after an online run it gives the same answer."""
    root = make_project(tmp_path)
    summary = run(root, wikidata_server, tmp_path, offline=True)
    assert wikidata_server.requests == []
    assert len(summary.not_looked_up) == 9
    assert any("search 'Northbridge University' (en)" in m for m in summary.offline_misses)
    assert any("offline:" in line for line in summary.lines())
    run(root, wikidata_server, tmp_path)
    online = (root / REVIEW_FILE).read_text("utf-8")
    count = len(wikidata_server.requests)
    summary = run(root, wikidata_server, tmp_path, offline=True)
    assert len(wikidata_server.requests) == count
    assert summary.offline_misses == [] and summary.not_looked_up == []
    assert (root / REVIEW_FILE).read_text("utf-8") == online


def test_wikidata_unavailable_keeps_decisions_and_reports(wikidata_server, tmp_path):
    """When Wikidata stops answering, the run stops asking, still writes the review file
    (decisions kept) and reports the actors it could not look up as errors."""
    from wikidata_server import status

    from pipeline.link.client import RetryPolicy

    root = make_project(tmp_path)
    wikidata_server.script(*[status(500)] * 3)
    summary = run(root, wikidata_server, tmp_path, retry=RetryPolicy(max_retries=2))
    assert summary.fatal and "HTTP 500" in summary.fatal
    assert len(summary.errors) == 9
    assert len(wikidata_server.requests) == 3
    assert review(root)["northbridge-university"]["status"] == "error"


# --- redirects, deletions, re-runs --------------------------------------------------------------

ACCEPTED_60 = """\
links:
- actor: westmarch-hospital
  candidates:
  - target: Q900060
    label: Westmarch Hospital
    method: wikidata-search
    reference: https://www.wikidata.org/wiki/Q900060
    checked_revision: '1234'
    decision: accepted
    reviewer: Test Reviewer
    decision_date: '2026-01-05'
- actor: lost-foundation
  candidates:
  - target: Q900070
    method: manual
    reference: https://example.org/page-showing-the-id
    retrieved_on: '2026-01-05'
    decision: accepted
    reviewer: Test Reviewer
    decision_date: '2026-01-05'
"""


def test_redirected_qid_is_detected_flagged_and_not_published(wikidata_server, tmp_path):
    """Wikidata merged Q900060 into Q900061: the run flags the accepted link, proposes the
    target for review, validation reports it, and nothing is published silently."""
    root = make_project(tmp_path)
    write_review(root, ACCEPTED_60)
    summary = run(root, wikidata_server, tmp_path)
    entry = review(root)["westmarch-hospital"]
    old = next(c for c in entry["candidates"] if c["target"] == "Q900060")
    assert old["decision"] == "accepted" and old["redirected_to"] == "Q900061"
    new = next(c for c in entry["candidates"] if c["target"] == "Q900061")
    assert new["decision"] == "proposed" and new["method"] == "wikidata-redirect"
    assert "westmarch-hospital: Q900060 -> Q900061" in summary.redirected
    issues = check_review_file(root)
    redirected = [i for i in issues if i.code == "redirected"]
    assert redirected and redirected[0].severity == Severity.ERROR
    assert redirected[0].line > 0 and redirected[0].field.endswith("redirected_to")
    with pytest.raises(InvalidData):
        list(link_triples(root))


def test_accepted_items_are_checked_afresh_every_run(wikidata_server, tmp_path):
    """The merge/deletion check does not trust a cached 'found' answer: an accepted QID is
    asked again on every online run, even when its search answer comes from the cache."""
    root = make_project(tmp_path)
    run(root, wikidata_server, tmp_path)
    decide(root, "northbridge-university", "Q900001", "accepted")

    def asked() -> int:
        return sum(1 for r in wikidata_server.requests if r.params["action"] == "wbgetentities"
                   and "Q900001" in r.params["ids"].split("|"))

    run(root, wikidata_server, tmp_path)
    before = asked()
    run(root, wikidata_server, tmp_path)
    assert asked() == before + 1


def test_deleted_qid_is_flagged(wikidata_server, tmp_path):
    """An accepted item that no longer exists is flagged and fails validation."""
    root = make_project(tmp_path)
    write_review(root, ACCEPTED_60)
    summary = run(root, wikidata_server, tmp_path)
    cand = review(root)["lost-foundation"]["candidates"][0]
    assert "no longer exists" in cand["problem"]
    assert "lost-foundation: Q900070" in summary.deleted
    assert any(i.code == "flagged" and i.severity == Severity.ERROR
               for i in check_review_file(root))


def test_accepted_decisions_survive_reruns(wikidata_server, tmp_path):
    """A maintainer's accept/reject (reviewer, date, match type, reason) is kept by later
    runs; undecided proposals are refreshed; a run over unchanged inputs changes nothing."""
    root = make_project(tmp_path)
    run(root, wikidata_server, tmp_path)
    decide(root, "northbridge-university", "Q900001", "accepted",
           extra="checked_revision: '2999999'")  # the revision the reviewer looked at
    decide(root, "john-carter", "Q900041", "rejected", extra="note: not the surgeon")
    decide(root, "john-carter", "Q900042", "accepted",
           extra="match_type: close\nmatch_reason: \"same person, item also covers his firm\"")
    run(root, wikidata_server, tmp_path)
    entries = review(root)
    nb = entries["northbridge-university"]["candidates"][0]
    assert (nb["decision"], nb["reviewer"], nb["decision_date"]) == \
        ("accepted", "Test Reviewer", "2026-11-20")
    assert nb["checked_revision"] == "2999999"  # what was checked stays what was checked
    jc = {c["target"]: c for c in entries["john-carter"]["candidates"]}
    assert jc["Q900041"]["decision"] == "rejected" and jc["Q900041"]["note"] == \
        "not the surgeon"
    assert jc["Q900042"]["match_type"] == "close"
    assert entries["northbridge-university"]["status"] == "linked"
    assert entries["john-carter"]["status"] == "linked"
    first = (root / REVIEW_FILE).read_text("utf-8")
    run(root, wikidata_server, tmp_path)
    assert (root / REVIEW_FILE).read_text("utf-8") == first
    assert check_review_file(root) and not [
        i for i in check_review_file(root) if i.severity == Severity.ERROR]


def test_unreadable_review_file_is_never_overwritten(wikidata_server, tmp_path):
    """If the maintainer's file has a YAML error the run stops and leaves it untouched."""
    root = make_project(tmp_path)
    broken = "links:\n- actor: northbridge-university\n  candidates: [\n"
    (root / REVIEW_FILE).parent.mkdir(parents=True, exist_ok=True)
    (root / REVIEW_FILE).write_text(broken, "utf-8")
    with pytest.raises(InvalidData):
        run(root, wikidata_server, tmp_path)
    assert (root / REVIEW_FILE).read_text("utf-8") == broken
    assert wikidata_server.requests == []


# --- validation of the review file --------------------------------------------------------------

def test_unreferenced_link_fails_validation(tmp_path):
    """An accepted link without a reference, or without a revision or date it was checked
    against, is an error at its line, and the build gets no triples from the file."""
    root = make_project(tmp_path)
    write_review(root, """\
        links:
        - actor: northbridge-university
          candidates:
          - target: Q900001
            decision: accepted
            reviewer: Test Reviewer
            decision_date: '2026-11-20'
            checked_revision: '3000001'
        - actor: ruritanian-medicines-agency
          candidates:
          - target: Q900011
            reference: https://www.wikidata.org/wiki/Q900011
            decision: accepted
            reviewer: Test Reviewer
            decision_date: '2026-11-20'
        """)
    errors = [i for i in check_review_file(root) if i.severity == Severity.ERROR]
    assert [(i.code, i.line, i.field) for i in errors] == [
        ("unreferenced", 4, "links[0].candidates[0].reference"),
        ("unreferenced", 12, "links[1].candidates[0].reference"),
    ]
    assert errors[0].file == "data/links.yaml"
    with pytest.raises(InvalidData):
        list(link_triples(root))


def test_review_file_errors_are_located(tmp_path):
    """Malformed QIDs, unknown actors, duplicates, a QID accepted for two actors and a weak
    match without reason are each reported with line and field; scalars stay strings."""
    root = make_project(tmp_path)
    write_review(root, """\
        links:
        - actor: northbridge-university
          candidates:
          - target: q900001
          - target: Q0123
          - target: Q900001
            reference: https://www.wikidata.org/wiki/Q900001
            checked_revision: 0123
            decision: accepted
            reviewer: A
            decision_date: '2026-11-20'
          - target: Q900001
        - actor: no-such-actor
          candidates: []
        - actor: northbridge-university
          candidates: []
        - actor: evil-clinic
          candidates:
          - target: Q900001
            reference: https://www.wikidata.org/wiki/Q900001
            retrieved_on: 2026-11-20
            decision: accepted
            match_type: close
            reviewer: A
            decision_date: 2026-11-20
        """)
    errors = {(i.line, i.field): i for i in check_review_file(root)
              if i.severity == Severity.ERROR}
    assert "not a Wikidata QID" in errors[(4, "links[0].candidates[0].target")].message
    assert "not a Wikidata QID" in errors[(5, "links[0].candidates[1].target")].message
    assert "not a revision id" in errors[(8, "links[0].candidates[2].checked_revision")].message
    assert "Duplicate candidate" in errors[(12, "links[0].candidates[3].target")].message
    assert "Unknown actor id" in errors[(13, "links[1].actor")].message
    assert "Duplicate entry" in errors[(15, "links[2].actor")].message
    assert "also accepted for" in errors[(19, "links[3].candidates[0].target")].message
    assert "match_reason" in errors[(19, "links[3].candidates[0].match_reason")].message


def test_an_unlinked_actor_is_a_warning_not_an_error(wikidata_server, tmp_path):
    """Where no link can be had the actor stays unlinked, and validation says so gently."""
    root = make_project(tmp_path)
    run(root, wikidata_server, tmp_path)
    issues = [i for i in check_review_file(root) if i.record_id == "orla-quinn"]
    assert [i.severity for i in issues] == [Severity.WARNING]
    assert "no accepted Wikidata link (not-found)" in issues[0].message


# --- published outputs --------------------------------------------------------------------------

MODEL_REVIEW = """\
links:
- actor: northbridge-university
  label: Northbridge University
  candidates:
  - target: Q900001
    label: Northbridge University
    score: '0.950'
    method: wikidata-search
    reference: https://www.wikidata.org/wiki/Q900001
    checked_revision: '3000001'
    retrieved_on: '2026-11-23'
    decision: accepted
    reviewer: Test Reviewer
    decision_date: '2026-11-20'
  - target: https://ror.org/0fake0a01
    label: Northbridge University
    method: ror-name-match
    reference: https://ror.org/0fake0a01
    reference_release: v9.1
    retrieved_on: '2026-11-23'
    decision: accepted
    reviewer: ror-exact-match
    decision_date: '2026-11-23'
  - target: Q900003
    label: Northbridge University
    score: '0.700'
    reference: https://www.wikidata.org/wiki/Q900003
    decision: rejected
    reviewer: Test Reviewer
    decision_date: '2026-11-20'
    note: the one in Freedonia
- actor: john-carter
  label: John Carter
  candidates:
  - target: Q900042
    reference: https://www.wikidata.org/wiki/Q900042
    checked_revision: '2900042'
    decision: accepted
    match_type: close
    match_reason: the item describes him and his practice together
    reviewer: Test Reviewer
    decision_date: '2026-11-20'
"""


def test_link_triples_follow_the_model(tmp_path):
    """owl:sameAs (or a SKOS match with its reason) on the actor IRI, plus a reified
    hc:Link node with target, match type, reference, revision/date, reviewer and date; ROR
    ids as hc:rorId with their own reference node."""
    root = make_project(tmp_path)
    write_review(root, MODEL_REVIEW)
    graph = Graph()
    for triple in link_triples(root):
        graph.add(triple)
    nb = HCID["northbridge-university"]
    node = URIRef(f"{nb}#wikidata-link")
    assert (nb, OWL.sameAs, WD.Q900001) in graph
    assert (nb, OWL.sameAs, WD.Q900003) not in graph  # rejected
    assert (node, RDF.type, HC.Link) in graph
    assert (node, HC.target, WD.Q900001) in graph
    assert (node, HC.matchType, OWL.sameAs) in graph
    assert (node, HC.reference, URIRef("https://www.wikidata.org/wiki/Q900001")) in graph
    assert (node, HC.checkedRevision, Literal(3000001, datatype=ns.XSD.integer)) in graph
    assert (node, HC.retrievedOn, Literal("2026-11-23", datatype=ns.XSD.date)) in graph
    assert (node, HC.reviewer, Literal("Test Reviewer")) in graph
    assert (node, HC.decisionDate, Literal("2026-11-20", datatype=ns.XSD.date)) in graph
    ror = URIRef(f"{nb}#ror-link")
    assert (nb, HC.rorId, URIRef("https://ror.org/0fake0a01")) in graph
    assert (ror, HC.reference, URIRef("https://ror.org/0fake0a01")) in graph
    assert (ror, HC.referenceRelease, Literal("v9.1")) in graph
    jc = HCID["john-carter"]
    assert (jc, SKOS.closeMatch, WD.Q900042) in graph
    assert (jc, OWL.sameAs, WD.Q900042) not in graph
    assert (URIRef(f"{jc}#wikidata-link"), HC.matchReason,
            Literal("the item describes him and his practice together", lang="en")) in graph


def test_linkset_is_sssom_with_every_decision_and_stable_bytes(tmp_path):
    """The link set lists accepted and rejected decisions (rejected as predicate_modifier
    Not) with score, method, reviewer, date and reference, and every unlinked actor as
    sssom:NoTermFound; its metadata header is YAML; two runs give the same bytes."""
    root = make_project(tmp_path)
    write_review(root, MODEL_REVIEW)
    [path] = linkset_files(root, tmp_path / "out1")
    [again] = linkset_files(root, tmp_path / "out2")
    assert path.name == "links.sssom.tsv"
    assert path.read_bytes() == again.read_bytes()
    text = path.read_text("utf-8")
    header = yaml.safe_load("\n".join(line[1:] for line in text.splitlines()
                                      if line.startswith("#")))
    assert header["mapping_set_id"] and header["license"].startswith("https://")
    assert header["curie_map"]["wikidata"] == "http://www.wikidata.org/entity/"
    assert header["mapping_set_version"] == "9.9.9"
    rows = [line.split("\t") for line in text.splitlines() if not line.startswith("#")]
    columns, rows = rows[0], [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]
    assert tuple(columns) == SSSOM_COLUMNS
    by = {(r["subject_id"], r["object_id"]): r for r in rows}
    ok = by[("hcid:northbridge-university", "wikidata:Q900001")]
    assert ok["predicate_id"] == "owl:sameAs" and ok["predicate_modifier"] == ""
    assert ok["confidence"] == "0.950" and ok["reviewer_label"] == "Test Reviewer"
    assert ok["mapping_date"] == "2026-11-20" and ok["object_source_version"] == \
        "revision 3000001"
    assert ok["see_also"] == "https://www.wikidata.org/wiki/Q900001"
    no = by[("hcid:northbridge-university", "wikidata:Q900003")]
    assert no["predicate_modifier"] == "Not" and "Freedonia" in no["comment"]
    assert by[("hcid:northbridge-university", "ror:0fake0a01")]["mapping_justification"] == \
        "semapv:LexicalMatching"
    assert by[("hcid:john-carter", "wikidata:Q900042")]["predicate_id"] == "skos:closeMatch"
    assert ("hcid:orla-quinn", "sssom:NoTermFound") in by
    assert ("hcid:northbridge-university", "sssom:NoTermFound") not in by


class _Resolver:
    """Resolves the fixture's class and country QIDs as the real resolver would."""

    def label(self, qid):
        return {"Q900907": "hospital", "Q900801": "Ruritania"}.get(qid, "")

    def names(self, qid):
        return [n for n in [self.label(qid)] if n]


def test_control_characters_from_wikidata_are_refused(tmp_path, monkeypatch):
    """Control characters arriving from Wikidata are refused as records refuse them, even if
    the API client's readers let them through: a label with a newline and a description with
    a tab and an escape sequence never reach the review file (the evidence says why; the
    usable Chinese label stands in), and a hand-edited enrichment label holding one is a
    located error that stops publication."""
    import pipeline.link.candidates as candidates
    from pipeline.link.client import EntityResult
    from pipeline.link.review_file import render_review

    raw = json.loads((FIXTURES / "wikidata" / "entities.json").read_text("utf-8"))
    entity = raw.get("Q900081") or raw["entities"]["Q900081"]
    monkeypatch.setattr(candidates, "entity_labels",
                        lambda e: {k: v["value"] for k, v in e["labels"].items()})
    monkeypatch.setattr(candidates, "entity_description",
                        lambda e, lang="en": e["descriptions"][lang]["value"])
    monkeypatch.setattr(candidates, "entity_aliases", lambda e: [("en", "Evil Clinic")])
    root = make_project(tmp_path)
    actor = {a.id: a for a in load_entities(root).actors}["evil-clinic"]
    res = EntityResult("Q900081", "found", "Q900081", entity, "2026-11-23T00:00:00Z")
    cand = candidates._score_entity(actor, res, _Resolver(), ["search"], "2026-11-23")
    assert cand["label"] == "邪恶<script>诊所" and cand["description"] == ""
    assert any("English label refused" in e for e in cand["evidence"])
    assert any("description refused" in e for e in cand["evidence"])
    text = render_review([{"actor": "evil-clinic", "candidates": [cand]}])
    assert not any(ch in text for ch in "\x1b\t") and "\\n" not in text
    write_review(root, """\
        links:
        - actor: evil-clinic
          candidates:
          - target: Q900081
            reference: https://www.wikidata.org/wiki/Q900081
            checked_revision: '3000081'
            decision: accepted
            reviewer: Test Reviewer
            decision_date: '2026-11-20'
            enrichment:
              labels:
                en: "Evil\\nClinic"
        """)
    errors = [i for i in check_review_file(root) if i.severity == Severity.ERROR]
    assert [(i.line, i.field, i.code) for i in errors] == [
        (12, "links[0].candidates[0].enrichment.labels.en", "link-control-character")]
    with pytest.raises(InvalidData):
        list(enrichment_triples(root))


def test_wikidata_text_is_escaped_wherever_it_goes(tmp_path):
    """Printable but hostile text (markup, quotes, backslashes) is data, never markup: it
    survives the review file, the SSSOM TSV, RDF (N-Triples and Turtle) and the terminal
    intact and inert, never breaking a line or a cell."""
    hostile = 'Evil <script>alert("x")</script> \\ Clinic'
    root = make_project(tmp_path)
    write_review(root, f"""\
        links:
        - actor: evil-clinic
          candidates:
          - target: Q900081
            label: '{hostile}'
            reference: https://www.wikidata.org/wiki/Q900081
            checked_revision: '3000081'
            decision: accepted
            reviewer: Test Reviewer
            decision_date: '2026-11-20'
            enrichment:
              labels:
                zh: 邪恶<script>诊所
                en: '{hostile}'
        """)
    assert review(root)["evil-clinic"]["candidates"][0]["label"] == hostile
    # TSV: one line per row, the same number of cells everywhere
    [tsv] = linkset_files(root, tmp_path / "out")
    lines = [line for line in tsv.read_text("utf-8").split("\n") if line and line[0] != "#"]
    assert {len(line.split("\t")) for line in lines} == {len(SSSOM_COLUMNS)}
    row = next(line for line in lines if "wikidata:Q900081" in line)
    assert hostile.replace("\\", "\\\\") in row
    # RDF: serialised and parsed back, the literal is unchanged
    graph = Graph()
    for triple in [*link_triples(root), *enrichment_triples(root)]:
        graph.add(triple)
    for fmt in ("nt", "turtle"):
        back = Graph().parse(data=graph.serialize(format=fmt), format=fmt)
        assert (HCID["evil-clinic"], SKOS.altLabel, Literal(hostile, lang="en")) in back
        assert (HCID["evil-clinic"], SKOS.altLabel, Literal("邪恶<script>诊所", lang="zh")) in back
    # terminal: nothing printed can move the cursor, recolour or break a line
    description = 'says "hello"\nthen\tleaves\x1b[31m'
    shown = terminal_safe(description)
    assert "\x1b" not in shown and "\n" not in shown and "\\x1b" in shown
    from pipeline.link.run import LinkSummary

    lines = LinkSummary(fatal=f"error 'x': {description}", redirected=[hostile]).lines()
    assert not any(ch in line for line in lines for ch in "\x1b\n\t")


def test_enrichment_labels_carry_provenance(wikidata_server, tmp_path):
    """With --enrich, accepted items' Chinese and English labels are stored with the
    revision they came from, and published with provenance saying they are Wikidata's."""
    root = make_project(tmp_path)
    run(root, wikidata_server, tmp_path)
    decide(root, "northbridge-university", "Q900001", "accepted")
    run(root, wikidata_server, tmp_path)
    assert list(enrichment_triples(root)) == []  # not asked for: nothing stored
    run(root, wikidata_server, tmp_path, enrich=True)
    enrichment = review(root)["northbridge-university"]["candidates"][0]["enrichment"]
    assert enrichment["revision"] == "3000001"
    assert enrichment["labels"] == {"en": "Northbridge University", "zh": "诺斯布里奇大学"}
    triples = set(enrichment_triples(root))
    nb = HCID["northbridge-university"]
    assert (nb, SKOS.altLabel, Literal("诺斯布里奇大学", lang="zh")) in triples
    assert (nb, SKOS.altLabel, Literal("Northbridge University", lang="en")) not in triples
    assert (ENRICHMENT_GRAPH, PROV.wasDerivedFrom, WD.Q900001) in triples
    assert (ENRICHMENT_GRAPH, RDF.type, PROV.Entity) in triples


# --- ROR ----------------------------------------------------------------------------------------

def ror_run(root: Path, source: Path | None = None, **kwargs):
    return run_link(root, LinkOptions(wikidata=False, progress=False, today=TODAY,
                                      ror_source=source, **kwargs))


def test_ror_exact_match_in_the_same_country_is_accepted_with_reason(tmp_path):
    """Only an exact name, same country, fitting type, active and unrivalled ROR match is
    accepted by the linker; the QID that ROR record lists comes with it, referenced to
    https://ror.org/<id> and its release."""
    root = make_project(tmp_path, ROR_ACTORS)
    summary = ror_run(root, FIXTURES / "ror" / "ror-sample.jsonl")
    entry = review(root)["eastvale-institute"]
    cands = {c["target"]: c for c in entry["candidates"]}
    ror = cands["https://ror.org/0fake0a01"]
    assert (ror["decision"], ror["reviewer"]) == ("accepted", "ror-exact-match")
    assert "Accepted automatically" in ror["note"] and ror["reference_release"] == "v9.1"
    qid = cands["Q900501"]
    assert qid["decision"] == "accepted" and qid["method"] == "ror-listed-wikidata"
    assert qid["reference"] == "https://ror.org/0fake0a01"
    assert entry["status"] == "linked"
    assert summary.ror_accepted.count("eastvale-institute") == 1
    assert not [i for i in check_review_file(root) if i.severity == Severity.ERROR]


@pytest.mark.parametrize("actor,why", [
    ("westvale-medical-college", "no country in our record"),
    ("harbourside-hospital", "ROR says another country"),
    ("greenfield-centre", "spelling variant, not exact"),
    ("twin-oaks-hospital", "two ROR records with that exact name"),
])
def test_uncertain_ror_matches_stay_proposals(tmp_path, actor, why):
    """Anything short of the strict rule is proposed for review, never accepted."""
    root = make_project(tmp_path, ROR_ACTORS)
    ror_run(root, FIXTURES / "ror" / "ror-sample.jsonl")
    entry = review(root)[actor]
    assert targets(entry), why
    assert targets(entry, "accepted") == [], why


def test_ror_record_listing_several_qids_proposes_them(tmp_path):
    """The ROR id may be accepted, but a record listing two QIDs proposes both: choosing
    one is a person's job."""
    root = make_project(tmp_path, ROR_ACTORS)
    ror_run(root, FIXTURES / "ror" / "ror-sample.jsonl")
    entry = review(root)["riverside-health-trust"]
    assert targets(entry, "accepted") == ["https://ror.org/0fake0c03"]
    assert sorted(targets(entry, "proposed")) == ["Q900502", "Q900503"]
    assert entry["status"] == "ambiguous"


def test_an_acronym_adds_nothing_once_the_full_name_matched(tmp_path):
    """'EITH' is also another GB record's acronym; with the full name matched exactly, that
    acronym-only match is noise and is not proposed."""
    root = make_project(tmp_path, ROR_ACTORS)
    ror_run(root, FIXTURES / "ror" / "ror-sample.jsonl")
    assert "https://ror.org/0fake0j10" not in targets(review(root)["eastvale-institute"])


def test_one_word_apart_is_not_a_ror_match(tmp_path):
    """'Southvale University' is not 'Northvale University' however similar the letters."""
    root = make_project(tmp_path, ROR_ACTORS)
    ror_run(root, FIXTURES / "ror" / "ror-sample.jsonl")
    assert targets(review(root)["southvale-university"]) == []
    assert name_similarity("Hainan Medical University", "Henan Medical University") < 97


def test_ror_subset_holds_only_matched_records_byte_for_byte(tmp_path):
    """--ror-source copies only the records we matched, unchanged, with a README saying
    where they come from, the licence, the releases and the selection; later runs read the
    copy alone and reach the same result."""
    root = make_project(tmp_path, ROR_ACTORS)
    source = FIXTURES / "ror" / "ror-sample.jsonl"
    ror_run(root, source)
    subset = (root / ROR_SUBSET).read_text("utf-8").splitlines()
    source_lines = source.read_text("utf-8").splitlines()
    assert set(subset) <= set(source_lines)
    ids = [json.loads(line)["id"] for line in subset]
    assert ids == sorted(ids)
    assert "https://ror.org/0fake0z99" not in ids  # the unrelated record
    assert "https://ror.org/0fake0a01" in ids
    readme = (root / ROR_SUBSET).with_name("README.md").read_text("utf-8")
    for needed in ("CC0", "ror-community/ror-records", "v9.1", "How it was selected",
                   str(len(subset))):
        assert needed in readme
    first = (root / REVIEW_FILE).read_text("utf-8")
    ror_run(root)  # no source: the repo copy only
    assert (root / REVIEW_FILE).read_text("utf-8") == first


# --- command line -------------------------------------------------------------------------------

def test_cli_link_prints_the_summary(wikidata_server, tmp_path):
    """`healthcoop link` takes --endpoint/--user-agent/--cache-dir/--offline/--root and
    prints the summary; offline with an empty cache it says what it could not look up."""
    from pipeline.cli import main

    root = make_project(tmp_path)
    args = ["link", "--root", str(root), "--endpoint", wikidata_server.url,
            "--user-agent", UA, "--cache-dir", str(tmp_path / "cache")]
    result = CliRunner().invoke(main, [*args, "--offline"])
    assert result.exit_code == 0, result.output
    assert "9 actors: 0 linked" in result.output and "not in the cache" in result.output
    assert wikidata_server.requests == []
    result = CliRunner().invoke(main, [*args, "--no-enrich"])
    assert result.exit_code == 0, result.output
    assert "1 ambiguous" in result.output
    assert all(r.headers["User-Agent"] == UA for r in wikidata_server.requests)
    assert re.search(r"\d+ HTTP requests", result.output)


ENRICHED_REVIEW = """\
links:
- actor: eastvale-digital-health-institute
  label: Eastvale Digital Health Institute
  kind: organisation
  type: research-institute
  status: linked
  candidates:
  - target: Q900001
    label: Eastvale Digital Health Institute
    score: '0.950'
    method: manual
    match_type: exact
    reference: https://www.wikidata.org/wiki/Q900001
    checked_revision: '3000001'
    retrieved_on: '2026-11-23'
    decision: accepted
    reviewer: Test Reviewer
    decision_date: '2026-11-23'
    enrichment:
      revision: '3000001'
      retrieved_on: '2026-11-23'
      labels:
        en: 'Eastvale "Digital" <b>Health</b> Institute'
        zh: "东谷数字健康研究所 <script>"
"""


def test_build_publishes_links_and_wikidata_labels_in_their_own_graphs(tmp_path):
    """A release keeps what is not ours apart: accepted links in …/graph/links, Wikidata's
    labels in …/graph/wikidata-labels with provenance, neither in a source's graph; every
    default-graph dump holds them too, the hostile label intact; the description says what
    each graph is."""
    import pyoxigraph as ox

    from pipeline.build import build_release

    root = make_mini_project(tmp_path / "project")
    (root / REVIEW_FILE).write_text(ENRICHED_REVIEW, "utf-8")
    out = build_release(root, tmp_path / "out", register=False)

    actor = ox.NamedNode(str(HCID["eastvale-digital-health-institute"]))
    zh = ox.Literal("东谷数字健康研究所 <script>", language="zh")
    en = ox.Literal('Eastvale "Digital" <b>Health</b> Institute', language="en")
    graphs = {}
    for quad in ox.parse(path=str(out / "healthcoop.nq"), format=ox.RdfFormat.N_QUADS):
        graphs.setdefault(quad.graph_name.value.rsplit("/", 1)[-1], set()).add(quad.triple)
    labels = graphs["wikidata-labels"]
    assert ox.Triple(actor, ox.NamedNode(str(SKOS.altLabel)), zh) in labels
    assert ox.Triple(actor, ox.NamedNode(str(SKOS.altLabel)), en) in labels
    graph = ox.NamedNode("https://w3id.org/healthcoop/graph/wikidata-labels")
    assert ox.Triple(graph, ox.NamedNode(str(PROV.wasDerivedFrom)),
                     ox.NamedNode(str(WD.Q900001))) in labels
    assert ox.Triple(actor, ox.NamedNode(str(OWL.sameAs)),
                     ox.NamedNode(str(WD.Q900001))) in graphs["links"]
    for name, triples in graphs.items():
        if name.startswith("fixture-"):
            assert not any(t.subject == actor and t.object in (zh, en) for t in triples)
            assert not any(t.predicate.value == str(OWL.sameAs) for t in triples)
    every = {t for triples in graphs.values() for t in triples}
    for name, fmt in (("healthcoop.ttl", ox.RdfFormat.TURTLE),
                      ("healthcoop.nt", ox.RdfFormat.N_TRIPLES),
                      ("healthcoop.jsonld", ox.RdfFormat.JSON_LD)):
        dump = {q.triple for q in ox.parse(path=str(out / name), format=fmt)}
        assert dump == every, name
    void = Graph().parse(out / "void.ttl")
    described = {str(o) for s, o in void.subject_objects(URIRef(
        "http://purl.org/dc/terms/description")) if "graph-" in str(s)}
    assert any("Wikidata" in d and "CC0" in d for d in described), described
