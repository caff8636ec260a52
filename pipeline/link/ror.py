"""ROR, the offline authority for organisations: candidates a reviewer can decide on.

In:  ROR records (`data/reference/ror/ror-subset.jsonl`, or a full ROR file given with
     `healthcoop link --ror-source`), our organisations and places.
Out: review-file candidates (the ROR id, and the Wikidata items the record lists), each with a
     score and the features behind it (`ror_candidates`); the index also serves
     pipeline.link.ror_subset, which re-selects the copy with --ror-source.

Names are compared four ways, best first: equal after normalising case, accents and
punctuation ("exact"); the same letters give or take a few (rapidfuzz `ratio` >= 97 once
spaces, legal forms and UK/US spelling are set aside: "spelling"); the same words, one name's
words all inside the other's ("words": "Barts NHS Trust" in "Barts Health NHS Trust",
"Tencent" in "Shenzhen Tencent Computer Systems"), where place names (countries, our places)
and generic words (university, department, health, ...) count for little and at least one
distinctive word must be shared; and acronyms. Every ROR name counts: display name, labels in
other languages, aliases, acronyms. Country and type are the rest of the evidence.

The score of a candidate depends only on the two records, never on what else is in the file,
so the subset (pipeline.link.ror_subset: every record that reaches SELECT_AT for some
organisation) proposes exactly what the full file would.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from rapidfuzz import fuzz, process

from pipeline.errors import EnvironmentProblem

from .client import QID_PATTERN
from .common import (
    _ROR_TYPES,
    AUTO_REVIEWER,
    PROPOSE_AT,
    ROR_PATTERN,
    STATE_VALUE,
    Actor,
    ActorName,
    _fmt,
    control_problem,
    folded_forms,
    folded_tokens,
    name_similarity,
    normalise,
)

ROR_FUZZY_CUTOFF = 97     # rapidfuzz ratio of folded names for a "spelling" match
ROR_MAX_CANDIDATES = 3
NAME_WEIGHT, COUNTRY_WEIGHT, TYPE_WEIGHT = 0.7, 0.2, 0.1
MAX_LINE_BYTES = 1_000_000
_ACRONYM = re.compile(r"[A-Z][A-Z0-9&]{1,9}")

# Words that name what kind of body something is, not which one: sharing them proves little.
GENERIC_WORDS = frozenset("""
academy administration affairs affiliated agency association authority board branch bureau
care center centers central chamber city clinic clinics college commission committee company
computer cooperation corporation council department development division exchange faculty
federal first foundation general global government group health healthcare holdings hospital
hospitals industries industry information institute institution international lab laboratory
limited medical medicine medicines ministry municipal national network networks office
partners partnership pharmaceutical pharmaceuticals products program project provincial public
regional research school science sciences second service services social society state
system systems technologies technology third trust unit university
""".split())
STOP_WORDS = frozenset("of the and for in at on de du des la le der und".split())
# phrases that are places: every country pycountry knows (name, common and official name),
# the names of _COUNTRY_NAMES, and the places of our records
_PLACE_WORDS_MAX = 8


def _country_phrases() -> dict[tuple[str, ...], str]:
    import pycountry

    from .common import _COUNTRY_NAMES

    phrases: dict[tuple[str, ...], str] = {}
    for country in pycountry.countries:
        for attr in ("name", "common_name", "official_name"):
            value = getattr(country, attr, None)
            if value:
                for part in value.split(","):  # "Korea, Republic of"
                    key = tuple(folded_tokens(part))
                    if key and len(key) <= _PLACE_WORDS_MAX:
                        phrases.setdefault(key, country.alpha_2)
    for code, names in _COUNTRY_NAMES.items():
        for name in names:
            phrases.setdefault(tuple(folded_tokens(name)), code)
    # single words that are also everyday words in organisation names are not places
    for word in ("of", "republic", "united", "state", "states", "kingdom", "islands", "the"):
        phrases.pop((word,), None)
    return phrases


@dataclass(frozen=True)
class NameWords:
    """A name's words, classified: places count for little, generic words for a little more,
    distinctive words are what two names must share to be the same body."""
    core: frozenset[str]          # words that are not places (nor stop words)
    distinctive: frozenset[str]   # core words that are not generic
    places: tuple[str, ...]       # the place phrases found, as written (normalised)
    place_codes: frozenset[str]   # ISO codes those place phrases stand for, where known


class Vocabulary:
    """Place phrases (countries and our places) for telling apart the words of a name."""

    def __init__(self, places: list[Actor] | None = None):
        self.phrases = _country_phrases()
        for place in places or []:
            for name in place.names:
                key = tuple(folded_tokens(name.text))
                if key and len(key) <= _PLACE_WORDS_MAX:
                    self.phrases.setdefault(key, place.country_code or "")
        self.longest = max((len(k) for k in self.phrases), default=1)

    def words(self, text: str) -> NameWords:
        tokens = [t for t in folded_tokens(text) if t not in STOP_WORDS]
        places: list[str] = []
        codes: set[str] = set()
        core: list[str] = []
        i = 0
        while i < len(tokens):
            for size in range(min(self.longest, len(tokens) - i), 0, -1):
                key = tuple(tokens[i:i + size])
                if key in self.phrases:
                    places.append(" ".join(key))
                    if self.phrases[key]:
                        codes.add(self.phrases[key])
                    i += size
                    break
            else:
                core.append(tokens[i])
                i += 1
        core_set = frozenset(core)
        return NameWords(core_set, frozenset(core_set - GENERIC_WORDS), tuple(places),
                         frozenset(codes))


# --- records --------------------------------------------------------------------------------------

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
    established: str
    line: str  # the JSON line as read, copied byte for byte into the subset


def load_ror(path: Path) -> dict[str, RorRecord]:
    """ROR records from a JSON-lines file (one record a line), by ROR IRI."""
    records: dict[str, RorRecord] = {}
    try:
        handle = path.open("rb")
    except OSError as err:
        raise EnvironmentProblem(f"Cannot read the ROR file {path}: {err.strerror}.",
                                 fix="Check the path given with --ror-source.") from err
    with handle:
        for number, raw_line in enumerate(handle, start=1):
            if len(raw_line) > MAX_LINE_BYTES:
                raise EnvironmentProblem(f"{path}:{number}: a line of {len(raw_line)} bytes is "
                                         "not a ROR record.",
                                         fix="Give a ROR file with one record a line.")
            try:
                line = raw_line.decode("utf-8").rstrip("\n")
            except UnicodeDecodeError as err:
                raise EnvironmentProblem(f"{path}:{number}: not UTF-8 ({err.reason}).",
                                         fix="Restore the file from version control or "
                                             "re-create the subset with --ror-source.") from err
            if not line.strip():
                continue
            try:
                record = _record(json.loads(line), line)
            except (ValueError, KeyError, IndexError, TypeError, AttributeError,
                    RecursionError) as err:
                raise EnvironmentProblem(
                    f"{path}:{number}: not a ROR record ({type(err).__name__}: {err}).",
                    fix="Restore the file from version control or re-create the subset with "
                        "--ror-source.") from err
            if not ROR_PATTERN.match(record.id):
                raise EnvironmentProblem(f"{path}:{number}: {record.id!r} is not a ROR id.",
                                         fix="Restore the file from version control.")
            records[record.id] = record
    return records


def _record(raw: dict, line: str) -> RorRecord:
    names = []
    for n in raw["names"]:
        value = n["value"]
        if not isinstance(value, str):
            raise TypeError("a name is not a string")
        if control_problem(value):
            continue  # never written or published; the other names still count
        names.append((value, tuple(str(t) for t in n.get("types") or ())))
    if not names:
        raise ValueError("no usable name")
    display = next((v for v, types in names if "ror_display" in types), names[0][0])
    return RorRecord(
        id=str(raw["id"]),
        display=display,
        names=tuple(names),
        types=tuple(str(t).lower() for t in raw.get("types") or ()),
        status=str(raw.get("status", "")),
        countries=tuple(str(c) for c in raw.get("countries") or ()),
        wikidata=tuple(q for q in raw.get("wikidata") or ()
                       if isinstance(q, str) and QID_PATTERN.match(q) and len(q) <= 13),
        release=str(raw.get("ror_release", "")),
        established=str(raw.get("established") or ""),
        line=line,
    )


# --- matching -------------------------------------------------------------------------------------

@dataclass
class RorMatch:
    record: RorRecord
    score: float
    name_score: float        # 0-100
    ours: ActorName
    theirs: str
    theirs_types: tuple[str, ...]
    how: str                 # exact | spelling | words | acronym
    country: str
    type: str
    evidence: list[str]

    @property
    def exact(self) -> bool:
        return self.how == "exact"

    @property
    def acronym(self) -> bool:
        return self.how == "acronym"


def _words_score(ours: NameWords, theirs: NameWords) -> tuple[float, str] | None:
    """(name score 0-100, explanation) when one name's words are all in the other's.

    96 for the same words; each word the ROR name adds costs 4 if generic ("Barts Health
    NHS Trust" for "Barts NHS Trust") and 10 if distinctive ("Barts Charity" for "Barts": more
    likely another body); each word our name adds costs 4, up to three ("Shenzhen Tencent
    Computer Systems" for "Tencent": ours may be part of it, a broad match). Without a shared
    distinctive word the score stays at 75 or below, and only a name adding generic words
    may match: then the country decides."""
    if not ours.core or not theirs.core:
        return None
    if ours.core == theirs.core:
        extra, side = frozenset(), ""
    elif ours.core < theirs.core:
        extra, side = theirs.core - ours.core, "ROR"
    elif theirs.core < ours.core:
        extra, side = ours.core - theirs.core, "ours"
    else:
        return None
    shared = ours.distinctive & theirs.distinctive
    if side == "ours":
        if len(extra) > 3:
            return None
        score = 96 - 4 * len(extra)
    else:
        score = 96 - 4 * len(extra & GENERIC_WORDS) - 10 * len(extra - GENERIC_WORDS)
    if not shared:
        if side == "ours" or extra - GENERIC_WORDS:
            return None  # nothing distinctive shared, and one name says more
        score = min(score, 75)  # generic words only: the country must decide
    if score < 60:
        return None
    words = ", ".join(sorted(shared)) or "generic words only: " + ", ".join(sorted(ours.core))
    if not side:
        how = f"the same words ({words}) once place names and word order are set aside"
    elif side == "ROR":
        how = (f"our words ({words}) are all in the ROR name, which adds "
               f"{', '.join(sorted(extra))}: the same body under a fuller name, or a part of it")
    else:
        how = (f"the ROR name's words ({words}) are all in ours, which adds "
               f"{', '.join(sorted(extra))}: ours may be a part of the ROR organisation "
               "(a broad match)")
    return float(score), how


class RorIndex:
    """Names of ROR records: normalised (exact), folded (spelling), by word (words), acronyms."""

    def __init__(self, records: dict[str, RorRecord], vocabulary: Vocabulary | None = None):
        self.records = records
        self.vocabulary = vocabulary or Vocabulary()
        self.by_name: dict[str, list[tuple[str, str, tuple[str, ...]]]] = {}
        self.by_folded: dict[str, list[tuple[str, str, tuple[str, ...]]]] = {}
        self.acronyms: dict[str, list[tuple[str, str]]] = {}
        self.names: list[tuple[str, str, tuple[str, ...], NameWords]] = []
        self.by_word: dict[str, list[int]] = {}
        for record in records.values():
            for value, types in record.names:
                if "acronym" in types:
                    self.acronyms.setdefault(value.strip(), []).append((record.id, value))
                    continue
                key = normalise(value)
                if not key:
                    continue
                self.by_name.setdefault(key, []).append((record.id, value, types))
                for form in set(folded_forms(value)):
                    self.by_folded.setdefault(form, []).append((record.id, value, types))
                words = self.vocabulary.words(value)
                index = len(self.names)
                self.names.append((record.id, value, types, words))
                for word in words.core:
                    self.by_word.setdefault(word, []).append(index)
        self.folded = list(self.by_folded)

    def match(self, actor: Actor, threshold: float = PROPOSE_AT) -> list[RorMatch]:
        if actor.kind != "organisation":
            return []
        best: dict[str, RorMatch] = {}
        for name in actor.names:
            if name.kind == "misspelling":
                continue
            for rid, value, types, score, how in self._found(name):
                match = self._score(actor, self.records[rid], name, value, types, score, how)
                old = best.get(rid)
                if old is None or (match.score, match.exact) > (old.score, old.exact):
                    best[rid] = match
        matches = [m for m in best.values() if m.score >= threshold]
        if any(m.exact and m.country != "inconsistent" for m in matches):
            # once the full name matched, an acronym or a partial name adds only noise
            matches = [m for m in matches if m.how in ("exact", "spelling")]
        matches.sort(key=lambda m: (-m.score, m.record.id))
        return matches  # all of them: rivals count even beyond the ones written

    def _found(self, name: ActorName):
        if name.kind == "acronym" or _ACRONYM.fullmatch(name.text.strip()):
            # a label such as 'NHFPC' is an acronym too, whatever its kind
            for rid, value in self.acronyms.get(name.text.strip(), []):
                yield rid, value, ("acronym",), 100.0, "acronym"
            if name.kind == "acronym":
                return
        key = normalise(name.text)
        if not key:
            return
        for rid, value, types in self.by_name.get(key, []):
            yield rid, value, types, 100.0, "exact"
        for form in set(folded_forms(name.text)):
            for choice, _, _ in process.extract(form, self.folded, scorer=fuzz.ratio,
                                                processor=None,
                                                score_cutoff=ROR_FUZZY_CUTOFF, limit=None):
                for rid, value, types in self.by_folded[choice]:
                    if normalise(value) != key:
                        yield rid, value, types, name_similarity(name.text, value), "spelling"
        ours = self.vocabulary.words(name.text)
        if not ours.core:
            return
        seen: set[int] = set()
        postings = sorted((self.by_word.get(w, []) for w in ours.core), key=len)
        inside = set(postings[0]) if postings else set()
        for posting in postings[1:]:
            inside &= set(posting)
        around: set[int] = set()
        for word in ours.distinctive:
            around.update(self.by_word.get(word, []))
        for index in sorted(inside | around):
            if index in seen:
                continue
            seen.add(index)
            rid, value, types, theirs = self.names[index]
            if normalise(value) == key:
                continue
            scored = _words_score(ours, theirs)
            if scored is not None:
                yield rid, value, types, scored[0], "words:" + scored[1]

    def _score(self, actor: Actor, record: RorRecord, ours: ActorName, theirs: str,
               types: tuple[str, ...], name_score: float, how: str) -> RorMatch:
        evidence = []
        kind = how.split(":", 1)[0]
        if kind == "exact":
            explained = "exactly (after normalising case, accents and punctuation)"
        elif kind == "acronym":
            explained = "as an acronym"
        elif kind == "spelling":
            explained = (f"with similarity {name_score:.0f}/100 (rapidfuzz ratio, ignoring "
                         "spaces, legal form, UK/US spelling)")
        else:
            explained = f"by words, {name_score:.0f}/100: {how.split(':', 1)[1]}"
        evidence.append(f"name: our {ours.kind} '{ours.text}' matches ROR "
                        f"{'/'.join(types)} '{theirs}' {explained}")
        code, where = actor.country_code, actor.country or ""
        if actor.country_via:
            where += f" ({actor.country_via})"
        if not code and kind != "acronym":
            named = self.vocabulary.words(ours.text).place_codes
            if len(named) == 1:
                code = next(iter(named))
                where = f"named in '{ours.text}'"
        shown = ", ".join(record.countries) or "none"
        if not code:
            country = "unknown"
            evidence.append(f"country unknown: the record gives no country we can compare "
                            f"(ROR: {shown})")
        elif code in record.countries:
            country = "consistent"
            evidence.append(f"country consistent: record {where} = {code}; ROR {shown}")
        else:
            country = "inconsistent"
            evidence.append(f"country inconsistent: record {where} = {code}; ROR {shown}")
        allowed = _ROR_TYPES.get(actor.type, set())
        rtypes = set(record.types) - {"funder"}
        if not rtypes:
            fit = "unknown"
        elif rtypes & allowed:
            fit = "compatible"
        else:
            fit = "incompatible"
        evidence.append(f"type {fit}: ROR types {', '.join(record.types) or 'none'}; record "
                        f"type {actor.type}")
        if record.status != "active":
            evidence.append(f"ROR status: {record.status} (not active)")
        if record.established:
            evidence.append(f"ROR: established {record.established}")
        score = (NAME_WEIGHT * name_score / 100 + COUNTRY_WEIGHT * STATE_VALUE[country]
                 + TYPE_WEIGHT * STATE_VALUE[fit])
        caps = []
        if kind == "acronym":
            score = min(score, 0.8)  # an acronym alone is never conclusive
            caps.append("acronym only")
            holders = {rid for rid, _ in self.acronyms.get(theirs.strip(), [])}
            if country != "consistent":
                # ... and without the same country not even a lead, unless it is long, borne
                # by one ROR record only, and the type fits: then worth a reviewer's look
                rare = len(theirs.strip()) >= 4 and len(holders) == 1 and fit == "compatible"
                score = min(score, 0.76 if rare and country == "unknown" else 0.7)
                if rare and country == "unknown":
                    caps.append("the only ROR record with this acronym of 4+ letters")
        elif kind == "words" and (country == "inconsistent" or fit == "incompatible"):
            score = min(score, 0.7)  # a partial name in another country or of another kind
            caps.append("words only, " + ("another country" if country == "inconsistent"
                                          else "another type"))
        evidence.append(f"score = {NAME_WEIGHT} x name {name_score / 100:.2f} + "
                        f"{COUNTRY_WEIGHT} x country {STATE_VALUE[country]:.1f} + "
                        f"{TYPE_WEIGHT} x type {STATE_VALUE[fit]:.1f}"
                        f"{' (capped: ' + '; '.join(caps) + ')' if caps else ''} = "
                        f"{score:.3f}")
        return RorMatch(record, round(score, 3), name_score, ours, theirs, types, kind,
                        country, fit, evidence)


def _ror_auto_accept(match: RorMatch, all_matches: list[RorMatch]) -> str:
    """Why this ROR match may be accepted without a human, or '' when it may not."""
    if not (match.exact and match.country == "consistent" and match.type == "compatible"
            and match.record.status == "active"):
        return ""
    rivals = [m for m in all_matches if m is not match and m.exact and m.country == "consistent"]
    if rivals:
        return ""
    return (f"Accepted automatically: our {match.ours.kind} '{match.ours.text}' equals the ROR "
            f"name '{match.theirs}' (ignoring case, accents and punctuation), the country "
            f"({match.record.countries[0] if match.record.countries else '?'}) is the record's, "
            f"the ROR type fits, the record is active and no other ROR record matches exactly.")


def ror_candidates(actor: Actor, index: RorIndex, today: str, retrieved_on: str = "") -> list[dict]:
    """Review-file candidates from ROR: the ROR ids, and the QIDs their records list.
    `retrieved_on` is the date the ROR copy was taken (selection.json), `today` otherwise."""
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
            "retrieved_on": retrieved_on or today,
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
                "retrieved_on": retrieved_on or today,
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
