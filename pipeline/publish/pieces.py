"""Stage `publish`, streaming part: each shard's share of the five dumps, and the dumps
assembled from those shares.

In:  one shard's data triples (pyoxigraph, de-duplicated and sorted) and its named graphs
     (`GraphGroups`: which of those triples each holds), or, for
     assembly, the ordered list of pieces and the description's triples.
Out: `write_piece(...)` writes the piece: the body of each format (no prefixes, no JSON-LD
     envelope) as one gzip member, `<name>.nt.gz`, `.ttl.gz`, `.jsonld.gz`, `.nq.gz`,
     `.trig.gz`. `assemble_dumps(...)` writes healthcoop.{nt,ttl,jsonld,nq,trig}.gz by
     concatenating a header, the description and the pieces' members in order, and
     healthcoop.{nt,...} by the same with each member decompressed on the way.
     A shard's table rows (publish/tables.py) sit beside its piece (`write_rows`: each
     row's sort key and CSV line); the tables are written from `merged_rows`, every
     shard's lines merged in order by key, without decoding a row.

Why pieces: every subject's triples are in exactly one piece (a record's entity and its
fragments are in its shard), so concatenation never repeats or splits a subject, and a
piece that did not change is reused from the cache byte for byte, its gzip member too: a
gzip file may hold several members (RFC 1952, section 2.2), which every gzip reader joins.
A piece is kept only compressed: its plain bytes were nine tenths of the cache (32 GB at a
million records, more than this machine's page cache, so writing them and reading them back
for the dumps went to the disk), and zlib-ng inflates them for the plain dumps at about
3 GB/s (deflating them runs at about 0.16 GB/s).
The dumps are deterministic: pieces come in shard order and each is sorted.
"""

from __future__ import annotations

import bisect
import hashlib
import heapq
import io
import mmap
import os
import struct
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
from zlib_ng import gzip_ng, zlib_ng

from pipeline.errors import EnvironmentProblem
from pipeline.publish import jsonld
from pipeline.publish.tables import csv_line
from pipeline.rdf.oxterms import SplitTriple

FORMATS = ("nt", "ttl", "jsonld", "nq", "trig")
GZIP_LEVEL = 6  # level 9 costs 2.3x the time for files 2-3% smaller
DUMP_NAMES = {"nt": "healthcoop.nt", "ttl": "healthcoop.ttl", "jsonld": "healthcoop.jsonld",
              "nq": "healthcoop.nq", "trig": "healthcoop.trig"}


@dataclass
class PieceInfo:
    """A written piece: its files' folder and name."""

    folder: str
    name: str
    empty: bool
    tables: tuple[str, ...] = ()  # the tables it has rows for (publish/tables.py)

    def path(self, fmt: str, gz: bool = False) -> Path:
        return Path(self.folder) / f"{self.name}.{fmt}{'.gz' if gz else ''}"

    def rows_path(self, table: str) -> Path:
        return Path(self.folder) / f"{self.name}.{table}.rows"


def turtle_prefixes(prefixes: dict) -> dict:
    """The prefixes pyoxigraph may use in Turtle and TriG: all but those of namespaces whose
    IRIs continue with a fragment (`hcid:` -> `…/id/x#evidence-…`), which pyoxigraph would
    write as a prefixed name with an escaped `\\#`, valid Turtle that Virtuoso 7.2 reads as
    an IRI containing a backslash; those IRIs are written in full."""
    return {p: ns for p, ns in sorted(prefixes.items()) if p not in FRAGMENT_NAMESPACES}


FRAGMENT_NAMESPACES = ("hcid",)


def gzip_member(data: bytes) -> bytes:
    """One deterministic gzip member (no file name, mtime 0), by zlib-ng: at level 6 it
    took 0.66 s where zlib took 0.95 s on 100 MB of the 100k N-Triples dump, and wrote 5%
    fewer bytes (the member depends on zlib-ng's version, which the shard cache's key
    holds: shards.project_digest)."""
    return gzip_ng.compress(data, compresslevel=GZIP_LEVEL, mtime=0)


GraphGroups = Sequence[tuple[str, Sequence[int]]]
"""A piece's quads as its named graphs, in order: each graph's N-Triples form (`<iri>`) and
the positions, in the piece's sorted triples, of the triples it holds (in order)."""


def piece_texts(triples: Sequence[ox.Triple], graphs: GraphGroups, prefixes: dict,
                *, first: bool = False, split: Sequence[SplitTriple] | None = None
                ) -> dict[str, bytes]:
    """The five bodies of one piece (N-Triples and Turtle by pyoxigraph; the Turtle and TriG
    without their prefix lines, which the dump's header has). N-Quads and TriG are put
    together from the triples' N-Triples lines and Turtle, graph by graph, as pyoxigraph
    writes them (tests/test_pieces.py compares the two on arbitrary quads): an entity many
    records name is in thousands of graphs (at 100k records China's 10 triples are 36,829
    quads), so making a pyoxigraph quad of each copy was most of such a shard's cost.
    JSON-LD: one node object per line, each starting with ",\n    " (the description,
    always the first piece, starts with "\n    ": `first`), from `split` when given (the
    same triples as (subject's N-Triples form, predicate IRI, object): jsonld.split_nodes)."""
    safe = turtle_prefixes(prefixes)
    nt = ox.serialize(list(triples), format=ox.RdfFormat.N_TRIPLES) if triples else b""
    out: dict[str, bytes] = {
        "nt": nt,
        "nq": nquads_text(nt, graphs),
        "ttl": _without_prefixes(ox.serialize(list(triples), format=ox.RdfFormat.TURTLE,
                                              prefixes=safe), safe) if triples else b"",
        "trig": trig_text(triples, graphs, safe),
    }
    text = io.StringIO()
    for index, node in enumerate(jsonld.nodes(triples) if split is None
                                 else jsonld.split_nodes(split)):
        text.write("\n    " if first and index == 0 else ",\n    ")
        text.write(jsonld.dump_node_line(node))
    out["jsonld"] = text.getvalue().encode("utf-8")
    return out


def nquads_text(ntriples: bytes, graphs: GraphGroups) -> bytes:
    """The N-Quads of `graphs` from the N-Triples of their triples: each line `s p o .`
    becomes `s p o <g> .` (N-Triples escapes every line break inside a term, so a line is a
    triple)."""
    if not graphs:
        return b""
    heads = [line[:-1] for line in ntriples.split(b"\n")[:-1]]  # "s p o " (no ".\n")
    out = []
    for graph, positions in graphs:
        tail = graph.encode("utf-8") + b" .\n"
        out.append(tail.join([heads[i] for i in positions]) + tail)
    return b"".join(out)


def trig_text(triples: Sequence[ox.Triple], graphs: GraphGroups, prefixes: dict) -> bytes:
    """The TriG of `graphs` (without prefix lines): for each graph `<g> {`, the Turtle of its
    triples with every line indented by a tab, `}`. The Turtle of a set of triples is
    written once however many graphs hold it."""
    bodies: dict[tuple, bytes] = {}
    out = []
    for graph, positions in graphs:
        key = tuple(positions)
        body = bodies.get(key)
        if body is None:
            turtle = _without_prefixes(ox.serialize([triples[i] for i in positions],
                                                    format=ox.RdfFormat.TURTLE,
                                                    prefixes=prefixes), prefixes)
            body = bodies[key] = b"".join(b"\t" + line + b"\n"
                                          for line in turtle.split(b"\n")[:-1])
        out.append(b"".join((_graph_name(graph, prefixes), b" {\n", body, b"}\n")))
    return b"".join(out)


def _graph_name(graph: str, prefixes: dict) -> bytes:
    """A graph's name as pyoxigraph's TriG writes it: the IRI in full unless one of the
    prefixes could abbreviate it, in which case pyoxigraph is asked."""
    iri = graph[1:-1]
    if not any(iri.startswith(ns) for ns in prefixes.values()):
        return graph.encode("utf-8")
    probe = ox.Quad(ox.NamedNode("urn:x"), ox.NamedNode("urn:x"), ox.NamedNode("urn:x"),
                    ox.NamedNode(iri))
    written = _without_prefixes(ox.serialize([probe], format=ox.RdfFormat.TRIG,
                                             prefixes=prefixes), prefixes)
    return written[:written.index(b" {\n")]


def _without_prefixes(data: bytes, prefixes: dict) -> bytes:
    """pyoxigraph's Turtle or TriG minus the `@prefix` lines it starts with."""
    start = 0
    while data.startswith(b"@prefix ", start):
        start = data.index(b"\n", start) + 1
    body = data[start:]
    return body if not body or body.endswith(b"\n") else body + b"\n"


def write_piece(folder: Path, name: str, triples: Sequence[ox.Triple], graphs: GraphGroups,
                prefixes: dict, split: Sequence[SplitTriple] | None = None) -> PieceInfo:
    """Write the five files of one piece into `folder` (which must exist): each format's
    body as a gzip member (an empty body as an empty file)."""
    for fmt, data in piece_texts(triples, graphs, prefixes, split=split).items():
        (folder / f"{name}.{fmt}.gz").write_bytes(gzip_member(data) if data else b"")
    return PieceInfo(str(folder), name, not triples)


def assemble_dumps(out_dir: Path, description: Sequence[ox.Triple], description_graph: str,
                   pieces: Iterable[PieceInfo], prefixes: dict) -> dict[Path, tuple[int, str]]:
    """healthcoop.{nt,ttl,jsonld,nq,trig} and .gz in `out_dir`: header, the description,
    then every piece in the order given (the description's triples, sorted, in the graph
    `description_graph`, an IRI). Returns each written file's size and sha256,
    worked out from the bytes as they are written (a dump is not read back to hash it).
    Both a dump and its .gz are made from the pieces' gzip members: the .gz by copying
    them, the dump by inflating them."""
    pieces = [p for p in pieces if not p.empty]
    in_graph = [(f"<{description_graph}>", range(len(description)))] if description else []
    body = piece_texts(description, in_graph, prefixes, first=True)
    header = _prefix_lines(turtle_prefixes(prefixes).items())
    heads = {
        "nt": body["nt"], "nq": body["nq"],
        "ttl": header + body["ttl"],
        "trig": header + body["trig"],
        "jsonld": ('{\n  "@context": ' + jsonld.dump_context() + ',\n  "@graph": [').encode()
                  + body["jsonld"],
    }
    tails = {"jsonld": b"\n  ]\n}\n"}
    jobs = []
    for fmt in FORMATS:
        path = out_dir / DUMP_NAMES[fmt]
        for gz in (False, True):
            target = path.with_name(path.name + ".gz") if gz else path
            head = gzip_member(heads[fmt]) if gz else heads[fmt]
            tail = (gzip_member(tails[fmt]) if gz else tails[fmt]) if fmt in tails else b""
            jobs.append((target, head, [p.path(fmt, gz=True) for p in pieces], tail,
                         not gz))
    # the ten dumps at once, one per core: copying, inflating and sha256 release the
    # interpreter lock; the largest first (a plain dump's bytes are about 8 times its
    # members'), so that the last to finish is a small one (N-Quads and N-Triples are two
    # thirds of the bytes: a large one started last would run on alone)
    jobs.sort(key=lambda job: -sum(os.stat(p).st_size for p in job[2]) * (8 if job[4] else 1))
    with ThreadPoolExecutor(max_workers=max(1, min(len(jobs), os.cpu_count() or 1))) as pool:
        done = [pool.submit(_concatenate, *job) for job in jobs]
        return {job[0]: future.result() for job, future in zip(jobs, done, strict=True)}


def _concatenate(target: Path, head: bytes, files: list[Path], tail: bytes,
                 inflate: bool = False) -> tuple[int, str]:
    """Write `head`, the files' bytes (with `inflate`, each file's one gzip member
    decompressed) and `tail` into `target`; its size and sha256.

    Each piece is mapped and written and hashed from the mapping, unbuffered: no copy of
    its bytes is made in this process (reading each block as a new bytes object and writing
    it through a buffered file took 2-3.5x as long, reading into one reused buffer 1.1-1.4x:
    the 1 GB of N-Quads pieces of 100k records)."""
    digest, size = hashlib.sha256(head), len(head)
    with target.open("wb", buffering=0) as out:
        _write_all(out, head)
        for path in files:
            with path.open("rb", buffering=0) as part:
                if not os.fstat(part.fileno()).st_size:  # (an empty file cannot be mapped)
                    continue
                with mmap.mmap(part.fileno(), 0, access=mmap.ACCESS_READ) as block:
                    for data in _inflated(block, path) if inflate else (block,):
                        _write_all(out, data)
                        digest.update(data)
                        size += len(data)
        if tail:
            _write_all(out, tail)
            digest.update(tail)
            size += len(tail)
    return size, digest.hexdigest()


INFLATE_INPUT = 1 << 16  # compressed bytes inflated at a time (about 1.5 MB out here)


def _inflated(member, path: Path) -> Iterator[bytes]:
    """The decompressed bytes of `member` (a mapped file that must be one gzip member), in
    blocks: the input is fed a slice at a time, so that no block is larger than a slice's
    worth (zlib's `max_length` would instead copy the rest of the input again each time)."""
    inflater = zlib_ng.decompressobj(31)  # (31: a gzip header and trailer)
    fed = 0
    try:
        while fed < len(member) and not inflater.eof:
            chunk = member[fed:fed + INFLATE_INPUT]
            fed += len(chunk)
            data = inflater.decompress(chunk)
            if data:
                yield data
        data = inflater.flush()
        if data:
            yield data
    except zlib_ng.error as err:
        raise _damaged(path, str(err)) from err
    if not inflater.eof or inflater.unused_data or fed < len(member):
        raise _damaged(path, "not one complete gzip member")


def _damaged(path: Path, why: str) -> EnvironmentProblem:
    return EnvironmentProblem(
        f"the cached piece {path} changed while the build read it ({why})",
        fix="Run the build again (the damaged entry fails its manifest and is rebuilt), "
            "or build with --no-cache.")


def _write_all(out, data) -> None:
    """All of `data` into the unbuffered file `out` (a raw write may take only a part)."""
    view = memoryview(data)
    while view:
        view = view[out.write(view):]


def _prefix_lines(prefixes: Iterable[tuple[str, str]]) -> bytes:
    return ("".join(f"@prefix {p}: <{ns}> .\n" for p, ns in prefixes) + "\n").encode("utf-8")


# --- rows of shards: sort key and CSV line, merged in order ------------------------------------

MERGE_FAN_IN = 500  # open files per merge step (a larger release merges in rounds)
ROWS_BLOCK = 1 << 16  # bytes read from a rows file at a time while merging
_LENGTH = struct.Struct(">II")  # (key bytes, line bytes) before each row of a rows file


def row_key(row: list[str]) -> bytes:
    """Bytes that sort as the row does among rows of its table (lists of strings, as
    `list.sort` orders them): each value in UTF-8 (whose byte order is code point order)
    with NUL escaped as NUL 0x01 and ended by NUL NUL, so that a value sorts before every
    longer value it begins."""
    # (escaped and joined as text, then encoded once: the same bytes, as NUL and 0x01 are
    # one byte each in UTF-8)
    return ("\0\0".join([v.replace("\0", "\0\1") for v in row]) + "\0\0").encode("utf-8") \
        if row else b""


def write_rows(path: Path, rows: Iterable[list[str]]) -> None:
    """One table's sorted rows of one shard, each as its sort key and its CSV line."""
    parts = []
    pack = _LENGTH.pack
    for row in rows:
        key, line = row_key(row), csv_line(row)
        parts += (pack(len(key), len(line)), key, line)
    path.write_bytes(b"".join(parts))


def merged_rows(paths: list[Path]) -> Iterator[bytes]:
    """The CSV lines of several `write_rows` files, merged in the order of their rows
    (compared by key, never decoded), a run of lines at a time; with more files than
    MERGE_FAN_IN, merged in rounds through temporary files."""
    for run in _merged(paths):
        yield b"".join([line for _key, line in run])


def _merged(paths: list[Path]) -> Iterator[list[tuple[bytes, bytes]]]:
    if len(paths) <= MERGE_FAN_IN:
        yield from _merge_runs([_read_blocks(p) for p in paths])
        return
    with tempfile.TemporaryDirectory(prefix="healthcoop-rows-") as tmp:
        rounds = []
        for start in range(0, len(paths), MERGE_FAN_IN):
            part = Path(tmp) / f"{start:09d}.rows"
            with part.open("wb") as out:
                for run in _merge_runs([_read_blocks(p)
                                        for p in paths[start:start + MERGE_FAN_IN]]):
                    out.write(b"".join([b for key, line in run
                                        for b in (_LENGTH.pack(len(key), len(line)), key,
                                                  line)]))
            rounds.append(part)
        yield from _merged(rounds)


def _merge_runs(sources: list[Iterator[list[tuple[bytes, bytes]]]]
                ) -> Iterator[list[tuple[bytes, bytes]]]:
    """Sorted sources (each a series of non-empty blocks of sorted entries) merged, as runs
    of entries which, one after another, are all the entries in order (equal entries are
    equal bytes, so their order among themselves does not show).

    The source with the smallest entry gives, in one run, every entry of its block up to
    the smallest entry of the others (found by bisection): where shards' rows do not
    interleave, as those of most tables do not, a block is one run. heapq.merge, an entry
    at a time, was 2 s of the 2.4 s the tables took at 100k records."""
    heap: list[tuple[tuple[bytes, bytes], int]] = []
    current: list[tuple[list, int]] = []  # per source: its block, the position in it
    for index, source in enumerate(sources):
        block = next(source, None)
        current.append((block or [], 0))
        if block:
            heap.append((block[0], index))
    heapq.heapify(heap)
    while heap:
        _head, index = heapq.heappop(heap)
        block, pos = current[index]
        end = bisect.bisect_right(block, heap[0][0], pos) if heap else len(block)
        yield block if pos == 0 and end == len(block) else block[pos:end]
        if end == len(block):
            block, end = next(sources[index], None), 0
            if block is None:
                continue
        current[index] = (block, end)
        heapq.heappush(heap, (block[end], index))


def _read_blocks(path: Path) -> Iterator[list[tuple[bytes, bytes]]]:
    """The (key, line) entries of a rows file, in lists of those read at a time (a file
    read per entry was most of what merging the tables cost); no list is empty."""
    size = _LENGTH.size
    with path.open("rb") as f:
        buf, pos = b"", 0
        while True:
            entries = []
            while len(buf) - pos >= size:
                keylen, linelen = _LENGTH.unpack_from(buf, pos)
                need = size + keylen + linelen
                if len(buf) - pos < need:
                    break
                start = pos + size
                entries.append((buf[start:start + keylen], buf[start + keylen:pos + need]))
                pos += need
            if entries:
                yield entries
            need = size
            if len(buf) - pos >= size:
                keylen, linelen = _LENGTH.unpack_from(buf, pos)
                need = size + keylen + linelen
            more = f.read(max(ROWS_BLOCK, need - (len(buf) - pos)))
            if not more:
                if pos != len(buf):
                    raise ValueError(f"{path}: truncated rows file")
                return
            buf, pos = buf[pos:] + more, 0
