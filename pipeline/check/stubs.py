"""The stubs of referenced records: what a shard may test on a node it points at but does
not hold.

In:  a `ShaclRun` (the loaded project, the shapes' stub predicates) and the ids of the
     records some record points at.
Out: `stubs_of(run, wanted)`: for each id, in order, (id, stub triples, label, findings);
     the findings say why a record cannot be turned into RDF. `stub_predicates(shapes)`:
     the predicates a stub keeps.

A stub is the triples of the record's own node whose predicate a shape may test on a
value node (always rdf:type, for sh:class; plus the paths of the shapes used through
sh:node and friends, e.g. rdfs:label). No stub predicate is hc:evidence, so a record is
mapped for its stub without its evidence, which was half of what mapping it cost. The
records of an unchanged file come from the stub cache (check/stub_cache.py); the others
are mapped on all cores (a fifth of the records at 100k).
"""

from __future__ import annotations

from collections import defaultdict

from rdflib import Graph, URIRef
from rdflib.namespace import RDF, SH

from pipeline.rdf.mapping import MappingContext, entity_iri, map_record
from pipeline.rdf.vocab import HC

STUB_CHUNK = 500  # referenced records per task of a worker
STUB_WORKER_CHUNKS = 32  # tasks a worker runs before a fresh one is forked (parallel.py)
HC_EVIDENCE = HC.evidence


def stubs_of(run, wanted: list[str]) -> list[tuple]:
    """(id, stub, label, findings) of each record of `wanted`, in its order."""
    from pipeline.check import stub_cache
    from pipeline.parallel import fork_map

    where = run.project.records.where
    by_file: dict[str, list[str]] = defaultdict(list)
    for rid in wanted:
        by_file[where.file_of(rid)].append(rid)
    made: dict[str, tuple] = {}
    keys: dict[str, str] = {}
    missed: list[str] = []
    missed_files: list[str] = []
    for file, ids in sorted(by_file.items()):
        found = None
        if run.stub_cache is not None:
            keys[file] = stub_cache.key(run, file, ids)
            found = stub_cache.lookup(run.stub_cache, keys[file], ids)
        if found is None:
            missed += ids
            missed_files.append(file)
        else:
            made.update((item[0], item) for item in found)
    chunks = [missed[i:i + STUB_CHUNK] for i in range(0, len(missed), STUB_CHUNK)]
    for found in fork_map(stub_chunk, run, chunks, per_worker=STUB_WORKER_CHUNKS):
        made.update((item[0], item) for item in found)
    if run.stub_cache is not None:
        for file in missed_files:
            stub_cache.store(run.stub_cache, keys[file], [made[rid] for rid in by_file[file]])
        stub_cache.prune(run.stub_cache, set(keys.values()))
    return [made[rid] for rid in wanted]


def stub_chunk(run, ids: list[str]) -> list[tuple[str, list, str | None, list]]:
    """(id, stub triples, label, issues) of each record in `ids`, mapped in a worker of
    `stubs_of` (the issues say why a record cannot be turned into RDF)."""
    out = []
    records = run.project.records.records
    mapper = map_record if HC_EVIDENCE in run.stub_predicates else _map_without_evidence
    for rid in ids:
        before = len(run.issues.items)
        triples = run._map(rid, mapper, records[rid])
        issues = list(run.issues.items[before:])
        del run.issues.items[before:]  # (in this process the run is the build's own)
        run._bad.discard(rid)  # the build's process marks it, from the issues
        out.append((rid, *run._stub(entity_iri(rid), triples), issues))
    return out


def _map_without_evidence(record, ctx: MappingContext):
    return map_record(record, ctx, evidence=False)


def stub_predicates(shapes: Graph) -> set:
    """rdf:type, and the paths of every shape that may be evaluated on a value node (one
    used through sh:node, sh:qualifiedValueShape, or inside sh:or/and/xone/not), with their
    property shapes: the triples a node needs in a batch where it is only pointed at."""
    from rdflib.collection import Collection

    value_shapes: set = set()
    for predicate in (SH.node, SH.qualifiedValueShape, SH["not"]):
        value_shapes.update(shapes.objects(None, predicate))
    for predicate in (SH["or"], SH["and"], SH.xone):
        for head in shapes.objects(None, predicate):
            value_shapes.update(Collection(shapes, head))
    found = {RDF.type}
    todo, seen = list(value_shapes), set()
    while todo:
        shape = todo.pop()
        if shape in seen:
            continue
        seen.add(shape)
        path = shapes.value(shape, SH.path)
        if isinstance(path, URIRef):
            found.add(path)
        todo.extend(shapes.objects(shape, SH.property))
        todo.extend(shapes.objects(shape, SH.node))
    return found
