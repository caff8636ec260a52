"""The content-addressed cache of shards: `cache_key(shard, env)` (the hash of everything a
shard's output depends on), `load_cached(folder, key)` (an entry whose files all match its
manifest, else None), `store(...)` (a new entry, written atomically), `prune_cache`."""

from __future__ import annotations

import hashlib
import importlib.metadata
import mmap
import os
import pickle
import shutil
import tempfile
from pathlib import Path

import xxhash

from pipeline.publish.pieces import PieceInfo, write_piece, write_rows
from pipeline.rdf.mapping import entity_iri
from pipeline.shards.model import HCID, Shard, ShardEnv, ShardOutput
from pipeline.shards.triples import ReleaseTriples

CACHE_DIR = Path(".cache/shards")
# 2: with table rows; 3: rows as key + CSV; 4: files checked by XXH3-128, not sha256;
# 5: distinct subjects and objects as arrays of digests; 6: pieces only gzip-compressed
CACHE_FORMAT = "healthcoop-shard-cache 6"
# the libraries that write a piece's bytes: terms (rdflib), serialisations (pyoxigraph),
# JSON (orjson) and gzip members (zlib-ng); another version may write other bytes
WRITERS = ("rdflib", "pyoxigraph", "orjson", "zlib-ng")


def cache_key(shard: Shard, env: ShardEnv) -> str:
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
    memo = env.key_parts
    for rid in shard.ids:
        if rid in records.records:  # (its facts: nothing is unpacked)
            facts = records.facts(rid)
            pointed.update(t for _f, _i, t in facts.references)
            cited.update(facts.evidence_sources)
        elif rid in sources:
            cited.add(rid)
        graphs = env.entity_graphs.get(HCID + rid)
        if graphs:  # (one frozenset per distinct set of graphs: each sorted once)
            graphs = memo.get(graphs) or memo.setdefault(graphs, tuple(sorted(graphs)))
        links = run.links_of(rid)
        labels = env.enrichment.get(rid)
        # one NUL-separated line per record: ids, graph IRIs and repr()s of triples hold no
        # NUL (repr escapes it), and the section names are none of them
        lines.append("\0".join((
            "status", rid, "1" if rid in run._bad else "0",
            "graphs", *(graphs or ()),
            "links", *(sorted(map(repr, links)) if links else ()),
            "labels", *(sorted(map(repr, labels)) if labels else ()))))
    put("\n".join(lines))
    # what the key says of each node pointed at and each source cited, as the sha256 of
    # its parts, worked out once: an actor's part holds its stubs, and hashing the parts
    # themselves again for every shard that names it was most of the time this took
    digests = []
    for target in sorted(pointed):
        digest = memo.get(("points-at", target))
        if digest is None:  # (shards point at the same actors: each described once)
            digest = memo["points-at", target] = hashlib.sha256(_encoded(
                "points-at", target, target in run._known, target in run._bad,
                target in run.project.records.failed, run.labels.get(HCID + target, ""),
                *sorted(repr(t) for t in run.stubs.get(entity_iri(target), ())))).digest()
        digests.append(digest)
    for sid in sorted(cited):
        digest = memo.get(("cites", sid))
        if digest is None:
            source = sources.get(sid)
            digest = memo["cites", sid] = hashlib.sha256(_encoded(
                "cites", sid, _source_entry(source) if source else "")).digest()
        digests.append(digest)
    h.update(b"".join(digests))  # (each 32 bytes long)
    if shard.kind == "reference":
        put("labels", *sorted(repr(t) for t in env.enrichment.get("", [])))
    return h.hexdigest()


def _encoded(*parts) -> bytes:
    """Parts as `cache_key` hashes them, each preceded by its length."""
    out = []
    for part in parts:
        data = part if isinstance(part, bytes) else str(part).encode("utf-8")
        out.append(len(data).to_bytes(8, "big"))
        out.append(data)
    return b"".join(out)


def _entry(cache: Path, key: str) -> Path:
    return cache / key[:2] / key


def load_cached(cache: Path, key: str) -> ShardOutput | None:
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


def store(env: ShardEnv, key: str, shard: Shard, release: ReleaseTriples, rows: dict,
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
            existing = load_cached(env.cache, key)
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
