"""What a shard is (`Shard`), what it needs of the rest of the dataset (`ShardEnv`,
prepared once) and what it gives back (`ShardOutput`)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.check.shacl import ShaclResult, ShaclRun
from pipeline.errors import Issue
from pipeline.publish import describe
from pipeline.publish.pieces import PieceInfo
from pipeline.rdf import vocab

HCID = str(vocab.HCID)


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
    # worked out once (the same for every shard once the run is prepared), and each
    # distinct set of graphs sorted
    key_parts: dict = field(default_factory=dict, repr=False, compare=False)
    # shard key -> its cache key, for the shards `run_shards` looked up and did not find
    missing: dict[str, str] = field(default_factory=dict, repr=False, compare=False)
