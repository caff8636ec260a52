"""The Reconciliation Service API 0.2 endpoint of `healthcoop serve` (pipeline/serve/reconcile.py),
against a real server on loopback serving a release of the repository's own data: answers
validated with the specification's JSON Schemas (tests/fixtures/reconciliation/, provenance
in its README) and checked field by field against the specification's prose; names from
data/records/actors.yaml come back first, misspelled too; nonsense never matches; type and
country constraints narrow; hostile input gets a 4xx or inert JSON, never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent))

from tools.conneg import request  # noqa: E402
from tools.site_release import (  # noqa: E402
    MERGED,
    SUCCESSOR,
    WITHDRAWN,
    build_site_release,
    free_port,
    wait_for_port,
)

jsonschema = pytest.importorskip("jsonschema")
referencing = pytest.importorskip("referencing")

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = Path(__file__).resolve().parent / "fixtures" / "reconciliation"
SPEC = "https://reconciliation-api.github.io/specs/0.2/schemas/"
FEATURES = {"name_similarity", "name_ratio", "alias_hit", "exact"}
# two records whose labels differ only by "UK " (whole-string similarity 93 of 100): each
# comes first for its own label, but neither is a sure match (README, "Reconciliation")
NEAR_NAMESAKES = {"Department of Health", "UK Department of Health"}


def validator(name: str):
    """A Draft 7 validator for one of the specification's schemas, `type.json` resolved
    from the local copy (nothing is fetched)."""
    resources = []
    for path in SCHEMAS.glob("*.json"):
        contents = json.loads(path.read_text(encoding="utf-8"))
        resources.append((contents["$id"], referencing.Resource(
            contents, referencing.jsonschema.DRAFT7)))
    registry = referencing.Registry().with_resources(resources)
    schema = json.loads((SCHEMAS / name).read_text(encoding="utf-8"))
    return jsonschema.Draft7Validator(schema, registry=registry)


def schema_errors(name: str, data) -> list[str]:
    return [f"{'/'.join(map(str, e.path))}: {e.message}"
            for e in validator(name).iter_errors(data)]


def start(release: Path):
    port = free_port()
    env = {**os.environ, "HEALTHCOOP_SERVE_QUIET": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "pipeline.cli", "serve", str(release),
                             "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, cwd=ROOT)
    wait_for_port(port, proc)
    return port, proc


def stop(proc) -> None:
    proc.terminate()
    _, err = proc.communicate(timeout=10)
    assert b"Traceback" not in err, err.decode(errors="replace")


@pytest.fixture(scope="module")
def release(tmp_path_factory) -> Path:
    """A release of the repository's data, built into a temporary directory (not the
    repository's output/)."""
    from pipeline.build import build_release

    return build_release(ROOT, tmp_path_factory.mktemp("reconcile") / "output",
                         register=False)


@pytest.fixture(scope="module")
def port(release):
    """`healthcoop serve` on that release."""
    port, proc = start(release)
    try:
        yield port
    finally:
        stop(proc)


def get(port: int, path: str, **params):
    query = ("?" + urlencode(params)) if params else ""
    status, headers, body = request(port, "GET", path + query)
    return status, headers, body


def post(port: int, path: str, fields: dict, headers: dict | None = None):
    import http.client

    body = urlencode(fields).encode()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("POST", path, body=body, headers={
            "Content-Type": "application/x-www-form-urlencoded", **(headers or {})})
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def batch(port: int, queries: dict, method: str = "POST") -> dict:
    text = json.dumps(queries)
    if method == "POST":
        status, headers, body = post(port, "/reconcile", {"queries": text})
    else:
        status, headers, body = get(port, "/reconcile", queries=text)
    assert status == 200, body
    assert headers["content-type"] == "application/json; charset=utf-8"
    assert headers.get("access-control-allow-origin") == "*"
    data = json.loads(body)
    assert schema_errors("reconciliation-result-batch.json", data) == []
    assert set(data) == set(queries)
    return data


def actor_labels() -> dict[str, str]:
    """Label -> record id for every person and organisation of data/records/actors.yaml
    whose label no other record of that file shares."""
    doc = yaml.safe_load((ROOT / "data/records/actors.yaml").read_text(encoding="utf-8"))
    seen: dict[str, list[str]] = {}
    for kind in ("persons", "organisations"):
        for record in doc.get(kind) or []:
            if record.get("deprecated"):
                continue
            seen.setdefault(record["label"], []).append(record["id"])
    return {label: ids[0] for label, ids in seen.items() if len(ids) == 1}


def test_manifest_satisfies_the_schema_and_the_spec(port):
    """GET /reconcile without parameters is the service manifest: valid against the
    manifest schema, versions holds "0.2", identifier and schema spaces are our URIs, the
    view and preview templates hold {{id}} and resolve, the suggest and propose_properties
    URLs are service_url + service_path and answer, defaultTypes are the four kinds; CORS."""
    status, headers, body = get(port, "/reconcile")
    assert status == 200 and headers["content-type"].startswith("application/json")
    assert headers.get("access-control-allow-origin") == "*"
    m = json.loads(body)
    assert schema_errors("manifest.json", m) == []
    assert "0.2" in m["versions"] and m["name"].strip()
    assert m["identifierSpace"] == "https://w3id.org/healthcoop/id/"
    assert m["schemaSpace"] == "https://w3id.org/healthcoop/ontology#"
    assert {t["id"] for t in m["defaultTypes"]} == {"Person", "Organisation", "Agreement",
                                                    "Event"}
    assert all(t["name"] for t in m["defaultTypes"])
    assert isinstance(m["batchSize"], int) and m["batchSize"] >= 10

    def local(url: str) -> str:
        parts = urlsplit(url)
        assert parts.scheme == "http" and parts.port == port, url
        return parts.path + (f"?{parts.query}" if parts.query else "")

    view = m["view"]["url"].replace("{{id}}", quote("matt-hancock", safe=""))
    assert request(port, "GET", local(view))[0] == 303
    pv = m["preview"]
    assert isinstance(pv["width"], int) and isinstance(pv["height"], int)
    status, headers, body = request(port, "GET", local(pv["url"].replace("{{id}}",
                                                                         "matt-hancock")))
    assert status == 200 and headers["content-type"] == "text/html; charset=utf-8"
    assert b"Matt Hancock" in body
    for kind, schema in (("entity", "suggest-entities-response.json"),
                         ("type", "suggest-types-response.json"),
                         ("property", "suggest-properties-response.json")):
        s = m["suggest"][kind]
        status, _, body = request(port, "GET", local(s["service_url"] + s["service_path"])
                                  + "?prefix=a")
        assert status == 200, kind
        assert schema_errors(schema, json.loads(body)) == []
    pp = m["extend"]["propose_properties"]
    status, _, body = request(port, "GET", local(pp["service_url"] + pp["service_path"])
                              + "?type=Person")
    proposal = json.loads(body)
    assert status == 200 and proposal["type"] == "Person"
    assert {p["id"] for p in proposal["properties"]} >= {"country", "type", "wikidata"}


@pytest.mark.parametrize("method", ["POST", "GET"])
def test_actor_labels_come_back_first(port, method):
    """Every unique person and organisation label of data/records/actors.yaml, sent in
    batches of 10 (POST form and GET query string), returns its record first with
    match: true (first without a match for the two NEAR_NAMESAKES); every candidate
    carries the features explaining its score, candidates come
    sorted by decreasing score, and at most one candidate per query is a match."""
    labels = list(actor_labels().items())
    assert len(labels) > 40
    wrong = []
    for start_at in range(0, len(labels), 10):
        chunk = labels[start_at:start_at + 10]
        queries = {f"q{i}": {"query": label} for i, (label, _) in enumerate(chunk)}
        data = batch(port, queries, method)
        for i, (label, ident) in enumerate(chunk):
            result = data[f"q{i}"]["result"]
            assert result, label
            scores = [c["score"] for c in result]
            assert scores == sorted(scores, reverse=True)
            assert sum(c["match"] for c in result) <= 1
            for cand in result:
                assert FEATURES <= {f["id"] for f in cand["features"]}
                assert len({f["id"] for f in cand["features"]}) == len(cand["features"])
                assert cand["type"] and cand["name"]
            if result[0]["id"] != ident or result[0]["match"] != (label not in
                                                                   NEAR_NAMESAKES):
                wrong.append((label, ident, result[0]["id"], result[0]["match"]))
    assert wrong == []


def misspell(label: str) -> str:
    """A deterministic typo: the middle letter of the longest word dropped, and the two
    letters after it swapped."""
    words = label.split()
    k = max(range(len(words)), key=lambda i: len(words[i]))
    w = words[k]
    mid = len(w) // 2
    w = w[:mid] + w[mid + 1:]
    if len(w) > mid + 1:
        w = w[:mid] + w[mid + 1] + w[mid] + w[mid + 2:]
    words[k] = w
    return " ".join(words)


def test_misspelled_names_still_find_their_entity(port):
    """Labels of 8 or more letters with a typo (a letter dropped, two swapped) still bring
    their record first for at least 90% of them, and a few known misspellings do too."""
    labels = [(misspell(label), ident) for label, ident in actor_labels().items()
              if len(label.replace(" ", "")) >= 8]
    hand = [("Mat Hancok", "matt-hancock"), ("Anne Blackwod", "anne-blackwood"),
            ("China Britian Business Council", "china-britain-business-council")]
    found, missed = 0, []
    for start_at in range(0, len(labels), 10):
        chunk = labels[start_at:start_at + 10]
        data = batch(port, {f"q{i}": {"query": q} for i, (q, _) in enumerate(chunk)})
        for i, (q, ident) in enumerate(chunk):
            result = data[f"q{i}"]["result"]
            if result and result[0]["id"] == ident:
                found += 1
            else:
                missed.append((q, ident, result[0]["id"] if result else None))
    assert found >= 0.9 * len(labels), missed
    data = batch(port, {f"h{i}": {"query": q} for i, (q, _) in enumerate(hand)})
    assert [data[f"h{i}"]["result"][0]["id"] for i in range(len(hand))] == \
        [ident for _, ident in hand]


def test_nonsense_and_ambiguity_never_match(port):
    """Nonsense gives no match: true (mostly no candidate at all); a name two entities
    nearly share ("Department of Health": Hong Kong's, and the UK's), a bare common word
    and a surname held by a person and several events are ambiguous: no match either."""
    nonsense = ["xqzvbl orptk", "zzzz", "Qwxyzzy Frobnitz", "1234567890", "🙂🙂🙂",
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "Department of Health",
                "Health", "Hancock"]
    data = batch(port, {f"n{i}": {"query": q} for i, q in enumerate(nonsense)})
    matched = [(q, c["id"]) for i, q in enumerate(nonsense)
               for c in data[f"n{i}"]["result"] if c["match"]]
    assert matched == []
    assert data["n0"]["result"] == [] and data["n1"]["result"] == []


def test_type_constraint_narrows(port):
    """`type` is a hard constraint: with Event, Matt Hancock the person is not a candidate
    and every candidate is an Event (type_match feature true); with Person he comes first."""
    data = batch(port, {"e": {"query": "Matt Hancock", "type": "Event"},
                        "p": {"query": "Matt Hancock", "type": ["Person"]},
                        "any": {"query": "Matt Hancock"}})
    events = data["e"]["result"]
    assert events and "matt-hancock" not in {c["id"] for c in events}
    for cand in events:
        assert "Event" in {t["id"] for t in cand["type"]}
        assert {"id": "type_match", "value": True} in cand["features"]
    assert data["p"]["result"][0]["id"] == "matt-hancock"
    assert all("Person" in {t["id"] for t in c["type"]} for c in data["p"]["result"])
    assert len(data["any"]["result"]) > len(data["p"]["result"])


def test_country_constraint_narrows(port):
    """`properties` with pid country (by id, by IRI or by the country's name) keeps only
    entities of that country: "Department of Health" becomes unambiguous for the UK one."""
    base = {"query": "Department of Health"}
    data = batch(port, {
        "all": base,
        "uk": {**base, "properties": [{"pid": "country", "v": "united-kingdom"}]},
        "iri": {**base, "properties": [{"pid": "country", "v": {
            "id": "https://w3id.org/healthcoop/id/united-kingdom"}}]},
        "name": {**base, "properties": [{"pid": "country", "v": "United Kingdom"}]},
    })
    ids_all = {c["id"] for c in data["all"]["result"]}
    assert {"uk-department-of-health", "department-of-health-hong-kong"} <= ids_all
    for key in ("uk", "iri", "name"):
        result = data[key]["result"]
        assert result[0]["id"] == "uk-department-of-health", key
        assert "department-of-health-hong-kong" not in {c["id"] for c in result}
        assert {"id": "country_match", "value": True} in result[0]["features"]
    status, _, body = post(port, "/reconcile", {"extend": json.dumps({
        "ids": [c["id"] for c in data["uk"]["result"]], "properties": [{"id": "country"}]})})
    rows = json.loads(body)["rows"]
    assert all({"id": "united-kingdom", "name": "United Kingdom"} in row["country"]
               for row in rows.values())


def test_data_extension(port):
    """`extend` (POST form and GET) answers country, type, Wikidata QID and alternative
    labels per id, valid against the data extension response schema; an unknown id gets
    empty values, an unknown property a 400."""
    query = {"ids": ["matt-hancock", "barts-nhs-trust", "no-such-entity"],
             "properties": [{"id": "country"}, {"id": "type"}, {"id": "wikidata"},
                            {"id": "alt_label"}]}
    for status, headers, body in (post(port, "/reconcile", {"extend": json.dumps(query)}),
                                  get(port, "/reconcile", extend=json.dumps(query))):
        assert status == 200 and headers.get("access-control-allow-origin") == "*"
        data = json.loads(body)
        assert schema_errors("data-extension-response.json", data) == []
        assert [m["id"] for m in data["meta"]] == ["country", "type", "wikidata",
                                                   "alt_label"]
        rows = data["rows"]
        assert rows["matt-hancock"]["country"] == [{"id": "united-kingdom",
                                                    "name": "United Kingdom"}]
        assert {"str": "Person"} in rows["matt-hancock"]["type"]
        assert rows["barts-nhs-trust"]["wikidata"] == [{"str": "Q4865798"}]
        assert {"str": "Barts"} in rows["barts-nhs-trust"]["alt_label"]
        assert all(v == [] for v in rows["no-such-entity"].values())
    status, _, body = post(port, "/reconcile", {"extend": json.dumps(
        {"ids": ["matt-hancock"], "properties": [{"id": "P17"}]})})
    assert status == 400 and "error" in json.loads(body)


def test_suggest_finds_by_prefix(port):
    """Suggest: a name's prefix finds the entity (with notable types), an id finds itself,
    `cursor` pages on; types and properties by prefix."""
    _, _, body = get(port, "/reconcile/suggest/entity", prefix="Matt Han")
    result = json.loads(body)["result"]
    assert result[0]["id"] == "matt-hancock"
    assert {"id": "Person", "name": "Person"} in result[0]["notable"]
    _, _, body = get(port, "/reconcile/suggest/entity", prefix="barts-nhs-trust")
    assert "barts-nhs-trust" in [r["id"] for r in json.loads(body)["result"]]
    _, _, first = get(port, "/reconcile/suggest/entity", prefix="")
    _, _, second = get(port, "/reconcile/suggest/entity", prefix="", cursor="10")
    first, second = json.loads(first)["result"], json.loads(second)["result"]
    assert len(first) == 10 and not {r["id"] for r in first} & {r["id"] for r in second}
    _, _, body = get(port, "/reconcile/suggest/type", prefix="pers")
    assert json.loads(body)["result"][0]["id"] == "Person"
    _, _, body = get(port, "/reconcile/suggest/property", prefix="coun")
    assert [r["id"] for r in json.loads(body)["result"]] == ["country"]


def test_preview_is_escaped_html(port):
    """The preview is a small HTML page that a strict HTML parser accepts; every value in
    it is escaped (a hostile label renders as text); an unknown id is a 404."""
    import html5lib

    from pipeline.serve.reconcile import Entity, Service, preview

    status, headers, body = get(port, "/reconcile/preview", id="barts-nhs-trust")
    assert status == 200 and headers.get("access-control-allow-origin") == "*"
    html5lib.HTMLParser(strict=True).parse(body.decode("utf-8"))
    assert b"Q4865798" in body and b"Barts" in body
    assert get(port, "/reconcile/preview", id="no-such-entity")[0] == 404
    assert get(port, "/reconcile/preview", id="<script>")[0] == 404
    evil = "</script><script>alert(1)</script> \"q\" {{ x }}"
    service = Service({"evil": Entity("evil", evil, alt=[evil], types=["Person"])},
                      {"Person": "Person"})
    page = preview(service, "evil", "http://h").body.decode()
    assert "<script>" not in page and "&lt;/script&gt;&lt;script&gt;" in page


def test_hostile_input_gets_4xx_or_inert_json(port):
    """Invalid JSON, wrong shapes, too many or too long queries, huge bodies, a non-UTF-8
    body, chunked or non-form POSTs: 4xx (JSON error bodies where the service answers);
    `</script>` in a query comes back with `<` escaped; a JSONP `callback` (with `;`) is
    ignored: the answer stays plain JSON; the server never shows a traceback (the fixture
    checks its stderr at the end)."""
    import http.client

    for bad in ["{bad", "[]", '"x"', '{"q": 5}', '{"q": {"query": 5}}', '{"q": {}}',
                '{"q": {"query": "a", "limit": -1}}', '{"q": {"query": "a", "type": 5}}',
                '{"q": {"query": "a", "properties": [{"pid": "country", "v": [[1]]}]}}',
                '{"q": {"query": "a", "properties": [{"pid": "nope", "v": "x"}]}}',
                "[" * 100_000, '{"q": {"query": "' + "a" * 5000 + '"}}']:
        for status, _headers, body in (post(port, "/reconcile", {"queries": bad}),
                                       get(port, "/reconcile", queries=bad)):
            assert 400 <= status < 500, (bad[:40], status)
            if status not in (414,):
                assert "error" in json.loads(body)
    many = {f"q{i}": {"query": "x"} for i in range(51)}
    assert post(port, "/reconcile", {"queries": json.dumps(many)})[0] == 413
    assert post(port, "/reconcile", {"queries": "a" * 2_000_000})[0] == 413
    evil = "</script><script>alert(1)</script>"
    status, headers, body = get(port, "/reconcile", queries=json.dumps(
        {evil: {"query": evil + " Matt Hancock"}}), callback="alert(document.domain);x")
    assert status == 200 and headers["content-type"] == "application/json; charset=utf-8"
    assert body.startswith(b"{") and b"<" not in body and b"alert(document" not in body
    assert json.loads(body)[evil]["result"][0]["id"] == "matt-hancock"  # keys come back
    assert schema_errors("reconciliation-result-batch.json", json.loads(body)) == []
    status, _, body = post(port, "/reconcile", {"queries": json.dumps({evil: 5})})
    assert status == 400 and b"<" not in body and evil in json.loads(body)["error"]
    assert request(port, "GET", "/reconcile?queries=%00%ff")[0] == 400
    assert request(port, "GET", "/reconcile/%00")[0] == 400
    assert request(port, "GET", "/reconcile/nothing-here")[0] == 404
    assert request(port, "GET", "/reconcile?" + "a=1&" * 30)[0] == 400
    assert request(port, "GET", "/reconcile?queries=" + "a" * 20_000)[0] == 414
    assert post(port, "/reconcile", {"q": "1"}, {"Content-Type": "text/plain"})[0] == 415
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("POST", "/reconcile", body=b"queries=%ff%fe", headers={
            "Content-Type": "application/x-www-form-urlencoded"})
        assert conn.getresponse().status == 400
    finally:
        conn.close()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("POST", "/reconcile", body=iter([b"queries=x"]),
                     headers={"Content-Type": "application/x-www-form-urlencoded"},
                     encode_chunked=True)
        assert conn.getresponse().status == 411
    finally:
        conn.close()
    assert get(port, "/reconcile/suggest/entity", prefix="a", cursor="-1")[0] == 400
    # the rest of the site still refuses POST
    assert post(port, "/id/matt-hancock", {"queries": "{}"})[0] == 405


def test_a_refused_body_still_being_sent_does_not_lose_the_answer(port):
    """The server answers a chunked POST (411) without reading its body; the client is
    still sending it. Closed at once, the server's socket reset the connection and the
    client's next send or read failed (119 of 1,500 such requests under load in one run,
    and once in CI); read and dropped for a moment (RFC 9112, 9.6), the answer arrives."""
    import socket
    import time

    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"POST /reconcile HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     b"Content-Type: application/x-www-form-urlencoded\r\n"
                     b"Transfer-Encoding: chunked\r\n\r\n")
        time.sleep(0.3)  # the server has answered and would have closed by now
        sock.sendall(b"9\r\nqueries=x\r\n")
        time.sleep(0.1)
        sock.sendall(b"0\r\n\r\n")
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 411 ")


def test_cors_preflight(port):
    """OPTIONS on /reconcile answers a CORS preflight (the specification makes CORS
    mandatory); OPTIONS elsewhere is still 405."""
    status, headers, _ = request(port, "OPTIONS", "/reconcile", {
        "Origin": "http://example.org", "Access-Control-Request-Method": "POST"})
    assert status == 204 and headers.get("access-control-allow-origin") == "*"
    assert "POST" in headers.get("access-control-allow-methods", "")
    assert request(port, "OPTIONS", "/index.html")[0] == 405


def kept_entities(service, processed: str) -> set[str]:
    """Blocking as pipeline/serve/scoring.py defines it, pair by pair: the entities with a
    name within WHOLE_GUARD of the whole query, or with a name token within TOKEN_MATCH of
    a token of the query, where that name token is not frequent (in more than
    FREQUENT_SHARE and FREQUENT_MIN of the entities), or is a token of a name made of
    frequent tokens alone, or the query's tokens are all frequent. Frequent tokens are
    counted here from the names, not taken from the service."""
    from rapidfuzz import fuzz

    from pipeline.serve.scoring import FREQUENT_MIN, FREQUENT_SHARE, TOKEN_MATCH, WHOLE_GUARD

    holders: dict[str, set[str]] = {}
    for name, (ident, _alias) in zip(service.names, service.owners, strict=True):
        for token in name.split():
            holders.setdefault(token, set()).add(ident)
    most = max(FREQUENT_MIN, FREQUENT_SHARE * len(service.entities))
    frequent = {t for t, who in holders.items() if len(who) > most}
    words = processed.split()
    only_frequent = all(w in frequent for w in words)
    bare = {(ident, t) for name, (ident, _) in zip(service.names, service.owners, strict=True)
            if name.split() and all(t in frequent for t in name.split()) for t in name.split()}
    kept = set()
    for name, (ident, _alias) in zip(service.names, service.owners, strict=True):
        if fuzz.ratio(processed, name) >= WHOLE_GUARD:
            kept.add(ident)
        for n in name.split():
            if any(fuzz.ratio(q, n) >= TOKEN_MATCH for q in words) and (
                    n not in frequent or only_frequent or (ident, n) in bare):
                kept.add(ident)
    return kept


def test_batch_scores_are_wratio_name_by_name(release):
    """A batch is scored as one rapidfuzz cdist row per query text over the names of the
    entities blocking keeps; the answer is what scoring each of those names on its own
    with fuzz.WRatio gives (blocking written out pair by pair in kept_entities): the same
    entities above the cutoff, each with the score of its best name, in the same order as
    those scores; a typed query gets the untyped answer less the entities of other
    types."""
    from rapidfuzz import fuzz, utils

    from pipeline.serve.reconcile import CANDIDATE_CUTOFF, load_service, reconcile_batch

    service = load_service(release)
    labels = sorted(actor_labels())[::4][:22] + ["Mat Hancok", "Departmnt of Helth", "zzzz"]
    untyped = {f"q{i}": {"query": q, "limit": 100} for i, q in enumerate(labels)}
    typed = {f"t{i}": {"query": q, "limit": 100, "type": "Person"} for i, q in enumerate(labels)}
    answer = reconcile_batch(service, {**untyped, **typed})
    persons = {i for i, e in service.entities.items() if "Person" in e.types}
    assert persons
    dropped = 0
    for i, text in enumerate(labels):
        processed = utils.default_process(text)
        kept = kept_entities(service, processed)
        want: dict[str, float] = {}
        for name, (ident, _alias) in zip(service.names, service.owners, strict=True):
            score = fuzz.WRatio(processed, name, processor=None)
            if score >= CANDIDATE_CUTOFF:
                if ident not in kept:
                    dropped += 1
                    continue
                want[ident] = max(want.get(ident, 0.0), score)
        got = [(c["id"], c["score"]) for c in answer[f"q{i}"]["result"]]
        assert dict(got) == {k: round(v, 2) for k, v in want.items()}, text
        assert [s for _, s in got] == sorted((s for _, s in got), reverse=True)
        assert [(c["id"], c["score"]) for c in answer[f"t{i}"]["result"]] == [
            (k, v) for k, v in got if k in persons], text
    assert dropped, "blocking dropped nothing here: the comparison does not show it applied"


def test_blocking_changes_no_match_and_no_near_exact_first_candidate(release):
    """Against scoring every name (no blocking), for every query of _scorer_queries (labels,
    five misspellings of each, nonsense, ids, typed and country-constrained queries):
    the same `match: true` candidates, the same first candidate whenever its score is 95
    or more, every candidate blocking keeps with the very score scoring every name gives,
    and every candidate it drops scores under 95 (what is dropped shares only a frequent
    token with the query, like "of", and scores 85.5 by WRatio's partial token ratio, or
    65-76 through a partial alignment, like "The" against "Health Times"; 48% of the
    candidates were kept when this was written). Labels with their spaces removed share no
    token with their own entity: only WHOLE_GUARD keeps it (a guard of 96 fails the match
    check on them)."""
    from pipeline.serve.reconcile import _query, load_service

    service = load_service(release)
    total = kept = 0
    problems = []
    joined = [{"query": e.name.replace(" ", "")} for e in service.entities.values()]
    for n, q in enumerate(_scorer_queries(service) + joined):
        query = _query(f"q{n}", {**q, "limit": 100})
        blocked = _previous_candidates(service, query)
        everything = _previous_candidates(service, query, blocking=False)
        scores = {c["id"]: c["score"] for c in everything}
        total += len(everything)
        kept += len(blocked)
        if ({c["id"] for c in blocked if c["match"]} !=
                {c["id"] for c in everything if c["match"]}):
            problems.append(("match", q))
        if everything and everything[0]["score"] >= 95 and (
                not blocked or blocked[0]["id"] != everything[0]["id"]):
            problems.append(("first", q))
        if any(scores.get(c["id"]) != c["score"] for c in blocked):
            problems.append(("score", q))
        kept_ids = {c["id"] for c in blocked}
        if any(c["score"] >= 95 for c in everything if c["id"] not in kept_ids):
            problems.append(("dropped at 95 or more", q))
    assert problems == [], problems[:5]
    assert total > 10000 and 0.4 * total <= kept < total, (kept, total)


def test_frequent_tokens_drop_no_candidate_scoring_95_or_more():
    """A made-up release where "health" and "of" are frequent (in 12 of 14 entities, more
    than FREQUENT_MIN): a query of frequent tokens alone ("of health") still finds the
    names that hold both words (WRatio 95 through its token set ratio, though their
    whole-string ratio is far under WHOLE_GUARD); a frequent-only name ("health of") is
    found through its tokens by a query with a rare word ("of zz health": 95, ratio 57);
    what a query with a rare word drops shares only frequent words with it and scores
    under 95. Without the fallback for frequent-only queries, or without the
    frequent-only names' postings, a name scoring 95 or more is dropped."""
    from pipeline.serve.reconcile import _query
    from pipeline.serve.scoring import Entity, Service, score_batch

    names = [f"health of zone{i}" for i in range(12)] + ["health of", "quarantine office"]
    service = Service({f"e{i}": Entity(f"e{i}", n, types=["Organisation"])
                       for i, n in enumerate(names)}, {"Organisation": "organisation"})
    assert service.frequent == {"health", "of"}
    for text in ["of health", "zone3 of health", "of zz health", "health of quarantine", "of"]:
        query = _query("q", {"query": text, "limit": 100})
        got = score_batch(service, [query])[0]
        everything = _previous_candidates(service, query, blocking=False)
        kept = {c["id"] for c in got}
        dropped = [(c["name"], c["score"]) for c in everything if c["id"] not in kept]
        assert all(score < 95 for _, score in dropped), (text, dropped)
        assert [c for c in got] == [c for c in everything if c["id"] in kept], text
    query = _query("q", {"query": "of health", "limit": 100})
    assert len(score_batch(service, [query])[0]) == 13


@settings(max_examples=400, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_blocking_keeps_match_flags_on_names_taken_apart(release_service, data):
    """Hypothesis builds queries from the release's names taken apart: a name's words, some
    dropped, with words of other names, spaces dropped or doubled, letters deleted, swapped
    or replaced;
    blocking gives the same `match: true` candidates as scoring every name, and the same
    first candidate when its score is 95 or more."""
    from pipeline.serve.reconcile import _query

    service = release_service
    words = sorted({w for name in service.names for w in name.split()})
    own = data.draw(st.sampled_from(service.names)).split()
    if not data.draw(st.booleans()):  # half the time the name's words, all of them
        own = [w for w in own if data.draw(st.booleans())]
    picked = own + data.draw(st.lists(st.sampled_from(words), max_size=2)
                             if data.draw(st.booleans()) else st.just([]))
    if not picked:
        return
    sep = data.draw(st.sampled_from([" ", "", "  "]))
    text = sep.join(picked)
    for _ in range(data.draw(st.integers(0, 3))):
        if len(text) < 2:
            break
        i = data.draw(st.integers(0, len(text) - 2))
        how = data.draw(st.sampled_from(["drop", "swap", "replace"]))
        text = (text[:i] + text[i + 1:] if how == "drop" else
                text[:i] + text[i + 1] + text[i] + text[i + 2:] if how == "swap" else
                text[:i] + data.draw(st.sampled_from("aeiou xz")) + text[i + 1:])
    if not text.strip():
        return
    query = _query("q", {"query": text, "limit": 100})
    blocked = _previous_candidates(service, query)
    everything = _previous_candidates(service, query, blocking=False)
    assert ({c["id"] for c in blocked if c["match"]} ==
            {c["id"] for c in everything if c["match"]}), text
    if everything and everything[0]["score"] >= 95:
        assert blocked and blocked[0]["id"] == everything[0]["id"], text


JSONABLE = st.recursive(
    st.none() | st.booleans() | st.integers(-2**60, 2**60)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(data=JSONABLE)
@example(data={"name": "</script><!-- \u2028 \u2029 & é"})
@example(data=["\ud800 </b>", "\u2029"])
def test_json_answers_are_inert_in_a_script_and_say_what_they_were_given(data):
    """Any JSON value (texts with lone surrogates, `</script>`, U+2028 included): the answer
    parses back to the very value, and holds no `<`, `>`, `&` and no raw U+2028/U+2029, so
    a page that embeds it in a script element cannot be broken out of."""
    from pipeline.serve.reconcile import _json

    body = _json(data).body
    assert json.loads(body) == data
    for raw in (b"<", b">", b"&", "\u2028".encode(), "\u2029".encode()):
        assert raw not in body


def test_json_answers_fall_back_for_a_lone_surrogate():
    """orjson refuses a lone surrogate (not UTF-8); the standard library writes it escaped."""
    from pipeline.serve.reconcile import _json

    assert _json({"q": "a\ud800</b>"}).body == b'{"q":"a\\ud800\\u003c/b\\u003e"}'


@pytest.fixture(scope="module")
def release_service(release):
    from pipeline.serve.reconcile import load_service

    return load_service(release)


def test_withdrawn_and_merged_records_are_not_candidates(tmp_path):
    """On the mini release (tests/tools/site_release.py): the withdrawn record and the
    merged one are never candidates; their names lead to the live records."""
    release = build_site_release(tmp_path)
    port, proc = start(release)
    try:
        data = batch(port, {"w": {"query": "Li Wen"},
                            "m": {"query": "Northbridge Health Ministry"}})
        ids = {c["id"] for r in data.values() for c in r["result"]}
        assert WITHDRAWN not in ids and MERGED not in ids
        assert data["w"]["result"][0]["id"] == "li-wen"
        assert data["m"]["result"][0]["id"] == SUCCESSOR
    finally:
        stop(proc)


def _previous_candidates(service, q, blocking: bool = True) -> list[dict]:
    """The scorer as it was defined before pipeline/serve/scoring.py (kept here, written
    out pair by pair, as the reference): every name of the entities blocking keeps
    (kept_entities; every name at all without `blocking`) scored on its own with
    fuzz.WRatio, the entity's best name kept (the first of equal ones), type and property
    constraints applied, ranked by rounded score, whole-string ratio and id, features and
    descriptions made from the entity."""
    from rapidfuzz import fuzz, utils

    from pipeline.serve.scoring import (
        CANDIDATE_CUTOFF,
        HC,
        HCID,
        MATCH_GAP,
        MATCH_RATIO,
        MATCH_SCORE,
        WIKIDATA,
    )

    def has(ent, pid, values):
        if pid == "type":
            return bool({v.removeprefix(HC) for v in values} & set(ent.types))
        if pid == "wikidata":
            return bool({v.removeprefix(WIKIDATA).upper() for v in values} & set(ent.wikidata))
        for v in values:
            v = v.removeprefix(HCID)
            for country in ent.country:
                other = service.entities.get(country)
                if v == country or (other and utils.default_process(v) in {
                        utils.default_process(n) for n in [other.name, *other.alt]}):
                    return True
        return False

    def describe(ent):
        parts = [service.type_names[ent.types[0]]]
        parts += [service.entities[c].name if c in service.entities else c
                  for c in ent.country]
        if ent.alt:
            parts.append("also " + ", ".join(ent.alt[:3]))
        return "; ".join(parts)

    best: dict[str, tuple[float, bool, str]] = {}
    if q.processed:
        kept = kept_entities(service, q.processed) if blocking else set(service.entities)
        for name, (ident, alias) in zip(service.names, service.owners, strict=True):
            if q.types and not q.types & set(service.entities[ident].types):
                continue
            if ident not in kept:
                continue
            score = fuzz.WRatio(q.processed, name, processor=None)
            if score >= CANDIDATE_CUTOFF and (ident not in best or score > best[ident][0]):
                best[ident] = (score, alias, name)
        if q.text.strip() in service.entities:
            ent = service.entities[q.text.strip()]
            best[ent.ident] = (100.0, False, utils.default_process(ent.name))
    elif q.wanted:
        best = {i: (100.0, False, "") for i in service.entities}
    ranked = []
    for ident, (score, alias, name) in best.items():
        ent = service.entities[ident]
        if q.types and not q.types & set(ent.types):
            continue
        if not all(has(ent, pid, values) for pid, values in q.wanted.items()):
            continue
        ratio = fuzz.ratio(q.processed, name) if q.processed else 100.0
        if q.text.strip() == ident:
            ratio = 100.0
        ranked.append((round(score, 2), ratio, ident, alias))
    ranked.sort(key=lambda c: (-c[0], -c[1], c[2]))
    match = False
    if ranked and q.processed:
        rival = max((c[1] for c in ranked[1:]), default=0.0)
        match = (ranked[0][0] >= MATCH_SCORE and ranked[0][1] >= MATCH_RATIO
                 and ranked[0][1] - rival >= MATCH_GAP)
    out = []
    for score, ratio, ident, alias in ranked[:q.limit]:
        ent = service.entities[ident]
        features = [{"id": "name_similarity", "value": score},
                    {"id": "name_ratio", "value": round(ratio, 2)},
                    {"id": "alias_hit", "value": alias},
                    {"id": "exact", "value": ratio == 100.0}]
        if q.types:
            features.append({"id": "type_match", "value": True})
        if "country" in q.wanted:
            features.append({"id": "country_match", "value": True})
        out.append({"id": ident, "name": ent.name, "description": describe(ent),
                    "score": score, "features": features, "match": match and not out,
                    "type": [{"id": t, "name": service.type_names[t]} for t in ent.types]})
    return out


def _scorer_queries(service) -> list[dict]:
    """Every label and alternative label of the release; five misspellings of each (a
    letter dropped, two swapped, all capitals, the first word alone, reversed: seeded);
    nonsense, single common words, ids as queries, 500 characters; and a third of the
    labels again with type constraints (one type, two types with limit 3), country
    constraints (by name, by id object, with a type) and a properties-only query."""
    import random

    rng = random.Random(12)
    labels = [text for e in service.entities.values() for text in (e.name, *e.alt)]
    texts = list(labels)
    for t in labels:
        if len(t) > 3:
            i = rng.randrange(len(t) - 1)
            texts += [t[:i] + t[i + 1:], t[:i] + t[i + 1] + t[i] + t[i + 2:], t.upper(),
                      t.split()[0], t[::-1]]
    texts += ["zzzz", "asdf qwer", "!!!", "health", "of", "the ministry", "China", "UK",
              "x" * 500, "".join(rng.choice("abcdefghij klm") for _ in range(40))]
    texts += sorted(service.entities)[:20]
    queries = [{"query": t, "limit": 100} for t in texts]
    queries.append({"query": "", "properties": [{"pid": "country", "v": "china"}]})
    for t in labels[::3]:
        queries += [{"query": t, "type": "Person"},
                    {"query": t, "type": ["Organisation", "Agreement"], "limit": 3},
                    {"query": t, "properties": [{"pid": "country", "v": "United Kingdom"}]},
                    {"query": t, "type": "Organisation",
                     "properties": [{"pid": "country", "v": {"id": "china"}}]}]
    return queries


def test_scorer_gives_the_previous_definitions_answers(release):
    """The batch scorer (one cdist per type, features for the names above the cutoff,
    descriptions made once) answers exactly as the previous definition, written out pair
    by pair in _previous_candidates: same ids, names, descriptions, scores, features,
    match flags and order, for every label and alias of the release, misspellings of each,
    nonsense, ids, and typed and country-constrained queries, sent in batches of 10."""
    from pipeline.serve.reconcile import _query, load_service, reconcile_batch

    service = load_service(release)
    queries = _scorer_queries(service)
    assert len(queries) > 1000
    differences = []
    for start in range(0, len(queries), 10):
        chunk = {f"q{i}": q for i, q in enumerate(queries[start:start + 10])}
        got = reconcile_batch(service, chunk)
        for key, q in chunk.items():
            want = _previous_candidates(service, _query(key, q))
            if got[key]["result"] != want:
                differences.append(q)
    assert differences == [], differences[:3]
    # the comparison is not vacuous: queries found candidates, and matches
    sample = reconcile_batch(service, {"a": {"query": "Matt Hancock"}, "b": {"query": "zzzz"}})
    assert sample["a"]["result"][0]["match"] is True and sample["b"]["result"] == []
