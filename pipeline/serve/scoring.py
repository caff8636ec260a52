"""Scoring a reconciliation batch: the name index of a release, and the candidates of queries.

In:  a `Service` (the entities of a release with their names, types, countries and QIDs;
     built by `pipeline.serve.reconcile.load_service`) and the checked `Query` objects of
     one batch.
Out: `score_batch(service, queries)`: per query its candidates, best first, as the
     Reconciliation API 0.2 result objects (id, name, description, score, features, match,
     type).

Scores are rapidfuzz WRatio similarities (0-100) of the query against the labels and
alternative labels of an entity, both processed by `rapidfuzz.utils.default_process` (case
folding, punctuation removed); an entity scores as its best name (the label before an
alias when they tie). Names below CANDIDATE_CUTOFF are no candidates. `type` and
`properties` constraints narrow the candidates; they never change a score. Candidates are
ranked by score (rounded to 2 decimals), then by whole-string similarity (`fuzz.ratio`),
then by id; `match: true` only for a first candidate with score >= MATCH_SCORE, ratio >=
MATCH_RATIO and a ratio MATCH_GAP ahead of every other candidate's.

Blocking: WRatio (its partial alignments above all) costs microseconds a pair, so scoring
every name for every query grows with the release. A query is scored only against the
names of the entities it could match: those with a name token within TOKEN_MATCH
(`fuzz.ratio`) of one of its tokens (an inverted index over the name tokens), and those
with a name within WHOLE_GUARD of the whole query (`fuzz.ratio` over every name:
bit-parallel, tens of nanoseconds a pair). A frequent token (in more than FREQUENT_SHARE
of the entities, and more than FREQUENT_MIN: "of", "the", "health", "china" in ours)
keeps only the entities with a name made of frequent tokens alone, unless every token of
the query is a frequent token: WRatio scores any two names of unequal length that share
one token at 85.5 (its partial token ratio), so a shared "of" made most of the release a
candidate of every query that holds it, and cost two thirds of the scoring. Every name of
a kept entity is scored, so a kept candidate has exactly the score, best name and ratio
that scoring every name gives.
What blocking can drop is bounded: an entity whose every name is under WHOLE_GUARD has a
ratio under 80, so it can be neither a `match: true` nor the rival that prevents one. It
scores 95 or more only through WRatio's token parts at 100 (its partial alignments are
scaled by at most 0.9), that is when one name's tokens are all among the query's or the
other way round: the query holds a token that is not frequent, which is then a token of
the name and keeps it; or it holds frequent tokens alone and every token keeps its
entities; or the name's tokens are all the query's, and a frequent-only name is kept by
each of its tokens. So match flags, and every first candidate scoring 95 or more, are
those of scoring every name; what is dropped scores under 95.

Cost: everything that depends only on the release is made once, when the Service is built:
the processed names and who owns each, the token index, each entity's type set, the
processed names of countries (for `country` constraints), and the parts of a result object
that do not depend on the query (description, type list). A batch is then one ratio matrix
of its query tokens against the token vocabulary, one of its texts against the names, and
one WRatio row per query text over its kept names (C++, without the GIL); Python works
only on the few names above the cutoff and writes a result only for the first `limit`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy
from rapidfuzz import fuzz, process, utils

HC = "https://w3id.org/healthcoop/ontology#"
HCID = "https://w3id.org/healthcoop/id/"
WIKIDATA = "http://www.wikidata.org/entity/"
MATCH_SCORE = 95        # match: true needs a top score this high,
MATCH_GAP = 10          # a whole-string similarity this far ahead of every other's,
MATCH_RATIO = 90        # and a whole-string similarity this high (not a substring hit)
CANDIDATE_CUTOFF = 65   # below this name similarity nothing is a candidate
TOKEN_MATCH = 75        # a name token this near (fuzz.ratio) to a query token keeps its entity
WHOLE_GUARD = 60        # so does a name this near (fuzz.ratio) to the whole query; <= 80,
                        # or blocking could drop the rival that prevents a match: true
FREQUENT_SHARE = 0.1    # a token in more than this share of the entities is frequent,
FREQUENT_MIN = 10       # if it is also in more than this many


@dataclass
class Entity:
    ident: str
    name: str = ""
    alt: list[str] = field(default_factory=list)
    types: list[str] = field(default_factory=list)  # hc: local names, broad kind first
    country: list[str] = field(default_factory=list)  # entity ids
    wikidata: list[str] = field(default_factory=list)  # QIDs


@dataclass
class Service:
    """The index of a release: entities with their names, types, countries and QIDs, and
    what scoring needs of them, worked out once."""

    entities: dict[str, Entity]
    type_names: dict[str, str]
    names: list[str] = field(default_factory=list)  # processed names, for rapidfuzz
    owners: list[tuple[str, bool]] = field(default_factory=list)  # (entity, is alias)
    type_sets: dict[str, set[str]] = field(default_factory=dict)  # entity -> its types
    forms: dict[str, set[str]] = field(default_factory=dict)  # entity -> processed names
    descriptions: dict[str, str] = field(default_factory=dict)  # entity -> description
    type_refs: dict[str, list[dict]] = field(default_factory=dict)  # entity -> `type` list
    name_entity: numpy.ndarray = None  # name index -> entity ordinal (order of `entities`)
    vocabulary: list[str] = field(default_factory=list)  # name tokens, sorted
    postings: list[numpy.ndarray] = field(default_factory=list)  # token -> entity ordinals
    frequent: set[str] = field(default_factory=set)  # tokens whose postings are cut down
    # frequent token's index -> all its entities (used when a query has frequent tokens only)
    frequent_postings: dict[int, numpy.ndarray] = field(default_factory=dict)
    type_masks: dict[frozenset[str], numpy.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        owner_of: list[int] = []
        tokens: dict[str, set[int]] = {}
        name_tokens: list[tuple[int, list[str]]] = []
        for ordinal, ent in enumerate(self.entities.values()):
            self.type_sets[ent.ident] = set(ent.types)
            for text, alias in [(ent.name, False)] + [(a, True) for a in ent.alt]:
                processed = utils.default_process(text)
                self.names.append(processed)
                self.owners.append((ent.ident, alias))
                owner_of.append(ordinal)
                name_tokens.append((ordinal, processed.split()))
                for token in name_tokens[-1][1]:
                    tokens.setdefault(token, set()).add(ordinal)
            self.forms[ent.ident] = {utils.default_process(n) for n in [ent.name, *ent.alt]}
        self.name_entity = numpy.array(owner_of, dtype=numpy.intp)
        self.vocabulary = sorted(tokens)
        most = max(FREQUENT_MIN, FREQUENT_SHARE * len(self.entities))
        self.frequent = {t for t, owners in tokens.items() if len(owners) > most}
        bare: dict[str, set[int]] = {}  # frequent token -> entities with a frequent-only name
        for ordinal, parts in name_tokens:
            if parts and self.frequent.issuperset(parts):
                for token in parts:
                    bare.setdefault(token, set()).add(ordinal)
        for j, t in enumerate(self.vocabulary):
            every = numpy.array(sorted(tokens[t]), dtype=numpy.intp)
            if t in self.frequent:
                self.frequent_postings[j] = every
                every = numpy.array(sorted(bare.get(t, ())), dtype=numpy.intp)
            self.postings.append(every)
        for ent in self.entities.values():
            self.descriptions[ent.ident] = describe(ent, self)
            self.type_refs[ent.ident] = [{"id": t, "name": self.type_names[t]}
                                         for t in ent.types]


@dataclass
class Query:
    """One query of a batch, checked: its text (and that text processed as the names are),
    type constraint, property constraints and candidate limit."""

    text: str
    processed: str
    types: set[str]
    wanted: dict[str, list[str]]
    limit: int


def score_batch(service: Service, queries: list[Query]) -> list[list[dict]]:
    """The candidates of each query, in the order of `queries`: the distinct query texts
    of each type constraint scored in one cdist call, then each query's hits ranked."""
    groups: dict[frozenset[str], set[str]] = {}
    for q in queries:
        if q.processed:
            groups.setdefault(frozenset(q.types), set()).add(q.processed)
    hits: dict[tuple[frozenset[str], str], list[tuple[int, float]]] = {}
    for types, texts in groups.items():
        ordered = sorted(texts)
        for text, row in zip(ordered, _scores(service, ordered, types), strict=True):
            hits[(types, text)] = row
    return [candidates(service, q, hits.get((frozenset(q.types), q.processed)))
            for q in queries]


def _scores(service: Service, texts: list[str],
            types: frozenset[str]) -> list[list[tuple[int, float]]]:
    """Per text, the (name index, WRatio score) of every name of an entity it keeps (see
    `_kept`), of one of `types` (any entity when empty), scoring CANDIDATE_CUTOFF or more,
    in index order. cdist sets the scores under the cutoff to 0; float64, so that the
    scores are the very numbers `fuzz.WRatio` gives one pair at a time."""
    if not texts or not service.names:
        return [[] for _ in texts]
    allowed = _type_mask(service, types)
    out = []
    for text, kept in zip(texts, _kept(service, texts), strict=True):
        indices = numpy.flatnonzero(kept & allowed if allowed is not None else kept)
        if not len(indices):
            out.append([])
            continue
        names = [service.names[i] for i in indices.tolist()]
        row = process.cdist([text], names, scorer=fuzz.WRatio, processor=None,
                            score_cutoff=CANDIDATE_CUTOFF, dtype=numpy.float64, workers=1)[0]
        found = numpy.flatnonzero(row)
        out.append(list(zip(indices[found].tolist(), row[found].tolist(), strict=True)))
    return out


def _kept(service: Service, texts: list[str]) -> list[numpy.ndarray]:
    """Per text, a boolean mask over the names: every name of each entity that has a name
    token within TOKEN_MATCH of one of the text's tokens (a frequent name token only for
    an entity with a frequent-only name, or for a text of frequent tokens alone), or a
    name within WHOLE_GUARD of the whole text (the module docstring says what this can and
    cannot drop)."""
    tokens = sorted({t for text in texts for t in text.split()})
    near: dict[str, list[int]] = {}  # query token -> indices of the near vocabulary tokens
    if tokens and service.vocabulary:
        rows = process.cdist(tokens, service.vocabulary, scorer=fuzz.ratio, processor=None,
                             score_cutoff=TOKEN_MATCH, workers=1)
        near = {token: numpy.flatnonzero(row).tolist()
                for token, row in zip(tokens, rows, strict=True)}
    whole = process.cdist(texts, service.names, scorer=fuzz.ratio, processor=None,
                          score_cutoff=WHOLE_GUARD, workers=1)
    postings, every = service.postings, service.frequent_postings
    masks = []
    for text, row in zip(texts, whole, strict=True):
        words = text.split()
        only_frequent = service.frequent.issuperset(words)
        parts = [every[j] if only_frequent and j in every else postings[j]
                 for w in words for j in near.get(w, ())]
        parts.append(service.name_entity[numpy.flatnonzero(row)])
        entities = numpy.zeros(len(service.entities), dtype=bool)
        entities[numpy.concatenate(parts)] = True
        masks.append(entities[service.name_entity])
    return masks


def _type_mask(service: Service, types: frozenset[str]) -> numpy.ndarray | None:
    """A boolean mask over the names of entities of one of `types` (None: no constraint);
    made once per type constraint."""
    if not types:
        return None
    mask = service.type_masks.get(types)
    if mask is None:
        mask = numpy.array([bool(types & service.type_sets[ident])
                            for ident, _ in service.owners], dtype=bool)
        service.type_masks[types] = mask
    return mask


def candidates(service: Service, q: Query, hits: list[tuple[int, float]] | None) -> list[dict]:
    """The query's candidates, best first: the features are worked out for the few names
    above the cutoff, and a result is written only for the first `limit` of them."""
    text, processed, types, wanted = q.text.strip(), q.processed, q.types, q.wanted
    owners, names, entities, type_sets = (service.owners, service.names, service.entities,
                                          service.type_sets)
    best: dict[str, tuple[float, bool, str]] = {}  # entity -> (score, alias, name)
    if processed:
        for index, score in hits or ():
            ident, alias = owners[index]
            # strictly greater: of two equal names the first (the label before an alias)
            known = best.get(ident)
            if known is None or score > known[0]:
                best[ident] = (score, alias, names[index])
        if text in entities:  # an id as the query: that entity, high score
            best[text] = (100.0, False, utils.default_process(entities[text].name))
    elif wanted:  # properties only: every entity that has them
        best = dict.fromkeys(entities, (100.0, False, ""))
    ranked = []  # (rounded score, whole-string ratio, id, alias)
    ratio_of = fuzz.ratio
    for ident, (score, alias, name) in best.items():
        if types and not types & type_sets[ident]:
            continue
        if wanted and not all(has(entities[ident], pid, values, service)
                              for pid, values in wanted.items()):
            continue
        ratio = 100.0 if text == ident else ratio_of(processed, name) if processed else 100.0
        ranked.append((round(score, 2), ratio, ident, alias))
    ranked.sort(key=lambda c: (-c[0], -c[1], c[2]))
    match = False
    if ranked and processed:
        # ambiguity is judged on whole-string similarity: a longer name that merely holds
        # the query ("Anne Blackwood, CEO ..." for "Anne Blackwood") is no rival
        score, ratio = ranked[0][0], ranked[0][1]
        rival = max((c[1] for c in ranked[1:]), default=0.0)
        match = score >= MATCH_SCORE and ratio >= MATCH_RATIO and ratio - rival >= MATCH_GAP
    out = []
    for score, ratio, ident, alias in ranked[:q.limit]:
        features = [
            {"id": "name_similarity", "value": score},
            {"id": "name_ratio", "value": round(ratio, 2)},
            {"id": "alias_hit", "value": alias},
            {"id": "exact", "value": ratio == 100.0},
        ]
        if types:
            features.append({"id": "type_match", "value": True})
        if "country" in wanted:
            features.append({"id": "country_match", "value": True})
        out.append({"id": ident, "name": entities[ident].name,
                    "description": service.descriptions[ident], "score": score,
                    "features": features, "match": match and not out,
                    "type": service.type_refs[ident]})
    return out


def has(ent: Entity, pid: str, values: list[str], service: Service) -> bool:
    """Whether `ent` has property `pid` with one of `values` (a type, a QID, a country by
    id, IRI or name)."""
    if pid == "type":
        return bool({v.removeprefix(HC) for v in values} & service.type_sets[ent.ident])
    if pid == "wikidata":
        return bool({v.removeprefix(WIKIDATA).upper() for v in values} & set(ent.wikidata))
    # country: by id (united-kingdom, or its IRI) or by the country's name
    for v in values:
        v = v.removeprefix(HCID)
        for country in ent.country:
            if v == country or (country in service.forms and
                                utils.default_process(v) in service.forms[country]):
                return True
    return False


def describe(ent: Entity, service: Service) -> str:
    """A candidate's description: its kind, its countries, up to three other names."""
    parts = [service.type_names[ent.types[0]]]
    for country in ent.country:
        other = service.entities.get(country)
        parts.append(other.name if other else country)
    if ent.alt:
        parts.append("also " + ", ".join(ent.alt[:3]))
    return "; ".join(parts)
