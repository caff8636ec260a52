"""A fake Wikidata action API on 127.0.0.1, for tests: real HTTP, fixture answers.

`FakeWikidata` runs a `ThreadingHTTPServer` on 127.0.0.1, port 0 (the OS picks a free port).
Requests to /w/api.php are routed by `action`:
  * `wbsearchentities`: `tests/fixtures/wikidata/search-<language>-<slug of search>.json`, or an
    empty result;
  * `wbgetentities`: the requested `ids` picked from `entities.json` (unknown ids answer as
    missing, as the real API does); more than 50 ids is an API error, as on Wikidata.
Every request is recorded (parameters and headers). `script(...)` queues failure modes that
the next requests get instead of the normal answer: an HTTP status with headers, the `maxlag`
error body, malformed JSON, or a slow answer that outlasts the client's timeout.

Hostile modes (for the "no traceback, ever" tests), each one scripted answer:
  * `body(data)`: exactly these bytes (or this JSON value) as a 200 answer, any headers;
  * `deeply_nested(depth)`: JSON nested `depth` levels deep (json.loads recurses per level);
  * `fake_gzip()`: claims `Content-Encoding: gzip` but is not gzip;
  * `redirect(location)`: a 302 to anywhere; `redirect_loop()`: into /loop/, which
    redirects to itself forever (without using up the script);
  * `drip(data, interval, headers=False)`: the body (or, with headers=True, the status
    line and headers too) one byte every `interval` seconds;
  * `raw(data)`: these bytes on the socket instead of an HTTP answer, then close;
  * `truncated()`: a Content-Length longer than the body, then close.
PUT requests (as `healthcoop load` sends) are accepted too: the body is read and recorded,
and the scripted behaviour answers, else 204 No Content; so the server also stands in for a
hostile Graph Store. `reset()` empties the script and the record between examples.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

FIXTURES = Path(__file__).parent / "fixtures" / "wikidata"


@dataclass
class Recorded:
    path: str
    params: dict[str, str]
    headers: dict[str, str]


@dataclass
class Behaviour:
    """One scripted answer: kind is ok | status | maxlag | malformed | slow | body | drip |
    raw | truncated | redirect-loop."""

    kind: str
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    data: bytes = b""
    drip_headers: bool = False


def status(code: int, **headers: str) -> Behaviour:
    return Behaviour("status", code, {k.replace("_", "-"): v for k, v in headers.items()})


def maxlag(retry_after: str | None = "5") -> Behaviour:
    headers = {"X-Database-Lag": "7"}
    if retry_after is not None:
        headers["Retry-After"] = retry_after
    return Behaviour("maxlag", 200, headers)


MALFORMED = Behaviour("malformed")


def slow(seconds: float) -> Behaviour:
    return Behaviour("slow", delay=seconds)


def body(data, status: int = 200, **headers: str) -> Behaviour:
    """Answer with `data`: bytes as they are, anything else as JSON (lone surrogates
    written as their \\u escapes, as a server in another language would)."""
    if not isinstance(data, bytes):
        data = json.dumps(data).encode("ascii")
    headers = {k.replace("_", "-"): v for k, v in headers.items()}
    headers.setdefault("Content-Type", "application/json; charset=utf-8")
    return Behaviour("body", status, headers, data=data)


def deeply_nested(depth: int = 200_000) -> Behaviour:
    return body(b"[" * depth + b"]" * depth)


def fake_gzip() -> Behaviour:
    return body(b'{"search": [], "success": 1}', Content_Encoding="gzip")


def redirect(location: str, code: int = 302) -> Behaviour:
    return Behaviour("body", code, {"Location": location, "Content-Type": "text/plain"})


def redirect_loop() -> Behaviour:
    return redirect("/loop/a")


def drip(data: bytes, interval: float = 1.0, *, headers: bool = False) -> Behaviour:
    return Behaviour("drip", delay=interval, data=data, drip_headers=headers)


def raw(data: bytes) -> Behaviour:
    return Behaviour("raw", data=data)


def truncated(data: bytes = b'{"search": [{"id": "Q900001"', claimed: int = 1000) -> Behaviour:
    return Behaviour("truncated", data=data, delay=claimed)


def slug(text: str) -> str:
    return re.sub(r"[^\w]+", "-", text.casefold()).strip("-")


class FakeWikidata:
    def __init__(self, fixtures: Path = FIXTURES):
        self.fixtures = fixtures
        self.entities: dict = json.loads((fixtures / "entities.json").read_text("utf-8"))[
            "entities"]
        self.requests: list[Recorded] = []
        self._script: list[Behaviour] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever,
                                        kwargs={"poll_interval": 0.02}, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/w/api.php"

    def start(self) -> FakeWikidata:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes handlers sleeping in a slow answer
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)

    def script(self, *behaviours: Behaviour) -> None:
        with self._lock:
            self._script.extend(behaviours)

    def reset(self) -> None:
        """Forget the script and the recorded requests (between Hypothesis examples)."""
        with self._lock:
            self._script.clear()
            self.requests.clear()

    def _next(self) -> Behaviour:
        with self._lock:
            return self._script.pop(0) if self._script else Behaviour("ok")

    # --- answers ------------------------------------------------------------------------------

    def answer(self, params: dict[str, str]) -> dict:
        action = params.get("action")
        if params.get("format") != "json":
            return {"error": {"code": "badformat", "info": "fixture server speaks json only"}}
        if action == "wbsearchentities":
            text = params.get("search", "")
            lang = params.get("language", "en")
            path = self.fixtures / f"search-{lang}-{slug(text)}.json"
            if path.exists():
                return json.loads(path.read_text("utf-8"))
            return {"searchinfo": {"search": text}, "search": [], "success": 1}
        if action == "wbgetentities":
            ids = [i for i in params.get("ids", "").split("|") if i]
            if len(ids) > 50:
                return {"error": {"code": "toomanyvalues",
                                  "info": "Too many values supplied for parameter \"ids\". "
                                          "The limit is 50."}}
            out = {}
            for qid in ids:
                out[qid] = self.entities.get(qid, {"id": qid, "missing": ""})
            return {"entities": out, "success": 1}
        return {"error": {"code": "badvalue", "info": f"Unrecognized value for action: {action}"}}

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            wbufsize = 1 << 16  # headers and body leave in one write (no delayed-ACK stall)

            def log_message(self, *args):  # keep test output quiet
                pass

            def do_GET(self):  # noqa: N802 - http.server's naming
                self._serve(None)

            def do_PUT(self):  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                self._serve(self.rfile.read(length))

            def _serve(self, upload: bytes | None):
                parts = urlsplit(self.path)
                params = {k: v[0] for k, v in parse_qs(parts.query).items()}
                with fake._lock:
                    fake.requests.append(Recorded(parts.path, params, dict(self.headers)))
                try:
                    self._answer(parts.path, params, upload)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True  # the client gave up (deadline tests)

            def _answer(self, path, params, upload):
                if path.startswith("/loop/"):  # a redirect loop that never ends
                    other = "/loop/b" if path == "/loop/a" else "/loop/a"
                    return self._send(302, b"", "text/plain", {"Location": other})
                if path not in ("/w/api.php", "/store"):
                    return self._send(404, b"not found", "text/plain")
                behaviour = fake._next()
                kind = behaviour.kind
                if kind == "status":
                    return self._send(behaviour.status, behaviour.data or b"<html>error</html>",
                                      "text/html", behaviour.headers)
                if kind == "maxlag":
                    body = (fake.fixtures / "maxlag.json").read_bytes()
                    return self._send(200, body, "application/json", behaviour.headers)
                if kind == "malformed":
                    return self._send(200, b'{"entities": {"Q9000', "application/json")
                if kind == "body":
                    headers = dict(behaviour.headers)
                    ctype = headers.pop("Content-Type", "application/octet-stream")
                    return self._send(behaviour.status, behaviour.data, ctype, headers)
                if kind == "drip":
                    return self._drip(behaviour)
                if kind == "raw":
                    self.close_connection = True
                    self.wfile.write(behaviour.data)
                    return self.wfile.flush()
                if kind == "truncated":
                    self.close_connection = True
                    return self._send(200, behaviour.data, "application/json",
                                      {"Content-Length": str(int(behaviour.delay))})
                if kind == "slow" and fake._stopping.wait(behaviour.delay):
                    return None
                if upload is not None:  # a Graph Store upload, stored nowhere
                    return self._send(204, b"", "text/plain")
                body = json.dumps(fake.answer(params), ensure_ascii=False).encode("utf-8")
                return self._send(200, body, "application/json; charset=utf-8")

            def _drip(self, behaviour):
                data = behaviour.data
                head = (f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                        f"Content-Length: {len(data)}\r\n\r\n").encode("ascii")
                if not behaviour.drip_headers:
                    self.wfile.write(head)
                    self.wfile.flush()
                    head = b""
                self.close_connection = True
                for i in range(len(head + data)):
                    self.wfile.write((head + data)[i:i + 1])
                    self.wfile.flush()
                    if fake._stopping.wait(behaviour.delay):
                        return

            def _send(self, code, body, ctype, headers=None):
                headers = dict(headers or {})
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", headers.pop("Content-Length", str(len(body))))
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(body)
                self.wfile.flush()

        return Handler


@contextlib.contextmanager
def running() -> Iterator[FakeWikidata]:
    """A fake Wikidata on 127.0.0.1, started on entry and stopped on exit (tests wrap this in
    a `wikidata_server` fixture)."""
    server = FakeWikidata().start()
    try:
        yield server
    finally:
        server.stop()


class FakeClock:
    """The client's clock for tests: sleeping only records the delay and moves time on."""

    def __init__(self, start=None):
        from datetime import UTC, datetime

        self.current = start or datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        from datetime import timedelta

        self.sleeps.append(seconds)
        self.current += timedelta(seconds=seconds)

    def now(self):
        return self.current
