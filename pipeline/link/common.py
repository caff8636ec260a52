"""What every part of the linker shares: the entities it links, names and their comparison.

In:  the records (`load_entities`; `records`: the project's RecordSet if already read).
Out: `Entities` (the persons, organisations and places the review file may name, as `Actor`),
     the paths and patterns of the review file and the ROR copy, the scoring constants, and
     the name helpers (`normalise`, `name_similarity`, `country_code`, `control_problem`).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from rapidfuzz import fuzz
from rdflib.namespace import OWL, SKOS
from rdflib.term import Node

from pipeline.errors import IssueList

Triple = tuple[Node, Node, Node]

REVIEW_FILE = Path("data/links.yaml")
ROR_DIR = Path("data/reference/ror")
ROR_SUBSET = ROR_DIR / "ror-subset.jsonl"
ROR_README = ROR_DIR / "README.md"
ROR_SELECTION = ROR_DIR / "selection.json"
WIKIDATA_PAGE = "https://www.wikidata.org/wiki/"
ROR_PATTERN = re.compile(r"^https://ror\.org/0[0-9a-z]{6}[0-9]{2}\Z")
QID_TARGET = re.compile(r"^Q[1-9][0-9]{0,11}\Z")
ISO_TARGET = re.compile(r"^iso3166-1:[A-Z]{2}\Z")
DATE_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}\Z")
ID_PATTERN = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*\Z")

# scoring
PROPOSE_AT = 0.75         # candidates below this are not written to the review file
AMBIGUITY_MARGIN = 0.05   # two proposals this close: ambiguous, the linker does not pick
MAX_CANDIDATES = 5
SEARCH_LIMIT = 7
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
SKOS_CURIES = {"exact": "skos:exactMatch", "close": "skos:closeMatch",
               "broad": "skos:broadMatch", "narrow": "skos:narrowMatch",
               "related": "skos:relatedMatch"}
STATUSES = ("linked", "proposed", "ambiguous", "not-found", "not-looked-up", "error")
AUTO_REVIEWER = "ror-exact-match"


def target_kind(target: str) -> str:
    """wikidata | ror | iso | '' (not a target we know)."""
    if QID_TARGET.match(target):
        return "wikidata"
    if target.startswith("https://ror.org/"):
        return "ror"
    if target.startswith("iso3166-1:"):
        return "iso"
    return ""


# --- the entities we link -------------------------------------------------------------------------

@dataclass(frozen=True)
class ActorName:
    text: str
    kind: str  # label | variant | acronym | misspelling | former-name


@dataclass(frozen=True)
class Actor:
    """A person, organisation or place that the review file has an entry for. (Places are
    `kind == "place"`; the name is kept for the modules and tests that use it.)"""
    id: str
    kind: str                 # person | organisation | place
    type: str                 # the organisation or place type, or "person"
    label: str
    names: tuple[ActorName, ...]
    country: str | None = None
    country_names: tuple[str, ...] = ()   # normalised names of the record's country
    country_code: str | None = None       # ISO 3166-1 alpha-2, when the country is known
    roles: tuple[str, ...] = ()           # role titles the records give this person
    country_via: str = ""                 # "part_of X" when the country comes from a parent

    @property
    def entry_key(self) -> str:
        return "place" if self.kind == "place" else "actor"


@dataclass
class Entities:
    """What the review file may name: actors and places, and the ids of records that failed
    their schema (they exist, but could not be read: never reported as unknown)."""
    actors: list[Actor] = field(default_factory=list)
    places: list[Actor] = field(default_factory=list)
    failed: set[str] = field(default_factory=set)
    # retired records (`deprecated:`): their entries stay valid, so that retiring an actor as
    # CONTRIBUTING.md describes never turns its review entry into an "unknown id" error
    retired: set[str] = field(default_factory=set)

    @property
    def all(self) -> list[Actor]:
        return sorted(self.actors + self.places, key=lambda a: a.id)


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


def load_entities(root: Path, records=None) -> Entities:
    """Persons, organisations and places from the records, sorted by id (tombstones left
    out), and the ids of records that failed their schema. `records`: the project's
    RecordSet when the caller has already read it (the records are then not read again)."""
    from pipeline.read.record_types import Organisation, Person, Place, Role
    from pipeline.read.records import load_records

    if records is None:
        records = load_records(root, IssueList())
    places = {p.id: p for p in records.of(Place)}
    organisations = {o.id: o for o in records.of(Organisation)}
    roles: dict[str, list[str]] = {}
    for role in records.of(Role):
        roles.setdefault(role.person, []).append(role.title)
    out = Entities(failed=set(records.failed))
    # retired records of every kind; the actors and places are never packed (record_store)
    out.retired.update(rid for rid in records.records if records.facts(rid).deprecated)
    for record in sorted(records.records.objects(), key=lambda r: r.id):
        if record.id in out.retired:
            continue
        if isinstance(record, (Person, Organisation)):
            names = [ActorName(record.label, "label")]
            names += [ActorName(a.label, a.kind) for a in record.alt_labels]
            country, via = record.country, ""
            if country is None and isinstance(record, Organisation):
                country, via = _parent_country(record, organisations)
            code, country_names = _country(country, places)
            out.actors.append(Actor(
                id=record.id,
                kind=record.kind,
                type=record.type if isinstance(record, Organisation) else "person",
                label=record.label,
                names=tuple(names),
                country=country,
                country_names=country_names,
                country_code=code,
                roles=tuple(roles.get(record.id, ())),
                country_via=via,
            ))
        elif isinstance(record, Place):
            names = [ActorName(record.label, "label")]
            names += [ActorName(a.label, a.kind) for a in record.alt_labels]
            start = record.id if record.type == "country" else record.country
            code, country_names = _country(start, places)
            out.places.append(Actor(
                id=record.id, kind="place", type=record.type, label=record.label,
                names=tuple(names), country=record.country, country_names=country_names,
                country_code=code))
    return out


def _parent_country(record, organisations: dict) -> tuple[str | None, str]:
    """The country of the nearest `part_of` ancestor that states one."""
    seen = {record.id}
    current = record.part_of
    while current and current not in seen and len(seen) < 8:
        seen.add(current)
        parent = organisations.get(current)
        if parent is None:
            break
        if parent.country:
            return parent.country, f"part_of {current}"
        current = parent.part_of
    return None, ""


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

def terminal_safe(text: str) -> str:
    """Text for a terminal: control characters (escape sequences, newlines) made visible."""
    out = []
    for ch in str(text):
        if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp", "Cs") and ch != " ":
            out.append(ch.encode("unicode_escape", "backslashreplace").decode("ascii"))
        else:
            out.append(ch)
    return "".join(out)


def control_problem(text: str) -> str:
    """Why `text` may not be written or published (a control character or a lone surrogate,
    as records refuse), or '' when it may."""
    for ch in text:
        cat = unicodedata.category(ch)
        if cat == "Cs":
            return f"a lone surrogate U+{ord(ch):04X} (broken UTF-16)"
        if cat == "Cc" or ch in "\u2028\u2029":
            return f"the control character U+{ord(ch):04X}"
    return ""


# spelling variants and legal forms that do not make two names different
_SPELLING = {"centre": "center", "centres": "centers", "organisation": "organization",
             "organisations": "organizations", "programme": "program", "paediatric": "pediatric",
             "paediatrics": "pediatrics", "haematology": "hematology", "tumour": "tumor",
             "anaesthesia": "anesthesia", "labour": "labor", "defence": "defense"}
_LEGAL_FORMS = {"ltd", "limited", "co", "inc", "incorporated", "plc", "llc", "gmbh", "corp"}


def folded_tokens(text: str) -> list[str]:
    """A name's words for comparison: normalised, British/American spelling and legal forms
    (Ltd, Co, Inc, plc) set aside."""
    return [_SPELLING.get(t, t) for t in normalise(text).split() if t not in _LEGAL_FORMS]


def folded_forms(text: str) -> tuple[str, str]:
    """A name folded for comparison: normalised, British/American spelling and legal forms
    (Ltd, Co, Inc, plc) ignored, spaces removed; in its own word order and sorted."""
    tokens = folded_tokens(text)
    return "".join(tokens), "".join(sorted(tokens))


def name_similarity(ours: str, theirs: str) -> float:
    """0-100 (rapidfuzz `ratio` on folded names, either word order). Strict on purpose:
    'Hainan Medical University' / 'Henan Medical University' score 93, not a match."""
    a, b = folded_forms(ours), folded_forms(theirs)
    if not a[0] or not b[0]:
        return 0.0
    return max(fuzz.ratio(a[0], b[0]), fuzz.ratio(a[1], b[1]))


def _fmt(score: float) -> str:
    return f"{score:.3f}"


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
