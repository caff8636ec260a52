"""Mapping: one record becomes exactly the triples of docs/model.md, compared as graphs."""

from __future__ import annotations

from rdflib import Graph
from rdflib.compare import graph_diff, isomorphic

from pipeline.rdf.mapping import MappingContext, map_record
from pipeline.read.record_types import Agreement, Organisation
from pipeline.read.records import RecordSet
from pipeline.read.sources import SourceText

TEXT = "Intro.\nEight Great Technologies and Leaguer International Co signed an agreement to " \
       "create a 5 billion RMB fund to invest in UK emerging technologies\nEnd."
QUOTE = "signed an agreement to create a 5 billion RMB fund"

EXPECTED = """
@prefix hcid: <https://w3id.org/healthcoop/id/> .
@prefix hc: <https://w3id.org/healthcoop/ontology#> .
@prefix hctopic: <https://w3id.org/healthcoop/topic/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix schema: <https://schema.org/> .
@prefix prov: <http://www.w3.org/ns/prov#> .
@prefix dct: <http://purl.org/dc/terms/> .
@prefix void: <http://rdfs.org/ns/void#> .
@prefix oa: <http://www.w3.org/ns/oa#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .

hcid:egt-leaguer-fund a hc:FundCommitment, hc:Agreement, prov:Entity, schema:CreativeWork ;
    rdfs:label "Eight Great Technologies and Leaguer fund"@en ;
    skos:prefLabel "Eight Great Technologies and Leaguer fund"@en ;
    void:inDataset <https://w3id.org/healthcoop/dataset> ;
    dct:source hcid:src ;
    hc:party hcid:eight-great-technologies, hcid:leaguer ;
    hc:topic hctopic:health-investment ;
    hc:amount <https://w3id.org/healthcoop/id/egt-leaguer-fund#amount> ;
    hc:evidence <https://w3id.org/healthcoop/id/egt-leaguer-fund#evidence-KEY> .

<https://w3id.org/healthcoop/id/egt-leaguer-fund#amount> a schema:MonetaryAmount ;
    schema:value "5000000000"^^xsd:decimal ;
    schema:currency "CNY" ;
    hc:amountQualifier hc:Exact ;
    hc:statedAs "5 billion RMB"@en .

<https://w3id.org/healthcoop/id/egt-leaguer-fund#evidence-KEY> a oa:Annotation, hc:Evidence ;
    oa:motivatedBy oa:describing ;
    oa:hasBody hcid:egt-leaguer-fund ;
    oa:hasTarget <https://w3id.org/healthcoop/id/egt-leaguer-fund#evidence-KEY-target> ;
    prov:wasDerivedFrom hcid:src ;
    hc:supportsProperty hc:amount, rdf:type .

<https://w3id.org/healthcoop/id/egt-leaguer-fund#evidence-KEY-target> a oa:SpecificResource ;
    oa:hasSource hcid:src ;
    oa:hasSelector <https://w3id.org/healthcoop/id/egt-leaguer-fund#evidence-KEY-quote>,
                   <https://w3id.org/healthcoop/id/egt-leaguer-fund#evidence-KEY-position> .

<https://w3id.org/healthcoop/id/egt-leaguer-fund#evidence-KEY-quote> a oa:TextQuoteSelector ;
    oa:exact "signed an agreement to create a 5 billion RMB fund" ;
    oa:prefix "es and Leaguer International Co " ;
    oa:suffix " to invest in UK emerging techno" .

<https://w3id.org/healthcoop/id/egt-leaguer-fund#evidence-KEY-position> a oa:TextPositionSelector ;
    oa:start "61"^^xsd:nonNegativeInteger ;
    oa:end "111"^^xsd:nonNegativeInteger .
"""


def _context(*records) -> MappingContext:
    rs = RecordSet()
    for r in records:
        rs.records[r.id] = r
    source = SourceText(id="src", file="src.txt", sha256="0" * 64, title="t", language="en",
                        text=TEXT)
    return MappingContext(rs, {"src": source})


def test_agreement_maps_to_the_documented_triples():
    """An agreement with an amount and one quote: classes with their reused supertypes, the
    amount node with an ISO currency, and a Web Annotation whose offsets were checked by hand
    (the quote starts at character 61 of TEXT: 7 for "Intro." and the newline, 54 for the
    company names)."""
    assert TEXT[61:111] == QUOTE
    record = Agreement.model_validate({
        "id": "egt-leaguer-fund", "label": "Eight Great Technologies and Leaguer fund",
        "type": "fund-commitment", "parties": ["eight-great-technologies", "leaguer"],
        "amount": {"value": "5000000000", "currency": "CNY", "stated_as": "5 billion RMB"},
        "topics": ["health-investment"],
        "evidence": [{"source": "src", "quote": QUOTE, "supports": ["amount", "type"]}],
    })
    ctx = _context(record)
    got = Graph()
    for triple in map_record(record, ctx):
        got.add(triple)
    key = next(str(o).rsplit("#evidence-", 1)[1] for o in got.objects()
               if "#evidence-" in str(o) and str(o).count("-") and not str(o).endswith(
                   ("-target", "-quote", "-position")))
    expected = Graph().parse(data=EXPECTED.replace("KEY", key), format="turtle")
    if not isomorphic(got, expected):
        _, only_got, only_expected = graph_diff(got, expected)
        raise AssertionError(
            f"only in mapping:\n{only_got.serialize(format='nt')}\n"
            f"only expected:\n{only_expected.serialize(format='nt')}")
    assert ctx.origins[f"https://w3id.org/healthcoop/id/egt-leaguer-fund#evidence-{key}"
                       ].field == "evidence[0]"


def test_unstated_currency_is_not_invented():
    """'over 200 million' states no currency: the amount has no schema:currency at all."""
    record = Organisation.model_validate({
        "id": "x-org", "label": "X", "type": "company",
        "evidence": [{"source": "src", "quote": "Leaguer International Co"}],
    })
    from pipeline.read.record_types import Initiative
    fund = Initiative.model_validate({
        "id": "x-fund", "label": "X fund", "type": "fund", "owners": ["x-org"],
        "amount": {"value": "200000000", "qualifier": "more-than", "stated_as": "over 200 million"},
        "evidence": [{"source": "src", "quote": "5 billion", "supports": ["owners", "amount"]}],
    })
    ctx = _context(record, fund)
    triples = list(map_record(fund, ctx))
    predicates = {str(p) for _, p, _ in triples}
    assert "https://schema.org/value" in predicates
    assert "https://schema.org/currency" not in predicates
    assert any(str(o).endswith("#MoreThan") for _, _, o in triples)
