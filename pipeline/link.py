"""Stage `link`: our persons and organisations -> reviewed links to Wikidata and ROR.

In:  the actor records (persons, organisations; places for their countries), the review file
     `data/links.yaml`, the ROR subset `data/reference/ror/ror-subset.jsonl`, and the
     Wikidata action API (through `pipeline.wikidata`, cached; `--offline` = cache only).
Out: `data/links.yaml` rewritten with proposals (human decisions kept), and, for the build:
     `link_triples` (accepted links, each with its reference), `enrichment_triples`
     (Wikidata labels for a separate named graph), `linkset_files` (the SSSOM link set) and
     `check_review_file` (located issues).

Facts come from sources, not memory: a QID or ROR id enters the review file only from an API
response (reference: the Wikidata item page and its revision id) or from a ROR record that
lists it (reference: https://ror.org/<id> and the ROR release). Nothing is accepted from
Wikidata automatically; the only automatic acceptance is a ROR record whose name matches ours
exactly (after case/punctuation normalisation), in the same country, of a compatible type,
active, and the only such record (reviewer `ror-exact-match`, reason recorded). docs/linking.md
explains the review workflow.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import sys
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from rapidfuzz import fuzz, process
from rdflib import Literal, URIRef
from rdflib.namespace import DCTERMS, OWL, PROV, RDF, SKOS, XSD
from rdflib.term import Node

from .errors import EnvironmentProblem, InvalidData, Issue, IssueList, Severity
from .vocab import HC, HCID, WD
from .wikidata import (
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
from .yamlfile import YamlDocument, dotted, load_yaml

Triple = tuple[Node, Node, Node]

REVIEW_FILE = Path("data/links.yaml")
ROR_DIR = Path("data/reference/ror")
ROR_SUBSET = ROR_DIR / "ror-subset.jsonl"
ROR_README = ROR_DIR / "README.md"
SSSOM_FILE = "links.sssom.tsv"
ENRICHMENT_GRAPH = URIRef("https://w3id.org/healthcoop/graph/wikidata-labels")
LINKSET_ID = "https://w3id.org/healthcoop/linkset"
WIKIDATA_PAGE = "https://www.wikidata.org/wiki/"
ROR_PATTERN = re.compile(r"^https://ror\.org/0[0-9a-z]{6}[0-9]{2}$")
DATE_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}$")

# scoring
PROPOSE_AT = 0.75         # candidates below this are not written to the review file
AMBIGUITY_MARGIN = 0.05   # two proposals this close: ambiguous, the linker does not pick
MAX_CANDIDATES = 5
SEARCH_LIMIT = 7
ROR_FUZZY_CUTOFF = 97     # rapidfuzz ratio of folded names for a non-exact ROR match
ROR_MAX_CANDIDATES = 3
NAME_WEIGHT, TYPE_WEIGHT, COUNTRY_WEIGHT = 0.6, 0.25, 0.15
POSITION_BONUS = 0.05
STATE_VALUE = {"compatible": 1.0, "consistent": 1.0, "unknown": 0.5,
               "incompatible": 0.0, "inconsistent": 0.0}

DECISIONS = ("proposed", "accepted", "rejected")
MATCH_TYPES = {
    "exact": OWL.sameAs,
    "close": SKOS.closeMatch,
    "broad": SKOS.broadMatch,
    "narrow": SKOS.narrowMatch,
    "related": SKOS.relatedMatch,
}
STATUSES = ("linked", "proposed", "ambiguous", "not-found", "not-looked-up", "error")
AUTO_REVIEWER = "ror-exact-match"

ENTRY_KEYS = ("actor", "label", "kind", "type", "country", "status", "status_note",
              "candidates")
CANDIDATE_KEYS = (
    "target", "label", "description", "score", "method", "match_type", "match_reason",
    "evidence", "reference", "reference_release", "checked_revision", "retrieved_on",
    "decision", "reviewer", "decision_date", "note", "problem", "redirected_to",
    "last_checked", "enrichment",
)
# fields the linker refreshes; everything else belongs to the reviewer
MACHINE_KEYS = ("label", "description", "score", "method", "evidence", "reference",
                "reference_release", "checked_revision", "retrieved_on")
HUMAN_KEYS = ("decision", "reviewer", "decision_date", "note", "match_type", "match_reason")


# --- actors (adapter over pipeline.records) -----------------------------------------------------

@dataclass(frozen=True)
class ActorName:
    text: str
    kind: str  # label | variant | acronym | misspelling | former-name


@dataclass(frozen=True)
class Actor:
    id: str
    kind: str                 # person | organisation
    type: str                 # the organisation type, or "person"
    label: str
    names: tuple[ActorName, ...]
    country: str | None = None
    country_names: tuple[str, ...] = ()   # normalised names of the record's country
    country_code: str | None = None       # ISO 3166-1 alpha-2, when the country is known
    roles: tuple[str, ...] = ()           # role titles the records give this person


# ISO 3166 codes of the countries our sources and the ROR subset deal with, by name; a
# place record is matched on its label, alt labels or id. Unknown names stay unknown.
_COUNTRY_NAMES = {
    "CN": ["china", "people's republic of china", "prc", "mainland china", "p r china"],
    "GB": ["united kingdom", "uk", "great britain", "britain",
           "united kingdom of great britain and northern ireland"],
    "HK": ["hong kong", "hksar", "hong kong sar", "hong kong special administrative region"],
    "MO": ["macao", "macau", "macao sar", "macau sar"],
    "TW": ["taiwan"],
    "JP": ["japan"],
    "KR": ["south korea", "republic of korea", "korea"],
    "US": ["united states", "usa", "united states of america"],
    "CH": ["switzerland"],
    "FR": ["france"],
    "DE": ["germany"],
    "SG": ["singapore"],
}
# a record in Hong Kong or Macao is consistent with a Wikidata country "China" (P17 of
# Hong Kong bodies is the PRC); ROR matching, which is stricter, does not use this
_PART_OF_COUNTRY = {"HK": "CN", "MO": "CN"}


def normalise(text: str) -> str:
    """Case, accents, apostrophes, punctuation and a leading 'the' do not matter."""
    t = unicodedata.normalize("NFKD", text)
    t = "".join(c for c in t if not unicodedata.combining(c))
    t = t.casefold().replace("&", " and ")
    t = re.sub(r"['’‘`´]", "", t)
    t = re.sub(r"[\W_]+", " ", t)
    t = re.sub(r"\s+", " ", t).strip()
    return re.sub(r"^the ", "", t)


_CODE_BY_NAME = {normalise(n): code for code, names in _COUNTRY_NAMES.items() for n in names}


def country_code(name: str) -> str | None:
    return _CODE_BY_NAME.get(normalise(name.replace("-", " ")))


def _load_actors(root: Path) -> list[Actor]:
    """Persons and organisations from the records, sorted by id (tombstones left out)."""
    from .records import Organisation, Person, Place, Role, load_records

    records = load_records(root, IssueList())
    places = {p.id: p for p in records.of(Place)}
    roles: dict[str, list[str]] = {}
    for role in records.of(Role):
        roles.setdefault(role.person, []).append(role.title)
    actors = []
    for record in records.sorted():
        if not isinstance(record, (Person, Organisation)) or record.deprecated:
            continue
        names = [ActorName(record.label, "label")]
        names += [ActorName(a.label, a.kind) for a in record.alt_labels]
        code, country_names = _country(record.country, places)
        actors.append(Actor(
            id=record.id,
            kind=record.kind,
            type=getattr(record, "type", "person") if isinstance(record, Organisation)
            else "person",
            label=record.label,
            names=tuple(names),
            country=record.country,
            country_names=country_names,
            country_code=code,
            roles=tuple(roles.get(record.id, ())),
        ))
    return actors


def _country(place_id: str | None, places: dict) -> tuple[str | None, tuple[str, ...]]:
    """(ISO code, normalised names) of a place, following `country`/`part_of` upwards."""
    names: list[str] = []
    seen = set()
    current = place_id
    while current and current not in seen and len(seen) < 6:
        seen.add(current)
        place = places.get(current)
        candidates = [current.replace("-", " ")]
        if place is not None:
            candidates += [place.label, *(a.label for a in place.alt_labels)]
        names += [normalise(n) for n in candidates]
        for n in candidates:
            code = country_code(n)
            if code:
                return code, tuple(dict.fromkeys(names))
        if place is None or place.type == "country":
            break
        current = place.country or place.part_of
    return None, tuple(dict.fromkeys(names))


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


def terminal_safe(text: str) -> str:
    """Text for a terminal: control characters (escape sequences, newlines) made visible."""
    out = []
    for ch in str(text):
        if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") and ch != " ":
            out.append(ch.encode("unicode_escape").decode("ascii"))
        else:
            out.append(ch)
    return "".join(out)


# spelling variants and legal forms that do not make two names different
_SPELLING = {"centre": "center", "centres": "centers", "organisation": "organization",
             "organisations": "organizations", "programme": "program", "paediatric": "pediatric",
             "paediatrics": "pediatrics", "haematology": "hematology", "tumour": "tumor",
             "anaesthesia": "anesthesia", "labour": "labor", "defence": "defense"}
_LEGAL_FORMS = {"ltd", "limited", "co", "inc", "incorporated", "plc", "llc", "gmbh", "corp"}


def folded_forms(text: str) -> tuple[str, str]:
    """A name folded for comparison: normalised, British/American spelling and legal forms
    (Ltd, Co, Inc, plc) ignored, spaces removed; in its own word order and sorted."""
    tokens = [_SPELLING.get(t, t) for t in normalise(text).split() if t not in _LEGAL_FORMS]
    return "".join(tokens), "".join(sorted(tokens))


def name_similarity(ours: str, theirs: str) -> float:
    """0-100 (rapidfuzz `ratio` on folded names, either word order). Strict on purpose:
    'Hainan Medical University' / 'Henan Medical University' score 93, not a match."""
    a, b = folded_forms(ours), folded_forms(theirs)
    if not a[0] or not b[0]:
        return 0.0
    return max(fuzz.ratio(a[0], b[0]), fuzz.ratio(a[1], b[1]))


def _name_part(similarity: float) -> float:
    """Similarity -> the name part of a Wikidata score: 100 -> 1, 90 -> 0.5, 80 or less -> 0."""
    return max(0.0, min(1.0, (similarity - 80) / 20))


def _fmt(score: float) -> str:
    return f"{score:.3f}"


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
# ROR organisation types (v1 capitalised, v2 lower case) each record type may have
_ROR_TYPES = {
    "university": {"education"}, "college": {"education"},
    "hospital": {"healthcare"}, "health-service": {"healthcare", "government"},
    "company": {"company"},
    "research-institute": {"facility", "education", "nonprofit", "government", "healthcare"},
    "government": {"government"}, "ministry": {"government"},
    "government-agency": {"government"}, "regulator": {"government"},
    "association": {"nonprofit", "other"}, "business-council": {"nonprofit", "other"},
    "international-organisation": {"nonprofit", "government", "other"},
    "media-organisation": {"company", "other"},
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


# --- ROR ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RorRecord:
    id: str
    display: str
    names: tuple[tuple[str, tuple[str, ...]], ...]  # (value, types)
    types: tuple[str, ...]
    status: str
    countries: tuple[str, ...]
    wikidata: tuple[str, ...]
    release: str
    line: str  # the JSON line as read, copied byte for byte into the subset


def load_ror(path: Path) -> dict[str, RorRecord]:
    """ROR records from a JSON-lines file (one record a line), by ROR IRI."""
    records: dict[str, RorRecord] = {}
    try:
        handle = path.open(encoding="utf-8")
    except OSError as err:
        raise EnvironmentProblem(f"Cannot read the ROR file {path}: {err.strerror}.",
                                 fix="Check the path given with --ror-source.") from err
    with handle:
        for number, line in enumerate(handle, start=1):
            line = line.rstrip("\n")
            if not line.strip():
                continue
            try:
                raw = json.loads(line)
                record = RorRecord(
                    id=raw["id"],
                    display=next((n["value"] for n in raw["names"]
                                  if "ror_display" in n.get("types", [])),
                                 raw["names"][0]["value"]),
                    names=tuple((n["value"], tuple(n.get("types") or ())) for n in raw["names"]),
                    types=tuple(t.lower() for t in raw.get("types") or ()),
                    status=str(raw.get("status", "")),
                    countries=tuple(raw.get("countries") or ()),
                    wikidata=tuple(q for q in raw.get("wikidata") or () if QID_PATTERN.match(q)),
                    release=str(raw.get("ror_release", "")),
                    line=line,
                )
            except (ValueError, KeyError, IndexError, TypeError) as err:
                raise EnvironmentProblem(
                    f"{path}:{number}: not a ROR record ({type(err).__name__}: {err}).",
                    fix="Restore the file from version control or re-create the subset with "
                        "--ror-source.") from err
            if not ROR_PATTERN.match(record.id):
                raise EnvironmentProblem(f"{path}:{number}: {record.id!r} is not a ROR id.",
                                         fix="Restore the file from version control.")
            records[record.id] = record
    return records


@dataclass
class RorMatch:
    record: RorRecord
    score: float
    name_score: float
    ours: ActorName
    theirs: str
    theirs_types: tuple[str, ...]
    exact: bool
    acronym: bool
    country: str
    type: str
    evidence: list[str]


class RorIndex:
    """Names of ROR records, normalised, for exact look-up and rapidfuzz matching."""

    def __init__(self, records: dict[str, RorRecord]):
        self.records = records
        self.by_name: dict[str, list[tuple[str, str, tuple[str, ...]]]] = {}
        self.by_folded: dict[str, list[tuple[str, str, tuple[str, ...]]]] = {}
        self.acronyms: dict[str, list[tuple[str, str]]] = {}
        for record in records.values():
            for value, types in record.names:
                if "acronym" in types:
                    self.acronyms.setdefault(value.strip(), []).append((record.id, value))
                    continue
                key = normalise(value)
                if key:
                    self.by_name.setdefault(key, []).append((record.id, value, types))
                    for form in set(folded_forms(value)):
                        self.by_folded.setdefault(form, []).append((record.id, value, types))
        self.folded = list(self.by_folded)

    def match(self, actor: Actor) -> list[RorMatch]:
        if actor.kind != "organisation":
            return []
        best: dict[str, RorMatch] = {}
        for name in actor.names:
            if name.kind == "misspelling":
                continue
            found: list[tuple[str, str, tuple[str, ...], float, bool, bool]] = []
            if name.kind == "acronym":
                for rid, value in self.acronyms.get(name.text.strip(), []):
                    found.append((rid, value, ("acronym",), 100.0, False, True))
            else:
                key = normalise(name.text)
                if not key:
                    continue
                for rid, value, types in self.by_name.get(key, []):
                    found.append((rid, value, types, 100.0, True, False))
                for form in set(folded_forms(name.text)):
                    for choice, _, _ in process.extract(
                            form, self.folded, scorer=fuzz.ratio, processor=None,
                            score_cutoff=ROR_FUZZY_CUTOFF, limit=10):
                        for rid, value, types in self.by_folded[choice]:
                            if normalise(value) != key:
                                found.append((rid, value, types,
                                              name_similarity(name.text, value), False, False))
            for rid, value, types, score, exact, acronym in found:
                match = self._score(actor, self.records[rid], name, value, types, score, exact,
                                    acronym)
                old = best.get(rid)
                if old is None or (match.score, match.exact) > (old.score, old.exact):
                    best[rid] = match
        matches = [m for m in best.values() if m.score >= PROPOSE_AT]
        if any(m.exact for m in matches):  # an acronym alone adds only noise then
            matches = [m for m in matches if not m.acronym]
        matches.sort(key=lambda m: (-m.score, m.record.id))
        return matches  # all of them: rivals count even beyond the ones written

    def _score(self, actor: Actor, record: RorRecord, ours: ActorName, theirs: str,
               types: tuple[str, ...], name_score: float, exact: bool, acronym: bool
               ) -> RorMatch:
        evidence = []
        how = "exactly (after normalising case, accents and punctuation)" if exact else \
            "as an acronym" if acronym else f"with similarity {name_score:.0f}/100 (rapidfuzz " \
                                            "ratio, ignoring spaces, legal form, UK/US spelling)"
        evidence.append(f"name: our {ours.kind} '{ours.text}' matches ROR "
                        f"{'/'.join(types)} '{theirs}' {how}")
        if not actor.country_code:
            country = "unknown"
            evidence.append(f"country unknown: the record gives no country we can compare "
                            f"(ROR: {', '.join(record.countries) or 'none'})")
        elif actor.country_code in record.countries:
            country = "consistent"
            evidence.append(f"country consistent: record {actor.country} = "
                            f"{actor.country_code}; ROR {', '.join(record.countries)}")
        else:
            country = "inconsistent"
            evidence.append(f"country inconsistent: record {actor.country} = "
                            f"{actor.country_code}; ROR {', '.join(record.countries) or 'none'}")
        allowed = _ROR_TYPES.get(actor.type, set())
        rtypes = set(record.types) - {"funder"}
        if not rtypes:
            kind = "unknown"
        elif rtypes & allowed:
            kind = "compatible"
        else:
            kind = "incompatible"
        evidence.append(f"type {kind}: ROR types {', '.join(record.types) or 'none'}; record "
                        f"type {actor.type}")
        if record.status != "active":
            evidence.append(f"ROR status: {record.status} (not active)")
        score = 0.7 * name_score / 100 + 0.2 * STATE_VALUE[country] + 0.1 * STATE_VALUE[kind]
        if acronym:
            score = min(score, 0.8)  # an acronym alone is never conclusive
            if country != "consistent":
                score = min(score, 0.7)  # ... and without the same country, not even a lead
        evidence.append(f"score = 0.7 x name {name_score / 100:.2f} + 0.2 x country "
                        f"{STATE_VALUE[country]:.1f} + 0.1 x type {STATE_VALUE[kind]:.1f}"
                        f"{' (capped: acronym only)' if acronym else ''} = {score:.3f}")
        return RorMatch(record, round(score, 3), name_score, ours, theirs, types, exact,
                        acronym, country, kind, evidence)


def _ror_auto_accept(match: RorMatch, all_matches: list[RorMatch]) -> str:
    """Why this ROR match may be accepted without a human, or '' when it may not."""
    if not (match.exact and not match.acronym and match.country == "consistent"
            and match.type == "compatible" and match.record.status == "active"):
        return ""
    rivals = [m for m in all_matches if m is not match and m.exact and m.country == "consistent"]
    if rivals:
        return ""
    return (f"Accepted automatically: our {match.ours.kind} '{match.ours.text}' equals the ROR "
            f"name '{match.theirs}' (ignoring case, accents and punctuation), the country "
            f"({match.record.countries[0] if match.record.countries else '?'}) is the record's, "
            f"the ROR type fits, the record is active and no other ROR record matches exactly.")


def ror_candidates(actor: Actor, index: RorIndex, today: str) -> list[dict]:
    """Review-file candidates from ROR: the ROR ids, and the QIDs their records list."""
    out = []
    matches = index.match(actor)
    for m in matches[:ROR_MAX_CANDIDATES]:
        record = m.record
        reason = _ror_auto_accept(m, matches)
        cand = {
            "target": record.id,
            "label": record.display,
            "description": f"ROR record ({', '.join(record.types)}; "
                           f"{', '.join(record.countries)})",
            "score": _fmt(m.score),
            "method": "ror-name-match",
            "match_type": "exact",
            "evidence": list(m.evidence),
            "reference": record.id,
            "reference_release": record.release,
            "retrieved_on": today,
            "decision": "proposed",
        }
        if reason:
            cand.update(decision="accepted", reviewer=AUTO_REVIEWER, decision_date=today,
                        note=reason)
        out.append(cand)
        for qid in record.wikidata:
            qcand = {
                "target": qid,
                "label": "",
                "description": "",
                "score": _fmt(m.score),
                "method": "ror-listed-wikidata",
                "match_type": "exact",
                "evidence": [f"listed as the Wikidata item of ROR record {record.id} "
                             f"('{record.display}', release {record.release})", *m.evidence],
                "reference": record.id,
                "reference_release": record.release,
                "retrieved_on": today,
                "decision": "proposed",
            }
            if reason and len(record.wikidata) == 1:
                qcand.update(decision="accepted", reviewer=AUTO_REVIEWER, decision_date=today,
                             note=f"Accepted with ROR record {record.id}, which lists this one "
                                  f"Wikidata item. " + reason)
            elif len(record.wikidata) > 1:
                qcand["evidence"].insert(1, f"the ROR record lists {len(record.wikidata)} "
                                            "Wikidata items: choose by hand")
            out.append(qcand)
    return out


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
    return {
        "target": res.requested,
        "label": labels.get("en") or next(iter(labels.values()), ""),
        "description": entity_description(entity),
        "score": _fmt(total),
        "method": "wikidata-search",
        "match_type": "exact",
        "evidence": evidence,
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
    return (int(target[1:]), "") if QID_PATTERN.match(target) else (sys.maxsize, target)


# --- the review file ----------------------------------------------------------------------------

REVIEW_HEADER = """\
# Links from our persons and organisations to Wikidata and ROR: the review file.
#
# Written by `healthcoop link` (docs/linking.md); reviewed by people. Each actor lists the
# candidates the linker found, with a score and the evidence for it. To review a candidate:
#   decision:       accepted | rejected      (the linker writes `proposed`)
#   reviewer:       your name or ORCID iD
#   decision_date:  YYYY-MM-DD
#   match_type:     exact (published as owl:sameAs) | close | broad | narrow | related
#                   (SKOS; anything but exact needs `match_reason` saying why)
#   note:           optional, why you decided so
# Accept a candidate only after opening its `reference` and checking it is the same real-
# world person or organisation. At most one Wikidata item and one ROR id per actor may be
# accepted. Never type a QID from memory: add a candidate by hand only with the `reference`
# (a public page or dataset showing the id) and `retrieved_on` date where you saw it.
# Decisions survive later runs; the linker only refreshes the fields it writes (label,
# description, score, evidence, reference and revision of undecided candidates) and flags
# accepted items that Wikidata has since merged (`redirected_to`) or deleted (`problem`).
# Comments you add below this header are not kept: write them into `note:` instead.
# `reviewer: ror-exact-match` marks links the linker accepted itself: the ROR record's name
# equals ours exactly, in the same country, with a fitting type (see each `note`).
"""


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data):  # never write anchors/aliases: each entry reads alone
        return True


def _represent_str(dumper: yaml.SafeDumper, value: str):
    style = None
    if "'" in value or any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp")
                           for ch in value):
        style = '"'  # line breaks, tabs and other controls as visible escapes; no '' doubling
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


def render_review(entries: list[dict]) -> str:
    """The review file's text: the header, then the entries sorted by actor id."""
    body = yaml.dump({"links": entries}, Dumper=_Dumper, sort_keys=False, allow_unicode=True,
                     width=4096, default_flow_style=False, indent=2)
    return REVIEW_HEADER + "\n" + body


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8", newline="\n")
    tmp.replace(path)


@dataclass
class ReviewFile:
    doc: YamlDocument | None
    entries: list[dict]
    issues: list[Issue]


def read_review(root: Path) -> ReviewFile:
    """The review file as plain data (every scalar a string) with its positions."""
    path = root / REVIEW_FILE
    if not path.exists():
        return ReviewFile(None, [], [])
    issues = IssueList()
    doc = load_yaml(path, root, issues, allow_empty=True)
    if doc is None:
        return ReviewFile(None, [], issues.items)
    data = doc.data
    if data is None:
        return ReviewFile(doc, [], [])
    if not isinstance(data, dict) or not isinstance(data.get("links", []), (list, type(None))):
        return ReviewFile(doc, [], [Issue(doc.rel_path, doc.line(()), "links",
                                          "The review file must be a mapping with a `links:` "
                                          "list.", "Restore the file's structure (see "
                                                   "docs/linking.md).")])
    entries = [e for e in data.get("links") or []]
    return ReviewFile(doc, entries, [])


# --- checks -------------------------------------------------------------------------------------

def check_review_file(root: Path, actors: list[Actor] | None = None) -> list[Issue]:
    """Located issues in data/links.yaml (errors block publication; warnings inform)."""
    review = read_review(root)
    if review.issues:
        return list(review.issues)
    actors = _load_actors(root) if actors is None else actors
    known = {a.id: a for a in actors}
    issues: list[Issue] = []
    doc = review.doc
    rel = REVIEW_FILE.as_posix()

    def add(path: tuple, message: str, fix: str, severity=Severity.ERROR, code="link",
            record_id=""):
        line = doc.line(path) if doc else 0
        issues.append(Issue(rel, line, dotted(path), message, fix, severity, code,
                            record_id=record_id))

    seen_actors: dict[str, int] = {}
    accepted_qids: dict[str, tuple[str, tuple]] = {}
    for i, entry in enumerate(review.entries):
        base = ("links", i)
        if not isinstance(entry, dict):
            add(base, "An entry must be a mapping with `actor:` and `candidates:`.",
                "Write `- actor: <id>` followed by its fields.")
            continue
        actor_id = entry.get("actor")
        for key in entry:
            if key not in ENTRY_KEYS:
                add((*base, key), f"Unknown field {key!r}.",
                    f"Allowed fields: {', '.join(ENTRY_KEYS)}.")
        if not isinstance(actor_id, str) or not actor_id:
            add((*base, "actor"), "`actor` is missing.", "Give the actor's record id.")
            continue
        if actor_id in seen_actors:
            add((*base, "actor"), f"Duplicate entry for {actor_id!r} (first at line "
                                  f"{seen_actors[actor_id]}).",
                "Merge the two entries into one.", code="duplicate", record_id=actor_id)
        else:
            seen_actors[actor_id] = doc.line((*base, "actor")) if doc else 0
        if actor_id not in known:
            add((*base, "actor"), f"Unknown actor id {actor_id!r}: no person or organisation "
                                  "record has it.",
                "Correct the id, or delete the entry if the record was removed.",
                record_id=actor_id)
        candidates = entry.get("candidates") or []
        if not isinstance(candidates, list):
            add((*base, "candidates"), "`candidates` must be a list.", "Put `- ` before each.")
            continue
        targets: dict[str, int] = {}
        accepted = {"wikidata": [], "ror": []}
        for j, cand in enumerate(candidates):
            cpath = (*base, "candidates", j)
            if not isinstance(cand, dict):
                add(cpath, "A candidate must be a mapping.", "Write `- target: ...`.")
                continue
            for key in cand:
                if key not in CANDIDATE_KEYS:
                    add((*cpath, key), f"Unknown field {key!r}.",
                        f"Allowed fields: {', '.join(CANDIDATE_KEYS)}.")
            target = cand.get("target")
            if not isinstance(target, str) or not target:
                add((*cpath, "target"), "`target` is missing.", "Give a QID or ROR id.")
                continue
            is_ror = target.startswith("https://ror.org/")
            if is_ror and not ROR_PATTERN.match(target):
                add((*cpath, "target"), f"{target!r} is not a ROR id.",
                    "Write it as https://ror.org/0xxxxxxNN.")
            elif not is_ror and not QID_PATTERN.match(target):
                add((*cpath, "target"), f"{target!r} is not a Wikidata QID "
                                        "(^Q[1-9][0-9]*$).",
                    "Write the item id only, e.g. Q42 (no URL, no lower-case q, no spaces).")
            if target in targets:
                add((*cpath, "target"), f"Duplicate candidate {target} (first at line "
                                        f"{targets[target]}).",
                    "Keep one of the two.", code="duplicate", record_id=actor_id)
            else:
                targets[target] = doc.line((*cpath, "target")) if doc else 0
            decision = cand.get("decision") or "proposed"
            if decision not in DECISIONS:
                add((*cpath, "decision"), f"Unknown decision {decision!r}.",
                    "Use proposed, accepted or rejected.")
                continue
            match_type = cand.get("match_type") or "exact"
            if match_type not in MATCH_TYPES:
                add((*cpath, "match_type"), f"Unknown match_type {match_type!r}.",
                    f"Use one of: {', '.join(MATCH_TYPES)}.")
            if decision == "proposed":
                continue
            for key in ("reviewer",):
                if not cand.get(key):
                    add((*cpath, key), f"A {decision} candidate needs `{key}`.",
                        "Write who decided (name or ORCID iD).", record_id=actor_id)
            decision_date = cand.get("decision_date")
            if not decision_date or not _is_date(decision_date):
                add((*cpath, "decision_date"),
                    f"A {decision} candidate needs `decision_date` as YYYY-MM-DD.",
                    "Write the date of the decision.", record_id=actor_id)
            if decision != "accepted":
                continue
            accepted["ror" if is_ror else "wikidata"].append((target, cpath))
            reference = cand.get("reference")
            if not reference or not re.match(r"^https?://\S+$", str(reference)):
                add((*cpath, "reference"),
                    f"Accepted link to {target} has no reference: every published link must "
                    "say where it was checked.",
                    "Give the Wikidata item page or ROR record (https://...) you checked.",
                    code="unreferenced", record_id=actor_id)
            revision = cand.get("checked_revision")
            retrieved = cand.get("retrieved_on")
            if revision and not re.fullmatch(r"[1-9][0-9]*", str(revision)):
                add((*cpath, "checked_revision"), f"{revision!r} is not a revision id.",
                    "Give the item's revision number (digits) or leave it out.")
            if retrieved and not _is_date(retrieved):
                add((*cpath, "retrieved_on"), f"{retrieved!r} is not a date (YYYY-MM-DD).",
                    "Write the date the reference was read.")
            if not revision and not retrieved:
                add((*cpath, "reference"),
                    f"Accepted link to {target} says neither the revision "
                    "(`checked_revision`) nor the date (`retrieved_on`) it was checked against.",
                    "Add the revision id or the retrieval date.", code="unreferenced",
                    record_id=actor_id)
            if match_type != "exact" and not cand.get("match_reason"):
                add((*cpath, "match_reason"),
                    f"A {match_type} match needs `match_reason` (why it is not the same thing).",
                    "Say why, or use match_type: exact.", record_id=actor_id)
            if is_ror and match_type != "exact":
                add((*cpath, "match_type"), "A ROR id is published only as an exact match.",
                    "Use match_type: exact, or reject the candidate.", record_id=actor_id)
            if cand.get("redirected_to"):
                add((*cpath, "redirected_to"),
                    f"{target} is accepted but Wikidata now redirects it to "
                    f"{cand['redirected_to']} (merged); it is not published.",
                    f"Review the proposed {cand['redirected_to']} and set this candidate to "
                    "rejected.", code="redirected", record_id=actor_id)
            if cand.get("problem") and not cand.get("redirected_to"):
                add((*cpath, "problem"), f"{target} is accepted but flagged: {cand['problem']}",
                    "Check the item; reject the candidate if it is gone.", code="flagged",
                    record_id=actor_id)
            if not is_ror and QID_PATTERN.match(target):
                other = accepted_qids.get(target)
                if other and other[0] != actor_id:
                    add((*cpath, "target"), f"{target} is also accepted for {other[0]!r}: "
                                            "owl:sameAs would make the two actors one.",
                        "Merge the two records, or reject one of the links.",
                        code="duplicate", record_id=actor_id)
                else:
                    accepted_qids[target] = (actor_id, cpath)
        for kind, items in accepted.items():
            if len(items) > 1:
                add(items[1][1], f"{len(items)} {kind} targets are accepted for {actor_id!r} "
                                 f"({', '.join(t for t, _ in items)}); at most one may be.",
                    "Keep the one that is the same thing; reject or weaken the others.",
                    record_id=actor_id)
    # actors without a Wikidata link: the dataset says so (a warning, not an error)
    linked = {a for a, _ in accepted_qids.values()}
    status_of = {e.get("actor"): e for e in review.entries if isinstance(e, dict)}
    for actor in actors:
        if actor.id in linked:
            continue
        entry = status_of.get(actor.id)
        if entry is None:
            issues.append(Issue(rel, 0, actor.id, f"{actor.id} has not been looked up yet.",
                                "Run `healthcoop link`.", Severity.WARNING, "unlinked",
                                record_id=actor.id))
            continue
        i = review.entries.index(entry)
        status = entry.get("status") or "not-found"
        add(("links", i, "status"), f"{actor.id} has no accepted Wikidata link ({status}).",
            "Review its candidates, or leave it unlinked if Wikidata has no item for it.",
            Severity.WARNING, "unlinked", actor.id)
    return sorted(issues, key=lambda x: (x.line, x.field, x.message))


def _is_date(value: Any) -> bool:
    if not isinstance(value, str) or not DATE_PATTERN.match(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


# --- outputs for the build ----------------------------------------------------------------------

def _accepted(root: Path) -> tuple[list[dict], list[Actor]]:
    """(entries, actors), after checking the file; errors stop publication."""
    actors = _load_actors(root)
    issues = check_review_file(root, actors)
    errors = [i for i in issues if i.severity == Severity.ERROR]
    if errors:
        raise InvalidData(f"{len(errors)} error(s) in {REVIEW_FILE}; no links published.",
                          issues=errors,
                          fix="Fix the review file (docs/linking.md), then build again.")
    entries = [e for e in read_review(root).entries if isinstance(e, dict)]
    entries.sort(key=lambda e: e.get("actor", ""))
    return entries, actors


def _accepted_candidates(entry: dict) -> list[dict]:
    return [c for c in entry.get("candidates") or []
            if isinstance(c, dict) and c.get("decision") == "accepted"]


def link_triples(root: Path) -> Iterator[Triple]:
    """Accepted links as triples on the actor IRIs, each with a reified reference node."""
    entries, _ = _accepted(root)
    for entry in entries:
        actor = HCID[entry["actor"]]
        for cand in _accepted_candidates(entry):
            target_id = cand["target"]
            if target_id.startswith("https://ror.org/"):
                node = URIRef(f"{actor}#ror-link")
                target = URIRef(target_id)
                predicate = HC.rorId
            else:
                node = URIRef(f"{actor}#wikidata-link")
                target = WD[target_id]
                predicate = MATCH_TYPES[cand.get("match_type") or "exact"]
            yield actor, predicate, target
            yield actor, HC.link, node
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


_ZH_TAGS = {"zh": "zh", "zh-hans": "zh-Hans", "zh-hant": "zh-Hant", "zh-cn": "zh-CN",
            "zh-hk": "zh-HK", "zh-tw": "zh-TW"}


def enrichment_triples(root: Path) -> Iterator[Triple]:
    """Chinese and English labels from Wikidata for accepted links, as `skos:altLabel`, plus
    provenance about the graph (ENRICHMENT_GRAPH) that the build puts them in."""
    entries, _ = _accepted(root)
    sources: list[URIRef] = []
    for entry in entries:
        actor = HCID[entry["actor"]]
        ours = normalise(entry.get("label") or "")
        for cand in _accepted_candidates(entry):
            enrichment = cand.get("enrichment")
            if not QID_PATTERN.match(cand["target"]) or not isinstance(enrichment, dict):
                continue
            labels = enrichment.get("labels") or {}
            if not isinstance(labels, dict):
                continue
            seen = set()
            for lang in ("en", *_ZH_TAGS):
                text = labels.get(lang)
                if not isinstance(text, str) or not text.strip():
                    continue
                tag = "en" if lang == "en" else _ZH_TAGS[lang]
                if (lang == "en" and normalise(text) == ours) or (text, tag) in seen:
                    continue
                seen.add((text, tag))
                yield actor, SKOS.altLabel, Literal(text, lang=tag)
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


def linkset_files(root: Path, out_dir: Path) -> list[Path]:
    """Write the link set (every decision, accepted and rejected, and the actors left
    unlinked) as SSSOM TSV with its YAML metadata header; same input, same bytes."""
    entries, actors = _accepted(root)
    meta = _dataset_meta(root)
    rows = []
    has_qid = set()
    for entry in entries:
        actor_id = entry["actor"]
        for cand in entry.get("candidates") or []:
            if not isinstance(cand, dict) or cand.get("decision") not in ("accepted", "rejected"):
                continue
            target = cand["target"]
            is_ror = target.startswith("https://ror.org/")
            if is_ror:
                obj, predicate, source = "ror:" + target.rsplit("/", 1)[1], "skos:exactMatch", \
                    "https://ror.org/"
            else:
                obj = "wikidata:" + target
                predicate = {"exact": "owl:sameAs", "close": "skos:closeMatch",
                             "broad": "skos:broadMatch", "narrow": "skos:narrowMatch",
                             "related": "skos:relatedMatch"}[cand.get("match_type") or "exact"]
                source = "http://www.wikidata.org/entity/"
                if cand["decision"] == "accepted":
                    has_qid.add(actor_id)
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
                "published as hc:rorId" if is_ror else "",
                cand.get("note") or "",
                f"checked {cand['retrieved_on']}" if cand.get("retrieved_on") else "",
            ) if x)
            rows.append({
                "subject_id": f"hcid:{actor_id}",
                "subject_label": entry.get("label") or "",
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
    by_id = {e["actor"]: e for e in entries}
    for actor in actors:
        if actor.id in has_qid:
            continue
        entry = by_id.get(actor.id, {})
        status = entry.get("status") or "not-looked-up"
        note = entry.get("status_note") or ""
        rows.append({
            "subject_id": f"hcid:{actor.id}",
            "subject_label": actor.label,
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
            "comment": f"no accepted Wikidata link: {status}" + (f"; {note}" if note else ""),
        })
    rows.sort(key=lambda r: (r["subject_id"], r["object_source"], r["object_id"],
                             r["predicate_modifier"]))
    header = {
        "curie_map": {
            "hcid": "https://w3id.org/healthcoop/id/",
            "wikidata": "http://www.wikidata.org/entity/",
            "ror": "https://ror.org/",
            "owl": "http://www.w3.org/2002/07/owl#",
            "skos": "http://www.w3.org/2004/02/skos/core#",
            "semapv": "https://w3id.org/semapv/vocab/",
            "sssom": "https://w3id.org/sssom/",
        },
        "mapping_set_id": LINKSET_ID,
        "mapping_set_version": meta.get("version", ""),
        "mapping_set_title": "healthcoop link set: actors to Wikidata and ROR",
        "mapping_set_description": (
            "Every reviewed decision about linking a healthcoop person or organisation to a "
            "Wikidata item or ROR record: accepted (published as owl:sameAs, a SKOS match or "
            "hc:rorId) and rejected (predicate_modifier Not), with score, method, reviewer, "
            "date and reference; actors without an accepted Wikidata link appear with "
            "sssom:NoTermFound."),
        "license": meta.get("licence", "https://creativecommons.org/licenses/by/4.0/"),
        "subject_source": "https://w3id.org/healthcoop/id/",
    }
    text = io.StringIO()
    meta_yaml = yaml.dump(header, Dumper=_Dumper, sort_keys=False, allow_unicode=True,
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


def _dataset_meta(root: Path) -> dict:
    path = root / "data/dataset.yaml"
    if not path.exists():
        return {}
    doc = load_yaml(path, root, IssueList())
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
    offline_misses: list[str] = field(default_factory=list)
    redirected: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    cache_discarded: list[str] = field(default_factory=list)
    requests: int = 0
    fatal: str = ""
    review_file: str = REVIEW_FILE.as_posix()
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
                   + (f"; ROR subset: {self.ror_subset}" if self.ror_subset else ""))
        return [terminal_safe(line) for line in out]


def run_link(root: Path, options: LinkOptions | None = None) -> LinkSummary:
    """`healthcoop link`: propose links, keep decisions, check merges, write the review file."""
    options = options or LinkOptions()
    root = root.resolve()
    today = (options.today or date.today()).isoformat()
    summary = LinkSummary()
    review = read_review(root)
    if review.issues:  # never overwrite a file a person is editing and we cannot read
        raise InvalidData(f"{REVIEW_FILE} cannot be read; it was left as it is.",
                          issues=review.issues, fix="Fix the YAML, then run again.")
    actors = _load_actors(root)
    summary.actors = len(actors)

    ror_records: dict[str, RorRecord] = {}
    if options.ror_source is not None:
        ror_records = load_ror(options.ror_source)
    elif (root / ROR_SUBSET).exists():
        ror_records = load_ror(root / ROR_SUBSET)
    index = RorIndex(ror_records)

    client = None
    if options.wikidata:
        ua = check_user_agent(options.user_agent or user_agent(options.contact))
        cache = ResponseCache(options.cache_dir or root / ".cache/wikidata")
        client = WikidataClient(
            endpoint=options.endpoint, user_agent=ua, session=options.session, cache=cache,
            offline=options.offline, clock=options.clock or Clock(),
            retry=options.retry or RetryPolicy(), timeout=options.timeout or (10.0, 60.0))
    resolver = _Resolver(client) if client else None

    old = {e.get("actor"): e for e in review.entries if isinstance(e, dict)}
    outcomes: dict[str, WikidataOutcome] = {}
    new_candidates: dict[str, list[dict]] = {}
    for actor in _progress(actors, options.progress):
        cands = ror_candidates(actor, index, today)
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

    entries = []
    for actor in actors:
        outcome = outcomes[actor.id]
        complete = {"ror": bool(ror_records),
                    "wikidata": client is not None and not outcome.misses and not outcome.error}
        entry = _merge_entry(actor, old.pop(actor.id, None), new_candidates[actor.id], complete)
        entries.append(entry)
    entries += [e for e in old.values() if e is not None]  # unknown actors: kept, and flagged
    entries.sort(key=lambda e: str(e.get("actor", "")))

    if client is not None and not summary.fatal:
        fetched = {q: r for o in outcomes.values() for q, r in o.entities.items()}
        try:
            _check_items(entries, client, fetched, options.enrich, today, summary)
        except WikidataUnavailable as err:
            summary.fatal = err.message

    by_actor = {a.id: a for a in actors}
    for entry in entries:
        entry["candidates"] = [_ordered(c) for c in entry.get("candidates") or []
                               if isinstance(c, dict)]
        actor = by_actor.get(entry.get("actor"))
        _set_status(entry, outcomes.get(entry.get("actor")), actor)
        bucket = {"linked": summary.linked, "proposed": summary.proposed,
                  "ambiguous": summary.ambiguous, "not-found": summary.not_found,
                  "not-looked-up": summary.not_looked_up, "error": summary.errors}
        if actor is not None:
            bucket[entry["status"]].append(actor.id)
        for cand in entry.get("candidates") or []:
            if str(cand.get("target", "")).startswith("https://ror.org/"):
                if cand.get("decision") == "accepted":
                    summary.ror_accepted.append(entry["actor"])
                elif cand.get("decision") == "proposed":
                    summary.ror_proposed.append(entry["actor"])

    _atomic_write(root / REVIEW_FILE, render_review(entries))
    if options.ror_source is not None:
        summary.ror_subset = _write_ror_subset(root, options.ror_source, ror_records, entries,
                                               today)
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
                  "wikidata-search": "wikidata"}


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
    merged.sort(key=lambda c: (0 if QID_PATTERN.match(str(c.get("target", ""))) else 1,
                               -_score(c), _qid_key(str(c.get("target", "")))))
    entry = {
        "actor": actor.id,
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
                     if QID_PATTERN.match(str(c.get("target", "")))
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
            labels = entity_labels(res.entity)
            if not decided:  # fill in what the ROR route could not know
                cand["label"] = labels.get("en") or cand.get("label") or ""
                cand["description"] = entity_description(res.entity) or cand.get("description")
                if cand.get("method") != "ror-listed-wikidata":
                    cand["checked_revision"] = str(res.revision or "")
                    cand["retrieved_on"] = res.retrieved[:10]
            elif not cand.get("label") and labels.get("en"):
                cand["label"] = labels["en"]
            if enrich and cand.get("decision") == "accepted":
                picked = {k: v for k, v in labels.items() if k == "en" or k in _ZH_TAGS}
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
        "label": labels.get("en", ""),
        "description": entity_description(res.entity),
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
             if QID_PATTERN.match(str(c.get("target", "")))]
    accepted = [c for c in cands if c.get("decision") == "accepted" and not c.get("problem")]
    proposed = sorted((c for c in cands if c.get("decision") == "proposed"
                       and not c.get("problem")), key=lambda c: -_score(c))
    note = ""
    if actor is None:
        status, note = "error", "no person or organisation record has this id"
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


def _write_ror_subset(root: Path, source: Path, records: dict[str, RorRecord],
                      entries: list[dict], today: str) -> str:
    """Copy the ROR records the review file uses (proposed or decided) into the repo."""
    used = sorted({str(c["target"]) for e in entries for c in e.get("candidates") or []
                   if str(c.get("target", "")).startswith("https://ror.org/")
                   and str(c["target"]) in records})
    lines = [records[r].line for r in used]
    _atomic_write(root / ROR_SUBSET, "".join(line + "\n" for line in lines))
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    releases = sorted({records[r].release for r in used}, key=_release_key)
    readme = f"""# ROR records used by the linker

`ror-subset.jsonl` holds {len(used)} organisation record(s) of the Research Organization
Registry (ROR, https://ror.org), one JSON object a line, copied byte for byte and sorted by
ROR id. ROR publishes its registry data under CC0 1.0
(https://creativecommons.org/publicdomain/zero/1.0/).

Where it comes from: an offline copy of ROR records, `{source.name}`
(sha256 `{digest}`),
itself taken from the public repository ror-community/ror-records, which keeps the records
created or changed in each ROR data release; for each ROR id the newest version was kept.
Each line keeps its `ror_release` (the release it comes from) and `record_path` (where it sits
in that repository). Releases used here: {', '.join(releases) or 'none'}.

How it was selected ({today}, `healthcoop link --ror-source ...`): only records that the
linker matched to one of our organisations and wrote into `data/links.yaml` as a candidate
(proposed or decided). A name matches when, after normalising case, accents, apostrophes,
punctuation and a leading "The", it equals a ROR name, label or alias, or reaches
{ROR_FUZZY_CUTOFF}/100 with rapidfuzz `ratio` once spaces, legal forms (Ltd, Co) and British/
American spellings are set aside, or (acronyms, same country only) equals a ROR acronym;
then country and type consistency are scored (docs/linking.md). Records matched for no actor
are not copied.

Use: a ROR id, or a Wikidata QID its record lists, is published with `https://ror.org/<id>`
and the record's release as the reference. The build and the tests read only this copy.
"""
    _atomic_write(root / ROR_README, readme)
    return ROR_SUBSET.as_posix()


def _release_key(release: str) -> tuple:
    return tuple(int(x) for x in re.findall(r"\d+", release))

