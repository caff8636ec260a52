"""Wikidata candidates for a person or organisation: search, fetch, score, explain.

In:  an `Actor` (pipeline.link.common), a `WikidataClient` (pipeline.link.client) and a
     `_Resolver` over it (the English labels of the classes and countries claims point at).
Out: `wikidata_candidates` -> a `WikidataOutcome`: the review-file candidates scoring
     PROPOSE_AT or more (best first, at most MAX_CANDIDATES), each with its evidence, the item
     page as reference and the revision checked; the look-ups an offline run missed; and the
     entities fetched (the run reuses them when it checks for merges).

Score = NAME_WEIGHT x name + TYPE_WEIGHT x type (P31) + COUNTRY_WEIGHT x country (P17/P27),
plus POSITION_BONUS when a position held (P39) matches one of our role titles; a wrong type
caps it at 0.4, another country at 0.7. Text from Wikidata with control characters is
refused (`clean_wikidata_text`), as in records.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import fuzz

from .client import (
    QID_PATTERN,
    EntityResult,
    OfflineMiss,
    WikidataClient,
    claim_values,
    entity_aliases,
    entity_description,
    entity_labels,
)
from .common import _PART_OF_COUNTRY as _PART_OF_COUNTRY
from .common import (
    MAX_CANDIDATES,
    PROPOSE_AT,
    QID_TARGET,
    SEARCH_LIMIT,
    STATE_VALUE,
    WIKIDATA_PAGE,
    Actor,
    _fmt,
    control_problem,
    country_code,
    name_similarity,
    normalise,
    terminal_safe,
)

NAME_WEIGHT, TYPE_WEIGHT, COUNTRY_WEIGHT = 0.6, 0.25, 0.15
POSITION_BONUS = 0.05


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
