"""The Wikidata API client: politeness, retries, timeouts and the on-disk cache.

All network traffic goes to a fake API on 127.0.0.1 (tests/wikidata_server.py); the clock is
injected, so backoff is checked without sleeping.
"""

from __future__ import annotations

import copy
import email.utils
import hashlib
import json
import os
import time
from datetime import timedelta

import pytest
from wikidata_server import (
    MALFORMED,
    FakeClock,
    body,
    deeply_nested,
    drip,
    fake_gzip,
    maxlag,
    raw,
    redirect,
    redirect_loop,
    running,
    slow,
    status,
    truncated,
)

from pipeline.errors import EnvironmentProblem
from pipeline.http import http_request, watched_session
from pipeline.link.cache import ResponseCache
from pipeline.link.client import (
    MAXLAG,
    OfflineMiss,
    RetryPolicy,
    WikidataClient,
    WikidataUnavailable,
    claim_values,
    entity_aliases,
    entity_description,
    entity_labels,
    user_agent,
)

UA = "healthcoop-linker-test/0.1 (https://example.org/healthcoop-tests) python-requests"


@pytest.fixture
def wikidata_server():
    """A fake Wikidata API on 127.0.0.1 for this test (started and stopped around it)."""
    with running() as server:
        yield server


def make_client(server, tmp_path, **kwargs) -> WikidataClient:
    kwargs.setdefault("clock", FakeClock())
    kwargs.setdefault("timeout", (2.0, 5.0))
    return WikidataClient(endpoint=server.url, user_agent=UA,
                          cache=ResponseCache(tmp_path / "cache"), **kwargs)


# --- politeness ---------------------------------------------------------------------------------

def test_user_agent_and_maxlag_on_every_request(wikidata_server, tmp_path):
    """Wikidata blocks anonymous bots and asks for maxlag: every request, retries included,
    must carry our User-Agent and maxlag=5."""
    client = make_client(wikidata_server, tmp_path)
    wikidata_server.script(status(429, Retry_After="1"))
    client.search("Northbridge University")
    client.get_entities(["Q900001", "Q900002"])
    assert len(wikidata_server.requests) == 3
    for request in wikidata_server.requests:
        assert request.headers["User-Agent"] == UA
        assert request.params["maxlag"] == str(MAXLAG) == "5"


def test_default_user_agent_names_tool_and_contact():
    """The default User-Agent follows Wikidata's policy: tool/version (contact) library."""
    ua = user_agent("https://example.org/contact")
    assert ua.startswith("healthcoop-linker/")
    assert "(https://example.org/contact;" in ua
    assert "python-requests/" in ua


@pytest.mark.parametrize("bad", ["", "mybot/1.0", "bot/1.0 (https://x.org)\r\nX-Evil: 1"])
def test_user_agent_without_contact_is_refused(bad):
    """A User-Agent without a contact (or with a header-injecting line break) is refused
    before any request is made."""
    with pytest.raises(EnvironmentProblem):
        WikidataClient(endpoint="http://127.0.0.1:9/w/api.php", user_agent=bad)


def test_endpoint_must_be_http():
    """The endpoint is configurable, but it must be an http(s) URL."""
    with pytest.raises(EnvironmentProblem, match="not an http"):
        WikidataClient(endpoint="file:///etc/passwd", user_agent=UA)


# --- retries and backoff ------------------------------------------------------------------------

def test_retry_after_seconds_on_429_is_honoured(wikidata_server, tmp_path):
    """On 429 the server's Retry-After (seconds) is the wait, not our own backoff."""
    client = make_client(wikidata_server, tmp_path)
    wikidata_server.script(status(429, Retry_After="7"))
    result = client.search("Northbridge University")
    assert client.clock.sleeps == [7.0]
    assert [h.id for h in result.hits][:1] == ["Q900001"]


def test_retry_after_http_date_on_503_is_honoured(wikidata_server, tmp_path):
    """Retry-After may be an HTTP date; we wait until then (measured on the injected clock)."""
    clock = FakeClock()
    when = email.utils.format_datetime(clock.now() + timedelta(seconds=30), usegmt=True)
    client = make_client(wikidata_server, tmp_path, clock=clock)
    wikidata_server.script(status(503, Retry_After=when))
    client.search("Northbridge University")
    assert clock.sleeps == [30.0]


@pytest.mark.parametrize("header,expected", [("11", 11.0), (None, float(MAXLAG))])
def test_maxlag_error_waits_and_retries(wikidata_server, tmp_path, header, expected):
    """The maxlag error comes with HTTP 200: it must be recognised in the body, waited out
    (Retry-After, else at least maxlag seconds) and retried, and never cached."""
    client = make_client(wikidata_server, tmp_path)
    wikidata_server.script(maxlag(header))
    result = client.get_entities(["Q900001"])
    assert client.clock.sleeps == [expected]
    assert result["Q900001"].status == "found"
    offline = make_client(wikidata_server, tmp_path, offline=True)
    assert offline.get_entities(["Q900001"])["Q900001"].status == "found"  # good answer cached


def test_backoff_schedule_then_a_clear_error(wikidata_server, tmp_path):
    """HTTP 500s: 2, 4, 8, 16, 32 s between six attempts, then an error that says what
    failed and what to do."""
    client = make_client(wikidata_server, tmp_path)
    wikidata_server.script(*[status(500)] * 6)
    with pytest.raises(WikidataUnavailable) as err:
        client.search("Northbridge University")
    assert client.clock.sleeps == [2.0, 4.0, 8.0, 16.0, 32.0]
    assert len(wikidata_server.requests) == 6
    assert "after 6 attempts" in err.value.message and "HTTP 500" in err.value.message
    assert "--offline" in err.value.fix


def test_backoff_is_bounded(wikidata_server, tmp_path):
    """Exponential backoff stops growing at backoff_max."""
    client = make_client(wikidata_server, tmp_path,
                         retry=RetryPolicy(max_retries=8, backoff_base=2, backoff_max=60))
    wikidata_server.script(*[status(502)] * 8)
    client.search("Northbridge University")
    assert client.clock.sleeps == [2, 4, 8, 16, 32, 60, 60, 60]


def test_retry_after_longer_than_we_wait_gives_up_at_once(wikidata_server, tmp_path):
    """A server asking for an hour's pause is obeyed by stopping, not by retrying sooner."""
    client = make_client(wikidata_server, tmp_path)
    wikidata_server.script(status(503, Retry_After="3600"))
    with pytest.raises(WikidataUnavailable, match="wait 3600 s"):
        client.search("Northbridge University")
    assert client.clock.sleeps == []
    assert len(wikidata_server.requests) == 1


def test_malformed_json_is_retried_and_never_cached(wikidata_server, tmp_path):
    """A truncated body is a transient failure: retried, and the cache gets the good one."""
    client = make_client(wikidata_server, tmp_path)
    wikidata_server.script(MALFORMED)
    result = client.get_entities(["Q900001"])
    assert client.clock.sleeps == [2.0]
    assert result["Q900001"].revision == 3000001
    cached = client.cache.get({"endpoint": client.endpoint, "params": {
        "action": "wbgetentities", "ids": "Q900001", "props": "info|labels|aliases|descriptions|"
        "sitelinks|claims", "languages": "en|zh|zh-hans|zh-hant|zh-cn|zh-hk|zh-tw|ja|ko",
        "redirects": "yes", "format": "json"}})
    assert cached is not None and "Q900001" in cached.data["entities"]


def test_malformed_json_every_time_fails_clearly(wikidata_server, tmp_path):
    """When every answer is broken the error says so instead of crashing on a parse error."""
    client = make_client(wikidata_server, tmp_path, retry=RetryPolicy(max_retries=2))
    wikidata_server.script(MALFORMED, MALFORMED, MALFORMED)
    with pytest.raises(WikidataUnavailable, match="not a JSON object"):
        client.search("Northbridge University")


def test_slow_response_past_the_timeout(wikidata_server, tmp_path):
    """An answer slower than the read timeout counts as a failure, is retried, and ends in a
    clear error (the server really stalls; only our backoff is simulated)."""
    client = make_client(wikidata_server, tmp_path, timeout=(2.0, 0.3),
                         retry=RetryPolicy(max_retries=1))
    wikidata_server.script(slow(5), slow(5))
    with pytest.raises(WikidataUnavailable, match="timeout"):
        client.search("Northbridge University")
    assert client.clock.sleeps == [2.0]


def test_api_errors_other_than_maxlag_are_not_retried(wikidata_server, tmp_path):
    """An error such as `badvalue` cannot go away by retrying: fail at once."""
    client = make_client(wikidata_server, tmp_path)
    with pytest.raises(WikidataUnavailable, match="badvalue"):
        client.call({"action": "nonsense", "format": "json"})
    assert client.clock.sleeps == [] and len(wikidata_server.requests) == 1


def test_http_403_is_not_retried(wikidata_server, tmp_path):
    """403 is Wikidata refusing us (usually the User-Agent): retrying would be rude."""
    client = make_client(wikidata_server, tmp_path)
    wikidata_server.script(status(403))
    with pytest.raises(WikidataUnavailable) as err:
        client.search("Northbridge University")
    assert "User-Agent" in err.value.fix and len(wikidata_server.requests) == 1


def test_requests_are_serialised(wikidata_server, tmp_path):
    """One request at a time: concurrent callers queue on the client's lock."""
    import threading

    client = make_client(wikidata_server, tmp_path)
    active = {"now": 0, "max": 0}
    real_get = client.session.get

    def counting_get(*args, **kwargs):
        active["now"] += 1
        active["max"] = max(active["max"], active["now"])
        try:
            return real_get(*args, **kwargs)
        finally:
            active["now"] -= 1

    client.session.get = counting_get
    threads = [threading.Thread(target=client.search, args=(name,))
               for name in ("John Carter", "Amber Sterling", "Orla Quinn", "Evil Clinic")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert active["max"] == 1


# --- entities -----------------------------------------------------------------------------------

def test_get_entities_batches_of_at_most_50(wikidata_server, tmp_path):
    """wbgetentities takes at most 50 ids: 120 ids make three requests."""
    client = make_client(wikidata_server, tmp_path)
    ids = [f"Q{900000 + n}" for n in range(1, 121)]
    results = client.get_entities(ids)
    calls = [r for r in wikidata_server.requests if r.params["action"] == "wbgetentities"]
    assert [len(r.params["ids"].split("|")) for r in calls] == [50, 50, 20]
    assert set(results) == set(ids)


def test_found_missing_and_redirected_entities(wikidata_server, tmp_path):
    """A merged item answers under its old id with `redirects`; a deleted one as missing."""
    client = make_client(wikidata_server, tmp_path)
    results = client.get_entities(["Q900001", "Q900060", "Q900070", "not-a-qid"])
    assert set(results) == {"Q900001", "Q900060", "Q900070"}
    assert results["Q900001"].status == "found" and results["Q900001"].revision == 3000001
    assert results["Q900060"].status == "redirect" and results["Q900060"].target == "Q900061"
    assert results["Q900070"].status == "missing"
    assert claim_values(results["Q900001"].entity, "P31") == ["Q900902"]


# --- cache --------------------------------------------------------------------------------------

def _only_cache_file(tmp_path):
    files = [p for p in (tmp_path / "cache").rglob("*") if p.is_file()]
    assert len(files) == 1, files
    return files[0]


def test_cache_hit_makes_no_request_and_is_keyed_by_sha256(wikidata_server, tmp_path):
    """The second identical look-up comes from disk; the file is named by the sha256 of the
    canonical request (maxlag is not part of it), and no temporary file is left behind."""
    client = make_client(wikidata_server, tmp_path)
    first = client.search("Northbridge University")
    second = client.search("Northbridge University")
    assert first == second
    assert len(wikidata_server.requests) == 1
    path = _only_cache_file(tmp_path)
    request = {"endpoint": client.endpoint, "params": {
        "action": "wbsearchentities", "search": "Northbridge University", "language": "en",
        "uselang": "en", "type": "item", "limit": "7", "format": "json"}}
    canonical = json.dumps(request, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert path.name == hashlib.sha256(canonical.encode()).hexdigest() + ".json"


def _poison(path):
    entry = json.loads(path.read_text("utf-8"))
    entry["body"]["search"][0]["id"] = "Q900999"  # checksum no longer matches
    path.write_text(json.dumps(entry), "utf-8")


def _other_request(path):
    entry = json.loads(path.read_text("utf-8"))
    entry["request"]["params"]["search"] = "Something else"
    path.write_text(json.dumps(entry), "utf-8")


@pytest.mark.parametrize("damage", [
    lambda p: p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2]),  # truncated
    lambda p: p.write_bytes(b"\x00\xff garbage"),                        # not text
    lambda p: p.write_text("[]", "utf-8"),                               # valid JSON, no entry
    _poison,                                                             # tampered body
    _other_request,                                                      # wrong request
], ids=["truncated", "garbage", "not-an-entry", "tampered", "other-request"])
def test_corrupt_cache_entry_is_discarded_and_refetched(wikidata_server, tmp_path, damage):
    """A damaged cache entry never crashes the run and never feeds it wrong data: it is
    discarded, the answer is fetched again, and the entry is rewritten whole."""
    client = make_client(wikidata_server, tmp_path)
    client.search("Northbridge University")
    path = _only_cache_file(tmp_path)
    damage(path)
    again = make_client(wikidata_server, tmp_path)
    result = again.search("Northbridge University")
    assert [h.id for h in result.hits] == ["Q900001", "Q900003", "Q900002", "Q900004"]
    assert len(wikidata_server.requests) == 2
    assert again.cache.discarded and "discarded" in again.cache.discarded[0]
    assert json.loads(path.read_text("utf-8"))["body"]["search"][0]["id"] == "Q900001"


def test_offline_uses_only_the_cache(wikidata_server, tmp_path):
    """--offline never touches the network: a cached look-up is answered, a missing or
    damaged one raises OfflineMiss naming the look-up."""
    offline = make_client(wikidata_server, tmp_path, offline=True)
    with pytest.raises(OfflineMiss, match="Northbridge University"):
        offline.search("Northbridge University")
    assert wikidata_server.requests == []
    make_client(wikidata_server, tmp_path).search("Northbridge University")
    assert len(wikidata_server.requests) == 1
    result = offline.search("Northbridge University")
    assert result.hits[0].id == "Q900001"
    _only_cache_file(tmp_path).write_text("{", "utf-8")
    with pytest.raises(OfflineMiss):
        offline.search("Northbridge University")
    assert len(wikidata_server.requests) == 1


def test_stale_cache_is_refetched_online_and_refresh_bypasses_it(wikidata_server, tmp_path):
    """Online, entries older than max_age are fetched again, and refresh=True (used for the
    redirect check) always asks Wikidata."""
    clock = FakeClock()
    client = make_client(wikidata_server, tmp_path, clock=clock, max_age=timedelta(days=30))
    client.get_entities(["Q900001"])
    client.get_entities(["Q900001"])
    assert len(wikidata_server.requests) == 1
    client.get_entities(["Q900001"], refresh=True)
    assert len(wikidata_server.requests) == 2
    clock.current += timedelta(days=31)
    client.get_entities(["Q900001"])
    assert len(wikidata_server.requests) == 3


def test_wrong_shape_cache_entry_is_discarded_and_refetched(wikidata_server, tmp_path):
    """An entry that verifies (checksum and all) but whose answer has the wrong shape, e.g.
    `search` an object where a list belongs (written by an older or buggy version), is
    discarded and fetched again instead of crashing the look-up."""
    client = make_client(wikidata_server, tmp_path)
    client.search("Northbridge University")
    path = _only_cache_file(tmp_path)
    entry = json.loads(path.read_text("utf-8"))
    entry["body"] = {"search": {"id": "Q900001"}}
    entry["body_sha256"] = ResponseCache._body_hash(entry["body"])
    path.write_text(json.dumps(entry), "utf-8")
    again = make_client(wikidata_server, tmp_path)
    assert again.search("Northbridge University").hits[0].id == "Q900001"
    assert len(wikidata_server.requests) == 2
    assert "malformed answer" in again.cache.discarded[0]


@pytest.mark.parametrize("kind", ["fifo", "directory"])
def test_cache_entry_that_is_not_a_file_does_not_hang(wikidata_server, tmp_path, kind):
    """A FIFO where a cache entry belongs would block a plain read forever; a directory
    there would make the atomic rewrite fail. Both are passed over and the answer fetched."""
    client = make_client(wikidata_server, tmp_path)
    client.search("Northbridge University")
    path = _only_cache_file(tmp_path)
    path.unlink()
    os.mkfifo(path) if kind == "fifo" else path.mkdir()
    again = make_client(wikidata_server, tmp_path)
    assert again.search("Northbridge University").hits[0].id == "Q900001"
    assert len(wikidata_server.requests) == 2 and again.cache.discarded


def test_cache_directory_that_is_a_regular_file(wikidata_server, tmp_path):
    """--cache-dir naming a regular file: look-ups still work (uncached), and the problem
    is noted for the run summary instead of ending the run with a traceback."""
    (tmp_path / "cache").write_text("not a directory")
    client = make_client(wikidata_server, tmp_path)
    assert client.search("Northbridge University").hits[0].id == "Q900001"
    assert client.search("Northbridge University").hits[0].id == "Q900001"
    assert len(wikidata_server.requests) == 2
    assert any("cannot be written" in note for note in client.cache.discarded)


# --- hostile servers ----------------------------------------------------------------------------

SEARCH_SHAPES = {
    "list-at-top": [],
    "number-at-top": 7,
    "search-is-object": {"search": {"id": "Q900001"}},
    "search-is-number": {"search": 5},
    "search-missing": {"success": 1},
}
ENTITY_SHAPES = {
    "entities-is-list": {"entities": []},
    "entities-missing": {"success": 1},
    "entity-is-list": {"entities": {"Q900001": ["labels"]}},
    "entity-is-string": {"entities": {"Q900001": "Q900001"}},
    "id-is-number": {"entities": {"Q900001": {"id": 900001}}},
    "id-not-a-qid": {"entities": {"Q900001": {"id": "Q900001\n"}}},
    "redirect-is-string": {"entities": {"Q900001": {"id": "Q900002", "redirects": "Q900002"}}},
    "redirect-to-garbage": {"entities": {"Q900001": {"redirects": {"to": "\x1b[2J"}}}},
}


@pytest.mark.parametrize("answer", SEARCH_SHAPES.values(), ids=SEARCH_SHAPES.keys())
def test_malformed_search_answers_fail_cleanly(wikidata_server, tmp_path, answer):
    """A search answer of the wrong shape is a failed attempt: retried, then
    WikidataUnavailable saying so; never a TypeError, and never cached."""
    client = make_client(wikidata_server, tmp_path, retry=RetryPolicy(max_retries=1))
    wikidata_server.script(body(answer), body(answer))
    with pytest.raises(WikidataUnavailable, match="not a JSON object|malformed"):
        client.search("Northbridge University")
    assert not [p for p in (tmp_path / "cache").rglob("*") if p.is_file()]


@pytest.mark.parametrize("answer", ENTITY_SHAPES.values(), ids=ENTITY_SHAPES.keys())
def test_malformed_entity_answers_fail_cleanly(wikidata_server, tmp_path, answer):
    """wbgetentities answers with a list where an object belongs, a number where a string
    belongs, a missing `entities`, or an id or redirect that is no QID: failed attempts,
    then a clear error; nothing of it reaches the linker or the cache."""
    client = make_client(wikidata_server, tmp_path, retry=RetryPolicy(max_retries=1))
    wikidata_server.script(body(answer), body(answer))
    with pytest.raises(WikidataUnavailable, match="malformed"):
        client.get_entities(["Q900001"])
    assert not [p for p in (tmp_path / "cache").rglob("*") if p.is_file()]


def test_wrong_types_inside_an_entity_are_skipped(wikidata_server, tmp_path):
    """Inside an otherwise sound entity, wrong-typed parts (labels a list, aliases a number,
    a description a bare string, claims not lists, sitelinks a number, lastrevid a string)
    are read as absent, by the client and by every reader the linker uses."""
    hostile = {"id": "Q900001", "labels": [], "aliases": {"en": 5, "zh": [3, {"value": 4}]},
               "descriptions": {"en": "bare"}, "claims": {"P31": {"x": 1}, "P17": [
                   {"mainsnak": "Q1"}, {"mainsnak": {"datavalue": {"value": {"numeric-id":
                                                                              True}}}}]},
               "sitelinks": 4, "lastrevid": "3000001"}
    client = make_client(wikidata_server, tmp_path)
    wikidata_server.script(body({"entities": {"Q900001": hostile}}))
    result = client.get_entities(["Q900001"])["Q900001"]
    assert result.status == "found" and result.revision is None
    entity = result.entity
    assert entity_labels(entity) == {} and entity_aliases(entity) == []
    assert entity_description(entity) == ""
    assert claim_values(entity, "P31") == [] and claim_values(entity, "P17") == []
    assert entity["sitelinks"] == {}
    for reader in (entity_labels, entity_aliases, entity_description):
        for junk in ({"labels": 1, "aliases": [1], "descriptions": []}, {}):
            reader(junk)
    assert claim_values({"claims": []}, "P31") == []


def test_json_nested_200k_deep_is_a_failed_attempt(wikidata_server, tmp_path):
    """json.loads raises RecursionError on 200,000 nested brackets: caught as a malformed
    answer and retried; the good answer that follows is used."""
    client = make_client(wikidata_server, tmp_path)
    wikidata_server.script(deeply_nested(200_000))
    assert client.search("Northbridge University").hits[0].id == "Q900001"
    assert client.clock.sleeps == [2.0]
    wikidata_server.script(*[deeply_nested(200_000)] * 2)
    with pytest.raises(WikidataUnavailable, match="nested too deeply"):
        make_client(wikidata_server, tmp_path, retry=RetryPolicy(max_retries=1)).search("x")


@pytest.mark.parametrize("broken", [fake_gzip(), truncated(), raw(b"HTTP/1.1 abc\r\n\r\n"),
                                    raw(b"\x00\xff garbage"), body(b"\xff\xfe not utf-8")],
                         ids=["fake-gzip", "truncated", "bad-status-line", "not-http",
                              "not-utf8"])
def test_broken_transfers_are_failed_attempts(wikidata_server, tmp_path, broken):
    """A body that claims gzip but is not, one shorter than its Content-Length, a garbled
    status line, bytes that are not HTTP at all, a body that is not UTF-8: each is a
    failed attempt (retried), never an exception from requests or urllib3."""
    client = make_client(wikidata_server, tmp_path)
    wikidata_server.script(broken)
    assert client.search("Northbridge University").hits[0].id == "Q900001"
    assert client.clock.sleeps == [2.0]


def test_redirect_loop_stops_at_once(wikidata_server, tmp_path):
    """A server redirecting in a loop: requests gives up after 30 hops and we say so at
    once (retrying a loop is pointless), naming --endpoint."""
    client = make_client(wikidata_server, tmp_path)
    wikidata_server.script(redirect_loop())
    with pytest.raises(WikidataUnavailable, match="loop") as err:
        client.search("Northbridge University")
    assert "--endpoint" in err.value.fix and client.clock.sleeps == []


@pytest.mark.parametrize("location", ["ftp://example.org/x", "file:///etc/passwd",
                                      "http://[::1/x", "http://exa mple.org:99999/"])
def test_redirect_to_an_unusable_url_fails_cleanly(wikidata_server, tmp_path, location):
    """A redirect to another scheme, or to a URL whose host or port cannot be read, ends in
    WikidataUnavailable, not in requests' or urllib3's exceptions. (A Location without a
    host, such as "http://", is resolved against the current URL, as browsers do.)"""
    client = make_client(wikidata_server, tmp_path, retry=RetryPolicy(max_retries=1))
    wikidata_server.script(redirect(location), redirect(location))
    with pytest.raises(WikidataUnavailable):
        client.search("Northbridge University")


@pytest.mark.parametrize("endpoint", ["http://", "http:///w/api.php", "https://:80/w/api.php",
                                      "ftp://example.org/w/api.php", "javascript:alert(1)",
                                      "http://exa mple.org/", "http://example.org:99999/",
                                      "http://[::1/w/api.php", "", "http://\x1b[31mx/"])
def test_endpoint_without_host_or_with_bad_scheme_is_refused(endpoint):
    """The endpoint must be an http(s) URL naming a host (and a port that is a number);
    anything else is refused before a request, and the message shows escapes, not raw
    control characters."""
    with pytest.raises(EnvironmentProblem) as err:
        WikidataClient(endpoint=endpoint, user_agent=UA)
    assert "\x1b" not in err.value.message


def test_drip_one_byte_per_second_is_cut_at_the_total_deadline(wikidata_server, tmp_path):
    """The server sends a byte a second: each read succeeds, so requests' per-read timeout
    never fires; our total deadline (2 s) must end the request anyway. Without it this
    answer would take a minute."""
    client = make_client(wikidata_server, tmp_path, timeout=2.0,
                         retry=RetryPolicy(max_retries=0))
    wikidata_server.script(drip(b'{"search": []}' + b" " * 60, interval=1.0))
    start = time.monotonic()
    with pytest.raises(WikidataUnavailable, match="within 2 s"):
        client.search("Northbridge University")
    assert time.monotonic() - start < 4


def test_drip_in_the_headers_is_cut_too(wikidata_server, tmp_path):
    """Dripping the status line and headers (before requests returns a response at all)
    is bounded by the same deadline."""
    client = make_client(wikidata_server, tmp_path, timeout=(2.0, 1.0),
                         retry=RetryPolicy(max_retries=1))
    wikidata_server.script(drip(b"{}", interval=0.2, headers=True),
                           drip(b"{}", interval=0.2, headers=True))
    start = time.monotonic()
    with pytest.raises(WikidataUnavailable, match="timeout"):
        client.search("Northbridge University")
    assert time.monotonic() - start < 4 and client.clock.sleeps == [2.0]


def test_answers_are_read_with_a_size_bound(wikidata_server):
    """http_request stops reading after limit + 1 bytes, whatever the server would send:
    here 10 MB trickling out a byte per write would take far longer than the deadline."""
    wikidata_server.script(drip(b"x" * 10_000_000, interval=0))
    start = time.monotonic()
    answer = http_request(watched_session(), "GET", wikidata_server.url, deadline=5,
                          connect=2, limit=1000)
    assert answer.status == 200 and len(answer.body) == 1001
    assert time.monotonic() - start < 3


def test_false_gzip_is_named_in_the_error(wikidata_server, tmp_path):
    """When every answer claims gzip and is not, the error says so (what to look at),
    rather than a generic transfer failure."""
    client = make_client(wikidata_server, tmp_path, retry=RetryPolicy(max_retries=1))
    wikidata_server.script(fake_gzip(), fake_gzip())
    with pytest.raises(WikidataUnavailable, match="could not be decoded"):
        client.search("Northbridge University")


def test_lone_surrogate_in_a_label_is_refused_and_cacheable(wikidata_server, tmp_path):
    """A "\\ud800" JSON escape decodes to a lone surrogate, which UTF-8 cannot carry: the
    hit is refused with a note, the answer is still cached (written as its escape) and read
    back offline."""
    answer = {"search": [{"id": "Q900001", "label": "North\ud800bridge"},
                         {"id": "Q900002", "label": "Northbridge Hospital"}]}
    client = make_client(wikidata_server, tmp_path)
    wikidata_server.script(body(answer))
    result = client.search("Northbridge University")
    assert [h.id for h in result.hits] == ["Q900002"]
    assert "lone surrogate U+D800" in client.refused[0] and "Q900001" in client.refused[0]
    offline = make_client(wikidata_server, tmp_path, offline=True)
    assert [h.id for h in offline.search("Northbridge University").hits] == ["Q900002"]
    entity = {"id": "Q900001", "labels": {"en": {"language": "en", "value": "\udfff"}}}
    wikidata_server.script(body({"entities": {"Q900001": entity}}))
    result = client.get_entities(["Q900001"])["Q900001"]
    assert entity_labels(result.entity) == {}


def test_control_characters_in_wikidata_text_are_refused(wikidata_server, tmp_path):
    """Labels, aliases, descriptions and claim values holding escape sequences or other
    control characters are refused like record text: the readers leave them out (so they
    never reach links.yaml or a terminal) and each refusal is noted; a search hit carrying
    one is dropped."""
    entity = copy.deepcopy(wikidata_server.entities["Q900001"])
    entity["labels"]["en"]["value"] = "\x1b[31mNorthbridge University\x1b[0m"
    entity["aliases"]["en"][0]["value"] = "NBU\u202e"
    entity["descriptions"]["en"]["value"] = "bell\x07"
    entity["claims"]["P571"][0]["mainsnak"]["datavalue"]["value"]["time"] = "+1850\x1b]0;x\x07"
    wikidata_server.script(body({"entities": {"Q900001": entity}}))
    client = make_client(wikidata_server, tmp_path)
    found = client.get_entities(["Q900001"])["Q900001"].entity
    assert entity_labels(found) == {"zh": "诺斯布里奇大学"}
    assert entity_aliases(found) == [] and entity_description(found) == ""
    assert claim_values(found, "P571") == [] and claim_values(found, "P31") == ["Q900902"]
    notes = "\n".join(client.refused)
    assert "label (en) refused" in notes and "U+001B" in notes and "U+202E" in notes
    assert "description (en)" in notes and "P571" in notes
    assert "\x1b" not in notes
    wikidata_server.script(body({"search": [{"id": "Q900001", "label": "ok",
                                             "match": {"text": "\x9b2J"}}]}))
    assert client.search("Northbridge University").hits == ()
