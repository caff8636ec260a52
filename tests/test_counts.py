"""One triple count everywhere (issue 13): what `validate` checks plus the topic scheme is the
data; `void:triples` and `healthcoop diff` count the data; every dump is data + description.
Four different numbers once appeared with nothing explaining them."""

from __future__ import annotations

from collections import Counter

import pyoxigraph as ox
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.check.validate import validate_project
from pipeline.consume.diff import read_data
from pipeline.publish import describe

GRAPH = "https://w3id.org/healthcoop/graph/"
DATASET = "https://w3id.org/healthcoop/dataset"


def test_one_count_rule(release_dir, project_root):
    """The README's "Counting triples" rule, number by number, on the real release."""
    quads = list(ox.parse(path=str(release_dir / "healthcoop.nq"), format=ox.RdfFormat.N_QUADS))
    by_graph = Counter(q.graph_name.value for q in quads)
    description = {ox.Triple(q.subject, q.predicate, q.object) for q in quads
                   if q.graph_name.value == GRAPH + "description"}
    data = {ox.Triple(q.subject, q.predicate, q.object) for q in quads
            if q.graph_name.value != GRAPH + "description"}
    void = ox.Store()
    void.load(path=str(release_dir / "void.ttl"), format=ox.RdfFormat.TURTLE)
    [row] = list(void.query(f"SELECT ?n WHERE {{ <{DATASET}> "
                            "<http://rdfs.org/ns/void#triples> ?n }"))
    assert int(row["n"].value) == len(data)
    assert len(read_data(release_dir)) == len(data)
    checked = validate_project(project_root).stats["triples"]
    assert checked + by_graph[GRAPH + "topics"] == len(data)
    lines = (release_dir / "healthcoop.nt").read_text(encoding="utf-8").count("\n")
    assert lines == len(data | description)


@settings(max_examples=60, deadline=None)
@given(pieces=st.lists(st.lists(st.tuples(st.integers(0, 30), st.integers(0, 30)),
                                max_size=12), max_size=12),
       counted_after=st.integers(0, 12))
def test_merged_statistics_count_each_distinct_term_once(pieces, counted_after):
    """VoID's distinct subjects and objects of shards merged (arrays of digests, joined when
    counted, here also once midway) are those of all their triples at once; a subject's
    triples are in one piece, as in the build, while objects repeat across pieces."""
    node = "https://w3id.org/healthcoop/id/n{}".format
    p = ox.NamedNode("https://w3id.org/healthcoop/ontology#p")
    merged = describe.DataStats("https://w3id.org/healthcoop/id/")
    everything = set()
    for index, pairs in enumerate(pieces):
        triples = [ox.Triple(ox.NamedNode(node(f"{index}-{s}")), p,
                             ox.NamedNode(node(o)) if o % 2 else ox.Literal(str(o)))
                   for s, o in pairs]
        everything.update(triples)
        merged.merge(describe.DataStats.of(sorted(set(triples), key=str), merged.uri_space))
        if index == counted_after:
            merged.distinct_objects()
    assert merged.triples == len(everything)
    assert merged.distinct_subjects() == len({t.subject for t in everything})
    assert merged.distinct_objects() == len({t.object for t in everything})
    assert merged.entities == len({t.subject for t in everything})
