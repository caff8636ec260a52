"""The Wikidata client's on-disk cache: one verified JSON file per API request.

In:  a request (endpoint and parameters) and, once fetched, its answer and retrieval time.
Out: `ResponseCache.get` -> the verified `CachedResponse`, or None (missing, or damaged and
     then deleted); `put` writes an entry atomically; `discarded` holds a note on each damaged
     entry and on a cache that cannot be written.

One JSON file per request under `.cache/wikidata/` (git-ignored), named by the
sha256 of the canonical request (endpoint + sorted parameters, `maxlag` excluded). Files are
written atomically (temporary file + fsync + `os.replace`). Each entry carries the request
and a checksum of the body; an entry that is not a regular file, does not parse, is
truncated, belongs to another request, fails its checksum or has the wrong shape is deleted
and refetched (offline: treated as a miss), so a damaged cache never crashes a run and never
feeds it wrong data. A cache that cannot be written (say the directory is a regular file)
is noted in `ResponseCache.discarded` and the run goes on uncached.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipeline.terminal import terminal_safe

DEFAULT_CACHE_DIR = Path(".cache/wikidata")
CACHE_FORMAT = 1
# the largest answer the client accepts (50 entities with every claim stay far below this);
# an entry holds one answer, so a file of more than twice this is damaged
MAX_ANSWER_BYTES = 64 * 2**20


@dataclass
class CachedResponse:
    data: dict
    retrieved: str  # ISO 8601 UTC timestamp of the HTTP response


def _encode_json(value: Any, **options: Any) -> bytes:
    """UTF-8 JSON; a lone surrogate (which UTF-8 cannot carry) is written as its \\u escape."""
    try:
        return json.dumps(value, ensure_ascii=False, **options).encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(value, ensure_ascii=True, **options).encode("ascii")


class ResponseCache:
    """API responses on disk, one verified JSON file per request."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self.discarded: list[str] = []  # human-readable notes about damaged entries

    @staticmethod
    def canonical(request: Mapping[str, Any]) -> str:
        return json.dumps(request, sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    def key(self, request: Mapping[str, Any]) -> str:
        return hashlib.sha256(self.canonical(request).encode("utf-8", "surrogatepass")
                              ).hexdigest()

    def path(self, request: Mapping[str, Any]) -> Path:
        key = self.key(request)
        return self.directory / key[:2] / f"{key}.json"

    @staticmethod
    def _body_hash(data: Any) -> str:
        text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()

    def get(self, request: Mapping[str, Any]) -> CachedResponse | None:
        """The verified entry, or None (missing, or damaged and now deleted)."""
        path = self.path(request)
        try:
            raw = _read_regular(path, 2 * MAX_ANSWER_BYTES)
        except FileNotFoundError:
            return None
        except OSError as err:
            self._discard(path, f"unreadable ({err.strerror or err})")
            return None
        try:
            entry = json.loads(raw.decode("utf-8"))
            problem = self._verify(entry, request)
        except (UnicodeDecodeError, ValueError, RecursionError):
            problem = "not valid JSON (truncated or corrupt)"
        if problem:
            self._discard(path, problem)
            return None
        return CachedResponse(entry["body"], entry["retrieved"])

    def _verify(self, entry: Any, request: Mapping[str, Any]) -> str:
        if not isinstance(entry, dict):
            return "not a cache entry"
        if entry.get("cache_format") != CACHE_FORMAT:
            return f"unknown cache format {terminal_safe(repr(entry.get('cache_format')))[:40]}"
        if entry.get("request") != json.loads(self.canonical(request)):
            return "belongs to another request"
        body = entry.get("body")
        if not isinstance(body, dict):
            return "has no response body"
        if entry.get("body_sha256") != self._body_hash(body):
            return "fails its checksum"
        retrieved = entry.get("retrieved")
        if not isinstance(retrieved, str) or not _parse_timestamp(retrieved):
            return "has no valid retrieval time"
        return ""

    def discard(self, request: Mapping[str, Any], why: str) -> None:
        """Delete the entry for `request` (it verified, but its answer has the wrong shape)."""
        self._discard(self.path(request), why)

    def _discard(self, path: Path, why: str) -> None:
        self._note(f"{path.name}: {why}; discarded")
        try:
            path.unlink()
        except OSError:
            pass

    def _note(self, text: str) -> None:
        if text not in self.discarded:
            self.discarded.append(text)

    def put(self, request: Mapping[str, Any], data: dict, retrieved: str) -> None:
        """Write the entry atomically: a reader sees the old file or the whole new one.
        A cache that cannot be written is noted in `discarded`; the run goes on uncached."""
        path = self.path(request)
        try:
            entry = {
                "cache_format": CACHE_FORMAT,
                "request": json.loads(self.canonical(request)),
                "retrieved": retrieved,
                "body_sha256": self._body_hash(data),
                "body": data,
            }
            payload = _encode_json(entry, sort_keys=True)
        except (ValueError, RecursionError):  # an answer too deep to write back
            return
        tmp = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=path.parent)
            with os.fdopen(fd, "wb") as handle:
                handle.write(payload)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
            tmp = None
        except OSError as err:
            self._note(f"cache {terminal_safe(str(self.directory))} cannot be written "
                       f"({err.strerror or err}); answers are not cached")
        finally:
            if tmp is not None:
                try:
                    os.unlink(tmp)
                except OSError:
                    pass


def _read_regular(path: Path, limit: int) -> bytes:
    """A regular file's bytes (at most `limit`); never blocks on a FIFO or a device."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(0, "not a regular file")
        if info.st_size > limit:
            raise OSError(0, f"larger than {limit} bytes")
        with os.fdopen(fd, "rb", closefd=False) as handle:
            return handle.read(limit + 1)
    finally:
        os.close(fd)


def _parse_timestamp(value: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
