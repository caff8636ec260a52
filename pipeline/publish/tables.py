"""Tables for people who don't use RDF: CSV on the Web (W3C CSVW) and a Frictionless Data
Package, written from the published triples.

In:  per shard, its data triples (pyoxigraph) and the labels of the actors it points at;
     then the dataset metadata and the release directory.
Out: `shard_rows(triples, labels)` gives a shard's rows, which the shard stage keeps in its
     cache entry (`pieces.write_rows`); `write_table_rows(rows_of, out_dir, meta)`, given each
     table's rows merged in order from every shard (`pieces.merged_rows`), writes

     tables/actors.csv              persons and organisations
     tables/agreements.csv          agreements (one row each)
     tables/agreement-parties.csv   who is party, signatory or witness of which agreement
     tables/events.csv              events (one row each)
     tables/event-participants.csv  who took part in an event, and how (host, chair, ...)
     tables/statements.csv          every fact a quote supports: entity, property, value,
                                    source, verbatim quote and its code point offsets
     tables/csv-metadata.json       the CSVW metadata: columns, datatypes and the aboutUrl /
                                    propertyUrl / valueUrl templates that turn the tables
                                    back into our triples (our IRIs, our properties)
     datapackage.json               the same tables as a Frictionless Tabular Data Package

     and returns their `describe.FileInfo` entries (sizes and SHA-256) for the description.

`write_tables(triples, out_dir, meta)` does the same from all data triples at once (the
reference the sharded path is tested against).

Everything comes from the triples, grouped by entity, so a table never says anything the RDF
does not: a CSVW processor's RDF from the tables is contained in the dumps. A shard holds all
triples of its entities and their fragments, so its rows need nothing else but the labels of
the actors in other shards; rows are sorted per shard and merged, so the tables never need
the whole dataset in memory.

Columns CSVW cannot type faithfully (dates, whose precision varies between YYYY and
YYYY-MM-DD, and the mixed `value` of a statement) are for reading and are marked
`suppressOutput`; the dumps carry them typed.

The files are RFC 4180 CSV (UTF-8 without byte-order mark, CRLF, fields quoted when they hold
a comma, a quote or a line break), rows sorted, so two builds give the same bytes.

Cells hold the curated text verbatim. A cell may begin with `=`, `+`, `-` or `@`, which a
spreadsheet program can take for a formula ("CSV injection"); the tables do not prefix or
alter such values, because a consumer who joins, counts or converts the tables must get the
published text exactly (and the CSVW conversion must give back the published literal). Open
the files in a spreadsheet with "import as text" (or the CSVW/Frictionless metadata's types)
rather than by double-clicking; the metadata files and the README say so.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from pipeline.errors import InvalidData, Issue
from pipeline.publish import describe
from pipeline.rdf import vocab
from pipeline.rdf.oxterms import SplitTriple
from pipeline.read.dataset_meta import DatasetMeta

HCID = str(vocab.HCID)
HC = str(vocab.HC)
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
XSD = "http://www.w3.org/2001/XMLSchema#"
OA = str(vocab.OA)
PROV_DERIVED = "http://www.w3.org/ns/prov#wasDerivedFrom"
SCHEMA = str(vocab.SCHEMA)
DCT = "http://purl.org/dc/terms/"
OWL = "http://www.w3.org/2002/07/owl#"
FOAF = "http://xmlns.com/foaf/0.1/"
ORG = "http://www.w3.org/ns/org#"

TABLES_DIR = "tables"
CSVW_METADATA = "tables/csv-metadata.json"
DATAPACKAGE = "datapackage.json"

INJECTION_NOTE = (
    "Cells hold the curated text verbatim, including values that begin with =, +, - or @, "
    "which spreadsheet programs may run as formulas: import the files as text (or with the "
    "column types given here) instead of opening them by double-click.")

# predicate -> the role it names, for the link tables (in the order the columns list them)
AGREEMENT_ROLES = {HC + "party": "party", HC + "signatory": "signatory",
                   HC + "witness": "witness"}
EVENT_ROLES = {HC + "host": "host", HC + "chair": "chair", SCHEMA + "organizer": "organiser",
               HC + "participant": "participant", HC + "leader": "leader",
               HC + "speaker": "speaker", HC + "invitedBy": "invited-by",
               HC + "visited": "visited"}


@dataclass(frozen=True)
class Column:
    """One column: its CSV name, its CSVW mapping to RDF and its Frictionless type."""

    name: str
    description: str
    datatype: str = "string"            # CSVW datatype (an XSD name)
    property: str | None = None         # propertyUrl (a template)
    value_url: str | None = None        # valueUrl (a template): the cell names an IRI
    about_url: str | None = None        # aboutUrl, when not the table's
    lang: str | None = None
    suppress: bool = False              # not converted to RDF (see the module docstring)
    required: bool = False
    pattern: str | None = None          # Frictionless pattern for string columns

    def csvw(self) -> dict:
        out: dict = {"name": self.name, "titles": self.name, "dc:description": self.description,
                     "datatype": self.datatype}
        if self.required:
            out["required"] = True
        if self.suppress:
            out["suppressOutput"] = True
        for key, value in (("aboutUrl", self.about_url), ("propertyUrl", self.property),
                           ("valueUrl", self.value_url), ("lang", self.lang)):
            if value is not None and not self.suppress:
                out[key] = value
        return out

    def frictionless(self) -> dict:
        kind = {"string": "string", "boolean": "boolean", "decimal": "number",
                "nonNegativeInteger": "integer", "integer": "integer",
                "duration": "duration"}[self.datatype]
        out: dict = {"name": self.name, "type": kind, "description": self.description}
        if self.value_url and self.value_url.startswith("{+"):
            out["format"] = "uri"
        if kind == "boolean":
            out["trueValues"] = ["true"]
            out["falseValues"] = ["false"]
        constraints: dict = {}
        if self.required:
            constraints["required"] = True
        if self.datatype == "nonNegativeInteger":
            constraints["minimum"] = 0
        if self.pattern:
            constraints["pattern"] = self.pattern
        if constraints:
            out["constraints"] = constraints
        return out


@dataclass(frozen=True)
class Table:
    name: str
    title: str
    columns: tuple[Column, ...]
    about_url: str
    primary_key: tuple[str, ...]
    foreign_keys: tuple[tuple[str, str, str], ...] = ()   # (column, table, column)

    @property
    def path(self) -> str:
        return f"{TABLES_DIR}/{self.name}.csv"


def _entity(template: str = "{id}") -> str:
    return HCID + template


def _ref(name: str, predicate: str, description: str) -> Column:
    return Column(name, description, property=predicate, value_url=_entity("{" + name + "}"))


def _label(about: str | None = None, description: str = "The name (rdfs:label).") -> Column:
    return Column("label" if about is None else about.strip("{}") + "_label", description,
                  property=RDFS_LABEL, lang="en",
                  about_url=None if about is None else _entity(about))


DATE_PATTERN = r"\d{4}(-\d{2}(-\d{2})?)?"
CLASS = Column("class", "The most specific class, in https://w3id.org/healthcoop/ontology#.",
               property=RDF_TYPE, value_url=HC + "{class}", required=True)
ID = Column("id", "The curated id; the entity's IRI is https://w3id.org/healthcoop/id/<id>.",
            suppress=True, required=True)
DEPRECATED = Column("deprecated", "true when the record is retired (a tombstone).",
                    datatype="boolean", property=OWL + "deprecated")
REPLACED_BY = _ref("replaced_by", DCT + "isReplacedBy", "The id of the record that replaces "
                   "this retired one.")


def _date(name: str, predicate: str) -> Column:
    return Column(name, f"{predicate}, as precise as the source says: YYYY, YYYY-MM or "
                  "YYYY-MM-DD (typed xsd:gYear, xsd:gYearMonth or xsd:date in the dumps; CSVW "
                  "has no datatype for the three together, so this column is not converted).",
                  suppress=True, pattern=DATE_PATTERN)


def _ids(name: str, what: str) -> Column:
    return Column(name, f"{what}: ids separated by spaces, for reading (the link table has "
                  "one row each, converted to RDF).", suppress=True)


def _link_table(name: str, title: str, subject: str, subject_table: str) -> Table:
    about = _entity("{" + subject + "}")
    return Table(name, title, (
        Column(subject, f"The {subject}'s id.", suppress=True, required=True),
        Column("role", "How the actor takes part, in words.", suppress=True, required=True),
        Column("property", "The property that states it (an IRI).", suppress=True,
               required=True),
        Column("actor", "The actor's id (a person, an organisation or a country).",
               property="{+property}", value_url=_entity("{actor}"), required=True),
        _label("{actor}", "The actor's name (rdfs:label)."),
    ), about, (subject, "property", "actor"), ((subject, subject_table, "id"),))


TABLES: tuple[Table, ...] = (
    Table("actors", "Actors: persons and organisations", (
        ID,
        Column("kind", "person or organisation.", suppress=True, required=True),
        CLASS,
        _label(),
        _ref("country", HC + "country", "The id of the actor's country."),
        _ref("part_of", ORG + "subOrganizationOf", "The id of the organisation it is part of."),
        Column("honorific", "A person's honorific (foaf:title), as the source writes it.",
               property=FOAF + "title"),
        DEPRECATED, REPLACED_BY,
    ), _entity(), ("id",)),
    Table("agreements", "Agreements: memoranda, contracts, arrangements, joint statements, "
          "funds", (
        ID, CLASS, _label(),
        Column("title", "The agreement's own title (dct:title).", property=DCT + "title",
               lang="en"),
        _date("date", HC + "date"),
        Column("duration", "How long it runs (ISO 8601 duration).", datatype="duration",
               property=HC + "duration"),
        Column("purpose", "What it is for (hc:purpose).", property=HC + "purpose", lang="en"),
        Column("amount", "The sum of money (schema:value of its #amount node).",
               datatype="decimal", property=SCHEMA + "value",
               about_url=_entity("{id}#amount")),
        Column("currency", "ISO 4217 code, only when the source states it.",
               property=SCHEMA + "currency", about_url=_entity("{id}#amount")),
        Column("amount_stated_as", "The amount as the source writes it.",
               property=HC + "statedAs", lang="en", about_url=_entity("{id}#amount")),
        _ref("signed_at", HC + "signedAt", "The id of the event where it was signed."),
        _ids("parties", "The parties"),
        DEPRECATED, REPLACED_BY,
    ), _entity(), ("id",)),
    _link_table("agreement-parties", "Parties, signatories and witnesses of agreements",
                "agreement", "agreements"),
    Table("events", "Events: visits, dialogues, meetings, conferences, ceremonies", (
        ID, CLASS, _label(),
        Column("title", "The event's own title (dct:title).", property=DCT + "title",
               lang="en"),
        _date("start_date", SCHEMA + "startDate"),
        _date("end_date", SCHEMA + "endDate"),
        _ids("locations", "Where it took place"),
        _ref("part_of", SCHEMA + "superEvent", "The id of the event it is part of."),
        Column("attendee_count", "How many attended, as the source states it.",
               datatype="integer", property=HC + "attendeeCount"),
        Column("purpose", "What it was for (hc:purpose).", property=HC + "purpose", lang="en"),
        _ids("participants", "Who took part, in any role"),
        DEPRECATED, REPLACED_BY,
    ), _entity(), ("id",)),
    _link_table("event-participants", "Who took part in events, and how", "event", "events"),
    Table("statements", "Statements with their evidence: each fact, the quote that supports "
          "it and where the quote is in the archived source", (
        Column("entity", "The id of the entity the statement is about.",
               property=OA + "hasBody", value_url=_entity("{entity}"), required=True),
        _label("{entity}", "The entity's name (rdfs:label)."),
        Column("property", "The property the quote supports (an IRI).",
               property=HC + "supportsProperty", value_url="{+property}", required=True),
        Column("value", "The value: an IRI, or a literal's text (not converted: the dumps hold "
               "it typed; see value_type).", suppress=True),
        Column("value_type", "IRI; or @en for English text; or the literal's XSD datatype.",
               suppress=True),
        Column("source", "The id of the archived source the quote is from.",
               property=PROV_DERIVED, value_url=_entity("{source}"), required=True),
        Column("quote", "The quote, verbatim as archived (oa:exact).", property=OA + "exact",
               about_url=_entity("{entity}#evidence-{evidence}-quote")),
        Column("start", "Where the quote starts: Unicode code point offset into the archived "
               "text.", datatype="nonNegativeInteger", property=OA + "start",
               about_url=_entity("{entity}#evidence-{evidence}-position")),
        Column("end", "Where the quote ends (exclusive), in code points.",
               datatype="nonNegativeInteger", property=OA + "end",
               about_url=_entity("{entity}#evidence-{evidence}-position")),
        Column("evidence", "The evidence annotation's key: its IRI is "
               "https://w3id.org/healthcoop/id/<entity>#evidence-<evidence>.", suppress=True,
               required=True),
    ), _entity("{entity}#evidence-{evidence}"), ("entity", "evidence", "property", "value")),
)


# --- reading the triples ---------------------------------------------------------------------

def _most_specific_classes() -> dict[str, set[str]]:
    """Each record class -> the classes it implies (vocab.py lists them, specific first)."""
    lists = [vocab.PERSON_CLASSES, vocab.ROLE_CLASSES, vocab.SOURCE_CLASSES,
             *vocab.ORGANISATION_CLASSES.values(), *vocab.PLACE_CLASSES.values(),
             *vocab.AGREEMENT_CLASSES.values(), *vocab.EVENT_CLASSES.values(),
             *vocab.INITIATIVE_CLASSES.values()]
    implied: dict[str, set[str]] = {}
    for classes in lists:
        implied.setdefault(str(classes[0]), set()).update(str(c) for c in classes)
    return implied


IMPLIED = _most_specific_classes()


def specific_class(types: Iterable[str]) -> str | None:
    """The record class of an entity: among its types, the one implying the most others
    (hc:BusinessCouncil rather than the hc:Association it implies)."""
    candidates = [c for c in set(types) if c in IMPLIED]
    if not candidates:
        return None
    return sorted(candidates, key=lambda c: (-len(IMPLIED[c]), c))[0]


@dataclass
class Node:
    """What the tables need of one subject: its objects by predicate."""

    values: dict[str, list] = field(default_factory=dict)

    def all(self, predicate: str) -> list:
        return self.values.get(predicate, [])

    def one(self, predicate: str) -> ox.NamedNode | ox.Literal | None:
        found = self.values.get(predicate)
        return found[0] if found else None

    def text(self, predicate: str) -> str:
        value = self.one(predicate)
        return value.value if value is not None else ""

    def ref(self, predicate: str) -> str:
        return _short(self.one(predicate))

    def types(self) -> set[str]:
        return {t.value for t in self.all(RDF_TYPE)}


def _short(node) -> str:
    """`https://w3id.org/healthcoop/id/x` -> `x`; empty for no value."""
    if node is None:
        return ""
    value = node.value
    if not value.startswith(HCID) or "#" in value:
        # the model only points these properties at entities; say so rather than write a
        # cell whose template would make another IRI
        raise InvalidData(f"the tables cannot name {value} by an id", issues=[Issue(
            "(mapping)", 0, "(tables)", f"{value} is not an entity IRI ({HCID}<id>).",
            "Report this: pipeline/publish/tables.py expects entity IRIs in reference columns.")])
    return value[len(HCID):]


def _group(triples: Iterable[ox.Triple]) -> dict[str, Node]:
    """One pass: every subject in the entity namespace, with its objects by predicate (in
    sorted order, so the rows do not depend on the order of the input)."""
    return _group_split((str(t.subject), t.predicate.value, t.object) for t in triples)


def _group_split(triples: Iterable[SplitTriple]) -> dict[str, Node]:
    """`_group` of (subject's N-Triples form, predicate IRI, object) triples: what the
    shards have at hand, without reading a pyoxigraph triple's parts (each read makes a
    new object)."""
    nodes: dict[str, Node] = {}
    entity = "<" + HCID
    for subject, predicate, obj in triples:
        if subject.startswith(entity):
            iri = subject[1:-1]
            node = nodes.get(iri)
            if node is None:
                node = nodes[iri] = Node()
            node.values.setdefault(predicate, []).append(obj)
    for node in nodes.values():
        for values in node.values.values():
            if len(values) > 1:  # (a key is computed even for a list of one)
                values.sort(key=str)
    return nodes


def _boolean(node: Node, predicate: str) -> str:
    value = node.one(predicate)
    return "true" if value is not None and value.value == "true" else ""


def _local(iri: str | None, namespace: str) -> str:
    return iri[len(namespace):] if iri and iri.startswith(namespace) else ""


def shard_rows(triples: Iterable[SplitTriple], labels: dict[str, str]
               ) -> dict[str, list[list[str]]]:
    """The rows of one shard, per table, sorted. In: every triple of the shard's subjects
    (an entity and its fragments are always in one shard), each as (subject's N-Triples
    form, predicate IRI, object), and the labels of the actors its entities point at
    (`labels`, IRI -> rdfs:label; those in the shard are read from it)."""
    return _rows(_group_split(triples), labels)


def _rows(nodes: dict[str, Node], labels: dict[str, str] | None = None
          ) -> dict[str, list[list[str]]]:
    labels = labels or {}
    rows: dict[str, list[list[str]]] = {t.name: [] for t in TABLES}
    for iri in sorted(nodes):
        if "#" in iri:
            continue
        node = nodes[iri]
        types = node.types()
        rid = iri[len(HCID):]
        cls = specific_class(types)
        if HC + "Person" in types or HC + "Organisation" in types:
            rows["actors"].append([
                rid, "person" if HC + "Person" in types else "organisation",
                _local(cls, HC), node.text(RDFS_LABEL), node.ref(HC + "country"),
                node.ref(ORG + "subOrganizationOf"), node.text(FOAF + "title"),
                _boolean(node, OWL + "deprecated"), node.ref(DCT + "isReplacedBy")])
        elif HC + "Agreement" in types:
            amount = nodes.get(iri + "#amount", Node())
            rows["agreements"].append([
                rid, _local(cls, HC), node.text(RDFS_LABEL), node.text(DCT + "title"),
                node.text(HC + "date"), node.text(HC + "duration"), node.text(HC + "purpose"),
                amount.text(SCHEMA + "value"), amount.text(SCHEMA + "currency"),
                amount.text(HC + "statedAs"), node.ref(HC + "signedAt"),
                " ".join(_short(p) for p in node.all(HC + "party")),
                _boolean(node, OWL + "deprecated"), node.ref(DCT + "isReplacedBy")])
            rows["agreement-parties"].extend(_links(rid, node, AGREEMENT_ROLES, nodes, labels))
        elif HC + "Event" in types:
            people = sorted({_short(a) for p in EVENT_ROLES for a in node.all(p)})
            rows["events"].append([
                rid, _local(cls, HC), node.text(RDFS_LABEL), node.text(DCT + "title"),
                node.text(SCHEMA + "startDate"), node.text(SCHEMA + "endDate"),
                " ".join(_short(p) for p in node.all(SCHEMA + "location")),
                node.ref(SCHEMA + "superEvent"), node.text(HC + "attendeeCount"),
                node.text(HC + "purpose"), " ".join(people),
                _boolean(node, OWL + "deprecated"), node.ref(DCT + "isReplacedBy")])
            rows["event-participants"].extend(_links(rid, node, EVENT_ROLES, nodes, labels))
        for annotation in node.all(HC + "evidence"):
            rows["statements"].extend(_statements(rid, node, annotation.value, nodes))
    for table in rows.values():
        table.sort()
    return rows


def _links(rid: str, node: Node, roles: dict[str, str], nodes: dict[str, Node],
           labels: dict[str, str]) -> Iterable[list[str]]:
    for predicate, role in roles.items():
        for actor in node.all(predicate):
            found = nodes.get(actor.value)
            label = found.text(RDFS_LABEL) if found else labels.get(actor.value, "")
            yield [rid, role, predicate, _short(actor), label]


def _statements(rid: str, node: Node, annotation: str, nodes: dict[str, Node]
                ) -> Iterable[list[str]]:
    ann = nodes.get(annotation, Node())
    key = annotation.rsplit("#evidence-", 1)[1]
    quote = nodes.get(annotation + "-quote", Node())
    position = nodes.get(annotation + "-position", Node())
    source = _short(ann.one(PROV_DERIVED))
    label = node.text(RDFS_LABEL)
    common = (quote.text(OA + "exact"), position.text(OA + "start"), position.text(OA + "end"))
    for predicate in ann.all(HC + "supportsProperty"):
        prop = predicate.value
        if prop == RDF_TYPE:
            cls = specific_class(node.types())
            values = [ox.NamedNode(cls)] if cls else []
        else:
            values = node.all(prop)
        for value in values or [None]:
            yield [rid, label, prop, *_value(value), source, *common, key]


def _value(value) -> tuple[str, str]:
    if value is None:
        return "", ""
    if isinstance(value, ox.NamedNode):
        return value.value, "IRI"
    if value.language:
        return value.value, "@" + value.language
    return value.value, value.datatype.value


# --- writing ---------------------------------------------------------------------------------

def csv_line(row: list[str]) -> bytes:
    """One row as the tables write it, in UTF-8: RFC 4180 quoting where needed, CRLF at the
    end (a quoted value may hold line breaks). The shards encode their rows with it, so the
    merge copies lines without decoding them.

    It writes what `csv.writer(lineterminator="\r\n")` (QUOTE_MINIMAL) writes, which
    tests/test_tables.py holds it to for any row: a value is quoted when it holds a comma, a
    double quote, CR or LF, its quotes doubled; a row of one empty value is `""`. The csv
    module walks every character through its state machine, three times the cost on rows
    of quotes (~270 characters; ten rows a record)."""
    if len(row) == 1 and row[0] == "":
        return b'""\r\n'
    cells = []
    for value in row:
        if '"' in value or "," in value or "\n" in value or "\r" in value:
            value = '"' + value.replace('"', '""') + '"'
        cells.append(value)
    return (",".join(cells) + "\r\n").encode("utf-8")


def _write_csv(path: Path, table: Table, lines: Iterable[bytes]) -> None:
    with path.open("wb") as out:
        out.write(csv_line([c.name for c in table.columns]))
        out.writelines(lines)


def _csvw_metadata(meta: DatasetMeta) -> dict:
    return {
        "@context": ["http://www.w3.org/ns/csvw", {"@language": "en"}],
        "dc:title": f"{meta.title}: tables (release {meta.version})",
        "dc:description": ("The dataset's actors, agreements, events and evidenced statements "
                           "as CSV; with this metadata a CSVW processor turns them into RDF "
                           "with the dataset's own IRIs and properties (a subset of the "
                           "dumps). " + INJECTION_NOTE),
        "dc:license": {"@id": meta.licence},
        "dc:publisher": meta.publisher_name,
        "dc:source": {"@id": describe.DATASET},
        "dialect": {"encoding": "utf-8", "header": True, "delimiter": ",", "quoteChar": "\"",
                    "doubleQuote": True, "lineTerminators": ["\r\n"], "trim": False,
                    "skipInitialSpace": False},
        "tables": [{
            "url": Path(t.path).name,
            "dc:title": t.title,
            "tableSchema": {
                "columns": [c.csvw() for c in t.columns],
                "aboutUrl": t.about_url,
                "primaryKey": list(t.primary_key),
                **({"foreignKeys": [{"columnReference": col, "reference": {
                    "resource": f"{other}.csv", "columnReference": key}}
                    for col, other, key in t.foreign_keys]} if t.foreign_keys else {}),
            },
        } for t in TABLES],
    }


def _datapackage(meta: DatasetMeta, files: dict[str, tuple[int, str]]) -> dict:
    licence = {"path": meta.licence, "title": meta.licence_name}
    if meta.licence_spdx:
        licence = {"name": meta.licence_spdx, **licence}
    return {
        "profile": "tabular-data-package",
        "name": meta.id,
        "title": meta.title,
        "description": (f"{' '.join(meta.description.split())} The tables of release "
                        f"{meta.version}; the RDF dumps hold the same and more. "
                        + INJECTION_NOTE),
        "version": meta.version,
        "homepage": meta.publisher_homepage,
        "keywords": list(meta.keywords),
        "licenses": [licence],
        "resources": [{
            "name": t.name,
            "title": t.title,
            "path": t.path,
            "profile": "tabular-data-resource",
            "format": "csv",
            "mediatype": "text/csv",
            "encoding": "utf-8",
            "bytes": files[t.path][0],
            "hash": "sha256:" + files[t.path][1],
            "dialect": {"delimiter": ",", "lineTerminator": "\r\n", "quoteChar": "\"",
                        "doubleQuote": True, "header": True, "skipInitialSpace": False},
            "schema": {
                "fields": [c.frictionless() for c in t.columns],
                "primaryKey": list(t.primary_key),
                "missingValues": [""],
                **({"foreignKeys": [{"fields": col, "reference": {
                    "resource": other, "fields": key}} for col, other, key in t.foreign_keys]}
                   if t.foreign_keys else {}),
            },
        } for t in TABLES],
    }


def _json_bytes(data: dict) -> bytes:
    return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def write_tables(triples: Iterable[ox.Triple], out_dir: Path, meta: DatasetMeta
                 ) -> list[describe.FileInfo]:
    """Write the CSV tables, their CSVW metadata and datapackage.json into `out_dir` (the
    release directory) from the release's data triples; return the files' descriptions."""
    rows = _rows(_group(triples))
    return write_table_rows(lambda name: map(csv_line, rows[name]), out_dir, meta)


def write_table_rows(lines_of: Callable[[str], Iterable[bytes]], out_dir: Path,
                     meta: DatasetMeta) -> list[describe.FileInfo]:
    """The tables from their rows (`lines_of(table name)`: the rows in order, each as its
    `csv_line`), streamed to the files, with their metadata; return the files'
    descriptions."""
    from pipeline.parallel import fork_map

    (out_dir / TABLES_DIR).mkdir(parents=True, exist_ok=True)
    # each table merged and written in a process of its own, on all cores
    infos = fork_map(_write_table, (out_dir, lines_of), TABLES)
    files = {info.path: (info.size, info.sha256) for info in infos}
    (out_dir / CSVW_METADATA).write_bytes(_json_bytes(_csvw_metadata(meta)))
    (out_dir / DATAPACKAGE).write_bytes(_json_bytes(_datapackage(meta, files)))
    return infos + [_info(out_dir, CSVW_METADATA), _info(out_dir, DATAPACKAGE)]


def _write_table(state: tuple, table: Table) -> describe.FileInfo:
    out_dir, lines_of = state
    _write_csv(out_dir / table.path, table, lines_of(table.name))
    return _info(out_dir, table.path)


def _info(out_dir: Path, rel: str) -> describe.FileInfo:
    """The description of one written file of the tables."""
    if rel == CSVW_METADATA:
        kwargs = dict(media="application/csvm+json", distributes=None, description=(
            "CSV on the Web (W3C CSVW) metadata of the tables: columns, datatypes and how "
            "each column maps to RDF."))
    elif rel == DATAPACKAGE:
        kwargs = dict(media="application/json", distributes=None, description=(
            "Frictionless Tabular Data Package of the tables (schemas, keys, licence)."))
    else:
        table = next(t for t in TABLES if t.path == rel)
        kwargs = dict(media="text/csv", distributes=describe.DATASET, description=(
            f"{table.title} (CSV; columns in tables/csv-metadata.json)."))
    media = kwargs.pop("media")
    return describe.FileInfo.of(out_dir / rel, rel, media, **kwargs)
