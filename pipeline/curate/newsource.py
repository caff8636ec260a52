"""`healthcoop new-source FILE`: register a new source text, end to end.

In:  a text file as received (a press release, a news article), and optionally its id,
     title and language.
Out: the text archived byte for byte as `data/sources/NNN_<sha256[:16]>.txt`, an entry
     appended to `data/sources.yaml` (appended as text, so the registry's comments and
     layout stay as curators wrote them), and `data/records/<id>.yaml`, a skeleton with a
     commented example of each record kind.

Entry function: `register_source(root, file, source_id=None, title=None, language="en")`.
Refuses (exit 1, nothing changed) a text that is not UTF-8, is empty, or has the same bytes
as a registered source, and an id that is malformed or taken. Every write goes through a
temporary file and a rename, and a failure part-way undoes the earlier steps.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from pipeline.check.register import write_atomically
from pipeline.errors import EnvironmentProblem, InvalidData, Issue, IssueList
from pipeline.read.record_types import ID_MAX, ID_PATTERN
from pipeline.read.records import RECORDS_DIR
from pipeline.read.sources import ARCHIVE, REGISTRY, load_sources
from pipeline.read.yamlfile import load_yaml
from pipeline.terminal import terminal_safe

TEXT_SUFFIXES = {".txt", ".html", ".htm", ".md", ".xml"}


@dataclass
class NewSource:
    """What `register_source` did."""

    id: str
    archived: Path
    registry: Path
    records_file: Path
    title: str
    sha256: str
    title_guessed: bool

    def summary(self) -> list[str]:
        lines = [
            f"registered source {self.id!r} (sha256 {self.sha256})",
            f"  archived as {self.archived}",
            f"  entry appended to {self.registry}",
            f"  records skeleton: {self.records_file}",
        ]
        if self.title_guessed:
            lines.append(f"  title taken from the first line: {self.title!r}; check it against "
                         "the headline (edit `title:` in data/sources.yaml).")
        lines.append("next: add `dateline:`/`publisher:` only if the text states them, write "
                     "the records, then run `healthcoop validate` (see CONTRIBUTING.md).")
        lines.append(f"  to start from a draft (known actors and places located, relative "
                     f"dates flagged, new names suggested): healthcoop draft {self.id}")
        return lines


def register_source(root: Path, file: Path, *, source_id: str | None = None,
                    title: str | None = None, language: str = "en") -> NewSource:
    root = Path(root)
    registry_path = root / REGISTRY
    if not registry_path.is_file():
        raise EnvironmentProblem(f"{registry_path} does not exist: is {root} the project root?",
                                 fix="Run the command in the repository root, or pass --root.")
    raw = Path(file).read_bytes()
    shown = str(file)
    text = _decode(raw, shown)
    digest = hashlib.sha256(raw).hexdigest()

    issues = IssueList()
    doc = load_yaml(registry_path, root, issues)
    if doc is None or not isinstance(doc.data, dict) or not isinstance(
        doc.data.get("sources"), list
    ):
        raise InvalidData("data/sources.yaml cannot be read, so no source was added.",
                          issues=issues.items,
                          fix="Fix data/sources.yaml first (`healthcoop validate` shows where).")
    entries = [e for e in doc.data["sources"] if isinstance(e, dict)]
    _refuse_duplicate_bytes(root, entries, doc, digest, raw, shown)

    title_guessed = title is None
    if title is None:
        title = _first_line(text)
    title = " ".join(title.split())
    if not title:
        raise InvalidData(f"{shown} has no line to take a title from.",
                          fix="Pass the headline with --title \"...\".")
    from pipeline.read.record_types import check_label

    try:  # never write what `healthcoop validate` would then refuse
        check_label(title)
    except ValueError as err:
        raise InvalidData(f"The title {terminal_safe(title)[:200]!r} {err}.",
                          fix="Pass the headline as plain text with --title \"...\".") from err
    if not re.fullmatch(r"[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*", language):
        raise InvalidData(f"{language!r} is not a BCP 47 language tag.",
                          fix="Pass e.g. --language en or --language zh-Hans.")
    sid = source_id or slug(title)
    _check_id(root, sid, entries)

    archive_dir = root / ARCHIVE
    number = 1 + max([int(m.group(1)) for p in archive_dir.glob("*")
                      if (m := re.match(r"^(\d+)_", p.name))], default=-1)
    suffix = Path(file).suffix.lower() if Path(file).suffix.lower() in TEXT_SUFFIXES else ".txt"
    archived = archive_dir / f"{number:03d}_{digest[:16]}{suffix}"
    records_file = root / RECORDS_DIR / f"{sid}.yaml"
    if records_file.exists():
        raise InvalidData(f"{records_file} already exists.", fix="Choose another id with --id.")

    original_registry = registry_path.read_bytes()
    done: list[Path] = []
    try:
        archive_dir.mkdir(parents=True, exist_ok=True)
        _write_new(archived, raw)
        done.append(archived)
        write_atomically(registry_path, _appended(original_registry.decode("utf-8"), sid,
                                                  archived.name, digest, title, language))
        records_file.parent.mkdir(parents=True, exist_ok=True)
        _write_new(records_file, skeleton(sid, archived.name, title).encode("utf-8"))
        done.append(records_file)
        _verify(root, sid)
    except BaseException:
        # undo, newest first, so nothing half-registered stays behind (Ctrl-C included)
        with contextlib.suppress(OSError):
            registry_path.write_bytes(original_registry)
        for path in reversed(done):
            with contextlib.suppress(OSError):
                path.unlink()
        raise
    return NewSource(sid, archived.relative_to(root), REGISTRY, records_file.relative_to(root),
                     title, digest, title_guessed)


def _decode(raw: bytes, shown: str) -> str:
    if not raw.strip():
        raise InvalidData(f"{shown} is empty.", fix="Archive the full text of the source.")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise InvalidData(
            f"{shown} is not UTF-8 (byte 0x{raw[err.start]:02x} on line {line}).",
            issues=[Issue(shown, line, "(file)", "The text is not valid UTF-8.",
                          "Convert it to UTF-8 first, e.g. `iconv -f WINDOWS-1252 -t UTF-8`.")],
            fix="Convert the text to UTF-8 (e.g. `iconv -f WINDOWS-1252 -t UTF-8 in > out`) and "
                "register the converted file; quotes are matched against these bytes.",
        ) from None


def _refuse_duplicate_bytes(root: Path, entries: list[dict], doc, digest: str, raw: bytes,
                            shown: str) -> None:
    for index, entry in enumerate(doc.data["sources"]):
        if isinstance(entry, dict) and str(entry.get("sha256", "")).lower() == digest:
            line = doc.line(("sources", index, "sha256"))
            raise InvalidData(
                f"{shown} has the same bytes as source {entry.get('id')!r} "
                f"(data/sources.yaml:{line}); it is already registered.",
                fix="Cite the existing source id in your records instead.")
    archive = root / ARCHIVE
    for path in sorted(archive.glob("*")) if archive.is_dir() else []:
        if path.is_file() and path.stat().st_size == len(raw) and path.read_bytes() == raw:
            raise InvalidData(f"{shown} has the same bytes as {path.relative_to(root)}.",
                              fix="Register that file instead of a second copy.")


def _first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip().lstrip("\ufeff")
    return ""


def slug(title: str) -> str:
    """A readable id from a title: ASCII, lowercase, hyphens, at most 60 characters."""
    ascii_text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_text.lower())
    out = ""
    for word in words:
        candidate = f"{out}-{word}" if out else word
        if len(candidate) > 60:
            break
        out = candidate
    if not out or not out[0].isalpha():
        out = f"source-{out}" if out else "source"
    return out


def _check_id(root: Path, sid: str, entries: list[dict]) -> None:
    if not ID_PATTERN.match(sid) or len(sid) > ID_MAX or len(sid) < 2:
        raise InvalidData(
            f"{sid!r} is not a valid id: use 2-{ID_MAX} lowercase ASCII letters, digits and "
            "single hyphens, starting with a letter.",
            fix="Pass another --id, e.g. --id uk-china-health-dialogue-2018.")
    for entry in entries:
        if entry.get("id") == sid:
            raise InvalidData(f"Source id {sid!r} is already registered.",
                              fix="Choose another id with --id.")
    from pipeline.read.records import load_records

    records = load_records(root, IssueList())
    if sid in records.records or sid in records.failed:
        where = records.where.get(sid) or records.failed[sid]
        raise InvalidData(f"{sid!r} is already the id of a record ({where.file}:{where.line}).",
                          fix="Ids are unique across sources and records: choose another --id.")


def _write_new(path: Path, data: bytes) -> None:
    """Create `path` (it must not exist) through a temporary file and a rename."""
    if path.exists():
        raise InvalidData(f"{path} already exists.", fix="Choose another id with --id.")
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        tmp.write_bytes(data)
        os.chmod(tmp, 0o644)
        os.link(tmp, path)  # fails if `path` appeared meanwhile, unlike a rename
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()


def _appended(registry_text: str, sid: str, file_name: str, digest: str, title: str,
              language: str) -> str:
    """The registry with one entry added at the end, as text (comments kept)."""
    indent = "  "
    m = re.search(r"^( *)- +id:", registry_text, re.MULTILINE)
    if m:
        indent = m.group(1)
    text = registry_text if registry_text.endswith("\n") else registry_text + "\n"
    q = lambda value: json.dumps(value, ensure_ascii=False)  # noqa: E731 - a YAML "..." scalar
    return text + (
        f"\n{indent}- id: {sid}\n"
        f"{indent}  file: {file_name}\n"
        f"{indent}  sha256: {digest}\n"
        f"{indent}  title: {q(title)}\n"
        f"{indent}  language: {language}\n"
        f"{indent}  # publisher: <organisation id>   (only if the text states who publishes it)\n"
        f"{indent}  # publisher_quote: \"...\"         (the words that say so)\n"
        f"{indent}  # dateline:                       (only if the text prints its own date)\n"
        f"{indent}  #   value: \"YYYY-MM-DD\"\n"
        f"{indent}  #   quote: \"...\"                  (the date exactly as printed)\n"
    )


def _verify(root: Path, sid: str) -> None:
    """Read the registry back: the new entry must load without any issue."""
    issues = IssueList()
    sources = load_sources(root, issues)
    if sid not in sources or issues.items:
        raise InvalidData("The new registry entry did not read back cleanly; nothing was "
                          "changed.", issues=issues.items,
                          fix="Fix the issues shown in data/sources.yaml, then run again.")


def skeleton(sid: str, file_name: str, title: str) -> str:
    """The records file for a new source: each record kind as an empty list with a commented
    example under it, so the file validates as it is. Uncommenting an example (removing the
    leading "# " of its lines) gives valid YAML whose only validation errors are at the
    values marked MUST (ids of records that do not exist, quotes and an amount the text does
    not contain): every other field is well formed and every fact field is in a `supports:`
    (tests/test_newsource.py uncomments them mechanically and checks this)."""
    t = title.replace("\n", " ")
    return f"""\
# Records first reported by source {sid}
# (data/sources/{file_name}): {t}
#
# The format is docs/records.md; CONTRIBUTING.md walks through it. Persons, organisations
# and places go into the shared files (data/records/actors.yaml, places.yaml) if they are
# not there yet; agreements, events, roles and initiatives this source reports go here.
# Every fact needs a quote copied verbatim from the archived text, and every fact field must
# be listed in some quote's `supports:`. Record only what the text states.
#
# Under each list is a commented example. To use one, uncomment its lines (remove the
# leading "# ") and adapt it. Each value marked MUST makes `healthcoop validate` fail at its
# line until you replace it: an id of a record that does not exist yet, a quote or an amount
# that the text does not contain. Delete what you do not use; a list left empty is valid.

roles:
#   - id: jane-doe-minister-of-health        # your id: lowercase, digits, hyphens; never changes
#     person: jane-doe                       # MUST: a person id from data/records/actors.yaml
#     title: "Minister of Health"            # the post as the text names it
#     organisation: ministry-of-health       # MUST: an organisation id from actors.yaml (or delete)
#     evidence:
#       - source: {sid}
#         quote: "Minister of Health Jane Doe"   # MUST: copied verbatim from the text
#         supports: [person, title, organisation]

events:
#   - id: example-dialogue-2024
#     label: "Example health dialogue"       # a short English name we write
#     type: dialogue                         # visit, meeting, conference, ... (docs/records.md)
#     date:
#       value: "2024-05-15"                  # YYYY, YYYY-MM or YYYY-MM-DD: what the text supports
#       resolution: "'on Wednesday'; dateline 2024-05-16"   # how, when not written out in the text
#     locations: [beijing]                   # MUST: place ids from data/records/places.yaml
#     participants: [jane-doe, ministry-of-health]   # MUST: actor ids from actors.yaml
#     evidence:
#       - source: {sid}
#         quote: "held a health dialogue in Beijing on Wednesday"   # MUST: copied verbatim
#         supports: [type, locations, date]
#       - source: {sid}
#         quote: "Minister of Health Jane Doe"   # MUST: copied verbatim from the text
#         supports: [participants]

agreements:
#   - id: example-mou-2024
#     label: "Memorandum of understanding on health data between A and B"
#     type: memorandum-of-understanding
#     parties: [organisation-a, organisation-b]   # MUST: actor ids; two for a bilateral agreement
#     signed_at: example-dialogue-2024       # MUST: an event id (e.g. the example above), or delete
#     amount:                                # only when the text gives one (or delete)
#       value: "5000000000"                  # digits only
#       currency: CNY                        # ONLY when the text states the currency
#       qualifier: exact
#       stated_as: "5 billion RMB"           # MUST: the amount exactly as the text writes it
#     topics: [digital-health]               # ids from ontology/topics.ttl
#     evidence:
#       - source: {sid}
#         quote: "A and B signed a memorandum of understanding"   # MUST: copied verbatim
#         supports: [type, parties, signed_at]
#       - source: {sid}
#         quote: "worth 5 billion RMB"       # MUST: copied verbatim from the text
#         supports: [amount]

initiatives:
#   - id: example-programme
#     label: "Example programme"
#     type: programme                        # campaign, programme, project, platform, plan, fund
#     owners: [organisation-a]               # MUST: actor ids from actors.yaml
#     evidence:
#       - source: {sid}
#         quote: "the programme run by A"    # MUST: copied verbatim from the text
#         supports: [type, owners]
"""
