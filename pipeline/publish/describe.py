"""The dataset description (DCAT 3 + VoID): what a consumer downloaded, and what is in it.

In:  `data/dataset.yaml` (title, licence, version, issued date, previous version, ...), the
     data triples of the release, and the files of the release (sizes and checksums).
Out: `describe(...)` returns the description as pyoxigraph triples; the publish stage
     writes them into `void.ttl` and into the description graph of every dump.

Everything is derived from its inputs: the issued date and the version come from
`data/dataset.yaml`, never from the clock, so two builds give the same bytes. Every node is
an IRI (no blank nodes): the dataset is `https://w3id.org/healthcoop/dataset`, and the nodes
that belong to its description are fragments of it (`…/dataset#distribution-healthcoop-ttl`,
`…/dataset#partition-class-hc-Agreement`, `…/dataset#checksum-healthcoop-ttl`, ...).

The model (DCAT-AP 3, DCAT 3 and VoID together):

- `<dataset>` a `dcat:Dataset`, `void:Dataset`: title, description, publisher, contact point,
  keywords, themes, spatial and temporal coverage, language, access rights, licence, rights,
  `dcat:version`, `dct:issued`, `prov:wasDerivedFrom` and `dct:relation` each archived
  source (documents, not datasets: DCAT-AP gives `dct:source` the range `dcat:Dataset`),
  `dct:conformsTo` the ontology and the shapes (`dct:Standard`), the VoID statistics of the
  data (triples, entities, classes, properties, class and property partitions), example
  resources, the URI space and regex, `void:subset` per named graph, `dcat:distribution`
  per file, `rdfs:seeAlso` per example query, `dcat:hasCurrentVersion` the release.
- `<dataset/VERSION>`: this release, a `dcat:Dataset` too, with the same DCAT-AP properties,
  `dcat:isVersionOf <dataset>`, `dcat:previousVersion <dataset/PREVIOUS>` when there is one,
  and the release's files as its distributions.
- `<dataset#catalog>` a `dcat:Catalog` listing both; `#publisher` a `foaf:Agent`;
  `#contact-point` a `vcard:Kind` with a web page (never a personal e-mail or phone);
  `#temporal` a `dct:PeriodOfTime` from the earliest to the latest agreement or event date.
- Each file: licence, media type (`dct:MediaType`), format (EU file type,
  `dct:MediaTypeOrExtent`), compression, byte size, `spdx:checksum` (SHA-256, algorithm
  typed), download and access IRI `https://w3id.org/healthcoop/dataset/VERSION/FILE`.

Controlled-vocabulary IRIs (EU data themes, languages, access rights, file types; IANA
media types; SPDX) are typed with the class DCAT-AP expects, so a harvester that does not
load those vocabularies still validates the description (tests/test_dcat_ap.py).
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy
import pyoxigraph as ox
import xxhash

from pipeline.errors import InvalidData, IssueList
from pipeline.rdf import vocab
from pipeline.read.dataset_meta import DATASET_FILE, DatasetMeta, check_dataset_metadata

__all__ = ["DatasetMeta", "Description", "FileInfo", "check_dataset_metadata", "describe",
           "load_metadata"]
DATASET = vocab.DATASET  # https://w3id.org/healthcoop/dataset
DESCRIPTION_GRAPH = vocab.BASE + "graph/description"
ONTOLOGY_DEFAULT = vocab.BASE + "ontology"
SHAPES_DEFAULT = vocab.BASE + "shapes"
# entity IRIs (the URI policy in README.md); fragments `#...` are nodes of one entity
URI_REGEX = r"^https://w3id\.org/healthcoop/id/[a-z][a-z0-9]*(-[a-z0-9]+)*(#[A-Za-z0-9-]+)?$"

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
XSD = "http://www.w3.org/2001/XMLSchema#"
OWL = "http://www.w3.org/2002/07/owl#"
DCT = "http://purl.org/dc/terms/"
DCAT = str(vocab.DCAT)
VOID = "http://rdfs.org/ns/void#"
SPDX = str(vocab.SPDX)
FOAF = "http://xmlns.com/foaf/0.1/"
SD = "http://www.w3.org/ns/sparql-service-description#"
SCHEMA = str(vocab.SCHEMA)
PROV = "http://www.w3.org/ns/prov#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
VCARD = "http://www.w3.org/2006/vcard/ns#"
FORMATS = "http://www.w3.org/ns/formats/"
IANA = "https://www.iana.org/assignments/media-types/"

# the prefixes the description uses beyond vocab.PREFIXES (Turtle writers)
EXTRA_PREFIXES = {"hcds": DATASET + "#", "sd": SD, "vcard": VCARD}


def _n(iri: str) -> ox.NamedNode:
    return ox.NamedNode(iri)


def _int(value: int, datatype: str = XSD + "integer") -> ox.Literal:
    return ox.Literal(str(value), datatype=_n(datatype))


def _en(text: str) -> ox.Literal:
    return ox.Literal(text, language="en")


def load_metadata(root: Path) -> DatasetMeta:
    """Read and check `data/dataset.yaml` (`dataset_meta.check_dataset_metadata`); raise
    InvalidData with the located issues when it is not valid, so that no build can write a
    description from garbage."""
    issues = IssueList()
    meta = check_dataset_metadata(Path(root), issues)
    rel = DATASET_FILE.as_posix()
    if meta is None or issues.errors:
        raise InvalidData(f"{rel} is not valid: the dataset description cannot be written.",
                          issues=issues.errors,
                          fix=f"Correct the fields named above in {rel}.")
    return meta


@dataclass(frozen=True)
class FileInfo:
    """One file of the release, as the description lists it."""

    path: str            # relative to the release directory, with / separators
    media_type: str      # IANA media type of the (uncompressed) content
    size: int | None     # None: not stated (the file embeds the description itself)
    sha256: str | None
    title: str = ""
    format: str | None = None          # a W3C format IRI (http://www.w3.org/ns/formats/...)
    compressed: bool = False           # gzip
    data_dump: bool = False            # a dump of the data (void:dataDump)
    description: str = ""
    # the resource this file is a dcat:distribution of (the dataset, the ontology, the
    # shapes); None: linked from the dataset with rdfs:seeAlso (context, example queries)
    distributes: str | None = DATASET

    def unstated(self) -> FileInfo:
        """The same entry without size and checksum (for the description a file embeds)."""
        return replace(self, size=None, sha256=None)

    @staticmethod
    def of(path: Path, rel: str, media_type: str, **kwargs) -> FileInfo:
        return FileInfo(rel, media_type, path.stat().st_size, sha256_file(path), **kwargs)


def sha256_file(path: Path) -> str:
    """The file's SHA-256, read in chunks (a dump or table may be gigabytes)."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass
class Description:
    """What `describe` needs besides the metadata."""

    meta: DatasetMeta
    triples: list[ox.Triple] | DataStats     # the data (no description), or its statistics
    graph_sizes: dict[str, int]              # source graph IRI -> triple count
    sources: list[str]                       # source ids
    files: list[FileInfo] = field(default_factory=list)
    conforms_to: list[str] = field(default_factory=lambda: [ONTOLOGY_DEFAULT, SHAPES_DEFAULT])


def slug(text: str) -> str:
    """A fragment-safe name: letters, digits and single hyphens."""
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-")


def compact(iri: str) -> str:
    """`hc-Agreement` style name for partition IRIs (longest matching prefix); a hash of the
    IRI when no prefix gives a simple local name."""
    for prefix, ns in sorted(vocab.PREFIXES.items(), key=lambda kv: -len(kv[1])):
        local = iri[len(ns):]
        if iri.startswith(ns) and re.fullmatch(r"[A-Za-z0-9_-]+", local):
            return f"{prefix}-{local}"
    return "iri-" + hashlib.sha256(iri.encode()).hexdigest()[:12]


def version_iri(version: str) -> str:
    return f"{DATASET}/{version}"


def download_iri(version: str, rel: str) -> str:
    return f"{version_iri(version)}/{rel}"


def describe(d: Description) -> list[ox.Triple]:
    """The description of the dataset, as triples (unsorted; the writer sorts)."""
    m = d.meta
    ds = _n(DATASET)
    this = _n(version_iri(m.version))
    out: list[ox.Triple] = []

    def add(s: ox.NamedNode, p: str, o) -> None:
        out.append(ox.Triple(s, _n(p), o))

    # what it is: the dataset (all releases) and this release, both DCAT-AP datasets
    for cls in (DCAT + "Dataset", VOID + "Dataset"):
        add(ds, RDF + "type", _n(cls))
    add(ds, DCT + "identifier", ox.Literal(m.id))
    add(ds, DCT + "title", _en(m.title))
    add(ds, RDFS + "label", _en(m.title))
    add(this, RDF + "type", _n(DCAT + "Dataset"))
    add(this, DCT + "identifier", ox.Literal(f"{m.id} {m.version}"))
    add(this, DCT + "title", _en(f"{m.title}, release {m.version}"))
    description = " ".join(m.description.split())
    add(ds, DCT + "description", _en(description))
    add(this, DCT + "description", _en(f"Release {m.version} of {m.title}. {description}"))
    stats = d.triples if isinstance(d.triples, DataStats) else DataStats.of(d.triples, m.uri_space)
    period = stats.period()
    out.extend(_dcat_ap_common(ds, m, period))
    out.extend(_dcat_ap_common(this, m, period))
    add(ds, DCAT + "landingPage", _n(m.publisher_homepage))
    add(_n(m.publisher_homepage), RDF + "type", _n(FOAF + "Document"))
    # who and under which terms
    publisher = _n(DATASET + "#publisher")
    add(publisher, RDF + "type", _n(FOAF + "Agent"))
    add(publisher, RDF + "type", _n(FOAF + "Organization"))
    add(publisher, FOAF + "name", _en(m.publisher_name))
    add(publisher, FOAF + "homepage", _n(m.publisher_homepage))
    if m.publisher_type:
        add(publisher, DCT + "type", _n(m.publisher_type))
    contact = _n(DATASET + "#contact-point")
    add(contact, RDF + "type", _n(VCARD + "Kind"))
    add(contact, VCARD + "fn", _en(m.contact_name))
    add(contact, VCARD + "hasURL", _n(m.contact_url))
    add(ds, DCT + "license", _n(m.licence))
    add(_n(m.licence), RDF + "type", _n(DCT + "LicenseDocument"))
    add(_n(m.licence), RDFS + "label", _en(m.licence_name))
    rights = _n(DATASET + "#rights")
    add(ds, DCT + "rights", rights)
    add(rights, RDF + "type", _n(DCT + "RightsStatement"))
    add(rights, RDFS + "label", _en(" ".join(m.rights.split())))
    # which release
    date = ox.Literal(m.issued, datatype=_n(XSD + "date"))
    add(ds, DCAT + "version", ox.Literal(m.version))
    add(ds, OWL + "versionInfo", ox.Literal(m.version))
    add(ds, DCT + "issued", date)
    add(ds, DCT + "modified", date)
    add(ds, DCAT + "hasCurrentVersion", this)
    add(ds, DCAT + "hasVersion", this)
    add(this, DCAT + "isVersionOf", ds)
    add(this, DCAT + "version", ox.Literal(m.version))
    add(this, DCT + "issued", date)
    if m.previous_version:
        previous = _n(version_iri(m.previous_version))
        add(this, DCAT + "previousVersion", previous)
        add(ds, DCAT + "previousVersion", previous)
        add(previous, DCAT + "version", ox.Literal(m.previous_version))
        add(previous, DCAT + "isVersionOf", ds)
    # where it comes from: the archived sources are documents (hc:Source, prov:Entity), not
    # datasets, so they are related with PROV and dct:relation, not dct:source (whose range
    # DCAT-AP 3 gives as dcat:Dataset)
    for source in sorted(d.sources):
        for node in (ds, this):
            add(node, PROV + "wasDerivedFrom", _n(str(vocab.HCID) + source))
            add(node, DCT + "relation", _n(str(vocab.HCID) + source))
    # what it conforms to (DCAT-AP: a dct:Standard)
    for iri in sorted(set(d.conforms_to)):
        add(ds, DCT + "conformsTo", _n(iri))
        add(_n(iri), RDF + "type", _n(DCT + "Standard"))
    add(ds, VOID + "uriSpace", ox.Literal(m.uri_space))
    add(ds, VOID + "uriRegexPattern", ox.Literal(URI_REGEX))
    out.extend(_catalog(ds, this, m))
    out.extend(_statistics(ds, stats))
    out.extend(_subsets(ds, d.graph_sizes, set(d.sources)))
    out.extend(_files(ds, this, d.files, m))
    return out


# the title of the EU data-theme vocabulary (dcat:themeTaxonomy; DCAT-AP requires a title)
DATA_THEME_SCHEME = "http://publications.europa.eu/resource/authority/data-theme"
DATA_THEME_TITLE = "Data theme"
DATE_PROPERTIES = (str(vocab.HC) + "date", SCHEMA + "startDate", SCHEMA + "endDate")
# classes whose first current instance (by IRI) is a void:exampleResource, in this order
EXAMPLE_CLASSES = tuple(str(vocab.HC) + c
                        for c in ("Agreement", "Event", "Person", "Organisation", "Source"))


def _dcat_ap_common(node: ox.NamedNode, m: DatasetMeta,
                    period: tuple[ox.Literal, ox.Literal] | None) -> Iterable[ox.Triple]:
    """What DCAT-AP 3 recommends for a dataset, for the dataset and for the release alike:
    publisher, contact point, keywords, themes, spatial and temporal coverage, language,
    access rights."""
    def add(s, p, o):
        return ox.Triple(s, _n(p), o)

    yield add(node, DCT + "publisher", _n(DATASET + "#publisher"))
    yield add(node, DCAT + "contactPoint", _n(DATASET + "#contact-point"))
    for keyword in m.keywords:
        yield add(node, DCAT + "keyword", _en(keyword))
    for iri, label in m.themes:
        yield add(node, DCAT + "theme", _n(iri))
        yield add(_n(iri), RDF + "type", _n(SKOS + "Concept"))
        yield add(_n(iri), SKOS + "prefLabel", _en(label))
        yield add(_n(iri), SKOS + "inScheme", _n(DATA_THEME_SCHEME))
    for place in m.spatial:
        yield add(node, DCT + "spatial", _n(place))
        yield add(_n(place), RDF + "type", _n(DCT + "Location"))
    if period:
        temporal = _n(DATASET + "#temporal")
        yield add(node, DCT + "temporal", temporal)
        yield add(temporal, RDF + "type", _n(DCT + "PeriodOfTime"))
        yield add(temporal, DCAT + "startDate", period[0])
        yield add(temporal, DCAT + "endDate", period[1])
    language = _n(m.language_iri)
    yield add(node, DCT + "language", language)
    yield add(language, RDF + "type", _n(DCT + "LinguisticSystem"))
    if m.access_rights:
        yield add(node, DCT + "accessRights", _n(m.access_rights))
        yield add(_n(m.access_rights), RDF + "type", _n(DCT + "RightsStatement"))


# a date literal in N-Triples: digits and dashes need no escaping
_DATE_LITERAL = re.compile(r'"((\d{4})(?:-(\d{2})(?:-(\d{2}))?)?)"\^\^<(' + re.escape(XSD)
                           + r'(?:date|gYearMonth|gYear))>')


def _date_bounds(text: str) -> tuple[tuple, tuple, str, str] | None:
    """(earliest day, latest day, lexical form, datatype IRI) of a literal in its N-Triples
    form, if it is an xsd:date, xsd:gYearMonth or xsd:gYear."""
    m = _DATE_LITERAL.fullmatch(text)
    if not m:
        return None
    lexical, year, month, day, datatype = m.groups()
    year = int(year)
    low = (year, int(month or 1), int(day or 1))
    high = (year, int(month or 12), int(day or 31))
    return low, high, lexical, datatype


def _node_value(text: str) -> str:
    """An IRI's (or blank node's) value from its N-Triples form."""
    return text[1:-1] if text.startswith("<") else text[2:]


def _digests(terms) -> numpy.ndarray:
    """The distinct stable 64-bit digests (XXH3) of terms' N-Triples forms, sorted: the same
    in every process, unlike hash(), so distinct subjects and objects are counted as arrays
    of these (8 bytes a term; a Python set of ints took about 60) and the statistics of
    shards merge without holding the terms. A collision among 10^7 terms has a probability
    of about 3 in a million."""
    return _distinct(numpy.fromiter(
        (xxhash.xxh3_64_intdigest(str(term).encode()) for term in terms), dtype=numpy.uint64))


def _distinct(values: numpy.ndarray) -> numpy.ndarray:
    """The distinct values, sorted. (numpy.unique is hash-based since numpy 2.3 and took
    2.3 s for the 3M digests of 100k records' shards; a sort and a comparison take 0.04 s.)"""
    values = numpy.sort(values)
    return values[numpy.concatenate(([True], values[1:] != values[:-1]))] if len(values) else values


def _union(parts: list) -> list:
    """The digest arrays `parts` as one array of distinct digests (in a list)."""
    return [_distinct(numpy.concatenate(parts))] if len(parts) > 1 else parts


@dataclass
class DataStats:
    """What the description says about the data, gathered piece by piece and merged: VoID
    counts and partitions, example resources and the period the data covers.

    Every subject's triples are in one piece (pipeline/shards/), so per-class instance
    counts add up; distinct subjects and objects are merged as sets of digests."""

    uri_space: str
    triples: int = 0
    subjects: list = field(default_factory=list)  # arrays of distinct digests (_digests)
    objects: list = field(default_factory=list)
    entities: int = 0
    instances: Counter = field(default_factory=Counter)      # class IRI -> subjects
    property_triples: Counter = field(default_factory=Counter)
    examples: dict = field(default_factory=dict)             # central class -> least IRI
    start: tuple | None = None   # ((y, m, d), lexical form, _date_bounds of the literal)
    end: tuple | None = None

    @classmethod
    def of(cls, triples, uri_space: str) -> DataStats:
        stats = cls(uri_space)
        stats.add(triples)
        return stats

    def add(self, triples) -> None:
        """Count the triples (pyoxigraph) of one piece (all triples of each of its
        subjects)."""
        self.add_texts([(str(t.subject), str(t.predicate), str(t.object)) for t in triples])

    def add_texts(self, triples) -> None:
        """Count the triples of one piece given as the N-Triples forms of their terms
        ((subject, predicate, object) strings, as pyoxigraph's str() writes them): the
        shards have them at hand (their sort keys), and reading a pyoxigraph term's parts
        makes new objects every time."""
        type_text, deprecated_text = f"<{RDF}type>", f"<{OWL}deprecated>"
        dates = {f"<{p}>" for p in DATE_PROPERTIES}
        entity_start = f"<{self.uri_space}"
        subjects = {s for s, _p, _o in triples}
        self.triples += len(triples)
        self.subjects = [*self.subjects, _digests(subjects)]
        self.objects = [*self.objects, _digests(o for _s, _p, o in triples)]
        self.entities += sum(1 for s in subjects if s.startswith(entity_start))
        deprecated = {s for s, p, _o in triples if p == deprecated_text}
        members: dict[str, set] = {}
        for p, count in Counter(p for _s, p, _o in triples).items():
            self.property_triples[p[1:-1]] += count
        for s, p, o in triples:
            if p == type_text:
                if o.startswith("<"):
                    members.setdefault(o[1:-1], set()).add(s)
            elif p in dates:
                found = _date_bounds(o)
                if found:
                    low, high = (found[0], found[2], found), (found[1], found[2], found)
                    if self.start is None or low[:2] < self.start[:2]:
                        self.start = low
                    if self.end is None or high[:2] > self.end[:2]:
                        self.end = high
        for cls_iri, nodes in members.items():
            self.instances[cls_iri] += len(nodes)
            if cls_iri in EXAMPLE_CLASSES:
                current = sorted(_node_value(n) for n in nodes if n not in deprecated)
                if current and (cls_iri not in self.examples
                                or current[0] < self.examples[cls_iri]):
                    self.examples[cls_iri] = current[0]

    def merge(self, other: DataStats) -> None:
        self.triples += other.triples
        # (joined when counted: the shards' arrays take 8 bytes a digest until then)
        self.subjects = self.subjects + other.subjects
        self.objects = self.objects + other.objects
        self.entities += other.entities
        self.instances.update(other.instances)
        self.property_triples.update(other.property_triples)
        for cls_iri, iri in other.examples.items():
            if cls_iri not in self.examples or iri < self.examples[cls_iri]:
                self.examples[cls_iri] = iri
        if other.start is not None and (self.start is None or other.start[:2] < self.start[:2]):
            self.start = other.start
        if other.end is not None and (self.end is None or other.end[:2] > self.end[:2]):
            self.end = other.end

    def distinct_subjects(self) -> int:
        self.subjects = _union(self.subjects)
        return sum(len(part) for part in self.subjects)

    def distinct_objects(self) -> int:
        self.objects = _union(self.objects)
        return sum(len(part) for part in self.objects)

    def period(self) -> tuple[ox.Literal, ox.Literal] | None:
        """The period the data covers: the earliest and the latest date of an agreement or
        an event (`hc:date`, `schema:startDate`, `schema:endDate`), each as precise as
        recorded. A year counts from its first day for the start and to its last day for
        the end."""
        if self.start is None or self.end is None:
            return None
        return tuple(ox.Literal(found[2], datatype=ox.NamedNode(found[3]))
                     for found in (self.start[2], self.end[2]))


def _catalog(ds: ox.NamedNode, this: ox.NamedNode, m: DatasetMeta) -> Iterable[ox.Triple]:
    """A dcat:Catalog listing the dataset and this release (DCAT-AP describes datasets as
    members of a catalogue): title, description, publisher, homepage, language, licence,
    dates, theme taxonomy, spatial coverage."""
    def add(s, p, o):
        return ox.Triple(s, _n(p), o)

    catalog = _n(DATASET + "#catalog")
    date = ox.Literal(m.issued, datatype=_n(XSD + "date"))
    yield add(catalog, RDF + "type", _n(DCAT + "Catalog"))
    yield add(catalog, DCT + "title", _en(f"{m.title}: catalogue"))
    yield add(catalog, DCT + "description",
              _en(f"The dataset {m.title!s} and its release {m.version}."))
    yield add(catalog, DCT + "publisher", _n(DATASET + "#publisher"))
    yield add(catalog, FOAF + "homepage", _n(m.publisher_homepage))
    yield add(catalog, DCAT + "dataset", ds)
    yield add(catalog, DCAT + "dataset", this)
    yield add(catalog, DCT + "language", _n(m.language_iri))
    yield add(catalog, DCT + "license", _n(m.licence))
    yield add(catalog, DCT + "issued", date)
    yield add(catalog, DCT + "modified", date)
    for place in m.spatial:
        yield add(catalog, DCT + "spatial", _n(place))
    if m.themes:
        scheme = _n(DATA_THEME_SCHEME)
        yield add(catalog, DCAT + "themeTaxonomy", scheme)
        yield add(scheme, RDF + "type", _n(SKOS + "ConceptScheme"))
        yield add(scheme, DCT + "title", _en(DATA_THEME_TITLE))


def _statistics(ds: ox.NamedNode, stats: DataStats) -> Iterable[ox.Triple]:
    """VoID statistics of the data triples."""
    def add(s, p, o):
        return ox.Triple(s, _n(p), o)

    yield add(ds, VOID + "triples", _int(stats.triples))
    yield add(ds, VOID + "entities", _int(stats.entities))
    yield add(ds, VOID + "distinctSubjects", _int(stats.distinct_subjects()))
    yield add(ds, VOID + "distinctObjects", _int(stats.distinct_objects()))
    yield add(ds, VOID + "classes", _int(len(stats.instances)))
    yield add(ds, VOID + "properties", _int(len(stats.property_triples)))
    namespaces = set()
    for iri in list(stats.instances) + list(stats.property_triples):
        for ns in vocab.PREFIXES.values():
            if iri.startswith(ns):
                namespaces.add(ns)
    for ns in sorted(namespaces):
        yield add(ds, VOID + "vocabulary", _n(ns))
    for cls, count in sorted(stats.instances.items()):
        part = _n(f"{DATASET}#partition-class-{compact(cls)}")
        yield add(ds, VOID + "classPartition", part)
        yield add(part, RDF + "type", _n(VOID + "Dataset"))
        yield add(part, VOID + "class", _n(cls))
        yield add(part, VOID + "entities", _int(count))
    for prop, count in sorted(stats.property_triples.items()):
        part = _n(f"{DATASET}#partition-property-{compact(prop)}")
        yield add(ds, VOID + "propertyPartition", part)
        yield add(part, RDF + "type", _n(VOID + "Dataset"))
        yield add(part, VOID + "property", _n(prop))
        yield add(part, VOID + "triples", _int(count))
    # example resources: the first (by IRI) current instance of a few central classes
    for cls in EXAMPLE_CLASSES:
        if cls in stats.examples:
            yield add(ds, VOID + "exampleResource", _n(stats.examples[cls]))


# named graphs that derive from no one source (pipeline/build.py, `reference_graphs`)
REFERENCE_GRAPHS = {
    "links": "Accepted links of actors to Wikidata and ROR, each with its reference, "
             "reviewer and date (data/links.yaml; every decision is in links.sssom.tsv).",
    "topics": "The topic concept scheme (SKOS), as in ontology/topics.ttl, so that topic "
              "labels come with the data.",
    "wikidata-labels": "English and Chinese labels of linked actors, copied from Wikidata "
                       "(CC0) by `healthcoop link --enrich`; not from our sources.",
    "unsourced": "Entities that no source cites and nothing refers to.",
}


def _subsets(ds: ox.NamedNode, graph_sizes: dict[str, int],
             sources: set[str]) -> Iterable[ox.Triple]:
    """One void:subset per named graph of the N-Quads and TriG dumps: each source's graph
    (`dct:source` the source), the reference graphs (described) and the description."""
    for graph, size in sorted(graph_sizes.items()):
        name = graph.rsplit("/", 1)[-1]
        subset = _n(f"{DATASET}#graph-{slug(name)}")
        yield ox.Triple(ds, _n(VOID + "subset"), subset)
        yield ox.Triple(subset, _n(RDF + "type"), _n(VOID + "Dataset"))
        yield ox.Triple(subset, _n(RDF + "type"), _n(SD + "NamedGraph"))
        yield ox.Triple(subset, _n(SD + "name"), _n(graph))
        yield ox.Triple(subset, _n(VOID + "triples"), _int(size))
        if name in sources:
            yield ox.Triple(subset, _n(DCT + "source"), _n(str(vocab.HCID) + name))
        elif name in REFERENCE_GRAPHS:
            yield ox.Triple(subset, _n(DCT + "description"), _en(REFERENCE_GRAPHS[name]))


# media type -> format in the EU file-type vocabulary (DCAT-AP: dct:format, a
# dct:MediaTypeOrExtent from http://publications.europa.eu/resource/authority/file-type)
FILE_TYPE = "http://publications.europa.eu/resource/authority/file-type/"
FILE_TYPES = {
    "text/turtle": "RDF_TURTLE", "application/n-triples": "RDF_N_TRIPLES",
    "application/ld+json": "JSON_LD", "application/n-quads": "RDF_N_QUADS",
    "application/trig": "RDF_TRIG", "application/sparql-query": "SPARQLQ",
    "text/csv": "CSV", "application/csvm+json": "JSON", "application/json": "JSON",
    "application/sarif+json": "JSON", "text/html": "HTML", "text/plain": "TXT",
    "text/tab-separated-values": "TSV",
}


def _files(ds: ox.NamedNode, this: ox.NamedNode, files: list[FileInfo], m: DatasetMeta
           ) -> Iterable[ox.Triple]:
    """A dcat:Distribution per file: title, description, access and download URL, licence,
    media type (a dct:MediaType), format (EU file type), compression, byte size and
    checksum when stated. The files that distribute the dataset are distributions of this
    release too."""
    def add(s, p, o):
        return ox.Triple(s, _n(p), o)

    for info in files:
        node = _n(f"{DATASET}#distribution-{slug(info.path)}")
        url = _n(download_iri(m.version, info.path))
        if info.distributes is None:
            yield add(ds, RDFS + "seeAlso", node)
        else:
            yield add(_n(info.distributes), DCAT + "distribution", node)
            if info.distributes == DATASET:
                yield add(this, DCAT + "distribution", node)
        yield add(node, RDF + "type", _n(DCAT + "Distribution"))
        if info.path.startswith("queries/"):
            yield add(node, RDF + "type", _n(SCHEMA + "SoftwareSourceCode"))
            yield add(node, SCHEMA + "programmingLanguage", ox.Literal("SPARQL"))
        yield add(node, DCT + "title", ox.Literal(info.path))
        yield add(node, DCT + "description",
                  _en(info.description or f"The file {info.path} of the release."))
        yield add(node, DCAT + "downloadURL", url)
        yield add(node, DCAT + "accessURL", url)
        yield add(node, DCT + "license", _n(m.licence))
        media = _n(IANA + info.media_type)
        yield add(node, DCAT + "mediaType", media)
        yield add(media, RDF + "type", _n(DCT + "MediaType"))
        file_type = FILE_TYPES.get(info.media_type)
        if file_type:
            yield add(node, DCT + "format", _n(FILE_TYPE + file_type))
            yield add(_n(FILE_TYPE + file_type), RDF + "type", _n(DCT + "MediaTypeOrExtent"))
        if info.compressed:
            gzip = _n(IANA + "application/gzip")
            yield add(node, DCAT + "compressFormat", gzip)
            yield add(gzip, RDF + "type", _n(DCT + "MediaType"))
        if info.data_dump:
            yield add(ds, VOID + "dataDump", url)
        if info.size is not None:
            yield add(node, DCAT + "byteSize", _int(info.size, XSD + "nonNegativeInteger"))
        if info.sha256:
            checksum = _n(f"{DATASET}#checksum-{slug(info.path)}")
            algorithm = _n(SPDX + "checksumAlgorithm_sha256")
            yield add(node, SPDX + "checksum", checksum)
            yield add(checksum, RDF + "type", _n(SPDX + "Checksum"))
            yield add(checksum, SPDX + "algorithm", algorithm)
            yield add(algorithm, RDF + "type", _n(SPDX + "ChecksumAlgorithm"))
            yield add(checksum, SPDX + "checksumValue",
                      ox.Literal(info.sha256, datatype=_n(XSD + "hexBinary")))
