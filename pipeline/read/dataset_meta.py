"""`data/dataset.yaml`, checked field by field: the metadata of the dataset description.

In:  the project root (reads `data/dataset.yaml` with `yamlfile.load_yaml`, which keeps the
     line of every value).
Out: `check_dataset_metadata(root, issues)` returns a `DatasetMeta` when the file is valid;
     otherwise `None`, with every problem added to `issues` at file:line:field (an issued date
     that does not exist, keywords that are not a list, a licence that is not an absolute IRI,
     a language tag that is not BCP 47, a version that is not semantic versioning, a list or
     mapping where text belongs, unknown or missing fields, personal contact details).

Every value reaches the dumps (titles, IRIs, typed literals), so nothing is accepted that
would become garbage there: no Python `repr` of a list, no keyword per character, no IRI that
is a bare namespace, no ill-typed date. Patterns are matched with `re.fullmatch` (a `$`
would accept a trailing line break) and only after a length bound, so no check is
super-linear in the input.
"""

from __future__ import annotations

import datetime
import difflib
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from pipeline.errors import IssueList
from pipeline.read.yamlfile import YamlDocument, dotted, load_yaml

DATASET_FILE = Path("data/dataset.yaml")
URI_SPACE = "https://w3id.org/healthcoop/id/"

# EU Vocabularies (the controlled vocabularies DCAT-AP names for these properties)
EU_AUTHORITY = "http://publications.europa.eu/resource/authority/"
DATA_THEME = EU_AUTHORITY + "data-theme/"
ACCESS_RIGHT = EU_AUTHORITY + "access-right/"
LANGUAGE_AUTHORITY = EU_AUTHORITY + "language/"
ADMS_PUBLISHER_TYPE = "http://purl.org/adms/publishertype/"

# semantic versioning 2.0.0 (https://semver.org), the grammar's own regular expression
SEMVER = re.compile(
    r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?")
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
SLUG = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")
# BCP 47 (RFC 5646) language tag: language, script, region, variants, extensions, private use
BCP47 = re.compile(
    r"(?P<language>[a-zA-Z]{2,3}(?:-[a-zA-Z]{3}){0,3}|[a-zA-Z]{4,8})"
    r"(?:-[a-zA-Z]{4})?(?:-(?:[a-zA-Z]{2}|\d{3}))?"
    r"(?:-(?:[a-zA-Z0-9]{5,8}|\d[a-zA-Z0-9]{3}))*"
    r"(?:-[0-9a-wyzA-WYZ](?:-[a-zA-Z0-9]{2,8})+)*"
    r"(?:-x(?:-[a-zA-Z0-9]{1,8})+)?")
SPDX_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9.+-]*")
AUTHORITY_CODE = re.compile(r"[A-Z0-9_]+")
# characters an IRI may not hold (RFC 3987: no spaces, controls, <>"{}|\^`)
IRI_FORBIDDEN = re.compile(r"[\x00-\x20<>\"{}|\\^`\x7f-\x9f]")
# personal contact details (CONTRIBUTING.md: never published); single-character anchors
# before the `@` and a bounded input keep both searches linear
EMAIL = re.compile(r"[\w.+-]@[\w-]+\.\w")
PHONE = re.compile(r"(?:\+|\b(?:tel|telephone|phone|fax|mobile)\b\.?:?\s*)\(?\d[\d ()-]{5,}\d",
                   re.IGNORECASE)

MAX_LINE = 300        # a title, a name, a keyword
MAX_TEXT = 5000       # a description, the rights statement
MAX_IRI = 2000
MAX_ITEMS = 100       # keywords, themes, spatial coverage
MAX_VERSION = 64

TOP_LEVEL = ("id", "title", "description", "version", "previous_version", "issued",
             "publisher", "contact_point", "licence", "licence_name", "licence_spdx", "rights",
             "access_rights", "uri_space", "language", "keywords", "themes", "spatial")
REQUIRED = ("id", "title", "description", "version", "issued", "publisher", "contact_point",
            "licence", "licence_name", "rights", "uri_space", "language")
PUBLISHER_FIELDS = ("name", "homepage", "type")
CONTACT_FIELDS = ("name", "url")
THEME_FIELDS = ("iri", "label")
PERSONAL_KEYS = {"email", "e-mail", "mail", "mbox", "phone", "telephone", "tel", "fax",
                 "mobile", "hasemail", "hastelephone"}


@dataclass(frozen=True)
class DatasetMeta:
    """`data/dataset.yaml`, checked."""

    id: str
    title: str
    description: str
    version: str
    issued: str
    publisher_name: str
    publisher_homepage: str
    licence: str
    licence_name: str
    rights: str
    uri_space: str
    language: str
    keywords: tuple[str, ...] = ()
    previous_version: str | None = None
    publisher_type: str | None = None             # an ADMS publisher type IRI
    contact_name: str = ""
    contact_url: str = ""                         # a web page, never an e-mail or phone
    licence_spdx: str | None = None               # e.g. CC-BY-4.0 (datapackage.json)
    access_rights: str | None = None              # an EU access-right IRI
    themes: tuple[tuple[str, str], ...] = ()      # (EU data-theme IRI, its label)
    spatial: tuple[str, ...] = ()                 # IRIs of the places covered
    language_code: str = ""                       # ISO 639-3 code of `language` (eng)

    @property
    def language_iri(self) -> str:
        """The language in the EU language authority (what DCAT-AP asks for)."""
        return LANGUAGE_AUTHORITY + self.language_code.upper()


class _Checker:
    """Reads one document and collects located issues."""

    def __init__(self, doc: YamlDocument, issues: IssueList) -> None:
        self.doc = doc
        self.issues = issues
        self.rel = doc.rel_path
        self.failed = False

    def add(self, path: tuple, message: str, fix: str, code: str = "invalid-metadata") -> None:
        self.failed = True
        self.issues.add(self.rel, max(1, self.doc.line(path)), dotted(path), message,
                        fix or f"Correct `{dotted(path)}` in {self.rel}.", code=code,
                        column=self.doc.column(path))

    # --- shapes ----------------------------------------------------------------------------

    def mapping(self, value, path: tuple, allowed: tuple[str, ...],
                required: tuple[str, ...]) -> dict | None:
        if not isinstance(value, dict):
            self.add(path, f"`{dotted(path)}` must be a mapping of "
                     f"{', '.join(allowed)}, not {_kind(value)}.",
                     f"Write `{dotted(path)}:` followed by indented `key: value` lines.",
                     "wrong-type")
            return None
        for key in value:
            if key.lower().replace("_", "") in PERSONAL_KEYS:
                self.add((*path, key), f"`{dotted((*path, key))}` would publish personal "
                         "contact details.",
                         "Remove it: the project publishes no e-mail addresses or phone "
                         "numbers (CONTRIBUTING.md); give a web page (`url:`) instead.",
                         "personal-data")
            elif key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1)
                hint = f" Did you mean `{close[0]}`?" if close else ""
                self.add((*path, key), f"Unknown field `{dotted((*path, key))}`.{hint}",
                         f"Use one of: {', '.join(allowed)}.", "unknown-field")
        for key in required:
            if value.get(key) is None and key in value:
                self.add((*path, key), f"`{dotted((*path, key))}` is empty.",
                         f"Give `{dotted((*path, key))}` a value.", "missing-field")
            elif key not in value:
                self.add(path, f"`{dotted((*path, key))}` is missing.",
                         f"Add `{key}:` to {'`' + dotted(path) + '`' if path else self.rel}.",
                         "missing-field")
        return value

    def text(self, value, path: tuple, *, one_line: bool = True,
             limit: int = MAX_LINE) -> str | None:
        """A non-empty string of printable text (a title, a name, a description)."""
        if value is None:
            return None
        if not isinstance(value, str):
            self.add(path, f"`{dotted(path)}` must be text, not {_kind(value)}.",
                     "Write the value as one (quoted) string.", "wrong-type")
            return None
        if len(value) > limit:
            self.add(path, f"`{dotted(path)}` is {len(value)} characters long; at most "
                     f"{limit} are allowed.", "Shorten it.", "too-long")
            return None
        for ch in value:
            category = unicodedata.category(ch)
            if category == "Cs" or (category == "Cc" and ch not in "\n\t"):
                self.add(path, f"`{dotted(path)}` contains the control character "
                         f"U+{ord(ch):04X}.", "Delete it (it is invisible in most editors).",
                         "control-character")
                return None
        cleaned = " ".join(value.split())
        if not cleaned:
            self.add(path, f"`{dotted(path)}` is blank.", f"Give `{dotted(path)}` a value.",
                     "missing-field")
            return None
        if one_line and "\n" in value.strip():
            self.add(path, f"`{dotted(path)}` spans several lines; it must be one line.",
                     "Write it on one line.", "line-break")
            return None
        if EMAIL.search(value) or PHONE.search(value):
            self.add(path, f"`{dotted(path)}` holds what looks like an e-mail address or a "
                     "phone number.",
                     "Remove it: the project publishes no personal contact details "
                     "(CONTRIBUTING.md).", "personal-data")
            return None
        return cleaned if one_line else " ".join(value.split())

    def matching(self, value, path: tuple, pattern: re.Pattern, what: str, example: str,
                 limit: int = MAX_LINE) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str):
            self.add(path, f"`{dotted(path)}` must be {what}, not {_kind(value)}.",
                     f"Write e.g. `{path[-1]}: \"{example}\"`.", "wrong-type")
            return None
        if len(value) > limit or not pattern.fullmatch(value):
            shown = value if len(value) <= 80 else value[:77] + "..."
            self.add(path, f"`{dotted(path)}` is {shown!r}: not {what}.",
                     f"Write e.g. `{path[-1]}: \"{example}\"`.", "bad-value")
            return None
        return value

    def iri(self, value, path: tuple, *, web: bool = False, namespace: str | None = None,
            example: str = "https://example.org/") -> str | None:
        """An absolute IRI; `web`: an http(s) URL with a host; `namespace`: a term of that
        vocabulary (the namespace itself is not a term)."""
        if value is None:
            return None
        if not isinstance(value, str):
            self.add(path, f"`{dotted(path)}` must be an IRI, not {_kind(value)}.",
                     f"Write e.g. `{path[-1]}: \"{example}\"`.", "wrong-type")
            return None
        shown = value if len(value) <= 80 else value[:77] + "..."
        problem = None
        if len(value) > MAX_IRI:
            problem = f"longer than {MAX_IRI} characters"
        elif IRI_FORBIDDEN.search(value):
            problem = "it holds a space, a control character or one of <>\"{}|\\^`"
        else:
            parts = urlsplit(value)
            if not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*", parts.scheme or ""):
                problem = "not an absolute IRI (it has no scheme such as https:)"
            elif parts.scheme.lower() in ("mailto", "tel", "sms", "fax"):
                problem = "a personal contact address; the project publishes none"
            elif web and (parts.scheme.lower() not in ("http", "https") or not parts.netloc):
                problem = "not a web address (http or https, with a host)"
            elif namespace and not (value.startswith(namespace)
                                    and AUTHORITY_CODE.fullmatch(value[len(namespace):])):
                problem = f"not a term of the vocabulary {namespace}"
        if problem is None:
            import pyoxigraph as ox

            try:
                ox.NamedNode(value)
            except ValueError as err:
                problem = f"not a valid IRI ({err})"
        if problem:
            self.add(path, f"`{dotted(path)}` is {shown!r}: {problem}.",
                     f"Write e.g. `{path[-1]}: \"{example}\"`.", "bad-iri")
            return None
        return value

    def sequence(self, value, path: tuple, what: str) -> list:
        if value is None:
            return []
        if not isinstance(value, list):
            self.add(path, f"`{dotted(path)}` must be a list of {what}, not {_kind(value)}.",
                     f"Write `{path[-1]}: [first, second]` or one `- item` per line.",
                     "wrong-type")
            return []
        if len(value) > MAX_ITEMS:
            self.add(path, f"`{dotted(path)}` has {len(value)} items; at most {MAX_ITEMS}.",
                     "Keep the most useful ones.", "too-long")
            return []
        return value


def _kind(value) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "empty"
    return "text"


def _semver_key(version: str) -> tuple:
    """Precedence of a semantic version (semver.org, item 11); build metadata is ignored."""
    core, _, pre = version.split("+", 1)[0].partition("-")
    numbers = tuple(int(x) for x in core.split("."))
    if not pre:
        return (numbers, (1,))
    parts = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split("."))
    return (numbers, (0, parts))


def language_code(tag: str) -> str | None:
    """ISO 639-3 code of the tag's primary language subtag (`en-GB` -> `eng`), if known."""
    import pycountry

    primary = tag.split("-", 1)[0].lower()
    found = (pycountry.languages.get(alpha_2=primary) if len(primary) == 2
             else pycountry.languages.get(alpha_3=primary) if len(primary) == 3 else None)
    return found.alpha_3 if found is not None else None


def check_dataset_metadata(root: Path, issues: IssueList) -> DatasetMeta | None:
    """Read and check `data/dataset.yaml`; None (with located issues) when it is not valid."""
    doc = load_yaml(Path(root) / DATASET_FILE, Path(root), issues)
    if doc is None:
        return None
    c = _Checker(doc, issues)
    data = c.mapping(doc.data, (), TOP_LEVEL, REQUIRED)
    if data is None:
        return None
    get = data.get

    ident = c.matching(get("id"), ("id",), SLUG, "a lowercase id (letters, digits, hyphens)",
                       "healthcoop")
    title = c.text(get("title"), ("title",))
    description = c.text(get("description"), ("description",), one_line=False,
                         limit=MAX_TEXT)
    version = c.matching(get("version"), ("version",), SEMVER,
                         "a semantic version (MAJOR.MINOR.PATCH)", "0.1.0", MAX_VERSION)
    previous = c.matching(get("previous_version"), ("previous_version",), SEMVER,
                          "a semantic version (MAJOR.MINOR.PATCH)", "0.1.0", MAX_VERSION)
    if version and previous:
        if previous == version:
            c.add(("previous_version",), "`previous_version` equals `version`.",
                  "Bump `version` for the new release, or set previous_version: null.",
                  "bad-value")
        elif _semver_key(previous) > _semver_key(version):
            c.add(("previous_version",), f"`previous_version` {previous} is later than "
                  f"`version` {version}.", "Swap them, or correct the one mistyped.",
                  "bad-value")
    issued = c.matching(get("issued"), ("issued",), DATE, "a date YYYY-MM-DD", "2026-11-23")
    if issued:
        try:
            datetime.date.fromisoformat(issued)
        except ValueError:
            c.add(("issued",), f"`issued` is {issued!r}: that day does not exist.",
                  "Write a real calendar date, e.g. `issued: \"2026-11-23\"`.", "bad-date")
            issued = None

    publisher = c.mapping(get("publisher"), ("publisher",), PUBLISHER_FIELDS,
                          ("name", "homepage")) if get("publisher") is not None else None
    publisher = publisher or {}
    publisher_name = c.text(publisher.get("name"), ("publisher", "name"))
    homepage = c.iri(publisher.get("homepage"), ("publisher", "homepage"), web=True,
                     example="https://w3id.org/healthcoop/")
    publisher_type = c.iri(publisher.get("type"), ("publisher", "type"),
                           namespace=ADMS_PUBLISHER_TYPE,
                           example=ADMS_PUBLISHER_TYPE + "NonProfitOrganisation")

    contact = c.mapping(get("contact_point"), ("contact_point",), CONTACT_FIELDS,
                        CONTACT_FIELDS) if get("contact_point") is not None else None
    contact = contact or {}
    contact_name = c.text(contact.get("name"), ("contact_point", "name"))
    contact_url = c.iri(contact.get("url"), ("contact_point", "url"), web=True,
                        example="https://w3id.org/healthcoop/")

    licence = c.iri(get("licence"), ("licence",), web=True,
                    example="https://creativecommons.org/licenses/by/4.0/")
    licence_name = c.text(get("licence_name"), ("licence_name",))
    licence_spdx = c.matching(get("licence_spdx"), ("licence_spdx",), SPDX_ID,
                              "an SPDX licence identifier", "CC-BY-4.0", 64)
    rights = c.text(get("rights"), ("rights",), one_line=False, limit=MAX_TEXT)
    access_rights = c.iri(get("access_rights"), ("access_rights",), namespace=ACCESS_RIGHT,
                          example=ACCESS_RIGHT + "PUBLIC")
    uri_space = c.iri(get("uri_space"), ("uri_space",), web=True, example=URI_SPACE)
    if uri_space and uri_space != URI_SPACE:
        c.add(("uri_space",), f"`uri_space` is {uri_space!r}, but every entity IRI is minted "
              f"in {URI_SPACE} (README.md, URI policy).", f"Write `uri_space: \"{URI_SPACE}\"`.",
              "bad-value")
        uri_space = None

    language = c.matching(get("language"), ("language",), BCP47, "a BCP 47 language tag",
                          "en", 64)
    code = None
    if language:
        code = language_code(language)
        if code is None:
            c.add(("language",), f"`language` is {language!r}: its language subtag is not "
                  "an ISO 639 language.", "Write e.g. `language: en` or `language: zh-Hans`.",
                  "bad-value")

    keywords: list[str] = []
    for index, item in enumerate(c.sequence(get("keywords"), ("keywords",), "keywords")):
        keyword = c.text(item, ("keywords", index))
        if keyword is None:
            if item is None:
                c.add(("keywords", index), f"`keywords[{index}]` is empty.",
                      "Remove the empty item.", "missing-field")
            continue
        if keyword in keywords:
            c.add(("keywords", index), f"Keyword {keyword!r} is listed twice.",
                  "Remove the repetition.", "duplicate")
            continue
        keywords.append(keyword)

    themes: list[tuple[str, str]] = []
    for index, item in enumerate(c.sequence(get("themes"), ("themes",), "themes")):
        path = ("themes", index)
        entry = c.mapping(item, path, THEME_FIELDS, THEME_FIELDS)
        if entry is None:
            continue
        theme_iri = c.iri(entry.get("iri"), (*path, "iri"), namespace=DATA_THEME,
                          example=DATA_THEME + "HEAL")
        label = c.text(entry.get("label"), (*path, "label"))
        if theme_iri and label:
            themes.append((theme_iri, label))

    spatial: list[str] = []
    for index, item in enumerate(c.sequence(get("spatial"), ("spatial",), "place IRIs")):
        place = c.iri(item, ("spatial", index),
                      example=EU_AUTHORITY + "country/GBR")
        if place is None and item is None:
            c.add(("spatial", index), f"`spatial[{index}]` is empty.",
                  "Remove the empty item.", "missing-field")
        if place and place not in spatial:
            spatial.append(place)

    if c.failed:
        return None
    return DatasetMeta(
        id=ident, title=title, description=description, version=version, issued=issued,
        publisher_name=publisher_name, publisher_homepage=homepage, licence=licence,
        licence_name=licence_name, rights=rights, uri_space=uri_space, language=language,
        keywords=tuple(keywords), previous_version=previous, publisher_type=publisher_type,
        contact_name=contact_name, contact_url=contact_url, licence_spdx=licence_spdx,
        access_rights=access_rights, themes=tuple(themes), spatial=tuple(spatial),
        language_code=code or "",
    )
