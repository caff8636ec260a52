"""Where each record came from: its file, its line and its place in the file.

In:  the `Where` of each loaded record (file, line, path inside the file, the parsed
     document with its positions), as `records.load_records` makes them.
Out: a `WhereIndex`, the mapping id -> `Where` of a `RecordSet`, which keeps one integer
     per record and makes the `Where` again when asked.

Why: a `Where` object, its path tuple and its dict entry were about 300 bytes a record, kept
for every record of the corpus for the whole build (a `Where` is read when a finding is
reported and when records are grouped by file, not while shards are mapped). The file's
document is kept once, and a record's line is the position its document keeps for the
record's path (`YamlDocument.compact`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass, field

from pipeline.read.yamlfile import YamlDocument, dotted

# the integer of a record: (document number, list name number, index in the list)
_INDEX_BITS = 32  # an item's index in its list: below 2**32 (a file has at most 20 MB)
_INDEX_MASK = (1 << _INDEX_BITS) - 1
_NAME_BITS = 8
_NAME_MASK = (1 << _NAME_BITS) - 1


@dataclass(frozen=True)
class Where:
    """The file and lines a record came from."""

    file: str
    line: int
    path: tuple  # path of the record inside its file, e.g. ("agreements", 3)
    doc: YamlDocument = field(repr=False, compare=False)

    def field_line(self, field_path: tuple | str) -> int:
        if isinstance(field_path, str):
            field_path = tuple(_split_field(field_path))
        return self.doc.line((*self.path, *field_path))

    def field_column(self, field_path: tuple | str) -> int:
        if isinstance(field_path, str):
            field_path = tuple(_split_field(field_path))
        return self.doc.column((*self.path, *field_path))

    def field_name(self, field_path: tuple | str) -> str:
        if isinstance(field_path, str):
            field_path = tuple(_split_field(field_path))
        return dotted((*self.path, *field_path))


def _split_field(text: str) -> list:
    """ "evidence[2].quote" -> ["evidence", 2, "quote"] """
    parts: list = []
    for piece in text.split("."):
        m = re.match(r"^([^\[]*)((?:\[\d+\])*)$", piece)
        if not m:
            parts.append(piece)
            continue
        if m.group(1):
            parts.append(m.group(1))
        parts.extend(int(i) for i in re.findall(r"\[(\d+)\]", m.group(2)))
    return parts


class WhereIndex(MutableMapping):
    """id -> `Where`, in the order added. A `Where` whose path is (list name, index) in its
    document and whose line is the one its document gives for that path is kept as one
    integer (document number, list name number, index); any other is kept as it is."""

    def __init__(self, items=None) -> None:
        self._docs: list[YamlDocument] = []
        self._names: list[str] = []        # the list names of paths ("agreements", …)
        self._at: dict[str, int | Where] = {}
        self._doc_number: dict[int, int] = {}   # id(document) -> its number in _docs
        self._name_number: dict[str, int] = {}
        if items:
            self.update(items)

    def __getitem__(self, rid: str) -> Where:
        found = self._at[rid]
        if type(found) is not int:
            return found
        doc, path = self._unpack(found)
        return Where(doc.rel_path, doc.line(path), path, doc)

    def _unpack(self, packed: int) -> tuple[YamlDocument, tuple[str, int]]:
        """The document and the (list name, index) path of a record's integer."""
        return (self._docs[packed >> (_NAME_BITS + _INDEX_BITS)],
                (self._names[(packed >> _INDEX_BITS) & _NAME_MASK], packed & _INDEX_MASK))

    def file_of(self, rid: str) -> str:
        """The file of `rid`'s record, without working out its line (grouping records by
        file asks this of every record; a line is looked up in its document's positions)."""
        found = self._at[rid]
        if type(found) is not int:
            return found.file
        return self._unpack(found)[0].rel_path

    def line_of(self, rid: str) -> int:
        """The line of `rid`'s record (what `self[rid].line` gives, without the `Where`)."""
        found = self._at[rid]
        if type(found) is not int:
            return found.line
        doc, path = self._unpack(found)
        return doc.line(path)

    def __setitem__(self, rid: str, where: Where) -> None:
        packed = self._packed(where)
        self._at[rid] = where if packed is None else packed

    def _packed(self, where: Where) -> int | None:
        path, doc = where.path, where.doc
        if (len(path) != 2 or type(path[0]) is not str or type(path[1]) is not int
                or not 0 <= path[1] < 1 << _INDEX_BITS or where.file != doc.rel_path
                or doc.line(path) != where.line):
            return None
        return self._pack(doc, path[0], path[1])

    def _pack(self, doc: YamlDocument, name: str, index: int) -> int | None:
        """The integer of (doc, name, index), or None when there is no room for the name."""
        number = self._name_number.get(name)
        if number is None:
            if len(self._names) > _NAME_MASK:  # (record kinds: a handful)
                return None
            number = self._name_number[name] = len(self._names)
            self._names.append(name)
        doc_number = self._doc_number.get(id(doc))
        if doc_number is None:
            doc_number = self._doc_number[id(doc)] = len(self._docs)
            self._docs.append(doc)
        return (((doc_number << _NAME_BITS) | number) << _INDEX_BITS) | index

    def add_from(self, other: WhereIndex, rids) -> None:
        """Add the records `rids` of `other` (one file's index, say), their integers
        renumbered, without making their `Where`s again."""
        for rid in rids:
            found = other._at[rid]
            if type(found) is int:
                doc, (name, index) = other._unpack(found)
                packed = self._pack(doc, name, index)
                self._at[rid] = other[rid] if packed is None else packed
            else:
                self._at[rid] = found

    def __delitem__(self, rid: str) -> None:
        del self._at[rid]

    def __iter__(self) -> Iterator[str]:
        return iter(self._at)

    def __len__(self) -> int:
        return len(self._at)

    def __contains__(self, rid) -> bool:
        return rid in self._at

    def __repr__(self) -> str:
        return f"<WhereIndex of {len(self)} records in {len(self._docs)} documents>"

    def documents(self) -> list[YamlDocument]:
        """The documents of the records kept as integers (the others: their `Where`s)."""
        return [*self._docs, *(w.doc for w in self._at.values() if type(w) is not int)]

    def __getstate__(self) -> dict:
        return {"docs": self._docs, "names": self._names, "at": self._at}

    def __setstate__(self, state: dict) -> None:
        self._docs, self._names, self._at = state["docs"], state["names"], state["at"]
        self._doc_number = {id(doc): n for n, doc in enumerate(self._docs)}
        self._name_number = {name: n for n, name in enumerate(self._names)}
