"""`healthcoop load` against a real Oxigraph server (`oxigraph serve` on a loopback port
chosen here, temporary store): every dump format loads to exactly the published data,
reloading replaces instead of duplicating, and an unreachable or refusing store gives a
clear error and exit code 2. Also: Virtuoso's own Turtle loader reads our Turtle dump to
the same IRIs (it keeps the backslash of `hcid:x\\#frag` names in the IRI, which is why our
Turtle writer never writes them)."""

from __future__ import annotations

import pyoxigraph as ox
import pytest
import requests
from click.testing import CliRunner
from tools import rdfstores

from pipeline.cli import main
from pipeline.errors import EnvironmentProblem
from pipeline.load import graph_url, load_release

XSD = "http://www.w3.org/2001/XMLSchema#"
DESCRIPTION_GRAPH = "https://w3id.org/healthcoop/graph/description"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """One Oxigraph server for this module's tests."""
    with rdfstores.oxigraph_server(tmp_path_factory.mktemp("oxigraph")) as ox_server:
        yield ox_server


@pytest.fixture
def store(server):
    server.clear()
    return server


def normalise(term):
    # Oxigraph stores xsd:nonNegativeInteger (and other integer subtypes) as xsd:integer,
    # keeping the value; compare modulo that
    if isinstance(term, ox.Literal) and term.datatype.value == XSD + "nonNegativeInteger":
        return ox.Literal(term.value, datatype=ox.NamedNode(XSD + "integer"))
    return term


def statements(data: bytes, fmt: ox.RdfFormat) -> set[str]:
    out = set()
    for q in ox.parse(data, format=fmt):
        graph = "" if isinstance(q.graph_name, ox.DefaultGraph) else str(q.graph_name)
        out.add(f"{q.subject} {q.predicate} {normalise(q.object)} {graph}".strip())
    return out


def store_content(server: rdfstores.Oxigraph) -> set[str]:
    """Everything the server holds, all graphs, as N-Quads read back."""
    response = requests.get(server.store, headers={"Accept": "application/n-quads"},
                            timeout=60)
    response.raise_for_status()
    return statements(response.content, ox.RdfFormat.N_QUADS)


def cli(*args: str):
    return CliRunner().invoke(main, ["load", *args])


@pytest.mark.parametrize("fmt", ["turtle", "ntriples", "jsonld"])
def test_default_graph_formats_load_the_published_data(fmt, store, release_dir):
    """Turtle, N-Triples and JSON-LD each load, through `healthcoop load`, into the default
    graph to exactly the triples of the N-Triples dump (data and description)."""
    result = cli(str(release_dir), "--endpoint", store.store, "--format", fmt)
    assert result.exit_code == 0, result.output
    assert "replaced the default graph" in result.output
    expected = statements((release_dir / "healthcoop.nt").read_bytes(),
                          ox.RdfFormat.N_TRIPLES)
    assert store_content(store) == expected


@pytest.mark.parametrize("fmt", ["nquads", "trig"])
def test_dataset_formats_load_one_graph_per_source(fmt, store, release_dir):
    """N-Quads and TriG load graph by graph: the store then holds exactly the quads of the
    N-Quads dump (one graph per source and the description graph)."""
    result = cli(str(release_dir), "--endpoint", store.store, "--format", fmt)
    assert result.exit_code == 0, result.output
    expected = statements((release_dir / "healthcoop.nq").read_bytes(), ox.RdfFormat.N_QUADS)
    assert store_content(store) == expected
    assert store.count(DESCRIPTION_GRAPH) > 0


def test_reloading_replaces_instead_of_duplicating(store, release_dir):
    """Loading twice (and another format over the first) leaves the same number of
    statements, per graph too. Since the data has no blank nodes, an append (POST) would
    also keep the count; so finally a one-triple file is loaded over the release: only its
    triple may remain. Fails if uploads append instead of replace."""
    for fmt in ("turtle", "turtle", "ntriples"):
        assert cli(str(release_dir), "--endpoint", store.store, "--format", fmt).exit_code == 0
    first = store.count()
    assert first == len(statements((release_dir / "healthcoop.nt").read_bytes(),
                                   ox.RdfFormat.N_TRIPLES))
    for _ in range(2):
        assert cli(str(release_dir), "--endpoint", store.store, "--per-source").exit_code == 0
    per_graph = store.select("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }")
    nq = statements((release_dir / "healthcoop.nq").read_bytes(), ox.RdfFormat.N_QUADS)
    assert int(per_graph[0]["n"]) == len(nq)
    small = release_dir.parent / "small.nt"
    small.write_text("<https://w3id.org/healthcoop/id/x> <http://www.w3.org/2000/01/"
                     "rdf-schema#label> \"x\" .\n", encoding="utf-8")
    assert cli(str(small), "--endpoint", store.store).exit_code == 0
    assert store.count() == 1


def test_named_graph_target(store, release_dir):
    """--graph IRI puts the default-graph dump into that named graph, replacing it."""
    graph = "https://example.org/healthcoop-test"
    for _ in range(2):
        result = cli(str(release_dir / "healthcoop.ttl.gz"), "--endpoint", store.store,
                     "--graph", graph)
        assert result.exit_code == 0, result.output
    assert store.count(graph) == len(statements((release_dir / "healthcoop.nt").read_bytes(),
                                                ox.RdfFormat.N_TRIPLES))
    assert store.count() == 0


def test_unreachable_store_is_a_clear_error(release_dir):
    """Nothing listens on the port: exit code 2 and 'cannot connect … is the store
    running?', not a traceback."""
    port = rdfstores.free_port()
    result = cli(str(release_dir), "--endpoint", f"http://127.0.0.1:{port}/store")
    assert result.exit_code == 2
    assert f"cannot connect to http://127.0.0.1:{port}/store: is the store running?" \
        in result.output


def test_refusing_store_is_a_clear_error(server, release_dir, tmp_path):
    """The store answers but refuses: bad data gives 'refused the upload with HTTP 400'
    with the store's own message; a wrong path gives its HTTP 404 and a hint."""
    bad = tmp_path / "bad.ttl"
    bad.write_text("<http://a> <http://b> .\n", encoding="utf-8")
    result = cli(str(bad), "--endpoint", server.store)
    assert result.exit_code == 2
    assert "the store refused the upload with HTTP 400:" in result.output
    wrong = cli(str(release_dir), "--endpoint", server.base + "/nowhere")
    assert wrong.exit_code == 2 and "HTTP 404" in wrong.output and "fix:" in wrong.output


def test_usage_errors(release_dir, tmp_path):
    """--graph with --per-source, a non-HTTP endpoint and a missing release are refused
    before anything is sent."""
    with pytest.raises(EnvironmentProblem, match="exclude each other"):
        load_release(release_dir, "http://127.0.0.1:1/store", graph="http://g",
                     per_source=True)
    with pytest.raises(EnvironmentProblem, match="not an http"):
        load_release(release_dir, "ftp://example.org/store")
    with pytest.raises(EnvironmentProblem, match="holds no"):
        load_release(tmp_path, "http://127.0.0.1:1/store")


def test_graph_url_encodes_the_graph_iri():
    """The graph IRI is a query parameter: it must be percent-encoded (`#`, `&`)."""
    assert graph_url("http://h/store", None) == "http://h/store?default"
    assert graph_url("http://h/store", "https://w3id.org/x#y&z") == \
        "http://h/store?graph=https%3A%2F%2Fw3id.org%2Fx%23y%26z"
    assert graph_url("http://h/sparql-graph-crud?a=b", None) == \
        "http://h/sparql-graph-crud?a=b&default"


@pytest.fixture(scope="module")
def virtuoso(tmp_path_factory, release_dir):
    if rdfstores.virtuoso_program() is None:
        pytest.skip("Virtuoso is not installed (run .ci/install-tools)")
    with rdfstores.virtuoso_server(tmp_path_factory.mktemp("virtuoso"),
                                   release_dir) as server:
        yield server


@pytest.mark.external
def test_virtuoso_reads_our_turtle_to_the_same_iris(virtuoso, release_dir):
    """Virtuoso 7.2 (Debian) loads healthcoop.ttl with its own loader to the same number of
    triples, and the evidence fragment IRIs arrive intact (no backslash): Virtuoso keeps
    the `\\` of escaped local names, so this fails with pyoxigraph's Turtle writer."""
    graph = "https://w3id.org/healthcoop/test-load"
    virtuoso.load_turtle(release_dir / "healthcoop.ttl", graph)
    count = virtuoso.select("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", graph)
    expected = len(statements((release_dir / "healthcoop.nt").read_bytes(),
                              ox.RdfFormat.N_TRIPLES))
    assert int(count[0]["n"]) == expected
    subjects = virtuoso.select("SELECT DISTINCT ?s WHERE { ?s ?p ?o }", graph)
    assert not [r["s"] for r in subjects if "\\" in r["s"]]
    fragments = [r["s"] for r in subjects if "#evidence-" in r["s"]]
    assert fragments
