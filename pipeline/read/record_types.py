"""The record types: what a record file may hold, kind by kind (format: docs/records.md).

In:  one record's YAML mapping (records.py hands each over with its kind).
Out: a typed record (pydantic model, one class per kind: `KINDS`), or a ValidationError
     that records.py turns into a located issue; the field checks (`check_text`,
     `check_label`, ids, dates, amounts, durations, currencies) that other readers reuse.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

ID_PATTERN = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*\Z")  # \Z: `$` accepts a final newline
ID_MAX = 80
DATE_PATTERN = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?\Z")
DURATION_PATTERN = re.compile(r"^P(?!\Z)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?\Z")
DECIMAL_PATTERN = re.compile(r"^\d+(\.\d+)?\Z")




# --- field types ------------------------------------------------------------------------------

# what check_text refuses: lone surrogates (Cs), control characters (Cc) but the line break,
# and the bidirectional embedding/isolate controls; one regex finds the first of them
_REFUSED_CHARACTER = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\ud800-\udfff"
                                "\u202a-\u202e\u2066-\u2069]")


def check_text(value: str) -> str:
    """Text we publish: no control characters, no lone surrogates, not blank."""
    found = _REFUSED_CHARACTER.search(value)
    if found:
        ch = found.group()
        cat = unicodedata.category(ch)
        if cat == "Cs":
            raise ValueError("contains a lone surrogate (broken UTF-16); retype the text")
        if cat == "Cc":
            raise ValueError(f"contains the control character U+{ord(ch):04X}; delete it")
        # "Trojan Source": the text would display in another order than it is
        raise ValueError(f"contains the bidirectional control U+{ord(ch):04X}; delete it")
    if not value.strip():
        raise ValueError("is blank")
    if value != value.strip():
        raise ValueError("has leading or trailing spaces")
    return value


def check_label(value: str) -> str:
    check_text(value)
    if "\n" in value:
        raise ValueError("contains a line break; a label is one line")
    return value


def _check_id(value: str) -> str:
    if not ID_PATTERN.match(value) or len(value) > ID_MAX:
        raise ValueError(
            f"{value!r} is not a valid id: use 2-{ID_MAX} lowercase ASCII letters, digits and "
            "single hyphens, starting with a letter (e.g. 'national-health-commission')"
        )
    if len(value) < 2:
        raise ValueError(f"{value!r} is too short: ids have at least 2 characters")
    return value


def _check_date(value: str) -> str:
    m = DATE_PATTERN.match(value)
    if not m:
        raise ValueError(f"{value!r} is not a date: write YYYY, YYYY-MM or YYYY-MM-DD")
    year, month, day = m.group(1), m.group(2), m.group(3)
    if month and not 1 <= int(month) <= 12:
        raise ValueError(f"{value!r} has no month {month}")
    if day:
        last = calendar.monthrange(int(year), int(month))[1]
        if not 1 <= int(day) <= last:
            raise ValueError(f"{value!r} does not exist: {year}-{month} has {last} days")
    return value


def _check_decimal(value: str) -> str:
    if not DECIMAL_PATTERN.match(value):
        raise ValueError(f"{value!r} is not a plain number: write digits only, e.g. 5000000000")
    try:
        Decimal(value)
    except InvalidOperation as err:  # pragma: no cover - the pattern already excludes this
        raise ValueError(f"{value!r} is not a number") from err
    return value


def _check_duration(value: str) -> str:
    if not DURATION_PATTERN.match(value):
        raise ValueError(f"{value!r} is not an ISO 8601 duration: write e.g. P5Y or P18M")
    return value


# names texts use for a currency that look like a code but are not ISO 4217 codes
NOT_ISO_4217 = {"RMB": "CNY", "UKP": "GBP", "NTD": "TWD", "NTS": "TWD", "YEN": "JPY",
                "EUD": "EUR", "STG": "GBP", "US$": "USD", "HK$": "HKD"}


def _check_currency(value: str) -> str:
    if value.upper() in NOT_ISO_4217:
        raise ValueError(f"{value!r} is not an ISO 4217 code: write "
                         f"{NOT_ISO_4217[value.upper()]} (and keep {value!r} in `stated_as`)")
    if not re.fullmatch(r"[A-Z]{3}", value):
        raise ValueError(f"{value!r} is not an ISO 4217 code: write e.g. GBP, CNY, USD")
    return value


def _check_count(value: str) -> str:
    if not re.fullmatch(r"\d+", value):
        raise ValueError(f"{value!r} is not a whole number")
    return value


Text = Annotated[str, AfterValidator(check_text)]
Label = Annotated[str, AfterValidator(check_label)]
Id = Annotated[str, AfterValidator(_check_id)]
DateText = Annotated[str, AfterValidator(_check_date)]
DecimalText = Annotated[str, AfterValidator(_check_decimal)]
Duration = Annotated[str, AfterValidator(_check_duration)]
Currency = Annotated[str, AfterValidator(_check_currency)]
CountText = Annotated[str, AfterValidator(_check_count)]
Qualifier = Literal["exact", "more-than", "approximately", "up-to"]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=False)

    # a loaded record shares one frozenset of given fields with its like (records.compact);
    # a copy gets a set of its own again, which `model_copy(update=...)` adds to
    def __copy__(self):
        copied = super().__copy__()
        object.__setattr__(copied, "__pydantic_fields_set__", set(self.__pydantic_fields_set__))
        return copied

    def __deepcopy__(self, memo=None):
        copied = super().__deepcopy__(memo)
        object.__setattr__(copied, "__pydantic_fields_set__", set(self.__pydantic_fields_set__))
        return copied


class Evidence(Model):
    """A verbatim quote from a source that supports some fields of the record."""

    source: Id
    quote: Text
    supports: list[str] = Field(default_factory=list)
    occurrence: int = Field(default=1, ge=1)


class AltLabel(Model):
    """Another spelling or form of the name, as a source writes it."""

    label: Label
    source: Id | None = None
    kind: Literal["variant", "acronym", "misspelling", "former-name"] = "variant"
    note: Text | None = None


class DateValue(Model):
    """A date as precise as the text supports, and how it was worked out."""

    value: DateText
    resolution: Text | None = None


class Amount(Model):
    """A sum of money; the currency only when the text states one."""

    value: DecimalText
    currency: Currency | None = None
    qualifier: Qualifier = "exact"
    stated_as: Text


class Count(Model):
    value: CountText
    qualifier: Qualifier = "exact"


class Record(Model):
    """Fields every record has."""

    kind: ClassVar[str] = "record"
    # fields that state facts, so must be covered by some evidence entry's `supports`
    non_fact_fields: ClassVar[frozenset[str]] = frozenset(
        {"id", "label", "alt_labels", "note", "topics", "evidence", "deprecated", "replaced_by",
         "type"}
    )
    # fields an evidence entry may name in `supports` although no quote is required for them
    # (`type` is our classification; list it when the quote states the kind, "signed a MOU")
    optional_support_fields: ClassVar[frozenset[str]] = frozenset({"type", "label"})
    evidence_required: ClassVar[bool] = True

    id: Id
    label: Label
    alt_labels: list[AltLabel] = Field(default_factory=list)
    note: Text | None = None
    evidence: list[Evidence] = Field(default_factory=list)
    deprecated: Text | None = None
    replaced_by: Id | None = None

    def fact_fields(self) -> list[str]:
        """The fact fields this record fills (in declaration order)."""
        return [
            name for name in type(self).model_fields
            if name not in self.non_fact_fields and _filled(getattr(self, name))
        ]

    def references(self) -> list[tuple[str, int | None, str]]:
        """(field, index or None, id) for every id this record points at."""
        refs: list[tuple[str, int | None, str]] = []
        for name in self.reference_fields:
            value = getattr(self, name, None)
            if isinstance(value, list):
                refs.extend((name, i, v) for i, v in enumerate(value))
            elif value:
                refs.append((name, None, value))
        if self.replaced_by:
            refs.append(("replaced_by", None, self.replaced_by))
        for i, ev in enumerate(self.evidence):
            refs.append((f"evidence[{i}].source", None, ev.source))
        return refs

    # field -> kinds of record it may point at ("actor" = person, organisation or country)
    reference_fields: ClassVar[dict[str, tuple[str, ...]]] = {}


def _filled(value: Any) -> bool:
    return value not in (None, [], "", {})


class Person(Record):
    kind: ClassVar[str] = "person"
    honorific: Label | None = None
    country: Id | None = None
    reference_fields: ClassVar = {"country": ("country",)}


OrganisationType = Literal[
    "government", "ministry", "government-agency", "regulator", "company", "university",
    "college", "hospital", "research-institute", "association", "business-council",
    "international-organisation", "media-organisation", "health-service",
]


class Organisation(Record):
    kind: ClassVar[str] = "organisation"
    type: OrganisationType
    country: Id | None = None
    part_of: Id | None = None
    reference_fields: ClassVar = {"country": ("country",), "part_of": ("organisation",)}


class Place(Record):
    kind: ClassVar[str] = "place"
    evidence_required: ClassVar[bool] = False
    type: Literal["country", "region", "city", "venue"]
    country: Id | None = None
    part_of: Id | None = None
    reference_fields: ClassVar = {"country": ("country",), "part_of": ("place",)}


class Role(Record):
    kind: ClassVar[str] = "role"
    non_fact_fields: ClassVar = Record.non_fact_fields | {"label"}
    label: Label | None = None  # type: ignore[assignment]  # roles are named by title + person
    person: Id
    title: Label
    organisation: Id | None = None
    status: Literal["current", "former"] = "current"
    reference_fields: ClassVar = {"person": ("person",), "organisation": ("organisation",)}

    def fact_fields(self) -> list[str]:
        fields = super().fact_fields()
        return [f for f in fields if not (f == "status" and self.status == "current")]


AgreementType = Literal[
    "memorandum-of-understanding", "contract", "cooperation-arrangement",
    "collaboration-agreement", "investment-agreement", "fund-commitment",
    "data-exchange-agreement", "commercial-agreement", "joint-statement",
]


class Agreement(Record):
    kind: ClassVar[str] = "agreement"
    type: AgreementType
    title: Label | None = None
    parties: list[Id] = Field(min_length=1)
    signatories: list[Id] = Field(default_factory=list)
    witnesses: list[Id] = Field(default_factory=list)
    signed_at: Id | None = None
    date: DateValue | None = None
    duration: Duration | None = None
    amount: Amount | None = None
    purpose: Text | None = None
    topics: list[Id] = Field(default_factory=list)
    reference_fields: ClassVar = {
        "parties": ("actor",), "signatories": ("person",), "witnesses": ("actor",),
        "signed_at": ("event",),
    }


EventType = Literal[
    "visit", "official-visit", "delegation-visit", "dialogue", "meeting", "working-meeting",
    "video-meeting", "conference", "forum", "trade-fair", "signing-ceremony", "panel-session",
    "presentation", "speech",
]


class Event(Record):
    kind: ClassVar[str] = "event"
    type: EventType
    title: Label | None = None
    date: DateValue | None = None
    start_date: DateValue | None = None
    end_date: DateValue | None = None
    locations: list[Id] = Field(default_factory=list)
    hosts: list[Id] = Field(default_factory=list)
    chairs: list[Id] = Field(default_factory=list)
    organisers: list[Id] = Field(default_factory=list)
    participants: list[Id] = Field(default_factory=list)
    leaders: list[Id] = Field(default_factory=list)
    speakers: list[Id] = Field(default_factory=list)
    invited_by: list[Id] = Field(default_factory=list)
    visited: list[Id] = Field(default_factory=list)
    part_of: Id | None = None
    attendee_count: Count | None = None
    purpose: Text | None = None
    topics: list[Id] = Field(default_factory=list)
    reference_fields: ClassVar = {
        "locations": ("place",), "hosts": ("actor",), "chairs": ("actor",),
        "organisers": ("actor",), "participants": ("actor",), "leaders": ("actor",),
        "speakers": ("actor",), "invited_by": ("actor",), "visited": ("actor", "place"),
        "part_of": ("event",),
    }


class Initiative(Record):
    kind: ClassVar[str] = "initiative"
    type: Literal["campaign", "programme", "project", "platform", "plan", "fund"]
    owners: list[Id] = Field(default_factory=list)
    partners: list[Id] = Field(default_factory=list)
    locations: list[Id] = Field(default_factory=list)
    amount: Amount | None = None
    purpose: Text | None = None
    topics: list[Id] = Field(default_factory=list)
    reference_fields: ClassVar = {
        "owners": ("actor",), "partners": ("actor",), "locations": ("place",),
    }


KINDS: dict[str, type[Record]] = {
    "persons": Person,
    "organisations": Organisation,
    "places": Place,
    "roles": Role,
    "agreements": Agreement,
    "events": Event,
    "initiatives": Initiative,
}
