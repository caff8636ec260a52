"""The HTML pages of the site, rendered with Jinja2 (autoescaping on) from `SiteData`.

In:  a `SiteData` (model.py), the release directory (SHA256SUMS for the dataset page) and
     the project root (archived source texts, read only from data/sources/).
Out: (relative path, text) pairs: `doc/<id>.html` per entity, `kind/<kind>[-N].html` per
     kind, `index.html` (the dataset page), `404.html`, `style.css`.

Links between pages are relative (`../doc/<id>.html`), so the site works from a file system
as well as from a server. Only http(s) IRIs become links: a `javascript:` or `data:` IRI or
string in the data is shown as text.
"""

from __future__ import annotations

import re
from collections import defaultdict
from functools import cached_property
from pathlib import Path

import pyoxigraph as ox
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from . import pictures
from .documents import jsonld_document, script_safe
from .model import (
    DATASET,
    DCT,
    HC,
    HCID,
    KIND_TITLES,
    KINDS,
    OWL_DEPRECATED,
    OWL_SAMEAS,
    RDF_TYPE,
    RDFS_LABEL,
    SKOS,
    SKOS_PREF,
    SiteData,
    entity_id,
)
from .terms import RELATIONS, SCHEME, load_vocabulary

TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "site"
PAGE_SIZE = 100
SCHEMA = "https://schema.org/"
ORG = "http://www.w3.org/ns/org#"
VOID_IN = "http://rdfs.org/ns/void#inDataset"

# predicates shown elsewhere on the page than in the statements
NOT_STATEMENTS = {RDF_TYPE, RDFS_LABEL, SKOS_PREF, HC + "evidence", VOID_IN, OWL_DEPRECATED,
                  HC + "deprecationReason", DCT + "isReplacedBy", DCT + "source",
                  HC + "archivedFile"}
# how a link reads from the other end ("party to" on an actor's page)
INVERSE_PHRASES = {
    HC + "party": "party to",
    HC + "participant": "took part in",
    HC + "signedAt": "agreements signed here",
    HC + "host": "hosted",
    HC + "chair": "chaired",
    HC + "speaker": "spoke at",
    HC + "leader": "led",
    HC + "witness": "witnessed",
    HC + "invitedBy": "invited to",
    HC + "visited": "visited by",
    HC + "partner": "partner in",
    HC + "owner": "owner of",
    HC + "country": "country of",
    SCHEMA + "organizer": "organised",
    SCHEMA + "location": "location of",
    SCHEMA + "superEvent": "includes",
    SCHEMA + "containedInPlace": "contains",
    ORG + "member": "holds the role",
    ORG + "organization": "roles in it",
    ORG + "subOrganizationOf": "has part",
    DCT + "isReplacedBy": "replaces",
    DCT + "publisher": "publisher of",
}
SAFE_SCHEMES = ("https://", "http://")
DRAW = object()  # Pages.entity: draw the neighbourhood picture


def environment() -> Environment:
    """Jinja2 with autoescaping for every template, and undefined names an error."""
    return Environment(loader=FileSystemLoader(str(TEMPLATES)),
                       autoescape=select_autoescape(default=True, default_for_string=True),
                       undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                       keep_trailing_newline=True)


def is_safe_url(value: str) -> bool:
    """Only http(s) URLs become links; `javascript:`, `data:` and the rest stay text."""
    return value.lower().startswith(SAFE_SCHEMES) and not any(c in value for c in "\0\n\r\t ")


def local_name(iri: str) -> str:
    name = re.split(r"[#/]", iri.rstrip("/#"))[-1]
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", name).lower() or iri


class Pages:
    """Renders the pages; one instance per build."""

    def __init__(self, data: SiteData, release: Path, root: Path, page_size: int = PAGE_SIZE):
        self.data = data
        self.release = release
        self.root = root
        self.page_size = max(1, page_size)
        self.env = environment()
        self.meta = self._dataset_meta()
        self.vocab = load_vocabulary(release)
        self._archived: dict[str, Path | None] = {}

    # --- values -----------------------------------------------------------------------
    def phrase(self, iri: str) -> str:
        return self.data.term_labels.get(iri) or local_name(iri)

    def href(self, ident: str) -> str | None:
        return f"../doc/{ident}.html" if ident in self.data.quads else None

    def value(self, term, ident: str, fragments: dict) -> dict:
        """A view of an object: a link within the site, a safe external link, or text."""
        if isinstance(term, ox.Literal):
            return {"text": term.value, "href": None, "lang": term.language, "external": False}
        iri = term.value
        found = entity_id(iri)
        if found is not None:
            other, frag = found
            if frag and other == ident and frag in fragments:
                parts = [f"{self.phrase(p)}: {o.value}" for p, o in fragments[frag]
                         if p != RDF_TYPE and isinstance(o, ox.Literal)]
                return {"text": "; ".join(parts) or frag, "href": None, "lang": None,
                        "external": False}
            if not frag:
                return {"text": self.data.labels.get(iri, other), "href": self.href(other),
                        "lang": None, "external": False}
        label = self.data.labels.get(iri) or self.data.term_labels.get(iri)
        page = self.vocab.href(iri, "../")
        if page:
            return {"text": label or local_name(iri), "href": page, "lang": None,
                    "external": False}
        if is_safe_url(iri) and not iri.startswith(HC) and not iri.startswith(HCID):
            return {"text": label or iri, "href": iri, "lang": None, "external": True}
        return {"text": label or iri, "href": None, "lang": None, "external": False}

    # --- entity pages -----------------------------------------------------------------
    def entity(self, ident: str, picture=DRAW) -> str:
        """The page of `ident`; `picture`: its neighbourhood SVG when the caller has drawn
        it already (write_site, which also writes it to doc/<id>.svg), else drawn here."""
        data = self.data
        iri = HCID + ident
        own: list[tuple[str, object]] = []
        fragments: dict[str, list] = defaultdict(list)
        seen = set()
        for q in data.quads[ident]:
            key = (q.subject.value, q.predicate.value, str(q.object))
            if key in seen:
                continue
            seen.add(key)
            frag = q.subject.value[len(iri) + 1:] if q.subject.value != iri else ""
            if frag:
                fragments[frag].append((q.predicate.value, q.object))
            else:
                own.append((q.predicate.value, q.object))
        own.sort(key=lambda po: (po[0], str(po[1])))
        evidence = self._evidence(ident, fragments)
        by_property = defaultdict(list)
        for ev in evidence:
            for p in ev["supports"]:
                by_property[p].append(ev)
        statements = []
        for p, o in own:
            if p in NOT_STATEMENTS:
                continue
            statements.append({"property": self.phrase(p), "iri": p,
                               "property_href": self.vocab.term_href(p, "../"),
                               "value": self.value(o, ident, fragments),
                               "quotes": by_property.get(p, [])})
        types = sorted(({"text": self.phrase(o.value),
                         "href": self.vocab.term_href(o.value, "../")}
                        for o in {o for p, o in own
                                  if p == RDF_TYPE and o.value.startswith(HC)}),
                       key=lambda t: (t["text"], t["href"] or ""))
        other_types = sorted({o.value for p, o in own
                              if p == RDF_TYPE and not o.value.startswith(HC)})
        sources = [self.value(o, ident, fragments) for p, o in own if p == DCT + "source"]
        same_as = [self.value(o, ident, fragments) for p, o in own
                   if p in (OWL_SAMEAS, SKOS + "exactMatch")]
        inverse = defaultdict(list)
        for p, subject in data.inverse.get(ident, []):
            phrase = INVERSE_PHRASES.get(p) or f"is “{self.phrase(p)}” of"
            inverse[phrase].append({"text": data.labels.get(HCID + subject, subject),
                                    "href": self.href(subject)})
        successor = data.replaced_by.get(ident)
        triples = sorted({ox.Triple(q.subject, q.predicate, q.object) for q in data.quads[ident]},
                         key=lambda t: (str(t.subject), str(t.predicate), str(t.object)))
        kind = data.kinds.get(ident, "other")
        return self.env.get_template("entity.html").render(
            base="../", meta=self.meta, ident=ident, iri=iri,
            label=data.labels.get(iri, ident), kind=kind, kind_title=KIND_TITLES.get(kind),
            alt_labels=sorted({o.value for p, o in own if p == SKOS + "altLabel"}),
            types=types, other_types=other_types, statements=statements, evidence=evidence,
            sources=sources, same_as=same_as, inverse=sorted(inverse.items()),
            deprecated=ident in data.deprecated, reason=data.deprecated.get(ident, ""),
            successor=successor and {"text": data.labels.get(HCID + successor, successor),
                                     "href": self.href(successor), "id": successor},
            source_text=self._source_text(ident, own) if kind == "sources" else None,
            jsonld=script_safe(jsonld_document(triples)),
            neighbourhood=self.neighbourhood(ident) if picture is DRAW else picture,
            sparql=sparql_example(iri),
        )

    def relation(self, predicate: str, inverse: bool) -> str:
        """How a link reads in a picture: the property, or its inverse phrase."""
        if inverse:
            return INVERSE_PHRASES.get(predicate) or f"is “{self.phrase(predicate)}” of"
        return self.phrase(predicate)

    def neighbourhood(self, ident: str):
        links = pictures.neighbours(self.data, ident, self.relation)
        return pictures.neighbourhood(self.data, ident, links, self.href)

    # --- pictures, ontology and topic pages --------------------------------------------
    def overview_pictures(self, base: str) -> tuple[list[dict], object, object]:
        """(dated items, timeline SVG, network SVG), their links relative to `base`."""
        def href(ident: str) -> str | None:
            return f"{base}doc/{ident}.html" if ident in self.data.quads else None

        items = pictures.dated_items(self.data)
        return (items, pictures.timeline(items, href),
                pictures.network(self.data, href, self.network_layout))

    @cached_property
    def network_layout(self) -> pictures.NetworkLayout | None:
        """The network picture's layout, made once for the page and the file."""
        return pictures.network_layout(self.data)

    def picture_files(self) -> dict[str, bytes]:
        """`pictures/timeline.svg` and `pictures/network.svg` (those that have something to
        show), as files of their own: their links lead from pictures/ to doc/."""
        _, timeline, network = self.overview_pictures("../")
        return {f"pictures/{name}.svg": pictures.standalone(svg)
                for name, svg in (("timeline", timeline), ("network", network)) if svg}

    def pictures_page(self) -> str:
        items, timeline, network = self.overview_pictures("")
        return self.env.get_template("pictures.html").render(
            base="", meta=self.meta, timeline=timeline, items=items, network=network,
            pairs=pictures.network_pairs(self.data, self.network_layout))

    def _term_value(self, iri: str) -> dict:
        href = self.vocab.href(iri, "../")
        if href and iri in self.vocab.terms:
            href = "#" + self.vocab.terms[iri].anchor  # the same page
        label = (self.vocab.terms[iri].label if iri in self.vocab.terms
                 else self.data.term_labels.get(iri) or iri)
        if href:
            return {"text": label, "href": href, "external": False}
        if is_safe_url(iri):
            return {"text": iri, "href": iri, "external": True}
        return {"text": iri, "href": None, "external": False}

    def ontology_page(self) -> str:
        """`ontology/index.html`: every term, at the anchor of its IRI's fragment."""
        groups: dict[str, list] = defaultdict(list)
        for iri in sorted(self.vocab.terms, key=lambda i: i.casefold()):
            term = self.vocab.terms[iri]
            heading = ("Classes" if "class" in term.kinds
                       else "Individuals" if "individual" in term.kinds else "Properties")
            groups[heading].append({
                "term": term,
                "relations": [(h, [self._term_value(v) for v in term.relations[h]])
                              for h, _ in (*RELATIONS, ("member of", None))
                              if term.relations.get(h)],
            })
        order = [g for g in ("Classes", "Properties", "Individuals") if g in groups]
        return self.env.get_template("ontology.html").render(
            base="../", meta=self.meta, vocab=self.vocab, ns=HC,
            groups=[(g, groups[g]) for g in order])

    def topic_pages(self) -> list[tuple[str, str]]:
        """`topic/<id>.html` per concept and `topic/scheme.html` for the scheme."""
        vocab = self.vocab
        if not vocab.topics:
            return []

        def view(iri: str) -> dict:
            t = vocab.topics[iri]
            return {"text": t.label, "href": f"{t.ident}.html", "ident": t.ident,
                    "count": len(self.data.topic_members.get(iri, []))}

        pages = []
        for iri in sorted(vocab.topics):
            topic = vocab.topics[iri]
            members = [{"text": self.data.labels.get(HCID + m, m), "href": self.href(m),
                        "kind": KIND_TITLES.get(self.data.kinds.get(m, ""), "")}
                       for m in self.data.topic_members.get(iri, [])]
            members.sort(key=lambda m: (m["text"].casefold(), m["href"] or ""))
            pages.append((f"topic/{topic.ident}.html", self.env.get_template("topic.html")
                          .render(base="../", meta=self.meta, topic=topic,
                                  broader=[view(b) for b in topic.broader],
                                  narrower=[view(n) for n in topic.narrower],
                                  members=members, scheme_title=vocab.scheme_title)))

        def tree(iri: str) -> dict:
            return {**view(iri), "children": [tree(n) for n in vocab.topics[iri].narrower]}

        tops = [tree(i) for i in sorted(vocab.topics, key=lambda i: vocab.topics[i].label)
                if vocab.topics[i].top or not vocab.topics[i].broader]
        pages.append(("topic/scheme.html", self.env.get_template("scheme.html").render(
            base="../", meta=self.meta, title=vocab.scheme_title, iri=SCHEME,
            description=vocab.scheme_description, tops=tops)))
        return pages

    def _evidence(self, ident: str, fragments: dict) -> list[dict]:
        out = []
        for frag in sorted(fragments):
            if not frag.startswith("evidence-") or frag.count("-") != 1:
                continue
            props = fragments[frag]
            quote = fragments.get(frag + "-quote", [])
            exact = next((o.value for p, o in quote if p.endswith("#exact")), "")
            source = next((o.value for p, o in props if p.endswith("#wasDerivedFrom")), None)
            source_id = entity_id(source)[0] if source and entity_id(source) else None
            supports = sorted({o.value for p, o in props if p == HC + "supportsProperty"})
            page = self.href(source_id) if source_id else None
            anchor = (f"#{quote_anchor(ident, frag)}"
                      if page and self.archived_path(source_id) else "")
            out.append({
                "id": frag, "exact": exact, "supports": supports,
                "supports_text": [self.phrase(p) for p in supports],
                "source": source_id and self.data.labels.get(HCID + source_id, source_id),
                "href": page and f"{page}{anchor}",
            })
        return out

    def _source_text(self, ident: str, own: list) -> list[dict] | None:
        """The archived text cut into segments, each with the quotes that cover it."""
        path = self.archived_path(ident)
        if path is None:
            return None
        text = redact_contact_details(path.read_text(encoding="utf-8", errors="replace"))
        return segments(text, self.data.quotes.get(ident, []), self.href)

    def archived_path(self, source_id: str) -> Path | None:
        """The source's archived text, if it is a file under <root>/data/sources/."""
        if source_id not in self._archived:
            archived = next((q.object.value for q in self.data.quads.get(source_id, [])
                             if q.predicate.value == HC + "archivedFile"
                             and q.subject.value == HCID + source_id), None)
            path = None
            if archived:
                base = (self.root / "data" / "sources").resolve()
                candidate = (self.root / archived).resolve()
                if candidate.is_relative_to(base) and candidate.is_file():
                    path = candidate
            self._archived[source_id] = path
        return self._archived[source_id]

    # --- index pages ------------------------------------------------------------------
    def kind_pages(self) -> list[tuple[str, str]]:
        by_kind: dict[str, list] = defaultdict(list)
        for ident in self.data.quads:
            kind = self.data.kinds.get(ident)
            if kind:
                label = self.data.labels.get(HCID + ident, ident)
                item = {"text": label, "href": f"../doc/{ident}.html", "id": ident,
                        "deprecated": ident in self.data.deprecated}
                by_kind[kind].append(item)
                by_kind["all"].append(item)
        pages = []
        titles = {**KIND_TITLES, "all": "Everything"}
        for kind in [k for k, _, _ in KINDS] + ["all"]:
            items = sorted(by_kind.get(kind, []), key=lambda i: (i["text"].casefold(), i["id"]))
            chunks = [items[i:i + self.page_size]
                      for i in range(0, len(items), self.page_size)] or [[]]
            names = [f"{kind}.html" if n == 0 else f"{kind}-{n + 1}.html"
                     for n in range(len(chunks))]
            for n, chunk in enumerate(chunks):
                pages.append((f"kind/{names[n]}", self.env.get_template("kind.html").render(
                    base="../", meta=self.meta, kind=kind, title=titles[kind], items=chunk,
                    total=len(items), page=n + 1, pages=names,
                    kinds=self.kind_links("../"))))
        return pages

    def kind_links(self, base: str) -> list[dict]:
        return [{"text": t, "href": f"{base}kind/{k}.html"} for k, _, t in KINDS]

    # --- dataset page -----------------------------------------------------------------
    def _dataset_meta(self) -> dict:
        meta = {"title": "healthcoop", "description": "", "version": "", "issued": "",
                "license": None}
        for q in self.data.dataset:
            p, o = q.predicate.value, q.object
            if p == DCT + "title":
                meta["title"] = o.value
            elif p == DCT + "description":
                meta["description"] = o.value
            elif p == "http://www.w3.org/ns/dcat#version":
                meta["version"] = o.value
            elif p == DCT + "issued":
                meta["issued"] = o.value
            elif p == DCT + "license" and is_safe_url(o.value):
                meta["license"] = o.value
        return meta

    def dataset(self, downloads: list[dict]) -> str:
        counts = defaultdict(int)
        for kind in self.data.kinds.values():
            counts[kind] += 1
        return self.env.get_template("dataset.html").render(
            base="", meta=self.meta, downloads=downloads, dataset=DATASET,
            kinds=[{"text": t, "href": f"kind/{k}.html", "count": counts.get(k, 0)}
                   for k, _, t in KINDS])

    def not_found(self) -> str:
        return self.env.get_template("404.html").render(base="/", meta=self.meta)

    def stylesheet(self) -> str:
        return (TEMPLATES / "style.css").read_text(encoding="utf-8")


EMAIL_LOCAL = re.compile(r"[\w.+-]{1,64}\Z")
EMAIL_DOMAIN = re.compile(r"[\w-]{1,63}\.[\w.-]{1,190}")
MASK = "\u2592"  # ▒


def redact_contact_details(text: str) -> str:
    """The text with every e-mail address and phone number (as pipeline.checks recognises
    a phone number) masked character for character, so that quote offsets still hold.
    Archived texts keep them; the release never publishes them (CONTRIBUTING.md)."""
    from pipeline.check.checks import PHONE

    chars = list(text)
    at = text.find("@")
    while at != -1:
        left = EMAIL_LOCAL.search(text, max(0, at - 64), at)
        right = EMAIL_DOMAIN.match(text, at + 1)
        if left and right:
            chars[left.start():right.end()] = MASK * (right.end() - left.start())
        at = text.find("@", at + 1)
    for m in PHONE.finditer(text):
        chars[m.start():m.end()] = MASK * (m.end() - m.start())
    return "".join(chars)


def quote_anchor(entity: str, frag: str) -> str:
    """The id of a quote's mark on its source page (`quote-evidence-<hash>-<entity>`: the
    hash has no hyphen, so the id is unambiguous)."""
    return f"quote-{frag}-{entity}"


def segments(text: str, quotes: list, href) -> list[dict]:
    """Cut `text` at every quote boundary; each segment lists the quotes covering it and the
    anchors of the quotes that start there. One sweep over the sorted boundaries."""
    n = len(text)
    quotes = sorted((q for q in quotes if q.end <= n), key=lambda q: (q.start, q.end, q.entity))
    cuts = sorted({0, n, *(q.start for q in quotes), *(q.end for q in quotes)})
    starts = defaultdict(list)
    ends = defaultdict(list)
    for i, q in enumerate(quotes):
        starts[q.start].append(i)
        ends[q.end].append(i)
    active: dict[int, None] = {}
    out = []
    for a, b in zip(cuts, cuts[1:], strict=False):
        for i in ends.get(a, []):
            active.pop(i, None)
        anchors = []
        for i in starts.get(a, []):
            active[i] = None
            anchors.append(quote_anchor(quotes[i].entity, quotes[i].fragment))
        covering = [quotes[i] for i in active]
        first = covering[0] if covering else None
        page = href(first.entity) if first else None
        # quotes starting here that the mark's own link does not lead to
        also = [f"{href(quotes[i].entity)}#{quotes[i].fragment}" for i in starts.get(a, [])
                if quotes[i] is not first and href(quotes[i].entity)]
        out.append({"text": text[a:b], "anchors": anchors, "marked": bool(covering),
                    "href": page and f"{page}#{first.fragment}", "also": also,
                    "title": ", ".join(sorted({q.entity for q in covering}))})
    return out


def sparql_example(iri: str) -> str:
    """A query for everything said about the entity, and what links to it."""
    return (f"SELECT ?property ?value ?inverse WHERE {{\n"
            f"  {{ <{iri}> ?property ?value }}\n"
            f"  UNION\n"
            f"  {{ ?value ?inverse <{iri}> }}\n"
            f"}}")
