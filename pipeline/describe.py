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

The model:

- `<dataset>` a `dcat:Dataset`, `void:Dataset`: title, description, publisher, licence,
  rights, keywords, language, `dcat:version`, `dct:issued`, `dct:source` (each archived
  source), `dct:conformsTo` (the ontology and the shapes), the VoID statistics of the data
  (triples, entities, classes, properties, class and property partitions), example
  resources, the URI space and regex, `void:subset` per source graph, `dcat:distribution`
  per file, `rdfs:seeAlso` per example query, and `dcat:hasCurrentVersion` the version node.
- `<dataset/VERSION>`: this release as a version: `dcat:version`, `dct:issued`,
  `dcat:isVersionOf <dataset>`, `dcat:previousVersion <dataset/PREVIOUS>` when there is one.
- Each file: media type, format, byte size, `spdx:checksum` (SHA-256), download IRI
  `https://w3id.org/healthcoop/dataset/VERSION/FILE`.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

import pyoxigraph as ox

from . import vocab
from .errors import InvalidData, IssueList
from .yamlfile import load_yaml

DATASET_FILE = Path("data/dataset.yaml")
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
FORMATS = "http://www.w3.org/ns/formats/"
IANA = "https://www.iana.org/assignments/media-types/"

# the prefixes the description uses beyond vocab.PREFIXES (Turtle writers)
EXTRA_PREFIXES = {"hcds": DATASET + "#", "sd": SD}


def _n(iri: str) -> ox.NamedNode:
    return ox.NamedNode(iri)


def _int(value: int, datatype: str = XSD + "integer") -> ox.Literal:
    return ox.Literal(str(value), datatype=_n(datatype))


def _en(text: str) -> ox.Literal:
    return ox.Literal(text, language="en")


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


_VERSION = re.compile(r"^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def load_metadata(root: Path) -> DatasetMeta:
    """Read and check `data/dataset.yaml`; raise InvalidData with located issues."""
    issues = IssueList()
    rel = DATASET_FILE.as_posix()
    doc = load_yaml(root / DATASET_FILE, root, issues)
    if doc is None:
        raise InvalidData(f"cannot read {rel}", issues=issues.items,
                          fix=f"Restore {rel} from version control.")
    data = doc.data if isinstance(doc.data, dict) else {}
    publisher = data.get("publisher") if isinstance(data.get("publisher"), dict) else {}

    def need(value, key: str, pattern: re.Pattern | None = None, hint: str = "") -> str:
        if not isinstance(value, str) or not value.strip():
            issues.add(rel, doc.line((key,)), key, f"`{key}` is missing or empty.",
                       f"Set `{key}` in {rel}.")
            return ""
        if pattern and not pattern.match(value):
            issues.add(rel, doc.line((key,)), key, f"`{key}` is {value!r}: {hint}",
                       f"Fix `{key}` in {rel}.")
        return value.strip()

    previous = data.get("previous_version")
    if previous is not None:
        previous = need(previous, "previous_version", _VERSION,
                        "not a version number like 0.1.0.") or None
    keywords = data.get("keywords") or []
    meta = DatasetMeta(
        id=need(data.get("id"), "id"),
        title=need(data.get("title"), "title"),
        description=need(data.get("description"), "description"),
        version=need(data.get("version"), "version", _VERSION,
                     "not a version number like 0.1.0."),
        issued=need(data.get("issued"), "issued", _DATE, "not a date YYYY-MM-DD."),
        publisher_name=need(publisher.get("name"), "publisher.name"),
        publisher_homepage=need(publisher.get("homepage"), "publisher.homepage"),
        licence=need(data.get("licence"), "licence"),
        licence_name=need(data.get("licence_name"), "licence_name"),
        rights=need(data.get("rights"), "rights"),
        uri_space=need(data.get("uri_space"), "uri_space"),
        language=need(data.get("language"), "language"),
        keywords=tuple(k for k in keywords if isinstance(k, str)),
        previous_version=previous,
    )
    if meta.previous_version and meta.previous_version == meta.version:
        issues.add(rel, doc.line(("previous_version",)), "previous_version",
                   "`previous_version` equals `version`.",
                   "Bump `version` for the new release, or set previous_version: null.")
    if issues.errors:
        raise InvalidData(f"{rel} is not valid: the dataset description cannot be written.",
                          issues=issues.errors)
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
        data = path.read_bytes()
        return FileInfo(rel, media_type, len(data), hashlib.sha256(data).hexdigest(), **kwargs)


@dataclass
class Description:
    """What `describe` needs besides the metadata."""

    meta: DatasetMeta
    triples: list[ox.Triple]                 # the data (no description)
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
    out: list[ox.Triple] = []

    def add(s: ox.NamedNode, p: str, o) -> None:
        out.append(ox.Triple(s, _n(p), o))

    # what it is
    for cls in (DCAT + "Dataset", VOID + "Dataset"):
        add(ds, RDF + "type", _n(cls))
    add(ds, DCT + "identifier", ox.Literal(m.id))
    add(ds, DCT + "title", _en(m.title))
    add(ds, RDFS + "label", _en(m.title))
    add(ds, DCT + "description", _en(" ".join(m.description.split())))
    for keyword in m.keywords:
        add(ds, DCAT + "keyword", _en(keyword))
    add(ds, DCT + "language", _n(f"http://id.loc.gov/vocabulary/iso639-1/{m.language}"))
    add(ds, DCAT + "landingPage", _n(m.publisher_homepage))
    # who and under which terms
    publisher = _n(DATASET + "#publisher")
    add(ds, DCT + "publisher", publisher)
    add(publisher, RDF + "type", _n(FOAF + "Organization"))
    add(publisher, FOAF + "name", _en(m.publisher_name))
    add(publisher, FOAF + "homepage", _n(m.publisher_homepage))
    add(ds, DCT + "license", _n(m.licence))
    add(_n(m.licence), RDFS + "label", _en(m.licence_name))
    add(ds, DCT + "rights", _en(" ".join(m.rights.split())))
    # which release
    date = ox.Literal(m.issued, datatype=_n(XSD + "date"))
    add(ds, DCAT + "version", ox.Literal(m.version))
    add(ds, OWL + "versionInfo", ox.Literal(m.version))
    add(ds, DCT + "issued", date)
    add(ds, DCT + "modified", date)
    this = _n(version_iri(m.version))
    add(ds, DCAT + "hasCurrentVersion", this)
    add(ds, DCAT + "hasVersion", this)
    add(this, RDF + "type", _n(DCAT + "Dataset"))
    add(this, DCAT + "isVersionOf", ds)
    add(this, DCAT + "version", ox.Literal(m.version))
    add(this, DCT + "issued", date)
    add(this, DCT + "title", _en(f"{m.title}, release {m.version}"))
    if m.previous_version:
        previous = _n(version_iri(m.previous_version))
        add(this, DCAT + "previousVersion", previous)
        add(ds, DCAT + "previousVersion", previous)
        add(previous, DCAT + "version", ox.Literal(m.previous_version))
        add(previous, DCAT + "isVersionOf", ds)
    # where it comes from, what it conforms to
    for source in sorted(d.sources):
        add(ds, DCT + "source", _n(str(vocab.HCID) + source))
        add(ds, PROV + "wasDerivedFrom", _n(str(vocab.HCID) + source))
    for iri in sorted(set(d.conforms_to)):
        add(ds, DCT + "conformsTo", _n(iri))
    add(ds, VOID + "uriSpace", ox.Literal(m.uri_space))
    add(ds, VOID + "uriRegexPattern", ox.Literal(URI_REGEX))
    out.extend(_statistics(ds, d.triples, m.uri_space))
    out.extend(_subsets(ds, d.graph_sizes, set(d.sources)))
    out.extend(_files(ds, d.files, m.version))
    return out


def _statistics(ds: ox.NamedNode, triples: list[ox.Triple], uri_space: str
                ) -> Iterable[ox.Triple]:
    """VoID statistics of the data triples."""
    rdf_type = RDF + "type"
    subjects = {t.subject for t in triples}
    objects = {t.object for t in triples}
    entities = {s for s in subjects if isinstance(s, ox.NamedNode)
                and s.value.startswith(uri_space)}
    instances: dict[str, set] = {}
    property_triples: Counter[str] = Counter()
    for t in triples:
        property_triples[t.predicate.value] += 1
        if t.predicate.value == rdf_type and isinstance(t.object, ox.NamedNode):
            instances.setdefault(t.object.value, set()).add(t.subject)

    def add(s, p, o):
        return ox.Triple(s, _n(p), o)

    yield add(ds, VOID + "triples", _int(len(triples)))
    yield add(ds, VOID + "entities", _int(len(entities)))
    yield add(ds, VOID + "distinctSubjects", _int(len(subjects)))
    yield add(ds, VOID + "distinctObjects", _int(len(objects)))
    yield add(ds, VOID + "classes", _int(len(instances)))
    yield add(ds, VOID + "properties", _int(len(property_triples)))
    namespaces = set()
    for iri in list(instances) + list(property_triples):
        for ns in vocab.PREFIXES.values():
            if iri.startswith(ns):
                namespaces.add(ns)
    for ns in sorted(namespaces):
        yield add(ds, VOID + "vocabulary", _n(ns))
    for cls, members in instances.items():
        part = _n(f"{DATASET}#partition-class-{compact(cls)}")
        yield add(ds, VOID + "classPartition", part)
        yield add(part, RDF + "type", _n(VOID + "Dataset"))
        yield add(part, VOID + "class", _n(cls))
        yield add(part, VOID + "entities", _int(len(members)))
    for prop, count in property_triples.items():
        part = _n(f"{DATASET}#partition-property-{compact(prop)}")
        yield add(ds, VOID + "propertyPartition", part)
        yield add(part, RDF + "type", _n(VOID + "Dataset"))
        yield add(part, VOID + "property", _n(prop))
        yield add(part, VOID + "triples", _int(count))
    # example resources: the first (by IRI) current instance of a few central classes
    deprecated = {t.subject for t in triples if t.predicate.value == OWL + "deprecated"}
    for cls in ("Agreement", "Event", "Person", "Organisation", "Source"):
        members = sorted(m.value for m in instances.get(str(vocab.HC) + cls, ())
                         if m not in deprecated)
        if members:
            yield add(ds, VOID + "exampleResource", _n(members[0]))


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


def _files(ds: ox.NamedNode, files: list[FileInfo], version: str) -> Iterable[ox.Triple]:
    """A dcat:Distribution per file, with media type, size and checksum when stated."""
    def add(s, p, o):
        return ox.Triple(s, _n(p), o)

    for info in files:
        node = _n(f"{DATASET}#distribution-{slug(info.path)}")
        url = _n(download_iri(version, info.path))
        if info.distributes is None:
            yield add(ds, RDFS + "seeAlso", node)
        else:
            yield add(_n(info.distributes), DCAT + "distribution", node)
        yield add(node, RDF + "type", _n(DCAT + "Distribution"))
        if info.path.startswith("queries/"):
            yield add(node, RDF + "type", _n(SCHEMA + "SoftwareSourceCode"))
            yield add(node, SCHEMA + "programmingLanguage", ox.Literal("SPARQL"))
        yield add(node, DCT + "title", ox.Literal(info.path))
        if info.description:
            yield add(node, DCT + "description", _en(info.description))
        yield add(node, DCAT + "downloadURL", url)
        yield add(node, DCAT + "accessURL", url)
        yield add(node, DCAT + "mediaType", _n(IANA + info.media_type))
        if info.format:
            yield add(node, DCT + "format", _n(info.format))
        if info.compressed:
            yield add(node, DCAT + "compressFormat", _n(IANA + "application/gzip"))
        if info.data_dump:
            yield add(ds, VOID + "dataDump", url)
        if info.size is not None:
            yield add(node, DCAT + "byteSize", _int(info.size, XSD + "nonNegativeInteger"))
        if info.sha256:
            checksum = _n(f"{DATASET}#checksum-{slug(info.path)}")
            yield add(node, SPDX + "checksum", checksum)
            yield add(checksum, RDF + "type", _n(SPDX + "Checksum"))
            yield add(checksum, SPDX + "algorithm", _n(SPDX + "checksumAlgorithm_sha256"))
            yield add(checksum, SPDX + "checksumValue",
                      ox.Literal(info.sha256, datatype=_n(XSD + "hexBinary")))
