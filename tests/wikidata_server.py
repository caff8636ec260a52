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
    """One scripted answer: kind is ok | status | maxlag | malformed | slow."""

    kind: str
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


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
                parts = urlsplit(self.path)
                params = {k: v[0] for k, v in parse_qs(parts.query).items()}
                with fake._lock:
                    fake.requests.append(Recorded(parts.path, params, dict(self.headers)))
                if parts.path != "/w/api.php":
                    return self._send(404, b"not found", "text/plain")
                behaviour = fake._next()
                if behaviour.kind == "status":
                    return self._send(behaviour.status, b"<html>error</html>", "text/html",
                                      behaviour.headers)
                if behaviour.kind == "maxlag":
                    body = (fake.fixtures / "maxlag.json").read_bytes()
                    return self._send(200, body, "application/json", behaviour.headers)
                if behaviour.kind == "malformed":
                    return self._send(200, b'{"entities": {"Q9000', "application/json")
                if behaviour.kind == "slow" and fake._stopping.wait(behaviour.delay):
                    return None
                body = json.dumps(fake.answer(params), ensure_ascii=False).encode("utf-8")
                return self._send(200, body, "application/json; charset=utf-8")

            def _send(self, code, body, ctype, headers=None):
                try:
                    self.send_response(code)
                    self.send_header("Content-Type", ctype)
                    self.send_header("Content-Length", str(len(body)))
                    for key, value in (headers or {}).items():
                        self.send_header(key, value)
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout tests)

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
