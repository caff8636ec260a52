"""The review file `data/links.yaml`: writing it, reading it, and checking what people wrote.

Every value a person may type is checked for its YAML type (a list where text belongs, a
mapping where a list belongs), its form and its size before anything uses it, so a mistake in
the file is a located finding (file, line, field, fix) from `check_review_file`, never a
traceback from `healthcoop link`, `validate` or `build`. Findings with code `link-structure`
make `healthcoop link` leave the file alone (it could not keep decisions it cannot read).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from pipeline.errors import Issue, IssueList, Severity
from pipeline.read.yamlfile import YamlDocument, dotted, load_yaml

from .common import (
    DATE_PATTERN,
    DECISIONS,
    ID_PATTERN,
    ISO_TARGET,
    MATCH_TYPES,
    QID_TARGET,
    REVIEW_FILE,
    ROR_PATTERN,
    STATUSES,
    Entities,
    control_problem,
    load_entities,
    target_kind,
)

ENTRY_KEYS = ("actor", "place", "label", "kind", "type", "country", "status", "status_note",
              "candidates")
ENTRY_TEXT = ("label", "kind", "type", "country", "status", "status_note")
CANDIDATE_KEYS = (
    "target", "label", "description", "score", "method", "match_type", "match_reason",
    "evidence", "reference", "reference_release", "checked_revision", "retrieved_on",
    "decision", "reviewer", "decision_date", "note", "shared_with", "problem", "redirected_to",
    "last_checked", "enrichment",
)
CANDIDATE_TEXT = tuple(k for k in CANDIDATE_KEYS if k not in ("evidence", "enrichment"))
# fields the linker refreshes; everything else belongs to the reviewer
MACHINE_KEYS = ("label", "description", "score", "method", "evidence", "reference",
                "reference_release", "checked_revision", "retrieved_on")
HUMAN_KEYS = ("decision", "reviewer", "decision_date", "note", "match_type", "match_reason",
              "shared_with")
MAX_TEXT = 20_000
IRI_PATTERN = re.compile(r"^https?://[^\s<>\"{}|\\^`\x00-\x20\x7f-\x9f]{1,2000}\Z")
SCORE_PATTERN = re.compile(r"^(0(\.[0-9]{1,6})?|1(\.0{1,6})?)\Z")
REVISION_PATTERN = re.compile(r"^[1-9][0-9]{0,11}\Z")
STRUCTURE = "link-structure"

REVIEW_HEADER = """\
# Links from our persons, organisations and places to Wikidata, ROR and ISO 3166: the
# review file.
#
# Written by `healthcoop link` (docs/linking.md); reviewed by people. Each actor or place
# lists the candidates the linker found, with a score and the evidence for it. To review one:
#   decision:       accepted | rejected      (the linker writes `proposed`)
#   reviewer:       your name or ORCID iD
#   decision_date:  YYYY-MM-DD
#   match_type:     exact (published as owl:sameAs, or hc:rorId for a ROR id) | close |
#                   broad | narrow | related (SKOS; anything but exact needs `match_reason`)
#   note:           optional, why you decided so (e.g. that the source misnames the body)
# Accept a candidate only after opening its `reference` and checking it is the same real-
# world person, organisation or place. At most one Wikidata item, one ROR id and one ISO code
# per entry may be accepted. Never type a QID from memory: add a candidate by hand only with
# the `reference` (a public page or dataset showing the id) and `retrieved_on` date where you
# saw it. Decisions survive later runs; the linker only refreshes the fields it writes
# (label, description, score, evidence, reference and revision of undecided candidates) and
# flags accepted items that Wikidata has since merged (`redirected_to`) or deleted
# (`problem`). Comments you add below this header are not kept: write them into `note:`.
# `reviewer: ror-exact-match` marks links the linker accepted itself: the ROR record's name
# equals ours exactly, in the same country, with a fitting type (see each `note`).
# Two entries accepting one target (a QID, ROR id or ISO code) get a warning, as they may be
# one thing recorded twice; when they share it on purpose (a part and its whole, a body and
# its renamed successor), write `shared_with: <the other record's id>` on the candidate and
# the reason in `note:`.
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
    """The review file's text: the header, then the entries sorted by id."""
    body = yaml.dump({"links": entries}, Dumper=_Dumper, sort_keys=False, allow_unicode=True,
                     width=4096, default_flow_style=False, indent=2)
    return REVIEW_HEADER + "\n" + body


def atomic_write(path: Path, text: str) -> None:
    """Write `text` (UTF-8, LF) through a temporary file and a rename; an unchanged file is
    not touched at all."""
    data = text.encode("utf-8")
    try:
        if path.is_file() and path.read_bytes() == data:
            return
    except OSError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


@dataclass
class ReviewFile:
    doc: YamlDocument | None
    entries: list[Any]
    issues: list[Issue]


def read_review(root: Path) -> ReviewFile:
    """The review file as plain data (every scalar a string) with its positions; what cannot
    be read at all comes back as issues."""
    path = root / REVIEW_FILE
    rel = REVIEW_FILE.as_posix()
    if not path.exists() and not path.is_symlink():
        return ReviewFile(None, [], [])
    if not path.is_file():
        return ReviewFile(None, [], [Issue(rel, 0, "(file)",
                                           "The review file is not a regular file.",
                                           "Replace it with the file from version control.",
                                           code=STRUCTURE)])
    issues = IssueList()
    try:
        doc = load_yaml(path, root, issues, allow_empty=True)
    except RecursionError:
        return ReviewFile(None, [], [Issue(
            rel, 1, "(file)", "The file is nested too deeply to be read (lists or mappings "
            "inside each other hundreds of levels down).",
            "Restore the file's structure (see docs/linking.md); nothing in it nests more "
            "than four levels.", code=STRUCTURE)])
    except (OSError, ValueError, yaml.YAMLError, MemoryError) as err:
        return ReviewFile(None, [], [Issue(rel, 0, "(file)",
                                           f"The file cannot be read ({type(err).__name__}).",
                                           "Restore it from version control.", code=STRUCTURE)])
    if doc is None:
        return ReviewFile(None, [], [
            Issue(i.file, i.line, i.field, i.message, i.fix, i.severity, STRUCTURE, i.column,
                  i.record_id) for i in issues.items])
    data = doc.data
    if data is None:
        return ReviewFile(doc, [], [])
    if not isinstance(data, dict) or not isinstance(data.get("links", []), (list, type(None))):
        return ReviewFile(doc, [], [Issue(doc.rel_path, doc.line(()), "links",
                                          "The review file must be a mapping with a `links:` "
                                          "list.", "Restore the file's structure (see "
                                                   "docs/linking.md).", code=STRUCTURE)])
    extra = [k for k in data if k != "links"]
    if extra:
        return ReviewFile(doc, [], [Issue(doc.rel_path, doc.line((extra[0],)), str(extra[0]),
                                          f"Unknown top-level field {extra[0]!r}.",
                                          "The file holds one field, `links:`.",
                                          code=STRUCTURE)])
    return ReviewFile(doc, list(data.get("links") or []), [])


def entry_id(entry: Any) -> str:
    """The actor or place id an entry is about ('' when it has none that is text)."""
    if not isinstance(entry, dict):
        return ""
    for key in ("actor", "place"):
        value = entry.get(key)
        if isinstance(value, str):
            return value
    return ""


def structure_issues(issues: list[Issue]) -> list[Issue]:
    return [i for i in issues if i.code == STRUCTURE and i.severity == Severity.ERROR]


# --- checks ---------------------------------------------------------------------------------------

def check_review_file(root: Path, actors: Any = None,
                      review: ReviewFile | None = None) -> list[Issue]:
    """Located issues in data/links.yaml (errors block publication; warnings inform).
    `actors`: an `Entities` (or a list of actors) already loaded, to save reading the
    records again; `review`: the file as `read_review` already read it."""
    review = review if review is not None else read_review(root)
    if review.issues:
        return list(review.issues)
    if actors is None:
        entities = load_entities(root)
    elif isinstance(actors, Entities):
        entities = actors
    else:
        entities = Entities(actors=[a for a in actors if a.kind != "place"],
                            places=[a for a in actors if a.kind == "place"])
    return _Checker(review, entities).run()


class _Checker:
    def __init__(self, review: ReviewFile, entities: Entities):
        self.review = review
        self.doc = review.doc
        self.entities = entities
        self.issues: list[Issue] = []
        self.rel = REVIEW_FILE.as_posix()

    def add(self, path: tuple, message: str, fix: str, severity=Severity.ERROR, code="link",
            record_id=""):
        line = self.doc.line(path) if self.doc else 0
        self.issues.append(Issue(self.rel, line, dotted(path), message, fix, severity, code,
                                 record_id=record_id))

    def text(self, path: tuple, value: Any, what: str) -> bool:
        """Is `value` usable text? Adds the finding when it is not."""
        if isinstance(value, str):
            problem = control_problem(value)
            if problem:
                self.add(path, f"`{what}` contains {problem}, which cannot be published.",
                         "Delete the character (it is invisible in most editors).",
                         code="link-control-character")
                return False
            if len(value) > MAX_TEXT:
                self.add(path, f"`{what}` is {len(value)} characters long; at most {MAX_TEXT}.",
                         "Shorten it.")
                return False
            return True
        shown = {list: "a list", dict: "a mapping"}.get(type(value), type(value).__name__)
        self.add(path, f"`{what}` must be text, not {shown}.",
                 f"Write one value after `{what}:` (quote it if it contains ': ').",
                 code=STRUCTURE)
        return False

    def run(self) -> list[Issue]:
        known = {a.id: a for a in self.entities.all}
        seen: dict[str, int] = {}
        self.accepted_qids: dict[str, str] = {}
        self.holders: dict[str, list[_Holder]] = {}
        self.linked: set[str] = set()
        for i, entry in enumerate(self.review.entries):
            self.entry(("links", i), entry, known, seen)
        self.shared_targets(known)
        self.unlinked(known)
        return sorted(self.issues, key=lambda x: (x.line, x.field, x.message))

    def entry(self, base: tuple, entry: Any, known: dict, seen: dict) -> None:
        if not isinstance(entry, dict):
            self.add(base, "An entry must be a mapping with `actor:` (or `place:`) and "
                           "`candidates:`.", "Write `- actor: <id>` followed by its fields.",
                     code=STRUCTURE)
            return
        for key in entry:
            if key not in ENTRY_KEYS:
                self.add((*base, key), f"Unknown field {key!r}.",
                         f"Allowed fields: {', '.join(ENTRY_KEYS)}.")
        keys = [k for k in ("actor", "place") if k in entry]
        if len(keys) != 1:
            self.add(base, "An entry names one actor (`actor:`) or one place (`place:`)"
                     + (", not both." if keys else "; this one names none."),
                     "Give the record id of the person, organisation or place.",
                     code=STRUCTURE)
            return
        key = keys[0]
        rid = entry[key]
        if not isinstance(rid, str) or not rid:
            if rid is None or rid == "":
                self.add((*base, key), f"`{key}` is missing.", "Give the record's id.",
                         code=STRUCTURE)
            else:
                self.text((*base, key), rid, key)
            return
        if not self.text((*base, key), rid, key):
            return
        for field in ENTRY_TEXT:
            if entry.get(field) is not None:
                self.text((*base, field), entry[field], field)
        if entry.get("status") is not None and isinstance(entry["status"], str) \
                and entry["status"] not in STATUSES:
            self.add((*base, "status"), f"Unknown status {entry['status']!r}.",
                     f"The linker writes one of: {', '.join(STATUSES)}; run `healthcoop "
                     "link` to rewrite it.")
        if rid in seen:
            self.add((*base, key), f"Duplicate entry for {rid!r} (first at line {seen[rid]}).",
                     "Merge the two entries into one.", code="duplicate", record_id=rid)
        else:
            seen[rid] = self.doc.line((*base, key)) if self.doc else 0
        entity = known.get(rid)
        if entity is None and rid not in self.entities.failed | self.entities.retired:
            what = "place" if key == "place" else "person or organisation"
            hint = ("Correct the id, or delete the entry if the record was removed."
                    if ID_PATTERN.match(rid) else "Record ids are lowercase letters, digits "
                    "and hyphens: correct the id.")
            self.add((*base, key), f"Unknown {key} id {rid!r}: no {what} record has it.",
                     hint, record_id=rid, code="unknown-reference")
        elif entity is not None and entity.entry_key != key:
            self.add((*base, key), f"{rid!r} is a{'' if key == 'actor' else 'n'} "
                     f"{'place' if key == 'actor' else 'actor'} record: write `"
                     f"{entity.entry_key}: {rid}`.", f"Use `{entity.entry_key}:`.",
                     code=STRUCTURE, record_id=rid)
            return
        candidates = entry.get("candidates")
        if candidates is None:
            return
        if not isinstance(candidates, list):
            self.add((*base, "candidates"), "`candidates` must be a list.",
                     "Put `- ` before each candidate (or write `candidates: []`).",
                     code=STRUCTURE)
            return
        targets: dict[str, int] = {}
        accepted: dict[str, list] = {"wikidata": [], "ror": [], "iso": []}
        for j, cand in enumerate(candidates):
            self.candidate((*base, "candidates", j), cand, rid, key, targets, accepted)
        for kind, items in accepted.items():
            if len(items) > 1:
                what = {"wikidata": "Wikidata", "ror": "ROR", "iso": "ISO 3166"}[kind]
                self.add(items[1][1], f"{len(items)} {what} targets are accepted for {rid!r} "
                                      f"({', '.join(t for t, _ in items)}); at most one may be.",
                         "Keep the one that is the same thing; reject or weaken the others.",
                         record_id=rid)

    def candidate(self, cpath: tuple, cand: Any, rid: str, key: str, targets: dict,
                  accepted: dict) -> None:
        if not isinstance(cand, dict):
            self.add(cpath, "A candidate must be a mapping.", "Write `- target: ...`.",
                     code=STRUCTURE)
            return
        ok = True
        for field, value in cand.items():
            if field not in CANDIDATE_KEYS:
                self.add((*cpath, field), f"Unknown field {field!r}.",
                         f"Allowed fields: {', '.join(CANDIDATE_KEYS)}.")
            elif value is None:
                continue
            elif field in CANDIDATE_TEXT:
                ok = self.text((*cpath, field), value, field) and ok
            elif field == "evidence":
                ok = self.evidence((*cpath, field), value) and ok
            elif field == "enrichment":
                ok = self.enrichment((*cpath, field), value) and ok
        if not ok:
            return
        target = cand.get("target")
        if not target:
            self.add((*cpath, "target"), "`target` is missing.",
                     "Give a QID, a ROR id or (places) iso3166-1:XX.")
            return
        kind = target_kind(target)
        if kind == "ror" and not ROR_PATTERN.match(target):
            self.add((*cpath, "target"), f"{target!r} is not a ROR id.",
                     "Write it as https://ror.org/0xxxxxxNN.")
        elif kind == "iso" and not ISO_TARGET.match(target):
            self.add((*cpath, "target"), f"{target!r} is not an ISO 3166-1 code.",
                     "Write it as iso3166-1:XX, with the two capital letters of the code.")
        elif kind == "iso" and key != "place":
            self.add((*cpath, "target"), "ISO 3166-1 codes are for places only.",
                     "Remove this candidate.")
        elif not kind:
            self.add((*cpath, "target"), f"{target[:80]!r} is not a Wikidata QID "
                                         "(^Q[1-9][0-9]*$).",
                     "Write the item id only, e.g. Q42 (no URL, no lower-case q, no spaces).")
        if target in targets:
            self.add((*cpath, "target"), f"Duplicate candidate {target} (first at line "
                                         f"{targets[target]}).",
                     "Keep one of the two.", code="duplicate", record_id=rid)
        else:
            targets[target] = self.doc.line((*cpath, "target")) if self.doc else 0
        score = cand.get("score")
        if score and not SCORE_PATTERN.match(score):
            self.add((*cpath, "score"), f"{score[:40]!r} is not a score between 0 and 1.",
                     "Let the linker write it, or give a number such as 0.900.")
        revision = cand.get("checked_revision")
        if revision and not REVISION_PATTERN.match(revision):
            self.add((*cpath, "checked_revision"), f"{revision[:40]!r} is not a revision id.",
                     "Give the item's revision number (digits) or leave it out.")
        for field in ("retrieved_on", "last_checked"):
            value = cand.get(field)
            if value and not _is_date(value):
                self.add((*cpath, field), f"{value[:40]!r} is not a date (YYYY-MM-DD).",
                         "Write the date the reference was read.")
        redirect = cand.get("redirected_to")
        if redirect and not QID_TARGET.match(redirect):
            self.add((*cpath, "redirected_to"), f"{redirect[:40]!r} is not a Wikidata QID.",
                     "Delete the field; the linker writes it when Wikidata merged an item.")
        decision = cand.get("decision") or "proposed"
        if decision not in DECISIONS:
            self.add((*cpath, "decision"), f"Unknown decision {decision[:40]!r}.",
                     "Use proposed, accepted or rejected.")
            return
        match_type = cand.get("match_type") or "exact"
        if match_type not in MATCH_TYPES:
            self.add((*cpath, "match_type"), f"Unknown match_type {match_type[:40]!r}.",
                     f"Use one of: {', '.join(MATCH_TYPES)}.")
        if decision == "proposed":
            return
        if not cand.get("reviewer"):
            self.add((*cpath, "reviewer"), f"A {decision} candidate needs `reviewer`.",
                     "Write who decided (name or ORCID iD).", record_id=rid)
        if not _is_date(cand.get("decision_date")):
            self.add((*cpath, "decision_date"),
                     f"A {decision} candidate needs `decision_date` as YYYY-MM-DD.",
                     "Write the date of the decision.", record_id=rid)
        if decision != "accepted":
            return
        if kind:
            accepted[kind].append((target, cpath))
            self.holders.setdefault(target, []).append(_Holder(rid, cpath, cand))
        reference = cand.get("reference")
        if not reference or not IRI_PATTERN.match(reference):
            self.add((*cpath, "reference"),
                     f"Accepted link to {target} has no usable reference: every published "
                     "link must say where it was checked.",
                     "Give the address (https://...) of the page or dataset you checked; no "
                     "spaces or quotes in it.", code="unreferenced", record_id=rid)
        if not revision and not cand.get("retrieved_on"):
            self.add((*cpath, "reference"),
                     f"Accepted link to {target} says neither the revision "
                     "(`checked_revision`) nor the date (`retrieved_on`) it was checked against.",
                     "Add the revision id or the retrieval date.", code="unreferenced",
                     record_id=rid)
        if match_type != "exact" and not cand.get("match_reason"):
            self.add((*cpath, "match_reason"),
                     f"A {match_type} match needs `match_reason` (why it is not the same thing).",
                     "Say why, or use match_type: exact.", record_id=rid)
        if kind == "iso" and match_type != "exact":
            self.add((*cpath, "match_type"), "An ISO 3166-1 code is published only as an "
                                             "exact match.",
                     "Use match_type: exact, or reject the candidate.", record_id=rid)
        if redirect:
            self.add((*cpath, "redirected_to"),
                     f"{target} is accepted but Wikidata now redirects it to {redirect} "
                     "(merged); it is not published.",
                     f"Review the proposed {redirect} and set this candidate to rejected.",
                     code="redirected", record_id=rid)
        if cand.get("problem") and not redirect:
            self.add((*cpath, "problem"), f"{target} is accepted but flagged: "
                                          f"{cand['problem'][:300]}",
                     "Check the item; reject the candidate if it is gone.", code="flagged",
                     record_id=rid)
        if kind == "wikidata" and QID_TARGET.match(target):
            self.linked.add(rid)
        if kind == "wikidata" and QID_TARGET.match(target) and match_type in ("exact", "close"):
            # owl:sameAs (or a close match) twice to one item would make two records one; a
            # broad, narrow or related match to the same item (a part and its whole) may not
            other = self.accepted_qids.get(target)
            if other and other != rid:
                self.add((*cpath, "target"), f"{target} is also accepted for {other!r}: "
                                             "owl:sameAs would make the two one.",
                         "Merge the two records, or reject one of the links.",
                         code="duplicate", record_id=rid)
                self.holders[target][-1].reported = True  # an error already: no warning too
            else:
                self.accepted_qids[target] = rid

    def shared_targets(self, known: dict) -> None:
        """One QID, ROR id or ISO code accepted for two records: perhaps one thing recorded
        twice, so a warning at the later link naming the earlier one, unless either link
        says `shared_with:` the other (with its reason in `note:` or `match_reason:`)."""
        for target, holders in self.holders.items():
            for k, later in enumerate(holders):
                mark = later.shared_with()
                if mark:
                    self.check_mark(later, mark, target, holders, known)
                if later.reported:
                    continue
                earlier = [h for h in holders[:k] if h.rid != later.rid]
                unmarked = [h for h in earlier if not _marked(later, h) and not _marked(h, later)]
                if not unmarked:
                    continue
                first = unmarked[0]
                what = {"wikidata": "Wikidata item", "ror": "ROR record",
                        "iso": "ISO 3166-1 code"}[target_kind(target)]
                line = self.doc.line((*first.path, "target")) if self.doc else 0
                self.add((*later.path, "target"),
                         f"{target} is also accepted for {first.rid!r} ({self.rel}:{line}): "
                         f"two records linked to one {what} may be one thing recorded twice.",
                         f"If they are the same thing, merge the records (docs/records.md, "
                         f"'Retiring a record'); if they share it on purpose (a part and its "
                         f"whole, a renamed body), write `shared_with: {first.rid}` on this "
                         f"candidate and say why in `note:`.",
                         Severity.WARNING, "shared-target", later.rid)

    def check_mark(self, holder: _Holder, mark: list[str], target: str,
                   holders: list[_Holder], known: dict) -> None:
        """`shared_with:` must name records that accept the same target, and say why."""
        sharing = {h.rid for h in holders if h.rid != holder.rid}
        path = (*holder.path, "shared_with")
        for other in mark:
            if other not in sharing:
                where = ("no record has that id" if other not in known
                         else f"{other!r} has no accepted link to {target}")
                self.add(path, f"`shared_with` names {other!r}, but {where}.",
                         "Name the record that accepts the same target, or delete the field.",
                         Severity.WARNING, "shared-target", holder.rid)
        if not (_filled(holder.cand.get("note")) or _filled(holder.cand.get("match_reason"))):
            self.add(path, f"`shared_with` marks {target} as shared on purpose, but no "
                           "`note:` (or `match_reason:`) says why.",
                     "Say in `note:` why the two records share it (e.g. the body was renamed).",
                     Severity.WARNING, "shared-target", holder.rid)

    def evidence(self, path: tuple, value: Any) -> bool:
        if not isinstance(value, list):
            if isinstance(value, str):
                return self.text(path, value, "evidence")
            self.add(path, "`evidence` must be a list of text lines.",
                     "Put `- ` before each line.", code=STRUCTURE)
            return False
        ok = True
        for k, line in enumerate(value):
            ok = self.text((*path, k), line, "evidence") and ok
        return ok

    def enrichment(self, path: tuple, value: Any) -> bool:
        if not isinstance(value, dict):
            self.add(path, "`enrichment` must be a mapping (the linker writes it).",
                     "Delete the field and run `healthcoop link --enrich`.", code=STRUCTURE)
            return False
        ok = True
        for field, inner in value.items():
            if field in ("revision", "retrieved_on"):
                if inner is not None:
                    ok = self.text((*path, field), inner, f"enrichment.{field}") and ok
            elif field == "labels":
                if inner is None:
                    continue
                if not isinstance(inner, dict):
                    self.add((*path, field), "`enrichment.labels` must be a mapping of "
                                             "language to label.",
                             "Delete the field and run `healthcoop link --enrich`.",
                             code=STRUCTURE)
                    ok = False
                    continue
                for lang, label in inner.items():
                    if label is not None:
                        ok = self.text((*path, field, lang), label,
                                       f"enrichment.labels.{lang}") and ok
            else:
                self.add((*path, field), f"Unknown field {field!r} in `enrichment`.",
                         "Allowed: revision, retrieved_on, labels.")
        return ok

    def unlinked(self, known: dict) -> None:
        """Actors without a Wikidata link: the dataset says so (a warning, not an error)."""
        by_id: dict[str, int] = {}
        for i, entry in enumerate(self.review.entries):
            rid = entry_id(entry)
            if rid and rid not in by_id:
                by_id[rid] = i
        for actor in self.entities.actors:
            if actor.id in self.linked:
                continue
            i = by_id.get(actor.id)
            if i is None:
                self.issues.append(Issue(self.rel, 0, actor.id,
                                         f"{actor.id} has not been looked up yet.",
                                         "Run `healthcoop link`.", Severity.WARNING,
                                         "unlinked", record_id=actor.id))
                continue
            status = self.review.entries[i].get("status")
            status = status if isinstance(status, str) and status else "not-found"
            self.add(("links", i, "status"), f"{actor.id} has no accepted Wikidata link "
                                             f"({status[:40]}).",
                     "Review its candidates, or leave it unlinked if Wikidata has no item "
                     "for it.", Severity.WARNING, "unlinked", actor.id)


@dataclass
class _Holder:
    """An accepted candidate, for the check of targets two records share."""

    rid: str
    path: tuple
    cand: dict
    reported: bool = False

    def shared_with(self) -> list[str]:
        value = self.cand.get("shared_with")
        return [v for v in re.split(r"[\s,]+", value) if v] if isinstance(value, str) else []


def _marked(holder: _Holder, other: _Holder) -> bool:
    """Does `holder` say it shares its target with `other` on purpose, and why?"""
    return other.rid in holder.shared_with() and (
        _filled(holder.cand.get("note")) or _filled(holder.cand.get("match_reason")))


def _filled(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _is_date(value: Any) -> bool:
    if not isinstance(value, str) or not DATE_PATTERN.match(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True
