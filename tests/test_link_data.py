"""The real review file: what it publishes carries a reference and a date, and coverage does
not fall below its floor. Floors only: the figures grow as links are reviewed."""

from __future__ import annotations

from collections import defaultdict

import pytest
from rdflib.namespace import DCTERMS, OWL, RDF, SKOS

from pipeline.link import link_triples, linkset_files, load_entities
from pipeline.rdf.vocab import HC, HCID, SCHEMA

WD = "http://www.wikidata.org/entity/"


@pytest.fixture(scope="module")
def published(project_root):
    by_subject: dict = defaultdict(lambda: defaultdict(set))
    for s, p, o in link_triples(project_root):
        by_subject[s][p].add(o)
    return by_subject


def test_every_published_identifier_has_a_reference_and_a_date(published):
    """Every published QID, ROR id and ISO 3166-1 code comes with the public page or data
    release where it is seen, the date it was read (or the revision), who accepted it and
    when."""
    links = [s for s, props in published.items() if HC.Link in props[RDF.type]]
    codes = [s for s, props in published.items() if SCHEMA.PropertyValue in props[RDF.type]]
    assert links and codes
    for node in links:
        props = published[node]
        assert props[HC.reference] and props[HC.reviewer] and props[HC.decisionDate], node
        assert props[HC.retrievedOn] or props[HC.checkedRevision], node
        assert all(str(r).startswith("https://") for r in props[HC.reference]), node
    for node in codes:
        props = published[node]
        assert props[DCTERMS.source] and props[DCTERMS.date] and props[DCTERMS.contributor]
        assert props[DCTERMS.dateAccepted] and props[SCHEMA.value], node


def test_no_entity_has_two_exact_qids_and_no_qid_two_entities(published):
    """owl:sameAs to two items would make them one, and one item for two records would make
    the records one."""
    owners = defaultdict(set)
    for subject, props in published.items():
        qids = {o for o in props[OWL.sameAs] if str(o).startswith(WD)}
        assert len(qids) <= 1, (subject, qids)
        for qid in qids:
            owners[qid].add(subject)
    assert all(len(s) == 1 for s in owners.values()), owners


def test_coverage_floor(project_root, published):
    """Issue 14's goals: at least 30 entities with a Wikidata QID (any match type: exact as
    owl:sameAs, else skos:closeMatch/broadMatch/narrowMatch/relatedMatch) and 40 with some
    external identifier (QID, ROR or ISO code); floors for what is reviewed today: 25 exact
    QIDs, persons among them; every country has its ISO 3166-1 code."""
    entities = load_entities(project_root)
    with_qid = {s for s, props in published.items()
                if any(str(o).startswith(WD) for o in props[OWL.sameAs])}
    matches = (OWL.sameAs, SKOS.closeMatch, SKOS.broadMatch, SKOS.narrowMatch,
               SKOS.relatedMatch)
    with_any_qid = {s for s, props in published.items() if str(s).startswith(str(HCID))
                    and "#" not in str(s)
                    and any(str(o).startswith(WD) for p in matches for o in props[p])}
    with_any = {s for s, props in published.items()
                if props[HC.link] or props[SCHEMA.identifier]}
    assert len(with_qid) >= 25, len(with_qid)
    assert len(with_any_qid) >= 30, len(with_any_qid)
    assert len(with_any) >= 40, len(with_any)
    persons = {str(HCID[p.id]) for p in entities.actors if p.kind == "person"}
    assert len({str(s) for s in with_qid} & persons) >= 2
    countries = [p for p in entities.places if p.type == "country"]
    coded = {str(s).rsplit("/", 1)[-1] for s, props in published.items()
             if props[SCHEMA.identifier]}
    assert {c.id for c in countries} <= coded


def test_places_are_in_the_link_set(project_root, tmp_path):
    """The SSSOM link set carries the places' decisions too: a country's QID and its ISO
    code, each with its reference."""
    [path] = linkset_files(project_root, tmp_path)
    rows = [line.split("\t") for line in path.read_text("utf-8").splitlines()
            if not line.startswith("#")]
    rows = [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]
    china = {r["object_id"]: r for r in rows if r["subject_id"] == "hcid:china"}
    assert china["iso3166:CN"]["see_also"].startswith("https://www.iso.org/")
    qid = [r for k, r in china.items() if k.startswith("wikidata:")]
    assert qid and qid[0]["see_also"].startswith("https://") and qid[0]["mapping_date"]


def test_every_target_two_records_share_is_marked_with_a_reason(project_root):
    """Where two of our records accept one QID or ROR id (a department and its government, a
    ministry and its renamed successor), a reviewer has said so with `shared_with:` and a
    reason, so validation gives no shared-target warning for the real review file."""
    from pipeline.link.review_file import check_review_file

    shared = [i for i in check_review_file(project_root) if i.code == "shared-target"]
    assert shared == [], [(i.line, i.message) for i in shared]


def test_a_build_reads_the_review_file_once(project_root, tmp_path, monkeypatch):
    """The checks, the link triples, the Wikidata labels and the link set all need the
    review file read and checked: a build reads it once (it read it seven times and checked
    it four, 2 s a time at 100k records), and publishes the links all the same."""
    from pipeline.build import build_release
    from pipeline.link import review_file, triples

    calls = []
    real = review_file.read_review

    def counting(root):
        calls.append(root)
        return real(root)

    monkeypatch.setattr(triples, "read_review", counting)
    monkeypatch.setattr(review_file, "read_review", counting)
    out = build_release(project_root, tmp_path / "out", register=False, site=False,
                        executor="serial", cache=False)
    assert len(calls) == 1
    sssom = (out / "links.sssom.tsv").read_text(encoding="utf-8")
    assert "skos:exactMatch" in sssom and "owl:sameAs" in (out / "healthcoop.nt").read_text(
        encoding="utf-8").replace("<http://www.w3.org/2002/07/owl#sameAs>", "owl:sameAs")


def test_a_changed_review_file_is_read_again(project_root, tmp_path):
    """What accepted_links keeps with a RecordSet is given again only while the review file
    holds the bytes it was read from: an edit (here a new comment line) is read again."""
    import shutil

    from pipeline.errors import IssueList
    from pipeline.link import accepted_links
    from pipeline.read.records import load_records

    root = tmp_path / "project"
    shutil.copytree(project_root / "data", root / "data")
    records = load_records(root, IssueList())
    first = accepted_links(root, records)
    assert first.entries and accepted_links(root, records) is first
    links = root / "data" / "links.yaml"
    links.write_bytes(links.read_bytes() + b"# reviewed again\n")
    again = accepted_links(root, records)
    assert again is not first and again.entries == first.entries
    assert accepted_links(root, load_records(root, IssueList())) is not again
