"""pipeline/rdf/oxterms.py: the N-Triples text the shards sort and key by is exactly what
pyoxigraph prints for the term, for any IRI it accepts and any literal."""

from __future__ import annotations

import pyoxigraph as ox
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from rdflib import Literal, URIRef

from pipeline.rdf.oxterms import OxConverter

XSD = "http://www.w3.org/2001/XMLSchema#"


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.text(min_size=1))
def test_iri_text_is_pyoxigraphs(local):
    iri = "https://w3id.org/healthcoop/id/" + local
    try:
        node = ox.NamedNode(iri)
    except ValueError:
        assume(False)
    converter = OxConverter()
    assert converter.text(URIRef(iri)) == str(node)
    assert type(converter.text(URIRef(iri))) is str  # not an rdflib term


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.text(), st.sampled_from([None, "en", "zh-Hans", "en-GB"]),
       st.sampled_from([None, XSD + "date", XSD + "integer", XSD + "string"]))
def test_literal_text_is_pyoxigraphs(value, language, datatype):
    literal = (Literal(value, lang=language) if language
               else Literal(value, datatype=URIRef(datatype) if datatype else None))
    converter = OxConverter()
    first = converter.text(literal)
    assert first == str(converter.term(literal)) == converter.text(literal)


def test_an_iri_pyoxigraph_refuses_is_refused():
    with pytest.raises(ValueError):
        OxConverter().term(URIRef("https://w3id.org/healthcoop/id/a b"))
