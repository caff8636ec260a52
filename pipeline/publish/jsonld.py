"""A deterministic, streaming JSON-LD 1.1 writer with a readable, self-contained context.

In:  triples sorted by subject (pyoxigraph terms), as the publish stage produces them.
Out: a compact JSON-LD document `{"@context": {...}, "@graph": [node, ...]}`: one node object
     per subject, keys and values sorted, no remote context for a parser to fetch.

Why not rdflib's or pyoxigraph's writer: rdflib's JSON-LD output varies between runs and is
slow (see README, "Determinism"); pyoxigraph writes expanded JSON-LD. Compaction here is
deliberately simple and always safe: a value is written as a bare string only when the
context's coercion for that term turns it back into exactly the same RDF term; everything
else is written as an explicit value object (`{"@value": ..., "@language"/"@type": ...}`) or
node reference (`{"@id": ...}`). The round trip is checked in the tests with pyoxigraph and
jsonld.js.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from functools import cache
from json.encoder import encode_basestring
from typing import IO

import orjson
import pyoxigraph as ox

from pipeline.rdf.oxterms import SplitTriple
from pipeline.rdf.vocab import PREFIXES

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
XSD = "http://www.w3.org/2001/XMLSchema#"
XSD_STRING = XSD + "string"
RDF_LANGSTRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"

# term -> (compact IRI, coercion): coercion "@id" for links to nodes, an xsd type for typed
# literals, or None (literals written as value objects, except plain strings).
TERMS: dict[str, tuple[str, str | None]] = {
    # labels and notes
    "label": ("rdfs:label", None),
    "prefLabel": ("skos:prefLabel", None),
    "altLabel": ("skos:altLabel", None),
    "hiddenLabel": ("skos:hiddenLabel", None),
    "editorialNote": ("skos:editorialNote", None),
    "name": ("foaf:name", None),
    "honorific": ("foaf:title", None),
    "title": ("dct:title", None),
    "roleTitle": ("hc:roleTitle", None),
    "purpose": ("hc:purpose", None),
    "statedAs": ("hc:statedAs", None),
    "dateResolution": ("hc:dateResolution", None),
    "deprecationReason": ("hc:deprecationReason", None),
    # links between entities
    "party": ("hc:party", "@id"),
    "signatory": ("hc:signatory", "@id"),
    "witness": ("hc:witness", "@id"),
    "signedAt": ("hc:signedAt", "@id"),
    "host": ("hc:host", "@id"),
    "chair": ("hc:chair", "@id"),
    "organizer": ("schema:organizer", "@id"),
    "participant": ("hc:participant", "@id"),
    "leader": ("hc:leader", "@id"),
    "speaker": ("hc:speaker", "@id"),
    "invitedBy": ("hc:invitedBy", "@id"),
    "visited": ("hc:visited", "@id"),
    "owner": ("hc:owner", "@id"),
    "partner": ("hc:partner", "@id"),
    "location": ("schema:location", "@id"),
    "superEvent": ("schema:superEvent", "@id"),
    "containedInPlace": ("schema:containedInPlace", "@id"),
    "subOrganizationOf": ("org:subOrganizationOf", "@id"),
    "member": ("org:member", "@id"),
    "organization": ("org:organization", "@id"),
    "roleStatus": ("hc:roleStatus", "@id"),
    "country": ("hc:country", "@id"),
    "topic": ("hc:topic", "@id"),
    "amount": ("hc:amount", "@id"),
    "amountQualifier": ("hc:amountQualifier", "@id"),
    "source": ("dct:source", "@id"),
    "publisher": ("dct:publisher", "@id"),
    "isReplacedBy": ("dct:isReplacedBy", "@id"),
    "inDataset": ("void:inDataset", "@id"),
    "sameAs": ("owl:sameAs", "@id"),
    # dates and numbers
    "date": ("hc:date", None),
    "startDate": ("schema:startDate", None),
    "endDate": ("schema:endDate", None),
    "duration": ("hc:duration", "xsd:duration"),
    "value": ("schema:value", "xsd:decimal"),
    "currency": ("schema:currency", None),
    "attendeeCount": ("hc:attendeeCount", "xsd:integer"),
    # evidence (Web Annotation)
    "evidence": ("hc:evidence", "@id"),
    "supportsProperty": ("hc:supportsProperty", "@id"),
    "motivatedBy": ("oa:motivatedBy", "@id"),
    "hasBody": ("oa:hasBody", "@id"),
    "hasTarget": ("oa:hasTarget", "@id"),
    "hasSource": ("oa:hasSource", "@id"),
    "hasSelector": ("oa:hasSelector", "@id"),
    "wasDerivedFrom": ("prov:wasDerivedFrom", "@id"),
    "exact": ("oa:exact", None),
    "prefix": ("oa:prefix", None),
    "suffix": ("oa:suffix", None),
    "start": ("oa:start", "xsd:nonNegativeInteger"),
    "end": ("oa:end", "xsd:nonNegativeInteger"),
    # sources
    "sha256": ("hc:sha256", None),
    "archivedFile": ("hc:archivedFile", None),
    "language": ("dct:language", None),
}


def context() -> dict:
    """The JSON-LD context: prefixes, then terms (both sorted), as published in context.jsonld."""
    ctx: dict = {prefix: iri for prefix, iri in sorted(PREFIXES.items())}
    for term, (iri, coercion) in sorted(TERMS.items()):
        ctx[term] = {"@id": iri, "@type": coercion} if coercion else iri
    return ctx


class _Compactor:
    def __init__(self) -> None:
        # longest namespace first, so hcid: wins over a shorter prefix of the same IRI
        self.prefixes = sorted(PREFIXES.items(), key=lambda kv: -len(kv[1]))
        self.by_iri = {self.expand(iri): (term, coercion)
                       for term, (iri, coercion) in TERMS.items()}
        self._compacted: dict[str, str] = {}  # IRI -> its compact form (a shard repeats many)

    def expand(self, compact: str) -> str:
        prefix, _, local = compact.partition(":")
        return PREFIXES[prefix] + local

    def iri(self, iri: str) -> str:
        found = self._compacted.get(iri)
        if found is None:
            if len(self._compacted) > 100_000:
                self._compacted.clear()
            found = self._compacted[iri] = self._compact(iri)
        return found

    def _compact(self, iri: str) -> str:
        for prefix, ns in self.prefixes:
            if iri.startswith(ns):
                local = iri[len(ns):]
                # a compact IRI is only safe when the local part cannot be read otherwise
                if local and not local.startswith("//") and ":" not in local:
                    return f"{prefix}:{local}"
        return iri

    def key(self, predicate: str) -> tuple[str, str | None]:
        if predicate in self.by_iri:
            return self.by_iri[predicate]
        return self.iri(predicate), None

    def value(self, obj, coercion: str | None):
        if isinstance(obj, ox.NamedNode):
            compact = self.iri(obj.value)
            return compact if coercion == "@id" else {"@id": compact}
        if isinstance(obj, ox.BlankNode):
            return {"@id": f"_:{obj.value}"}
        datatype = obj.datatype.value
        if obj.language:
            return {"@language": obj.language, "@value": obj.value}
        if datatype == XSD_STRING:
            return obj.value if coercion is None else {"@value": obj.value}
        if coercion and coercion != "@id" and self.expand(coercion) == datatype:
            return obj.value
        return {"@type": self.iri(datatype), "@value": obj.value}


def _sort_key(value) -> str:
    if isinstance(value, str):  # what json.dumps gives for a string, without its overhead
        return encode_basestring(value)
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def nodes(triples: Iterable[ox.Triple]) -> Iterator[dict]:
    """Node objects, one per subject, from triples sorted by subject."""
    return split_nodes((str(t.subject), t.predicate.value, t.object) for t in triples)


def split_nodes(triples: Iterable[SplitTriple]) -> Iterator[dict]:
    """`nodes` of (subject's N-Triples form, predicate IRI, object) triples, sorted by
    subject: what the shards have at hand, without reading a pyoxigraph triple's parts
    (each read makes a new object)."""
    compactor = _Compactor()
    current = None
    props: dict[str, list] = {}
    types: list[str] = []

    def flush():
        # (an IRI's N-Triples form is the IRI in <>, a blank node's its label after _:)
        node: dict = {"@id": compactor.iri(current[1:-1]) if current[0] == "<"
                      else current}
        if types:
            node["@type"] = sorted(set(types))
        for key in sorted(props):
            found = props[key]
            if len(found) == 1:
                node[key] = found[0]
                continue
            values = sorted({_sort_key(v): v for v in found}.items())
            node[key] = [v for _, v in values] if len(values) > 1 else values[0][1]
        return node

    named = ox.NamedNode
    for subject, predicate, obj in triples:
        if subject != current:
            if current is not None:
                yield flush()
                props, types = {}, []
            current = subject
        if predicate == RDF_TYPE and isinstance(obj, named):
            types.append(compactor.iri(obj.value))
            continue
        key, coercion = compactor.key(predicate)
        props.setdefault(key, []).append(compactor.value(obj, coercion))
    if current is not None:
        yield flush()


def write(triples: Iterable[ox.Triple], out: IO[str], context_ref: dict | None = None) -> None:
    """Write the document. Nodes are streamed: memory holds one node at a time."""
    out.write('{\n  "@context": ')
    out.write(_dump(context_ref, 2) if context_ref is not None else dump_context())
    out.write(',\n  "@graph": [')
    first = True
    for node in nodes(triples):
        out.write("\n    " if first else ",\n    ")
        out.write(_dump(node, 4))
        first = False
    out.write("\n  ]\n}\n")


def dump_node(node: dict) -> str:
    """One node object as `write` writes it inside "@graph"."""
    return _dump(node, 4)


def dump_node_line(node: dict) -> str:
    """One node object on one line (the dumps: json's C encoder, several times faster than
    indented output; "</" escaped as in `write`)."""
    return json.dumps(node, ensure_ascii=False, separators=(", ", ": ")).replace("</", "<\\/")


@cache
def dump_context() -> str:
    """The inline context as `write` writes it (the same text every time: made once)."""
    return _dump(context(), 2)


def _dump(value, indent: int) -> str:
    # orjson's two-space indentation is byte for byte json.dumps(indent=2,
    # ensure_ascii=False) on what nodes hold (strings, lists, dicts; a test holds it to
    # that), at C speed: the standard library indents in pure Python. A lone surrogate,
    # which orjson refuses, goes the standard library's way.
    try:
        text = orjson.dumps(value, option=orjson.OPT_INDENT_2).decode()
    except orjson.JSONEncodeError:
        text = json.dumps(value, ensure_ascii=False, indent=2, sort_keys=False)
    # escape "</" so the document can be embedded in an HTML <script> block unchanged
    text = text.replace("</", "<\\/")
    return text.replace("\n", "\n" + " " * indent)
