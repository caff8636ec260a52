"""Checks across records, before any RDF is made.

In:  a `RecordSet`, the sources, and the topic ids of the concept scheme.
Out: located issues: references to ids that do not exist (with "did you mean"), references
     to the wrong kind of record, quotes that do not occur in their source (with the closest
     passage), fact fields no quote supports, unknown topics, circular or dangling
     `replaced_by`, dates that contradict themselves, and amounts whose currency the text
     does not state; `check_sources` adds the registry checks that need the records.

Entry functions: `check_records(records, sources, topics, issues)`,
`check_sources(root, sources, records, issues)`.
"""

from __future__ import annotations

import re
from pathlib import Path

from rapidfuzz import process

from pipeline.errors import IssueList, Severity
from pipeline.read.record_types import Event, Record
from pipeline.read.records import RecordSet
from pipeline.read.sources import SourceText

ACTOR_KINDS = {"person", "organisation", "country"}


def check_records(records: RecordSet, sources: dict[str, SourceText], topics: set[str] | None,
                  issues: IssueList, jobs: int | None = None, cache: Path | None = None) -> None:
    """Add an issue for every cross-record problem found (records in chunks on all cores,
    pipeline/parallel.py; the duplicate-actor check over all of them here).

    `topics` is None when the topic scheme could not be read (already reported): topic
    references are then not checked, rather than all reported as unknown. With `cache` (a
    folder), a file whose records and what they look up did not change gives the findings
    it gave last time (pipeline/check/check_cache.py).
    """
    from pipeline.parallel import fork_map

    ids = sorted(records.records)
    todo, keys = ids, {}
    if cache is not None:
        from pipeline.check import check_cache

        index = check_cache.CheckIndex(records, sources, topics, ids)
        by_file: dict[str, list[str]] = {}
        for rid in ids:
            by_file.setdefault(records.where.file_of(rid), []).append(rid)
        todo = []
        for file in sorted(by_file):
            keys[file] = key = index.key(file, by_file[file])
            found = check_cache.lookup(cache, key)
            if found is None:
                todo.extend(by_file[file])
            else:
                issues.extend(found)
    chunks = _chunks_by_file(records, todo)
    state = (records, sources, topics, ids)
    found_in: dict[str, list] = {records.where.file_of(rid): [] for rid in todo}
    for found in fork_map(_check_chunk, state, chunks, jobs, per_worker=CHECK_WORKER_CHUNKS):
        issues.extend(found)
        for issue in found:
            found_in[records.where.file_of(issue.record_id)].append(issue)
    if cache is not None:
        for file, items in found_in.items():
            check_cache.store(cache, keys[file], items)
        check_cache.prune(cache, set(keys.values()))
    _check_duplicate_actors(records, issues)


CHECK_CHUNK = 2_000


def _chunks_by_file(records: RecordSet, ids: list[str]) -> list[list[str]]:
    """`ids` in chunks of whole files (a file of more than CHECK_CHUNK records on its own),
    each file's records in the order they are written: a worker unpacks each file's
    records once (read/record_store.py)."""
    by_file: dict[str, list[str]] = {}
    for rid in ids:
        by_file.setdefault(records.where.file_of(rid), []).append(rid)
    chunks: list[list[str]] = [[]]
    for file in sorted(by_file):
        in_file = sorted(by_file[file], key=records.where.line_of)
        if chunks[-1] and len(chunks[-1]) + len(in_file) > CHECK_CHUNK:
            chunks.append([])
        chunks[-1].extend(in_file)
    return [chunk for chunk in chunks if chunk]
# chunks a worker checks before a fresh one is forked (pipeline/parallel.py: a worker keeps
# a copy of every page of the loaded records it reads)
CHECK_WORKER_CHUNKS = 16


def _check_chunk(state, chunk: list[str]) -> list:
    records, sources, topics, ids = state
    issues = IssueList()
    for rid in chunk:
        record = records.records[rid]
        where = records.where[record.id]

        def add(field: str, message: str, fix: str, severity=Severity.ERROR, code="invalid",
                _where=where, _record=record) -> None:
            issues.add(_where.file, _where.field_line(field), _where.field_name(field), message,
                       fix, severity=severity, code=code, record_id=_record.id,
                       column=_where.field_column(field))

        _check_references(record, records, sources, ids, add)
        _check_evidence(record, sources, add)
        if topics is not None:
            _check_topics(record, topics, add)
        _check_dates(record, add)
        _check_personal_data(record, add)
        _check_amount(record, sources, add)
        _check_retirement(record, records, add)
    return issues.items


def _check_references(record: Record, records: RecordSet, sources: dict[str, SourceText],
                      ids: list[str], add) -> None:
    for field, index, target in record.references():
        field_path = field if index is None else f"{field}[{index}]"
        if field.startswith("evidence["):
            if target not in sources:
                add(field, f"Unknown source {target!r}.",
                    _suggest(target, sorted(sources), "Use an id from data/sources.yaml."),
                    code="unknown-source")
            continue
        if field == "replaced_by":
            if target not in records.records and target not in records.failed:
                add(field, f"`replaced_by` points at unknown id {target!r}.",
                    _suggest(target, ids, "Point it at the record this one was merged into."),
                    code="unknown-reference")
            continue
        if target in records.failed:
            continue  # that record has schema errors, reported where it is
        kind = records.kind_of(target)
        if kind is None:
            add(field_path, f"Unknown id {target!r} in `{field}`.",
                _suggest(target, ids, "Add a record with this id, or fix the reference."),
                code="unknown-reference")
            continue
        allowed = record.reference_fields.get(field, ())
        expanded = set()
        for a in allowed:
            expanded |= ACTOR_KINDS if a == "actor" else ({"place", "country"} if a == "place"
                                                          else {a})
        if kind not in expanded:
            add(field_path,
                f"`{field}` must point at {' or '.join(allowed)} records, but {target!r} is a "
                f"{kind}.",
                f"Use the id of {'an' if allowed[0][0] in 'aeiou' else 'a'} {allowed[0]} here.",
                code="wrong-reference-kind")
        if target == record.id:
            add(field_path, f"The record refers to itself in `{field}`.",
                "Point it at another record.", code="self-reference")


def _check_evidence(record: Record, sources: dict[str, SourceText], add) -> None:
    if record.evidence_required and not record.evidence:
        add("id", f"The {record.kind} {record.id!r} has no evidence.",
            "Add `evidence:` with at least one `source:` and verbatim `quote:`.",
            code="no-evidence")
    supported: set[str] = set()
    fields = set(type(record).model_fields)
    for i, ev in enumerate(record.evidence):
        for j, name in enumerate(ev.supports):
            supportable = (fields - record.non_fact_fields) | record.optional_support_fields
            if name not in supportable:
                add(f"evidence[{i}].supports[{j}]",
                    f"`supports` names {name!r}, which is not a fact field of a {record.kind}.",
                    _suggest(name, sorted(supportable),
                             "List field names of this record."),
                    code="bad-supports")
            supported.add(name)
        source = sources.get(ev.source)
        if source is None:
            continue
        found = source.occurrences(ev.quote)
        if not found:
            passage, score = source.closest_passage(ev.quote)
            add(f"evidence[{i}].quote",
                f"The quote does not occur in source {ev.source!r} (data/sources/{source.file}). "
                f"Closest passage ({score:.0f}% alike): \"{passage}\"",
                "Copy the quote verbatim from the archived text (typos included); only "
                "whitespace may differ.", code="quote-not-found")
        elif ev.occurrence > len(found):
            add(f"evidence[{i}].occurrence",
                f"The quote occurs {len(found)} time(s) in {ev.source!r}, not {ev.occurrence}.",
                f"Set `occurrence:` between 1 and {len(found)}.", code="bad-occurrence")
        elif len(found) > 1 and "occurrence" not in ev.model_fields_set:
            add(f"evidence[{i}].quote",
                f"The quote occurs {len(found)} times in source {ev.source!r}; without "
                "`occurrence:` it is tied to the first.",
                f"Add `occurrence:` (1 to {len(found)}) for the passage you mean, or lengthen "
                "the quote until it occurs once.", severity=Severity.WARNING,
                code="ambiguous-quote")
        if _has_contact_details(ev.quote):
            add(f"evidence[{i}].quote", "The quote contains an e-mail address or phone number.",
                "Shorten the quote so it leaves out personal contact details.",
                code="personal-data")
    for name in record.fact_fields():
        if name not in supported:
            add(name, f"No evidence quote supports `{name}`.",
                f"Add `{name}` to the `supports:` list of the evidence entry whose quote states "
                "it, or add such a quote.", code="unsupported-field")
    for i, alt in enumerate(record.alt_labels):
        if alt.source and alt.source not in sources:
            add(f"alt_labels[{i}].source", f"Unknown source {alt.source!r}.",
                _suggest(alt.source, sorted(sources), "Use an id from data/sources.yaml."),
                code="unknown-source")
        elif alt.source and alt.kind != "acronym" and not sources[alt.source].occurrences(
            alt.label
        ):
            add(f"alt_labels[{i}].label",
                f"The spelling {alt.label!r} does not occur in source {alt.source!r}.",
                "Alternative labels record spellings the source really uses; copy it exactly.",
                severity=Severity.WARNING, code="alt-label-not-in-source")


def _name_key(text: str) -> str:
    """A label compared for duplicates: case, punctuation and spacing ignored."""
    return " ".join(re.sub(r"[^\w]+", " ", text.casefold()).split())


def _check_duplicate_actors(records: RecordSet, issues: IssueList) -> None:
    """A warning at the label of the second of two actors (persons, organisations) whose
    label or alternative label is the same or nearly the same (one record per real-world
    thing: docs/records.md).

    "Nearly" is rapidfuzz's ratio >= 95 between names of at least 10 characters (case,
    punctuation and spacing ignored). Pairs are not all compared: a ratio of 95 allows an
    edit distance of at most 5% of the two lengths together, so only names whose lengths
    are that close are scored (`_near_names`), which keeps the check fast with 10^5 actors.
    """
    from pipeline.read.record_types import Organisation, Person

    actors = [r for r in records.records.objects()
              if isinstance(r, (Person, Organisation)) and not r.deprecated]
    where = records.where
    actors.sort(key=lambda r: (where.file_of(r.id), where.line_of(r.id), r.id))
    # every name, in the order the old pairwise scan saw them: (key, name, record, field)
    entries: list[tuple[str, str, Record, str]] = []
    first_entry: list[int] = []  # per actor, the index of its first entry
    for record in actors:
        first_entry.append(len(entries))
        entries.append((_name_key(record.label), record.label, record, "label"))
        entries.extend((_name_key(a.label), a.label, record, f"alt_labels[{i}].label")
                       for i, a in enumerate(record.alt_labels) if a.kind != "acronym")
    near = _near_names(entries)
    exact: dict[tuple[str, str], list[int]] = {}
    for index, (key, _name, record, _field) in enumerate(entries):
        exact.setdefault((record.kind, key), []).append(index)
    for number, record in enumerate(actors):
        start = first_entry[number]
        end = first_entry[number + 1] if number + 1 < len(actors) else len(entries)
        for key, name, _record, field in entries[start:end]:
            if len(key) < 4:
                continue
            # the first earlier name (of another record of the same kind) that matches
            candidates = [i for i in exact.get((record.kind, key), []) if i < start]
            candidates += [i for i in near.get(key, ()) if i < start]
            candidates = [i for i in candidates if entries[i][2].kind == record.kind
                          and entries[i][2].id != record.id]
            if not candidates:
                continue
            _other_key, other_name, other, _f = entries[min(candidates)]
            where = records.where[record.id]
            first = records.where[other.id]
            issues.add(where.file, where.field_line(field), where.field_name(field),
                       f"Likely duplicate: {name!r} is (nearly) the name "
                       f"{other_name!r} of {other.kind} {other.id!r} "
                       f"({first.file}:{first.line}).",
                       "One real-world thing has one record: if they are the same, "
                       "merge them (keep both spellings as alt_labels, retire one "
                       "with `replaced_by`); if not, add a `note` saying how they "
                       "differ.", severity=Severity.WARNING, code="duplicate-actor",
                       record_id=record.id, column=where.field_column(field))
            break


def _near_names(entries: list) -> dict[str, list[int]]:
    """key -> indexes of the entries whose key is another key with ratio >= 95 (both at
    least 10 characters long). Keys are compared only with keys of close length: ratio >= 95
    needs |len(a) - len(b)| <= 5% of len(a) + len(b)."""
    from rapidfuzz import fuzz, process

    keys = sorted({e[0] for e in entries if len(e[0]) >= 10}, key=lambda k: (len(k), k))
    if not keys:
        return {}
    by_key: dict[str, list[int]] = {}
    for index, entry in enumerate(entries):
        by_key.setdefault(entry[0], []).append(index)
    lengths = [len(k) for k in keys]
    import bisect

    near: dict[str, list[int]] = {}
    step = 512
    for start in range(0, len(keys), step):
        rows = keys[start:start + step]
        longest = len(rows[-1])
        # the longest other key a row can match: len(b) - len(a) <= (len(a) + len(b)) / 20
        high = bisect.bisect_right(lengths, longest * 21 // 19 + 1)
        low = bisect.bisect_left(lengths, len(rows[0]) * 19 // 21)
        columns = keys[low:high]
        scores = process.cdist(rows, columns, scorer=fuzz.ratio, score_cutoff=95,
                               workers=-1)
        for r, row in enumerate(rows):
            for c in scores[r].nonzero()[0]:
                other = columns[c]
                if other != row:
                    near.setdefault(row, []).extend(by_key[other])
    return near


def _check_personal_data(record: Record, add) -> None:
    """No e-mail address or phone number in any text the dataset would publish (labels,
    notes, purposes, ...); quotes are checked with their evidence."""
    def walk(value, path: str):
        if isinstance(value, str):
            if _has_contact_details(value):
                yield path
        elif isinstance(value, dict):
            for key, item in value.items():
                yield from walk(item, f"{path}.{key}" if path else key)
        elif isinstance(value, (list, tuple)):
            for i, item in enumerate(value):
                yield from walk(item, f"{path}[{i}]")

    for path in walk(record.model_dump(exclude={"evidence", "id"}), ""):
        add(path, "The text contains an e-mail address or phone number.",
            "Leave personal contact details out of the records: they are never published.",
            code="personal-data")


# Both patterns are applied so that their cost stays linear in the text: an e-mail address
# is looked for only around each "@" (a plain search for `[\w.+-]+@` re-scans every run of
# letters from each of its positions: 40 KB took 5 s), and a phone number's digits are
# bounded (no number is longer than 30 characters).
EMAIL_LOCAL = re.compile(r"[\w.+-]")  # the character before "@"
EMAIL_DOMAIN = re.compile(r"[\w-]{1,63}\.[\w.-]{1,190}")
# a phone number is told apart from dates, amounts and years by its international prefix
# or by a cue word before it ("Tel: 2961 8989", "+852 2961 8989")
PHONE = re.compile(
    r"(?:\+|\b(?:tel|telephone|phone|fax|mobile)\b\.?:?\s{0,3})\(?\d[\d ()-]{5,30}\d",
    re.IGNORECASE)


def _has_email(text: str) -> bool:
    start = text.find("@")
    while start != -1:
        if start and EMAIL_LOCAL.match(text, start - 1) and EMAIL_DOMAIN.match(text, start + 1):
            return True
        start = text.find("@", start + 1)
    return False


def _has_contact_details(text: str) -> bool:
    return _has_email(text) or bool(PHONE.search(text))


def _check_topics(record: Record, topics: set[str], add) -> None:
    for i, topic in enumerate(getattr(record, "topics", []) or []):
        if topic not in topics:
            add(f"topics[{i}]", f"Unknown topic {topic!r}.",
                _suggest(topic, sorted(topics), "Use a topic id from ontology/topics.ttl, or "
                         "add the concept there first."), code="unknown-topic")


def _check_dates(record: Record, add) -> None:
    if isinstance(record, Event):
        if record.date and (record.start_date or record.end_date):
            add("date", "The event has both `date` and `start_date`/`end_date`.",
                "Use `date` for a one-day event, or `start_date`/`end_date` for a span.")
        if record.start_date and record.end_date:
            if _date_key(record.end_date.value) < _date_key(record.start_date.value):
                add("end_date", f"`end_date` {record.end_date.value} is before `start_date` "
                    f"{record.start_date.value}.", "Swap or correct the two dates.")
    for name in ("date", "start_date", "end_date"):
        value = getattr(record, name, None)
        if value is not None and value.resolution is None and len(value.value) == 10:
            pass  # a full date written out in the text needs no resolution note


def _date_key(value: str) -> tuple:
    parts = [int(p) for p in value.split("-")]
    return tuple(parts + [0] * (3 - len(parts)))


# How texts write currencies: ISO 4217 code -> markers (symbols match anywhere, words as words).
# "$", "¥" and "dollar(s)" alone say a currency is stated but not which one.
CURRENCY_MARKERS: dict[str, tuple[str, ...]] = {
    "GBP": ("£", "GBP", "pound", "pounds", "sterling"),
    "CNY": ("RMB", "CNY", "yuan", "renminbi", "CN¥"),
    "USD": ("US$", "USD", "US dollar", "US dollars"),
    "HKD": ("HK$", "HKD", "Hong Kong dollar", "Hong Kong dollars"),
    "EUR": ("€", "EUR", "euro", "euros"),
    "JPY": ("JPY", "yen", "JP¥"),
}
AMBIGUOUS_MARKERS: dict[str, tuple[str, ...]] = {
    "$": ("USD", "HKD", "AUD", "CAD", "SGD", "NZD", "TWD"),
    "dollar": ("USD", "HKD", "AUD", "CAD", "SGD", "NZD", "TWD"),
    "dollars": ("USD", "HKD", "AUD", "CAD", "SGD", "NZD", "TWD"),
    "¥": ("CNY", "JPY"),
}


def stated_currencies(text: str) -> tuple[set[str], set[str]]:
    """(codes the text names unambiguously, codes an ambiguous marker such as "$" allows)."""
    def has(marker: str) -> bool:
        if marker[0].isalpha():
            return re.search(rf"(?<![A-Za-z]){re.escape(marker)}(?![A-Za-z])", text,
                             re.IGNORECASE if marker.islower() else 0) is not None
        return marker in text

    named = {code for code, markers in CURRENCY_MARKERS.items() if any(map(has, markers))}
    possible: set[str] = set()
    for marker, codes in AMBIGUOUS_MARKERS.items():
        if has(marker):
            possible |= set(codes)
    return named, possible


def _check_amount(record: Record, sources: dict[str, SourceText], add) -> None:
    amount = getattr(record, "amount", None)
    if amount is None:
        return
    cited = [sources[s] for s in sorted({ev.source for ev in record.evidence}) if s in sources]
    if cited and not any(source.occurrences(amount.stated_as) for source in cited):
        add("amount.stated_as",
            f"The amount as stated ({amount.stated_as!r}) does not occur in the sources this "
            f"record cites ({', '.join(s.id for s in cited)}).",
            "Copy `stated_as` verbatim from the text (e.g. \"5 billion RMB\"); it shows what "
            "the text says, and whether it names a currency.", code="stated-as-not-in-source")
    named, possible = stated_currencies(amount.stated_as)
    if amount.currency:
        if not named and not possible:
            add("amount.currency",
                f"`currency` is {amount.currency}, but the amount as stated "
                f"({amount.stated_as!r}) names no currency.",
                "Record a currency only when the text states one: remove `currency:`, or copy "
                "the amount into `stated_as` exactly as the text writes it, currency included.",
                code="currency-not-stated")
        elif amount.currency not in named | possible:
            add("amount.currency",
                f"`currency` is {amount.currency}, but the amount is stated as "
                f"{amount.stated_as!r} ({', '.join(sorted(named or possible))}).",
                f"Use the currency the text states ({' or '.join(sorted(named or possible))}).",
                code="currency-mismatch")
    elif len(named) == 1:
        code = next(iter(named))
        add("amount.stated_as",
            f"The amount is stated as {amount.stated_as!r}, which names a currency, but "
            "`currency` is not set.",
            f"Add `currency: {code}` to the amount.", severity=Severity.WARNING,
            code="currency-missing")


def _check_retirement(record: Record, records: RecordSet, add) -> None:
    if record.replaced_by and not record.deprecated:
        add("replaced_by", "A record with `replaced_by` must also say why in `deprecated:`.",
            "Add `deprecated: \"Merged into <id> because ...\"`.")
    seen = [record.id]
    current = record
    while current is not None and current.replaced_by:
        nxt = current.replaced_by
        if nxt in seen:
            add("replaced_by", f"`replaced_by` forms a cycle: {' -> '.join(seen + [nxt])}.",
                "Point the chain at a record that is not itself replaced.",
                code="replaced-by-cycle")
            return
        seen.append(nxt)
        current = records.facts(nxt) if nxt in records.records else None


def _suggest(value: str, choices: list[str], otherwise: str) -> str:
    best = process.extractOne(value, choices, score_cutoff=75) if choices else None
    if best:
        return f"Did you mean {best[0]!r}?"
    return otherwise



LANGUAGE_TAG = re.compile(  # matched with fullmatch: `$` would accept a trailing newline
    r"[a-zA-Z]{2,3}(-[a-zA-Z]{4})?(-([a-zA-Z]{2}|[0-9]{3}))?(-([a-zA-Z0-9]{5,8}|[0-9][a-zA-Z0-9]{3}))*"
)


def check_sources(root, sources: dict[str, SourceText], records: RecordSet,
                  issues: IssueList) -> None:
    """Registry entries that would mint a broken IRI or literal, or collide with a record.

    The registry was read (and its files checked) by `sources.load_sources`; this adds the
    checks that need the records too: source ids follow the id pattern (they become IRIs),
    no record uses a source's id, a stated publisher is an organisation, and the language is
    a well-formed BCP 47 tag.
    """
    from pipeline.read.record_types import ID_MAX, ID_PATTERN
    from pipeline.read.sources import REGISTRY
    from pipeline.read.yamlfile import load_yaml

    check_drafts(root, records, issues)
    suggest_topics_by_label(root, issues)
    # (its issues are already reported)
    doc = load_yaml(root / REGISTRY, root, IssueList(), remember=True)
    if doc is None or not isinstance(doc.data, dict) or not isinstance(doc.data.get("sources"),
                                                                        list):
        return
    ids = sorted(records.records)
    for index, entry in enumerate(doc.data["sources"]):
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
            continue
        sid = entry["id"]
        path = ("sources", index)

        def add(key: str, message: str, fix: str, code: str, _path=path, _sid=sid) -> None:
            issues.add(doc.rel_path, doc.line((*_path, key)), f"sources[{_path[1]}].{key}",
                       message, fix, code=code, record_id=_sid,
                       column=doc.column((*_path, key)))

        if len(sid) > ID_MAX or not ID_PATTERN.fullmatch(sid):
            add("id", f"{sid!r} is not a valid source id (it becomes the IRI "
                f"https://w3id.org/healthcoop/id/<id>).",
                "Use 2-80 lowercase ASCII letters, digits and single hyphens, starting with a "
                "letter, e.g. `uk-china-healthcare-deals-2018`.", "bad-id")
            continue
        if sid in records.records or sid in records.failed:
            where = records.where.get(sid) or records.failed[sid]
            add("id", f"Source id {sid!r} is also the id of a record ({where.file}:"
                f"{where.line}); both would get the same IRI.",
                "Ids are unique across sources and records: rename the record's id (it is "
                "not yet published) or choose another source id.", "duplicate-id")
        if sid not in sources:
            continue  # its file could not be read: reported by load_sources
        language = entry.get("language")
        if isinstance(language, str) and not (len(language) <= 64
                                              and LANGUAGE_TAG.fullmatch(language)):
            add("language", f"{language!r} is not a BCP 47 language tag.",
                "Write the tag of the text's language, e.g. `en`, `zh-Hans`, `en-GB`.",
                "bad-language-tag")
        publisher = entry.get("publisher")
        if isinstance(publisher, str):
            kind = records.kind_of(publisher)
            if kind is None and publisher not in records.failed:
                add("publisher", f"Unknown publisher {publisher!r}.",
                    _suggest(publisher, ids, "Use the id of an organisation record."),
                    "unknown-reference")
            elif kind is not None and kind != "organisation":
                add("publisher", f"`publisher` must be an organisation, but {publisher!r} is "
                    f"a {kind}.", "Use the id of an organisation record.",
                    "wrong-reference-kind")


DRAFT_KEY = re.compile(r"^draft[ \t]*:", re.MULTILINE)


def check_drafts(root, records: RecordSet, issues: IssueList) -> None:
    """A draft (`healthcoop draft`: a `*.draft.yaml` file, or a records file with a
    top-level `draft:` key) is an error until a person confirms it, so that it never passes
    for finished records."""
    from pipeline.read.records import RECORDS_DIR, is_draft_file, record_files

    root_path = Path(root)
    loaded = set(records.files)
    folder = root_path / RECORDS_DIR
    drafts = sorted(p for p in folder.iterdir() if is_draft_file(p)) if folder.is_dir() else []
    for path in sorted(record_files(root_path) + drafts):
        rel = path.relative_to(root_path).as_posix()
        line = 0
        if rel in loaded:  # a regular file that was read already (never a FIFO or device)
            match = DRAFT_KEY.search(path.read_text(encoding="utf-8", errors="replace"))
            if match:
                line = match.string.count("\n", 0, match.start()) + 1
        if line or path.name.endswith(".draft.yaml"):
            target = path.name.removesuffix(".draft.yaml") + ".yaml" \
                if path.name.endswith(".draft.yaml") else path.name
            issues.add(rel, line, "draft" if line else "(file)",
                       "draft not confirmed: this is a draft written by `healthcoop draft`, "
                       "not a finished records file.",
                       f"Review it against the source, move what is right into records, "
                       f"remove the `draft:` block and rename the file to {target}.",
                       code="draft-not-confirmed", column=1 if line else 0)


def topic_names(root) -> dict[str, str]:
    """Every way to name a topic of ontology/topics.ttl (id, skos:prefLabel, skos:altLabel,
    compared without case and punctuation) -> its id."""
    from rdflib import Graph
    from rdflib.namespace import SKOS

    from pipeline.rdf.vocab import HCTOPIC

    path = Path(root) / "ontology" / "topics.ttl"
    graph = Graph()
    try:
        graph.parse(path, format="turtle")
    except Exception:  # noqa: BLE001 - a broken scheme is reported by build.load_topics
        return {}
    prefix = str(HCTOPIC)
    out: dict[str, str] = {}
    for concept in sorted(set(graph.subjects(SKOS.prefLabel, None))):
        if not str(concept).startswith(prefix):
            continue
        tid = str(concept)[len(prefix):]
        out.setdefault(_name_key(tid), tid)
        for prop in (SKOS.prefLabel, SKOS.altLabel):
            for label in sorted(graph.objects(concept, prop)):
                out.setdefault(_name_key(str(label)), tid)
    return out


_UNKNOWN_TOPIC = re.compile(r"Unknown topic '(.*)'\.")


def suggest_topics_by_label(root, issues: IssueList) -> None:
    """Rewrite the "did you mean" of each unknown topic so that it searches the topics'
    labels and alternative labels too ("oncology" -> `cancer`), not only their ids."""
    import dataclasses

    names: dict[str, str] | None = None
    for index, issue in enumerate(issues.items):
        match = _UNKNOWN_TOPIC.fullmatch(issue.message) if issue.code == "unknown-topic" else None
        if not match:
            continue
        if names is None:
            names = topic_names(root)
        if not names:
            return
        wanted = _name_key(match.group(1))
        best = process.extractOne(wanted, sorted(names), score_cutoff=75)
        if best is None:
            continue
        tid = names[best[0]]
        via = "" if best[0] == _name_key(tid) else f" (it has the label {best[0]!r})"
        issues.items[index] = dataclasses.replace(
            issue, fix=f"Did you mean {tid!r}?{via}")
