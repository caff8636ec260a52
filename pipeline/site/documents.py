"""The machine-readable documents of one entity: `/doc/<id>.ttl`, `.jsonld`, `.nt`, `.nq`.

In:  the entity's quads (its own node and its fragments) and the label index.
Out: bytes per file extension: the entity's description plus the labels of what it links
     to, sorted, so that the same release always gives the same bytes.
"""

from __future__ import annotations

import io

import pyoxigraph as ox

from .. import jsonld
from ..vocab import PREFIXES
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
    """Compact JSON-LD with the inline context (pipeline/jsonld.py), nodes by subject."""
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
