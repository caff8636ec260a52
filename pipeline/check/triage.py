"""Triage of findings: the root cause first, its consequences summarised, advice grouped.

In:  the located issues of one validation run.
Out: `triage(issues)`: a `Triage` with
     - `roots`: findings about something that could not be read at all (a missing or
       undecodable file, a YAML syntax error, a missing folder) or a record that failed its
       schema: fixing them is the first step, so they are printed first;
     - `consequences`: findings that only follow from a root (an unknown source after the
       registry was deleted, a vanished IRI after a records file stopped parsing, an unknown
       id in data/links.yaml): counted, not listed, unless the maintainer asks for them;
     - `rest`: everything else, in file order;
     - `repeated`: warnings with the same code and message at many places (advice such as
       "not linked yet"), shown as one line with a count.

A consequence is recognised by its kind (the codes below) and only while a root exists: on a
healthy project an unknown id is a finding like any other.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from pipeline.errors import Issue, Severity

# findings about a whole file or folder: nothing in it could be checked
ROOT_FIELDS = frozenset({"(file)", "(directory)", "(syntax)", "(indentation)", "(text)"})
ROOT_CODES = frozenset({"schema", "missing-records-dir", "missing-archive-dir",
                        "missing-source-file", "unreadable-file", "not-a-file",
                        "link-outside-project", "file-too-large", "yaml-syntax",
                        "records-structure", "registry-structure"})
# findings that a missing file, source or record produces by the hundred
CONSEQUENCE_CODES = frozenset({"unknown-source", "unknown-reference", "vanished-iri",
                               "wrong-reference-kind", "mapping",
                               "shacl-classConstraintComponent"})
REPEAT_AT = 3  # a warning at this many places or more is shown once, with a count


@dataclass
class Repeated:
    """One warning given at many places."""

    first: Issue
    count: int


@dataclass
class Triage:
    roots: list[Issue] = field(default_factory=list)
    rest: list[Issue] = field(default_factory=list)
    consequences: list[Issue] = field(default_factory=list)
    repeated: list[Repeated] = field(default_factory=list)

    def shown(self) -> list[Issue]:
        """What a person should read: the roots, then the rest."""
        return self.roots + self.rest


def is_root(issue: Issue) -> bool:
    return issue.severity == Severity.ERROR and (issue.field in ROOT_FIELDS
                                                 or issue.code in ROOT_CODES)


def triage(issues: list[Issue], *, group_repeats: bool = True) -> Triage:
    """Split `issues` (in report order) as the module docstring says."""
    result = Triage()
    roots = [i for i in issues if is_root(i)]
    for issue in issues:
        if issue in roots:
            continue
        if roots and issue.code in CONSEQUENCE_CODES:
            result.consequences.append(issue)
        else:
            result.rest.append(issue)
    result.roots = _root_order(roots)
    if group_repeats:
        result.rest, result.repeated = _group_repeats(result.rest)
    return result


def _root_order(roots: list[Issue]) -> list[Issue]:
    # a whole folder or registry before single files, single files before single records
    def rank(issue: Issue) -> tuple:
        level = 0 if issue.field == "(directory)" else 1 if issue.field in ROOT_FIELDS else 2
        registry = 0 if issue.file.endswith("sources.yaml") else 1
        return (level, registry)
    return sorted(roots, key=rank)


def _group_repeats(issues: list[Issue]) -> tuple[list[Issue], list[Repeated]]:
    by_kind: dict[tuple, list[Issue]] = defaultdict(list)
    for issue in issues:
        if issue.severity == Severity.WARNING:
            by_kind[(issue.code, issue.message, issue.fix)].append(issue)
    grouped = {key for key, found in by_kind.items() if len(found) >= REPEAT_AT}
    rest = [i for i in issues if not (i.severity == Severity.WARNING
                                      and (i.code, i.message, i.fix) in grouped)]
    repeated = [Repeated(by_kind[key][0], len(by_kind[key]))
                for key in sorted(grouped, key=lambda k: (-len(by_kind[k]), k))]
    return rest, repeated


def consequence_summary(consequences: list[Issue]) -> str:
    """ "and 278 findings that follow from it (273 unknown-source, 5 vanished-iri)" """
    counts: dict[str, int] = defaultdict(int)
    for issue in consequences:
        counts[issue.code] += 1
    parts = ", ".join(f"{n} {code}" for code, n in sorted(counts.items(),
                                                          key=lambda kv: (-kv[1], kv[0])))
    noun = "finding that follows" if len(consequences) == 1 else "findings that follow"
    return f"and {len(consequences)} {noun} from it ({parts})"
