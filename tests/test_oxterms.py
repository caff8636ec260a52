"""pipeline/rdf/oxterms.py: the N-Triples text the shards sort and key by is exactly what
pyoxigraph prints for the term, for any IRI it accepts and any literal."""

from __future__ import annotations

import pyoxigraph as ox
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from rdflib import BNode, Literal, URIRef

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


TERMS = st.one_of(
    st.builds(lambda local: URIRef("https://w3id.org/healthcoop/id/" + local),
              st.sampled_from(["a", "ax", "b", "a b", "é", ""]) | st.text(max_size=5)),
    st.builds(lambda v, lang: Literal(v, lang=lang), st.text(max_size=5),
              st.sampled_from([None, "en"])),
    st.builds(lambda v: BNode(v), st.sampled_from(["b1", "b2"])))


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.lists(st.tuples(TERMS, TERMS, TERMS), min_size=1, max_size=6))
def test_keyed_is_the_key_of_each_terms_entry(triples):
    """The shortcut for remembered IRIs gives what `entry` gives for each term, and a term
    pyoxigraph refuses in any position is refused, remembered or not."""
    converter = OxConverter()
    for s, p, o in triples + triples:  # the second time every IRI is remembered
        try:
            expected = [OxConverter().entry(t) for t in (s, p, o)]
        except (ValueError, TypeError):
            with pytest.raises((ValueError, TypeError)):
                converter.keyed(s, p, o)
            continue
        key, terms = converter.keyed(s, p, o)
        (ts, xs), (tp, xp), (to, xo) = expected
        assert key == (ts, tp != "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>", tp, to)
        assert terms == (xs, xp, xo)
