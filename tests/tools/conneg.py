"""The table of requests and answers that every way of serving the site must give alike:
`healthcoop serve`, nginx and Apache httpd with the generated rules (tests/test_serve*.py).

Each row: (path, method, Accept or None, status, Location path or None, media type or None,
Vary: Accept expected, CORS expected). Written by hand from the rules of issue 12 and the
ids of tests/tools/site_release.py, not from any server's output."""

from __future__ import annotations

import http.client
import io
import json
from urllib.parse import urlsplit

import pyoxigraph as ox

from .site_release import LIVE, MERGED, SOURCE, SUCCESSOR, WITHDRAWN

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
TABLE = [
    # negotiation at /id/<id>
    (f"/id/{LIVE}", "GET", None, 303, f"/doc/{LIVE}.html", None, True, True),
    (f"/id/{LIVE}", "GET", BROWSER, 303, f"/doc/{LIVE}.html", None, True, True),
    (f"/id/{LIVE}", "GET", "text/turtle", 303, f"/doc/{LIVE}.ttl", None, True, True),
    (f"/id/{LIVE}", "HEAD", "text/turtle", 303, f"/doc/{LIVE}.ttl", None, True, True),
    (f"/id/{LIVE}", "GET", "application/ld+json", 303, f"/doc/{LIVE}.jsonld", None, True, True),
    (f"/id/{LIVE}", "GET", "application/n-triples", 303, f"/doc/{LIVE}.nt", None, True, True),
    (f"/id/{LIVE}", "GET", "application/n-quads", 303, f"/doc/{LIVE}.nq", None, True, True),
    (f"/id/{LIVE}", "GET", "text/turtle;q=0.9, application/rdf+xml", 303, f"/doc/{LIVE}.ttl",
     None, True, True),
    (f"/id/{LIVE}", "GET", "text/html;q=0, text/turtle", 303, f"/doc/{LIVE}.ttl", None,
     True, True),
    (f"/id/{LIVE}", "GET", "*/*", 303, f"/doc/{LIVE}.html", None, True, True),
    (f"/id/{LIVE}", "GET", "application/*", 303, f"/doc/{LIVE}.jsonld", None, True, True),
    (f"/id/{LIVE}", "GET", "image/png", 406, None, None, True, True),
    (f"/id/{LIVE}", "GET", "text/turtle;q=0", 406, None, None, True, True),
    (f"/id/{LIVE}", "GET", "nonsense, ;;;", 406, None, None, True, True),
    # merged, withdrawn, unknown
    (f"/id/{MERGED}", "GET", "text/turtle", 301, f"/id/{SUCCESSOR}", None, True, True),
    # a 410 does not depend on Accept: no Vary needed; nginx's error_page drops the
    # location's headers, so neither Vary nor CORS is required of the tombstone
    (f"/id/{WITHDRAWN}", "GET", None, 410, None, "text/html", False, False),
    (f"/id/{WITHDRAWN}", "HEAD", None, 410, None, "text/html", False, False),
    ("/id/no-such-entity", "GET", None, 404, None, "text/html", False, False),
    # documents
    (f"/doc/{LIVE}.html", "GET", None, 200, None, "text/html", False, False),
    (f"/doc/{LIVE}.ttl", "GET", None, 200, None, "text/turtle", False, True),
    (f"/doc/{LIVE}.jsonld", "GET", None, 200, None, "application/ld+json", False, True),
    (f"/doc/{LIVE}.nt", "GET", None, 200, None, "application/n-triples", False, True),
    (f"/doc/{LIVE}.nq", "GET", None, 200, None, "application/n-quads", False, True),
    (f"/doc/{LIVE}.nt", "HEAD", None, 200, None, "application/n-triples", False, True),
    (f"/doc/{WITHDRAWN}.html", "GET", None, 200, None, "text/html", False, False),
    (f"/doc/{SOURCE}.html", "GET", None, 200, None, "text/html", False, False),
    ("/index.html", "GET", None, 200, None, "text/html", False, False),
    ("/kind/people.html", "GET", None, 200, None, "text/html", False, False),
    ("/doc/nothing-here.html", "GET", None, 404, None, "text/html", False, False),
]
# hostile or malformed requests: any 4xx will do, never a file from outside the site
HOSTILE = [
    "/../../../etc/passwd",
    "/../outside.txt",
    "/doc/..%2f..%2foutside.txt",
    "/doc/%2e%2e/%2e%2e/outside.txt",
    "/%00",
    "/doc/alice-grant.html%00.txt",
    "/id/..%2f..%2foutside.txt",
    "/id/%00",
    "/id/" + "a" * 10_000,
    "/" + "x/" * 5_000,
    "/.htaccess",
    "/nginx.conf",
]
RDF_FORMATS = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/ld+json": ox.RdfFormat.JSON_LD,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "application/n-quads": ox.RdfFormat.N_QUADS,
}


def request(port: int, method: str, path: str, headers: dict | None = None):
    """(status, headers as a lower-cased dict, body) without following redirects."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        for name, value in (headers or {}).items():
            conn.putheader(name, value)
        conn.endheaders()
        resp = conn.getresponse()
        body = resp.read()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, body
    finally:
        conn.close()


def check_row(port: int, row) -> list[str]:
    """What is wrong with the answer to one row (empty: all right)."""
    path, method, accept, status, location, media, vary, cors = row
    got, headers, body = request(port, method, path, {"Accept": accept} if accept else {})
    problems = []
    where = f"{method} {path} Accept={accept!r}"
    if got != status:
        problems.append(f"{where}: status {got}, wanted {status}")
    if location is not None and urlsplit(headers.get("location", "")).path != location:
        problems.append(f"{where}: Location {headers.get('location')!r}, wanted {location}")
    ctype = headers.get("content-type", "")
    if media is not None:
        if ctype.split(";")[0].strip() != media:
            problems.append(f"{where}: Content-Type {ctype!r}, wanted {media}")
        if "charset=utf-8" not in ctype.replace(" ", "").lower():
            problems.append(f"{where}: Content-Type {ctype!r} names no utf-8 charset")
    if vary and "accept" not in headers.get("vary", "").lower():
        problems.append(f"{where}: no Vary: Accept")
    if cors and headers.get("access-control-allow-origin") != "*":
        problems.append(f"{where}: no CORS header")
    if not cors and media == "text/html" and headers.get("access-control-allow-origin"):
        pass  # CORS on a page does no harm; not required either way
    if method == "HEAD" and body:
        problems.append(f"{where}: HEAD answered with a body")
    if method == "GET" and got == 200:
        problems += [f"{where}: {p}" for p in body_problems(media, body)]
    if got == 200 and not (headers.get("etag") and headers.get("last-modified")):
        problems.append(f"{where}: no ETag or Last-Modified")
    return problems


def body_problems(media: str | None, body: bytes) -> list[str]:
    """Does the body parse as the format it claims? (pyoxigraph for RDF, html5lib strict
    for HTML.)"""
    if media in RDF_FORMATS:
        try:
            triples = list(ox.parse(body, format=RDF_FORMATS[media]))
        except (SyntaxError, ValueError) as err:
            return [f"does not parse as {media}: {err}"]
        return [] if triples else [f"{media} body holds no triple"]
    if media == "text/html":
        return html_problems(body)
    if media == "application/json":
        json.loads(body)
    return []


def html_problems(body: bytes) -> list[str]:
    import html5lib

    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
    try:
        parser.parse(io.BytesIO(body))
    except Exception as err:  # html5lib raises ParseError for any parse error in strict mode
        return [f"not well-formed HTML: {err}"]
    return []


def revalidation_problems(port: int, path: str) -> list[str]:
    """A GET, then the same GET with If-None-Match and with If-Modified-Since: both 304."""
    status, headers, _ = request(port, "GET", path)
    problems = [] if status == 200 else [f"GET {path}: {status}"]
    etag, modified = headers.get("etag"), headers.get("last-modified")
    for name, value in (("If-None-Match", etag), ("If-Modified-Since", modified)):
        if not value:
            problems.append(f"{path}: no {name} validator to send")
            continue
        got, _, body = request(port, "GET", path, {name: value})
        if got != 304 or body:
            problems.append(f"{path} with {name}: {got}, wanted 304 without body")
    got, _, _ = request(port, "GET", path, {"If-None-Match": '"something-else"'})
    if got != 200:
        problems.append(f"{path} with a stale ETag: {got}, wanted 200")
    return problems


def hostile_problems(port: int, secret: bytes) -> list[str]:
    """Every hostile path gets a 4xx, and no body holds `secret` (bytes of a file outside
    the site) or a Python traceback."""
    problems = []
    for path in HOSTILE:
        try:
            status, _, body = request(port, "GET", path)
        except (http.client.HTTPException, ConnectionError) as err:
            problems.append(f"{path[:60]}: connection failed: {err}")
            continue
        if not 400 <= status < 500:
            problems.append(f"{path[:60]}: status {status}")
        if secret in body or b"Traceback" in body:
            problems.append(f"{path[:60]}: leaked a file or a traceback")
    return problems
