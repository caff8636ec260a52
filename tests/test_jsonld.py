"""The JSON-LD writer compacts by hand, so its round trip is checked term by term: every
kind of value must come back from a strict parser as exactly the triple that went in."""

from __future__ import annotations

import io
import json

import pyoxigraph as ox
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.publish import jsonld

HCID = "https://w3id.org/healthcoop/id/"
HC = "https://w3id.org/healthcoop/ontology#"
XSD = "http://www.w3.org/2001/XMLSchema#"
S = ox.NamedNode(HCID + "thing")

AWKWARD = [
    'quote " and backslash \\ and </script><script>alert(1)</script>',
    "line\nbreak and tab\t and \u2028 separator",
    "emoji \U0001f600 and CJK 马晓伟",
    "looks:like-a-compact-iri",
    "hcid:matt-hancock",
    "@id",
    "",
]


def _round_trip(triples: list[ox.Triple]) -> set[str]:
    buffer = io.StringIO()
    jsonld.write(sorted(triples, key=lambda t: (str(t.subject), str(t.predicate), str(t.object))),
                 buffer)
    text = buffer.getvalue()
    json.loads(text)  # valid JSON
    return {str(q.triple) for q in ox.parse(text.encode(), format=ox.RdfFormat.JSON_LD)}


@pytest.mark.parametrize("text", AWKWARD)
@pytest.mark.parametrize("predicate", [HC + "purpose", HC + "party", HC + "unknownTerm",
                                       "http://example.org/p"])
def test_plain_and_language_strings_survive(text, predicate):
    """Strings with JSON/HTML-breaking characters, or that look like IRIs, stay literals -
    also under a term that coerces its values to IRIs (hc:party)."""
    triples = [
        ox.Triple(S, ox.NamedNode(predicate), ox.Literal(text)),
        ox.Triple(S, ox.NamedNode(predicate), ox.Literal(text + "x", language="en")),
    ]
    assert _round_trip(triples) == {str(t) for t in triples}


@pytest.mark.parametrize("predicate", [HC + "party", HC + "purpose", "http://example.org/p"])
@pytest.mark.parametrize("iri", [HCID + "matt-hancock", HCID + "x#evidence-0a1b",
                                 "http://www.wikidata.org/entity/Q1", "https://ror.org/0abc",
                                 "urn:isbn:123"])
def test_iris_survive_with_and_without_coercion(predicate, iri):
    """Node references come back as the same IRI whether or not the term coerces to @id."""
    triples = [ox.Triple(S, ox.NamedNode(predicate), ox.NamedNode(iri))]
    assert _round_trip(triples) == {str(t) for t in triples}


@pytest.mark.parametrize("value,datatype,predicate", [
    ("2020-05-15", "date", "https://schema.org/startDate"),
    ("2018-02", "gYearMonth", HC + "date"),
    ("2018", "gYear", HC + "date"),
    ("P5Y", "duration", HC + "duration"),
    ("5000000000", "decimal", "https://schema.org/value"),
    ("5000000000", "integer", "https://schema.org/value"),
    ("12", "nonNegativeInteger", "http://www.w3.org/ns/oa#start"),
    ("12", "string", "http://www.w3.org/ns/oa#start"),
    ("true", "boolean", "http://www.w3.org/2002/07/owl#deprecated"),
])
def test_typed_literals_keep_their_datatype(value, datatype, predicate):
    """A value whose datatype differs from the term's coercion keeps its own datatype."""
    triples = [ox.Triple(S, ox.NamedNode(predicate),
                         ox.Literal(value, datatype=ox.NamedNode(XSD + datatype)))]
    assert _round_trip(triples) == {str(t) for t in triples}


def test_types_and_multiple_values_are_sorted_and_kept():
    """Several types and values on one subject all survive, in a stable order."""
    rdf_type = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    triples = [
        ox.Triple(S, rdf_type, ox.NamedNode(HC + "Person")),
        ox.Triple(S, rdf_type, ox.NamedNode("http://xmlns.com/foaf/0.1/Person")),
        ox.Triple(S, ox.NamedNode(HC + "party"), ox.NamedNode(HCID + "b")),
        ox.Triple(S, ox.NamedNode(HC + "party"), ox.NamedNode(HCID + "a")),
    ]
    assert _round_trip(triples) == {str(t) for t in triples}
    node = next(jsonld.nodes(sorted(triples, key=str)))
    assert node["party"] == ["hcid:a", "hcid:b"]
    assert node["@type"] == sorted(node["@type"])


def test_script_end_tag_is_escaped():
    """`</script>` inside a label must not end an HTML <script> block the JSON-LD is put in."""
    buffer = io.StringIO()
    jsonld.write([ox.Triple(S, ox.NamedNode(HC + "purpose"), ox.Literal("</script>"))], buffer)
    assert "</script>" not in buffer.getvalue()


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_string_sort_key_is_the_json_dumps_key(text):
    """Values of one property are de-duplicated and ordered by their JSON text; for a plain
    string the shortcut must give exactly what json.dumps gives."""
    from pipeline.publish.jsonld import _sort_key

    assert _sort_key(text) == json.dumps(text, sort_keys=True, ensure_ascii=False)
    assert _sort_key({"@value": text}) == json.dumps({"@value": text}, sort_keys=True,
                                                     ensure_ascii=False)


NODE_VALUES = st.recursive(
    st.text() | st.booleans() | st.none() | st.integers(-2**63, 2**63 - 1),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20)


@settings(max_examples=1000, deadline=None, derandomize=True)
@given(value=NODE_VALUES)
def test_indented_output_is_what_the_standard_library_writes(value):
    """`_dump` writes with orjson for speed; its text is byte for byte the standard
    library's `json.dumps(indent=2, ensure_ascii=False)` (then `</` escaped and indented),
    control characters, U+2028 and astral characters included; and the inline context too.
    A lone surrogate, which orjson refuses, still comes out as the standard library
    writes it."""
    want = json.dumps(value, ensure_ascii=False, indent=2).replace("</", "<\\/")
    assert jsonld._dump(value, 0) == want
    assert jsonld._dump(value, 4) == want.replace("\n", "\n    ")


def test_the_context_and_a_lone_surrogate_are_written_as_the_standard_library_does():
    ctx = jsonld.context()
    assert jsonld.dump_context() == json.dumps(ctx, ensure_ascii=False, indent=2).replace(
        "\n", "\n  ")
    odd = {"@id": "x", "label": "a\ud800</b>\u2028\U0001f600\x01"}
    assert jsonld._dump(odd, 0) == json.dumps(odd, ensure_ascii=False,
                                              indent=2).replace("</", "<\\/")
