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

Entry function: `serve(release, host, port)`; `make_server` gives the server for tests.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
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


def negotiate(accept: str | None) -> str | None:
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
        self._etags: dict[Path, tuple[float, int, str]] = {}
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

    def etag(self, path: Path) -> str:
        st = path.stat()
        with self._lock:
            cached = self._etags.get(path)
            if cached and cached[:2] == (st.st_mtime, st.st_size):
                return cached[2]
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:32]
        tag = f'"{digest}"'
        with self._lock:
            self._etags[path] = (st.st_mtime, st.st_size, tag)
        return tag


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

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._handle(head=False)

    def do_HEAD(self) -> None:  # noqa: N802
        self._handle(head=True)

    def _refuse(self) -> None:
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

    def _handle(self, head: bool) -> None:
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
        target = self.site.file(path)
        if target is None:
            if ".." in path.split("/"):
                return self._bad(head)
            return self._not_found(head)
        return self._file(target, head)

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
                return self._answer(HTTPStatus.LENGTH_REQUIRED, b"Content-Length needed.\n",
                                    text, False)
            if int(length) > MAX_RECONCILE_BODY:
                self.close_connection = True
                # read (and drop) a moderately large body, so that the client, still
                # sending, gets the 413 rather than a reset connection
                left = int(length) if int(length) <= 8 * MAX_RECONCILE_BODY else 0
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
            page = self.site.file(f"/doc/{ident}.html")
            body = page.read_bytes() if page else b"Gone.\n"
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

    def _file(self, path: Path, head: bool) -> None:
        etag = self.site.etag(path)
        mtime = int(path.stat().st_mtime)
        headers = {"ETag": etag, "Last-Modified": formatdate(mtime, usegmt=True),
                   "Cache-Control": "public, max-age=300"}
        if path.suffix in MACHINE:
            headers["Access-Control-Allow-Origin"] = "*"
        if self._not_modified(etag, mtime):
            return self._answer(HTTPStatus.NOT_MODIFIED, b"", None, head, extra=headers)
        ctype = FILE_TYPES.get(path.suffix, "application/octet-stream")
        return self._answer(HTTPStatus.OK, path.read_bytes(), ctype, head, extra=headers)

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
        page = self.site.file("/404.html")
        body = page.read_bytes() if page else b"Not found.\n"
        self._answer(HTTPStatus.NOT_FOUND, body, FILE_TYPES[".html"], head, extra=extra)

    def _bad(self, head: bool) -> None:
        self._answer(HTTPStatus.BAD_REQUEST, b"Bad request.\n", "text/plain; charset=utf-8",
                     head)

    def _answer(self, status: int, body: bytes, ctype: str | None, head: bool,
                extra: dict | None = None) -> None:
        self.send_response(status)
        if ctype:
            self.send_header("Content-Type", ctype)
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        if status != HTTPStatus.NOT_MODIFIED:
            self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        if not head and status != HTTPStatus.NOT_MODIFIED:
            self.wfile.write(body)


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


def serve(release: Path, host: str = "127.0.0.1", port: int = 8080) -> None:
    """Serve until interrupted."""
    server = make_server(release, host, port)
    try:
        server.serve_forever()
    finally:
        server.server_close()
