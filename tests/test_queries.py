"""The example queries in queries/*.rq: each says what it answers, runs on the published
data in pyoxigraph and in a real Oxigraph server (loaded with `healthcoop load`), and
returns the answers written below, which were checked by hand against the source texts in
data/sources/ (quoted in each test). Virtuoso, loaded from the Turtle dump, gives the same
answers as Oxigraph."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pyoxigraph as ox
import pytest
from tools import rdfstores

from pipeline.load import load_release

ROOT = Path(__file__).resolve().parent.parent
QUERIES = sorted((ROOT / "queries").glob("*.rq"))
HCID = "https://w3id.org/healthcoop/id/"


def query_text(name: str) -> str:
    return (ROOT / "queries" / f"{name}.rq").read_text(encoding="utf-8")


def run(store: ox.Store, name: str) -> list[dict]:
    result = store.query(query_text(name))
    names = [v.value for v in result.variables]
    return [{n: s[n].value for n in names if s[n] is not None} for s in result]


@pytest.fixture(scope="module")
def server(tmp_path_factory, release_dir):
    """An Oxigraph server holding the release, loaded through `healthcoop load`."""
    with rdfstores.oxigraph_server(tmp_path_factory.mktemp("oxigraph-q")) as ox_server:
        load_release(release_dir, ox_server.store)
        yield ox_server


@pytest.fixture(scope="module", params=["pyoxigraph", "oxigraph-server"])
def answers(request, dataset_store, release_dir):
    """`answers(name)`: the rows of queries/<name>.rq, from pyoxigraph and from the server."""
    if request.param == "pyoxigraph":
        return lambda name: run(dataset_store, name)
    srv = request.getfixturevalue("server")
    return lambda name: srv.select(query_text(name))


def test_every_query_says_what_it_answers():
    """Each query starts with a comment saying what it answers, and parses (pyoxigraph's
    SPARQL parser). Fails for a query without its explanation."""
    assert len(QUERIES) >= 6
    store = ox.Store()
    for path in QUERIES:
        text = path.read_text(encoding="utf-8")
        comment = [ln for ln in text.splitlines() if ln.startswith("#")]
        assert text.startswith("# ") and len(" ".join(comment)) > 60, path.name
        store.query(text)  # raises SyntaxError when the query does not parse


def test_agreements_of_an_organisation(answers):
    """Medopad, in data/sources/001: "Medopad and Peking University Smart Health Lab signed
    an agreement to work together ..." and "Medopad and China Resources Guokang (Shanghai)
    Pharmaceutical Co. signed a contract ..."; both in the 2018 article (dateline
    "February 14 09:56 2018")."""
    rows = answers("agreements-of-organisation")
    assert {(r["otherPartyLabel"], r["role"], r["source"][len(HCID):]) for r in rows} == {
        ("Peking University Smart Health Lab", "party", "uk-china-healthcare-deals-2018"),
        ("China Resources Guokang (Shanghai) Pharmaceutical Co.", "party",
         "uk-china-healthcare-deals-2018"),
    }
    assert {r["date"] for r in rows} == {"2018"}
    assert len({r["agreement"] for r in rows}) == 2


def test_events_of_a_person(answers):
    """Matt Hancock. data/sources/000: "is travelling to China on his first official
    overseas visit"; "the Secretary of State co-hosted the UK-China Health Dialogue with
    China's Health Minister Ma Xiaowei"; "when he met with Minister Hu Jinglin"; "will also
    lead a UK business delegation"; "while he co-chairs the World Economic Forum Meeting of
    New Champions" (no dates printed). data/sources/004 (dateline 2020.05.16, "on Friday"):
    "Attendees included Ma Xiaowei ... and his counterpart Matt Hancock"."""
    rows = answers("events-of-person")
    parts: dict[str, set[str]] = {}
    for r in rows:
        parts.setdefault(r["eventLabel"], set()).add(r["part"])
    assert parts == {
        "Matt Hancock's official visit to China": {"participant"},
        "UK-China Health Dialogue": {"host", "participant"},
        "Matt Hancock's meeting with Minister Hu Jinglin": {"participant"},
        "UK business delegation to China led by Matt Hancock": {"leader"},
        "World Economic Forum Meeting of New Champions": {"chair", "participant"},
        "China–UK video meeting of health officials on COVID-19 cooperation": {"participant"},
    }
    dated = {(r["eventLabel"], r.get("start"), r.get("end")) for r in rows if "start" in r}
    assert dated == {("China–UK video meeting of health officials on COVID-19 cooperation",
                      "2020-05-15", "2020-05-15")}


def test_agreements_by_topic_and_year(answers):
    """Years: the 2018 article's deals and "In early 2018, the UK and China committed two
    AMR funds" (000) are 2018; "The meeting adopted a joint statement" (004, 2020) is 2020;
    the "Co-operation Arrangement on Research for Quality Testing and Standards of Chinese
    Medicines" signed during the 2024 CIFTIS visit (003) is 2024. Its topic is traditional
    Chinese medicine, and the AMR funds' topic antimicrobial resistance, each once."""
    rows = answers("agreements-by-topic-and-year")
    assert {r["year"] for r in rows} == {"2018", "2020", "2024"}
    by_topic: dict[str, set] = {}
    for r in rows:
        by_topic.setdefault(r["topic"].rsplit("/", 1)[-1], set()).add(
            (r["year"], int(r["agreements"])))
    assert by_topic["traditional-chinese-medicine"] == {("2024", 1)}
    assert by_topic["antimicrobial-resistance"] == {("2018", 1)}
    assert all(int(r["agreements"]) >= 1 for r in rows)
    # topic labels come with the dumps (ontology/topics.ttl)
    labels = {r["topic"].rsplit("/", 1)[-1]: r.get("topicLabel") for r in rows}
    assert labels["traditional-chinese-medicine"] == "traditional Chinese medicine"
    assert labels["antimicrobial-resistance"] == "antimicrobial resistance"


# every pair of parties, from the source texts: 001's "List of Signings" and "Other
# recent signings", 000's AMR funds, 003's co-operation arrangement, 004's joint statement
SIGNED_WITH = {
    ("Beijing UniteGen Co. Ltd", "Congenica", 2, "uk-china-healthcare-deals-2018"),
    ("AstraZeneca China", "Shenzhen Tencent Computer Systems", 1,
     "uk-china-healthcare-deals-2018"),
    ("China", "Japan", 1, "china-uk-video-meeting-2020"),
    ("China", "Republic of Korea", 1, "china-uk-video-meeting-2020"),
    ("Japan", "Republic of Korea", 1, "china-uk-video-meeting-2020"),
    ("China", "United Kingdom", 1, "hancock-china-visit-digital-health"),
    ("China Resources Guokang (Shanghai) Pharmaceutical Co.", "Medopad", 1,
     "uk-china-healthcare-deals-2018"),
    ("China's Food and Drug Administration",
     "UK Medicine and Health Products Regulatory Authority", 1,
     "uk-china-healthcare-deals-2018"),
    ("Congenica", "Digital China Health", 1, "uk-china-healthcare-deals-2018"),
    ("Department of Health",
     "Experimental Research Center of the China Academy of Chinese Medical Sciences", 1,
     "hk-dh-beijing-meetings-2024"),
    ("Eight Great Technologies", "Leaguer International Co", 1,
     "uk-china-healthcare-deals-2018"),
    ("First Chengmai Medical Industry Group", "TPP", 1, "uk-china-healthcare-deals-2018"),
    ("Medopad", "Peking University Smart Health Lab", 1, "uk-china-healthcare-deals-2018"),
    ("Nine Health Global", "Tsingdata D-LAB", 1, "uk-china-healthcare-deals-2018"),
    ("Peking University Health Science Center", "The University of Manchester", 1,
     "uk-china-healthcare-deals-2018"),
    ("Trinity College Cambridge", "Tus-Holdings", 1, "uk-china-healthcare-deals-2018"),
}


def test_who_signed_with_whom(answers):
    """Pairs of parties as the texts name them (SIGNED_WITH above); Beijing UniteGen and
    Congenica share two agreements ("signed an agreement to expand the existing commercial
    deal with Congenica"); China signs in two sources (000 with the UK, 004 with Japan and
    the Republic of Korea)."""
    rows = answers("who-signed-with-whom")
    got = {(*sorted((r["actorLabel"], r["partnerLabel"])), int(r["agreements"]), r["sources"])
           for r in rows}
    assert got == {(*sorted(p[:2]), p[2], p[3]) for p in SIGNED_WITH}


def test_actors_with_wikidata_links(answers, dataset_store):
    """On the data: every answer is an actor with a Wikidata item IRI. On a hand-made graph:
    exactly the actor that has an owl:sameAs to wd:Q148, not the non-actor, nor the link
    to a non-Wikidata IRI."""
    for r in answers("actors-with-wikidata"):
        assert re.fullmatch(r"http://www\.wikidata\.org/entity/Q\d+", r["wikidata"])
    store = ox.Store()
    store.load(input="""
        @prefix hc: <https://w3id.org/healthcoop/ontology#> .
        @prefix hcid: <https://w3id.org/healthcoop/id/> .
        @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
        @prefix owl: <http://www.w3.org/2002/07/owl#> .
        hcid:china a hc:Actor ; rdfs:label "China"@en ;
            owl:sameAs <http://www.wikidata.org/entity/Q148> .
        hcid:japan a hc:Actor ; rdfs:label "Japan"@en ; owl:sameAs <http://example.org/japan> .
        hcid:beijing a hc:Place ; rdfs:label "Beijing"@en ;
            owl:sameAs <http://www.wikidata.org/entity/Q956> .
        """, format=ox.RdfFormat.TURTLE)
    assert [(r["actorLabel"], r["wikidata"]) for r in run(store, "actors-with-wikidata")] == [
        ("China", "http://www.wikidata.org/entity/Q148")]


def test_evidence_for_a_fact(answers):
    """The amount of the Eight Great Technologies / Leaguer fund agreement is supported by
    the quote "... signed an agreement to create a 5 billion RMB fund ..." of
    data/sources/001, and the offsets cut exactly that quote out of the archived file."""
    rows = answers("evidence-for-fact")
    assert rows
    for r in rows:
        assert "5 billion RMB fund" in r["quote"]
        assert r["sourceTitle"] == "Strong UK-China collaborations in healthcare"
        text = (ROOT / r["archivedFile"]).read_bytes().decode("utf-8")
        assert text[int(r["start"]):int(r["end"])] == r["quote"]


# --- a second store -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def virtuoso(tmp_path_factory, release_dir):
    if rdfstores.virtuoso_program() is None:
        pytest.skip("Virtuoso is not installed (run .ci/install-tools)")
    with rdfstores.virtuoso_server(tmp_path_factory.mktemp("virtuoso-q"),
                                   release_dir) as server:
        server.load_turtle(release_dir / "healthcoop.ttl", VIRTUOSO_GRAPH)
        yield server


VIRTUOSO_GRAPH = "https://w3id.org/healthcoop/test-queries"


@pytest.mark.external
@pytest.mark.parametrize("path", QUERIES, ids=lambda p: p.stem)
def test_virtuoso_answers_like_oxigraph(path, virtuoso, server):
    """Every example query is portable SPARQL: Virtuoso 7.2, with the Turtle dump loaded by
    its own loader, returns the same rows as Oxigraph (as multisets of values; row order
    and numeric spelling aside)."""
    text = path.read_text(encoding="utf-8")
    def norm(rows):
        return Counter(tuple(sorted((k, v) for k, v in r.items())) for r in rows)
    assert norm(virtuoso.select(text, VIRTUOSO_GRAPH)) == norm(server.select(text))
