"""Components that evaluate value nodes against other shapes (sh:not, sh:and, sh:or,
sh:xone, sh:node, sh:property, sh:qualifiedValueShape); ports of pyshacl's. Conformance
of a nested shape is Data.conforms (cached); sh:node also counts its reports."""

from __future__ import annotations

from rdflib import Literal

from .base import Constraint, report
from .paths import ShapesError
from .vocab import (
    COMPONENTS,
    SH,
)

# --- shape-based and logical ------------------------------------------------------------------

class NotC(Constraint):
    component = COMPONENTS["Not"]

    def __init__(self, sg, shape, node, lookup):
        self.nodes = list(sg.objects(node, SH["not"]))
        self.targets = [_shape(lookup, n, "sh:not") for n in self.nodes]

    def shapes(self):
        return self.targets

    def run(self, shape, focus, values, data):
        bad = None
        for other in self.targets:
            for v in values:
                if data.conforms(other, v):
                    if bad is None:
                        bad = []
                    bad.append(report(shape, self, focus, v))
        return (True, bad) if bad else None

    def generic(self, sg, data, focus, value):
        value_text = self._value_text(data, value)
        if len(self.nodes) == 1:
            return [Literal(f"Node {value_text} must not conform to shape "
                            f"{self._s(sg, self.nodes[0])}")]
        nots = " , ".join(self._s(sg, n) for n in self.nodes)
        return [Literal(f"Node {value_text} must not conform to any shapes in {nots}")]

    def _value_text(self, data, value):
        try:
            return self._d(data, value)
        except (LookupError, ValueError):
            return str(value)


class ListC(NotC):
    """sh:and, sh:or, sh:xone: each value is a list of shapes."""

    WORDS = {"and": "must conform to all shapes in",
             "or": "must conform to one or more shapes in",
             "xone": "must conform to exactly one shape in"}

    def __init__(self, sg, shape, node, lookup, name):
        self.name = name
        self.component = COMPONENTS[name[0].upper() + name[1:]]
        self.nodes = list(sg.objects(node, SH[name]))
        self.lists = []
        for head in self.nodes:
            members = list(sg.items(head))
            if not members:
                raise ShapesError(f"The list associated with sh:{name} is not a valid RDF list.")
            shapes = [_shape(lookup, m, f"sh:{name}") for m in members]
            if name != "xone":  # pyshacl collects and/or members in a set, xone's in a list
                shapes = list({id(s): s for s in shapes}.values())
            self.lists.append(shapes)

    def shapes(self):
        return [s for shapes in self.lists for s in shapes]

    def run(self, shape, focus, values, data):
        bad = None
        name = self.name
        conforms = data.conforms
        for shapes in self.lists:
            for v in values:
                if name == "or":
                    ok = any([conforms(s, v) for s in shapes])
                elif name == "and":
                    ok = all([conforms(s, v) for s in shapes])
                else:
                    ok = sum(1 for s in shapes if conforms(s, v)) == 1
                if not ok:
                    if bad is None:
                        bad = []
                    bad.append(report(shape, self, focus, v))
        return (True, bad) if bad else None

    def generic(self, sg, data, focus, value):
        def members(head):
            return " , ".join(self._s(sg, m) for m in sg.items(head))
        if len(self.nodes) < 2:
            listed = members(self.nodes[0])
        else:
            listed = " and ".join(f"({members(head)})" for head in self.nodes)
        return [Literal(f"Node {self._value_text(data, value)} {self.WORDS[self.name]} {listed}")]


class NodeC(Constraint):
    component = COMPONENTS["Node"]

    def __init__(self, sg, shape, node, lookup):
        self.nodes = list(sg.objects(node, SH.node))
        self.targets = []
        for n in self.nodes:
            target = _shape(lookup, n, "sh:node")
            if target.is_property:
                raise ShapesError("Shape pointed to by sh:node is not a well-formed SHACL "
                                  "NodeShape.")
            self.targets.append(target)

    def shapes(self):
        return self.targets

    def run(self, shape, focus, values, data):
        if not values:
            return None
        bad = None
        for other in self.targets:
            for v in values:
                if other.direct:  # (a node shape: sh:node names no property shape)
                    failed = not other.fast(v, (v,), data)
                else:
                    non_conformant, reports = data.nested(other, v)
                    failed = non_conformant or reports
                if failed:
                    if bad is None:
                        bad = []
                    bad.append(report(shape, self, focus, v))
        return (True, bad) if bad else None

    def generic(self, sg, data, focus, value):
        if len(self.nodes) < 2:
            m = f"Value does not conform to Shape {self._s(sg, self.nodes[0])}."
        else:
            rules = "', '".join(self._s(sg, c) for c in self.nodes)
            m = f"Value must conform to every Shape in ('{rules}')."
        return [Literal(m + " See details for more information.")]


class PropertyC(Constraint):
    """sh:property: the reports of the property shapes, each run with a value as focus."""

    component = SH.PropertyConstraintComponent
    pure = False

    def __init__(self, sg, shape, node, lookup):
        self.targets = []
        for n in sg.objects(node, SH.property):
            target = _shape(lookup, n, "sh:property")
            if not target.is_property:
                raise ShapesError(f"'{n}' exists but is not a well-formed SHACL PropertyShape.")
            self.targets.append(target)

    def shapes(self):
        return self.targets

    def run(self, shape, focus, values, data):
        if not values:
            return None
        non_conformant = False
        reports = []
        for prop in self.targets:
            for v in values:
                nc, found = prop.evaluate(v, data)
                non_conformant = non_conformant or nc
                reports.extend(found)
        return (non_conformant, reports) if (non_conformant or reports) else None


class QualifiedC(Constraint):
    component = COMPONENTS["QualifiedMinCount"]
    pure = False

    def __init__(self, sg, shape, node, lookup):
        self.nodes = set(sg.objects(node, SH.qualifiedValueShape))
        if not self.nodes:
            raise ShapesError(f"{node}: sh:qualifiedMinCount/MaxCount needs "
                              "sh:qualifiedValueShape.")
        self.min = self._count(sg, node, SH.qualifiedMinCount)
        self.max = self._count(sg, node, SH.qualifiedMaxCount)
        if self.min is None and self.max is None:
            raise ShapesError(f"{node}: sh:qualifiedValueShape needs sh:qualifiedMinCount or "
                              "sh:qualifiedMaxCount.")
        self.disjoint = False
        for d in sg.objects(node, SH.qualifiedValueShapesDisjoint):
            if isinstance(d, Literal) and isinstance(d.value, bool):
                self.disjoint = self.disjoint or d.value
        self.absence_sensitive = self.disjoint or (self.min is not None and self.min >= 1)
        self.targets = []
        for v_shape in self.nodes:
            target = _shape(lookup, v_shape, "sh:qualifiedValueShape")
            siblings = []
            if self.disjoint:
                found = set()
                for parent in sg.subjects(SH.property, node):
                    for sibling_holder in sg.objects(parent, SH.property):
                        for sibling in sg.objects(sibling_holder, SH.qualifiedValueShape):
                            if sibling != v_shape:
                                found.add(sibling)
                siblings = [s for s in (lookup(n) for n in found) if s is not None]
                siblings = list({id(s): s for s in siblings}.values())
            self.targets.append((target, siblings))

    @staticmethod
    def _count(sg, node, predicate):
        found = set(sg.objects(node, predicate))
        if not found:
            return None
        if len(found) > 1:
            raise ShapesError(f"{node}: {predicate} must have at most one value.")
        value = next(iter(found))
        if not isinstance(value, Literal) or not isinstance(value.value, int):
            raise ShapesError(f"{node}: {predicate} must be a Literal with Int.")
        return value.value

    def shapes(self):
        return [t for t, siblings in self.targets] + [s for t, sib in self.targets for s in sib]

    def run(self, shape, focus, values, data):
        if not self.disjoint and not values and (self.min is None or self.min < 1):
            return None
        bad = None
        conforms = data.conforms
        if not data.unique and len(values) > 1:
            values = list(dict.fromkeys(values))
        for target, siblings in self.targets:
            count = 0
            for v in values:
                if conforms(target, v):
                    if not any([conforms(s, v) for s in siblings]):
                        count += 1
            if self.max is not None and count > self.max:
                bad = bad or []
                bad.append(report(shape, self, focus, None, COMPONENTS["QualifiedMaxCount"]))
            if self.min is not None and count < self.min:
                bad = bad or []
                bad.append(report(shape, self, focus, None, COMPONENTS["QualifiedMinCount"]))
        return (True, bad) if bad else None

    def generic(self, sg, data, focus, value):
        shapes = ",".join(self._s(sg, s) for s in self.nodes)
        counts = ""
        if self.min is not None:
            counts += f" MinCount {self.min}"
        if self.max is not None:
            counts += f" MaxCount {self.max}"
        if len(self.nodes) > 1:
            return [Literal(f"Focus node does not conform to shapes{counts}: ({shapes})")]
        return [Literal(f"Focus node does not conform to shape{counts}: {shapes}")]


def _shape(lookup, node, via: str):
    found = lookup(node)
    if found is None:
        raise ShapesError(f"Shape pointed to by {via} does not exist: {node}")
    return found
