"""The stubs' cache: the referenced records of a file that did not change are not mapped
again to find their stubs.

In:  the prepared run's records, its stub predicates, and the cache folder (`.cache/stubs/`
     of a build that keeps its cache).
Out: `key(run, file, ids)`: the key of what `stubs.stubs_of` makes of the records `ids` of
     `file` (each one's stub, label and the findings of a record that cannot be turned into
     RDF); `lookup` (that list, or None), and `store`/`prune` from read/record_cache.py
     (sha256-checked, written atomically, never trusted when damaged).

Why: a build maps every referenced record (a fifth of the records at 100k) before any shard
runs, so that a shard can test what it points at; with one file changed, that was most of
what the shards stage did.

What the stubs of a file's records depend on, and so its key: the code (every module) and
the versions of rdflib and pyoxigraph (the terms and the check that they can be written),
the stub predicates (from the shapes), the file's bytes (its records and their lines), which
of its records are referenced (those are mapped), and for a role, the label of its person
(the role's label is made from it, `mapping._role_label`). A record's evidence is not part
of its stub (check/stubs.py), so the sources are not either.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pyoxigraph
import rdflib

from pipeline.read import record_cache
from pipeline.read.record_cache import code_digest, prune, store  # noqa: F401 - the cache's API
from pipeline.read.record_types import Role

FORMAT = "healthcoop-stub-cache 1"


def key(run, file: str, ids: list[str]) -> str:
    """The key of the stubs of `ids` (referenced records of `file`, in order)."""
    records = run.project.records
    parts = [FORMAT, code_digest(), rdflib.__version__, pyoxigraph.__version__,
             *sorted(str(p) for p in run.stub_predicates), file,
             records.digests.get(file, ""), *ids]
    for rid in ids:
        if records.records.is_packed(rid):
            continue  # (not a role: roles are never packed, read/record_store.py)
        record = records.records[rid]
        if isinstance(record, Role):
            person = records.records.get(record.person)
            parts += ["role", rid, record.person, "-" if person is None else str(person.label)]
    # lengths first: labels are free text, so no separator alone keeps the parts apart
    h = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8")
        h.update(len(data).to_bytes(8, "big"))
        h.update(data)
    return h.hexdigest()


def lookup(cache: Path, entry: str, ids: list[str]) -> list[tuple] | None:
    """The (id, stub, label, findings) of each of `ids` stored under `entry`, or None when
    there is none, it is not intact, or it is not about exactly these records."""
    found = record_cache.lookup(cache, entry)
    if (isinstance(found, list) and len(found) == len(ids)
            and all(isinstance(item, tuple) and len(item) == 4 and item[0] == rid
                    for item, rid in zip(found, ids, strict=True))):
        return found
    return None
