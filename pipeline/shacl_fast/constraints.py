"""The SHACL Core constraint components, each a port of pyshacl's (pyshacl.constraints.core),
evaluated on one focus node and its value nodes at a time (base.py says how), in modules:
value.py (per value node), pairs.py (property pairs, sh:closed), logical.py (nested shapes).

Parameters are read and checked when the shapes are compiled; whatever pyshacl refuses at
validation time (a minCount on a node shape, two sh:datatype values, ...) raises
ShapesError here instead."""

from __future__ import annotations

from .base import Constraint, PerValue, report  # noqa: F401
from .logical import ListC, NodeC, NotC, PropertyC, QualifiedC
from .pairs import ClosedC, PairC
from .value import (  # noqa: F401
    ClassC,
    DatatypeC,
    HasValueC,
    InC,
    LanguageInC,
    MaxCountC,
    MaxLengthC,
    MinCountC,
    MinLengthC,
    NodeKindC,
    PatternC,
    RangeC,
    UniqueLangC,
    compare_literal,
    less_than,
    value_string,
)
from .vocab import SH


# parameter -> component, in the order pyshacl lists its components
def build(sg, shape, node, lookup) -> list[Constraint]:
    """The constraints of one shape, each component once (as pyshacl builds them)."""
    present = set(sg.predicates(node))
    out: list[Constraint] = []

    def has(*names):
        return any(SH[n] in present for n in names)

    if has("class"):
        out.append(ClassC(sg, shape, node))
    if has("datatype"):
        out.append(DatatypeC(sg, shape, node))
    if has("nodeKind"):
        out.append(NodeKindC(sg, shape, node))
    if has("minCount"):
        out.append(MinCountC(sg, shape, node))
    if has("maxCount"):
        out.append(MaxCountC(sg, shape, node))
    for name in ("minExclusive", "minInclusive", "maxExclusive", "maxInclusive"):
        if has(name):
            out.append(RangeC(sg, shape, node, name))
    if has("not"):
        out.append(NotC(sg, shape, node, lookup))
    for name in ("and", "or", "xone"):
        if has(name):
            out.append(ListC(sg, shape, node, lookup, name))
    if has("minLength"):
        out.append(MinLengthC(sg, shape, node))
    if has("maxLength"):
        out.append(MaxLengthC(sg, shape, node))
    if has("pattern"):
        out.append(PatternC(sg, shape, node))
    if has("languageIn"):
        out.append(LanguageInC(sg, shape, node))
    if has("uniqueLang"):
        out.append(UniqueLangC(sg, shape, node))
    for name in ("equals", "disjoint", "lessThan", "lessThanOrEquals"):
        if has(name):
            out.append(PairC(sg, shape, node, name))
    if has("node"):
        out.append(NodeC(sg, shape, node, lookup))
    if has("property"):
        out.append(PropertyC(sg, shape, node, lookup))
    if has("qualifiedValueShape", "qualifiedMinCount", "qualifiedValueShapesDisjoint",
           "qualifiedMaxCount"):
        if shape.is_property:  # pyshacl ignores it on a node shape (with a warning)
            out.append(QualifiedC(sg, shape, node, lookup))
    if has("closed", "ignoredProperties"):
        out.append(ClosedC(sg, shape, node, lookup))
    if has("hasValue"):
        out.append(HasValueC(sg, shape, node))
    if has("in"):
        out.append(InC(sg, shape, node))
    for c in out:
        c.shape_path = shape.path_node
    return out

