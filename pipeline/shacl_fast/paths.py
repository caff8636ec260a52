"""SHACL property paths compiled to functions `values(node, data) -> collection`.

A port of pyshacl's `value_nodes_from_path` (pyshacl.helper.expression_helper), quirks
included: an inverse applies to every step of a sequence in order (`^(a/b)` is evaluated as
`^a/^b`), a one-element sequence nested in another path is allowed, and a path may nest at
most 10 deep. What pyshacl rejects only when it evaluates the path, these functions reject
when the shapes are compiled."""

from __future__ import annotations

from rdflib import BNode, Literal, URIRef

from .vocab import RDF_FIRST, RDF_NIL, RDF_REST, SH

EMPTY: tuple = ()


class ShapesError(ValueError):
    """The shapes graph is malformed in a way pyshacl refuses too."""


def compile_path(sg, path, inverse: bool = False, recursion: int = 0, needs=None,
                 canonical=None):
    """`needs` collects the predicates whose inverse index the data must provide;
    `canonical` maps an IRI to the object the data index uses for it."""
    if needs is None:
        needs = set()
    if canonical is None:
        def canonical(term):
            return term
    if isinstance(path, URIRef):
        path = canonical(path)
        if inverse:
            needs.add(path)
            return _inverse_step(path)
        return _forward_step(path)
    if isinstance(path, Literal):
        raise ShapesError("Values of a property path cannot be a Literal.")
    if recursion >= 10:
        raise ShapesError("Path traversal depth is too much!")
    first = set(sg.objects(path, RDF_FIRST))
    if first:
        first_node = next(iter(first))
        rest = set(sg.objects(path, RDF_REST))
        if not rest:
            raise ShapesError("A SHACL path list has no rdf:rest.")
        rest_node = next(iter(rest))
        if rest_node == RDF_NIL:
            if recursion == 0:
                raise ShapesError("A list of SHACL Paths must contain at least two path items.")
            return compile_path(sg, first_node, inverse, recursion + 1, needs, canonical)
        head = compile_path(sg, first_node, inverse, recursion + 1, needs, canonical)
        tail = compile_path(sg, rest_node, inverse, recursion + 1, needs, canonical)

        def sequence(node, data):
            found = set()
            for middle in head(node, data):
                found.update(tail(middle, data))
            return found
        return sequence
    inverse_of = set(sg.objects(path, SH.inversePath))
    if inverse_of:
        return compile_path(sg, next(iter(inverse_of)), not inverse, recursion + 1, needs,
                            canonical)
    alternatives = set(sg.objects(path, SH.alternativePath))
    if alternatives:
        options = [compile_path(sg, a, inverse, recursion + 1, needs, canonical)
                   for a in sg.items(next(iter(alternatives)))]
        if len(options) < 2:
            raise ShapesError("List of SHACL alternate paths must have at least two path items.")

        predicates = tuple(getattr(option, "predicate", None) for option in options)
        if all(p is not None for p in predicates):
            def simple_alternative(node, data):
                d = data.out.get(node)
                return EMPTY if d is None else union_of(d, predicates)
            simple_alternative.predicates = predicates
            return simple_alternative

        def alternative(node, data):
            found = set()
            for option in options:
                found.update(option(node, data))
            return found
        return alternative
    for predicate, zero, many in ((SH.zeroOrMorePath, True, True),
                                  (SH.oneOrMorePath, False, True),
                                  (SH.zeroOrOnePath, True, False)):
        inner_path = set(sg.objects(path, predicate))
        if inner_path:
            inner = compile_path(sg, next(iter(inner_path)), inverse, recursion + 1, needs,
                                 canonical)
            return _repeat(inner, zero, many)
    remaining = set(sg.predicate_objects(path))
    if remaining:
        raise ShapesError(f"{next(iter(remaining))[0]} is not a known property for a sh:path. "
                          "Malformed shape?")
    raise ShapesError("Cannot get any values from sh:path property. Malformed shape?")


def union_of(d: dict, predicates: tuple):
    """The values of a node for any of `predicates` (each value once, as pyshacl's set)."""
    found = None
    several = False
    for p in predicates:
        values = d.get(p)
        if values:
            if found is None:
                found = values
            else:
                found = list(found) + list(values)
                several = True
    if found is None:
        return EMPTY
    return list(dict.fromkeys(found)) if several else found


def _forward_step(predicate):
    def forward(node, data):
        d = data.out.get(node)
        if d is None:
            return EMPTY
        return d.get(predicate, EMPTY)
    forward.predicate = predicate
    return forward


def _inverse_step(predicate):
    def backward(node, data):
        return data.inverse(predicate).get(node, EMPTY)
    return backward


def _repeat(inner, zero: bool, many: bool):
    def repeat(node, data):
        found = {node} if zero else set()
        if not many:
            found.update(inner(node, data))
            return found
        todo = set(inner(node, data))
        while todo:
            current = todo.pop()
            if current in found:
                continue
            found.add(current)
            todo.update(inner(current, data))
        return found
    return repeat


def is_simple(path) -> bool:
    return isinstance(path, URIRef)


__all__ = ["compile_path", "union_of", "ShapesError", "EMPTY", "BNode"]
