"""The example queries in queries/*.rq.

1. Each says what it answers, and its answers on the real data include the facts written
   below, checked by hand against the source texts in data/sources/ (quoted in each test).
   These run on the Turtle dump in pyoxigraph's default graph, on the N-Quads dump in
   pyoxigraph (named graphs only, nothing in the default graph), and on an Oxigraph server
   loaded by the README's own recipe.
2. They answer the same however the data is loaded: the load recipes of README.md and
   docs/loading.md are read from those files and run as written (only the port changed),
   in Oxigraph, Jena TDB2 and Virtuoso with default settings, and every example query must
   return exactly the rows it returns on healthcoop.ttl in pyoxigraph's default graph, and
   at least one.

The facts are "these answers are among the rows", never totals, so they stay true as
records are added.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
import pytest
from tools import rdfstores
from tools.external import JENA, jena_present, need, virtuoso_present

ROOT = Path(__file__).resolve().parent.parent
QUERIES = sorted((ROOT / "queries").glob("*.rq"))
HCID = "https://w3id.org/healthcoop/id/"


def query_text(name: str) -> str:
    return (ROOT / "queries" / f"{name}.rq").read_text(encoding="utf-8")


def rows_of(store: ox.Store, text: str) -> list[dict]:
    result = store.query(text)
    names = [v.value for v in result.variables]
    return [{n: s[n].value for n in names if s[n] is not None} for s in result]


def run(store: ox.Store, name: str) -> list[dict]:
    return rows_of(store, query_text(name))


# --- loading recipes, read from the documentation ---------------------------------------------

@dataclass(frozen=True)
class Recipe:
    """One fenced `sh` block of a document, chosen by its section and a command it has."""

    id: str
    doc: str          # README.md or docs/loading.md
    section: str      # the heading the block is under
    contains: str     # a piece of text that picks the block within the section
    store: str        # oxigraph, tdb2 or virtuoso: how the test queries it afterwards
    ports: tuple[str, ...]  # the documented port numbers, replaced by free ones
    without: str = "\0"  # ... and a piece of text it must not have

    def text(self) -> str:
        blocks = [b for b in fenced_blocks((ROOT / self.doc).read_text(encoding="utf-8"),
                                           self.section)
                  if self.contains in b and self.without not in b]
        assert len(blocks) == 1, (f"{self.doc}, section {self.section!r}: expected one sh "
                                  f"block with {self.contains!r}, found {len(blocks)}")
        return blocks[0]


def fenced_blocks(markdown: str, section: str) -> list[str]:
    """The ```sh blocks under the heading that starts with `section` (up to the next
    heading of the same or a higher level)."""
    lines = markdown.split("\n")
    start = level = None
    for i, line in enumerate(lines):
        m = re.match(r"(#+) (.*)", line)
        if m and m.group(2).startswith(section):
            start, level = i + 1, len(m.group(1))
            break
    assert start is not None, f"no heading {section!r}"
    blocks, current = [], None
    for line in lines[start:]:
        m = re.match(r"(#+) ", line)
        if current is None and m and len(m.group(1)) <= level:
            break
        if current is None and line.strip() == "```sh":
            current = []
        elif current is not None and line.strip() == "```":
            blocks.append("\n".join(current))
            current = None
        elif current is not None:
            current.append(line)
    return blocks


def shell_commands(block: str) -> list[str]:
    """The commands of a block: lines joined at a trailing backslash, without blank lines
    and whole-line comments."""
    commands, pending = [], ""
    for line in block.split("\n"):
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        line = pending + line
        pending = ""
        if line.strip() and not line.lstrip().startswith("#"):
            commands.append(line.strip())
    return commands


RECIPES = [
    Recipe("readme-oxigraph-per-source", "README.md", "Loading into a SPARQL store",
           "--per-source", "oxigraph", ("7878",)),
    Recipe("oxigraph-default-graph", "docs/loading.md", "Oxigraph (tested)",
           "healthcoop load", "oxigraph", ("7878",), without="--per-source"),
    Recipe("oxigraph-per-source", "docs/loading.md", "Oxigraph (tested)",
           "--per-source", "oxigraph", ("7878",)),
    Recipe("jena-tdb2-nquads", "docs/loading.md", "Apache Jena TDB2 (tested)",
           "tdb2.tdbloader", "tdb2", ()),
    Recipe("virtuoso-nquads", "docs/loading.md", "Virtuoso (tested",
           "healthcoop.nq", "virtuoso", ("1111",)),
    Recipe("virtuoso-turtle", "docs/loading.md", "Virtuoso (tested",
           "healthcoop.ttl", "virtuoso", ("1111",)),
]
BACKGROUND = re.compile(r"^(?P<command>.*?)\s*&\s*(#.*)?$")


def _wait_port(port: int, process: subprocess.Popen, log: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the background command exited with {process.returncode}: "
                                 f"{log.read_text(errors='replace')[-2000:]}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise AssertionError(f"nothing listens on port {port} after {seconds} s")


class RecipeRun:
    """Runs a recipe's commands as written with `sh -c`, from `cwd` (which holds the release
    as output/), with the venv's programs and links named like Jena's commands on PATH; a
    command ending in `&` is started in the background (its own process group, stopped at
    the end) and waited for until its port answers."""

    def __init__(self, cwd: Path, ports: dict[str, int]):
        self.cwd = cwd
        self.ports = ports
        self.background: list[subprocess.Popen] = []
        bin_dir = cwd / ".bin"
        bin_dir.mkdir()
        for name in ("tdb2.tdbloader", "tdb2.tdbquery"):
            (bin_dir / name).symlink_to(JENA)
        self.env = {**os.environ, "PATH": os.pathsep.join(
            [str(bin_dir), str(Path(sys.executable).parent), os.environ.get("PATH", "")])}

    def substitute(self, text: str) -> str:
        for documented, port in self.ports.items():
            text = re.sub(rf"\b{documented}\b", str(port), text)
        return text

    def run(self, block: str) -> list[str]:
        outputs = []
        for command in shell_commands(self.substitute(block)):
            m = BACKGROUND.match(command)
            if m:
                log = self.cwd / f"background-{len(self.background)}.log"
                with log.open("wb") as out:
                    process = subprocess.Popen(["sh", "-c", m.group("command")], cwd=self.cwd,
                                               env=self.env, stdout=out,
                                               stderr=subprocess.STDOUT,
                                               stdin=subprocess.DEVNULL,
                                               start_new_session=True)
                self.background.append(process)
                for port in self.ports.values():
                    if str(port) in command:
                        _wait_port(port, process, log)
                continue
            result = subprocess.run(["sh", "-c", command], cwd=self.cwd, env=self.env,
                                    capture_output=True, text=True, timeout=600,
                                    stdin=subprocess.DEVNULL)
            assert result.returncode == 0, (f"`{command}` exited with {result.returncode}:\n"
                                            f"{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
            outputs.append(result.stdout)
        return outputs

    def stop(self) -> None:
        for process in self.background:
            if process.poll() is None:
                os.killpg(process.pid, 15)
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, 9)
                    process.wait(timeout=10)


def _tdb2_select(run_: RecipeRun, location: str, text: str) -> list[dict]:
    query = run_.cwd / "query.rq"
    query.write_text(text, encoding="utf-8")
    result = subprocess.run([str(JENA), "tdb2.tdbquery", "--loc", location, "--results=JSON",
                             "--query", str(query)], cwd=run_.cwd, env=run_.env,
                            capture_output=True, text=True, timeout=300,
                            stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr[-2000:]
    doc = json.loads(result.stdout)
    return [{k: v["value"] for k, v in row.items()} for row in doc["results"]["bindings"]]


@pytest.fixture(scope="module")
def recipe_store(request, tmp_path_factory, release_dir):
    """A store loaded by one documented recipe; yields `select(query text) -> rows`."""
    recipe: Recipe = request.param
    block = recipe.text()
    if recipe.store == "tdb2":
        need(jena_present(), "Apache Jena (libapache-jena-java, java)")
    if recipe.store == "virtuoso":
        need(virtuoso_present(), "Virtuoso (virtuoso-opensource)")
    workdir = tmp_path_factory.mktemp(recipe.id)
    cwd = workdir / "consumer"
    cwd.mkdir()
    shutil.copytree(release_dir, cwd / "output")
    if recipe.store == "virtuoso":
        with rdfstores.virtuoso_server(workdir, cwd / "output") as server:
            runner = RecipeRun(cwd, {recipe.ports[0]: server.sql_port})
            runner.run(block)
            yield lambda text: rdfstores.sparql_select(server.sparql, text)
        return
    ports = {p: rdfstores.free_port() for p in recipe.ports}
    runner = RecipeRun(cwd, ports)
    try:
        outputs = runner.run(block)
        if recipe.store == "oxigraph":
            base = f"http://127.0.0.1:{ports['7878']}"
            yield lambda text: rdfstores.sparql_select(base + "/query", text)
        else:
            location = re.search(r"--loc (\S+)", block).group(1)
            assert any(o.strip() for o in outputs[1:]), "the recipe's own query printed nothing"
            yield lambda text: _tdb2_select(runner, location, text)
    finally:
        runner.stop()


@pytest.fixture(scope="module")
def default_graph_store(release_dir) -> ox.Store:
    """The reference: healthcoop.ttl loaded into pyoxigraph's default graph."""
    store = ox.Store()
    store.bulk_load(path=str(release_dir / "healthcoop.ttl"), format=ox.RdfFormat.TURTLE)
    return store


def normalised(rows: list[dict], text: str) -> Counter:
    """Rows as a multiset of (variable, value) tuples; values concatenated with GROUP_CONCAT
    are sorted, as SPARQL leaves their order to the store."""
    concatenated = set(re.findall(r"GROUP_CONCAT\([^)]*\)\s+AS\s+\?(\w+)", text))
    out = Counter()
    for row in rows:
        items = []
        for key, value in sorted(row.items()):
            if key in concatenated:
                value = " ".join(sorted(value.split()))
            items.append((key, value))
        out[tuple(items)] += 1
    return out


@pytest.mark.parametrize("recipe_store", [
    pytest.param(r, id=r.id, marks=[pytest.mark.external] if r.store != "oxigraph" else [])
    for r in RECIPES], indirect=True)
@pytest.mark.parametrize("path", QUERIES, ids=lambda p: p.stem)
def test_documented_recipe_answers_like_the_default_graph(recipe_store, path,
                                                          default_graph_store):
    """Each load recipe of README.md and docs/loading.md, run exactly as written, gives a
    store in which the example query returns the same rows as on healthcoop.ttl in
    pyoxigraph's default graph, and at least one row. Fails when a query reads only the
    default graph (0 rows after the README's per-source load, or in TDB2 with the N-Quads),
    when a triple in several graphs duplicates rows, and when a recipe stops working."""
    text = path.read_text(encoding="utf-8")
    want = normalised(rows_of(default_graph_store, text), text)
    assert want, f"{path.name} returns no row on the Turtle dump"
    got = normalised(recipe_store(text), text)
    assert got == want, (f"{path.name}: {sum(got.values())} rows vs {sum(want.values())};\n"
                         f"only in the store: {list(got - want)[:3]}\n"
                         f"only in the reference: {list(want - got)[:3]}")


def test_recipes_are_found_in_the_documents():
    """Every recipe the tests run is a block of its document with the commands expected:
    if a section is renamed or a block rewritten beyond recognition, this says which."""
    for recipe in RECIPES:
        commands = shell_commands(recipe.text())
        assert commands, recipe.id
    readme = RECIPES[0].text()
    assert "oxigraph serve" in readme and "healthcoop load output/" in readme


# --- the answers on the real data -------------------------------------------------------------

@pytest.fixture(scope="module")
def readme_server(tmp_path_factory, release_dir):
    """An Oxigraph server loaded by the README's recipe (per-source named graphs)."""
    cwd = tmp_path_factory.mktemp("readme-recipe")
    shutil.copytree(release_dir, cwd / "output")
    port = rdfstores.free_port()
    runner = RecipeRun(cwd, {"7878": port})
    try:
        runner.run(RECIPES[0].text())
        yield f"http://127.0.0.1:{port}"
    finally:
        runner.stop()


@pytest.fixture(scope="module")
def named_graph_store(release_dir) -> ox.Store:
    """healthcoop.nq in pyoxigraph: everything in named graphs, the default graph empty."""
    store = ox.Store()
    store.bulk_load(path=str(release_dir / "healthcoop.nq"), format=ox.RdfFormat.N_QUADS)
    return store


@pytest.fixture(scope="module", params=["default-graph", "named-graphs", "readme-server"])
def answers(request, default_graph_store):
    """`answers(name)`: the rows of queries/<name>.rq on the Turtle dump in the default
    graph, on the N-Quads dump in named graphs, and from the README's server."""
    if request.param == "default-graph":
        return lambda name: run(default_graph_store, name)
    if request.param == "named-graphs":
        store = request.getfixturevalue("named_graph_store")
        return lambda name: run(store, name)
    base = request.getfixturevalue("readme_server")
    return lambda name: rdfstores.sparql_select(base + "/query", query_text(name))


def test_every_query_says_what_it_answers():
    """Each query starts with a comment saying what it answers, and parses (pyoxigraph's
    SPARQL parser). Fails for a query without its explanation."""
    assert len(QUERIES) >= 6
    store = ox.Store()
    for path in QUERIES:
        text = path.read_text(encoding="utf-8")
        comment = [ln for ln in text.splitlines() if ln.startswith("#")]
        assert text.startswith("# ") and len(" ".join(comment)) > 60, path.name
        store.query(text)  # raises SyntaxError when the query does not parse


def test_queries_read_named_graphs_too():
    """Every query matches the named graphs as well as the default graph: on a store whose
    data is only in a named graph, it returns what it returns on the same data in the
    default graph (a hand-made agreement, event, person and evidence). Fails for a query
    that reads only the default graph."""
    data = """
        @prefix hc: <https://w3id.org/healthcoop/ontology#> .
        @prefix hcid: <https://w3id.org/healthcoop/id/> .
        @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
        @prefix dct: <http://purl.org/dc/terms/> .
        @prefix owl: <http://www.w3.org/2002/07/owl#> .
        @prefix oa: <http://www.w3.org/ns/oa#> .
        @prefix schema: <https://schema.org/> .
        @prefix skos: <http://www.w3.org/2004/02/skos/core#> .
        @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
        hcid:medopad a hc:Actor ; rdfs:label "Medopad"@en ;
            owl:sameAs <http://www.wikidata.org/entity/Q1> .
        hcid:other a hc:Actor ; rdfs:label "Other"@en .
        hcid:src dct:title "A source" ; hc:archivedFile "data/sources/x.txt" .
        hcid:eight-great-technologies-leaguer-fund-agreement a hc:Agreement ;
            rdfs:label "An agreement"@en ; dct:source hcid:src ;
            hc:party hcid:medopad , hcid:other ; hc:date "2018"^^xsd:gYear ;
            hc:topic <https://w3id.org/healthcoop/topic/t> ;
            hc:evidence hcid:e .
        <https://w3id.org/healthcoop/topic/t> skos:prefLabel "t"@en .
        hcid:e hc:supportsProperty hc:amount ; oa:hasTarget hcid:t .
        hcid:t oa:hasSource hcid:src ; oa:hasSelector hcid:q , hcid:p .
        hcid:q a oa:TextQuoteSelector ; oa:exact "a quote" .
        hcid:p a oa:TextPositionSelector ; oa:start 1 ; oa:end 8 .
        hcid:ev a hc:Event ; rdfs:label "An event"@en ; hc:host hcid:matt-hancock ;
            schema:startDate "2020-05-15"^^xsd:date .
        """
    plain, named = ox.Store(), ox.Store()
    plain.load(input=data, format=ox.RdfFormat.TURTLE)
    named.load(input=data, format=ox.RdfFormat.TURTLE,
               to_graph=ox.NamedNode("https://w3id.org/healthcoop/graph/x"))
    for path in QUERIES:
        text = path.read_text(encoding="utf-8")
        want = normalised(rows_of(plain, text), text)
        assert want, f"{path.name} finds nothing in the hand-made data"
        assert normalised(rows_of(named, text), text) == want, path.name


def test_agreements_of_an_organisation(answers):
    """Medopad, in data/sources/001: "Medopad and Peking University Smart Health Lab signed
    an agreement to work together ..." and "Medopad and China Resources Guokang (Shanghai)
    Pharmaceutical Co. signed a contract ..."; both in the 2018 article (dateline
    "February 14 09:56 2018")."""
    rows = answers("agreements-of-organisation")
    got = {(r["otherPartyLabel"], r["role"], r["source"][len(HCID):], r.get("date"))
           for r in rows}
    assert got >= {
        ("Peking University Smart Health Lab", "party", "uk-china-healthcare-deals-2018",
         "2018"),
        ("China Resources Guokang (Shanghai) Pharmaceutical Co.", "party",
         "uk-china-healthcare-deals-2018", "2018"),
    }
    assert len({r["agreement"] for r in rows}) >= 2
    assert len(rows) == len({tuple(sorted(r.items())) for r in rows}), "duplicate rows"


def test_events_of_a_person(answers):
    """Matt Hancock. data/sources/000: "is travelling to China on his first official
    overseas visit"; "the Secretary of State co-hosted the UK-China Health Dialogue with
    China's Health Minister Ma Xiaowei"; "when he met with Minister Hu Jinglin"; "will also
    lead a UK business delegation"; "while he co-chairs the World Economic Forum Meeting of
    New Champions". data/sources/004 (dateline 2020.05.16, "on Friday"): "Attendees
    included Ma Xiaowei ... and his counterpart Matt Hancock"."""
    rows = answers("events-of-person")
    parts: dict[str, set[str]] = {}
    for r in rows:
        parts.setdefault(r["eventLabel"], set()).add(r["part"])
    expected = {
        "Matt Hancock's official visit to China": {"participant"},
        "UK-China Health Dialogue": {"host", "participant"},
        "Matt Hancock's meeting with Minister Hu Jinglin": {"participant"},
        "UK business delegation to China led by Matt Hancock": {"leader"},
        "World Economic Forum Meeting of New Champions": {"chair", "participant"},
        "China–UK video meeting of health officials on COVID-19 cooperation": {"participant"},
    }
    for event, event_parts in expected.items():
        assert parts.get(event, set()) >= event_parts, event
    dated = {(r["eventLabel"], r.get("start"), r.get("end")) for r in rows}
    assert ("China–UK video meeting of health officials on COVID-19 cooperation",
            "2020-05-15", "2020-05-15") in dated
    assert len(rows) == len({tuple(sorted(r.items())) for r in rows}), "duplicate rows"


def test_agreements_by_topic_and_year(answers):
    """Years: the 2018 article's deals and "In early 2018, the UK and China committed two
    AMR funds" (000) are 2018; "The meeting adopted a joint statement" (004, 2020) is 2020;
    the "Co-operation Arrangement on Research for Quality Testing and Standards of Chinese
    Medicines" signed during the 2024 CIFTIS visit (003) is 2024. Its topic is traditional
    Chinese medicine, and the AMR funds' topic antimicrobial resistance. Each agreement
    counts once however many graphs it is in."""
    rows = answers("agreements-by-topic-and-year")
    assert {r["year"] for r in rows} >= {"2018", "2020", "2024"}
    by_topic: dict[str, dict[str, int]] = {}
    for r in rows:
        by_topic.setdefault(r["topic"].rsplit("/", 1)[-1], {})[r["year"]] = int(r["agreements"])
    assert by_topic["traditional-chinese-medicine"].get("2024", 0) >= 1
    assert by_topic["antimicrobial-resistance"].get("2018", 0) >= 1
    assert all(int(r["agreements"]) >= 1 for r in rows)
    # topic labels come with the dumps (ontology/topics.ttl)
    labels = {r["topic"].rsplit("/", 1)[-1]: r.get("topicLabel") for r in rows}
    assert labels["traditional-chinese-medicine"] == "traditional Chinese medicine"
    assert labels["antimicrobial-resistance"] == "antimicrobial resistance"


# pairs of parties, from the source texts: 001's "List of Signings" and "Other recent
# signings", 000's AMR funds, 003's co-operation arrangement, 004's joint statement; with
# how many agreements they share at least, and a source that reports it
SIGNED_WITH = {
    ("Beijing UniteGen Co. Ltd", "Congenica", 2, "uk-china-healthcare-deals-2018"),
    ("AstraZeneca China", "Shenzhen Tencent Computer Systems", 1,
     "uk-china-healthcare-deals-2018"),
    ("China", "Japan", 1, "china-uk-video-meeting-2020"),
    ("China", "Republic of Korea", 1, "china-uk-video-meeting-2020"),
    ("Japan", "Republic of Korea", 1, "china-uk-video-meeting-2020"),
    ("China", "United Kingdom", 1, "hancock-china-visit-digital-health"),
    ("China Resources Guokang (Shanghai) Pharmaceutical Co.", "Medopad", 1,
     "uk-china-healthcare-deals-2018"),
    ("China's Food and Drug Administration",
     "UK Medicine and Health Products Regulatory Authority", 1,
     "uk-china-healthcare-deals-2018"),
    ("Congenica", "Digital China Health", 1, "uk-china-healthcare-deals-2018"),
    ("Department of Health",
     "Experimental Research Center of the China Academy of Chinese Medical Sciences", 1,
     "hk-dh-beijing-meetings-2024"),
    ("Eight Great Technologies", "Leaguer International Co", 1,
     "uk-china-healthcare-deals-2018"),
    ("First Chengmai Medical Industry Group", "TPP", 1, "uk-china-healthcare-deals-2018"),
    ("Medopad", "Peking University Smart Health Lab", 1, "uk-china-healthcare-deals-2018"),
    ("Nine Health Global", "Tsingdata D-LAB", 1, "uk-china-healthcare-deals-2018"),
    ("Peking University Health Science Center", "The University of Manchester", 1,
     "uk-china-healthcare-deals-2018"),
    ("Trinity College Cambridge", "Tus-Holdings", 1, "uk-china-healthcare-deals-2018"),
}


def test_who_signed_with_whom(answers):
    """Pairs of parties as the texts name them (SIGNED_WITH above) are among the answers,
    each once, with at least as many shared agreements and the source that reports them;
    Beijing UniteGen and Congenica share two agreements ("signed an agreement to expand the
    existing commercial deal with Congenica"); China signs in two sources (000 with the UK,
    004 with Japan and the Republic of Korea)."""
    rows = answers("who-signed-with-whom")
    pairs = Counter(tuple(sorted((r["actorLabel"], r["partnerLabel"]))) for r in rows)
    got = {tuple(sorted((r["actorLabel"], r["partnerLabel"]))):
           (int(r["agreements"]), set(r["sources"].split())) for r in rows}
    for a, b, count, source in SIGNED_WITH:
        pair = tuple(sorted((a, b)))
        assert pair in got, pair
        assert pairs[pair] == 1, f"{pair} listed {pairs[pair]} times"
        assert got[pair][0] >= count and source in got[pair][1], (pair, got[pair])


def test_actors_with_wikidata_links(answers):
    """On the data: every answer is an actor with a Wikidata item IRI. On a hand-made graph:
    exactly the actor that has an owl:sameAs to wd:Q148, not the non-actor, nor the link
    to a non-Wikidata IRI."""
    rows = answers("actors-with-wikidata")
    assert rows
    for r in rows:
        assert re.fullmatch(r"http://www\.wikidata\.org/entity/Q\d+", r["wikidata"])
    store = ox.Store()
    store.load(input="""
        @prefix hc: <https://w3id.org/healthcoop/ontology#> .
        @prefix hcid: <https://w3id.org/healthcoop/id/> .
        @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
        @prefix owl: <http://www.w3.org/2002/07/owl#> .
        hcid:china a hc:Actor ; rdfs:label "China"@en ;
            owl:sameAs <http://www.wikidata.org/entity/Q148> .
        hcid:japan a hc:Actor ; rdfs:label "Japan"@en ; owl:sameAs <http://example.org/japan> .
        hcid:beijing a hc:Place ; rdfs:label "Beijing"@en ;
            owl:sameAs <http://www.wikidata.org/entity/Q956> .
        """, format=ox.RdfFormat.TURTLE)
    assert [(r["actorLabel"], r["wikidata"]) for r in run(store, "actors-with-wikidata")] == [
        ("China", "http://www.wikidata.org/entity/Q148")]


def test_evidence_for_a_fact(answers):
    """The amount of the Eight Great Technologies / Leaguer fund agreement is supported by
    the quote "... signed an agreement to create a 5 billion RMB fund ..." of
    data/sources/001, and the offsets cut exactly that quote out of the archived file."""
    rows = answers("evidence-for-fact")
    assert rows
    for r in rows:
        assert "5 billion RMB fund" in r["quote"]
        assert r["sourceTitle"] == "Strong UK-China collaborations in healthcare"
        text = (ROOT / r["archivedFile"]).read_bytes().decode("utf-8")
        assert text[int(r["start"]):int(r["end"])] == r["quote"]
