"""Read a release's N-Quads dump once and group it entity by entity for the site.

In:  `<release>/healthcoop.nq` (sorted quads, as `publish` writes them) and the ontology's
     labels (`<release>/ontology/healthcoop.ttl`).
Out: a `SiteData`: for every entity id (`https://w3id.org/healthcoop/id/<id>`, fragments
     folded into their entity) its quads, plus the small indexes a page needs about *other*
     entities: labels, kinds, inverse links, the quotes each source holds.

One pass over the dump, dictionaries keyed by id: linear in the number of quads.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

BASE = "https://w3id.org/healthcoop/"
HCID = BASE + "id/"
HC = BASE + "ontology#"
HCTOPIC = BASE + "topic/"
DATASET = BASE + "dataset"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
SKOS = "http://www.w3.org/2004/02/skos/core#"
SKOS_PREF = SKOS + "prefLabel"
OWL_DEPRECATED = "http://www.w3.org/2002/07/owl#deprecated"
OWL_SAMEAS = "http://www.w3.org/2002/07/owl#sameAs"
DCT = "http://purl.org/dc/terms/"
OA = "http://www.w3.org/ns/oa#"

# the curated id format (README, "URI policy"): anything else is never written as a file
ID_PATTERN = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
MAX_ID_LENGTH = 200

# kind of an entity, by the first of its hc: classes in this order
KINDS = (
    ("sources", HC + "Source", "Sources"),
    ("agreements", HC + "Agreement", "Agreements"),
    ("events", HC + "Event", "Events"),
    ("initiatives", HC + "Initiative", "Initiatives"),
    ("roles", HC + "Role", "Roles"),
    ("people", HC + "Person", "People"),
    ("places", HC + "Place", "Places"),
    ("organisations", HC + "Organisation", "Organisations"),
)
KIND_TITLES = {k: t for k, _, t in KINDS}
KIND_RANK = {cls: i for i, (_, cls, _) in enumerate(KINDS)}


def entity_id(iri: str) -> tuple[str, str] | None:
    """(id, fragment) of one of our entity IRIs, or None for any other IRI (or a malformed
    id, which then never becomes a file name)."""
    if not iri.startswith(HCID):
        return None
    ident, _, frag = iri[len(HCID):].partition("#")
    if len(ident) > MAX_ID_LENGTH or not ID_PATTERN.fullmatch(ident):
        return None
    return ident, frag


@dataclass
class Quote:
    """One evidence annotation, as the source page highlights it."""

    entity: str
    fragment: str  # "evidence-<hash>"
    start: int
    end: int
    exact: str


@dataclass
class SiteData:
    quads: dict[str, list[ox.Quad]] = field(default_factory=lambda: defaultdict(list))
    labels: dict[str, str] = field(default_factory=dict)  # any IRI -> its label
    label_terms: dict[str, ox.Literal] = field(default_factory=dict)  # ... as a literal
    term_labels: dict[str, str] = field(default_factory=dict)  # ontology term -> label
    kinds: dict[str, str] = field(default_factory=dict)  # id -> kind
    inverse: dict[str, list[tuple[str, str]]] = field(
        default_factory=lambda: defaultdict(list))  # id -> [(predicate, subject id)]
    quotes: dict[str, list[Quote]] = field(
        default_factory=lambda: defaultdict(list))  # source id -> quotes in it
    deprecated: dict[str, str] = field(default_factory=dict)  # id -> reason
    replaced_by: dict[str, str] = field(default_factory=dict)  # id -> successor id
    dataset: list[ox.Quad] = field(default_factory=list)  # the dataset node's quads
    topic_members: dict[str, list[str]] = field(
        default_factory=lambda: defaultdict(list))  # topic IRI -> ids filed under it


def load_site_data(release: Path) -> SiteData:
    """One pass over `<release>/healthcoop.nq`."""
    data = SiteData()
    label_rank: dict[str, tuple] = {}
    kind_rank: dict[str, int] = {}
    # evidence parts, keyed by (entity, fragment base), folded into Quotes at the end
    parts: dict[tuple[str, str], dict] = defaultdict(dict)
    for quad in ox.parse(path=str(release / "healthcoop.nq"), format=ox.RdfFormat.N_QUADS):
        s, p, o = quad.subject, quad.predicate.value, quad.object
        if not isinstance(s, ox.NamedNode):
            continue
        if p in (RDFS_LABEL, SKOS_PREF) and isinstance(o, ox.Literal):
            # rdfs:label before skos:prefLabel, English first, then the smallest: stable
            rank = (p != RDFS_LABEL, o.language not in (None, "en"), o.value)
            if s.value not in label_rank or rank < label_rank[s.value]:
                label_rank[s.value] = rank
                data.labels[s.value] = o.value
                data.label_terms[s.value] = o
        if s.value == DATASET:
            data.dataset.append(quad)
        found = entity_id(s.value)
        if found is None:
            continue
        ident, frag = found
        data.quads[ident].append(quad)
        if not frag:
            if p == RDF_TYPE and o.value in KIND_RANK:
                rank = KIND_RANK[o.value]
                if ident not in kind_rank or rank < kind_rank[ident]:
                    kind_rank[ident] = rank
                    data.kinds[ident] = KINDS[rank][0]
            if p == OWL_DEPRECATED and isinstance(o, ox.Literal) and o.value == "true":
                data.deprecated.setdefault(ident, "")
            elif p == HC + "deprecationReason" and isinstance(o, ox.Literal):
                data.deprecated[ident] = o.value
            elif p == DCT + "isReplacedBy" and isinstance(o, ox.NamedNode):
                target = entity_id(o.value)
                if target and not target[1]:
                    data.replaced_by[ident] = target[0]
            if p == HC + "topic" and o.value.startswith(HCTOPIC):
                data.topic_members[o.value].append(ident)
            if isinstance(o, ox.NamedNode) and p != RDF_TYPE:
                target = entity_id(o.value)
                if target and not target[1] and target[0] != ident:
                    data.inverse[target[0]].append((p, ident))
        elif frag.startswith("evidence-"):
            base = frag.split("-")[0] + "-" + frag.split("-")[1]
            part = parts[(ident, base)]
            if p == OA + "hasSource":
                source = entity_id(o.value)
                if source:
                    part["source"] = source[0]
            elif p == OA + "start":
                part["start"] = o.value
            elif p == OA + "end":
                part["end"] = o.value
            elif p == OA + "exact":
                part["exact"] = o.value
    for (ident, base), part in sorted(parts.items()):
        try:
            start, end = int(part["start"]), int(part["end"])
        except (KeyError, ValueError):
            continue
        if "source" in part and 0 <= start <= end:
            data.quotes[part["source"]].append(
                Quote(ident, base, start, end, part.get("exact", "")))
    for ident in data.inverse:
        data.inverse[ident] = sorted(set(data.inverse[ident]))
    for topic in data.topic_members:
        data.topic_members[topic] = sorted(set(data.topic_members[topic]))
    # deprecated entities count only when they carry owl:deprecated true
    data.replaced_by = {k: v for k, v in data.replaced_by.items() if k in data.deprecated}
    data.term_labels = ontology_labels(release)
    return data


def ontology_labels(release: Path) -> dict[str, str]:
    """English rdfs:label of every term of the release's ontology files."""
    labels: dict[str, str] = {}
    for path in sorted((release / "ontology").glob("*.ttl")):
        try:
            triples = list(ox.parse(path=str(path), format=ox.RdfFormat.TURTLE))
        except (OSError, SyntaxError, ValueError):
            continue
        for t in triples:
            if (t.predicate.value in (RDFS_LABEL, SKOS_PREF) and isinstance(t.object, ox.Literal)
                    and t.object.language in (None, "en")):
                labels.setdefault(t.subject.value, t.object.value)
    return labels
