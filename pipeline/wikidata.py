"""A polite client for the Wikidata action API, with an on-disk response cache.

In:  look-ups (`wbsearchentities` by name, `wbgetentities` by id, batched up to 50 ids).
Out: the API's JSON, parsed, with the date it was retrieved; entities as `EntityResult`
     (found, missing or redirected).

Behaves as Wikidata asks of bots (https://www.mediawiki.org/wiki/API:Etiquette):
  * a descriptive User-Agent naming the tool and a contact URL or address (configurable);
  * `maxlag=5` on every request, one request at a time (a lock serialises callers);
  * `Retry-After` honoured on 429/503 and on the `maxlag` error; otherwise bounded
    exponential backoff (2, 4, 8, 16, 32 s by default); connect/read timeouts;
  * when the retries run out, `WikidataUnavailable` says what failed and what to do.

The endpoint, the `requests.Session`, the clock (sleep + now) and the cache directory are
injected so tests run against a loopback server without sleeping.

Why not urllib3's `Retry`: Wikidata's `maxlag` error comes as HTTP 200 with an error body
(and its own `Retry-After`), which `Retry` cannot see, and `Retry` sleeps on the real clock,
so the schedule could not be tested without waiting. The loop here is small and covers both.

Cache: one JSON file per request under `.cache/wikidata/` (git-ignored), named by the
sha256 of the canonical request (endpoint + sorted parameters, `maxlag` excluded). Files are
written atomically (temporary file + fsync + `os.replace`). Each entry carries the request
and a checksum of the body; an entry that does not parse, is truncated, belongs to another
request or fails its checksum is deleted and refetched (offline: treated as a miss), so a
damaged cache never crashes a run and never feeds it wrong data.
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import os
import re
import tempfile
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests

from . import __version__
from .errors import EnvironmentProblem

DEFAULT_ENDPOINT = "https://www.wikidata.org/w/api.php"
DEFAULT_CONTACT = "https://w3id.org/healthcoop/"
DEFAULT_CACHE_DIR = Path(".cache/wikidata")
MAXLAG = 5
BATCH_SIZE = 50  # wbgetentities accepts at most 50 ids per call for ordinary clients
QID_PATTERN = re.compile(r"^Q[1-9][0-9]*$")
CACHE_FORMAT = 1

# what wbgetentities returns for candidates (labels in these languages only, to stay small)
ENTITY_PROPS = ("info", "labels", "aliases", "descriptions", "sitelinks", "claims")
ENTITY_LANGUAGES = ("en", "zh", "zh-hans", "zh-hant", "zh-cn", "zh-hk", "zh-tw", "ja", "ko")


def user_agent(contact: str = DEFAULT_CONTACT) -> str:
    """The User-Agent Wikidata asks for: tool/version (contact) library/version."""
    return (f"healthcoop-linker/{__version__} ({contact}; linked-open-data project) "
            f"python-requests/{requests.__version__}")


def check_user_agent(value: str) -> str:
    """A User-Agent must name the tool and carry a contact (URL or e-mail address)."""
    if not value or not value.strip():
        raise EnvironmentProblem("The User-Agent is empty.",
                                 fix="Pass --contact URL (or a full --user-agent).")
    if any(ch in value for ch in "\r\n"):
        raise EnvironmentProblem("The User-Agent contains a line break.",
                                 fix="Write the User-Agent on one line.")
    if not re.search(r"https?://\S+|\S+@\S+\.\S+", value):
        raise EnvironmentProblem(
            f"The User-Agent {value!r} has no contact URL or e-mail address; Wikidata blocks "
            "anonymous bots.",
            fix="Include a contact, e.g. 'mytool/1.0 (https://example.org/contact)'.")
    return value


# --- errors -------------------------------------------------------------------------------------

class WikidataUnavailable(EnvironmentProblem):
    """The API could not be used: retries ran out, it refused, or it answered nonsense."""


class OfflineMiss(Exception):
    """`--offline` and the look-up is not in the cache (or its entry was damaged)."""

    def __init__(self, description: str):
        super().__init__(description)
        self.description = description


# --- clock --------------------------------------------------------------------------------------

class Clock:
    """Time as the client sees it; tests replace it with a fake that records the sleeps."""

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    def now(self) -> datetime:
        return datetime.now(UTC)


# --- cache --------------------------------------------------------------------------------------

@dataclass
class CachedResponse:
    data: dict
    retrieved: str  # ISO 8601 UTC timestamp of the HTTP response


class ResponseCache:
    """API responses on disk, one verified JSON file per request."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self.discarded: list[str] = []  # human-readable notes about damaged entries

    @staticmethod
    def canonical(request: Mapping[str, Any]) -> str:
        return json.dumps(request, sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    def key(self, request: Mapping[str, Any]) -> str:
        return hashlib.sha256(self.canonical(request).encode("utf-8")).hexdigest()

    def path(self, request: Mapping[str, Any]) -> Path:
        key = self.key(request)
        return self.directory / key[:2] / f"{key}.json"

    @staticmethod
    def _body_hash(data: Any) -> str:
        text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def get(self, request: Mapping[str, Any]) -> CachedResponse | None:
        """The verified entry, or None (missing, or damaged and now deleted)."""
        path = self.path(request)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as err:
            self._discard(path, f"unreadable ({err.strerror})")
            return None
        try:
            entry = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            self._discard(path, "not valid JSON (truncated or corrupt)")
            return None
        problem = self._verify(entry, request)
        if problem:
            self._discard(path, problem)
            return None
        return CachedResponse(entry["body"], entry["retrieved"])

    def _verify(self, entry: Any, request: Mapping[str, Any]) -> str:
        if not isinstance(entry, dict):
            return "not a cache entry"
        if entry.get("cache_format") != CACHE_FORMAT:
            return f"unknown cache format {entry.get('cache_format')!r}"
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

    def _discard(self, path: Path, why: str) -> None:
        self.discarded.append(f"{path.name}: {why}; discarded")
        try:
            path.unlink()
        except OSError:
            pass

    def put(self, request: Mapping[str, Any], data: dict, retrieved: str) -> None:
        """Write the entry atomically: a reader sees the old file or the whole new one."""
        path = self.path(request)
        entry = {
            "cache_format": CACHE_FORMAT,
            "request": json.loads(self.canonical(request)),
            "retrieved": retrieved,
            "body_sha256": self._body_hash(data),
            "body": data,
        }
        payload = json.dumps(entry, ensure_ascii=False, sort_keys=True).encode("utf-8")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=path.parent)
        except OSError as err:
            raise EnvironmentProblem(f"Cannot write the Wikidata cache in {path.parent}: {err}",
                                     fix="Check --cache-dir is writable.") from err
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(payload)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise


def _parse_timestamp(value: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


# --- results ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SearchHit:
    """One `wbsearchentities` result."""

    id: str
    label: str
    description: str
    match_type: str  # label | alias | ...
    match_language: str
    match_text: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class SearchResult:
    text: str
    language: str
    hits: tuple[SearchHit, ...]
    retrieved: str


@dataclass(frozen=True)
class EntityResult:
    """The answer for one requested id: `found`, `missing` (deleted or never existed) or
    `redirect` (merged into `target`; `entity` then holds the target's data)."""

    requested: str
    status: str
    target: str
    entity: dict
    retrieved: str

    @property
    def revision(self) -> int | None:
        rev = self.entity.get("lastrevid")
        return rev if isinstance(rev, int) else None


# --- the client ---------------------------------------------------------------------------------

@dataclass
class RetryPolicy:
    max_retries: int = 5          # retries after the first attempt
    backoff_base: float = 2.0     # seconds before the first retry
    backoff_factor: float = 2.0
    backoff_max: float = 60.0
    max_retry_after: float = 300.0  # a server asking for a longer pause makes us give up

    def backoff(self, retry: int) -> float:
        """Delay before retry number `retry` (1-based) when the server did not say."""
        return min(self.backoff_max, self.backoff_base * self.backoff_factor ** (retry - 1))


@dataclass
class WikidataClient:
    """One client per run; not to be used from several threads at once (a lock enforces it)."""

    endpoint: str = DEFAULT_ENDPOINT
    user_agent: str = field(default_factory=user_agent)
    session: requests.Session | None = None
    cache: ResponseCache | None = None
    offline: bool = False
    clock: Clock = field(default_factory=Clock)
    timeout: tuple[float, float] = (10.0, 60.0)  # connect, read
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    max_age: timedelta | None = timedelta(days=30)  # older cache entries are refetched online
    requests_made: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        check_user_agent(self.user_agent)
        if not re.match(r"^https?://", self.endpoint or ""):
            raise EnvironmentProblem(f"The Wikidata endpoint {self.endpoint!r} is not an "
                                     "http(s) URL.",
                                     fix=f"Use e.g. --endpoint {DEFAULT_ENDPOINT}")
        if self.session is None and not self.offline:
            self.session = requests.Session()

    # --- public look-ups ------------------------------------------------------------------

    def search(self, text: str, language: str = "en", limit: int = 7) -> SearchResult:
        """Items whose label or alias matches `text` in `language`."""
        params = {
            "action": "wbsearchentities", "search": text, "language": language,
            "uselang": language, "type": "item", "limit": str(limit), "format": "json",
        }
        data, retrieved = self.call(params, describe=f"search {text!r} ({language})")
        hits = []
        for item in data.get("search") or []:
            if not isinstance(item, dict) or not QID_PATTERN.match(str(item.get("id", ""))):
                continue
            match = item.get("match") if isinstance(item.get("match"), dict) else {}
            hits.append(SearchHit(
                id=item["id"], label=_text(item.get("label")),
                description=_text(item.get("description")),
                match_type=_text(match.get("type")), match_language=_text(match.get("language")),
                match_text=_text(match.get("text")),
                aliases=tuple(_text(a) for a in item.get("aliases") or [] if isinstance(a, str)),
            ))
        return SearchResult(text, language, tuple(hits), retrieved)

    def get_entities(self, ids: Iterable[str], *, languages: Iterable[str] = ENTITY_LANGUAGES,
                     props: Iterable[str] = ENTITY_PROPS, refresh: bool = False
                     ) -> dict[str, EntityResult]:
        """Entities by id, in batches of at most 50. `refresh` bypasses the cache (online)."""
        wanted = sorted({i for i in ids if QID_PATTERN.match(i)}, key=_qid_number)
        results: dict[str, EntityResult] = {}
        lang = "|".join(languages)
        prop = "|".join(props)
        for start in range(0, len(wanted), BATCH_SIZE):
            batch = wanted[start:start + BATCH_SIZE]
            params = {
                "action": "wbgetentities", "ids": "|".join(batch), "props": prop,
                "languages": lang, "redirects": "yes", "format": "json",
            }
            data, retrieved = self.call(params, describe=f"entities {', '.join(batch)}",
                                        refresh=refresh)
            entities = data.get("entities")
            if not isinstance(entities, dict):
                raise WikidataUnavailable(
                    f"wbgetentities answered without `entities` for {', '.join(batch)}.",
                    fix="Check --endpoint points at a Wikibase api.php.")
            for qid in batch:
                results[qid] = _entity_result(qid, entities.get(qid), retrieved)
        return results

    # --- the request loop -----------------------------------------------------------------

    def call(self, params: Mapping[str, str], *, describe: str = "",
             refresh: bool = False) -> tuple[dict, str]:
        """The JSON body for `params` and its retrieval time, from the cache or the API."""
        request = {"endpoint": self.endpoint, "params": dict(params)}
        describe = describe or f"{params.get('action')} request"
        cached = self.cache.get(request) if self.cache else None
        if cached is not None and (self.offline or (not refresh and self._fresh(cached))):
            return cached.data, cached.retrieved
        if self.offline:
            raise OfflineMiss(describe)
        with self._lock:
            data = self._fetch(params, describe)
        retrieved = self.clock.now().astimezone(UTC).isoformat(timespec="seconds")
        if self.cache:
            self.cache.put(request, data, retrieved)
        return data, retrieved

    def _fresh(self, cached: CachedResponse) -> bool:
        if self.max_age is None:
            return True
        when = _parse_timestamp(cached.retrieved)
        return bool(when) and self.clock.now() - when <= self.max_age

    def _fetch(self, params: Mapping[str, str], describe: str) -> dict:
        query = {**params, "maxlag": str(MAXLAG)}
        headers = {"User-Agent": self.user_agent, "Accept": "application/json"}
        attempt = 0
        while True:
            attempt += 1
            server_wait: float | None = None
            try:
                self.requests_made += 1
                response = self.session.get(self.endpoint, params=query, headers=headers,
                                            timeout=self.timeout)
            except requests.Timeout:
                reason = f"no answer within {self.timeout[1]:g} s (timeout)"
            except requests.ConnectionError as err:
                reason = f"connection failed ({type(err).__name__})"
            else:
                status = response.status_code
                if status in (429, 503):
                    reason = f"HTTP {status}"
                    server_wait = _retry_after(response.headers, self.clock.now())
                elif status >= 500:
                    reason = f"HTTP {status}"
                elif status != 200:
                    raise WikidataUnavailable(
                        f"Wikidata refused {describe}: HTTP {status}.",
                        fix="HTTP 403 usually means the User-Agent was rejected: set --contact "
                            "to a real contact URL. Check --endpoint otherwise.")
                else:
                    try:
                        data = json.loads(response.content.decode("utf-8"))
                    except (UnicodeDecodeError, ValueError):
                        data = None
                    if not isinstance(data, dict):
                        reason = "the answer was not a JSON object (malformed or truncated)"
                    elif isinstance(data.get("error"), dict):
                        error = data["error"]
                        code = str(error.get("code", ""))
                        if code != "maxlag":
                            raise WikidataUnavailable(
                                f"Wikidata answered {describe} with error {code!r}: "
                                f"{_text(error.get('info'))[:200]}",
                                fix="This request cannot succeed as sent; report it as a bug.")
                        reason = f"database lag above {MAXLAG} s (maxlag)"
                        server_wait = _retry_after(response.headers, self.clock.now())
                        if server_wait is None:
                            server_wait = float(MAXLAG)
                    else:
                        return data
            if attempt > self.retry.max_retries:
                raise WikidataUnavailable(
                    f"Wikidata did not answer {describe} after {attempt} attempts; "
                    f"last problem: {reason}.",
                    fix="Try again later, or run with --offline to use the cached answers.")
            if server_wait is not None and server_wait > self.retry.max_retry_after:
                raise WikidataUnavailable(
                    f"Wikidata asked us to wait {server_wait:g} s before retrying {describe} "
                    f"(more than the {self.retry.max_retry_after:g} s we wait); last problem: "
                    f"{reason}.",
                    fix="Try again later, or run with --offline to use the cached answers.")
            delay = self.retry.backoff(attempt)
            if server_wait is not None:
                delay = server_wait  # the server knows best; never retry sooner than asked
            self.clock.sleep(delay)


def _retry_after(headers: Mapping[str, str], now: datetime) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date), or None."""
    value = (headers.get("Retry-After") or "").strip()
    if not value:
        return None
    if re.fullmatch(r"\d+(\.\d+)?", value):
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def _entity_result(qid: str, raw: Any, retrieved: str) -> EntityResult:
    if not isinstance(raw, dict) or "missing" in raw:
        return EntityResult(qid, "missing", "", {}, retrieved)
    redirects = raw.get("redirects")
    if isinstance(redirects, dict) and redirects.get("to"):
        target = str(redirects["to"])
        return EntityResult(qid, "redirect", target, raw, retrieved)
    actual = str(raw.get("id", qid))
    if actual != qid:  # a redirect reported only through a different id
        return EntityResult(qid, "redirect", actual, raw, retrieved)
    return EntityResult(qid, "found", qid, raw, retrieved)


def _qid_number(qid: str) -> int:
    return int(qid[1:])


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


# --- reading entity JSON ------------------------------------------------------------------------

def entity_labels(entity: Mapping[str, Any]) -> dict[str, str]:
    """language -> label."""
    out = {}
    for lang, item in (entity.get("labels") or {}).items():
        if isinstance(item, dict) and isinstance(item.get("value"), str):
            out[lang] = item["value"]
    return out


def entity_aliases(entity: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(language, alias) pairs."""
    out = []
    for lang, items in (entity.get("aliases") or {}).items():
        for item in items or []:
            if isinstance(item, dict) and isinstance(item.get("value"), str):
                out.append((lang, item["value"]))
    return out


def entity_description(entity: Mapping[str, Any], language: str = "en") -> str:
    item = (entity.get("descriptions") or {}).get(language)
    return item["value"] if isinstance(item, dict) and isinstance(item.get("value"), str) else ""


def claim_values(entity: Mapping[str, Any], prop: str) -> list[Any]:
    """Main-snak values of `prop`, skipping deprecated statements and no/some-value snaks.
    Item values come back as QIDs, times as their `time` string, strings as themselves."""
    out = []
    for statement in (entity.get("claims") or {}).get(prop) or []:
        if not isinstance(statement, dict) or statement.get("rank") == "deprecated":
            continue
        snak = statement.get("mainsnak") or {}
        if snak.get("snaktype", "value") != "value":
            continue
        value = (snak.get("datavalue") or {}).get("value")
        if isinstance(value, dict):
            if isinstance(value.get("id"), str):
                out.append(value["id"])
            elif "numeric-id" in value:
                out.append(f"Q{value['numeric-id']}")
            elif isinstance(value.get("time"), str):
                out.append(value["time"])
        elif isinstance(value, str):
            out.append(value)
    return out
