"""`healthcoop draft SOURCE_ID`: pre-curation of a registered source.

In:  the archived text of a registered source, and the records we already have.
Out: `data/records/<id>.draft.yaml` (never overwriting an existing file), a draft for the
     curator with
     * `mentions`: every known actor (person, organisation) and place the text names,
       matched by label and alternative labels, tolerant of case, punctuation and small
       spelling differences (rapidfuzz), each with the exact quote as the text prints it
       and its `occurrence`, located with `SourceText.occurrences` / `locate_quote`;
     * `relative_dates`: dateline-relative dates ("on Friday", "yesterday", "last week"),
       each flagged for resolution (with the dateline and, for a weekday, the candidate day);
     * `suggestions`: names that look like organisations or people we have no record of
       (capitalised multi-word names, names with words such as Ministry, University,
       Hospital, Commission, Company, Ltd, Group, Institute, and honorific + name).
A draft is never a finished records file: it holds a top-level `draft:` block and its
name ends in `.draft.yaml`, and validation reports both as "draft not confirmed"
(`pipeline/check/checks.py`) until a person reviews it, moves what is right into records,
deletes the `draft:` block and renames the file to `<id>.yaml`.

Entry function: `write_draft(root, source_id)`; `draft_text(source, records, hold_out=None)`
computes a draft without writing (used by the hold-one-out measurement in tests/test_draft.py).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from rapidfuzz import fuzz

from pipeline.check.register import write_atomically
from pipeline.errors import EnvironmentProblem, InvalidData, IssueList
from pipeline.read.record_types import Organisation, Person, Place, Record
from pipeline.read.records import RECORDS_DIR, RecordSet, load_records
from pipeline.read.sources import SourceText, load_sources

DRAFT_SUFFIX = ".draft.yaml"
FUZZY_MIN = 90          # partial alignment score for a name with a small spelling difference
FUZZY_MIN_LENGTH = 10   # names shorter than this match only exactly (normalised)
CONTEXT = 80            # characters of context shown around a mention

ORG_WORDS = {
    "ministry", "university", "hospital", "commission", "company", "ltd", "limited", "group",
    "institute", "council", "association", "centre", "center", "department", "agency",
    "administration", "bureau", "foundation", "trust", "college", "school", "academy",
    "authority", "network", "corporation", "inc", "plc", "society", "organisation",
    "organization", "office", "board", "laboratory", "lab", "partners", "government",
    "federation", "chamber", "nhs", "clinic", "pharma", "pharmaceutical", "pharmaceuticals",
    "medical", "healthcare", "technology", "technologies", "holdings", "service", "services",
    "alliance", "consortium", "bank", "fund", "press", "news", "media",
}
HONORIFICS = {"dr", "mr", "mrs", "ms", "miss", "professor", "prof", "sir", "dame", "lord",
              "lady", "madam", "madame"}
# words that, alone or together, make a title or a heading rather than a name
TITLE_WORDS = {
    "secretary", "state", "minister", "ministers", "health", "director", "deputy", "vice",
    "chief", "executive", "officer", "chairman", "chair", "president", "general", "head",
    "assistant", "principal", "senior", "permanent", "under", "the", "of", "and", "for",
    "ceo", "member", "members", "mayor", "ambassador", "consul", "premier",
    "social", "care", "public", "international", "national", "trade", "investment",
    "upon", "in", "on", "at", "with", "by", "this", "that", "these", "during", "after",
    "before", "photos", "contact", "us", "read", "more", "also", "both", "two", "sides",
}
# words of page furniture and sentences, never of a name ("Share This", "Where Am I")
NOT_NAME_WORDS = {"where", "am", "i", "more", "this", "section", "tag", "cloud", "share",
                  "follow", "us", "twitter", "recent", "comments", "weibo", "linkedin",
                  "photo", "photos", "list", "read", "through", "high", "level", "based"}
# demonyms and prefixes that with place names make "UK and China", "Sino-British"
PLACE_WORDS = {"chinese", "british", "sino", "uk", "english", "japanese", "korean", "american",
               "european", "asian", "western", "eastern", "pacific", "china", "strong"}
TITLE_CUES = {"minister", "secretary", "ceo", "director", "officer", "president", "chairman",
              "chair", "mayor", "ambassador", "premier", "governor", "commissioner"}
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
MONTHS = {"january", "february", "march", "april", "may", "june", "july", "august",
          "september", "october", "november", "december"}
RELATIVE_DATE = re.compile(
    r"\b(?:(?:on|last|this|next|since|from|until|by)\s+)?"
    r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b"
    r"|\b(?:yesterday|today|tonight|tomorrow)\b"
    r"|\b(?:last|this|next|earlier this|later this|past)\s+(?:week|month|year|weekend)\b",
    re.IGNORECASE)
CAP_WORD = r"(?:Co\.|[A-Z][\w’'&\-]*)"
CANDIDATE = re.compile(  # names stay on one line: spaces only between their words
    rf"{CAP_WORD}(?:[^\S\r\n]+(?:(?:of|and|for|the|de|du|on|&)[^\S\r\n]+)*{CAP_WORD})*")


@dataclass
class Mention:
    """A known actor or place the text names, with the quote located."""

    id: str
    kind: str
    label: str
    quote: str
    occurrence: int
    start: int
    score: float
    context: str

    def as_dict(self) -> dict:
        out = {"id": self.id, "kind": self.kind, "label": self.label, "quote": self.quote,
               "occurrence": self.occurrence}
        if self.score < 100:
            out["match"] = f"fuzzy, {self.score:.0f}% alike: check the spelling"
        out["context"] = self.context
        return out


@dataclass
class RelativeDate:
    """A date the text gives relative to its dateline: to be resolved by the curator."""

    quote: str
    occurrence: int
    context: str
    hint: str

    def as_dict(self) -> dict:
        return {"quote": self.quote, "occurrence": self.occurrence, "context": self.context,
                "resolve": self.hint}


@dataclass
class Suggestion:
    """A name that looks like an organisation or person we have no record of yet."""

    name: str
    kind: str  # organisation | person | name
    quote: str
    occurrence: int
    why: str
    context: str

    def as_dict(self) -> dict:
        return {"name": self.name, "looks_like": self.kind, "quote": self.quote,
                "occurrence": self.occurrence, "why": self.why, "context": self.context}


@dataclass
class Draft:
    """What `draft_text` found in one source."""

    source_id: str
    mentions: list[Mention] = field(default_factory=list)
    relative_dates: list[RelativeDate] = field(default_factory=list)
    suggestions: list[Suggestion] = field(default_factory=list)

    def render(self, source: SourceText) -> str:
        """The draft records file: a `draft:` block for review, then empty record lists."""
        block = {
            "source": self.source_id,
            "confirmed": False,
            "mentions": [m.as_dict() for m in self.mentions],
            "relative_dates": [d.as_dict() for d in self.relative_dates],
            "suggestions": [s.as_dict() for s in self.suggestions],
        }
        body = yaml.safe_dump({"draft": block}, allow_unicode=True, sort_keys=False,
                              width=100, default_flow_style=False)
        return (
            f"# DRAFT records for source {self.source_id} (data/sources/{source.file}),\n"
            "# written by `healthcoop draft`. NOT a finished records file: `healthcoop validate`\n"
            "# reports it as \"draft not confirmed\" until a person has reviewed it.\n"
            "#\n"
            "# To confirm: check every entry against the text; cite the known actors and places\n"
            "# in `mentions` from your records (their quote and occurrence are located already);\n"
            "# resolve each of `relative_dates` against the dateline (`date.resolution`); add\n"
            "# records to actors.yaml / places.yaml for the `suggestions` that are real and new;\n"
            "# write the agreements, events, roles and initiatives below (docs/records.md). Then\n"
            "# delete the whole `draft:` block and rename this file to "
            f"{self.source_id}.yaml.\n\n"
            + body
            + "\nroles:\nevents:\nagreements:\ninitiatives:\n"
        )


def _normalise(text: str) -> tuple[str, list[int]]:
    """Lower-case letters and digits with one space for any other run (accents dropped), and
    for each character the offset of the original character it came from."""
    chars: list[str] = []
    origin: list[int] = []
    gap = True
    for i, c in enumerate(text):
        base = unicodedata.normalize("NFKD", c)
        base = "".join(b for b in base if not unicodedata.combining(b)).lower()
        if base and base.isalnum() and base.isascii():
            chars.append(base)
            origin.extend([i] * len(base))
            gap = False
        elif not gap:
            chars.append(" ")
            origin.append(i)
            gap = True
    return "".join(chars), origin


def _norm(text: str) -> str:
    return _normalise(text)[0].strip()


def _is_acronym(name: str) -> bool:
    letters = [c for c in name if c.isalpha()]
    return bool(letters) and len(name) <= 6 and all(c.isupper() for c in letters)


def _occurrence(source: SourceText, quote: str, start: int) -> int:
    """The 1-based occurrence of `quote` that begins at `start` (an offset in the text)."""
    for k in range(1, len(source.occurrences(quote)) + 1):
        location = source.locate_quote(quote, k)
        if location is not None and location.start == start:
            return k
    return 0


def _context(text: str, start: int, end: int) -> str:
    left = text[max(0, start - CONTEXT):start].split("\n")[-1]
    right = text[end:end + CONTEXT].split("\n")[0]
    return " ".join(f"{left}[{text[start:end]}]{right}".split())


def _find(name: str, text: str, norm: str, origin: list[int]) -> list[tuple[int, int, float]]:
    """(start, end, score) in `text` of every place `name` occurs (at word boundaries)."""
    if _is_acronym(name):
        pattern = re.compile(rf"(?<![A-Za-z0-9]){re.escape(name)}(?![A-Za-z0-9])")
        return [(m.start(), m.end(), 100.0) for m in pattern.finditer(text)]
    needle = _norm(name)
    if not needle:
        return []
    found = []
    padded = f" {norm} "
    start = padded.find(f" {needle} ")
    while start != -1:
        n0, n1 = start, start + len(needle)  # offsets in norm (padded shifts by one)
        found.append((origin[n0], origin[n1 - 1] + 1, 100.0))
        start = padded.find(f" {needle} ", start + 1)
    if found or len(needle) < FUZZY_MIN_LENGTH:
        return found
    alignment = fuzz.partial_ratio_alignment(needle, norm, score_cutoff=FUZZY_MIN)
    if alignment is None:
        return []
    a, b = alignment.dest_start, alignment.dest_end
    while a > 0 and norm[a - 1] != " ":
        a -= 1
    while b < len(norm) and norm[b] != " ":
        b += 1
    while b > a and norm[b - 1] == " ":
        b -= 1
    score = fuzz.ratio(needle, norm[a:b])
    if score < FUZZY_MIN - 2 or a >= b:
        return []
    return [(origin[a], origin[b - 1] + 1, score)]


def known_names(records: RecordSet | list[Record], hold_out: str | None = None
                ) -> dict[str, tuple[Record, list[str]]]:
    """Actors and places we know, each with the names it may be written with. With
    `hold_out`, only what the other sources tell: a record whose every quote is from the
    held-out source is unknown, and its spellings from that source are left out."""
    items = records.records.values() if isinstance(records, RecordSet) else records
    out: dict[str, tuple[Record, list[str]]] = {}
    for record in items:
        if not isinstance(record, (Person, Organisation, Place)) or record.deprecated:
            continue
        cited = {ev.source for ev in record.evidence}
        if hold_out is not None and cited and cited <= {hold_out}:
            continue
        names = [record.label] + [a.label for a in record.alt_labels
                                  if hold_out is None or a.source != hold_out]
        out[record.id] = (record, list(dict.fromkeys(n for n in names if n and n.strip())))
    return out


def _kind(record: Record) -> str:
    return "place" if isinstance(record, Place) else record.kind


def draft_text(source: SourceText, records: RecordSet | list[Record],
               hold_out: str | None = None) -> Draft:
    """The draft of one source, from `records` (with `hold_out`: from the other sources'
    records only, for the hold-one-out measurement)."""
    text = source.text
    norm, origin = _normalise(text)
    draft = Draft(source.id)
    known = known_names(records, hold_out)
    hits: list[tuple[int, int, float, str]] = []
    for rid, (_record, names) in known.items():
        for name in names:
            for start, end, score in _find(name, text, norm, origin):
                hits.append((start, end, score, rid))
    covered: list[tuple[int, int]] = sorted({(h[0], h[1]) for h in hits})
    chosen: dict[str, tuple[int, int, float]] = {}
    for start, end, score, rid in sorted(hits, key=lambda h: (h[0], -(h[1] - h[0]))):
        inside = any(a <= start and end <= b and (b - a) > (end - start) for a, b in covered)
        if inside or rid in chosen:
            continue
        chosen[rid] = (start, end, score)
    for rid, (start, end, score) in sorted(chosen.items(), key=lambda kv: kv[1][0]):
        record = known[rid][0]
        quote = text[start:end]
        occurrence = _occurrence(source, quote, start)
        if not occurrence:
            continue
        draft.mentions.append(Mention(rid, _kind(record), record.label, quote, occurrence,
                                      start, score, _context(text, start, end)))
    draft.relative_dates = _relative_dates(source)
    draft.suggestions = _suggestions(source, known, covered)
    return draft


def _relative_dates(source: SourceText) -> list[RelativeDate]:
    out = []
    dateline = None
    if source.dateline and re.fullmatch(r"\d{4}-\d{2}-\d{2}", source.dateline):
        dateline = dt.date.fromisoformat(source.dateline)
    for m in RELATIVE_DATE.finditer(source.text):
        quote = m.group()
        occurrence = _occurrence(source, quote, m.start())
        if not occurrence:
            continue
        if dateline is None:
            hint = ("The source has no dateline in data/sources.yaml: leave the date out "
                    "unless the text states it elsewhere.")
        else:
            hint = f"Resolve against the dateline {dateline.isoformat()} " \
                   f"({WEEKDAYS[dateline.weekday()].capitalize()})"
            day = next((d for d in WEEKDAYS if d in quote.lower()), None)
            if day is not None and not re.match(r"(next|this)\b", quote, re.IGNORECASE):
                back = (dateline.weekday() - WEEKDAYS.index(day)) % 7 or 7
                candidate = dateline - dt.timedelta(days=back)
                hint += (f"; the latest {day.capitalize()} before it is "
                         f"{candidate.isoformat()}: check that the text means that day")
            hint += ", and say how in `date.resolution`."
        out.append(RelativeDate(quote, occurrence, _context(source.text, m.start(), m.end()),
                                hint))
    return out


def _suggestions(source: SourceText, known: dict[str, tuple[Record, list[str]]],
                 covered: list[tuple[int, int]]) -> list[Suggestion]:
    text = source.text
    known_norms = {_norm(n) for _r, names in known.values() for n in names}
    out: list[Suggestion] = []
    seen: set[str] = set()
    place_words = PLACE_WORDS | {t for r, names in known.values() if isinstance(r, Place)
                                 for n in names for t in _norm(n).split()}
    for start, end, piece in _pieces(text):
        words = piece.split()
        before = text[max(0, start - 20):start].split()
        honorific = before[-1].rstrip(".").lower() if before else ""
        # a leading honorific inside the match ("Dr Anne Chee") is the cue, not the name
        if words and words[0].rstrip(".").lower() in HONORIFICS and len(words) > 1:
            honorific = words[0].rstrip(".").lower()
            start = start + piece.index(words[1])
            words = words[1:]
        while words and words[0].lower() in {"the", "a", "an", "in", "on", "at", "and"}:
            start = text.index(words[1], start) if len(words) > 1 else end
            words = words[1:]
        while words and words[-1].lower() in {"of", "and", "for", "the", "&"}:
            words = words[:-1]
        if not words:
            continue
        name = re.sub(r"[’']s$", "", " ".join(words)).rstrip(".,’'")
        end = start + len(name)
        if text[start:end] != name:  # words spaced otherwise (non-breaking spaces): verbatim
            end = start + len(" ".join(text[start:].split()[:len(words)]))
            name = text[start:end]
        tokens = _norm(name).split()
        lowered = {t for t in tokens}
        org = sorted(lowered & ORG_WORDS - {"health"})
        is_person = honorific in HONORIFICS
        if not tokens or (not org and not is_person and len(tokens) < 2):
            continue
        if lowered <= TITLE_WORDS | MONTHS | set(WEEKDAYS) or tokens[0] in MONTHS | set(WEEKDAYS):
            continue
        if lowered & NOT_NAME_WORDS or lowered <= place_words | {"and", "the", "of"}:
            continue
        key = " ".join(tokens)
        if key in seen or key in known_norms:
            continue
        if any(a <= start and end <= b for a, b in covered):
            continue  # a known name, or part of one
        if any(fuzz.ratio(key, k) >= FUZZY_MIN for k in known_norms
               if len(k) >= 6 and len(k.split()) == len(tokens)):
            continue  # a known name with a small spelling difference
        seen.add(key)
        occurrence = _occurrence(source, name, start)
        if not occurrence:
            continue
        if org:
            kind, why = "organisation", f"contains {', '.join(repr(w) for w in org)}"
        elif is_person:
            kind, why = "person", f"follows the honorific {honorific!r}"
        else:
            kind, why = "name", "a capitalised multi-word name"
        out.append(Suggestion(name, kind, name, occurrence, why, _context(text, start, end)))
    return out


def _pieces(text: str):
    """(start, end, text) of each capitalised name candidate: runs of capitalised words,
    split where "and the" joins two names, and without a leading title ("Minister Hu
    Jinglin" gives "Hu Jinglin")."""
    for m in CANDIDATE.finditer(text):
        offset = m.start()
        for part in re.split(r"([^\S\r\n]+and[^\S\r\n]+the[^\S\r\n]+)", m.group()):
            if part and not re.fullmatch(r"[^\S\r\n]+and[^\S\r\n]+the[^\S\r\n]+", part):
                words = part.split()
                cut = max((i for i, w in enumerate(words[:-1]) if w.lower() in TITLE_CUES),
                          default=-1)
                if cut >= 0 and words[cut + 1][0].isupper() and words[cut + 1] != "of":
                    skip = part.index(words[cut + 1], len(" ".join(words[:cut + 1])))
                    yield offset + skip, offset + len(part), part[skip:]
                elif cut >= 0 and words[cut + 1] == "of":
                    skip = part.index(words[cut + 2], len(" ".join(words[:cut + 2])))
                    yield offset + skip, offset + len(part), part[skip:]
                else:
                    yield offset, offset + len(part), part
            offset += len(part)


def draft_path(root: Path, source_id: str) -> Path:
    return Path(root) / RECORDS_DIR / f"{source_id}{DRAFT_SUFFIX}"


def write_draft(root: Path, source_id: str) -> tuple[Path, Draft]:
    """Draft the records of registered source `source_id` into
    data/records/<id>.draft.yaml; refuses to overwrite an existing file."""
    root = Path(root)
    issues = IssueList()
    sources = load_sources(root, issues)
    if source_id not in sources:
        raise InvalidData(
            f"{source_id!r} is not a registered source with a readable text.",
            issues=issues.items,
            fix="Register it first with `healthcoop new-source FILE`, or use an id from "
                "data/sources.yaml.")
    path = draft_path(root, source_id)
    if path.exists() or path.is_symlink():
        raise EnvironmentProblem(
            f"{path.relative_to(root)} exists already; a draft never overwrites a file.",
            fix="Review and rename (or delete) the existing draft, then run again.")
    records = load_records(root, IssueList())
    draft = draft_text(sources[source_id], records)
    write_atomically(path, draft.render(sources[source_id]))
    return path, draft
