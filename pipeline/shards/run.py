"""Run the shards: `run_shards(env, shards, executor=...)` -> every shard's `ShardOutput`,
in shard order; those in the cache are taken from it, the others mapped, validated and
(when writing) written as pieces by `process_shard`, serially, on forked processes or on
Dask."""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterator

from pipeline.errors import EnvironmentProblem, InvalidData
from pipeline.heap import freeze_loaded, shard_heap
from pipeline.publish import describe, tables
from pipeline.shards import cache
from pipeline.shards.model import Shard, ShardEnv, ShardOutput
from pipeline.shards.triples import release_triples, shard_triples

# shards a worker process runs before a fresh one is forked (pipeline/parallel.py: a worker
# keeps a copy of every page of the build it has read; at 100k records, 32 kept the
# workers at about half a gigabyte each instead of growing to 955 MB)
WORKER_SHARDS = 32


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
            key = cache.cache_key(shard, env)
            cached = cache.load_cached(env.cache, key)
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
            key = cache.cache_key(shard, env)
            cached = cache.load_cached(env.cache, key)
            if cached is not None:
                return cached
    before = len(run.issues.items)
    own, own_keyed, links, enrichment, owned = shard_triples(shard, env)
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
    release = release_triples(shard, env, own_keyed, links, enrichment)
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
        output.piece = cache.store(env, key, shard, release, rows, output)
    return output
