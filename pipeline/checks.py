"""Checks across records, before any RDF is made.

In:  a `RecordSet`, the sources, and the topic ids of the concept scheme.
Out: located issues: references to ids that do not exist (with "did you mean"), references
     to the wrong kind of record, quotes that do not occur in their source (with the closest
     passage), fact fields no quote supports, unknown topics, circular or dangling
     `replaced_by`, and dates that contradict themselves.

Entry function: `check_records(records, sources, topics, issues)`.
"""

from __future__ import annotations

from rapidfuzz import process

from .errors import IssueList, Severity
from .records import Event, Record, RecordSet
from .sources import SourceText

ACTOR_KINDS = {"person", "organisation", "country"}


def check_records(records: RecordSet, sources: dict[str, SourceText], topics: set[str],
                  issues: IssueList) -> None:
    """Add an issue for every cross-record problem found."""
    ids = sorted(records.records)
    for record in records.sorted():
        where = records.where[record.id]

        def add(field: str, message: str, fix: str, severity=Severity.ERROR, code="invalid",
                _where=where, _record=record) -> None:
            issues.add(_where.file, _where.field_line(field), _where.field_name(field), message,
                       fix, severity=severity, code=code, record_id=_record.id)

        _check_references(record, records, sources, ids, add)
        _check_evidence(record, sources, add)
        _check_topics(record, topics, add)
        _check_dates(record, add)
        _check_retirement(record, records, add)


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
            if target not in records.records:
                add(field, f"`replaced_by` points at unknown id {target!r}.",
                    _suggest(target, ids, "Point it at the record this one was merged into."),
                    code="unknown-reference")
            continue
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


def _has_contact_details(text: str) -> bool:
    import re

    return bool(re.search(r"[\w.+-]+@[\w-]+\.[\w.-]+", text)
                or re.search(r"\+?\d[\d ()-]{8,}\d", text))


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
        current = records.records.get(nxt)


def _suggest(value: str, choices: list[str], otherwise: str) -> str:
    best = process.extractOne(value, choices, score_cutoff=75) if choices else None
    if best:
        return f"Did you mean {best[0]!r}?"
    return otherwise

