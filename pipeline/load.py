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

This module also holds the HTTP-with-a-deadline code that `pipeline.wikidata` uses.
"""

from __future__ import annotations

import http.client
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pyoxigraph as ox
import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from .diff import format_of, parse_dump, read_dump, release_file, shown
from .errors import EnvironmentProblem
from .terminal import terminal_safe, unsafe_character

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


# --- HTTP with a total deadline -----------------------------------------------------------------
# requests' timeout bounds each socket read, so a server sending one byte a second never times
# out. Here a watchdog thread shuts the exchange's sockets when the deadline passes, which
# wakes a blocked send or recv at once (headers, body, upload alike). It finds the sockets
# through a connection pool that registers every connection it hands out while a deadline is
# running in this thread. `pipeline.wikidata` uses the same machinery.

MAX_DEADLINE = 7 * 24 * 3600.0  # seconds; longer waits are a typo (and overflow the timers)
_current = threading.local()
# what a broken exchange can raise (requests' own exceptions are OSErrors)
TRANSPORT_ERRORS = (OSError, ValueError, http.client.HTTPException, urllib3.exceptions.HTTPError)


class DeadlineExceeded(Exception):
    """The whole exchange took longer than its deadline (`seconds`)."""

    def __init__(self, seconds: float):
        super().__init__(f"no complete answer within {seconds:g} s")
        self.seconds = seconds


class _Watch:
    """The sockets of one exchange, shut from a helper thread once the deadline has passed."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.expired = False
        self._connections: list[Any] = []
        self._lock = threading.Lock()
        self._done = threading.Event()

    def add(self, connection: Any) -> None:
        with self._lock:
            self._connections.append(connection)

    def _run(self) -> None:
        if self._done.wait(self.seconds):
            return
        while True:  # repeat: a connection still connecting gets its socket a moment later
            with self._lock:
                if self._done.is_set():
                    return
                self.expired = True
                for connection in self._connections:
                    sock = getattr(connection, "sock", None)
                    if sock is not None:
                        try:  # the plain socket's shutdown, also under TLS: wakes any reader
                            socket.socket.shutdown(sock, socket.SHUT_RDWR)
                        except OSError:
                            pass
            if self._done.wait(0.05):
                return

    def __enter__(self) -> _Watch:
        self._previous = getattr(_current, "watch", None)
        _current.watch = self
        threading.Thread(target=self._run, daemon=True, name="healthcoop-deadline").start()
        return self

    def __exit__(self, *exc: object) -> None:
        with self._lock:  # after this no socket is shut any more
            self._done.set()
        _current.watch = self._previous


class _WatchedPool:
    def _get_conn(self, timeout: float | None = None):
        connection = super()._get_conn(timeout)  # type: ignore[misc]
        watch = getattr(_current, "watch", None)
        if watch is not None:
            watch.add(connection)
        return connection


class _WatchedHTTPPool(_WatchedPool, HTTPConnectionPool):
    pass


class _WatchedHTTPSPool(_WatchedPool, HTTPSConnectionPool):
    pass


_WATCHED_POOLS = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}


class DeadlineAdapter(HTTPAdapter):
    """requests' HTTPAdapter whose connections a running deadline can shut."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = dict(_WATCHED_POOLS)

    def proxy_manager_for(self, proxy: str, **kwargs: Any):
        manager = super().proxy_manager_for(proxy, **kwargs)
        if type(manager) is urllib3.ProxyManager:  # not SOCKS: it has pools of its own
            manager.pool_classes_by_scheme = dict(_WATCHED_POOLS)
        return manager


def watched_session(session: requests.Session | None = None) -> requests.Session:
    """`session` (or a new one) with deadline-aware adapters for http(s). A session with
    adapters of its own keeps them; it then only gets the between-chunks deadline check."""
    session = session if session is not None else requests.Session()
    for prefix in ("https://", "http://"):
        if type(session.adapters.get(prefix)) is HTTPAdapter:
            session.mount(prefix, DeadlineAdapter())
    return session


def split_timeout(timeout: float | tuple[float, float], what: str = "timeout"
                  ) -> tuple[float, float]:
    """(connect, total) seconds from a total deadline or a (connect, total) pair."""
    try:
        if isinstance(timeout, tuple | list):
            connect, total = (float(t) for t in timeout)
        else:
            total = float(timeout)
            connect = 10.0
    except (TypeError, ValueError) as err:
        raise EnvironmentProblem(f"The {what} {terminal_safe(repr(timeout))} is not a number "
                                 "of seconds.", fix="Give e.g. --timeout 60.") from err
    if not (0 < total <= MAX_DEADLINE and 0 < connect):  # also refuses NaN
        raise EnvironmentProblem(
            f"The {what} must be more than 0 and at most {MAX_DEADLINE:g} seconds, not "
            f"{timeout!r}.", fix="Give e.g. --timeout 60.")
    return min(connect, total), total


def check_http_url(url: str, *, what: str, example: str) -> str:
    """`url` if it is an http(s) URL with a host (and a valid port); else EnvironmentProblem."""
    problem = ""
    if not isinstance(url, str) or not url:
        problem = "is not an http(s) URL"
    elif unsafe_character(url) or any(ch.isspace() for ch in url):
        problem = "contains spaces or control characters"
    else:
        try:
            parts = urlsplit(url)
            if parts.scheme.lower() not in ("http", "https"):
                problem = "is not an http(s) URL"
            elif not parts.hostname:
                problem = "names no host"
            else:
                parts.port  # noqa: B018 - raises ValueError for a port that is not a number
        except ValueError:
            problem = "is not a valid URL (its host or port cannot be read)"
    if problem:
        raise EnvironmentProblem(f"The {what} {terminal_safe(repr(url))} {problem}.",
                                 fix=f"Use e.g. {example}")
    return url


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    headers: Mapping[str, str]
    body: bytes  # at most `limit` + 1 bytes: a longer answer is cut there


def http_request(session: requests.Session, method: str, url: str, *, deadline: float,
                 connect: float, limit: int, **kwargs: Any) -> HttpAnswer:
    """One HTTP exchange finished within `deadline` seconds, or DeadlineExceeded.

    The body is streamed and read up to `limit` + 1 bytes (the caller decides what a longer
    answer means). requests' own exceptions (connection refused, redirect loop, bad
    Content-Encoding...) pass through unless the deadline caused them."""
    start = time.monotonic()
    send = getattr(session, method.lower())
    with _Watch(deadline) as watch:
        try:
            response = send(url, stream=True, timeout=(min(connect, deadline), deadline),
                            **kwargs)
            try:
                chunks, size = [], 0
                for chunk in response.iter_content(1 << 16):
                    chunks.append(chunk)
                    size += len(chunk)
                    if size > limit:
                        break
                    if time.monotonic() - start > deadline:  # adapters we could not watch
                        raise DeadlineExceeded(deadline)
            finally:
                response.close()
        except TRANSPORT_ERRORS as err:
            if watch.expired or time.monotonic() - start >= deadline:
                raise DeadlineExceeded(deadline) from err
            raise
    return HttpAnswer(response.status_code, response.headers, b"".join(chunks)[:limit + 1])


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
