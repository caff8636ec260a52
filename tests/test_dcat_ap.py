"""The dataset description (void.ttl) as a DCAT-AP 3 harvester reads it: every mandatory and
recommended property of Catalogue, Dataset, Distribution and Agent that applies, the classes
DCAT-AP expects of their values (controlled vocabularies typed: media types, formats,
languages, licences, themes, checksum algorithm), the cardinalities it limits, and no
personal contact details. One check per property, with SPARQL through pyoxigraph.

Recommended properties deliberately not stated (no fact in data/dataset.yaml supports them):
dcatap:availability of a distribution (no commitment on how long files stay available),
dct:type of the publisher (set `publisher.type` in dataset.yaml to state it) and dct:type of
the licence document.
"""

from __future__ import annotations

import pyoxigraph as ox
import pytest

DCAT = "http://www.w3.org/ns/dcat#"
DCT = "http://purl.org/dc/terms/"
FOAF = "http://xmlns.com/foaf/0.1/"
VCARD = "http://www.w3.org/2006/vcard/ns#"
SPDX = "http://spdx.org/rdf/terms#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
PROV = "http://www.w3.org/ns/prov#"
EU = "http://publications.europa.eu/resource/authority/"
DATASET = "https://w3id.org/healthcoop/dataset"
PREFIXES = f"""PREFIX dcat: <{DCAT}> PREFIX dct: <{DCT}> PREFIX foaf: <{FOAF}>
PREFIX vcard: <{VCARD}> PREFIX spdx: <{SPDX}> PREFIX skos: <{SKOS}> PREFIX prov: <{PROV}>
"""


@pytest.fixture(scope="module")
def void(release_dir) -> ox.Store:
    store = ox.Store()
    store.bulk_load(path=str(release_dir / "void.ttl"), format=ox.RdfFormat.TURTLE)
    return store


def select(store: ox.Store, query: str) -> list[dict]:
    result = store.query(PREFIXES + query)
    names = [v.value for v in result.variables]
    return [{n: (s[n].value if s[n] is not None else None) for n in names} for s in result]


def instances(store: ox.Store, cls: str) -> list[str]:
    return [r["x"] for r in select(store, f"SELECT ?x WHERE {{ ?x a {cls} }}")]


# (class, property, obligation) from DCAT-AP 3.0: mandatory and recommended properties of
# the classes the description uses (Catalogue, Dataset, Distribution, Agent) and of the
# supporting classes whose mandatory properties apply (Checksum, Kind, Period of time,
# Concept, Concept scheme)
PROPERTIES = [
    ("dcat:Catalog", "dct:title", "mandatory"),
    ("dcat:Catalog", "dct:description", "mandatory"),
    ("dcat:Catalog", "dct:publisher", "mandatory"),
    ("dcat:Catalog", "dcat:dataset", "recommended"),
    ("dcat:Catalog", "foaf:homepage", "recommended"),
    ("dcat:Catalog", "dct:language", "recommended"),
    ("dcat:Catalog", "dct:license", "recommended"),
    ("dcat:Catalog", "dct:issued", "recommended"),
    ("dcat:Catalog", "dct:modified", "recommended"),
    ("dcat:Catalog", "dct:spatial", "recommended"),
    ("dcat:Catalog", "dcat:themeTaxonomy", "recommended"),
    ("dcat:Dataset", "dct:title", "mandatory"),
    ("dcat:Dataset", "dct:description", "mandatory"),
    ("dcat:Dataset", "dcat:contactPoint", "recommended"),
    ("dcat:Dataset", "dcat:distribution", "recommended"),
    ("dcat:Dataset", "dcat:keyword", "recommended"),
    ("dcat:Dataset", "dct:publisher", "recommended"),
    ("dcat:Dataset", "dct:spatial", "recommended"),
    ("dcat:Dataset", "dct:temporal", "recommended"),
    ("dcat:Dataset", "dcat:theme", "recommended"),
    ("dcat:Distribution", "dcat:accessURL", "mandatory"),
    ("dcat:Distribution", "dct:description", "recommended"),
    ("dcat:Distribution", "dct:format", "recommended"),
    ("dcat:Distribution", "dct:license", "recommended"),
    ("foaf:Agent", "foaf:name", "mandatory"),
    ("spdx:Checksum", "spdx:algorithm", "mandatory"),
    ("spdx:Checksum", "spdx:checksumValue", "mandatory"),
    ("vcard:Kind", "vcard:hasURL", "project rule: a web page"),
    ("dct:PeriodOfTime", "dcat:startDate", "recommended"),
    ("dct:PeriodOfTime", "dcat:endDate", "recommended"),
    ("skos:Concept", "skos:prefLabel", "mandatory"),
    ("skos:ConceptScheme", "dct:title", "mandatory"),
]


@pytest.mark.parametrize("cls,prop,obligation", PROPERTIES,
                         ids=[f"{c}-{p}" for c, p, _ in PROPERTIES])
def test_every_instance_has_the_property(void, cls, prop, obligation):
    """DCAT-AP 3 lists this property as mandatory or recommended for the class: every
    instance of the class in void.ttl has it (and the class has instances). Fails when the
    description drops the property, or stops describing the class."""
    members = instances(void, cls)
    assert members, f"no {cls} in void.ttl"
    missing = [r["x"] for r in select(void, f"""SELECT ?x WHERE {{ ?x a {cls} .
        FILTER NOT EXISTS {{ ?x {prop} ?v }} }}""")]
    assert not missing, f"{obligation} {prop} missing on {missing[:5]}"


# (subject class, property, class every value must have) from DCAT-AP 3's ranges
RANGES = [
    ("dcat:Catalog", "dct:publisher", "foaf:Agent"),
    ("dcat:Catalog", "dcat:dataset", "dcat:Dataset"),
    ("dcat:Catalog", "foaf:homepage", "foaf:Document"),
    ("dcat:Catalog", "dct:language", "dct:LinguisticSystem"),
    ("dcat:Catalog", "dct:license", "dct:LicenseDocument"),
    ("dcat:Catalog", "dct:spatial", "dct:Location"),
    ("dcat:Catalog", "dcat:themeTaxonomy", "skos:ConceptScheme"),
    ("dcat:Dataset", "dcat:contactPoint", "vcard:Kind"),
    ("dcat:Dataset", "dcat:distribution", "dcat:Distribution"),
    ("dcat:Dataset", "dct:publisher", "foaf:Agent"),
    ("dcat:Dataset", "dct:spatial", "dct:Location"),
    ("dcat:Dataset", "dct:temporal", "dct:PeriodOfTime"),
    ("dcat:Dataset", "dcat:theme", "skos:Concept"),
    ("dcat:Dataset", "dct:language", "dct:LinguisticSystem"),
    ("dcat:Dataset", "dct:accessRights", "dct:RightsStatement"),
    ("dcat:Dataset", "dct:conformsTo", "dct:Standard"),
    ("dcat:Dataset", "dcat:landingPage", "foaf:Document"),
    ("dcat:Dataset", "dct:source", "dcat:Dataset"),
    ("dcat:Dataset", "dcat:hasVersion", "dcat:Dataset"),
    ("dcat:Distribution", "dcat:mediaType", "dct:MediaType"),
    ("dcat:Distribution", "dcat:compressFormat", "dct:MediaType"),
    ("dcat:Distribution", "dct:format", "dct:MediaTypeOrExtent"),
    ("dcat:Distribution", "dct:license", "dct:LicenseDocument"),
    ("dcat:Distribution", "spdx:checksum", "spdx:Checksum"),
    ("spdx:Checksum", "spdx:algorithm", "spdx:ChecksumAlgorithm"),
]


@pytest.mark.parametrize("cls,prop,value_class", RANGES,
                         ids=[f"{c}-{p}" for c, p, _ in RANGES])
def test_values_have_the_class_dcat_ap_expects(void, cls, prop, value_class):
    """A harvester checks the class of each value (DCAT-AP 3 ranges): controlled-vocabulary
    IRIs and our own nodes are typed in the description itself. Fails when a value is left
    untyped, e.g. a media type IRI without `a dct:MediaType`."""
    untyped = select(void, f"""SELECT ?x ?v WHERE {{ ?x a {cls} ; {prop} ?v .
        FILTER NOT EXISTS {{ ?v a {value_class} }} }}""")
    assert not untyped, untyped[:5]


# (class, property): at most one value (DCAT-AP 3 cardinalities 0..1 / 1..1)
AT_MOST_ONE = [
    ("dcat:Catalog", "dct:publisher"), ("dcat:Catalog", "foaf:homepage"),
    ("dcat:Catalog", "dct:license"), ("dcat:Catalog", "dct:issued"),
    ("dcat:Dataset", "dct:publisher"), ("dcat:Dataset", "dct:accessRights"),
    ("dcat:Dataset", "dct:issued"), ("dcat:Dataset", "dct:modified"),
    ("dcat:Dataset", "dcat:version"), ("dcat:Dataset", "dct:temporal"),
    ("dcat:Distribution", "dcat:mediaType"), ("dcat:Distribution", "dct:format"),
    ("dcat:Distribution", "dct:license"), ("dcat:Distribution", "spdx:checksum"),
    ("dcat:Distribution", "dcat:byteSize"), ("dcat:Distribution", "dcat:compressFormat"),
    ("foaf:Agent", "dct:type"), ("spdx:Checksum", "spdx:checksumValue"),
]


@pytest.mark.parametrize("cls,prop", AT_MOST_ONE, ids=[f"{c}-{p}" for c, p in AT_MOST_ONE])
def test_single_valued_properties(void, cls, prop):
    """DCAT-AP 3 allows at most one value here; two (e.g. a W3C format IRI beside the EU
    file type) make the record invalid. Fails on a repeated value."""
    repeated = select(void, f"""SELECT ?x (COUNT(DISTINCT ?v) AS ?n) WHERE {{
        ?x a {cls} ; {prop} ?v }} GROUP BY ?x HAVING (COUNT(DISTINCT ?v) > 1)""")
    assert not repeated, repeated[:5]


def test_both_the_dataset_and_the_release_are_described(void):
    """The dataset and this release (`…/dataset/VERSION`) are both dcat:Datasets with a
    description and the release's distributions; the catalogue lists both. Fails if the
    release is a bare version node again (what a harvester flagged)."""
    datasets = set(instances(void, "dcat:Dataset"))
    (version,) = {r["v"] for r in select(void, f"SELECT ?v WHERE {{ <{DATASET}> "
                                                "dcat:hasCurrentVersion ?v }")}
    assert datasets == {DATASET, version}
    listed = {r["d"] for r in select(void, "SELECT ?d WHERE { ?c a dcat:Catalog ; "
                                            "dcat:dataset ?d }")}
    assert listed == datasets
    data_files = {r["t"] for r in select(void, f"""SELECT ?t WHERE {{ <{version}>
        dcat:distribution ?d . ?d dct:title ?t ; dcat:downloadURL ?u }}""")}
    assert {"healthcoop.ttl", "healthcoop.nt.gz", "tables/actors.csv"} <= data_files


def test_controlled_vocabularies_are_the_eu_ones(void):
    """Theme from the EU data-theme vocabulary (HEAL), formats from the EU file-type
    vocabulary, language from the EU language authority, access rights PUBLIC, the
    SHA-256 algorithm from SPDX. Fails when a home-made IRI replaces one."""
    themes = {r["t"] for r in select(void, "SELECT ?t WHERE { ?d a dcat:Dataset ; "
                                            "dcat:theme ?t }")}
    assert themes == {EU + "data-theme/HEAL"}
    formats = {r["f"] for r in select(void, "SELECT ?f WHERE { ?d dct:format ?f }")}
    assert formats and all(f.startswith(EU + "file-type/") for f in formats)
    assert {EU + "file-type/" + x for x in ("RDF_TURTLE", "RDF_N_TRIPLES", "JSON_LD",
                                             "RDF_N_QUADS", "RDF_TRIG", "CSV")} <= formats
    languages = {r["l"] for r in select(void, "SELECT ?l WHERE { ?d dct:language ?l }")}
    assert languages == {EU + "language/ENG"}
    rights = {r["r"] for r in select(void, "SELECT ?r WHERE { ?d dct:accessRights ?r }")}
    assert rights == {EU + "access-right/PUBLIC"}
    algorithms = {r["a"] for r in select(void, "SELECT ?a WHERE { ?c spdx:algorithm ?a }")}
    assert algorithms == {SPDX + "checksumAlgorithm_sha256"}


def test_every_file_of_the_data_is_a_distribution_with_a_licence(void, release_dir):
    """Each dump, gzip copy and table is a distribution of the dataset with an access and a
    download URL under the release's IRI and the dataset's licence. Fails when a file is
    described without them."""
    rows = select(void, f"""SELECT ?t ?a ?u ?l WHERE {{ <{DATASET}> dcat:distribution ?d .
        ?d dct:title ?t ; dcat:accessURL ?a ; dcat:downloadURL ?u ; dct:license ?l }}""")
    by_title = {r["t"]: r for r in rows}
    expected = {p.relative_to(release_dir).as_posix()
                for p in [*release_dir.glob("healthcoop.*"), *release_dir.glob("tables/*.csv")]}
    assert expected <= set(by_title)
    for title in expected:
        row = by_title[title]
        assert row["u"] == row["a"] and row["u"].startswith(DATASET + "/")
        assert row["u"].endswith("/" + title)
        assert row["l"] == "https://creativecommons.org/licenses/by/4.0/"


def test_sources_are_related_not_dct_source(void):
    """DCAT-AP 3 gives dct:source the range dcat:Dataset; our sources are news articles
    (hc:Source documents), so the datasets relate them with prov:wasDerivedFrom and
    dct:relation and never with dct:source. Fails if dct:source comes back."""
    assert not select(void, "SELECT ?s WHERE { ?d a dcat:Dataset ; dct:source ?s }")
    derived = select(void, f"SELECT ?s WHERE {{ <{DATASET}> prov:wasDerivedFrom ?s }}")
    related = select(void, f"SELECT ?s WHERE {{ <{DATASET}> dct:relation ?s }}")
    assert derived and {r["s"] for r in derived} == {r["s"] for r in related}


def test_contact_point_is_a_web_page_not_a_person(void, release_dir):
    """The contact point is a vcard:Kind with a web address (the project publishes no
    personal e-mail address or phone number); void.ttl holds no mailto: or tel: at all.
    Fails when someone adds a vcard:hasEmail."""
    urls = select(void, "SELECT ?k ?u WHERE { ?d dcat:contactPoint ?k . ?k vcard:hasURL ?u }")
    assert urls and all(r["u"].startswith("https://") for r in urls)
    assert not select(void, "SELECT ?k WHERE { ?k vcard:hasEmail|vcard:hasTelephone ?x }")
    text = (release_dir / "void.ttl").read_text(encoding="utf-8")
    assert "mailto:" not in text and "tel:" not in text


def test_temporal_coverage_spans_the_recorded_dates(void, dataset_store):
    """dct:temporal runs from the earliest to the latest date of an agreement or event in
    the data (computed from the triples, not typed in by hand). Fails when a date outside
    the period is published."""
    (period,) = select(void, "SELECT ?s ?e WHERE { ?d a dcat:Dataset ; dct:temporal ?t . "
                             "?t dcat:startDate ?s ; dcat:endDate ?e } LIMIT 1")
    dates = [r["d"] for r in select(dataset_store, """
        SELECT ?d WHERE { ?x <https://w3id.org/healthcoop/ontology#date>
                             |<https://schema.org/startDate>|<https://schema.org/endDate> ?d }""")]
    assert dates
    assert min(d[:4] for d in dates) == period["s"][:4]
    assert max(d[:4] for d in dates) == period["e"][:4]
    assert all(period["s"] <= d or d.startswith(period["s"][:4]) for d in dates)
