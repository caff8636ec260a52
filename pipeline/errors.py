"""One family of errors and one shape of validation finding for every stage.

`Issue` is a located finding (file, line, field, message, fix); `HealthcoopError` is what a
stage raises when it cannot go on. The CLI turns either into a message and an exit code:
0 valid, 1 invalid data, 2 usage or environment error.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Severity(enum.StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True, order=True)
class Issue:
    """One finding about the input, located as precisely as we can.

    `file` is relative to the project root (e.g. ``data/records/actors.yaml``); `line` and
    `column` are 1-based (0 when unknown); `field` is a dotted path inside the record
    (``agreements[3].parties[1]``); `fix` tells the maintainer what to do next.
    """

    file: str
    line: int
    field: str
    message: str
    fix: str = ""
    severity: Severity = Severity.ERROR
    code: str = "invalid"
    column: int = 0
    record_id: str = ""

    def location(self) -> str:
        where = self.file
        if self.line:
            where += f":{self.line}"
            if self.column:
                where += f":{self.column}"
        return where


class HealthcoopError(Exception):
    """A stage could not go on. `exit_code` 1 = the data is invalid, 2 = usage/environment."""

    exit_code = 2

    def __init__(self, message: str, *, issues: list[Issue] | None = None, fix: str = ""):
        super().__init__(message)
        self.message = message
        self.issues: list[Issue] = list(issues or [])
        self.fix = fix


class InvalidData(HealthcoopError):
    """The records, sources or shapes do not validate; `issues` says where and why."""

    exit_code = 1


class EnvironmentProblem(HealthcoopError):
    """A file, program, server or network resource we need is missing or refuses."""

    exit_code = 2


@dataclass
class IssueList:
    """Collects issues while a stage runs; stages keep going to report as much as they can."""

    items: list[Issue] = field(default_factory=list)

    def add(self, *args, **kwargs) -> None:
        self.items.append(Issue(*args, **kwargs))

    def extend(self, issues) -> None:
        self.items.extend(issues)

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.items if i.severity == Severity.ERROR]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.items if i.severity == Severity.WARNING]
