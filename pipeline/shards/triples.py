"""A shard's triples: `shard_triples(shard, env)` maps its records (or sources, topics,
reference labels) once; `release_triples(...)` turns them into its share of the release
(`ReleaseTriples`: sorted, de-duplicated, placed in named graphs)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import pyoxigraph as ox

from pipeline.publish import describe
from pipeline.publish.pieces import GraphGroups
from pipeline.rdf import vocab
from pipeline.rdf.mapping import map_record, map_source
from pipeline.shards.model import HCID, Shard, ShardEnv

HC = str(vocab.HC)
OA = str(vocab.OA)
PROV_DERIVED = "http://www.w3.org/ns/prov#wasDerivedFrom"
GRAPH_BASE = vocab.BASE + "graph/"
UNSOURCED_GRAPH = GRAPH_BASE + "unsourced"
LINKS_GRAPH = GRAPH_BASE + "links"
TOPICS_GRAPH = GRAPH_BASE + "topics"


def shard_triples(shard: Shard, env: ShardEnv) -> tuple[list, list, list, list, set]:
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


def release_triples(shard: Shard, env: ShardEnv, own_keyed: list, links: list,
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
    """A shard's share of the release (`release_triples`)."""

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
