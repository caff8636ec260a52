"""The static site (pipeline/site): every page is well-formed HTML and every link resolves;
documents parse; hostile data renders as text; nothing is written outside site/; the real
dataset's site is quick to build and the same twice."""

from __future__ import annotations

import json
import re
import shutil
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pyoxigraph as ox
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from tools.conneg import html_problems  # noqa: E402
from tools.site_release import SOURCE, WITHDRAWN, WITHDRAWN_REASON, build_site_release  # noqa: E402

from pipeline.site import write_site  # noqa: E402

HCID = "https://w3id.org/healthcoop/id/"
HOSTILE = "</script><script>alert(1)</script> \"quoted\" 'single' {{ 7*7 }} <b>bold</b>"


@pytest.fixture(scope="module")
def mini_release(tmp_path_factory) -> Path:
    return build_site_release(tmp_path_factory.mktemp("site"))


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        for name in ("href", "src"):
            if attrs.get(name) and not (tag == "form"):
                self.links.append(attrs[name])


def crawl(site: Path) -> list[str]:
    """Follow every relative link from index.html, into pages and pictures (.svg files,
    whose links are relative to themselves); return what does not resolve (a missing
    file, or a #fragment the target page does not hold), and every entity page and
    picture file that no link reaches."""
    broken, seen, todo, ids = [], set(), [site / "index.html"], {}
    links_of = {}
    while todo:
        page = todo.pop()
        if page in seen:
            continue
        seen.add(page)
        parser = Links()
        parser.feed(page.read_text(encoding="utf-8"))
        ids[page] = parser.ids
        links_of[page] = parser.links
        for link in parser.links:
            parts = urlsplit(link)
            if parts.scheme in ("http", "https"):
                continue
            assert not parts.scheme, f"{page.name}: link {link!r} with scheme"
            target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            if not target.is_relative_to(site.resolve()) or not target.is_file():
                broken.append(f"{page.relative_to(site)} -> {link}")
            elif target.suffix in (".html", ".svg"):
                todo.append(target)
    for page, links in links_of.items():
        for link in links:
            parts = urlsplit(link)
            if parts.fragment and not parts.scheme:
                target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
                if target in ids and parts.fragment not in ids[target]:
                    broken.append(f"{page.relative_to(site)} -> {link} (no such id)")
    unreached = [*(site / "doc").glob("*.html"), *site.rglob("*.svg")]
    return broken + [f"never reached: {p.relative_to(site)}"
                     for p in sorted(unreached) if p.resolve() not in seen]


def test_every_link_resolves_and_every_page_is_reached(mini_release):
    """Crawl from the dataset page: every link (files and #fragments) resolves inside the
    site, including those to and inside the standalone pictures (.svg), and every entity
    page and picture file is reachable."""
    site = mini_release / "site"
    assert len(list(site.rglob("*.svg"))) >= 3  # the crawl has pictures to reach
    assert crawl(site) == []


def test_every_page_is_well_formed_html(mini_release):
    """html5lib in strict mode (it raises on any parse error) reads every page."""
    pages = sorted((mini_release / "site").rglob("*.html"))
    assert len(pages) > 20
    assert {p.name: html_problems(p.read_bytes()) for p in pages} == {p.name: [] for p in pages}


def test_documents_hold_the_description_and_linked_labels(mini_release):
    """doc/<id>.ttl/.jsonld/.nt/.nq parse and agree; they hold the entity's triples and the
    label of what it links to (alice-grant's country Northbridge, her sources, the dataset),
    nothing else of others."""
    doc = mini_release / "site" / "doc"
    formats = {"ttl": ox.RdfFormat.TURTLE, "jsonld": ox.RdfFormat.JSON_LD,
               "nt": ox.RdfFormat.N_TRIPLES}
    graphs = {ext: {str(t) for t in ox.parse(path=str(doc / f"alice-grant.{ext}"),
                                             format=fmt)} for ext, fmt in formats.items()}
    assert graphs["ttl"] == graphs["nt"] == graphs["jsonld"]
    quads = list(ox.parse(path=str(doc / "alice-grant.nq"), format=ox.RdfFormat.N_QUADS))
    assert {str(ox.Triple(q.subject, q.predicate, q.object)) for q in quads} == graphs["nt"]
    nt = graphs["nt"]
    label = "<http://www.w3.org/2000/01/rdf-schema#label>"
    assert f'<{HCID}northbridge> {label} "Northbridge"@en' in nt
    subjects = {t.split(" ")[0] for t in nt}
    assert all(s.startswith(f"<{HCID}alice-grant") or s == f"<{HCID}northbridge>"
               or s.startswith(f"<{HCID}fixture-") or s == "<https://w3id.org/healthcoop/dataset>"
               for s in subjects), subjects


def test_tombstone_page(mini_release):
    """The withdrawn record's page says it was withdrawn and why; the merged one names and
    links its successor."""
    page = (mini_release / "site" / "doc" / f"{WITHDRAWN}.html").read_text(encoding="utf-8")
    assert "This record was withdrawn" in page and WITHDRAWN_REASON in page
    merged = (mini_release / "site/doc/northbridge-health-ministry.html").read_text("utf-8")
    assert 'merged into <a href="../doc/northbridge-ministry-of-health.html">' in merged


def test_source_page_marks_every_quote_and_links_back(mini_release):
    """Every quote taken from the source is marked in its archived text, at the offsets of
    its TextPositionSelector, and links to the statement's evidence on the entity page
    (two records quoting the same words: the mark links one, an "[also]" link the other)."""
    page = (mini_release / "site" / "doc" / f"{SOURCE}.html").read_text(encoding="utf-8")
    marks = re.findall(r'<a href="\.\./doc/([a-z0-9-]+)\.html#(evidence-[0-9a-f]+)">'
                       r'(?!“)', page.split('id="text"')[1])
    store = ox.Store()
    store.bulk_load(path=str(mini_release / "healthcoop.nt"), format=ox.RdfFormat.N_TRIPLES)
    rows = list(store.query(f"""PREFIX oa: <http://www.w3.org/ns/oa#>
        SELECT ?ev WHERE {{ ?ev oa:hasTarget/oa:hasSource <{HCID}{SOURCE}> }}"""))
    wanted = {tuple(r["ev"].value[len(HCID):].split("#")) for r in rows}
    assert len(wanted) >= 3
    assert wanted <= set(marks)  # overlapping quotes give more than one mark each
    assert "Li Wen" in page


def test_contact_details_in_an_archived_text_are_masked(tmp_path):
    """The archived text of a source may print e-mail addresses and phone numbers; its
    page shows neither, and keeps the quotes' offsets (masking is character for
    character)."""
    from pipeline.site.pages import MASK, redact_contact_details

    text = "Call Tel: +44 20 7946 0000 or write to jane.doe@example.org today."
    masked = redact_contact_details(text)
    assert len(masked) == len(text)
    assert "example.org" not in masked and "7946" not in masked
    assert masked.startswith("Call ") and masked.endswith(" today.") and MASK in masked


def _hostile_release(tmp_path: Path) -> Path:
    """A release holding only hand-written N-Quads: one entity with a hostile label, a
    javascript: and a data: IRI and string, and ids that try to leave the site."""
    release = tmp_path / "release"
    release.mkdir()
    hostile = json.dumps(HOSTILE)  # an N-Quads string literal: same escapes as JSON here
    lines = [
        f'<{HCID}evil> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> '
        f'<https://w3id.org/healthcoop/ontology#Person> .',
        f'<{HCID}evil> <http://www.w3.org/2000/01/rdf-schema#label> {hostile}@en .',
        f'<{HCID}evil> <http://www.w3.org/2002/07/owl#sameAs> <javascript:alert(2)> .',
        f'<{HCID}evil> <https://schema.org/url> <data:text/html,<script>alert(3)</script>> .'
        .replace("<script>alert(3)</script>", "x"),
        f'<{HCID}evil> <https://schema.org/url> "javascript:alert(4)" .',
        f'<{HCID}evil> <http://www.w3.org/2004/02/skos/core#editorialNote> {hostile} .',
        f'<{HCID}..%2F..%2Fescaped> <http://www.w3.org/2000/01/rdf-schema#label> "x" .',
        f'<{HCID}../../escaped> <http://www.w3.org/2000/01/rdf-schema#label> "x" .',
        f'<{HCID}Upper/../../escaped> <http://www.w3.org/2000/01/rdf-schema#label> "x" .',
    ]
    (release / "healthcoop.nq").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return release


def test_hostile_label_renders_as_text_in_page_and_json_ld(tmp_path):
    """A label holding `</script><script>…`, quotes and `{{ }}` is escaped in the HTML, and
    the embedded JSON-LD escapes `<` (json.dumps would not), so no script element is
    added and the JSON-LD still reads back to the same label. Jinja does not evaluate
    `{{ 7*7 }}` from data."""
    release = _hostile_release(tmp_path)
    write_site(release, tmp_path)
    page = (release / "site" / "doc" / "evil.html").read_text(encoding="utf-8")
    assert page.count("<script") == 1  # the JSON-LD block only
    assert "alert(1)" in page and "<script>alert(1)" not in page
    assert "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&#34;quoted&#34;" in page and "{{ 7*7 }}" in page and "49" not in page
    embedded = re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)
    assert embedded and "</" not in embedded.group(1) and "<" not in embedded.group(1)
    triples = list(ox.parse(embedded.group(1).encode(), format=ox.RdfFormat.JSON_LD))
    assert HOSTILE in {t.object.value for t in triples}
    assert html_problems(page.encode()) == []


def test_javascript_and_data_urls_are_never_links(tmp_path):
    """`javascript:` and `data:` IRIs or strings in the data appear as text, never in an
    href or src."""
    release = _hostile_release(tmp_path)
    write_site(release, tmp_path)
    for page in (release / "site").rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        hrefs = re.findall(r'(?:href|src|action)="([^"]*)"', text)
        assert not [h for h in hrefs if h.lower().startswith(("javascript:", "data:"))], page
    assert "javascript:alert(2)" in (release / "site/doc/evil.html").read_text("utf-8")


def test_an_id_cannot_write_outside_the_site(tmp_path):
    """IRIs whose id part is `..%2F..`, `../..` or not of the curated form are not pages:
    nothing appears outside site/doc/ and no page is named after them."""
    release = _hostile_release(tmp_path)
    write_site(release, tmp_path)
    everything = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")}
    assert not [p for p in everything if "escaped" in p]
    assert sorted(p.name for p in (release / "site" / "doc").iterdir()) == [
        "evil.html", "evil.jsonld", "evil.nq", "evil.nt", "evil.ttl"]


def test_the_site_writer_follows_no_link_out_of_the_site(tmp_path):
    """The site's file writer (pipeline/site/__init__.py): a folder of site/ that is a
    symbolic link to elsewhere, a file that is one, and `..` are refused with an
    EnvironmentProblem, and nothing outside site/ is created or changed; an ordinary file
    is written, also into a folder checked before."""
    from pipeline.errors import EnvironmentProblem
    from pipeline.site import _SiteWriter

    site, outside = tmp_path / "site", tmp_path / "outside"
    site.mkdir()
    outside.mkdir()
    (outside / "victim.txt").write_bytes(b"keep")
    (site / "doc").mkdir()
    (site / "pictures").symlink_to(outside)
    (site / "doc" / "x.html").symlink_to(outside / "victim.txt")
    write = _SiteWriter(site)
    write("doc/a.html", b"a")
    write("doc/b.html", b"b")  # the folder is checked once, the file still written
    for rel in ("pictures/network.svg", "pictures/sub/deeper.svg", "doc/x.html", "doc/..",
                "../outside/new.txt"):
        with pytest.raises(EnvironmentProblem):
            write(rel, b"evil")
    assert sorted(p.name for p in outside.iterdir()) == ["victim.txt"]
    assert (outside / "victim.txt").read_bytes() == b"keep"
    assert (site / "doc" / "a.html").read_bytes() == b"a"
    assert (site / "doc" / "b.html").read_bytes() == b"b"


def test_long_lists_are_paginated(mini_release, tmp_path):
    """With two items per page an index is cut into numbered pages that link each other,
    and together list every item once."""
    release = tmp_path / "release"
    shutil.copytree(mini_release, release, ignore=shutil.ignore_patterns("site"))
    write_site(release, tmp_path / "nowhere", page_size=2)
    kind = release / "site" / "kind"
    pages = sorted(kind.glob("organisations*.html"))
    assert [p.name for p in pages] == ["organisations-2.html", "organisations.html"]
    items = []
    for p in pages:
        text = p.read_text(encoding="utf-8")
        items += re.findall(r'<li><a href="\.\./doc/([a-z0-9-]+)\.html">', text)
        assert 'href="organisations.html"' in text or p.name == "organisations.html"
    assert len(items) == len(set(items)) == 4
    assert crawl(release / "site") == []


def test_real_site_is_the_same_twice(release_dir, tmp_path):
    """The real dataset's site is byte-identical when written twice (the build's own
    two-build comparison covers hash seeds). Its speed is measured by `make bench`, not here:
    a timed assertion fails on a busy machine and proves nothing on a quiet one."""
    release = tmp_path / "release"
    shutil.copytree(release_dir, release, ignore=shutil.ignore_patterns("site"))
    root = Path(__file__).resolve().parent.parent
    write_site(release, root)
    first = {p.relative_to(release): p.read_bytes() for p in (release / "site").rglob("*")
             if p.is_file()}
    shutil.rmtree(release / "site")
    write_site(release, root)
    second = {p.relative_to(release): p.read_bytes() for p in (release / "site").rglob("*")
              if p.is_file()}
    assert first == second
    assert len([p for p in first if p.suffix == ".html" and p.parent.name == "doc"]) > 150
    assert crawl(release / "site") == []
