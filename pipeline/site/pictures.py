"""Pictures of the release, drawn at build time as static SVG (no script, no font files).

In:  a `SiteData` (model.py) and a function giving the page of an entity id.
Out: SVG text (to inline in a page) for
     - `timeline`: dated events and agreements in date order (schema:startDate, hc:date);
     - `network`: who agreed with whom: the parties of agreements as nodes, one edge per
       pair of co-parties (its width the number of agreements), nodes coloured by country
       (hc:country, or the place itself when a country is a party);
     - `neighbourhood`: one entity and what it links to and what links to it.

Each picture is also written as a file of its own (`standalone`: the same SVG with an XML
declaration): `pictures/timeline.svg`, `pictures/network.svg` and `doc/<id>.svg`, each
linked from its page ("download this picture"); its links are relative to that file.

Layout by networkx (spring layout with a fixed seed for the network, shell layout for a
neighbourhood); coordinates rounded to 0.1, so two builds give the same bytes. Every label
is escaped (labels are data, not markup) and every picture has a <title> and <desc> that
say in words what it shows; the page lists the same facts as text.

Cost: the network is one layout over the agreement parties, at most MAX_PARTIES of them
(those party to the most agreements: the layout grows with the square of a component's
nodes, and a picture of thousands of dots says nothing to a reader); a neighbourhood is at
most MAX_NEIGHBOURS + 1 nodes: linear in the number of entities.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from typing import NamedTuple

import networkx as nx
import pyoxigraph as ox
from markupsafe import Markup, escape

from .model import DCT, HC, HCID, RDF_TYPE, SiteData, entity_id

SCHEMA = "https://schema.org/"
VOID_IN = "http://rdfs.org/ns/void#inDataset"
SEED = 20240501
MAX_NEIGHBOURS = 12
MAX_PARTIES = 150  # the network shows at most this many parties
FONT = "system-ui, sans-serif"  # the reader's own font: nothing is fetched
# links that would tie everything together and say little about the entity itself
NOT_NEIGHBOURS = {RDF_TYPE, DCT + "source", VOID_IN, HC + "evidence"}
DATE = re.compile(r"(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?")
PALETTE = ("#4e79a7", "#f28e2b", "#e15759", "#59a14f", "#b07aa1", "#9c755f", "#76b7b2",
           "#edc948", "#ff9da7")
OTHER = "#555555"  # countries beyond the palette
UNKNOWN = "#bab0ac"  # no country recorded
KIND_COLOURS = {"events": "#4e79a7", "agreements": "#e15759"}


def standalone(svg: Markup) -> bytes:
    """The bytes of a picture as a file of its own: an XML declaration, then the SVG (its
    text escaped as XML too: markupsafe writes only `&amp; &lt; &gt; &#34; &#39;`)."""
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + str(svg) + "\n").encode("utf-8")


def short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def num(value: float) -> str:
    """A coordinate, rounded to 0.1 (and never "-0.0")."""
    text = f"{round(value, 1):.1f}"
    return "0.0" if text == "-0.0" else text


def _open(width: int, height: int, key: str, title: str, desc: str) -> list[str]:
    return [f'<svg xmlns="http://www.w3.org/2000/svg" class="picture" role="img" '
            f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
            f'aria-labelledby="{key}-title {key}-desc" font-family="{FONT}">',
            f'<title id="{key}-title">{escape(title)}</title>',
            f'<desc id="{key}-desc">{escape(desc)}</desc>']


def _own(data: SiteData, ident: str) -> list[tuple[str, object]]:
    iri = HCID + ident
    return [(q.predicate.value, q.object) for q in data.quads.get(ident, [])
            if q.subject.value == iri]


def _label(data: SiteData, ident: str) -> str:
    return data.labels.get(HCID + ident, ident)


# --- timeline ---------------------------------------------------------------------------
def dated_items(data: SiteData) -> list[dict]:
    """Events and agreements with a date (start date first), in date order."""
    items = []
    for ident, kind in data.kinds.items():
        if kind not in KIND_COLOURS or ident in data.deprecated:
            continue
        own = dict(sorted((p, o.value) for p, o in _own(data, ident)
                          if p in (SCHEMA + "startDate", HC + "date")))
        date = own.get(SCHEMA + "startDate") or own.get(HC + "date")
        if date and DATE.match(date):
            items.append({"id": ident, "date": DATE.match(date).group(0), "kind": kind,
                          "label": _label(data, ident)})
    return sorted(items, key=lambda i: (i["date"], i["label"].casefold(), i["id"]))


def timeline(items: list[dict], href: Callable[[str], str | None]) -> Markup | None:
    """One row per dated item, top to bottom by date, a year label where the year
    changes; events blue circles, agreements red squares."""
    if not items:
        return None
    row, top, width = 22, 46, 760
    years = []
    rows = []
    y = top
    last_year = None
    for item in items:
        year = item["date"][:4]
        if year != last_year:
            years.append((year, y))
            y += row
            last_year = year
        rows.append((item, y))
        y += row
    height = y + 10
    first, last = items[0]["date"], items[-1]["date"]
    events = sum(i["kind"] == "events" for i in items)
    out = _open(width, height, "timeline", "Timeline of events and agreements",
                f"{events} events and {len(items) - events} agreements from {first} to "
                f"{last}, in date order; each row gives the date and the name.")
    out.append(f'<line x1="100" y1="{top - 10}" x2="100" y2="{height - 10}" '
               f'stroke="#999" stroke-width="2"/>')
    out.append(f'<circle cx="16" cy="16" r="6" fill="{KIND_COLOURS["events"]}"/>')
    out.append(f'<rect x="110" y="10" width="12" height="12" '
               f'fill="{KIND_COLOURS["agreements"]}"/>')
    out.append('<text x="28" y="20" font-size="12">event</text>')
    out.append('<text x="128" y="20" font-size="12">agreement</text>')
    for year, yy in years:
        out.append(f'<text x="92" y="{yy + 5}" font-size="14" font-weight="bold" '
                   f'text-anchor="end">{escape(year)}</text>')
    for item, yy in rows:
        colour = KIND_COLOURS[item["kind"]]
        mark = (f'<circle cx="100" cy="{yy}" r="6" fill="{colour}"/>' if item["kind"] == "events"
                else f'<rect x="94" y="{yy - 6}" width="12" height="12" fill="{colour}"/>')
        text = (f'<text x="92" y="{yy + 4}" font-size="11" text-anchor="end" fill="#444">'
                f'{escape(item["date"])}</text>{mark}'
                f'<text x="114" y="{yy + 4}" font-size="12">{escape(short(item["label"], 95))}'
                f'</text>')
        link = href(item["id"])
        out.append(f'<a href="{escape(link)}"><title>{escape(item["date"])}: '
                   f'{escape(item["label"])}</title>{text}</a>' if link else text)
    out.append("</svg>")
    return Markup("\n".join(out))


# --- the network of agreements ---------------------------------------------------------
def agreement_network(data: SiteData) -> tuple[dict[str, str], dict[tuple[str, str], list[str]]]:
    """(actor id -> country id or "", (actor, actor) -> agreement ids) over the parties of
    every live agreement."""
    actors: dict[str, str] = {}
    edges: dict[tuple[str, str], list[str]] = defaultdict(list)
    for ident in sorted(data.kinds):
        if data.kinds[ident] != "agreements" or ident in data.deprecated:
            continue
        parties = sorted({found[0] for p, o in _own(data, ident)
                          if p == HC + "party" and (found := entity_id(o.value))
                          and not found[1] and found[0] in data.quads})
        for actor in parties:
            actors[actor] = ""
        for i, a in enumerate(parties):
            for b in parties[i + 1:]:
                edges[(a, b)].append(ident)
    for actor in actors:
        countries = sorted(entity_id(o.value)[0] for p, o in _own(data, actor)
                           if p == HC + "country" and entity_id(o.value))
        if countries:
            actors[actor] = countries[0]
        elif data.kinds.get(actor) == "places":
            actors[actor] = actor
    return actors, dict(edges)


def country_colours(actors: dict[str, str]) -> dict[str, str]:
    """A colour per country, the most frequent first (ties by id); "" (unknown) grey."""
    counts: dict[str, int] = defaultdict(int)
    for country in actors.values():
        if country:
            counts[country] += 1
    ranked = sorted(counts, key=lambda c: (-counts[c], c))
    colours = {c: PALETTE[i] if i < len(PALETTE) else OTHER for i, c in enumerate(ranked)}
    colours[""] = UNKNOWN
    return colours


def _scale(pos: dict, width: float, height: float, margin: float) -> dict[str, tuple]:
    xs = [p[0] for p in pos.values()]
    ys = [p[1] for p in pos.values()]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    sx = (width - 2 * margin) / ((x1 - x0) or 1)
    sy = (height - 2 * margin) / ((y1 - y0) or 1)
    return {n: (margin + (float(p[0]) - x0) * sx, margin + (float(p[1]) - y0) * sy)
            for n, p in pos.items()}


def pack_components(graph: nx.Graph, width: int) -> tuple[dict[str, tuple], int]:
    """(node -> (x, y, text-anchor of its label)), height. Lay out each connected
    component with networkx's spring layout (fixed seed) in its own square, the
    squares placed in rows (largest first): apart, components would only push each
    other to the edges and squeeze every line to a dot."""
    parts = sorted((sorted(c) for c in nx.connected_components(graph)),
                   key=lambda c: (-len(c), c[0]))
    pos: dict[str, tuple] = {}
    x = y = row_height = 0.0
    for part in parts:
        side = min(width, 110 * len(part) ** 0.5 + 70)
        if x + side > width:
            x, y, row_height = 0.0, y + row_height, 0.0
        # a new graph in sorted order: a subgraph view iterates a set (hash-seed order)
        sub = nx.Graph()
        sub.add_nodes_from(part)
        sub.add_edges_from(sorted(tuple(sorted(e)) for e in graph.edges(part)))
        if len(part) == 1:
            local = {part[0]: (side / 2, side / 2)}
        else:
            layout = nx.spring_layout(sub, seed=SEED, iterations=100)
            local = _scale(layout, side, side, 45)
        for node, (px, py) in local.items():
            # the label goes towards the middle of its square, so it stays inside it
            pos[node] = (x + px, y + py, "end" if px > side / 2 else "start")
        x += side
        row_height = max(row_height, side)
    return pos, int(y + row_height) + 10


NETWORK_WIDTH = 900


class NetworkLayout(NamedTuple):
    """What the network picture draws: its parties (id -> country id or ""), the pairs of
    them party to the same agreements, the node positions and the picture's height; and
    how many parties and agreements there are in all (more than drawn when over
    MAX_PARTIES)."""

    actors: dict[str, str]
    edges: dict[tuple[str, str], list[str]]
    pos: dict[str, tuple]
    height: int
    all_parties: int
    all_agreements: int


def network_layout(data: SiteData) -> NetworkLayout | None:
    """The network picture's layout, or None when no agreement has two parties: what
    `network` draws, worked out once however many pages draw it. Over MAX_PARTIES parties,
    the MAX_PARTIES party to the most agreements (ties by id) and the pairs among them."""
    actors, edges = agreement_network(data)
    if not edges:
        return None
    all_parties = len(actors)
    all_agreements = len({a for agreements in edges.values() for a in agreements})
    if len(actors) > MAX_PARTIES:
        joined: dict[str, set[str]] = defaultdict(set)
        for (a, b), agreements in edges.items():
            joined[a].update(agreements)
            joined[b].update(agreements)
        kept = set(sorted(actors, key=lambda x: (-len(joined[x]), x))[:MAX_PARTIES])
        actors = {x: c for x, c in actors.items() if x in kept}
        edges = {pair: agreements for pair, agreements in edges.items()
                 if pair[0] in kept and pair[1] in kept}
    graph = nx.Graph()
    graph.add_nodes_from(sorted(actors))
    for (a, b), agreements in sorted(edges.items()):
        graph.add_edge(a, b, weight=len(agreements))
    pos, height = pack_components(graph, NETWORK_WIDTH)
    return NetworkLayout(actors, edges, pos, height, all_parties, all_agreements)


def network(data: SiteData, href: Callable[[str], str | None],
            layout: NetworkLayout | None = None) -> Markup | None:
    """Who agreed with whom, laid out by networkx's spring layout (fixed seed); `layout`
    from `network_layout` (made here when not given)."""
    layout = layout or network_layout(data)
    if layout is None:
        return None
    actors, edges, pos, height = layout.actors, layout.edges, layout.pos, layout.height
    width = NETWORK_WIDTH
    colours = country_colours(actors)
    country_names = {c: (_label(data, c) if c else "no country recorded") for c in colours}
    legend = sorted(colours, key=lambda c: (c == "", country_names[c].casefold()))
    legend_rows = (len(legend) + 3) // 4
    total = height + 20 + 22 * legend_rows
    n_agreements = len({a for agreements in edges.values() for a in agreements})
    if len(actors) < layout.all_parties:
        shown = (f"The {len(actors)} parties to the most agreements, of "
                 f"{layout.all_parties} parties to {layout.all_agreements} agreements with "
                 f"more than one party, and {n_agreements} of those agreements")
    else:
        shown = (f"{len(actors)} parties to {n_agreements} agreements with more than one "
                 f"party")
    out = _open(width, total, "network", "Who agreed with whom",
                f"{shown}; a line joins two parties to the same agreement (thicker: more "
                f"agreements); colour is the party's country. The list below the picture "
                f"gives the same pairs in words.")
    out.append('<g stroke="#888" stroke-opacity="0.7">')
    for (a, b), agreements in sorted(edges.items()):
        (x1, y1, _), (x2, y2, _) = pos[a], pos[b]
        names = "; ".join(_label(data, g) for g in agreements)
        out.append(f'<line x1="{num(x1)}" y1="{num(y1)}" x2="{num(x2)}" y2="{num(y2)}" '
                   f'stroke-width="{min(1 + len(agreements), 6)}"><title>'
                   f'{escape(_label(data, a))} and {escape(_label(data, b))}: '
                   f'{escape(names)}</title></line>')
    out.append("</g>")
    for actor in sorted(actors):
        x, y, anchor = pos[actor]
        label = _label(data, actor)
        country = actors[actor]
        dx = -9 if anchor == "end" else 9
        node = (f'<circle cx="{num(x)}" cy="{num(y)}" r="7" fill="{colours[country]}" '
                f'stroke="#fff"/><text x="{num(x + dx)}" y="{num(y + 4)}" font-size="11" '
                f'text-anchor="{anchor}">{escape(short(label, 28))}</text>')
        title = f'<title>{escape(label)} ({escape(country_names[country])})</title>'
        link = href(actor)
        out.append(f'<a href="{escape(link)}">{title}{node}</a>' if link
                   else f"<g>{title}{node}</g>")
    for i, country in enumerate(legend):
        x, y = 20 + (i % 4) * 220, height + 20 + (i // 4) * 22
        out.append(f'<circle cx="{x}" cy="{y}" r="6" fill="{colours[country]}"/>'
                   f'<text x="{x + 12}" y="{y + 4}" font-size="12">'
                   f'{escape(short(country_names[country], 30))}</text>')
    out.append("</svg>")
    return Markup("\n".join(out))


def network_pairs(data: SiteData, layout: NetworkLayout | None = None) -> list[dict]:
    """The pairs the network picture draws, in words, for the list under the picture
    (`layout` from `network_layout`, or worked out here)."""
    layout = layout or network_layout(data)
    edges = layout.edges if layout else {}
    return [{"a": a, "b": b, "a_label": _label(data, a), "b_label": _label(data, b),
             "agreements": [{"id": g, "label": _label(data, g)} for g in agreements]}
            for (a, b), agreements in sorted(edges.items(), key=lambda e: (
                _label(data, e[0][0]).casefold(), _label(data, e[0][1]).casefold(), e[0]))]


# --- one entity's neighbourhood ---------------------------------------------------------
def neighbours(data: SiteData, ident: str, phrase: Callable[[str, bool], str]) -> list[tuple]:
    """(other id, relation phrase) for what `ident` links to, then what links to it; one
    row per other entity (its first relation)."""
    seen: dict[str, str] = {}
    for p, o in sorted(_own(data, ident), key=lambda po: (po[0], str(po[1]))):
        if p in NOT_NEIGHBOURS or not isinstance(o, ox.NamedNode):
            continue
        found = entity_id(o.value)
        if found and not found[1] and found[0] != ident and found[0] in data.quads:
            seen.setdefault(found[0], phrase(p, False))
    for p, subject in data.inverse.get(ident, []):
        if p not in NOT_NEIGHBOURS and subject in data.quads:
            seen.setdefault(subject, phrase(p, True))
    return list(seen.items())


def neighbourhood(data: SiteData, ident: str, links: list[tuple],
                  href: Callable[[str], str | None]) -> Markup | None:
    """The entity in the middle, at most MAX_NEIGHBOURS others around it (networkx shell
    layout), each labelled with its name and how it is linked."""
    if not links:
        return None
    shown = links[:MAX_NEIGHBOURS]
    graph = nx.Graph()
    graph.add_node(ident)
    for other, _ in shown:
        graph.add_edge(ident, other)
    layout = nx.shell_layout(graph, nlist=[[ident], [o for o, _ in shown]])
    width, height, cx, cy, rx, ry = 640, 340, 320, 170, 150, 120
    unit = max(max(abs(float(p[0])), abs(float(p[1]))) for p in layout.values()) or 1.0
    pos = {n: (cx + float(p[0]) / unit * rx, cy + float(p[1]) / unit * ry)
           for n, p in layout.items()}
    label = _label(data, ident)
    more = len(links) - len(shown)
    desc = "; ".join(f"{rel}: {_label(data, o)}" for o, rel in shown)
    if more:
        desc += f"; and {more} more (listed on this page)"
    out = _open(width, height, "neighbourhood", f"{label} and what it is linked to", desc)
    out.append('<g stroke="#999" stroke-width="1.5">')
    for other, _ in shown:
        (x1, y1), (x2, y2) = pos[ident], pos[other]
        out.append(f'<line x1="{num(x1)}" y1="{num(y1)}" x2="{num(x2)}" y2="{num(y2)}"/>')
    out.append("</g>")
    for other, rel in shown:
        x, y = pos[other]
        anchor = "start" if x > cx + 20 else "end" if x < cx - 20 else "middle"
        dx = {"start": 9, "end": -9, "middle": 0}[anchor]
        dy = -12 if (anchor == "middle" and y < cy) else 4
        node = (f'<circle cx="{num(x)}" cy="{num(y)}" r="6" fill="#4e79a7"/>'
                f'<text x="{num(x + dx)}" y="{num(y + dy)}" font-size="11" '
                f'text-anchor="{anchor}">{escape(short(_label(data, other), 24))}'
                f'<tspan x="{num(x + dx)}" dy="12" font-size="9" fill="#555">'
                f'{escape(short(rel, 30))}</tspan></text>')
        title = f"<title>{escape(rel)}: {escape(_label(data, other))}</title>"
        link = href(other)
        out.append(f'<a href="{escape(link)}">{title}{node}</a>' if link
                   else f"<g>{title}{node}</g>")
    x, y = pos[ident]
    out.append(f'<circle cx="{num(x)}" cy="{num(y)}" r="9" fill="#e15759"/>'
               f'<text x="{num(x)}" y="{num(y - 14)}" font-size="12" font-weight="bold" '
               f'text-anchor="middle">{escape(short(label, 30))}</text>')
    out.append("</svg>")
    return Markup("\n".join(out))
