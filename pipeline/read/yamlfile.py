"""Read a curated YAML file so that nothing about it is silently changed or lost.

In:  a path to a YAML file written by people.
Out: a `YamlDocument`: plain Python data (dicts, lists, strings; every scalar stays a
     string, so `NO`, `0123`, `1.10` and `2020-02-30` arrive exactly as written) plus the
     line and column of every value, so any later error can point at file:line:field.

PyYAML (its C parser where available) does the parsing; this module only walks the node
tree it produces. Duplicate keys, tabs in indentation, aliases, a BOM, bytes that are not
UTF-8, several documents and over-large files are reported as located issues instead of
being silently accepted.
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from pipeline.errors import IssueList

try:  # the C parser is about 6x faster; the pure-Python one gives the same nodes
    _BaseLoader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - libyaml missing
    _BaseLoader = yaml.SafeLoader

_TAGS = {yaml.ScalarNode: "tag:yaml.org,2002:str", yaml.SequenceNode: "tag:yaml.org,2002:seq",
         yaml.MappingNode: "tag:yaml.org,2002:map"}


class _Loader(_BaseLoader):
    """Every scalar stays a string (`_to_python` never looks at tags), so the resolver's
    regular expressions for implicit types (a quarter of the parse time) are skipped."""

    def resolve(self, kind, value, implicit):
        return _TAGS[kind]

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_DEPTH = 32  # nesting levels of a YAML value
NULLS = {"", "~", "null", "Null", "NULL"}

Path_ = tuple  # a path into the data: ("agreements", 3, "parties", 1)


@dataclass
class YamlDocument:
    """Parsed YAML data with the position of every value.

    A document whose data has been taken out (the records files, once their records are
    built) can be `compact`ed: only the positions of its top levels stay (the line of each
    record), and the rest are worked out again from the file, once, the first time a
    finding needs one. The positions were half of what a loaded record kept in memory, and
    a build that finds nothing wrong never needs them. If the file no longer has the bytes
    that were read, the positions are not trusted: a finding then points at its record."""

    rel_path: str
    data: Any
    positions: Mapping[tuple, tuple[int, int]] = field(default_factory=dict)
    alias_marks: list | None = field(default=None, repr=False)  # found when first needed
    source_text: str | None = field(default=None, repr=False)  # only while being walked
    too_deep: bool = field(default=False, repr=False)
    sha256: str = ""  # of the bytes read (the shard cache's key; the file is not read again)
    file: Path | None = field(default=None, repr=False)  # where it was read from
    root: Path | None = field(default=None, repr=False)  # the project it was read in
    kept_depth: int | None = field(default=None, repr=False)  # set while compacted
    kept_key: str = field(default="", repr=False)

    def compact(self, depth: int, key: str) -> None:
        """Keep only the positions of paths at most `depth` long and of their field `key`
        (a record's `id`, which the URI register names; see the class docstring), packed
        into arrays (`KeptPositions`)."""
        self.kept_depth, self.kept_key = depth, key
        self.positions = KeptPositions(
            {path: at for path, at in self.positions.items() if self._kept(path)}, depth, key)

    def _kept(self, path: tuple) -> bool:
        """Whether a compacted document still has the position of `path` in memory."""
        depth = self.kept_depth
        return depth is None or len(path) <= depth or (len(path) == depth + 1
                                                       and path[-1] == self.kept_key)

    def _positions_for(self, path: tuple) -> Mapping[tuple, tuple[int, int]]:
        if not self._kept(path):
            depth, self.kept_depth = self.kept_depth, None  # one attempt, whatever it gives
            again = (load_yaml(self.file, self.root, IssueList())
                     if self.file is not None and self.root is not None else None)
            if again is not None and again.sha256 == self.sha256:
                self.positions = again.positions
            else:  # changed or gone since it was read: the record lines only
                self.kept_depth = depth
                return self.positions
        return self.positions

    def line(self, path: Path_) -> int:
        """1-based line of the value at `path`, or of its nearest parent that has one."""
        path = tuple(path)
        positions = self._positions_for(path)
        while path:
            if path in positions:
                return positions[path][0]
            path = path[:-1]
        return positions.get((), (1, 1))[0]

    def column(self, path: Path_) -> int:
        path = tuple(path)
        positions = self._positions_for(path)
        while path:
            if path in positions:
                return positions[path][1]
            path = path[:-1]
        return 0


class KeptPositions(Mapping):
    """The positions a compacted document keeps, as `positions` gives them (path -> (line,
    column)), in arrays: for each list at depth `depth - 1` (`("agreements",)`), four
    machine integers per item (the line and column of the item and of its field `key`; 0
    where there is none). Every record of a large corpus has two kept positions, and as a
    dict of tuples they were about 400 bytes a record; here they are 16. Other paths (the
    few above the records, or of another shape) stay in a small dict."""

    __slots__ = ("depth", "key", "rows", "rest")

    def __init__(self, positions: dict, depth: int, key: str) -> None:
        self.depth, self.key = depth, key
        self.rows: dict[tuple, array] = {}
        self.rest: dict[tuple, tuple[int, int]] = {}
        for path, (line, column) in positions.items():
            slot = self._slot(path)
            if slot is None or line < 1 or column < 1:
                self.rest[path] = (line, column)
                continue
            parent, index, offset = slot
            row = self.rows.get(parent)
            if row is None:
                row = self.rows[parent] = array("I")
            if len(row) < 4 * (index + 1):
                row.extend([0] * (4 * (index + 1) - len(row)))
            row[4 * index + offset], row[4 * index + offset + 1] = line, column

    def _slot(self, path) -> tuple[tuple, int, int] | None:
        """(the list's path, the item's index, 0 for the item or 2 for its `key`), or None
        for a path kept in `rest`."""
        if len(path) == self.depth + 1 and path[-1] == self.key:
            path, offset = path[:-1], 2
        elif len(path) == self.depth:
            offset = 0
        else:
            return None
        index = path[-1]
        if type(index) is not int or index < 0:
            return None
        return path[:-1], index, offset

    def __getitem__(self, path):
        found = self.rest.get(path)
        if found is not None:
            return found
        slot = self._slot(path) if isinstance(path, tuple) else None
        if slot is not None:
            parent, index, offset = slot
            row = self.rows.get(parent)
            if row is not None and 4 * index + offset < len(row) and row[4 * index + offset]:
                return row[4 * index + offset], row[4 * index + offset + 1]
        raise KeyError(path)

    def __iter__(self):
        yield from self.rest
        for parent, row in self.rows.items():
            for index in range(len(row) // 4):
                if row[4 * index]:
                    yield (*parent, index)
                if row[4 * index + 2]:
                    yield (*parent, index, self.key)

    def __len__(self) -> int:
        return sum(1 for _path in self)

    def __getstate__(self):
        return self.depth, self.key, self.rows, self.rest

    def __setstate__(self, state) -> None:
        self.depth, self.key, self.rows, self.rest = state


def relative(path: Path, root: Path) -> str:
    """The path as a maintainer sees it: relative to the project root, with / separators."""
    import os

    # the path as typed (absolute), not resolved: a link out of the project is still shown
    # where it sits in the project
    for candidate in (Path(os.path.abspath(path)), path.resolve()):
        try:
            return candidate.relative_to(root.resolve()).as_posix()
        except ValueError:
            continue
    return path.as_posix()


def read_input(path: Path, root: Path, issues: IssueList, max_bytes: int,
               too_large_fix: str = "Make the file smaller.") -> bytes | None:
    """The bytes of an input file, or None with a located issue when it is not a regular
    file inside the project (a directory, a FIFO or device that would block or never end,
    a symbolic link leading out of the project), cannot be read, or exceeds `max_bytes`.
    The read itself is bounded, so a file that grows while it is read cannot exhaust memory."""
    import os
    import stat

    rel = relative(path, root)
    try:
        info = path.stat()  # follows a link: what would be read
        linked = path.is_symlink()
    except OSError as err:
        issues.add(rel, 0, "(file)", f"Cannot read the file: {err.strerror}.",
                   "Check that the file exists and is readable.", code="unreadable-file")
        return None
    if linked:
        target = path.resolve()
        project = Path(root).resolve()
        if target != project and project not in target.parents:
            issues.add(rel, 0, "(file)", f"The file is a symbolic link to {target}, outside "
                       "the project.", "Copy the file into the project instead of linking "
                       "to it: a release must not depend on files elsewhere.",
                       code="link-outside-project")
            return None
    if not stat.S_ISREG(info.st_mode):
        kind = ("a directory" if stat.S_ISDIR(info.st_mode) else
                "a named pipe (FIFO)" if stat.S_ISFIFO(info.st_mode) else
                "a device" if stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode) else
                "a socket" if stat.S_ISSOCK(info.st_mode) else "not a regular file")
        issues.add(rel, 0, "(file)", f"This path is {kind}, not a regular file.",
                   "Replace it with a plain UTF-8 text file, or remove it.",
                   code="not-a-file")
        return None
    if info.st_size > max_bytes:
        issues.add(rel, 1, "(file)",
                   f"The file is {info.st_size / 1e6:.1f} MB; at most "
                   f"{max_bytes / (1024 * 1024):g} MB is read.", too_large_fix,
                   code="file-too-large")
        return None
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as handle:
            raw = handle.read(max_bytes + 1)
    except OSError as err:
        issues.add(rel, 0, "(file)", f"Cannot read the file: {err.strerror}.",
                   "Check that the file exists and is readable.", code="unreadable-file")
        return None
    if len(raw) > max_bytes:
        issues.add(rel, 1, "(file)", f"The file is larger than {max_bytes / (1024 * 1024):g} "
                   "MB (it grew while it was read).", too_large_fix, code="file-too-large")
        return None
    return raw


def read_yaml_bytes(path: Path, root: Path, issues: IssueList) -> bytes | None:
    """The bytes `load_yaml` parses (None with a located issue, see `read_input`)."""
    return read_input(path, root, issues, MAX_FILE_BYTES,
                      "Split the records over several files in data/records/ (e.g. one per "
                      "source).")


def load_yaml(path: Path, root: Path, issues: IssueList, *, allow_empty: bool = False,
              raw: bytes | None = None, remember: bool = False) -> YamlDocument | None:
    """Parse `path` (or `raw`, its bytes, when the caller has read them with
    `read_yaml_bytes`); on any problem add located issues and return None. `remember`: the
    caller only reads the document, which may then be one parsed before from the same
    bytes (and is kept for the next such caller)."""
    rel = relative(path, root)
    remember = remember and raw is None
    if raw is None:
        raw = read_yaml_bytes(path, root, issues)
    if raw is None:
        return None
    import hashlib

    digest = hashlib.sha256(raw).hexdigest()
    memo_key = (str(Path(path).absolute()), str(Path(root).absolute()), allow_empty, digest)
    if remember and memo_key in _PARSED:
        return _PARSED[memo_key]
    doc = _parse(path, root, rel, raw, digest, issues, allow_empty)
    if remember and doc is not None:
        if len(_PARSED) >= PARSED_KEPT:
            _PARSED.pop(next(iter(_PARSED)))
        _PARSED[memo_key] = doc
    return doc


# The documents of the last few files parsed without findings for a `remember` caller, by
# path and bytes: a build reads data/sources.yaml in four places (the sources, their checks,
# the URI register, the places of SHACL findings), 4,000 entries at 100k records.
PARSED_KEPT = 8
_PARSED: dict[tuple, YamlDocument] = {}


def _parse(path: Path, root: Path, rel: str, raw: bytes, digest: str, issues: IssueList,
           allow_empty: bool) -> YamlDocument | None:
    if raw.startswith(b"\xef\xbb\xbf"):
        issues.add(rel, 1, "(file)", "The file starts with a byte-order mark (BOM).",
                   "Save the file as UTF-8 without BOM.")
        return None
    head = raw[:4096]
    # UTF-16 with a byte-order mark, or without one: ASCII text with a NUL beside each letter
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff") or head.count(0) * 3 > len(head):
        issues.add(rel, 1, "(file)", "The file is UTF-16 (it starts with a UTF-16 byte-order "
                   "mark or holds NUL bytes), not UTF-8.",
                   "Save the file as UTF-8 (most editors: 'Save with encoding' > UTF-8).",
                   code="not-utf8")
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        issues.add(rel, line, "(file)",
                   f"The file is not valid UTF-8: byte 0x{raw[err.start]:02x} at line {line}.",
                   "Save the file as UTF-8 (most editors: 'Save with encoding' > UTF-8).")
        return None
    if not text.strip() or all(
        not ln.strip() or ln.lstrip().startswith("#") for ln in text.splitlines()
    ):
        if allow_empty:
            return YamlDocument(rel, None, {(): (1, 1)})
        issues.add(rel, 1, "(file)", "The file is empty (or holds only comments).",
                   "Add records to it, or delete the file.")
        return None
    # The first line (numbered by "\n" only, as editors number lines; str.splitlines would
    # also split on U+2028, U+0085, form feeds, ...) with a tab in its indentation or an
    # invisible character, the tab first on one line: each searched for in the whole text
    # at once (a loop over the lines was a tenth of parsing a records file)
    tab = _TAB_INDENT.search(text) if "\t" in text else None
    bad = _BAD_CHARACTER.search(text)
    if "\r" in text:
        lone = _LONE_CR.search(text)
        if lone and (not bad or lone.start() < bad.start()):
            bad = lone
    tab_line = text.count("\n", 0, tab.start()) + 1 if tab else 0
    bad_line = text.count("\n", 0, bad.start()) + 1 if bad else 0
    if tab and (not bad or tab_line <= bad_line):
        issues.add(rel, tab_line, "(indentation)", "A tab is used for indentation.",
                   "YAML indentation must be spaces: replace the tab with spaces.",
                   column=tab.end() - tab.start(), code="yaml-tab")
        return None
    if bad:
        char = bad.group()
        column = bad.start() - (text.rfind("\n", 0, bad.start()) + 1) + 1
        issues.add(rel, bad_line, "(text)",
                   f"The line holds the invisible character U+{ord(char):04X} "
                   f"({_character_name(char)}) at column {column}.",
                   "Delete it (most editors show it only with 'show invisibles'); if it "
                   "stands for a line break or space, type a plain one.",
                   column=column, code="yaml-control-character")
        return None
    try:
        nodes = list(yaml.compose_all(text, Loader=_Loader))
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark else 0
        column = mark.column + 1 if mark else 0
        problem = (err.problem or str(err)).strip()
        issues.add(rel, line, "(syntax)", f"YAML syntax error: {problem}.",
                   _syntax_fix(problem), column=column, code="yaml-syntax")
        return None
    except yaml.YAMLError as err:
        position = getattr(err, "position", None)  # ReaderError: a code point offset
        line = text[:position].count("\n") + 1 if isinstance(position, int) else 0
        issues.add(rel, line, "(syntax)", f"YAML error: {err}.",
                   "Fix the YAML syntax (check quotes and indentation).", code="yaml-syntax")
        return None
    if len(nodes) != 1:
        issues.add(rel, 1, "(file)", f"The file holds {len(nodes)} YAML documents, not one.",
                   "Remove the extra `---` document separators.")
        return None
    doc = YamlDocument(rel, None, sha256=digest,
                       file=Path(path).absolute(), root=Path(root).absolute())
    before = len(issues.items)
    doc.source_text = text  # (for the position of an alias, if there is one)
    doc.data = _to_python(nodes[0], (), doc, issues, set())
    doc.source_text = None
    if len(issues.items) > before:
        return None
    return doc


# Characters YAML would take as line breaks where editors see none (U+0085, U+2028, U+2029,
# a lone carriage return), and every other C0/C1 control character except tab and newline:
# each would silently cut or shift a value, or make YAML's line numbers disagree with the
# editor's.
_BAD_CHARACTER = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029]")
_LONE_CR = re.compile(r"\r(?!\n|\Z)")  # (one pattern with both took twice as long)
_TAB_INDENT = re.compile(r"^ *\t", re.MULTILINE)  # a line's first tab, after spaces only


def _character_name(char: str) -> str:
    import unicodedata

    return unicodedata.name(char, "control character").lower()


def _syntax_fix(problem: str) -> str:
    if "invalid Unicode character escape" in problem:
        return ("A \\uD800-\\uDFFF escape is half of a UTF-16 pair, not a character: type "
                "the character itself (the file is UTF-8).")
    if "mapping values are not allowed" in problem:
        return "A value contains ': '. Put the whole value in double quotes."
    if "found character" in problem and "cannot start any token" in problem:
        return "Quote the value: it starts with a character YAML reserves (@, `, %, |, >)."
    if "special characters are not allowed" in problem:
        return "Remove the control character (it is invisible in most editors)."
    if "expected <block end>" in problem or "did not find expected" in problem:
        return "Check the indentation of this line against the lines above it."
    return "Fix the YAML at this position (check quotes and indentation)."


def _to_python(node: yaml.Node, path: tuple, doc: YamlDocument, issues: IssueList,
               seen: set[int]) -> Any:
    if len(path) > MAX_DEPTH:
        # records are a few levels deep; deeper means a mistake, and walking it would
        # exhaust Python's recursion limit (libyaml itself allows about 1,000 levels)
        if not doc.too_deep:
            doc.too_deep = True
            issues.add(doc.rel_path, node.start_mark.line + 1, _dotted(path[:MAX_DEPTH]),
                       f"The value is nested more than {MAX_DEPTH} levels deep.",
                       "Records are at most a few levels deep: check the brackets and "
                       "indentation here.", column=node.start_mark.column + 1,
                       code="yaml-too-deep")
        return None
    doc.positions.setdefault(path, (node.start_mark.line + 1, node.start_mark.column + 1))
    if not isinstance(node, yaml.ScalarNode):
        # yaml.compose hands back the same node object for an alias and its anchor
        if id(node) in seen:
            if doc.alias_marks is None:
                # composing resolved the alias to its anchor's node and forgot where the
                # alias was; the parser's events still know, in the order of this walk
                doc.alias_marks = [e.start_mark
                                   for e in yaml.parse(doc.source_text or "", Loader=_Loader)
                                   if isinstance(e, yaml.AliasEvent)]
            mark = doc.alias_marks.pop(0) if doc.alias_marks else node.start_mark
            doc.positions[path] = (mark.line + 1, mark.column + 1)
            issues.add(doc.rel_path, mark.line + 1, _dotted(path),
                       "YAML anchors and aliases (&name / *name) are not allowed.",
                       "Write the values out in full: records must read on their own.",
                       column=mark.column + 1, code="yaml-alias")
            return None
        seen.add(id(node))
    if isinstance(node, yaml.ScalarNode):
        # a plain (unquoted) empty value, ~ or null means "no value"; the C parser gives plain
        # scalars style '' and the pure-Python one None
        if not node.style and node.value in NULLS:
            return None
        return node.value
    if isinstance(node, yaml.SequenceNode):
        return [_to_python(item, (*path, i), doc, issues, seen)
                for i, item in enumerate(node.value)]
    result: dict[str, Any] = {}
    for key_node, value_node in node.value:
        line = key_node.start_mark.line + 1
        if not isinstance(key_node, yaml.ScalarNode):
            issues.add(doc.rel_path, line, _dotted(path), "A mapping key must be a plain name.",
                       "Use a field name such as `label:` as the key.")
            continue
        key = key_node.value
        if key == "<<":
            issues.add(doc.rel_path, line, _dotted((*path, key)),
                       "YAML merge keys (<<) are not allowed.", "Write the fields out in full.")
            continue
        if key in result:
            first = doc.positions.get((*path, key), (0, 0))[0]
            issues.add(doc.rel_path, line, _dotted((*path, key)),
                       f"Duplicate key {key!r} (first set on line {first}); YAML would silently "
                       "keep only the last value.",
                       "Remove one of the two, or merge their values.", code="duplicate-key")
            continue
        doc.positions[(*path, key)] = (line, key_node.start_mark.column + 1)
        result[key] = _to_python(value_node, (*path, key), doc, issues, seen)
    return result


def _dotted(path: tuple) -> str:
    """("agreements", 3, "parties", 1) -> "agreements[3].parties[1]" """
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(document)"


dotted = _dotted
