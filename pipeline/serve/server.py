"""`healthcoop serve`: the release's site over HTTP, with content negotiation at `/id/<id>`.

In:  a release directory holding `site/` (as `healthcoop build` writes it).
Out: an HTTP server (standard library, threaded) that answers
  - `GET`/`HEAD /id/<id>`: `303 See Other` to `/doc/<id>.<ext>` for the format `Accept`
    prefers (HTML, Turtle, JSON-LD, N-Triples, N-Quads; q-values weighed, ties go to that
    order), `Vary: Accept`, `406` when nothing fits; `301` to the successor for a merged
    record, `410 Gone` with its tombstone page for a withdrawn one, `404` for unknown ids;
  - `GET`/`HEAD /ontology` (what a client fetches for a term `.../ontology#Term`) and
    `/topic/<id>` (a topic, or `scheme`): the same negotiation, to `/ontology/index.html`
    or `/ontology/healthcoop.<ext>`, and to `/topic/<id>.<ext>`; `404` for an unknown topic;
  - any other path: the file under `site/`, with its media type and charset, a strong
    `ETag` and `Last-Modified` (`304` on revalidation), CORS on the machine formats;
  - `/reconcile` and below (GET, HEAD, form-encoded POST, OPTIONS preflight): the
    Reconciliation Service API 0.2 of pipeline/serve/reconcile.py, over the release's dump;
  - anything malformed or hostile (`..`, NUL, overlong paths, other methods): a 4xx with a
    short body, never a traceback, never a file from outside `site/`.

Cost: a file is read, hashed and its header lines made once (then checked with one stat()
per request, bounded: MAX_CACHED_FILE, MAX_CACHED_BYTES); every answer goes out in one
write, headers and body together; negotiation results are remembered per `Accept` value.

Entry function: `serve(release, host, port, workers)`; `make_server` gives the server for
tests; `--workers N` forks N processes serving the one socket (pipeline/serve/workers.py).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import socket
import threading
import time
from dataclasses import dataclass
from email.utils import formatdate, parsedate_to_datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from pipeline.errors import EnvironmentProblem
from pipeline.serve import reconcile
from pipeline.terminal import terminal_safe

ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
MAX_PATH = 2048
MAX_RECONCILE_URL = 16384  # GET /reconcile?queries=... carries a batch; POST has no limit here
MAX_RECONCILE_BODY = 1_000_000
# what /id/<id> can be negotiated to, in the order that breaks ties
OFFERS = (
    ("html", "text/html"),
    ("ttl", "text/turtle"),
    ("jsonld", "application/ld+json"),
    ("nt", "application/n-triples"),
    ("nq", "application/n-quads"),
)
ALIASES = {"application/xhtml+xml": "text/html"}
FILE_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".ttl": "text/turtle; charset=utf-8",
    ".jsonld": "application/ld+json; charset=utf-8",
    ".nt": "application/n-triples; charset=utf-8",
    ".nq": "application/n-quads; charset=utf-8",
    ".trig": "application/trig; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json; charset=utf-8",
    ".csv": "text/csv; charset=utf-8",
    ".tsv": "text/tab-separated-values; charset=utf-8",
    ".rq": "application/sparql-query; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".gz": "application/gzip",
    ".svg": "image/svg+xml",
    ".ico": "image/x-icon",
}
MACHINE = {".ttl", ".jsonld", ".nt", ".nq", ".trig", ".json", ".csv", ".gz"}
HIDDEN = {".htaccess", "nginx.conf", "status.json"}
# files kept in memory once served (bytes, ETag, headers): each up to MAX_CACHED_FILE bytes,
# MAX_CACHED_BYTES in all (the rest is read from disk per request); a cached file is checked
# against one stat() per request, so a rebuilt site is served as it now is
MAX_CACHED_FILE = 256 * 1024
MAX_CACHED_BYTES = 16 * 1024 * 1024
MAX_ROUTES = 8192  # URL paths remembered (several spellings can name one file)
NOSNIFF_END = b"X-Content-Type-Options: nosniff\r\n\r\n"
WRITE_TOGETHER = 64 * 1024  # bodies up to this size go out in one write with the headers


def negotiate(accept: str | None) -> str | None:
    """`_negotiate` for short headers (what clients send) remembered, the rest worked out."""
    if accept is not None and len(accept) <= 256:
        return _negotiate_cached(accept)
    return _negotiate(accept)


def _negotiate(accept: str | None) -> str | None:
    """The extension of the offer `accept` prefers, or None when none is acceptable.

    Each offer gets the q of the most specific range that matches it (`type/subtype` over
    `type/*` over `*/*`); the highest q wins, ties in OFFERS order. No header: HTML.
    Malformed ranges are ignored, so a header of nothing but garbage accepts nothing."""
    if accept is None or not accept.strip():
        return OFFERS[0][0]
    ranges: list[tuple[str, str, float]] = []
    for part in accept.split(",")[:64]:
        media, *params = [p.strip() for p in part.split(";")]
        media = ALIASES.get(media.lower(), media.lower())
        if not re.fullmatch(r"[a-z0-9!#$&^_.+-]+/[a-z0-9!#$&^_.+*-]+|\*/\*", media):
            continue
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value.strip())
                except ValueError:
                    q = -1.0
        if not 0.0 <= q <= 1.0:
            continue
        major, _, minor = media.partition("/")
        ranges.append((major, minor, q))
    best, best_q = None, 0.0
    for ext, offer in OFFERS:
        major, _, minor = offer.partition("/")
        found, rank = None, -1
        for r_major, r_minor, q in ranges:
            if (r_major, r_minor) == (major, minor):
                specificity = 2
            elif r_major == major and r_minor == "*":
                specificity = 1
            elif (r_major, r_minor) == ("*", "*"):
                specificity = 0
            else:
                continue
            if specificity > rank:
                found, rank = q, specificity
        if found is not None and found > best_q:
            best, best_q = ext, found
    return best


_negotiate_cached = functools.lru_cache(maxsize=512)(_negotiate)


@dataclass(frozen=True, slots=True)
class Document:
    """A file of the site as served: where it is, the stat() it was read at (device, inode,
    size, mtime in ns), its ETag and mtime, the header lines every answer with it carries
    (ETag, Last-Modified, Cache-Control, CORS on machine formats), its media type, and its
    bytes (None for a file too large to keep, read again per request)."""

    path: Path
    key: tuple[int, int, int, int]
    etag: str
    mtime: int
    lines: bytes
    ctype: str
    body: bytes | None

    def fresh(self) -> bool:
        try:
            st = os.stat(self.path)
        except OSError:
            return False
        return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns) == self.key

    def read(self) -> bytes:
        return self.body if self.body is not None else self.path.read_bytes()


class Site:
    """The files and the id status of a release's site, read once."""

    def __init__(self, release: Path):
        self.dir = (Path(release) / "site").resolve()
        if not (self.dir / "status.json").is_file():
            raise EnvironmentProblem(
                f"{release} has no site (site/status.json is missing)",
                fix="Build it with `healthcoop build` (without --no-site), then serve it.")
        status = json.loads((self.dir / "status.json").read_text(encoding="utf-8"))
        self.entities = set(status.get("entities", []))
        self.gone = dict(status.get("gone", {}))
        self.moved = dict(status.get("moved", {}))
        # the names under /topic/ that negotiate, and whether /ontology does (older sites:
        # neither, and those paths are plain files or 404s as before)
        self.topics = set(status.get("topics", []))
        self.ontology = bool(status.get("ontology"))
        self._routes: dict[str, Document] = {}  # URL path -> its document
        self._docs: dict[Path, Document] = {}  # resolved path -> its document
        self._cached_bytes = 0
        self._lock = threading.Lock()

    def file(self, url_path: str) -> Path | None:
        """The regular file under site/ that `url_path` (already decoded) names, or None."""
        if "\0" in url_path or "\\" in url_path or not url_path.startswith("/"):
            return None
        parts = url_path.split("/")[1:]
        if any(p in ("..", ".") or p.startswith(".") for p in parts):
            return None
        if parts and parts[-1] in HIDDEN:
            return None
        rel = "/".join(parts) or "index.html"
        if rel.endswith("/"):
            rel += "index.html"
        path = (self.dir / rel).resolve()
        if not path.is_relative_to(self.dir) or not path.is_file():
            return None
        return path

    def document(self, url_path: str) -> Document | None:
        """The document `file(url_path)` names, or None; remembered, and re-checked with one
        stat() per request (a file replaced, grown or touched is read again; one gone, or
        now reached through a link out of site/, is looked up by `file` again)."""
        doc = self._routes.get(url_path)
        if doc is not None and doc.fresh():
            return doc
        path = self.file(url_path)
        if path is None:
            self._routes.pop(url_path, None)
            return None
        doc = self._load(path)
        with self._lock:
            if len(self._routes) >= MAX_ROUTES:
                self._routes.clear()
            self._routes[url_path] = doc
        return doc

    def _load(self, path: Path) -> Document:
        with path.open("rb") as stream:
            st = os.fstat(stream.fileno())
            key = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
            known = self._docs.get(path)
            if known is not None and known.key == key:
                return known
            data = stream.read()
        etag = f'"{hashlib.sha256(data).hexdigest()[:32]}"'
        mtime = int(st.st_mtime)
        lines = (f"ETag: {etag}\r\nLast-Modified: {formatdate(mtime, usegmt=True)}\r\n"
                 "Cache-Control: public, max-age=300\r\n")
        if path.suffix in MACHINE:
            lines += "Access-Control-Allow-Origin: *\r\n"
        with self._lock:
            old = self._docs.get(path)
            if old is not None and old.body is not None:
                self._cached_bytes -= len(old.body)
            keep = len(data) <= MAX_CACHED_FILE and \
                self._cached_bytes + len(data) <= MAX_CACHED_BYTES
            if keep:
                self._cached_bytes += len(data)
            doc = Document(path, key, etag, mtime, lines.encode("latin-1"),
                           FILE_TYPES.get(path.suffix, "application/octet-stream"),
                           data if keep else None)
            self._docs[path] = doc
        return doc


LINGER_SECONDS = 1.0  # how long a refused request's unread body is read and dropped
LINGER_BYTES = 1 << 20


def _linger(sock) -> None:
    """Close a connection whose request body was not read the way RFC 9112 (9.6) asks: stop
    sending, then read and drop what the client still sends, for a moment. Closing with
    unread data makes the kernel reset the connection, and a client still sending its body
    (a chunked POST, a body after its headers) lost the answer to a broken pipe."""
    try:
        sock.shutdown(socket.SHUT_WR)
        deadline = time.monotonic() + LINGER_SECONDS
        taken = 0
        while taken < LINGER_BYTES:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            sock.settimeout(left)
            data = sock.recv(65536)
            if not data:
                break
            taken += len(data)
    except OSError:  # (a timeout is one) the socket is closed next in any case
        pass


class Handler(BaseHTTPRequestHandler):
    """One request. Every answer goes through `_answer`, which never raises to the client."""

    server_version = "healthcoop"
    sys_version = ""
    protocol_version = "HTTP/1.1"
    # headers and body go out in two writes: without TCP_NODELAY, Nagle's algorithm and the
    # client's delayed ACK hold every answer with a body back by ~40 ms (benchmarks/serve.py)
    disable_nagle_algorithm = True
    site: Site  # set on the subclass made by make_server
    reconciler: reconcile.Service | None = None  # likewise

    def handle_one_request(self) -> None:
        """A client that resets or drops its connection (load generators do, at the end)
        ends that connection quietly, not with socketserver's traceback on stderr."""
        try:
            super().handle_one_request()
        except (ConnectionResetError, BrokenPipeError, TimeoutError):
            self.close_connection = True

    unread_body = False  # set when an answer refuses a request whose body it did not read

    def finish(self) -> None:
        super().finish()
        if self.unread_body:
            _linger(self.connection)

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._handle(head=False)

    def do_HEAD(self) -> None:  # noqa: N802
        self._handle(head=True)

    def _refuse(self) -> None:
        self._body_not_read()
        self._answer(HTTPStatus.METHOD_NOT_ALLOWED, b"Only GET and HEAD.\n",
                     "text/plain; charset=utf-8", head=False, extra={"Allow": "GET, HEAD"})

    def _for_reconcile(self) -> None:
        """POST and OPTIONS: only /reconcile takes them; elsewhere 405 as before."""
        if _is_reconcile(self.path):
            try:
                self._reconcile(self.command, head=False)
            except (BrokenPipeError, ConnectionResetError):
                pass
            except Exception:  # noqa: BLE001 - never a traceback on the wire
                self.close_connection = True
                self._answer(HTTPStatus.INTERNAL_SERVER_ERROR, b"Internal error.\n",
                             "text/plain; charset=utf-8", False)
        else:
            self._refuse()

    do_POST = do_OPTIONS = _for_reconcile
    do_PUT = do_DELETE = do_PATCH = do_TRACE = do_CONNECT = _refuse

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - base signature
        if os.environ.get("HEALTHCOOP_SERVE_QUIET"):
            return
        super().log_message("%s", terminal_safe(format % args))

    def _body_not_read(self) -> None:
        """A request this server answers without reading its body (GET, HEAD, a refused
        method) but that has one: the connection is closed after the answer, lingering
        (`_linger`). Kept open, the body's bytes were read as the next request on it (a
        request inside a body was answered as if the client had sent it)."""
        length = (self.headers.get("Content-Length") or "").strip()
        if self.headers.get("Transfer-Encoding") or length not in ("", "0"):
            self.close_connection = True
            self.unread_body = True

    def _handle(self, head: bool) -> None:
        self._body_not_read()
        try:
            self._route(head)
        except (BrokenPipeError, ConnectionResetError):
            pass
        except Exception:  # noqa: BLE001 - a bug must not become a traceback on the wire
            self._answer(HTTPStatus.INTERNAL_SERVER_ERROR, b"Internal error.\n",
                         "text/plain; charset=utf-8", head)

    def _route(self, head: bool) -> None:
        raw = self.path
        if _is_reconcile(raw) and len(raw) <= MAX_RECONCILE_URL:
            return self._reconcile("HEAD" if head else "GET", head)
        if len(raw) > MAX_PATH:
            return self._answer(HTTPStatus.REQUEST_URI_TOO_LONG, b"Path too long.\n",
                                "text/plain; charset=utf-8", head)
        try:
            path = unquote(urlsplit(raw).path, errors="strict")
        except (UnicodeDecodeError, ValueError):
            return self._bad(head)
        if "\0" in path or not path.startswith("/") or "\\" in path:
            return self._bad(head)
        if path.startswith("/id/"):
            return self._entity(path[4:], head)
        if path == "/ontology" and self.site.ontology:
            return self._negotiate(head, lambda ext: "/ontology/index.html" if ext == "html"
                                   else f"/ontology/healthcoop.{ext}")
        if path.startswith("/topic/") and "." not in path and path.count("/") == 2:
            return self._topic(path[len("/topic/"):], head)
        doc = self.site.document(path)
        if doc is None:
            if ".." in path.split("/"):
                return self._bad(head)
            return self._not_found(head)
        return self._file(doc, head)

    def _reconcile(self, method: str, head: bool) -> None:
        """Hand /reconcile... to pipeline/serve/reconcile.py: the decoded path, the form fields of
        the query string and (POST) the url-encoded body, and the base URL for the
        manifest's templates."""
        text = "text/plain; charset=utf-8"
        try:
            split = urlsplit(self.path)
            path = unquote(split.path, errors="strict")
            fields = parse_qs(split.query, max_num_fields=20, errors="strict")
        except (UnicodeDecodeError, ValueError):
            return self._bad(head)
        if "\0" in path:
            return self._bad(head)
        if method == "OPTIONS":
            return self._answer(HTTPStatus.NO_CONTENT, b"", None, False, extra={
                "Access-Control-Allow-Origin": "*",
                "Access-Control-Allow-Methods": "GET, HEAD, POST, OPTIONS",
                "Access-Control-Allow-Headers": "Content-Type",
                "Access-Control-Max-Age": "86400"})
        if method == "POST":
            length = self.headers.get("Content-Length", "")
            if self.headers.get("Transfer-Encoding") or not length.isdigit():
                self.close_connection = True
                self.unread_body = True
                return self._answer(HTTPStatus.LENGTH_REQUIRED, b"Content-Length needed.\n",
                                    text, False)
            if int(length) > MAX_RECONCILE_BODY:
                self.close_connection = True
                # read (and drop) a moderately large body, so that the client, still
                # sending, gets the 413 rather than a reset connection
                left = int(length) if int(length) <= 8 * MAX_RECONCILE_BODY else 0
                self.unread_body = left == 0
                while left > 0:
                    chunk = self.rfile.read(min(left, 65536))
                    if not chunk:
                        break
                    left -= len(chunk)
                return self._answer(HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                                    b"Request body too large.\n", text, False)
            ctype = self.headers.get("Content-Type", "application/x-www-form-urlencoded")
            if ctype.split(";")[0].strip().lower() != "application/x-www-form-urlencoded":
                self.close_connection = True
                self.unread_body = True
                return self._answer(HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
                                    b"Send application/x-www-form-urlencoded.\n", text, False)
            body = self.rfile.read(int(length))
            try:
                form = parse_qs(body.decode("utf-8"), max_num_fields=20, errors="strict")
            except (UnicodeDecodeError, ValueError):
                return self._bad(False)
            for name, values in form.items():
                fields[name] = values + fields.get(name, [])
        host = self.headers.get("Host", "")
        if not re.fullmatch(r"[A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?|\[[0-9a-fA-F:.]+\](:[0-9]{1,5})?",
                            host):
            address, port = self.server.server_address[:2]
            host = f"{address}:{port}"
        reply = reconcile.respond(self.reconciler, "POST" if method == "POST" else "GET",
                                  path, fields, f"http://{host}")
        self._answer(reply.status, reply.body, reply.ctype, head,
                     extra={**reply.headers, "Cache-Control": "no-cache"})

    def _entity(self, ident: str, head: bool) -> None:
        cors = {"Access-Control-Allow-Origin": "*", "Vary": "Accept"}
        if not ID.fullmatch(ident) or len(ident) > 200:
            return self._not_found(head, extra=cors)
        if ident in self.site.moved:
            return self._answer(HTTPStatus.MOVED_PERMANENTLY, b"", None, head,
                                extra={**cors, "Location": f"/id/{self.site.moved[ident]}"})
        if ident in self.site.gone:
            page = self.site.document(f"/doc/{ident}.html")
            body = page.read() if page else b"Gone.\n"
            return self._answer(HTTPStatus.GONE, body, FILE_TYPES[".html"], head, extra=cors)
        if ident not in self.site.entities:
            return self._not_found(head, extra=cors)
        return self._negotiate(head, lambda ext: f"/doc/{ident}.{ext}")

    def _topic(self, name: str, head: bool) -> None:
        """`/topic/<id>` of a concept (or the scheme) that has its page and documents."""
        if name not in self.site.topics or not ID.fullmatch(name):
            return self._not_found(head)
        return self._negotiate(head, lambda ext: f"/topic/{name}.{ext}")

    def _negotiate(self, head: bool, location) -> None:
        """303 to `location(ext)` for the format `Accept` prefers, or 406; `Vary: Accept`
        and CORS either way."""
        cors = {"Access-Control-Allow-Origin": "*", "Vary": "Accept"}
        ext = negotiate(self.headers.get("Accept"))
        if ext is None:
            body = ("Not acceptable. Available: "
                    + ", ".join(t for _, t in OFFERS) + ".\n").encode()
            return self._answer(HTTPStatus.NOT_ACCEPTABLE, body, "text/plain; charset=utf-8",
                                head, extra=cors)
        return self._answer(HTTPStatus.SEE_OTHER, b"", None, head,
                            extra={**cors, "Location": location(ext)})

    def _file(self, doc: Document, head: bool) -> None:
        """The file with its ETag, Last-Modified, Cache-Control (and CORS on machine formats),
        or 304 when the client's copy is current."""
        if self._not_modified(doc.etag, doc.mtime):
            return self._answer(HTTPStatus.NOT_MODIFIED, b"", None, head, lines=doc.lines)
        return self._answer(HTTPStatus.OK, doc.read(), doc.ctype, head, lines=doc.lines)

    def _not_modified(self, etag: str, mtime: int) -> bool:
        match = self.headers.get("If-None-Match")
        if match is not None:
            tags = [t.strip().removeprefix("W/") for t in match.split(",")]
            return "*" in tags or etag in tags
        since = self.headers.get("If-Modified-Since")
        if since:
            try:
                return mtime <= parsedate_to_datetime(since).timestamp()
            except (TypeError, ValueError, IndexError, OverflowError):
                return False
        return False

    def _not_found(self, head: bool, extra: dict | None = None) -> None:
        page = self.site.document("/404.html")
        body = page.read() if page else b"Not found.\n"
        self._answer(HTTPStatus.NOT_FOUND, body, FILE_TYPES[".html"], head, extra=extra)

    def _bad(self, head: bool) -> None:
        self._answer(HTTPStatus.BAD_REQUEST, b"Bad request.\n", "text/plain; charset=utf-8",
                     head)

    def _answer(self, status: int, body: bytes, ctype: str | None, head: bool,
                extra: dict | None = None, lines: bytes = b"") -> None:
        """Status line, Server, Date, Content-Type, the `extra` headers and the ready-made
        header `lines`, Connection: close (when the connection ends after this answer),
        Content-Length (not on a 304), X-Content-Type-Options, then the body
        (not for HEAD or 304): the bytes `send_response`/`send_header`/`end_headers` would
        write, built at once and sent in one write (a large body in a second one)."""
        code = int(status)
        self.log_request(code)
        send_body = not head and code != HTTPStatus.NOT_MODIFIED
        if self.request_version == "HTTP/0.9":  # no status line, no headers
            if send_body:
                self.wfile.write(body)
            return
        parts = [_status_line(self.protocol_version, code), _server_line(self.version_string()),
                 _date_line()]
        if ctype:
            parts.append(b"Content-Type: " + ctype.encode("latin-1") + b"\r\n")
        for name, value in (extra or {}).items():
            parts.append(f"{name}: {value}\r\n".encode("latin-1"))
        parts.append(lines)
        if self.close_connection:  # (RFC 9112, 9.6: say so before closing)
            parts.append(b"Connection: close\r\n")
        if code != HTTPStatus.NOT_MODIFIED:
            parts.append(b"Content-Length: %d\r\n" % len(body))
        parts.append(NOSNIFF_END)
        if send_body and len(body) <= WRITE_TOGETHER:
            parts.append(body)
            send_body = False
        self.wfile.write(b"".join(parts))
        if send_body:
            self.wfile.write(body)



@functools.lru_cache(maxsize=8)
def _server_line(version: str) -> bytes:
    return f"Server: {version}\r\n".encode("latin-1")


@functools.lru_cache(maxsize=64)
def _status_line(protocol: str, code: int) -> bytes:
    message = BaseHTTPRequestHandler.responses.get(code, ("",))[0]
    return f"{protocol} {code} {message}\r\n".encode("latin-1")


_date = (0, b"")


def _date_line() -> bytes:
    """`Date: ...` for this second (what `date_time_string` gives), made once a second."""
    global _date
    now = int(time.time())
    if _date[0] != now:
        _date = (now, f"Date: {formatdate(now, usegmt=True)}\r\n".encode("latin-1"))
    return _date[1]


def _is_reconcile(raw: str) -> bool:
    path = raw.split("?", 1)[0]
    return path == "/reconcile" or path.startswith("/reconcile/")


def make_server(release: Path, host: str = "127.0.0.1", port: int = 8080) -> ThreadingHTTPServer:
    """A server for the release's site, bound but not yet serving (port 0: any free port)."""
    site = Site(release)
    handler = type("SiteHandler", (Handler,), {"site": site,
                                               "reconciler": reconcile.load_service(release)})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server


def serve(release: Path, host: str = "127.0.0.1", port: int = 8080, workers: int = 1) -> None:
    """Serve until interrupted: in this process (threads), or with `workers` > 1 in that many
    pre-forked processes sharing the listening socket (pipeline/serve/workers.py)."""
    server = make_server(release, host, port)
    try:
        if workers > 1:
            from pipeline.serve.workers import run_workers

            # woken together, all workers but one find no connection to accept: they must
            # go back to waiting, not block in accept() (where they could not notice that
            # their parent is gone)
            server.socket.setblocking(False)
            run_workers(server, workers)
        else:
            server.serve_forever()
    finally:
        server.server_close()
