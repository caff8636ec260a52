"""The release layout, its description (DCAT/VoID) and its guarantees: checksums and sizes
that match the files, counts that match the data, one named graph per source, no blank
nodes, deterministic bytes (gzip included), version and previous version from
data/dataset.yaml, and a CHANGES file against a previous release."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pyoxigraph as ox
import pytest
import yaml

from pipeline.build import build_release
from pipeline.publish import release as publish

DATASET = "https://w3id.org/healthcoop/dataset"
DESCRIPTION_GRAPH = "https://w3id.org/healthcoop/graph/description"
DCAT = "http://www.w3.org/ns/dcat#"
VOID = "http://rdfs.org/ns/void#"
SPDX = "http://spdx.org/rdf/terms#"
DCT = "http://purl.org/dc/terms/"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
HCID = "https://w3id.org/healthcoop/id/"
DUMPS = ["healthcoop.nt", "healthcoop.ttl", "healthcoop.jsonld", "healthcoop.nq",
         "healthcoop.trig"]
ROOT = Path(__file__).resolve().parent.parent


def parse(path: Path, fmt=None) -> list[ox.Quad]:
    """pyoxigraph's reading (always quads; the default graph for triple formats)."""
    return list(ox.parse(path=str(path), format=fmt or ox.RdfFormat.from_extension(
        path.suffix[1:])))


def triple(q) -> ox.Triple:
    # pyoxigraph parses every format to quads, and a quad never equals a triple
    return ox.Triple(q.subject, q.predicate, q.object)


def triples(path: Path) -> set[ox.Triple]:
    return {triple(q) for q in parse(path)}


def is_description(node) -> bool:
    return isinstance(node, ox.NamedNode) and node.value.startswith(DATASET)


@pytest.fixture(scope="module")
def void(release_dir) -> ox.Store:
    store = ox.Store()
    store.bulk_load(path=str(release_dir / "void.ttl"), format=ox.RdfFormat.TURTLE)
    return store


@pytest.fixture(scope="module")
def quads(release_dir) -> list[ox.Quad]:
    return parse(release_dir / "healthcoop.nq")


@pytest.fixture(scope="module")
def data_triples(release_dir) -> set[ox.Triple]:
    """The data: the N-Triples dump without the description graph's triples."""
    described = {triple(q) for q in parse(release_dir / "healthcoop.nq")
                 if q.graph_name.value == DESCRIPTION_GRAPH}
    return triples(release_dir / "healthcoop.nt") - described


def rows(store: ox.Store, query: str) -> list[dict]:
    result = store.query(query)
    names = [v.value for v in result.variables]
    return [{n: (s[n].value if s[n] is not None else None) for n in names} for s in result]


# --- layout ----------------------------------------------------------------------------------

def test_release_holds_every_promised_file(release_dir):
    """The issue's layout: five dumps and their .gz, the context, void.ttl, the ontology,
    the shapes, the example queries, the CSVW tables with datapackage.json, and SHA256SUMS.
    Fails when a writer is dropped."""
    names = {p.relative_to(release_dir).as_posix() for p in release_dir.rglob("*")
             if p.is_file()}
    for dump in DUMPS:
        assert dump in names and dump + ".gz" in names
    for name in ("context.jsonld", "void.ttl", "SHA256SUMS", "datapackage.json",
                 "tables/csv-metadata.json", "tables/statements.csv"):
        assert name in names
    for folder, pattern in (("ontology", "*.ttl"), ("shapes", "*.ttl"), ("queries", "*.rq")):
        for source in (ROOT / folder).glob(pattern):
            copy = release_dir / folder / source.name
            assert copy.is_file(), f"{folder}/{source.name} is missing from the release"
            assert copy.read_bytes() == source.read_bytes(), "not copied byte for byte"


@pytest.mark.parametrize("name", DUMPS)
def test_gzip_is_deterministic(name, release_dir):
    """gzip headers carry no file name and mtime 0 (bytes 4-8), so two builds give the same
    .gz bytes. Fails if gzip.open(path) or the default GzipFile (which embed both) is used."""
    header = (release_dir / (name + ".gz")).read_bytes()[:10]
    assert header[:3] == b"\x1f\x8b\x08"
    assert header[3] == 0, "FLG set: a file name or comment is embedded"
    assert header[4:8] == b"\x00\x00\x00\x00", "mtime is not zero"


def test_sha256sums_cover_every_file(release_dir):
    """SHA256SUMS lists every other file of the release with its right SHA-256 (the format
    of `sha256sum -c`). Fails when a file is added after the list was written, or changed."""
    listed = {}
    for line in (release_dir / "SHA256SUMS").read_text(encoding="utf-8").splitlines():
        digest, name = line.split("  ", 1)
        listed[name] = digest
    # .healthcoop-release marks the directory for the next build: bookkeeping, not content
    # (the site has its own site/SHA256SUMS: test_site_checksums)
    files = {p.relative_to(release_dir).as_posix() for p in release_dir.rglob("*")
             if p.is_file() and p.name not in ("SHA256SUMS", ".healthcoop-release")
             and p.relative_to(release_dir).parts[0] != "site"}
    assert set(listed) == files
    for name, digest in listed.items():
        assert hashlib.sha256((release_dir / name).read_bytes()).hexdigest() == digest, name
    if shutil.which("sha256sum"):
        subprocess.run(["sha256sum", "--quiet", "-c", "SHA256SUMS"], cwd=release_dir,
                       check=True)


# --- the description -------------------------------------------------------------------------

def test_description_sizes_and_checksums_match_the_files(release_dir, void):
    """Every distribution in void.ttl names a file of the release whose byte size and
    SHA-256 are the stated ones; every file but void.ttl, SHA256SUMS and CHANGES is
    described. Fails when a file changes after the description was written."""
    found = rows(void, f"""
        PREFIX dcat: <{DCAT}> PREFIX spdx: <{SPDX}> PREFIX dct: <{DCT}>
        SELECT ?file ?size ?sha ?algo WHERE {{
          ?d a dcat:Distribution ; dct:title ?file ; dcat:byteSize ?size ;
             spdx:checksum ?c . ?c spdx:checksumValue ?sha ; spdx:algorithm ?algo }}""")
    described = {r["file"]: r for r in found}
    files = {p.relative_to(release_dir).as_posix() for p in release_dir.rglob("*")
             if p.is_file() and p.relative_to(release_dir).parts[0] != "site"
             } - {"void.ttl", "SHA256SUMS", "CHANGES", ".healthcoop-release"}
    assert set(described) == files
    for name, row in described.items():
        data = (release_dir / name).read_bytes()
        assert int(row["size"]) == len(data), name
        assert row["sha"] == hashlib.sha256(data).hexdigest(), name
        assert row["algo"] == SPDX + "checksumAlgorithm_sha256"


def test_embedded_description_is_void_without_self_reference(release_dir, void, quads):
    """The dumps embed the description in their description graph; it is void.ttl minus
    the byte sizes and checksums of the files that embed it (a file cannot contain its own
    checksum). Fails if the two descriptions drift apart in anything else."""
    embedded = {triple(q) for q in quads if q.graph_name.value == DESCRIPTION_GRAPH}
    # parsed, not from the store: pyoxigraph's Store turns xsd:nonNegativeInteger into
    # xsd:integer
    full = triples(release_dir / "void.ttl")
    assert embedded < full
    dump_files = {d for name in DUMPS for d in (name, name + ".gz")}
    for t in full - embedded:
        subject = t.subject.value
        assert subject.startswith(DATASET + "#"), t
        fragment = subject.split("#", 1)[1]
        assert t.predicate.value in (DCAT + "byteSize", SPDX + "checksum", RDF_TYPE,
                                     SPDX + "algorithm", SPDX + "checksumValue"), t
        assert any(fragment.endswith(publish.describe.slug(f)) for f in dump_files), t
    # the default-graph dumps hold it too
    assert embedded <= triples(release_dir / "healthcoop.nt")


def test_description_states_what_the_issue_asks(void, release_dir):
    """Title, description, publisher, licence, version, issued, sources, media types,
    partitions, example resources, URI space and regex, conformsTo, previous version slot,
    a link to the example queries: each present once. Fails when one is dropped."""
    meta = yaml.safe_load((ROOT / "data/dataset.yaml").read_text(encoding="utf-8"))

    def values(predicate: str, subject: str = DATASET) -> set[str]:
        return {q.object.value for q in void.quads_for_pattern(
            ox.NamedNode(subject), ox.NamedNode(predicate), None)}

    assert values(DCT + "title") == {meta["title"]}
    assert values(DCT + "license") == {meta["licence"]}
    assert values(DCAT + "version") == {str(meta["version"])}
    assert values(DCT + "issued") == {str(meta["issued"])}
    assert values(DCT + "publisher") and values(DCT + "description")
    sources = yaml.safe_load((ROOT / "data/sources.yaml").read_text(encoding="utf-8"))
    # the sources are documents, not datasets: related with PROV (dct:source's DCAT-AP
    # range is dcat:Dataset; tests/test_dcat_ap.py)
    ids = {HCID + s["id"] for s in sources["sources"]}
    assert values("http://www.w3.org/ns/prov#wasDerivedFrom") == ids
    assert not values(DCT + "source") & ids
    assert values(VOID + "uriSpace") == {meta["uri_space"]}
    (regex,) = values(VOID + "uriRegexPattern")
    assert re.match(regex, HCID + "ma-xiaowei")
    assert re.match(regex, HCID + "ma-xiaowei#evidence-0123456789ab-quote")
    assert not re.match(regex, "https://w3id.org/healthcoop/ontology#Agreement")
    assert len(values(DCT + "conformsTo")) >= 2
    assert values(VOID + "exampleResource")
    assert {"https://www.iana.org/assignments/media-types/" + m for m in (
        "text/turtle", "application/n-triples", "application/ld+json", "application/n-quads",
        "application/trig")} <= {r["m"] for r in rows(void, f"""
            SELECT ?m WHERE {{ ?d <{DCAT}mediaType> ?m }}""")}
    see_also = "http://www.w3.org/2000/01/rdf-schema#seeAlso"
    queries = rows(void, f"""SELECT ?t WHERE {{ <{DATASET}> <{see_also}> ?q .
                                               ?q <{DCT}title> ?t }}""")
    assert {f"queries/{p.name}" for p in (ROOT / "queries").glob("*.rq")} <= \
        {r["t"] for r in queries}
    if meta.get("previous_version"):
        assert values(DCAT + "previousVersion") == {f"{DATASET}/{meta['previous_version']}"}


def test_counts_match_the_data(void, data_triples):
    """void:triples, void:entities, class partitions (instances per class) and property
    partitions (triples per property) equal counts made here from the N-Triples dump.
    Fails when the description is computed from other triples than those published."""
    def one(predicate: str, subject: str = DATASET) -> int:
        (q,) = list(void.quads_for_pattern(ox.NamedNode(subject), ox.NamedNode(predicate),
                                           None))
        return int(q.object.value)

    assert one(VOID + "triples") == len(data_triples)
    entities = {t.subject for t in data_triples if t.subject.value.startswith(HCID)}
    assert one(VOID + "entities") == len(entities)
    instances: dict[str, set] = {}
    per_property: Counter[str] = Counter()
    for t in data_triples:
        per_property[t.predicate.value] += 1
        if t.predicate.value == RDF_TYPE:
            instances.setdefault(t.object.value, set()).add(t.subject)
    classes = {r["c"]: int(r["n"]) for r in rows(void, f"""
        SELECT ?c ?n WHERE {{ <{DATASET}> <{VOID}classPartition> ?p .
                              ?p <{VOID}class> ?c ; <{VOID}entities> ?n }}""")}
    assert classes == {c: len(m) for c, m in instances.items()}
    properties = {r["p"]: int(r["n"]) for r in rows(void, f"""
        SELECT ?p ?n WHERE {{ <{DATASET}> <{VOID}propertyPartition> ?x .
                              ?x <{VOID}property> ?p ; <{VOID}triples> ?n }}""")}
    assert properties == dict(per_property)


# --- named graphs, blank nodes, Turtle syntax ------------------------------------------------

def test_named_graphs_one_per_source_plus_description(quads, data_triples):
    """N-Quads/TriG: one graph per source, one for the accepted links, one for the topic
    scheme (no Wikidata labels: nothing was enriched) and one for the description; every
    data triple is in at least one of them, and the graphs hold nothing else. The links are
    in no source's graph, the topic scheme's triples are exactly ontology/topics.ttl. Fails
    when the graph assignment loses triples or invents graphs."""
    sources = yaml.safe_load((ROOT / "data/sources.yaml").read_text(encoding="utf-8"))
    base = "https://w3id.org/healthcoop/graph/"
    expected = {f"{base}{s['id']}" for s in sources["sources"]}
    graphs = {q.graph_name.value for q in quads}
    assert graphs == expected | {DESCRIPTION_GRAPH, base + "links", base + "topics"}
    in_graphs = {triple(q) for q in quads if q.graph_name.value != DESCRIPTION_GRAPH}
    assert in_graphs == data_triples
    topics = {triple(q) for q in quads if q.graph_name.value == base + "topics"}
    assert topics == {triple(t) for t in ox.parse(path=str(ROOT / "ontology/topics.ttl"),
                                                  format=ox.RdfFormat.TURTLE)}
    sameas = [q for q in quads if q.predicate.value == "http://www.w3.org/2002/07/owl#sameAs"]
    assert sameas and {q.graph_name.value for q in sameas} == {base + "links"}


def test_graph_rule_evidence_and_sources(quads):
    """The rule in docs/model.md: an evidence annotation is only in the graph of the source
    it quotes; a source node only in its own graph; an entity in the graph of every source
    it cites. Fails when the rule is changed without the documentation."""
    graphs_of: dict[str, set[str]] = {}
    for q in quads:
        graphs_of.setdefault(q.subject.value, set()).add(q.graph_name.value)
    hassource = {q.subject.value: q.object.value for q in quads
                 if q.predicate.value == "http://www.w3.org/ns/oa#hasSource"}
    assert hassource
    for target, source in hassource.items():
        graph = "https://w3id.org/healthcoop/graph/" + source[len(HCID):]
        annotation = target[: -len("-target")]
        assert graphs_of[target] == {graph}
        assert graphs_of[annotation] == {graph}
    cites: dict[str, set[str]] = {}
    for q in quads:
        # (a link's reference node cites an external page with dct:source: not a source of ours)
        if (q.predicate.value == DCT + "source" and q.subject.value.startswith(HCID)
                and q.object.value.startswith(HCID)):
            cites.setdefault(q.subject.value, set()).add(
                "https://w3id.org/healthcoop/graph/" + q.object.value[len(HCID):])
    for entity, expected in cites.items():
        assert expected <= graphs_of[entity], entity
    for q in quads:
        if q.predicate.value == RDF_TYPE and q.object.value.endswith("ontology#Source"):
            assert graphs_of[q.subject.value] == {
                "https://w3id.org/healthcoop/graph/" + q.subject.value[len(HCID):]}


def test_assign_graphs_unsourced_entities_follow_their_referrers():
    """A place recorded without evidence goes to the graphs of the entities that mention it
    (transitively: a country only contained-in by a city); one nobody mentions goes to
    …/graph/unsourced. Fails if unsourced triples were dropped from the N-Quads dump."""
    n = ox.NamedNode
    src = n(HCID + "src-a")
    event, city, country, lonely = (n(HCID + x) for x in ("ev", "city", "country", "lonely"))
    label = n("http://www.w3.org/2000/01/rdf-schema#label")
    triples = [
        ox.Triple(src, n(RDF_TYPE), n("https://w3id.org/healthcoop/ontology#Source")),
        ox.Triple(event, n(DCT + "source"), src),
        ox.Triple(event, n("https://schema.org/location"), city),
        ox.Triple(city, n("https://schema.org/containedInPlace"), country),
        ox.Triple(city, label, ox.Literal("City")),
        ox.Triple(country, label, ox.Literal("Country")),
        ox.Triple(lonely, label, ox.Literal("Lonely")),
    ]
    graph_a = "https://w3id.org/healthcoop/graph/src-a"
    placed = {(q.subject.value, q.graph_name.value) for q in publish.assign_graphs(triples)}
    assert (country.value, graph_a) in placed and (city.value, graph_a) in placed
    assert (lonely.value, publish.UNSOURCED_GRAPH) in placed


@pytest.mark.parametrize("name", DUMPS)
def test_no_blank_nodes(name, release_dir):
    """Stable diffs and byte-identical builds need every node to be an IRI."""
    for item in parse(release_dir / name):
        for term in (item.subject, item.object):
            assert not isinstance(term, ox.BlankNode), item


@pytest.mark.parametrize("name", ["healthcoop.ttl", "healthcoop.trig", "void.ttl"])
def test_turtle_has_no_escaped_local_names(name, release_dir):
    """Prefixed names with backslash escapes (`hcid:x\\#evidence-…`) are valid Turtle but
    Virtuoso 7.2 keeps the backslash in the IRI; our writer spells such IRIs out."""
    text = (release_dir / name).read_text(encoding="utf-8")
    assert not re.search(r"^\s*[A-Za-z][\w-]*:[^\s\"<>]*\\", text, re.MULTILINE)
    assert "\\#" not in text
    assert "<https://w3id.org/healthcoop/id/" in text or name == "void.ttl"


def test_turtle_writer_escapes_and_shortens_safely():
    """Unit check of the writer: plain local names are shortened, others written in full;
    literals keep language tags, datatypes and escapes. Round trip through pyoxigraph."""
    n = ox.NamedNode
    triples = [
        ox.Triple(n(HCID + "a"), n(RDF_TYPE), n("https://w3id.org/healthcoop/ontology#Agreement")),
        ox.Triple(n(HCID + "a"), n(DCT + "title"), ox.Literal('say "hi"\n\\ok', language="en")),
        ox.Triple(n(HCID + "a#evidence-1"), n(DCT + "date"),
                  ox.Literal("2020", datatype=n("http://www.w3.org/2001/XMLSchema#gYear"))),
        ox.Triple(n(HCID + "a#evidence-1"), n("http://example.org/p.q"), n(HCID + "1abc")),
    ]
    import io

    out = io.StringIO()
    publish.TurtleWriter(publish.TURTLE_PREFIXES, triples).write_triples(triples, out)
    text = out.getvalue()
    assert "hcid:a\n" in text and f"<{HCID}a#evidence-1>" in text
    assert "<http://example.org/p.q>" in text and "xsd:gYear" in text
    assert {triple(q) for q in ox.parse(text, format=ox.RdfFormat.TURTLE)} == set(triples)


# --- determinism, versions, CHANGES ----------------------------------------------------------

def test_two_builds_are_byte_identical(release_dir, tmp_path):
    """A second build, in another process with another hash seed, gives the same bytes for
    every file, gzip included. Fails on any clock, hash-order or path dependence."""
    other = tmp_path / "again"
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    subprocess.run([sys.executable, "-m", "pipeline.cli", "build", "--root", str(ROOT),
                    "--output", str(other)], check=True, env=env, cwd=tmp_path,
                   capture_output=True)
    first = {p.relative_to(release_dir).as_posix(): p.read_bytes()
             for p in release_dir.rglob("*") if p.is_file()}
    second = {p.relative_to(other).as_posix(): p.read_bytes()
              for p in other.rglob("*") if p.is_file()}
    assert first.keys() == second.keys()
    differing = [name for name in first if first[name] != second[name]]
    assert not differing


def _set_metadata(project: Path, **values) -> None:
    path = project / "data/dataset.yaml"
    text = path.read_text(encoding="utf-8")
    for key, value in values.items():
        line = f"{key}: {value}"
        if re.search(rf"^{key}:.*$", text, re.MULTILINE):
            text = re.sub(rf"^{key}:.*$", line, text, flags=re.MULTILINE)
        else:
            text += f"\n{line}\n"
    path.write_text(text, encoding="utf-8")


def test_version_issued_and_previous_come_from_dataset_yaml(project_copy, tmp_path):
    """Version, issued date and dcat:previousVersion are those of data/dataset.yaml (not the
    clock); changing them changes the description and nothing else in the data."""
    _set_metadata(project_copy, version='"0.2.0"', issued='"2027-01-31"',
                  previous_version='"0.1.0"')
    out = build_release(project_copy, tmp_path / "out")
    store = ox.Store()
    store.bulk_load(path=str(out / "void.ttl"), format=ox.RdfFormat.TURTLE)
    got = rows(store, f"""PREFIX dcat: <{DCAT}> PREFIX dct: <{DCT}>
        SELECT ?v ?i ?p WHERE {{ <{DATASET}> dcat:version ?v ; dct:issued ?i ;
                                 dcat:hasCurrentVersion ?this .
                                 ?this dcat:previousVersion ?p }}""")
    assert got == [{"v": "0.2.0", "i": "2027-01-31", "p": f"{DATASET}/0.1.0"}]


def test_invalid_metadata_is_reported(project_copy, tmp_path):
    """A version that is not a version number stops the build with a located message."""
    from pipeline.errors import InvalidData

    _set_metadata(project_copy, version='"next"')
    with pytest.raises(InvalidData) as info:
        build_release(project_copy, tmp_path / "out")
    assert any(i.field == "version" and i.line > 0 for i in info.value.issues)


def test_build_with_previous_writes_changes(project_copy, tmp_path):
    """`build --previous OLD` writes CHANGES: the diff against the previous release. Here a
    label is corrected between two builds; CHANGES names that entity and both labels."""
    old = build_release(project_copy, tmp_path / "old")
    (old_label, new_label, record) = _change_a_label(project_copy)
    new = build_release(project_copy, tmp_path / "new", previous=old)
    changes = (new / "CHANGES").read_text(encoding="utf-8")
    assert "changed entities: 1" in changes
    assert f"hcid:{record}" in changes
    assert old_label in changes and new_label in changes
    assert "CHANGES" in (new / "SHA256SUMS").read_text(encoding="utf-8")
    assert not (old / "CHANGES").exists()


def _change_a_label(project: Path) -> tuple[str, str, str]:
    path = project / "data/records/places.yaml"
    text = path.read_text(encoding="utf-8")
    match = re.search(r'^(\s+- id: ([a-z0-9-]+)\n(?:\s+\w+:.*\n)*?\s+label: )"([^"]+)"',
                      text, re.MULTILINE)
    assert match, "no place record with a label found"
    old_label = match.group(3)
    new_label = old_label + " (corrected)"
    text = text[: match.start(3) - 1] + f'"{new_label}"' + text[match.end(3) + 1:]
    path.write_text(text, encoding="utf-8")
    return old_label, new_label, match.group(2)


def test_site_checksums(release_dir):
    """site/SHA256SUMS lists every file of the site (download copies included) with its
    right SHA-256, so `sha256sum -c SHA256SUMS` works inside site/ too."""
    site = release_dir / "site"
    listed = dict(reversed(line.split("  ", 1))
                  for line in (site / "SHA256SUMS").read_text(encoding="utf-8").splitlines())
    files = {p.relative_to(site).as_posix() for p in site.rglob("*")
             if p.is_file() and p.name != "SHA256SUMS"}
    assert set(listed) == files
    for name, digest in listed.items():
        assert hashlib.sha256((site / name).read_bytes()).hexdigest() == digest, name
