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

The dump is read and parsed before anything is sent (`pipeline.diff.read_dump` and
`parse_dump`: a 0-byte, truncated, mis-named or non-UTF-8 file is InvalidData, exit 1, and
the store is left as it was; a FIFO, a link out of the release or an oversized file is an
EnvironmentProblem, exit 2). `timeout` is a total deadline per upload, in seconds: sending
the dump and receiving the store's whole answer (a store that accepts the connection and
then drips its answer is cut off); a (connect, total) pair is accepted too. Uploads do not
follow redirects (requests would turn a redirected PUT into a GET and report success).

Failures raise EnvironmentProblem (exit code 2) with what went wrong and what to do: the
store cannot be reached, does not answer in time, redirects, or refuses the upload (its
HTTP status and the first lines of its answer, control characters made visible).

The HTTP exchange with its total deadline is `pipeline.http` (the Wikidata client uses it too).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import pyoxigraph as ox
import requests

from pipeline.consume.diff import format_of, parse_dump, read_dump, release_file, shown
from pipeline.errors import EnvironmentProblem
from pipeline.http import (
    TRANSPORT_ERRORS,
    DeadlineExceeded,
    check_http_url,
    http_request,
    split_timeout,
    watched_session,
)
from pipeline.terminal import terminal_safe

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
DEFAULT_TIMEOUT = 300.0  # seconds for each upload: sending it and the store's whole answer
USER_AGENT = "healthcoop-load"
MAX_STORE_ANSWER = 64 * 1024  # we show its first lines; the rest is not read
ENDPOINT_EXAMPLE = "http://127.0.0.1:7878/store (Oxigraph's Graph Store endpoint)"


# --- loading ------------------------------------------------------------------------------------

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
            target = f"graph <{terminal_safe(u.graph)}>" if u.graph else "the default graph"
            out.append(f"replaced {target} ({u.size} bytes, HTTP {u.status})")
        out.append(f"loaded {shown(self.file)} into {terminal_safe(self.endpoint)}: "
                   f"{len(self.uploads)} graph(s)")
        return out


def pick_file(release: Path, fmt: str | None, per_source: bool) -> tuple[Path, str]:
    """The dump to load and its format name, from a release directory or a file."""
    release = Path(release)
    if release.is_dir():
        name = fmt or ("nquads" if per_source else "turtle")
        return release_file(release, (FORMATS[name][0], FORMATS[name][0] + ".gz")), name
    path = release_file(release)
    detected = BY_OX_FORMAT.get(format_of(path)[0])
    if detected is None:
        raise EnvironmentProblem(f"cannot load {shown(path)}: not one of the release formats",
                                 fix=f"Use one of: {', '.join(FORMATS)}.")
    if fmt and fmt != detected:
        raise EnvironmentProblem(f"{shown(path)} is {detected}, not {fmt}",
                                 fix="Leave out --format when giving a file.")
    return path, detected


def graph_url(endpoint: str, graph: str | None) -> str:
    """`<endpoint>?default` or `<endpoint>?graph=<iri, percent-encoded>`."""
    sep = "&" if "?" in endpoint else "?"
    if graph is None:
        return f"{endpoint}{sep}default"
    return f"{endpoint}{sep}graph={quote(graph, safe='')}"


def split_graphs(data: bytes, fmt: str, path: Path) -> Iterator[tuple[str | None, bytes]]:
    """The graphs of an N-Quads / TriG dump, each as N-Triples bytes, sorted by name."""
    ox_format = ox.RdfFormat.N_QUADS if fmt == "nquads" else ox.RdfFormat.TRIG
    graphs: dict[str | None, list[ox.Triple]] = {}
    for q in parse_dump(path, data, ox_format):
        name = None if isinstance(q.graph_name, ox.DefaultGraph) else q.graph_name.value
        graphs.setdefault(name, []).append(q.triple)
    for name in sorted(graphs, key=lambda g: g or ""):
        yield name, ox.serialize(graphs[name], format=ox.RdfFormat.N_TRIPLES)


def load_release(release: Path, endpoint: str, *, graph: str | None = None,
                 per_source: bool = False, fmt: str | None = None,
                 timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
                 session: requests.Session | None = None) -> LoadResult:
    """PUT a release into a store; see the module docstring for the targets. `timeout`:
    seconds each upload may take in all, or (connect, total) as older callers pass it."""
    if graph and per_source:
        raise EnvironmentProblem("--graph and --per-source exclude each other",
                                 fix="Choose one target: one named graph, or one per source.")
    check_http_url(endpoint, what="Graph Store endpoint", example=ENDPOINT_EXAMPLE)
    if graph is not None:
        try:
            ox.NamedNode(graph)
        except ValueError as err:
            raise EnvironmentProblem(f"--graph {terminal_safe(repr(graph))} is not an IRI",
                                     fix="Give an absolute IRI, e.g. "
                                         "https://w3id.org/healthcoop/graph/all.") from err
    deadline = split_timeout(timeout)
    path, name = pick_file(Path(release), fmt, per_source)
    _file, media_type, has_graphs = FORMATS[name]
    data = read_dump(path)
    result = LoadResult(endpoint, path)
    if has_graphs:
        if graph:
            raise EnvironmentProblem(f"{shown(path)} holds named graphs; --graph needs a "
                                     "default-graph dump (turtle, ntriples, jsonld)",
                                     fix="Use --per-source, or --format turtle with --graph.")
        uploads = list(split_graphs(data, name, path))
        media_type = "application/n-triples"
    elif per_source:
        raise EnvironmentProblem(f"{shown(path)} has no named graphs; --per-source needs the "
                                 "N-Quads or TriG dump",
                                 fix="Give the release directory or healthcoop.nq.")
    else:
        for _statement in parse_dump(path, data, format_of(path)[0]):
            pass  # parsed only to refuse a broken dump before the store's graph is replaced
        uploads = [(graph, data)]
    http = watched_session(session)
    for target, body in uploads:
        url = graph_url(endpoint, target)
        upload = Upload(target, url, len(body))
        upload.status = _put(http, url, body, media_type, endpoint, deadline)
        result.uploads.append(upload)
    return result


def _put(http: requests.Session, url: str, body: bytes, media_type: str, endpoint: str,
         deadline: tuple[float, float]) -> int:
    connect, total = deadline
    where = terminal_safe(endpoint)
    headers = {"Content-Type": f"{media_type}; charset=utf-8" if media_type.startswith("text/")
               else media_type, "User-Agent": USER_AGENT}
    try:
        answer = http_request(http, "PUT", url, data=body, headers=headers,
                              allow_redirects=False, deadline=total, connect=connect,
                              limit=MAX_STORE_ANSWER)
    except DeadlineExceeded as err:
        raise EnvironmentProblem(
            f"the store at {where} did not take the upload ({len(body)} bytes) and answer "
            f"within {total:g} s", fix="Check the store's log; a large upload may need a "
            "longer --timeout, or a store with more memory.") from err
    except requests.exceptions.ConnectTimeout as err:
        raise EnvironmentProblem(
            f"cannot connect to {where}: no answer within {connect:g} s: is the store "
            "running?", fix="Start the store, or check the host and port.") from err
    except requests.exceptions.ConnectionError as err:
        raise EnvironmentProblem(
            f"cannot connect to {where}: is the store running? ({_reason(err)})",
            fix="Start the store, or check the host, port and path of --endpoint.") from err
    except requests.exceptions.Timeout as err:
        raise EnvironmentProblem(
            f"the store at {where} did not answer within {total:g} s",
            fix="Check the store's log; a large upload may need a store with more memory.",
        ) from err
    except TRANSPORT_ERRORS as err:
        raise EnvironmentProblem(f"cannot upload to {where}: {_reason(err)}",
                                 fix="Check --endpoint and the store's log.") from err
    status = answer.status
    if 300 <= status < 400:
        location = terminal_safe(answer.headers.get("Location") or "nowhere")[:300]
        raise EnvironmentProblem(
            f"the store at {where} answered the upload with HTTP {status}, a redirect to "
            f"{location}; nothing was stored",
            fix="Give the final Graph Store URL as --endpoint: uploads are not sent on "
                "through redirects.")
    if status >= 400:
        text = answer.body[:MAX_STORE_ANSWER].decode("utf-8", "replace")
        body_lines = [ln for ln in text.strip().splitlines() if ln.strip()][:5]
        excerpt = "\n  ".join(terminal_safe(ln[:300]) for ln in body_lines) or "(empty answer)"
        fix = {
            401: "The store wants credentials; load through its own tool (docs/loading.md).",
            403: "The store forbids writes at this URL; check its access settings.",
            404: "Check --endpoint: it must be the store's Graph Store endpoint "
                 "(Oxigraph: http://HOST:PORT/store).",
            405: "Check --endpoint: it must be the store's Graph Store endpoint, which "
                 "accepts PUT.",
        }.get(status, "See the store's answer above and its log.")
        raise EnvironmentProblem(
            f"the store refused the upload with HTTP {status}: {excerpt}", fix=fix)
    return status


def _reason(err: Exception) -> str:
    text = str(err)
    for marker in ("Connection refused", "Name or service not known", "No route to host",
                   "timed out", "Temporary failure in name resolution"):
        if marker in text:
            return marker
    return terminal_safe(text[:200])
