"""rdflib terms -> pyoxigraph terms, converted once.

In:  triples of rdflib terms (what the mapping yields and the SHACL engine reads).
Out: `OxConverter().keyed(s, p, o)`: the triple's sort key and its pyoxigraph terms, which
     is what the writers serialise; pyoxigraph refuses what no strict serialiser would write (an
     invalid IRI, a bad language tag), so converting is also the check that a record can
     be published.

Terms are remembered by their text (hashing an rdflib term calls Python-level code and is
several times slower than hashing a str): a shard repeats its types, predicates and
subjects many times. The memory is bounded; it starts afresh past `LIMIT` terms (each
remembered term is 200-400 bytes, and a worker process converts the terms of dozens of
shards: at 200,000 the memories were up to about 100 MB of each worker).
"""

from __future__ import annotations

import pyoxigraph as ox
from rdflib import BNode, Literal, URIRef

LIMIT = 50_000

SplitTriple = tuple[str, str, ox.NamedNode | ox.BlankNode | ox.Literal]
"""A triple as the shards hand it to the tables and the JSON-LD writer: the subject's
N-Triples form, the predicate's IRI and the object (reading a pyoxigraph triple's parts
makes new objects every time)."""


TYPE_TEXT = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"


class OxConverter:
    def __init__(self) -> None:
        self._iris: dict[str, ox.NamedNode] = {}
        self._literals: dict[tuple, tuple[str, ox.Literal]] = {}

    def term(self, term) -> ox.NamedNode | ox.Literal | ox.BlankNode:
        return self.entry(term)[1]

    def entry(self, term) -> tuple[str, ox.NamedNode | ox.Literal | ox.BlankNode]:
        """The term's N-Triples form (as str() of its pyoxigraph term gives it) and its
        pyoxigraph term, both remembered: reading a pyoxigraph term's parts makes new
        objects every time."""
        if isinstance(term, URIRef):
            # (str.join: URIRef's own + makes a new URIRef; pyoxigraph has checked the IRI,
            # so nothing in it needs escaping)
            text = "".join(("<", term, ">"))
            found = self._iris.get(text)
            if found is None:
                if len(self._iris) > LIMIT:
                    self._iris.clear()
                found = self._iris[text] = ox.NamedNode(term)
            return text, found
        if isinstance(term, Literal):
            key = (str(term), term.language, term.datatype)
            pair = self._literals.get(key)
            if pair is None:
                if len(self._literals) > LIMIT:
                    self._literals.clear()
                made = literal(term)
                pair = self._literals[key] = (str(made), made)
            return pair
        if isinstance(term, BNode):
            made = ox.BlankNode(str(term))
            return str(made), made
        if isinstance(term, (ox.NamedNode, ox.Literal, ox.BlankNode)):
            return str(term), term
        raise TypeError(f"not an RDF term: {term!r}")

    def keyed(self, s, p, o) -> tuple[tuple, tuple]:
        """A triple's sort key (subject, rdf:type first, predicate, object, by their
        N-Triples forms: publish._triple_key) and its pyoxigraph terms."""
        iris = self._iris
        # (the subject and predicate of a mapped triple are nearly always remembered IRIs:
        # looked up here without a call to `entry`, a fifth of converting a triple)
        ts = "".join(("<", s, ">")) if type(s) is URIRef else None
        xs = iris.get(ts) if ts is not None else None
        if xs is None:
            ts, xs = self.entry(s)
        tp = "".join(("<", p, ">")) if type(p) is URIRef else None
        xp = iris.get(tp) if tp is not None else None
        if xp is None:
            tp, xp = self.entry(p)
        to, xo = self.entry(o)
        return (ts, tp != TYPE_TEXT, tp, to), (xs, xp, xo)

    def text(self, term) -> str:
        """The term's N-Triples form."""
        return self.entry(term)[0]

    def __getstate__(self) -> dict:  # a worker that receives it starts with empty memories
        return {"_iris": {}, "_literals": {}}


def literal(term: Literal) -> ox.Literal:
    if term.language:
        return ox.Literal(str(term), language=term.language)
    if term.datatype:
        return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
    return ox.Literal(str(term))
