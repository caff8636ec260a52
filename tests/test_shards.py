"""The sharded build (pipeline/shards/, pipeline/publish/pieces.py): the same release
whichever way it is built: in one process, in a pool of processes, through Dask,
incrementally from the cache after a change, or after the cache was corrupted; and the same
data as the whole-dataset reference path (one mapping of everything, `publish.assign_graphs`)."""

from __future__ import annotations

import csv
import gzip
import hashlib
import itertools
import shutil
from collections import Counter
from pathlib import Path

import pyoxigraph as ox
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline import shards
from pipeline.build import build_release, load_project, map_project, reference_graphs
from pipeline.publish import describe
from pipeline.publish.release import DESCRIPTION_GRAPH, assign_graphs, canonical_triples
from pipeline.shards import CACHE_DIR

ROOT = Path(__file__).resolve().parent.parent
RECORDS = 700  # a corpus of several record files, some of more than one shard


def tree_digest(folder: Path) -> dict[str, str]:
    """sha256 of every file of a release (relative path -> digest)."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    from pipeline.curate.synthetic import generate_project

    out = tmp_path_factory.mktemp("corpus") / "project"
    generate_project(out, RECORDS, 7, ROOT)
    return out


@pytest.fixture(scope="module")
def clean_release(corpus, tmp_path_factory) -> Path:
    """The corpus built in one process without a cache: the release the others must equal."""
    out = tmp_path_factory.mktemp("clean") / "output"
    build_release(corpus, out, register=False, site=False, executor="serial", cache=False)
    return out


def copy_project(corpus: Path, tmp_path: Path) -> Path:
    project = tmp_path / "project"
    shutil.copytree(corpus, project, ignore=shutil.ignore_patterns(".cache"))
    return project


@pytest.mark.parametrize("worker_shards", [None, 1])
def test_parallel_build_equals_serial(worker_shards, corpus, clean_release, tmp_path,
                                      monkeypatch):
    """Two worker processes give the same bytes as one process, also when fresh workers
    are forked after every shard (pipeline/parallel.py, `per_worker`)."""
    if worker_shards is not None:
        monkeypatch.setattr(shards.run, "WORKER_SHARDS", worker_shards)
    project = copy_project(corpus, tmp_path)
    out = build_release(project, tmp_path / "out", register=False, site=False,
                        executor="processes", jobs=2, cache=False)
    assert tree_digest(out) == tree_digest(clean_release)


def test_incremental_build_equals_clean_build(corpus, clean_release, tmp_path):
    """A build that takes every unchanged shard from the cache gives the bytes of a clean
    build; after one record file changes, only its shards are rebuilt and the release still
    equals a clean build of the changed project."""
    project = copy_project(corpus, tmp_path)
    first = build_release(project, tmp_path / "a", register=False, site=False)
    assert tree_digest(first) == tree_digest(clean_release)
    timings: dict = {}
    again = build_release(project, tmp_path / "b", register=False, site=False,
                          timings=timings)
    assert tree_digest(again) == tree_digest(clean_release)

    files = sorted((project / "data/records").glob("*.yaml"))
    target = files[len(files) // 2]
    text = target.read_text(encoding="utf-8")
    first_label = next(line for line in text.splitlines() if line.strip().startswith("label:"))
    target.write_text(text.replace(first_label, first_label.rstrip('"') + " (renamed)"
                                   + ('"' if first_label.endswith('"') else ""), 1),
                      encoding="utf-8")
    entries_before = {p.name for p in (project / CACHE_DIR).glob("*/*")}
    changed = build_release(project, tmp_path / "c", register=False, site=False)
    entries_after = {p.name for p in (project / CACHE_DIR).glob("*/*")}
    rebuilt = entries_after - entries_before
    assert 1 <= len(rebuilt) <= 3, rebuilt  # that file's shards (it may hold two chunks)
    reference = build_release(copy_project(project, tmp_path / "fresh"), tmp_path / "d",
                              register=False, site=False, cache=False, executor="serial")
    assert tree_digest(changed) == tree_digest(reference)
    assert tree_digest(changed) != tree_digest(clean_release)


def test_corrupt_cache_is_rebuilt_not_trusted(corpus, clean_release, tmp_path):
    """A cached piece whose bytes changed (disk corruption, a hand edit), a truncated entry
    and a garbage pickle are each detected by the entry's manifest and rebuilt: the release
    is still the clean one."""
    project = copy_project(corpus, tmp_path)
    build_release(project, tmp_path / "a", register=False, site=False)
    entries = sorted(p for p in (project / CACHE_DIR).glob("*/*") if p.is_dir())
    assert len(entries) >= 4
    piece = entries[0] / "piece.nt.gz"  # (a changed byte in the compressed data)
    data = bytearray(piece.read_bytes() or b"junk")
    data[len(data) // 2] ^= 0xFF
    piece.write_bytes(bytes(data))
    (entries[1] / "piece.ttl.gz").write_bytes(b"")
    (entries[2] / "output.pickle").write_bytes(b"\x80\x05garbage")
    (entries[3] / "MANIFEST").unlink()
    out = build_release(project, tmp_path / "b", register=False, site=False)
    assert tree_digest(out) == tree_digest(clean_release)


def test_dask_local_cluster_build_equals_serial(corpus, clean_release, tmp_path):
    """The shards mapped and validated on a Dask LocalCluster (two worker processes started
    by the test, reached through its scheduler address) give the same release."""
    from distributed import LocalCluster

    project = copy_project(corpus, tmp_path)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None, host="127.0.0.1") as cluster:
        out = build_release(project, tmp_path / "out", register=False, site=False,
                            executor="dask", scheduler=cluster.scheduler_address, cache=False)
    assert tree_digest(out) == tree_digest(clean_release)


def test_another_version_of_a_writing_library_invalidates_every_cached_shard(corpus,
                                                                            monkeypatch):
    """A cached piece holds bytes that rdflib, pyoxigraph, orjson and zlib-ng wrote; with
    another version of any of them the pieces might differ from a clean build's, so the
    key every shard's entry is found by changes."""
    import importlib.metadata

    before = shards.project_digest(corpus)
    assert shards.project_digest(corpus) == before
    real = importlib.metadata.version
    for library in ("rdflib", "pyoxigraph", "orjson", "zlib-ng"):
        monkeypatch.setattr(importlib.metadata, "version", lambda name, library=library:
                            "0.0.1" if name == library else real(name))
        assert shards.project_digest(corpus) != before, library
    monkeypatch.setattr(importlib.metadata, "version", real)
    assert shards.project_digest(corpus) == before


def test_multi_member_gzip_reads_as_the_dump(clean_release):
    """Each .gz is several gzip members (header, description, one per piece); every gzip
    reader joins them: the decompressed bytes are exactly the uncompressed dump, read by
    Python's gzip module and by the gzip program (which also checks every member's CRC)."""
    import subprocess

    for name in ("healthcoop.nt", "healthcoop.ttl", "healthcoop.jsonld", "healthcoop.nq",
                 "healthcoop.trig"):
        plain = (clean_release / name).read_bytes()
        assert gzip.decompress((clean_release / (name + ".gz")).read_bytes()) == plain
        assert subprocess.run(["gzip", "-dc", str(clean_release / (name + ".gz"))],
                              capture_output=True, check=True).stdout == plain


def test_shards_give_the_whole_dataset_reference(corpus, clean_release):
    """The sharded release holds exactly the triples and quads of the reference path (the
    whole project mapped in one go, graphs assigned by `publish.assign_graphs` over all of
    it), and its VoID statistics are those computed from all data triples at once."""
    project = load_project(corpus)
    own, _ctx = map_project(project)
    fixed = {name: canonical_triples(ts) for name, ts in reference_graphs(project).items()}
    data = set(own) | {t for ts in fixed.values() for t in ts}
    quads = set(assign_graphs(own)) | {ox.Quad(t.subject, t.predicate, t.object,
                                                ox.NamedNode(name))
                                       for name, ts in fixed.items() for t in ts}
    released = list(ox.parse(path=str(clean_release / "healthcoop.nq"),
                             format=ox.RdfFormat.N_QUADS))
    assert {q for q in released if q.graph_name.value != DESCRIPTION_GRAPH} == quads
    triples = [ox.Triple(q.subject, q.predicate, q.object)  # (pyoxigraph parses to quads)
               for q in ox.parse(path=str(clean_release / "healthcoop.nt"),
                                 format=ox.RdfFormat.N_TRIPLES)]
    assert len(triples) == len(set(triples))  # no triple written twice
    description = {ox.Triple(q.subject, q.predicate, q.object) for q in released
                   if q.graph_name.value == DESCRIPTION_GRAPH}
    assert set(triples) - description == data

    meta = describe.load_metadata(corpus)
    expected = describe.DataStats.of(sorted(data, key=str), meta.uri_space)
    void = ox.Store()
    void.load(path=str(clean_release / "void.ttl"), format=ox.RdfFormat.TURTLE)
    ds = f"<{describe.DATASET}>"

    def number(prop: str) -> int:
        [row] = list(void.query(f"SELECT ?n WHERE {{ {ds} <http://rdfs.org/ns/void#{prop}> ?n }}"))
        return int(row["n"].value)

    assert number("triples") == len(data) == expected.triples
    assert number("distinctSubjects") == len({t.subject for t in data})
    assert number("distinctObjects") == len({t.object for t in data})
    assert number("entities") == expected.entities
    by_class = Counter()
    for t in data:
        if t.predicate.value.endswith("#type") and isinstance(t.object, ox.NamedNode):
            by_class[t.object.value] += 1
    rows = void.query("SELECT ?c ?n WHERE { ?p <http://rdfs.org/ns/void#class> ?c ; "
                      "<http://rdfs.org/ns/void#entities> ?n }")
    assert {r["c"].value: int(r["n"].value) for r in rows} == dict(by_class)


def test_shard_tables_equal_the_whole_dataset_tables(corpus, clean_release, tmp_path,
                                                     monkeypatch):
    """The tables merged from the shards' rows (each shard knows only its own entities and
    the labels of the actors they point at) are byte for byte the tables `write_tables`
    makes from all data triples at once; also when the merge runs in rounds (fan-in 3) and
    shards hold 40 records (so most parties are in other shards)."""
    from pipeline import shards as shard_module
    from pipeline.publish import pieces, tables

    data = [t for t in (ox.Triple(q.subject, q.predicate, q.object) for q in ox.parse(
        path=str(clean_release / "healthcoop.nq"), format=ox.RdfFormat.N_QUADS)
        if q.graph_name.value != DESCRIPTION_GRAPH)]
    reference = tmp_path / "reference"
    reference.mkdir()
    tables.write_tables(set(data), reference, describe.load_metadata(corpus))
    expected = tree_digest(reference)
    assert len(expected) == len(tables.TABLES) + 2
    assert all(tree_digest(clean_release)[name] == digest for name, digest in expected.items())

    monkeypatch.setattr(pieces, "MERGE_FAN_IN", 3)
    original = shard_module.plan_shards
    monkeypatch.setattr(shard_module, "plan_shards", lambda project, size=40, **kwargs:
                        original(project, size, **kwargs))
    out = build_release(copy_project(corpus, tmp_path), tmp_path / "small", register=False,
                        site=False, executor="serial", cache=False)
    assert {name: tree_digest(out)[name] for name in expected} == expected
    with (out / "tables/agreement-parties.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) > 50 and all(row["actor_label"] for row in rows)


def test_the_sources_cut_into_shards_give_the_one_piece_of_all_sources(corpus, clean_release,
                                                                      tmp_path, monkeypatch):
    """The sources are shards of at most `size` too (at 1M records they were one shard of
    40,270 sources). Cut into shards of 3, in the order of their IRIs, the
    data lines of the N-Triples dump are byte for byte, in order, those of one shard of all
    sources; the other dumps hold the same statements and the tables are the same. (What
    differs is the description: the validation report counts the shards.)"""
    from pipeline import shards as shard_module

    original = shard_module.plan_shards
    planned: list = []

    def in_threes(project, size=shard_module.SHARD_RECORDS, source_size=None, graphs=None):
        planned[:] = original(project, size, source_size=3, graphs=graphs)
        return planned

    monkeypatch.setattr(shard_module, "plan_shards", in_threes)
    out = build_release(copy_project(corpus, tmp_path), tmp_path / "threes", register=False,
                        site=False, executor="serial", cache=False)
    source_shards = [s for s in planned if s.kind == "sources"]
    assert len(source_shards) >= 5 and max(len(s.ids) for s in source_shards) == 3
    assert sorted(i for s in source_shards for i in s.ids) == sorted(
        load_project(corpus).sources)

    def data_lines(release: Path) -> list[bytes]:  # the N-Triples after the description
        described = sum(1 for q in ox.parse(path=str(release / "healthcoop.nq"),
                                            format=ox.RdfFormat.N_QUADS)
                        if q.graph_name.value == DESCRIPTION_GRAPH)
        return (release / "healthcoop.nt").read_bytes().splitlines()[described:]

    assert data_lines(out) == data_lines(clean_release)
    assert len(data_lines(out)) > 1000
    assert (Counter(ox.parse(path=str(out / "healthcoop.ttl"), format=ox.RdfFormat.TURTLE))
            == Counter(ox.parse(path=str(out / "healthcoop.nt"),
                                format=ox.RdfFormat.N_TRIPLES)))
    for name, fmt in (("healthcoop.nq", ox.RdfFormat.N_QUADS),
                      ("healthcoop.trig", ox.RdfFormat.TRIG)):
        def statements(release: Path, name=name, fmt=fmt) -> Counter:
            return Counter(q for q in ox.parse(path=str(release / name), format=fmt)
                           if q.graph_name.value != DESCRIPTION_GRAPH
                           and "checksum" not in q.subject.value
                           and "validation-report" not in q.subject.value)
        assert statements(out) == statements(clean_release), name
    tables = {k: v for k, v in tree_digest(out).items() if k.startswith("tables/")}
    assert tables and tables == {k: v for k, v in tree_digest(clean_release).items()
                                 if k.startswith("tables/")}


def test_records_in_many_graphs_are_cut_into_shards_of_their_own(corpus, clean_release,
                                                                  tmp_path, monkeypatch):
    """A record counts once per named graph its entity is in (a place that many records name
    is in the graphs of all of them: at 100k records one file of places was one shard of
    141k quads, 13 times an ordinary shard's). With a budget of 25 copies, every chunk
    holds at most 25 or is one record; the chunks of each file are its records in order;
    the release holds the same statements and tables as the clean build, and the heavy
    file is in more shards than by count."""
    from pipeline import shards as shard_module
    from pipeline.shards import HCID, entity_graphs, plan_shards

    project = load_project(corpus)
    graphs = entity_graphs(project)
    by_count = [s for s in plan_shards(project) if s.kind == "records"]
    monkeypatch.setattr(shard_module.plan, "SHARD_COPIES", 25)
    weighed = [s for s in plan_shards(project, graphs=graphs) if s.kind == "records"]

    def weight(rid: str) -> int:
        return len(graphs.get(HCID + rid, ())) or 1

    assert max(weight(rid) for s in weighed for rid in s.ids) > 25  # (a heavy record)
    assert all(sum(map(weight, s.ids)) <= 25 or len(s.ids) == 1 for s in weighed)
    assert len(weighed) > len(by_count)

    def files(plan) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for shard in plan:
            out.setdefault(shard.file, []).extend(shard.ids)
        return out

    assert files(weighed) == files(by_count)
    assert len({s.key for s in weighed}) == len(weighed)
    planned: list = []

    def recorded(*args, **kwargs):
        planned[:] = plan_shards(*args, **kwargs)
        return planned

    monkeypatch.setattr(shard_module, "plan_shards", recorded)
    out = build_release(copy_project(corpus, tmp_path), tmp_path / "weighed", register=False,
                        site=False, executor="serial", cache=False)
    assert [s for s in planned if s.kind == "records"] == weighed  # (the build weighs too)
    described = {q.subject for q in ox.parse(path=str(clean_release / "healthcoop.nq"),
                                             format=ox.RdfFormat.N_QUADS)
                 if q.graph_name.value == DESCRIPTION_GRAPH}
    for name, fmt in (("healthcoop.nt", ox.RdfFormat.N_TRIPLES),
                      ("healthcoop.nq", ox.RdfFormat.N_QUADS),
                      ("healthcoop.trig", ox.RdfFormat.TRIG)):
        def statements(release: Path, name=name, fmt=fmt) -> Counter:
            return Counter(q for q in ox.parse(path=str(release / name), format=fmt)
                           if q.subject not in described)
        assert statements(out) == statements(clean_release), name
        assert sum(statements(out).values()) > 1000, name
    tables = {k: v for k, v in tree_digest(out).items() if k.startswith("tables/")}
    assert tables and tables == {k: v for k, v in tree_digest(clean_release).items()
                                 if k.startswith("tables/")}


@settings(max_examples=300, deadline=None)
@given(weights=st.lists(st.integers(1, 40), max_size=60), size=st.integers(1, 12),
       budget=st.integers(1, 60))
def test_chunks_are_greedy_runs_within_both_bounds(weights, size, budget):
    """`_chunks`: the ids in order, each run at most `size` long and within `budget` unless
    it is one id, and no run could have taken the next run's first id."""
    from pipeline.shards.plan import _chunks

    ids = [f"r{i}" for i in range(len(weights))]
    weight = dict(zip(ids, weights, strict=True)).__getitem__
    runs = list(_chunks(ids, size, weight, budget))
    assert [rid for run in runs for rid in run] == ids
    assert all(run and len(run) <= size for run in runs)
    assert all(sum(map(weight, run)) <= budget or len(run) == 1 for run in runs)
    for run, following in itertools.pairwise(runs):
        assert len(run) == size or sum(map(weight, run)) + weight(following[0]) > budget


def test_a_shard_another_build_just_stored_is_reused(corpus, clean_release, tmp_path,
                                                     monkeypatch):
    """Two builds of the same inputs sharing a cache (parallel test workers, two terminals):
    when a shard's entry appears between one build's look-up and its store, the store keeps
    the entry that is there (same key, same bytes) instead of failing or deleting it."""
    from pipeline import shards as shard_module

    project = copy_project(corpus, tmp_path)
    build_release(project, tmp_path / "a", register=False, site=False, executor="serial")
    before = {p: p.stat().st_mtime_ns for p in (project / CACHE_DIR).glob("*/*/MANIFEST")}
    real = shard_module.cache.load_cached
    looked: set = set()

    def first_miss(cache, key):  # the look-up misses once; the entry is there all the same
        if key not in looked:
            looked.add(key)
            return None
        return real(cache, key)

    monkeypatch.setattr(shard_module.cache, "load_cached", first_miss)
    out = build_release(project, tmp_path / "b", register=False, site=False, executor="serial")
    assert tree_digest(out) == tree_digest(clean_release)
    assert looked and {p: p.stat().st_mtime_ns for p in before} == before  # kept, not rewritten


def test_stubs_prepared_on_all_cores_equal_those_prepared_in_one(corpus, monkeypatch):
    """`ShaclRun.prepare` maps the referenced records in forked workers: the stubs, labels,
    the records it cannot map and their findings are those of mapping them one by one."""
    from pipeline.check import stubs
    from pipeline.check.shacl import ShaclRun, load_shapes
    from pipeline.errors import IssueList

    project = load_project(corpus)
    shapes = load_shapes(corpus, IssueList())
    real = stubs.map_record
    referenced = sorted({t for r in project.records.records.values()
                         for _f, _i, t in r.references()} & set(project.records.records))
    broken = {referenced[3], referenced[40]}  # referenced: mapped in prepare

    def failing(record, ctx, **options):
        if record.id in broken:
            raise ValueError(f"cannot map {record.id}")
        return real(record, ctx, **options)

    monkeypatch.setattr(stubs, "map_record", failing)
    monkeypatch.setattr(stubs, "STUB_CHUNK", 7)
    monkeypatch.setattr(stubs, "STUB_WORKER_CHUNKS", 2)  # fresh workers every 2 chunks
    prepared = {}
    for jobs in ("1", "2"):
        monkeypatch.setenv("HEALTHCOOP_JOBS", jobs)
        run = ShaclRun(project, shapes, IssueList()).prepare()
        # (the ontology's stubs come in rdflib's graph order, which varies: compared as sets)
        prepared[jobs] = ({node: set(stub) for node, stub in run.stubs.items()},
                          dict(run.labels), set(run._bad),
                          [(i.file, i.line, i.field, i.message) for i in run.issues.items])
    assert prepared["1"] == prepared["2"]
    stubs, labels, bad, issues = prepared["2"]
    assert len(stubs) > 50 and len(labels) > 50
    assert bad == broken
    assert sorted(i[3] for i in issues if "cannot map" in i[3]) == sorted(
        f"The record cannot be turned into RDF: cannot map {rid}" for rid in broken)


@pytest.mark.parametrize("where", ["corpus", "repository"])
def test_stubs_are_those_of_the_whole_mapping(where, corpus):
    """`prepare` maps referenced records without their evidence (no stub predicate is
    hc:evidence): each stub and label is what the record's complete mapping gives."""
    from pipeline.check.shacl import ShaclRun, load_shapes
    from pipeline.errors import IssueList
    from pipeline.rdf.mapping import entity_iri, map_record

    project = load_project(corpus if where == "corpus" else ROOT)
    run = ShaclRun(project, load_shapes(project.root, IssueList()), IssueList()).prepare()
    compared = 0
    for rid, record in sorted(project.records.records.items()):
        node = entity_iri(rid)
        if node not in run.stubs or rid in run._bad:
            continue
        stub, label = run._stub(node, list(map_record(record, run.ctx)))
        assert run.stubs[node] == stub, rid
        assert run.labels.get(str(node)) == label, rid
        compared += 1
    assert compared > (50 if where == "corpus" else 10)


def test_what_the_build_keeps_for_every_record_is_shared_not_repeated(corpus):
    """Kept for the whole build, once per distinct value rather than once per record: the
    named graphs of the entities (one set object for each distinct set of graphs) and the
    targets of the records' references (one tuple for each distinct (field, index, id));
    and a shard leaves no origins of its nodes behind in the process that ran it."""
    from pipeline.check.shacl import ShaclRun, load_shapes
    from pipeline.errors import IssueList

    project = load_project(corpus)
    graphs = shards.entity_graphs(project)
    by_value: dict[frozenset, set[int]] = {}
    for names in graphs.values():
        by_value.setdefault(names, set()).add(id(names))
    assert len(by_value) < len(graphs)  # (so that sharing is something to check)
    assert all(len(ids) == 1 for ids in by_value.values())

    records = project.records.records
    refs: dict[tuple, set[int]] = {}
    occurrences = 0
    for rid in records:
        for reference in records.facts(rid).references:
            refs.setdefault(reference, set()).add(id(reference))
            occurrences += 1
    assert occurrences > len(refs)  # (records point at the same targets)
    assert all(len(ids) == 1 for ids in refs.values())

    issues = IssueList()
    run = ShaclRun(project, load_shapes(corpus, issues), issues)
    env = shards.ShardEnv(run, False, None, {}, {}, "", {}, "")
    run.prepare()
    before = dict(run.ctx.origins)
    plan = [s for s in shards.plan_shards(project) if s.kind == "records"]
    outputs = [shards.process_shard(shard, env) for shard in plan[:3]]
    assert sum(o.checked for o in outputs) > 0
    assert run.ctx.origins == before
