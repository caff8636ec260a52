"""`healthcoop load` against a real Oxigraph server (`oxigraph serve` on a loopback port
chosen here, temporary store): every dump format loads to exactly the published data,
reloading replaces instead of duplicating, and an unreachable or refusing store gives a
clear error and exit code 2. Also: Virtuoso's own Turtle loader reads our Turtle dump to
the same IRIs (it keeps the backslash of `hcid:x\\#frag` names in the IRI, which is why our
Turtle writer never writes them)."""

from __future__ import annotations

import time

import pyoxigraph as ox
import pytest
import requests
from click.testing import CliRunner
from tools import rdfstores
from wikidata_server import body, drip, redirect, running

from pipeline.cli import main
from pipeline.consume.load import graph_url, load_release
from pipeline.errors import EnvironmentProblem

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


def test_refusing_store_is_a_clear_error(store, release_dir, tmp_path):
    """The store answers but refuses: a request it rejects gives 'refused the upload with
    HTTP 400' with the store's own message; a wrong path gives its HTTP 404 and a hint.
    Broken data never gets that far: it is refused here (exit 1, naming the file) and the
    store keeps what it had."""
    assert cli(str(release_dir), "--endpoint", store.store).exit_code == 0
    before = store.count()
    bad = tmp_path / "bad.ttl"
    bad.write_text("<http://a> <http://b> .\n", encoding="utf-8")
    result = cli(str(bad), "--endpoint", store.store)
    assert result.exit_code == 1 and f"{bad} is not valid Turtle" in result.output
    assert store.count() == before
    both = cli(str(release_dir), "--endpoint", store.store + "?graph=http://example.org/g")
    assert both.exit_code == 2
    assert "the store refused the upload with HTTP 400:" in both.output
    assert "Both graph and default" in both.output
    wrong = cli(str(release_dir), "--endpoint", store.base + "/nowhere")
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


# --- hostile stores (the loopback fake of tests/wikidata_server.py, answering PUT) -------------

@pytest.fixture
def fake_store():
    """A scriptable HTTP server on 127.0.0.1 that accepts PUT at /store."""
    with running() as fake:
        fake.store = fake.url.replace("/w/api.php", "/store")
        yield fake


@pytest.fixture
def small(tmp_path):
    path = tmp_path / "small.nt"
    path.write_text('<https://w3id.org/healthcoop/id/x> <http://www.w3.org/2000/01/'
                    'rdf-schema#label> "x" .\n', encoding="utf-8")
    return path


@pytest.mark.parametrize("timeout", [1.0, (10.0, 1.0)], ids=["float", "tuple"])
def test_store_dripping_its_answer_is_cut_at_the_deadline(fake_store, small, timeout):
    """A store that takes the upload, then answers one byte every 0.3 s: each read is
    quick, so only a total deadline ends it. Both the float deadline and the old
    (connect, total) tuple bound the whole upload; without the deadline this takes 30 s."""
    fake_store.script(drip(b"x" * 100, interval=0.3))
    start = time.monotonic()
    with pytest.raises(EnvironmentProblem, match="within 1 s"):
        load_release(small, fake_store.store, timeout=timeout)
    assert time.monotonic() - start < 3
    assert fake_store.requests[0].headers["Content-Type"] == "application/n-triples"


def test_store_dripping_its_headers_is_cut_at_the_deadline(fake_store, small):
    """The same when the status line itself arrives a byte at a time."""
    fake_store.script(drip(b"", interval=0.2, headers=True))
    start = time.monotonic()
    with pytest.raises(EnvironmentProblem, match="within 1 s"):
        load_release(small, fake_store.store, timeout=1.0)
    assert time.monotonic() - start < 3


def test_cli_timeout_is_a_total_deadline(fake_store, small):
    """`healthcoop load --timeout 1` against a dripping store: exit 2 after about a second,
    a message, no traceback."""
    fake_store.script(drip(b"x" * 100, interval=0.3))
    start = time.monotonic()
    result = cli(str(small), "--endpoint", fake_store.store, "--timeout", "1")
    assert result.exit_code == 2 and "within 1 s" in result.output
    assert time.monotonic() - start < 3 and isinstance(result.exception, SystemExit)


def test_redirecting_store_is_refused_not_followed(fake_store, small):
    """requests would follow a 302 on PUT as a GET, and report success with nothing stored;
    uploads therefore do not follow redirects, and the message says where it pointed."""
    fake_store.script(redirect("/elsewhere", 302))
    with pytest.raises(EnvironmentProblem, match="HTTP 302, a redirect to /elsewhere"):
        load_release(small, fake_store.store)
    assert len(fake_store.requests) == 1


def test_store_error_page_cannot_drive_the_terminal(fake_store, small):
    """The store's answer is quoted in the message: its escape sequences (clear screen,
    retitle window, C1 CSI, RTL override) and invalid UTF-8 arrive as visible escapes."""
    page = b"\x1b[2J\x1b]0;pwned\x07 oops \xc2\x9b31m \xe2\x80\xae evil \xff"
    fake_store.script(body(page, status=500, Content_Type="text/html"))
    with pytest.raises(EnvironmentProblem) as err:
        load_release(small, fake_store.store)
    message = err.value.message
    assert "HTTP 500" in message and "\\x1b[2J" in message and "\\u202e" in message
    assert not any(ch in message for ch in "\x1b\x07\x9b\u202e")


@pytest.mark.parametrize("timeout", [0, -1, float("nan"), float("inf"), (10.0, 0), "soon"])
def test_nonsense_timeouts_are_refused(small, timeout):
    """A deadline must be a positive, finite number of seconds."""
    with pytest.raises(EnvironmentProblem, match="seconds"):
        load_release(small, "http://127.0.0.1:9/store", timeout=timeout)


@pytest.mark.parametrize("endpoint", ["http://", "http:///store", "store", "http://h:x/store",
                                      "http://h/store\x1b[31m"])
def test_endpoint_without_host_is_refused(small, endpoint):
    """An endpoint that names no host (or has a bad port, or control characters) is refused
    before anything is read or sent, with the URL shown escaped."""
    with pytest.raises(EnvironmentProblem, match="Graph Store endpoint") as err:
        load_release(small, endpoint)
    assert "\x1b" not in err.value.message


def test_graph_that_is_not_an_iri_is_refused(small):
    """--graph must be an IRI: the store would refuse it anyway, after the upload."""
    with pytest.raises(EnvironmentProblem, match="is not an IRI"):
        load_release(small, "http://127.0.0.1:9/store", graph="not an iri")
