"""`healthcoop link`: propose links into the review file, keep the decisions made there.

In:  the project root (the records, `data/links.yaml`, the ROR copy in `data/reference/ror/`)
     and `LinkOptions` (endpoint, contact, --offline, --enrich, --ror-source; the session,
     clock and retry policy are injected by tests).
Out: `data/links.yaml` rewritten with today's proposals (human decisions kept; an unchanged
     file is not touched), with --ror-source the re-selected ROR copy, and a `LinkSummary`
     (counts, offline misses, merged and deleted items) for the terminal.

For each organisation: ROR candidates (pipeline.link.ror); for each person and organisation:
Wikidata candidates (pipeline.link.candidates); for each place: ISO 3166-1 codes
(pipeline.link.places). Today's candidates are merged into yesterday's entries
(`_merge_entry`: human fields always win); then every accepted or proposed QID is asked
again, for merges and deletions (`_check_items`, which also stores the labels --enrich asks
for).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from pipeline.errors import InvalidData

from .cache import ResponseCache
from .candidates import (
    WikidataOutcome,
    _qid_key,
    _Resolver,
    clean_wikidata_text,
    wikidata_candidates,
)
from .client import (
    DEFAULT_CONTACT,
    DEFAULT_ENDPOINT,
    Clock,
    EntityResult,
    OfflineMiss,
    RetryPolicy,
    WikidataClient,
    WikidataUnavailable,
    check_user_agent,
    entity_description,
    entity_labels,
    user_agent,
)
from .common import (
    AMBIGUITY_MARGIN,
    PROPOSE_AT,
    QID_TARGET,
    REVIEW_FILE,
    ROR_SUBSET,
    WIKIDATA_PAGE,
    Actor,
    load_entities,
    target_kind,
    terminal_safe,
)
from .places import iso_candidates
from .review_file import (
    CANDIDATE_KEYS,
    MACHINE_KEYS,
    _Checker,
    _is_date,
    atomic_write,
    entry_id,
    read_review,
    render_review,
    structure_issues,
)
from .ror import RorIndex, RorRecord, Vocabulary, load_ror, ror_candidates
from .ror_subset import read_selection, select_records, write_subset
from .triples import _ZH_TAGS


@dataclass
class LinkOptions:
    """What `healthcoop link` is asked to do (its command-line options), and what tests inject."""

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
    """What a run found and did, by entity id; `lines()` is what the terminal shows."""

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
