"""The ontology and topic pages: a page for every term we mint outside `/id/`.

In:  the release's `ontology/healthcoop.ttl` (terms `https://w3id.org/healthcoop/ontology#T`)
     and `ontology/topics.ttl` (concepts `https://w3id.org/healthcoop/topic/<id>` in the
     scheme `.../topic/scheme`).
Out: a `Vocabulary`: per term its kind, label, definition, comment, domain/range, super-
     classes and super-properties; per topic its label, definition, broader and narrower
     concepts. pages.py renders `ontology/index.html` (one anchor per term, the IRI's own
     fragment) and `topic/<id>.html` per concept plus `topic/scheme.html` for the scheme:
     each page sits at the path of its IRI.

Blank-node class expressions (owl:oneOf lists) are not shown; only IRIs are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from .model import HC, HCTOPIC, ID_PATTERN, RDF_TYPE, RDFS_LABEL, SKOS

RDFS = "http://www.w3.org/2000/01/rdf-schema#"
OWL = "http://www.w3.org/2002/07/owl#"
SCHEMA = "https://schema.org/"
SCHEME = HCTOPIC + "scheme"
# the anchor of a term on the ontology page: its IRI's fragment, when it is a plain name
FRAGMENT = re.compile(r"[A-Za-z][A-Za-z0-9_]*")

KIND_NAMES = {
    OWL + "Class": "class",
    OWL + "ObjectProperty": "object property",
    OWL + "DatatypeProperty": "datatype property",
    OWL + "AnnotationProperty": "annotation property",
    OWL + "NamedIndividual": "individual",
}
# (heading, predicate) of the IRI-valued facts a term's entry lists
RELATIONS = (
    ("super-classes", RDFS + "subClassOf"),
    ("super-properties", RDFS + "subPropertyOf"),
    ("domain", RDFS + "domain"),
    ("range", RDFS + "range"),
    ("used on", SCHEMA + "domainIncludes"),
    ("values", SCHEMA + "rangeIncludes"),
    ("see also", RDFS + "seeAlso"),
)


@dataclass
class Term:
    iri: str
    anchor: str
    label: str = ""
    kinds: list[str] = field(default_factory=list)
    definition: str = ""
    comment: str = ""
    relations: dict[str, list[str]] = field(default_factory=dict)  # heading -> IRIs


@dataclass
class Topic:
    iri: str
    ident: str
    label: str = ""
    definition: str = ""
    alt_labels: list[str] = field(default_factory=list)
    broader: list[str] = field(default_factory=list)
    narrower: list[str] = field(default_factory=list)
    top: bool = False


@dataclass
class Vocabulary:
    terms: dict[str, Term] = field(default_factory=dict)  # IRI -> term
    topics: dict[str, Topic] = field(default_factory=dict)  # IRI -> topic
    scheme_title: str = "Topics"
    scheme_description: str = ""
    ontology_title: str = "Ontology"
    ontology_description: str = ""

    def term_href(self, iri: str, base: str) -> str | None:
        term = self.terms.get(iri)
        return f"{base}ontology/index.html#{term.anchor}" if term else None

    def topic_href(self, iri: str, base: str) -> str | None:
        if iri == SCHEME:
            return f"{base}topic/scheme.html"
        topic = self.topics.get(iri)
        return f"{base}topic/{topic.ident}.html" if topic else None

    def href(self, iri: str, base: str) -> str | None:
        """The page of an ontology term or a topic, relative to `base`, or None."""
        return self.term_href(iri, base) or self.topic_href(iri, base)


def _triples(path: Path) -> list[ox.Triple]:
    try:
        return list(ox.parse(path=str(path), format=ox.RdfFormat.TURTLE))
    except (OSError, SyntaxError, ValueError):
        return []


def _english(current: str, literal: ox.Literal) -> str:
    """Keep the first English (or untagged) text."""
    if current or literal.language not in (None, "en"):
        return current
    return literal.value


def load_vocabulary(release: Path) -> Vocabulary:
    """Read the two ontology files of the release (missing files: an empty vocabulary)."""
    vocab = Vocabulary()
    ontology = Path(release) / "ontology"
    for t in _triples(ontology / "healthcoop.ttl"):
        s, p, o = t.subject, t.predicate.value, t.object
        if not isinstance(s, ox.NamedNode):
            continue
        if s.value == HC.rstrip("#"):
            if p == RDFS_LABEL and isinstance(o, ox.Literal):
                vocab.ontology_title = _english("", o) or vocab.ontology_title
            elif p == "http://purl.org/dc/terms/description" and isinstance(o, ox.Literal):
                vocab.ontology_description = _english(vocab.ontology_description, o)
            continue
        if not s.value.startswith(HC) or not FRAGMENT.fullmatch(s.value[len(HC):]):
            continue
        term = vocab.terms.setdefault(s.value, Term(s.value, s.value[len(HC):]))
        if isinstance(o, ox.Literal):
            if p == RDFS_LABEL:
                term.label = _english(term.label, o)
            elif p == SKOS + "definition":
                term.definition = _english(term.definition, o)
            elif p == RDFS + "comment":
                term.comment = _english(term.comment, o)
        elif isinstance(o, ox.NamedNode):
            if p == RDF_TYPE:
                term.kinds.append(KIND_NAMES.get(o.value, ""))
                if o.value.startswith(HC):  # an enumeration member: its class
                    term.relations.setdefault("member of", []).append(o.value)
            for heading, pred in RELATIONS:
                if p == pred:
                    term.relations.setdefault(heading, []).append(o.value)
    for term in vocab.terms.values():
        term.kinds = sorted({k for k in term.kinds if k})
        term.relations = {h: sorted(set(v)) for h, v in term.relations.items()}
        term.label = term.label or term.anchor
    for t in _triples(ontology / "topics.ttl"):
        s, p, o = t.subject, t.predicate.value, t.object
        if not isinstance(s, ox.NamedNode) or not s.value.startswith(HCTOPIC):
            continue
        if s.value == SCHEME:
            if p == "http://purl.org/dc/terms/title" and isinstance(o, ox.Literal):
                vocab.scheme_title = _english("", o) or vocab.scheme_title
            elif p == "http://purl.org/dc/terms/description" and isinstance(o, ox.Literal):
                vocab.scheme_description = _english(vocab.scheme_description, o)
            continue
        ident = s.value[len(HCTOPIC):]
        if not ID_PATTERN.fullmatch(ident):
            continue
        topic = vocab.topics.setdefault(s.value, Topic(s.value, ident))
        if isinstance(o, ox.Literal):
            if p == SKOS + "prefLabel":
                topic.label = _english(topic.label, o)
            elif p == SKOS + "definition":
                topic.definition = _english(topic.definition, o)
            elif p == SKOS + "altLabel" and o.language in (None, "en"):
                topic.alt_labels.append(o.value)
        elif p == SKOS + "broader" and isinstance(o, ox.NamedNode):
            topic.broader.append(o.value)
        elif p == SKOS + "topConceptOf":
            topic.top = True
    for topic in vocab.topics.values():
        topic.label = topic.label or topic.ident
        topic.alt_labels = sorted(set(topic.alt_labels))
        topic.broader = sorted(b for b in set(topic.broader) if b in vocab.topics)
        for b in topic.broader:
            vocab.topics[b].narrower.append(topic.iri)
    for topic in vocab.topics.values():
        topic.narrower = sorted(set(topic.narrower))
    return vocab
