"""What every constraint component is: `run(shape, focus, values, data)` returns None when
the component has nothing to say, else `(non_conformant, reports)`; a report is a tuple
`(shape, constraint, focus, value, result_path, component)`. `generic` makes the message
pyshacl gives when the shape has no sh:message."""

from __future__ import annotations

import weakref

from rdflib import Literal, URIRef

from . import text

_SHAPE_TEXTS: dict = {}  # id(shapes graph) -> (the graph, weakly; its blank nodes' texts)


def _shape_texts(sg) -> dict:
    """The texts of the shapes graph's blank nodes, kept as long as the graph lives."""
    found = _SHAPE_TEXTS.get(id(sg))
    if found is None or found[0]() is not sg:
        for key in [k for k, (ref, _t) in _SHAPE_TEXTS.items() if ref() is None]:
            del _SHAPE_TEXTS[key]
        found = _SHAPE_TEXTS[id(sg)] = (weakref.ref(sg), {})
    return found[1]


def report(shape, constraint, focus, value=None, component=None, path=False):
    return (shape, constraint, focus, value,
            shape.path_node if path is False else path,
            component or constraint.component)


class Constraint:
    component: URIRef
    absence_sensitive = False  # may report on a focus node that has no value nodes
    pure = True  # depends on the value terms alone, not on the rest of the data
    per_value = False  # one report per value that fails `ok(value)` (a function of it alone)

    def shapes(self) -> list:
        """The shapes this constraint evaluates value nodes against."""
        return []

    def run(self, shape, focus, values, data):  # pragma: no cover - abstract
        raise NotImplementedError

    def generic(self, sg, data, focus, value) -> list[Literal]:
        return []

    # helpers for generic messages (pyshacl's `stringify_node`)
    @staticmethod
    def _s(sg, node) -> str:
        return text.node_text(sg, node, sg.namespace_manager, cache=_shape_texts(sg))

    @staticmethod
    def _d(data, node) -> str:
        return text.node_text(data.view, node, data.ns_manager, cache=data.texts)


class PerValue(Constraint):
    """A component that judges each value node on its own: one report per failing value."""

    per_value = True

    def ok(self, value) -> bool:  # pragma: no cover - abstract
        raise NotImplementedError

    def run(self, shape, focus, values, data):
        ok = self.ok
        bad = [report(shape, self, focus, v) for v in values if not ok(v)]
        return (True, bad) if bad else None
