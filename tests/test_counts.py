"""One triple count everywhere (issue 13): what `validate` checks plus the topic scheme is the
data; `void:triples` and `healthcoop diff` count the data; every dump is data + description.
Four different numbers once appeared with nothing explaining them."""

from __future__ import annotations

from collections import Counter

import pyoxigraph as ox

from pipeline.check.validate import validate_project
from pipeline.consume.diff import read_data

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
