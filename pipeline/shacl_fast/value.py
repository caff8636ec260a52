"""Components on each value node alone (ports of pyshacl.constraints.core): sh:class,
sh:datatype, sh:nodeKind, sh:minCount/maxCount, value ranges, sh:minLength/maxLength,
sh:pattern, sh:languageIn, sh:uniqueLang, sh:in, sh:hasValue."""

from __future__ import annotations

import re
from datetime import date, datetime, time
from decimal import Decimal

from rdflib import BNode, Literal, URIRef
from rdflib.term import _NUMERIC_LITERAL_TYPES, Identifier

from .base import Constraint, PerValue, report
from .paths import ShapesError
from .vocab import (
    COMPONENTS,
    RDF_LANGSTRING,
    RDFS_DATATYPE,
    RDFS_LITERAL,
    SH,
    XSD_BOOLEAN,
    XSD_DATE,
    XSD_DATETIME,
    XSD_DECIMAL,
    XSD_FLOAT,
    XSD_INTEGER,
    XSD_STRING,
    XSD_TIME,
    XSD_WHOLE_INTEGERS,
)

# --- value type -------------------------------------------------------------------------------

class ClassC(Constraint):
    component = COMPONENTS["Class"]
    pure = False

    def __init__(self, sg, shape, node):
        # canonical objects: Data.is_instance compares rdf:type values by identity
        self.rules = [shape.canonical(r) for r in sg.objects(node, SH["class"])]

    def run(self, shape, focus, values, data):
        bad = None
        for rule in self.rules:
            for v in values:
                if not data.is_instance(v, rule):
                    if bad is None:
                        bad = []
                    bad.append(report(shape, self, focus, v))
        return (True, bad) if bad else None

    def generic(self, sg, data, focus, value):
        if len(self.rules) < 2:
            return [Literal(f"Value does not have class {self._s(sg, self.rules[0])}")]
        rules = ", ".join(self._s(sg, c) for c in self.rules)
        return [Literal(f"Value class is not in classes ({rules})")]


_PYTHON_TYPES = {XSD_STRING: (str, bytes), RDF_LANGSTRING: (str, bytes), XSD_INTEGER: int,
                 XSD_FLOAT: float, XSD_DECIMAL: Decimal, XSD_BOOLEAN: bool, XSD_DATE: date,
                 XSD_TIME: time, XSD_DATETIME: datetime}


def _python_type(rule):
    """pyshacl's _assert_actual_datatype: the Python type the value of a literal of this
    datatype must have (None: any)."""
    for known, python in _PYTHON_TYPES.items():
        if rule == known:
            return python
    return None


class DatatypeC(PerValue):
    component = COMPONENTS["Datatype"]

    def __init__(self, sg, shape, node):
        rules = list(sg.objects(node, SH.datatype))
        if len(rules) != 1:
            raise ShapesError(f"{node}: sh:datatype must have exactly one value.")
        self.rule = rule = rules[0]
        self.python = _python_type(rule)
        self.is_literal = rule == RDFS_LITERAL
        self.is_datatype = rule == RDFS_DATATYPE
        self.is_string = rule == XSD_STRING
        self.is_langstring = rule == RDF_LANGSTRING

    def ok(self, v) -> bool:
        if type(v) is not Literal and not isinstance(v, Literal):
            return False
        datatype = v._datatype
        # (a URIRef equals the rule exactly when it is a URIRef with the same string; str's
        # own comparison avoids rdflib's Python-level __eq__)
        if datatype is self.rule or (datatype is not None and (
                str.__eq__(datatype, self.rule) if datatype.__class__ is URIRef
                and self.rule.__class__ is URIRef else datatype == self.rule)):
            if v._ill_typed is True:
                return False
            python = self.python
            return python is None or isinstance(v._value, python)
        if self.is_literal:
            return True
        if self.is_datatype and datatype:
            return True
        lang = v._language
        if datatype is None and lang is None and self.is_string:
            return isinstance(v._value, (str, bytes))
        if self.is_langstring and lang:
            return isinstance(v._value, (str, bytes))
        return False

    def generic(self, sg, data, focus, value):
        return [Literal(f"Value is not Literal with datatype {self._s(sg, self.rule)}")]


_KINDS = {
    "bnode": {SH.BlankNode, SH.BlankNodeOrLiteral, SH.BlankNodeOrIRI},
    "literal": {SH.Literal, SH.BlankNodeOrLiteral, SH.IRIOrLiteral},
    "iri": {SH.IRI, SH.IRIOrLiteral, SH.BlankNodeOrIRI},
}


class NodeKindC(PerValue):
    component = COMPONENTS["NodeKind"]

    def __init__(self, sg, shape, node):
        rules = list(sg.objects(node, SH.nodeKind))
        if len(rules) != 1:
            raise ShapesError(f"{node}: sh:nodeKind must have exactly one value.")
        self.rule = rules[0]
        self.bnode = self.rule in _KINDS["bnode"]
        self.literal = self.rule in _KINDS["literal"]
        self.iri = self.rule in _KINDS["iri"]

    def ok(self, v) -> bool:
        t = type(v)
        if t is URIRef:
            return self.iri
        if t is Literal:
            return self.literal
        if t is BNode:
            return self.bnode
        if isinstance(v, BNode):
            return self.bnode
        if isinstance(v, Literal):
            return self.literal
        if isinstance(v, Identifier):
            return self.iri
        return False

    def generic(self, sg, data, focus, value):
        return [Literal(f"Value is not of Node Kind {self._s(sg, self.rule)}")]


# --- cardinality ------------------------------------------------------------------------------

def _count_parameter(sg, shape, node, predicate, name):
    found = list(sg.objects(node, predicate))
    if len(found) != 1:
        raise ShapesError(f"{node}: {name} must have exactly one value.")
    if not shape.is_property:
        raise ShapesError(f"{node}: {name} can only be on a property shape.")
    value = found[0]
    if not (isinstance(value, Literal) and value.datatype == XSD_INTEGER):
        raise ShapesError(f"{node}: {name} must be a literal with datatype xsd:integer.")
    if int(value.value) < 0:
        raise ShapesError(f"{node}: {name} must be an integer >= 0.")
    return value


class MinCountC(Constraint):
    component = COMPONENTS["MinCount"]

    def __init__(self, sg, shape, node):
        self.literal = _count_parameter(sg, shape, node, SH.minCount, "sh:minCount")
        self.count = int(self.literal.value)
        self.absence_sensitive = self.count > 0

    def run(self, shape, focus, values, data):
        if self.count and len(values) < self.count:
            return True, [report(shape, self, focus)]
        return None

    def generic(self, sg, data, focus, value):
        path = self._s(sg, self.shape_path) if self.shape_path is not None else None
        try:
            focus_text = self._d(data, focus)
        except (LookupError, ValueError):
            focus_text = str(focus)
        if path:
            return [Literal(f"Less than {self.literal.value} values on {focus_text}->{path}")]
        return [Literal(f"Less than {self.literal.value} values on {focus_text}")]


class MaxCountC(Constraint):
    component = COMPONENTS["MaxCount"]

    def __init__(self, sg, shape, node):
        self.literal = _count_parameter(sg, shape, node, SH.maxCount, "sh:maxCount")
        self.count = int(self.literal.value)

    def run(self, shape, focus, values, data):
        if len(values) > self.count:
            return True, [report(shape, self, focus)]
        return None

    def generic(self, sg, data, focus, value):
        path = self._s(sg, self.shape_path) if self.shape_path is not None else None
        if path:
            return [Literal(f"More than {self.literal.value} values on "
                            f"{self._d(data, focus)}->{path}")]
        return [Literal(f"More than {self.literal.value} values on {self._d(data, focus)}")]


# --- value range ------------------------------------------------------------------------------

_FORCE_COMPARE_VALUE = (datetime, time)


_NUMERIC = frozenset(str(t) for t in _NUMERIC_LITERAL_TYPES)


def _number(literal):
    """The value of a literal that rdflib compares by its numeric fast path, else None."""
    if type(literal) is Literal:
        datatype = literal._datatype
        if datatype is not None and datatype.__class__ is URIRef and str(datatype) in _NUMERIC \
                and not literal._ill_typed:
            return literal._value
    return None


def less_than(value, other, or_equal: bool) -> bool:
    """True when sh:lessThan (or sh:lessThanOrEquals) certainly holds for two literals
    that rdflib compares by its numeric fast path; False when unsure."""
    a = _number(value)
    if a is None:
        return False
    b = _number(other)
    if b is None:
        return False
    less = not (a > b) and not (a == b)
    return less or (or_equal and a == b)


def compare_literal(l1, l2) -> int:
    """pyshacl.rdfutil.compare.compare_literal."""
    a = _number(l1)
    if a is not None:
        b = _number(l2)
        if b is not None:  # what rdflib's eq and __gt__ do for two such literals
            return 0 if a == b else (1 if a > b else -1)
    if l1.eq(l2):
        return 0
    if l1.value.__class__ in _FORCE_COMPARE_VALUE:
        if l1.value == l2.value:
            return 0
        if l1.value > l2.value:
            return 1
    elif l1 > l2:
        return 1
    return -1


class RangeC(PerValue):
    """sh:minExclusive, sh:minInclusive, sh:maxExclusive, sh:maxInclusive."""

    per_value = False  # several rules, each its own report

    TESTS = {
        "minExclusive": (lambda c: c > 0, ">"),
        "minInclusive": (lambda c: c >= 0, ">="),
        "maxExclusive": (lambda c: c < 0, "<"),
        "maxInclusive": (lambda c: c <= 0, "<="),
    }

    def __init__(self, sg, shape, node, name):
        self.component = COMPONENTS[name[0].upper() + name[1:]]
        self.rules = list(sg.objects(node, SH[name]))
        for rule in self.rules:
            if not isinstance(rule, Literal):
                raise ShapesError(f"{node}: sh:{name} must be a literal.")
        self.test, self.symbol = self.TESTS[name]

    def run(self, shape, focus, values, data):
        bad = None
        for rule in self.rules:
            rule_is_string = isinstance(rule.value, str)
            for v in values:
                flag = False
                if isinstance(v, Literal):
                    v_is_string = isinstance(v.value, str)
                    if rule_is_string == v_is_string:
                        try:
                            flag = self.test(compare_literal(v, rule))
                        except (TypeError, NotImplementedError):
                            flag = False
                elif not isinstance(v, (BNode, URIRef)):
                    raise RuntimeError("Not sure how to compare anything else.")
                if not flag:
                    if bad is None:
                        bad = []
                    bad.append(report(shape, self, focus, v))
        return (True, bad) if bad else None

    def generic(self, sg, data, focus, value):
        if len(self.rules) < 2:
            return [Literal(f"Value is not {self.symbol} {self._s(sg, self.rules[0])}")]
        rules = ", ".join(self._s(sg, c) for c in self.rules)
        return [Literal(f"Value is not {self.symbol} in ({rules})")]


# --- string-based -----------------------------------------------------------------------------

def _is_bnode(v) -> bool:
    t = type(v)
    if t is URIRef or t is Literal:
        return False
    return t is BNode or isinstance(v, BNode)


def value_string(v) -> str:
    """pyshacl's value_node_to_string (a URIRef is returned as is: it is a str)."""
    t = type(v)
    if t is URIRef:
        return v
    if t is Literal or isinstance(v, Literal):
        if v._value is not None and v._datatype in (None, RDF_LANGSTRING, XSD_STRING):
            return str(v._value)
        return str(v)
    return str(v)


def _length_rule(sg, node, predicate, name):
    found = list(sg.objects(node, predicate))
    if len(found) != 1:
        raise ShapesError(f"{node}: {name} must have exactly one value.")
    rule = found[0]
    if (not isinstance(rule, Literal) or getattr(rule, "ill_typed", False)
            or rule.datatype is None or rule.datatype not in XSD_WHOLE_INTEGERS):
        raise ShapesError(f"{node}: {name} value must be a literal value with an integer.")
    if rule.value < 0:
        raise ShapesError(f"{node}: {name} value must be a positive integer.")
    return rule


class MinLengthC(PerValue):
    component = COMPONENTS["MinLength"]

    def __init__(self, sg, shape, node):
        self.rule = _length_rule(sg, node, SH.minLength, "sh:minLength")
        self.length = self.rule.value

    def ok(self, v) -> bool:
        if self.length == 0:
            return True
        if _is_bnode(v):
            return False
        return len(value_string(v)) >= self.length

    def generic(self, sg, data, focus, value):
        return [Literal(f"String length not >= {self._d(data, self.rule)}")]


class MaxLengthC(PerValue):
    component = COMPONENTS["MaxLength"]

    def __init__(self, sg, shape, node):
        self.rule = _length_rule(sg, node, SH.maxLength, "sh:maxLength")
        self.length = self.rule.value

    def ok(self, v) -> bool:
        if _is_bnode(v):
            return False
        return len(value_string(v)) <= self.length

    def generic(self, sg, data, focus, value):
        return [Literal(f"String length not <= {self._d(data, self.rule)}")]


class PatternC(Constraint):
    component = COMPONENTS["Pattern"]
    per_value = True

    def __init__(self, sg, shape, node):
        self.rules = list(sg.objects(node, SH.pattern))
        for rule in self.rules:
            if not isinstance(rule, Literal):
                raise ShapesError(f"{node}: sh:pattern must be a literal.")
        flags = set(sg.objects(node, SH.flags))
        if len(flags) > 1:
            raise NotImplementedError(
                f"{node} has several sh:flags values; pyshacl uses one of them at random.")
        re_flags = 0
        if flags:
            given = str(next(iter(flags)).value).lower()
            if "i" in given:
                re_flags |= re.I
            if "m" in given:
                re_flags |= re.M
        self.matchers = []
        for rule in self.rules:
            source = str(rule.value) if rule.value is not None and len(rule.value) > 1 \
                else str(rule)
            self.matchers.append(re.compile(source, re_flags).search)

    def run(self, shape, focus, values, data):
        bad = None
        for search in self.matchers:
            for v in values:
                if isinstance(v, BNode) or not search(value_string(v)):
                    if bad is None:
                        bad = []
                    bad.append(report(shape, self, focus, v))
        return (True, bad) if bad else None

    def ok(self, v) -> bool:
        if _is_bnode(v):
            return False
        string = value_string(v)
        for search in self.matchers:
            if not search(string):
                return False
        return True

    def generic(self, sg, data, focus, value):
        if len(self.rules) < 2:
            return [Literal(f"Value does not match pattern '{self.rules[0].value}'")]
        rules = "', '".join(str(c.value) for c in self.rules)
        return [Literal(f"Value does not match every pattern in ('{rules}')")]


class LanguageInC(PerValue):
    component = COMPONENTS["LanguageIn"]

    def __init__(self, sg, shape, node):
        found = list(sg.objects(node, SH.languageIn))
        if len(found) != 1:
            raise ShapesError(f"{node}: sh:languageIn must have exactly one value.")
        self.rule = found[0]
        languages = set()
        try:
            for lang in sg.items(self.rule):
                if not isinstance(lang, Literal) or not isinstance(lang.value, str):
                    raise ShapesError("All languages in sh:languageIn must be a Literal with "
                                      "type xsd:string")
                languages.add(str(lang.value).lower())
        except (KeyError, AttributeError, ValueError) as err:
            if isinstance(err, ShapesError):
                raise
            raise ShapesError("Value of sh:languageIn must be a RDF List") from err
        self.languages = languages
        self.wildcard = "*" in languages

    def ok(self, v) -> bool:
        if type(v) is not Literal and not isinstance(v, Literal):
            return False
        lang = v._language
        if not lang:
            return False
        if self.wildcard:
            return True
        lower = str(lang).lower()
        if lower in self.languages:
            return True
        return lower.split("-")[0] in self.languages

    def generic(self, sg, data, focus, value):
        return [Literal(f"String language is not in {self._s(sg, self.rule)}")]


class UniqueLangC(Constraint):
    component = COMPONENTS["UniqueLang"]

    def __init__(self, sg, shape, node):
        found = set(sg.objects(node, SH.uniqueLang))
        if len(found) != 1:
            raise ShapesError(f"{node}: sh:uniqueLang must have exactly one value.")
        if not shape.is_property:
            raise ShapesError(f"{node}: sh:uniqueLang can only be on a property shape.")
        value = next(iter(found))
        if not isinstance(value, Literal) or not isinstance(value.value, bool):
            raise ShapesError(f"{node}: sh:uniqueLang must be a boolean literal.")
        self.unique = value.value

    def run(self, shape, focus, values, data):
        if not self.unique or len(values) < 2:
            return None
        seen = set()
        duplicates = set()
        for v in values:
            if isinstance(v, Literal):
                lang = v.language
                if lang:
                    lower = str(lang).lower()
                    if lower in seen:
                        duplicates.add(lower)
                    else:
                        seen.add(lower)
        if not duplicates:
            return None
        return True, [report(shape, self, focus) for _ in duplicates]

    def generic(self, sg, data, focus, value):
        return [Literal("More than one String shares the same Language")]


# --- other ------------------------------------------------------------------------------------

class InC(PerValue):
    component = COMPONENTS["In"]

    def __init__(self, sg, shape, node):
        found = list(sg.objects(node, SH["in"]))
        if len(found) != 1:
            raise ShapesError(f"{node}: sh:in must have exactly one value.")
        self.values = set()
        for item in sg.items(found[0]):  # canonical IRIs: membership tests hit by identity
            self.values.add(shape.canonical(item))

    def ok(self, v) -> bool:
        return v in self.values

    def generic(self, sg, data, focus, value):
        listed = [self._s(sg, v) for v in self.values]
        return [Literal(f"Value {self._d(data, value)} not in list {listed}")]


class HasValueC(Constraint):
    component = COMPONENTS["HasValue"]
    absence_sensitive = True

    def __init__(self, sg, shape, node):
        self.values = set(sg.objects(node, SH.hasValue))

    def run(self, shape, focus, values, data):
        bad = None
        for wanted in self.values:
            if not any(v == wanted for v in values):
                if bad is None:
                    bad = []
                bad.append(report(shape, self, focus))
        return (True, bad) if bad else None

    def generic(self, sg, data, focus, value):
        wanted = [self._s(sg, s) for s in self.values]
        if self.shape_path is not None:
            return [Literal(f"Node {self._d(data, focus)}->{self._s(sg, self.shape_path)} "
                            f"does not contain a value in the set: {wanted}")]
        return [Literal(f"Node {self._d(data, focus)} value is not a in the set of values: "
                        f"{wanted}")]
