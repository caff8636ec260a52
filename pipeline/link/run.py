"""Stage `link`: our persons, organisations and places -> reviewed links to Wikidata, ROR
and ISO 3166.

In:  the actor and place records, the review file `data/links.yaml`, the ROR copy
     `data/reference/ror/` (pipeline.link_ror), pycountry's ISO 3166-1 list
     (pipeline.link_places), and the Wikidata action API (through `pipeline.wikidata`,
     cached; `--offline` = cache only).
Out: `data/links.yaml` rewritten with proposals (human decisions kept; an unchanged file is not
     touched), and, for the build: `link_triples` (accepted links, each with its reference),
     `enrichment_triples` (Wikidata labels for a separate named graph), `linkset_files` (the
     SSSOM link set) and `check_review_file` (located issues, pipeline.link_review).

Facts come from sources, not memory: a QID or ROR id enters the review file only from an API
response (reference: the Wikidata item page and its revision id), from a ROR record that
lists it (reference: https://ror.org/<id> and the ROR release), or by hand with the public
page or data file where a person saw it. Nothing is accepted from Wikidata automatically;
the only automatic acceptance is a ROR record whose name matches ours exactly (after
case/punctuation normalisation), in the same country, of a compatible type, active, and the
only such record (reviewer `ror-exact-match`, reason recorded). Text from Wikidata with
control characters is refused, as in records. docs/linking.md explains the review workflow.
"""

from __future__ import annotations

import io
import re
import sys
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from rapidfuzz import fuzz
from rdflib import Literal, URIRef
from rdflib.namespace import DCTERMS, PROV, RDF, SKOS, XSD

from ..errors import InvalidData, IssueList, Severity
from ..vocab import HC, HCID, WD
from ..yamlfile import load_yaml
from .client import (
    DEFAULT_CONTACT,
    DEFAULT_ENDPOINT,
    QID_PATTERN,
    Clock,
    EntityResult,
    OfflineMiss,
    ResponseCache,
    RetryPolicy,
    WikidataClient,
    WikidataUnavailable,
    check_user_agent,
    claim_values,
    entity_aliases,
    entity_description,
    entity_labels,
    user_agent,
)
from .common import _PART_OF_COUNTRY as _PART_OF_COUNTRY
from .common import (  # noqa: F401 - re-exported: `from pipeline.link import ...`
    AMBIGUITY_MARGIN,
    AUTO_REVIEWER,
    DATE_PATTERN,
    DECISIONS,
    MATCH_TYPES,
    MAX_CANDIDATES,
    PROPOSE_AT,
    QID_TARGET,
    REVIEW_FILE,
    ROR_DIR,
    ROR_PATTERN,
    ROR_README,
    ROR_SELECTION,
    ROR_SUBSET,
    SEARCH_LIMIT,
    SKOS_CURIES,
    STATE_VALUE,
    STATUSES,
    WIKIDATA_PAGE,
    Actor,
    ActorName,
    Entities,
    Triple,
    _country,
    _fmt,
    control_problem,
    country_code,
    folded_forms,
    load_entities,
    name_similarity,
    normalise,
    target_kind,
    terminal_safe,
)
from .places import ISO_AGENCY, ISO_PAGE, ISO_PROPERTY, iso_candidates
from .review_file import (  # noqa: F401 - re-exported
    CANDIDATE_KEYS,
    ENTRY_KEYS,
    HUMAN_KEYS,
    MACHINE_KEYS,
    REVIEW_HEADER,
    ReviewFile,
    _is_date,
    atomic_write,
    check_review_file,
    entry_id,
    read_review,
    render_review,
    structure_issues,
)
from .ror import (  # noqa: F401 - re-exported
    ROR_FUZZY_CUTOFF,
    ROR_MAX_CANDIDATES,
    RorIndex,
    RorMatch,
    RorRecord,
    Vocabulary,
    load_ror,
    read_selection,
    ror_candidates,
    select_records,
    write_subset,
)

SSSOM_FILE = "links.sssom.tsv"
ENRICHMENT_GRAPH = URIRef("https://w3id.org/healthcoop/graph/wikidata-labels")
LINKSET_ID = "https://w3id.org/healthcoop/linkset"
NAME_WEIGHT, TYPE_WEIGHT, COUNTRY_WEIGHT = 0.6, 0.25, 0.15
POSITION_BONUS = 0.05
_atomic_write = atomic_write


def _load_actors(root: Path) -> list[Actor]:
    """Persons and organisations from the records, sorted by id (tombstones left out)."""
    return load_entities(root).actors


def clean_wikidata_text(text: Any) -> tuple[str, str]:
    """(text, '') for Wikidata text we may write, or ('', why) when it holds a control
    character or a lone surrogate: refused, as records refuse them."""
    if not isinstance(text, str):
        return "", "not text"
    problem = control_problem(text)
    if problem:
        return "", f"refused: it contains {problem}"
    return text, ""


# --- text helpers -------------------------------------------------------------------------------

def _script_language(text: str) -> str:
    """The search language for a name, from its script (records do not tag languages)."""
    for ch in text:
        name = unicodedata.name(ch, "")
        if "HANGUL" in name:
            return "ko"
        if "HIRAGANA" in name or "KATAKANA" in name:
            return "ja"
    if any("CJK" in unicodedata.name(ch, "") for ch in text):
        return "zh"
    return "en"


def _name_part(similarity: float) -> float:
    """Similarity -> the name part of a Wikidata score: 100 -> 1, 90 -> 0.5, 80 or less -> 0."""
    return max(0.0, min(1.0, (similarity - 80) / 20))



# --- types --------------------------------------------------------------------------------------

# families of Wikidata classes, recognised by words in the English label of a P31 value
_FAMILY_PATTERNS = {
    "person": [r"^human$"],
    "government": [r"\bgovernment", r"\bministry\b", r"\bministries\b", r"\bdepartment\b",
                   r"\bagency\b", r"\bcommission\b", r"\badministration\b", r"\bregulat",
                   r"\bauthority\b", r"\bpublic body\b", r"\bexecutive\b", r"\bcabinet\b",
                   r"\bstate council\b", r"\bpublic administration\b"],
    "company": [r"\bcompany\b", r"\bbusiness\b", r"\benterprise\b", r"\bcorporation\b",
                r"\bconglomerate\b", r"\bsubsidiary\b", r"\bstartup\b", r"\bfirm\b",
                r"\bholding\b"],
    "education": [r"\buniversity\b", r"\bcollege\b", r"\bhigher education\b",
                  r"\bmedical school\b", r"\bschool\b", r"\bacademic\b"],
    "hospital": [r"\bhospital\b", r"\bmedical cent(er|re)\b", r"\bclinic\b",
                 r"\bhealth ?care\b", r"\bhealth service\b", r"\bhealth system\b"],
    "research": [r"\bresearch\b", r"\blaboratory\b", r"\binstitute\b", r"\bacademy\b"],
    "association": [r"\bassociation\b", r"\bsociety\b", r"\bnon-?profit\b", r"\bfoundation\b",
                    r"\bcouncil\b", r"\bchamber of commerce\b", r"\bnon-governmental\b",
                    r"\bngo\b", r"\bcharity\b", r"\balumni\b"],
    "international": [r"\binternational organi[sz]ation\b", r"\bintergovernmental\b",
                      r"\bunited nations\b"],
    "media": [r"\bnewspaper\b", r"\bnews\b", r"\bmedia\b", r"\bpublisher\b", r"\bbroadcast",
              r"\bmagazine\b", r"\bperiodical\b"],
    # things that are never an actor of ours
    "thing": [r"\bfilm\b", r"\balbum\b", r"\bsong\b", r"\bbook\b", r"\bbuilding\b", r"\bcity\b",
              r"\btown\b", r"\bvillage\b", r"\briver\b", r"\bmountain\b", r"\bship\b",
              r"\bracehorse\b", r"\bhorse\b", r"\bpainting\b", r"\btelevision series\b",
              r"\bepisode\b", r"\btaxon\b", r"\bscholarly article\b", r"\basteroid\b",
              r"\bstreet\b", r"\broad\b", r"\bfictional\b", r"\bfamily name\b",
              r"\bgiven name\b", r"\bdisambiguation\b", r"\bwikimedia\b", r"\bsculpture\b",
              r"\bvideo game\b", r"\bbuilding\b", r"\bstation\b"],
}
_RECORD_FAMILIES = {
    "person": {"person"},
    "government": {"government"},
    "ministry": {"government"},
    "government-agency": {"government"},
    "regulator": {"government"},
    "company": {"company"},
    "university": {"education"},
    "college": {"education"},
    "hospital": {"hospital"},
    "health-service": {"hospital", "government"},
    "research-institute": {"research", "education"},
    "association": {"association"},
    "business-council": {"association"},
    "international-organisation": {"international", "association"},
    "media-organisation": {"media", "company"},
}


def _families(class_label: str) -> set[str]:
    text = class_label.casefold()
    return {fam for fam, pats in _FAMILY_PATTERNS.items() if any(re.search(p, text) for p in pats)}


def type_state(actor: Actor, class_labels: list[str]) -> tuple[str, str]:
    """(compatible | incompatible | unknown, explanation) for the P31 class labels."""
    if not class_labels:
        return "unknown", "no P31 (instance of) statement"
    shown = ", ".join(f"'{c}'" for c in class_labels)
    hit: set[str] = set()
    for label in class_labels:
        hit |= _families(label)
    wanted = _RECORD_FAMILIES.get(actor.type, set())
    if actor.kind == "person":
        if "person" in hit:
            return "compatible", f"P31 instance of {shown}: a person must be human"
        return "incompatible", f"P31 instance of {shown}: a person must be human"
    if "person" in hit:
        return "incompatible", f"P31 instance of {shown}: a human, but the record is an " \
                               f"organisation ({actor.type})"
    if hit & wanted:
        return "compatible", f"P31 instance of {shown} fits {actor.type}"
    if hit:
        return "incompatible", f"P31 instance of {shown} does not fit {actor.type}"
    return "unknown", f"P31 instance of {shown}: not recognised as fitting {actor.type} or not"


# --- Wikidata candidates ------------------------------------------------------------------------

@dataclass
class WikidataOutcome:
    candidates: list[dict] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)
    searched: list[str] = field(default_factory=list)
    error: str = ""
    entities: dict[str, EntityResult] = field(default_factory=dict)


class _Resolver:
    """English labels and aliases of the items that claims point at (classes, countries)."""

    def __init__(self, client: WikidataClient):
        self.client = client
        self.known: dict[str, tuple[str, list[str]]] = {}

    def resolve(self, ids: Iterable[str], misses: list[str]) -> None:
        wanted = sorted({i for i in ids if i not in self.known})
        if not wanted:
            return
        try:
            results = self.client.get_entities(wanted, languages=("en",),
                                               props=("labels", "aliases"))
        except OfflineMiss as miss:
            misses.append(miss.description)
            return
        for qid, res in results.items():
            if res.status == "missing":
                self.known[qid] = ("", [])
                continue
            labels = entity_labels(res.entity)
            aliases = [a for lang, a in entity_aliases(res.entity) if lang == "en"]
            self.known[qid] = (labels.get("en", ""), aliases)

    def label(self, qid: str) -> str:
        return self.known.get(qid, ("", []))[0]

    def names(self, qid: str) -> list[str]:
        label, aliases = self.known.get(qid, ("", []))
        return [n for n in [label, *aliases] if n]


def _search_names(actor: Actor) -> list[tuple[str, str]]:
    """(text, language) to search: the label, then alternative labels; English first."""
    seen = set()
    english, other = [], []
    for name in actor.names:
        if name.kind == "misspelling":
            continue
        key = normalise(name.text)
        if not key or key in seen:
            continue
        seen.add(key)
        lang = _script_language(name.text)
        (english if lang == "en" else other).append((name.text, lang))
    return english + other


def wikidata_candidates(actor: Actor, client: WikidataClient, resolver: _Resolver,
                        today: str) -> WikidataOutcome:
    """Search Wikidata by every name, fetch the hits, score them; candidates >= PROPOSE_AT."""
    outcome = WikidataOutcome()
    found_by: dict[str, list[str]] = {}
    for text, lang in _search_names(actor):
        try:
            result = client.search(text, lang, limit=SEARCH_LIMIT)
        except OfflineMiss as miss:
            outcome.misses.append(miss.description)
            continue
        outcome.searched.append(f"'{text}' ({lang})")
        for hit in result.hits:
            how = f"search '{text}' ({lang}) matched {hit.match_type or 'a name'}"
            if hit.match_text:
                how += f" '{hit.match_text}' ({hit.match_language or lang})"
            found_by.setdefault(hit.id, []).append(how)
    if not found_by:
        return outcome
    try:
        entities = client.get_entities(found_by)
    except OfflineMiss as miss:
        outcome.misses.append(miss.description)
        return outcome
    outcome.entities = entities
    related = set()
    for res in entities.values():
        if res.status == "found":
            for prop in ("P31", "P17", "P27", "P39", "P159"):
                related.update(v for v in claim_values(res.entity, prop)
                               if isinstance(v, str) and QID_PATTERN.match(v))
    resolver.resolve(related, outcome.misses)
    for qid, res in entities.items():
        if res.status != "found":
            continue  # a search hit that is gone by now
        cand = _score_entity(actor, res, resolver, found_by.get(qid, []), today)
        if cand is not None:
            outcome.candidates.append(cand)
    outcome.candidates.sort(key=lambda c: (-float(c["score"]), _qid_key(c["target"])))
    outcome.candidates = outcome.candidates[:MAX_CANDIDATES]
    return outcome


def _score_entity(actor: Actor, res: EntityResult, resolver: _Resolver, found_by: list[str],
                  today: str) -> dict | None:
    entity = res.entity
    labels = entity_labels(entity)
    aliases = entity_aliases(entity)
    theirs = [("label", lang, text) for lang, text in sorted(labels.items())]
    theirs += [("alias", lang, text) for lang, text in aliases]
    best = (0.0, None, None)
    for name in actor.names:
        if name.kind == "misspelling":
            continue
        for where, lang, text in theirs:
            score = name_similarity(name.text, text)
            if score > best[0]:
                best = (score, name, (where, lang, text))
    name_score, ours, match = best
    evidence = []
    if ours is None:
        evidence.append("name: no label or alias of the item resembles ours")
    else:
        evidence.append(f"name {name_score:.0f}/100 (rapidfuzz): our {ours.kind} '{ours.text}' "
                        f"~ Wikidata {match[0]} ({match[1]}) '{match[2]}'")
    classes = [resolver.label(q) or q for q in claim_values(entity, "P31")
               if QID_PATTERN.match(str(q))]
    tstate, texplain = type_state(actor, [c for c in classes if c])
    evidence.append(f"type {tstate}: {texplain}")
    cstate, cexplain = _country_state(actor, entity, resolver)
    evidence.append(f"country {cstate}: {cexplain}")
    bonus = 0.0
    if actor.kind == "person" and actor.roles:
        for q in claim_values(entity, "P39"):
            for title in actor.roles:
                for held in resolver.names(str(q)):
                    if fuzz.token_set_ratio(normalise(title), normalise(held)) >= 85:
                        bonus = POSITION_BONUS
                        evidence.append(f"position: P39 position held '{held}' ({q}) ~ our role "
                                        f"title '{title}'")
                        break
                if bonus:
                    break
            if bonus:
                break
    for prop, what in (("P571", "inception"), ("P159", "headquarters")):
        values = claim_values(entity, prop)
        if values:
            shown = [resolver.label(v) or v if QID_PATTERN.match(str(v)) else str(v)
                     for v in values[:3]]
            evidence.append(f"{prop} {what}: {', '.join(shown)}")
    sitelinks = entity.get("sitelinks") or {}
    if sitelinks:
        evidence.append(f"sitelinks: {len(sitelinks)}")
    evidence.extend(f"found by {how}" for how in found_by[:3])
    name_part = _name_part(name_score)
    total = (NAME_WEIGHT * name_part + TYPE_WEIGHT * STATE_VALUE[tstate]
             + COUNTRY_WEIGHT * STATE_VALUE[cstate] + bonus)
    caps = []
    if tstate == "incompatible":
        total = min(total, 0.4)
        caps.append("capped at 0.4: wrong type")
    if cstate == "inconsistent":
        total = min(total, 0.7)
        caps.append("capped at 0.7: another country")
    total = round(min(total, 1.0), 3)
    evidence.append(
        f"score = {NAME_WEIGHT} x name {name_part:.2f} + {TYPE_WEIGHT} x type "
        f"{STATE_VALUE[tstate]:.1f} + {COUNTRY_WEIGHT} x country {STATE_VALUE[cstate]:.1f}"
        + (f" + position {bonus:.2f}" if bonus else "")
        + (f" ({'; '.join(caps)})" if caps else "") + f" = {total:.3f}")
    if total < PROPOSE_AT:
        return None
    label, label_problem = clean_wikidata_text(labels.get("en") or "")
    if not label:  # the English label is missing or refused: the first usable other one
        label = next((text for _, text in sorted(labels.items())
                      if not clean_wikidata_text(text)[1]), "")
    description, description_problem = clean_wikidata_text(entity_description(entity))
    if label_problem and labels.get("en"):
        evidence.append(f"Wikidata's English label {label_problem}")
    if description_problem:
        evidence.append(f"Wikidata's description {description_problem}")
    return {
        "target": res.requested,
        "label": label,
        "description": description,
        "score": _fmt(total),
        "method": "wikidata-search",
        "match_type": "exact",
        "evidence": [terminal_safe(line) for line in evidence],
        "reference": WIKIDATA_PAGE + res.requested,
        "checked_revision": str(res.revision) if res.revision is not None else "",
        "retrieved_on": res.retrieved[:10] or today,
        "decision": "proposed",
    }


def _country_state(actor: Actor, entity: dict, resolver: _Resolver) -> tuple[str, str]:
    prop = "P27" if actor.kind == "person" else "P17"
    what = "country of citizenship" if prop == "P27" else "country"
    values = [v for v in claim_values(entity, prop) if QID_PATTERN.match(str(v))]
    if not values:
        return "unknown", f"no {prop} ({what}) statement"
    shown = ", ".join(f"'{resolver.label(v) or v}' ({v})" for v in values)
    if not actor.country:
        return "unknown", f"{prop} {what} {shown}; the record gives no country"
    ours = set(actor.country_names)
    for v in values:
        names = resolver.names(v)
        codes = {country_code(n) for n in names} - {None}
        if ours & {normalise(n) for n in names} or (actor.country_code and (
                actor.country_code in codes
                or _PART_OF_COUNTRY.get(actor.country_code) in codes)):
            note = ""
            if actor.country_code in _PART_OF_COUNTRY and actor.country_code not in codes \
                    and not ours & {normalise(n) for n in names}:
                note = f" ({actor.country_code} is part of {_PART_OF_COUNTRY[actor.country_code]})"
            return "consistent", f"{prop} {what} {shown} = record country {actor.country}{note}"
    if not any(resolver.names(v) for v in values):
        return "unknown", f"{prop} {what} {shown}: its name could not be looked up"
    return "inconsistent", f"{prop} {what} {shown}, but the record says {actor.country}"


def _qid_key(target: str) -> tuple[int, str]:
    return (int(target[1:]), "") if QID_TARGET.match(target) else (sys.maxsize, target)


# --- outputs for the build ----------------------------------------------------------------------

def _accepted(root: Path, records=None) -> tuple[list[dict], Entities]:
    """(entries, entities), after checking the file; errors stop publication. `records`: the
    project's RecordSet if already read."""
    entities = load_entities(root, records)
    issues = check_review_file(root, entities)
    errors = [i for i in issues if i.severity == Severity.ERROR]
    if errors:
        raise InvalidData(f"{len(errors)} error(s) in {REVIEW_FILE}; no links published.",
                          issues=errors,
                          fix="Fix the review file (docs/linking.md), then build again.")
    entries = [e for e in read_review(root).entries if isinstance(e, dict) and entry_id(e)]
    entries.sort(key=entry_id)
    return entries, entities


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
    from ..vocab import SCHEMA

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


# --- the SSSOM link set -------------------------------------------------------------------------

SSSOM_COLUMNS = (
    "subject_id", "subject_label", "predicate_id", "predicate_modifier", "object_id",
    "object_label", "mapping_justification", "confidence", "mapping_tool", "reviewer_label",
    "mapping_date", "object_source", "object_source_version", "see_also", "comment",
)


def _tsv_cell(value: str) -> str:
    """A TSV cell: backslash, tab and line breaks escaped so a row stays one line."""
    text = str(value)
    text = text.replace("\\", "\\\\").replace("\t", "\\t").replace("\r", "\\r")
    text = text.replace("\n", "\\n")
    return "".join(ch if unicodedata.category(ch) not in ("Cc", "Zl", "Zp")
                   else ch.encode("unicode_escape").decode("ascii") for ch in text)


def linkset_files(root: Path, out_dir: Path, records=None) -> list[Path]:
    """Write the link set (every decision, accepted and rejected, about an actor or a place,
    and the entities left without a Wikidata link) as SSSOM TSV with its YAML metadata
    header; same input, same bytes. `records`: the project's RecordSet if already read."""
    entries, entities = _accepted(root, records)
    meta = _dataset_meta(root)
    rows = []
    has_qid = set()
    for entry in entries:
        subject_id = entry_id(entry)
        label = entry.get("label") if isinstance(entry.get("label"), str) else ""
        cands = entry.get("candidates") if isinstance(entry.get("candidates"), list) else []
        for cand in cands:
            if not isinstance(cand, dict) or cand.get("decision") not in ("accepted", "rejected"):
                continue
            target = cand["target"]
            kind = target_kind(target)
            match_type = cand.get("match_type") or "exact"
            if kind == "ror":
                obj, source = "ror:" + target.rsplit("/", 1)[1], "https://ror.org/"
                predicate = SKOS_CURIES[match_type]
            elif kind == "iso":
                obj, source = "iso3166:" + target.split(":", 1)[1], ISO_AGENCY
                predicate = "skos:exactMatch"
            else:
                obj = "wikidata:" + target
                predicate = "owl:sameAs" if match_type == "exact" else SKOS_CURIES[match_type]
                source = "http://www.wikidata.org/entity/"
                if cand["decision"] == "accepted":
                    has_qid.add(subject_id)
            method = cand.get("method") or "manual"
            if cand.get("reviewer") == AUTO_REVIEWER:
                justification = "semapv:MappingChaining" if method == "ror-listed-wikidata" \
                    else "semapv:LexicalMatching"
            else:
                justification = "semapv:ManualMappingCuration"
            version = f"revision {cand['checked_revision']}" if cand.get("checked_revision") \
                else (cand.get("reference_release") or "")
            comment = "; ".join(x for x in (
                f"match reason: {cand['match_reason']}" if cand.get("match_reason") else "",
                ("published as hc:rorId" if match_type == "exact" else
                 f"published as {SKOS_CURIES[match_type]}") if kind == "ror" else "",
                "published as schema:identifier (ISO 3166-1 alpha-2)" if kind == "iso" else "",
                cand.get("note") or "",
                f"checked {cand['retrieved_on']}" if cand.get("retrieved_on") else "",
            ) if x)
            rows.append({
                "subject_id": f"hcid:{subject_id}",
                "subject_label": label,
                "predicate_id": predicate,
                "predicate_modifier": "Not" if cand["decision"] == "rejected" else "",
                "object_id": obj,
                "object_label": cand.get("label") or "",
                "mapping_justification": justification,
                "confidence": cand.get("score") or "",
                "mapping_tool": f"healthcoop link ({method})",
                "reviewer_label": cand.get("reviewer") or "",
                "mapping_date": cand.get("decision_date") or "",
                "object_source": source,
                "object_source_version": version,
                "see_also": cand.get("reference") or "",
                "comment": comment,
            })
    by_id = {entry_id(e): e for e in entries}
    for entity in entities.all:
        if entity.id in has_qid:
            continue
        entry = by_id.get(entity.id, {})
        status = entry.get("status") if isinstance(entry.get("status"), str) else ""
        note = entry.get("status_note") if isinstance(entry.get("status_note"), str) else ""
        rows.append({
            "subject_id": f"hcid:{entity.id}",
            "subject_label": entity.label,
            "predicate_id": "owl:sameAs",
            "predicate_modifier": "",
            "object_id": "sssom:NoTermFound",
            "object_label": "",
            "mapping_justification": "semapv:UnspecifiedMatching",
            "confidence": "",
            "mapping_tool": "healthcoop link",
            "reviewer_label": "",
            "mapping_date": "",
            "object_source": "http://www.wikidata.org/entity/",
            "object_source_version": "",
            "see_also": "",
            "comment": f"no accepted Wikidata link: {status or 'not-looked-up'}"
                       + (f"; {note}" if note else ""),
        })
    rows.sort(key=lambda r: (r["subject_id"], r["object_source"], r["object_id"],
                             r["predicate_modifier"]))
    version = meta.get("version", "")
    licence = meta.get("licence")
    header = {
        "curie_map": {
            "hcid": "https://w3id.org/healthcoop/id/",
            "wikidata": "http://www.wikidata.org/entity/",
            "ror": "https://ror.org/",
            "iso3166": ISO_PAGE,
            "owl": "http://www.w3.org/2002/07/owl#",
            "skos": "http://www.w3.org/2004/02/skos/core#",
            "semapv": "https://w3id.org/semapv/vocab/",
            "sssom": "https://w3id.org/sssom/",
        },
        "mapping_set_id": LINKSET_ID,
        "mapping_set_version": version if isinstance(version, str) else "",
        "mapping_set_title": "healthcoop link set: actors and places to Wikidata, ROR and "
                             "ISO 3166",
        "mapping_set_description": (
            "Every reviewed decision about linking a healthcoop person, organisation or "
            "place to a Wikidata item, a ROR record or an ISO 3166-1 code: accepted "
            "(published as owl:sameAs, a SKOS match, hc:rorId or schema:identifier) and "
            "rejected (predicate_modifier Not), with score, method, reviewer, date and "
            "reference; entities without an accepted Wikidata link appear with "
            "sssom:NoTermFound."),
        "license": licence if isinstance(licence, str) and licence
        else "https://creativecommons.org/licenses/by/4.0/",
        "subject_source": "https://w3id.org/healthcoop/id/",
    }
    text = io.StringIO()
    meta_yaml = yaml.dump(header, Dumper=_SssomDumper, sort_keys=False, allow_unicode=True,
                          width=4096, default_flow_style=False)
    for line in meta_yaml.splitlines():
        text.write(f"#{line}\n")
    text.write("\t".join(SSSOM_COLUMNS) + "\n")
    for row in rows:
        text.write("\t".join(_tsv_cell(row[c]) for c in SSSOM_COLUMNS) + "\n")
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / SSSOM_FILE
    path.write_bytes(text.getvalue().encode("utf-8"))
    return [path]


class _SssomDumper(yaml.SafeDumper):
    def ignore_aliases(self, data):
        return True


def _dataset_meta(root: Path) -> dict:
    path = root / "data/dataset.yaml"
    if not path.exists():
        return {}
    try:
        doc = load_yaml(path, root, IssueList())
    except RecursionError:
        return {}
    return doc.data if doc and isinstance(doc.data, dict) else {}


# --- the run ------------------------------------------------------------------------------------

@dataclass
class LinkOptions:
    endpoint: str = DEFAULT_ENDPOINT
    contact: str = DEFAULT_CONTACT
    user_agent: str | None = None          # overrides the one built from `contact`
    offline: bool = False
    cache_dir: Path | None = None          # default <root>/.cache/wikidata
    enrich: bool = False
    ror_source: Path | None = None         # a full ROR dump to (re)select the subset from
    wikidata: bool = True                  # False: ROR matching only
    progress: bool | None = None           # None: a progress bar when stderr is a terminal
    session: Any = None                    # a requests.Session (tests inject one)
    clock: Clock | None = None
    retry: RetryPolicy | None = None
    timeout: tuple[float, float] | None = None
    today: date | None = None


@dataclass
class LinkSummary:
    actors: int = 0
    linked: list[str] = field(default_factory=list)
    proposed: list[str] = field(default_factory=list)
    ambiguous: list[str] = field(default_factory=list)
    not_found: list[str] = field(default_factory=list)
    not_looked_up: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    ror_accepted: list[str] = field(default_factory=list)
    ror_proposed: list[str] = field(default_factory=list)
    places: int = 0
    places_with_qid: list[str] = field(default_factory=list)
    places_with_iso: list[str] = field(default_factory=list)
    iso_proposed: list[str] = field(default_factory=list)
    offline_misses: list[str] = field(default_factory=list)
    redirected: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    cache_discarded: list[str] = field(default_factory=list)
    requests: int = 0
    fatal: str = ""
    review_file: str = REVIEW_FILE.as_posix()
    review_file_changed: bool = False
    ror_subset: str = ""

    def lines(self, limit: int = 20) -> list[str]:
        out = [
            f"{self.actors} actors: {len(self.linked)} linked, {len(self.proposed)} proposed, "
            f"{len(self.ambiguous)} ambiguous, {len(self.not_found)} not found, "
            f"{len(self.errors)} errors"
            + (f", {len(self.not_looked_up)} not looked up (offline)" if self.not_looked_up
               else ""),
            f"ROR: {len(self.ror_accepted)} accepted, {len(self.ror_proposed)} proposed for "
            "review",
        ]
        if self.places:
            out.append(f"{self.places} places: {len(self.places_with_qid)} with a Wikidata "
                       f"QID, {len(self.places_with_iso)} with an ISO 3166-1 code, "
                       f"{len(self.iso_proposed)} ISO code(s) proposed for review")
        for title, items in (("ambiguous (review by hand)", self.ambiguous),
                             ("errors", self.errors),
                             ("merged in Wikidata (redirected)", self.redirected),
                             ("deleted in Wikidata", self.deleted),
                             ("damaged cache entries", self.cache_discarded)):
            if items:
                out.append(f"{title}: " + ", ".join(items[:limit])
                           + (f" and {len(items) - limit} more" if len(items) > limit else ""))
        if self.offline_misses:
            out.append(f"offline: {len(self.offline_misses)} look-ups were not in the cache:")
            out.extend(f"  {m}" for m in self.offline_misses[:limit])
            if len(self.offline_misses) > limit:
                out.append(f"  ... and {len(self.offline_misses) - limit} more")
        if self.fatal:
            out.append(f"stopped asking Wikidata: {self.fatal}")
        out.append(f"{self.requests} HTTP requests; review file: {self.review_file}"
                   + ("" if self.review_file_changed else " (unchanged)")
                   + (f"; ROR subset: {self.ror_subset}" if self.ror_subset else ""))
        return [terminal_safe(line) for line in out]


def run_link(root: Path, options: LinkOptions | None = None) -> LinkSummary:
    """`healthcoop link`: propose links, keep decisions, check merges, write the review file
    (an unchanged file is left untouched, so an offline run in a fresh clone changes nothing)."""
    from .review_file import _Checker

    options = options or LinkOptions()
    root = root.resolve()
    today = (options.today or date.today()).isoformat()
    summary = LinkSummary()
    review = read_review(root)
    if review.issues:  # never overwrite a file a person is editing and we cannot read
        raise InvalidData(f"{REVIEW_FILE} cannot be read; it was left as it is.",
                          issues=review.issues, fix="Fix the YAML, then run again.")
    entities = load_entities(root)
    blocking = structure_issues(_Checker(review, entities).run())
    if blocking:  # decisions we cannot read could not be kept: leave the file alone
        raise InvalidData(f"{REVIEW_FILE} has values of the wrong kind; it was left as it is.",
                          issues=blocking, fix="Fix the fields named, then run again.")
    actors = entities.actors
    summary.actors = len(actors)
    summary.places = len(entities.places)

    previous: dict[str, RorRecord] = {}
    if (root / ROR_SUBSET).exists():
        previous = load_ror(root / ROR_SUBSET)
    if options.ror_source is not None:
        ror_records = load_ror(options.ror_source)
        retrieved = today
    else:
        ror_records = previous
        retrieved = read_selection(root).get("retrieved_on")
        retrieved = retrieved if _is_date(retrieved) else ""
    index = RorIndex(ror_records, Vocabulary(entities.places))

    client = None
    if options.wikidata:
        ua = check_user_agent(options.user_agent or user_agent(options.contact))
        cache = ResponseCache(options.cache_dir or root / ".cache/wikidata")
        client = WikidataClient(
            endpoint=options.endpoint, user_agent=ua, session=options.session, cache=cache,
            offline=options.offline, clock=options.clock or Clock(),
            retry=options.retry or RetryPolicy(), timeout=options.timeout or (10.0, 60.0))
    resolver = _Resolver(client) if client else None

    old = {entry_id(e): e for e in review.entries if entry_id(e)}
    outcomes: dict[str, WikidataOutcome] = {}
    new_candidates: dict[str, list[dict]] = {}
    for actor in _progress(actors, options.progress):
        cands = ror_candidates(actor, index, today, retrieved)
        outcome = WikidataOutcome()
        if client is not None:
            if summary.fatal:
                outcome.error = f"not looked up: {summary.fatal}"
            else:
                try:
                    outcome = wikidata_candidates(actor, client, resolver, today)
                except WikidataUnavailable as err:
                    summary.fatal = err.message
                    outcome.error = err.message
        outcomes[actor.id] = outcome
        summary.offline_misses += [f"{actor.id}: {m}" for m in outcome.misses]
        new_candidates[actor.id] = cands + outcome.candidates
    for place in entities.places:
        new_candidates[place.id] = iso_candidates(place)

    entries = []
    for entity in entities.all:
        if entity.kind == "place":
            complete = {"iso": True}
        else:
            outcome = outcomes[entity.id]
            complete = {"ror": bool(ror_records),
                        "wikidata": client is not None and not outcome.misses
                        and not outcome.error}
        entry = _merge_entry(entity, old.pop(entity.id, None), new_candidates[entity.id],
                             complete)
        entries.append(entry)
    entries += [e for e in old.values() if e is not None]  # unknown ids: kept, and flagged
    entries.sort(key=entry_id)

    if client is not None and not summary.fatal:
        fetched = {q: r for o in outcomes.values() for q, r in o.entities.items()}
        try:
            _check_items(entries, client, fetched, options.enrich, today, summary)
        except WikidataUnavailable as err:
            summary.fatal = err.message

    by_id = {a.id: a for a in entities.all}
    for entry in entries:
        entry["candidates"] = [_ordered(c) for c in entry.get("candidates") or []
                               if isinstance(c, dict)]
        entity = by_id.get(entry_id(entry))
        _set_status(entry, outcomes.get(entry_id(entry)), entity)
        accepted = {target_kind(str(c.get("target", ""))) for c in entry["candidates"]
                    if c.get("decision") == "accepted"}
        if entity is not None and entity.kind == "place":
            if "wikidata" in accepted:
                summary.places_with_qid.append(entity.id)
            if "iso" in accepted:
                summary.places_with_iso.append(entity.id)
            summary.iso_proposed += [entity.id for c in entry["candidates"]
                                     if target_kind(str(c.get("target", ""))) == "iso"
                                     and c.get("decision") == "proposed"]
            continue
        bucket = {"linked": summary.linked, "proposed": summary.proposed,
                  "ambiguous": summary.ambiguous, "not-found": summary.not_found,
                  "not-looked-up": summary.not_looked_up, "error": summary.errors}
        if entity is not None:
            bucket[entry["status"]].append(entity.id)
        for cand in entry["candidates"]:
            if str(cand.get("target", "")).startswith("https://ror.org/"):
                if cand.get("decision") == "accepted":
                    summary.ror_accepted.append(entry_id(entry))
                elif cand.get("decision") == "proposed":
                    summary.ror_proposed.append(entry_id(entry))

    text = render_review(entries)
    path = root / REVIEW_FILE
    summary.review_file_changed = not (path.is_file() and path.read_bytes() == text.encode())
    atomic_write(path, text)
    if options.ror_source is not None:
        keep = select_records(index, actors, entries)
        summary.ror_subset = write_subset(root, options.ror_source, ror_records, keep, previous,
                                          today, atomic_write)
    if client is not None:
        summary.requests = client.requests_made
        summary.cache_discarded = list(client.cache.discarded) if client.cache else []
    return summary


def _progress(items: list, enabled: bool | None):
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        return items
    from tqdm import tqdm

    return tqdm(items, desc="linking", unit="actor", file=sys.stderr)


_METHOD_SOURCE = {"ror-name-match": "ror", "ror-listed-wikidata": "ror",
                  "wikidata-search": "wikidata", "iso3166-name-match": "iso"}
_KIND_ORDER = {"wikidata": 0, "ror": 1, "iso": 2}


def _merge_entry(actor: Actor, old: dict | None, fresh: list[dict],
                 complete: dict[str, bool] | None = None) -> dict:
    """Today's candidates merged into yesterday's entry: human fields always win; decided
    candidates keep what the reviewer saw; undecided ones are refreshed, and dropped when a
    complete look-up no longer finds them. `complete` says which sources were fully asked."""
    complete = complete or {}
    old_cands = {c.get("target"): c for c in (old or {}).get("candidates") or []
                 if isinstance(c, dict)}
    merged: list[dict] = []
    for cand in fresh:
        before = old_cands.pop(cand["target"], None)
        if before is None:
            merged.append(cand)
            continue
        decided = before.get("decision") in ("accepted", "rejected")
        result = dict(before)
        if not decided:
            for key in MACHINE_KEYS:
                if key in cand:
                    result[key] = cand[key]
            for key in ("decision", "reviewer", "decision_date", "note"):
                # a fresh automatic acceptance applies to a still-undecided candidate
                if cand.get("decision") == "accepted" and key in cand:
                    result[key] = cand[key]
        else:
            for key in ("label", "description"):  # fill in what the reviewer could not see
                if not result.get(key) and cand.get(key):
                    result[key] = cand[key]
        merged.append(result)
    for cand in old_cands.values():  # kept: decided, hand-added, or not looked up this time
        stale = (cand.get("decision") in (None, "", "proposed")
                 and complete.get(_METHOD_SOURCE.get(str(cand.get("method")), ""), False))
        if not stale:
            merged.append(cand)
    merged.sort(key=lambda c: (_KIND_ORDER.get(target_kind(str(c.get("target", ""))), 3),
                               -_score(c), _qid_key(str(c.get("target", "")))))
    entry = {
        actor.entry_key: actor.id,
        "label": actor.label,
        "kind": actor.kind,
        "type": actor.type,
        "country": actor.country or "",
        "status": "",
        "status_note": "",
        "candidates": [_ordered(c) for c in merged],
    }
    if not entry["country"]:
        del entry["country"]
    return entry


def _score(cand: dict) -> float:
    try:
        return float(cand.get("score") or 0)
    except ValueError:
        return 0.0


def _ordered(cand: dict) -> dict:
    out = {k: cand[k] for k in CANDIDATE_KEYS if k in cand and cand[k] not in (None, "", [])}
    out.update({k: v for k, v in cand.items() if k not in CANDIDATE_KEYS})  # kept, flagged
    out.setdefault("decision", "proposed")
    return out


def _check_items(entries: list[dict], client: WikidataClient, fetched: dict[str, EntityResult],
                 enrich: bool, today: str, summary: LinkSummary) -> None:
    """Every run: are the QIDs we accepted or propose still there, or merged, or deleted?"""
    wanted = sorted({str(c["target"]) for e in entries for c in e.get("candidates") or []
                     if QID_TARGET.match(str(c.get("target", "")))
                     and c.get("decision") in ("accepted", "proposed")}, key=lambda q: int(q[1:]))
    accepted = {str(c["target"]) for e in entries for c in e.get("candidates") or []
                if c.get("decision") == "accepted"}
    # proposals fetched a moment ago are reused; accepted items are always asked afresh
    results: dict[str, EntityResult] = {q: fetched[q] for q in wanted
                                        if q in fetched and q not in accepted}
    rest = [q for q in wanted if q not in results]
    if rest:
        try:
            results.update(client.get_entities(rest, refresh=True))
        except OfflineMiss as miss:
            summary.offline_misses.append(f"redirect/deletion check: {miss.description}")
    for entry in entries:
        extra = []
        for cand in entry.get("candidates") or []:
            qid = str(cand.get("target", ""))
            res = results.get(qid)
            if res is None:
                continue
            cand["last_checked"] = res.retrieved[:10] or today
            decided = cand.get("decision") in ("accepted", "rejected")
            if res.status == "redirect":
                cand["redirected_to"] = res.target
                cand["problem"] = (f"Wikidata merged {qid} into {res.target} (redirect seen "
                                   f"{res.retrieved[:10]})")
                if cand.get("decision") == "accepted":
                    summary.redirected.append(f"{entry['actor']}: {qid} -> {res.target}")
                    known = {str(c.get("target")) for c in entry["candidates"]}
                    if res.target not in known:
                        extra.append(_redirect_candidate(cand, res, today))
                continue
            cand.pop("redirected_to", None)
            if res.status == "missing":
                cand["problem"] = f"{qid} no longer exists in Wikidata (deleted; seen " \
                                  f"{res.retrieved[:10]})"
                if cand.get("decision") == "accepted":
                    summary.deleted.append(f"{entry['actor']}: {qid}")
                continue
            cand.pop("problem", None)
            labels = {k: v for k, v in entity_labels(res.entity).items()
                      if not clean_wikidata_text(v)[1]}  # control characters: refused
            description = clean_wikidata_text(entity_description(res.entity))[0]
            if not decided:  # fill in what the ROR route could not know
                cand["label"] = labels.get("en") or cand.get("label") or ""
                cand["description"] = description or cand.get("description")
                if cand.get("method") not in ("ror-listed-wikidata", "manual"):
                    cand["checked_revision"] = str(res.revision or "")
                    cand["retrieved_on"] = res.retrieved[:10]
            elif not cand.get("label") and labels.get("en"):
                cand["label"] = labels["en"]
            if enrich and cand.get("decision") == "accepted":
                picked = {k: v for k, v in labels.items()
                          if (k == "en" or k in _ZH_TAGS) and "\n" not in v}
                cand["enrichment"] = {
                    "revision": str(res.revision or ""),
                    "retrieved_on": res.retrieved[:10],
                    "labels": dict(sorted(picked.items())),
                }
        if extra:
            entry["candidates"] = [_ordered(c) for c in entry["candidates"] + extra]


def _redirect_candidate(cand: dict, res: EntityResult, today: str) -> dict:
    labels = entity_labels(res.entity)
    return {
        "target": res.target,
        "label": clean_wikidata_text(labels.get("en", ""))[0],
        "description": clean_wikidata_text(entity_description(res.entity))[0],
        "score": cand.get("score") or "",
        "method": "wikidata-redirect",
        "match_type": cand.get("match_type") or "exact",
        "evidence": [f"Wikidata merged the accepted {cand['target']} into {res.target}: "
                     f"{cand['target']} now redirects here"],
        "reference": WIKIDATA_PAGE + res.target,
        "checked_revision": str(res.revision or ""),
        "retrieved_on": res.retrieved[:10] or today,
        "decision": "proposed",
    }


def _set_status(entry: dict, outcome: WikidataOutcome | None, actor: Actor | None) -> None:
    cands = [c for c in entry.get("candidates") or []
             if QID_TARGET.match(str(c.get("target", "")))]
    accepted = [c for c in cands if c.get("decision") == "accepted" and not c.get("problem")]
    proposed = sorted((c for c in cands if c.get("decision") == "proposed"
                       and not c.get("problem")), key=lambda c: -_score(c))
    note = ""
    if actor is None:
        status, note = "error", "no person, organisation or place record has this id"
    elif accepted:
        status = "linked"
        note = f"accepted: {', '.join(c['target'] for c in accepted)}"
    elif len(proposed) >= 2 and _score(proposed[0]) - _score(proposed[1]) < AMBIGUITY_MARGIN:
        status = "ambiguous"
        close = [c["target"] for c in proposed if _score(proposed[0]) - _score(c)
                 < AMBIGUITY_MARGIN]
        note = (f"{len(close)} candidates score within {AMBIGUITY_MARGIN} of each other "
                f"({', '.join(close)}): the linker does not guess; decide by hand")
    elif proposed:
        status = "proposed"
        note = f"best candidate {proposed[0]['target']} ({proposed[0].get('score', '')}); " \
               "awaiting review"
    elif actor.kind == "place":
        status = "not-looked-up"
        note = ("places are not searched in Wikidata: add the QID by hand (method: manual) "
                "with the page or data file where it is seen")
    elif outcome is not None and outcome.error:
        status, note = "error", outcome.error
    elif outcome is not None and outcome.misses and not outcome.searched:
        status = "not-looked-up"
        note = f"offline: {len(outcome.misses)} look-up(s) not in the cache"
    else:
        status = "not-found"
        searched = ", ".join(outcome.searched) if outcome else ""
        note = (f"no Wikidata item scored {PROPOSE_AT} or more (searched {searched})"
                if searched else "no Wikidata look-up was made")
        if actor.kind == "organisation":
            note += "; no ROR record lists a Wikidata item for it"
    entry["status"] = status
    entry["status_note"] = note


