"""Reading the shapes graph: which nodes are shapes (pyshacl's rules, not the spec's: a
node is a shape if it is a sh:NodeShape or sh:PropertyShape, has a target, is the subject
of sh:property or sh:node, or is a value of sh:property, sh:node, sh:not,
sh:qualifiedValueShape or a member of an sh:and/or/xone list), what each one checks, and
whether the graph uses anything this engine does not implement."""

from __future__ import annotations

from rdflib import Literal, URIRef
from rdflib.namespace import RDF, RDFS

from . import constraints
from .fastpath import compile_fast
from .paths import EMPTY, ShapesError, compile_path
from .vocab import (
    INFO,
    KNOWN_CLASSES,
    OTHER_PREDICATES,
    OWL_CLASS,
    PARAMETERS,
    RDFS_CLASS,
    SH,
    SH_NS,
    UNSUPPORTED_PARAMETERS,
    VIOLATION,
    WARNING,
)

MAX_VALIDATION_DEPTH = 15  # pyshacl's default max_validation_depth


def check_supported(sg) -> None:
    """NotImplementedError naming every SHACL construct of `sg` this engine does not
    implement (SPARQL-based constraints, custom constraint components, SHACL-AF, any other
    sh: term it does not know)."""
    problems = set()
    for s, p, o in sg:
        if isinstance(p, URIRef) and p.startswith(SH_NS):
            if p in UNSUPPORTED_PARAMETERS:
                problems.add(f"{p.n3(sg.namespace_manager)} (SPARQL-based constraints need "
                             "pyshacl)")
            elif p not in PARAMETERS and p not in OTHER_PREDICATES:
                problems.add(p.n3(sg.namespace_manager))
        if p == RDF.type and isinstance(o, URIRef) and o.startswith(SH_NS) \
                and o not in KNOWN_CLASSES:
            problems.add(f"a {o.n3(sg.namespace_manager)}")
        if p == RDFS.subClassOf and o == SH.ConstraintComponent:
            problems.add(f"custom constraint components ({s.n3(sg.namespace_manager)})")
    if problems:
        raise NotImplementedError(
            "pipeline.shacl_fast does not implement " + ", ".join(sorted(problems))
            + " (found in the shapes graph).")


class Shape:
    """One shape, compiled. `evaluate(focus, data)` is pyshacl's Shape.validate for a single
    focus node: (non_conformant, reports), with allow_warnings/allow_infos as given."""

    def __init__(self, sg, node, is_property: bool, path_node, index: int, allowed: set,
                 lenient: bool, terms: dict):
        self.sg = sg
        # the canonical object of an IRI (shape_terms): the data index uses these, so that
        # lookups of predicates and classes hit by identity
        self.canonical = (lambda t: terms.get(str(t), t) if type(t) is URIRef else t)
        self.node = node
        self.index = index
        self.is_property = is_property
        self.path_node = path_node if is_property else None
        self.needs_inverse: set = set()
        self.path = (compile_path(sg, path_node, needs=self.needs_inverse,
                                  canonical=self.canonical) if is_property else None)
        self.simple_predicate = (self.canonical(path_node)
                                 if is_property and isinstance(path_node, URIRef) else None)
        deactivated = set(sg.objects(node, SH.deactivated))
        if len(deactivated) > 1:
            raise ShapesError(f"{node}: a shape cannot have more than one sh:deactivated.")
        if deactivated:
            d = next(iter(deactivated))
            if not isinstance(d, Literal):
                raise ShapesError(f"{node}: sh:deactivated must be a literal.")
            self.deactivated = bool(d.value)
        else:
            self.deactivated = False
        severities = set(sg.objects(node, SH.severity))
        if len(severities) > 1:
            raise NotImplementedError(
                f"{node} has several sh:severity values; pyshacl uses one of them at random.")
        self.severity = next(iter(severities)) if severities else VIOLATION
        self.raw_messages = list(set(sg.objects(node, SH.message)))
        self.messages = [m for m in self.raw_messages if isinstance(m, Literal)]
        # pyshacl, with allow_warnings/allow_infos: a shape of an allowed severity conforms
        # whatever it finds; any other shape fails only on reports of other severities
        self.allowed = allowed
        self.lenient = lenient
        self.allow_conform = lenient and self.severity in allowed
        self.filter_reports = lenient and not self.allow_conform
        self.constraints: list = []
        self.own: list = []  # the constraints other than sh:property
        self.properties: list = []  # the property shapes of its sh:property
        self.absence_sensitive = False

    def finish(self, lookup) -> None:
        self.constraints = constraints.build(self.sg, self, self.node, lookup)
        self.own = [c for c in self.constraints if not isinstance(c, constraints.PropertyC)]
        for c in self.constraints:
            if isinstance(c, constraints.PropertyC):
                self.properties.extend(c.targets)
        self.absence_sensitive = any(c.absence_sensitive for c in self.constraints)
        # conformance is exactly "the fast check passes" for a shape that is active, of a
        # severity that fails (not one allow_warnings/allow_infos lets conform), with no
        # sh:property (whose shapes could report with another severity)
        self.direct = not self.deactivated and not self.allow_conform and not self.properties

    def compile(self) -> None:
        """The generated fast checks, each made the first time it is used (after every
        shape is finished: they look into the shapes this one refers to)."""

        def fast(focus, values, data):
            self.fast = compile_fast(self, self.constraints)
            return self.fast(focus, values, data)

        def own_fast(focus, values, data):
            self.own_fast = compile_fast(self, self.own)
            return self.own_fast(focus, values, data)

        self.fast = fast
        self.own_fast = own_fast

    def referenced(self) -> list:
        return [s for c in self.constraints for s in c.shapes()]

    def __repr__(self) -> str:
        kind = "PropertyShape" if self.is_property else "NodeShape"
        return f"<{kind} {self.node.n3()}>"

    # evaluation

    def evaluate(self, focus, data):
        if self.deactivated:
            return False, EMPTY
        values = self.path(focus, data) if self.is_property else (focus,)
        return self.evaluate_values(focus, values, data)

    def evaluate_values(self, focus, values, data):
        if self.fast(focus, values, data):
            return False, EMPTY
        if not data.unique and len(values) > 1:
            values = list(dict.fromkeys(values))  # the data was a list repeating a triple
        non_conformant = False
        reports = None
        for c in self.constraints:
            found = c.run(self, focus, values, data)
            if found is None:
                continue
            nc, reps = found
            if nc and not self.allow_conform:
                if self.filter_reports:
                    allowed = self.allowed
                    if not all(r[0].severity in allowed for r in reps):
                        non_conformant = True
                else:
                    non_conformant = True
            if reps:
                if reports is None:
                    reports = list(reps)
                else:
                    reports.extend(reps)
        return non_conformant, (reports if reports is not None else EMPTY)

    # targets

    def targets(self, sg) -> dict:
        types = list(sg.objects(self.node, RDF.type))
        classes = set(sg.subjects(RDFS.subClassOf, RDFS_CLASS)) | {RDFS_CLASS, OWL_CLASS}
        implicit = [self.node] if any(t in classes for t in types) else []
        return {
            "nodes": list(sg.objects(self.node, SH.targetNode)),
            "classes": list(sg.objects(self.node, SH.targetClass)) + implicit,
            "subjects_of": list(sg.objects(self.node, SH.targetSubjectsOf)),
            "objects_of": list(sg.objects(self.node, SH.targetObjectsOf)),
        }


def harvest(sg) -> tuple[list, dict]:
    """(node shapes, property shapes -> path), as pyshacl's ShapesGraph finds them."""
    node_shapes = set(sg.subjects(RDF.type, SH.NodeShape))
    for s in node_shapes:
        if list(sg.objects(s, SH.path)):
            raise ShapesError(f"{s}: a NodeShape cannot have a sh:path.")
    prop_shapes = set(sg.subjects(RDF.type, SH.PropertyShape))
    paths = {}
    for s in prop_shapes:
        if s in node_shapes:
            raise ShapesError(f"{s}: a shape cannot be both NodeShape and PropertyShape.")
        found = list(sg.objects(s, SH.path))
        if len(found) != 1:
            raise ShapesError(f"{s}: a PropertyShape must have exactly one sh:path.")
        paths[s] = found[0]
    subject_shapes = set()
    for p in (SH.targetClass, SH.targetNode, SH.targetObjectsOf, SH.targetSubjectsOf,
              SH.property, SH.node):
        subject_shapes.update(s for s, _o in sg.subject_objects(p))
    values = set()
    for p in (SH.property, SH.node, SH["not"], SH.qualifiedValueShape):
        values.update(o for _s, o in sg.subject_objects(p))
    for p in (SH["and"], SH["or"], SH.xone):
        for _s, head in sg.subject_objects(p):
            members = set(sg.items(head))
            if not members:
                raise ShapesError(f"sh:{p} needs a well-formed RDF list with 1 or more members.")
            values.update(members)
    found_nodes, found_props = set(), set()
    for group in (subject_shapes, values):
        for s in group:
            if s in node_shapes or s in prop_shapes or s in found_nodes or s in found_props:
                continue
            found = list(sg.objects(s, SH.path))
            if not found:
                found_nodes.add(s)
            elif len(found) > 1:
                raise ShapesError(f"{s}: an implicit PropertyShape has several sh:path.")
            else:
                found_props.add(s)
                paths[s] = found[0]
    return sorted(node_shapes | found_nodes, key=_order), {
        s: paths[s] for s in sorted(prop_shapes | found_props, key=_order)}


def _order(node) -> tuple:
    return (type(node).__name__, str(node))


def shape_terms(sg) -> dict:
    """One object per IRI of the shapes graph (the first one met), by its string: the
    canonical objects that data terms are mapped to (engine.CompiledShapes._canonical)."""
    terms: dict = {}
    for triple in sg:
        for t in triple:
            if type(t) is URIRef:
                terms.setdefault(str(t), t)
    return terms


def load(sg, allow_warnings: bool = True, allow_infos: bool = True) -> list[Shape]:
    check_supported(sg)
    allowed = set()
    if allow_infos:
        allowed.add(INFO)
    if allow_warnings:
        allowed.update((INFO, WARNING))
    lenient = allow_infos or allow_warnings
    node_shapes, prop_paths = harvest(sg)
    terms = shape_terms(sg)
    shapes = [Shape(sg, n, False, None, i, allowed, lenient, terms)
              for i, n in enumerate(node_shapes)]
    shapes += [Shape(sg, n, True, path, len(node_shapes) + i, allowed, lenient, terms)
               for i, (n, path) in enumerate(prop_paths.items())]
    by_node = {s.node: s for s in shapes}
    for s in shapes:
        s.finish(by_node.get)
    class_bits: dict = {}  # a bit for each class some sh:class names (Data.class_mask)
    for s in shapes:
        for c in s.constraints:
            if isinstance(c, constraints.ClassC):
                for rule in c.rules:
                    class_bits.setdefault(rule, 1 << len(class_bits))
    for s in shapes:
        s.class_bits = class_bits
        s.terms = terms
        s.compile()
    _check_depth(shapes)
    _mark_pure(shapes)
    return shapes


def _mark_pure(shapes: list[Shape]) -> None:
    """A shape is pure when its verdict on a node depends on that node's term alone (a node
    shape of value checks such as sh:datatype, sh:pattern, sh:in, or logical combinations of
    pure shapes); such verdicts are cached across validate() calls."""
    done: dict = {}

    def pure(shape) -> bool:
        if shape.index not in done:
            done[shape.index] = (not shape.is_property
                                 and all(c.pure for c in shape.constraints)
                                 and all(pure(s) for s in shape.referenced()))
        return done[shape.index]

    for shape in shapes:
        shape.pure = pure(shape)


def _check_depth(shapes: list[Shape]) -> None:
    """Recursive shapes are not implemented (pyshacl detects some recursion and warns); a
    chain of shapes nested deeper than pyshacl's max_validation_depth is an error there."""
    depth: dict = {}
    visiting: set = set()

    def below(shape) -> int:
        if shape.index in depth:
            return depth[shape.index]
        if shape.index in visiting:
            raise NotImplementedError(
                f"recursive shapes ({shape!r} refers to itself through sh:node, sh:property "
                "or a logical constraint) are not implemented by pipeline.shacl_fast.")
        visiting.add(shape.index)
        depth[shape.index] = 1 + max((below(s) for s in shape.referenced()), default=0)
        visiting.discard(shape.index)
        return depth[shape.index]

    for shape in shapes:
        if below(shape) > MAX_VALIDATION_DEPTH:
            raise ShapesError(f"{shape!r}: shapes nested deeper than pyshacl's "
                              f"max_validation_depth ({MAX_VALIDATION_DEPTH}).")
