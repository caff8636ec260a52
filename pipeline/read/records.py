"""Stage `records`: curated YAML -> typed records that remember where they came from.

In:  every `data/records/*.yaml` file (format: docs/records.md).
Out: a `RecordSet`: typed records (the pydantic models of record_types.py) keyed by id, each
     with a `Where` (file, line of the record, line of each field) so that every later
     finding, SHACL results included, can name file:line:field.

Entry function: `load_records(root, issues)`. Schema problems (missing or unknown fields,
wrong types, malformed ids, impossible dates) become located issues; the record is dropped
and loading goes on, so one run reports everything.
"""

from __future__ import annotations

import contextlib
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from pipeline.errors import IssueList
from pipeline.read import record_cache
from pipeline.read.record_store import PACKED_KINDS, Facts, RecordStore
from pipeline.read.record_types import (
    ID_MAX,
    ID_PATTERN,
    KINDS,
    Record,
)
from pipeline.read.where import Where, WhereIndex
from pipeline.read.yamlfile import (
    YamlDocument,
    dotted,
    load_yaml,
    read_input,
    read_yaml_bytes,
    relative,
)

RECORDS_DIR = Path("data/records")
RECORD_DEPTH = 2  # ("agreements", 3): the path of a record in its file


@dataclass
class RecordSet:
    """All records, by id, with where each came from."""

    records: RecordStore = field(default_factory=RecordStore)
    where: WhereIndex = field(default_factory=WhereIndex)  # id -> Where (read/where.py)
    files: list[str] = field(default_factory=list)
    digests: dict[str, str] = field(default_factory=dict)  # file -> sha256 of its bytes
    # ids of records that failed the schema (already reported): references to them are not
    # reported again as "unknown id", and their IRIs still count as present for the register
    failed: dict[str, Where] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.records, RecordStore):
            self.records = RecordStore(self.records)
        if not isinstance(self.where, WhereIndex):
            self.where = WhereIndex(self.where)

    def of(self, cls: type[Record]) -> list[Record]:
        """The records of one class, in load order (the records of a packed kind are
        unpacked, each file once)."""
        if cls.kind in PACKED_KINDS or cls is Record:
            return [r for r in self.records.values() if isinstance(r, cls)]
        return [r for r in self.records.objects() if isinstance(r, cls)]

    def kind_of(self, record_id: str) -> str | None:
        """person, organisation, country, place (non-country), role, agreement, event, …"""
        return self.records.kind_of(record_id)

    def facts(self, record_id: str) -> Facts:
        """What the checks across records need of a record (record_store.Facts)."""
        return self.records.facts(record_id)

    def sorted(self) -> list[Record]:
        """Every record, by id (all of them in memory at once: for the whole-dataset
        references and tools, not for the build's stages)."""
        return [record for _rid, record in sorted(self.records.items())]

    def references_of(self, record_id: str) -> tuple[tuple[str, int | None, str], ...]:
        """`references()` of a loaded record, without unpacking it."""
        return self.records.facts(record_id).references


def record_files(root: Path) -> list[Path]:
    """The record files, in a stable order."""
    directory = root / RECORDS_DIR
    if not directory.is_dir():
        return []
    # a draft (`healthcoop draft`) is not a records file until a person confirms it:
    # checks.check_drafts reports it instead of its records being read as finished ones
    return sorted(p for p in directory.iterdir()
                  if p.suffix in (".yaml", ".yml") and not is_draft_file(p))


def is_draft_file(path: Path) -> bool:
    return path.name.endswith((".draft.yaml", ".draft.yml"))


def load_records(root: Path, issues: IssueList | None = None,
                 files: list[Path] | None = None, jobs: int | None = None,
                 cache: Path | None = None) -> RecordSet:
    """Load and type-check every record file (each read once; files on all cores, see
    pipeline/parallel.py). Problems go into `issues`. With `cache` (a folder), a file whose
    bytes did not change since a previous load is not parsed again (read/record_cache.py)."""
    from pipeline.parallel import fork_imap

    issues = issues if issues is not None else IssueList()
    result = RecordSet()
    directory = root / RECORDS_DIR
    if files is None and not directory.is_dir():
        what = "is not a directory" if directory.exists() else "does not exist"
        issues.add(RECORDS_DIR.as_posix(), 0, "(directory)",
                   f"The records folder {RECORDS_DIR.as_posix()}/ {what}.",
                   "Restore data/records/ from version control (git checkout -- data/records).",
                   code="missing-records-dir")
    paths = files if files is not None else record_files(root)
    used: set[str] = set()
    # unchanged files come from the cache here: sending their records back from worker
    # processes (pickled again) costs more than unpickling them once (100k records:
    # 5.8 s here, 9.4 s on two cores); only the files to parse go to the workers
    loaded = ([_cached(root, cache, path) for path in paths]
              if record_cache.has_entries(cache) else [None] * len(paths))
    todo = [paths[i] for i, found in enumerate(loaded) if found is None]
    # each parsed file is merged as it comes back and then let go, instead of all of them
    # being held until the last one was parsed
    with contextlib.closing(fork_imap(_load_file, (root, cache), todo, jobs)) as parsed:
        for index in range(len(loaded)):
            found, loaded[index] = loaded[index], None
            rel, part, part_issues, key = found if found is not None else next(parsed)
            issues.extend(part_issues)
            if rel is not None:
                result.files.append(rel)
                result.digests.update(part.digests)
            if key:
                used.add(key)
            _merge(result, part, issues)
    if cache is not None and files is None:
        record_cache.prune(cache, used)
    return result


def _load_file(state: tuple[Path, Path | None], path: Path
               ) -> tuple[str | None, RecordSet, list, str | None]:
    """One file's records (the YAML file's relative path, or None when it cannot be read),
    and the key of its cache entry (None without a cache, or when it cannot be read)."""

    root, cache = state
    issues = IssueList()
    raw = read_yaml_bytes(path, root, issues)
    key = None
    if raw is not None and cache is not None:
        key, found = _lookup(root, cache, path, raw)
        if found is not None:
            return found
    part = RecordSet()
    doc = load_yaml(path, root, issues, raw=raw) if raw is not None else None
    if doc is None:
        # the file's problem is reported; its ids still count as known, so records
        # elsewhere that point at them do not each add an "unknown id" error
        rel = relative(path, root)
        for rid, line in salvage_ids(path):
            part.failed.setdefault(
                rid, Where(rel, line, (), YamlDocument(rel, None, {(): (line, 1)})))
        return None, part, issues.items, None
    _load_document(doc, part, issues)
    part.records.pack()  # (record_store.py: most records kept as one compressed pickle)
    doc.data = None  # the records are built; the plain data would double their memory
    doc.compact(RECORD_DEPTH, "id")  # other fields' positions: from the file when needed
    part.digests[doc.rel_path] = doc.sha256
    if key is not None:
        record_cache.store(cache, key, (doc.rel_path, part, issues.items))
    return doc.rel_path, part, issues.items, key


def _cached(root: Path, cache: Path, path: Path):
    """What `_load_file` gives for `path` when its cache entry is intact, else None (the
    file is then loaded by `_load_file`, which reports what is wrong with it)."""
    raw = read_yaml_bytes(path, root, IssueList())
    return None if raw is None else _lookup(root, cache, path, raw)[1]


def _lookup(root: Path, cache: Path, path: Path, raw: bytes):
    """(the file's cache key, what `_load_file` gives from its entry or None)."""
    key = record_cache.entry_key(relative(path, root), raw)
    found = record_cache.lookup_file(cache, key, path, root)
    return key, None if found is None else (*found, key)


def _merge(result: RecordSet, part: RecordSet, issues: IssueList) -> None:
    """Add one file's records; an id already used by an earlier file is a duplicate."""
    for rid, where in part.failed.items():
        result.failed.setdefault(rid, where)
    taken = []
    for rid in part.records:
        if rid in result.records:
            _duplicate(result, rid, part.where[rid], issues)
            continue
        taken.append(rid)
    result.where.add_from(part.where, taken)
    result.records.add_from(part.records, taken)


def _duplicate(result: RecordSet, rid: str, where: Where, issues: IssueList) -> None:
    first = result.where[rid]
    issues.add(where.file, where.field_line("id"), where.field_name("id"),
               f"Duplicate id {rid!r}: already used by the "
               f"{_kind_name(result.kind_of(rid))} record at {first.file}:{first.line}.",
               "Ids are unique across all files: if it is the same thing, merge the two "
               "records (keep both spellings as alt_labels); otherwise choose another id.",
               code="duplicate-id", record_id=rid)


def _kind_name(kind: str | None) -> str | None:
    return "place" if kind == "country" else kind


_ID_LINE = re.compile(r"""^\s*(?:-\s+)?id:\s*["']?([a-z][a-z0-9-]*)["']?\s*(?:#.*)?$""")


def salvage_ids(path: Path) -> list[tuple[str, int]]:
    """(id, line) of the `id: x` lines of a file YAML could not read (best effort)."""
    # the file's own problem (a FIFO, a device, too large) is reported by whoever read it
    raw = read_input(path, path.parent, IssueList(), 50 * 1024 * 1024)
    if raw is None:
        return []
    encoding = "utf-16" if raw[:2] in (b"\xff\xfe", b"\xfe\xff") else "utf-8"
    if encoding == "utf-8" and raw[:4096].count(0) * 3 > len(raw[:4096]):
        encoding = "utf-16-be" if raw[:1] == b"\x00" else "utf-16-le"  # no byte-order mark
    text = raw.decode(encoding, errors="replace")
    out = []
    for number, line in enumerate(text.split("\n"), start=1):
        m = _ID_LINE.match(line)
        if m and ID_PATTERN.match(m.group(1)) and len(m.group(1)) <= ID_MAX:
            out.append((m.group(1), number))
    return out


def _load_document(doc: YamlDocument, result: RecordSet, issues: IssueList) -> None:
    rel = doc.rel_path
    if not isinstance(doc.data, dict):
        issues.add(rel, doc.line(()), "(document)",
                   "A records file must be a mapping of record kinds to lists.",
                   f"Start with one of: {', '.join(KINDS)} (e.g. `agreements:`).",
                   code="records-structure")
        return
    for kind_key, items in doc.data.items():
        cls = KINDS.get(kind_key)
        if cls is None:
            issues.add(rel, doc.line((kind_key,)), kind_key,
                       f"Unknown record kind {kind_key!r}.",
                       _did_you_mean(kind_key, KINDS, f"Use one of: {', '.join(KINDS)}."))
            continue
        if items is None:
            continue
        if not isinstance(items, list):
            issues.add(rel, doc.line((kind_key,)), kind_key,
                       f"`{kind_key}:` must be a list of records (each starting with `- id:`).",
                       "Put a `- ` before each record.", code="records-structure")
            continue
        for index, item in enumerate(items):
            _load_record(doc, cls, (kind_key, index), item, result, issues)


def _load_record(doc: YamlDocument, cls: type[Record], path: tuple, item: Any,
                 result: RecordSet, issues: IssueList) -> None:
    rel = doc.rel_path
    line = doc.line(path)
    if not isinstance(item, dict):
        issues.add(rel, line, dotted(path), f"A {cls.kind} record must be a mapping.",
                   "Write the record as `- id: ...` followed by its fields.")
        return
    try:
        record = cls.model_validate(item)
    except ValidationError as err:
        record_id = item.get("id") if isinstance(item.get("id"), str) else ""
        for error in err.errors():
            located = _locate_error(doc, cls, path, item, error)
            issues.add(*located[:5], column=located[5], record_id=record_id, code="schema")
        if record_id and ID_PATTERN.match(record_id):
            result.failed.setdefault(record_id, Where(rel, line, path, doc))
        return
    compact(record)
    where = Where(rel, line, path, doc)
    if record.id in result.records:
        _duplicate(result, record.id, where, issues)
        return
    result.records[record.id] = record
    result.where[record.id] = where


# strings up to this length are interned: ids, field names in `supports`, types, codes and
# short labels repeat across the records of a file; quotes and notes do not
INTERNED_LENGTH = 64
_FIELDS_SETS: dict[frozenset, frozenset] = {}


def compact(model: BaseModel) -> None:
    """Make a validated record smaller in memory without changing its value: repeated
    short strings become one object (sys.intern), and each model's set of the fields it was
    given (pydantic keeps a mutable set per instance, 216 bytes or more, read only by
    `model_fields_set`) becomes one shared frozenset per distinct set. Pickling keeps the
    sharing within a file. 10,834 generated records: 56.0 -> 35.2 MB after unpickling."""
    values = model.__dict__
    for name, value in values.items():
        if isinstance(value, str):
            if len(value) <= INTERNED_LENGTH:
                values[name] = sys.intern(value)
        elif isinstance(value, BaseModel):
            compact(value)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, str):
                    if len(item) <= INTERNED_LENGTH:
                        value[index] = sys.intern(item)
                elif isinstance(item, BaseModel):
                    compact(item)
    given = frozenset(model.__pydantic_fields_set__)
    object.__setattr__(model, "__pydantic_fields_set__", _FIELDS_SETS.setdefault(given, given))


def _locate_error(doc: YamlDocument, cls: type[Record], path: tuple, item: dict,
                  error: dict) -> tuple[str, int, str, str, str, int]:
    """Turn one pydantic error into (file, line, field, message, fix, column)."""
    file, line, field_name, message, fix = _describe_error(doc, cls, path, item, error)
    loc = tuple(p for p in error["loc"] if not (isinstance(p, str) and "[" in p))
    at = (*path, *loc) if error["type"] != "missing" else (*path, *loc[:-1])
    column = doc.column(at) if doc.line(at) == line else 0
    return file, line, field_name, message, fix, column


def _describe_error(doc: YamlDocument, cls: type[Record], path: tuple, item: dict,
                    error: dict) -> tuple[str, int, str, str, str]:
    loc = tuple(p for p in error["loc"] if not (isinstance(p, str) and "[" in p))
    # pydantic adds validator names such as 'function-after[...]' to loc; drop them
    field_path = (*path, *loc)
    line = doc.line(field_path)
    field_name = dotted(field_path)
    kind, msg = error["type"], error["msg"]
    value = error.get("input")
    name = loc[-1] if loc else ""
    model_for_field = _model_at(cls, loc[:-1])
    if kind == "extra_forbidden":
        allowed = sorted(model_for_field.model_fields) if model_for_field else []
        return (doc.rel_path, line, field_name, f"Unknown field {name!r}.",
                _did_you_mean(str(name), allowed, f"Allowed fields: {', '.join(allowed)}."))
    if kind == "missing":
        return (doc.rel_path, doc.line(path if not loc[:-1] else (*path, *loc[:-1])), field_name,
                f"Required field `{name}` is missing.",
                f"Add `{name}:` (see docs/records.md, section on {cls.kind}s).")
    if kind == "literal_error":
        expected = error.get("ctx", {}).get("expected", "")
        return (doc.rel_path, line, field_name, f"{value!r} is not allowed here.",
                _did_you_mean(str(value), re.findall(r"'([^']+)'", expected),
                              f"Use one of: {expected}."))
    if kind in ("list_type", "too_short") and isinstance(value, str):
        return (doc.rel_path, line, field_name, f"`{name}` must be a list, not {value!r}.",
                f"Write `{name}: [{value}]` or put each item on its own `- ` line.")
    if kind == "too_short":
        return (doc.rel_path, line, field_name, f"`{name}` must not be empty.",
                f"List at least one item under `{name}:`.")
    if kind == "string_type":
        shown = "nothing" if value is None else f"a {type(value).__name__}"
        return (doc.rel_path, line, field_name, f"`{name}` must be text, not {shown}.",
                f"Give `{name}` a value in quotes, e.g. {name}: \"...\".")
    if kind == "value_error":
        reason = msg.removeprefix("Value error, ")
        text = f"{reason}." if reason.startswith("'") else f"`{name}` {reason}."
        return (doc.rel_path, line, field_name, text, _value_fix(str(name)))
    shown_value = "" if isinstance(value, (dict, list)) else f" (got {value!r})"
    return (doc.rel_path, line, field_name, f"{msg}{shown_value}.",
            f"Fix `{name}` as docs/records.md describes.")


def _value_fix(name: str) -> str:
    return {
        "id": "Use lowercase letters, digits and hyphens, e.g. `national-health-commission`.",
        "value": "Write the value as the format requires (dates YYYY[-MM[-DD]], amounts digits).",
        "currency": "Use the ISO 4217 code the text states (GBP, CNY, USD) or leave it out.",
        "duration": "Write an ISO 8601 duration such as P5Y (five years).",
    }.get(name, "Correct the value as docs/records.md describes.")


def _model_at(cls: type[BaseModel], loc: tuple) -> type[BaseModel] | None:
    """The pydantic model that owns the field at `loc` (for 'allowed fields' hints)."""
    model: Any = cls
    for part in loc:
        if isinstance(part, int):
            continue
        info = model.model_fields.get(part) if hasattr(model, "model_fields") else None
        if info is None:
            return None
        annotation = info.annotation
        model = _first_model(annotation)
        if model is None:
            return None
    return model


def _first_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _first_model(arg)
        if found:
            return found
    return None


def _did_you_mean(value: str, choices, otherwise: str) -> str:
    from rapidfuzz import process

    best = process.extractOne(value, list(choices), score_cutoff=70)
    if best:
        return f"Did you mean {best[0]!r}?"
    return otherwise
