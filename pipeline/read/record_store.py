"""Where the loaded records live: actors as objects, the rest packed per file.

In:  the typed records of each record file, as `load_records` makes them (one file at a
     time, in a worker process or from the record cache).
Out: a `RecordStore`, a mapping from id to record in load order, and the `Facts` of each
     record (kind, retirement, references, cited sources) that the checks across records,
     the named graphs and the cache keys read without the record itself.

Why: a loaded record is about 3.5 KB of Python objects and most of a large corpus is
agreements and events, while what the stages that look across records need of them is a
few ids. So the records of those kinds (`PACKED_KINDS`) are kept per file as one
zlib-compressed pickle (about 130 bytes a record in the generated corpus, 25 times less),
unpacked when a stage asks for one of them; the last `OPEN_PACKS` unpacked files are kept,
so that a stage reading a file's records in order unpacks the file once. Persons,
organisations, places and roles stay objects: they are few, and everything points at them.
Records replaced later (`store[id] = record`, as tests and tools do) become objects too.
"""

from __future__ import annotations

import pickle
import sys
import zlib
from collections import OrderedDict
from collections.abc import Iterator, MutableMapping
from typing import NamedTuple

PACKED_KINDS = frozenset({"agreement", "event", "initiative"})
OPEN_PACKS = 4
RESIDENT = -1  # (in `_pack_of`: the record is an object in `_objects`)


class Facts(NamedTuple):
    """What the checks across records need of a record, without the record."""

    kind: str                       # its kind; "country" for a place of type country
    deprecated: str | None
    replaced_by: str | None
    references: tuple                # Record.references(): (field, index or None, id)
    alt_label_sources: tuple         # the sources its alt_labels cite

    @classmethod
    def of(cls, record) -> Facts:
        kind = record.kind
        if kind == "place" and record.type == "country":
            kind = "country"
        # (field names such as "evidence[0].source" are made anew for every record: one
        # object each is enough)
        references = tuple((sys.intern(name), index, target)
                           for name, index, target in record.references())
        return cls(kind, record.deprecated, record.replaced_by, references,
                   tuple(a.source for a in record.alt_labels if a.source))

    @property
    def evidence_sources(self) -> list[str]:
        return [target for field, _i, target in self.references if field.startswith("evidence[")]


class RecordStore(MutableMapping):
    """id -> record, in the order the records were added (see the module docstring)."""

    def __init__(self, records=None) -> None:
        self._pack_of: dict[str, int] = {}   # every id, in order: its pack, or RESIDENT
        self._objects: dict[str, object] = {}
        self._packs: list[bytes] = []
        self._facts: dict[str, Facts] = {}   # of every packed record, and of others asked
        self._open: OrderedDict[int, dict] = OrderedDict()
        # one tuple for each distinct (field, index, target) of the Facts' references: a
        # corpus points at few actors and sources from many records (10,834 generated
        # records: 42,990 references, 4,064 distinct), and a tuple is 64 bytes
        self._references: dict[tuple, tuple] = {}
        if records:
            self.update(records)

    # the mapping

    def __getitem__(self, rid: str):
        found = self._objects.get(rid)
        if found is not None:
            return found
        return self._unpack(self._pack_of[rid])[rid]  # (KeyError when there is no such id)

    def __setitem__(self, rid: str, record) -> None:
        self._pack_of[rid] = RESIDENT
        self._objects[rid] = record
        self._facts.pop(rid, None)

    def __delitem__(self, rid: str) -> None:
        del self._pack_of[rid]
        self._objects.pop(rid, None)
        self._facts.pop(rid, None)

    def __iter__(self) -> Iterator[str]:
        return iter(self._pack_of)

    def __len__(self) -> int:
        return len(self._pack_of)

    def __contains__(self, rid) -> bool:
        return rid in self._pack_of

    def __eq__(self, other) -> bool:
        if isinstance(other, (RecordStore, dict)):
            return list(self.keys()) == list(other.keys()) and all(
                self[k] == other[k] for k in self)
        return NotImplemented

    def __repr__(self) -> str:
        return f"<RecordStore of {len(self)} records, {len(self._packs)} packs>"

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_open"] = OrderedDict()  # (unpacked again where they are needed)
        state["_references"] = {}  # (pickling keeps the sharing; the pool is rebuilt)
        return state

    def _shared(self, facts: Facts) -> Facts:
        """`facts` with its references' tuples shared with those of other records."""
        pool = self._references
        return facts._replace(references=tuple(
            [pool.setdefault(reference, reference) for reference in facts.references]))

    # what is special about it

    def facts(self, rid: str) -> Facts:
        """The `Facts` of a record (KeyError when there is none); worked out once per
        record (the checks, the stubs, the named graphs and the cache keys all ask)."""
        found = self._facts.get(rid)
        if found is None:
            found = self._facts[rid] = self._shared(Facts.of(self[rid]))
        return found

    def is_packed(self, rid: str) -> bool:
        return self._pack_of.get(rid, RESIDENT) != RESIDENT

    def kind_of(self, rid: str) -> str | None:
        if rid not in self._pack_of:
            return None
        return self.facts(rid).kind

    def objects(self) -> Iterator:
        """The records kept as objects (all persons, organisations, places and roles), in
        order, without unpacking anything."""
        return iter(self._objects.values())

    def pack(self) -> None:
        """Pack the records of `PACKED_KINDS` held as objects into one pack (done once per
        file, in the process that loaded it)."""
        chosen = {rid: record for rid, record in self._objects.items()
                  if record.kind in PACKED_KINDS}
        if not chosen:
            return
        number = len(self._packs)
        self._packs.append(zlib.compress(
            pickle.dumps(chosen, protocol=pickle.HIGHEST_PROTOCOL), 1))
        for rid, record in chosen.items():
            self._facts[rid] = self._shared(Facts.of(record))
            del self._objects[rid]
            self._pack_of[rid] = number

    def add_from(self, other: RecordStore, rids) -> None:
        """Add the records `rids` of `other` (a store of one file's records), their packs
        and facts moved over as they are (nothing is unpacked)."""
        renumbered: dict[int, int] = {}
        for rid in rids:
            number = other._pack_of[rid]
            if number == RESIDENT:
                self[rid] = other._objects[rid]
                continue
            if number not in renumbered:
                renumbered[number] = len(self._packs)
                self._packs.append(other._packs[number])
            self._pack_of[rid] = renumbered[number]
            self._facts[rid] = self._shared(other._facts[rid])

    def _unpack(self, number: int) -> dict:
        if number == RESIDENT:
            raise KeyError(number)
        found = self._open.get(number)
        if found is not None:
            self._open.move_to_end(number)
            return found
        found = pickle.loads(zlib.decompress(self._packs[number]))
        self._open[number] = found
        if len(self._open) > OPEN_PACKS:
            self._open.popitem(last=False)
        return found
