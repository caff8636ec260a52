"""The record checks' cache: a record file whose records, and whatever they look up, did not
change is not checked again.

In:  the loaded records, the sources, the topic ids, and the cache folder (`.cache/checks/`
     of a build that keeps its cache).
Out: `CheckIndex(...).key(file, ids)`: the key of that file's findings under the checks of
     pipeline/check/checks.py (`_check_chunk`); `lookup` (a list of findings or None),
     and `store`/`prune` from read/record_cache.py, keep them (sha256-checked, written
     atomically, never trusted when damaged).

Why: the per-record checks (quotes found in their sources, references, dates, amounts) are
the largest part of the read stage (12 s of a 100,000-record build's 55 s, on two cores),
and a maintainer who edits one file of hundreds should not wait for all of them again.

What a file's findings depend on, and so its key: the code (every module), the file's bytes
(its records and their lines), the topic ids; for every id its records point at, whether
it is a record, which kind, whether it failed the schema, and, along a `replaced_by`
chain, where the chain leads; for every source they cite, its id, file and text. A
"did you mean" suggestion for an unknown id or source is drawn from all ids (or all
sources), so a file with an unknown reference depends on the whole list.
"""

from __future__ import annotations

import hashlib
from functools import cached_property
from pathlib import Path

from pipeline.errors import Issue
from pipeline.read import record_cache
from pipeline.read.record_cache import code_digest, prune, store  # noqa: F401 - the cache's API

FORMAT = "healthcoop-check-cache 1"


def lookup(cache: Path, key: str) -> list[Issue] | None:
    """The findings stored under `key`, or None when there are none, the entry is not
    intact, or it holds anything but a list of findings (never trusted)."""
    found = record_cache.lookup(cache, key)
    if isinstance(found, list) and all(isinstance(i, Issue) for i in found):
        return found
    return None


class CheckIndex:
    """What the checks of one file may look up elsewhere, digested on demand."""

    def __init__(self, records, sources: dict, topics: set[str] | None, ids: list[str]) -> None:
        self.records = records
        self.sources = sources
        self.ids = ids
        self._texts: dict[str, str] = {}
        self.topics = ("no topic scheme" if topics is None
                       else hashlib.sha256("\n".join(sorted(topics)).encode()).hexdigest())

    def key(self, file: str, ids: list[str]) -> str:
        # the parts are ids, kinds, flags, file paths and hex digests: none holds a NUL,
        # so NUL-joined they read back one way only
        records = self.records
        parts = [FORMAT, code_digest(), file, records.digests.get(file, ""), self.topics, *ids]
        targets: set[str] = set()
        cited: set[str] = set()
        for rid in ids:
            facts = records.facts(rid)  # (read/record_store.py: nothing is unpacked)
            for field, _index, target in facts.references:
                if field.startswith("evidence["):
                    cited.add(target)
                elif field != "replaced_by":
                    targets.add(target)
            cited.update(facts.alt_label_sources)
            # the retirement check follows the chain through other records
            seen, current = {rid}, facts
            while current is not None and current.replaced_by and current.replaced_by not in seen:
                seen.add(current.replaced_by)
                targets.add(current.replaced_by)
                current = (records.facts(current.replaced_by)
                           if current.replaced_by in records.records else None)
        unknown = False
        for target in sorted(targets):
            kind = records.kind_of(target)
            unknown = unknown or kind is None
            parts += ("points-at", target, str(kind), str(target in records.failed),
                      records.facts(target).replaced_by or "" if kind is not None else "")
        if unknown:
            parts += ("all ids", self._all_ids)
        unknown = False
        for sid in sorted(cited):
            source = self.sources.get(sid)
            unknown = unknown or source is None
            parts += ("cites", sid, "" if source is None else source.file, self._text(sid))
        if unknown:
            parts += ("all sources", self._all_sources)
        return hashlib.sha256("\0".join(parts).encode("utf-8")).hexdigest()

    @cached_property
    def _all_ids(self) -> str:
        return hashlib.sha256("\n".join(self.ids).encode()).hexdigest()

    @cached_property
    def _all_sources(self) -> str:
        return hashlib.sha256("\n".join(sorted(self.sources)).encode()).hexdigest()

    def _text(self, sid: str) -> str:
        found = self._texts.get(sid)
        if found is None:
            source = self.sources.get(sid)
            found = self._texts[sid] = ("" if source is None else hashlib.sha256(
                source.text.encode("utf-8", "surrogatepass")).hexdigest())
        return found
