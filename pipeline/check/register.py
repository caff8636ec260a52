"""The URI register: every entity IRI healthcoop has ever published, so none can vanish.

In:  `data/published-iris.txt` (committed; sorted, one entity IRI per line, `#` comments) and
     the loaded project (records and the source registry).
Out: located issues: an error for each registered IRI that no record or source defines any
     more (deleted or renamed: "URIs never vanish"), with a hint when it looks renamed; a
     warning for each IRI that is not yet registered. `update_register()` adds the new ones.

Entry functions: `check_register(project, issues)` and `update_register(root, project)`.

Only entity IRIs (`https://w3id.org/healthcoop/id/<id>`, records and sources alike) are
registered; fragment IRIs (`…#evidence-…`, `…#amount`) belong to their entity and come and go
with its evidence. A retired record is not deleted: it stays, with `deprecated:` (and
`replaced_by:` when merged), and is published as a tombstone, so its IRI stays registered and
present.
"""

from __future__ import annotations

import contextlib
import functools
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from rapidfuzz import fuzz, process

from pipeline.errors import InvalidData, IssueList, Severity
from pipeline.rdf.vocab import HCID
from pipeline.read.record_types import ID_PATTERN
from pipeline.read.records import salvage_ids
from pipeline.read.sources import REGISTRY as SOURCE_REGISTRY
from pipeline.read.yamlfile import load_yaml, read_input

if TYPE_CHECKING:
    from pipeline.read.where import Where

REGISTER = Path("data/published-iris.txt")
NAMESPACE = str(HCID)
HEADER = """\
# The URI register: every entity IRI healthcoop has published, one per line, sorted.
#
# An IRI listed here must stay in every later release. Never delete or rename the record
# behind it: retire it instead (keep the record and add `deprecated: "<reason>"`, plus
# `replaced_by: <id>` when it was merged into another record); it is then published as a
# tombstone (owl:deprecated true, dct:isReplacedBy). `healthcoop validate` fails when a listed
# IRI has no record or source any more.
#
# New IRIs are added by `healthcoop build` (into the project's output/) or by
# `healthcoop register --update`; commit this file together with the records. Lines are only
# ever added. Fragment IRIs (#evidence-..., #amount) are not listed: they belong to their entity.
"""


@dataclass
class Defined:
    """Where an entity IRI is defined now: file, line and field of its id (of a record:
    looked up in its position only when asked, which is for the few new or renamed ones)."""

    file: str
    _line: int | None
    _field: str | None
    kind: str  # record | source
    # a record's: a function giving its Where (made only when its line is asked)
    where_of: Callable[[], Where] | None = field(default=None, repr=False, compare=False)

    @property
    def line(self) -> int:
        if self._line is None:
            self._line = self.where_of().field_line("id")
        return self._line

    @property
    def field(self) -> str:
        if self._field is None:
            self._field = self.where_of().field_name("id")
        return self._field


@dataclass
class RegisterFile:
    """The parsed register: IRI -> line number, and the file's comment header."""

    rel_path: str
    exists: bool
    iris: dict[str, int] = field(default_factory=dict)
    header: str = ""


def read_register(root: Path, issues: IssueList) -> RegisterFile:
    """Parse the register; malformed lines become located errors (and are skipped)."""
    path = root / REGISTER
    rel = REGISTER.as_posix()
    if not path.exists() and not path.is_symlink():
        return RegisterFile(rel, False)
    raw = read_input(path, root, issues, 50 * 1024 * 1024,
                     "The register holds one IRI per line; restore it from version control.")
    if raw is None:
        return RegisterFile(rel, True)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        issues.add(rel, 0, "(file)", f"The register is not valid UTF-8 (byte {err.start}).",
                   "Restore data/published-iris.txt from version control.",
                   code="register-syntax")
        return RegisterFile(rel, True)
    register = RegisterFile(rel, True)
    header_lines: list[str] = []
    in_header = True
    previous = ""
    for number, line in enumerate(text.split("\n"), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            if in_header:
                header_lines.append(line)
            continue
        in_header = False
        if stripped != line or not stripped.startswith(NAMESPACE) or not ID_PATTERN.match(
            stripped[len(NAMESPACE):]
        ):
            issues.add(rel, number, "(iri)",
                       f"Not an entity IRI: {stripped[:120]!r}.",
                       f"Each line is one IRI {NAMESPACE}<id> with no spaces, fragment or "
                       "query. Restore the line from version control.", code="register-syntax")
            continue
        if stripped in register.iris:
            issues.add(rel, number, "(iri)",
                       f"{stripped} is listed twice (first on line {register.iris[stripped]}).",
                       "Remove the second line.", severity=Severity.WARNING,
                       code="register-duplicate")
            continue
        if previous and stripped < previous:
            issues.add(rel, number, "(iri)", f"{stripped} is out of order.",
                       "Keep the register sorted: `healthcoop register --update` rewrites it "
                       "sorted (it never drops a line).", severity=Severity.WARNING,
                       code="register-order")
        previous = stripped
        register.iris[stripped] = number
    register.header = "\n".join(header_lines).strip("\n")
    return register


def defined_iris(project) -> dict[str, Defined]:
    """Every entity IRI the project defines now: records (including those whose schema
    errors are reported elsewhere, and those of files YAML could not read, salvaged from the
    raw text by `records.salvage_ids`, so a typo in one file does not look like mass
    deletion), and every id in the source registry."""
    root: Path = project.root
    found: dict[str, Defined] = {}
    records = project.records
    for rid in records.where:  # (its Where made only for the few whose line is asked)
        if NAMESPACE + rid not in found:
            found[NAMESPACE + rid] = Defined(records.where.file_of(rid), None, None, "record",
                                             functools.partial(records.where.__getitem__, rid))
    for rid, where in records.failed.items():
        if NAMESPACE + rid not in found:
            found[NAMESPACE + rid] = Defined(where.file, None, None, "record",
                                             functools.partial(records.failed.__getitem__, rid))
    doc = load_yaml(root / SOURCE_REGISTRY, root, IssueList(), remember=True)
    if doc is not None and isinstance(doc.data, dict) and isinstance(doc.data.get("sources"),
                                                                      list):
        for index, entry in enumerate(doc.data["sources"]):
            if (isinstance(entry, dict) and isinstance(entry.get("id"), str)
                    and ID_PATTERN.match(entry["id"])):  # a malformed id is reported elsewhere
                found.setdefault(NAMESPACE + entry["id"], Defined(
                    doc.rel_path, doc.line(("sources", index, "id")),
                    f"sources[{index}].id", "source"))
    else:
        path = root / SOURCE_REGISTRY
        if path.is_file():
            for sid, line in salvage_ids(path):
                found.setdefault(NAMESPACE + sid, Defined(SOURCE_REGISTRY.as_posix(), line, "id",
                                                          "source"))
    return found


def check_register(project, issues: IssueList) -> RegisterFile:
    """Add an error per registered IRI that vanished, a warning per unregistered one."""
    register = read_register(project.root, issues)
    defined = defined_iris(project)
    if not register.exists:
        issues.add(register.rel_path, 0, "(file)",
                   "There is no URI register yet, so removed or renamed records cannot be "
                   "detected.",
                   "Create it with `healthcoop register --update` and commit it.",
                   severity=Severity.WARNING, code="register-missing")
        return register
    new = sorted(iri for iri in defined if iri not in register.iris)
    new_ids = [iri[len(NAMESPACE):] for iri in new]
    for iri, line in sorted(register.iris.items(), key=lambda item: item[1]):
        if iri in defined:
            continue
        old_id = iri[len(NAMESPACE):]
        hint = ""
        best = process.extractOne(old_id, new_ids, scorer=_id_similarity, score_cutoff=60)
        if best:
            now = defined[NAMESPACE + best[0]]
            hint = (f" It looks renamed to {best[0]!r} ({now.file}:{now.line}), but ids never "
                    "change: rename it back and correct the `label` instead.")
        issues.add(register.rel_path, line, "(iri)",
                   f"{iri} was published, but no record or source has the id {old_id!r} any "
                   f"more: its IRI would vanish.{hint}",
                   f"Restore the record with `id: {old_id}`. To retire it, keep it and add "
                   "`deprecated: \"<why>\"` (and `replaced_by: <id>` if it was merged into "
                   "another record): it is then published as a tombstone.",
                   code="vanished-iri", record_id=old_id)
    for iri in new:
        where = defined[iri]
        issues.add(where.file, where.line, where.field,
                   f"New IRI {iri} is not in the URI register yet.",
                   "The next `healthcoop build` registers it (or run `healthcoop register "
                   "--update`); commit data/published-iris.txt with your records.",
                   severity=Severity.WARNING, code="unregistered-iri",
                   record_id=iri[len(NAMESPACE):])
    return register


def _id_similarity(a: str, b: str, **_kwargs) -> float:
    """How alike two ids are, also when their words were reordered (li-wen / wen-li)."""
    return max(fuzz.ratio(a, b), fuzz.token_sort_ratio(a.replace("-", " "), b.replace("-", " ")))


def update_register(root: Path, project) -> list[str]:
    """Add every IRI the project defines and the register lacks; return those added.

    Never removes a line. The file is rewritten sorted, keeping its comment header, through
    a temporary file and one rename, so an interrupted update leaves the old register.
    """
    ignored = IssueList()
    register = read_register(root, ignored)
    defined = defined_iris(project)
    added = sorted(iri for iri in defined if iri not in register.iris)
    if register.exists and not added and not ignored.items:
        return []
    path = root / REGISTER
    if register.exists and any(i.code == "register-syntax" for i in ignored.items):
        raise InvalidData("The URI register has malformed lines; it was not changed.",
                          issues=[i for i in ignored.items if i.code == "register-syntax"],
                          fix="Restore data/published-iris.txt from version control.")
    header = register.header or HEADER.rstrip("\n")
    body = "\n".join(sorted(set(register.iris) | set(added)))
    write_atomically(path, f"{header}\n\n{body}\n" if body else f"{header}\n")
    return added


def write_atomically(path: Path, text: str) -> None:
    """Write `text` to `path` through a temporary file beside it and one rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as out:
            out.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
