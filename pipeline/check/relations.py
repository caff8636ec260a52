"""Checks on how records point at each other that no single reference check can see.

In:  a `RecordSet` (records with their positions).
Out: located issues, added to an `IssueList`:
     - an error for every containment cycle through `part_of` (an organisation that is part
       of itself, two places each inside the other): the hierarchy could otherwise be stated
       both ways at once, and consumers walking it would never stop;
     - a warning at every field (parties, participants, hosts, part_of, ...) that points at
       a retired record (`deprecated:`), naming its successor when it was merged: the
       statement is published, but about a tombstone.

Entry function: `check_relations(records, issues)`.
"""

from __future__ import annotations

from pipeline.errors import IssueList, Severity
from pipeline.read.records import RecordSet


def check_relations(records: RecordSet, issues: IssueList) -> None:
    """Add the issues the module docstring lists."""
    _containment_cycles(records, issues)
    _references_to_retired(records, issues)


def _add(records: RecordSet, issues: IssueList, rid: str, field: str, message: str, fix: str,
         severity: Severity, code: str) -> None:
    where = records.where[rid]
    issues.add(where.file, where.field_line(field), where.field_name(field), message, fix,
               severity=severity, code=code, record_id=rid, column=where.field_column(field))


def _containment_cycles(records: RecordSet, issues: IssueList) -> None:
    parent = {rid: target for rid in records.records
              for field, _index, target in records.references_of(rid) if field == "part_of"}
    reported: set[frozenset] = set()
    for start in sorted(parent):
        chain, node = [start], parent[start]
        while node in parent and node not in chain:
            chain.append(node)
            node = parent[node]
        if node not in chain:
            continue  # ends at a record that is part of nothing: no cycle from here
        cycle = chain[chain.index(node):]
        if frozenset(cycle) in reported:
            continue
        reported.add(frozenset(cycle))
        first = min(cycle)
        at = cycle.index(first)
        path = " → ".join(cycle[at:] + cycle[:at] + [first])
        _add(records, issues, first, "part_of",
             f"`part_of` makes a containment cycle: {path}.",
             "A record cannot be (indirectly) part of itself: remove or correct one `part_of` "
             "of the cycle, as the sources state it.", Severity.ERROR, "part-of-cycle")


def _references_to_retired(records: RecordSet, issues: IssueList) -> None:
    # (the records' facts, read/record_store.py: no record is unpacked)
    retired_ids = {rid for rid in records.records if records.facts(rid).deprecated}
    if not retired_ids:
        return
    for rid in sorted(records.records):
        if rid in retired_ids:
            continue  # a tombstone's own references are history
        for field, index, target in records.references_of(rid):
            if target not in retired_ids or field == "replaced_by" \
                    or field.startswith("evidence["):
                continue
            retired = records.facts(target)
            name = field if index is None else f"{field}[{index}]"
            successor = retired.replaced_by
            fix = (f"Point at {successor!r}, which replaced it." if successor else
                   "Point at the record that stands for it now, or keep the reference if the "
                   "source really names the retired one.")
            _add(records, issues, rid, name,
                 f"`{name}` points at {target!r}, a retired record ({retired.deprecated}).",
                 fix, Severity.WARNING, "reference-to-retired")
