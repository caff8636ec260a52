"""`healthcoop load`: push a release into a SPARQL store (Graph Store HTTP Protocol).

In:  a release directory (default `output/`) or one dump file, and the store's Graph Store
     endpoint (Oxigraph: `http://HOST:PORT/store`; Fuseki: `http://HOST:3030/DATASET/data`;
     GraphDB: `http://HOST:7200/repositories/REPO/rdf-graphs/service`; docs/loading.md).
Out: the store holds the release. Every upload is an HTTP PUT, which *replaces* the target
     graph, so loading the same release twice leaves the store as after one load, and
     loading a new release replaces the old one graph by graph.

Targets:
- default: the default-graph dump (Turtle unless `--format` says otherwise) replaces the
  store's default graph (`PUT <endpoint>?default`);
- `--graph IRI`: the same, into one named graph (`PUT <endpoint>?graph=IRI`);
- `--per-source`, or a dataset format (`nquads`, `trig`): the named graphs of the N-Quads /
  TriG dump, each replacing the graph of the same name (one per source, and
  `…/graph/description`), sent as N-Triples.

Failures raise EnvironmentProblem (exit code 2) with what went wrong and what to do: the
store cannot be reached, does not answer in time, or refuses the upload (its HTTP status and
the first lines of its answer).
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import pyoxigraph as ox
import requests

from .diff import format_of
from .errors import EnvironmentProblem, InvalidData, Issue

# --format -> (release file, media type, holds named graphs)
FORMATS: dict[str, tuple[str, str, bool]] = {
    "turtle": ("healthcoop.ttl", "text/turtle", False),
    "ntriples": ("healthcoop.nt", "application/n-triples", False),
    "jsonld": ("healthcoop.jsonld", "application/ld+json", False),
    "nquads": ("healthcoop.nq", "application/n-quads", True),
    "trig": ("healthcoop.trig", "application/trig", True),
}
BY_OX_FORMAT = {
    ox.RdfFormat.TURTLE: "turtle", ox.RdfFormat.N_TRIPLES: "ntriples",
    ox.RdfFormat.JSON_LD: "jsonld", ox.RdfFormat.N_QUADS: "nquads", ox.RdfFormat.TRIG: "trig",
}
DEFAULT_TIMEOUT = (10.0, 300.0)  # seconds: to connect, and to wait for the store's answer
USER_AGENT = "healthcoop-load"


@dataclass
class Upload:
    """One PUT: which graph, how many bytes, and the store's answer."""

    graph: str | None  # None: the default graph
    url: str
    size: int
    status: int = 0


@dataclass
class LoadResult:
    endpoint: str
    file: Path
    uploads: list[Upload] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = []
        for u in self.uploads:
            target = f"graph <{u.graph}>" if u.graph else "the default graph"
            out.append(f"replaced {target} ({u.size} bytes, HTTP {u.status})")
        out.append(f"loaded {self.file} into {self.endpoint}: {len(self.uploads)} graph(s)")
        return out


def pick_file(release: Path, fmt: str | None, per_source: bool) -> tuple[Path, str]:
    """The dump to load and its format name, from a release directory or a file."""
    if release.is_dir():
        name = fmt or ("nquads" if per_source else "turtle")
        for candidate in (FORMATS[name][0], FORMATS[name][0] + ".gz"):
            if (release / candidate).is_file():
                return release / candidate, name
        raise EnvironmentProblem(
            f"{release} holds no {FORMATS[name][0]}",
            fix="Build a release first (`healthcoop build`), or give the dump file itself.")
    if not release.is_file():
        raise EnvironmentProblem(f"{release} does not exist",
                                 fix="Give a release directory (e.g. output/) or a dump file.")
    detected = BY_OX_FORMAT.get(format_of(release)[0])
    if detected is None:
        raise EnvironmentProblem(f"cannot load {release}: not one of the release formats",
                                 fix=f"Use one of: {', '.join(FORMATS)}.")
    if fmt and fmt != detected:
        raise EnvironmentProblem(f"{release} is {detected}, not {fmt}",
                                 fix="Leave out --format when giving a file.")
    return release, detected


def _read(path: Path) -> bytes:
    try:
        data = path.read_bytes()
        return gzip.decompress(data) if path.suffix == ".gz" else data
    except (OSError, EOFError) as err:
        raise EnvironmentProblem(f"cannot read {path}: {err}") from err


def graph_url(endpoint: str, graph: str | None) -> str:
    """`<endpoint>?default` or `<endpoint>?graph=<iri, percent-encoded>`."""
    sep = "&" if "?" in endpoint else "?"
    if graph is None:
        return f"{endpoint}{sep}default"
    return f"{endpoint}{sep}graph={quote(graph, safe='')}"


def split_graphs(data: bytes, fmt: str, path: Path) -> Iterator[tuple[str | None, bytes]]:
    """The graphs of an N-Quads / TriG dump, each as N-Triples bytes, sorted by name."""
    try:
        quads = list(ox.parse(data, format=ox.RdfFormat.N_QUADS if fmt == "nquads"
                              else ox.RdfFormat.TRIG))
    except (SyntaxError, ValueError) as err:
        raise InvalidData(f"cannot read {path}: {err}",
                          issues=[Issue(str(path), 0, "(file)", str(err),
                                        "Rebuild the release.")]) from err
    graphs: dict[str | None, list[ox.Triple]] = {}
    for q in quads:
        name = None if isinstance(q.graph_name, ox.DefaultGraph) else q.graph_name.value
        graphs.setdefault(name, []).append(q.triple)
    for name in sorted(graphs, key=lambda g: g or ""):
        yield name, ox.serialize(graphs[name], format=ox.RdfFormat.N_TRIPLES)


def load_release(release: Path, endpoint: str, *, graph: str | None = None,
                 per_source: bool = False, fmt: str | None = None,
                 timeout: tuple[float, float] = DEFAULT_TIMEOUT,
                 session: requests.Session | None = None) -> LoadResult:
    """PUT a release into a store; see the module docstring for the targets."""
    if graph and per_source:
        raise EnvironmentProblem("--graph and --per-source exclude each other",
                                 fix="Choose one target: one named graph, or one per source.")
    if not endpoint.startswith(("http://", "https://")):
        raise EnvironmentProblem(f"the endpoint {endpoint!r} is not an http(s) URL",
                                 fix="Give the store's Graph Store endpoint, e.g. "
                                     "http://127.0.0.1:7878/store for Oxigraph.")
    path, name = pick_file(Path(release), fmt, per_source)
    _file, media_type, has_graphs = FORMATS[name]
    data = _read(path)
    result = LoadResult(endpoint, path)
    http = session or requests.Session()
    if has_graphs:
        if graph:
            raise EnvironmentProblem(f"{path} holds named graphs; --graph needs a default-graph "
                                     "dump (turtle, ntriples, jsonld)",
                                     fix="Use --per-source, or --format turtle with --graph.")
        uploads = list(split_graphs(data, name, path))
        media_type = "application/n-triples"
    elif per_source:
        raise EnvironmentProblem(f"{path} has no named graphs; --per-source needs the N-Quads "
                                 "or TriG dump", fix="Give the release directory or healthcoop.nq.")
    else:
        uploads = [(graph, data)]
    for target, body in uploads:
        url = graph_url(endpoint, target)
        upload = Upload(target, url, len(body))
        upload.status = _put(http, url, body, media_type, endpoint, timeout)
        result.uploads.append(upload)
    return result


def _put(http: requests.Session, url: str, body: bytes, media_type: str, endpoint: str,
         timeout: tuple[float, float]) -> int:
    headers = {"Content-Type": f"{media_type}; charset=utf-8" if media_type.startswith("text/")
               else media_type, "User-Agent": USER_AGENT}
    try:
        response = http.put(url, data=body, headers=headers, timeout=timeout)
    except requests.exceptions.ConnectTimeout as err:
        raise EnvironmentProblem(
            f"cannot connect to {endpoint}: no answer within {timeout[0]:g} s: is the store "
            "running?", fix="Start the store, or check the host and port.") from err
    except requests.exceptions.ConnectionError as err:
        raise EnvironmentProblem(
            f"cannot connect to {endpoint}: is the store running? ({_reason(err)})",
            fix="Start the store, or check the host, port and path of --endpoint.") from err
    except requests.exceptions.Timeout as err:
        raise EnvironmentProblem(
            f"the store at {endpoint} did not answer within {timeout[1]:g} s",
            fix="Check the store's log; a large upload may need a store with more memory.",
        ) from err
    except requests.exceptions.RequestException as err:
        raise EnvironmentProblem(f"cannot upload to {endpoint}: {err}") from err
    if response.status_code >= 400:
        body_lines = [ln for ln in response.text.strip().splitlines() if ln.strip()][:5]
        excerpt = "\n  ".join(ln[:300] for ln in body_lines) or "(empty answer)"
        fix = {
            401: "The store wants credentials; load through its own tool (docs/loading.md).",
            403: "The store forbids writes at this URL; check its access settings.",
            404: "Check --endpoint: it must be the store's Graph Store endpoint "
                 "(Oxigraph: http://HOST:PORT/store).",
            405: "Check --endpoint: it must be the store's Graph Store endpoint, which "
                 "accepts PUT.",
        }.get(response.status_code, "See the store's answer above and its log.")
        raise EnvironmentProblem(
            f"the store refused the upload with HTTP {response.status_code}: {excerpt}",
            fix=fix)
    return response.status_code


def _reason(err: Exception) -> str:
    text = str(err)
    for marker in ("Connection refused", "Name or service not known", "No route to host",
                   "timed out", "Temporary failure in name resolution"):
        if marker in text:
            return marker
    return text[:200]
