"""A fast SHACL engine giving the results pyshacl gives (pyshacl stays the reference).

    compiled = compile_shapes(shapes_graph)      # once
    results = compiled.validate(graph_or_triples)  # a list of FastResult

`compile_shapes` reads the shapes graph once into Python objects (constraint components
with their parameters checked, paths as functions, the targets as bit masks); `validate`
indexes the data (subject -> predicate -> values, plus inverse indexes where paths need
them), finds every shape's focus nodes in one pass, and runs per focus node a plan made for
its combination of shapes, so that a property shape whose predicate the node does not use,
and that cannot report on an absent value, costs nothing.

Semantics are pyshacl's (0.40) with inference="none", advanced=False, allow_warnings=True
and allow_infos=True, as pipeline/shacl.py calls it, quirks included (see the docstrings of
paths.py and constraints.py, and tests/test_shacl_fast.py, which compares the two engines).
Constructs this engine does not implement make `compile_shapes` raise NotImplementedError:
SPARQL-based constraints (sh:sparql), custom constraint components, SHACL Advanced Features
(sh:target, sh:rule, sh:expression, ...), any other sh: term it does not know, recursive
shapes, and shapes whose results pyshacl leaves to chance (several sh:severity or sh:flags
values).
"""

from __future__ import annotations

from rdflib import Graph

from .engine import CompiledShapes, FastResult
from .paths import ShapesError
from .shapes import load
from .vocab import COMPONENTS

SUPPORTED_COMPONENTS = sorted(str(c) for c in COMPONENTS.values())


def compile_shapes(shapes: Graph, *, allow_warnings: bool = True,
                   allow_infos: bool = True) -> CompiledShapes:
    """Compile a shapes graph. The result keeps `shapes` (results name its nodes)."""
    return CompiledShapes(shapes, load(shapes, allow_warnings, allow_infos))


__all__ = ["compile_shapes", "CompiledShapes", "FastResult", "ShapesError",
           "SUPPORTED_COMPONENTS"]
