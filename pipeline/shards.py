"""Stage `shards`: the project cut into shards, each mapped once, validated and written as
pieces of the release, in parallel; unchanged shards come from the cache.

In:  the loaded, checked project (sources, records with positions) and its shapes.
Out: `run_shards(project, shapes, issues, ...)` returns a `ShardRun`: per shard its SHACL
     results (translated to file:line:field issues), its mapping issues, its statistics and,
     when writing, its pieces (pipeline/publish/pieces.py) in a content-addressed cache folder.

A shard is one record file (or a chunk of a large one: at most `SHARD_RECORDS` records and
`SHARD_COPIES` copies of entities in named graphs), the sources, or the topic scheme. What
a shard needs of the rest of the dataset is small and computed once, before any shard
runs: the stubs of the nodes it points at (ShaclRun), the named graphs of its entities
(`entity_graphs`: an entity without evidence is published where the entities that point at
it are), and the links and Wikidata labels of its actors.

Executors: "serial" (in this process), "processes" (a fork-started pool, one worker per
core: workers inherit the prepared run; the default where fork exists) and "dask" (Dask
distributed, `--scheduler ADDRESS`; workers receive the run once and must see the cache
folder, which a LocalCluster on this machine does).

Cache key of a shard: the code version, the shapes and ontology, the bytes of the shard's
record file, the stubs and status of every node its records point at, its entities' graphs,
links and labels, and the sha256 of every source they cite. An entry holds its pieces and a
manifest of their XXH3-128 digests; an entry whose files do not match is rebuilt, never
trusted.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import itertools
import mmap
import os
import pickle
import shutil
import tempfile
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox
import xxhash

from pipeline.check.shacl import ShaclResult, ShaclRun
from pipeline.errors import EnvironmentProblem, InvalidData, Issue
from pipeline.heap import freeze_loaded, shard_heap
from pipeline.publish import describe, tables
from pipeline.publish.pieces import GraphGroups, PieceInfo, write_piece, write_rows
from pipeline.rdf import vocab
from pipeline.rdf.mapping import entity_iri, map_record, map_source

SHARD_RECORDS = 500
# an entity is published once in each of its named graphs: a shard holds at most this many
# such copies, about the quads of SHARD_RECORDS ordinary records (one graph each, ~25
# triples) in entities like places (~10 triples, in thousands of graphs)
SHARD_COPIES = 2000
# shards a worker process runs before a fresh one is forked (pipeline/parallel.py: a worker
# keeps a copy of every page of the build it has read; at 100k records, 32 kept the
# workers at about half a gigabyte each instead of growing to 955 MB)
WORKER_SHARDS = 32
CACHE_DIR = Path(".cache/shards")
# 2: with table rows; 3: rows as key + CSV; 4: files checked by XXH3-128, not sha256;
# 5: distinct subjects and objects as arrays of digests
CACHE_FORMAT = "healthcoop-shard-cache 5"
# the libraries that write a piece's bytes: terms (rdflib), serialisations (pyoxigraph),
# JSON (orjson) and gzip members (zlib-ng); another version may write other bytes
WRITERS = ("rdflib", "pyoxigraph", "orjson", "zlib-ng")
HCID = str(vocab.HCID)
HC = str(vocab.HC)
OA = str(vocab.OA)
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
DCT_SOURCE = "http://purl.org/dc/terms/source"
PROV_DERIVED = "http://www.w3.org/ns/prov#wasDerivedFrom"
GRAPH_BASE = vocab.BASE + "graph/"
UNSOURCED_GRAPH = GRAPH_BASE + "unsourced"
LINKS_GRAPH = GRAPH_BASE + "links"
TOPICS_GRAPH = GRAPH_BASE + "topics"


@dataclass(frozen=True)
class Shard:
    """A unit of work: the records `ids` of one file (kind "records"), the sources, or the
    topic scheme. `key` names it (and its pieces)."""

    key: str
    kind: str
    file: str
    ids: tuple[str, ...]


@dataclass
class ShardOutput:
    """What a shard found and wrote."""

    key: str
    results: list[ShaclResult]
    issues: list[Issue]
    stats: describe.DataStats
    graph_sizes: Counter
    checked: int = 0                 # triples of its records, sources and links validated
    piece: PieceInfo | None = None
    cached: bool = False
    table_issues: list[Issue] | None = None  # its entities cannot be written as table rows


@dataclass
class ShardEnv:
    """Everything a shard needs, prepared once (and sent once to each worker)."""

    run: ShaclRun
    write: bool
    cache: Path | None
    entity_graphs: dict[str, frozenset]
    enrichment: dict[str, list]
    uri_space: str
    prefixes: dict
    digest: str                      # code, shapes, ontology
    # what the cache keys of shards say about a node they point at or a source they cite,
    # worked out once (the same for every shard once the run is prepared)
    key_parts: dict = field(default_factory=dict, repr=False, compare=False)
    # shard key -> its cache key, for the shards `run_shards` looked up and did not find
    missing: dict[str, str] = field(default_factory=dict, repr=False, compare=False)


def plan_shards(project, size: int = SHARD_RECORDS, source_size: int | None = None,
                graphs: dict[str, frozenset] | None = None) -> list[Shard]:
    """Sources, topics, then every record file's records in the order they are written,
    cut into chunks of at most `size` (the sources: `source_size`, by default `size`).

    With the entities' named graphs (`entity_graphs`), a chunk also holds at most
    `SHARD_COPIES` copies of its entities in graphs (a record heavier than that is a chunk
    of its own): an entity without evidence of its own is published in every graph of the
    records that point at it, so a place or an organisation many records name is many
    records' worth of quads (at 100k records China is in 3,682 of the 4,027 source graphs,
    and the file of places was one shard of 141k quads where an ordinary one has 11k: a
    shard that grew with the corpus).

    The sources are in the order of their IRIs' N-Triples forms, the order a piece sorts
    its subjects in, so their chunks' pieces together are the one piece of all sources
    (which at 1M records was a shard of 40,270 sources: a shard's size is bounded)."""
    sources = sorted(project.sources, key=lambda sid: f"<{HCID}{sid}>")
    step = source_size or size
    shards = [Shard(f"0-sources-{start // step:04d}", "sources", "data/sources.yaml",
                    tuple(sources[start:start + step]))
              for start in range(0, len(sources), step)]
    shards += [Shard("1-topics", "topics", "ontology/topics.ttl", ()),
               Shard("1-reference", "reference", "data/links.yaml", ())]
    by_file: dict[str, list[tuple[int, str]]] = defaultdict(list)
    where = project.records.where
    for rid in where:
        if rid in project.records.records:
            by_file[where.file_of(rid)].append((where.line_of(rid), rid))
    graphs = graphs or {}

    def weight(rid: str) -> int:
        return len(graphs.get(HCID + rid, ())) or 1

    for number, file in enumerate(sorted(by_file)):
        ids = [rid for _line, rid in sorted(by_file[file])]
        for index, chunk in enumerate(_chunks(ids, size, weight, SHARD_COPIES)):
            shards.append(Shard(f"2-{number:05d}-{index:04d}", "records", file, chunk))
    return shards


def _chunks(ids: list[str], size: int, weight, budget: int) -> Iterator[tuple[str, ...]]:
    """`ids` in order, in runs of at most `size` whose weights add up to at most `budget`
    (a record heavier than that is a run of its own)."""
    chunk: list[str] = []
    load = 0
    for rid in ids:
        heft = weight(rid)
        if chunk and (len(chunk) == size or load + heft > budget):
            yield tuple(chunk)
            chunk, load = [], 0
        chunk.append(rid)
        load += heft
    if chunk:
        yield tuple(chunk)


def entity_graphs(project) -> dict[str, frozenset]:
    """The named graphs of every entity (docs/model.md, "Named graphs"): a source's own graph;
    a record's, those of the sources its evidence quotes; a record citing none, those of the
    records that point at it (followed transitively), else `…/graph/unsourced`."""
    from pipeline.publish.release import source_graph

    graphs: dict[str, set] = {}
    referrers: dict[str, set] = defaultdict(set)
    for sid in project.sources:
        graphs[HCID + sid] = {source_graph(sid)}
    for rid in project.records.records:  # (their facts: read/record_store.py)
        node = HCID + rid
        cited = set()
        for name, _index, target in project.records.references_of(rid):
            if name.startswith("evidence["):
                cited.add(source_graph(target))
            elif target != rid:
                referrers[HCID + target].add(node)
        if cited:
            graphs[node] = cited
    # only an entity with no graph of its own yet (a record without evidence, or an id no
    # record has) takes its referrers' graphs; sources and quoting records never do
    takers = [(entity, refs) for entity, refs in referrers.items()
              if entity not in graphs or _inherits(entity, project)]
    changed = True
    while changed:
        changed = False
        for entity, refs in takers:
            if entity in graphs and not _inherits(entity, project):
                continue
            inherited = set().union(*(graphs.get(r, set()) for r in refs))
            if not inherited <= graphs.get(entity, set()):
                graphs.setdefault(entity, set()).update(inherited)
                changed = True
    # one frozenset for each distinct set of graphs (10,834 generated records: 11,237
    # entities, 421 distinct sets; a frozenset is 216 bytes or more)
    shared: dict[frozenset, frozenset] = {}
    return {e: shared.setdefault(names := frozenset(g), names) for e, g in graphs.items()}


def _inherits(entity: str, project) -> bool:
    rid = entity[len(HCID):]
    return rid in project.records.records and not project.records.facts(rid).evidence_sources


def run_shards(env: ShardEnv, shards: list[Shard], executor: str = "auto",
               scheduler: str | None = None, jobs: int | None = None) -> list[ShardOutput]:
    """Every shard's output, in shard order.

    When writing into a cache, the shards found there are taken from it here, before any
    worker starts, and only the others are sent to the executor: after one record file
    changed, a build of 100k records forked 14 fresh workers for the 444 shards it
    only had to look up, and each worker worked out again the cache-key parts of every
    actor its shards point at (those are kept in `env.key_parts`, which forked workers
    inherit)."""
    from pipeline.parallel import fork_available, fork_map

    if executor == "auto":
        executor = "processes" if fork_available() else "serial"
    if executor not in ("serial", "processes", "dask"):
        raise EnvironmentProblem(f"unknown executor {executor!r}",
                                 fix="Use --executor serial, processes or dask.")
    if executor == "dask":
        _require_dask(scheduler)  # (also when every shard is in the cache)
    env.run.prepare()
    freeze_loaded()  # the stubs and compiled shapes live as long as the project (heap.py)
    found: dict[str, ShardOutput] = {}
    if env.write and env.cache is not None:
        for shard in shards:
            key = _cache_key(shard, env)
            cached = _load_cached(env.cache, key)
            if cached is not None:
                found[shard.key] = cached
            else:
                env.missing[shard.key] = key
    todo = [shard for shard in shards if shard.key not in found]
    if executor == "serial":
        made = [process_shard(shard, env) for shard in todo]
    elif executor == "processes":
        made = fork_map(_process, env, todo, jobs, per_worker=WORKER_SHARDS)
    else:
        made = _run_dask(env, todo, scheduler) if todo else []
    found.update((shard.key, output) for shard, output in zip(todo, made, strict=True))
    return [found[shard.key] for shard in shards]


def _process(env: ShardEnv, shard: Shard) -> ShardOutput:
    return process_shard(shard, env)


def _require_dask(scheduler: str | None) -> None:
    try:
        import distributed  # noqa: F401
    except ImportError as err:
        raise EnvironmentProblem(
            "--executor dask needs Dask distributed, which is not installed.",
            fix="pip install 'healthcoop[dask]' (or choose --executor processes).") from err
    if not scheduler:
        raise EnvironmentProblem("--executor dask needs --scheduler ADDRESS.",
                                 fix="Start a scheduler (`dask scheduler`) and pass its address.")


def _run_dask(env: ShardEnv, shards: list[Shard], scheduler: str) -> list[ShardOutput]:
    from distributed import Client

    try:
        client = Client(scheduler, timeout=30)
    except (OSError, TimeoutError) as err:
        raise EnvironmentProblem(f"cannot reach the Dask scheduler at {scheduler}: {err}",
                                 fix="Check the address and that the scheduler runs.") from err
    try:
        shared = client.scatter(env, broadcast=True)
        futures = client.map(process_shard, shards, env=shared, pure=False)
        return client.gather(futures)
    finally:
        client.close()


def process_shard(shard: Shard, env: ShardEnv) -> ShardOutput:
    """Map, validate and (when writing) write one shard; from the cache when unchanged."""
    with shard_heap(), _own_origins(env.run.ctx.origins):  # (heap.py: no collection)
        return _process_shard(shard, env)


@contextlib.contextmanager
def _own_origins(origins: dict) -> Iterator[None]:
    """Forget the origins (rdf/mapping.py) of the nodes a shard mapped once it is done: they
    locate its own findings, and kept they grew a worker by 0.4 to 0.8 MB a shard. Those that
    were there before (the stubs' records, mapped before the shards) stay."""
    before = len(origins)
    try:
        yield
    finally:
        # (a node mapped again keeps its place in the dict: those after `before` are new).
        # Read from the end: skipping the first `before` keys walked all of them, once per
        # shard, and in a forked worker touching an object writes its reference count
        for node in list(itertools.islice(reversed(origins), len(origins) - before)):
            del origins[node]


def _process_shard(shard: Shard, env: ShardEnv) -> ShardOutput:
    run = env.run
    key = None
    if env.write and env.cache is not None:
        key = env.missing.get(shard.key)
        if key is None:  # (not looked up by run_shards)
            key = _cache_key(shard, env)
            cached = _load_cached(env.cache, key)
            if cached is not None:
                return cached
    before = len(run.issues.items)
    own, own_keyed, links, enrichment, owned = _shard_triples(shard, env)
    if shard.kind == "topics":
        graph, owned = run.topic_batch()
        results = run.validate_graph(graph, owned) if len(graph) else []
    elif own or links:
        results = run.validate_triples(own + links, owned)
    else:
        results = []
    new_issues = list(run.issues.items[before:])
    del run.issues.items[before:]  # (in this process the run is shared between shards)
    translated = {id(r.issue) for r in results}
    new_issues = [i for i in new_issues if id(i) not in translated]
    release = _release_triples(shard, env, own_keyed, links, enrichment)
    stats = describe.DataStats(env.uri_space)
    stats.add_texts([(s, p, o) for s, _not_type, p, o in release.ordered])
    output = ShardOutput(shard.key, results, new_issues, stats, release.sizes,
                         0 if shard.kind in ("topics", "reference") else len(set(own + links)))
    if key is not None:
        rows: dict = {}
        try:
            rows = tables.shard_rows(release.split, run.labels)
        except InvalidData as err:  # published only if validation passes; then it stops it
            output.table_issues = list(err.issues)
        output.piece = _store(env, key, shard, release, rows, output)
    return output


def _shard_triples(shard: Shard, env: ShardEnv) -> tuple[list, list, list, list, set]:
    """(mapped triples, their keys and pyoxigraph terms (OxConverter.keyed), link triples,
    Wikidata-label triples, subjects owned)."""
    run = env.run
    own: list = []
    keyed: list = []
    links: list = []
    enrichment: list = []
    if shard.kind == "sources":
        for sid in shard.ids:
            if sid not in run._bad:
                own += run._map(sid, map_source, run.project.sources[sid], keyed)
    elif shard.kind == "topics":
        own = list(run.topic_triples)
        keyed = [run.ox.keyed(*t) for t in own]
    elif shard.kind == "reference":  # Wikidata labels' provenance: not about one entity
        enrichment = list(env.enrichment.get("", []))
    else:
        for rid in shard.ids:
            if rid in run._bad:
                continue
            own += run._map(rid, map_record, run.project.records.records[rid], keyed)
            links += run.links_of(rid)
            enrichment += env.enrichment.get(rid, [])
    owned = {t[0] for t in own} | {t[0] for t in links}
    return own, keyed, links, enrichment, owned


def _release_triples(shard: Shard, env: ShardEnv, own_keyed: list, links: list,
                     enrichment: list) -> ReleaseTriples:
    """The shard's data triples (sorted, de-duplicated, pyoxigraph), its named graphs
    (`pieces.GraphGroups`: which of those triples each holds), the sort keys of the triples
    (in the same order), the same triples split for the tables and JSON-LD, and the number
    of triples in each graph (by IRI).

    Everything is keyed by the N-Triples forms of the terms (publish._triple_key: by
    subject, rdf:type first, predicate, object), computed once per term from the rdflib
    side (the mapped triples' when they were mapped, `own_keyed`): reading a pyoxigraph
    term's parts makes new objects every time."""
    from pipeline.link import ENRICHMENT_GRAPH

    convert = env.run.ox.keyed
    terms: dict[tuple, tuple] = {}  # key -> (s, p, o) pyoxigraph terms

    def keys_of(pairs) -> list[tuple]:
        out = []
        for key, triple in pairs:
            terms.setdefault(key, triple)
            out.append(key)
        return out

    own_keys = keys_of(own_keyed)
    link_keys = keys_of(convert(*t) for t in links)
    enrich_keys = keys_of(convert(*t) for t in enrichment)
    ordered = sorted(terms)
    data = [ox.Triple(*terms[key]) for key in ordered]
    # (subject's N-Triples form, predicate IRI, object) of each: what the tables and the
    # JSON-LD read, without making new objects from `data`'s parts
    split = [(key[0], key[2][1:-1], terms[key][2]) for key in ordered]
    if shard.kind == "topics":
        placed = ((TOPICS_GRAPH, key) for key in own_keys)
    else:
        placed = _assign(own_keys, env.entity_graphs)
    # The named graphs, by their N-Triples forms (publish._quad_key: by graph, then as the
    # triples), each with the positions of its triples in `ordered`: an entity many records
    # name is in thousands of graphs (at 100k records China's 10 triples are 36,829 quads),
    # so a copy is one int in a set, never a pyoxigraph quad (pieces.piece_texts)
    position = {key: i for i, key in enumerate(ordered)}
    members: dict[str, set[int]] = {}
    graph_text: dict[str, str] = {}  # graph IRI -> its N-Triples form
    for placements in (placed, ((LINKS_GRAPH, key) for key in link_keys),
                       ((str(ENRICHMENT_GRAPH), key) for key in enrich_keys)):
        for graph, key in placements:
            gtext = graph_text.get(graph)
            if gtext is None:  # (pyoxigraph checks the IRI)
                gtext = graph_text[graph] = str(ox.NamedNode(graph))
                members[gtext] = set()
            members[gtext].add(position[key])
    graphs = [(gtext, sorted(members[gtext])) for gtext in sorted(members)]
    # (an IRI's N-Triples form is the IRI in <>: rdf/oxterms.py)
    sizes = Counter({gtext[1:-1]: len(positions) for gtext, positions in graphs})
    return ReleaseTriples(data, graphs, ordered, split, sizes)


@dataclass
class ReleaseTriples:
    """A shard's share of the release (`_release_triples`)."""

    data: list[ox.Triple]  # sorted, de-duplicated
    graphs: GraphGroups  # the named graphs: which of those triples each holds
    ordered: list[tuple]  # the sort key of each triple (rdf/oxterms.py), in the same order
    split: list[tuple]  # (subject's N-Triples form, predicate IRI, object) of each
    sizes: Counter  # graph IRI -> its number of triples


def _assign(keys: list[tuple], graphs: dict[str, frozenset]):
    """(graph IRI, triple key) pairs: the quads of a shard's mapped triples, from their keys
    (N-Triples forms; the rule of publish.assign_graphs, with the graphs of entities
    computed beforehand): an evidence annotation, its target and selectors, and the
    entity's hc:evidence link to it, in the graph of the source quoted; every other triple
    in the graphs of its entity."""
    from pipeline.publish.release import source_graph

    target_of: dict[str, str] = {}
    source_of_target: dict[str, str] = {}
    derived: dict[str, str] = {}
    selectors: dict[str, str] = {}
    has_target, has_source, has_selector, derived_from = (
        f"<{OA}hasTarget>", f"<{OA}hasSource>", f"<{OA}hasSelector>", f"<{PROV_DERIVED}>")
    for s, _not_type, p, o in keys:
        if p == has_target:
            target_of[s] = o
        elif p == has_source:
            source_of_target[s] = o
        elif p == derived_from and o[0] == "<":
            derived[s] = o
        elif p == has_selector:
            selectors[o] = s
    quoted: dict[str, str] = {}
    for ann, target in target_of.items():
        src = source_of_target.get(target) or derived.get(ann)
        if src:
            src = src[1:-1]  # (an IRI's N-Triples form is the IRI in <>: rdf/oxterms.py)
            name = source_graph(src[len(HCID):] if src.startswith(HCID)
                                else describe.slug(src))
            quoted[ann] = quoted[target] = name
    for selector, target in selectors.items():
        if target in quoted:
            quoted[selector] = quoted[target]
    unsourced = (UNSOURCED_GRAPH,)
    named: dict[str, tuple] = {}  # subject's N-Triples form -> its graphs
    evidence = f"<{HC}evidence>"
    for key in keys:
        s, _not_type, p, o = key
        if s in quoted:
            yield quoted[s], key
            continue
        if p == evidence and o in quoted:
            yield quoted[o], key
            continue
        names = named.get(s)
        if names is None:
            # publish.entity_of: `…/id/<id>#anything` -> `…/id/<id>`; None for a blank node
            iri = s[1:-1] if s[0] == "<" else None
            entity = (iri.split("#", 1)[0] if iri.startswith(HCID) and "#" in iri else iri) \
                if iri is not None else None
            names = named[s] = tuple(sorted(graphs.get(entity, ()))) or unsourced
        for name in names:
            yield name, key


# --- the cache ---------------------------------------------------------------------------------

def _cache_key(shard: Shard, env: ShardEnv) -> str:
    run = env.run
    h = hashlib.sha256()

    def put(*parts) -> None:
        h.update(_encoded(*parts))

    put(CACHE_FORMAT, env.digest, shard.key, shard.kind, shard.file, *shard.ids)
    put(run.project.records.digests.get(shard.file, ""))
    records = run.project.records
    sources = run.project.sources
    pointed: set[str] = set()
    cited: set[str] = set()
    lines = []
    for rid in shard.ids:
        if rid in records.records:  # (its facts: nothing is unpacked)
            facts = records.facts(rid)
            pointed.update(t for _f, _i, t in facts.references)
            cited.update(facts.evidence_sources)
        elif rid in sources:
            cited.add(rid)
        # one NUL-separated line per record: ids, graph IRIs and repr()s of triples hold no
        # NUL (repr escapes it), and the section names are none of them
        lines.append("\0".join((
            "status", rid, "1" if rid in run._bad else "0",
            "graphs", *sorted(env.entity_graphs.get(HCID + rid, ())),
            "links", *sorted(t.__repr__() for t in run.links_of(rid)),
            "labels", *sorted(t.__repr__() for t in env.enrichment.get(rid, [])))))
    put("\n".join(lines))
    # each part as `put` would hash it (length first), kept so: one update for them all
    memo = env.key_parts
    parts = []
    for target in sorted(pointed):
        part = memo.get(("points-at", target))
        if part is None:  # (shards point at the same actors: each described once)
            part = memo["points-at", target] = _encoded(_encoded(
                "points-at", target, target in run._known, target in run._bad,
                target in run.project.records.failed, run.labels.get(HCID + target, ""),
                *sorted(repr(t) for t in run.stubs.get(entity_iri(target), ()))))
        parts.append(part)
    for sid in sorted(cited):
        part = memo.get(("cites", sid))
        if part is None:
            source = sources.get(sid)
            part = memo["cites", sid] = _encoded(_encoded(
                "cites", sid, _source_entry(source) if source else ""))
        parts.append(part)
    h.update(b"".join(parts))
    if shard.kind == "reference":
        put("labels", *sorted(repr(t) for t in env.enrichment.get("", [])))
    return h.hexdigest()


def _encoded(*parts) -> bytes:
    """Parts as `_cache_key` hashes them, each preceded by its length."""
    out = []
    for part in parts:
        data = part if isinstance(part, bytes) else str(part).encode("utf-8")
        out.append(len(data).to_bytes(8, "big"))
        out.append(data)
    return b"".join(out)


def _entry(cache: Path, key: str) -> Path:
    return cache / key[:2] / key


def _load_cached(cache: Path, key: str) -> ShardOutput | None:
    """The cached output, if the entry is complete and every file matches its manifest."""
    entry = _entry(cache, key)
    try:
        manifest = (entry / "MANIFEST").read_text(encoding="utf-8").splitlines()
        if not manifest or manifest[0] != CACHE_FORMAT:
            return None
        for line in manifest[1:]:
            digest, name = line.split("  ", 1)
            if file_digest(entry / name) != digest:
                return None
        with (entry / "output.pickle").open("rb") as f:
            output = pickle.load(f)
    except (OSError, ValueError, pickle.UnpicklingError, EOFError, AttributeError,
            ImportError, IndexError):
        return None  # missing, partial or corrupt: rebuilt
    if not isinstance(output, ShardOutput) or output.piece is None:
        return None
    output.piece.folder = str(entry)
    output.cached = True
    _touch(entry)
    return output


def _store(env: ShardEnv, key: str, shard: Shard, release: ReleaseTriples, rows: dict,
           output: ShardOutput) -> PieceInfo:
    """Write the pieces, the table rows and the output into a new cache entry (atomically:
    a temporary folder renamed into place)."""
    entry = _entry(env.cache, key)
    entry.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{key[:12]}-", dir=entry.parent))
    try:
        piece = write_piece(tmp, "piece", release.data, release.graphs, env.prefixes,
                            release.split)
        piece.tables = tuple(sorted(name for name, found in rows.items() if found))
        for name in piece.tables:
            write_rows(piece.rows_path(name), rows[name])
        output.piece = piece
        with (tmp / "output.pickle").open("wb") as f:
            pickle.dump(output, f, protocol=pickle.HIGHEST_PROTOCOL)
        names = sorted(p.name for p in tmp.iterdir())
        lines = [CACHE_FORMAT] + [f"{file_digest(tmp / n)}  {n}" for n in names]
        (tmp / "MANIFEST").write_text("\n".join(lines) + "\n", encoding="utf-8")
        try:
            os.rename(tmp, entry)
        except OSError:  # the entry exists: ours, corrupt (it failed its manifest), or just
            # written by another build of the same inputs, which is then as good as this one
            existing = _load_cached(env.cache, key)
            if existing is not None and existing.piece is not None:
                return existing.piece
            shutil.rmtree(entry, ignore_errors=True)
            os.rename(tmp, entry)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    piece.folder = str(entry)
    _touch(entry)
    return piece


def file_digest(path: Path) -> str:
    """XXH3-128 of a file's bytes: what an entry's manifest holds to detect a damaged or
    partial file (not an adversary: the cache is the build's own), at 17 GB/s here where
    sha256 reads 1.5. The file is mapped, not read: copying 2.9 GB of pieces into buffers
    cost ten times the hashing when an incremental build of 100k records looked its
    entries up."""
    with path.open("rb") as f:
        if os.fstat(f.fileno()).st_size == 0:  # (an empty file cannot be mapped)
            return xxhash.xxh3_128().hexdigest()
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
            return xxhash.xxh3_128(mapped).hexdigest()


def _touch(entry: Path) -> None:
    try:
        os.utime(entry)
    except OSError:
        pass


def prune_cache(cache: Path, keep: set[str]) -> int:
    """Remove the cache entries this build did not use (only folders that carry our
    manifest); return how many."""
    removed = 0
    if not cache.is_dir():
        return 0
    for bucket in cache.iterdir():
        if not bucket.is_dir() or len(bucket.name) != 2:
            continue
        for entry in bucket.iterdir():
            if entry.name in keep or not (entry / "MANIFEST").is_file():
                continue
            if (entry / "MANIFEST").read_text(encoding="utf-8",
                                              errors="replace").startswith(CACHE_FORMAT):
                shutil.rmtree(entry, ignore_errors=True)
                removed += 1
    return removed


def project_digest(root: Path) -> str:
    """The code version, the versions of the libraries whose output a piece holds, shapes
    and ontology, as one digest (a change invalidates every cached shard)."""
    from pipeline.read.record_cache import code_digest

    h = hashlib.sha256(code_digest().encode())
    h.update(_encoded(*(f"{name} {importlib.metadata.version(name)}" for name in WRITERS)))
    for folder in ("shapes", "ontology"):
        for path in sorted((root / folder).glob("*.ttl")):
            if path.is_file():  # (a FIFO or device there is reported by the reader)
                h.update(f"{folder}/{path.name}".encode())
                h.update(path.read_bytes())
    return h.hexdigest()


def _source_entry(source) -> str:
    """A source's registry entry and the sha256 of its text (what its triples come from)."""
    import dataclasses

    fields = {f.name: getattr(source, f.name) for f in dataclasses.fields(source)
              if f.name != "text"}
    return repr(sorted(fields.items()))
