"""`healthcoop serve`, started for real on loopback, against the table of
tests/tools/conneg.py and VOCABULARY_TABLE below (the same tables nginx and Apache must
satisfy, tests/test_serve_static.py), plus what only the server itself does: q-values
weighed against each other, revalidation, hostile paths."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from tools.conneg import (  # noqa: E402
    BROWSER,
    TABLE,
    check_row,
    hostile_problems,
    request,
    revalidation_problems,
)
from tools.site_release import (  # noqa: E402
    LIVE,
    WITHDRAWN,
    WITHDRAWN_REASON,
    build_site_release,
    free_port,
    serving,
)

SECRET = b"this file is outside the site and must never be served\n"
TOPIC = "digital-health"  # a concept of ontology/topics.ttl (the mini project's too)
# /ontology (what a client fetches for a term .../ontology#Term) and /topic/<id> negotiate
# as /id/<id> does; rows as in tests/tools/conneg.py: (path, method, Accept, status,
# Location, media type, Vary: Accept expected, CORS expected). Written by hand.
VOCABULARY_TABLE = [
    ("/ontology", "GET", None, 303, "/ontology/index.html", None, True, True),
    ("/ontology", "GET", BROWSER, 303, "/ontology/index.html", None, True, True),
    ("/ontology", "GET", "text/turtle", 303, "/ontology/healthcoop.ttl", None, True, True),
    ("/ontology", "HEAD", "text/turtle", 303, "/ontology/healthcoop.ttl", None, True, True),
    ("/ontology", "GET", "application/ld+json", 303, "/ontology/healthcoop.jsonld", None,
     True, True),
    ("/ontology", "GET", "application/n-triples", 303, "/ontology/healthcoop.nt", None,
     True, True),
    ("/ontology", "GET", "application/n-quads", 303, "/ontology/healthcoop.nq", None,
     True, True),
    ("/ontology", "GET", "text/html;q=0, text/turtle", 303, "/ontology/healthcoop.ttl", None,
     True, True),
    ("/ontology", "GET", "application/*", 303, "/ontology/healthcoop.jsonld", None, True,
     True),
    ("/ontology", "GET", "image/png", 406, None, None, True, True),
    ("/ontology/index.html", "GET", None, 200, None, "text/html", False, False),
    ("/ontology/healthcoop.ttl", "GET", None, 200, None, "text/turtle", False, True),
    ("/ontology/healthcoop.jsonld", "GET", None, 200, None, "application/ld+json", False,
     True),
    ("/ontology/healthcoop.nt", "GET", None, 200, None, "application/n-triples", False, True),
    ("/ontology/healthcoop.nq", "GET", None, 200, None, "application/n-quads", False, True),
    (f"/topic/{TOPIC}", "GET", None, 303, f"/topic/{TOPIC}.html", None, True, True),
    (f"/topic/{TOPIC}", "GET", BROWSER, 303, f"/topic/{TOPIC}.html", None, True, True),
    (f"/topic/{TOPIC}", "GET", "*/*", 303, f"/topic/{TOPIC}.html", None, True, True),
    (f"/topic/{TOPIC}", "GET", "text/turtle", 303, f"/topic/{TOPIC}.ttl", None, True, True),
    (f"/topic/{TOPIC}", "HEAD", "application/ld+json", 303, f"/topic/{TOPIC}.jsonld", None,
     True, True),
    (f"/topic/{TOPIC}", "GET", "application/n-triples", 303, f"/topic/{TOPIC}.nt", None,
     True, True),
    (f"/topic/{TOPIC}", "GET", "application/n-quads", 303, f"/topic/{TOPIC}.nq", None,
     True, True),
    (f"/topic/{TOPIC}", "GET", "text/turtle;q=0.9, application/rdf+xml", 303,
     f"/topic/{TOPIC}.ttl", None, True, True),
    (f"/topic/{TOPIC}", "GET", "text/turtle;q=0", 406, None, None, True, True),
    (f"/topic/{TOPIC}", "GET", "nonsense, ;;;", 406, None, None, True, True),
    ("/topic/scheme", "GET", None, 303, "/topic/scheme.html", None, True, True),
    ("/topic/scheme", "GET", "text/turtle", 303, "/topic/scheme.ttl", None, True, True),
    ("/topic/no-such-topic", "GET", "text/turtle", 404, None, "text/html", False, False),
    (f"/topic/{TOPIC}.html", "GET", None, 200, None, "text/html", False, False),
    (f"/topic/{TOPIC}.ttl", "GET", None, 200, None, "text/turtle", False, True),
    (f"/topic/{TOPIC}.jsonld", "GET", None, 200, None, "application/ld+json", False, True),
    (f"/topic/{TOPIC}.nt", "GET", None, 200, None, "application/n-triples", False, True),
    (f"/topic/{TOPIC}.nq", "GET", None, 200, None, "application/n-quads", False, True),
    ("/topic/scheme.html", "GET", None, 200, None, "text/html", False, False),
    ("/topic/scheme.ttl", "GET", None, 200, None, "text/turtle", False, True),
]


@pytest.fixture(scope="module")
def release(tmp_path_factory) -> Path:
    out = build_site_release(tmp_path_factory.mktemp("serve"))
    (out / "outside.txt").write_bytes(SECRET)
    (out.parent / "outside.txt").write_bytes(SECRET)
    return out


@pytest.fixture(scope="module")
def port(release):
    """A real `healthcoop serve` process on a free loopback port."""
    with serving(release) as port:
        yield port


@pytest.mark.parametrize("row", TABLE, ids=lambda r: f"{r[1]} {r[0]} {r[2]}")
def test_table(port, row):
    """Status, Location, media type and charset, Vary, CORS and caching headers of every
    row, and the body parses as the format it claims."""
    assert check_row(port, row) == []


@pytest.mark.parametrize("row", VOCABULARY_TABLE, ids=lambda r: f"{r[1]} {r[0]} {r[2]}")
def test_vocabulary_table(port, row):
    """/ontology and /topic/<id> negotiate like /id/<id>: status, Location, media type and
    charset, Vary, CORS and validators of every row; bodies parse as they claim."""
    assert check_row(port, row) == []


@pytest.mark.parametrize("accept, ext", [
    ("text/turtle;q=0.5, application/ld+json", "jsonld"),
    ("text/html;q=0, */*", "ttl"),
    ("application/n-triples;q=0.8, text/turtle;q=0.7, text/html;q=0.1", "nt"),
])
def test_q_values_are_weighed_for_the_vocabularies(port, accept, ext):
    """The same q-value logic as /id/<id> (pipeline.serve.server.negotiate) at /ontology and
    /topic/<id>."""
    assert request(port, "GET", "/ontology", {"Accept": accept})[1].get("location") == \
        f"/ontology/healthcoop.{ext}"
    assert request(port, "GET", f"/topic/{TOPIC}", {"Accept": accept})[1].get(
        "location") == f"/topic/{TOPIC}.{ext}"


@pytest.mark.parametrize("path", ["/topic/", "/topic/Digital-Health", "/topic/%00",
                                  "/topic/..%2f..%2foutside.txt", "/topic/digital-health/",
                                  "/ontology/..%2f..%2foutside.txt", "/topic/" + "a" * 3000])
def test_odd_vocabulary_paths_are_4xx(port, path):
    """Paths near /ontology and /topic/<id> that are not a negotiable name: a 4xx, never a
    redirect, a file from outside the site or a traceback."""
    status, _, body = request(port, "GET", path, {"Accept": "text/turtle"})
    assert 400 <= status < 500 and SECRET not in body and b"Traceback" not in body


@pytest.mark.parametrize("accept, ext", [
    ("text/turtle;q=0.5, application/ld+json", "jsonld"),
    ("application/n-triples;q=0.8, text/turtle;q=0.7, text/html;q=0.1", "nt"),
    ("text/html;q=0, */*", "ttl"),
    ("text/*;q=0.3, application/n-quads;q=0.4", "nq"),
    ("application/ld+json;q=0.5, application/n-triples;q=0.5", "jsonld"),  # tie: our order
    ("TEXT/TURTLE", "ttl"),
])
def test_q_values_are_weighed(port, accept, ext):
    """Only the server weighs q-values against each other (the static rules take the first
    type named, docs in pipeline/site/rules.py): highest q wins, ties go to the order
    HTML, Turtle, JSON-LD, N-Triples, N-Quads; media types are case-insensitive."""
    status, headers, _ = request(port, "GET", f"/id/{LIVE}", {"Accept": accept})
    assert (status, headers.get("location")) == (303, f"/doc/{LIVE}.{ext}")


def test_tombstone_says_why_and_is_gone_in_the_data(port):
    """A withdrawn record answers 410 with its tombstone page, which gives the reason."""
    status, headers, body = request(port, "GET", f"/id/{WITHDRAWN}")
    assert status == 410
    assert WITHDRAWN_REASON.encode() in body and b"withdrawn" in body
    status, _, nt = request(port, "GET", f"/doc/{WITHDRAWN}.nt")
    assert status == 200
    assert b"<http://www.w3.org/2002/07/owl#deprecated> \"true\"" in nt


@pytest.mark.parametrize("path", [f"/doc/{LIVE}.ttl", f"/doc/{LIVE}.html", "/index.html"])
def test_revalidation_gives_304(port, path):
    """ETag and Last-Modified validators are honoured: 304 without a body; a stale ETag
    gets the full answer."""
    assert revalidation_problems(port, path) == []


def test_hostile_paths_get_4xx_and_nothing_from_outside(port):
    """`..` (plain and percent-encoded), NUL, 10 KB paths, the generated rules themselves:
    4xx, no traceback, no byte of a file beside the site."""
    assert hostile_problems(port, SECRET) == []


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "OPTIONS"])
def test_other_methods_are_refused(port, method):
    """Only GET and HEAD: 405 with Allow, not http.server's 501."""
    status, headers, _ = request(port, method, f"/id/{LIVE}")
    assert status == 405 and headers.get("allow") == "GET, HEAD"


@pytest.mark.parametrize("method", ["GET", "HEAD", "POST", "PUT"])
@pytest.mark.parametrize("framing", ["length", "chunked"])
def test_a_body_the_server_does_not_read_is_not_taken_for_a_request(port, method, framing):
    """A request inside the body of one the server answers without reading its body (GET,
    HEAD, a refused method) is not answered: the connection ends after the one answer,
    which says `Connection: close`. Kept open, the server read the body's bytes as the
    next request on the connection and answered it too."""
    import socket

    inner = f"GET /id/{LIVE} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()
    if framing == "length":
        head, body = f"Content-Length: {len(inner)}\r\n".encode(), inner
    else:
        head = b"Transfer-Encoding: chunked\r\n"
        body = b"%x\r\n" % len(inner) + inner + b"\r\n0\r\n\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(f"{method} /doc/{LIVE}.ttl HTTP/1.1\r\nHost: 127.0.0.1\r\n".encode()
                     + head + b"\r\n" + body)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    statuses = [line for line in answer.split(b"\r\n") if line.startswith(b"HTTP/1.")]
    assert len(statuses) == 1, statuses
    headers = answer.split(b"\r\n\r\n", 1)[0].lower().split(b"\r\n")
    assert b"connection: close" in headers


def test_a_request_without_a_body_keeps_its_connection(port):
    """Two GETs on one connection (no body, `Content-Length: 0` on the first) are both
    answered, neither saying `Connection: close`: keep-alive is untouched."""
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        for headers in ({"Content-Length": "0"}, {}):
            conn.request("GET", f"/doc/{LIVE}.ttl", headers=headers)
            response = conn.getresponse()
            response.read()
            assert response.status == 200 and response.getheader("Connection") is None
    finally:
        conn.close()


def test_serve_without_a_site_is_a_clean_error(tmp_path):
    """A release built with --no-site (or any directory) gives exit 2 and the next step,
    not a traceback."""
    result = subprocess.run([sys.executable, "-m", "pipeline.cli", "serve", str(tmp_path),
                             "--port", str(free_port())], capture_output=True, text=True,
                            timeout=30)
    assert result.returncode == 2
    assert "healthcoop build" in result.stderr and "Traceback" not in result.stderr
