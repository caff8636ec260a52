"""A polite client for the Wikidata action API, with an on-disk response cache.

In:  look-ups (`wbsearchentities` by name, `wbgetentities` by id, batched up to 50 ids).
Out: the API's JSON, parsed, with the date it was retrieved; entities as `EntityResult`
     (found, missing or redirected).

Behaves as Wikidata asks of bots (https://www.mediawiki.org/wiki/API:Etiquette):
  * a descriptive User-Agent naming the tool and a contact URL or address (configurable);
  * `maxlag=5` on every request, one request at a time (a lock serialises callers);
  * `Retry-After` honoured on 429/503 and on the `maxlag` error; otherwise bounded
    exponential backoff (2, 4, 8, 16, 32 s by default);
  * `timeout` is a *total* deadline per request: connecting, and every byte of the answer
    (a server dripping a byte a second is cut off: `pipeline.http.http_request`);
  * when the retries run out, `WikidataUnavailable` says what failed and what to do.

Hostile answers never crash a run: a body that is not UTF-8 JSON, nested too deeply, of the
wrong shape (a list where an object belongs, a missing `entities` or `search`, an id that is
not a QID), falsely gzip-encoded, or larger than MAX_ANSWER_BYTES is a failed attempt
(retried, never cached); a redirect loop or a redirect to a non-HTTP URL stops at once.
Text that would be published or printed (labels, aliases, descriptions, claim values,
search hits) is refused when it holds control characters, escape sequences, lone surrogates
or bidi controls, as record text is: the readers (`entity_labels`, `claim_values`, ...) leave
it out, a search hit carrying it is dropped, and each refusal is noted in
`WikidataClient.refused`.

The endpoint, the `requests.Session`, the clock (sleep + now) and the cache directory are
injected so tests run against a loopback server without sleeping.

Why not urllib3's `Retry`: Wikidata's `maxlag` error comes as HTTP 200 with an error body
(and its own `Retry-After`), which `Retry` cannot see, and `Retry` sleeps on the real clock,
so the schedule could not be tested without waiting. The loop here is small and covers both.

The cache of answers is `pipeline.link.cache`; HTTP with a total deadline, shared with
`healthcoop load`, is `pipeline.http`.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import requests

from pipeline import __version__
from pipeline.errors import EnvironmentProblem
from pipeline.http import (
    TRANSPORT_ERRORS,
    DeadlineExceeded,
    check_http_url,
    http_request,
    retry_after,
    split_timeout,
    watched_session,
)
from pipeline.terminal import terminal_safe, unsafe_character

from .cache import MAX_ANSWER_BYTES, CachedResponse, ResponseCache, _parse_timestamp

DEFAULT_ENDPOINT = "https://www.wikidata.org/w/api.php"
DEFAULT_CONTACT = "https://w3id.org/healthcoop/"
MAXLAG = 5
BATCH_SIZE = 50  # wbgetentities accepts at most 50 ids per call for ordinary clients
# \Z, not $: "$" would accept "Q1\n"; at most 12 digits, so int() of it is always cheap
QID_PATTERN = re.compile(r"^Q[1-9][0-9]{0,11}\Z")

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
        return rev if type(rev) is int else None


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


Check = Callable[[dict], str]  # an answer's shape: "" when right, else what is wrong
_PERMANENT = (requests.TooManyRedirects, requests.exceptions.InvalidURL,
              requests.exceptions.InvalidSchema, requests.exceptions.MissingSchema)


@dataclass
class WikidataClient:
    """One client per run; not to be used from several threads at once (a lock enforces it).

    `timeout`: seconds for the whole of each request (a float), or (connect, total)."""

    endpoint: str = DEFAULT_ENDPOINT
    user_agent: str = field(default_factory=user_agent)
    session: requests.Session | None = None
    cache: ResponseCache | None = None
    offline: bool = False
    clock: Clock = field(default_factory=Clock)
    timeout: float | tuple[float, float] = (10.0, 60.0)  # connect, total
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    max_age: timedelta | None = timedelta(days=30)  # older cache entries are refetched online
    requests_made: int = 0
    refused: list[str] = field(default_factory=list)  # notes on text refused from answers
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        check_user_agent(self.user_agent)
        check_http_url(self.endpoint, what="Wikidata endpoint",
                       example=f"--endpoint {DEFAULT_ENDPOINT}")
        self._connect, self._total = split_timeout(self.timeout)
        if not self.offline:
            self.session = watched_session(self.session)

    def _refuse(self, note: str) -> None:
        if note not in self.refused:
            self.refused.append(note)

    # --- public look-ups ------------------------------------------------------------------

    def search(self, text: str, language: str = "en", limit: int = 7) -> SearchResult:
        """Items whose label or alias matches `text` in `language`."""
        params = {
            "action": "wbsearchentities", "search": text, "language": language,
            "uselang": language, "type": "item", "limit": str(limit), "format": "json",
        }
        describe = f"search {terminal_safe(repr(text))} ({terminal_safe(language)})"
        data, retrieved = self.call(params, describe=describe, check=_check_search)
        hits = [hit for item in data["search"] if (hit := self._hit(item, describe))]
        return SearchResult(text, language, tuple(hits), retrieved)

    def _hit(self, item: Any, describe: str) -> SearchHit | None:
        if not isinstance(item, dict) or not _is_qid(item.get("id")):
            return None
        match = item.get("match") if isinstance(item.get("match"), dict) else {}
        aliases = item.get("aliases") if isinstance(item.get("aliases"), list) else []
        hit = SearchHit(
            id=item["id"], label=_text(item.get("label")),
            description=_text(item.get("description")),
            match_type=_text(match.get("type")), match_language=_text(match.get("language")),
            match_text=_text(match.get("text")),
            aliases=tuple(a for a in aliases if isinstance(a, str)))
        for value in (hit.label, hit.description, hit.match_type, hit.match_language,
                      hit.match_text, *hit.aliases):
            problem = unsafe_character(value)
            if problem:
                self._refuse(f"{describe}: hit {hit.id} refused: its text contains {problem}")
                return None
        return hit

    def get_entities(self, ids: Iterable[str], *, languages: Iterable[str] = ENTITY_LANGUAGES,
                     props: Iterable[str] = ENTITY_PROPS, refresh: bool = False
                     ) -> dict[str, EntityResult]:
        """Entities by id, in batches of at most 50. `refresh` bypasses the cache (online)."""
        wanted = sorted({i for i in ids if _is_qid(i)}, key=_qid_number)
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
                                        refresh=refresh, check=_entities_check(batch))
            for qid in batch:
                results[qid] = self._entity_result(qid, data["entities"].get(qid), retrieved)
        return results

    # --- the request loop -----------------------------------------------------------------

    def call(self, params: Mapping[str, str], *, describe: str = "", refresh: bool = False,
             check: Check | None = None) -> tuple[dict, str]:
        """The JSON body for `params` and its retrieval time, from the cache or the API.
        `check` says whether an answer has the expected shape (cached ones too)."""
        request = {"endpoint": self.endpoint, "params": dict(params)}
        describe = describe or f"{terminal_safe(str(params.get('action')))} request"
        cached = self.cache.get(request) if self.cache else None
        if cached is not None and check is not None and (problem := check(cached.data)):
            self.cache.discard(request, f"malformed answer ({problem})")
            cached = None
        if cached is not None and (self.offline or (not refresh and self._fresh(cached))):
            return cached.data, cached.retrieved
        if self.offline:
            raise OfflineMiss(describe)
        with self._lock:
            data = self._fetch(params, describe, check)
        retrieved = self.clock.now().astimezone(UTC).isoformat(timespec="seconds")
        if self.cache:
            self.cache.put(request, data, retrieved)
        return data, retrieved

    def _fresh(self, cached: CachedResponse) -> bool:
        if self.max_age is None:
            return True
        when = _parse_timestamp(cached.retrieved)
        return bool(when) and self.clock.now() - when <= self.max_age

    def _fetch(self, params: Mapping[str, str], describe: str, check: Check | None) -> dict:
        query = {**params, "maxlag": str(MAXLAG)}
        headers = {"User-Agent": self.user_agent, "Accept": "application/json"}
        attempt = 0
        while True:
            attempt += 1
            self.requests_made += 1
            data, reason, server_wait = self._attempt(query, headers, describe, check)
            if data is not None:
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

    def _attempt(self, query: Mapping[str, str], headers: Mapping[str, str], describe: str,
                 check: Check | None) -> tuple[dict | None, str, float | None]:
        """One request: (data, "", None), or (None, why it failed, seconds the server asked
        us to wait). Failures that no retry can mend raise WikidataUnavailable."""
        try:
            answer = http_request(self.session, "GET", self.endpoint, params=query,
                                  headers=headers, deadline=self._total,
                                  connect=self._connect, limit=MAX_ANSWER_BYTES)
        except DeadlineExceeded:
            return None, f"no complete answer within {self._total:g} s (timeout)", None
        except requests.ConnectTimeout:
            return None, f"could not connect within {self._connect:g} s (timeout)", None
        except requests.Timeout:
            return None, f"no answer within {self._total:g} s (timeout)", None
        except _PERMANENT as err:
            raise WikidataUnavailable(
                f"Wikidata could not be asked {describe}: {_request_problem(err)}.",
                fix="Check --endpoint: give the api.php URL itself.") from err
        except requests.exceptions.ContentDecodingError:
            return None, "the answer could not be decoded (wrong Content-Encoding)", None
        except requests.ConnectionError as err:
            return None, f"connection failed ({type(err).__name__})", None
        except TRANSPORT_ERRORS as err:
            return None, f"the answer was broken off ({type(err).__name__})", None
        status = answer.status
        if status in (429, 503):
            return None, f"HTTP {status}", retry_after(answer.headers, self.clock.now())
        if status >= 500:
            return None, f"HTTP {status}", None
        if status != 200:
            raise WikidataUnavailable(
                f"Wikidata refused {describe}: HTTP {status}.",
                fix="HTTP 403 usually means the User-Agent was rejected: set --contact "
                    "to a real contact URL. Check --endpoint otherwise.")
        if len(answer.body) > MAX_ANSWER_BYTES:
            raise WikidataUnavailable(
                f"Wikidata's answer to {describe} is larger than "
                f"{MAX_ANSWER_BYTES // 2**20} MiB.", fix="Check --endpoint.")
        data, problem = _json_object(answer.body)
        if data is None:
            return None, f"the answer was not a JSON object ({problem})", None
        error = data.get("error")
        if isinstance(error, dict):
            code = _text(error.get("code"))
            if code != "maxlag":
                raise WikidataUnavailable(
                    f"Wikidata answered {describe} with error "
                    f"{terminal_safe(repr(code))[:80]}: "
                    f"{terminal_safe(_text(error.get('info'))[:200])}",
                    fix="This request cannot succeed as sent; report it as a bug.")
            wait = retry_after(answer.headers, self.clock.now())
            return None, f"database lag above {MAXLAG} s (maxlag)", \
                float(MAXLAG) if wait is None else wait
        problem = check(data) if check is not None else ""
        if problem:
            return None, f"the answer was malformed ({problem})", None
        return data, "", None

    # --- entities -------------------------------------------------------------------------

    def _entity_result(self, qid: str, raw: Any, retrieved: str) -> EntityResult:
        if not isinstance(raw, dict) or "missing" in raw:
            return EntityResult(qid, "missing", "", {}, retrieved)
        self._note_refused(qid, raw)
        entity = dict(raw)
        if not isinstance(entity.get("sitelinks"), dict):
            entity["sitelinks"] = {}  # the linker counts them
        redirects = raw.get("redirects")
        if isinstance(redirects, dict) and redirects.get("to"):
            return EntityResult(qid, "redirect", redirects["to"], entity, retrieved)
        actual = raw.get("id", qid)
        if actual != qid:  # a redirect reported only through a different id
            return EntityResult(qid, "redirect", actual, entity, retrieved)
        return EntityResult(qid, "found", qid, entity, retrieved)

    def _note_refused(self, qid: str, entity: dict) -> None:
        """A note for each text the readers below leave out because it is not printable."""
        terms = [("label", lang, item) for lang, item in _items(entity.get("labels"))]
        terms += [("description", lang, item)
                  for lang, item in _items(entity.get("descriptions"))]
        terms += [("alias", lang, item) for lang, items in _items(entity.get("aliases"))
                  for item in (items if isinstance(items, list) else [])]
        for what, lang, item in terms:
            text = item.get("value") if isinstance(item, dict) else None
            problem = unsafe_character(lang) or (isinstance(text, str) and unsafe_character(text))
            if problem:
                self._refuse(f"{qid}: {what} ({terminal_safe(lang)}) refused: it contains "
                             f"{problem}")
        for prop, _statements in _items(entity.get("claims")):
            for value in _claim_values(entity, prop):
                if problem := unsafe_character(value) or unsafe_character(prop):
                    self._refuse(f"{qid}: a {terminal_safe(prop)} value refused: it contains "
                                 f"{problem}")


# --- answer shapes ------------------------------------------------------------------------------

def _json_object(raw: bytes) -> tuple[dict | None, str]:
    """The body as a JSON object, or (None, what is wrong with it)."""
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        return None, "not UTF-8"
    except RecursionError:  # the C parser recurses per nesting level
        return None, "nested too deeply"
    except ValueError:
        return None, "malformed or truncated"
    if not isinstance(data, dict):
        return None, f"a JSON {type(data).__name__} where an object belongs"
    return data, ""


def _check_search(data: dict) -> str:
    return "" if isinstance(data.get("search"), list) else "`search` is not a list"


def _entities_check(batch: list[str]) -> Check:
    def check(data: dict) -> str:
        entities = data.get("entities")
        if not isinstance(entities, dict):
            return "no `entities` object"
        for qid in batch:
            raw = entities.get(qid)
            if raw is None:
                continue  # not listed: missing, as for a deleted item
            if not isinstance(raw, dict):
                return f"entity {qid} is a {type(raw).__name__}, not an object"
            if "id" in raw and not _is_qid(raw["id"]):
                return f"entity {qid} has an id that is not a QID"
            redirects = raw.get("redirects")
            if redirects is not None and not (isinstance(redirects, dict)
                                              and _is_qid(redirects.get("to"))):
                return f"entity {qid} has a malformed redirect"
        return ""
    return check


def _request_problem(err: Exception) -> str:
    if isinstance(err, requests.TooManyRedirects):
        return "it redirects in a loop (too many redirects)"
    return f"it redirects to a URL that cannot be followed ({type(err).__name__})"


def _is_qid(value: Any) -> bool:
    return isinstance(value, str) and bool(QID_PATTERN.match(value))


def _qid_number(qid: str) -> int:
    return int(qid[1:])


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _printable(value: str) -> bool:
    return unsafe_character(value) is None


def _items(value: Any) -> list[tuple[str, Any]]:
    return list(value.items()) if isinstance(value, dict) else []


# --- reading entity JSON (any JSON at all: wrong types are skipped, never fatal) ---------------
# Text that is not printable (control characters, escapes, lone surrogates, bidi controls) is
# left out here, so it never reaches links.yaml or a terminal; the client notes each refusal.

def entity_labels(entity: Mapping[str, Any]) -> dict[str, str]:
    """language -> label."""
    return {lang: text for lang, item in _items(entity.get("labels"))
            if _printable(lang) and (text := _term(item))}


def entity_aliases(entity: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(language, alias) pairs."""
    return [(lang, text) for lang, items in _items(entity.get("aliases")) if _printable(lang)
            for item in (items if isinstance(items, list) else []) if (text := _term(item))]


def entity_description(entity: Mapping[str, Any], language: str = "en") -> str:
    descriptions = entity.get("descriptions")
    return _term(descriptions.get(language)) if isinstance(descriptions, dict) else ""


def _term(item: Any) -> str:
    value = item.get("value") if isinstance(item, dict) else None
    return value if isinstance(value, str) and _printable(value) else ""


def claim_values(entity: Mapping[str, Any], prop: str) -> list[Any]:
    """Main-snak values of `prop`, skipping deprecated statements and no/some-value snaks.
    Item values come back as QIDs, times as their `time` string, strings as themselves."""
    return [v for v in _claim_values(entity, prop) if _printable(v)]


def _claim_values(entity: Mapping[str, Any], prop: str) -> list[str]:
    claims = entity.get("claims")
    statements = claims.get(prop) if isinstance(claims, dict) else None
    out = []
    for statement in statements if isinstance(statements, list) else []:
        if not isinstance(statement, dict) or statement.get("rank") == "deprecated":
            continue
        snak = statement.get("mainsnak")
        if not isinstance(snak, dict) or snak.get("snaktype", "value") != "value":
            continue
        datavalue = snak.get("datavalue")
        value = datavalue.get("value") if isinstance(datavalue, dict) else None
        if isinstance(value, dict):
            numeric = value.get("numeric-id")
            if isinstance(value.get("id"), str):
                value = value["id"]
            elif type(numeric) is int and 0 < numeric < 10**12:
                value = f"Q{numeric}"
            else:
                value = value.get("time")
        if isinstance(value, str):
            out.append(value)
    return out
