"""A Reconciliation Service API 0.2 endpoint (the protocol OpenRefine speaks) at `/reconcile`.

In:  a release directory (its `healthcoop.nq`, read once at start-up by `load_service`);
     then, per request, the method, the path under `/reconcile`, the decoded form fields
     (query string, or the `application/x-www-form-urlencoded` body of a POST) and the base
     URL the client reached the server at.
Out: a `Reply` (status, media type, body, extra headers) for `respond`, the entry function:
  - `GET /reconcile` without parameters: the service manifest (versions, name,
    identifierSpace, schemaSpace, view, preview, suggest, extend, defaultTypes, batchSize);
  - `GET|POST /reconcile` with `queries=<JSON batch>`: a reconciliation result batch; every
    candidate has `features` explaining its score (`name_similarity`, `name_ratio`,
    `alias_hit`, `exact`, and `type_match` / `country_match` when the query constrains
    them); `match: true` only when the top candidate is near-exact and clearly ahead;
  - `GET|POST /reconcile` with `extend=<JSON>`: data extension for `country`, `type`,
    `wikidata` (QID) and `alt_label`; `GET /reconcile/propose_properties?type=`;
  - `GET /reconcile/suggest/{entity,type,property}?prefix=&cursor=`: suggest responses;
  - `GET /reconcile/preview?id=`: a small HTML page (every value escaped).
  Bad input (invalid JSON, wrong shapes, too many queries, unknown ids) is a 4xx with a
  short JSON body `{"error": ...}`, never a traceback. JSONP is optional in 0.2 and not
  offered: a `callback` parameter is ignored, the answer stays `application/json`, and CORS
  (`Access-Control-Allow-Origin: *`) is on every answer, as the specification requires.
  JSON bodies escape `<`, `>` and `&`, so a query holding `</script>` cannot end a script
  element of a page that embeds the answer.

Scores (pipeline/serve/scoring.py) are rapidfuzz similarities (WRatio, 0-100) of the query
against every label and alternative label of an entity (`rdfs:label`, `skos:prefLabel`,
`skos:altLabel`, `foaf:name`), after case folding and punctuation removal; `type` (hc:
class, e.g. `Person`) and `properties` (`country`, `wikidata`) are hard constraints: they
narrow the candidates. Blocking (an index of name tokens, and a whole-string ratio guard)
picks the entities a query is scored against; it never changes a `match: true` or a
near-exact first candidate (pipeline/serve/scoring.py says why). What does not depend on
the query is worked out once, when the index is built.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import orjson
from rapidfuzz import utils

from pipeline.serve.scoring import (  # noqa: F401 - Entity, Service, CANDIDATE_CUTOFF: API
    CANDIDATE_CUTOFF,
    HC,
    HCID,
    WIKIDATA,
    Entity,
    Query,
    Service,
    score_batch,
)

BASE = "https://w3id.org/healthcoop/"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
SKOS_PREF = "http://www.w3.org/2004/02/skos/core#prefLabel"
SKOS_ALT = "http://www.w3.org/2004/02/skos/core#altLabel"
FOAF_NAME = "http://xmlns.com/foaf/0.1/name"
OWL_DEPRECATED = "http://www.w3.org/2002/07/owl#deprecated"
OWL_SAMEAS = "http://www.w3.org/2002/07/owl#sameAs"
DESCRIPTION_GRAPH = BASE + "graph/description"
ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
NOT_ENTITIES = {"Evidence", "Link", "Actor"}  # annotation nodes; Actor is on every actor
# the broad kinds, in the order a candidate's description names the first it has
KINDS = ("Person", "Organisation", "Agreement", "Event", "Initiative", "Role", "Place",
         "Source")
DEFAULT_TYPES = ("Person", "Organisation", "Agreement", "Event")
PROPERTIES = {
    "country": "Country",
    "type": "Type",
    "wikidata": "Wikidata QID",
    "alt_label": "Alternative label",
}

MAX_QUERIES = 50        # batchSize in the manifest; more is 413
MAX_LIMIT = 100         # candidates per query
DEFAULT_LIMIT = 10
MAX_QUERY_CHARS = 500   # one query string
MAX_EXTEND_IDS = 500
MAX_FIELD_CHARS = 1_000_000  # a form field (queries / extend)
SUGGEST_PAGE = 10
JSON_TYPE = "application/json; charset=utf-8"
HTML_TYPE = "text/html; charset=utf-8"
CORS = {"Access-Control-Allow-Origin": "*"}


@dataclass
class Reply:
    status: int
    ctype: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


class BadRequest(Exception):
    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def load_service(release: Path) -> Service | None:
    """The index of `<release>/healthcoop.nq` (None when the release has no dump): every
    entity that is not deprecated and not an annotation node, with its labels, alternative
    labels, hc: types, hc:country and Wikidata QIDs (owl:sameAs)."""
    import pyoxigraph as ox

    dump = Path(release) / "healthcoop.nq"
    if not dump.is_file():
        return None
    ents: dict[str, Entity] = {}
    deprecated: set[str] = set()
    with dump.open("rb") as stream:
        for quad in ox.parse(stream, format=ox.RdfFormat.N_QUADS):
            if quad.graph_name.value == DESCRIPTION_GRAPH or \
                    not isinstance(quad.subject, ox.NamedNode):
                continue
            subject = quad.subject.value
            if not subject.startswith(HCID) or "#" in subject:
                continue
            ident = subject[len(HCID):]
            if not ID.fullmatch(ident) or len(ident) > 200:
                continue
            ent = ents.setdefault(ident, Entity(ident))
            pred, obj = quad.predicate.value, quad.object
            if pred in (RDFS_LABEL, SKOS_PREF, FOAF_NAME) and isinstance(obj, ox.Literal):
                if not ent.name:
                    ent.name = obj.value
                elif obj.value != ent.name and obj.value not in ent.alt:
                    ent.alt.append(obj.value)
            elif pred == SKOS_ALT and isinstance(obj, ox.Literal):
                if obj.value not in ent.alt and obj.value != ent.name:
                    ent.alt.append(obj.value)
            elif pred == RDF_TYPE and obj.value.startswith(HC):
                local = obj.value[len(HC):]
                if local not in ent.types:
                    ent.types.append(local)
            elif pred == HC + "country" and obj.value.startswith(HCID):
                country = obj.value[len(HCID):]
                if country not in ent.country:
                    ent.country.append(country)
            elif pred == OWL_SAMEAS and obj.value.startswith(WIKIDATA):
                qid = obj.value[len(WIKIDATA):]
                if qid not in ent.wikidata:
                    ent.wikidata.append(qid)
            elif pred == OWL_DEPRECATED and isinstance(obj, ox.Literal) and \
                    obj.value in ("true", "1"):
                deprecated.add(ident)
    keep = {}
    for ident, ent in sorted(ents.items()):
        if ident in deprecated or not ent.name or not ent.types \
                or set(ent.types) & {"Evidence", "Link"}:
            continue
        ent.types = [t for t in ent.types if t not in NOT_ENTITIES]
        ent.types.sort(key=lambda t: (KINDS.index(t) if t in KINDS else len(KINDS), t))
        if ent.types:
            keep[ident] = ent
    type_names = {t: _type_name(t) for ent in keep.values() for t in ent.types}
    for kind in KINDS:
        type_names.setdefault(kind, _type_name(kind))
    return Service(keep, dict(sorted(type_names.items())))


def _type_name(local: str) -> str:
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", local)


def respond(service: Service | None, method: str, path: str, fields: dict[str, list[str]],
            base: str) -> Reply:
    """The answer to one request under `/reconcile` (see the module docstring).

    `path` is the decoded path (`/reconcile` or `/reconcile/...`), `fields` the parsed form
    (query string and POST body), `base` e.g. `http://127.0.0.1:8080` (used in the
    manifest's URL templates)."""
    try:
        if service is None:
            raise BadRequest("this release has no healthcoop.nq to reconcile against", 503)
        sub = path[len("/reconcile"):].rstrip("/") or "/"
        if sub == "/":
            if "queries" in fields:
                return _json(reconcile_batch(service, _json_field(fields, "queries")))
            if "extend" in fields:
                return _json(extend(service, _json_field(fields, "extend")))
            if method == "POST":
                raise BadRequest("POST needs a form field `queries` or `extend`")
            return _json(manifest(service, base))
        if method == "POST":
            raise BadRequest("only GET here", 405)
        if sub == "/preview":
            return preview(service, _field(fields, "id"), base)
        if sub == "/propose_properties":
            return _json(propose_properties(service, _field(fields, "type"),
                                            _int(fields, "limit", len(PROPERTIES))))
        if sub in ("/suggest/entity", "/suggest/type", "/suggest/property"):
            return _json(suggest(service, sub.rsplit("/", 1)[1], _field(fields, "prefix"),
                                 _int(fields, "cursor", 0)))
        raise BadRequest("no such reconciliation endpoint", 404)
    except BadRequest as problem:
        return _json({"error": str(problem)}, problem.status)


def manifest(service: Service, base: str) -> dict:
    service_url = f"{base}/reconcile"
    return {
        "versions": ["0.2"],
        "name": "healthcoop: international health cooperation involving China",
        "identifierSpace": HCID,
        "schemaSpace": HC,
        "documentation": f"{base}/",
        "view": {"url": f"{base}/id/{{{{id}}}}"},
        "preview": {"url": f"{service_url}/preview?id={{{{id}}}}", "width": 400,
                    "height": 200},
        "suggest": {
            "entity": {"service_url": service_url, "service_path": "/suggest/entity"},
            "type": {"service_url": service_url, "service_path": "/suggest/type"},
            "property": {"service_url": service_url, "service_path": "/suggest/property"},
        },
        "extend": {"propose_properties": {"service_url": service_url,
                                          "service_path": "/propose_properties"}},
        "defaultTypes": [{"id": t, "name": service.type_names[t]} for t in DEFAULT_TYPES],
        "batchSize": MAX_QUERIES,
    }


def reconcile_batch(service: Service, batch) -> dict:
    """Every query of the batch checked first (the first bad one is the 400); then each
    query text scored (pipeline/serve/scoring.py: `score_batch`) against the names of the
    entities blocking keeps for it, of its types when it has a type constraint: C++ over
    the processed names, the GIL released, so concurrent batches use both cores. Then each
    query's few names above CANDIDATE_CUTOFF become its results."""
    if not isinstance(batch, dict):
        raise BadRequest("`queries` must be a JSON object of queries")
    if len(batch) > MAX_QUERIES:
        raise BadRequest(f"at most {MAX_QUERIES} queries in a batch", 413)
    queries = [(str(key), _query(key, q)) for key, q in batch.items()]
    results = score_batch(service, [q for _, q in queries])
    return {key: {"result": result} for (key, _), result in zip(queries, results, strict=True)}


def _query(key, q) -> Query:
    if not isinstance(q, dict):
        raise BadRequest(f"query {key!r} is not an object")
    text = q.get("query", "")
    props = q.get("properties", [])
    if not isinstance(text, str) or len(text) > MAX_QUERY_CHARS:
        raise BadRequest(f"query {key!r}: `query` must be a string of at most "
                         f"{MAX_QUERY_CHARS} characters")
    if not isinstance(props, list) or not all(isinstance(p, dict) for p in props):
        raise BadRequest(f"query {key!r}: `properties` must be a list of objects")
    if not text.strip() and not props:
        raise BadRequest(f"query {key!r} needs `query` or `properties`")
    types = _types(q.get("type"), key)
    limit = q.get("limit", DEFAULT_LIMIT)
    if isinstance(limit, bool) or not isinstance(limit, int | float) or limit < 1:
        raise BadRequest(f"query {key!r}: `limit` must be a positive integer")
    return Query(text, utils.default_process(text), types, _constraints(props, key),
                 min(int(limit), MAX_LIMIT))


def _types(value, key: str) -> set[str]:
    if value is None:
        return set()
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise BadRequest(f"query {key!r}: `type` must be a string or a list of strings")
    return {v.removeprefix(HC) for v in values[:50]}


def _constraints(props: list[dict], key: str) -> dict[str, list[str]]:
    wanted: dict[str, list[str]] = {}
    for prop in props[:20]:
        pid, values = prop.get("pid"), prop.get("v")
        if pid not in ("country", "wikidata", "type"):
            raise BadRequest(f"query {key!r}: unknown property {pid!r} "
                             "(known: country, wikidata, type)")
        values = values if isinstance(values, list) else [values]
        norm = []
        for v in values[:50]:
            if isinstance(v, dict):
                v = v.get("id")
            if not isinstance(v, str | int | float) or isinstance(v, bool):
                raise BadRequest(f"query {key!r}: bad value for {pid!r}")
            norm.append(str(v).strip())
        wanted.setdefault(pid, []).extend(norm)
    return wanted


def extend(service: Service, query) -> dict:
    if not isinstance(query, dict) or not isinstance(query.get("ids"), list) \
            or not isinstance(query.get("properties"), list):
        raise BadRequest("`extend` must be an object with `ids` and `properties` lists")
    ids, props = query["ids"], query["properties"]
    if len(ids) > MAX_EXTEND_IDS:
        raise BadRequest(f"at most {MAX_EXTEND_IDS} ids", 413)
    pids = []
    for prop in props:
        pid = prop.get("id") if isinstance(prop, dict) else None
        if pid not in PROPERTIES:
            raise BadRequest(f"unknown property {pid!r} (known: {', '.join(PROPERTIES)})")
        pids.append(pid)
    meta = []
    for pid in pids:
        entry = {"id": pid, "name": PROPERTIES[pid]}
        if pid == "country":
            entry["type"] = {"id": "Place", "name": service.type_names["Place"]}
        meta.append(entry)
    rows: dict[str, dict] = {}
    for ident in ids:
        if not isinstance(ident, str):
            raise BadRequest("`ids` must be strings")
        ent = service.entities.get(ident)
        row = {}
        for pid in pids:
            if ent is None:
                row[pid] = []
            elif pid == "country":
                row[pid] = [{"id": c, "name": service.entities[c].name if c in
                             service.entities else c} for c in ent.country]
            elif pid == "type":
                row[pid] = [{"str": t} for t in ent.types]
            elif pid == "wikidata":
                row[pid] = [{"str": q} for q in ent.wikidata]
            else:
                row[pid] = [{"str": a} for a in ent.alt]
        rows[ident] = row
    return {"meta": meta, "rows": rows}


def propose_properties(service: Service, type_id: str, limit: int) -> dict:
    local = type_id.removeprefix(HC)
    if local not in service.type_names:
        raise BadRequest(f"unknown type {type_id!r}", 404)
    props = [{"id": p, "name": n} for p, n in PROPERTIES.items()][:max(limit, 0)]
    return {"type": type_id, "properties": props, "limit": limit}


def suggest(service: Service, what: str, prefix: str, cursor: int) -> dict:
    key = utils.default_process(prefix)
    if what == "entity":
        pool = [(e.ident, e.name, [e.name, *e.alt, e.ident], service.descriptions[e.ident], e)
                for e in service.entities.values()]
    elif what == "type":
        pool = [(t, n, [n, t], None, None) for t, n in service.type_names.items()]
    else:
        pool = [(p, n, [n, p], None, None) for p, n in PROPERTIES.items()]
    ranked = []
    for ident, name, names, desc, ent in pool:
        forms = [utils.default_process(n) for n in names]
        if not key:
            rank = 2
        elif any(f.startswith(key) for f in forms):
            rank = 0
        elif any(w.startswith(key) for f in forms for w in f.split()):
            rank = 1
        else:
            continue
        ranked.append((rank, name.casefold(), ident, name, desc, ent))
    ranked.sort()
    result = []
    for _rank, _sort, ident, name, desc, ent in ranked[cursor:cursor + SUGGEST_PAGE]:
        item = {"id": ident, "name": name}
        if desc:
            item["description"] = desc
        if ent is not None:
            item["notable"] = [{"id": t, "name": service.type_names[t]} for t in ent.types]
        result.append(item)
    return {"result": result}


def preview(service: Service, ident: str, base: str) -> Reply:
    ent = service.entities.get(ident)
    if ent is None:
        raise BadRequest("unknown id", 404)
    esc = html.escape
    types = ", ".join(service.type_names[t] for t in ent.types)
    rows = [f"<dt>Type</dt><dd>{esc(types)}</dd>"]
    if ent.alt:
        rows.append(f"<dt>Also called</dt><dd>{esc('; '.join(ent.alt))}</dd>")
    if ent.country:
        names = [service.entities[c].name if c in service.entities else c
                 for c in ent.country]
        rows.append(f"<dt>Country</dt><dd>{esc(', '.join(names))}</dd>")
    if ent.wikidata:
        rows.append(f"<dt>Wikidata</dt><dd>{esc(', '.join(ent.wikidata))}</dd>")
    page = (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>{esc(ent.name)}</title></head>\n<body style=\"font: 14px sans-serif; "
            f'margin: 0.5em\">\n<p><a href="{esc(base)}/id/{esc(ident)}" target="_blank">'
            f"<strong>{esc(ent.name)}</strong></a> <code>{esc(ident)}</code></p>\n"
            f"<dl>{''.join(rows)}</dl>\n</body></html>\n")
    return Reply(200, HTML_TYPE, page.encode("utf-8"), dict(CORS))


def _field(fields: dict[str, list[str]], name: str) -> str:
    values = fields.get(name) or [""]
    value = values[0]
    if len(value) > MAX_FIELD_CHARS:
        raise BadRequest(f"`{name}` is too long", 413)
    return value


def _int(fields: dict[str, list[str]], name: str, default: int) -> int:
    value = _field(fields, name).strip()
    if not value:
        return default
    if not value.isdigit() or len(value) > 6:
        raise BadRequest(f"`{name}` must be a small non-negative integer")
    return int(value)


def _json_field(fields: dict[str, list[str]], name: str):
    text = _field(fields, name)
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as problem:
        raise BadRequest(f"`{name}` is not valid JSON") from problem


# escaped in every JSON answer: `<`, `>` and `&` (no `</script>` or `<!--` when a page
# embeds the answer) and the two line separators older JavaScript parsers end a string at
_JSON_ESCAPES = [(b"<", b"\\u003c"), (b">", b"\\u003e"), (b"&", b"\\u0026"),
                 ("\u2028".encode(), b"\\u2028"), ("\u2029".encode(), b"\\u2029")]


def _json(data, status: int = 200) -> Reply:
    """A JSON answer: orjson (UTF-8, several times faster than the standard library's
    encoder on a batch's ~35 KB of small objects); a text orjson refuses (a lone surrogate
    a query brought in) is written by the standard library, every non-ASCII character
    escaped."""
    try:
        body = orjson.dumps(data)
    except orjson.JSONEncodeError:
        body = json.dumps(data, ensure_ascii=True, separators=(",", ":")).encode("ascii")
    for raw, escaped in _JSON_ESCAPES:
        body = body.replace(raw, escaped)
    return Reply(status, JSON_TYPE, body, dict(CORS))
