"""The common case, compiled to Python source: functions that are True exactly when the
constraints they cover would find nothing (no report, no failure), so that the exact,
slower evaluation runs only on focus nodes that do not conform.

Two kinds are generated: `Shape.fast(focus, values, data)` for one shape, and per plan
(engine.Plan) one function for the node's own constraints and the property shapes that
must run on every focus node, and one per predicate for the property shapes on it.

The checks: counts first, then one loop over the value nodes with each per-value check
(sh:datatype, sh:nodeKind, sh:pattern, sh:in, sh:languageIn, sh:minLength, sh:class, ...,
the common cases inlined, e.g. `type(v) is URIRef` for sh:nodeKind sh:IRI, with the full
check as fallback), then the other constraints' own `run`. The value lists of a data graph
given as a list of triples may hold a value twice; every check here is monotone in that
(it can only fail more often with duplicates), except a minimum count of two or more, which
is checked on the distinct values."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal

from rdflib import BNode, Literal, URIRef

from . import constraints as C
from .paths import EMPTY
from .vocab import RDF_LANGSTRING, SH, XSD_STRING


class Code:
    """Source lines and the namespace they run in."""

    def __init__(self, class_bits: dict):
        self.namespace: dict = {"URIRef": URIRef, "Literal": Literal, "BNode": BNode,
                                "EMPTY": EMPTY, "str": str, "set": set, "sum": sum,
                                "len": len, "next": next, "iter": iter, "bool": bool,
                                "isinstance": isinstance, "int": int, "float": float,
                                "Decimal": Decimal, "date": date, "time": time,
                                "datetime": datetime, "bytes": bytes}
        self.class_bits = class_bits  # class -> its bit, for the sh:class checks
        self.lines: list[str] = []
        self._names: dict = {}

    def name(self, obj, prefix: str) -> str:
        key = id(obj)
        if key not in self._names:
            name = f"{prefix}{len(self._names)}"
            self._names[key] = name
            self.namespace[name] = obj
        return self._names[key]

    def build(self, name: str):
        source = "\n".join(self.lines)
        exec(source, self.namespace)  # noqa: S102 - source generated from the shapes
        function = self.namespace[name]
        function.source = source
        return function


def checks(code: Code, shape, constraints: list, indent: str, values: str = "values",
           focus: str = "focus") -> None:
    """Append to `code` the lines that `return False` unless `constraints` of `shape` all
    pass on `values` (a variable) at `focus`."""
    per_value: list[str] = []
    tail: list[str] = []
    shape_name = code.name(shape, "shape")
    for c in constraints:
        if isinstance(c, C.MinCountC):
            if c.count:
                code.lines.append(f"{indent}if len({values}) < {c.count}: return False")
                if c.count >= 2:
                    code.lines.append(f"{indent}if not data.unique and "
                                      f"len(set({values})) < {c.count}: return False")
        elif isinstance(c, C.MaxCountC):
            code.lines.append(f"{indent}if len({values}) > {c.count}: return False")
        elif isinstance(c, C.InC):
            per_value.append(f"if v not in {code.name(c.values, 'members')}: return False")
        elif isinstance(c, C.ClassC):
            per_value.append(f"if not {_class_test(code, c.rules)}: return False")
        elif c.per_value:
            per_value.append(f"if not {_value_test(code, c)}: return False")
        elif isinstance(c, C.ListC) and _members_inline(code, c) is not None:
            per_value += [f"if not {test}: return False" for test in _members_inline(code, c)]
        elif isinstance(c, C.NotC) and not isinstance(c, C.ListC) \
                and all(_conforms_test(code, t) for t in c.targets):
            per_value += [f"if {_conforms_test(code, t)}: return False" for t in c.targets]
        elif isinstance(c, C.QualifiedC) and not c.disjoint \
                and all(_conforms_test(code, t) for t, _siblings in c.targets):
            tail += _qualified_lines(code, c, values)
        elif isinstance(c, C.PairC) and len(c.predicates) == 1:
            tail += _pair_lines(code, c, values, focus)
        else:
            run = code.name(c.run, "run")
            tail.append(f"if {run}({shape_name}, {focus}, {values}, data) is not None: "
                        "return False")
    if per_value:
        code.lines.append(f"{indent}for v in {values}:")
        code.lines += [f"{indent}    {line}" for line in per_value]
    code.lines += [f"{indent}{line}" for line in tail]


def _value_test(code: Code, c) -> str:
    """An expression in `v` (and `data`) that is c.ok(v), its common cases inlined."""
    ok = code.name(c.ok, "ok")
    quick = _quick_accept(c)
    return f"({quick} or {ok}(v))" if quick else f"{ok}(v)"


def _class_test(code: Code, rules: list) -> str:
    """`v` is a SHACL instance of every class in `rules` (Data.class_bits: a bit per class
    that some sh:class names, the node's bits looked up once per node and call)."""
    bits = 0
    for rule in rules:
        bits |= code.class_bits[rule]
    return (f"((data.bits.get(str(v)) if type(v) is URIRef else None) or data.class_mask(v))"
            f" & {bits} == {bits}")


def _qualified_lines(code: Code, c, values: str) -> list[str]:
    """sh:qualifiedMin/MaxCount over shapes whose conformance is one value check."""
    lines = [f"n_ = {values} if data.unique else set({values})"]
    for target, _siblings in c.targets:
        lines.append(f"q_ = sum(1 for v in n_ if {_conforms_test(code, target)})")
        if c.max is not None:
            lines.append(f"if q_ > {int(c.max)}: return False")
        if c.min is not None:
            lines.append(f"if q_ < {int(c.min)}: return False")
    return lines


def _pair_lines(code: Code, c, values: str, focus: str) -> list[str]:
    """sh:equals / sh:disjoint with one other predicate: the plain cases; anything else
    is left to the exact evaluation."""
    other = code.name(c.predicates[0], "p")
    lines = [f"d_ = data.out.get({focus})",
             f"o_ = d_.get({other}) if d_ is not None else None"]
    if c.name == "equals":
        lines += ["if o_ is None:",
                  f"    if {values}: return False",
                  f"elif not (len({values}) == 1 and len(o_) == 1 "
                  f"and next(iter({values})) == o_[0]): return False"]
    elif c.name == "disjoint":
        lines += [f"if o_ is not None and {values}:",
                  f"    for v in {values}:",
                  "        if v in o_: return False"]
    else:
        test = code.name(C.less_than, "less_than")
        or_equal = c.name == "lessThanOrEquals"
        lines += ["if o_ is None:",
                  f"    for v in {values}:",
                  "        if type(v) is not URIRef and type(v) is not Literal: return False",
                  f"elif {values} and not (len({values}) == 1 and len(o_) == 1 and "
                  f"{test}(next(iter({values})), o_[0], {or_equal})): return False"]
    return lines


def _conforms_test(code: Code, shape) -> str | None:
    """An expression in `v` that is True exactly when `v` conforms to `shape` (a shape whose
    conformance is its fast check, Shape.direct): the check itself inlined when it is one
    value check (e.g. `[ sh:datatype xsd:date ]`), else Data.conforms. None: no such shape."""
    if not shape.direct:
        return None
    if shape.is_property or len(shape.constraints) != 1:
        return f"data.conforms({code.name(shape, 'shape')}, v)"
    (c,) = shape.constraints
    if isinstance(c, C.InC):
        return f"v in {code.name(c.values, 'members')}"
    if isinstance(c, C.ClassC):
        return _class_test(code, c.rules)
    if c.per_value:
        return _value_test(code, c)
    return f"data.conforms({code.name(shape, 'shape')}, v)"


def _members_inline(code: Code, c) -> list[str] | None:
    """For sh:or / sh:and / sh:xone over such shapes: one test per list (None: cannot)."""
    tests = []
    for shapes in c.lists:
        members = [_conforms_test(code, s) for s in shapes]
        if any(m is None for m in members):
            return None
        if c.name == "or":
            tests.append("(" + " or ".join(members) + ")")
        elif c.name == "and":
            tests.append("(" + " and ".join(members) + ")")
        else:
            tests.append("(" + " + ".join(f"bool({m})" for m in members) + " == 1)")
    return tests


def _quick_accept(c) -> str | None:
    """An expression in `v` that implies c.ok(v), for the common cases (None: none)."""
    if isinstance(c, C.NodeKindC):
        if c.iri:
            return "type(v) is URIRef"
        if c.literal:
            return "type(v) is Literal"
        return None
    if isinstance(c, C.LanguageInC) and not c.wildcard:
        return f"type(v) is Literal and v._language in {sorted(c.languages)!r}"
    if isinstance(c, C.DatatypeC):
        if c.rule.__class__ is URIRef and c.rule not in (XSD_STRING, RDF_LANGSTRING) \
                and not c.is_literal and not c.is_datatype:
            rule = repr(str(c.rule))
            python = ""
            if c.python is not None:
                python = f" and isinstance(v._value, {_python_name(c.python)})"
            return (f"(type(v) is Literal and v._datatype.__class__ is URIRef and "
                    f"str.__eq__(v._datatype, {rule}) and v._ill_typed is not True{python})")
        if c.rule == XSD_STRING:
            return ("type(v) is Literal and v._datatype is None and v._language is None "
                    "and type(v._value) is str")
        if c.rule == RDF_LANGSTRING:
            return "type(v) is Literal and v._language and type(v._value) is str"
    if isinstance(c, C.MinLengthC) and c.length > 0:
        return (f"(type(v) is Literal and v._datatype is None and type(v._value) is str "
                f"and len(v._value) >= {int(c.length)})")
    return None


def _python_name(python) -> str:
    import datetime
    import decimal
    names = {str: "str", bytes: "bytes", int: "int", float: "float", bool: "bool",
             decimal.Decimal: "Decimal", datetime.date: "date", datetime.time: "time",
             datetime.datetime: "datetime"}
    if isinstance(python, tuple):
        return "(" + ", ".join(names[p] for p in python) + ",)"
    return names[python]


def compile_fast(shape, constraints: list):
    """`fast(focus, values, data)` for these constraints of one shape."""
    code = Code(shape.class_bits)
    code.lines.append("def fast(focus, values, data):")
    checks(code, shape, constraints, "    ")
    code.lines.append("    return True")
    return code.build("fast")


__all__ = ["Code", "checks", "compile_fast", "SH"]
