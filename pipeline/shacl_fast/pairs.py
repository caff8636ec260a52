"""Components comparing a node's values with another predicate's (sh:equals, sh:disjoint,
sh:lessThan, sh:lessThanOrEquals) or its other triples (sh:closed); ports of pyshacl's."""

from __future__ import annotations

from rdflib import BNode, Literal, URIRef

from .base import Constraint, report
from .paths import ShapesError
from .value import _is_bnode, _number
from .vocab import (
    COMPONENTS,
    RDF_TYPE,
    RDFS_RESOURCE,
    SH,
)

# --- property pairs ---------------------------------------------------------------------------

class PairC(Constraint):
    """sh:equals, sh:disjoint, sh:lessThan, sh:lessThanOrEquals."""

    pure = False
    SYMBOLS = {"equals": "!=", "disjoint": "==", "lessThan": "<=", "lessThanOrEquals": "<"}

    def __init__(self, sg, shape, node, name):
        self.name = name
        self.component = COMPONENTS[name[0].upper() + name[1:]]
        self.others = set(sg.objects(node, SH[name]))
        self.predicates = [shape.canonical(o) for o in self.others]  # as the index has them
        self.absence_sensitive = name == "equals"
        if name.startswith("lessThan"):
            if not shape.is_property:
                raise ShapesError(f"{node}: sh:{name} can only be on a property shape.")
            for other in self.others:
                if isinstance(other, (Literal, BNode)):
                    raise ShapesError(f"Value of sh:{name} MUST be a URI Identifier.")

    def run(self, shape, focus, values, data):
        bad = None
        name = self.name
        d = data.out.get(focus)
        for other in self.predicates:
            compare = d.get(other) if d is not None else None
            if not compare:
                if name == "equals" and values:
                    wrong = list(set(values))
                elif name.startswith("lessThan") and values:
                    # nothing to compare with, but pyshacl still refuses a blank node value
                    wrong = _not_less(set(values), (), name == "lessThanOrEquals")
                else:
                    continue
            elif name == "equals":
                if len(values) == 1 and len(compare) == 1 and next(iter(values)) == compare[0]:
                    continue
                value_set, compare_set = set(values), set(compare)
                wrong = list(value_set - compare_set) + list(compare_set - value_set)
            elif not values:
                continue
            elif name == "disjoint":
                wrong = list(set(values) & set(compare))
            else:
                wrong = _not_less(set(values), set(compare), name == "lessThanOrEquals")
            if wrong:
                if bad is None:
                    bad = []
                bad.extend(report(shape, self, focus, v) for v in wrong)
        return (True, bad) if bad else None

    def generic(self, sg, data, focus, value):
        symbol = self.SYMBOLS[self.name]
        if len(self.others) < 2:
            other = self._s(sg, next(iter(self.others)))
        else:
            other = ", ".join(self._s(sg, p) for p in self.others)
        return [Literal(f"Value of {self._d(data, focus)}->{other} {symbol} "
                        f"{self._d(data, value)}")]


def _not_less(values, compare, or_equal: bool) -> list:
    """pyshacl's _compare_lt / _compare_ltoe: one entry per failing (value, other) pair."""
    wrong = []
    name = "sh:lessThanOrEquals" if or_equal else "sh:lessThan"
    for value_node in values:
        if _is_bnode(value_node):
            raise RuntimeError(f"Cannot use {name} to compare a BlankNode.")
        value_is_string = False
        value = value_node
        if type(value_node) is URIRef or (type(value_node) is not Literal
                                          and isinstance(value_node, URIRef)):
            value, value_is_string = str(value_node), True
        elif (type(value_node) is Literal or isinstance(value_node, Literal)) \
                and isinstance(value_node.value, str):
            value, value_is_string = value_node.value, True
        for compare_node in compare:
            if _is_bnode(compare_node):
                raise RuntimeError(f"Cannot use {name} to compare a BlankNode.")
            other = compare_node
            compare_is_string = False
            if type(compare_node) is URIRef or (type(compare_node) is not Literal
                                                and isinstance(compare_node, URIRef)):
                other, compare_is_string = str(compare_node), True
            elif (type(compare_node) is Literal or isinstance(compare_node, Literal)) \
                    and isinstance(compare_node.value, str):
                other, compare_is_string = compare_node.value, True
            if value_is_string != compare_is_string:
                wrong.append(value_node)
                continue
            a = _number(value)
            b = _number(other) if a is not None else None
            if b is not None:  # rdflib's numeric fast path of Literal.__lt__ / __le__
                less = not (a > b) and not (a == b)
                if not (less or (or_equal and a == b)):
                    wrong.append(value_node)
            elif or_equal and not value <= other:
                wrong.append(value_node)
            elif not or_equal and not value < other:
                wrong.append(value_node)
    return wrong


class ClosedC(Constraint):
    component = COMPONENTS["Closed"]
    pure = False
    ALWAYS_IGNORE = {(RDF_TYPE, RDFS_RESOURCE)}

    def __init__(self, sg, shape, node, lookup):
        closed = list(sg.objects(node, SH.closed))
        ignored = list(sg.objects(node, SH.ignoredProperties))
        if ignored and not closed:
            raise ShapesError(f"{node}: sh:ignoredProperties needs sh:closed.")
        if len(closed) != 1 or not isinstance(closed[0], Literal):
            raise ShapesError(f"{node}: sh:closed must have exactly one boolean value.")
        self.closed = bool(closed[0].value)
        self.ignored = set()
        for i in ignored:
            try:
                self.ignored.update(shape.canonical(t) for t in sg.items(i))
            except ValueError:
                continue
        self.allowed = set()
        if self.closed:
            for p_shape in sg.objects(node, SH.property):
                prop = lookup(p_shape)
                if prop is None or not prop.is_property:
                    raise ShapesError("The shape pointed to by sh:property does not exist, or "
                                      "is not a well defined SHACL PropertyShape.")
                self.allowed.add(shape.canonical(prop.path_node))

    def run(self, shape, focus, values, data):
        if not self.closed:
            return None
        bad = None
        for v in values:
            d = data.out.get(v)
            if d is None:
                continue
            for p, objects in d.items():
                if p in self.ignored or p in self.allowed:
                    continue
                if not data.unique:
                    objects = dict.fromkeys(objects)
                for o in objects:
                    if (p, o) in self.ALWAYS_IGNORE:
                        continue
                    if bad is None:
                        bad = []
                    bad.append(report(shape, self, focus, o, path=p))
        return (True, bad) if bad else None

    def generic(self, sg, data, focus, value):
        return [Literal(f"Node {self._d(data, focus)} is closed. It cannot have value: "
                        f"{self._d(data, value)}")]
