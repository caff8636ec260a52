"""The site's pictures (pipeline/site/pictures.py) and term pages (pipeline/site/terms.py):
static SVG with a title and description, escaped labels, no script or remote resource,
the same bytes twice, each picture also a standalone .svg file (valid XML in the SVG
namespace, linked from its page, listed in site/SHA256SUMS); the ontology and topic pages
hold every term at its IRI's anchor or path, entity pages link to them and say which
release they describe, and the ontology, scheme and topic documents parse and agree."""

from __future__ import annotations

import json
import re
import shutil
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pyoxigraph as ox
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from tools.site_release import LIVE, build_site_release  # noqa: E402

from pipeline.site import write_site  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
HC = "https://w3id.org/healthcoop/ontology#"
HCID = "https://w3id.org/healthcoop/id/"
SVG = re.compile(r"<svg .*?</svg>", re.S)
SVG_NS = "{http://www.w3.org/2000/svg}"
XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'

HOSTILE = "</script><script>alert(1)</script> \"q\" & <b>bold</b> {{ 7*7 }}"


@pytest.fixture(scope="module")
def mini_release(tmp_path_factory) -> Path:
    return build_site_release(tmp_path_factory.mktemp("pictures"))


def svgs(page: Path) -> list[ET.Element]:
    """Every inline SVG of a page, parsed as XML (so each is well-formed on its own)."""
    return [ET.fromstring(m) for m in SVG.findall(page.read_text(encoding="utf-8"))]


def svg_files(site: Path) -> dict[str, str]:
    """Every standalone picture of the site: path under site/ -> its text."""
    return {p.relative_to(site).as_posix(): p.read_text(encoding="utf-8")
            for p in sorted(site.rglob("*.svg"))}


def _texts(svg: ET.Element) -> list[str]:
    return ["".join(e.itertext()) for e in svg.iter() if e.tag.endswith("}text")]


def test_overview_pictures_are_drawn_with_words(mini_release):
    """pictures.html holds the timeline and the agreement network, each an SVG with
    role=img and aria-labelledby naming its own <title> and <desc>; the network's nodes
    are the agreements' parties and its legend names their countries."""
    pictures = svgs(mini_release / "site" / "pictures.html")
    assert len(pictures) == 2
    for svg in pictures:
        assert svg.get("role") == "img"
        ids = svg.get("aria-labelledby").split()
        found = {e.get("id"): e for e in svg.iter() if e.get("id")}
        assert [found[i].tag.split("}")[1] for i in ids] == ["title", "desc"]
        assert all("".join(found[i].itertext()).strip() for i in ids)
    timeline, network = pictures
    assert "Timeline" in "".join(timeline.find("{http://www.w3.org/2000/svg}title").itertext())
    texts = " ".join(_texts(network))
    assert "Alice Grant" in texts or "Northbridge" in texts
    assert network.findall(".//{http://www.w3.org/2000/svg}line")


def test_every_entity_with_links_has_a_neighbourhood(mini_release):
    """alice-grant's page has a neighbourhood picture whose nodes link to the pages of
    what she is linked to, each link resolving."""
    page = mini_release / "site" / "doc" / f"{LIVE}.html"
    (svg,) = svgs(page)
    hrefs = [a.get("href") for a in svg.iter("{http://www.w3.org/2000/svg}a")]
    assert hrefs and all((page.parent / h).is_file() for h in hrefs)
    assert svg.get("aria-labelledby") == "neighbourhood-title neighbourhood-desc"


def test_pictures_have_no_script_and_fetch_nothing(mini_release):
    """No <script>, event handler, <image>, <foreignObject>, @font-face or remote URL in
    any picture, inline or standalone; fonts are the reader's own (a generic family)."""
    site = mini_release / "site"
    texts = [p.read_text(encoding="utf-8") for p in site.rglob("*.html")]
    texts += svg_files(site).values()
    for page in texts:
        for m in SVG.findall(page):
            assert not re.search(r"<script|<image|<foreignObject|@font-face|url\(| on\w+=",
                                 m, re.I), page
            assert not re.findall(r'href="(?:https?:|//|javascript:|data:)', m), page
            assert 'font-family="system-ui, sans-serif"' in m


def test_coordinates_are_rounded_and_the_bytes_the_same_twice(mini_release, tmp_path):
    """Every coordinate has at most one decimal, and writing the site again gives the same
    pictures, byte for byte."""
    release = tmp_path / "release"
    shutil.copytree(mini_release, release, ignore=shutil.ignore_patterns("site"))
    write_site(release, tmp_path)
    first = {p.relative_to(release).as_posix(): p.read_bytes()
             for p in (release / "site").rglob("*") if p.suffix in (".html", ".svg")}
    shutil.rmtree(release / "site")
    write_site(release, tmp_path)
    second = {p.relative_to(release).as_posix(): p.read_bytes()
              for p in (release / "site").rglob("*") if p.suffix in (".html", ".svg")}
    assert first == second
    assert [n for n in first if n.endswith(".svg")]
    first = {n.rsplit("/", 1)[-1]: b for n, b in first.items()}
    text = first["pictures.html"].decode()
    numbers = re.findall(r' (?:cx|cy|x|y|x1|y1|x2|y2)="(-?[0-9.]+)"', text)
    assert numbers and all(re.fullmatch(r"-?\d+(\.\d)?", n) for n in numbers)


def _hostile_release(tmp_path: Path) -> Path:
    """Two parties with hostile labels, one agreement between them, dated."""
    release = tmp_path / "release"
    release.mkdir()
    lit = json.dumps(HOSTILE)
    rdf_type = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
    label = "<http://www.w3.org/2000/01/rdf-schema#label>"
    lines = []
    for who in ("evil-a", "evil-b"):
        lines += [f"<{HCID}{who}> {rdf_type} <{HC}Organisation> .",
                  f"<{HCID}{who}> {label} {lit}@en ."]
    lines += [f"<{HCID}evil-deal> {rdf_type} <{HC}Agreement> .",
              f"<{HCID}evil-deal> {label} {lit}@en .",
              f'<{HCID}evil-deal> <{HC}date> "2020-01-02" .',
              f"<{HCID}evil-deal> <{HC}party> <{HCID}evil-a> .",
              f"<{HCID}evil-deal> <{HC}party> <{HCID}evil-b> ."]
    (release / "healthcoop.nq").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return release


def test_hostile_labels_are_text_in_every_picture(tmp_path):
    """Labels holding `</script><script>`, quotes, `&` and tags are escaped in the SVG,
    inline and in the standalone files: each picture parses as XML, the label comes back
    as text (shortened, never as markup), and no element but the pictures' own is added."""
    release = _hostile_release(tmp_path)
    write_site(release, tmp_path)
    site = release / "site"
    files = svg_files(site)
    assert set(files) == {"pictures/timeline.svg", "pictures/network.svg",
                          "doc/evil-deal.svg", "doc/evil-a.svg", "doc/evil-b.svg"}
    for page in ("pictures.html", "doc/evil-deal.html", "doc/evil-a.html", *files):
        path = site / page
        text = path.read_text(encoding="utf-8")
        assert "<script>alert(1)" not in text and "<b>bold" not in text
        pictures = svgs(path) if page.endswith(".html") else [ET.parse(path).getroot()]
        assert pictures, page
        for svg in pictures:
            assert not [e for e in svg.iter() if e.tag.split("}")[-1] in ("script", "b")]
            titles = ["".join(e.itertext()) for e in svg.iter()
                      if e.tag.endswith("}title")]
            assert any(HOSTILE in t for t in titles), (page, titles)


def test_every_picture_is_also_a_standalone_svg_file(mini_release):
    """pictures/timeline.svg, pictures/network.svg and doc/<id>.svg for every entity page
    with a neighbourhood: each an XML document (declaration, root <svg> in the SVG
    namespace with role=img, a non-empty <title> and <desc> first), the very picture of
    its page (links aside: the file's lead from its own folder), linked from that page,
    and listed with its SHA-256 in site/SHA256SUMS."""
    import hashlib

    site = mini_release / "site"
    files = svg_files(site)
    pages = {p.relative_to(site).as_posix() for p in (site / "doc").glob("*.html")
             if SVG.search(p.read_text(encoding="utf-8"))}
    assert {"pictures/timeline.svg", "pictures/network.svg"} <= set(files)
    assert {n for n in files if n.startswith("doc/")} == {p[:-5] + ".svg" for p in pages}
    sums = dict(line.split("  ")[::-1] for line in
                (site / "SHA256SUMS").read_text(encoding="utf-8").splitlines())
    for name, text in files.items():
        assert text.startswith(XML_DECLARATION), name
        root = ET.fromstring(text[len(XML_DECLARATION):].encode())
        assert root.tag == SVG_NS + "svg" and root.get("role") == "img", name
        title, desc = list(root)[:2]
        assert (title.tag, desc.tag) == (SVG_NS + "title", SVG_NS + "desc"), name
        assert "".join(title.itertext()).strip() and "".join(desc.itertext()).strip()
        page = "pictures.html" if name.startswith("pictures/") else name[:-4] + ".html"
        html = (site / page).read_text(encoding="utf-8")
        link = name.removeprefix("doc/") if name.startswith("doc/") else name
        assert f'<a href="{link}" type="image/svg+xml">' in html, (page, link)
        inline = text[len(XML_DECLARATION):].rstrip("\n")
        if name.startswith("pictures/"):
            inline = inline.replace('href="../doc/', 'href="doc/')
        assert inline in SVG.findall(html), name
        assert sums.get(name) == hashlib.sha256((site / name).read_bytes()).hexdigest(), name


def test_ontology_page_has_every_term_at_its_anchor(mini_release):
    """ontology/index.html has an element whose id is the fragment of every hc: term the
    ontology declares, with its label and definition; an entity page links its types and
    properties to those anchors."""
    page = (mini_release / "site" / "ontology" / "index.html").read_text(encoding="utf-8")
    ids = set(re.findall(r' id="([^"]+)"', page))
    terms = {t.subject.value for t in ox.parse(path=str(ROOT / "ontology/healthcoop.ttl"),
                                               format=ox.RdfFormat.TURTLE)
             if isinstance(t.subject, ox.NamedNode) and t.subject.value.startswith(HC)}
    assert len(terms) > 100
    assert {t[len(HC):] for t in terms} <= ids
    assert "Agreement" in page and "party" in page
    entity = (mini_release / "site" / "doc" / f"{LIVE}.html").read_text(encoding="utf-8")
    assert 'href="../ontology/index.html#Person"' in entity


def test_topic_pages_sit_at_their_iris_and_list_their_records(mini_release):
    """topic/<id>.html exists for every concept of topics.ttl and topic/scheme.html for the
    scheme; a topic used by a record lists that record, and the record's page links to the
    topic page."""
    site = mini_release / "site"
    concepts = {t.subject.value.rsplit("/", 1)[1]
                for t in ox.parse(path=str(ROOT / "ontology/topics.ttl"),
                                  format=ox.RdfFormat.TURTLE)
                if t.predicate.value.endswith("#notation")}
    assert len(concepts) > 20
    assert {p.stem for p in (site / "topic").glob("*.html")} == concepts | {"scheme"}
    used = [(q.subject.value, q.object.value) for q in ox.parse(
        path=str(mini_release / "healthcoop.nq"), format=ox.RdfFormat.N_QUADS)
        if q.predicate.value == HC + "topic"]
    assert used
    subject, topic = used[0]
    ident, name = subject[len(HCID):], topic.rsplit("/", 1)[1]
    assert f'href="../doc/{ident}.html"' in (site / "topic" / f"{name}.html").read_text("utf-8")
    assert f'href="../topic/{name}.html"' in (site / "doc" / f"{ident}.html").read_text("utf-8")


def test_entity_page_says_which_release_it_describes(mini_release):
    """No per-record history exists, so a page says "as of release <version> (issued
    <date>)" from data/dataset.yaml, never a made-up change date."""
    page = (mini_release / "site" / "doc" / f"{LIVE}.html").read_text(encoding="utf-8")
    meta = (ROOT / "data" / "dataset.yaml").read_text(encoding="utf-8")
    version = re.search(r'^version: "([^"]+)"', meta, re.M).group(1)
    issued = re.search(r'^issued: "([^"]+)"', meta, re.M).group(1)
    assert f"as of release {version} (issued {issued})" in page


def test_pictures_do_not_depend_on_the_hash_seed(release_dir, tmp_path):
    """Written by two processes with different PYTHONHASHSEED, the real dataset's pages
    are the same bytes (networkx iterates subgraph views in set order: the layout must
    not see that order)."""
    import os
    import subprocess

    out = {}
    for seed in ("1", "4242"):
        release = tmp_path / seed
        shutil.copytree(release_dir, release, ignore=shutil.ignore_patterns("site"))
        subprocess.run([sys.executable, "-c", "import sys; from pathlib import Path; "
                        "from pipeline.site import write_site; "
                        "write_site(Path(sys.argv[1]), Path(sys.argv[2]))",
                        str(release), str(ROOT)], check=True, cwd=ROOT,
                       env={**os.environ, "PYTHONHASHSEED": seed})
        out[seed] = {p.relative_to(release).as_posix(): p.read_bytes()
                     for p in (release / "site").rglob("*")
                     if p.suffix in (".html", ".svg", ".ttl", ".jsonld", ".nt", ".nq")}
    assert out["1"] == out["4242"]


def _graph(path: Path, fmt) -> set[str]:
    """The triples of an RDF file (graph names dropped), blank nodes canonically named."""
    dataset = ox.Dataset(ox.Quad(q.subject, q.predicate, q.object)
                         for q in ox.parse(path=str(path), format=fmt))
    dataset.canonicalize(ox.CanonicalizationAlgorithm.UNSTABLE)
    return {str(q) for q in dataset}


FORMATS = {"ttl": ox.RdfFormat.TURTLE, "jsonld": ox.RdfFormat.JSON_LD,
           "nt": ox.RdfFormat.N_TRIPLES, "nq": ox.RdfFormat.N_QUADS}


def test_ontology_and_topic_documents_parse_and_agree(mini_release):
    """ontology/healthcoop.* and topic/scheme.* hold the release's ontology and topic
    scheme (the Turtle is the release's file itself), topic/<id>.* every concept's own
    statements, its narrower concepts and the labels of what it links to; each document
    parses (pyoxigraph) and the four formats of one document hold the same triples; the
    topic N-Quads are in the dumps' topics graph; the pages link their documents."""
    site = mini_release / "site"
    for stem, source in (("ontology/healthcoop", "ontology/healthcoop.ttl"),
                         ("topic/scheme", "ontology/topics.ttl")):
        assert (site / f"{stem}.ttl").read_bytes() == (mini_release / source).read_bytes()
        graphs = [_graph(site / f"{stem}.{ext}", fmt) for ext, fmt in FORMATS.items()]
        assert len(graphs[0]) > 200 and all(g == graphs[0] for g in graphs), stem
    concepts = [p.stem for p in (site / "topic").glob("*.html") if p.stem != "scheme"]
    assert len(concepts) > 20
    topic = "https://w3id.org/healthcoop/topic/"
    skos = "http://www.w3.org/2004/02/skos/core#"
    for ident in concepts:
        graphs = [_graph(site / "topic" / f"{ident}.{ext}", fmt) for ext, fmt in FORMATS.items()]
        assert all(g == graphs[0] for g in graphs), ident
        assert f'<{topic}{ident}> <{skos}notation> "{ident}"' in graphs[0], ident
        page = (site / "topic" / f"{ident}.html").read_text(encoding="utf-8")
        assert f'href="{ident}.ttl"' in page and f'href="{ident}.jsonld"' in page
    digital = _graph(site / "topic/digital-health.nt", ox.RdfFormat.N_TRIPLES)
    assert f"<{topic}health-data> <{skos}broader> <{topic}digital-health>" in digital
    assert f'<{topic}health-data> <{skos}prefLabel> "health data"@en' in digital
    graphs = {q.graph_name.value for q in ox.parse(path=str(site / "topic/digital-health.nq"),
                                                    format=ox.RdfFormat.N_QUADS)}
    assert graphs == {"https://w3id.org/healthcoop/graph/topics"}
    ontology_page = (site / "ontology" / "index.html").read_text(encoding="utf-8")
    assert 'href="healthcoop.ttl"' in ontology_page and 'href="healthcoop.nt"' in ontology_page


def test_status_lists_what_negotiates(mini_release):
    """site/status.json, which `healthcoop serve` reads, says that /ontology negotiates and
    lists every concept with its page, and the scheme, as the names under /topic/ that do."""
    site = mini_release / "site"
    status = json.loads((site / "status.json").read_text(encoding="utf-8"))
    assert status["ontology"] is True
    assert status["topics"] == sorted(p.stem for p in (site / "topic").glob("*.html"))
    assert "scheme" in status["topics"]


def test_the_network_shows_at_most_max_parties(mini_release, monkeypatch):
    """Over MAX_PARTIES parties (2 here) the network draws the parties to the most
    agreements (ties by id) and only the pairs among them, says so in its description
    with the counts of all parties and agreements, and the list of pairs in words is the
    same pairs; at or under the bound it draws every party."""
    from collections import defaultdict

    from pipeline.site import pictures
    from pipeline.site.model import load_site_data

    data = load_site_data(mini_release)
    actors, edges = pictures.agreement_network(data)
    assert len(actors) > 2
    full = pictures.network_layout(data)
    assert set(full.actors) == set(actors) and full.edges == edges
    joined = defaultdict(set)
    for (a, b), agreements in edges.items():
        joined[a].update(agreements)
        joined[b].update(agreements)
    top = sorted(actors, key=lambda x: (-len(joined[x]), x))[:2]
    monkeypatch.setattr(pictures, "MAX_PARTIES", 2)
    layout = pictures.network_layout(data)
    assert sorted(layout.actors) == sorted(top)
    assert all(a in top and b in top for a, b in layout.edges)
    assert layout.all_parties == len(actors)
    svg = ET.fromstring(str(pictures.network(data, lambda i: None, layout)))
    desc = " ".join(svg.itertext())
    assert f"The 2 parties to the most agreements, of {len(actors)} parties" in desc
    circles = svg.findall(".//{http://www.w3.org/2000/svg}circle")
    assert len(circles) == 2 + len(pictures.country_colours(layout.actors))  # + legend
    assert {(p["a"], p["b"]) for p in pictures.network_pairs(data, layout)} == set(layout.edges)
