"""The `site` stage: a static web site of the release, in `<release>/site/`.

In:  a release directory being written (the build's staging directory, after `publish`):
     its `healthcoop.nq`, `ontology/`, `SHA256SUMS`; and the project root for the archived
     source texts.
Out: `site/doc/<id>.html` (the entity page; a tombstone for a withdrawn record) and
     `site/doc/<id>.ttl|.jsonld|.nt|.nq` per entity, `site/kind/*.html` (an index per kind,
     filtered in the browser, paginated), `site/ontology/index.html` (every ontology term
     at the anchor of its IRI's fragment) with `site/ontology/healthcoop.ttl|.jsonld|.nt|
     .nq`, `site/topic/<id>.html` and `.ttl|.jsonld|.nt|.nq` per topic and
     `site/topic/scheme.*` for the scheme (terms.py, documents.py), `site/pictures.html`
     (timeline and agreement network as static SVG; each entity page has its
     neighbourhood, pictures.py), each picture also as a file (`site/pictures/*.svg`,
     `site/doc/<id>.svg`), `site/index.html` (the dataset page with the downloads in
     `site/download/`), `site/404.html`, `site/status.json` (withdrawn and merged ids and
     the negotiated topic names, read by `healthcoop serve`) and the deployment rules
     `site/.htaccess` and `site/nginx.conf` that make `/id/<id>`, `/ontology` and
     `/topic/<id>` answer as `healthcoop serve` does.

Entry function: `write_site(release, root)`. One pass over the sorted dump builds the
indexes (model.py), then each entity is written in turn: linear in the size of the release.
The output depends only on the release and the texts, so two builds are byte-identical.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from pipeline.errors import EnvironmentProblem

from .documents import entity_documents, vocabulary_documents
from .model import ID_PATTERN, load_site_data
from .pages import PAGE_SIZE, Pages
from .pictures import standalone
from .rules import apache_rules, nginx_rules

SITE_DIR = "site"


def write_site(release: Path, root: Path, *, page_size: int = PAGE_SIZE) -> Path:
    """Write `<release>/site/` and return its path."""
    release = Path(release)
    site = release / SITE_DIR
    data = load_site_data(release)
    pages = Pages(data, release, Path(root), page_size=page_size)
    doc = site / "doc"
    doc.mkdir(parents=True, exist_ok=True)
    write_file = _SiteWriter(site)
    written: list[str] = []
    for ident in sorted(data.quads):
        if not ID_PATTERN.fullmatch(ident):  # model.entity_id already refuses these
            continue
        for ext, body in entity_documents(ident, data).items():
            write_file(f"doc/{ident}.{ext}", body)
        picture = pages.neighbourhood(ident)
        if picture:
            write_file(f"doc/{ident}.svg", standalone(picture))
        write_file(f"doc/{ident}.html", pages.entity(ident, picture).encode("utf-8"))
        written.append(ident)
    for rel, text in pages.kind_pages():
        write_file(rel, text.encode("utf-8"))
    for rel, text in pages.topic_pages():
        write_file(rel, text.encode("utf-8"))
    topics = {iri: t.ident for iri, t in pages.vocab.topics.items()}
    vocabulary = vocabulary_documents(release, topics)
    for rel, body in sorted(vocabulary.items()):
        write_file(rel, body)
    write_file("ontology/index.html", pages.ontology_page().encode("utf-8"))
    write_file("pictures.html", pages.pictures_page().encode("utf-8"))
    for rel, body in sorted(pages.picture_files().items()):
        write_file(rel, body)
    write_file("index.html", pages.dataset(_downloads(release, site)).encode("utf-8"))
    write_file("404.html", pages.not_found().encode("utf-8"))
    write_file("style.css", pages.stylesheet().encode("utf-8"))
    write_file("favicon.ico", favicon())
    gone = {i: r for i, r in sorted(data.deprecated.items()) if i not in data.replaced_by}
    moved = dict(sorted(data.replaced_by.items()))
    ontology = "ontology/healthcoop.ttl" in vocabulary
    # the names under /topic/ that negotiate: every concept with its page, and the scheme
    negotiated = sorted(t for t in [*topics.values(), "scheme"] if f"topic/{t}.ttl" in vocabulary)
    status = {"entities": written, "gone": gone, "moved": moved, "ontology": ontology,
              "topics": negotiated}
    write_file("status.json",
               (json.dumps(status, indent=1, sort_keys=True, ensure_ascii=False) + "\n").encode())
    write_file(".htaccess", apache_rules(gone, moved, ontology).encode("utf-8"))
    write_file("nginx.conf", nginx_rules(gone, moved, ontology=ontology).encode("utf-8"))
    return site


def favicon() -> bytes:
    """A 16x16 icon (one colour square, ICO with a 32-bit bitmap): browsers ask for
    /favicon.ico, and a 404 there would be an error in every page's console."""
    import struct

    size = 16
    pixels = bytes([0xa7, 0x79, 0x4e, 0xff]) * (size * size)  # BGRA of #4e79a7
    mask = bytes(4 * size)  # 1 bit per pixel, rows padded to 4 bytes: all opaque
    bitmap = struct.pack("<IiiHHIIiiII", 40, size, 2 * size, 1, 32, 0,
                         len(pixels) + len(mask), 0, 0, 0, 0) + pixels + mask
    return (struct.pack("<HHH", 0, 1, 1)
            + struct.pack("<BBBBHHII", size, size, 0, 0, 1, 32, len(bitmap), 22) + bitmap)


class _SiteWriter:
    """Writes files under one site folder. Defence in depth (ids are checked against the
    id pattern): nothing is written outside site/, neither through `..` nor through a
    symbolic link, in a folder or as the file. Each folder is resolved and checked once
    (a site has tens of thousands of files in a handful of folders), before it is made;
    a file is opened without following a link."""

    def __init__(self, site: Path):
        self.site = site
        self.root = site.resolve()
        self.checked: set[Path] = set()

    def __call__(self, rel: str, body: bytes) -> None:
        path = self.site / rel
        parent = path.parent
        if parent not in self.checked:
            if not parent.resolve().is_relative_to(self.root):
                self._refuse(rel)
            parent.mkdir(parents=True, exist_ok=True)
            self.checked.add(parent)
        if path.name in ("", ".", ".."):
            self._refuse(rel)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o666)
        except OSError as problem:
            if path.is_symlink():
                self._refuse(rel, problem)
            raise
        with os.fdopen(fd, "wb") as out:
            out.write(body)

    def _refuse(self, rel: str, cause: Exception | None = None):
        raise EnvironmentProblem(f"refusing to write {rel!r} outside {self.site}") from cause


def _downloads(release: Path, site: Path) -> list[dict]:
    """Every file of SHA256SUMS, linked (hard link, else copy) into site/download/."""
    sums = release / "SHA256SUMS"
    names = [("SHA256SUMS", None)]
    if sums.is_file():
        for line in sums.read_text(encoding="utf-8").splitlines():
            digest, _, name = line.partition("  ")
            names.append((name, digest))
    out = []
    target_root = (site / "download").resolve()
    for name, digest in names:
        src = release / name
        dst = site / "download" / name
        # the site's own files (when SHA256SUMS covers them) are the site, not downloads
        if (not name or name.startswith(SITE_DIR + "/") or not src.is_file() or src.is_symlink()
                or not dst.resolve().is_relative_to(target_root)):
            continue
        dst.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(src, dst)
        except OSError:
            shutil.copyfile(src, dst)
        out.append({"name": name, "href": f"download/{name}", "size": src.stat().st_size,
                    "sha256": digest or ""})
    return out
