"""HTTP with a total deadline: one exchange finished in time, or DeadlineExceeded.

In:  a `requests.Session`, a method, a URL, a deadline in seconds for the whole exchange, the
     seconds allowed for connecting, and the most answer bytes wanted.
Out: `http_request` -> an `HttpAnswer` (status, headers, at most `limit` + 1 body bytes);
     `DeadlineExceeded` when the exchange took longer, however slowly the server dripped.
     Also the checks both users make before asking: `split_timeout` (a deadline or a
     (connect, total) pair from the command line) and `check_http_url`; and `retry_after`
     (the seconds a Retry-After header asks for).

Used by `healthcoop load` (pipeline.load, uploads to a store) and by the Wikidata client
(pipeline.link.client).
"""

from __future__ import annotations

import email.utils
import http.client
import re
import socket
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from pipeline.errors import EnvironmentProblem
from pipeline.terminal import terminal_safe, unsafe_character

# requests' timeout bounds each socket read, so a server sending one byte a second never times
# out. Here a watchdog thread shuts the exchange's sockets when the deadline passes, which
# wakes a blocked send or recv at once (headers, body, upload alike). It finds the sockets
# through a connection pool that registers every connection it hands out while a deadline is
# running in this thread.

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


def retry_after(headers: Mapping[str, str], now: datetime) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date), or None."""
    value = (headers.get("Retry-After") or "").strip()
    if not value:
        return None
    if re.fullmatch(r"\d{1,12}(\.\d{1,6})?", value):
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return max(0.0, (when - now).total_seconds())
    except (TypeError, ValueError, OverflowError, IndexError):
        return None
