"""Stage `sources`: the archived texts and their registry.

In:  `data/sources.yaml` (the registry) and `data/sources/*.txt` (archived bytes).
Out: `SourceText` objects: registry metadata, the decoded text, and `locate_quote()`, which
     finds a curator's quote in the text (ignoring whitespace differences) and returns its
     character offsets, prefix and suffix for a Web Annotation selector.

Entry function: `load_sources(root)`. It checks each file's SHA-256 against the registry,
so an archived text that changed after curation is caught before anything is built.
"""

from __future__ import annotations

import hashlib
import re
from array import array
from bisect import bisect_right
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import ftfy

from pipeline.errors import Issue, IssueList
from pipeline.read.yamlfile import YamlDocument, dotted, load_yaml, read_input

REGISTRY = Path("data/sources.yaml")
ARCHIVE = Path("data/sources")
CONTEXT_CHARS = 32  # prefix/suffix length of a TextQuoteSelector
MAX_SOURCE_BYTES = 20 * 1024 * 1024
TEXT_FIELDS = ("id", "file", "sha256", "title", "language", "publisher", "publisher_quote",
               "url", "note")
SHA256 = re.compile(r"[0-9a-fA-F]{64}")
DATE = re.compile(r"\d{4}(-\d{2}(-\d{2})?)?")
SOURCE_FIELDS = {
    "id", "file", "sha256", "title", "language", "dateline", "publisher", "publisher_quote",
    "url", "note",
}


def normalise_space(text: str) -> str:
    """Collapse every run of whitespace to one space and trim, as quotes are matched."""
    return " ".join(text.split())


def repair_text(text: str) -> str:
    """Repair broken encoding (mojibake) with ftfy, for text we publish, and nothing else.

    Only ftfy's encoding fix: `&amp;` stays as written, full-width letters and punctuation
    (common in Chinese company names) are not folded, ligatures are not split, zero-width
    and curly characters stay. Published text therefore equals the curator's text except
    where its bytes were mis-decoded. ASCII text is returned as it is without calling ftfy,
    whose first rule does the same (a tenth of the mapping's time went into ftfy's set-up
    for labels that are mostly ASCII).
    """
    return text if text.isascii() else ftfy.fix_encoding(text)


@dataclass(frozen=True)
class QuoteLocation:
    """Where a quote sits in an archived text (code point offsets, end exclusive)."""

    start: int
    end: int
    exact: str
    prefix: str
    suffix: str


_WORDS = re.compile(r"\S+")


@dataclass
class SourceText:
    """One archived source: its registry entry and its decoded text."""

    id: str
    file: str
    sha256: str
    title: str
    language: str
    text: str
    publisher: str | None = None
    dateline: str | None = None
    dateline_quote: str | None = None
    registry_line: int = 0
    extra: dict = field(default_factory=dict)

    @cached_property
    def _normal_text(self) -> str:
        """The whitespace-normalised text: runs of white space as one space, none at the ends."""
        return " ".join(_WORDS.findall(self.text))

    @cached_property
    def _words(self) -> tuple[array, array]:
        """Where each word of the normalised text starts, in it and in the original text.

        Two arrays of machine integers, one entry per word: a list of Python ints with one
        entry per character (what this was) held 64 MB of every 10,000 generated records,
        a third of the loaded project."""
        normal, original = array("q"), array("q")
        at = 0
        for match in _WORDS.finditer(self.text):
            normal.append(at)
            original.append(match.start())
            at += match.end() - match.start() + 1  # the word and the one space after it
        return normal, original

    def _origin(self, index: int) -> int:
        """The offset in the original text of the character at `index` of the normalised
        text; the single space after a word stands for the run of white space that ends
        just before the next word."""
        normal, original = self._words
        word = bisect_right(normal, index) - 1
        if word + 1 < len(normal) and index == normal[word + 1] - 1:  # the space
            return original[word + 1] - 1
        return original[word] + index - normal[word]

    def occurrences(self, quote: str) -> list[int]:
        """Start positions (in the normalised text) of every occurrence of `quote`."""
        norm = self._normal_text
        needle = normalise_space(quote)
        found, start = [], norm.find(needle) if needle else -1
        while start != -1:
            found.append(start)
            start = norm.find(needle, start + 1)
        return found

    def locate_quote(self, quote: str, occurrence: int = 1) -> QuoteLocation | None:
        """Find the `occurrence`-th (1-based) occurrence of `quote`; None if it isn't there."""
        starts = self.occurrences(quote)
        if occurrence < 1 or occurrence > len(starts):
            return None
        n_start = starts[occurrence - 1]
        n_end = n_start + len(normalise_space(quote))
        start, end = self._origin(n_start), self._origin(n_end - 1) + 1
        return QuoteLocation(
            start=start,
            end=end,
            exact=self.text[start:end],
            prefix=self.text[max(0, start - CONTEXT_CHARS) : start],
            suffix=self.text[end : end + CONTEXT_CHARS],
        )

    def closest_passage(self, quote: str) -> tuple[str, float]:
        """The passage of the text most like `quote`, and its similarity (0-100): shown to a
        maintainer whose quote does not occur, so they can see what the source really says."""
        from rapidfuzz import fuzz

        norm = self._normal_text
        needle = normalise_space(quote)
        if not needle or not norm:
            return "", 0.0
        alignment = fuzz.partial_ratio_alignment(needle, norm)
        return norm[alignment.dest_start : alignment.dest_end], alignment.score


def load_sources(root: Path, issues: IssueList | None = None) -> dict[str, SourceText]:
    """Read the registry and every archived text; report problems into `issues`.

    Returns the sources that could be read, keyed by id. Problems (a missing file, changed
    bytes, a text that is not UTF-8, a malformed entry) become located issues.
    """
    issues = issues if issues is not None else IssueList()
    registry_file = root / REGISTRY
    doc = load_yaml(registry_file, root, issues, remember=True)
    if doc is None:
        return {}
    return _read_registry(doc, root, issues)


def _read_registry(doc: YamlDocument, root: Path, issues: IssueList) -> dict[str, SourceText]:
    rel = doc.rel_path
    data = doc.data
    if not isinstance(data, dict) or not isinstance(data.get("sources"), list):
        issues.add(rel, 1, "sources", "The registry must be a mapping with a `sources:` list.",
                   "Start the file with `sources:` followed by one `- id: ...` entry per text.",
                   code="registry-structure")
        return {}
    out: dict[str, SourceText] = {}
    archive = root / ARCHIVE
    if not archive.is_dir():
        what = "is not a directory" if archive.exists() else "does not exist"
        issues.add(ARCHIVE.as_posix(), 0, "(directory)",
                   f"The archive folder {ARCHIVE.as_posix()}/ {what}, so no source text can be "
                   "read.", "Restore it from version control (git checkout -- data/sources).",
                   code="missing-archive-dir")
        return out
    for index, entry in enumerate(data["sources"]):
        path = ("sources", index)
        line = doc.line(path)
        where = f"sources[{index}]"
        if not isinstance(entry, dict):
            issues.add(rel, line, where, "A source entry must be a mapping.",
                       "Write `- id: ...` with `file:`, `sha256:`, `title:` and `language:`.")
            continue
        for key in sorted(set(entry) - SOURCE_FIELDS):
            issues.add(rel, doc.line((*path, key)), f"{where}.{key}",
                       f"Unknown field {key!r} in a source entry.",
                       f"Use only: {', '.join(sorted(SOURCE_FIELDS))}.")
        missing = [k for k in ("id", "file", "sha256", "title", "language") if not entry.get(k)]
        for key in missing:
            issues.add(rel, line, f"{where}.{key}", f"The source entry has no `{key}`.",
                       f"Add `{key}:` to the entry (see docs/records.md).")
        if missing or not _entry_well_typed(entry, doc, path, where, issues):
            continue
        sid, file_name = entry["id"], entry["file"]
        if sid in out:
            issues.add(rel, doc.line((*path, "id")), f"{where}.id",
                       f"Source id {sid!r} is registered twice.",
                       "Give every source its own id; remove the duplicate entry.")
            continue
        if "/" in file_name or "\\" in file_name or file_name.startswith("."):
            issues.add(rel, doc.line((*path, "file")), f"{where}.file",
                       f"File name {file_name!r} must be a plain name inside data/sources/.",
                       "Put the text in data/sources/ and give only its file name.")
            continue
        archived = root / ARCHIVE / file_name
        if not archived.exists() and not archived.is_symlink():
            issues.add(rel, doc.line((*path, "file")), f"{where}.file",
                       f"Archived file data/sources/{file_name} does not exist.",
                       "Copy the source text into data/sources/ (byte for byte) or fix the name.",
                       code="missing-source-file")
            continue
        raw = read_input(archived, root, issues, MAX_SOURCE_BYTES,
                         "Archive only the text of the article, not a whole site or binary.")
        if raw is None:
            continue
        digest = hashlib.sha256(raw).hexdigest()
        if digest != entry["sha256"].lower():
            issues.add(rel, doc.line((*path, "sha256")), f"{where}.sha256",
                       f"data/sources/{file_name} has changed: its SHA-256 is {digest}, "
                       f"the registry says {entry['sha256']}.",
                       "Archived sources are never edited: restore the original bytes. If this "
                       "is a new text, register it as a new source with `healthcoop new-source`.")
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as err:
            issues.add(f"data/sources/{file_name}", 0, f"{where}.file",
                       f"The archived text is not valid UTF-8 (byte {err.start}).",
                       "Convert the text to UTF-8 before archiving it, and register it again.")
            continue
        dateline = entry.get("dateline") if isinstance(entry.get("dateline"), dict) else {}
        out[sid] = SourceText(
            id=sid,
            file=file_name,
            sha256=digest,
            title=entry["title"],
            language=entry["language"],
            text=text,
            publisher=entry.get("publisher"),
            dateline=dateline.get("value"),
            dateline_quote=dateline.get("quote"),
            registry_line=line,
        )
        if out[sid].dateline_quote and not out[sid].occurrences(out[sid].dateline_quote):
            issues.add(rel, doc.line((*path, "dateline")), f"{where}.dateline.quote",
                       "The dateline quote does not occur in the archived text.",
                       "Copy the dateline exactly as the text prints it.")
    return out


def _entry_well_typed(entry: dict, doc: YamlDocument, path: tuple, where: str,
                      issues: IssueList) -> bool:
    """Every field of a registry entry has the type and form it must have; each problem is
    a located issue. (A list where text belongs would otherwise reach the dumps as its
    Python repr.)"""
    from pipeline.read.record_types import check_label, check_text

    ok = True

    def bad(key: tuple, message: str, fix: str, code: str = "schema") -> None:
        nonlocal ok
        ok = False
        issues.add(doc.rel_path, doc.line((*path, *key)), dotted((*path, *key)), message, fix,
                   code=code, column=doc.column((*path, *key)))

    for key in TEXT_FIELDS:
        value = entry.get(key)
        if value is None:
            continue
        if not isinstance(value, str):
            bad((key,), f"`{key}` must be text, not a {_kind(value)}.",
                f"Write `{key}:` as one quoted value.")
            continue
        try:
            (check_text if key in ("note", "publisher_quote") else check_label)(value)
        except ValueError as err:
            bad((key,), f"`{key}` {err}.", "Retype the value as plain text on one line.")
    sha = entry.get("sha256")
    if isinstance(sha, str) and not SHA256.fullmatch(sha):
        bad(("sha256",), f"{sha[:80]!r} is not a SHA-256 (64 hexadecimal digits).",
            "Copy the digest `sha256sum data/sources/<file>` prints.")
    url = entry.get("url")
    if isinstance(url, str) and not re.fullmatch(r"https?://[^\s<>\"{}|\\^`]+", url[:2000]):
        bad(("url",), "`url` must be an absolute http(s) address without spaces.",
            "Give the address the text was retrieved from, or leave `url` out.")
    dateline = entry.get("dateline")
    if dateline is not None:
        if not isinstance(dateline, dict):
            bad(("dateline",), f"`dateline` must be a mapping with `value` and `quote`, not "
                f"a {_kind(dateline)}.", "Write `dateline:` with `value: \"YYYY-MM-DD\"` and "
                "`quote:` (the date as printed) indented under it.")
        else:
            for key in sorted(set(dateline) - {"value", "quote", "resolution"}):
                bad(("dateline", key), f"Unknown field {key!r} in `dateline`.",
                    "Use only `value`, `quote` and `resolution`.")
            for key in ("value", "quote"):
                value = dateline.get(key)
                if not isinstance(value, str) or not value.strip():
                    bad(("dateline", key), f"`dateline.{key}` must be text.",
                        f"Give `{key}:` a quoted value.")
            value = dateline.get("value")
            if isinstance(value, str) and not _real_date(value):
                bad(("dateline", "value"), f"{value[:40]!r} is not a date (YYYY, YYYY-MM or "
                    "YYYY-MM-DD that exists).", "Write the dateline's date as YYYY-MM-DD.")
    return ok


def _real_date(value: str) -> bool:
    import datetime

    if not DATE.fullmatch(value):
        return False
    parts = [int(p) for p in value.split("-")]
    try:
        datetime.date(parts[0], *(parts[1:] + [1] * (3 - len(parts))))
    except ValueError:
        return False
    return True


def _kind(value) -> str:
    return {dict: "mapping", list: "list"}.get(type(value), type(value).__name__)


__all__ = ["Issue", "SourceText", "QuoteLocation", "load_sources", "normalise_space", "repair_text"]
