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

Modules, data flowing down: `model` (what a shard is, needs and gives) -> `plan` (the
shards and their entities' named graphs) -> `triples` (a shard's triples: mapped, then as
published: sorted, in graphs) -> `cache` (cache keys and entries) -> `run` (each shard
looked up, or mapped, validated and written, on an executor).
"""

from pipeline.shards.cache import CACHE_DIR, file_digest, project_digest, prune_cache
from pipeline.shards.model import HCID, Shard, ShardEnv, ShardOutput
from pipeline.shards.plan import SHARD_COPIES, SHARD_RECORDS, entity_graphs, plan_shards
from pipeline.shards.run import WORKER_SHARDS, process_shard, run_shards

__all__ = ["CACHE_DIR", "HCID", "SHARD_COPIES", "SHARD_RECORDS", "WORKER_SHARDS", "Shard",
           "ShardEnv", "ShardOutput", "entity_graphs", "file_digest", "plan_shards",
           "process_shard", "project_digest", "prune_cache", "run_shards"]
