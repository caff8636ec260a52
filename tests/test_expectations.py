"""Hand-checked expectations: facts read from the five sources by hand must be in the dataset.

`tests/expectations.yaml` was written by reading the archived texts, independently of the
curated records and of the pipeline's output. Each fact there names entities the way a source
spells them; this module resolves those names against the labels of the built dataset
(`rdfs:label`, `skos:prefLabel`, `skos:altLabel`, `skos:hiddenLabel`) with SPARQL and checks the
fact, one parametrised test per fact. Two further tests keep the file honest: every quote must
occur in its source, and the facts must cover all the sources.

Name matching (see `_norm`): case-insensitive, whitespace collapsed, curly apostrophes read as
straight ones, a leading "the " and a trailing "." ignored. Actors, places and spellings match a
whole label; events, agreements and initiatives identified by `name` match when the name occurs
inside a label or `dct:title` (curators write their own labels for those). A name may be a list
of alternatives (all spelled as in a source); any one resolving is enough.

Agreements, events, initiatives and roles must also cite the fact's source (`dct:source`): the
fact comes from that source, so its statement needs evidence from it.
"""

from __future__ import annotations

import re
from collections import defaultdict
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
import yaml

TESTS_DIR = Path(__file__).resolve().parent
ROOT = TESTS_DIR.parent
EXPECTATIONS_PATH = TESTS_DIR / "expectations.yaml"
SOURCES_REGISTRY = ROOT / "data" / "sources.yaml"
SOURCES_DIR = ROOT / "data" / "sources"

HCID = "https://w3id.org/healthcoop/id/"
HC = "https://w3id.org/healthcoop/ontology#"
SCHEMA = "https://schema.org/"
ORG = "http://www.w3.org/ns/org#"
DCT = "http://purl.org/dc/terms/"
OWL = "http://www.w3.org/2002/07/owl#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
XSD = "http://www.w3.org/2001/XMLSchema#"

PREFIXES = f"""
PREFIX hcid: <{HCID}>
PREFIX hc: <{HC}>
PREFIX schema: <{SCHEMA}>
PREFIX org: <{ORG}>
PREFIX dct: <{DCT}>
PREFIX owl: <{OWL}>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX foaf: <http://xmlns.com/foaf/0.1/>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX oa: <http://www.w3.org/ns/oa#>
PREFIX xsd: <{XSD}>
"""

LABEL_PATH = "rdfs:label|skos:prefLabel|skos:altLabel|skos:hiddenLabel"
# The SPARQL twin of _norm(), applied to a label variable.
NORM_EXPR = (
    'REPLACE(REPLACE(REPLACE(REPLACE(LCASE(STR({v})), "[\u2018\u2019]", "\'"), '
    '"\\\\s+", " "), "^ | $", ""), "^the |\\\\.$", "")'
)

# -- the expectations schema ---------------------------------------------------------------

# Class local names (hc:) a fact may name: docs/model.md, plus the superclasses every entity
# is also typed with (hc:Visit, hc:Meeting, hc:GovernmentBody, hc:Agreement, ...).
KNOWN_CLASSES = {
    "Person", "Actor", "Organisation", "Government", "GovernmentBody", "Ministry",
    "GovernmentAgency", "Regulator", "Company", "University", "College", "Hospital",
    "ResearchInstitute", "Association", "BusinessCouncil", "InternationalOrganisation",
    "MediaOrganisation", "HealthService", "Place", "Country", "Region", "City", "Venue",
    "Agreement", "MemorandumOfUnderstanding", "Contract", "CooperationArrangement",
    "CollaborationAgreement", "InvestmentAgreement", "FundCommitment", "DataExchangeAgreement",
    "CommercialAgreement", "JointStatement", "Event", "Visit", "OfficialVisit",
    "DelegationVisit", "Dialogue", "Meeting", "WorkingMeeting", "VideoMeeting", "Conference",
    "Forum", "TradeFair", "SigningCeremony", "PanelSession", "Presentation", "Speech",
    "Initiative", "Campaign", "Programme", "Project", "Platform", "Plan", "Fund",
}
QUALIFIERS = {"Exact", "MoreThan", "Approximately", "UpTo"}

# event fields that name actors/places, and the predicate each maps to
EVENT_NAME_FIELDS = {
    "locations": [SCHEMA + "location"],
    "visited": [HC + "visited"],
    "hosts": [HC + "host"],
    "chairs": [HC + "chair"],
    "organisers": [SCHEMA + "organizer"],
    "participants": [HC + "participant"],
    "leaders": [HC + "leader"],
    "speakers": [HC + "speaker"],
    "invited_by": [HC + "invitedBy"],
    # lenient ones, for where the text does not say which role (see expectations.yaml header)
    "places": [SCHEMA + "location", HC + "visited"],
    "involving": [
        HC + "host", HC + "chair", SCHEMA + "organizer", HC + "participant", HC + "leader",
        HC + "speaker", HC + "invitedBy", HC + "visited", SCHEMA + "attendee",
    ],
}
INITIATIVE_NAME_FIELDS = {
    "owners": [HC + "owner"],
    "partners": [HC + "partner"],
    "involving": [HC + "owner", HC + "partner"],
    "locations": [SCHEMA + "location"],
}
AGREEMENT_NAME_FIELDS = {
    "parties": [HC + "party"],
    "witnesses": [HC + "witness"],
    "signatories": [HC + "signatory"],
}

COMMON_KEYS = {"source", "quote", "fact", "why", "note"}
EVENT_KEYS = {"name", "type", "date", "part_of", "attendee_count", *EVENT_NAME_FIELDS}
KIND_KEYS: dict[str, tuple[set[str], set[str]]] = {  # kind -> (required, optional)
    "actor": ({"name"}, {"class", "country", "part_of"}),
    "role": ({"person", "title"}, {"organisation", "status"}),
    "agreement": (set(), {"name", "type", "amount", "duration", "date", "signed_at_event",
                          *AGREEMENT_NAME_FIELDS}),
    "event": (set(), EVENT_KEYS),
    "initiative": (set(), {"name", "type", "amount", *INITIATIVE_NAME_FIELDS}),
    "spelling": ({"names"}, set()),
    "absent": ({"what"}, {"values", "stated_as", "contains"}),
}
ABSENT_WHATS = {
    "event-date", "currency", "text", "same-as-without-reference", "source-date",
    "source-publisher",
}


def _load_facts() -> list[dict[str, Any]]:
    data = yaml.safe_load(EXPECTATIONS_PATH.read_text(encoding="utf-8"))
    facts = data["facts"] if isinstance(data, dict) else None
    if not isinstance(facts, list):
        raise ValueError(f"{EXPECTATIONS_PATH}: expected a mapping with a 'facts' list")
    return facts


def _load_registry() -> dict[str, Path]:
    data = yaml.safe_load(SOURCES_REGISTRY.read_text(encoding="utf-8"))
    return {str(s["id"]): SOURCES_DIR / Path(str(s["file"])).name for s in data["sources"]}


FACTS = _load_facts()


def _fact_id(index: int, fact: dict[str, Any]) -> str:
    return f"{fact.get('source', '?')}-{index:03d}-{fact.get('fact', '?')}"


FACT_PARAMS = [pytest.param(i, f, id=_fact_id(i, f)) for i, f in enumerate(FACTS)]


def normalise_space(text: str) -> str:
    return " ".join(text.split())


def _quotes(fact: dict[str, Any]) -> list[str]:
    quote = fact.get("quote")
    return [quote] if isinstance(quote, str) else list(quote or [])


def _norm(name: str) -> str:
    """How names and labels are compared (NORM_EXPR does the same in SPARQL)."""
    text = name.lower().replace("\u2019", "'").replace("\u2018", "'")
    text = " ".join(text.split())
    return re.sub(r"^the |\.$", "", text)


def sparql_string(value: str) -> str:
    """A SPARQL string literal holding `value`, whatever characters it contains."""
    escaped = (
        value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        .replace("\r", "\\r").replace("\t", "\\t")
    )
    return f'"{escaped}"'


def _iri(value: str) -> str:
    if any(c in value for c in '<>"{}|^`\\ \n'):
        raise ValueError(f"not an IRI: {value!r}")
    return f"<{value}>"


def _alternatives(name: Any) -> list[str]:
    return [str(n) for n in name] if isinstance(name, list) else [str(name)]


# -- querying the dataset ------------------------------------------------------------------


class Dataset:
    """Name resolution and entity descriptions over the store, with caches."""

    def __init__(self, store: ox.Store):
        self.store = store
        self._props: dict[str, dict[str, list[Any]]] = {}
        self._resolved: dict[tuple[str, str], set[str]] = {}

    def select(self, query: str) -> list[dict[str, Any]]:
        result = self.store.query(PREFIXES + query, use_default_graph_as_union=True)
        variables = [v.value for v in result.variables]
        return [{v: sol[v] for v in variables} for sol in result]

    def column(self, query: str, var: str) -> set[str]:
        return {row[var].value for row in self.select(query) if row[var] is not None}

    def resolve(self, name: Any, mode: str = "exact") -> set[str]:
        """IRIs of the (non-deprecated) entities a name, or any of a list of names, labels."""
        found: set[str] = set()
        for alt in _alternatives(name):
            key = (mode, _norm(alt))
            if key not in self._resolved:
                if mode == "exact":
                    test = "?n = ?name"
                    paths = LABEL_PATH
                else:
                    test = "CONTAINS(?n, ?name)"
                    paths = LABEL_PATH + "|dct:title"
                query = f"""
                SELECT DISTINCT ?e WHERE {{
                  VALUES ?name {{ {sparql_string(key[1])} }}
                  ?e {paths} ?l .
                  BIND({NORM_EXPR.format(v="?l")} AS ?n)
                  FILTER({test})
                  FILTER NOT EXISTS {{ ?e owl:deprecated ?dep . FILTER(STR(?dep) = "true") }}
                }}"""
                self._resolved[key] = {
                    iri for iri in self.column(query, "e") if not iri.startswith("_:")
                }
            found |= self._resolved[key]
        return found

    def props(self, iri: str) -> dict[str, list[Any]]:
        """Every (predicate -> objects) of one entity."""
        if iri not in self._props:
            out: dict[str, list[Any]] = defaultdict(list)
            for row in self.select(f"SELECT ?p ?o WHERE {{ {_iri(iri)} ?p ?o }}"):
                out[row["p"].value].append(row["o"])
            self._props[iri] = dict(out)
        return self._props[iri]

    def objects(self, iri: str, predicates: list[str]) -> set[str]:
        props = self.props(iri)
        return {o.value for p in predicates for o in props.get(p, [])}

    def types(self, iri: str) -> set[str]:
        return self.objects(iri, [RDF_TYPE])

    def label(self, iri: str) -> str:
        labels = sorted(o.value for o in self.props(iri).get(RDFS_LABEL, []))
        return labels[0] if labels else iri.removeprefix(HCID)

    def labels(self, iris: set[str]) -> list[str]:
        return sorted(self.label(i) for i in iris)

    def closure(self, iri: str, path: str, include_self: bool) -> set[str]:
        """Nodes reachable from iri along path+ (or path* when include_self)."""
        op = "*" if include_self else "+"
        return self.column(f"SELECT DISTINCT ?x WHERE {{ {_iri(iri)} ({path}){op} ?x }}", "x")

    def cited_by(self, cls: str, source_id: str) -> set[str]:
        if not re.fullmatch(r"[a-z][a-z0-9]*(-[a-z0-9]+)*", source_id):
            raise ValueError(f"bad source id {source_id!r}")
        return self.column(
            f"SELECT DISTINCT ?e WHERE {{ ?e a hc:{cls} ; dct:source hcid:{source_id} . }}", "e"
        )


# -- checks: each returns a list of problems for one candidate (empty = the candidate fits) -


def _check_names(ds: Dataset, iri: str, fact: dict[str, Any], fields: dict[str, list[str]]):
    problems = []
    for field, predicates in fields.items():
        if field not in fact:
            continue
        found = ds.objects(iri, predicates)
        for name in fact[field]:
            wanted = ds.resolve(name, "exact")
            if not wanted:
                problems.append(f"{field}: no entity is labelled {name!r}")
            elif not wanted & found:
                problems.append(f"{field}: {name!r} missing (has {ds.labels(found)})")
    return problems


def _check_type(ds: Dataset, iri: str, cls: str | None) -> list[str]:
    if cls is None or HC + cls in ds.types(iri):
        return []
    have = sorted(t.removeprefix(HC) for t in ds.types(iri) if t.startswith(HC))
    return [f"type: not hc:{cls} (is {have})"]


def _date_datatype(value: str) -> str:
    return {4: "gYear", 7: "gYearMonth", 10: "date"}.get(len(value), "date")


def _check_date(ds: Dataset, iri: str, value: Any, predicate: str) -> list[str]:
    if value is None:
        return []
    value = str(value)
    found = ds.props(iri).get(predicate, [])
    for lit in found:
        if lit.value == value and lit.datatype.value == XSD + _date_datatype(value):
            return []
    return [f"date: no {predicate.rsplit('/', 1)[-1]} {value!r} typed xsd:{_date_datatype(value)}"
            f" (has {[str(x) for x in found]})"]


def _decimal(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def _check_amount(ds: Dataset, iri: str, amount: dict[str, Any] | None) -> list[str]:
    if amount is None:
        return []
    nodes = ds.objects(iri, [HC + "amount"])
    if not nodes:
        return ["amount: no hc:amount"]
    described = []
    for node in sorted(nodes):
        props = ds.props(node)
        values = {_decimal(v.value) for v in props.get(SCHEMA + "value", [])}
        currencies = {c.value for c in props.get(SCHEMA + "currency", [])}
        qualifiers = {q.value.removeprefix(HC) for q in props.get(HC + "amountQualifier", [])}
        ok = _decimal(amount["value"]) in values
        if "currency" in amount:
            ok = ok and (currencies == set() if amount["currency"] is None
                         else amount["currency"] in currencies)
        if "qualifier" in amount:
            ok = ok and amount["qualifier"] in qualifiers
        if ok:
            return []
        described.append(f"value {sorted(map(str, values))}, currency {sorted(currencies)},"
                         f" qualifier {sorted(qualifiers)}")
    return [f"amount: want {amount}, has {described}"]


def _event_set(ds: Dataset, spec: Any, source: str) -> set[str]:
    """Events a part_of / signed_at_event value designates: a name, or an event spec."""
    if isinstance(spec, dict):
        candidates = ds.cited_by("Event", source)
        if spec.get("name") is not None:
            candidates &= ds.resolve(spec["name"], "contains")
        return {e for e in candidates if not _event_problems(ds, e, spec, source)}
    return {e for e in ds.resolve(spec, "contains") if HC + "Event" in ds.types(e)}


def _event_problems(ds: Dataset, iri: str, fact: dict[str, Any], source: str) -> list[str]:
    problems = _check_type(ds, iri, fact.get("type"))
    problems += _check_date(ds, iri, fact.get("date"), SCHEMA + "startDate")
    problems += _check_names(ds, iri, fact, EVENT_NAME_FIELDS)
    if "part_of" in fact:
        wanted = _event_set(ds, fact["part_of"], source)
        supers = ds.closure(iri, "schema:superEvent", include_self=False)
        if not wanted:
            problems.append(f"part_of: no event matches {fact['part_of']!r}")
        elif not wanted & supers:
            problems.append(f"part_of: not within {ds.labels(wanted)} (is within"
                            f" {ds.labels(supers)})")
    if "attendee_count" in fact:
        want = fact["attendee_count"]
        props = ds.props(iri)
        counts = {_decimal(c.value) for c in props.get(HC + "attendeeCount", [])}
        quals = {q.value.removeprefix(HC) for q in props.get(HC + "attendeeCountQualifier", [])}
        if _decimal(want["value"]) not in counts or (
            "qualifier" in want and want["qualifier"] not in quals
        ):
            problems.append(f"attendee_count: want {want}, has {sorted(map(str, counts))}"
                            f" {sorted(quals)}")
    return problems


def _agreement_problems(ds: Dataset, iri: str, fact: dict[str, Any], source: str) -> list[str]:
    problems = _check_type(ds, iri, fact.get("type"))
    problems += _check_names(ds, iri, fact, AGREEMENT_NAME_FIELDS)
    problems += _check_amount(ds, iri, fact.get("amount"))
    problems += _check_date(ds, iri, fact.get("date"), HC + "date")
    if "duration" in fact:
        durations = {d.value for d in ds.props(iri).get(HC + "duration", [])}
        if str(fact["duration"]) not in durations:
            problems.append(f"duration: want {fact['duration']}, has {sorted(durations)}")
    if "signed_at_event" in fact:
        wanted = _event_set(ds, fact["signed_at_event"], source)
        found = ds.objects(iri, [HC + "signedAt"])
        if not wanted:
            problems.append(f"signed_at_event: no event matches {fact['signed_at_event']!r}")
        elif not wanted & found:
            problems.append(f"signed_at_event: not {ds.labels(wanted)} (has {ds.labels(found)})")
    return problems


def _initiative_problems(ds: Dataset, iri: str, fact: dict[str, Any], source: str) -> list[str]:
    problems = _check_type(ds, iri, fact.get("type"))
    problems += _check_names(ds, iri, fact, INITIATIVE_NAME_FIELDS)
    problems += _check_amount(ds, iri, fact.get("amount"))
    return problems


def _role_problems(ds: Dataset, iri: str, fact: dict[str, Any], source: str) -> list[str]:
    problems = []
    titles = [t.value for t in ds.props(iri).get(HC + "roleTitle", [])]
    if not any(str(fact["title"]).lower() in t.lower() for t in titles):
        problems.append(f"title: none contains {fact['title']!r} (has {titles})")
    if "organisation" in fact:
        wanted = ds.resolve(fact["organisation"], "exact")
        orgs = ds.objects(iri, [ORG + "organization"])
        reach = set().union(*(ds.closure(o, "org:subOrganizationOf", True) for o in orgs))
        if not wanted:
            problems.append(f"organisation: no entity is labelled {fact['organisation']!r}")
        elif not wanted & reach:
            problems.append(f"organisation: not {fact['organisation']!r} or a unit of it"
                            f" (has {ds.labels(orgs)})")
    if "status" in fact:
        want = HC + {"former": "FormerRole", "current": "CurrentRole"}[fact["status"]]
        statuses = ds.objects(iri, [HC + "roleStatus"])
        ok = want in statuses or (fact["status"] == "current" and not statuses)
        if not ok:
            problems.append(f"status: want {fact['status']}, has {sorted(statuses)}")
    return problems


def _actor_problems(ds: Dataset, iri: str, fact: dict[str, Any]) -> list[str]:
    problems = _check_type(ds, iri, fact.get("class"))
    if "country" in fact:
        wanted = ds.resolve(fact["country"], "exact")
        found = ds.objects(iri, [HC + "country"])
        if not wanted:
            problems.append(f"country: no entity is labelled {fact['country']!r}")
        elif not wanted & found:
            problems.append(f"country: not {fact['country']!r} (has {ds.labels(found)})")
    if "part_of" in fact:
        wanted = ds.resolve(fact["part_of"], "exact")
        found = ds.closure(iri, "org:subOrganizationOf|schema:containedInPlace", False)
        if not wanted:
            problems.append(f"part_of: no entity is labelled {fact['part_of']!r}")
        elif not wanted & found:
            problems.append(f"part_of: not within {fact['part_of']!r} (within"
                            f" {ds.labels(found)})")
    return problems


def _describe(ds: Dataset, iri: str, fields: dict[str, list[str]]) -> str:
    parts = [f"{ds.label(iri)!r} <{iri.removeprefix(HCID)}>"]
    types = sorted(t.removeprefix(HC) for t in ds.types(iri) if t.startswith(HC))
    parts.append(f"types {types}")
    for field, predicates in fields.items():
        found = ds.objects(iri, predicates)
        if found and field not in ("involving", "places"):
            parts.append(f"{field} {ds.labels(found)}")
    return ", ".join(parts)


def _find(ds, fact, source, cls, name_fields, problems_of) -> tuple[bool, str]:
    """Does some entity of class cls citing the source fit the fact? Else say what was found."""
    candidates = ds.cited_by(cls, source)
    if fact.get("name") is not None:
        named = ds.resolve(fact["name"], "contains")
        if not named & candidates:
            others = ds.labels(named) if named else "none"
            return False, (f"no hc:{cls} citing {source} has a label or title containing"
                           f" {fact['name']!r} (entities so named anywhere: {others});"
                           f" hc:{cls} citing {source}: {ds.labels(candidates)}")
        candidates &= named
    if not candidates:
        return False, f"no hc:{cls} cites {source}"
    results = {c: problems_of(ds, c, fact, source) for c in sorted(candidates)}
    if any(not p for p in results.values()):
        return True, ""
    # Show the closest candidates first: those with the fewest problems.
    ranked = sorted(results.items(), key=lambda kv: (len(kv[1]), kv[0]))[:8]
    lines = [f"  - {_describe(ds, c, name_fields)}\n      problems: {'; '.join(p)}"
             for c, p in ranked]
    return False, (f"none of the {len(candidates)} hc:{cls} citing {source} fits; closest:\n"
                   + "\n".join(lines))


# -- one function per fact kind: (ok, what was found instead) --------------------------------


def check_actor(ds: Dataset, fact: dict[str, Any]) -> tuple[bool, str]:
    entities = ds.resolve(fact["name"], "exact")
    if not entities:
        return False, f"no entity has the label {fact['name']!r}"
    results = {e: _actor_problems(ds, e, fact) for e in sorted(entities)}
    if any(not p for p in results.values()):
        return True, ""
    return False, "\n".join(f"  - {ds.label(e)!r} <{e}>: {'; '.join(p)}"
                            for e, p in results.items())


def check_role(ds: Dataset, fact: dict[str, Any]) -> tuple[bool, str]:
    persons = ds.resolve(fact["person"], "exact")
    if not persons:
        return False, f"no entity has the label {fact['person']!r}"
    source = fact["source"]
    roles = set()
    for person in persons:
        roles |= ds.column(
            f"SELECT DISTINCT ?r WHERE {{ ?r a hc:Role ; org:member {_iri(person)} ;"
            f" dct:source hcid:{source} . }}", "r")
    if not roles:
        return False, f"no hc:Role of {ds.labels(persons)} cites {source}"
    results = {r: _role_problems(ds, r, fact, source) for r in sorted(roles)}
    if any(not p for p in results.values()):
        return True, ""
    return False, "\n".join(f"  - <{r}>: {'; '.join(p)}" for r, p in results.items())


def check_agreement(ds: Dataset, fact: dict[str, Any]) -> tuple[bool, str]:
    return _find(ds, fact, fact["source"], "Agreement", AGREEMENT_NAME_FIELDS,
                 _agreement_problems)


def check_event(ds: Dataset, fact: dict[str, Any]) -> tuple[bool, str]:
    return _find(ds, fact, fact["source"], "Event", EVENT_NAME_FIELDS, _event_problems)


def check_initiative(ds: Dataset, fact: dict[str, Any]) -> tuple[bool, str]:
    return _find(ds, fact, fact["source"], "Initiative", INITIATIVE_NAME_FIELDS,
                 _initiative_problems)


def check_spelling(ds: Dataset, fact: dict[str, Any]) -> tuple[bool, str]:
    sets = {str(n): ds.resolve(n, "exact") for n in fact["names"]}
    common = set.intersection(*sets.values())
    if common:
        return True, ""
    found = {n: [f"{ds.label(e)} <{e.removeprefix(HCID)}>" for e in sorted(s)] or "nothing"
             for n, s in sets.items()}
    return False, f"the names do not resolve to one entity; each resolves to: {found}"


def check_absent(ds: Dataset, fact: dict[str, Any]) -> tuple[bool, str]:
    what, source = fact["what"], fact["source"]
    if what == "event-date":
        rows = ds.select(f"""
            SELECT ?e ?p ?d WHERE {{
              ?e a hc:Event ; dct:source hcid:{source} .
              FILTER NOT EXISTS {{ ?e dct:source ?other . FILTER(?other != hcid:{source}) }}
              VALUES ?p {{ schema:startDate schema:endDate hc:date dct:date }}
              ?e ?p ?d .
            }}""")
        found = [f"{ds.label(r['e'].value)}: {r['p'].value} {r['d'].value}" for r in rows]
    elif what == "currency":
        values = {_decimal(v) for v in fact.get("values", [])}
        stated = [str(s).lower() for s in fact.get("stated_as", [])]
        rows = ds.select(f"""
            SELECT ?e ?a ?cur ?v ?s WHERE {{
              ?e hc:amount ?a ; dct:source hcid:{source} .
              ?a schema:currency ?cur .
              OPTIONAL {{ ?a schema:value ?v }}
              OPTIONAL {{ ?a hc:statedAs ?s }}
            }}""")
        found = [
            f"{ds.label(r['e'].value)}: {r['v'] and r['v'].value} ({r['s'] and r['s'].value})"
            f" has currency {r['cur'].value}"
            for r in rows
            if (r["v"] is not None and _decimal(r["v"].value) in values)
            or (r["s"] is not None and any(s in r["s"].value.lower() for s in stated))
        ]
    elif what == "text":
        needle = sparql_string(str(fact["contains"]).lower())
        rows = ds.select(f"""
            SELECT ?s ?p ?o WHERE {{
              ?s ?p ?o .
              FILTER(CONTAINS(LCASE(STR(?o)), {needle}) || CONTAINS(LCASE(STR(?s)), {needle}))
            }} LIMIT 10""")
        found = [f"<{r['s'].value}> <{r['p'].value}> {r['o']}" for r in rows]
    elif what == "same-as-without-reference":
        rows = ds.select("""
            SELECT ?s ?o WHERE {
              ?s owl:sameAs ?o .
              # the reference: the link node (docs/linking.md) naming the target and where
              # it was seen
              FILTER NOT EXISTS { ?s hc:link ?l . ?l hc:target ?o ; hc:reference ?ref . }
            } LIMIT 10""")
        found = [f"<{r['s'].value}> owl:sameAs {r['o']}" for r in rows]
    elif what in ("source-date", "source-publisher"):
        predicates = (
            "dct:date dct:issued dct:created schema:datePublished schema:dateCreated"
            if what == "source-date" else "dct:publisher schema:publisher"
        )
        rows = ds.select(f"""
            SELECT ?p ?o WHERE {{
              VALUES ?p {{ {predicates} }}
              hcid:{source} ?p ?o .
            }}""")
        found = [f"{r['p'].value} {r['o']}" for r in rows]
    else:  # pragma: no cover - test_expectations_schema rejects it first
        raise ValueError(f"unknown absent check {what!r}")
    return (not found), "found: " + "; ".join(found)


CHECKS = {
    "actor": check_actor,
    "role": check_role,
    "agreement": check_agreement,
    "event": check_event,
    "initiative": check_initiative,
    "spelling": check_spelling,
    "absent": check_absent,
}


@pytest.fixture(scope="session")
def dataset(dataset_store) -> Dataset:
    return Dataset(dataset_store)


# -- the tests -----------------------------------------------------------------------------


@pytest.mark.parametrize(("index", "fact"), FACT_PARAMS)
def test_expected_fact(dataset, index, fact):
    """A fact read by hand from a source text is in the built dataset (see expectations.yaml)."""
    ok, found = CHECKS[fact["fact"]](dataset, fact)
    shown = {k: v for k, v in fact.items() if k not in ("quote", "why", "note")}
    assert ok, (
        f"expectation #{index} not met: {shown}\n"
        f"  quote ({fact['source']}): {' | '.join(_quotes(fact))}\n"
        f"  found instead:\n{found}"
    )


@pytest.mark.parametrize(("index", "fact"), FACT_PARAMS)
def test_expectation_quote_is_in_source(index, fact):
    """Each expectation's quote occurs in its source text (whitespace-normalised), so the
    expectations cannot drift from what the sources say."""
    registry = _load_registry()
    assert fact.get("source") in registry, f"#{index}: unknown source {fact.get('source')!r}"
    text = normalise_space(registry[fact["source"]].read_text(encoding="utf-8"))
    quotes = _quotes(fact)
    assert quotes, f"#{index}: no quote"
    for quote in quotes:
        assert normalise_space(quote) in text, (
            f"#{index}: quote not in {fact['source']}: {quote!r}"
        )


def _schema_problems(fact: Any, kind: str | None = None) -> list[str]:
    if not isinstance(fact, dict):
        return [f"not a mapping: {fact!r}"]
    kind = kind or fact.get("fact")
    if kind not in KIND_KEYS:
        return [f"unknown fact kind {kind!r}"]
    required, optional = KIND_KEYS[kind]
    nested = kind == "event" and "fact" not in fact
    allowed = required | optional | (set() if nested else COMMON_KEYS)
    problems = [f"missing {k!r}" for k in sorted(required - fact.keys())]
    problems += [f"unknown key {k!r}" for k in sorted(fact.keys() - allowed)]
    for key in ("type", "class"):
        if key in fact and fact[key] not in KNOWN_CLASSES:
            problems.append(f"unknown class {fact[key]!r}")
    name_fields = {*EVENT_NAME_FIELDS, *INITIATIVE_NAME_FIELDS, *AGREEMENT_NAME_FIELDS, "names"}
    for key in name_fields & fact.keys():
        if not isinstance(fact[key], list) or not fact[key]:
            problems.append(f"{key!r} must be a non-empty list of names")
    for key in ("amount", "attendee_count"):
        if key in fact:
            value = fact[key]
            if not isinstance(value, dict) or _decimal(value.get("value")) is None:
                problems.append(f"{key!r} needs a numeric 'value'")
            elif value.get("qualifier", "Exact") not in QUALIFIERS:
                problems.append(f"{key!r}: unknown qualifier {value['qualifier']!r}")
    for key in ("date",):
        if key in fact and not re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", str(fact[key])):
            problems.append(f"bad date {fact[key]!r}")
    if "date" in fact and "why" not in fact and "fact" in fact:
        problems.append("a date needs a 'why' (how it was read from the text)")
    for key in ("part_of", "signed_at_event"):
        if isinstance(fact.get(key), dict):
            problems += [f"{key}: {p}" for p in _schema_problems(fact[key], "event")]
    if kind == "role" and fact.get("status", "current") not in ("current", "former"):
        problems.append(f"bad status {fact['status']!r}")
    if kind == "absent" and fact.get("what") not in ABSENT_WHATS:
        problems.append(f"unknown absent check {fact.get('what')!r}")
    if not nested and not isinstance(fact.get("quote"), str | list):
        problems.append("missing 'quote'")
    return problems


@pytest.mark.parametrize(("index", "fact"), FACT_PARAMS)
def test_expectation_is_well_formed(index, fact):
    """Each expectation uses only the keys its kind defines (a typo must not silently turn a
    constraint off) and names classes and qualifiers the model has."""
    problems = _schema_problems(fact)
    assert not problems, f"#{index} {_fact_id(index, fact)}: " + "; ".join(problems)


FOUNDING_SOURCES = {"hancock-china-visit-digital-health", "uk-china-healthcare-deals-2018",
                    "cbbc-healthcare-delegation-2015", "hk-dh-beijing-meetings-2024",
                    "china-uk-video-meeting-2020"}


def test_expectations_cover_all_sources():
    """There are at least 40 hand-checked facts, and each of the five founding sources has
    some (a source added later may have none yet: adding a source never breaks the tests)."""
    registry = _load_registry()
    per_source = defaultdict(int)
    for fact in FACTS:
        per_source[fact.get("source")] += 1
    assert len(FACTS) >= 40, f"only {len(FACTS)} expectations"
    missing = sorted(FOUNDING_SOURCES - set(per_source))
    assert not missing, f"sources without expectations: {missing}"
    unknown = sorted(set(per_source) - set(registry), key=str)
    assert not unknown, f"expectations citing unregistered sources: {unknown}"
