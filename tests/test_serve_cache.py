"""`healthcoop serve` keeps the files it serves in memory (pipeline/serve/server.py,
`Site.document`) and writes each answer at once: a real server on loopback, over a site
whose files the test then changes, deletes and swaps for a link out of the site, must
answer as a server reading the disk afresh would; the raw bytes of an answer keep the
header order of http.server's own methods; HTTP/0.9 gets the bare body."""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import sys
import time
from email.utils import formatdate
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from tools.conneg import request  # noqa: E402
from tools.site_release import LIVE, build_site_release, serving  # noqa: E402


@pytest.fixture(scope="module")
def release(tmp_path_factory) -> Path:
    return build_site_release(tmp_path_factory.mktemp("serve-cache"))


@pytest.fixture
def site_copy(release, tmp_path) -> Path:
    """A copy of the release this test may change (the site and the dump)."""
    copy = tmp_path / "output"
    shutil.copytree(release, copy, symlinks=True)
    return copy


def raw(port: int, data: bytes) -> bytes:
    """Send `data`, close the sending side, read the whole answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(data)
        conn.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_changed_deleted_and_relinked_files_are_served_as_they_now_are(site_copy, tmp_path):
    """A page served once (so kept in memory), then rewritten on disk with a new mtime,
    comes back new with a new ETag and Last-Modified (the old ETag no longer gives 304);
    deleted, it is a 404; its folder replaced by a link to a folder outside the site that
    holds a file of the same name: a 404, never the outside file."""
    page = site_copy / "site" / "doc" / f"{LIVE}.html"
    path = f"/doc/{LIVE}.html"
    with serving(site_copy) as port:
        status, headers, body = request(port, "GET", path)
        assert status == 200 and body == page.read_bytes()
        old_tag = headers["etag"]
        assert request(port, "GET", path, {"If-None-Match": old_tag})[0] == 304

        new = body.replace(b"</body>", b"<p>changed</p></body>")
        page.write_bytes(new)
        os.utime(page, (time.time() + 120, time.time() + 120))
        status, headers, body = request(port, "GET", path)
        assert status == 200 and body == new
        assert headers["etag"] == f'"{hashlib.sha256(new).hexdigest()[:32]}"' != old_tag
        assert headers["last-modified"] == formatdate(int(page.stat().st_mtime), usegmt=True)
        assert headers["content-length"] == str(len(new))
        assert request(port, "GET", path, {"If-None-Match": old_tag})[0] == 200

        page.unlink()
        assert request(port, "GET", path)[0] == 404

        outside = tmp_path / "outside"
        outside.mkdir()
        (outside / f"{LIVE}.ttl").write_bytes(b"SECRET outside the site\n")
        ttl = f"/doc/{LIVE}.ttl"
        assert request(port, "GET", ttl)[0] == 200  # kept in memory now
        shutil.rmtree(site_copy / "site" / "doc")
        (site_copy / "site" / "doc").symlink_to(outside, target_is_directory=True)
        status, _, body = request(port, "GET", ttl)
        assert status == 404 and b"SECRET" not in body


def test_a_large_file_is_served_whole_with_its_etag(site_copy):
    """A file larger than what is kept in memory (MAX_CACHED_FILE) is read per request:
    whole, its length and SHA-256 ETag right, twice the same; HEAD gives the headers only."""
    from pipeline.serve.server import MAX_CACHED_FILE

    big = site_copy / "site" / "download" / "big.nt"
    big.parent.mkdir(exist_ok=True)
    data = b"<https://example.org/s> <https://example.org/p> \"o\" .\n" * (
        MAX_CACHED_FILE // 40)
    assert len(data) > MAX_CACHED_FILE
    big.write_bytes(data)
    with serving(site_copy) as port:
        for _ in range(2):
            status, headers, body = request(port, "GET", "/download/big.nt")
            assert status == 200 and body == data
            assert headers["etag"] == f'"{hashlib.sha256(data).hexdigest()[:32]}"'
            assert headers["content-type"] == "application/n-triples; charset=utf-8"
        status, headers, body = request(port, "HEAD", "/download/big.nt")
        assert status == 200 and body == b"" and headers["content-length"] == str(len(data))


def test_raw_answer_keeps_http_servers_header_order(release):
    """The bytes on the wire: status line, Server, Date, Content-Type, ETag, Last-Modified,
    Cache-Control, Access-Control-Allow-Origin (machine formats), Content-Length,
    X-Content-Type-Options, a blank line, then exactly the file; a 303 and a 304 likewise
    (no body, no Content-Length on the 304); two requests on one connection both answered."""
    ttl = release / "site" / "doc" / f"{LIVE}.ttl"
    with serving(release) as port:
        answer = raw(port, f"GET /doc/{LIVE}.ttl HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        head, _, body = answer.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        assert lines[0] == "HTTP/1.1 200 OK"
        assert [line.split(":", 1)[0] for line in lines[1:]] == [
            "Server", "Date", "Content-Type", "ETag", "Last-Modified", "Cache-Control",
            "Access-Control-Allow-Origin", "Content-Length", "X-Content-Type-Options"]
        assert lines[1] == "Server: healthcoop " and body == ttl.read_bytes()
        etag = [line for line in lines if line.startswith("ETag: ")][0][6:]

        two = raw(port, (f"GET /id/{LIVE} HTTP/1.1\r\nAccept: text/turtle\r\n\r\n"
                         f"GET /doc/{LIVE}.ttl HTTP/1.1\r\nIf-None-Match: {etag}\r\n\r\n"
                         ).encode())
        first, _, second = two.partition(b"\r\n\r\n")
        assert first.startswith(b"HTTP/1.1 303 See Other\r\nServer: healthcoop \r\nDate: ")
        assert first.endswith(f"Location: /doc/{LIVE}.ttl\r\nContent-Length: 0\r\n"
                              "X-Content-Type-Options: nosniff".encode())
        assert second.startswith(b"HTTP/1.1 304 Not Modified\r\n")
        assert b"Content-Length" not in second and second.endswith(b"nosniff\r\n\r\n")


def test_http_0_9_gets_the_bare_body(release):
    """A request line without a version (HTTP/0.9) gets the file and nothing else."""
    with serving(release) as port:
        assert raw(port, b"GET /index.html\r\n") == (release / "site/index.html").read_bytes()
