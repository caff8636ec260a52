"""Cut the project into shards: `plan_shards(project, graphs=...)` -> the list of `Shard`s
in the order their pieces are written; `entity_graphs(project)` -> the named graphs of every
entity, which bound a shard's size and place its triples."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from pipeline.shards.model import HCID, Shard

SHARD_RECORDS = 500
# an entity is published once in each of its named graphs: a shard holds at most this many
# such copies, about the quads of SHARD_RECORDS ordinary records (one graph each, ~25
# triples) in entities like places (~10 triples, in thousands of graphs)
SHARD_COPIES = 2000


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
