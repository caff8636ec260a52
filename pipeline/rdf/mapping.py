"""Stage `mapping`: records -> a stream of RDF triples in the healthcoop model.

In:  a checked `RecordSet`, the sources, and the dataset metadata.
Out: `map_dataset()` yields `(graph_name, triple)` pairs, record by record, so the cost is
     linear and nothing needs the whole graph in memory; `origins` (a dict filled while
     mapping) tells, for each subject node we mint, the record id and the record field it
     came from, so a SHACL result can be traced back to file:line:field.

The model is docs/model.md. Every node is an IRI (no blank nodes): entities are
`hcid:<id>`, the nodes that belong to one entity are fragments of its IRI.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field

from rdflib import Literal, URIRef
from rdflib import namespace as rdflib_namespace

from pipeline.rdf import vocab
from pipeline.rdf.vocab import HC, HCID, HCTOPIC, OA, SCHEMA
from pipeline.read.record_types import (
    Agreement,
    AltLabel,
    Amount,
    DateValue,
    Event,
    Initiative,
    Organisation,
    Person,
    Place,
    Record,
    Role,
)
from pipeline.read.records import RecordSet
from pipeline.read.sources import SourceText, repair_text

# rdflib's closed namespaces, their terms kept as attributes (vocab.Terms: a record reads
# about forty of them)
DCTERMS, OWL, PROV, RDF, RDFS, SKOS, VOID, XSD = (
    vocab.Terms(getattr(rdflib_namespace, name))
    for name in ("DCTERMS", "OWL", "PROV", "RDF", "RDFS", "SKOS", "VOID", "XSD"))

Triple = tuple[URIRef, URIRef, URIRef | Literal]
DEFAULT_GRAPH = None  # records of no single source (shared actors, places) live here too


@dataclass
class Origin:
    """Where a minted subject node came from: its record and the field inside it."""

    record_id: str
    field: str = ""


@dataclass
class MappingContext:
    records: RecordSet
    sources: dict[str, SourceText]
    origins: dict[str, Origin] = field(default_factory=dict)


def entity_iri(record_id: str) -> URIRef:
    """The IRI of a record: https://w3id.org/healthcoop/id/<id>."""
    return vocab.iri(HCID_TEXT + record_id)


HCID_TEXT = str(HCID)
VOID_IN_DATASET = VOID.inDataset
DATASET_IRI = URIRef(vocab.DATASET)


def topic_iri(topic_id: str) -> URIRef:
    return HCTOPIC[topic_id]


def date_literal(value: str) -> Literal:
    """YYYY -> xsd:gYear, YYYY-MM -> xsd:gYearMonth, YYYY-MM-DD -> xsd:date."""
    datatype = {4: XSD.gYear, 7: XSD.gYearMonth, 10: XSD.date}[len(value)]
    return Literal(value, datatype=datatype)


def en(text: str) -> Literal:
    return Literal(repair_text(text), lang="en")


def map_dataset(ctx: MappingContext) -> Iterator[Triple]:
    """Every triple of the records and sources, record by record, in id order."""
    for source in sorted(ctx.sources.values(), key=lambda s: s.id):
        yield from map_source(source, ctx)
    for record in ctx.records.sorted():
        yield from map_record(record, ctx)


def map_source(source: SourceText, ctx: MappingContext) -> Iterator[Triple]:
    node = entity_iri(source.id)
    ctx.origins[str(node)] = Origin(source.id, "")
    for cls in vocab.SOURCE_CLASSES:
        yield node, RDF.type, cls
    yield node, DCTERMS.title, en(source.title)
    yield node, RDFS.label, en(source.title)
    yield node, DCTERMS.language, Literal(source.language)
    yield node, HC.sha256, Literal(source.sha256)
    yield node, HC.archivedFile, Literal(f"data/sources/{source.file}")
    if source.publisher:
        yield node, DCTERMS.publisher, entity_iri(source.publisher)
    if source.dateline:
        yield node, DCTERMS.date, date_literal(source.dateline)
    yield node, VOID_IN_DATASET, DATASET_IRI


def map_record(record: Record, ctx: MappingContext, *, evidence: bool = True
               ) -> Iterator[Triple]:
    """All triples for one record (its own node and its fragment nodes); with
    `evidence=False`, all but those of its evidence annotations (and the record's
    `hc:evidence` links to them), which is what a stub of the record needs."""
    node = entity_iri(record.id)
    ctx.origins[str(node)] = Origin(record.id, "")
    classes, specific = _classes(record)
    for cls in classes:
        yield node, RDF.type, cls
    label = record.label if record.label is not None else _role_label(record, ctx)
    yield node, RDFS.label, en(label)
    yield node, SKOS.prefLabel, en(label)
    yield from _alt_labels(node, record.alt_labels)
    if record.note:
        yield node, SKOS.editorialNote, en(record.note)
    if record.deprecated:
        yield node, OWL.deprecated, Literal(True)
        yield node, HC.deprecationReason, en(record.deprecated)
    if record.replaced_by:
        yield node, DCTERMS.isReplacedBy, entity_iri(record.replaced_by)
    yield node, VOID_IN_DATASET, DATASET_IRI
    for source_id in sorted({ev.source for ev in record.evidence}):
        yield node, DCTERMS.source, entity_iri(source_id)
    yield from specific(record, node, ctx)
    if not evidence:
        return
    for index, ev in enumerate(record.evidence):
        yield from _evidence(record, node, index, ev, ctx)


def _classes(record: Record):
    if isinstance(record, Person):
        return vocab.PERSON_CLASSES, _person
    if isinstance(record, Organisation):
        return vocab.ORGANISATION_CLASSES[record.type], _organisation
    if isinstance(record, Place):
        return vocab.PLACE_CLASSES[record.type], _place
    if isinstance(record, Role):
        return vocab.ROLE_CLASSES, _role
    if isinstance(record, Agreement):
        return vocab.AGREEMENT_CLASSES[record.type], _agreement
    if isinstance(record, Event):
        return vocab.EVENT_CLASSES[record.type], _event
    if isinstance(record, Initiative):
        return vocab.INITIATIVE_CLASSES[record.type], _initiative
    raise TypeError(f"no mapping for {type(record).__name__}")  # pragma: no cover


def _role_label(record: Record, ctx: MappingContext) -> str:
    assert isinstance(record, Role)
    person = ctx.records.records.get(record.person)
    who = person.label if person else record.person
    former = "former " if record.status == "former" else ""
    return f"{who}, {former}{record.title}"


def _alt_labels(node: URIRef, alt_labels: list[AltLabel]) -> Iterator[Triple]:
    for alt in alt_labels:
        predicate = SKOS.hiddenLabel if alt.kind == "misspelling" else SKOS.altLabel
        yield node, predicate, Literal(repair_text(alt.label), lang="en")
        if alt.note:
            yield node, SKOS.editorialNote, en(alt.note)


def _refs(node: URIRef, record: Record, *names: str) -> Iterator[Triple]:
    for name in names:
        value = getattr(record, name)
        predicate = vocab.REFERENCE_PREDICATES[name]
        for target in value if isinstance(value, list) else [value] if value else []:
            yield node, predicate, entity_iri(target)


def _topics(node: URIRef, record: Record) -> Iterator[Triple]:
    for topic in getattr(record, "topics", []):
        yield node, HC.topic, topic_iri(topic)


def _person(record: Person, node: URIRef, ctx: MappingContext) -> Iterator[Triple]:
    if record.honorific:
        yield node, vocab.FOAF.title, Literal(record.honorific)
    yield node, vocab.FOAF.name, en(record.label)
    yield from _refs(node, record, "country")


def _organisation(record: Organisation, node: URIRef, ctx: MappingContext) -> Iterator[Triple]:
    yield from _refs(node, record, "country")
    if record.part_of:
        yield node, vocab.ORG.subOrganizationOf, entity_iri(record.part_of)


def _place(record: Place, node: URIRef, ctx: MappingContext) -> Iterator[Triple]:
    yield from _refs(node, record, "country")
    if record.part_of:
        yield node, SCHEMA.containedInPlace, entity_iri(record.part_of)


def _role(record: Role, node: URIRef, ctx: MappingContext) -> Iterator[Triple]:
    yield from _refs(node, record, "person", "organisation")
    yield node, HC.roleTitle, en(record.title)
    yield node, HC.roleStatus, HC.FormerRole if record.status == "former" else HC.CurrentRole


def _agreement(record: Agreement, node: URIRef, ctx: MappingContext) -> Iterator[Triple]:
    yield from _refs(node, record, "parties", "signatories", "witnesses", "signed_at")
    if record.title:
        yield node, DCTERMS.title, en(record.title)
    if record.date:
        yield from _date(node, record, HC.date, record.date, ctx)
    if record.duration:
        yield node, HC.duration, Literal(record.duration, datatype=XSD.duration)
    if record.amount:
        yield from _amount(node, record, record.amount, ctx)
    if record.purpose:
        yield node, HC.purpose, en(record.purpose)
    yield from _topics(node, record)


def _event(record: Event, node: URIRef, ctx: MappingContext) -> Iterator[Triple]:
    yield from _refs(node, record, "locations", "hosts", "chairs", "organisers", "participants",
                     "leaders", "speakers", "invited_by", "visited")
    if record.part_of:
        yield node, SCHEMA.superEvent, entity_iri(record.part_of)
    if record.title:
        yield node, DCTERMS.title, en(record.title)
    if record.date:
        yield from _date(node, record, SCHEMA.startDate, record.date, ctx)
        yield node, SCHEMA.endDate, date_literal(record.date.value)
    if record.start_date:
        yield from _date(node, record, SCHEMA.startDate, record.start_date, ctx)
    if record.end_date:
        yield from _date(node, record, SCHEMA.endDate, record.end_date, ctx)
    if record.attendee_count:
        yield node, HC.attendeeCount, Literal(int(record.attendee_count.value))
        yield node, HC.attendeeCountQualifier, vocab.QUALIFIERS[record.attendee_count.qualifier]
    if record.purpose:
        yield node, HC.purpose, en(record.purpose)
    yield from _topics(node, record)


def _initiative(record: Initiative, node: URIRef, ctx: MappingContext) -> Iterator[Triple]:
    yield from _refs(node, record, "owners", "partners", "locations")
    if record.amount:
        yield from _amount(node, record, record.amount, ctx)
    if record.purpose:
        yield node, HC.purpose, en(record.purpose)
    yield from _topics(node, record)


def _date(node: URIRef, record: Record, predicate: URIRef, value: DateValue,
          ctx: MappingContext) -> Iterator[Triple]:
    yield node, predicate, date_literal(value.value)
    if value.resolution:
        yield node, HC.dateResolution, en(value.resolution)


def _amount(node: URIRef, record: Record, amount: Amount, ctx: MappingContext
            ) -> Iterator[Triple]:
    money = vocab.iri(f"{node}#amount")
    ctx.origins[str(money)] = Origin(record.id, "amount")
    yield node, HC.amount, money
    yield money, RDF.type, SCHEMA.MonetaryAmount
    yield money, SCHEMA.value, Literal(amount.value, datatype=XSD.decimal)
    if amount.currency:
        yield money, SCHEMA.currency, Literal(amount.currency)
    yield money, HC.amountQualifier, vocab.QUALIFIERS[amount.qualifier]
    yield money, HC.statedAs, en(amount.stated_as)


def _field_predicates(record: Record, name: str) -> tuple[URIRef, ...]:
    """The predicates a record field becomes (what an evidence quote supports, in RDF)."""
    found = vocab.REFERENCE_PREDICATES.get(name)
    if found is not None:
        return (found,)
    if name == "part_of":
        return ({"organisation": vocab.ORG.subOrganizationOf, "place": SCHEMA.containedInPlace,
                 "event": SCHEMA.superEvent}[record.kind],)
    if name == "date":
        return (HC.date,) if isinstance(record, Agreement) else (SCHEMA.startDate,
                                                                  SCHEMA.endDate)
    if name == "title":
        return (HC.roleTitle,) if isinstance(record, Role) else (DCTERMS.title,)
    return _FIELD_PREDICATES.get(name, ())


_FIELD_PREDICATES = {
    "type": (RDF.type,),
    "start_date": (SCHEMA.startDate,),
    "end_date": (SCHEMA.endDate,),
    "duration": (HC.duration,),
    "amount": (HC.amount,),
    "purpose": (HC.purpose,),
    "status": (HC.roleStatus,),
    "honorific": (vocab.FOAF.title,),
    "attendee_count": (HC.attendeeCount,),
}


def _supported(record: Record, supports) -> tuple[URIRef, ...]:
    """The sorted predicates an evidence's `supports` fields become; remembered per record
    type and fields (a few dozen combinations; sorting rdflib terms calls Python code)."""
    key = (type(record), getattr(record, "kind", ""), tuple(supports))
    found = _SUPPORTED.get(key)
    if found is None:
        found = _SUPPORTED[key] = tuple(sorted(
            {p for name in supports for p in _field_predicates(record, name)}))
    return found


_SUPPORTED: dict[tuple, tuple[URIRef, ...]] = {}


def evidence_key(source: str, quote: str, occurrence: int) -> str:
    """A short stable name for one quote: the same quote keeps the same IRI across builds,
    whatever the order of the evidence list."""
    from pipeline.read.sources import normalise_space

    digest = hashlib.sha256(f"{source}\n{normalise_space(quote)}\n{occurrence}".encode())
    return digest.hexdigest()[:12]


def _evidence(record: Record, node: URIRef, index: int, ev, ctx: MappingContext
              ) -> Iterator[Triple]:
    source = ctx.sources[ev.source]
    where = source.locate_quote(ev.quote, ev.occurrence)
    if where is None:  # checks.py has reported it; mapping only runs on checked records
        raise ValueError(f"quote not found for {record.id} evidence[{index}]")
    key = evidence_key(ev.source, ev.quote, ev.occurrence)
    ann = vocab.iri(f"{node}#evidence-{key}")
    target = vocab.iri(f"{ann}-target")
    quote_sel = vocab.iri(f"{ann}-quote")
    position = vocab.iri(f"{ann}-position")
    for sub in (ann, target, quote_sel, position):
        ctx.origins[str(sub)] = Origin(record.id, f"evidence[{index}]")
    yield node, HC.evidence, ann
    yield ann, RDF.type, OA.Annotation
    yield ann, RDF.type, HC.Evidence
    yield ann, OA.motivatedBy, OA.describing
    yield ann, OA.hasBody, node
    yield ann, OA.hasTarget, target
    yield ann, PROV.wasDerivedFrom, entity_iri(ev.source)
    for predicate in _supported(record, ev.supports):
        yield ann, HC.supportsProperty, predicate
    yield target, RDF.type, OA.SpecificResource
    yield target, OA.hasSource, entity_iri(ev.source)
    yield target, OA.hasSelector, quote_sel
    yield target, OA.hasSelector, position
    yield quote_sel, RDF.type, OA.TextQuoteSelector
    # the selector is the archived text itself, so it matches at its offsets; the repaired
    # wording, where it differs, is published beside it for people
    yield quote_sel, OA.exact, Literal(where.exact)
    if where.prefix:
        yield quote_sel, OA.prefix, Literal(where.prefix)
    if where.suffix:
        yield quote_sel, OA.suffix, Literal(where.suffix)
    readable = repair_text(where.exact)
    if readable != where.exact:
        yield ann, HC.readableQuote, Literal(readable)
    yield position, RDF.type, OA.TextPositionSelector
    yield position, OA.start, Literal(where.start, datatype=XSD.nonNegativeInteger)
    yield position, OA.end, Literal(where.end, datatype=XSD.nonNegativeInteger)
