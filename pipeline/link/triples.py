"""What the build publishes from the review file: accepted links and Wikidata labels.

In:  the project root (`data/links.yaml` and the records; `records`: the project's RecordSet
     when the caller has already read it).
Out: `link_triples` -> the accepted links as triples on the actor and place IRIs, each with a
     reified reference node; `enrichment_triples` -> the Wikidata labels that
     `healthcoop link --enrich` stored, as skos:altLabel, plus provenance about
     ENRICHMENT_GRAPH, the named graph the build puts them in. While the review file has
     errors nothing is published: `_accepted` raises InvalidData (the link set,
     pipeline.link.linkset, reads the file through it too). `accepted_links`: the file's
     entries, the entities and the file's located findings, read and checked once per
     RecordSet (the build asks four times: the checks, the links, the labels, the link set).
"""

from __future__ import annotations

import hashlib
import re
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from rdflib import Literal, URIRef
from rdflib.namespace import DCTERMS, PROV, RDF, SKOS, XSD

from pipeline.errors import InvalidData, Issue, Severity
from pipeline.rdf.vocab import HC, HCID, WD

from .common import (
    MATCH_TYPES,
    QID_TARGET,
    REVIEW_FILE,
    Entities,
    Triple,
    control_problem,
    load_entities,
    normalise,
    target_kind,
)
from .places import ISO_PAGE, ISO_PROPERTY
from .review_file import check_review_file, entry_id, read_review

ENRICHMENT_GRAPH = URIRef("https://w3id.org/healthcoop/graph/wikidata-labels")


@dataclass(frozen=True)
class AcceptedLinks:
    """The review file read and checked: its entries about an actor or a place (sorted by
    id), the entities of the records, and the file's located findings."""

    entries: list[dict]
    entities: Entities
    issues: list[Issue]


# id(RecordSet) -> (the RecordSet, weakly; (root, sha256 of the review file); AcceptedLinks),
# dropped with the records (a RecordSet compares by value, so it cannot be a dict key)
_READ: dict[int, tuple[weakref.ref, tuple[str, str], AcceptedLinks]] = {}


def accepted_links(root: Path, records=None) -> AcceptedLinks:
    """The review file read and checked against the records (`records`: the project's
    RecordSet if already read). With a RecordSet the answer is kept with it, and given
    again while the review file holds the bytes it was read from; the callers only read
    it."""
    path = Path(root) / REVIEW_FILE
    try:
        stamp = (str(root), hashlib.sha256(path.read_bytes()).hexdigest())
    except OSError:
        stamp = None  # missing or unreadable: read_review says which, every time
    if records is not None and stamp is not None:
        known = _READ.get(id(records))
        if known is not None and known[0]() is records and known[1] == stamp:
            return known[2]
    entities = load_entities(root, records)
    review = read_review(root)
    issues = check_review_file(root, entities, review)
    entries = sorted((e for e in review.entries if isinstance(e, dict) and entry_id(e)),
                     key=entry_id)
    found = AcceptedLinks(entries, entities, issues)
    if records is not None and stamp is not None:
        key = id(records)
        if key not in _READ:
            weakref.finalize(records, _READ.pop, key, None)
        _READ[key] = (weakref.ref(records), stamp, found)
    return found


def _accepted(root: Path, records=None) -> tuple[list[dict], Entities]:
    """(entries, entities), after checking the file; errors stop publication. `records`: the
    project's RecordSet if already read."""
    found = accepted_links(root, records)
    errors = [i for i in found.issues if i.severity == Severity.ERROR]
    if errors:
        raise InvalidData(f"{len(errors)} error(s) in {REVIEW_FILE}; no links published.",
                          issues=errors,
                          fix="Fix the review file (docs/linking.md), then build again.")
    return found.entries, found.entities


def _accepted_candidates(entry: dict) -> list[dict]:
    cands = entry.get("candidates")
    return [c for c in cands if isinstance(c, dict) and c.get("decision") == "accepted"] \
        if isinstance(cands, list) else []


def _pycountry_page(release: str) -> URIRef | None:
    """The PyPI page of the pycountry release an ISO code was read from."""
    found = re.match(r"^pycountry ([0-9][0-9A-Za-z.]{0,30})\b", release or "")
    return URIRef(f"https://pypi.org/project/pycountry/{found.group(1)}/") if found else None


def link_triples(root: Path, records=None) -> Iterator[Triple]:
    """Accepted links as triples on the actor and place IRIs, each with a reified reference
    node: Wikidata (owl:sameAs or a SKOS match), ROR (hc:rorId, or a SKOS match when not the
    same body) and ISO 3166-1 codes (schema:identifier, a schema:PropertyValue)."""
    entries, _ = _accepted(root, records)
    for entry in entries:
        subject = HCID[entry_id(entry)]
        for cand in _accepted_candidates(entry):
            target_id = cand["target"]
            kind = target_kind(target_id)
            match_type = cand.get("match_type") or "exact"
            if kind == "iso":
                yield from _iso_triples(subject, cand)
                continue
            if kind == "ror":
                node = URIRef(f"{subject}#ror-link")
                target = URIRef(target_id)
                predicate = HC.rorId if match_type == "exact" else MATCH_TYPES[match_type]
            else:
                node = URIRef(f"{subject}#wikidata-link")
                target = WD[target_id]
                predicate = MATCH_TYPES[match_type]
            yield subject, predicate, target
            yield subject, HC.link, node
            yield node, RDF.type, HC.Link
            yield node, HC.target, target
            yield node, HC.matchType, predicate
            if cand.get("match_reason"):
                yield node, HC.matchReason, Literal(cand["match_reason"], lang="en")
            yield node, HC.reference, URIRef(cand["reference"])
            if cand.get("reference_release"):
                yield node, HC.referenceRelease, Literal(cand["reference_release"])
            if cand.get("checked_revision"):
                yield node, HC.checkedRevision, Literal(int(cand["checked_revision"]),
                                                        datatype=XSD.integer)
            if cand.get("retrieved_on"):
                yield node, HC.retrievedOn, Literal(cand["retrieved_on"], datatype=XSD.date)
            yield node, HC.method, Literal(cand.get("method") or "manual")
            yield node, HC.reviewer, Literal(cand["reviewer"])
            yield node, HC.decisionDate, Literal(cand["decision_date"], datatype=XSD.date)


def _iso_triples(subject: URIRef, cand: dict) -> Iterator[Triple]:
    """An ISO 3166-1 code: `schema:identifier` with its reference, release and review."""
    from pipeline.rdf.vocab import SCHEMA

    code = cand["target"].split(":", 1)[1]
    node = URIRef(f"{subject}#iso-3166-1")
    yield subject, SCHEMA.identifier, node
    yield node, RDF.type, SCHEMA.PropertyValue
    yield node, SCHEMA.propertyID, Literal(ISO_PROPERTY)
    yield node, SCHEMA.value, Literal(code)
    yield node, SCHEMA.url, URIRef(ISO_PAGE + code)
    yield node, DCTERMS.source, URIRef(cand["reference"])
    page = _pycountry_page(cand.get("reference_release") or "")
    if page is not None:
        yield node, PROV.wasDerivedFrom, page
    if cand.get("reference_release"):
        yield node, SCHEMA.version, Literal(cand["reference_release"])
    if cand.get("retrieved_on"):
        yield node, DCTERMS.date, Literal(cand["retrieved_on"], datatype=XSD.date)
    yield node, DCTERMS.contributor, Literal(cand["reviewer"])
    yield node, DCTERMS.dateAccepted, Literal(cand["decision_date"], datatype=XSD.date)


_ZH_TAGS = {"zh": "zh", "zh-hans": "zh-Hans", "zh-hant": "zh-Hant", "zh-cn": "zh-CN",
            "zh-hk": "zh-HK", "zh-tw": "zh-TW"}


def enrichment_triples(root: Path, records=None) -> Iterator[Triple]:
    """Chinese and English labels from Wikidata for accepted links, as `skos:altLabel`, plus
    provenance about the graph (ENRICHMENT_GRAPH) that the build puts them in."""
    entries, _ = _accepted(root, records)
    sources: list[URIRef] = []
    for entry in entries:
        subject = HCID[entry_id(entry)]
        label = entry.get("label")
        ours = normalise(label) if isinstance(label, str) else ""
        for cand in _accepted_candidates(entry):
            enrichment = cand.get("enrichment")
            if not QID_TARGET.match(cand["target"]) or not isinstance(enrichment, dict):
                continue
            labels = enrichment.get("labels") or {}
            if not isinstance(labels, dict):
                continue
            seen = set()
            for lang in ("en", *_ZH_TAGS):
                text = labels.get(lang)
                if not isinstance(text, str) or not text.strip() or control_problem(text):
                    continue
                tag = "en" if lang == "en" else _ZH_TAGS[lang]
                if (lang == "en" and normalise(text) == ours) or (text, tag) in seen:
                    continue
                seen.add((text, tag))
                yield subject, SKOS.altLabel, Literal(text, lang=tag)
            sources.append(WD[cand["target"]])
    if not sources:
        return
    graph = ENRICHMENT_GRAPH
    yield graph, RDF.type, PROV.Entity
    yield graph, DCTERMS.title, Literal("Labels from Wikidata for linked actors", lang="en")
    yield graph, DCTERMS.source, URIRef("https://www.wikidata.org/")
    yield graph, DCTERMS.license, URIRef("http://creativecommons.org/publicdomain/zero/1.0/")
    yield graph, PROV.wasAttributedTo, URIRef("https://www.wikidata.org/")
    for source in sorted(set(sources)):
        yield graph, PROV.wasDerivedFrom, source
