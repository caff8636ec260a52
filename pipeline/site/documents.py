"""The machine-readable documents: `/doc/<id>.ttl`, `.jsonld`, `.nt`, `.nq` of one entity,
and those of the ontology (`/ontology/healthcoop.*`), the topic scheme (`/topic/scheme.*`)
and each topic (`/topic/<id>.*`), where `/id/<id>`, `/ontology` and `/topic/<id>` lead.

In:  the entity's quads (its own node and its fragments) and the label index; for the
     vocabularies, the release's `ontology/healthcoop.ttl` and `ontology/topics.ttl`.
Out: bytes per file extension: the description plus the labels of what it links to,
     sorted, blank nodes named in file order, so that the same release always gives the
     same bytes.
"""

from __future__ import annotations

import io
from pathlib import Path

import pyoxigraph as ox

from pipeline.publish import jsonld
from pipeline.rdf.vocab import PREFIXES

from .model import RDFS_LABEL, SiteData

LABEL = ox.NamedNode(RDFS_LABEL)
# as the release's Turtle: our entity IRIs written in full, so fragments need no escape
TURTLE_PREFIXES = {k: v for k, v in PREFIXES.items() if k != "hcid"}
MEDIA_TYPES = {
    "html": "text/html; charset=utf-8",
    "ttl": "text/turtle; charset=utf-8",
    "jsonld": "application/ld+json; charset=utf-8",
    "nt": "application/n-triples; charset=utf-8",
    "nq": "application/n-quads; charset=utf-8",
}


def entity_triples(ident: str, data: SiteData) -> tuple[list[ox.Triple], list[ox.Quad]]:
    """The entity's triples (union of its graphs) and quads, each with the labels of the
    IRIs it links to; both sorted by their N-Triples / N-Quads form."""
    quads = data.quads.get(ident, [])
    triples = {ox.Triple(q.subject, q.predicate, q.object) for q in quads}
    own = {t.subject for t in triples}
    extra = set()
    for t in triples:
        o = t.object
        if isinstance(o, ox.NamedNode) and o not in own and o.value in data.label_terms:
            extra.add(ox.Triple(o, LABEL, data.label_terms[o.value]))
    all_triples = sorted(triples | extra, key=str)
    all_quads = sorted({*quads, *(ox.Quad(t.subject, t.predicate, t.object) for t in extra)},
                       key=str)
    return all_triples, all_quads


def entity_documents(ident: str, data: SiteData) -> dict[str, bytes]:
    """{extension: bytes} for ttl, jsonld, nt and nq."""
    triples, quads = entity_triples(ident, data)
    jsonld_text = jsonld_document(triples)
    return {
        "ttl": ox.serialize(triples, format=ox.RdfFormat.TURTLE, prefixes=TURTLE_PREFIXES),
        "nt": ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES),
        "nq": ox.serialize(quads, format=ox.RdfFormat.N_QUADS),
        "jsonld": jsonld_text.encode("utf-8"),
    }


def jsonld_document(triples: list[ox.Triple]) -> str:
    """Compact JSON-LD with the inline context (pipeline/publish/jsonld.py), nodes by subject."""
    out = io.StringIO()
    jsonld.write(sorted(triples, key=lambda t: (str(t.subject), str(t.predicate),
                                                str(t.object))), out)
    return out.getvalue()


def script_safe(json_text: str) -> str:
    """JSON text that can sit inside an HTML <script> element: `<`, `>` and `&` become
    `\\u003c`, `\\u003e`, `\\u0026`. JSON allows these escapes only inside strings, which is
    the only place those characters can occur in JSON, so the data is unchanged.
    (`json.dumps` escapes none of them: a label `</script>` would end the element.)"""
    return (json_text.replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("&", "\\u0026"))


# --- the ontology and the topic scheme -------------------------------------------------
TOPIC_GRAPH = "https://w3id.org/healthcoop/graph/topics"  # the topics' graph in the dumps
SKOS = "http://www.w3.org/2004/02/skos/core#"
# what names an IRI in a topic document: the labels of the concepts and the scheme it links
NAMING = {RDFS_LABEL, SKOS + "prefLabel", "http://purl.org/dc/terms/title"}
# a concept's links that another concept or the scheme holds (its narrower concepts, the
# scheme's top concepts): part of the concept's document, as inverse links are of a page
TOWARDS = {SKOS + "broader", SKOS + "hasTopConcept", SKOS + "narrower"}


def read_turtle(path: Path) -> list[ox.Triple]:
    """The triples of a Turtle file in file order, blank nodes renamed b0, b1, ... in order
    of first appearance (the parser's own names are random: the documents would differ
    from build to build); an unreadable or missing file: no triples."""
    try:
        quads = list(ox.parse(path=str(path), format=ox.RdfFormat.TURTLE))
    except (OSError, SyntaxError, ValueError):
        return []
    names: dict[str, ox.BlankNode] = {}

    def term(t):
        if isinstance(t, ox.BlankNode):
            return names.setdefault(t.value, ox.BlankNode(f"b{len(names)}"))
        return t

    return [ox.Triple(term(q.subject), q.predicate, term(q.object)) for q in quads]


def graph_documents(triples: list[ox.Triple], graph: str | None) -> dict[str, bytes]:
    """{extension: bytes} for ttl, jsonld, nt and nq of a set of triples, sorted (the
    N-Quads in `graph`, or the default graph when None)."""
    triples = sorted(set(triples), key=str)
    name = ox.NamedNode(graph) if graph else ox.DefaultGraph()
    quads = [ox.Quad(t.subject, t.predicate, t.object, name) for t in triples]
    return {
        "ttl": ox.serialize(triples, format=ox.RdfFormat.TURTLE, prefixes=TURTLE_PREFIXES),
        "nt": ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES),
        "nq": ox.serialize(quads, format=ox.RdfFormat.N_QUADS),
        "jsonld": jsonld_document(triples).encode("utf-8"),
    }


def vocabulary_documents(release: Path, topics: dict[str, str]) -> dict[str, bytes]:
    """{path under site/: bytes}: the ontology as `ontology/healthcoop.ttl` (the release's
    file as it is, comments and all) and `.jsonld`, `.nt`, `.nq`; the whole topic scheme
    as `topic/scheme.ttl` (likewise) and the other three; per concept (`topics`: IRI -> id,
    the concepts that have a page) `topic/<id>.ttl|.jsonld|.nt|.nq`: what the scheme says
    about it, the links other concepts and the scheme hold to it, and the labels of what
    it links to. Topic N-Quads are in the dumps' topics graph; the ontology's in the
    default graph (the dumps do not hold it)."""
    out: dict[str, bytes] = {}
    ontology = Path(release) / "ontology"
    for path, stem, graph in ((ontology / "healthcoop.ttl", "ontology/healthcoop", None),
                              (ontology / "topics.ttl", "topic/scheme", TOPIC_GRAPH)):
        triples = read_turtle(path)
        if not triples:
            continue
        docs = graph_documents(triples, graph)
        docs["ttl"] = path.read_bytes()
        out.update({f"{stem}.{ext}": body for ext, body in docs.items()})
        if stem != "topic/scheme":
            continue
        names: dict[str, list[ox.Triple]] = {}
        for t in triples:
            if t.predicate.value in NAMING and isinstance(t.subject, ox.NamedNode):
                names.setdefault(t.subject.value, []).append(t)
        for iri, ident in sorted(topics.items(), key=lambda kv: kv[1]):
            own = [t for t in triples if t.subject.value == iri
                   or (isinstance(t.object, ox.NamedNode) and t.object.value == iri
                       and t.predicate.value in TOWARDS
                       and isinstance(t.subject, ox.NamedNode))]
            linked = {n.value for t in own for n in (t.subject, t.object)
                      if isinstance(n, ox.NamedNode) and n.value != iri}
            labels = [t for other in sorted(linked) for t in names.get(other, [])]
            out.update({f"topic/{ident}.{ext}": body
                        for ext, body in graph_documents(own + labels, graph).items()})
    return out
