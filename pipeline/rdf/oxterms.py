"""rdflib terms -> pyoxigraph terms, converted once.

In:  triples of rdflib terms (what the mapping yields and the SHACL engine reads).
Out: `OxConverter().triple(s, p, o)`: the same triple as a pyoxigraph Triple, which is what
     the writers serialise; pyoxigraph refuses what no strict serialiser would write (an
     invalid IRI, a bad language tag), so converting is also the check that a record can
     be published.

Terms are remembered by their text (hashing an rdflib term calls Python-level code and is
several times slower than hashing a str): a shard repeats its types, predicates and
subjects many times. The memory is bounded; it starts afresh past `LIMIT` terms.
"""

from __future__ import annotations

import pyoxigraph as ox
from rdflib import BNode, Literal, URIRef

LIMIT = 200_000


class OxConverter:
    def __init__(self) -> None:
        self._iris: dict[str, ox.NamedNode] = {}
        self._literals: dict[tuple, ox.Literal] = {}
        self._texts: dict[tuple, str] = {}

    def term(self, term) -> ox.NamedNode | ox.Literal | ox.BlankNode:
        if isinstance(term, URIRef):
            text = str(term)
            found = self._iris.get(text)
            if found is None:
                if len(self._iris) > LIMIT:
                    self._iris.clear()
                found = self._iris[text] = ox.NamedNode(text)
            return found
        if isinstance(term, Literal):
            key = (str(term), term.language, term.datatype)
            found = self._literals.get(key)
            if found is None:
                if len(self._literals) > LIMIT:
                    self._literals.clear()
                found = self._literals[key] = literal(term)
            return found
        if isinstance(term, BNode):
            return ox.BlankNode(str(term))
        if isinstance(term, (ox.NamedNode, ox.Literal, ox.BlankNode)):
            return term
        raise TypeError(f"not an RDF term: {term!r}")

    def triple(self, s, p, o) -> ox.Triple:
        return ox.Triple(self.term(s), self.term(p), self.term(o))

    def text(self, term) -> str:
        """The term's N-Triples form, as str() of its pyoxigraph term gives it (remembered:
        reading a pyoxigraph term's parts makes new objects every time)."""
        if isinstance(term, URIRef):
            # (str.__add__: URIRef's own + makes a new URIRef; pyoxigraph has checked the IRI,
            # so nothing in it needs escaping)
            return "".join(("<", term, ">"))
        key = (str(term), term.language, term.datatype) if isinstance(term, Literal) else None
        found = self._texts.get(key) if key else None
        if found is None:
            found = str(self.term(term))
            if key:
                if len(self._texts) > LIMIT:
                    self._texts.clear()
                self._texts[key] = found
        return found

    def __getstate__(self) -> dict:  # a worker that receives it starts with empty memories
        return {"_iris": {}, "_literals": {}, "_texts": {}}


def literal(term: Literal) -> ox.Literal:
    if term.language:
        return ox.Literal(str(term), language=term.language)
    if term.datatype:
        return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
    return ox.Literal(str(term))
